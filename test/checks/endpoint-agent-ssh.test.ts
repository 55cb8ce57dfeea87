/**
 * The endpoint-agent family through the real SSH path: a real OpenSSH sshd on 127.0.0.1, key authentication, host key
 * pinned via known_hosts. The "remote" host is this machine, so agents are planted without touching system paths:
 *  - running: a copy of `sleep` named `falcon-sensor` (the real catalogue process name of CrowdStrike Falcon) is started;
 *  - installed but stopped: an operator catalogue (settings.endpointAgent.catalogue, a supported feature for in-house or
 *    relocated agents) declares `acme-edr` with an install path under a temp dir, where a file is planted; no process runs;
 *  - missing: SentinelOne (nothing of it exists).
 * The real catalogue's system paths (/opt/CrowdStrike…) are never written.
 */
import { describe, it, expect, beforeAll, afterAll, onTestFinished } from 'vitest'
import { spawn, type ChildProcess } from 'node:child_process'
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import endpointAgent from '../../checks/endpoint-agent/index.ts'
import { passwordAlone, SSHD } from '../../checks/endpoint-agent/probe.ts'
import type { Policy } from '../../src/rules/policy.ts'
import type { ScanReport } from '../../src/types.ts'
import { checkTester } from '../helpers/check-tester.ts'
import { hasSshd, startSshd, type Sshd } from '../helpers/sshd.ts'

const NO_SSHD = !hasSshd()
const WHY = 'needs /usr/sbin/sshd and ssh-keygen (CI installs openssh-server)'
// The agent and sshd rules (endpoint-agent-status); the posture check over SSH is tested in endpoint-agent-posture.test.ts.
const tester = checkTester(endpointAgent.checks.filter((c) => c.id !== 'endpoint-agent-posture'))

const status = (r: ScanReport, rule: string, resource: string): string | undefined => r.findings.find((f) => f.ruleId === rule && f.resource === resource)?.status

