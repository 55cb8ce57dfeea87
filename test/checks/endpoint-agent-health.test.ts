/**
 * Agent health on hosts (issue 18 item 3): "running but not connected" and "tamper protection off" from the agent's own
 * status commands, on this machine (local runner: execFile, no shell) and over a real loopback sshd.
 *
 * The agents are planted without touching system paths: running processes are copies of `sleep` under a temp dir, and an
 * operator catalogue (settings.endpointAgent.catalogue, the supported way to declare relocated agents) points the CrowdStrike
 * and Defender entries at fake `falconctl` / `mdatp` scripts in that dir. The scripts print the vendors' documented output:
 *  - `falconctl -g --aid`: `aid="<32 hex>".` once the sensor registered with the CrowdStrike cloud, `aid is not set.` before;
 *  - `mdatp health --field licensed`: `true` / `false` (false: not onboarded to a tenant);
 *  - `mdatp health --field tamper_protection`: `"block"`, `"audit"` or `"disabled"` (learn.microsoft.com health-status);
 *  - `sentinelctl management status`: lines naming the management URL, site key, UUID and `Connectivity: On|Off` (the
 *    SentinelOne ansible role's registration test and GitLab's SentinelOne guide read the Connectivity line).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { spawn, type ChildProcess } from 'node:child_process'
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import endpointAgent from '../../checks/endpoint-agent/index.ts'
import { builtinCatalogue } from '../../checks/endpoint-agent/catalogue.ts'
import type { ScanReport } from '../../src/types.ts'
import { checkTester } from '../helpers/check-tester.ts'
import { hasSshd, startSshd, type Sshd } from '../helpers/sshd.ts'

const tester = checkTester(endpointAgent.checks.filter((c) => c.id === 'endpoint-agent-status'))
const finding = (r: ScanReport, rule: string, agent: string) => r.findings.find((f) => f.ruleId === rule && f.resource === `agent:${agent}`)

/** The built-in entry of `id`, relocated: its own process names, every status command run by `bin` with the same arguments. */
function relocated(id: string, processes: string[], bin: string, minimumVersion?: string): unknown {
  const spec = builtinCatalogue().find((a) => a.id === id)!
  const linux = spec.platforms.linux!
  const move = (c: { argv: readonly string[]; pattern: string }) => ({ argv: [bin, ...c.argv.slice(1)], pattern: c.pattern })
  return {
    id, name: spec.name, vendor: spec.vendor, categories: spec.categories, source: spec.source,
    platforms: { linux: { processes, paths: [bin], version: (linux.version ?? []).filter((v) => 'argv' in v).map((v) => move(v as never)), degraded: (linux.degraded ?? []).map(move), disconnected: (linux.disconnected ?? []).map(move), tamperOff: (linux.tamperOff ?? []).map(move), ...(minimumVersion ? { minimumVersion } : {}) } },
  }
}

