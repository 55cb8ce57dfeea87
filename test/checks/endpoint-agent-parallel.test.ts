/**
 * A host's agent probes run a few agents at a time (AGENT_CONCURRENCY), not one agent after another: every SSH command
 * pays the remote login shell's start-up, so a host with many agents took tens of seconds.
 *
 * The real OpenSSH sshd on loopback runs a ForceCommand that claims every Linux catalogue agent (its processes listed,
 * every path present) and answers each agent's version and status commands with the vendor's documented output. While
 * one of those commands runs (0.3 s) the script counts it in a shared counter (`mkdir` lock), so the test reads how many
 * ran at once, overall and per agent. The verdicts must be those of the one-at-a-time probe, which the same host gives
 * with a concurrency of 1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import endpointAgent from '../../checks/endpoint-agent/index.ts'
import { builtinCatalogue } from '../../checks/endpoint-agent/catalogue.ts'
import { AGENT_CONCURRENCY, inOrder, observeHost, sshRunner, withSession } from '../../checks/endpoint-agent/probe.ts'
import { AttemptFailure } from '../../src/errors.ts'
import type { ScanReport } from '../../src/types.ts'
import { realIo } from '../../src/net/io.ts'
import { checkTester } from '../helpers/check-tester.ts'
import { hasSshd, startSshd, type Sshd } from '../helpers/sshd.ts'

const tester = checkTester(endpointAgent.checks.filter((c) => c.id === 'endpoint-agent-status'))
const linux = builtinCatalogue().filter((a) => a.platforms.linux)

/** Each agent command the fake host knows: a word sequence of its command string, and what it prints (vendor formats). */
const ANSWERS: readonly (readonly [string, string])[] = [
  [`'/opt/CrowdStrike/falconctl' '-g' '--version'`, `echo 'version = 7.14.16703.0'`],
  [`'/opt/CrowdStrike/falconctl' '-g' '--rfm-state'`, `echo 'rfm-state=false.'`],
  [`'/opt/CrowdStrike/falconctl' '-g' '--aid'`, `echo 'aid is not set.'`],
  [`'/opt/sentinelone/bin/sentinelctl' 'version'`, `echo 'Agent version: 24.1.2.6'`],
  [`'/opt/sentinelone/bin/sentinelctl' 'management' 'status'`, `echo 'sentinelctl: must be run as root' >&2; exit 1`],
  [`'/usr/bin/mdatp' 'version'`, `echo 'Product version: 101.24092.0004'`],
  [`'/usr/bin/mdatp' 'health' '--field' 'healthy'`, `echo false`],
  [`'/usr/bin/mdatp' 'health' '--field' 'licensed'`, `echo true`],
  [`'/usr/bin/mdatp' 'health' '--field' 'tamper_protection'`, `echo '"block"'`],
  [`'/opt/Elastic/Agent/elastic-agent' 'version' '--binary-only'`, `echo 'Binary: 8.15.0 (build: 0123abcd at 2024-09-01 00:00:00 +0000 UTC)'`],
  [`'/var/ossec/bin/wazuh-control' 'info' '-v'`, `echo 'v4.9.0'`],
  // osquery: the first present version command answers nothing usable, so the second one is asked.
  [`'/opt/osquery/bin/osqueryd' '--version'`, `echo 'osqueryd: cannot open database' >&2; exit 1`],
  [`'/usr/bin/osqueryd' '--version'`, `echo 'osqueryd version 5.13.1'`],
  [`'/opt/Tanium/TaniumClient/TaniumClient' '-v'`, `echo '7.4.10.1034'`],
  [`'/opt/carbonblack/psc/bin/cbagentd' '-v'`, `echo '2.15.2.2'`],
  [`'cat' '--' '/opt/sophos-spl/base/VERSION.ini'`, `printf 'PRODUCT_NAME = Sophos Linux Protection\\nPRODUCT_VERSION = 1.2.3.4\\n'`],
  [`'/usr/bin/clamscan' '--version'`, `echo 'ClamAV 1.0.7/27400/Mon Sep 30 08:36:46 2024'`],
]

