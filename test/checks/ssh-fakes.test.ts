/**
 * The MFA SSH probe and the endpoint-agent host probes against FAKE side effects (`ScanOptions.io`): normal answers and
 * hostile ones (garbage, floods, wrong OS, a host-key refusal, a session that dies), which no real sshd produces on demand.
 * The real-sshd tests (mfa-ssh.test.ts, endpoint-agent-ssh.test.ts) cover the wire; these cover what the checks make of
 * each answer. Nothing here opens a socket.
 */
import { describe, expect, it } from 'vitest'
import mfaSsh from '../../checks/mfa/ssh.ts'
import endpointAgent from '../../checks/endpoint-agent/index.ts'
import { probeArgv, probeCommandString, type Probe } from '../../checks/endpoint-agent/probe.ts'
import { AttemptFailure } from '../../src/errors.ts'
import { parsePolicy, type Policy } from '../../src/rules/policy.ts'
import type { ScanIoOverrides, SshProbe, SshSession } from '../../src/net/io.ts'
import type { SshProbeOptions as SshCallOptions } from '../../src/net/ssh.ts'
import type { ExecResult } from '../../src/net/exec.ts'
import type { ScanReport } from '../../src/types.ts'
import { checkTester } from '../helpers/check-tester.ts'

const hostKey = { algorithm: 'ssh-ed25519', fingerprint: `SHA256:${'B'.repeat(43)}`, verified: 'pinned' as const }
const pin = { ssh: { acceptUnknownHostKeys: true } }
const mfa = checkTester(mfaSsh)
const agents = checkTester(endpointAgent.checks)

function probeIo(answer: Partial<SshProbe> | Error, seen: SshCallOptions[] = []): ScanIoOverrides {
  return {
    ssh: {
      async probe(_h, _p, o) {
        seen.push(o)
        if (answer instanceof Error) throw answer
        return { banner: 'SSH-2.0-Fake', hostKey, methods: ['publickey'], noneAccepted: false, ...answer }
      },
      session: () => Promise.reject(new Error('the mfa probe must never open a session')),
    },
  }
}

const single = (r: ScanReport) => r.findings.find((f) => f.ruleId === 'mfa-ssh-single-factor')

