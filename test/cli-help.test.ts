import { beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { closest, distance } from '../src/lib-suggest.ts'
import { ensureBuilt, root, runCli } from './helpers/cli.ts'

const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version

beforeAll(ensureBuilt, 120_000)

describe('did you mean', () => {
  it('counts a swap of two letters as one edit, and suggests only near words', () => {
    expect(distance('tsl', 'tls')).toBe(1)
    expect(distance('scan', 'scan')).toBe(0)
    expect(closest('scna', ['scan', 'demo', 'rules'])).toBe('scan')
    expect(closest('--fail', ['--fail-on', '--format'])).toBe('--fail-on')
    expect(closest('xyz', ['scan', 'demo', 'rules'])).toBeUndefined()
    expect(closest('a'.repeat(100), ['a'])).toBeUndefined()
  })
})

describe('help and version on every command (built CLI)', () => {
  const commands = ['scan', 'demo', 'rules', 'merge', 'trend', 'config', 'help']
  it.each(commands)('ztscan %s --help prints that command\'s usage, as do -h and ztscan help CMD', (cmd) => {
    const a = runCli([cmd, '--help'])
    expect(a.code).toBe(0)
    expect(a.stdout).toMatch(new RegExp(`^Usage: ztscan ${cmd}\\b`))
    expect(runCli(['help', cmd]).stdout).toBe(a.stdout)
    expect(runCli([cmd, '-h']).stdout).toBe(a.stdout)
  })
  it.each(commands)('ztscan %s --version and -V print the version', (cmd) => {
    for (const flag of ['--version', '-V']) {
      const r = runCli([cmd, flag])
      expect(r.code).toBe(0)
      expect(r.stdout).toBe(`${version}\n`)
    }
  })
  it('the global help lists the commands; scan --help lists the scan flags, not the command list', () => {
    const global = runCli(['--help']).stdout
    for (const c of commands) expect(global).toMatch(new RegExp(`^  ${c}\\b`, 'm'))
    const scan = runCli(['scan', '--help']).stdout
    expect(scan).toContain('--fail-on SEVERITY')
    expect(scan).not.toContain('Commands:')
    expect(runCli(['rules', '--help']).stdout).not.toContain('--fail-on')
  })
})

describe('mistakes get a suggestion and exit 2 (built CLI)', () => {
  const cases = [
    { args: ['scn'], err: 'unknown command "scn"; did you mean "scan"?' },
    { args: ['help', 'merg'], err: 'help: unknown command "merg"; did you mean "merge"?' },
    { args: ['tls://127.0.0.1:443'], err: 'to scan it: ztscan scan tls://127.0.0.1:443' },
    { args: ['--fail-on', 'high'], err: 'options come after a command' },
    { args: ['scan', '--fail-onn', 'high'], err: 'scan: unknown option --fail-onn; did you mean --fail-on?' },
    { args: ['scan', '--concurency', '4'], err: 'did you mean --concurrency?' },
    { args: ['rules', '--formt', 'json'], err: 'rules: unknown option --formt; did you mean --format?' },
    { args: ['scan', '-v'], err: 'did you mean -V (--version)?' },
    { args: ['scan', '--fail-on', 'hgih'], err: '--fail-on: expected one of critical, high, medium, low, info, none (got "hgih"); did you mean "high"?' },
    { args: ['scan', '--format', 'sraif'], err: 'did you mean "sarif"?' },
    { args: ['scan', '-o'], err: 'scan: --output needs a value' },
    { args: ['scan', '--chain=yes'], err: 'scan: --chain is a switch and takes no value' },
    { args: ['demo', 'tls://127.0.0.1:1'], err: 'demo: takes no positional arguments (got "tls://127.0.0.1:1")' },
    { args: ['scan', 'tsl://127.0.0.1:8443'], err: 'tsl://127.0.0.1:8443: unknown scheme "tsl:"; did you mean tls://?' },
    { args: ['scan', 'htst://127.0.0.1'], err: 'did you mean host://?' },
    { args: ['scan', 'https://example.test/login'], err: 'https://example.test/login: no scheme; give a scheme: tls://example.test:443 (certificate, TLS) or oidc:https://example.test/login (an OpenID issuer)' },
    { args: ['scan', 'https://example.test:8443'], err: 'tls://example.test:8443' },
    { args: ['scan', 'http://127.0.0.1:8080'], err: 'give a scheme: host://127.0.0.1?ports=8080 (the open port; plain HTTP has no certificate) or tls://127.0.0.1:443 (the HTTPS side)' },
    { args: ['scan', '127.0.0.1:8443'], err: '127.0.0.1:8443: no scheme; give a scheme: host://127.0.0.1?ports=8443 (open port), tls://127.0.0.1:8443 (certificate, TLS) or ssh://127.0.0.1:8443 (SSH)' },
    { args: ['scan', '[::1]:22'], err: 'ssh://[::1]:22 (SSH)' },
    { args: ['scan', 'example.test'], err: 'give a scheme: host://example.test (open ports), tls://example.test:443 (certificate, TLS) or ssh://example.test (SSH)' },
  ]
  it.each(cases)('$args.0 $args.1 → $err', ({ args, err }) => {
    const r = runCli(args)
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(err)
    expect(r.stderr).not.toMatch(/\n\s+at /) // no stack trace
    expect(r.stdout).toBe('')
  })
})

describe('severities and formats are case-insensitive (built CLI)', () => {
  it('--fail-on HIGH gates like high; --format JSON writes JSON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ztscan-cli-help-'))
    const t = join(dir, 'targets.yaml')
    writeFileSync(t, 'targets:\n  - { kind: example, id: "example://t0", state: fail }\n')
    const plugin = join(root, 'fixtures/plugin/example-plugin.mjs')
    const r = runCli(['scan', '-q', '-t', t, '--plugin', plugin, '--fail-on', 'HIGH', '--format', 'JSON'])
    expect(r.code).toBe(1) // the example finding is high
    expect(JSON.parse(r.stdout)).toMatchObject({ schemaVersion: '1.0' })
    expect(runCli(['scan', '-q', '-t', t, '--plugin', plugin, '--fail-on', 'Critical']).code).toBe(0)
    rmSync(dir, { recursive: true, force: true })
    expect(runCli(['rules', '--format', 'Json']).stdout.trimStart()).toMatch(/^\[/)
  })
})
