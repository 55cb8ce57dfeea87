/**
 * Device posture (endpoint-agent-posture) on real Linux: this machine read for real and its outcomes checked against what
 * the test reads itself; the same controls over a real loopback sshd; firewall rulesets the test loads in a user + network
 * namespace it creates (`unshare -rn`: its own netfilter tables, so the machine's firewall is never touched). macOS outputs
 * are fixtures written from the documented formats (fixtures/endpoint-agent/posture/README.md names each command), replayed
 * through the same control code by a runner standing in for a Mac no test can reach.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { execFile, spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import endpointAgent from '../../checks/endpoint-agent/index.ts'
import { POSTURE_COMMANDS, postureArgv, type PostureCommand } from '../../checks/endpoint-agent/posture/commands.ts'
import { appFirewallBlockAll, fileVault, macUpdates, screenLock } from '../../checks/endpoint-agent/posture/darwin.ts'
import { observePosture, PostureReader, POSTURE_RULES, releaseOf, supportEnd, type Outcome, type PostureRule } from '../../checks/endpoint-agent/posture/index.ts'
import { aptPending, chainEncrypted, iptablesInbound, lsblkRootChain, nftInbound, parseOsRelease, rootMount } from '../../checks/endpoint-agent/posture/linux.ts'
import { probeArgv, probeCommandString, type Probe, type ProbeRunner } from '../../checks/endpoint-agent/probe.ts'
import type { Policy } from '../../src/rules/policy.ts'
import type { ScanReport } from '../../src/types.ts'
import { checkTester } from '../helpers/check-tester.ts'
import { hasSshd, startSshd, type Sshd } from '../helpers/sshd.ts'

const run = promisify(execFile)
const FIX = join(import.meta.dirname, '..', '..', 'fixtures', 'endpoint-agent', 'posture')
const posture = endpointAgent.checks.filter((c) => c.id === 'endpoint-agent-posture')
/**
 * Passes stored as findings (the tests read their evidence). An untyped record: `includePassed` is the engine's opt-in
 * once passes are counted rather than stored; an engine that stores every pass ignores it.
 */
const KEEP_PASSES: Record<string, unknown> = { includePassed: true }
const tester = checkTester(posture, KEEP_PASSES)
const has = (bin: string): boolean => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0

/** Each posture rule's outcome in a report: a finding (status + state) or a named skip (its reason), never nothing. */
function outcomes(r: ScanReport): Map<string, string> {
  const m = new Map<string, string>()
  for (const f of r.findings) m.set(f.ruleId, `${f.status}: ${String(f.evidence.state)}`)
  for (const s of r.skipped) if (s.rule) m.set(s.rule, `skip: ${s.why.replace(/^endpoint-agent-[a-z-]+: (?:local|\S+:\d+): /, '')}`)
  return m
}

/** This machine's posture report, read once and shared by the local and SSH tests (apt's simulation is slow in an image without its cache). */
let localReport: Promise<ScanReport> | undefined
const readLocal = (): Promise<ScanReport> => (localReport ??= tester.run('local', { timeoutMs: 120_000 }))

