/**
 * @fileoverview Baseline comparison against a previous JSON report or SARIF log: each failed finding becomes `new`,
 * `unchanged` (same fingerprint, same message and severity) or `updated` (same fingerprint, something changed); failed
 * findings of the baseline that are gone are listed as `absent`.
 */
import { InputError } from '../errors.ts'
import { FileError, MAX_REPORT_BYTES, MAX_STREAM_BYTES, fileChunks, readBounded } from '../lib-files.ts'
import { JsonStreamError, readJsonEntries } from '../lib-json-stream.ts'
import { escapeControls } from './escape.ts'
import { parseConfigText } from '../engine/redact.ts'
import { PILLARS, SEVERITIES, type AbsentFinding, type AttemptError, type AttemptSkip, type Finding, type PassCount, type RuleMeta, type ScoreCard } from '../types.ts'
import { SCORE_VERSION, scoreReport, scoreTally, type ScoreTally } from '../scoring/score.ts'
import { DEFAULT_MEMORY_RECORDS, SpillStore } from '../engine/spill.ts'

/** What a baseline holds for comparison: failed findings by fingerprint. */
export interface Baseline {
  readonly source: string
  readonly failed: ReadonlyMap<string, { readonly ruleId: string; readonly target: string; readonly message: string; readonly severity?: string }>
  /**
   * The baseline's score with this ztscan's formula: a JSON report is re-scored from its findings; a SARIF log's run
   * properties are used when their `scoreVersion` matches. Absent otherwise (no delta is shown).
   */
  readonly score?: ScoreCard
}

const isStr = (x: unknown): x is string => typeof x === 'string'
const isObject = (x: unknown): x is Record<string, unknown> => !!x && typeof x === 'object' && !Array.isArray(x)
/** The entries of `xs` (when an array) that are objects passing `pred`. */
const okList = <T>(xs: unknown, pred: (x: Record<string, unknown>) => boolean): T[] =>
  Array.isArray(xs) ? (xs.filter((x) => isObject(x) && pred(x)) as T[]) : []
// Well-formed parts of a baseline JSON report, the only ones re-scored (a baseline file is untrusted input).
const okFinding = (f: Record<string, unknown>): boolean =>
  (f.status === 'pass' || f.status === 'fail') && PILLARS.includes(f.pillar as never) && SEVERITIES.includes(f.severity as never) &&
  isStr(f.ruleId) && isStr(f.target) && isStr(f.resource) && isStr(f.family) && isStr(f.fingerprint) && (f.asset === undefined || isStr(f.asset)) &&
  (f.suppression === undefined || (typeof f.suppression === 'object' && f.suppression !== null && isStr((f.suppression as { reason?: unknown }).reason)))
const okRule = (r: Record<string, unknown>): boolean => isStr(r.id) && isStr(r.family) && PILLARS.includes(r.pillar as never) && SEVERITIES.includes(r.severity as never) &&
  (r.functions === undefined || (Array.isArray(r.functions) && r.functions.every(isStr))) && (r.population === undefined || isStr(r.population))
const okError = (e: Record<string, unknown>): boolean => isStr(e.check) && isStr(e.family) && isStr(e.target) && isStr(e.reason)
const okSkip = (s: Record<string, unknown>): boolean => isStr(s.check) && isStr(s.family) && isStr(s.target) && isStr(s.why)
// Passes counted rather than stored (a report without --include-passed): the score counts them as its own card did.
const okPass = (c: Record<string, unknown>): boolean =>
  isStr(c.ruleId) && isStr(c.target) && (c.asset === undefined || isStr(c.asset)) && Number.isSafeInteger(c.count) && (c.count as number) >= 0

/** Re-scores a baseline JSON report; its well-formed findings only. */
function rescore(d: { findings: unknown[]; passCounts?: unknown; rules?: unknown; errors?: unknown; skipped?: unknown; score?: { settings?: unknown } }): ScoreCard | undefined {
  const st = d.score?.settings as { targets?: unknown; weakestPillarFloor?: unknown } | undefined
  const settings = { ...(st?.weakestPillarFloor === true ? { weakestPillarFloor: true } : {}) }
  return scoreReport({ findings: okList<Finding>(d.findings, okFinding), passCounts: okList<PassCount>(d.passCounts, okPass), rules: okList<RuleMeta>(d.rules, okRule), errors: okList<AttemptError>(d.errors, okError), skipped: okList<AttemptSkip>(d.skipped, okSkip), settings })
}

