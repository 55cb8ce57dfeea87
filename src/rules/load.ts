/**
 * @fileoverview Loads rule metadata from `rules/*.json`, validated with ajv against `rules/schema.json`.
 */
import { readFileSync, readdirSync } from 'node:fs'
import { basename, join, relative } from 'node:path'
import { RuleFileError, type FieldProblem } from '../errors.ts'
import { toProblems, validatorFor } from '../lib-ajv.ts'
import type { RuleMeta } from '../types.ts'
import { packageRoot } from './root.ts'
import { BUILTIN_RULES } from '../generated/rules.ts'

const SCHEMA_FILES = new Set(['schema.json', 'policy.schema.json'])

let ruleSchemaData: Record<string, unknown> | undefined
/** The rule files' JSON Schema (`rules/schema.json`). */
export function ruleSchema(): Record<string, unknown> {
  return (ruleSchemaData ??= JSON.parse(readFileSync(join(packageRoot(), 'rules', 'schema.json'), 'utf8')) as Record<string, unknown>)
}

function display(file: string): string {
  const rel = relative(packageRoot(), file)
  return rel.startsWith('..') ? file : rel
}

/**
 * Validates one rule object. `file` names it in errors; when given, the rule's id must equal the file's base name.
 * Also checks each parameter default against the parameter's own schema.
 */
export function validateRule(data: unknown, file: string): RuleMeta {
  const validate = validatorFor(ruleSchema())
  const problems: FieldProblem[] = []
  if (!validate(data)) problems.push(...toProblems(validate.errors, data))
  else {
    const rule = data as unknown as RuleMeta
    const stem = basename(file, '.json')
    if (file.endsWith('.json') && rule.id !== stem) problems.push({ pointer: '/id', expected: `the file name "${stem}"`, actual: rule.id })
    if (!rule.id.startsWith(`${rule.family}-`)) problems.push({ pointer: '/id', expected: `an id starting with the family "${rule.family}-"`, actual: rule.id })
    for (const [name, p] of Object.entries(rule.parameters ?? {})) {
      let v
      try {
        v = validatorFor(p.schema)
      } catch (err) {
        problems.push({ pointer: `/parameters/${name}/schema`, expected: `a valid JSON Schema (${(err as Error).message})` })
        continue
      }
      if (!v(p.default)) problems.push(...toProblems(v.errors, p.default, `/parameters/${name}/default`))
    }
  }
  if (problems.length) throw new RuleFileError(display(file), problems)
  return data as RuleMeta
}

/** Reads and validates every rule file in a folder (default: the package's `rules/`). */
export function loadRules(dir: string = join(packageRoot(), 'rules')): RuleMeta[] {
  const out: RuleMeta[] = []
  for (const name of readdirSync(dir).sort()) {
    if (!name.endsWith('.json') || SCHEMA_FILES.has(name)) continue
    const file = join(dir, name)
    let data: unknown
    try {
      data = JSON.parse(readFileSync(file, 'utf8'))
    } catch (err) {
      throw new RuleFileError(display(file), [{ pointer: '', expected: `valid JSON (${(err as Error).message})` }])
    }
    out.push(validateRule(data, file))
  }
  return out
}

let builtin: readonly RuleMeta[] | undefined
/** The built-in rules, loaded once per process: validated at build time (dist), else read and validated now. */
export function builtinRules(): readonly RuleMeta[] {
  return (builtin ??= Object.freeze(BUILTIN_RULES ? [...BUILTIN_RULES] : loadRules()))
}

/** The rule catalogue of a scan: the built-in rules and plugin rules (validated like `rules/*.json`). */
export function catalogueWith(extra: readonly RuleMeta[] = []): readonly RuleMeta[] {
  return extra.length ? [...builtinRules(), ...extra.map((r) => validateRule(r, `plugin rule ${(r as { id?: string }).id ?? '?'}`))] : builtinRules()
}
