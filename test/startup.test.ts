/**
 * Start-up (issue 14.6): `ztscan rules` and `ztscan scan --help` load no heavy dependency and compile no schema; ztscan's
 * own schemas are compiled ahead (src/generated/validators.ts, kept equal to a fresh generation here).
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { bin, cleanEnv, ensureBuilt, root } from './helpers/cli.ts'
import { GENERATED_FILE, generate, ownSchemas } from './helpers/validators-gen.ts'
import { runtimeCompiles, validatorFor } from '../src/lib-ajv.ts'
import { FORMAT_NAMES } from '../src/report/format-names.ts'
import { FORMATS } from '../src/report/formats.ts'

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
/** Heavy packages among loaded modules (ajv's small runtime helpers used by the generated validators are fine). */
const heavyIn = (modules: string[]): string[] =>
  [...new Set(modules.flatMap((m) => {
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(m) ?? /^require:((?:@[^/]+\/)?[^/.][^/]*)(?:\/(.*))?$/.exec(m)
    if (!pkg || !HEAVY.includes(pkg[1]!)) return []
    return pkg[1] === 'ajv' && /^dist\/runtime\//.test(pkg[2] ?? '') ? [] : [pkg[1]!]
  }))]

describe('start-up', () => {
  beforeAll(ensureBuilt)

  it.each([[['rules']], [['scan', '--help']], [['rules', '--help']]])('ztscan %j loads no heavy dependency', (args) => {
    const r = modulesLoaded(args)
    expect(r.code).toBe(0)
    expect(r.stdout.length).toBeGreaterThan(100)
    // The trace saw the CLI's own modules, so an empty list below means something.
    expect(r.modules.some((m) => m.endsWith('/dist/src/cli/main.js'))).toBe(true)
    expect(heavyIn(r.modules)).toEqual([])
  })

  it('ztscan rules loads neither the families nor the report writers', () => {
    const { modules } = modulesLoaded(['rules'])
    expect(modules.filter((m) => /\/dist\/(checks\/|src\/report\/(formats|html|sarif)\.js|src\/engine\/run\.js)/.test(m))).toEqual([])
  })

  it('the trace sees heavy dependencies when a command does load them (the check above can fail)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ztscan-trace-'))
    try {
      const file = join(dir, 'p.yaml')
      writeFileSync(file, 'rules:\n  certificate-expired:\n    enabled: true\n')
      const r = modulesLoaded(['rules', '--policy', file])
      expect(r.code).toBe(0)
      expect(heavyIn(r.modules)).toContain('yaml')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('src/generated/validators.ts is up to date (npm run gen:validators)', () => {
    expect(readFileSync(GENERATED_FILE, 'utf8')).toBe(generate())
  })

  it("every one of ztscan's own schemas is precompiled: none is compiled at run time", () => {
    const before = runtimeCompiles()
    for (const s of ownSchemas()) validatorFor(s)
    expect(runtimeCompiles()).toBe(before)
    // A schema that is not ztscan's own (a plugin's) is compiled, and validates like any other.
    const v = validatorFor({ type: 'object', required: ['x'], properties: { x: { type: 'integer' } } })
    expect(runtimeCompiles()).toBe(before + 1)
    expect(v({ x: 1 })).toBe(true)
    expect(v({ x: 'a' })).toBe(false)
  })

  it('a precompiled validator reports every problem with its pointer, as ajv does', () => {
    const rule = ownSchemas()[0]!
    const v = validatorFor(rule)
    expect(v({ id: 'Bad Id', family: 'x' })).toBe(false)
    const paths = v.errors!.map((e) => `${e.keyword}:${e.instancePath}`)
    expect(paths).toContain('pattern:/id')
    expect(paths.filter((p) => p.startsWith('required:')).length).toBeGreaterThan(3)
  })

  it('the light format list --help shows equals FORMATS', () => {
    expect(FORMAT_NAMES.map((f) => [f.name, [...f.extensions]])).toEqual(FORMATS.map((f) => [f.name, [...f.extensions]]))
  })
})