/**
 * Builds a baseline from a parsed JSON report or SARIF log. Throws an `InputError` naming `source` and the first field
 * that does not fit (a `null` finding, a run that is not an object, a fingerprint that is not a string).
 */
export function baselineFrom(data: unknown, source = '<inline>'): Baseline {
  const failed = new Map<string, { ruleId: string; target: string; message: string; severity?: string }>()
  const bad = (pointer: string, expected: string): never => {
    throw new InputError(source, `${pointer}: expected ${expected}`)
  }
  const str = (v: unknown): v is string => typeof v === 'string'
  let score: ScoreCard | undefined
  if (isObject(data) && Array.isArray(data.findings) && str(data.schemaVersion)) {
    data.findings.forEach((f: unknown, i) => {
      const problem = findingProblem(f, i)
      if (problem !== undefined) throw new InputError(source, problem)
      const x = f as Record<string, unknown>
      if (x.status === 'fail') failed.set(x.fingerprint as string, { ruleId: x.ruleId as string, target: x.target as string, message: x.message as string, severity: x.severity as string | undefined })
    })
    score = rescore(data as Parameters<typeof rescore>[0])
  } else if (isObject(data) && Array.isArray(data.runs)) {
    const card = (data.runs[0] as { properties?: { score?: ScoreCard } } | undefined)?.properties?.score
    if (data.runs.length === 1 && isObject(card) && card.scoreVersion === SCORE_VERSION && isObject(card.pillars)) score = card
    data.runs.forEach((run: unknown, i) => {
      if (!isObject(run)) bad(`/runs/${i}`, 'a run object')
      const results = (run as Record<string, unknown>).results
      if (results === undefined) return
      if (!Array.isArray(results)) bad(`/runs/${i}/results`, 'an array')
      ;(results as unknown[]).forEach((r, j) => {
        const at = `/runs/${i}/results/${j}`
        if (!isObject(r)) bad(at, 'a result object')
        const x = r as Record<string, unknown>
        if (x.baselineState === 'absent') return
        const pf = x.partialFingerprints
        if (pf !== undefined && !isObject(pf)) bad(`${at}/partialFingerprints`, 'an object')
        const props = x.properties
        if (props !== undefined && !isObject(props)) bad(`${at}/properties`, 'an object')
        const msg = x.message
        if (msg !== undefined && !isObject(msg)) bad(`${at}/message`, 'an object')
        const fp = (pf as Record<string, unknown> | undefined)?.['ztscan/v1'] ?? (pf as Record<string, unknown> | undefined)?.primaryLocationLineHash
        const target = (props as Record<string, unknown> | undefined)?.target ?? ''
        const text = (msg as Record<string, unknown> | undefined)?.text ?? ''
        const severity = (props as Record<string, unknown> | undefined)?.severity
        if (fp !== undefined && !str(fp)) bad(`${at}/partialFingerprints`, 'string fingerprints')
        if (!str(target)) bad(`${at}/properties/target`, 'a string')
        if (!str(text)) bad(`${at}/message/text`, 'a string')
        if (x.ruleId !== undefined && !str(x.ruleId)) bad(`${at}/ruleId`, 'a string')
        if (severity !== undefined && !str(severity)) bad(`${at}/properties/severity`, 'a string')
        // SARIF message text is "<message> [<target>]": compare on the message alone.
        const t = target as string
        const suffix = ` [${escapeControls(t, { multiline: true })}]`
        const message = t && (text as string).endsWith(suffix) ? (text as string).slice(0, -suffix.length) : (text as string)
        if (fp && x.ruleId) failed.set(fp as string, { ruleId: x.ruleId as string, target: t, message, severity: severity as string | undefined })
      })
    })
  } else throw new InputError(source, '/: expected a ztscan JSON report or a SARIF log')
  return { source, failed, ...(score ? { score } : {}) }
}

