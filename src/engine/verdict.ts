/**
 * @fileoverview The gate's verdict on a finished report — the exit code the CLI returns, for library users too.
 */
import { gatingFindings } from '../plugins.ts'
import { atOrAbove } from '../scoring/severity.ts'
import { isOwnView } from './spill.ts'
import { SEVERITIES, type Finding, type Incompleteness, type ScanReport, type Severity } from '../types.ts'

/** Exit codes of the CLI (the README's "Exit codes" table). */
export const EXIT_CODES = {
  /** Complete, and nothing failed at or above --fail-on. */
  ok: 0,
  /** At least one failed finding (not suppressed) at or above --fail-on (new ones only with --fail-on-new). */
  findings: 1,
  /** Usage, configuration or input error, found before the first probe (the message names the file and field). */
  usage: 2,
  /** Internal error (a bug in ztscan). */
  internal: 3,
  /** Incomplete: more attempt errors than --max-errors, or nothing checked — and no gating finding. */
  incomplete: 4,
  /** Interrupted by SIGINT (a partial report marked incomplete was written). */
  sigint: 130,
  /** Terminated by SIGTERM (a partial report marked incomplete was written). */
  sigterm: 143,
} as const

/** What the gate decides. */
export interface Verdict {
  /** 0, 1 or 4 (see `EXIT_CODES`). */
  readonly exitCode: 0 | 1 | 4
  /** The findings that fail the gate. */
  readonly gating: readonly Finding[]
  readonly complete: boolean
  readonly incomplete: readonly Incompleteness[]
}

/**
 * The verdict on a report: 1 when findings fail the gate, else 4 when the scan was incomplete, else 0. Findings come
 * first: they are confirmed failures to fix whatever else went wrong, and either code fails a CI step. A report without
 * a `complete` field (written by an older ztscan) counts as incomplete.
 * @example
 * const v = verdict(await scan({ targets }), { failOn: 'high' })
 * process.exitCode = v.exitCode
 */
export function verdict(report: ScanReport, o: { failOn?: Severity | 'none'; newOnly?: boolean } = {}): Verdict {
  const failOn = o.failOn ?? 'high'
  const gating = gatingFindings(report, { failOn, newOnly: o.newOnly })
  const complete = report.complete === true
  const incomplete = complete ? [] : (report.incomplete ?? [{ reason: 'nothing-checked' as const, message: 'the report does not say whether the scan was complete' }])
  return { exitCode: failing(report, gating, failOn, o.newOnly) ? 1 : complete ? 0 : 4, gating, complete, incomplete }
}

/**
 * Whether any finding gates. A spilled scan's summary was counted from the same findings as they arrived (not
 * suppressed, failed, at its severity): it answers without reading the spill file back; `gating` stays a lazy view. Only
 * for the scan's own view: a filter of it that a caller put in a report is read.
 */
function failing(report: ScanReport, gating: readonly Finding[], failOn: Severity | 'none', newOnly: boolean | undefined): boolean {
  if (failOn === 'none') return false
  if (!newOnly && isOwnView(report.findings) && report.summary) return SEVERITIES.some((s) => atOrAbove(s, failOn) && report.summary.failed[s] > 0)
  return gating.length > 0
}
