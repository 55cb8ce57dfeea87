import { describe, it, expect, onTestFinished, beforeAll, afterAll } from 'vitest'
import { execFile } from 'node:child_process'
import { createHmac } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { createServer, type Server, type Socket } from 'node:net'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { AttemptFailure } from '../../src/errors.ts'
import { fingerprintOf, hostFieldMatches, openSession, parseKnownHosts, probeAuthMethods, shellQuote, sshSettings, verifyHostKey, type SshSettings } from '../../src/net/ssh.ts'
import { hasSshd, startSshd, type Sshd } from '../helpers/sshd.ts'

const run = promisify(execFile)
const NO_SSHD = !hasSshd()
const WHY = 'needs /usr/sbin/sshd and ssh-keygen (CI installs openssh-server)'
const signal = new AbortController().signal

async function failure(p: Promise<unknown>): Promise<AttemptFailure> {
  try {
    await p
  } catch (err) {
    expect(err).toBeInstanceOf(AttemptFailure)
    return err as AttemptFailure
  }
  throw new Error('expected an AttemptFailure')
}

/** A raw TCP server on 127.0.0.1:0 that does `onConn` with each socket. */
async function rawServer(onConn: (s: Socket) => void): Promise<{ port: number; close(): Promise<void> }> {
  const socks = new Set<Socket>()
  const srv: Server = createServer((s) => {
    socks.add(s)
    s.on('error', () => {})
    s.on('close', () => socks.delete(s))
    onConn(s)
  })
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  return {
    port: (srv.address() as { port: number }).port,
    close: () => new Promise<void>((r) => {
      for (const s of socks) s.destroy()
      srv.close(() => r())
    }),
  }
}