describe('endpoint-agent: running but not connected, tamper protection off (agent status commands)', () => {
  let dir: string
  const procs: ChildProcess[] = []
  let catalogue: string
  let log: string

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ztscan-ea-health-'))
    log = join(dir, 'argv.log')
    await mkdir(join(dir, 'bin'))
    // Two running sensors (process names unique to this test, 15 bytes at most: Linux `comm`).
    for (const name of ['ztfake-falcon', 'ztfake-wdavd']) {
      await copyFile('/bin/sleep', join(dir, 'bin', name))
      procs.push(spawn(join(dir, 'bin', name), ['600'], { stdio: 'ignore' }))
    }
    // falconctl of a sensor that never registered with the cloud; every argv it receives is logged.
    await writeFile(join(dir, 'bin', 'falconctl'), `#!/bin/sh
printf '%s\\n' "falconctl $*" >> '${log}'
case "$*" in
  "-g --version") echo 'version = 7.14.16703.0' ;;
  "-g --rfm-state") echo 'rfm-state=false.' ;;
  "-g --aid") echo 'aid is not set.' ;;
  *) exit 2 ;;
esac
`, { mode: 0o755 })
    // mdatp of a healthy, onboarded install whose tamper protection only audits.
    await writeFile(join(dir, 'bin', 'mdatp'), `#!/bin/sh
printf '%s\\n' "mdatp $*" >> '${log}'
case "$*" in
  "version") echo 'Product version: 101.24092.0004' ;;
  "health --field healthy") echo 'true' ;;
  "health --field licensed") echo 'true' ;;
  "health --field tamper_protection") echo '"audit"' ;;
  *) exit 2 ;;
esac
`, { mode: 0o755 })
    catalogue = join(dir, 'catalogue.json')
    await writeFile(catalogue, JSON.stringify({
      agents: [
        relocated('crowdstrike-falcon', ['ztfake-falcon'], join(dir, 'bin', 'falconctl'), '7.15'),
        relocated('defender-endpoint', ['ztfake-wdavd'], join(dir, 'bin', 'mdatp')),
      ],
    }))
  })
  afterAll(async () => {
    for (const p of procs) p.kill('SIGKILL')
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  const expectVerdicts = (r: ScanReport, where: string) => {
    expect(r.errors).toEqual([])
    const falcon = finding(r, 'endpoint-agent-not-connected', 'crowdstrike-falcon')
    expect(falcon).toMatchObject({ status: 'fail', message: `CrowdStrike Falcon sensor on ${where} is not connected: status command says: aid is not set.` })
    expect(falcon!.evidence).toMatchObject({ version: '7.14.16703.0', source: "the agent's own status command" })
    expect(finding(r, 'endpoint-agent-sensor-degraded', 'crowdstrike-falcon')?.status).toBe('pass')
    expect(finding(r, 'endpoint-agent-not-connected', 'defender-endpoint')).toMatchObject({ status: 'pass', evidence: { state: 'connected (status command: true)' } })
    expect(finding(r, 'endpoint-agent-tamper-protection-off', 'defender-endpoint')).toMatchObject({ status: 'fail', message: `Microsoft Defender for Endpoint on ${where}: tamper protection: "audit"` })
    // The catalogue's Linux minimum judges the version the sensor's own falconctl reports.
    expect(finding(r, 'endpoint-agent-outdated', 'crowdstrike-falcon')).toMatchObject({ status: 'fail', evidence: { version: '7.14.16703.0', minVersion: '7.15', minimumFrom: 'catalogue (linux)' } })
    // falconctl has no tamper status command in the catalogue: no verdict, not a pass.
    expect(finding(r, 'endpoint-agent-tamper-protection-off', 'crowdstrike-falcon')).toBeUndefined()
  }

  it('this machine: the local runner runs the catalogue status commands with fixed argv and judges their output', async () => {
    await writeFile(log, '')
    const r = await tester.run('local', { settings: { endpointAgent: { catalogue } }, timeoutMs: 30_000 })
    expectVerdicts(r, 'local')
    expect((await readFile(log, 'utf8')).trim().split('\n').sort()).toEqual([
      'falconctl -g --aid', 'falconctl -g --rfm-state', 'falconctl -g --version',
      'mdatp health --field healthy', 'mdatp health --field licensed', 'mdatp health --field tamper_protection', 'mdatp version',
    ])
  })

  it('SentinelOne: Connectivity Off is not connected; a status command that fails is a named skip, never a pass', async () => {
    const d = join(dir, 's1')
    await mkdir(d, { recursive: true })
    await copyFile('/bin/sleep', join(d, 's1-agent'))
    const s1 = spawn(join(d, 's1-agent'), ['600'], { stdio: 'ignore' })
    try {
      await writeFile(join(d, 'sentinelctl'), `#!/bin/sh
case "$*" in
  "version") echo 'Agent version: 24.1.2.6' ;;
  "management status") printf 'Management URL: https://usea1-example.sentinelone.net\nSite-Key: 0123456789abcdef\nUUID: ff819e70af13be381993075eb0ce5f2f\nConnectivity: Off\n' ;;
esac
`, { mode: 0o755 })
      // A falconctl that refuses to run (not root): it answers nothing, so nothing is judged from it.
      await writeFile(join(d, 'falconctl'), `#!/bin/sh
echo 'falconctl: This utility must be run as root' >&2
exit 1
`, { mode: 0o755 })
      const cat = join(d, 'catalogue.json')
      await writeFile(cat, JSON.stringify({ agents: [relocated('sentinelone', ['s1-agent'], join(d, 'sentinelctl')), relocated('crowdstrike-falcon', ['ztfake-falcon'], join(d, 'falconctl'))] }))
      const r = await tester.run('local', { settings: { endpointAgent: { catalogue: cat } }, timeoutMs: 30_000 })
      expect(r.errors).toEqual([])
      expect(finding(r, 'endpoint-agent-not-connected', 'sentinelone')).toMatchObject({ status: 'fail', evidence: { version: '24.1.2.6', state: 'status command says: Connectivity: Off' } })
      for (const rule of ['endpoint-agent-not-connected', 'endpoint-agent-sensor-degraded']) expect(finding(r, rule, 'crowdstrike-falcon'), rule).toBeUndefined()
      const skips = r.skipped.filter((x) => x.why.includes('CrowdStrike')).map((x) => [x.rule, x.why])
      expect(skips).toEqual([
        ['endpoint-agent-not-connected', `endpoint-agent-not-connected: CrowdStrike Falcon sensor on local: ${join(d, 'falconctl')} -g --aid gave no answer (exit 1: falconctl: This utility must be run as root): not determinable (root may be needed)`],
        ['endpoint-agent-sensor-degraded', `endpoint-agent-sensor-degraded: CrowdStrike Falcon sensor on local: ${join(d, 'falconctl')} -g --rfm-state gave no answer (exit 1: falconctl: This utility must be run as root): not determinable (root may be needed)`],
      ])
    } finally {
      s1.kill('SIGKILL')
    }
  })

  it('block is on; a sensor that registered is connected', async () => {
    const ok = join(dir, 'ok')
    await mkdir(ok, { recursive: true })
    await writeFile(join(ok, 'falconctl'), `#!/bin/sh\ncase "$*" in "-g --aid") echo 'aid="0123456789abcdef0123456789abcdef".' ;; "-g --rfm-state") echo 'rfm-state=false.' ;; esac\n`, { mode: 0o755 })
    await writeFile(join(ok, 'mdatp'), `#!/bin/sh\ncase "$*" in "health --field tamper_protection") echo '"block"' ;; "health --field licensed") echo 'false' ;; *) echo 'true' ;; esac\n`, { mode: 0o755 })
    const cat = join(ok, 'catalogue.json')
    await writeFile(cat, JSON.stringify({ agents: [relocated('crowdstrike-falcon', ['ztfake-falcon'], join(ok, 'falconctl')), relocated('defender-endpoint', ['ztfake-wdavd'], join(ok, 'mdatp'))] }))
    const r = await tester.run('local', { settings: { endpointAgent: { catalogue: cat } }, timeoutMs: 30_000 })
    expect(finding(r, 'endpoint-agent-not-connected', 'crowdstrike-falcon')?.status).toBe('pass')
    expect(finding(r, 'endpoint-agent-tamper-protection-off', 'defender-endpoint')?.status).toBe('pass')
    // licensed false: installed and running, but not onboarded to any tenant.
    expect(finding(r, 'endpoint-agent-not-connected', 'defender-endpoint')).toMatchObject({ status: 'fail', evidence: { state: 'status command says: false' } })
  })

  describe.skipIf(!hasSshd())('over a real loopback sshd (needs /usr/sbin/sshd and ssh-keygen; CI installs openssh-server)', () => {
    let sshd: Sshd
    let sent: string
    beforeAll(async () => {
      sent = join(dir, 'sent.log')
      await writeFile(join(dir, 'wrap.sh'), `#!/bin/sh\nprintf '%s\\n' "$SSH_ORIGINAL_COMMAND" >> '${sent}'\nexec /bin/sh -c "$SSH_ORIGINAL_COMMAND"\n`, { mode: 0o755 })
      sshd = await startSshd({ config: `ForceCommand ${dir}/wrap.sh` })
    })
    afterAll(() => sshd?.stop())

    it('the same verdicts through the SSH runner; every command string is fixed words, each single-quoted', async () => {
      await writeFile(sent, '')
      const r = await tester.run(`agents://${sshd.user}@127.0.0.1:${sshd.port}`, {
        settings: { ssh: { knownHostsPath: sshd.knownHostsPath, privateKeyPath: sshd.clientKeyPath }, endpointAgent: { catalogue } },
        timeoutMs: 30_000,
      })
      expectVerdicts(r, `127.0.0.1:${sshd.port}`)
      const cmds = (await readFile(sent, 'utf8')).trim().split('\n')
      expect(cmds).toContain(`LC_ALL=C '${join(dir, 'bin', 'falconctl')}' '-g' '--aid'`)
      expect(cmds).toContain(`LC_ALL=C '${join(dir, 'bin', 'mdatp')}' 'health' '--field' 'tamper_protection'`)
      for (const c of cmds) expect(c.replace(/'[^']*'/g, '').trim()).toBe('LC_ALL=C')
    })
  })
})
