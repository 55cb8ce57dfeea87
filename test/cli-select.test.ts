import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tmpdir } from 'node:os'
import { ensureBuilt, root, runCli } from './helpers/cli.ts'

// An Okta export with failing findings at three severities: mfa-admin-without-mfa (critical), mfa-user-without-mfa
// (high), mfa-weak-factors-only (medium). A file target: no network at all.
const okta = `idp:okta:${join(root, 'fixtures/mfa/okta/users-factors.json')}`
const dir = mkdtempSync(join(tmpdir(), 'ztscan-select-'))

beforeAll(ensureBuilt, 120_000)
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function scanJson(args: string[]) {
  const r = runCli(['scan', '-q', okta, '-f', 'json', ...args])
  const report = JSON.parse(r.stdout || '{}') as { findings?: { ruleId: string; status: string }[]; rules?: { id: string }[] }
  return { code: r.code, stderr: r.stderr, rules: [...new Set((report.findings ?? []).map((f) => f.ruleId))].sort() }
}

describe('--severity, --only, --skip (built CLI, through effectiveRules like the policy)', () => {
  it('without selection all three rules report and the critical one gates', () => {
    const r = scanJson([])
    expect(r.rules).toEqual(['mfa-admin-without-mfa', 'mfa-coverage', 'mfa-user-without-mfa', 'mfa-weak-factors-only'])
    expect(r.code).toBe(1)
  })
  it('--severity MEDIUM reports and gates only medium rules: the critical and high failures are not run', () => {
    const r = scanJson(['--severity', 'MEDIUM'])
    expect(r.rules).toEqual(['mfa-weak-factors-only'])
    expect(r.code).toBe(0) // medium is below the default --fail-on high
    expect(scanJson(['--severity', 'medium', '--fail-on', 'medium']).code).toBe(1)
  })
  it('--severity takes a list; a policy severity override counts, not the rule file\'s', () => {
    expect(scanJson(['--severity', 'critical,high']).rules).toEqual(['mfa-admin-without-mfa', 'mfa-user-without-mfa'])
    const policy = join(dir, 'policy.yaml')
    writeFileSync(policy, 'rules:\n  mfa-weak-factors-only: { severity: critical }\n')
    expect(scanJson(['--severity', 'critical', '--policy', policy]).rules).toEqual(['mfa-admin-without-mfa', 'mfa-weak-factors-only'])
  })
  it('--only names rules or families; --skip removes from them', () => {
    expect(scanJson(['--only', 'mfa-admin-without-mfa']).rules).toEqual(['mfa-admin-without-mfa'])
    expect(scanJson(['--only', 'mfa', '--skip', 'mfa-weak-factors-only']).rules).toEqual(['mfa-admin-without-mfa', 'mfa-coverage', 'mfa-user-without-mfa'])
    const r = scanJson(['--skip', 'mfa-admin-without-mfa', '--skip', 'mfa-user-without-mfa'])
    expect(r.rules).toEqual(['mfa-coverage', 'mfa-weak-factors-only'])
    expect(r.code).toBe(0)
  })
  const bad = [
    { args: ['--only', 'mfa-admin-without-mfaa'], err: '--only: "mfa-admin-without-mfaa" is neither a rule id nor a family; did you mean "mfa-admin-without-mfa"?' },
    { args: ['--skip', 'certficate'], err: '--skip: "certficate" is neither a rule id nor a family; did you mean "certificate"?' },
    { args: ['--severity', 'hihg'], err: '--severity: expected one of critical, high, medium, low, info (got "hihg"); did you mean "high"?' },
  ]
  it.each(bad)('$args.0 $args.1 → exit 2 before any check runs', ({ args, err }) => {
    const r = runCli(['scan', okta, ...args])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(err)
  })
  it('ztscan rules shows the same selection as disabled rules', () => {
    const r = runCli(['rules', '--format', 'json', '--only', 'tls', '--skip', 'tls-weak-dh'])
    expect(r.code).toBe(0)
    const rules = JSON.parse(r.stdout) as { id: string; family: string; enabled: boolean }[]
    const on = rules.filter((x) => x.enabled).map((x) => x.id)
    expect(on.length).toBeGreaterThan(2)
    expect(on.every((id) => id.startsWith('tls-'))).toBe(true)
    expect(on).not.toContain('tls-weak-dh')
    expect(runCli(['rules', '--only', 'tsl']).stderr).toContain('did you mean "tls"?')
  })
  it('a policy naming an unknown rule or family suggests the nearest', () => {
    const rule = join(dir, 'bad-rule.yaml')
    writeFileSync(rule, 'rules:\n  mfa-admin-without-mfaa: {}\n')
    let r = runCli(['scan', okta, '--policy', rule])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('/rules/mfa-admin-without-mfaa: expected a known rule id (see `ztscan rules`); did you mean "mfa-admin-without-mfa"?')
    const family = join(dir, 'bad-family.yaml')
    writeFileSync(family, 'families:\n  mfaa: { enabled: false }\n')
    r = runCli(['scan', okta, '--policy', family])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/\/families\/mfaa: expected a known check family \([^)]*\); did you mean "mfa"\?/)
  })
})