describe('sshSettings', () => {
  it.each([
    [{ ssh: 5 }, 'settings.ssh: expected an object'],
    [{ ssh: { username: 'a;b' } }, 'settings.ssh.username'],
    [{ ssh: { privateKeyPath: 3 } }, 'settings.ssh.privateKeyPath'],
    [{ ssh: { hostKeyFingerprints: 'SHA256:x' } }, 'settings.ssh.hostKeyFingerprints: expected an array'],
    [{ ssh: { hostKeyFingerprints: ['MD5:aa'] } }, 'settings.ssh.hostKeyFingerprints[0]'],
    [{ ssh: { acceptUnknownHostKeys: 'yes' } }, 'settings.ssh.acceptUnknownHostKeys'],
  ])('rejects %j', (settings, msg) => {
    let err: unknown
    try {
      sshSettings(settings)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(AttemptFailure)
    expect((err as AttemptFailure).reason).toBe('input')
    expect((err as AttemptFailure).message).toContain(msg)
  })

  it('accepts a full shape and an absent one', () => {
    const fp = 'SHA256:' + 'A'.repeat(43)
    expect(sshSettings({})).toEqual({})
    expect(sshSettings({ ssh: { username: 'root', knownHostsPath: '/k', hostKeyFingerprints: [fp, `127.0.0.1:2222=${fp}`, `[::1]:22=${fp}`], acceptUnknownHostKeys: false } }))
      .toEqual({ username: 'root', knownHostsPath: '/k', hostKeyFingerprints: [fp, `127.0.0.1:2222=${fp}`, `[::1]:22=${fp}`], acceptUnknownHostKeys: false })
  })
})

describe('known_hosts matching (pure)', () => {
  const blob = Buffer.from('0000000b7373682d6564323535313900000020' + '11'.repeat(32), 'hex')
  const other = Buffer.from('0000000b7373682d6564323535313900000020' + '22'.repeat(32), 'hex')
  const line = (hosts: string, b = blob, marker = ''): string => `${marker}${marker ? ' ' : ''}${hosts} ssh-ed25519 ${b.toString('base64')}`

  it.each([
    { name: 'plain host on 22', kh: line('example.com'), host: 'example.com', port: 22, want: 'known_hosts' },
    { name: 'bracketed non-22 port', kh: line('[127.0.0.1]:2222'), host: '127.0.0.1', port: 2222, want: 'known_hosts' },
    { name: 'plain entry does not cover another port', kh: line('127.0.0.1'), host: '127.0.0.1', port: 2222, want: 'unknown' },
    { name: 'comma list and wildcard', kh: line('a.example,*.corp.example'), host: 'db.corp.example', port: 22, want: 'known_hosts' },
    { name: 'negation wins', kh: line('*.corp.example,!db.corp.example'), host: 'db.corp.example', port: 22, want: 'unknown' },
    { name: 'changed key', kh: line('example.com', other), host: 'example.com', port: 22, want: 'mismatch' },
    { name: 'revoked key', kh: [line('*', blob, '@revoked'), line('example.com')].join('\n'), host: 'example.com', port: 22, want: 'revoked' },
    { name: 'cert-authority lines vouch for nothing', kh: line('example.com', blob, '@cert-authority'), host: 'example.com', port: 22, want: 'unknown' },
    { name: 'garbage lines are skipped', kh: '# comment\n\nnot a line\n@weird x y z\n' + line('example.com'), host: 'example.com', port: 22, want: 'known_hosts' },
  ])('$name', ({ kh, host, port, want }) => {
    const v = verifyHostKey(host, port, blob, { knownHosts: parseKnownHosts(kh) })
    if (want === 'known_hosts') expect(v).toEqual({ ok: true, verified: 'known_hosts' })
    else if (want === 'unknown') expect(v.ok === false && v.why).toMatch(/unknown/)
    else if (want === 'mismatch') expect(v.ok === false && v.why).toMatch(/does not match/)
    else expect(v.ok === false && v.why).toMatch(/@revoked/)
  })

  it('pins: global, scoped, scoped to another endpoint, and accept-unknown', () => {
    const fp = fingerprintOf(blob)
    expect(verifyHostKey('h', 22, blob, { pins: [fp] })).toEqual({ ok: true, verified: 'pinned' })
    expect(verifyHostKey('h', 2222, blob, { pins: [`h:2222=${fp}`] })).toEqual({ ok: true, verified: 'pinned' })
    expect(verifyHostKey('h', 22, blob, { pins: [`h:2222=${fingerprintOf(other)}`] }).ok).toBe(false) // not in scope → unknown
    expect(verifyHostKey('h', 2222, blob, { pins: [`h:2222=${fingerprintOf(other)}`], acceptUnknown: true }).ok).toBe(false) // mismatch is never accepted
    expect(verifyHostKey('h', 22, blob, { acceptUnknown: true })).toEqual({ ok: true, verified: 'unverified' })
    expect(verifyHostKey('h', 22, blob, { knownHosts: parseKnownHosts(line('*', blob, '@revoked')), pins: [fp] }).ok).toBe(false)
  })

  it('hashed |1| entries, as ssh-keygen -H writes them', () => {
    // |1|salt|HMAC-SHA1(salt, name) — OpenSSH hostfile.c host_hash()
    const salt = Buffer.alloc(20, 7)
    const field = `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update('[127.0.0.1]:2222').digest('base64')}`
    expect(hostFieldMatches(field, '[127.0.0.1]:2222')).toBe(true)
    expect(hostFieldMatches(field, '127.0.0.1')).toBe(false)
  })

  it('shellQuote survives hostile strings', () => {
    expect(shellQuote(`a'b`)).toBe(`'a'\\''b'`)
    expect(shellQuote('$(id);rm -rf /')).toBe(`'$(id);rm -rf /'`)
  })
})

describe.skipIf(NO_SSHD)(`against a real sshd (${WHY})`, () => {
  let sshd: Sshd
  let settings: SshSettings
  let scratch: string
  // Every session runs through this wrapper, which leaves a marker: no marker = no command ran.
  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'ztscan-ssh-test-'))
    await writeFile(join(scratch, 'wrap.sh'), `#!/bin/sh\ntouch '${scratch}/marker'\nexec /bin/sh -c "$SSH_ORIGINAL_COMMAND"\n`, { mode: 0o755 })
    sshd = await startSshd({ config: `LogLevel VERBOSE\nForceCommand ${scratch}/wrap.sh` })
    settings = { knownHostsPath: sshd.knownHostsPath, privateKeyPath: sshd.clientKeyPath }
  })
  afterAll(async () => {
    await sshd?.stop()
    await rm(scratch, { recursive: true, force: true })
  })
  const o = (s: SshSettings = settings) => ({ signal, timeoutMs: 10_000, settings: s })

  it('probes auth methods with the host key verified via known_hosts, then via a pinned fingerprint', async () => {
    const a = await probeAuthMethods(sshd.host, sshd.port, o())
    expect(a.banner).toMatch(/^SSH-2\.0-OpenSSH_/)
    expect(a.hostKey).toEqual({ algorithm: 'ssh-ed25519', fingerprint: sshd.hostKeyFingerprint, verified: 'known_hosts' })
    expect(a.methods).toContain('publickey')
    expect(a.methods).not.toContain('password')
    expect(a.noneAccepted).toBe(false)
    const b = await probeAuthMethods(sshd.host, sshd.port, o({ hostKeyFingerprints: [`127.0.0.1:${sshd.port}=${sshd.hostKeyFingerprint}`] }))
    expect(b.hostKey.verified).toBe('pinned')
  })

  it('hashed known_hosts (ssh-keygen -H) verifies', async () => {
    const hashed = join(sshd.dir, 'known_hosts_hashed')
    await writeFile(hashed, await readFile(sshd.knownHostsPath))
    await run('ssh-keygen', ['-H', '-f', hashed])
    expect(await readFile(hashed, 'utf8')).toMatch(/^\|1\|/)
    const a = await probeAuthMethods(sshd.host, sshd.port, o({ knownHostsPath: hashed }))
    expect(a.hostKey.verified).toBe('known_hosts')
  })

  it('mismatching key → host-key error, and no authentication and no command happened', async () => {
    // Wait until sshd has logged everything of the earlier tests (under load its lines come late), so that every
    // connection counted below is one this test opened.
    // Quiet means unchanged for a whole second (five 200 ms looks): one unchanged look was not enough at load 6-8.
    const settle = async (min: number): Promise<string> => {
      let seen = sshd.logs()
      for (let i = 0, still = 0; i < 100 && still < min; i++) {
        await new Promise((r) => setTimeout(r, 200))
        const now = sshd.logs()
        still = now === seen ? still + 1 : 0
        seen = now
      }
      return seen
    }
    const before = await settle(5)
    const wrongPin = 'SHA256:' + 'A'.repeat(43)
    const kh = join(sshd.dir, 'known_hosts_wrong')
    await writeFile(kh, `[127.0.0.1]:${sshd.port} ssh-ed25519 ${Buffer.from('0000000b7373682d6564323535313900000020' + '33'.repeat(32), 'hex').toString('base64')}\n`)
    for (const s of [{ ...settings, knownHostsPath: kh }, { privateKeyPath: sshd.clientKeyPath, hostKeyFingerprints: [wrongPin] }]) {
      const e1 = await failure(openSession(sshd.host, sshd.port, o(s)))
      expect(e1.reason).toBe('host-key')
      expect(e1.message).toMatch(/does not match/)
      const e2 = await failure(probeAuthMethods(sshd.host, sshd.port, o(s)))
      expect(e2.reason).toBe('host-key')
    }
    expect(existsSync(join(scratch, 'marker'))).toBe(false)
    // Only the lines of the connections this test opened (an earlier test's disconnect may be logged late); ours may be
    // logged late too, so wait for the log to settle.
    const after = (await settle(3)).slice(before.length).split('\n')
    const ports = new Set(after.map((l) => /^Connection from 127\.0\.0\.1 port (\d+)/.exec(l)?.[1]).filter(Boolean))
    expect(ports.size).toBe(4)
    const ours = after.filter((l) => [...ports].some((p) => l.includes(`port ${p}`))).join('\n')
    expect(ours).not.toMatch(/Accepted|Postponed|Failed|authenticating user|Starting session/i)
  })

  it('unknown key: host-key error unless acceptUnknownHostKeys', async () => {
    const e = await failure(probeAuthMethods(sshd.host, sshd.port, o({})))
    expect(e.reason).toBe('host-key')
    expect(e.message).toMatch(/unknown/)
    const a = await probeAuthMethods(sshd.host, sshd.port, o({ acceptUnknownHostKeys: true }))
    expect(a.hostKey.verified).toBe('unverified')
  })

  it('runs commands with key auth; output is capped; a slow command is killed at its timeout', async () => {
    const ssh = await openSession(sshd.host, sshd.port, o())
    onTestFinished(() => ssh.close())
    expect(ssh.hostKey.verified).toBe('known_hosts')
    const r = await ssh.exec(`printf hello; printf oops >&2; exit 3`)
    expect(existsSync(join(scratch, 'marker'))).toBe(true)
    expect(r).toEqual({ code: 3, stdout: 'hello', stderr: 'oops', truncated: false })
    const big = await ssh.exec('head -c 100000000 /dev/zero', { maxBytes: 65_536 })
    expect(big.truncated).toBe(true)
    expect(big.stdout.length).toBe(65_536)
    // Root logins get no signal delivery (sshd: "session signalling requires privilege separation"), so the slow
    // command is one that dies of SIGPIPE once the channel is closed: nothing outlives the test.
    const slow = await failure(ssh.exec('while sleep 0.1; do echo .; done', { timeoutMs: 300 }))
    expect(slow.reason).toBe('timeout')
    expect((await ssh.exec('echo still-usable')).stdout).toBe('still-usable\n')
  })

  it('wrong client key → input error naming the user, never the key', async () => {
    const other = join(sshd.dir, 'other_key')
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other])
    const e = await failure(openSession(sshd.host, sshd.port, o({ knownHostsPath: sshd.knownHostsPath, privateKeyPath: other })))
    expect(e.reason).toBe('input')
    expect(e.message).toMatch(/authentication as ".+" failed/)
    expect(e.message).not.toMatch(/PRIVATE KEY/)
  })

  it('no credentials → input error before any connection', async () => {
    const e = await failure(openSession(sshd.host, sshd.port, o({ knownHostsPath: sshd.knownHostsPath })))
    expect(e.reason).toBe('input')
  })
})