describe('endpoint-agent posture on this machine (read for real)', () => {
  let report: ScanReport
  beforeAll(async () => {
    report = await readLocal()
  }, 180_000)

  it('every control is a finding or a named skip with its reason, never silent, and the attempt did not error', () => {
    expect(report.errors).toEqual([])
    const o = outcomes(report)
    for (const rule of POSTURE_RULES) expect(o.get(rule), rule).toMatch(/^(pass|fail|skip): \S/)
    for (const f of report.findings) expect(f.resource).toBe(`posture:${f.ruleId.slice('endpoint-agent-'.length)}`)
  })

  it('OS support: the release the test reads from /etc/os-release, judged against the table and today', () => {
    const rel = parseOsRelease(readFileSync('/etc/os-release', 'utf8'))
    const end = supportEnd(rel.get('ID')!, rel.get('VERSION_ID') ?? '', {})
    const f = report.findings.find((x) => x.ruleId === 'endpoint-agent-os-unsupported')
    if (!end) return expect(f).toBeUndefined()
    expect(f?.evidence.endOfSupport).toBe(end.ends)
    expect(f?.status).toBe(Date.parse(`${end.ends}T23:59:59Z`) < Date.now() ? 'fail' : 'pass')
  })

  it('disk encryption: matches what lsblk -s says about the root device (or the container skip for an overlay root)', async () => {
    const root = rootMount(readFileSync('/proc/mounts', 'utf8'))!
    const o = outcomes(report).get('endpoint-agent-disk-unencrypted')!
    if (!root.source.startsWith('/dev/') || !has('lsblk')) return expect(o).toMatch(/^skip: not determinable/)
    // lsblk -s lists the device's ancestors: dm-crypt among them ⇔ encrypted.
    const { stdout } = await run('lsblk', ['-n', '-s', '-o', 'TYPE', root.source])
    const encrypted = stdout.split('\n').some((t) => t.trim() === 'crypt')
    expect(o).toMatch(encrypted ? /^pass: \/ is on dm-crypt/ : /^fail: \/ is not encrypted/)
  })

  it.skipIf(!has('apt-get'))('pending security updates: the count apt itself prints for -security origins', async () => {
    const { stdout } = await run('apt-get', ['-s', '-o', 'Debug::NoLocking=1', 'dist-upgrade'], { maxBuffer: 64 << 20, env: { ...process.env, LC_ALL: 'C' } })
    const security = stdout.split('\n').filter((l) => l.startsWith('Inst ') && /-security|Debian-Security/.test(l)).length
    const f = report.findings.find((x) => x.ruleId === 'endpoint-agent-updates-pending')
    expect(f?.evidence.pendingSecurity).toBe(security)
    if (security > 0) expect(f?.status).toBe('fail')
  }, 120_000)

  it('time sync and screen lock: without systemd/chrony or a desktop they are named skips', () => {
    const o = outcomes(report)
    const hasSystemd = existsSync('/run/systemd/system')
    if (!hasSystemd && !has('chronyc')) expect(o.get('endpoint-agent-time-unsynced')).toMatch(/^skip: not determinable.*timedatectl/)
    if (!existsSync('/usr/share/xsessions') && !existsSync('/usr/share/wayland-sessions')) expect(o.get('endpoint-agent-screen-lock-off')).toMatch(/^skip: no desktop/)
  })
})

const NO_SSHD = !hasSshd()
describe.skipIf(NO_SSHD)('endpoint-agent posture over a real loopback sshd (needs /usr/sbin/sshd)', () => {
  let sshd: Sshd
  let dir: string
  let log: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ztscan-posture-ssh-'))
    log = join(dir, 'commands.log')
    await writeFile(join(dir, 'wrap.sh'), `#!/bin/sh\nprintf '%s\\n' "$SSH_ORIGINAL_COMMAND" >> '${log}'\nexec /bin/sh -c "$SSH_ORIGINAL_COMMAND"\n`, { mode: 0o755 })
    sshd = await startSshd({ config: `ForceCommand ${dir}/wrap.sh` })
  })
  afterAll(async () => {
    await sshd?.stop()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it('the same outcomes as the local read (the "remote" host is this machine), sending only the fixed command strings', async () => {
    const settings = { ssh: { knownHostsPath: sshd.knownHostsPath, privateKeyPath: sshd.clientKeyPath } }
    const viaSsh = await tester.run(`agents://${sshd.user}@127.0.0.1:${sshd.port}`, { settings, timeoutMs: 120_000 })
    const local = await readLocal()
    expect(viaSsh.errors).toEqual([])
    const a = outcomes(viaSsh)
    const b = outcomes(local)
    for (const rule of POSTURE_RULES) {
      // Package lists and pending updates could change between the two reads only if apt ran meanwhile; the rest is static.
      expect(a.get(rule), rule).toBe(b.get(rule))
    }
    const allowed = new Set([
      ...Object.keys(POSTURE_COMMANDS).map((c) => probeCommandString({ kind: 'posture', command: c as PostureCommand })),
      ...['/etc/os-release', '/proc/mounts', '/proc/sys/net/ipv6/conf/all/disable_ipv6'].map((p) => probeCommandString({ kind: 'read-file', path: p })),
      probeCommandString({ kind: 'uname' }),
    ])
    const sent = (await readFile(log, 'utf8')).trim().split('\n')
    for (const c of sent) expect(allowed.has(c) || c.startsWith("LC_ALL=C 'ls' '-1d' '--' '/usr/"), c).toBe(true)
  }, 240_000)
})

