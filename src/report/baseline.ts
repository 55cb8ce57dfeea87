/**
 * @fileoverview Baseline comparison against a previous JSON report or SARIF log: each failed finding becomes `new`,
 * `unchanged` (same fingerprint, same message and severity) or `updated` (same fingerprint, something changed); failed
 * findings of the baseline that are gone are listed as `absent`.
 */
import { InputError } from '../errors.ts'
import { MAX_REPORT_BYTES, readBounded } from '../lib-files.ts'
import { escapeControls } from './escape.ts'
import type { AbsentFinding, Finding } from '../types.ts'

/** What a baseline holds for comparison: failed findings by fingerprint. */
export interface Baseline {
  readonly source: string
  readonly failed: ReadonlyMap<string, { readonly ruleId: string; readonly target: string; readonly message: string; readonly severity?: string }>
}

interface SarifLike {
  runs?: { results?: { ruleId?: string; message?: { text?: string }; partialFingerprints?: Record<string, string>; properties?: { target?: string; severity?: string }; baselineState?: string }[] }[]
}

/** Builds a baseline from a parsed JSON report or SARIF log. */
export function baselineFrom(data: unknown, source = '<inline>'): Baseline {
  const failed = new Map<string, { ruleId: string; target: string; message: string; severity?: string }>()
  const d = data as { schemaVersion?: string; findings?: Finding[] } & SarifLike
  if (d && typeof d === 'object' && Array.isArray(d.findings) && typeof d.schemaVersion === 'string') {
    for (const f of d.findings) if (f.status === 'fail') failed.set(f.fingerprint, { ruleId: f.ruleId, target: f.target, message: f.message, severity: f.severity })
  } else if (d && typeof d === 'object' && Array.isArray(d.runs)) {
    for (const run of d.runs)
      for (const r of run.results ?? []) {
        if (r.baselineState === 'absent') continue
        const fp = r.partialFingerprints?.['ztscan/v1'] ?? r.partialFingerprints?.primaryLocationLineHash
        const target = r.properties?.target ?? ''
        // SARIF message text is "<message> [<target>]": compare on the message alone.
        const text = r.message?.text ?? ''
        const suffix = ` [${escapeControls(target, { multiline: true })}]`
        const message = target && text.endsWith(suffix) ? text.slice(0, -suffix.length) : text
        if (fp && r.ruleId) failed.set(fp, { ruleId: r.ruleId, target, message, severity: r.properties?.severity })
      }
  } else throw new InputError(source, 'not a ztscan JSON report or a SARIF log')
  return { source, failed }
}

/** Reads a baseline file (`.json` report or `.sarif`). */
export async function loadBaseline(path: string): Promise<Baseline> {
  let data: unknown
  try {
    data = JSON.parse((await readBounded(path, MAX_REPORT_BYTES)).toString('utf8'))
  } catch (err) {
    throw new InputError(path, `cannot read as JSON (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
  }
  return baselineFrom(data, path)
}

/** Marks failed findings new/unchanged/updated and lists the baseline's failed findings that are gone. */
export function applyBaseline(findings: readonly Finding[], baseline: Baseline): { findings: Finding[]; absent: AbsentFinding[] } {
  const seen = new Set<string>()
  const out = findings.map((f) => {
    if (f.status !== 'fail') return f
    const prev = baseline.failed.get(f.fingerprint)
    if (!prev) return { ...f, baselineState: 'new' as const }
    seen.add(f.fingerprint)
    // SARIF message text is escaped (escape.ts): compare escaped forms, so a SARIF and a JSON baseline agree.
    const same = escapeControls(prev.message, { multiline: true }) === escapeControls(f.message, { multiline: true }) && (prev.severity === undefined || prev.severity === f.severity)
    return { ...f, baselineState: same ? ('unchanged' as const) : ('updated' as const) }
  })
  const absent: AbsentFinding[] = []
  for (const [fingerprint, p] of baseline.failed) if (!seen.has(fingerprint)) absent.push({ fingerprint, ruleId: p.ruleId, target: p.target, message: p.message })
  absent.sort((a, b) => (a.fingerprint < b.fingerprint ? -1 : 1))
  return { findings: out, absent }
}