describe('mfa-ssh against a fake ctx.ssh', () => {
  it('password or keyboard-interactive offered to "none" is a single factor; publickey only passes by default', async () => {
    expect(single(await mfa.run('ssh://127.0.0.1:2201', { io: probeIo({ methods: ['publickey', 'password'] }), settings: pin }))).toMatchObject({ status: 'fail', evidence: { singleFactor: ['password'] } })
    expect(single(await mfa.run('ssh://127.0.0.1:2201', { io: probeIo({ methods: ['keyboard-interactive'] }), settings: pin }))).toMatchObject({ status: 'fail', evidence: { singleFactor: ['keyboard-interactive'] } })
    const ok = single(await mfa.run('ssh://127.0.0.1:2201', { io: probeIo({ methods: ['publickey'] }), settings: pin }))
    expect(ok).toMatchObject({ status: 'pass', evidence: { secondFactor: expect.stringMatching(/^not confirmed/) } })
  })

  it('"none" accepted: no-authentication fails and the offered list is not judged', async () => {
    const r = await mfa.run('ssh://127.0.0.1:2201', { io: probeIo({ noneAccepted: true, methods: [] }), settings: pin })
    expect(r.findings.map((f) => [f.ruleId, f.status])).toEqual([['mfa-ssh-no-authentication', 'fail']])
  })

  it('hostile answers: a flood of odd method names and a control-character banner are evidence, not verdicts', async () => {
    const methods = [...Array.from({ length: 500 }, (_, i) => `x-${i}@evil`), 'publickey']
    const r = await mfa.run('ssh://127.0.0.1:2201', { io: probeIo({ methods, banner: 'SSH-2.0-\u001b[31mred\u0007' }), settings: pin })
    expect(r.errors).toEqual([])
    expect(single(r)).toMatchObject({ status: 'pass', evidence: { singleFactor: [] } })
  })

  it('a failure of the probe (host key refused, timeout) is the attempt error with its reason, never a pass', async () => {
    for (const reason of ['host-key', 'timeout', 'protocol'] as const) {
      const r = await mfa.run('ssh://127.0.0.1:2201', { io: probeIo(new AttemptFailure(reason, `ssh 127.0.0.1:2201: ${reason}`)), settings: pin })
      expect(r.findings).toEqual([])
      expect(r.errors).toEqual([expect.objectContaining({ reason })])
    }
  })

  it('a key is offered only when one is configured, and its answer decides', async () => {
    const seen: SshCallOptions[] = []
    await mfa.run('ssh://127.0.0.1:2201', { io: probeIo({}, seen), settings: pin })
    expect(seen.at(-1)!.withKey).toBeUndefined()
    const key = { ssh: { ...pin.ssh, privateKey: '-----BEGIN OPENSSH PRIVATE KEY-----\nfake-key-material-for-tests\n-----END OPENSSH PRIVATE KEY-----\n' } }
    const strict = parsePolicy({ rules: { 'mfa-ssh-single-factor': { parameters: { allowPublicKeyOnly: false } } } })
    const run = (answer: Partial<SshProbe>, policy?: Policy) =>
      mfa.run('ssh://127.0.0.1:2201', { io: probeIo(answer, seen), settings: key, ...(policy ? { policy } : {}) })
    // The key alone logs in: one factor (accepted only when allowPublicKeyOnly is true, the default).
    expect(single(await run({ key: { result: 'accepted' } }))).toMatchObject({ status: 'pass', evidence: { secondFactor: 'not required: the key alone logged in' } })
    expect(single(await run({ key: { result: 'accepted' } }, strict))).toMatchObject({ status: 'fail', evidence: { singleFactor: ['publickey'] } })
    expect(seen.at(-1)!.withKey).toBe(true)
    // Partial success: a second method must follow the key — two factors, even with allowPublicKeyOnly false.
    const two = single(await run({ key: { result: 'partial', remaining: ['keyboard-interactive'] } }, strict))
    expect(two).toMatchObject({ status: 'pass', evidence: { secondFactor: 'required after the key: keyboard-interactive' } })
    expect(two!.message).toContain('requires a second factor after publickey')
    // Refused key: the second factor is not confirmed — an input error (exit 4), not a pass.
    const refused = await run({ key: { result: 'refused', remaining: ['publickey', 'password'] } })
    expect(single(refused)).toBeUndefined()
    expect(refused.errors).toEqual([expect.objectContaining({ reason: 'input', message: expect.stringContaining('was refused') })])
    // The key text never reaches the report.
    expect(JSON.stringify(refused)).not.toContain('fake-key-material-for-tests')
  })
})

/** A fake host: answers each allowlisted probe command; records what was sent and whether the session was closed. */
function fakeHost(answer: (p: string) => Partial<ExecResult> | Error | undefined) {
  const sent: string[] = []
  let opened = 0
  let closed = 0
  const io: ScanIoOverrides = {
    ssh: {
      probe: () => Promise.reject(new Error('agents:// never probes')),
      async session(): Promise<SshSession> {
        opened++
        return {
          banner: 'SSH-2.0-Fake',
          hostKey,
          async exec(command) {
            sent.push(command)
            const a = answer(command)
            if (a instanceof Error) throw a
            return { code: 0, stdout: '', stderr: '', truncated: false, ...a }
          },
          close: () => void closed++,
        }
      },
    },
  }
  return { io, sent, opened: () => opened, closed: () => closed }
}

const cmd = (p: Probe): string => probeCommandString(p)
const linux = (c: string): Partial<ExecResult> | undefined => (c === cmd({ kind: 'uname' }) ? { stdout: 'Linux\n' } : undefined)

