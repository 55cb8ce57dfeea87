/**
 * @fileoverview The HTML report: one self-contained file (no CDN, no network, works from file://). Readable without
 * JavaScript — score, pillar gauges with coverage, the first page of findings grouped severity → rule → target, errors,
 * skips, baseline and suppression states — and, with it, filterable by family, severity, pillar, state and text and paged
 * (100,000 findings never sit in the DOM at once: they travel as JSON and one page is rendered at a time).
 *
 * Safety: every string is HTML-escaped (and control characters made visible) on the server side; the script writes text
 * only through `textContent`; a strict Content-Security-Policy allows just the report's own inline style and script by
 * hash, so an injected `<script>` or event handler could not run even if escaping failed, and nothing can be fetched.
 */
import { createHash } from 'node:crypto'
import { PILLARS, SEVERITIES, type EffectiveRule, type Finding, type Pillar, type ScanReport, type Severity } from '../types.ts'
import { SEVERITY_RANK } from '../scoring/severity.ts'
import { escapeControls } from './escape.ts'
import { FirstInOrder, countOption } from './first.ts'
import { HTML_CSS, HTML_JS } from './html-assets.ts'
import type { Trend } from './trend.ts'

/** Options of the HTML report. Each count is at least 1; one that is not a finite number (NaN, Infinity) is an OptionsError. */
export interface HtmlOptions {
  /** Findings per page (and rendered without JavaScript). Default 200. */
  readonly pageSize?: number
  /** Trend across runs, drawn as a chart with a table (see `trendOf`). */
  readonly trend?: Trend
  /** Rows of the errors and skips tables rendered (the rest are counted). Default 1,000. */
  readonly tableLimit?: number
  /**
   * Failed findings the page holds (default {@link HTML_MAX_FINDINGS}): open ones before suppressed ones, each highest
   * severity first (then rule, target, resource), chosen in bounded memory and shown in the page's order; the rest are
   * counted and said to be left out ("N more not shown").
   */
  readonly maxFindings?: number
}

/** Failed findings an HTML report holds by default (they travel as JSON in the page; the JSON report has every one). */
export const HTML_MAX_FINDINGS = 50_000

