/**
 * @fileoverview The exit-code contract through the built CLI, as a CI stage sees it: 0 complete and clean, 1 gating findings,
 * 2 bad input before the first probe (naming the file and field), 3 internal error, 4 incomplete (errors beyond
 * --max-errors, nothing checked), 130/143 interrupted with a partial report marked incomplete. Also: durations, malformed
 * baselines and merge parts, EPIPE, an unwritable GITHUB_STEP_SUMMARY, and a library consumer iterating a finished scan.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tmpdir } from 'node:os'
import { fileURLToPath } from 'node:url'
import { assertValidReport } from '../helpers/schemas.ts'
import { bin, ensureBuilt, root, runCli, type CliRun } from './cli.ts'

const plugin = fileURLToPath(new URL('./contract-plugin.mjs', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'ztscan-contract-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

beforeAll(ensureBuilt, 120_000)

function ztscan(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: dir, encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** The same, without blocking: table tests run a few CLI processes at once. */
const ztscanAsync = (args: string[]): Promise<CliRun> => runCli(args, { cwd: dir })

let n = 0
/** A targets file of contract targets in the given states; `extra` fields go on every target. */
function targets(states: string[], extra: Record<string, string> = {}): string {
  const p = join(dir, `targets-${++n}.yaml`)
  const fields = Object.entries(extra).map(([k, v]) => `, ${k}: ${JSON.stringify(v)}`).join('')
  writeFileSync(p, 'targets:\n' + states.map((s, i) => `  - { kind: contract, id: "contract://t${i}", state: ${s}${fields} }`).join('\n') + '\n')
  return p
}
const scanOf = (states: string[], ...more: string[]) => ztscan(['scan', '-q', '--plugin', plugin, '-t', targets(states), ...more])
const noStack = (stderr: string): void => expect(stderr).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)|internal error/)
const json = (file: string) => JSON.parse(readFileSync(join(dir, file), 'utf8'))

