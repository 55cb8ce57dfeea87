// Build step (npm run build, after tsc): compiles ztscan's own JSON Schemas (src/own-schemas.ts) ahead with ajv's
// standalone code into dist/src/generated/validators.cjs (CommonJS: src/lib-ajv.ts requires it with the first validator
// asked for, so a command that validates nothing loads none of it), so start-up compiles no schema (issue 14.6). Source
// runs (vitest, tsx) have no such file and compile on first use.
import { writeFileSync } from 'node:fs'
import process from 'node:process'
import { URL } from 'node:url'
import { Ajv } from 'ajv'
import standalone from 'ajv/dist/standalone/index.js'

const dist = new URL('../dist/', import.meta.url)
const { AJV_OPTIONS, schemaKey } = await import(new URL('src/lib-ajv.js', dist).href)
const { ownSchemas } = await import(new URL('src/own-schemas.js', dist).href)

const ajv = new Ajv({ ...AJV_OPTIONS, code: { source: true, esm: false, lines: false } })
const exports = {}
const keys = new Map()
for (const schema of ownSchemas()) {
  const key = schemaKey(schema)
  if (keys.has(key)) continue
  const name = `v${keys.size}`
  keys.set(key, name)
  // Each schema is added under its key; its own $id would clash between copies (and $schema is the default draft).
  const { $id: _id, $schema: _schema, ...body } = schema
  ajv.addSchema(body, key)
  exports[name] = key
}
const code = standalone.default(ajv, exports)
const table = [...keys].map(([key, name]) => `  '${key}': exports.${name},`).join('\n')
const out = new URL('src/generated/validators.cjs', dist)
writeFileSync(out, `// Generated at build time by scripts/gen-validators.mjs from ztscan's own schemas (src/own-schemas.ts).
${code}
/** Validators by schema key (schemaKey in src/lib-ajv.ts). */
exports.PRECOMPILED = {
${table}
}
`)
process.stdout.write(`gen-validators: ${keys.size} schemas compiled into dist/src/generated/validators.cjs\n`)
