// Preload (`node --import ./test/helpers/trace-modules.mjs …`): appends every module the process resolves (ESM) or
// requires (CommonJS) to the file named by ZTSCAN_TRACE_MODULES, one per line as `MODULE <- IMPORTER`. Used to prove
// what start-up loads (test/startup.test.ts).
import { Module, register } from 'node:module'
import { appendFileSync } from 'node:fs'
import process from 'node:process'

const out = process.env.ZTSCAN_TRACE_MODULES
if (out) {
  const hooks = `import { appendFileSync } from 'node:fs'
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context)
  appendFileSync(${JSON.stringify(out)}, r.url + ' <- ' + context.parentURL + '\\n')
  return r
}`
  register('data:text/javascript,' + encodeURIComponent(hooks))
  const load = Module._load
  Module._load = function (request, parent, ...rest) {
    appendFileSync(out, `require:${request} <- ${parent?.filename}\n`)
    return load.call(this, request, parent, ...rest)
  }
}