// ---------------------------------------------------------------------------------------------------------------------
// Firewall rulesets in a network namespace
// ---------------------------------------------------------------------------------------------------------------------

const NETNS = has('unshare') && has('nft') && spawnSync('unshare', ['-rn', 'nft', 'list', 'ruleset']).status === 0
describe.skipIf(!NETNS)('endpoint-agent-firewall-off: rulesets loaded in a user+network namespace (needs unshare and nft; CI installs nftables)', () => {
  let dir: string
  let results: { findings: { status: string; evidence: Record<string, unknown> }[]; skipped: { why: string }[]; errors: unknown[] }[]
  const rulesets: Record<string, string> = {
    workstation: 'table inet filter {\n chain input {\n  type filter hook input priority 0; policy drop;\n  ct state established,related accept\n  iif lo accept\n  tcp dport 22 accept\n }\n}\n',
    ipv4Only: 'table ip filter {\n chain input {\n  type filter hook input priority 0; policy drop;\n  iif lo accept\n }\n}\n',
    acceptAll: 'table inet filter {\n chain input {\n  type filter hook input priority 0; policy drop;\n  counter accept\n }\n}\n',
    rejectLast: 'table inet filter {\n chain input {\n  type filter hook input priority 0; policy accept;\n  ct state established accept\n  counter reject\n }\n}\n',
    outputOnly: 'table inet filter {\n chain output {\n  type filter hook output priority 0; policy drop;\n }\n}\n',
  }
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ztscan-posture-ns-'))
    for (const [name, text] of Object.entries(rulesets)) await writeFile(join(dir, `${name}.nft`), text)
    const steps = [
      {},
      { nft: join(dir, 'workstation.nft') },
      { nft: join(dir, 'ipv4Only.nft') },
      { nft: join(dir, 'ipv4Only.nft'), ipv6Disabled: true },
      { nft: join(dir, 'acceptAll.nft') },
      { nft: join(dir, 'rejectLast.nft') },
      { nft: join(dir, 'outputOnly.nft') },
      { commands: [['iptables', '-P', 'INPUT', 'DROP'], ['ip6tables', '-P', 'INPUT', 'DROP']] },
    ]
    const helper = join(import.meta.dirname, '..', 'helpers', 'posture-netns.ts')
    const { stdout } = await run('unshare', ['-rn', '--', process.execPath, '--import', 'tsx', helper, JSON.stringify(steps)], { maxBuffer: 16 << 20, cwd: join(import.meta.dirname, '..', '..') })
    results = JSON.parse(stdout) as typeof results
  }, 240_000)
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  const one = (i: number): { status: string; state: string } => {
    const r = results[i]!
    expect(r.errors).toEqual([])
    expect(r.findings).toHaveLength(1)
    return { status: r.findings[0]!.status, state: String(r.findings[0]!.evidence.state) }
  }

  it('an empty ruleset: everything inbound allowed → fail', () => expect(one(0)).toEqual({ status: 'fail', state: 'no input filter chain: all inbound traffic allowed' }))
  it('inet input chain, policy drop with narrow accepts → pass', () => expect(one(1)).toEqual({ status: 'pass', state: 'inbound denied by default' }))
  it('ip (IPv4-only) table with policy drop while IPv6 is on → fail naming IPv6', () => expect(one(2)).toEqual({ status: 'fail', state: 'IPv6 inbound allowed by default' }))
  it('the same with IPv6 disabled by sysctl → pass', () => expect(one(3)).toEqual({ status: 'pass', state: 'inbound denied by default (IPv6 off)' }))
  it('policy drop but an unconditional accept rule → fail', () => expect(one(4).status).toBe('fail'))
  it('policy accept ending in an unconditional reject → pass', () => expect(one(5)).toEqual({ status: 'pass', state: 'inbound denied by default' }))
  it('a drop policy on output only does not count → fail', () => expect(one(6)).toEqual({ status: 'fail', state: 'no input filter chain: all inbound traffic allowed' }))
  it('iptables -P INPUT DROP / ip6tables -P INPUT DROP → pass, read from both nft and iptables-save', () => {
    expect(one(7)).toEqual({ status: 'pass', state: 'inbound denied by default' })
    expect(String(results[7]!.findings[0]!.evidence.read)).toContain('nft')
    expect((results[7]!.findings[0]!.evidence.ipv4Chains as string[]).some((c) => c.startsWith('iptables filter/INPUT policy DROP'))).toBe(true)
  })
})