/**
 * Reads a baseline file (`.json` report or `.sarif`). A JSON report is streamed (`streamBaseline`: any size, memory
 * bounded by its failed findings' keys); a SARIF log is read whole, at most MAX_REPORT_BYTES.
 */
export async function loadBaseline(path: string): Promise<Baseline> {
  const streamed = await streamBaseline(path)
  if (streamed) return streamed
  let text: string
  try {
    text = (await readBounded(path, MAX_REPORT_BYTES)).toString('utf8')
  } catch (err) {
    throw new InputError(path, (err as Error).message)
  }
  return baselineFrom(parseConfigText(text, 'json', (expected) => new InputError(path, `/: expected ${expected}`)), path)
}

/** The first problem of a finding of a JSON report baseline (`/findings/i/...: expected ...`), or undefined. */
function findingProblem(f: unknown, i: number): string | undefined {
  if (!isObject(f)) return `/findings/${i}: expected a finding object`
  for (const k of ['status', 'fingerprint', 'ruleId', 'target', 'message'] as const) if (!isStr(f[k])) return `/findings/${i}/${k}: expected a string`
  if (f.severity !== undefined && !isStr(f.severity)) return `/findings/${i}/severity: expected a string`
  return undefined
}

/** The one key of a store that keeps records in the order added (equal keys keep it). */
const IN_ORDER = '-'

/** Thrown from the stream's callback at a SARIF log's first run: `loadBaseline` reads the log whole, bounded as before. */
const SARIF_LOG = Symbol('SARIF log')

/**
 * A JSON report baseline read as a stream: any size that fits on disk, in memory bounded by its failed findings' keys (the
 * score's per-asset tallies, errored targets, errors and skips spill to temporary files past 20,000 of each). Each finding is checked and tallied
 * as it is read, and so is each counted pass (`passCounts`); `score.assets` is only scanned. Undefined when the file is not a ztscan JSON report (a
 * SARIF log: known at its first run, so the stream stops there instead of scanning the whole log only for the whole-file read to
 * refuse it past MAX_REPORT_BYTES) or not JSON at all: `loadBaseline` then reads it whole, as before. `rulesFirst`: the report's rules when they
 * come after its findings (a second pass).
 */
