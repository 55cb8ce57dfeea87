/**
 * @fileoverview Policy files (JSON or YAML): enable/disable rules, override severities and parameters.
 */
import { join } from 'node:path'
import { readFileSync } from 'node:fs'
import { readConfigFile } from '../lib-files.ts'
import { OptionsError, PolicyError, type FieldProblem } from '../errors.ts'
import { didYouMean } from '../lib-suggest.ts'
import { toProblems, validatorFor } from '../lib-ajv.ts'
import type { EffectiveRule, RuleMeta, ScoreSettings, Severity } from '../types.ts'
import { builtinRules } from './load.ts'
import { packageRoot } from './root.ts'

/** Per-rule overrides. */
export interface RulePolicy {
  readonly enabled?: boolean
  readonly severity?: Severity
  readonly parameters?: Readonly<Record<string, unknown>>
}

/** A validated policy. */
export interface Policy {
  /** Where it came from, for error messages (`<inline>` when built in code). */
  readonly source: string
  readonly rules: Readonly<Record<string, RulePolicy>>
  readonly families?: Readonly<Record<string, { readonly enabled?: boolean }>>
  /** Score settings: a target stage per pillar and the weakest-pillar floor (README "Score"). */
  readonly score?: ScoreSettings
  /** A selection on top of the rules' enabled state (`--severity`, `--only`, `--skip`): see `selectRules`. */
  readonly select?: RuleSelection
}

/**
 * Which rules run, on top of the policy: only rules at one of `severities` (their severity after the policy), only the
 * rules or families named in `only` (all when empty), none named in `skip`. Names are rule ids or family names.
 */
export interface RuleSelection {
  readonly severities?: readonly Severity[]
  readonly only?: readonly string[]
  readonly skip?: readonly string[]
}

/**
 * A policy with a selection added (`policy` may be undefined: the defaults). Every name in `only` and `skip` must be a
 * rule id or a family of `rules`; an unknown one is an OptionsError naming the option and the nearest known name.
 */
export function selectRules(policy: Policy | undefined, select: RuleSelection, rules: readonly RuleMeta[] = builtinRules()): Policy {
  const known = new Set([...rules.map((r) => r.id), ...rules.map((r) => r.family)])
  for (const key of ['only', 'skip'] as const)
    for (const name of select[key] ?? [])
      if (!known.has(name)) throw new OptionsError(key, `"${name}" is neither a rule id nor a family${didYouMean(name, known)} (ztscan rules lists them)`)
  return { ...(policy ?? { source: '<inline>', rules: {} }), select }
}

let policySchemaData: Record<string, unknown> | undefined
/** The policy file's JSON Schema (`rules/policy.schema.json`). */
export function policySchema(): Record<string, unknown> {
  return (policySchemaData ??= JSON.parse(readFileSync(join(packageRoot(), 'rules', 'policy.schema.json'), 'utf8')) as Record<string, unknown>)
}

/**
 * Validates a policy object against the policy schema and the rule catalogue: unknown rule ids, unknown parameters
 * and parameter values that do not fit the rule's parameter schema are errors naming the field.
 */
export function parsePolicy(data: unknown, source = '<inline>', rules: readonly RuleMeta[] = builtinRules()): Policy {
  const validate = validatorFor(policySchema())
  if (!validate(data)) throw new PolicyError(source, toProblems(validate.errors, data))
  const policy = data as { rules?: Record<string, RulePolicy>; families?: Record<string, { enabled?: boolean }>; score?: ScoreSettings }
  const byId = new Map(rules.map((r) => [r.id, r]))
  const problems: FieldProblem[] = []
  for (const [id, rp] of Object.entries(policy.rules ?? {})) {
    const rule = byId.get(id)
    if (!rule) {
      problems.push({ pointer: `/rules/${id}`, expected: `a known rule id (see \`ztscan rules\`)${didYouMean(id, byId.keys())}` })
      continue
    }
    for (const [name, value] of Object.entries(rp.parameters ?? {})) {
      const param = rule.parameters?.[name]
      if (!param) {
        const known = Object.keys(rule.parameters ?? {})
        problems.push({ pointer: `/rules/${id}/parameters/${name}`, expected: known.length ? `one of the rule's parameters: ${known.join(', ')}` : 'nothing: this rule has no parameters' })
        continue
      }
      const v = validatorFor(param.schema)
      if (!v(value)) problems.push(...toProblems(v.errors, value, `/rules/${id}/parameters/${name}`))
    }
  }
  if (problems.length) throw new PolicyError(source, problems)
  return { source, rules: policy.rules ?? {}, families: policy.families, ...(policy.score ? { score: policy.score } : {}) }
}

/** Reads a policy file (`.json`, `.yaml`, `.yml`) and validates it. */
export async function loadPolicy(path: string, rules?: readonly RuleMeta[]): Promise<Policy> {
  const data = await readConfigFile(path, (expected) => new PolicyError(path, [{ pointer: '', expected }]))
  return parsePolicy(data ?? {}, path, rules)
}

/** Applies a policy to rule metadata: the rules in force for a scan. */
export function effectiveRules(rules: readonly RuleMeta[], policy?: Policy): EffectiveRule[] {
  return rules.map((r) => {
    const rp = policy?.rules[r.id]
    const familyOn = policy?.families?.[r.family]?.enabled ?? true
    const values: Record<string, unknown> = {}
    for (const [name, p] of Object.entries(r.parameters ?? {})) values[name] = rp?.parameters && name in rp.parameters ? rp.parameters[name] : p.default
    const severity = rp?.severity ?? r.severity
    const sel = policy?.select
    const named = (list: readonly string[] | undefined): boolean => !!list?.some((n) => n === r.id || n === r.family)
    const selected = (!sel?.only?.length || named(sel.only)) && !named(sel?.skip) && (!sel?.severities?.length || sel.severities.includes(severity))
    return { ...r, severity, enabled: familyOn && (rp?.enabled ?? true) && selected, values }
  })
}