// ---------------------------------------------------------------------------------------------------------------------
// Parsers on documented formats, macOS through a replay runner
// ---------------------------------------------------------------------------------------------------------------------

const fx = (p: string): string => readFileSync(join(FIX, p), 'utf8')

describe('posture parsers on fixtures (formats documented in fixtures/endpoint-agent/posture/README.md)', () => {
  it('lsblk: / on LVM inside LUKS is encrypted; / on plain LVM (mountpoints form) is not', () => {
    const luks = lsblkRootChain(fx('linux/lsblk-luks-lvm.json'))!
    expect(luks.map((n) => n.name)).toEqual(['nvme0n1', 'nvme0n1p3', 'nvme0n1p3_crypt', 'vg-root'])
    expect(chainEncrypted(luks)).toBe(true)
    const plain = lsblkRootChain(fx('linux/lsblk-plain-lvm.json'))!
    expect(plain.map((n) => n.name)).toEqual(['sda', 'sda2', 'vg-root'])
    expect(chainEncrypted(plain)).toBe(false)
    expect(lsblkRootChain('{"blockdevices":[{"name":"sdb","type":"disk","mountpoint":"/data"}]}')).toBeUndefined()
    expect(lsblkRootChain('not json')).toBeUndefined()
  })

  it('iptables-save: ufw (policy DROP, jumps) denies; an unconditional ACCEPT before the DROP opens it; REJECT last denies; the nat table is ignored', () => {
    expect(iptablesInbound(fx('linux/iptables-save-ufw.txt'))).toEqual({ chain: 'filter/INPUT policy DROP', deny: true })
    expect(iptablesInbound(fx('linux/iptables-save-open.txt'))?.deny).toBe(false)
    expect(iptablesInbound(fx('linux/iptables-save-reject-last.txt'))).toEqual({ chain: 'filter/INPUT policy ACCEPT (ends in DROP/REJECT)', deny: true })
    expect(iptablesInbound('')).toBeUndefined()
  })

  it('apt-get -s: Ubuntu jammy-security origins are security updates, jammy-updates alone is not', () => {
    const p = aptPending(fx('linux/apt-get-s-ubuntu.txt'))
    expect(p.map((u) => [u.name, u.version, u.security])).toEqual([['libssl3', '3.0.2-0ubuntu1.15', true], ['openssl', '3.0.2-0ubuntu1.15', true], ['tzdata', '2024a-0ubuntu0.22.04.1', false]])
  })

  it('nft JSON that is not nft\'s is not read as a ruleset', () => {
    expect(nftInbound('{"nftables": 3}')).toBeUndefined()
    expect(nftInbound('[')).toBeUndefined()
  })

  it('macOS output parsers', () => {
    expect(fileVault(fx('darwin/fdesetup-on.txt'))?.on).toBe(true)
    expect(fileVault(fx('darwin/fdesetup-encrypting.txt'))).toEqual({ on: false, detail: 'FileVault is Off.; Encryption in progress: Percent completed = 41.27' })
    expect(appFirewallBlockAll(fx('darwin/socketfilterfw-blockall-disabled.txt'))).toBe(false)
    expect(macUpdates(fx('darwin/softwareupdate-pending.txt'))?.map((u) => u.recommended)).toEqual([true, true, false])
    expect(macUpdates(fx('darwin/softwareupdate-none.txt'))).toEqual([])
    expect(screenLock(fx('darwin/screenlock-300.txt'))).toEqual({ on: true, delaySeconds: 300, state: 'screenLock delay is 300 seconds' })
  })
})

