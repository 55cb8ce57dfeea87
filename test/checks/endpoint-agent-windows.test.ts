/**
 * Windows device posture (endpoint-agent-posture on a Windows OpenSSH server). No test here can reach Windows: the outputs
 * are fixtures written from Microsoft's documented formats (fixtures/endpoint-agent/posture/README.md names the command of
 * each), replayed (1) by a runner standing in for the host, through the same control code, and (2) end to end through a real
 * loopback sshd whose ForceCommand stands in for the Windows shell: it answers only the exact fixed command lines (by their
 * SHA-256) with a fixture and anything else the way cmd.exe does, so the test sees every byte the scan sends.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import endpointAgent from '../../checks/endpoint-agent/index.ts'
import { WINDOWS_COMMANDS, WINDOWS_SCRIPT, windowsArgv, windowsCommandLine, type WindowsCommand } from '../../checks/endpoint-agent/posture/commands.ts'
import { observePosture, postureOs, PostureReader, POSTURE_RULES, type Outcome, type PostureRule } from '../../checks/endpoint-agent/posture/index.ts'
import { bitLockerJson, firewallProfiles, hotFixes, manageBde, psDate, windowsOs } from '../../checks/endpoint-agent/posture/windows.ts'
import { probeArgv, probeCommandString, type Probe, type ProbeRunner } from '../../checks/endpoint-agent/probe.ts'
import { checkTester } from '../helpers/check-tester.ts'
import { hasSshd, startSshd, type Sshd } from '../helpers/sshd.ts'

const FIX = join(import.meta.dirname, '..', '..', 'fixtures', 'endpoint-agent', 'posture', 'windows')
const fx = (p: string): string => readFileSync(join(FIX, p), 'utf8')
const NOW = new Date('2026-12-01T00:00:00Z')
/** cmd.exe's answer to a command it does not know (here: `LC_ALL=C 'uname' '-s'`). */
const CMD_UNKNOWN = { code: 1, stdout: '', stderr: "'LC_ALL' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n" }

type Answer = { stdout?: string; stderr?: string; code?: number }
type Answers = Partial<Record<WindowsCommand, Answer>>

/** A compliant Windows 11 host, by command. */
const GOOD: Answers = {
  'win-os': { stdout: fx('win32-os-11-25h2.json') },
  'win-bitlocker': { stdout: fx('bitlockervolume-full.json') },
  'win-firewall': { stdout: fx('netfirewallprofile-full-block.json') },
  'win-hotfix': { stdout: fx('hotfix-recent.json') },
  'win-au-policy': { stdout: fx('au-policy-scheduled.json') },
}

/** Replays fixture outputs by Windows command, as a Windows OpenSSH server would print them; records each command line. */
function replay(answers: Answers, sent: string[] = []): ProbeRunner {
  return {
    where: 'win.test',
    async run(p: Probe) {
      probeArgv(p) // the same validation as the real runners
      sent.push(probeCommandString(p))
      const r = p.kind === 'windows' ? answers[p.command] : CMD_UNKNOWN
      const miss = { code: 1, stdout: '', stderr: `'${p.kind === 'windows' ? windowsArgv(p.command)[0] : '?'}' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n` }
      return r ? { code: r.code ?? 0, stdout: r.stdout ?? '', stderr: r.stderr ?? '', truncated: false } : { ...miss, truncated: false }
    },
  }
}

async function windowsOutcomes(answers: Answers, params: Record<string, unknown> = {}): Promise<Map<PostureRule, Outcome>> {
  const reader = new PostureReader(replay(answers), 1000, new AbortController().signal)
  expect(await postureOs(reader)).toBe('windows')
  return observePosture(reader, 'windows', { now: NOW, enabled: () => true, params: <T,>() => params as T })
}