/** The findings of the fake host (rule, agent, status, version, state), as the one-agent-at-a-time probe gives them. */
const VERDICTS = [
  'endpoint-agent-not-connected agent:crowdstrike-falcon fail 7.14.16703.0 status command says: aid is not set.',
  'endpoint-agent-not-connected agent:defender-endpoint pass 101.24092.0004 connected (status command: true)',
  'endpoint-agent-not-running agent:carbon-black pass 2.15.2.2 running',
  'endpoint-agent-not-running agent:clamav pass 1.0.7 running',
  'endpoint-agent-not-running agent:crowdstrike-falcon pass 7.14.16703.0 running',
  'endpoint-agent-not-running agent:defender-endpoint pass 101.24092.0004 running',
  'endpoint-agent-not-running agent:elastic-endpoint pass 8.15.0 running',
  'endpoint-agent-not-running agent:osquery pass 5.13.1 running',
  'endpoint-agent-not-running agent:sentinelone pass 24.1.2.6 running',
  'endpoint-agent-not-running agent:sophos pass 1.2.3.4 running',
  'endpoint-agent-not-running agent:tanium pass 7.4.10.1034 running',
  'endpoint-agent-not-running agent:wazuh pass 4.9.0 running',
  'endpoint-agent-outdated agent:clamav pass 1.0.7 minimum 1.0.0',
  'endpoint-agent-outdated agent:osquery pass 5.13.1 minimum 5.0.0',
  'endpoint-agent-outdated agent:wazuh pass 4.9.0 minimum 4.0.0',
  'endpoint-agent-sensor-degraded agent:crowdstrike-falcon pass 7.14.16703.0 healthy',
  'endpoint-agent-sensor-degraded agent:defender-endpoint fail 101.24092.0004 degraded (false)',
  'endpoint-agent-tamper-protection-off agent:defender-endpoint pass 101.24092.0004 tamper protection: "block"',
]

/** A report's agent findings in the shape of VERDICTS. */
function verdictsOf(r: ScanReport): string[] {
  return r.findings
    .filter((f) => f.resource?.startsWith('agent:'))
    .map((f) => [f, f.evidence as Record<string, unknown>] as const)
    .map(([f, e]) => `${f.ruleId} ${f.resource} ${f.status} ${String(e.version)} ${String(e.state ?? `minimum ${String(e.minVersion)}`)}`)
    .sort()
}

/** The catalogue agent a command string belongs to (by the binary or file it names). */
function agentOf(command: string): string {
  for (const a of linux) {
    const p = a.platforms.linux!
    const bins = [...(p.version ?? []).map((v) => ('argv' in v ? v.argv[0]! : v.file)), ...[p.degraded, p.disconnected, p.tamperOff].flatMap((l) => (l ?? []).map((c) => c.argv[0]!))]
    if (bins.some((b) => command.includes(`'${b}'`))) return a.id
  }
  throw new Error(`no agent for ${command}`)
}

/** A promise and the function that resolves it. */
function gated(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void
  const promise = new Promise<void>((r) => (resolve = r))
  return { promise, resolve }
}