describe('endpoint-agent over a fake ctx.ssh session', () => {
  const settings = { ssh: { acceptUnknownHostKeys: true, privateKey: 'x'.repeat(40) } }

  it('normal answers: the running agent and the sshd settings are judged; only allowlisted command strings are sent; every session closed once', async () => {
    const host = fakeHost((c) => {
      if (c === cmd({ kind: 'processes' })) return { stdout: 'init\nfalcon-sensor\n' }
      if (c.startsWith(`LC_ALL=C 'ls'`)) return { stdout: '/opt/CrowdStrike\n/usr/sbin/sshd\n' }
      if (c.startsWith(`LC_ALL=C '/usr/sbin/sshd' '-T'`)) return { stdout: 'permitrootlogin yes\npasswordauthentication yes\nkbdinteractiveauthentication no\nauthenticationmethods any\n' }
      return linux(c)
    })
    const r = await agents.run('agents://root@127.0.0.1:2202', { io: host.io, settings })
    expect(r.errors).toEqual([])
    const status = (rule: string, resource: string) => r.findings.find((f) => f.ruleId === rule && f.resource === resource)?.status
    expect(status('endpoint-agent-not-running', 'agent:crowdstrike-falcon')).toBe('pass')
    expect(status('endpoint-agent-sshd-root-login', 'sshd')).toBe('fail')
    expect(status('endpoint-agent-sshd-password-login', 'sshd')).toBe('fail')
    expect(host.opened()).toBeGreaterThan(0)
    expect(host.closed()).toBe(host.opened())
    // Every command is one of the allowlisted probes, rebuilt here from its argv: nothing from the target enters them.
    for (const c of host.sent) expect(c).toMatch(/^LC_ALL=C '[^']+'( '[^']*')*$/)
    expect(host.sent[0]).toBe(cmd({ kind: 'uname' }))
    expect(probeArgv({ kind: 'processes' })).toEqual(['ps', '-A', '-o', 'comm='])
  })

  it('hostile answers: a wrong OS is a protocol error; a dying session is an error and the session is still closed', async () => {
    const win = fakeHost((c) => (c === cmd({ kind: 'uname' }) ? { stdout: 'Windows_NT\u001b[2J\n' } : undefined))
    const r1 = await agents.run('agents://root@127.0.0.1:2202', { io: win.io, settings })
    expect(r1.errors.length).toBeGreaterThan(0)
    for (const e of r1.errors) expect(e).toMatchObject({ reason: 'protocol', message: expect.stringContaining('unsupported operating system') })
    expect(win.closed()).toBe(win.opened())
    const dying = fakeHost((c) => (c === cmd({ kind: 'processes' }) ? new AttemptFailure('connectivity', 'ssh 127.0.0.1:2202: session closed') : linux(c)))
    const r2 = await agents.run('agents://root@127.0.0.1:2202', { io: dying.io, settings })
    expect(r2.errors).toContainEqual(expect.objectContaining({ check: 'endpoint-agent-status', reason: 'connectivity' }))
    // The session died before the process list: no agent verdict, no requirement judged.
    expect(r2.findings.filter((f) => f.resource.startsWith('agent:') || f.resource.startsWith('require:'))).toEqual([])
    expect(dying.closed()).toBe(dying.opened())
  })

  it('a flood: truncated ps output and garbage systemctl blocks do not invent a running agent', async () => {
    const host = fakeHost((c) => {
      if (c === cmd({ kind: 'processes' })) return { code: null, stdout: 'x\n'.repeat(100_000), truncated: true }
      if (c.startsWith(`LC_ALL=C 'systemctl'`)) return { stdout: '=\n==\nId\nActiveState=active\n\nId=\n'.repeat(1000) }
      if (c.startsWith(`LC_ALL=C '/usr/sbin/sshd'`)) return { code: 255, stderr: 'sshd: no hostkeys available' }
      return linux(c)
    })
    const r = await agents.run('agents://root@127.0.0.1:2202', { io: host.io, settings })
    expect(r.errors).toEqual([])
    expect(r.findings.filter((f) => f.ruleId === 'endpoint-agent-not-running')).toEqual([])
    expect(r.findings.find((f) => f.ruleId === 'endpoint-agent-missing')).toMatchObject({ status: 'fail' })
    // sshd -T could not read its config: a named skip of both sshd rules, not a pass.
    expect(r.skipped.map((s) => s.rule).filter((x) => x?.includes('sshd')).sort()).toEqual(['endpoint-agent-sshd-password-login', 'endpoint-agent-sshd-root-login'])
  })
})