async function streamBaseline(path: string, rulesFirst?: RuleMeta[]): Promise<Baseline | undefined> {
  const failed = new Map<string, { ruleId: string; target: string; message: string; severity?: string }>()
  let schemaVersion: unknown
  let rules = rulesFirst
  let rulesLate = false
  // Errors and skips in the order read, for the card: past the record budget they spill (one key: the order is kept).
  const errors = new SpillStore<AttemptError>(DEFAULT_MEMORY_RECORDS)
  const skipped = new SpillStore<AttemptSkip>(DEFAULT_MEMORY_RECORDS)
  // The tally reads its settings only for the card, at the end: `score.settings` comes after the findings in a report.
  const settings: { weakestPillarFloor?: true } = {}
  let tally: ScoreTally | undefined
  let problem: string | undefined
  let isReport = false
  try {
    const summary = await readJsonEntries(
      fileChunks(path, MAX_STREAM_BYTES),
      { arrays: [['findings'], ['errors'], ['skipped'], ['runs'], ['passCounts'], ['score', 'assets']], skip: [['score', 'assets']], bare: false },
      (value, i, pointer) => {
        // Runs make a SARIF log, unless a report's schemaVersion came first (then they are not read, as baselineFrom).
        if (pointer === '/runs') {
          if (!isStr(schemaVersion)) throw SARIF_LOG
          return
        }
        if (problem !== undefined) return
        if (pointer === '/findings') {
          problem = findingProblem(value, i)
          if (problem !== undefined) return
          const x = value as Record<string, unknown>
          if (x.status === 'fail') failed.set(x.fingerprint as string, { ruleId: x.ruleId as string, target: x.target as string, message: x.message as string, severity: x.severity as string | undefined })
          if (!okFinding(x)) return
          tally ??= scoreTally({ rules: rules ?? [], settings })
          tally.finding(x as unknown as Finding)
        } else if (pointer === '/passCounts') {
          if (!isObject(value) || !okPass(value)) return
          tally ??= scoreTally({ rules: rules ?? [], settings })
          tally.passes(value as unknown as PassCount)
        } else if (pointer === '/errors') {
          if (isObject(value) && okError(value)) errors.add(value as unknown as AttemptError, IN_ORDER)
        } else if (pointer === '/skipped' && isObject(value) && okSkip(value)) skipped.add(value as unknown as AttemptSkip, IN_ORDER)
      },
      (pointer, value) => {
        if (pointer === '/schemaVersion') schemaVersion = value
        else if (pointer === '/rules' && !rulesFirst) {
          if (tally) rulesLate = true
          rules = okList<RuleMeta>(value, okRule)
        } else if (pointer === '/score/settings' && (value as { weakestPillarFloor?: unknown } | null)?.weakestPillarFloor === true) settings.weakestPillarFloor = true
      },
    )
    isReport = summary.counts.has('/findings') && isStr(schemaVersion)
    if (isReport && problem !== undefined) throw new InputError(path, problem)
    if (isReport && rulesLate) {
      tally!.release()
      tally = undefined
      return await streamBaseline(path, rules)
    }
    if (!isReport) return undefined
    const score = (tally ?? scoreTally({ rules: rules ?? [], settings })).card(errors.finish(), skipped.finish())
    tally = undefined
    return { source: path, failed, score }
  } catch (err) {
    if (err === SARIF_LOG) return undefined
    if (err instanceof FileError) throw new InputError(path, err.message)
    if (err instanceof JsonStreamError) {
      // A SARIF log's run beyond the stream's entry bound (one run of many results): the whole-file read's to judge.
      if (err.pointer.startsWith('/runs/') && !isStr(schemaVersion)) return undefined
      // Not JSON: read whole for the message it always had (redacted, line and column), unless too large to.
      if (err.syntax && err.offset <= MAX_REPORT_BYTES) return undefined
      throw new InputError(path, err.syntax ? `/: expected valid JSON (${err.pointer || '/'}, at byte ${err.offset})` : err.message)
    }
    throw err
  } finally {
    tally?.release()
    errors.release()
    skipped.release()
  }
}

/**
 * Marks failed findings new/unchanged/updated one at a time (a scan marks them as they arrive); `absent()` lists the
 * baseline's failed findings not seen.
 */
export function baselineMarker(baseline: Baseline): { apply(f: Finding): Finding; absent(): AbsentFinding[] } {
  const seen = new Set<string>()
  return {
    apply(f) {
      if (f.status !== 'fail') return f
      const prev = baseline.failed.get(f.fingerprint)
      if (!prev) return { ...f, baselineState: 'new' as const }
      seen.add(f.fingerprint)
      // SARIF message text is escaped (escape.ts): compare escaped forms, so a SARIF and a JSON baseline agree.
      const same = escapeControls(prev.message, { multiline: true }) === escapeControls(f.message, { multiline: true }) && (prev.severity === undefined || prev.severity === f.severity)
      return { ...f, baselineState: same ? ('unchanged' as const) : ('updated' as const) }
    },
    absent() {
      const absent: AbsentFinding[] = []
      for (const [fingerprint, p] of baseline.failed) if (!seen.has(fingerprint)) absent.push({ fingerprint, ruleId: p.ruleId, target: p.target, message: p.message })
      return absent.sort((a, b) => (a.fingerprint < b.fingerprint ? -1 : 1))
    },
  }
}

/** Marks failed findings new/unchanged/updated and lists the baseline's failed findings that are gone. */
export function applyBaseline(findings: readonly Finding[], baseline: Baseline): { findings: Finding[]; absent: AbsentFinding[] } {
  const m = baselineMarker(baseline)
  return { findings: findings.map((f) => m.apply(f)), absent: m.absent() }
}
