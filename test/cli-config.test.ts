import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tmpdir } from 'node:os'
import { ensureBuilt, root, runCli } from './helpers/cli.ts'

// An Okta export with a failing critical, high and medium finding (a file: no network).
const okta = `idp:okta:${join(root, 'fixtures/mfa/okta/users-factors.json')}`
const base = mkdtempSync(join(tmpdir(), 'ztscan-config-'))
let n = 0
/** A fresh repository folder (with .git) holding `files`; returns its path. */
function repo(files: Record<string, string>): string {
  const d = join(base, `r${n++}`)
  mkdirSync(join(d, '.git'), { recursive: true })
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(d, name, '..'), { recursive: true })
    writeFileSync(join(d, name), text)
  }
  return d
}
const scan = (cwd: string, args: string[] = [], env: Record<string, string> = {}) => runCli(['scan', '-q', okta, ...args], { cwd, env })

beforeAll(ensureBuilt, 120_000)
afterAll(() => rmSync(base, { recursive: true, force: true }))

describe('configuration layers: flags > ZTSCAN_* > config file > defaults (built CLI)', () => {
  it('default: the critical finding fails the gate (exit 1)', () => {
    expect(scan(repo({})).code).toBe(1)
  })
  it('config file: fail-on none passes; found from a sub-folder up to the repository root', () => {
    const d = repo({ 'ztscan.config.yaml': 'fail-on: none\n', 'sub/dir/.keep': '' })
    expect(scan(d).code).toBe(0)
    expect(scan(join(d, 'sub/dir')).code).toBe(0)
  })
  it('each file name is found: ztscan.config.yml, ztscan.config.json, .ztscan.yaml', () => {
    expect(scan(repo({ 'ztscan.config.yml': 'fail-on: none\n' })).code).toBe(0)
    expect(scan(repo({ 'ztscan.config.json': '{"fail-on": "none"}' })).code).toBe(0)
    expect(scan(repo({ '.ztscan.yaml': 'fail-on: none\n' })).code).toBe(0)
  })
  it('the search stops at the repository root: a config file above it is not read', () => {
    const outer = repo({ 'ztscan.config.yaml': 'fail-on: none\n' })
    mkdirSync(join(outer, 'inner/.git'), { recursive: true })
    expect(scan(join(outer, 'inner')).code).toBe(1)
  })
  it('ZTSCAN_FAIL_ON beats the file; a flag beats ZTSCAN_FAIL_ON', () => {
    const d = repo({ 'ztscan.config.yaml': 'fail-on: none\n' })
    expect(scan(d, [], { ZTSCAN_FAIL_ON: 'critical' }).code).toBe(1)
    expect(scan(d, ['--fail-on', 'none'], { ZTSCAN_FAIL_ON: 'critical' }).code).toBe(0)
    expect(scan(repo({}), [], { ZTSCAN_FAIL_ON: 'none' }).code).toBe(0)
  })
  it('--config FILE (and ZTSCAN_CONFIG) name the file; its relative paths are relative to it', () => {
    const d = repo({ 'ci/zt.yaml': 'policy: policy.yaml\nonly: [mfa-weak-factors-only]\n', 'ci/policy.yaml': 'rules:\n  mfa-weak-factors-only: { severity: low }\n' })
    const out = join(d, 'r.json')
    expect(scan(d, ['--config', 'ci/zt.yaml', '-o', out]).code).toBe(0) // only a low finding is left
    expect(runCli(['config', '--config', 'ci/zt.yaml'], { cwd: d }).stdout).toContain(`policy: ${JSON.stringify(join(d, 'ci/policy.yaml'))}  # ci/zt.yaml: /policy`)
    expect(scan(d, [], { ZTSCAN_CONFIG: join(d, 'ci/zt.yaml') }).code).toBe(0)
  })
  it('a policy inline in the config file', () => {
    const d = repo({ 'ztscan.config.yaml': 'policy:\n  rules:\n    mfa-admin-without-mfa: { enabled: false }\n    mfa-user-without-mfa: { enabled: false }\n' })
    expect(scan(d).code).toBe(0)
  })
  it('targets and settings from the config file; arguments replace its targets', () => {
    const d = repo({ 'ztscan.config.yaml': `targets: [${JSON.stringify(okta)}]\nfail-on: critical\n` })
    const r = runCli(['scan', '-q', '-f', 'json'], { cwd: d })
    expect(r.code).toBe(1)
    expect((JSON.parse(r.stdout) as { targets: { id: string }[] }).targets.map((t) => t.id)).toEqual([expect.stringMatching(/^idp:okta:/)])
  })
  const bad = [
    { name: 'an unknown key, with the nearest', files: { 'ztscan.config.yaml': 'fail_on: none\n' }, err: 'ztscan.config.yaml: /fail_on: expected a ztscan setting; did you mean "fail-on"?' },
    { name: 'a wrong type', files: { 'ztscan.config.yaml': 'quiet: [1]\n' }, err: '/quiet: expected a value of type boolean' },
    { name: 'a wrong value names the file and key', files: { 'ztscan.config.yaml': 'fail-on: urgent\n' }, err: 'ztscan.config.yaml: /fail-on: expected one of critical, high, medium, low, info, none (got "urgent")' },
    { name: 'broken YAML', files: { 'ztscan.config.yaml': 'fail-on: [\n' }, err: 'ztscan.config.yaml' },
  ]
  it.each(bad)('$name → exit 2 before any check', ({ files, err }) => {
    const r = scan(repo(files))
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(err)
  })
  it('a bad environment value names the variable', () => {
    expect(scan(repo({}), [], { ZTSCAN_FAIL_ON: 'urgent' }).stderr).toContain('ZTSCAN_FAIL_ON: expected one of')
    expect(scan(repo({}), [], { ZTSCAN_QUIET: 'maybe' }).stderr).toContain('ZTSCAN_QUIET: expected 1, true')
    const r = scan(repo({}), [], { ZTSCAN_FAILON: 'none' })
    expect(r.stderr).toContain('ignoring ZTSCAN_FAILON: not a ztscan variable; did you mean ZTSCAN_FAIL_ON?')
    expect(r.code).toBe(1) // ignored: the gate stays at its default
  })
})

describe('ztscan config (built CLI)', () => {
  it('prints each value with its source, defaults last; secrets redacted', () => {
    const d = repo({ 'ztscan.config.yaml': 'fail-on: medium\nconcurrency: 8\nsettings:\n  ssh: { username: audit, password: hunter2-secret }\n' })
    const r = runCli(['config', '--per-host', '2'], { cwd: d, env: { ZTSCAN_CONCURRENCY: '16', ZTSCAN_FORMAT: 'json,sarif' } })
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(`# effective configuration: flags > ZTSCAN_* variables > ${join(d, 'ztscan.config.yaml')} > defaults`)
    expect(r.stdout).toContain('fail-on: "medium"  # ztscan.config.yaml: /fail-on'.replace('ztscan.config.yaml', join(d, 'ztscan.config.yaml')))
    expect(r.stdout).toContain('concurrency: "16"  # ZTSCAN_CONCURRENCY')
    expect(r.stdout).toContain('format: ["json","sarif"]  # ZTSCAN_FORMAT')
    expect(r.stdout).toContain('per-host: "2"  # --per-host')
    expect(r.stdout).toContain('timeout: "15s"  # default')
    expect(r.stdout).toContain('"username":"audit"')
    expect(r.stdout).not.toContain('hunter2-secret')
    expect(r.stdout).toContain('[REDACTED]')
  })
})