describe('exit codes (built CLI)', () => {
  it('0: complete and nothing at or above --fail-on', () => {
    const r = scanOf(['pass', 'pass'], '-o', 'ok.json', '-o', 'ok.sarif')
    expect(r.code).toBe(0)
    expect(json('ok.json')).toMatchObject({ complete: true })
    expect(json('ok.json').incomplete).toBeUndefined()
    expect(json('ok.sarif').runs[0].invocations[0].executionSuccessful).toBe(true)
  })

  it('1: gating findings, also when the scan is incomplete too (1 takes precedence over 4)', () => {
    expect(scanOf(['pass', 'fail']).code).toBe(1)
    const r = scanOf(['fail', 'error'], '-o', 'both.json')
    expect(r.code).toBe(1)
    expect(json('both.json')).toMatchObject({ complete: false, incomplete: [{ reason: 'errors' }] })
  })

  it('4: an attempt error beyond --max-errors (default 0); the report and SARIF say incomplete', () => {
    const r = scanOf(['pass', 'error'], '-o', 'inc.json', '-o', 'inc.sarif', '-o', 'inc.md')
    expect(r.code).toBe(4)
    expect(r.stderr).toContain('scan incomplete: 1 of 2 checks could not complete (maxErrors 0)')
    const report = json('inc.json')
    assertValidReport(report)
    expect(report).toMatchObject({ complete: false, incomplete: [{ reason: 'errors', message: expect.stringContaining('1 of 2') }] })
    expect(readFileSync(join(dir, 'inc.md'), 'utf8')).toContain('**Incomplete scan:** 1 of 2 checks could not complete')
    expect(scanOf(['pass', 'error']).stdout).toMatch(/^INCOMPLETE SCAN: 1 of 2 checks could not complete \(maxErrors 0\)$/m)
    const sarif = json('inc.sarif')
    expect(sarif.runs[0].invocations[0].executionSuccessful).toBe(false)
    expect(sarif.runs[0].invocations[0].toolExecutionNotifications.map((x: { descriptor: { id: string } }) => x.descriptor.id)).toContain('scan-incomplete-errors')
  })

  it('--max-errors N and P% set the budget', () => {
    expect(scanOf(['pass', 'error'], '--max-errors', '1').code).toBe(0)
    expect(scanOf(['pass', 'error'], '--max-errors', '50%').code).toBe(0)
    expect(scanOf(['pass', 'error'], '--max-errors', '49%').code).toBe(4)
    expect(scanOf(['pass', 'error', 'error'], '--max-errors', '1').code).toBe(4)
    const bad = scanOf(['pass'], '--max-errors', 'lots')
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('--max-errors: expected a count')
  })

  it('4: nothing checked at all (every check errored, or the policy disabled the only family)', () => {
    expect(scanOf(['error', 'error'], '--max-errors', '100%').code).toBe(4)
    const policy = join(dir, 'off.yaml')
    writeFileSync(policy, 'families:\n  contract: { enabled: false }\n')
    const r = scanOf(['fail'], '--policy', policy, '-o', 'none.json')
    expect(r.code).toBe(4)
    expect(json('none.json').incomplete).toEqual([{ reason: 'nothing-checked', message: 'no check produced a result' }])
  })

  it('4 is about completeness, not findings: --fail-on none still exits 4 on an incomplete scan', () => {
    expect(scanOf(['fail', 'error'], '--fail-on', 'none').code).toBe(4)
    expect(scanOf(['fail'], '--fail-on', 'none').code).toBe(0)
  })

  it('3: an internal error says so (a plugin whose check breaks the engine)', () => {
    const broken = join(dir, 'broken-plugin.mjs')
    writeFileSync(broken, `export const checks = [{ id: 'broken-x', family: 'broken', rules: [], get targetKinds() { throw new Error('engine bug stand-in') } }]\n`)
    const r = ztscan(['scan', '-q', '--plugin', broken, 'local'])
    expect(r.code).toBe(3)
    expect(r.stderr).toContain('internal error')
  })

  const preflight: { name: string; args: () => string[]; err: string | RegExp }[] = [
    { name: 'a missing cert: file', args: () => ['cert:nope.pem'], err: `${dir}/nope.pem: cannot read (ENOENT)` },
    { name: 'a missing nmap: file', args: () => ['--nmap', 'nope.xml'], err: `${dir}/nope.xml: cannot read (ENOENT)` },
    { name: 'a device as cert:', args: () => ['cert:/dev/zero'], err: '/dev/zero: not a regular file (a character device)' },
    { name: 'a directory as inventory:', args: () => ['--inventory', `crowdstrike:${dir}`], err: 'not a regular file (a directory)' },
    { name: 'a missing idp: file', args: () => ['--idp', 'okta:nope.json'], err: `${dir}/nope.json: cannot read (ENOENT)` },
    { name: 'a missing --ca-file', args: () => ['--ca-file', '/nope.pem'], err: '--ca-file: /nope.pem: cannot read (ENOENT)' },
    { name: 'a --ca-file without certificates', args: () => ['--ca-file', writeTo('empty.pem', 'not a certificate\n')], err: /--ca-file: .*empty\.pem/ },
    { name: 'a missing --agent-catalogue', args: () => ['--agent-catalogue', '/nope.json'], err: '--agent-catalogue: /nope.json: cannot read (ENOENT)' },
    { name: 'an invalid --agent-catalogue', args: () => ['--agent-catalogue', writeTo('cat.json', '{"agents":[{"id":1}]}')], err: /--agent-catalogue: .*cat\.json: \/agents\/0/ },
    { name: 'a missing --ssh-key (the path is named, not redacted)', args: () => ['--ssh-key', 'nope_key'], err: '--ssh-key: nope_key: cannot read (ENOENT)' },
    { name: 'a file that is not a private key', args: () => ['--ssh-key', writeTo('not_a_key', 'hello\n')], err: /--ssh-key: .*not_a_key: not a private key/ },
    { name: 'a missing --known-hosts', args: () => ['--known-hosts', 'nope_hosts'], err: '--known-hosts: nope_hosts: cannot read (ENOENT)' },
    { name: 'a bad ssh user in a targets file', args: () => ['-t', writeTo('settings.yaml', 'targets: []\nsettings:\n  ssh: { username: "a;b" }\n')], err: /settings\.yaml: \/settings\/ssh\/username: expected a user name/ },
    { name: 'a missing caFile in a targets file', args: () => ['-t', writeTo('tls.yaml', 'targets: []\nsettings:\n  tls: { caFile: nope-ca.pem }\n')], err: 'tls.yaml: /settings/tls/caFile: nope-ca.pem: cannot read (ENOENT)' },
    { name: 'a required agent not in the catalogue', args: () => ['--policy', writeTo('req.yaml', 'rules:\n  endpoint-agent-missing: { parameters: { required: ["crowdstrike-falcom"] } }\n')], err: 'req.yaml: /rules/endpoint-agent-missing/parameters/required/0: expected a catalogue agent id' },
    { name: 'an invalid allowedJwksOrigins URL', args: () => ['--policy', writeTo('jwks.yaml', 'rules:\n  mfa-oidc-weak-jwks-key: { parameters: { allowedJwksOrigins: ["http://exa mple"] } }\n')], err: 'jwks.yaml: /rules/mfa-oidc-weak-jwks-key/parameters/allowedJwksOrigins/0: expected an http(s) origin' },
    { name: 'an unknown family in the policy', args: () => ['--policy', writeTo('fam.yaml', 'families:\n  endpoint-agnt: { enabled: false }\n')], err: 'fam.yaml: /families/endpoint-agnt: expected a known check family' },
    { name: 'a missing caFile parameter', args: () => ['--policy', writeTo('ca.yaml', 'rules:\n  certificate-untrusted: { parameters: { caFile: nope-root.pem } }\n')], err: 'ca.yaml: /rules/certificate-untrusted/parameters/caFile: expected a readable CA bundle: nope-root.pem: cannot read (ENOENT)' },
    { name: 'a missing OIDC tokens file', args: () => ['oidc:https://127.0.0.1:9#tokens=nope-tokens.json'], err: /oidc:https:\/\/127\.0\.0\.1:9: tokens file .*nope-tokens\.json: cannot read \(ENOENT\)/ },
    { name: 'a missing baseline', args: () => ['--baseline', 'nope-base.json'], err: 'nope-base.json' },
    { name: 'missing suppressions', args: () => ['--suppressions', 'nope-supp.yaml'], err: 'nope-supp.yaml' },
    { name: 'an output in a missing directory', args: () => ['-o', '/nonexistent/x.json'], err: '-o /nonexistent/x.json: cannot write into /nonexistent (ENOENT)' },
    { name: 'an output that is a directory', args: () => ['-o', `${dir}/`, '--format', 'json'], err: 'cannot write: a directory' },
    { name: 'a timeout above the timer maximum', args: () => ['--timeout', '40000m'], err: '--timeout: at most 2147483647ms' },
    { name: 'a zero timeout', args: () => ['--timeout', '0'], err: '--timeout: must be at least 1ms' },
  ]
  function writeTo(name: string, text: string): string {
    const p = join(dir, name)
    writeFileSync(p, text)
    return p
  }
  it.concurrent.each(preflight)('2 before the first probe: $name', async ({ args, err }) => {
    const marker = join(dir, `ran-${++n}.txt`)
    const r = await ztscanAsync(['scan', '-q', '--plugin', plugin, '-t', targets(['pass', 'fail'], { marker }), ...args()])
    expect(r.code).toBe(2)
    if (typeof err === 'string') expect(r.stderr).toContain(err)
    else expect(r.stderr).toMatch(err)
    noStack(r.stderr)
    expect(existsSync(marker)).toBe(false) // no check ran
  })

  it('a FIFO as cert: is refused at once, never opened', () => {
    const fifo = join(dir, 'fifo')
    try {
      execFileSync('mkfifo', [fifo])
    } catch {
      return void console.log('skipped: mkfifo is not available')
    }
    const r = ztscan(['scan', '-q', `cert:${fifo}`])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('not a regular file (a FIFO)')
  })

  it('durations: a bare number is seconds; ms, s, m, h units', () => {
    for (const [flag, ms] of [['5', 5000], ['250ms', 250], ['1.5s', 1500], ['2m', 120_000], ['1h', 3_600_000]] as const) {
      const r = ztscan(['scan', '-q', '--plugin', plugin, '-t', targets(['timeout']), '--timeout', flag, '--format', 'json', '--include-passed'])
      expect(r.code).toBe(0)
      expect(JSON.parse(r.stdout).findings[0].evidence.timeoutMs).toBe(ms)
    }
  })
})

