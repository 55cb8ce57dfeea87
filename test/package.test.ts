import { describe, expect, it } from 'vitest'
import { execFileSync } from 'node:child_process'
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
