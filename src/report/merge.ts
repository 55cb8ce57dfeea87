/**
 * @fileoverview Joins shard reports into one. JSON parts merge into a full report (findings deduplicated by target, rule,
 * resource, status and fingerprint, score recomputed from the union, so it equals the unsharded scan's). SARIF parts merge into one SARIF run whose
 * score is re-scored from the parts' pillar sums, counts and caps (`mergeScoreCards`: SARIF holds no passing findings).
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { ValidateFunction } from 'ajv'
import { lazyRequire } from '../lib-lazy.ts'
import { InputError, positiveInt } from '../errors.ts'
import { toProblems } from '../lib-ajv.ts'
import { formatProblems } from '../errors.ts'
import { packageRoot } from '../rules/root.ts'
import { SCORE_VERSION, mergeScoreCards, scoreTally } from '../scoring/score.ts'
import { SEVERITIES, type AttemptError, type AttemptSkip, type EffectiveRule, type ExpiredSuppression, type Finding, type Incompleteness, type PassCount, type ScanReport, type ScoreCard, type Severity } from '../types.ts'
import { DEFAULT_MEMORY_BYTES, DEFAULT_MEMORY_FINDINGS, DEFAULT_MEMORY_RECORDS, SpillMap, SpillStore, recordView, recordsOf, releaseFindings, releaseWith, type SpilledRecord } from '../engine/spill.ts'
import { buildReport, countFinding, incompleteness } from './build.ts'
import { streamReport, type StreamedArray } from './read-stream.ts'
import { MAX_REPORT_BYTES, MAX_STREAM_BYTES, fileChunks } from '../lib-files.ts'
import { readJsonEntries } from '../lib-json-stream.ts'
import { groupSarifResults, type SarifOptions } from './sarif.ts'

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

let reportValidator: ValidateFunction | undefined
/** The report schema, stopping at the first error (a part may be huge: no error list per bad field). */
function validateReport(): ValidateFunction {
  if (!reportValidator) {
    const schema = JSON.parse(readFileSync(join(packageRoot(), 'src', 'report', 'report.schema.json'), 'utf8')) as Record<string, unknown>
    reportValidator = new (lazyRequire<typeof import('ajv')>('ajv')().Ajv)({ allErrors: false, strict: false, validateFormats: false }).compile(schema)
  }
  return reportValidator
}

/**
 * Checks that a merge part is a ztscan JSON report (the report schema); throws an `InputError` naming `source` and the
 * first bad field. A part without `complete` (an older ztscan) is taken as incomplete.
 */
export function validateReportPart(data: unknown, source: string): ScanReport {
  if (!data || typeof data !== 'object' || Array.isArray(data) || (data as { schemaVersion?: unknown }).schemaVersion !== '1.0')
    throw new InputError(source, '/schemaVersion: expected a ztscan JSON report (schemaVersion "1.0")')
  const part = 'complete' in data ? data : { ...data, complete: false, incomplete: [{ reason: 'nothing-checked', message: 'this part does not say whether its scan was complete' }] }
  const validate = validateReport()
  if (!validate(part)) throw new InputError(source, formatProblems('', toProblems(validate.errors, part)).replace(/^: /, ''))
  // The schema's date-time formats are not checked (validateFormats: false): a date the merge could not order is refused here.
  for (const k of ['startedAt', 'finishedAt'] as const)
    if (Number.isNaN(Date.parse((part as ScanReport)[k]))) throw new InputError(source, `/${k}: expected a date-time (ISO 8601)`)
  return part as ScanReport
}

