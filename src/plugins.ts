/**
 * @fileoverview Loading third-party check plugins and ztscan's own input files for the CLI and for library users alike.
 */
import { isAbsolute, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { CheckDefinition, Family } from './engine/check.ts'
import { InputError } from './errors.ts'
import { readConfigFile } from './lib-files.ts'
import { atOrAbove } from './scoring/severity.ts'
import type { Finding, RuleMeta, ScanReport, Severity, Target } from './types.ts'

type PluginModule = { checks?: unknown; rules?: unknown; families?: unknown }

/**
 * Loads plugins: ES modules exporting `families` (from `defineFamily`: target schemes, settings, checks, demo), `checks`
 * (CheckDefinition[]) and `rules` (RuleMeta[]), or a default export with them. `checks` holds the families' checks too.
 */
export async function loadPlugins(specs: readonly string[]): Promise<{ checks: CheckDefinition[]; rules: RuleMeta[]; families: Family[] }> {
  const out = { checks: [] as CheckDefinition[], rules: [] as RuleMeta[], families: [] as Family[] }
  for (const spec of specs) {
    let mod: PluginModule & { default?: PluginModule }
    try {
      mod = await import(/^[./]/.test(spec) || isAbsolute(spec) ? pathToFileURL(resolve(spec)).href : spec)
    } catch (err) {
      throw new InputError(spec, `cannot load the plugin (${(err as Error).message})`)
    }
    const p = mod.default ?? mod
    if (p.families !== undefined && !Array.isArray(p.families)) throw new InputError(spec, 'expected the export "families" to be an array of families (defineFamily)')
    if (p.checks !== undefined && !Array.isArray(p.checks)) throw new InputError(spec, 'expected the export "checks" to be an array of checks')
    if (p.families === undefined && p.checks === undefined) throw new InputError(spec, 'expected an export "families" (defineFamily) or "checks" (an array of checks)')
    const families = (p.families ?? []) as Family[]
    const checks = [...families.flatMap((f) => f.checks), ...((p.checks ?? []) as CheckDefinition[])]
    out.families.push(...families)
    out.checks.push(...new Set(checks))
    out.rules.push(...((p.rules ?? []) as RuleMeta[]))
  }
  return out
}

/** Reads a targets file: a YAML/JSON list of targets, or `{ targets: [...], settings: {...} }`. */
export async function loadTargetsFile(path: string): Promise<{ targets: (Target | string)[]; settings: Record<string, unknown> }> {
  const data = await readConfigFile(path, (expected) => new InputError(path, `/: expected ${expected}`))
  if (Array.isArray(data)) return { targets: data as (Target | string)[], settings: {} }
  if (data && typeof data === 'object' && Array.isArray((data as { targets?: unknown }).targets)) {
    const d = data as { targets: (Target | string)[]; settings?: Record<string, unknown> }
    return { targets: d.targets, settings: d.settings ?? {} }
  }
  throw new InputError(path, '/: expected a list of targets or an object with a "targets" list')
}

/**
 * The failed findings that fail a CI gate: not suppressed, at or above `failOn` (`none` never fails) and, with `newOnly`,
 * new against the baseline. The CLI exits 1 when this is not empty.
 */
export function gatingFindings(report: ScanReport, o: { failOn: Severity | 'none'; newOnly?: boolean }): Finding[] {
  if (o.failOn === 'none') return []
  const failOn = o.failOn
  return report.findings.filter((f) => f.status === 'fail' && !f.suppression && atOrAbove(f.severity, failOn) && (!o.newOnly || f.baselineState === 'new'))
}