describe('Windows posture parsers on fixtures', () => {
  it('manage-bde -status: the [OS Volume] block, CRLF lines, every conversion and protection status', () => {
    expect(manageBde(fx('manage-bde-encrypted.txt'))).toEqual([
      { mount: 'C:', system: true, status: 'FullyEncrypted', protection: 'On', percent: 100 },
      { mount: 'D:', system: false, status: 'FullyDecrypted', protection: 'Off', percent: 0 },
    ])
    expect(manageBde(fx('manage-bde-suspended.txt'))).toEqual([{ mount: 'C:', system: true, status: 'FullyEncrypted', protection: 'Off', percent: 100 }])
    expect(manageBde(fx('manage-bde-encrypting.txt'))?.[0]).toMatchObject({ status: 'EncryptionInProgress', percent: 41.3 })
    expect(manageBde(fx('manage-bde-denied.txt'))).toBeUndefined()
    expect(manageBde('Volume C: [OS]\r\n[OS Volume]\r\n    Konvertierungsstatus: Vollständig verschlüsselt\r\n')).toBeUndefined()
  })

  it('Get-BitLockerVolume JSON: numeric enums, one object or an array; the key protectors are not read', () => {
    const full = bitLockerJson(fx('bitlockervolume-full.json'))
    expect(full).toEqual([
      { mount: 'C:', system: true, status: 'FullyEncrypted', protection: 'On', percent: 100 },
      { mount: 'E:', system: false, status: 'FullyDecrypted', protection: 'Off', percent: 0 },
    ])
    expect(JSON.stringify(full)).not.toContain('777777')
    expect(bitLockerJson(fx('bitlockervolume-suspended.json'))).toEqual([{ mount: 'C:', system: true, status: 'FullyEncrypted', protection: 'Off', percent: 100 }])
    expect(bitLockerJson('{"MountPoint":"C:","VolumeStatus":"EncryptionInProgress","ProtectionStatus":"Off"}')).toEqual([{ mount: 'C:', system: true, status: 'EncryptionInProgress', protection: 'Off', percent: undefined }])
    expect(bitLockerJson('{"MountPoint":"C:","VolumeType":0,"VolumeStatus":99,"ProtectionStatus":7}')?.[0]).toMatchObject({ status: 'unknown', protection: 'unknown' })
  })

  it('Get-NetFirewallProfile JSON: GpoBoolean (0/1/2) and Action (0/2/4) numbers, booleans and names', () => {
    expect(firewallProfiles(fx('netfirewallprofile-full-block.json'))?.map((p) => [p.name, p.enabled, p.inbound])).toEqual([['Domain', 'True', 'Block'], ['Private', 'True', 'Block'], ['Public', 'True', 'Block']])
    expect(firewallProfiles(fx('netfirewallprofile-public-allow.json'))?.[2]).toMatchObject({ name: 'Public', enabled: 'True', inbound: 'Allow' })
    expect(firewallProfiles(fx('netfirewallprofile-private-off.json'))?.[1]).toMatchObject({ name: 'Private', enabled: 'False' })
    expect(firewallProfiles(fx('netfirewallprofile-notconfigured.json'))?.[0]).toMatchObject({ enabled: 'True', inbound: 'NotConfigured' })
    expect(firewallProfiles('[{"Name":"Public","Enabled":true,"DefaultInboundAction":"Block"},{"Name":"Domain","Enabled":"NotConfigured","DefaultInboundAction":3}]')).toEqual([
      { name: 'Public', enabled: 'True', inbound: 'Block', raw: 'Enabled=true, DefaultInboundAction=Block' },
      { name: 'Domain', enabled: 'NotConfigured', inbound: 'unknown', raw: 'Enabled=NotConfigured, DefaultInboundAction=3' },
    ])
  })

  it('Win32_OperatingSystem, Get-HotFix dates in every shape ConvertTo-Json writes', () => {
    expect(windowsOs(fx('win32-os-10-22h2.json'))).toEqual({ caption: 'Microsoft Windows 10 Enterprise', version: '10.0.19045' })
    expect(windowsOs('{"Caption":"Ubuntu","Version":"10.0.1"}')).toBeUndefined()
    const h = hotFixes(fx('hotfix-recent.json'))!
    expect(h.map((x) => [x.id, x.installed?.toISOString().slice(0, 10)])).toEqual([['KB5044033', '2026-10-14'], ['KB5046617', '2026-11-11'], ['KB5043080', '2026-09-09'], ['KB5012170', undefined]])
    expect(psDate('2026-11-11T00:00:00')?.getUTCDate()).toBe(11)
    expect(psDate('11/9/2026')?.toISOString()).toBe('2026-11-09T00:00:00.000Z')
    expect(psDate('/Date(1794355200000+0100)/')?.toISOString()).toBe('2026-11-11T00:00:00.000Z')
    expect(psDate('yesterday')).toBeUndefined()
  })
})