describe('malformed inputs and broken outputs', () => {
  it.concurrent.each([
    ['a null finding', '{"schemaVersion":"1.0","findings":[null]}', '/findings/0: expected a finding object'],
    ['a null run', '{"version":"2.1.0","runs":[null]}', '/runs/0: expected a run object'],
    ['a bad fingerprint', '{"schemaVersion":"1.0","findings":[{"status":"fail","fingerprint":7,"ruleId":"x","target":"t","message":"m"}]}', '/findings/0/fingerprint: expected a string'],
    ['not JSON', '{"schemaVersion":', 'expected valid JSON (unexpected end of input'],
  ])('--baseline with %s: exit 2, no stack trace', async (_, text, err) => {
    const r = await ztscanAsync(['scan', '-q', '--plugin', plugin, '-t', targets(['pass']), '--baseline', writeBase(text)])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(err)
    noStack(r.stderr)
  })
  let b = 0
  function writeBase(text: string): string {
    const p = join(dir, `base-${++b}.json`)
    writeFileSync(p, text)
    return p
  }

  it.concurrent.each([
    ['{"findings":[null]}', 'expected a ztscan JSON report'],
    ['{"schemaVersion":"1.0","findings":[null]}', 'base-'],
    ['{"version":"2.1.0","runs":[null]}', '/runs/0: expected a run object'],
    ['{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":[null]}]}', '/runs/0/results: expected an array of result objects'],
  ])('merge with a malformed part %s: exit 2, no stack trace', async (text, err) => {
    const part = writeBase(text)
    const r = await ztscanAsync(['merge', part, part])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(err)
    noStack(r.stderr)
  })

  it('merge keeps incompleteness: a merged report of an incomplete part is incomplete', () => {
    expect(scanOf(['pass', 'error'], '-o', 'p1.json', '-o', 'p1.sarif').code).toBe(4)
    expect(scanOf(['pass'], '-o', 'p2.json', '-o', 'p2.sarif').code).toBe(0)
    const r = ztscan(['merge', 'p1.json', 'p2.json', '-o', 'merged.json'])
    expect(r.code).toBe(0)
    expect(r.stderr).toContain('the merged scan is incomplete')
    expect(json('merged.json')).toMatchObject({ complete: false, incomplete: [{ reason: 'errors', message: expect.stringMatching(/^part 1: /) }] })
    expect(ztscan(['merge', 'p1.sarif', 'p2.sarif', '-o', 'merged.sarif']).code).toBe(0)
    expect(json('merged.sarif').runs[0].invocations[0].executionSuccessful).toBe(false)
  })

  it('stdout closed early (| head -c 10): no EPIPE crash, the exit code is the verdict', () => {
    const many = targets(Array.from({ length: 3000 }, (_, i) => (i === 0 ? 'fail' : 'pass')))
    for (const [failOn, code] of [['none', 0], ['high', 1]] as const) {
      const r = spawnSync('bash', ['-c', `"${process.execPath}" "${bin}" scan -q --plugin "${plugin}" -t "${many}" --format json --fail-on ${failOn} | head -c 10 >/dev/null; echo "exit=\${PIPESTATUS[0]}"`], { cwd: dir, encoding: 'utf8', timeout: 60_000 })
      expect(r.stdout.trim()).toBe(`exit=${code}`)
      expect(r.stderr).toBe('')
    }
  })

  it('an unwritable GITHUB_STEP_SUMMARY is a one-line warning; the verdict stands', () => {
    for (const [states, code] of [[['pass'], 0], [['fail'], 1]] as const) {
      const r = ztscan(['scan', '-q', '--plugin', plugin, '-t', targets([...states])], { GITHUB_STEP_SUMMARY: '/nonexistent/dir/summary.md' })
      expect(r.code).toBe(code)
      expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^ztscan: warning: cannot append the summary to GITHUB_STEP_SUMMARY \(ENOENT\)$/)])
    }
  })
})

