/**
 * Start-up (issue 14.6): `ztscan rules` and `ztscan scan --help` load no heavy dependency and compile no schema; ztscan's
 * own schemas are compiled ahead by the build (dist/src/generated/validators.cjs, scripts/gen-validators.mjs).
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import type { ValidateFunction } from 'ajv'
import { bin, cleanEnv, ensureBuilt, root } from './helpers/cli.ts'
import { pathToFileURL } from 'node:url'
import { createRequire } from 'node:module'
import { ownSchemas } from '../src/own-schemas.ts'
import { runtimeCompiles, schemaKey, validatorFor } from '../src/lib-ajv.ts'
import { FORMAT_NAMES } from '../src/report/format-names.ts'
import { FORMATS } from '../src/report/formats.ts'
import { commandHelp, familyHelpOf, mainHelp } from '../src/cli/help.ts'
import { loadRules } from '../src/rules/load.ts'

/** The modules a built-CLI run resolves or requires. */
function modulesLoaded(args: string[]): { code: number | null; stdout: string; modules: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'ztscan-trace-'))
  try {
    const trace = join(dir, 'modules.txt')
    const r = spawnSync(process.execPath, ['--import', join(root, 'test/helpers/trace-modules.mjs'), bin, ...args], {
      encoding: 'utf8',
      env: cleanEnv({ ZTSCAN_TRACE_MODULES: trace }),
      timeout: 60_000,
    })
    return { code: r.status, stdout: r.stdout, modules: readFileSync(trace, 'utf8').split('\n').filter(Boolean) }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const HEAVY = ['ajv', 'ajv-draft-04', 'node-forge', 'ssh2', 'jose', 'saxes', 'yaml', 're2js']
/**
 * Heavy packages among loaded modules, each with the module that loaded it (ajv's small runtime helpers, used by the
 * validators compiled ahead, are fine). A hit means a static import on the start-up path: load that package on first use
 * instead (src/lib-lazy.ts, or `await import` where the check runs).
 */
const heavyIn = (modules: string[]): string[] =>
  [...new Set(modules.flatMap((line) => {
    const [m = '', from = ''] = line.split(' <- ')
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(m) ?? /^require:((?:@[^/]+\/)?[^/.][^/]*)(?:\/(.*))?$/.exec(m)
    if (!pkg || !HEAVY.includes(pkg[1]!)) return []
    if (pkg[1] === 'ajv' && /^dist\/runtime\//.test(pkg[2] ?? '')) return []
    // Inside the package itself: only its entry counts.
    if (from.includes(`/node_modules/${pkg[1]}/`)) return []
    return [`${pkg[1]} (loaded by ${from.replace(/^file:\/\//, '').replace(root, '')})`]
  }))]

describe('start-up', () => {
  beforeAll(ensureBuilt)

  it.each([[['rules']], [['scan', '--help']], [['rules', '--help']]])('ztscan %j loads no heavy dependency', (args) => {
    const r = modulesLoaded(args)
    expect(r.code).toBe(0)
    expect(r.stdout.length).toBeGreaterThan(100)
    // The trace saw the CLI's own modules, so an empty list below means something.
    expect(r.modules.some((m) => m.includes('/dist/src/cli/main.js <- '))).toBe(true)
    expect(heavyIn(r.modules)).toEqual([])
  })

  it.each([[['rules']], [['scan', '--help']], [['--help']], [['help', 'scan']], [['demo', '--help']]])('ztscan %j loads neither the families nor the report writers', (args) => {
    const { code, modules } = modulesLoaded(args)
    expect(code).toBe(0)
    expect(modules.filter((m) => /\/dist\/(checks\/|src\/report\/(formats|html|sarif)\.js|src\/engine\/run\.js) <- /.test(m))).toEqual([])
  })

  it('the rule catalogue the build wrote equals rules/*.json read and validated now', async () => {
    const built = (await import(pathToFileURL(join(root, 'dist/src/generated/rules.js')).href)) as { BUILTIN_RULES: unknown }
    expect(built.BUILTIN_RULES).toEqual(loadRules())
    expect((built.BUILTIN_RULES as unknown[]).length).toBeGreaterThan(50)
  })

  it("the help data the build wrote is the families' own: the built CLI's help equals the help made from the families", async () => {
    const built = (await import(pathToFileURL(join(root, 'dist/src/generated/family-help.js')).href)) as { FAMILY_HELP: unknown }
    const { builtinFamilies } = await import('../checks/index.ts')
    expect(built.FAMILY_HELP).toEqual(builtinFamilies.map(familyHelpOf))
    const run = (args: string[]): string => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: cleanEnv() }).stdout
    expect(run(['scan', '--help'])).toBe(commandHelp('scan', { families: builtinFamilies, formats: FORMAT_NAMES }))
    expect(run(['--help'])).toBe(mainHelp(builtinFamilies))
    // The family flags parse as before: a family flag with --help is help; an unknown flag is still a usage error.
    expect(run(['scan', '--nmap', 'x.xml', '--port-scanner', 'builtin', '--help'])).toBe(run(['scan', '--help']))
    const bad = spawnSync(process.execPath, [bin, 'scan', '--no-such-flag', '--help'], { encoding: 'utf8', env: cleanEnv() })
    expect([bad.status, bad.stderr]).toEqual([2, expect.stringContaining('unknown option --no-such-flag')])
  })

  it('the trace sees heavy dependencies when a command does load them (the check above can fail)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ztscan-trace-'))
    try {
      const file = join(dir, 'p.yaml')
      writeFileSync(file, 'rules:\n  certificate-expired:\n    enabled: true\n')
      const r = modulesLoaded(['rules', '--policy', file])
      expect(r.code).toBe(0)
      expect(heavyIn(r.modules).some((x) => x.startsWith('yaml (loaded by '))).toBe(true)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it("the build compiled every one of ztscan's own schemas ahead; they validate as ajv does", async () => {
    const built = createRequire(import.meta.url)(join(root, 'dist/src/generated/validators.cjs')) as { PRECOMPILED: Record<string, ValidateFunction> }
    const schemas = ownSchemas()
    expect(schemas.length).toBeGreaterThan(10)
    for (const s of schemas) expect(typeof built.PRECOMPILED[schemaKey(s)], JSON.stringify(s).slice(0, 120)).toBe('function')
    // The rule schema: every problem with its pointer, the same list the ajv compiled at run time gives.
    const ahead = built.PRECOMPILED[schemaKey(schemas[0]!)]!
    const bad = { id: 'Bad Id', family: 'x', severity: 'urgent' }
    expect(ahead(bad)).toBe(false)
    const runtime = validatorFor(schemas[0]!)
    expect(runtime(bad)).toBe(false)
    const view = (errors: ValidateFunction['errors']): string[] => (errors ?? []).map((e) => `${e.keyword}:${e.instancePath}:${JSON.stringify(e.params)}`).sort()
    expect(view(ahead.errors)).toEqual(view(runtime.errors))
    expect(view(ahead.errors)).toContain('pattern:/id:{"pattern":"^[a-z0-9]+(-[a-z0-9]+)*$"}')
  })

  it('a schema that is not ztscan\'s own (a plugin\'s) is compiled at run time and validates', () => {
    const before = runtimeCompiles()
    const v = validatorFor({ type: 'object', required: ['x'], properties: { x: { type: 'integer' } } })
    expect(runtimeCompiles()).toBe(before + 1)
    expect(v({ x: 1 })).toBe(true)
    expect(v({ x: 'a' })).toBe(false)
  })

  it('the light format list --help shows equals FORMATS', () => {
    expect(FORMAT_NAMES.map((f) => [f.name, [...f.extensions]])).toEqual(FORMATS.map((f) => [f.name, [...f.extensions]]))
  })
})