describe('inOrder: the bounded, in-order runner of the agents', () => {
  it('runs at most `bound` at once, starts in order, returns in order', async () => {
    let now = 0
    let max = 0
    const started: number[] = []
    const out = await inOrder(9, 3, async (i) => {
      started.push(i)
      max = Math.max(max, ++now)
      await new Promise((r) => setImmediate(r))
      now--
      return i * 10
    })
    expect(out).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80])
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8])
    expect(max).toBe(3)
    expect(await inOrder(0, 4, async () => 1)).toEqual([])
  })

  it('fails with the lowest failing index, as the sequential loop did, even when a later one failed first; nothing runs on, nothing is left unhandled', async () => {
    const gate = gated()
    const ran: number[] = []
    let stoppedSeen = false
    const settled = inOrder(8, 4, async (i, stopped) => {
      ran.push(i)
      if (i === 3) throw new AttemptFailure('timeout', 'agent 3') // fails first, at once
      if (i === 2) {
        await gate.promise
        throw new AttemptFailure('protocol', 'agent 2') // fails later, but comes first in catalogue order
      }
      if (i === 1) {
        await gate.promise
        await new Promise((r) => setImmediate(r))
        return i // before the failures: runs to its end
      }
      // i === 0 finishes at once; none after 3 may start once 3 failed.
      await new Promise((r) => setImmediate(r))
      stoppedSeen ||= stopped()
      return i
    })
    await new Promise((r) => setImmediate(r))
    gate.resolve()
    await expect(settled).rejects.toMatchObject({ reason: 'protocol', message: 'agent 2' })
    expect(ran).toEqual([0, 1, 2, 3])
    expect(stoppedSeen).toBe(false)
  })

  it('a task after the failure stops at its next step: stopped() turns true for it only', async () => {
    const gate = gated()
    const seen: Record<number, boolean> = {}
    const p = inOrder(3, 3, async (i, stopped) => {
      if (i === 1) throw new AttemptFailure('connectivity', 'agent 1')
      await gate.promise
      seen[i] = stopped()
      return i
    })
    await new Promise((r) => setImmediate(r))
    gate.resolve()
    await expect(p).rejects.toMatchObject({ message: 'agent 1' })
    expect(seen).toEqual({ 0: false, 2: true })
  })
})