/** Escapes text for HTML element content and quoted attribute values. */
export function escHtml(v: unknown): string {
  return String(v ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

/**
 * Makes control and format characters visible (`\x1b`, `\u2028`, `\u202e`, with the one shared escape of every human
 * format) and caps the length: what a target sent is shown, never interpreted (no terminal escapes, no invisible line
 * breaks, no bidi reordering). Tabs and newlines are kept.
 */
export function visible(v: unknown, max = 4000): string {
  let s = String(v ?? '')
  if (s.length > max) s = `${s.slice(0, max)}… (${s.length - max} more characters)`
  return escapeControls(s, { multiline: true })
}

/** Text for HTML: visible, then escaped. */
const t = (v: unknown, max?: number): string => escHtml(visible(v, max))

/** Evidence as `key: value` lines (bounded: 40 keys, 600 characters a value). */
export function evidenceText(ev: Readonly<Record<string, unknown>> | undefined): string {
  if (!ev || typeof ev !== 'object') return ''
  const lines: string[] = []
  const keys = Object.keys(ev)
  for (const k of keys.slice(0, 40)) {
    const v = ev[k]
    let s: string
    try {
      s = typeof v === 'string' ? v : JSON.stringify(v) ?? String(v)
    } catch {
      s = String(v)
    }
    lines.push(`${k}: ${visible(s, 600)}`)
  }
  if (keys.length > 40) lines.push(`… ${keys.length - 40} more fields`)
  return visible(lines.join('\n'), 8000)
}

/** Serialises data for a `<script type="application/json">` block: nothing in it can close the element or start markup. */
export function jsonForScript(data: unknown): string {
  return JSON.stringify(data).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}

const sha256 = (s: string): string => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`

/** The Content-Security-Policy of a report whose only inline style and script are HTML_CSS and HTML_JS. */
export const HTML_CSP = `default-src 'none'; style-src ${sha256(HTML_CSS)}; script-src ${sha256(HTML_JS)}; img-src data:; base-uri 'none'; form-action 'none'`

const STATES = ['open', 'new', 'unchanged', 'updated', 'suppressed'] as const
type State = (typeof STATES)[number]

const stateOf = (f: Finding): State => (f.suppression ? 'suppressed' : (f.baselineState ?? 'open'))
const noteOf = (f: Finding): string =>
  f.suppression ? `Suppressed: ${visible(f.suppression.reason, 500)}${f.suppression.expires ? ` (until ${visible(f.suppression.expires, 40)})` : ''}` : ''

interface RuleView {
  id: string
  title: string
  family: string
  pillar: string
  description: string
  remediation: string
  helpUri: string
}

/** One failed finding as the page holds it: [severity, rule, target, resource, message, evidence, state, note]. */
type Row = [number, number, number, string, string, string, number, string]

interface View {
  rules: RuleView[]
  targets: string[]
  rows: Row[]
  /** Failed findings in the report, and the suppressed ones among them (rows holds at most maxFindings of them). */
  failed: number
  suppressed: number
  /** Findings new against the baseline (baselineState 'new', any status). */
  fresh: number
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)
const safeHref = (u: string): string | undefined => (/^https?:\/\/[^\s<>"']+$/i.test(u) ? u : undefined)

/** The page's order of failed findings: severity (highest first), rule, target, resource. */
const byPageOrder = (a: Finding, b: Finding): number => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || cmp(a.ruleId, b.ruleId) || cmp(a.target, b.target) || cmp(a.resource, b.resource)

/** A failed finding offered to a cut page, with its place among the failed findings (ties keep the report's order). */
interface Offered {
  readonly f: Finding
  readonly i: number
}
/** Which rows a cut page holds: open findings before suppressed ones (accepted risk never pushes an open one off), then page order. */
const byHoldOrder = (a: Offered, b: Offered): number => (a.f.suppression ? 1 : 0) - (b.f.suppression ? 1 : 0) || byPageOrder(a.f, b.f)
/** The order the held rows are shown in: the page's, as an uncut page shows them. */
const byShownOrder = (a: Offered, b: Offered): number => byPageOrder(a.f, b.f) || a.i - b.i

/**
 * The failed findings a page of at most `max` rows holds — open ones first, then suppressed ones, each in page order — shown
 * in page order, with the count of all of them, of the suppressed ones and of the findings new against the baseline: one
 * pass, at most 2 × `max` findings held (sorted and cut back to `max` whenever that many gathered). An uncut page holds
 * every failed finding in page order, equal ones in the report's order, as one stable sort of them all would.
 */
function firstFailed(findings: Iterable<Finding>, max: number): { kept: Finding[]; failed: number; suppressed: number; fresh: number } {
  const kept = new FirstInOrder<Offered>(max, byHoldOrder)
  let failed = 0
  let suppressed = 0
  let fresh = 0
  for (const f of findings) {
    if (f.baselineState === 'new') fresh++
    if (f.status !== 'fail') continue
    if (f.suppression) suppressed++
    kept.offer({ f, i: failed++ })
  }
  return { kept: kept.take().sort(byShownOrder).map((o) => o.f), failed, suppressed, fresh }
}

function viewOf(report: ScanReport, maxFindings: number): View {
  const ruleIx = new Map<string, number>()
  const rules: RuleView[] = []
  const byId = new Map<string, EffectiveRule>((report.rules ?? []).map((r) => [r.id, r]))
  const ruleOf = (f: Finding): number => {
    let i = ruleIx.get(f.ruleId)
    if (i === undefined) {
      const r = byId.get(f.ruleId)
      i = rules.length
      ruleIx.set(f.ruleId, i)
      rules.push({
        id: visible(f.ruleId, 200),
        title: visible(r?.title ?? f.ruleId, 300),
        family: visible(r?.family ?? f.family, 100),
        pillar: visible(r?.pillar ?? f.pillar, 100),
        description: visible(r?.description ?? '', 2000),
        remediation: visible(r?.remediation ?? '', 2000),
        helpUri: safeHref(r?.helpUri ?? '') ?? '',
      })
    }
    return i
  }
  const targetIx = new Map<string, number>()
  const targets: string[] = []
  const targetOf = (id: string): number => {
    let i = targetIx.get(id)
    if (i === undefined) {
      i = targets.length
      targetIx.set(id, i)
      targets.push(visible(id, 500))
    }
    return i
  }
  const { kept, failed, suppressed, fresh } = firstFailed(report.findings, maxFindings)
  const rows = kept.map(
    (f): Row => [
      Math.max(0, SEVERITIES.indexOf(f.severity)),
      ruleOf(f),
      targetOf(f.target),
      visible(f.resource, 500),
      visible(f.message, 2000),
      evidenceText(f.evidence),
      STATES.indexOf(stateOf(f)),
      noteOf(f),
    ],
  )
  return { rules, targets, rows, failed, suppressed, fresh }
}

function fmtScore(x: unknown): string {
  return typeof x === 'number' && Number.isFinite(x) ? x.toFixed(1) : 'n/a'
}

/** A horizontal gauge 0–100 (inline SVG; presentation attributes only, so the CSP needs no inline styles). */
function gauge(score: unknown, stage: unknown, label: string, width = 220): string {
  const s = typeof score === 'number' && Number.isFinite(score) ? Math.max(0, Math.min(100, score)) : null
  const w = s === null ? 0 : Math.round((width * s) / 100)
  const cls = typeof stage === 'string' && /^(optimal|advanced|initial|traditional)$/.test(stage) ? stage : 'na'
  const ticks = [40, 70, 90].map((x) => `<line class="tick" x1="${(width * x) / 100}" x2="${(width * x) / 100}" y1="0" y2="14"/>`).join('')
  return `<svg class="gauge" width="${width}" height="14" viewBox="0 0 ${width} 14" role="img" aria-label="${escHtml(label)}: ${s === null ? 'not evaluated' : `${s.toFixed(1)} of 100`}"><rect class="track" width="${width}" height="14" rx="3"/><rect class="fill-${cls}" width="${w}" height="14" rx="3"/>${ticks}</svg>`
}

/** Pillar/score fields rendered by name; other fields a score model adds are shown generically (`extras`). */
const KNOWN_PILLAR_KEYS = new Set(['score', 'stage', 'passed', 'failed', 'earned', 'possible', 'uncapped', 'caps', 'coverage', 'target', 'assets', 'suppressed', 'accepted', 'notApplicable'])
const KNOWN_SCORE_KEYS = new Set(['overall', 'stage', 'pillars', 'weights', 'uncapped', 'caps', 'assets', 'delta', 'settings', 'scoreVersion'])

const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v)
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined)

/** Extra fields a score model may carry, rendered as they are (arrays and objects summarised, never serialised whole). */
function extras(obj: Record<string, unknown>, known: Set<string>): string {
  const parts: string[] = []
  for (const [k, v] of Object.entries(obj)) {
    if (known.has(k) || v === undefined) continue
    const s = Array.isArray(v) ? `${v.length} entries` : isObj(v) ? `{ ${Object.keys(v).slice(0, 8).join(', ')}${Object.keys(v).length > 8 ? ', …' : ''} }` : String(v)
    parts.push(`${t(k, 80)}: ${t(s, 300)}`)
    if (parts.length >= 12) break
  }
  return parts.join('<br>')
}

const STAGE_ORDER = ['traditional', 'initial', 'advanced', 'optimal']

/** Caps that hold a score below its percentage (`{ stage, text }` each): a collapsed list naming the lowest; nothing when none. */
function capsList(caps: unknown, limit = 20): string {
  if (!Array.isArray(caps)) return ''
  const list = caps.filter(isObj)
  if (!list.length) return ''
  const lowest = list.map((c) => STAGE_ORDER.indexOf(String(c.stage))).filter((i) => i >= 0).sort((x, y) => x - y)[0]
  const items = list
    .slice(0, limit)
    .map((c) => `<li>${t(c.text ?? `capped at ${String(c.stage)}`, 500)}${num(c.count) && c.count !== 1 ? ` (${t(c.count, 20)}×)` : ''}</li>`)
  return `<details class="caps"><summary>${list.length} cap${list.length === 1 ? '' : 's'}${lowest !== undefined ? `, the lowest at <strong>${STAGE_ORDER[lowest]}</strong>` : ''}</summary><ul>${items.join('')}${list.length > limit ? `<li>… and ${list.length - limit} more</li>` : ''}</ul></details>`
}

/** Coverage as the score model states it (functions judged, rules judged, assets), or counted here from the rules. */
function coverageText(p: string, x: Record<string, unknown>, report: ScanReport, seen: Map<string, Set<string>>): string {
  const c = x.coverage
  if (isObj(c)) {
    const parts: string[] = []
    const share = num(c.share)
    if (share !== undefined) {
      const fns = Array.isArray(c.functions) ? c.functions.filter(isObj) : []
      parts.push(`${Math.round(share * 100)} % of ZTMM functions judged${fns.length ? ` (${fns.filter((f) => f.status === 'judged').length} of ${fns.length})` : ''}`)
    }
    if (Array.isArray(c.rulesInForce) && Array.isArray(c.rulesJudged)) parts.push(`${c.rulesJudged.length} of ${c.rulesInForce.length} rules judged`)
    if (num(c.assetsScored) !== undefined) parts.push(`${c.assetsScored} assets scored${num(c.assetsUnjudged) ? `, ${c.assetsUnjudged} not judged` : ''}`)
    if (num(c.errors)) parts.push(`${c.errors} errors`)
    if (typeof c.note === 'string') parts.push(c.note)
    if (parts.length) return t(parts.join('; '), 1000)
  }
  const enabled = new Set((report.rules ?? []).filter((r) => r.enabled !== false && r.pillar === p).map((r) => r.id))
  const judged = [...(seen.get(p) ?? [])].filter((id) => enabled.has(id)).length
  return enabled.size ? `${judged} of ${enabled.size} rules evaluated` : 'no rules'
}

function scoreSection(report: ScanReport): string {
  const score = (report.score ?? {}) as unknown as Record<string, unknown>
  const pillars = (score.pillars ?? {}) as Record<string, Record<string, unknown> | undefined>
  const seen = new Map<string, Set<string>>()
  for (const f of report.findings) if (!f.suppression) (seen.get(f.pillar) ?? seen.set(f.pillar, new Set()).get(f.pillar)!).add(f.ruleId)
  const pillarOf = new Map((report.rules ?? []).map((r) => [r.id, r.pillar]))
  for (const c of report.passCounts ?? []) {
    const p = pillarOf.get(c.ruleId)
    if (p) (seen.get(p) ?? seen.set(p, new Set()).get(p)!).add(c.ruleId)
  }
  const rows = PILLARS.map((p: Pillar) => {
    const x = pillars[p] ?? {}
    const notes: string[] = []
    const uncapped = num(x.uncapped)
    if (uncapped !== undefined && num(x.score) !== undefined && uncapped !== x.score) notes.push(`uncapped ${uncapped.toFixed(1)}`)
    const target = x.target
    if (isObj(target) && typeof target.stage === 'string') notes.push(`target ${t(target.stage, 40)}: ${target.met ? 'met' : `not met${num(target.points) !== undefined ? ` (${t(target.points, 20)} points short)` : ''}`}`)
    const ex = extras(x, KNOWN_PILLAR_KEYS)
    if (ex) notes.push(ex)
    return `<tr><th scope="row">${escHtml(p)}</th><td class="num">${fmtScore(x.score)}</td><td>${gauge(x.score, x.stage, `${p} score`)}</td><td class="stage">${t(x.stage ?? 'not evaluated', 40)}</td><td>${coverageText(p, x, report, seen)}${notes.length ? `<br><span class="note">${notes.join('<br>')}</span>` : ''}${capsList(x.caps)}</td><td class="num">${t(x.passed ?? '', 20)}</td><td class="num">${t(x.failed ?? '', 20)}</td></tr>`
  }).join('\n')
  const more = extras(score, KNOWN_SCORE_KEYS)
  const overallUncapped = num(score.uncapped)
  const delta = isObj(score.delta) && num(score.delta.overall) !== undefined ? `change since ${t(score.delta.source ?? 'the baseline', 200)}: ${(score.delta.overall as number) > 0 ? '+' : ''}${(score.delta.overall as number).toFixed(1)}` : ''
  const overallNotes = [overallUncapped !== undefined && overallUncapped !== score.overall ? `uncapped ${overallUncapped.toFixed(1)}` : '', delta].filter(Boolean).join(' · ')
  return `<section aria-labelledby="h-score"><h2 id="h-score">Score</h2>
<div class="overall"><div><div class="big">${fmtScore(score.overall)}</div><div class="stage">${t(score.stage ?? 'not evaluated', 40)}</div></div>${gauge(score.overall, score.stage, 'Overall score', 320)}${overallNotes ? `<div class="note">${overallNotes}</div>` : ''}</div>${capsList(score.caps)}
<table><caption class="note">Score per CISA Zero Trust Maturity Model pillar (0–100; stages: ≥ 90 optimal, ≥ 70 advanced, ≥ 40 initial, below traditional)</caption>
<thead><tr><th scope="col">Pillar</th><th scope="col" class="num">Score</th><th scope="col">Gauge</th><th scope="col">Stage</th><th scope="col">Coverage</th><th scope="col" class="num">Passed</th><th scope="col" class="num">Failed</th></tr></thead>
<tbody>
${rows}
</tbody></table>${more ? `<p class="note">${more}</p>` : ''}</section>`
}

function findingsStatic(view: View, limit: number): string {
  const out: string[] = []
  let sev = -1
  let rule = -1
  let target = -1
  let open = false
  const close = (): void => {
    if (open) out.push('</tbody></table></details>')
    open = false
  }
  for (const r of view.rows.slice(0, limit)) {
    if (r[0] !== sev) {
      close()
      sev = r[0]
      rule = -1
      out.push(`<h3><span class="sev sev-${SEVERITIES[sev]}">${SEVERITIES[sev]}</span></h3>`)
    }
    if (r[1] !== rule) {
      close()
      rule = r[1]
      target = -1
      const x = view.rules[rule]!
      out.push(
        `<details class="rule" open><summary><h4>${escHtml(x.title)} <code>${escHtml(x.id)}</code></h4></summary><div class="rulemeta"><p>${escHtml(x.family)} · ${escHtml(x.pillar)}</p>` +
          (x.description ? `<p>${escHtml(x.description)}</p>` : '') +
          (x.remediation ? `<p><strong>Remediation: </strong>${escHtml(x.remediation)}</p>` : '') +
          (x.helpUri ? `<p><a href="${escHtml(x.helpUri)}" rel="noopener noreferrer">Rule documentation</a></p>` : '') +
          `</div><table><thead><tr><th scope="col">Resource</th><th scope="col">Finding</th><th scope="col">Evidence</th><th scope="col">State</th></tr></thead>`,
      )
      open = true
    }
    if (r[2] !== target) {
      if (target !== -1) out.push('</tbody>')
      target = r[2]
      out.push(`<tbody><tr><th scope="rowgroup" colspan="4">${escHtml(view.targets[target])}</th></tr>`)
    }
    const st = STATES[r[6]]!
    out.push(
      `<tr><td class="res">${escHtml(r[3])}</td><td class="msg">${escHtml(r[4])}</td><td><pre class="ev">${escHtml(r[5])}</pre></td><td><span class="state state-${st}">${st}</span>${r[7] ? `<div class="note">${escHtml(r[7])}</div>` : ''}</td></tr>`,
    )
  }
  close()
  return out.join('\n')
}

function options(values: Iterable<string>, all: string): string {
  return [`<option value="">${escHtml(all)}</option>`, ...[...new Set(values)].sort().map((v) => `<option value="${escHtml(v)}">${escHtml(v)}</option>`)].join('')
}

function findingsSection(report: ScanReport, view: View, pageSize: number): string {
  const n = view.failed
  const suppressed = view.suppressed
  const held = view.rows.length
  const presentSev = new Set(view.rows.map((r) => SEVERITIES[r[0]]!))
  const filters = `<form id="zt-filters" class="filters" hidden role="search" aria-label="Filter findings">
<label for="f-text">Text<input id="f-text" type="search" placeholder="rule, target, message…" autocomplete="off"></label>
<label for="f-family">Family<select id="f-family">${options(view.rules.map((r) => r.family), 'All families')}</select></label>
<label for="f-severity">Severity<select id="f-severity"><option value="">All severities</option>${SEVERITIES.filter((s) => presentSev.has(s)).map((s) => `<option value="${s}">${s}</option>`).join('')}</select></label>
<label for="f-pillar">Pillar<select id="f-pillar">${options(view.rules.map((r) => r.pillar), 'All pillars')}</select></label>
<label for="f-state">State<select id="f-state"><option value="">All states</option><option value="open">Not suppressed</option>${STATES.filter((s) => s !== 'open').map((s) => `<option value="${s}">${s}</option>`).join('')}</select></label>
</form>`
  const more =
    (held > pageSize
      ? `<p id="zt-more" class="note">Showing the first ${pageSize} of ${n} failed findings. With JavaScript enabled, ${held < n ? `the first ${held}` : 'all of them'} can be paged and filtered here; every finding is also in the JSON and SARIF reports.</p>`
      : '') + (held < n ? `<p id="zt-left-out" class="note">This page holds the first ${held} of ${n} failed findings (open before suppressed, highest severity first): ${n - held} more not shown; see the JSON and SARIF reports.</p>` : '')
  const baseline = report.baseline ? `<p class="note">Compared with baseline ${t(report.baseline.source, 300)}: ${view.fresh} new.</p>` : ''
  return `<section aria-labelledby="h-findings"><h2 id="h-findings">Failed findings (${n}${suppressed ? `, ${suppressed} suppressed` : ''})</h2>
${baseline}${filters}
<div id="zt-pager" class="pager" hidden><button type="button" id="zt-prev">Previous page</button><button type="button" id="zt-next">Next page</button><span id="zt-status" role="status" aria-live="polite"></span></div>
<div id="zt-findings">${held ? findingsStatic(view, pageSize) : '<p>No failed findings.</p>'}</div>
${more}</section>`
}

function rulesSection(report: ScanReport): string {
  const counts = new Map<string, { pass: number; fail: number; suppressed: number }>()
  for (const f of report.findings) {
    const c = counts.get(f.ruleId) ?? counts.set(f.ruleId, { pass: 0, fail: 0, suppressed: 0 }).get(f.ruleId)!
    if (f.suppression) c.suppressed++
    else if (f.status === 'pass') c.pass++
    else c.fail++
  }
  for (const p of report.passCounts ?? []) (counts.get(p.ruleId) ?? counts.set(p.ruleId, { pass: 0, fail: 0, suppressed: 0 }).get(p.ruleId)!).pass += p.count
  const rules = [...(report.rules ?? [])].sort((a, b) => cmp(a.pillar, b.pillar) || cmp(a.id, b.id))
  const rows = rules.map((r) => {
    const c = counts.get(r.id)
    const state = r.enabled === false ? 'disabled' : c ? 'evaluated' : 'not evaluated'
    return `<tr><td><code>${t(r.id, 200)}</code></td><td>${t(r.title, 300)}</td><td>${t(r.family, 100)}</td><td>${t(r.pillar, 100)}</td><td><span class="sev sev-${escHtml(r.severity)}">${t(r.severity, 20)}</span></td><td>${state}</td><td class="num">${c?.pass ?? 0}</td><td class="num">${c?.fail ?? 0}</td><td class="num">${c?.suppressed ?? 0}</td></tr>`
  })
  return `<section aria-labelledby="h-rules"><h2 id="h-rules">Rules and coverage</h2>
<details><summary>${rules.length} rules in force; ${rules.filter((r) => r.enabled !== false && !counts.has(r.id)).length} not evaluated by this scan</summary>
<table><thead><tr><th scope="col">Rule</th><th scope="col">Title</th><th scope="col">Family</th><th scope="col">Pillar</th><th scope="col">Severity</th><th scope="col">Coverage</th><th scope="col" class="num">Passed</th><th scope="col" class="num">Failed</th><th scope="col" class="num">Suppressed</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table></details></section>`
}

/** A table of the first `limit` entries of `list` (a lazy view is read that far only), each made into cells by `cells`. */
function tableSection<T>(id: string, title: string, head: string[], list: readonly T[], cells: (x: T) => string[], limit: number, empty: string): string {
  const total = list.length
  const body = list
    .slice(0, limit)
    .map((x) => `<tr>${cells(x).map((c) => `<td>${t(c, 2000)}</td>`).join('')}</tr>`)
    .join('\n')
  return `<section aria-labelledby="${id}"><h2 id="${id}">${escHtml(title)} (${total})</h2>${
    total
      ? `<table><thead><tr>${head.map((h) => `<th scope="col">${escHtml(h)}</th>`).join('')}</tr></thead><tbody>${body}</tbody></table>${total > limit ? `<p class="note">… and ${total - limit} more (see the JSON report).</p>` : ''}`
      : `<p>${escHtml(empty)}</p>`
  }</section>`
}

const LINE_NAMES = ['overall', ...PILLARS] as const

/** The trend chart: score per pillar over runs, inline SVG (lines differ in colour and dash, with a legend and a table). */
export function trendChart(trend: Trend): string {
  const runs = trend.runs
  const W = 640
  const H = 220
  const L = 36
  const R = 12
  const T = 10
  const B = 28
  const x = (i: number): number => (runs.length <= 1 ? L + (W - L - R) / 2 : L + ((W - L - R) * i) / (runs.length - 1))
  const y = (s: number): number => T + ((H - T - B) * (100 - s)) / 100
  const grid = [0, 40, 70, 90, 100]
    .map((g) => `<line class="grid" x1="${L}" x2="${W - R}" y1="${y(g)}" y2="${y(g)}"/><text x="${L - 4}" y="${y(g) + 4}" text-anchor="end">${g}</text>`)
    .join('')
  const labels = runs
    .map((_r, i) => (runs.length <= 12 || i === 0 || i === runs.length - 1 || i % Math.ceil(runs.length / 12) === 0 ? `<text x="${x(i)}" y="${H - 8}" text-anchor="middle">${i + 1}</text>` : ''))
    .join('')
  const lines = LINE_NAMES.map((name, k) => {
    const val = (r: (typeof runs)[number]): number | null => (name === 'overall' ? r.overall : r.pillars[name])
    const segs: string[] = []
    let cur: string[] = []
    runs.forEach((r, i) => {
      const v = val(r)
      if (v === null) {
        if (cur.length) segs.push(cur.join(' '))
        cur = []
      } else cur.push(`${x(i).toFixed(1)},${y(v).toFixed(1)}`)
    })
    if (cur.length) segs.push(cur.join(' '))
    const dots = runs
      .map((r, i) => (val(r) === null ? '' : `<circle class="dot${k}" cx="${x(i).toFixed(1)}" cy="${y(val(r)!).toFixed(1)}" r="${name === 'overall' ? 3.5 : 2.5}"/>`))
      .join('')
    return segs.map((s) => `<polyline class="line l${k}${name === 'overall' ? ' overall' : ''}" points="${s}"/>`).join('') + dots
  }).join('')
  const legend = LINE_NAMES.map((n, k) => `<li><svg width="28" height="8" aria-hidden="true"><line class="line l${k}${n === 'overall' ? ' overall' : ''}" x1="0" x2="28" y1="4" y2="4"/></svg> ${n}</li>`).join('')
  return `<svg class="chart" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="Score per pillar over ${runs.length} runs; the table below holds the values">${grid}${labels}${lines}</svg><ul class="legend">${legend}</ul>`
}

function trendSection(trend: Trend, limit: number): string {
  const head = `<tr><th scope="col">Run</th><th scope="col">Started</th><th scope="col" class="num">Overall</th>${PILLARS.map((p) => `<th scope="col" class="num">${p}</th>`).join('')}<th scope="col" class="num">Open</th></tr>`
  const rows = trend.runs
    .map((r, i) => `<tr><td class="num">${i + 1}</td><td>${t(r.startedAt, 60)}</td><td class="num">${fmtScore(r.overall)}</td>${PILLARS.map((p) => `<td class="num">${fmtScore(r.pillars[p])}</td>`).join('')}<td class="num">${r.open}</td></tr>`)
    .join('\n')
  const list = (title: string, items: Trend['fixed']): string =>
    items.length
      ? `<h3>${title} (${items.length})</h3><table><thead><tr><th scope="col">Severity</th><th scope="col">Rule</th><th scope="col">Target</th><th scope="col">Finding</th></tr></thead><tbody>${items
          .slice(0, limit)
          .map((f) => `<tr><td>${t(f.severity, 20)}</td><td><code>${t(f.ruleId, 200)}</code></td><td>${t(f.target, 500)}</td><td>${t(f.message, 2000)}</td></tr>`)
          .join('')}</tbody></table>${items.length > limit ? `<p class="note">… and ${items.length - limit} more.</p>` : ''}`
      : ''
  const diff =
    trend.runs.length >= 2
      ? `<p>Between the last two runs: <strong>${trend.fixed.length} fixed</strong>, <strong>${trend.new.length} new</strong>, ${trend.stillOpen.length} still open.</p>${list('Fixed', trend.fixed)}${list('New', trend.new)}<details><summary>Still open (${trend.stillOpen.length})</summary>${list('Still open', trend.stillOpen)}</details>`
      : '<p>One run only: nothing to compare yet.</p>'
  return `<section aria-labelledby="h-trend"><h2 id="h-trend">Trend (${trend.runs.length} runs)</h2>${trendChart(trend)}
<table class="trend-runs"><caption class="note">Score per pillar by run (oldest first)</caption><thead>${head}</thead><tbody>${rows}</tbody></table>${diff}</section>`
}

/** Renders the HTML report. */
export function toHtml(report: ScanReport, options: HtmlOptions = {}): string {
  const pageSize = countOption('toHtml pageSize', options.pageSize, 200)
  const limit = countOption('toHtml tableLimit', options.tableLimit, 1000)
  const view = viewOf(report, countOption('toHtml maxFindings', options.maxFindings, HTML_MAX_FINDINGS))
  const s = report.summary
  const failed = SEVERITIES.reduce((n, k) => n + (s?.failed?.[k] ?? 0), 0)
  // `failed`, on a cut page only: the script's status line says the true total.
  const data = { severities: SEVERITIES, states: STATES, pageSize, rules: view.rules, targets: view.targets, rows: view.rows, ...(view.rows.length < view.failed ? { failed: view.failed } : {}) }
  // Errors, skips, gone and expired entries: only the rows shown are made (the lists may be lazy views of any length).
  const absent = report.baseline?.absent ?? []
  const expired = report.expiredSuppressions ?? []
  const weights = report.score?.weights as Record<Severity, number> | undefined
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${HTML_CSP}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="ztscan ${t(report.tool?.version, 40)}">
<title>ztscan report: score ${fmtScore(report.score?.overall)} (${t(report.score?.stage ?? 'not evaluated', 40)})</title>
<style>${HTML_CSS}</style>
</head>
<body>
<a class="skip" href="#h-findings">Skip to findings</a>
<main>
<header><h1>ztscan report</h1>
<p class="meta">ztscan ${t(report.tool?.version, 40)} · started ${t(report.startedAt, 60)} · finished ${t(report.finishedAt, 60)}${report.shard ? ` · shard ${t(report.shard, 20)}` : ''}</p>
<p>${s?.targets ?? 0} targets · ${s?.attempts ?? 0} checks run · ${s?.passed ?? 0} passed · ${failed} failed (${SEVERITIES.map((k) => `${s?.failed?.[k] ?? 0} ${k}`).join(', ')}) · ${s?.suppressed ?? 0} suppressed · ${s?.errors ?? report.errors.length} errors · ${s?.skipped ?? report.skipped.length} skipped</p>
<nav aria-label="Sections"><ul><li><a href="#h-score">Score</a></li>${options.trend ? '<li><a href="#h-trend">Trend</a></li>' : ''}<li><a href="#h-findings">Findings</a></li><li><a href="#h-rules">Rules</a></li><li><a href="#h-errors">Errors</a></li><li><a href="#h-skipped">Skipped</a></li>${absent.length ? '<li><a href="#h-fixed">Fixed since baseline</a></li>' : ''}</ul></nav>
</header>
${scoreSection(report)}
${options.trend ? trendSection(options.trend, limit) : ''}
${findingsSection(report, view, pageSize)}
${rulesSection(report)}
${tableSection('h-errors', 'Errors: checks that could not complete', ['Reason', 'Check', 'Family', 'Target', 'Detail'], report.errors, (e) => [e.reason, e.check, e.family, e.target, e.message], limit, 'Every check completed.')}
${tableSection('h-skipped', 'Skipped checks', ['Check', 'Family', 'Target', 'Why'], report.skipped, (x) => [x.check, x.family, x.target, x.why], limit, 'No check was skipped.')}
${report.baseline ? tableSection('h-fixed', `Fixed since baseline ${visible(report.baseline.source, 200)}`, ['Rule', 'Target', 'Finding'], absent, (a) => [a.ruleId, a.target, a.message], limit, 'No failed finding of the baseline is gone.') : ''}
${expired.length ? tableSection('h-expired', 'Expired suppressions (they no longer suppress)', ['Rule', 'Target', 'Reason', 'Expired', 'Findings'], expired, (x) => [x.rule, x.target, x.reason, x.expires, String(x.matched)], limit, '') : ''}
<footer><p class="note">Score formula ${t(report.score?.scoreVersion ?? '?', 20)} (README "Score"): asset score = 100 × Σ weight × credit ÷ Σ weight; a pillar is the mean of its assets, capped by failed criticals (initial) and highs (advanced), by errors, and by the share of assets at each stage; suppressed and info results do not count; errors are never passes; a pillar with no scored asset is not evaluated.${weights ? ` Weights: ${SEVERITIES.map((k) => `${k} ${t(weights[k], 10)}`).join(', ')}.` : ''}</p></footer>
</main>
<script type="application/json" id="zt-data">${jsonForScript(data)}</script>
<script>${HTML_JS}</script>
</body>
</html>
`
}
