/**
 * @fileoverview Policy files (JSON or YAML): enable/disable rules, override severities and parameters.
 */
import { join } from 'node:path'
import { readFileSync } from 'node:fs'
import { readConfigFile } from '../lib-files.ts'
import { PolicyError, type FieldProblem } from '../errors.ts'
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
}

let policySchema: Record<string, unknown> | undefined
function schema(): Record<string, unknown> {
  return (policySchema ??= JSON.parse(readFileSync(join(packageRoot(), 'rules', 'policy.schema.json'), 'utf8')) as Record<string, unknown>)
}

/**
 * Validates a policy object against the policy schema and the rule catalogue: unknown rule ids, unknown parameters
 * and parameter values that do not fit the rule's parameter schema are errors naming the field.
 */
export function parsePolicy(data: unknown, source = '<inline>', rules: readonly RuleMeta[] = builtinRules()): Policy {
  const validate = validatorFor(schema())
  if (!validate(data)) throw new PolicyError(source, toProblems(validate.errors, data))
  const policy = data as { rules?: Record<string, RulePolicy>; families?: Record<string, { enabled?: boolean }>; score?: ScoreSettings }
  const byId = new Map(rules.map((r) => [r.id, r]))
  const problems: FieldProblem[] = []
  for (const [id, rp] of Object.entries(policy.rules ?? {})) {
    const rule = byId.get(id)
    if (!rule) {
      problems.push({ pointer: `/rules/${id}`, expected: 'a known rule id (see `ztscan rules`)' })
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
    return { ...r, severity: rp?.severity ?? r.severity, enabled: familyOn && (rp?.enabled ?? true), values }
  })
}