describe.skipIf(NO_SSHD)(`endpoint-agent over real SSH (${WHY})`, () => {
  let sshd: Sshd
  let dir: string
  let log: string
  let fake: ChildProcess | undefined
  let fake2: ChildProcess | undefined
  let catalogue: string

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ztscan-ea-ssh-'))
    log = join(dir, 'commands.log')
    // Every exec goes through this wrapper, which records the exact command string the remote shell receives.
    await writeFile(join(dir, 'wrap.sh'), `#!/bin/sh\nprintf '%s\\n' "$SSH_ORIGINAL_COMMAND" >> '${log}'\nexec /bin/sh -c "$SSH_ORIGINAL_COMMAND"\n`, { mode: 0o755 })
    sshd = await startSshd({ config: `ForceCommand ${dir}/wrap.sh` })

    await mkdir(join(dir, 'bin'))
    await copyFile('/bin/sleep', join(dir, 'bin', 'falcon-sensor'))
    await copyFile('/bin/sleep', join(dir, 'bin', 'acme-sensord'))
    await chmod(join(dir, 'bin', 'falcon-sensor'), 0o755)
    await chmod(join(dir, 'bin', 'acme-sensord'), 0o755)
    fake = spawn(join(dir, 'bin', 'falcon-sensor'), ['600'], { stdio: 'ignore' })
    fake2 = spawn(join(dir, 'bin', 'acme-sensord'), ['600'], { stdio: 'ignore' })

    // Installed-but-stopped agent (acme-edr) and a running one whose own tools report an old version and a degraded state.
    await mkdir(join(dir, 'opt', 'acme'), { recursive: true })
    await writeFile(join(dir, 'opt', 'acme', 'acmectl'), '#!/bin/sh\necho "acme edr 1.2.3"\n', { mode: 0o755 })
    await mkdir(join(dir, 'opt', 'acme-sensor'), { recursive: true })
    await writeFile(join(dir, 'opt', 'acme-sensor', 'ctl'), '#!/bin/sh\ncase "$1" in version) echo "version = 2.0.0";; health) echo "rfm-state=true";; esac\n', { mode: 0o755 })
    catalogue = join(dir, 'catalogue.json')
    await writeFile(catalogue, JSON.stringify({
      agents: [
        { id: 'acme-edr', name: 'Acme EDR', vendor: 'Acme', categories: ['edr'], source: ['https://example.com/acme'],
          platforms: { linux: { processes: ['acme-edrd'], paths: [join(dir, 'opt', 'acme', 'acmectl')], version: [{ argv: [join(dir, 'opt', 'acme', 'acmectl'), '--version'], pattern: 'acme edr ([0-9.]+)' }] } } },
        { id: 'acme-sensor', name: 'Acme Sensor', vendor: 'Acme', categories: ['edr'], source: ['https://example.com/acme'],
          platforms: { linux: { processes: ['acme-sensord'], paths: [join(dir, 'opt', 'acme-sensor', 'ctl')],
            version: [{ argv: [join(dir, 'opt', 'acme-sensor', 'ctl'), 'version'], pattern: 'version = ([0-9.]+)' }],
            degraded: [{ argv: [join(dir, 'opt', 'acme-sensor', 'ctl'), 'health'], pattern: 'rfm-state=true' }] } } },
      ],
    }))
  })
  afterAll(async () => {
    fake?.kill('SIGKILL')
    fake2?.kill('SIGKILL')
    await sshd?.stop()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  const settings = () => ({ ssh: { knownHostsPath: sshd.knownHostsPath, privateKeyPath: sshd.clientKeyPath }, endpointAgent: { catalogue } })
  const policy: Policy = {
    source: 'test',
    rules: {
      'endpoint-agent-missing': { parameters: { required: ['crowdstrike-falcon', 'sentinelone', 'acme-edr', 'category:edr'] } },
      'endpoint-agent-outdated': { parameters: { minVersions: { 'acme-edr': '1.0', 'acme-sensor': '3.0' } } },
    },
  }

  it('running, installed-but-stopped and missing agents, each through the real SSH path', async () => {
    await writeFile(log, '')
    const target = `agents://${sshd.user}@127.0.0.1:${sshd.port}`
    const r = await tester.run(target, { settings: settings(), policy, timeoutMs: 30_000 })
    expect(r.errors).toEqual([])
    expect(status(r, 'endpoint-agent-missing', 'require:crowdstrike-falcon')).toBe('pass')
    expect(status(r, 'endpoint-agent-missing', 'require:sentinelone')).toBe('fail')
    expect(status(r, 'endpoint-agent-missing', 'require:acme-edr')).toBe('pass')
    expect(status(r, 'endpoint-agent-missing', 'require:category:edr')).toBe('pass')
    expect(status(r, 'endpoint-agent-not-running', 'agent:crowdstrike-falcon')).toBe('pass')
    expect(status(r, 'endpoint-agent-not-running', 'agent:acme-edr')).toBe('fail')
    expect(status(r, 'endpoint-agent-not-running', 'agent:acme-sensor')).toBe('pass')
    expect(status(r, 'endpoint-agent-not-running', 'agent:sentinelone')).toBeUndefined()
    expect(status(r, 'endpoint-agent-outdated', 'agent:acme-edr')).toBe('pass')
    expect(status(r, 'endpoint-agent-outdated', 'agent:acme-sensor')).toBe('fail')
    expect(status(r, 'endpoint-agent-sensor-degraded', 'agent:acme-sensor')).toBe('fail')

    const stopped = r.findings.find((f) => f.ruleId === 'endpoint-agent-not-running' && f.resource === 'agent:acme-edr')!
    expect(stopped.evidence).toMatchObject({ host: `127.0.0.1:${sshd.port}`, agent: 'Acme EDR', state: 'installed but not running', version: '1.2.3' })
    expect(stopped.message).toBe(`Acme EDR on 127.0.0.1:${sshd.port} is installed but not running`)
    const falcon = r.findings.find((f) => f.ruleId === 'endpoint-agent-not-running' && f.resource === 'agent:crowdstrike-falcon')!
    expect(falcon.evidence).toMatchObject({ state: 'running', processes: ['falcon-sensor'], version: 'unknown' })

    // What reached the remote shell: fixed words and catalogue values, every word single-quoted, no target data.
    const sent = (await readFile(log, 'utf8')).trim().split('\n')
    expect(sent.length).toBeGreaterThanOrEqual(4)
    for (const cmd of sent) {
      expect(cmd).toMatch(/^LC_ALL=C '/)
      expect(cmd.replace(/'[^']*'/g, '').trim()).toBe('LC_ALL=C')
      expect(cmd).not.toContain('127.0.0.1')
      expect(cmd).not.toContain(String(sshd.port))
    }
    expect(new Set(sent.map((c) => /^LC_ALL=C '([^']*)'/.exec(c)![1]))).toEqual(new Set(['uname', 'ps', 'systemctl', 'ls', SSHD, join(dir, 'opt', 'acme', 'acmectl'), join(dir, 'opt', 'acme-sensor', 'ctl')]))
  })

  it('host key mismatch → host-key error, no finding, and no command ran', async () => {
    await writeFile(log, '')
    const r = await tester.run(`agents://127.0.0.1:${sshd.port}`, {
      settings: { ssh: { privateKeyPath: sshd.clientKeyPath, hostKeyFingerprints: ['SHA256:' + 'B'.repeat(43)] } },
    })
    expect(r.findings).toEqual([])
    expect(r.errors).toHaveLength(1)
    expect(r.errors[0]).toMatchObject({ check: 'endpoint-agent-status', reason: 'host-key' })
    expect(await readFile(log, 'utf8')).toBe('')
  })

  it('unknown host key without the opt-out → host-key error', async () => {
    const r = await tester.run(`agents://127.0.0.1:${sshd.port}`, { settings: { ssh: { privateKeyPath: sshd.clientKeyPath } } })
    expect(r.errors[0]).toMatchObject({ reason: 'host-key' })
    expect(r.errors[0]!.message).toMatch(/unknown/)
  })

  it('a server whose every command floods 100 MB → capped, an error result, nothing hangs', async () => {
    const flood = await startSshd({ config: 'ForceCommand head -c 100000000 /dev/zero' })
    onTestFinished(() => flood.stop())
    const r = await tester.run(`agents://127.0.0.1:${flood.port}`, {
      settings: { ssh: { knownHostsPath: flood.knownHostsPath, privateKeyPath: flood.clientKeyPath } },
      timeoutMs: 30_000,
    })
    expect(r.findings).toEqual([])
    expect(r.errors).toHaveLength(1)
    expect(r.errors[0]!.reason).toBe('protocol')
    expect(r.errors[0]!.message).toMatch(/unsupported operating system/)
  })
})

describe.skipIf(NO_SSHD)(`endpoint-agent: SSH server hardening from a real sshd -T (${WHY})`, () => {
  const ROOT = process.getuid?.() === 0
  const finding = (r: ScanReport, rule: string) => r.findings.find((f) => f.ruleId === rule && f.resource === 'sshd')

  it.skipIf(!ROOT)('the running loopback sshd with root and password logins on fails both rules; a hardened config it reads passes both (root: sshd -T reads host keys)', async () => {
    const weak = await startSshd({ config: 'PermitRootLogin yes\nPasswordAuthentication yes' })
    onTestFinished(() => weak.stop())
    const ssh = { knownHostsPath: weak.knownHostsPath, privateKeyPath: weak.clientKeyPath }
    const own = join(weak.dir, 'sshd_config') // the config this sshd runs with
    let r = await tester.run(`agents://127.0.0.1:${weak.port}`, { settings: { ssh, endpointAgent: { sshdConfig: own } }, timeoutMs: 30_000 })
    expect(r.errors).toEqual([])
    expect(r.skipped).toEqual([])
    expect(finding(r, 'endpoint-agent-sshd-root-login')).toMatchObject({ status: 'fail', message: `127.0.0.1:${weak.port} sshd: PermitRootLogin yes` })
    expect(finding(r, 'endpoint-agent-sshd-password-login')).toMatchObject({ status: 'fail', evidence: { state: 'password on, AuthenticationMethods any', config: own } })

    // A second config the test writes: root login off, a password only after a key.
    const hardened = join(weak.dir, 'hardened_config')
    await writeFile(hardened, `HostKey ${join(weak.dir, 'ssh_host_ed25519_key')}\nUsePAM no\nPermitRootLogin no\nPasswordAuthentication yes\nKbdInteractiveAuthentication no\nAuthenticationMethods publickey,password\n`)
    r = await tester.run(`agents://127.0.0.1:${weak.port}`, { settings: { ssh, endpointAgent: { sshdConfig: hardened } }, timeoutMs: 30_000 })
    expect(finding(r, 'endpoint-agent-sshd-root-login')?.status).toBe('pass')
    expect(finding(r, 'endpoint-agent-sshd-password-login')).toMatchObject({ status: 'pass', evidence: { state: 'password only after a key (AuthenticationMethods publickey,password)' } })
  })

  it('a config sshd cannot read is a named skip of both rules with the reason, never a pass', async () => {
    const r = await tester.run('local', { settings: { endpointAgent: { sshdConfig: '/nonexistent/sshd_config' } } })
    expect(r.errors).toEqual([])
    expect(r.findings.filter((f) => f.ruleId.startsWith('endpoint-agent-sshd-'))).toEqual([])
    expect(r.skipped.map((x) => x.rule)).toEqual(['endpoint-agent-sshd-password-login', 'endpoint-agent-sshd-root-login'])
    for (const x of r.skipped) expect(x.why).toContain('sshd -T on local could not read /nonexistent/sshd_config (/nonexistent/sshd_config: No such file or directory): not determinable')
  })

  it('an sshdConfig that is not a plain absolute path is refused before anything runs', async () => {
    for (const bad of ['relative/sshd_config', '/etc/ssh/$(id)', '/etc/../etc/shadow', "/tmp/a'b"]) {
      const r = await tester.run('local', { settings: { endpointAgent: { sshdConfig: bad } } })
      expect(r.findings).toEqual([])
      expect(r.errors[0]).toMatchObject({ reason: 'input' })
      expect(r.errors[0]!.message).toContain('settings.endpointAgent.sshdConfig')
    }
  })
})

describe('passwordAlone (AuthenticationMethods semantics)', () => {
  it.each([
    [{ passwordauthentication: 'no', kbdinteractiveauthentication: 'no' }, false],
    [{ passwordauthentication: 'yes', authenticationmethods: 'any' }, true],
    [{ passwordauthentication: 'yes', authenticationmethods: 'publickey,password' }, false],
    [{ passwordauthentication: 'yes', authenticationmethods: 'publickey,password password' }, true],
    [{ passwordauthentication: 'no', kbdinteractiveauthentication: 'yes', authenticationmethods: 'keyboard-interactive:pam' }, true],
    [{ passwordauthentication: 'yes', authenticationmethods: 'publickey' }, false],
  ])('%j → alone %s', (v, alone) => {
    expect(passwordAlone(new Map(Object.entries(v))).alone).toBe(alone)
  })
})

describe('endpoint-agent: hostile SSH endpoints', () => {
  it.each([
    { name: 'never answers', onConn: (_s: Socket) => {} },
    { name: 'endless banner', onConn: (s: Socket) => { const t = setInterval(() => s.write('z'.repeat(2000) + '\r\n'), 5); s.on('close', () => clearInterval(t)) } },
  ])('server that $name → error within the timeout', async ({ onConn }) => {
    const socks = new Set<Socket>()
    const srv = createServer((s) => { socks.add(s); s.on('error', () => {}); onConn(s) })
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
    onTestFinished(() => new Promise<void>((r) => { for (const s of socks) s.destroy(); srv.close(() => r()) }))
    const port = (srv.address() as { port: number }).port
    const r = await tester.run(`agents://127.0.0.1:${port}`, { settings: { ssh: { acceptUnknownHostKeys: true, password: 'not-used' } }, connectTimeoutMs: 400, timeoutMs: 5_000 })
    expect(r.findings).toEqual([])
    expect(r.errors).toHaveLength(1)
    expect(['timeout', 'protocol']).toContain(r.errors[0]!.reason)
    expect(r.errors[0]!.check).toBe('endpoint-agent-status')
  })
})