describe.skipIf(!hasSshd())('agent probes over one SSH connection run up to AGENT_CONCURRENCY agents at once (needs /usr/sbin/sshd and ssh-keygen; CI installs openssh-server)', () => {
  let dir: string
  let sshd: Sshd
  /** The same host behind `MaxSessions 2`: fewer channels than AGENT_CONCURRENCY per connection. */
  let narrow: Sshd

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ztscan-ea-par-'))
    const procs = [...new Set(linux.flatMap((a) => a.platforms.linux!.processes ?? []))]
    await writeFile(join(dir, 'procs'), procs.map((p) => p.slice(0, 15)).join('\n') + '\n')
    await writeFile(
      join(dir, 'host.sh'),
      [
        '#!/bin/sh',
        'c="$SSH_ORIGINAL_COMMAND"',
        `D='${dir}'`,
        'case "$c" in',
        `  *"'uname'"*) echo Linux; exit 0 ;;`,
        `  *"'ps'"*) cat "$D/procs"; exit 0 ;;`,
        `  *"'ls'"*) eval "set -- \${c#LC_ALL=C }"; shift 3; printf '%s\\n' "$@"; exit 0 ;;`,
        `  *"'systemctl'"*) exit 0 ;;`,
        `  *"'/usr/sbin/sshd' '-T'"*) echo 'sshd: no hostkeys available' >&2; exit 1 ;;`,
        'esac',
        '# An agent command: counted while it runs (+ on start, - on end, under a mkdir lock).',
        'lock() { until mkdir "$D/lock" 2>/dev/null; do sleep 0.01; done; }',
        'lock; n=$(( $(cat "$D/cur") + 1 )); echo "$n" > "$D/cur"; printf \'%s\\t+\\t%s\\n\' "$n" "$c" >> "$D/events"; rmdir "$D/lock"',
        'sleep 0.3',
        'lock; n=$(( $(cat "$D/cur") - 1 )); echo "$n" > "$D/cur"; printf \'%s\\t-\\t%s\\n\' "$n" "$c" >> "$D/events"; rmdir "$D/lock"',
        'case "$c" in',
        ...ANSWERS.map(([words, answer]) => `  *"${words}"*) ${answer} ;;`),
        `  *) echo "unexpected command" >&2; exit 2 ;;`,
        'esac',
        '',
      ].join('\n'),
      { mode: 0o755 },
    )
    sshd = await startSshd({ config: `ForceCommand ${dir}/host.sh` })
    narrow = await startSshd({ config: `MaxSessions 2\nForceCommand ${dir}/host.sh` })
  }, 60_000)
  afterAll(async () => {
    await Promise.all([sshd?.stop(), narrow?.stop()])
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  const reset = async (): Promise<void> => {
    await writeFile(join(dir, 'cur'), '0\n')
    await writeFile(join(dir, 'events'), '')
  }
  /** The most agent commands seen running at once, overall and within one agent; and every command sent. */
  const counted = async (): Promise<{ max: number; perAgent: number; commands: string[] }> => {
    const events = (await readFile(join(dir, 'events'), 'utf8')).trim().split('\n').map((l) => l.split('\t') as [string, '+' | '-', string])
    const open = new Map<string, number>()
    let perAgent = 0
    for (const [, sign, cmd] of events) {
      const id = agentOf(cmd)
      const n = (open.get(id) ?? 0) + (sign === '+' ? 1 : -1)
      open.set(id, n)
      perAgent = Math.max(perAgent, n)
    }
    return { max: Math.max(...events.map(([n]) => Number(n))), perAgent, commands: events.filter(([, s]) => s === '+').map(([, , c]) => c).sort() }
  }
  const settings = (s = sshd): { knownHostsPath: string; privateKeyPath: string } => ({ knownHostsPath: s.knownHostsPath, privateKeyPath: s.clientKeyPath })

  it('the check: commands of different agents overlap (at most AGENT_CONCURRENCY), one agent stays one at a time, the verdicts are unchanged', async () => {
    await reset()
    const target = `agents://${sshd.user}@127.0.0.1:${sshd.port}`
    const r = await tester.run(target, { settings: { ssh: settings() }, timeoutMs: 60_000 })
    expect(r.errors).toEqual([])
    const { max, perAgent, commands } = await counted()
    expect(max).toBeGreaterThan(1)
    expect(max).toBeLessThanOrEqual(AGENT_CONCURRENCY)
    expect(perAgent).toBe(1)
    // Every version and status command ran once (osquery's second version command after its first failed).
    expect(commands).toEqual(ANSWERS.map(([w]) => `LC_ALL=C ${w}`).sort())
    expect(verdictsOf(r)).toEqual(VERDICTS)
    expect(r.skipped.filter((s) => s.why.includes('SentinelOne')).map((s) => s.rule)).toEqual(['endpoint-agent-not-connected'])
  }, 120_000)

  it('observeHost gives the same observation with AGENT_CONCURRENCY agents at once as one at a time', async () => {
    const where = `127.0.0.1:${sshd.port}`
    const observe = async (concurrency: number) => {
      await reset()
      const obs = await withSession(
        () => realIo.ssh.session('127.0.0.1', sshd.port, { signal: new AbortController().signal, timeoutMs: 10_000, settings: settings() }),
        (s) => observeHost(sshRunner(s, where), builtinCatalogue(), 10_000, concurrency),
      )
      return { obs, ...(await counted()) }
    }
    const one = await observe(1)
    const many = await observe(AGENT_CONCURRENCY)
    expect(one.max).toBe(1)
    expect(many.max).toBeGreaterThan(1)
    expect(many.max).toBeLessThanOrEqual(AGENT_CONCURRENCY)
    expect(many.commands).toEqual(one.commands)
    expect(many.obs).toEqual(one.obs)
    expect(many.obs.agents.map((a) => a.agent.id)).toEqual(linux.map((a) => a.id))
  }, 120_000)

  it('a host whose sshd allows fewer channels (MaxSessions 2): the commands wait for a free one, same verdicts, no error', async () => {
    await reset()
    const r = await tester.run(`agents://${narrow.user}@127.0.0.1:${narrow.port}`, { settings: { ssh: settings(narrow) }, timeoutMs: 60_000 })
    expect(r.errors).toEqual([])
    expect(verdictsOf(r)).toEqual(VERDICTS)
    const { max, perAgent, commands } = await counted()
    expect(max).toBeLessThanOrEqual(2)
    expect(perAgent).toBe(1)
    expect(commands).toEqual(ANSWERS.map(([w]) => `LC_ALL=C ${w}`).sort())
  }, 120_000)
})
