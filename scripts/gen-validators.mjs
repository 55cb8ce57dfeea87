// Build step (npm run build, after tsc): compiles ztscan's own JSON Schemas (src/own-schemas.ts) ahead with ajv's
// standalone code, one CommonJS file per schema in dist/src/generated/validators/, with their table in
// dist/src/generated/validators.cjs: src/lib-ajv.ts requires the table with the first validator asked for, and the table
// requires a schema's file the first time its validator is asked for (a scan loads the few it uses; a command that
// validates nothing, none). So start-up compiles no schema (issue 14.6). Source runs (vitest, tsx) have no such file and
// compile on first use.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import process from 'node:process'
import { URL } from 'node:url'
import { Ajv } from 'ajv'
import standalone from 'ajv/dist/standalone/index.js'

const dist = new URL('../dist/', import.meta.url)
const dir = new URL('src/generated/validators/', dist)
const out = new URL('src/generated/validators.cjs', dist)
// A previous build's validators go first: the modules imported below validate with what ajv compiles now, as source runs do.
rmSync(out, { force: true })
rmSync(dir, { recursive: true, force: true })
const { AJV_OPTIONS, schemaKey } = await import(new URL('src/lib-ajv.js', dist).href)
const { ownSchemas } = await import(new URL('src/own-schemas.js', dist).href)

const options = { ...AJV_OPTIONS, code: { source: true, esm: false, lines: false } }
const keys = new Map()
mkdirSync(dir, { recursive: true })
for (const schema of ownSchemas()) {
  const key = schemaKey(schema)
  if (keys.has(key)) continue
  const name = `v${keys.size}`
  keys.set(key, name)
  // One file per schema: a start loads the validators it asks for, not all of them. Each schema is added under its key;
  // its own $id would clash between copies (and $schema is the default draft).
  const ajv = new Ajv(options)
  const { $id: _id, $schema: _schema, ...body } = schema
  ajv.addSchema(body, key)
  writeFileSync(new URL(`${name}.cjs`, dir), `// Generated at build time by scripts/gen-validators.mjs (schema ${key}).\n${standalone.default(ajv, { validate: key })}\n`)
}
const table = [...keys].map(([key, name]) => `  '${key}': './validators/${name}.cjs',`).join('\n')
writeFileSync(out, `// Generated at build time by scripts/gen-validators.mjs from ztscan's own schemas (src/own-schemas.ts).
/** Each validator's file by schema key (schemaKey in src/lib-ajv.ts). */
const FILES = {
${table}
}
/** Validators by schema key: each file is required the first time its validator is asked for. */
exports.PRECOMPILED = {}
for (const [key, file] of Object.entries(FILES)) {
  let v
  Object.defineProperty(exports.PRECOMPILED, key, { enumerable: true, get: () => (v ??= require(file).validate) })
}
`)
process.stdout.write(`gen-validators: ${keys.size} schemas compiled into dist/src/generated/validators/ (one file each)\n`)
