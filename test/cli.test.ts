import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tmpdir } from 'node:os'
import { fileURLToPath } from 'node:url'
import { assertValidReport, assertValidSarif } from './helpers/schemas.ts'

const root = fileURLToPath(new URL('..', import.meta.url))
const bin = join(root, 'dist/src/cli/main.js')
const plugin = join(root, 'fixtures/plugin/example-plugin.mjs')
const dir = mkdtempSync(join(tmpdir(), 'ztscan-cli-'))

function ztscan(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: dir, encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}
const targets = (states: string[]): string => {
  const p = join(dir, `targets-${states.join('-')}.yaml`)
  writeFileSync(p, 'targets:\n' + states.map((s, i) => `  - { kind: example, id: "example://t${i}", state: ${s} }`).join('\n') + '\n')
  return p
}

beforeAll(() => {
  // `npm test` builds first; a bare `vitest run` builds here when dist is missing.
  if (!existsSync(bin)) execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' })
}, 120_000)

describe('CLI (built, as a process)', () => {
  it('--help documents the exit codes', () => {
    const r = ztscan(['--help'])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/Exit codes:\n\s+0 .*\n\s+1 .*\n\s+2 /)
  })
  it('exit 1 when a finding is at or above --fail-on, 0 when below or none', () => {
    const t = targets(['pass', 'fail'])
    expect(ztscan(['scan', '-q', '-t', t, '--plugin', plugin]).code).toBe(1)
    expect(ztscan(['scan', '-q', '-t', t, '--plugin', plugin, '--fail-on', 'critical']).code).toBe(0)
    expect(ztscan(['scan', '-q', '-t', t, '--plugin', plugin, '--fail-on', 'none']).code).toBe(0)
    expect(ztscan(['scan', '-q', '-t', targets(['pass']), '--plugin', plugin, '--fail-on', 'info']).code).toBe(0)
  })
  it('writes several formats in one run; each validates', () => {
    const r = ztscan(['scan', '-q', '-t', targets(['fail']), '--plugin', plugin, '-o', 'out.sarif', '-o', 'out.json', '--format', 'markdown', '-o', 'out.md', '--fail-on', 'none'])
    expect(r.code).toBe(0)
    const sarif = JSON.parse(readFileSync(join(dir, 'out.sarif'), 'utf8'))
    assertValidSarif(sarif)
    expect(sarif.runs[0].results[0].ruleId).toBe('example-state')
    const json = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8'))
    assertValidReport(json)
    expect(json.summary.failed.high).toBe(1)
    expect(readFileSync(join(dir, 'out.md'), 'utf8')).toContain('`example-state`')
  })
  it('--sarif-max-results groups results and says so on stderr and in the run', () => {
    const r = ztscan(['scan', '-t', targets(['fail', 'fail', 'fail']), '--plugin', plugin, '--sarif-max-results', '1', '-o', 'grouped.sarif', '--format', 'sarif', '--fail-on', 'none'])
    expect(r.code).toBe(0)
    expect(r.stderr).toContain('ztscan: grouped.sarif: SARIF grouped to stay within 1 results and 10 MB gzip per run: 3 failed finding(s) written as 1 result(s)')
    expect(r.stderr).toContain('ztscan: stdout: SARIF grouped')
    for (const log of [JSON.parse(readFileSync(join(dir, 'grouped.sarif'), 'utf8')), JSON.parse(r.stdout)]) {
      assertValidSarif(log)
      expect(log.runs[0].results).toHaveLength(1)
      expect(log.runs[0].results[0].properties).toMatchObject({ grouped: 'rule', findings: 3, targets: 3 })
    }
  })
  it('JSON and JSON Lines are written as streams, to files and to stdout', () => {
    const r = ztscan(['scan', '-q', '-t', targets(['fail', 'pass']), '--plugin', plugin, '-o', 'out.jsonl', '--format', 'json', '--fail-on', 'none'])
    expect(r.code).toBe(0)
    const json = JSON.parse(r.stdout)
    assertValidReport(json)
    const lines = readFileSync(join(dir, 'out.jsonl'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l))
    expect(lines.map((l) => l.type)).toEqual(['finding', 'summary'])
    expect(lines.at(-1).passCounts).toEqual(json.passCounts)
    expect(json.passCounts).toHaveLength(1)
    expect(lines.at(-1).summary).toEqual(json.summary)
  })
  it('appends the Markdown summary to GITHUB_STEP_SUMMARY', () => {
    const summary = join(dir, 'step-summary.md')
    writeFileSync(summary, '# before\n')
    ztscan(['scan', '-q', '-t', targets(['fail']), '--plugin', plugin, '--fail-on', 'none', '-o', join(dir, 'x.json')], { GITHUB_STEP_SUMMARY: summary })
    expect(readFileSync(summary, 'utf8')).toMatch(/^# before\n## ztscan: score 0\.0/)
  })
  const usage = [
    { name: 'unknown format', args: ['scan', '--format', 'xml'], err: '--format: expected one of json, sarif, table, markdown, html' },
    { name: 'bad --fail-on', args: ['scan', '--fail-on', 'urgent'], err: '--fail-on: expected one of' },
    { name: 'unknown flag', args: ['scan', '--frobnicate'], err: 'scan: unknown option --frobnicate' },
    { name: 'bad target', args: ['scan', 'tls://bad host:443'], err: 'tls://bad host:443: "bad host" is not a valid host name or IP address' },
    { name: 'shell metacharacters in a target', args: ['scan', 'agents://root@a;rm -rf /'], err: 'is not a valid host name' },
    { name: 'missing targets file', args: ['scan', '-t', 'nope.yaml'], err: 'nope.yaml: /: expected a readable file (ENOENT)' },
    { name: 'bad policy field', args: ['scan', '--policy', 'policy.json'], err: 'policy.json: /rules/certificate-nope: expected a known rule id', setup: () => writeFileSync(join(dir, 'policy.json'), '{"rules":{"certificate-nope":{}}}') },
    { name: 'unknown command', args: ['frob'], err: 'unknown command "frob"' },
    { name: 'bad --sarif-max-results', args: ['scan', '--sarif-max-results', '0'], err: '--sarif-max-results: expected an integer from 1 and up (got "0")' },
    { name: '--sarif-max-results past 2^53', args: ['scan', '--sarif-max-results', '99999999999999999'], err: '--sarif-max-results: expected an integer from 1 to 9007199254740991 (got "99999999999999999")' },
    { name: 'bad --port-scanner', args: ['scan', '--port-scanner', 'nmapp'], err: '--port-scanner: expected one of auto, nmap, builtin (got "nmapp")' },
    { name: 'bad timeout', args: ['scan', '--timeout', 'soon'], err: '--timeout: expected a duration' },
    { name: '--chain with --no-chain', args: ['scan', '--chain', '--no-chain', 'local'], err: '--chain and --no-chain: give one of them' },
  ]
  it.each(usage)('exit 2 on $name, naming what is wrong', ({ args, err, setup }) => {
    setup?.()
    const r = ztscan(args)
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(err)
  })
  it('demo starts the lab, scans it, writes the report and stops the lab', () => {
    const r = ztscan(['demo', '-q', '-o', 'demo.json'])
    expect(r.code).toBe(1) // the lab is full of findings at or above high
    const report = JSON.parse(readFileSync(join(dir, 'demo.json'), 'utf8')) as { findings: { family: string; status: string }[]; errors: unknown[] }
    expect([...new Set(report.findings.filter((f) => f.status === 'fail').map((f) => f.family))].sort()).toEqual(['certificate', 'endpoint-agent', 'mfa', 'open-port', 'tls'])
    expect(report.errors).toEqual([])
  })
  it('an nmap file chains nothing without --chain, and stderr says what was not probed', () => {
    const xml = join(root, 'fixtures/nmap/sV-scripts-loopback.xml')
    const r = ztscan(['scan', '--nmap', xml, '-o', 'nmap.json', '--fail-on', 'none'])
    expect(r.code).toBe(0)
    expect(r.stderr).toContain(`ztscan: 2 TLS/SSH target(s) found in nmap:${xml} not probed (offline input; --chain probes them)`)
    const report = JSON.parse(readFileSync(join(dir, 'nmap.json'), 'utf8')) as { targets: { id: string }[] }
    expect(report.targets.map((t) => t.id)).toEqual([`nmap:${xml}`])
  })
  it('rules lists every rule with severity and pillar', () => {
    const r = ztscan(['rules', '--format', 'json'])
    expect(r.code).toBe(0)
    const rules = JSON.parse(r.stdout) as { id: string; severity: string; pillar: string }[]
    for (const x of rules) expect(x).toMatchObject({ id: expect.any(String), severity: expect.any(String), pillar: expect.any(String) })
  })
})

afterAll(() => rmSync(dir, { recursive: true, force: true }))