describe('interrupted scans', () => {
  it.each([
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const)('%s mid-scan: a partial report marked incomplete, exit %i', async (signal, code) => {
    const started = join(dir, `started-${signal}.txt`)
    rmSync(started, { force: true })
    const t = join(dir, `slow-${signal}.yaml`)
    writeFileSync(t, `targets:\n  - { kind: contract, id: "contract://done", state: fail }\n  - { kind: contract, id: "contract://slow", state: slow, marker: ${JSON.stringify(started)} }\n`)
    const out = `partial-${signal}.json`
    const child = spawn(process.execPath, [bin, 'scan', '-q', '--plugin', plugin, '-t', t, '-o', out, '--timeout', '10m'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)))
    for (let i = 0; i < 600 && !existsSync(started); i++) await new Promise((r) => setTimeout(r, 50))
    expect(existsSync(started)).toBe(true)
    child.kill(signal)
    expect(await exited).toBe(code)
    const report = json(out)
    assertValidReport(report)
    expect(report.complete).toBe(false)
    expect(report.incomplete.map((x: { reason: string }) => x.reason)).toContain('aborted')
    expect(report.findings.map((f: { target: string }) => f.target)).toEqual(['contract://done'])
    expect(report.errors).toMatchObject([{ target: 'contract://slow', reason: 'aborted' }])
    expect(stderr).toContain(`${signal}: stopping`)
    noStack(stderr)
  })
})

