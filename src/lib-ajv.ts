/**
 * @fileoverview One ajv instance for ztscan's own schemas, and ajv errors turned into file/field problems.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import type { FieldProblem } from './errors.ts'

/** Shared ajv: allErrors so every problem in a file is reported at once. */
export const ajv = new Ajv({ allErrors: true, strict: false })

const cache = new WeakMap<object, ValidateFunction>()

/** Compiles (once) and returns a validator for a schema object. */
export function validatorFor(schema: Record<string, unknown>): ValidateFunction {
  let v = cache.get(schema)
  if (!v) {
    v = ajv.compile(schema)
    cache.set(schema, v)
  }
  return v
}

function valueAt(root: unknown, pointer: string): unknown {
  if (!pointer) return root
  let cur: unknown = root
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~')
    if (cur === null || typeof cur !== 'object') return undefined
    // Own keys only: a pointer into untrusted data may name `__proto__` or `constructor`.
    cur = Object.hasOwn(cur, key) ? (cur as Record<string, unknown>)[key] : undefined
  }
  return cur
}

/** Turns ajv errors into `FieldProblem`s with a JSON pointer, what was expected and the value found. */
export function toProblems(errors: readonly ErrorObject[] | null | undefined, data: unknown, prefix = ''): FieldProblem[] {
  const out: FieldProblem[] = []
  for (const e of errors ?? []) {
    let pointer = prefix + e.instancePath
    let expected: string
    let actual: unknown = valueAt(data, e.instancePath)
    switch (e.keyword) {
      case 'required':
        pointer += `/${(e.params as { missingProperty: string }).missingProperty}`
        expected = 'a value (required)'
        actual = undefined
        break
      case 'additionalProperties':
        pointer += `/${(e.params as { additionalProperty: string }).additionalProperty}`
        expected = 'no such property (unknown field)'
        actual = undefined
        break
      case 'enum':
        expected = `one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => String(v)).join(', ')}`
        break
      case 'type':
        expected = `a value of type ${(e.params as { type: string }).type}`
        break
      default:
        expected = `a value that ${e.message ?? 'fits the schema'}`
    }
    out.push({ pointer, expected, actual })
  }
  return out
}