/** Checks that a merge part is a SARIF 2.1.0 log whose runs hold a tool driver and result objects; throws an `InputError`. */
export function validateSarifPart(data: unknown, source: string): void {
  const log = data as SarifLog
  if (!log || typeof log !== 'object' || log.version !== '2.1.0' || !Array.isArray(log.runs)) throw new InputError(source, '/: expected a SARIF 2.1.0 log (version "2.1.0" and a runs array)')
  log.runs.forEach((r, i) => {
    const isObj = (x: unknown): boolean => !!x && typeof x === 'object' && !Array.isArray(x)
    if (!isObj(r)) throw new InputError(source, `/runs/${i}: expected a run object`)
    if (!isObj(r.tool) || !isObj(r.tool.driver)) throw new InputError(source, `/runs/${i}/tool/driver: expected an object`)
    const rules = r.tool.driver.rules
    if (rules !== undefined && (!Array.isArray(rules) || rules.some((x) => !isObj(x) || typeof x.id !== 'string'))) throw new InputError(source, `/runs/${i}/tool/driver/rules: expected rule objects with an id`)
    if (r.results !== undefined && (!Array.isArray(r.results) || r.results.some((x) => !isObj(x)))) throw new InputError(source, `/runs/${i}/results: expected an array of result objects`)
    const inv = r.invocations
    if (inv !== undefined && (!Array.isArray(inv) || inv.some((x) => !isObj(x)))) throw new InputError(source, `/runs/${i}/invocations: expected an array of invocation objects`)
    if (r.properties !== undefined && !isObj(r.properties)) throw new InputError(source, `/runs/${i}/properties: expected an object`)
  })
}

/** Merges JSON reports of shards into one report (in memory; see {@link ReportMerge} and {@link mergeReportFiles} for parts of any size). */
export function mergeReports(parts: readonly ScanReport[], opts: MergeOptions = {}): ScanReport {
  if (!parts.length) throw new InputError('merge', 'no reports to merge')
  const m = new ReportMerge(opts)
  try {
    parts.forEach((p, i) => m.addReport(validateReportPart(p, `part ${i + 1}`)))
    return m.finish()
  } catch (err) {
    m.release()
    throw err
  }
}

/**
 * Distinct rules a merge keeps: the score card and every writer look rules up by id, so they stay in memory (a report
 * lists the few dozen rules in force); a part that takes the union past this is refused (exit 2 naming the file).
 */
export const MAX_MERGE_RULES = 10_000
/** Bytes of JSON the kept rules may take in all (an entry of a part may take 8 MiB): past them the part is refused too. */
export const MAX_MERGE_RULE_BYTES = 32 * 1024 * 1024
/** `incomplete` entries a part may give (ztscan writes at most one per reason: three). */
export const MAX_MERGE_INCOMPLETE = 1_000
const tooManyIncomplete = `/incomplete: more than ${MAX_MERGE_INCOMPLETE.toLocaleString('en-US')} entries`

/** Memory bounds of a merge. Each is an integer from 1 up; anything else (NaN, Infinity, 0, 1.5) is an `OptionsError` naming it. */
export interface MergeOptions {
  /** Findings kept in memory before the rest spill to a temporary file (default 10,000; see spill.ts). */
  readonly memoryFindings?: number
  /**
   * Pass counts, per-asset tallies and scores, and each of the parts' targets, errors, skips and expired suppressions:
   * records kept in memory before the rest spill (default 20,000 of each).
   */
  readonly memoryRecords?: number
  /**
   * Characters of JSON text (about bytes) each of those lists holds in memory before it spills, whichever of this and its
   * count comes first (default 32 MiB, see spill.ts).
   */
  readonly memoryBytes?: number
}

/**
 * Merges the JSON reports at `paths`, each streamed (read-stream.ts: any size that fits on disk, checked as a whole read
 * checks it, errors name the file and the field). Memory is bounded by the budgets in `opts`: findings and pass counts
 * spill to temporary files, and the merged report's `findings`, `passCounts` and `score.assets` are then lazy views
 * (release them with `releaseFindings` once written).
 */
export async function mergeReportFiles(paths: readonly string[], opts: MergeOptions = {}): Promise<ScanReport> {
  if (!paths.length) throw new InputError('merge', 'no reports to merge')
  const m = new ReportMerge(opts)
  try {
    for (const path of paths) await m.addFile(path)
    return m.finish()
  } catch (err) {
    m.release()
    throw err
  }
}

