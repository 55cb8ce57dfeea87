/**
 * @fileoverview Human summaries: a terminal table and a Markdown summary (for PR comments and GITHUB_STEP_SUMMARY).
 * Every value taken from a target or an export is escaped: no Markdown/HTML injection, no spreadsheet formula.
 */
import { PILLARS, SEVERITIES, type Finding, type Pillar, type PillarScore, type ScanReport, type ScoreCard, type Severity } from '../types.ts'
import { SEVERITY_RANK } from '../scoring/severity.ts'
import { escapeLine } from './escape.ts'
import { gradeLines } from './grades.ts'
import { layoutTable, wrap, type CellPaint, type ColumnFit } from './layout.ts'
import { painter } from '../lib-term.ts'
import { plural } from '../lib-units.ts'

/**
 * Escapes a value for a Markdown table cell: one line, control and bidi characters shown as escapes (`escapeLine`), Markdown
 * and HTML punctuation backslash-escaped; a leading `= + - @` (spreadsheet formula) is neutralised with `'`.
 */
export function mdCell(v: unknown): string {
  let s = escapeLine(v)
  if (/^[=+\-@]/.test(s)) s = `'${s}`
  return s.replace(/[\\`*_{}[\]<>|#!~]/g, (c) => `\\${c}`).replace(/&/g, '&amp;')
}

/** Escapes a value for a terminal cell: one line, control characters (ANSI escapes, C1, bidi overrides) shown as escapes. */
export function termCell(v: unknown, width = 0): string {
  let s = escapeLine(v)
  if (/^[=+\-@]/.test(s)) s = `'${s}`
  if (width && s.length > width) s = s.slice(0, width - 1) + '…'
  return s
}

function failing(report: ScanReport): Finding[] {
  return report.findings
    .filter((f) => f.status === 'fail' && !f.suppression)
    .sort((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || (a.target < b.target ? -1 : a.target > b.target ? 1 : 0))
}

const fmtScore = (s: number | null): string => (s === null ? 'n/a' : s.toFixed(1))


const pct = (x: number): string => `${Math.round(x * 100)} %`
const assetsCell = (x: PillarScore): string =>
  x.assets.count ? `${x.assets.count} (${x.assets.byStage.optimal}/${x.assets.byStage.advanced}/${x.assets.byStage.initial}/${x.assets.byStage.traditional})` : '0'
const targetCell = (x: PillarScore): string => (x.target ? `${x.target.stage}${x.target.met ? ' (met)' : ` (${x.target.points.toFixed(1)} to go)`}` : '-')
const fnCell = (x: PillarScore): string => `${x.coverage.functions.filter((f) => f.status === 'judged').length}/${x.coverage.functions.length}`
const headline = (sc: ScoreCard): string =>
  `${fmtScore(sc.overall)} (${sc.stage ?? 'not evaluated'})${sc.uncapped !== null && sc.uncapped !== sc.overall ? `, uncapped ${fmtScore(sc.uncapped)}` : ''}`
const signed = (n: number | null): string => (n === null ? 'n/a' : `${n > 0 ? '+' : ''}${n.toFixed(1)}`)

/** Score lines shared by the table and Markdown: each pillar's caps, coverage notes, accepted risks, delta. */
function scoreLines(sc: ScoreCard, esc: (v: unknown) => string, limit: number): { caps: string[]; coverage: string[]; accepted: string[]; delta: string[] } {
  const caps = [...sc.caps.map((c) => `overall: ${esc(c.text)}`), ...PILLARS.flatMap((p) => sc.pillars[p].caps.slice(0, limit).map((c) => `${p}: ${esc(c.text)}`))]
  const coverage = PILLARS.flatMap((p: Pillar) => {
    const x = sc.pillars[p]
    if (x.score === null && !x.coverage.errors) return [] // not evaluated: the table says so
    const judged = x.coverage.functions.filter((f) => f.status === 'judged').map((f) => f.name)
    const missing = x.coverage.functions.filter((f) => f.status !== 'judged').map((f) => f.name)
    const counts = `${x.assets.count} assets scored, ${x.coverage.rulesJudged.length} of ${x.coverage.rulesInForce.length} rules judged, ${x.coverage.errors} errored, ${x.coverage.skipped} skipped${x.coverage.assetsUnjudged ? `, ${x.coverage.assetsUnjudged} targets unjudged (errors)` : ''}`
    return [`${p}: ${pct(x.coverage.share)} of ZTMM functions judged (${judged.join(', ') || 'none'}; not judged: ${missing.join(', ') || 'none'}); ${counts}${x.coverage.note ? ` — ${x.coverage.note}` : ''}`]
  })
  const accepted = PILLARS.flatMap((p) => [
    ...sc.pillars[p].accepted.map((a) => `${p}: ${a.ruleId} ×${a.count} accepted: "${esc(a.reason)}"${a.expires ? ` until ${esc(a.expires)}` : ''}`),
    ...sc.pillars[p].notApplicable.map((n) => `${p}: ${n.check} ×${n.count} not applicable: ${esc(n.why)}`),
  ])
  const delta: string[] = []
  if (sc.delta) {
    const d = sc.delta
    delta.push(`versus ${esc(d.source)}: overall ${signed(d.overall)}; ${PILLARS.filter((p) => d.pillars[p] !== null).map((p) => `${p} ${signed(d.pillars[p])}`).join(', ') || 'no pillar in both'}`)
    for (const m of d.movers) delta.push(`${m.pillar}: ${esc(m.asset)} ${m.before === null ? 'new' : m.before.toFixed(1)} → ${m.after === null ? 'gone' : m.after.toFixed(1)}`)
    for (const c of d.capsAdded) delta.push(`${c.pillar}: new cap: ${esc(c.text)}`)
    for (const c of d.capsRemoved) delta.push(`${c.pillar}: cap lifted: ${esc(c.text)}`)
  }
  return { caps, coverage, accepted, delta }
}

/** Options of the terminal table. */
export interface TableOptions {
  /** Columns to fit (a TTY's width); without it nothing is shortened. */
  readonly width?: number
  /** Colour codes (the CLI decides: TTY, NO_COLOR, FORCE_COLOR). */
  readonly color?: boolean
}

const SEVERITY_STYLE: Readonly<Record<Severity, readonly ('red' | 'bold' | 'yellow' | 'cyan' | 'gray')[]>> = {
  critical: ['red', 'bold'],
  high: ['red'],
  medium: ['yellow'],
  low: ['cyan'],
  info: ['gray'],
}
/** Targets give way from the middle, findings and details wrap: the rule and the detail always show whole. */
const FINDING_FITS: readonly ColumnFit[] = [{}, {}, { fit: 'middle', min: 12 }, { fit: 'wrap', min: 20 }]

/**
 * What chaining left unprobed, as one line (`cell` escapes the source's id), or undefined when nothing was withheld: an
 * offline file's TLS/SSH ports are counted, not probed, unless --chain; --no-chain withholds those of live scans too.
 */
function withheldLine(report: ScanReport, cell: (v: string) => string): string | undefined {
  const withheld = report.chaining?.withheld ?? []
  if (!withheld.length) return undefined
  const n = withheld.reduce((k, w) => k + w.targets, 0)
  const from = withheld.length === 1 ? cell(withheld[0]!.from) : `${withheld.length} sources`
  const why = report.chaining!.mode === 'off' ? '--no-chain' : 'offline input; --chain probes them'
  return `Not probed: ${n.toLocaleString('en-US')} TLS/SSH target${n === 1 ? '' : 's'} found in ${from} (${why})`
}

/** Terminal summary: score per pillar, failed findings (most severe first, at most `limit`), errors. */
export function toTable(report: ScanReport, limit = 50, o: TableOptions = {}): string {
  const out: string[] = []
  const s = report.summary
  const paint = painter(o.color ?? false)
  const chained = report.targets.filter((t) => t.chainedFrom !== undefined).length
  const targets = `${plural(s.targets, 'target')}${chained ? ` (${chained} found by chaining)` : ''}`
  const head = `ztscan ${report.tool.version}: ${targets}, ${plural(s.attempts, 'check')} run, ${s.passed} passed, ${SEVERITIES.reduce((n, k) => n + s.failed[k], 0)} failed, ${plural(s.errors, 'error')}`
  out.push(o.width ? wrap(head, Math.max(20, o.width)).join('\n') : head)
  const sc = report.score
  out.push(`Score ${headline(sc)} · formula ${sc.scoreVersion}`)
  if (report.complete === false) out.push(`INCOMPLETE SCAN: ${(report.incomplete ?? []).map((x) => x.message).join('; ')}`)
  const notProbed = withheldLine(report, (v) => termCell(v))
  if (notProbed) out.push(o.width ? wrap(notProbed, Math.max(20, o.width)).join('\n') : notProbed)
  out.push('')
  const header: CellPaint = (t, r) => (r === 0 ? paint('bold', t) : t)
  out.push(layoutTable([['PILLAR', 'SCORE', 'STAGE', 'TARGET', 'ASSETS (O/A/I/T)', 'ZTMM FUNCTIONS', 'PASS', 'FAIL', 'ERRORS'], ...PILLARS.map((p) => {
    const x = sc.pillars[p]
    return [p, fmtScore(x.score), x.stage ?? 'not evaluated', targetCell(x), assetsCell(x), fnCell(x), String(x.passed), String(x.failed), String(x.coverage.errors)]
  })], { width: o.width, fits: [{}, {}, { fit: 'wrap', min: 11 }, { fit: 'wrap', min: 6 }, { fit: 'wrap', min: 9 }, { fit: 'wrap', min: 9 }], paint: header }))
  const lines = scoreLines(sc, (v) => termCell(v), limit)
  for (const [title, list] of [['Caps', lines.caps], ['Coverage', lines.coverage], ['Accepted risk and not applicable (out of the score)', lines.accepted], ['Change', lines.delta], ['Grades', gradeLines(report.findings, (v) => termCell(v), limit)]] as const)
    if (list.length) out.push('', `${title}:`, ...list.map((l) => (o.width ? wrap(l, Math.max(20, o.width - 4)).map((x, i) => (i ? '    ' : '  ') + x).join('\n') : `  ${l}`)))
  const fails = failing(report)
  if (fails.length) {
    out.push('')
    const sev: CellPaint = (t, r, c) => (r === 0 ? paint('bold', t) : c === 0 ? paint(SEVERITY_STYLE[t.trim().toLowerCase() as Severity] ?? [], t) : t)
    out.push(layoutTable([['SEVERITY', 'RULE', 'TARGET', 'FINDING'], ...fails.slice(0, limit).map((f) => [f.severity.toUpperCase(), f.ruleId, termCell(f.target), termCell(f.message)])], { width: o.width, fits: FINDING_FITS, paint: sev }))
    if (fails.length > limit) out.push(`… and ${fails.length - limit} more failed findings (see the JSON or SARIF report)`)
  }
  if (report.errors.length) {
    out.push('')
    out.push(layoutTable([['ERROR', 'CHECK', 'TARGET', 'DETAIL'], ...report.errors.slice(0, limit).map((e) => [e.reason, e.check, termCell(e.target), termCell(e.message)])], { width: o.width, fits: FINDING_FITS, paint: (t, r, c) => (r === 0 ? paint('bold', t) : c === 0 ? paint('magenta', t) : t) }))
    if (report.errors.length > limit) out.push(`… and ${report.errors.length - limit} more errors`)
  }
  return out.join('\n') + '\n'
}

/** Markdown summary. */
export function toMarkdown(report: ScanReport, limit = 100): string {
  const s = report.summary
  const out: string[] = []
  const sc = report.score
  out.push(`## ztscan: score ${headline(sc)}`)
  out.push('')
  out.push(`${s.targets} targets · ${s.attempts} checks · ${s.passed} passed · ${SEVERITIES.map((k) => `${s.failed[k]} ${k}`).join(' · ')} · ${s.suppressed} suppressed · ${s.errors} errors`)
  if (report.complete === false) out.push('', `**Incomplete scan:** ${(report.incomplete ?? []).map((x) => mdCell(x.message)).join('; ')}`)
  const notProbed = withheldLine(report, mdCell)
  if (notProbed) out.push('', notProbed)
  out.push('')
  out.push('| Pillar | Score | Stage | Target | Assets (optimal/advanced/initial/traditional) | ZTMM functions judged | Passed | Failed | Errors |')
  out.push('|---|---:|---|---|---|---:|---:|---:|---:|')
  for (const p of PILLARS) {
    const x = sc.pillars[p]
    out.push(`| ${p} | ${fmtScore(x.score)} | ${x.stage ?? 'not evaluated'} | ${targetCell(x)} | ${assetsCell(x)} | ${fnCell(x)} | ${x.passed} | ${x.failed} | ${x.coverage.errors} |`)
  }
  const lines = scoreLines(sc, mdCell, limit)
  for (const [title, list] of [['Caps', lines.caps], ['Coverage', lines.coverage], ['Accepted risk and not applicable (out of the score)', lines.accepted], ['Change against the baseline', lines.delta], ['Grades', gradeLines(report.findings, mdCell, limit)]] as const)
    if (list.length) out.push('', `### ${title}`, '', ...list.map((l) => `- ${l}`))
  out.push('', `Score formula ${sc.scoreVersion}: see the README section "Score".`)
  const fails = failing(report)
  if (fails.length) {
    out.push('', '### Failed findings', '', '| Severity | Rule | Target | Finding |', '|---|---|---|---|')
    for (const f of fails.slice(0, limit)) out.push(`| ${f.severity} | \`${f.ruleId}\` | ${mdCell(f.target)} | ${mdCell(f.message)} |`)
    if (fails.length > limit) out.push('', `… and ${fails.length - limit} more.`)
  }
  if (report.errors.length) {
    out.push('', '### Errors (checks that could not complete)', '', '| Reason | Check | Target | Detail |', '|---|---|---|---|')
    for (const e of report.errors.slice(0, limit)) out.push(`| ${e.reason} | \`${e.check}\` | ${mdCell(e.target)} | ${mdCell(e.message)} |`)
  }
  return out.join('\n') + '\n'
}
