/**
 * @fileoverview SARIF 2.1.0 writer. Only `fail` findings become results; attempt errors go to
 * `invocations[0].toolExecutionNotifications`. Each target gets a relative, colon-free URI with `region.startLine: 1`,
 * the real target in `logicalLocations`, and a stable `partialFingerprints.primaryLocationLineHash`, which is what
 * GitHub code scanning needs for results that are not about a file.
 */
import { SARIF_LEVEL, SECURITY_SEVERITY, SEVERITY_RANK } from '../scoring/severity.ts'
import { createHash } from 'node:crypto'
import { gzipSync } from 'node:zlib'
import type { Writable } from 'node:stream'
import type { EffectiveRule, Finding, ScanReport, ScoreCard } from '../types.ts'
import { escapeControls, escapeJsonText } from './escape.ts'
import { targetUri } from './location.ts'
import { gradesOf } from './grades.ts'
import { ChunkSink } from './sink.ts'
import { isFindingView, recordsOf, releaseWith, type SpilledRecord } from '../engine/spill.ts'
import { TallyMap, type Codec } from '../engine/tally.ts'

/** Options of the SARIF writer. */
export interface SarifOptions {
  /** `runs[0].automationDetails.id` prefix (GitHub's category), e.g. `ztscan/prod`. */
  readonly category?: string
  /** Most results in the run (default 25,000, GitHub's limit); beyond it findings are grouped per host, then per rule. */
  readonly maxResults?: number
  /** Most gzip bytes of the file (default 10 MB, GitHub's limit). */
  readonly maxGzipBytes?: number
}

const pascal = (id: string): string => id.replace(/(^|-)([a-z0-9])/g, (_, __, c: string) => c.toUpperCase())

function helpMarkdown(r: EffectiveRule): string {
  const params = Object.entries(r.values)
  return [
    `**${r.title}** (${r.severity}, ZTMM pillar: ${r.pillar})`,
    '',
    r.description,
    ...(r.risk ? ['', `**Risk.** ${r.risk}`] : []),
    '',
    `**Remediation.** ${r.remediation}`,
    ...(params.length ? ['', '**Parameters in force:** ' + params.map(([k, v]) => `\`${k}\` = \`${JSON.stringify(v)}\``).join(', ')] : []),
    ...(r.references?.length ? ['', '**References:**', ...r.references.map((u) => `- ${u}`)] : []),
  ].join('\n')
}

function helpText(r: EffectiveRule): string {
  return [r.description, r.risk ? `Risk: ${r.risk}` : '', `Remediation: ${r.remediation}`, ...(r.references ?? [])].filter(Boolean).join('\n\n')
}

/** Message text shown by SARIF viewers: control and bidi characters from targets are escaped (properties keep the raw values). */
const sarifText = (s: string): string => escapeControls(s, { multiline: true })

const cut = (s: string, n = 1024): string => (s.length > n ? s.slice(0, n - 1) + '…' : s)

/** Baseline findings that are gone: SARIF `baselineState: absent`, level none. */
function absentResults(report: ScanReport, ruleIndex: ReadonlyMap<string, number>): Record<string, unknown>[] {
  return (report.baseline?.absent ?? []).map((a) => ({
    ruleId: a.ruleId,
    ...(ruleIndex.has(a.ruleId) ? { ruleIndex: ruleIndex.get(a.ruleId) } : {}),
    kind: 'pass',
    level: 'none',
    baselineState: 'absent',
    message: { text: sarifText(`${a.message} [${a.target}]`) },
    locations: [
      {
        physicalLocation: { artifactLocation: { uri: targetUri(a.target || 'unknown') }, region: { startLine: 1 } },
        logicalLocations: [{ fullyQualifiedName: a.target || 'unknown', kind: 'resource' }],
      },
    ],
    partialFingerprints: { primaryLocationLineHash: a.fingerprint, 'ztscan/v1': a.fingerprint },
    properties: { target: a.target },
  }))
}

function sarifResult(f: Finding, idx: number | undefined): Record<string, unknown> {
  return {
    ruleId: f.ruleId,
    ...(idx === undefined ? {} : { ruleIndex: idx }),
    kind: 'fail',
    level: SARIF_LEVEL[f.severity],
    message: { text: sarifText(`${f.message} [${f.target}]`) },
    locations: [
      {
        physicalLocation: { artifactLocation: { uri: targetUri(f.target) }, region: { startLine: 1 } },
        logicalLocations: [{ fullyQualifiedName: f.target, name: f.resource.slice(0, 200), kind: 'resource' }],
      },
    ],
    partialFingerprints: { primaryLocationLineHash: f.fingerprint, 'ztscan/v1': f.fingerprint },
    ...(f.baselineState ? { baselineState: f.baselineState } : {}),
    ...(f.suppression
      ? { suppressions: [{ kind: 'external', status: 'accepted', justification: f.suppression.reason, ...(f.suppression.expires ? { properties: { expires: f.suppression.expires } } : {}) }] }
      : {}),
    properties: { severity: f.severity, pillar: f.pillar, family: f.family, target: f.target, resource: f.resource, evidence: f.evidence },
  }
}

