/**
 * @fileoverview Human summaries: a terminal table and a Markdown summary (for PR comments and GITHUB_STEP_SUMMARY).
 * Every value taken from a target or an export is escaped: no Markdown/HTML injection, no spreadsheet formula.
 */
import { PILLARS, SEVERITIES, type Finding, type ScanReport } from '../types.ts'
import { SEVERITY_RANK } from '../scoring/severity.ts'
import { escapeLine } from './escape.ts'

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

function pad(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n')
}

/** Terminal summary: score per pillar, failed findings (most severe first, at most `limit`), errors. */
export function toTable(report: ScanReport, limit = 50): string {
  const out: string[] = []
  const s = report.summary
  out.push(`ztscan ${report.tool.version}: ${s.targets} targets, ${s.attempts} checks run, ${s.passed} passed, ${SEVERITIES.reduce((n, k) => n + s.failed[k], 0)} failed, ${s.errors} errors`)
  out.push(`Score ${fmtScore(report.score.overall)} (${report.score.stage ?? 'not evaluated'})`)
  if (report.complete === false) out.push(`INCOMPLETE SCAN: ${(report.incomplete ?? []).map((x) => x.message).join('; ')}`)
  out.push('')
  out.push(pad([['PILLAR', 'SCORE', 'STAGE', 'PASS', 'FAIL'], ...PILLARS.map((p) => {
    const x = report.score.pillars[p]
    return [p, fmtScore(x.score), x.stage ?? 'not evaluated', String(x.passed), String(x.failed)]
  })]))
  const fails = failing(report)
  if (fails.length) {
    out.push('')
    out.push(pad([['SEVERITY', 'RULE', 'TARGET', 'FINDING'], ...fails.slice(0, limit).map((f) => [f.severity.toUpperCase(), f.ruleId, termCell(f.target, 48), termCell(f.message, 100)])]))
    if (fails.length > limit) out.push(`… and ${fails.length - limit} more failed findings (see the JSON or SARIF report)`)
  }
  if (report.errors.length) {
    out.push('')
    out.push(pad([['ERROR', 'CHECK', 'TARGET', 'DETAIL'], ...report.errors.slice(0, limit).map((e) => [e.reason, e.check, termCell(e.target, 48), termCell(e.message, 100)])]))
    if (report.errors.length > limit) out.push(`… and ${report.errors.length - limit} more errors`)
  }
  return out.join('\n') + '\n'
}

/** Markdown summary. */
export function toMarkdown(report: ScanReport, limit = 100): string {
  const s = report.summary
  const out: string[] = []
  out.push(`## ztscan: score ${fmtScore(report.score.overall)} (${report.score.stage ?? 'not evaluated'})`)
  out.push('')
  out.push(`${s.targets} targets · ${s.attempts} checks · ${s.passed} passed · ${SEVERITIES.map((k) => `${s.failed[k]} ${k}`).join(' · ')} · ${s.suppressed} suppressed · ${s.errors} errors`)
  if (report.complete === false) out.push('', `**Incomplete scan:** ${(report.incomplete ?? []).map((x) => mdCell(x.message)).join('; ')}`)
  out.push('')
  out.push('| Pillar | Score | Stage | Passed | Failed |')
  out.push('|---|---:|---|---:|---:|')
  for (const p of PILLARS) {
    const x = report.score.pillars[p]
    out.push(`| ${p} | ${fmtScore(x.score)} | ${x.stage ?? 'not evaluated'} | ${x.passed} | ${x.failed} |`)
  }
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