/** Ends a sniffing read early with its answer. */
class Sniffed {
  readonly report: boolean
  constructor(report: boolean) {
    this.report = report
  }
}

/**
 * True when the file at `path` is a ztscan JSON report as far as its top-level `schemaVersion` says ("1.0"): read until
 * that field (the first one ztscan writes), the report's arrays only scanned. False for anything else — a SARIF log (its
 * `version` comes first), another document, no JSON, a file that cannot be read: the caller reads those whole, and its
 * checks refuse them with their own messages.
 */
export async function isReportFile(path: string): Promise<boolean> {
  const arrays = [['targets'], ['rules'], ['findings'], ['passCounts'], ['errors'], ['skipped'], ['runs']]
  try {
    await readJsonEntries(fileChunks(path, MAX_STREAM_BYTES), { arrays, skip: arrays, bare: false }, () => {}, (pointer, value) => {
      if (pointer === '/schemaVersion') throw new Sniffed(value === '1.0')
      if (pointer === '/version' || pointer === '') throw new Sniffed(false)
    })
  } catch (err) {
    if (err instanceof Sniffed) return err.report
  }
  return false
}

/**
 * A merge's order of findings (the report's: target, rule, resource, status) and, last, the fingerprint: a finding given
 * by two parts (same fingerprint and status) is adjacent to itself once sorted, and the later part's copy is kept.
 */
const mergeKey = (f: Finding): string => `${f.target}\0${f.ruleId}\0${f.resource}\0${f.status}\0${f.fingerprint}`

/**
 * The arrays of a part given entry by entry (findings and pass counts have their own; `incomplete` is read from the
 * part's envelope by {@link ReportMerge.part}: the part's check may add an entry no file holds).
 */
const ENTRY_ARRAYS = ['targets', 'rules', 'errors', 'skipped', 'expiredSuppressions'] as const

/** A sort key that orders by `n` (fixed width). */
const orderKey = (n: number): string => n.toString(36).padStart(11, '0')
/**
 * A string as a part of a sort key joined by NUL: NUL and U+0001 are written as two characters (U+0001 U+0001, U+0001
 * U+0002), so the key orders as the parts compared one by one do, whatever characters they hold (a check name with a NUL
 * followed by a character below '0' would otherwise sort before the same name without it).
 */
const orderPart = (s: string): string => (s.includes('\0') || s.includes('\x01') ? s.replaceAll('\x01', '\x01\x02').replaceAll('\0', '\x01\x01') : s)

/** The last record of each run of equal keys (the later part's copy of a finding given twice). */
function* lastOfEach<T>(records: Iterable<SpilledRecord<T>>): Generator<SpilledRecord<T>> {
  let cur: SpilledRecord<T> | undefined
  for (const r of records) {
    if (cur && cur.key !== r.key) yield cur
    cur = r
  }
  if (cur) yield cur
}

/**
 * A merge of JSON reports, part by part: findings, pass counts, targets, errors, skips and expired suppressions are
 * handed over one at a time (from a stream or an array) and spill past the budgets, so parts of any size merge in bounded
 * memory; rules are kept in memory (at most {@link MAX_MERGE_RULES}). {@link finish} gives the merged report: findings deduplicated by target, rule, resource, status and
 * fingerprint, score recomputed from the union, so it equals the unsharded scan's.
 */