describe('Windows posture controls from fixtures', () => {
  it('a compliant Windows 11: BitLocker on, every profile on with inbound blocked, 25H2 supported, updated 20 days ago, automatic updates scheduled', async () => {
    const o = await windowsOutcomes(GOOD)
    expect(o.get('endpoint-agent-disk-unencrypted')).toMatchObject({ pass: true, state: 'system volume C: encrypted, BitLocker protection on', evidence: { source: 'Get-BitLockerVolume' } })
    expect(o.get('endpoint-agent-firewall-off')).toMatchObject({ pass: true, state: 'Domain on, inbound blocked by default; Private on, inbound blocked by default; Public on, inbound blocked by default' })
    expect(o.get('endpoint-agent-os-unsupported')).toMatchObject({ pass: true, state: 'Microsoft Windows 11 Pro 10.0.26200: supported until 2027-10-12' })
    expect(o.get('endpoint-agent-updates-pending')).toMatchObject({ pass: true, state: 'newest update KB5046617 installed 20 days ago (limit 40); pending updates are not read on Windows' })
    expect(o.get('endpoint-agent-auto-updates-off')).toMatchObject({ pass: true, state: 'AUOptions 4: download and install automatically on a schedule' })
    // Not read on Windows: named skips, never passes.
    expect(o.get('endpoint-agent-screen-lock-off')).toEqual({ skip: expect.stringMatching(/^not read on Windows/) })
    expect(o.get('endpoint-agent-time-unsynced')).toEqual({ skip: expect.stringMatching(/^not read on Windows/) })
    expect(JSON.stringify([...o.values()])).not.toContain('777777') // the recovery password of the full fixture
  })

  it('disk: each BitLocker state as manage-bde prints it (the fallback when Get-BitLockerVolume fails)', async () => {
    const denied = { code: 1, stderr: 'Get-BitLockerVolume : Access denied\r\n' }
    const disk = async (a: Answer): Promise<Outcome | undefined> => (await windowsOutcomes({ ...GOOD, 'win-bitlocker': denied, 'manage-bde': a })).get('endpoint-agent-disk-unencrypted')
    expect(await disk({ stdout: fx('manage-bde-encrypted.txt') })).toMatchObject({ pass: true, evidence: { source: 'manage-bde -status', volume: 'C:' } })
    expect(await disk({ stdout: fx('manage-bde-suspended.txt') })).toMatchObject({ pass: false, state: 'system volume C: encrypted but BitLocker protection off (suspended: the key is stored in the clear)' })
    expect(await disk({ stdout: fx('manage-bde-decrypted.txt') })).toMatchObject({ pass: false, state: 'system volume C: not fully encrypted (FullyDecrypted, 0% encrypted)' })
    expect(await disk({ stdout: fx('manage-bde-encrypting.txt') })).toMatchObject({ pass: false, state: 'system volume C: not fully encrypted (EncryptionInProgress, 41.3% encrypted)' })
    expect(await disk({ code: 255, stdout: fx('manage-bde-denied.txt') })).toEqual({
      skip: 'not determinable: Get-BitLockerVolume: exit 1 (Get-BitLockerVolume : Access denied); manage-bde -status: exit 255 (ERROR: An attempt to access a required resource was denied.) — reading BitLocker needs an administrator',
    })
  })

  it('disk: Get-BitLockerVolume JSON, suspended and decrypted system volumes fail (a data volume encrypted does not count)', async () => {
    const disk = async (f: string): Promise<Outcome | undefined> => (await windowsOutcomes({ ...GOOD, 'win-bitlocker': { stdout: fx(f) } })).get('endpoint-agent-disk-unencrypted')
    expect(await disk('bitlockervolume-suspended.json')).toMatchObject({ pass: false, evidence: { volumeStatus: 'FullyEncrypted', protectionStatus: 'Off' } })
    expect(await disk('bitlockervolume-decrypted.json')).toMatchObject({ pass: false, state: 'system volume C: not fully encrypted (FullyDecrypted, 0% encrypted)' })
  })

  it('firewall: a profile allowing inbound or off fails naming it; NotConfigured (three-state GpoBoolean/Action) is a named skip', async () => {
    const fw = async (f: string): Promise<Outcome | undefined> => (await windowsOutcomes({ ...GOOD, 'win-firewall': { stdout: fx(f) } })).get('endpoint-agent-firewall-off')
    expect(await fw('netfirewallprofile-public-allow.json')).toMatchObject({ pass: false, state: 'Domain on, inbound blocked by default; Private on, inbound blocked by default; Public on, inbound allowed by default' })
    expect(await fw('netfirewallprofile-private-off.json')).toMatchObject({ pass: false, state: expect.stringContaining('Private off;'), evidence: { profiles: { Private: 'Enabled=0, DefaultInboundAction=4' } } })
    expect(await fw('netfirewallprofile-notconfigured.json')).toEqual({ skip: expect.stringMatching(/^not determinable: Domain Enabled=1, DefaultInboundAction=0; .*not True\/Block in the active store/) })
    const two = (await windowsOutcomes({ ...GOOD, 'win-firewall': { stdout: '[{"Name":"Domain","Enabled":1,"DefaultInboundAction":4},{"Name":"Public","Enabled":1,"DefaultInboundAction":4}]' } })).get('endpoint-agent-firewall-off')
    expect(two).toEqual({ skip: 'not determinable: profile Private not listed' })
  })

  it('a neglected Windows 10: every judged control fails, the rest are named skips', async () => {
    const o = await windowsOutcomes({
      'win-os': { stdout: fx('win32-os-10-22h2.json') },
      'win-bitlocker': { stdout: fx('bitlockervolume-decrypted.json') },
      'win-firewall': { stdout: fx('netfirewallprofile-private-off.json') },
      'win-hotfix': { stdout: fx('hotfix-stale.json') },
      'win-au-policy': { stdout: fx('au-policy-off.json') },
    })
    expect(o.get('endpoint-agent-os-unsupported')).toMatchObject({ pass: false, state: 'Microsoft Windows 10 Enterprise 10.0.19045: security support ended 2025-10-14' })
    expect(o.get('endpoint-agent-updates-pending')).toMatchObject({ pass: false, state: 'newest update KB5036892 installed 236 days ago (limit 40); pending updates are not read on Windows' })
    expect(o.get('endpoint-agent-auto-updates-off')).toMatchObject({ pass: false, state: 'automatic updates turned off by policy (NoAutoUpdate 1)' })
    for (const v of o.values()) expect(v).not.toHaveProperty('pass', true)
  })

  it('update policy: notify-only fails; no policy key is a named skip; maxUpdateAgeDays is the policy\'s', async () => {
    expect((await windowsOutcomes({ ...GOOD, 'win-au-policy': { stdout: fx('au-policy-notify.json') } })).get('endpoint-agent-auto-updates-off')).toMatchObject({ pass: false, state: 'AUOptions 2: notify before download' })
    const absent = await windowsOutcomes({ ...GOOD, 'win-au-policy': { code: 1, stderr: fx('au-policy-absent-stderr.txt') } })
    expect(absent.get('endpoint-agent-auto-updates-off')).toEqual({ skip: expect.stringContaining('no Windows Update policy (HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\WindowsUpdate\\AU absent)') })
    const strict = await windowsOutcomes(GOOD, { maxUpdateAgeDays: 14 })
    expect(strict.get('endpoint-agent-updates-pending')).toMatchObject({ pass: false, state: expect.stringContaining('20 days ago (limit 14)') })
  })

  it('hostile output (huge lines, control characters, deep JSON, wrong types) is bounded: named skips or findings, never a pass', async () => {
    const junk = `${'\u001b[31m'.repeat(1000)}${'9'.repeat(200_000)}\r\n`.repeat(5)
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`
    const typed = '{"MountPoint":{"x":1},"VolumeType":"OperatingSystem\\u001b[2J","VolumeStatus":[1],"Name":"Domain\\u0007","Enabled":"yes","DefaultInboundAction":null,"Caption":"Windows\\u001b","Version":"10.0.26200;rm","HotFixID":["KB1"],"NoAutoUpdate":"1","AUOptions":4.5}'
    for (const out of [junk, deep, typed, '\u0000'.repeat(100_000)]) {
      const all = Object.fromEntries((Object.keys(WINDOWS_COMMANDS) as WindowsCommand[]).map((c) => [c, { stdout: out, stderr: out }]))
      const reader = new PostureReader(replay({ ...all, 'win-os': GOOD['win-os']! }), 1000, new AbortController().signal)
      const t0 = performance.now()
      const o = await observePosture(reader, 'windows', { now: NOW, enabled: () => true, params: <T,>() => ({}) as T })
      expect(performance.now() - t0).toBeLessThan(10_000)
      expect([...o.keys()].sort()).toEqual([...POSTURE_RULES].sort())
      for (const [rule, v] of o) {
        if (rule === 'endpoint-agent-os-unsupported') continue // answered by the good fixture
        expect(v, rule).not.toHaveProperty('pass', true)
        if ('skip' in v) expect(v.skip.length, rule).toBeLessThan(1200)
        if ('state' in v) expect(v.state.length, rule).toBeLessThan(400)
      }
    }
  })
})

describe('Windows commands: fixed lines, nothing from data', () => {
  it('each is a fixed executable line; a PowerShell script holds nothing cmd.exe or PowerShell would expand or split', () => {
    for (const c of Object.keys(WINDOWS_COMMANDS) as WindowsCommand[]) {
      const line = probeCommandString({ kind: 'windows', command: c })
      expect(line).toBe(windowsCommandLine(c))
      const e: { powershell?: string; exe?: readonly string[] } = WINDOWS_COMMANDS[c]
      if (e.powershell) {
        expect(line).toBe(`powershell -NoProfile -NonInteractive -Command "${e.powershell}"`)
        expect(e.powershell).toMatch(WINDOWS_SCRIPT)
        expect(e.powershell).not.toMatch(/["'$%`;&^!<>()]/)
        expect(windowsArgv(c)).toEqual(['powershell', '-NoProfile', '-NonInteractive', '-Command', e.powershell])
      } else expect(line).toBe('manage-bde -status')
      expect(line).not.toContain('KeyProtector')
    }
    expect(() => probeArgv({ kind: 'windows', command: 'rm' as WindowsCommand })).toThrow(/no Windows posture command/)
    expect(() => probeArgv({ kind: 'windows', command: 'constructor' as WindowsCommand })).toThrow(/no Windows posture command/)
  })

  it('a host that answers neither uname nor the Windows OS query is refused as unsupported', async () => {
    const reader = new PostureReader(replay({}), 1000, new AbortController().signal)
    await expect(postureOs(reader)).rejects.toThrow(/unsupported operating system \(neither uname -s nor Win32_OperatingSystem answered/)
  })
})