/** Replays fixture outputs by command, as a Mac would print them (a stand-in: no test can reach a Mac). */
function replay(files: Partial<Record<PostureCommand, { stdout?: string; stderr?: string; code?: number }>>): ProbeRunner {
  return {
    where: 'mac.test',
    async run(p: Probe) {
      probeArgv(p) // the same validation as the real runners
      if (p.kind === 'uname') return { code: 0, stdout: 'Darwin\n', stderr: '', truncated: false }
      const r = p.kind === 'posture' ? files[p.command] : undefined
      return r ? { code: r.code ?? 0, stdout: r.stdout ?? '', stderr: r.stderr ?? '', truncated: false } : { code: 127, stdout: '', stderr: 'command not found', truncated: false }
    },
  }
}

async function darwinOutcomes(files: Parameters<typeof replay>[0], params: Record<string, unknown> = {}): Promise<Map<PostureRule, Outcome>> {
  const reader = new PostureReader(replay(files), 1000, new AbortController().signal)
  return observePosture(reader, 'darwin', { now: new Date('2026-12-01T00:00:00Z'), enabled: () => true, params: <T,>() => params as T })
}

describe('macOS posture controls from fixtures', () => {
  it('a compliant Mac: FileVault on, firewall on, macOS 14 within its estimated support, no updates, automatic updates on, lock at 300 s, network time on', async () => {
    const o = await darwinOutcomes({
      fdesetup: { stdout: fx('darwin/fdesetup-on.txt') },
      'socketfilterfw-state': { stdout: fx('darwin/socketfilterfw-enabled.txt') },
      'socketfilterfw-blockall': { stdout: fx('darwin/socketfilterfw-blockall-disabled.txt') },
      'sw-vers': { stdout: fx('darwin/sw_vers-14.txt').replace('14.4.1', '15.1') },
      softwareupdate: { stdout: fx('darwin/softwareupdate-none.txt') },
      'softwareupdate-prefs': { stdout: fx('darwin/softwareupdate-prefs-on.txt') },
      'screen-lock': { stderr: fx('darwin/screenlock-300.txt') },
      'network-time': { stdout: fx('darwin/networktime-on.txt') },
    })
    for (const rule of POSTURE_RULES) expect(o.get(rule), rule).toMatchObject({ pass: true })
    expect(o.get('endpoint-agent-os-unsupported')).toMatchObject({ state: 'macOS 15.1: supported until 2027-09-15 (estimated: the vendor publishes no date)' })
  })

  it('a neglected Mac: every control fails or is a named skip, none passes', async () => {
    const o = await darwinOutcomes({
      fdesetup: { stdout: fx('darwin/fdesetup-encrypting.txt') },
      'socketfilterfw-state': { stdout: fx('darwin/socketfilterfw-disabled.txt') },
      'sw-vers': { stdout: fx('darwin/sw_vers-10.15.txt') },
      softwareupdate: { stdout: fx('darwin/softwareupdate-pending.txt') },
      'softwareupdate-prefs': { stdout: fx('darwin/softwareupdate-prefs-critical-off.txt') },
      'screen-lock': { code: 0, stderr: fx('darwin/screenlock-off.txt') },
      'network-time': { code: 1, stdout: fx('darwin/networktime-notroot.txt') },
    })
    expect(o.get('endpoint-agent-disk-unencrypted')).toMatchObject({ pass: false })
    expect(o.get('endpoint-agent-firewall-off')).toMatchObject({ pass: false, state: 'Firewall is disabled. (State = 0)' })
    expect(o.get('endpoint-agent-os-unsupported')).toMatchObject({ pass: false, state: 'Mac OS X 10.15.7: security support ended 2022-10-24' })
    expect(o.get('endpoint-agent-updates-pending')).toMatchObject({ pass: false, state: '2 recommended updates pending (3 in all)' })
    expect(o.get('endpoint-agent-auto-updates-off')).toMatchObject({ pass: false, state: 'CriticalUpdateInstall off' })
    expect(o.get('endpoint-agent-screen-lock-off')).toMatchObject({ pass: false })
    expect(o.get('endpoint-agent-time-unsynced')).toEqual({ skip: expect.stringMatching(/^not determinable: systemsetup -getusingnetworktime: exit 1 \(/) })
  })

  it('preferences left at their default and absent tools are named skips, not passes', async () => {
    const o = await darwinOutcomes({ 'softwareupdate-prefs': { stdout: fx('darwin/softwareupdate-prefs-unset.txt') } })
    expect(o.get('endpoint-agent-auto-updates-off')).toEqual({ skip: expect.stringContaining('AutomaticCheckEnabled and CriticalUpdateInstall not set') })
    expect(o.get('endpoint-agent-disk-unencrypted')).toEqual({ skip: 'not determinable: fdesetup not found' })
    for (const v of o.values()) expect(v).not.toHaveProperty('pass', true)
  })
})

describe('posture commands: fixed argv, nothing from data', () => {
  it('every posture command string is single-quoted fixed words (no shell expansion possible)', () => {
    for (const c of Object.keys(POSTURE_COMMANDS) as PostureCommand[]) {
      const cmd = probeCommandString({ kind: 'posture', command: c })
      // Quoted words, a quote inside one written '\'' (osquery's SQL): nothing is left outside them but LC_ALL=C.
      expect(cmd.replace(/'(?:[^']|'\\'')*'/g, '').replace(/\s+/g, ' ').trim()).toBe('LC_ALL=C')
      expect(postureArgv(c)).toEqual(POSTURE_COMMANDS[c])
    }
    expect(() => probeArgv({ kind: 'posture', command: 'rm' as PostureCommand })).toThrow(/no posture command/)
    expect(() => probeArgv({ kind: 'posture', command: '__proto__' as PostureCommand })).toThrow(/no posture command/)
  })

  it('hostile output (huge lines, control characters, deep JSON) is bounded: named skips or findings, quickly', async () => {
    const junk = `${'\u001b[31m'.repeat(1000)}${'9'.repeat(200_000)}\n`.repeat(5)
    const deep = `${'{"children":['.repeat(5000)}${']}'.repeat(5000)}`
    const files = Object.fromEntries((Object.keys(POSTURE_COMMANDS) as PostureCommand[]).map((c) => [c, { stdout: c === 'lsblk' || c === 'nft' ? deep : junk, stderr: junk }]))
    const t0 = performance.now()
    const o = await darwinOutcomes(files)
    expect(performance.now() - t0).toBeLessThan(10_000)
    for (const v of o.values()) if ('state' in v) expect(v.state.length).toBeLessThan(400)
    const linux = await observePosture(new PostureReader({ ...replay(files), where: 'linux.test' }, 1000, new AbortController().signal), 'linux', { now: new Date(), enabled: () => true, params: <T,>() => ({}) as T })
    expect([...linux.keys()].sort()).toEqual([...POSTURE_RULES].sort())
  })
})

