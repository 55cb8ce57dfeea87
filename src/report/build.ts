/**
 * @fileoverview Assembling a report from a scan's (or merged shards') findings, pass counts, errors and skips: suppressions
 * and the baseline applied, the summary counted, the score derived through src/scoring/. Used by the engine and by merge.
 */
import { applyBaseline, type Baseline } from './baseline.ts'
import { applySuppressions, type Suppression } from './suppress.ts'
import { scoreReport, type ScoreTally } from '../scoring/score.ts'
import { scoreDelta } from '../scoring/delta.ts'
import { SEVERITIES, type AbsentFinding, type AttemptError, type AttemptSkip, type EffectiveRule, type ExpiredSuppression, type Finding, type Incompleteness, type PassCount, type ScanReport, type ScoreSettings, type Severity } from '../types.ts'
import { VERSION } from '../version.ts'
import { releaseFindings } from '../engine/spill.ts'

/** An error budget: at most `count` errors, or at most `percent` % of the attempts. */
export type ErrorBudget = { readonly count: number } | { readonly percent: number }

/**
 * Why a scan is incomplete (empty when complete): aborted, more errors than the budget, or nothing checked (no attempt
 * produced a result — every one errored or was skipped, or no check applied to any target). A shard that drew no
 * targets is complete: the other shards cover them.
 */
export function incompleteness(p: {
  readonly attempts: number
  readonly errors: number
  readonly skipped: number
  readonly targets: number
  readonly aborted?: boolean
  readonly sharded?: boolean
  readonly maxErrors?: ErrorBudget
}): Incompleteness[] {
  const out: Incompleteness[] = []
  if (p.aborted) out.push({ reason: 'aborted', message: 'the scan was cancelled before every check ran' })
  const budget = p.maxErrors ?? { count: 0 }
  const over = 'count' in budget ? p.errors > budget.count : p.errors * 100 > budget.percent * p.attempts
  if (p.errors > 0 && over)
    out.push({ reason: 'errors', message: `${p.errors} of ${p.attempts} checks could not complete (maxErrors ${'count' in budget ? budget.count : `${budget.percent}%`})` })
  if (p.attempts - p.errors - p.skipped <= 0 && !(p.sharded && p.targets === 0))
    out.push({ reason: 'nothing-checked', message: p.attempts === 0 ? `no check applies to the ${p.targets} target(s) given` : 'no check produced a result' })
  return out
}

/** True for an empty list; a lazy view (spilled pass counts) is not counted for it, only started. */
const isEmpty = (list: Iterable<unknown>): boolean => (Array.isArray(list) ? list.length === 0 : !!list[Symbol.iterator]().next().done)

/** Adds a finding to the summary's counts: suppressed, else passed, else failed at its severity. */
export function countFinding(c: { passed: number; failed: Record<Severity, number>; suppressed: number }, f: Finding): void {
  if (f.suppression) c.suppressed++
  else if (f.status === 'pass') c.passed++
  else c.failed[f.severity]++
}

/** Assembles a report (score and summary derived from the findings and pass counts). Also used by `merge`. */
export function buildReport(p: {
  startedAt: Date
  finishedAt?: Date
  targets: ScanReport['targets']
  rules: readonly EffectiveRule[]
  findings: readonly Finding[]
  /** Set when suppressions and the baseline were already applied to `findings` (a scan applies them as findings arrive). */
  applied?: { readonly expired: readonly ExpiredSuppression[]; readonly absent?: readonly AbsentFinding[] }
  /** Passes counted rather than stored (summary and score count them like passing findings). */
  passCounts?: readonly PassCount[]
  errors: readonly AttemptError[]
  skipped: readonly AttemptSkip[]
  attempts: number
  shard?: string
  chaining?: ScanReport['chaining']
  suppressions?: readonly Suppression[]
  baseline?: Baseline
  /** The policy's `score` settings (target stages, weakest-pillar floor). */
  scoreSettings?: ScoreSettings
  now?: Date
  /** Why the scan is incomplete (see `incompleteness`); empty or absent: complete. */
  incomplete?: readonly Incompleteness[]
  /** Assets scored in memory before the per-asset scores spill (see `ScoreInput.memoryAssets`). */
  memoryAssets?: number
  /** Their byte budget (see `ScoreInput.memoryBytes`). */
  memoryBytes?: number
  /**
   * The score and the summary's counts, tallied while the findings (suppressions and baseline applied) and passes arrived
   * (a scan): the findings are then not read again here.
   */
  tallied?: { readonly score: ScoreTally; readonly passed: number; readonly failed: Readonly<Record<Severity, number>>; readonly suppressed: number }
}): ScanReport {
  let findings = p.findings
  let expired: readonly ExpiredSuppression[] = p.applied?.expired ?? []
  let absent: readonly AbsentFinding[] | undefined = p.applied?.absent
  if (!p.applied && p.suppressions?.length) ({ findings, expired } = applySuppressions(findings, p.suppressions, p.now ?? new Date()))
  if (!p.applied && p.baseline) ({ findings, absent } = applyBaseline(findings, p.baseline))
  const counts = { passed: 0, failed: Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>, suppressed: 0 }
  let card
  if (p.tallied) {
    counts.passed = p.tallied.passed
    counts.suppressed = p.tallied.suppressed
    Object.assign(counts.failed, p.tallied.failed)
    card = p.tallied.score.card(p.errors, p.skipped)
  } else {
    for (const f of findings) countFinding(counts, f)
    for (const c of p.passCounts ?? []) counts.passed += c.count
    card = scoreReport({ findings, passCounts: p.passCounts, errors: p.errors, skipped: p.skipped, rules: p.rules, settings: p.scoreSettings, memoryAssets: p.memoryAssets, memoryBytes: p.memoryBytes })
  }
  try {
    return assemble(p, findings, expired, absent, counts, p.baseline?.score ? { ...card, delta: scoreDelta(card, p.baseline.score, p.baseline.source) } : card)
  } catch (err) {
    // A spilled card's per-asset scores are a file nothing would release (the report is never returned).
    releaseFindings({ findings: [], score: card })
    throw err
  }
}

/** The report object of {@link buildReport} (`score` made: what follows may still throw, e.g. a spilled list read). */
function assemble(
  p: Parameters<typeof buildReport>[0],
  findings: readonly Finding[],
  expired: readonly ExpiredSuppression[],
  absent: readonly AbsentFinding[] | undefined,
  counts: { passed: number; failed: Record<Severity, number>; suppressed: number },
  score: ScanReport['score'],
): ScanReport {
  return {
    schemaVersion: '1.0',
    tool: { name: 'ztscan', version: VERSION },
    startedAt: p.startedAt.toISOString(),
    finishedAt: (p.finishedAt ?? new Date()).toISOString(),
    ...(p.shard ? { shard: p.shard } : {}),
    targets: p.targets,
    ...(p.chaining ? { chaining: p.chaining } : {}),
    rules: p.rules,
    findings,
    ...(p.passCounts && !isEmpty(p.passCounts) ? { passCounts: p.passCounts } : {}),
    errors: p.errors,
    skipped: p.skipped,
    score,
    summary: { targets: p.targets.length, attempts: p.attempts, passed: counts.passed, failed: counts.failed, suppressed: counts.suppressed, errors: p.errors.length, skipped: p.skipped.length },
    complete: !p.incomplete?.length,
    ...(p.incomplete?.length ? { incomplete: p.incomplete } : {}),
    ...(p.baseline ? { baseline: { source: p.baseline.source, absent: absent ?? [] } } : {}),
    ...(expired.length ? { expiredSuppressions: expired } : {}),
  }
}