describe.skipIf(NO_SSHD)(`the server's channel cap, MaxSessions (${WHY})`, () => {
  const settings = (sshd: Sshd): SshSettings => ({ knownHostsPath: sshd.knownHostsPath, privateKeyPath: sshd.clientKeyPath })

  it('MaxSessions 1: commands sent at once all run, one channel at a time, instead of "exec refused"', async () => {
    const sshd = await startSshd({ config: 'MaxSessions 1' })
    onTestFinished(() => sshd.stop())
    const ssh = await openSession(sshd.host, sshd.port, { signal, timeoutMs: 10_000, settings: settings(sshd) })
    onTestFinished(() => ssh.close())
    const rs = await Promise.all([1, 2, 3, 4].map((n) => ssh.exec(`sleep 0.1; echo ${n}`, { timeoutMs: 10_000 })))
    expect(rs.map((r) => [r.code, r.stdout])).toEqual([[0, '1\n'], [0, '2\n'], [0, '3\n'], [0, '4\n']])
    // The session stays usable, one command after another as before.
    expect((await ssh.exec('echo again')).stdout).toBe('again\n')
  })

  it('MaxSessions 1: a command waiting for the channel fails "aborted" with the running one when the attempt is aborted', async () => {
    const sshd = await startSshd({ config: 'MaxSessions 1' })
    onTestFinished(() => sshd.stop())
    const ac = new AbortController()
    const ssh = await openSession(sshd.host, sshd.port, { signal: ac.signal, timeoutMs: 10_000, settings: settings(sshd) })
    onTestFinished(() => ssh.close())
    // Dies of SIGPIPE once its channel is closed (root logins get no signal delivery): nothing outlives the test.
    const running = ssh.exec('echo started; while sleep 0.1; do echo .; done', { timeoutMs: 60_000 })
    const queued = ssh.exec('echo second', { timeoutMs: 60_000 })
    // The second is refused while the first runs, then waits; wait until that refusal is in sshd's log.
    for (let i = 0; i < 200 && !/open failed|no more sessions/i.test(sshd.logs()); i++) await new Promise((r) => setTimeout(r, 50))
    ac.abort()
    const es = await Promise.all([failure(running), failure(queued)])
    expect(es.map((e) => e.reason)).toEqual(['aborted', 'aborted'])
  })

  it('MaxSessions 0: a channel refused with no other open still fails the command (protocol), never waits', async () => {
    const sshd = await startSshd({ config: 'MaxSessions 0' })
    onTestFinished(() => sshd.stop())
    const ssh = await openSession(sshd.host, sshd.port, { signal, timeoutMs: 10_000, settings: settings(sshd) })
    onTestFinished(() => ssh.close())
    const es = await Promise.all([failure(ssh.exec('echo 1')), failure(ssh.exec('echo 2'))])
    expect(es.map((e) => e.reason)).toEqual(['protocol', 'protocol'])
    expect(es[0]!.message).toMatch(/exec refused/)
  })
})