export class ReportMerge {
  readonly #findings: SpillStore<Finding>
  readonly #passes: SpillMap<PassCount>
  readonly #memoryRecords: number
  /** The byte budget of each list (MergeOptions.memoryBytes). */
  readonly #bytes: { readonly maxBytes?: number }
  // Keyed by what deduplicates them, the later part's copy kept; read back in key order (the report's order).
  readonly #targets: SpillMap<ScanReport['targets'][number]>
  readonly #errors: SpillMap<AttemptError>
  /** Skips with the order each key was first given in (the report sorts them by target and check only, stably). */
  readonly #skipped: SpillMap<{ readonly s: AttemptSkip; readonly seq: number }>
  #skipSeq = 0
  /** Expired suppressions in the order given (keyed by that order). */
  readonly #expired: SpillStore<ExpiredSuppression>
  readonly #withheld = new Map<string, number>()
  readonly #rules = new Map<string, EffectiveRule>()
  /** JSON bytes (UTF-16 units) of the rules kept. */
  #ruleBytes = 0
  readonly #incomplete: Incompleteness[] = []
  readonly #absent: NonNullable<ScanReport['baseline']>['absent'][number][] = []
  #baselineSource: string | undefined
  #first: ScanReport | undefined
  #started = Infinity
  #finished = -Infinity
  #attempts = 0
  #parts = 0

  constructor(opts: MergeOptions = {}) {
    // Validated as scan() validates its budgets: a NaN would compare false with every size and turn its budget off.
    const memoryFindings = positiveInt('memoryFindings', opts.memoryFindings, DEFAULT_MEMORY_FINDINGS)
    const memoryRecords = positiveInt('memoryRecords', opts.memoryRecords, DEFAULT_MEMORY_RECORDS)
    const bytes = { maxBytes: positiveInt('memoryBytes', opts.memoryBytes, DEFAULT_MEMORY_BYTES) }
    this.#bytes = bytes
    this.#findings = new SpillStore<Finding>(memoryFindings, mergeKey, undefined, bytes)
    this.#memoryRecords = memoryRecords
    // Shards never share a target, so a (rule, target, asset) count comes from one part; a part given twice counts once.
    this.#passes = new SpillMap<PassCount>(this.#memoryRecords, (a, b) => (b.count > a.count ? b : a), undefined, bytes)
    const later = <V>(_: V, b: V): V => b
    this.#targets = new SpillMap(this.#memoryRecords, later, undefined, bytes)
    this.#errors = new SpillMap(this.#memoryRecords, later, undefined, bytes)
    this.#skipped = new SpillMap(this.#memoryRecords, (a, b) => ({ s: b.s, seq: a.seq }), undefined, bytes)
    this.#expired = new SpillStore<ExpiredSuppression>(this.#memoryRecords, undefined, undefined, bytes)
  }

  /** Adds a finding of the part being read. */
  finding(f: Finding): void {
    this.#findings.add(f)
  }