describe('library', () => {
  it('a consumer that iterates a finished ScanRun gets the recorded events and exits normally', () => {
    const consumer = join(dir, 'consumer.mjs')
    mkdirSync(join(dir, 'lib'), { recursive: true })
    writeFileSync(
      consumer,
      `import { scan, verdict, preflight } from ${JSON.stringify(join(root, 'dist/src/index.js'))}
import { checks, rules } from ${JSON.stringify(plugin)}
const targets = [{ kind: 'contract', id: 'contract://a', state: 'pass' }, { kind: 'contract', id: 'contract://b', state: 'fail' }]
const run = scan({ targets, checks, rules })
const report = await run
const types = []
for await (const e of run) types.push(e.type)
const again = []
for await (const e of run) again.push(e.type)
let rejected = ''
let pre = ''
try { await preflight({ targets: [], settings: { tls: { caFile: 'nope-ca.pem' } } }) } catch (err) { pre = err.message }
try { for await (const _ of scan({ targets: ['cert:nope.pem'], checks, rules })) {} } catch (err) { rejected = err.code }
console.log(JSON.stringify({ types, again: again.length, findings: report.findings.length, passCounts: report.passCounts, verdict: verdict(report).exitCode, rejected, pre }))
`,
    )
    const r = spawnSync(process.execPath, [consumer], { cwd: dir, encoding: 'utf8', timeout: 30_000 })
    expect(r.status).toBe(0)
    const out = JSON.parse(r.stdout)
    expect(out.types.filter((t: string) => t === 'target')).toHaveLength(2)
    // The passing target's result is counted (passCounts), not stored or streamed as a finding.
    expect(out.types.filter((t: string) => t === 'finding')).toHaveLength(1)
    expect(out.types.filter((t: string) => t === 'progress')).toHaveLength(2)
    expect(out.again).toBe(out.types.length)
    expect(out).toMatchObject({ findings: 1, passCounts: [{ ruleId: expect.any(String), target: 'contract://a', count: 1 }], verdict: 1, rejected: 'ERR_INPUT_INVALID', pre: 'settings.tls.caFile: nope-ca.pem: cannot read (ENOENT)' })
  })
})
