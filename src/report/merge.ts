/**
 * @fileoverview Joins shard reports into one. JSON parts merge into a full report (findings deduplicated by fingerprint and
 * status, score recomputed from the union, so it equals the unsharded scan's). SARIF parts merge into one SARIF run whose
 * score is re-scored from the parts' pillar sums, counts and caps (`mergeScoreCards`: SARIF holds no passing findings).
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { ValidateFunction } from 'ajv'
import { lazyRequire } from '../lib-lazy.ts'
import { InputError } from '../errors.ts'
import { toProblems } from '../lib-ajv.ts'
import { formatProblems } from '../errors.ts'
import { packageRoot } from '../rules/root.ts'
import { SCORE_VERSION, mergeScoreCards } from '../scoring/score.ts'
import type { AttemptError, AttemptSkip, EffectiveRule, Finding, Incompleteness, PassCount, ScanReport, ScoreCard } from '../types.ts'
import { buildReport, incompleteness } from './build.ts'
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

/** Merges JSON reports of shards into one report. */
export function mergeReports(parts: readonly ScanReport[]): ScanReport {
  if (!parts.length) throw new InputError('merge', 'no reports to merge')
  parts = parts.map((p, i) => validateReportPart(p, `part ${i + 1}`))
  const targets = new Map<string, ScanReport['targets'][number]>()
  const withheld = new Map<string, number>()
  const rules = new Map<string, EffectiveRule>()
  const findings = new Map<string, Finding>()
  // Shards never share a target, so a (rule, target, asset) count comes from one part; a part given twice counts once.
  const passes = new Map<string, PassCount>()
  const errors = new Map<string, AttemptError>()
  const skipped = new Map<string, AttemptSkip>()
  let attempts = 0
  for (const p of parts) {
    for (const t of p.targets) targets.set(t.id, t)
    for (const r of p.rules) rules.set(r.id, r)
    for (const f of p.findings) findings.set(`${f.fingerprint}\0${f.status}`, f)
    for (const c of p.passCounts ?? []) {
      const k = `${c.target}\0${c.ruleId}\0${c.asset ?? ''}`
      if ((passes.get(k)?.count ?? 0) < c.count) passes.set(k, c)
    }
    for (const e of p.errors) errors.set(`${e.target}\0${e.check}\0${e.message}`, e)
    for (const s of p.skipped) skipped.set(`${s.target}\0${s.check}\0${s.rule ?? ''}\0${s.why}`, s)
    for (const w of p.chaining?.withheld ?? []) withheld.set(w.from, (withheld.get(w.from) ?? 0) + w.targets)
    attempts += p.summary.attempts
  }
  const report = buildReport({
    startedAt: new Date(Math.min(...parts.map((p) => Date.parse(p.startedAt)))),
    finishedAt: new Date(Math.max(...parts.map((p) => Date.parse(p.finishedAt)))),
    targets: [...targets.values()].sort((a, b) => cmp(a.id, b.id)),
    rules: [...rules.values()].sort((a, b) => cmp(a.id, b.id)),
    findings: [...findings.values()].sort((a, b) => cmp(`${a.target}\0${a.ruleId}\0${a.resource}\0${a.status}`, `${b.target}\0${b.ruleId}\0${b.resource}\0${b.status}`)),
    passCounts: [...passes].sort((a, b) => cmp(a[0], b[0])).map(([, c]) => c),
    errors: [...errors.values()].sort((a, b) => cmp(`${a.target}\0${a.check}\0${a.message}`, `${b.target}\0${b.check}\0${b.message}`)),
    skipped: [...skipped.values()].sort((a, b) => cmp(`${a.target}\0${a.check}`, `${b.target}\0${b.check}`)),
    attempts,
    chaining: parts[0]!.chaining && {
      mode: parts[0]!.chaining.mode,
      chained: [...targets.values()].filter((t) => t.chainedFrom).length,
      withheld: [...withheld].map(([from, n]) => ({ from, targets: n })).sort((a, b) => cmp(a.from, b.from)),
    },
    scoreSettings: parts[0]!.score.settings,
  })
  // Incomplete when any part was, or when the union checked nothing (every shard empty or errored).
  const incomplete: Incompleteness[] = parts.flatMap((p, i) => (p.incomplete ?? []).map((x) => ({ reason: x.reason, message: `part ${i + 1}: ${x.message}` })))
  const union = incompleteness({ attempts, errors: report.summary.errors, skipped: report.skipped.filter((s) => s.rule === undefined).length, targets: report.targets.length, maxErrors: { percent: 100 } })
  for (const x of union) if (!incomplete.some((y) => y.reason === x.reason)) incomplete.push(x)
  const absent = parts.flatMap((p) => p.baseline?.absent ?? [])
  const expired = parts.flatMap((p) => p.expiredSuppressions ?? [])
  return {
    ...report,
    complete: incomplete.length === 0,
    ...(incomplete.length ? { incomplete } : {}),
    ...(parts.some((p) => p.baseline) ? { baseline: { source: parts.find((p) => p.baseline)!.baseline!.source, absent } } : {}),
    ...(expired.length ? { expiredSuppressions: expired } : {}),
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