  /** Adds a pass count of the part being read (the largest count of a (target, rule, asset) is kept). */
  passCount(c: PassCount): void {
    const k = `${c.target}\0${c.ruleId}\0${c.asset ?? ''}`
    if (c.count > (this.#passes.get(k)?.count ?? 0)) this.#passes.set(k, c)
  }

  /**
   * Adds an entry of one of the arrays of the part being read (`source`: its file, for the refusal of too many rules).
   * Every one but the rules spills past the budget; `incomplete` entries are taken from the envelope ({@link part}).
   */
  entry(array: StreamedArray, value: unknown, source: string): void {
    switch (array) {
      case 'targets': {
        const t = value as ScanReport['targets'][number]
        this.#targets.set(t.id, t)
        break
      }
      case 'rules': {
        const r = value as EffectiveRule
        const prev = this.#rules.get(r.id)
        if (!prev && this.#rules.size >= MAX_MERGE_RULES) throw new InputError(source, `/rules: more than ${MAX_MERGE_RULES.toLocaleString('en-US')} distinct rules in the parts (rules are kept in memory)`)
        const bytes = this.#ruleBytes + JSON.stringify(r).length - (prev ? JSON.stringify(prev).length : 0)
        if (bytes > MAX_MERGE_RULE_BYTES) throw new InputError(source, `/rules: more than ${MAX_MERGE_RULE_BYTES / 1024 / 1024} MiB of rules in the parts (rules are kept in memory)`)
        this.#ruleBytes = bytes
        this.#rules.set(r.id, r)
        break
      }
      case 'errors': {
        const e = value as AttemptError
        this.#errors.set(`${e.target}\0${e.check}\0${e.message}`, e)
        break
      }
      case 'skipped': {
        const s = value as AttemptSkip
        const k = `${s.target}\0${s.check}\0${s.rule ?? ''}\0${s.why}`
        // A key spilled before gets a new order here; reading back combines it with the earlier one's (see constructor).
        this.#skipped.set(k, { s, seq: this.#skipped.get(k)?.seq ?? this.#skipSeq++ })
        break
      }
      case 'expiredSuppressions':
        this.#expired.add(value as ExpiredSuppression, orderKey(this.#expired.count))
    }
  }

  /**
   * Adds a part's envelope (everything but the entries of its arrays, given one by one), checked: its `incomplete`
   * entries too (those `validateReportPart` added to a part that does not say whether it was complete among them).
   */
  part(p: ScanReport, source = `part ${this.#parts + 1}`): void {
    const incomplete = p.incomplete ?? []
    if (incomplete.length > MAX_MERGE_INCOMPLETE) throw new InputError(source, tooManyIncomplete)
    ++this.#parts
    for (const x of incomplete) this.#incomplete.push({ reason: x.reason, message: `part ${this.#parts}: ${x.message}` })
    this.#first ??= p
    for (const w of p.chaining?.withheld ?? []) this.#withheld.set(w.from, (this.#withheld.get(w.from) ?? 0) + w.targets)
    if (p.baseline) {
      this.#baselineSource ??= p.baseline.source
      this.#absent.push(...p.baseline.absent)
    }
    this.#attempts += p.summary.attempts
    this.#started = Math.min(this.#started, Date.parse(p.startedAt))
    this.#finished = Math.max(this.#finished, Date.parse(p.finishedAt))
  }

  /** Adds a whole report (checked with `validateReportPart`; `source` names it in a refusal). */
  addReport(p: ScanReport, source = `part ${this.#parts + 1}`): void {
    for (const f of p.findings) this.finding(f)
    for (const c of p.passCounts ?? []) this.passCount(c)
    for (const array of ENTRY_ARRAYS) for (const x of p[array] ?? []) this.entry(array, x, source)
    this.part(p, source)
  }

  /** Adds the JSON report at `path`, streamed (any size; errors name the file and the field). */
  async addFile(path: string): Promise<void> {
    const part = await streamReport(path, {
      // A value other than the streamed arrays (a large baseline.absent list) up to what a whole read of the part allows.
      maxOtherBytes: MAX_REPORT_BYTES,
      // `incomplete` (a few entries: counted as they come, bounded) is kept: the part's check needs it (at least one
      // entry) and part() takes it from the envelope.
      keep: ['incomplete'],
      onFinding: (f) => this.finding(f),
      onPassCount: (c) => this.passCount(c),
      onEntry: (array, value, index) => {
        if (array !== 'incomplete') this.entry(array, value, path)
        else if (index >= MAX_MERGE_INCOMPLETE) throw new InputError(path, tooManyIncomplete)
      },
    })
    this.part(part, path)
  }

  /** Removes the temporary files (a merge that failed; {@link finish}'s report is released by `releaseFindings`). */
  release(): void {
    for (const x of [this.#findings, this.#passes, this.#targets, this.#errors, this.#skipped, this.#expired]) x.release()
  }

  /** The merged report (call once, after every part); when it throws, every temporary file of the merge is removed. */
  finish(): ScanReport {
    const made: { release(): void }[] = []
    try {
      return this.#finish(made)
    } catch (err) {
      for (const x of made) x.release()
      this.release()
      throw err
    }
  }

  /** {@link finish}, each store or tally it makes added to `made` (released if it throws). */
  #finish(made: { release(): void }[]): ScanReport {
    const first = this.#first
    if (!first) throw new InputError('merge', 'no reports to merge')
    const rules = [...this.#rules.values()].sort((a, b) => cmp(a.id, b.id))
    // Targets, errors, skips and expired suppressions: arrays when they stayed in memory, else lazy views over their files.
    const spilled: { release(): void }[] = []
    const listOf = <V>(map: SpillMap<V>): readonly V[] => {
      if (!map.spilled) {
        const list = Array.from(map.records(), (r) => r.value)
        map.release()
        return list
      }
      spilled.push(map)
      let n = 0
      for (const _ of map.records()) n++
      return recordView(() => map.records(), map, n)
    }
    const targets = listOf(this.#targets)
    const errors = listOf(this.#errors)
    // Skips in target and check order, equal ones in the order first given (a second store: sorted by that key).
    const skips = new SpillStore<AttemptSkip>(this.#memoryRecords, undefined, undefined, this.#bytes)
    made.push(skips)
    for (const r of this.#skipped.records()) skips.add(r.value.s, `${orderPart(r.value.s.target)}\0${orderPart(r.value.s.check)}\0${orderKey(r.value.seq)}`)
    this.#skipped.release()
    const skipped = skips.finish()
    if (skips.spilled) spilled.push(skips)
    else skips.release()
    const expired = this.#expired.finish()
    if (this.#expired.spilled) spilled.push(this.#expired)
    else this.#expired.release()
    // One pass over the union (deduplicated) tallies the score and the summary; the writers read it again.
    const score = scoreTally({ rules, settings: first.score.settings, memoryAssets: this.#memoryRecords, memoryBytes: this.#bytes.maxBytes })
    made.push(score)
    const counts = { passed: 0, failed: Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>, suppressed: 0 }
    const store = this.#findings
    const kept: Finding[] = []
    let n = 0
    for (const r of lastOfEach(store.sorted())) {
      const f = r.value
      score.finding(f)
      countFinding(counts, f)
      if (!store.spilled) kept.push(f)
      n++
    }
    const passMap = this.#passes
    const passKept: PassCount[] = []
    for (const r of passMap.records()) {
      score.passes(r.value)
      counts.passed += r.value.count
      if (!passMap.spilled) passKept.push(r.value)
    }
    let findings = store.spilled ? recordView(() => lastOfEach(store.sorted()), store, n) : kept
    if (spilled.length) {
      // What spilled is removed with the findings (releaseFindings): an in-memory list becomes a view to carry it.
      if (!store.spilled) findings = recordView(() => recordsOf(kept)[Symbol.iterator](), { release: () => {} }, kept.length)
      releaseWith(findings, { release: () => spilled.forEach((x) => x.release()) })
    }
    const passCounts = passMap.spilled ? recordView(() => passMap.records(), passMap) : passKept
    if (!store.spilled) store.release()
    if (!passMap.spilled) passMap.release()
    const report = buildReport({
      startedAt: new Date(this.#started),
      finishedAt: new Date(this.#finished),
      targets,
      rules,
      findings,
      passCounts,
      errors,
      skipped,
      attempts: this.#attempts,
      chaining: first.chaining && {
        mode: first.chaining.mode,
        chained: targets.filter((t) => t.chainedFrom).length,
        withheld: [...this.#withheld].map(([from, k]) => ({ from, targets: k })).sort((a, b) => cmp(a.from, b.from)),
      },
      scoreSettings: first.score.settings,
      tallied: { score, ...counts },
    })
    // What follows reads lists back (a spilled view may throw): the report's files, the card's scores too, go then.
    made.push({ release: () => releaseFindings(report) })
    // Incomplete when any part was, or when the union checked nothing (every shard empty or errored).
    const incomplete = [...this.#incomplete]
    const union = incompleteness({ attempts: this.#attempts, errors: report.summary.errors, skipped: report.skipped.filter((s) => s.rule === undefined).length, targets: report.targets.length, maxErrors: { percent: 100 } })
    for (const x of union) if (!incomplete.some((y) => y.reason === x.reason)) incomplete.push(x)
    return {
      ...report,
      complete: incomplete.length === 0,
      ...(incomplete.length ? { incomplete } : {}),
      ...(this.#baselineSource !== undefined ? { baseline: { source: this.#baselineSource, absent: this.#absent } } : {}),
      ...(expired.length ? { expiredSuppressions: expired } : {}),
    }
  }
}

type SarifRun = {
  tool: { driver: { rules?: { id: string }[] } & Record<string, unknown> }
  results?: ({ ruleId?: string; ruleIndex?: number; partialFingerprints?: Record<string, string>; baselineState?: string } & Record<string, unknown>)[]
  invocations?: { executionSuccessful?: boolean; toolExecutionNotifications?: unknown[] }[]
  properties?: { score?: ScoreCard; summary?: Record<string, unknown> } & Record<string, unknown>
} & Record<string, unknown>
type SarifLog = { version?: string; runs?: SarifRun[] } & Record<string, unknown>

/**
 * Merges SARIF logs written by ztscan (one run each) into one log with one run and one recomputed score. Kept within
 * GitHub's limits like `writeSarif` (`maxResults`, default 25,000; 10 MB gzip): what was grouped is said in the run's
 * notifications and passed to `note`.
 */
export function mergeSarif(logs: readonly unknown[], opts: SarifOptions & { readonly note?: (message: string) => void } = {}): Record<string, unknown> {
  const runs: SarifRun[] = []
  logs.forEach((l, i) => {
    validateSarifPart(l, `part ${i + 1}`)
    runs.push(...(l as SarifLog).runs!)
  })
  if (!runs.length) throw new InputError('merge', 'no SARIF runs to merge')
  const rules = new Map<string, { id: string }>()
  for (const r of runs) for (const rule of r.tool.driver.rules ?? []) rules.set(rule.id, rule)
  const ruleList = [...rules.values()].sort((a, b) => cmp(a.id, b.id))
  const index = new Map(ruleList.map((r, i) => [r.id, i]))
  const seen = new Set<string>()
  const results = []
  for (const r of runs)
    for (const res of r.results ?? []) {
      const key = `${res.partialFingerprints?.['ztscan/v1'] ?? JSON.stringify(res)}\0${res.baselineState ?? ''}`
      if (seen.has(key)) continue
      seen.add(key)
      results.push({ ...res, ...(res.ruleId && index.has(res.ruleId) ? { ruleIndex: index.get(res.ruleId) } : {}) })
    }
  const cards = runs.map((r) => r.properties?.score).filter((c): c is ScoreCard => !!c?.pillars && c.scoreVersion === SCORE_VERSION)
  if (cards.length !== runs.length) throw new InputError('merge', `every SARIF part needs a score of formula ${SCORE_VERSION} (run properties); re-run the shards with this ztscan`)
  const score = mergeScoreCards(cards)
  const titles = ruleList.map((r) => {
    const short = (r as { shortDescription?: { text?: unknown } }).shortDescription?.text
    return { id: r.id, ...(typeof short === 'string' ? { title: short } : {}) }
  })
  const fitted = groupSarifResults(results, titles, opts)
  const grouped = (fitted.outcome?.notes ?? []).map((text) => ({ level: 'warning', message: { text }, descriptor: { id: 'results-grouped' }, properties: { grouped: fitted.outcome!.grouped } }))
  for (const n of fitted.outcome?.notes ?? []) opts.note?.(n)
  const first = runs[0]!
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        ...first,
        tool: { driver: { ...first.tool.driver, rules: ruleList } },
        automationDetails: { id: String((first.automationDetails as { id?: string } | undefined)?.id ?? 'ztscan/').replace(/shard-[^/]+\/$/, '') },
        invocations: [
          {
            ...(first.invocations?.[0] ?? {}),
            // Successful only when every part was (a part without invocations does not say: not successful).
            executionSuccessful: runs.every((r) => r.invocations?.[0]?.executionSuccessful === true),
            toolExecutionNotifications: [...grouped, ...runs.flatMap((r) => r.invocations?.[0]?.toolExecutionNotifications ?? [])],
          },
        ],
        results: fitted.results,
        properties: { score },
      },
    ],
  }
}