const NO_SSHD = !hasSshd()

describe.skipIf(NO_SSHD)('Windows posture end to end over a real loopback sshd standing in for a Windows OpenSSH server (needs /usr/sbin/sshd)', () => {
  let sshd: Sshd
  let dir: string
  const posture = endpointAgent.checks.filter((c) => c.id === 'endpoint-agent-posture')
  const tester = checkTester(posture)
  const sha = (s: string): string => createHash('sha256').update(s).digest('hex')
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ztscan-winposture-'))
    const answers = join(dir, 'answers')
    await mkdir(answers)
    for (const [c, a] of Object.entries({ ...GOOD, 'win-firewall': { stdout: fx('netfirewallprofile-public-allow.json') } }) as [WindowsCommand, Answer][]) {
      const h = sha(windowsCommandLine(c))
      await writeFile(join(answers, `${h}.out`), a.stdout ?? '')
    }
    // The stand-in never runs what it receives: it logs the line and answers a known line's SHA-256 with its fixture.
    await writeFile(join(dir, 'windows.sh'), [
      '#!/bin/sh',
      `printf '%s\\n' "$SSH_ORIGINAL_COMMAND" >> '${dir}/sent.log'`,
      `h=$(printf '%s' "$SSH_ORIGINAL_COMMAND" | sha256sum | cut -c1-64)`,
      `if [ -f '${answers}/'"$h.out" ]; then cat '${answers}/'"$h.out"; exit 0; fi`,
      `printf "'%s' is not recognized as an internal or external command,\\r\\noperable program or batch file.\\r\\n" "\${SSH_ORIGINAL_COMMAND%% *}" >&2`,
      'exit 1',
    ].join('\n'), { mode: 0o755 })
    sshd = await startSshd({ config: `ForceCommand ${dir}/windows.sh` })
  })
  afterAll(async () => {
    await sshd?.stop()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it('agents:// to a Windows host: detected by its OS query, controls judged, only the fixed lines sent', async () => {
    const settings = { ssh: { knownHostsPath: sshd.knownHostsPath, privateKeyPath: sshd.clientKeyPath } }
    const r = await tester.run(`agents://${sshd.user}@127.0.0.1:${sshd.port}`, { settings, timeoutMs: 60_000, now: () => NOW })
    expect(r.errors).toEqual([])
    const got = Object.fromEntries(r.findings.map((f) => [f.ruleId, `${f.status}: ${String(f.evidence.state)}`]))
    expect(got).toEqual({
      'endpoint-agent-disk-unencrypted': 'pass: system volume C: encrypted, BitLocker protection on',
      'endpoint-agent-firewall-off': 'fail: Domain on, inbound blocked by default; Private on, inbound blocked by default; Public on, inbound allowed by default',
      'endpoint-agent-os-unsupported': 'pass: Microsoft Windows 11 Pro 10.0.26200: supported until 2027-10-12',
      'endpoint-agent-updates-pending': 'pass: newest update KB5046617 installed 20 days ago (limit 40); pending updates are not read on Windows',
      'endpoint-agent-auto-updates-off': 'pass: AUOptions 4: download and install automatically on a schedule',
    })
    expect(r.findings.every((f) => f.evidence.os === 'windows')).toBe(true)
    expect(r.skipped.filter((s) => s.rule).map((s) => s.rule).sort()).toEqual(['endpoint-agent-screen-lock-off', 'endpoint-agent-time-unsynced'])
    const sent = (await readFile(join(dir, 'sent.log'), 'utf8')).trim().split('\n')
    const allowed = new Set([probeCommandString({ kind: 'uname' }), ...(Object.keys(WINDOWS_COMMANDS) as WindowsCommand[]).map(windowsCommandLine)])
    for (const c of sent) expect(allowed.has(c), c).toBe(true)
    expect(sent[0]).toBe("LC_ALL=C 'uname' '-s'")
    expect(sent).toContain(windowsCommandLine('win-os'))
  }, 120_000)
})
