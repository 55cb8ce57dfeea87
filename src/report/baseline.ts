/**
 * @fileoverview Baseline comparison against a previous JSON report or SARIF log: each failed finding becomes `new`,
 * `unchanged` (same fingerprint, same message and severity) or `updated` (same fingerprint, something changed); failed
 * findings of the baseline that are gone are listed as `absent`.
 */
import { InputError } from '../errors.ts'
import { MAX_REPORT_BYTES, readBounded } from '../lib-files.ts'
import { escapeControls } from './escape.ts'
import { parseConfigText } from '../engine/redact.ts'
import { PILLARS, SEVERITIES, type AbsentFinding, type AttemptError, type AttemptSkip, type Finding, type RuleMeta, type ScoreCard } from '../types.ts'
import { SCORE_VERSION, scoreReport } from '../scoring/score.ts'

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
/** Re-scores a baseline JSON report; its well-formed findings only (a baseline file is untrusted input). */
function rescore(d: { findings: unknown[]; rules?: unknown; errors?: unknown; skipped?: unknown; score?: { settings?: unknown } }): ScoreCard | undefined {
  const ok = <T>(xs: unknown, pred: (x: Record<string, unknown>) => boolean): T[] =>
    Array.isArray(xs) ? (xs.filter((x) => x && typeof x === 'object' && pred(x as Record<string, unknown>)) as T[]) : []
  const findings = ok<Finding>(d.findings, (f) =>
    (f.status === 'pass' || f.status === 'fail') && PILLARS.includes(f.pillar as never) && SEVERITIES.includes(f.severity as never) &&
    isStr(f.ruleId) && isStr(f.target) && isStr(f.resource) && isStr(f.family) && isStr(f.fingerprint) && (f.asset === undefined || isStr(f.asset)) &&
    (f.suppression === undefined || (typeof f.suppression === 'object' && f.suppression !== null && isStr((f.suppression as { reason?: unknown }).reason))))
  const rules = ok<RuleMeta>(d.rules, (r) => isStr(r.id) && isStr(r.family) && PILLARS.includes(r.pillar as never) && SEVERITIES.includes(r.severity as never) &&
    (r.functions === undefined || (Array.isArray(r.functions) && r.functions.every(isStr))) && (r.population === undefined || isStr(r.population)))
  const errors = ok<AttemptError>(d.errors, (e) => isStr(e.check) && isStr(e.family) && isStr(e.target) && isStr(e.reason))
  const skipped = ok<AttemptSkip>(d.skipped, (s) => isStr(s.check) && isStr(s.family) && isStr(s.target) && isStr(s.why))
  const st = d.score?.settings as { targets?: unknown; weakestPillarFloor?: unknown } | undefined
  const settings = { ...(st?.weakestPillarFloor === true ? { weakestPillarFloor: true } : {}) }
  return scoreReport({ findings, rules, errors, skipped, settings })
}

const isObject = (x: unknown): x is Record<string, unknown> => !!x && typeof x === 'object' && !Array.isArray(x)

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
      if (!isObject(f)) bad(`/findings/${i}`, 'a finding object')
      const x = f as Record<string, unknown>
      for (const k of ['status', 'fingerprint', 'ruleId', 'target', 'message'] as const) if (!str(x[k])) bad(`/findings/${i}/${k}`, 'a string')
      if (x.severity !== undefined && !str(x.severity)) bad(`/findings/${i}/severity`, 'a string')
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

/** Reads a baseline file (`.json` report or `.sarif`). */
export async function loadBaseline(path: string): Promise<Baseline> {
  let text: string
  try {
    text = (await readBounded(path, MAX_REPORT_BYTES)).toString('utf8')
  } catch (err) {
    throw new InputError(path, (err as Error).message)
  }
  return baselineFrom(parseConfigText(text, 'json', (expected) => new InputError(path, `/: expected ${expected}`)), path)
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
