/**
 * @fileoverview One ajv instance for ztscan's own schemas, and ajv errors turned into file/field problems.
 * ztscan's own schemas (src/own-schemas.ts) are compiled at build time (ajv standalone code in
 * dist/src/generated/validators.cjs, scripts/gen-validators.mjs), loaded with the first validator asked for (a command
 * that validates nothing, `ztscan rules`, loads neither them nor node:crypto); ajv itself loads only for a schema not
 * there (plugins). Source runs (vitest, tsx) have no such file and compile on first use.
 */
import { createRequire } from 'node:module'
import type { Ajv as AjvClass, ErrorObject, ValidateFunction } from 'ajv'
import type { FieldProblem } from './errors.ts'
import { lazyRequire } from './lib-lazy.ts'

/** The options every ztscan validator is compiled with (the generator uses the same). */
export const AJV_OPTIONS = { allErrors: true, strict: false } as const

const ajvModule = lazyRequire<typeof import('ajv')>('ajv')
const crypto = lazyRequire<typeof import('node:crypto')>('node:crypto')

let precompiled: Readonly<Record<string, ValidateFunction | undefined>> | undefined
/** The validators the build compiled, by schema key (none in source runs). */
function precompiledTable(): Readonly<Record<string, ValidateFunction | undefined>> {
  if (!precompiled) {
    try {
      precompiled = (createRequire(import.meta.url)('./generated/validators.cjs') as { PRECOMPILED: Record<string, ValidateFunction> }).PRECOMPILED
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw err
      precompiled = {}
    }
  }
  return precompiled
}
let shared: AjvClass | undefined
/** Shared ajv (allErrors so every problem in a file is reported at once), created on first use. */
export function ajv(): AjvClass {
  return (shared ??= new (ajvModule().Ajv)(AJV_OPTIONS))
}

/** The key of a schema in the precompiled table: a hash of its JSON text. */
export function schemaKey(schema: unknown): string {
  return crypto().createHash('sha256').update(JSON.stringify(schema)).digest('hex').slice(0, 24)
}

const cache = new WeakMap<object, ValidateFunction>()
let compiled = 0

/** How many schemas this process compiled with ajv at run time (not found precompiled). */
export function runtimeCompiles(): number {
  return compiled
}

/** Returns the validator for a schema object: precompiled when it is one of ztscan's own, else compiled (once). */
export function validatorFor(schema: Record<string, unknown>): ValidateFunction {
  let v = cache.get(schema)
  if (!v) {
    v = precompiledTable()[schemaKey(schema)]
    if (!v) {
      v = ajv().compile(schema)
      compiled++
    }
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
