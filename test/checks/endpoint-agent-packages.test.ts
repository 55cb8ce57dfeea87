/**
 * Pending security updates without apt: dnf (Fedora, RHEL and rebuilds) and zypper (SUSE) from fixtures written from their
 * documented output (fixtures/endpoint-agent/posture/README.md names each command; neither tool has repositories on the
 * Debian machines the suite runs on, so none is run for real here), replayed by a runner standing in for such a host;
 * apk and a host with no known package manager are named skips, never a pass.
 */
import { describe, it, expect } from 'vitest'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { POSTURE_COMMANDS, type PostureCommand } from '../../checks/endpoint-agent/posture/commands.ts'
import { observePosture, PostureReader, type Outcome } from '../../checks/endpoint-agent/posture/index.ts'
import { dnfSecurity, zypperPatches } from '../../checks/endpoint-agent/posture/packages.ts'
import { probeArgv, probeCommandString, type Probe, type ProbeRunner } from '../../checks/endpoint-agent/probe.ts'

const FIX = join(import.meta.dirname, '..', '..', 'fixtures', 'endpoint-agent', 'posture', 'linux')
const fx = (p: string): string => readFileSync(join(FIX, p), 'utf8')
type Answer = { stdout?: string; stderr?: string; code?: number }

/** A Linux host without apt: answers the given posture commands, `ls` with the given paths; anything else is "not found". */
function host(answers: Partial<Record<PostureCommand, Answer>>, paths: string[] = [], sent: string[] = []): ProbeRunner {
  return {
    where: 'rpm.test',
    async run(p: Probe) {
      probeArgv(p)
      sent.push(probeCommandString(p))
      if (p.kind === 'uname') return { code: 0, stdout: 'Linux\n', stderr: '', truncated: false }
      if (p.kind === 'paths-exist') {
        const have = p.paths.filter((x) => paths.includes(x))
        return { code: have.length === p.paths.length ? 0 : 2, stdout: have.map((x) => `${x}\n`).join(''), stderr: '', truncated: false }
      }
      const r = p.kind === 'posture' ? answers[p.command] : undefined
      return r ? { code: r.code ?? 0, stdout: r.stdout ?? '', stderr: r.stderr ?? '', truncated: false } : { code: 127, stdout: '', stderr: 'sh: 1: not found', truncated: false }
    },
  }
}

async function updates(answers: Partial<Record<PostureCommand, Answer>>, paths: string[] = [], maxPending = 0): Promise<Outcome | undefined> {
  const reader = new PostureReader(host(answers, paths), 1000, new AbortController().signal)
  const o = await observePosture(reader, 'linux', { now: new Date('2026-12-01T00:00:00Z'), enabled: (r) => r === 'endpoint-agent-updates-pending', params: <T,>() => ({ maxPending }) as T })
  return o.get('endpoint-agent-updates-pending')
}

describe('dnf and zypper parsers on fixtures', () => {
  it('dnf 4 (RHEL 9) and dnf 5 (Fedora) advisory lists; empty output is nothing pending; other text is unreadable', () => {
    const rhel = dnfSecurity(fx('dnf-updateinfo-security-rhel9.txt'))!
    expect(rhel).toHaveLength(7)
    expect(rhel[3]).toEqual({ advisory: 'RHSA-2024:4211', severity: 'Important', pkg: 'openssh-8.7p1-38.el9_4.1.x86_64' })
    expect(dnfSecurity(fx('dnf5-updateinfo-security-fedora.txt'))?.map((u) => [u.advisory, u.severity, u.pkg])).toEqual([
      ['FEDORA-2024-3c1f2b1a1d', 'Moderate', 'curl-8.6.0-8.fc40.x86_64'],
      ['FEDORA-2024-3c1f2b1a1d', 'Moderate', 'libcurl-8.6.0-8.fc40.x86_64'],
      ['FEDORA-2024-8e2b9d7f40', 'Important', 'kernel-6.8.9-300.fc40.x86_64'],
    ])
    expect(dnfSecurity(fx('dnf-updateinfo-security-none.txt'))).toEqual([])
    expect(dnfSecurity('Error: Failed to download metadata for repo \'baseos\'\n')).toBeUndefined()
  })

  it('zypper XML: needed security patches counted; repositories zypper says are out of date listed', () => {
    expect(zypperPatches(fx('zypper-list-patches-security.xml'))).toEqual({
      updates: [
        { advisory: 'SUSE-SLE-Module-Basesystem-15-SP5-2024-1694', severity: 'important', pkg: 'SUSE-SLE-Module-Basesystem-15-SP5-2024-1694' },
        { advisory: 'SUSE-SLE-Module-Basesystem-15-SP5-2024-1721', severity: 'moderate', pkg: 'SUSE-SLE-Module-Basesystem-15-SP5-2024-1721' },
      ],
      outOfDate: [],
    })
    expect(zypperPatches(fx('zypper-list-patches-stale-none.xml'))).toEqual({ updates: [], outOfDate: ['repo-oss', 'repo-update'] })
    expect(zypperPatches('<stream><message type="error">System management is locked</message></stream>')).toBeUndefined()
  })
})

