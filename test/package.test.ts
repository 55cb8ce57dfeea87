import { describe, expect, it } from 'vitest'
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import { VERSION, parseTarget, parsePolicy, PolicyError, TargetError } from '../src/index.ts'

const root = fileURLToPath(new URL('..', import.meta.url))
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string; exports: Record<string, unknown>; bin: Record<string, string> }

describe('package', () => {
  it('version in code matches package.json', () => {
    expect(VERSION).toBe(pkg.version)
  })
  it.skipIf(!existsSync(`${root}/dist/src/index.js`))('the built package resolves by name with its exports map (skipped until `npm run build`)', () => {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', `
      const m = await import('ztscan'); const e = await import('ztscan/errors');
      console.log(JSON.stringify({ api: ['scan','defineCheck','loadPolicy','toSarif','toJson','builtinChecks','mergeReports'].filter((k) => typeof m[k] !== 'function' && !Array.isArray(m[k])), err: typeof e.ZtscanError }))`], { cwd: root, encoding: 'utf8' })
    expect(JSON.parse(out)).toEqual({ api: [], err: 'function' })
    expect(existsSync(`${root}/${pkg.bin.ztscan}`)).toBe(true)
  })
  it('the tarball holds no lab/demo code, no source maps, and the LICENSE; report.schema.json is exported', () => {
    const [packed] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as [{ files: { path: string }[] }]
    const files = packed.files.map((f) => f.path)
    expect(files.filter((f) => /(^|\/)(lab|demo)\.|\.map$/.test(f))).toEqual([])
    expect(files).toContain('LICENSE')
    expect(files).toContain('src/report/report.schema.json')
    expect(pkg.exports['./report.schema.json']).toBe('./src/report/report.schema.json')
    expect(readFileSync(`${root}/LICENSE`, 'utf8')).toMatch(/Apache License\s+Version 2\.0, January 2004[\s\S]*END OF TERMS AND CONDITIONS/)
    expect(pkg).toMatchObject({ repository: { url: expect.stringMatching(/^git\+https:/) }, homepage: expect.any(String), bugs: { url: expect.any(String) } })
  })
  it.skipIf(!existsSync(`${root}/dist/src/index.js`))('no built module imports a .ts file (tsc leaves some dynamic imports unrewritten; skipped until `npm run build`)', () => {
    const r = spawnSync('grep', ['-rlE', '--include=*.js', `(import\\(|from )["']\\.[^"']*\\.ts["']`, `${root}/dist`], { encoding: 'utf8' })
    expect(r.status).toBe(1) // grep: no match
    expect(r.stdout).toBe('')
  })
  it.skipIf(!existsSync(`${root}/dist/src/index.js`))('report.schema.json resolves through the exports map (skipped until `npm run build`)', () => {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', `
      import { createRequire } from 'node:module'; const s = createRequire(process.cwd() + '/')('ztscan/report.schema.json'); console.log(typeof s.properties)`], { cwd: root, encoding: 'utf8' })
    expect(out.trim()).toBe('object')
  })
})

describe('parsers never fail with anything but their own error (property-based)', () => {
  it('parseTarget: TargetError or a target with a valid id', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.constantFrom('tls://', 'ssh://', 'host://', 'agents://', 'idp:', 'oidc:').chain((p) => fc.string().map((s) => p + s))), (s) => {
        try {
          const t = parseTarget(s)
          expect(typeof t.id).toBe('string')
          if (t.host !== undefined) expect(String(t.host)).not.toMatch(/[;&|`$()<>\s'"\\]/)
        } catch (e) {
          expect(e).toBeInstanceOf(TargetError)
        }
      }),
      { numRuns: 2000 },
    )
  })
  it('parsePolicy: PolicyError or a policy', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        try {
          parsePolicy(v, 'p.json', [])
        } catch (e) {
          expect(e).toBeInstanceOf(PolicyError)
        }
      }),
      { numRuns: 1000 },
    )
  })
})