/** GitHub code scanning's limits per run and per uploaded file (see REFERENCE.md). */
export const GITHUB_SARIF_LIMITS = { results: 25_000, gzipBytes: 10 * 1024 * 1024 } as const
/** Resources listed in one grouped result. */
const LISTED_RESOURCES = 100
/** Attempt errors listed one by one in the notifications; the rest are counted per check and reason. */
const LISTED_ERRORS = 1_000

/** How the results of one rule are written: one per finding, one per (target, host), one for the rule, or none. */
type Level = 'finding' | 'host' | 'rule' | 'left-out'

interface RulePlan {
  readonly rule: string
  readonly rank: number
  /** The rule's failed findings in the report. */
  readonly findings: number
  /** Distinct (target, host, suppressed) groups. */
  hostGroups: number
  /** Distinct (target, host) pairs and targets (a result per rule says how many). */
  readonly hosts: number
  readonly targets: number
  level: Level
}

/** What the writer did to fit GitHub's limits; `notes` are also in the run's notifications (print them on stderr). */
export interface SarifOutcome {
  /** Results written. */
  readonly results: number
  /** Failed findings in the report. */
  readonly findings: number
  /** Rules whose findings were grouped (per host or per rule) or left out, highest severity first. */
  readonly grouped: readonly { readonly rule: string; readonly level: 'host' | 'rule' | 'left-out'; readonly findings: number; readonly results: number }[]
  /** Baseline `absent` results left out. */
  readonly absentLeftOut: number
  readonly notes: readonly string[]
}

interface Plan {
  readonly rules: readonly RulePlan[]
  readonly absentKept: number
}

function maxResultsOf(opts: SarifOptions): number {
  const n = opts.maxResults ?? GITHUB_SARIF_LIMITS.results
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`maxResults: expected an integer from 1 and up (got ${n})`)
  return n
}

/** Host of a finding for grouping: the address its evidence names (open ports), else none (the target is the host). */
const hostOf = (f: Finding): string => (typeof f.evidence.address === 'string' ? f.evidence.address : '')
const groupKey = (f: Finding): string => `${f.target}\0${hostOf(f)}\0${f.suppression ? 's' : ''}`

/** One rule's failed findings, counted: its (target, host) pairs, each with who is there, its targets. */
interface RuleCount {
  readonly rule: string
  readonly rank: number
  findings: number
  /** Per (target, host) pair: {@link UNSUPPRESSED} | {@link SUPPRESSED}, as its findings are. */
  readonly hosts: TallyMap<number>
  readonly targets: Set<string>
  /** The rule's first findings in the report's order (with their sort keys), at most LISTED_RESOURCES. */
  readonly first: { readonly k: string; readonly f: Finding }[]
  /** The last pair counted and its bits then (a host's findings arrive together: most need no key and no lookup). */
  lastTarget?: string
  lastHost?: string
  lastBits: number
}

const UNSUPPRESSED = 1
const SUPPRESSED = 2
const either = (a: number, b: number): number => a | b
/** A pair's bits in the spill file: one byte. */
const BITS: Codec<number> = {
  weigh: (key) => key.length + 16,
  write: (w, v) => w.u8(v),
  read: (r) => r.u8(),
}

/** Keys a tally's host counter keeps in memory before spilling them (a scan tallies while it reads: kept small). */
const TALLY_KEYS = 4_096

/** Host groups (pairs unsuppressed, plus pairs suppressed) and hosts (pairs either way) of a rule; releases the counter. */
function hostCounts(hosts: TallyMap<number>): { groups: number; hosts: number } {
  const n = { groups: 0, hosts: 0 }
  for (const [, v] of hosts.entries()) {
    n.hosts++
    n.groups += (v & UNSUPPRESSED ? 1 : 0) + (v & SUPPRESSED ? 1 : 0)
  }
  hosts.release()
  return n
}