describe('endpoint-agent-updates-pending without apt', () => {
  it('dnf: counts the packages of pending security advisories against maxPending', async () => {
    expect(await updates({ 'dnf-security': { stdout: fx('dnf-updateinfo-security-rhel9.txt') } })).toMatchObject({
      pass: false, state: '7 pending security updates (3 advisories, dnf updateinfo)', evidence: { source: 'dnf updateinfo', pendingSecurity: 7 },
    })
    expect(await updates({ 'dnf-security': { stdout: fx('dnf5-updateinfo-security-fedora.txt') } }, [], 3)).toMatchObject({ pass: true, state: '3 pending security updates (2 advisories, dnf updateinfo)' })
    expect(await updates({ 'dnf-security': { stdout: '' } })).toMatchObject({ pass: true, state: '0 pending security updates (0 advisories, dnf updateinfo)' })
    expect(await updates({ 'dnf-security': { code: 1, stderr: "Error: Failed to download metadata for repo 'baseos': Cannot download repomd.xml\n" } })).toEqual({
      skip: "not determinable: dnf -q updateinfo list --security: exit 1 (Error: Failed to download metadata for repo 'baseos': Cannot download repomd.xml)",
    })
  })

  it('zypper: security patches counted; out-of-date repositories make it a fail even with none listed; its XML is read on exit 100', async () => {
    expect(await updates({ 'zypper-patches': { code: 100, stdout: fx('zypper-list-patches-security.xml') } })).toMatchObject({ pass: false, state: '2 pending security updates (2 advisories, zypper list-patches)' })
    expect(await updates({ 'zypper-patches': { stdout: fx('zypper-list-patches-stale-none.xml') } })).toMatchObject({
      pass: false, state: '0 pending security updates (0 advisories, zypper list-patches), repository metadata out of date (repo-oss, repo-update: refreshing needs root)',
    })
  })

  it('apk, or no known package manager: named skips, never a pass', async () => {
    expect(await updates({}, ['/sbin/apk'])).toEqual({ skip: 'pending security updates not determinable: apk (Alpine) does not tell security fixes from other upgrades' })
    expect(await updates({})).toEqual({ skip: 'pending security updates not determinable: no apt-get, dnf or zypper' })
  })

  it('only the fixed argv are sent, in order apt, dnf, zypper', async () => {
    const sent: string[] = []
    const reader = new PostureReader(host({}, [], sent), 1000, new AbortController().signal)
    await observePosture(reader, 'linux', { now: new Date(), enabled: (r) => r === 'endpoint-agent-updates-pending', params: <T,>() => ({}) as T })
    const q = (c: PostureCommand): string => probeCommandString({ kind: 'posture', command: c })
    expect(sent.filter((c) => !c.includes("'ls'") && !c.includes("'uname'"))).toEqual([q('apt-upgrades'), q('dnf-security'), q('zypper-patches')])
    expect(POSTURE_COMMANDS['dnf-security']).toEqual(['dnf', '-q', 'updateinfo', 'list', '--security'])
  })

  it('hostile output (huge lines, a flood of tags, control characters) is bounded and never passes wrongly', async () => {
    const tags = `<update-status><update-list>${'<update kind="patch" name="x\u001b[2J" status="needed" category="security">'.repeat(50_000)}`
    const junk = `${'\u001b[31m'.repeat(1000)}${'9'.repeat(200_000)}\n`.repeat(5)
    const t0 = performance.now()
    expect(await updates({ 'dnf-security': { stdout: junk } })).toEqual({ skip: 'not determinable: dnf updateinfo list --security printed no advisory list' })
    const z = await updates({ 'zypper-patches': { stdout: tags } })
    expect(z).toMatchObject({ pass: false })
    expect(performance.now() - t0).toBeLessThan(10_000)
  })
})