describe.skipIf(NO_SSHD)(`PasswordAuthentication yes vs no (${WHY})`, () => {
  it.each([
    { config: 'PasswordAuthentication yes\nPermitRootLogin yes', password: true },
    { config: 'PasswordAuthentication no', password: false },
  ])('$config', async ({ config, password }) => {
    const sshd = await startSshd({ config })
    onTestFinished(() => sshd.stop())
    const a = await probeAuthMethods(sshd.host, sshd.port, { signal, timeoutMs: 10_000, settings: { knownHostsPath: sshd.knownHostsPath } })
    expect(a.methods.includes('password')).toBe(password)
    expect(a.methods).toContain('publickey')
  })
})

describe('hostile servers', () => {
  it.each([
    { name: 'tarpit (accepts, never speaks)', onConn: () => {}, reasons: ['timeout'] },
    {
      name: 'endless garbage banner',
      onConn: (s: Socket) => {
        const t = setInterval(() => s.write('x'.repeat(1000) + '\r\n'), 5)
        s.on('close', () => clearInterval(t))
      },
      reasons: ['protocol', 'timeout'],
    },
    {
      name: 'one endless line',
      onConn: (s: Socket) => {
        const t = setInterval(() => s.write('SSH-2.0-' + 'y'.repeat(4000)), 5)
        s.on('close', () => clearInterval(t))
      },
      reasons: ['protocol', 'timeout'],
    },
    { name: 'closes at once', onConn: (s: Socket) => s.destroy(), reasons: ['protocol', 'connectivity'] },
    { name: 'banner then silence', onConn: (s: Socket) => s.write('SSH-2.0-Tarpit_1.0\r\n'), reasons: ['timeout'] },
  ])('$name → error within the timeout', async ({ onConn, reasons }) => {
    const srv = await rawServer(onConn)
    onTestFinished(() => srv.close())
    for (const f of [() => probeAuthMethods('127.0.0.1', srv.port, { signal, timeoutMs: 400, settings: { acceptUnknownHostKeys: true } }),
      () => openSession('127.0.0.1', srv.port, { signal, timeoutMs: 400, settings: { acceptUnknownHostKeys: true, password: 'x' } })]) {
      const e = await failure(f())
      expect(reasons).toContain(e.reason)
      expect(e.message).not.toContain('x"')
    }
  })

  it('an aborted signal ends the attempt as aborted', async () => {
    const srv = await rawServer(() => {})
    onTestFinished(() => srv.close())
    const ac = new AbortController()
    const p = probeAuthMethods('127.0.0.1', srv.port, { signal: ac.signal, timeoutMs: 60_000, settings: { acceptUnknownHostKeys: true } })
    setTimeout(() => ac.abort(), 50)
    expect((await failure(p)).reason).toBe('aborted')
  })

  it('refused port → connectivity', async () => {
    const srv = await rawServer(() => {})
    const port = srv.port
    await srv.close()
    expect((await failure(probeAuthMethods('127.0.0.1', port, { signal, timeoutMs: 2000, settings: {} }))).reason).toBe('connectivity')
  })
})

describe('sshSettings', () => {
  it('expands ~/ in paths, as a shell would', async () => {
    const { homedir } = await import('node:os')
    const s = sshSettings({ ssh: { knownHostsPath: '~/.ssh/known_hosts', privateKeyPath: '/abs/key', username: 'me' } })
    expect(s.knownHostsPath).toBe(`${homedir()}/.ssh/known_hosts`)
    expect(s.privateKeyPath).toBe('/abs/key')
  })
})