/**
 * The SARIF plan's counts — failed findings per rule, with their distinct host groups, hosts and targets — tallied one
 * finding at a time in bounded memory (past a budget the keys spill to disk). A scan tallies its findings as they arrive
 * ({@link tallySarif}), so the writer reads a spilled report's findings back once, for the results alone.
 */
export class SarifTally {
  readonly #byRule = new Map<string, RuleCount>()
  readonly #order: ((f: Finding) => string) | undefined
  #done: readonly RulePlan[] | undefined
  readonly #first = new Map<string, readonly Finding[]>()

  /**
   * `order` gives a finding's key in the report's order: with it each rule's first findings are kept too, so a run whose
   * rules are all grouped per rule is written without reading the findings back.
   */
  constructor(order?: (f: Finding) => string) {
    this.#order = order
  }

  add(f: Finding): void {
    if (f.status !== 'fail') return
    if (this.#done) throw new Error('SARIF tally already read')
    let p = this.#byRule.get(f.ruleId)
    if (!p) this.#byRule.set(f.ruleId, (p = { rule: f.ruleId, rank: SEVERITY_RANK[f.severity], findings: 0, hosts: new TallyMap<number>(TALLY_KEYS, either, BITS), targets: new Set(), first: [], lastBits: 0 }))
    p.findings++
    if (this.#order) keepFirst(p.first, this.#order(f), f)
    const host = hostOf(f)
    const bit = f.suppression ? SUPPRESSED : UNSUPPRESSED
    // The pair's bit is recorded already (in memory or in a run written since: runs combine by OR).
    if (p.lastTarget === f.target && p.lastHost === host && p.lastBits & bit) return
    const k = `${f.target}\0${host}`
    const v = p.hosts.get(k)
    p.lastBits = (v ?? 0) | bit
    if (v !== p.lastBits) p.hosts.set(k, p.lastBits)
    if (p.lastTarget !== f.target) p.targets.add(f.target)
    p.lastTarget = f.target
    p.lastHost = host
  }

  /** Each rule's counts, highest severity first (a fresh list each time: the plan sets their levels). */
  rules(): RulePlan[] {
    this.#done ??= [...this.#byRule.values()]
      .map((p): RulePlan => {
        // A host group is a (target, host) pair, suppressed findings apart; hosts are the pairs either way.
        const n = hostCounts(p.hosts)
        return { rule: p.rule, rank: p.rank, findings: p.findings, hostGroups: n.groups, hosts: n.hosts, targets: p.targets.size, level: 'finding' }
      })
      .sort((a, b) => b.rank - a.rank || (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0))
    for (const p of this.#byRule.values()) this.#first.set(p.rule, p.first.map((x) => x.f))
    this.#byRule.clear()
    return this.#done.map((r) => ({ ...r }))
  }

  /** The first findings of `rule` in the report's order (at most LISTED_RESOURCES), when the tally kept them. */
  first(rule: string): readonly Finding[] | undefined {
    return this.#order ? (this.#first.get(rule) ?? []) : undefined
  }

  /** Removes the counters' temporary files (a scan that failed, or a report released unwritten). */
  release(): void {
    for (const p of this.#byRule.values()) {
      p.hosts.release()
    }
    this.#byRule.clear()
  }
}

/** Keeps the LISTED_RESOURCES smallest keys in `list` (sorted; equal keys: the earlier one first). */
function keepFirst(list: { readonly k: string; readonly f: Finding }[], k: string, f: Finding): void {
  if (list.length >= LISTED_RESOURCES && !(k < list[list.length - 1]!.k)) return
  let lo = 0
  let hi = list.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (list[mid]!.k <= k) lo = mid + 1
    else hi = mid
  }
  list.splice(lo, 0, { k, f })
  if (list.length > LISTED_RESOURCES) list.pop()
}

/** Tallies of spilled reports' findings (read-only views), made while a scan's findings arrived. */
const tallies = new WeakMap<object, SarifTally>()

/** Records `tally` as the counts of `findings` (a scan's spilled, read-only findings), so writers need not count them again. */
export function tallySarif(findings: readonly Finding[], tally: SarifTally): void {
  if (!isFindingView(findings)) return tally.release() // findings in memory are counted when written
  tallies.set(findings, tally)
  releaseWith(findings, tally)
}

/** Counts the failed findings per rule (one pass over the findings, unless a scan tallied them as they arrived). */
function bucket(report: ScanReport): RulePlan[] {
  const known = tallies.get(report.findings)
  if (known) return known.rules()
  const tally = new SarifTally()
  for (const f of report.findings) tally.add(f)
  return tally.rules()
}

/**
 * Picks a level per rule so the run holds at most `max` results: every rule gets one result per (target, host) where the
 * budget allows, highest severity first, then one result per finding, highest severity first; what does not fit even as
 * one result per rule is left out (lowest severity first).
 */
function plan(rules: readonly RulePlan[], absent: number, max: number): Plan {
  for (const r of rules) r.level = 'rule'
  let total = rules.length
  for (let i = rules.length - 1; i >= 0 && total > max; i--) {
    rules[i]!.level = 'left-out'
    total--
  }
  const absentKept = Math.min(absent, max - total)
  total += absentKept
  for (const r of rules)
    if (r.level === 'rule' && total - 1 + r.hostGroups <= max) {
      r.level = 'host'
      total += r.hostGroups - 1
    }
  for (const r of rules)
    if (r.level === 'host' && total - r.hostGroups + r.findings <= max) {
      r.level = 'finding'
      total += r.findings - r.hostGroups
    }
  return { rules, absentKept }
}

function groupedResult(rule: EffectiveRule | undefined, ruleId: string, idx: number | undefined, group: readonly Finding[], count: number, resources: readonly string[], hosts: number, targets: number, by: 'host' | 'rule'): Record<string, unknown> {
  const f = group[0]!
  const host = hostOf(f)
  const where = by === 'host' ? (host ? `${host} in ${f.target}` : f.target) : `${hosts} host(s) in ${targets} target(s)`
  const more = count > resources.length ? `, and ${count - resources.length} more` : ''
  const title = rule?.title ?? ruleId
  const suppressed = by === 'host' && f.suppression
  const fingerprint = createHash('sha256').update(`${ruleId}\n${by === 'host' ? `${f.target}\n${host}\n${suppressed ? 's' : ''}` : '*'}`).digest('hex').slice(0, 32)
  return {
    ruleId,
    ...(idx === undefined ? {} : { ruleIndex: idx }),
    kind: 'fail',
    level: SARIF_LEVEL[f.severity],
    message: { text: sarifText(cut(`${title}: ${count} finding(s) on ${where} (grouped per ${by}; the JSON report lists each): ${resources.slice(0, 20).join(', ')}${count > 20 ? ', …' : ''}`, 2000)) },
    locations: [
      {
        physicalLocation: { artifactLocation: { uri: by === 'host' ? targetUri(f.target) : `ztscan/rule/${targetUri(ruleId).slice('ztscan/'.length)}` }, region: { startLine: 1 } },
        logicalLocations: [by === 'host' ? { fullyQualifiedName: f.target, ...(host ? { name: host.slice(0, 200) } : {}), kind: 'resource' } : { fullyQualifiedName: ruleId, kind: 'resource' }],
      },
    ],
    partialFingerprints: { primaryLocationLineHash: fingerprint, 'ztscan/v1': fingerprint },
    ...(suppressed ? { suppressions: [{ kind: 'external', status: 'accepted', justification: f.suppression!.reason }] } : {}),
    properties: { severity: f.severity, pillar: f.pillar, family: f.family, grouped: by, findings: count, ...(by === 'host' ? { target: f.target, host } : { hosts, targets }), resources: resources.concat(more ? [`… ${count - resources.length} more`] : []) },
  }
}

/** A finding as a result grouped per rule lists it: its resource, after its host unless the resource names it. */
const listedResource = (f: Finding): string => (hostOf(f) && !f.resource.startsWith(hostOf(f)) ? `${hostOf(f)} ${f.resource}` : f.resource)

/** The head of a finding's JSON text as the engine writes it: `{"ruleId":"…","status":"…"`. */
const HEAD = /^\{"ruleId":"([^"\\]*)","status":"([a-z]+)"/

/** A finding's rule and status: from the head of its JSON text when it has one (no parse), else from the finding. */
function headOf(r: SpilledRecord<Finding>): { readonly ruleId: string; readonly status: string } {
  const text = r.head(300)
  const m = text === undefined ? null : HEAD.exec(text)
  return m ? { ruleId: m[1]!, status: m[2]! } : r.value
}

/**
 * The run's results under a plan, highest severity first. One pass over the findings (they may be streamed from disk):
 * each rule's results are gathered — at most the plan's budget of them — then yielded rule by rule, in findings order.
 * A spilled finding is parsed only when it becomes (part of) a result; the pass stops early once every rule is grouped
 * per rule (or left out) and has its listed resources (the plan has the counts).
 */
function* results(report: ScanReport, p: Plan, ruleIndex: ReadonlyMap<string, number>): Generator<Record<string, unknown>> {
  const meta = new Map(report.rules.map((r) => [r.id, r]))
  const level = new Map(p.rules.map((r) => [r.rule, r.level]))
  const each = new Map<string, Finding[]>()
  const perHost = new Map<string, Map<string, { first: Finding[]; count: number; resources: string[] }>>()
  const perRule = new Map<string, { first: Finding; resources: string[] }>()
  const listed = new Map(p.rules.map((r) => [r.rule, Math.min(LISTED_RESOURCES, r.findings)]))
  const everyFinding = p.rules.some((r) => r.level === 'finding' || r.level === 'host')
  let wanting = p.rules.filter((r) => r.level === 'rule').length
  // Rules grouped per rule list their first findings: a scan's tally kept them, so nothing is read back for them.
  const tally = tallies.get(report.findings)
  if (tally && !everyFinding)
    for (const r of p.rules) {
      const first = r.level === 'rule' ? tally.first(r.rule) : undefined
      if (!first?.length) continue
      perRule.set(r.rule, { first: first[0]!, resources: first.map(listedResource) })
      wanting--
    }
  for (const rec of recordsOf(report.findings)) {
    if (!everyFinding && wanting === 0) break
    const head = headOf(rec)
    if (head.status !== 'fail') continue
    const lv = level.get(head.ruleId)
    if (lv === 'rule') {
      let g = perRule.get(head.ruleId)
      if (g && g.resources.length >= LISTED_RESOURCES) continue
      const f = rec.value
      if (!g) perRule.set(f.ruleId, (g = { first: f, resources: [] }))
      g.resources.push(listedResource(f))
      if (g.resources.length === listed.get(f.ruleId)) wanting--
    } else if (lv === 'finding') {
      const f = rec.value
      ;(each.get(f.ruleId) ?? each.set(f.ruleId, []).get(f.ruleId)!).push(f)
    } else if (lv === 'host') {
      const f = rec.value
      const groups = perHost.get(f.ruleId) ?? perHost.set(f.ruleId, new Map()).get(f.ruleId)!
      const k = groupKey(f)
      let g = groups.get(k)
      if (!g) groups.set(k, (g = { first: [f], count: 0, resources: [] }))
      g.count++
      if (g.resources.length < LISTED_RESOURCES) g.resources.push(f.resource)
    }
  }
  for (const r of p.rules) {
    const idx = ruleIndex.get(r.rule)
    if (r.level === 'finding') for (const f of each.get(r.rule) ?? []) yield sarifResult(f, idx)
    else if (r.level === 'host') for (const g of perHost.get(r.rule)?.values() ?? []) yield groupedResult(meta.get(r.rule), r.rule, idx, g.first, g.count, g.resources, 1, 1, 'host')
    else if (r.level === 'rule') {
      const g = perRule.get(r.rule)
      if (g) yield groupedResult(meta.get(r.rule), r.rule, idx, [g.first], r.findings, g.resources, r.hosts, r.targets, 'rule')
    }
  }
  yield* absentResults(report, ruleIndex).slice(0, p.absentKept)
}

const fmt = (n: number): string => n.toLocaleString('en-US')

function outcomeOf(report: ScanReport, p: Plan, limits: { results: number; gzipBytes: number }): SarifOutcome {
  const grouped = p.rules
    .filter((r) => r.level !== 'finding')
    .map((r) => ({ rule: r.rule, level: r.level as 'host' | 'rule' | 'left-out', findings: r.findings, results: r.level === 'host' ? r.hostGroups : r.level === 'rule' ? 1 : 0 }))
  const findings = p.rules.reduce((n, r) => n + r.findings, 0)
  const written = p.rules.reduce((n, r) => n + (r.level === 'finding' ? r.findings : r.level === 'host' ? r.hostGroups : r.level === 'rule' ? 1 : 0), 0) + p.absentKept
  const absentLeftOut = (report.baseline?.absent.length ?? 0) - p.absentKept
  const notes: string[] = []
  if (grouped.length || absentLeftOut) {
    const list = (level: string): string =>
      grouped
        .filter((g) => g.level === level)
        .map((g) => `${g.rule} (${fmt(g.findings)} → ${fmt(g.results)})`)
        .join(', ')
    const parts = [list('host') && `per host: ${list('host')}`, list('rule') && `per rule: ${list('rule')}`, list('left-out') && `left out: ${list('left-out')}`, absentLeftOut ? `${fmt(absentLeftOut)} baseline-absent result(s) left out` : '']
    notes.push(
      `SARIF grouped to stay within ${fmt(limits.results)} results and ${fmt(limits.gzipBytes / 1024 / 1024)} MB gzip per run: ${fmt(findings)} failed finding(s) written as ${fmt(written)} result(s), highest severity kept finest; ${parts.filter(Boolean).join('; ')}. The JSON report lists every finding.`,
    )
  }
  if (report.errors.length > LISTED_ERRORS) notes.push(`SARIF lists the first ${fmt(LISTED_ERRORS)} of ${fmt(report.errors.length)} attempt errors one by one and counts the rest per check and reason; the JSON report lists each.`)
  return { results: written, findings, grouped, absentLeftOut, notes }
}

/** Results measured: their count, JSON size, estimated gzip size (once over the raw budget), and their JSON text if small. */
interface Measured {
  readonly count: number
  readonly raw: number
  readonly zipped: number
  readonly texts: string[] | undefined
}

/**
 * Measures results in one pass: JSON size; once it passes `gzipBytes`, their gzip size too — compressed in 1 MB pieces (a
 * little larger than one stream would be, so on the safe side), plus the skeleton at a quarter of its size. Their JSON
 * text is kept up to twice the budget, so the writer need not produce them again.
 */
function measure(items: Iterable<Record<string, unknown>>, skeletonBytes: number, gzipBytes: number): Measured {
  let raw = skeletonBytes
  let count = 0
  let zipped = 0
  let zipping = false
  let buf = ''
  let texts: string[] | undefined = []
  const flush = (): void => {
    zipped += gzipSync(buf).length - 18 // header/trailer per chunk, not per file
    buf = ''
  }
  const zip = (t: string): void => {
    buf += t + ',\n'
    if (buf.length > 1 << 20) flush()
  }
  for (const r of items) {
    const t = JSON.stringify(r)
    raw += t.length + 2
    count++
    texts?.push(t)
    if (zipping) zip(t)
    else if (raw > gzipBytes) {
      zipping = true
      for (const x of texts!) zip(x)
    }
    if (raw > 2 * gzipBytes) texts = undefined
  }
  if (zipping) flush()
  return { count, raw, zipped: zipping ? zipped + skeletonBytes / 4 : 0, texts }
}

/**
 * Plans the run's results within the limits: first by count, then, when the results' JSON is larger than the gzip budget,
 * by measuring their gzip size and shrinking the count budget until they fit. `texts`: the planned results' JSON, when
 * kept.
 */
function fit(report: ScanReport, opts: SarifOptions, ruleIndex: ReadonlyMap<string, number>, skeletonBytes: number): { plan: Plan; outcome: SarifOutcome; texts: string[] | undefined } {
  const limits = { results: maxResultsOf(opts), gzipBytes: opts.maxGzipBytes ?? GITHUB_SARIF_LIMITS.gzipBytes }
  const rules = bucket(report)
  const absent = report.baseline?.absent.length ?? 0
  let max = limits.results
  let p = plan(rules, absent, max)
  let texts: string[] | undefined
  for (let round = 0; round < 8; round++) {
    const m = measure(results(report, p, ruleIndex), skeletonBytes, limits.gzipBytes)
    texts = m.texts
    if (m.raw <= limits.gzipBytes) break
    // 5% headroom: the uploader's gzip may differ slightly from ours.
    if (m.zipped <= limits.gzipBytes * 0.95 || m.count <= 1) break
    max = Math.max(1, Math.floor(m.count * ((limits.gzipBytes * 0.9) / m.zipped)))
    p = plan(rules, absent, max)
    texts = undefined
  }
  return { plan: p, outcome: outcomeOf(report, p, limits), texts }
}

const SEVERITY_SET: ReadonlySet<string> = new Set(Object.keys(SEVERITY_RANK))
const isRecord = (x: unknown): x is Record<string, unknown> => !!x && typeof x === 'object' && !Array.isArray(x)

/** A one-per-finding result written by `sarifResult`, read back as the finding (undefined for anything else). */
function findingOfResult(r: Record<string, unknown>): Finding | undefined {
  const p = r.properties
  const fp = isRecord(r.partialFingerprints) ? r.partialFingerprints['ztscan/v1'] : undefined
  if (!isRecord(p) || p.grouped !== undefined || r.kind !== 'fail' || typeof r.ruleId !== 'string' || typeof fp !== 'string') return undefined
  if (typeof p.target !== 'string' || typeof p.resource !== 'string' || typeof p.severity !== 'string' || !SEVERITY_SET.has(p.severity)) return undefined
  const text = isRecord(r.message) && typeof r.message.text === 'string' ? r.message.text : ''
  const suffix = ` [${sarifText(p.target)}]`
  const sup = Array.isArray(r.suppressions) && isRecord(r.suppressions[0]) ? r.suppressions[0] : undefined
  const expires = sup && isRecord(sup.properties) && typeof sup.properties.expires === 'string' ? sup.properties.expires : undefined
  const state = r.baselineState
  return {
    ruleId: r.ruleId,
    status: 'fail',
    severity: p.severity as Finding['severity'],
    pillar: p.pillar as Finding['pillar'],
    family: String(p.family ?? ''),
    target: p.target,
    resource: p.resource,
    message: text.endsWith(suffix) ? text.slice(0, -suffix.length) : text,
    evidence: isRecord(p.evidence) ? p.evidence : {},
    fingerprint: fp,
    ...(state === 'new' || state === 'unchanged' || state === 'updated' ? { baselineState: state } : {}),
    ...(sup ? { suppression: { reason: String(sup.justification ?? ''), ...(expires ? { expires } : {}) } } : {}),
  }
}

/**
 * Keeps already-written results (a merge of shard logs) within GitHub's limits the way `writeSarif` keeps a scan's: the
 * one-per-finding results are read back as findings and grouped by the same plan (per host, then per rule, highest
 * severity kept finest); results that are already grouped, or not ztscan's, are kept as they are and count against the
 * budget. Unchanged (no outcome) when the results are within the limits.
 */
export function groupSarifResults(
  given: readonly Record<string, unknown>[],
  rules: readonly { readonly id: string; readonly title?: string }[],
  opts: SarifOptions = {},
): { results: Record<string, unknown>[]; outcome?: SarifOutcome } {
  const limits = { results: maxResultsOf(opts), gzipBytes: opts.maxGzipBytes ?? GITHUB_SARIF_LIMITS.gzipBytes }
  let raw = 0
  for (const r of given) raw += JSON.stringify(r).length + 2
  if (given.length <= limits.results && raw <= limits.gzipBytes) return { results: [...given] }
  const findings: Finding[] = []
  const kept: Record<string, unknown>[] = []
  let keptBytes = 0
  for (const r of given) {
    const f = findingOfResult(r)
    if (f) findings.push(f)
    else {
      kept.push(r)
      keptBytes += JSON.stringify(r).length + 2
    }
  }
  const report = { rules, findings, errors: [] } as unknown as ScanReport
  const ruleIndex = new Map(rules.map((r, i) => [r.id, i]))
  const { plan: p, outcome } = fit(report, { ...opts, maxResults: Math.max(1, limits.results - kept.length) }, ruleIndex, keptBytes)
  return { results: [...results(report, p, ruleIndex), ...kept], outcome }
}

/** Converts a report to a SARIF 2.1.0 log object (grouped like `writeSarif` when it would exceed GitHub's limits). */
export function toSarif(report: ScanReport, opts: SarifOptions = {}): Record<string, unknown> {
  const ruleIndex = new Map(report.rules.map((r, i) => [r.id, i]))
  const { plan: p, outcome } = fit(report, opts, ruleIndex, 0)
  return sarifLog(report, opts, [...results(report, p, ruleIndex)], outcome)
}

function* jsonOf(items: Iterable<unknown>): Generator<string> {
  for (const x of items) yield JSON.stringify(x)
}

const RESULTS_SLOT = '\u0000ztscan-results\u0000'

/**
 * Streams the SARIF log to a writable (results one at a time, with backpressure), so 100,000 results never exist as one
 * string, and keeps the run within GitHub's limits by grouping (see `SarifOutcome`). Resolves when the stream has finished
 * (or, with `end: false`, when everything is written).
 */
export async function writeSarif(report: ScanReport, out: Writable, opts: SarifOptions & { end?: boolean } = {}): Promise<SarifOutcome> {
  const ruleIndex = new Map(report.rules.map((r, i) => [r.id, i]))
  const draft = JSON.stringify(sarifLog(report, opts, RESULTS_SLOT, undefined), null, 2)
  const { plan: p, outcome, texts } = fit(report, opts, ruleIndex, draft.length)
  const skeleton = JSON.stringify(sarifLog(report, opts, RESULTS_SLOT, outcome), null, 2)
  const at = skeleton.indexOf(JSON.stringify(RESULTS_SLOT))
  const sink = new ChunkSink(out)
  sink.push(escapeJsonText(skeleton.slice(0, at)) + '[')
  let first = true
  for (const text of texts ?? jsonOf(results(report, p, ruleIndex))) {
    const pending = sink.push((first ? '\n' : ',\n') + escapeJsonText(text))
    first = false
    if (pending) await pending
  }
  sink.push('\n]' + escapeJsonText(skeleton.slice(at + JSON.stringify(RESULTS_SLOT).length)) + '\n')
  await sink.close(opts.end !== false)
  return outcome
}

function notifications(report: ScanReport, outcome: SarifOutcome | undefined): Record<string, unknown>[] {
  const listed = report.errors.slice(0, LISTED_ERRORS).map((e) => ({
    level: 'error',
    message: { text: sarifText(`${e.target}: ${e.check}: ${e.message}`) },
    descriptor: { id: `attempt-${e.reason}` },
    properties: { target: e.target, check: e.check, family: e.family, reason: e.reason },
  }))
  const rest = new Map<string, { check: string; family: string; reason: string; count: number }>()
  // Iterated, not indexed: a merged report's errors may be a lazy view read back from disk.
  let i = 0
  for (const e of report.errors) {
    if (i++ < LISTED_ERRORS) continue
    const k = `${e.check}\0${e.reason}`
    const x = rest.get(k)
    if (x) x.count++
    else rest.set(k, { check: e.check, family: e.family, reason: e.reason, count: 1 })
  }
  return [
    ...(outcome?.notes ?? []).map((text) => ({ level: 'warning', message: { text }, descriptor: { id: 'results-grouped' }, properties: { grouped: outcome!.grouped } })),
    ...listed,
    ...[...rest.values()].map((x) => ({
      level: 'error',
      message: { text: sarifText(`${x.check}: ${x.count} more attempt error(s) (${x.reason}), listed in the JSON report`) },
      descriptor: { id: `attempt-${x.reason}` },
      properties: { check: x.check, family: x.family, reason: x.reason, count: x.count },
    })),
    ...(report.incomplete ?? []).map((x) => ({
      level: 'error',
      message: { text: sarifText(`scan incomplete: ${x.message}`) },
      descriptor: { id: `scan-incomplete-${x.reason}` },
    })),
    ...(report.expiredSuppressions ?? []).map((x) => ({
      level: 'warning',
      message: { text: sarifText(`suppression for ${x.rule} on ${x.target} expired on ${x.expires} ("${x.reason}"); ${x.matched} finding(s) no longer suppressed`) },
      descriptor: { id: 'suppression-expired' },
    })),
  ]
}

function sarifLog(report: ScanReport, opts: SarifOptions, results: unknown, outcome: SarifOutcome | undefined): Record<string, unknown> {
  const rules = report.rules.map((r) => {
    return {
      id: r.id,
      name: pascal(r.id),
      shortDescription: { text: cut(r.title) },
      fullDescription: { text: cut(r.description) },
      help: { text: helpText(r), markdown: helpMarkdown(r) },
      helpUri: r.helpUri,
      defaultConfiguration: { level: SARIF_LEVEL[r.severity], enabled: r.enabled },
      properties: {
        'security-severity': SECURITY_SEVERITY[r.severity],
        tags: [...new Set(['security', 'zero-trust', r.family, `ztmm-${r.pillar}`, ...(r.tags ?? [])])].slice(0, 20),
        precision: 'high',
        'problem.severity': SARIF_LEVEL[r.severity] === 'note' ? 'recommendation' : SARIF_LEVEL[r.severity],
      },
    }
  })
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'ztscan',
            version: report.tool.version,
            semanticVersion: report.tool.version,
            informationUri: 'https://github.com/ztscan/ztscan',
            rules,
          },
        },
        automationDetails: { id: `${opts.category ?? 'ztscan'}/${report.shard ? `shard-${report.shard.replace('/', '-of-')}/` : ''}` },
        invocations: [
          {
            // False when the scan did not check what it was asked to (aborted, errors over the budget, nothing checked).
            executionSuccessful: report.complete !== false,
            startTimeUtc: report.startedAt,
            endTimeUtc: report.finishedAt,
            toolExecutionNotifications: notifications(report, outcome),
          },
        ],
        results,
        properties: { score: sarifScore(report.score), summary: report.summary, ...grades(report) },
      },
    ],
  }
}

/** Targets' letter grades (`grades.ts`) for the run properties, when a check gave any. */
function grades(report: ScanReport): { grades?: ReturnType<typeof gradesOf> } {
  const g = gradesOf(report.findings)
  return g.length ? { grades: g } : {}
}

/** The score card for SARIF run properties: pillars, caps, coverage, settings, delta; per-asset scores stay in the JSON. */
function sarifScore(card: ScoreCard): Omit<ScoreCard, 'assets'> {
  const { assets: _assets, ...rest } = card
  return rest
}