// A policy can switch the posture controls off like any rule.
describe('posture rules follow the policy', () => {
  it('a disabled posture rule is neither reported nor skipped', async () => {
    const policy: Policy = { source: 'test', rules: Object.fromEntries(POSTURE_RULES.filter((r) => r !== 'endpoint-agent-os-unsupported').map((r) => [r, { enabled: false }])) }
    const r = await tester.run('local', { policy, timeoutMs: 60_000 })
    expect([...outcomes(r).keys()]).toEqual(['endpoint-agent-os-unsupported'])
  }, 90_000)
})

describe('posture from inventory exports: OS support (Intune, Fleet) and Fleet disk encryption', () => {
  const NOW = new Date('2026-12-01T00:00:00Z')
  const inv = checkTester(endpointAgent.checks.filter((c) => c.id === 'endpoint-agent-status'), { ...KEEP_PASSES, now: () => NOW })
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ztscan-posture-inv-'))
  })
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it('OS names and versions as exports write them', () => {
    expect(releaseOf('Ubuntu 22.04.3 LTS')).toEqual({ id: 'ubuntu', version: '22.04.3' })
    expect(releaseOf('Microsoft Windows 11 Enterprise 22H2 10.0.22621.1702')).toEqual({ id: 'windows', version: '10.0.22621.1702' })
    expect(releaseOf('Debian GNU/Linux 12 (bookworm)')).toEqual({ id: 'debian', version: '12' })
    expect(releaseOf('Red Hat Enterprise Linux 8.9')).toEqual({ id: 'rhel', version: '8.9' })
    expect(releaseOf('Android 14')).toBeUndefined()
    expect(supportEnd('ubuntu', '22.04.3', {})?.key).toBe('ubuntu:22.04')
    expect(supportEnd('windows', '10.0.22631.3296', {})?.key).toBe('windows:10.0.22631')
    expect(supportEnd('ubuntu', '20.04', { 'ubuntu:20.04': '2030-04-30' })).toEqual({ key: 'ubuntu:20.04', ends: '2030-04-30', estimate: false })
  })

  it('Fleet hosts: os_version judged per device, unknown OS counted as one named skip, disk_encryption_enabled true/false judged and null a named skip', async () => {
    const hosts = [
      { id: 1, hostname: 'web-1', os_version: 'Ubuntu 22.04.3 LTS', disk_encryption_enabled: true, seen_time: NOW.toISOString() },
      { id: 2, hostname: 'old-1', os_version: 'Ubuntu 20.04.6 LTS', disk_encryption_enabled: false, seen_time: NOW.toISOString() },
      { id: 3, hostname: 'lin-3', os_version: 'Debian GNU/Linux 13 (trixie)', disk_encryption_enabled: null, seen_time: NOW.toISOString() },
      { id: 4, hostname: 'tv-1', os_version: 'Android 14', seen_time: NOW.toISOString() },
      { id: 5, hostname: 'tv-2', os_version: 'Android 14', seen_time: NOW.toISOString() },
    ]
    const file = join(dir, 'fleet.json')
    await writeFile(file, JSON.stringify({ hosts }))
    const r = await inv.run(`inventory:fleet:${file}`)
    const st = (rule: string, id: number): string | undefined => r.findings.find((f) => f.ruleId === rule && f.resource === `device:${id}`)?.status
    expect([1, 2, 3].map((i) => st('endpoint-agent-os-unsupported', i))).toEqual(['pass', 'fail', 'pass'])
    expect([1, 2, 3].map((i) => st('endpoint-agent-disk-unencrypted', i))).toEqual(['pass', 'fail', undefined])
    const skips = r.skipped.map((s) => s.why)
    expect(skips).toContain('endpoint-agent-os-unsupported: Android 14: no OS release recognised (known: ubuntu, debian, rhel, rocky, almalinux, centos, amzn, alpine, macos, windows) (2 devices)')
    expect(skips).toContain('endpoint-agent-disk-unencrypted: disk_encryption_enabled is null (Fleet does not know it for this host) (1 of 5 devices)')
    expect(skips.some((w) => w.startsWith('endpoint-agent-disk-unencrypted: disk_encryption_enabled not in this export (2 of 5 devices)'))).toBe(true)
  })

  it('Intune: operatingSystem + osVersion (Windows by build); an export without osVersion is a named skip', async () => {
    const file = join(dir, 'intune.json')
    await writeFile(file, JSON.stringify({ value: [
      { id: 'a', deviceName: 'LT-1', operatingSystem: 'Windows', osVersion: '10.0.26200.6584', complianceState: 'compliant' },
      { id: 'b', deviceName: 'LT-2', operatingSystem: 'Windows', osVersion: '10.0.19045.4170', complianceState: 'compliant' },
      { id: 'c', deviceName: 'LT-3', operatingSystem: 'macOS', complianceState: 'compliant' },
    ] }))
    const r = await inv.run(`inventory:intune:${file}`)
    const f = (id: string) => r.findings.find((x) => x.ruleId === 'endpoint-agent-os-unsupported' && x.resource === `device:${id}`)
    expect(f('a')?.status).toBe('pass')
    expect(f('b')?.evidence.state).toBe('Windows 10.0.19045.4170: security support ended 2025-10-14')
    expect(f('c')).toBeUndefined()
    expect(r.skipped.map((s) => s.why)).toContain('endpoint-agent-os-unsupported: osVersion not in this export (1 of 3 devices) — was it made with $select?')
  })
})
