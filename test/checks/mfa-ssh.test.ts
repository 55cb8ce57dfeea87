import { describe, expect, it, onTestFinished } from 'vitest'
import { generateKeyPairSync } from 'node:crypto'
import { createConnection, createServer, type Socket } from 'node:net'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import ssh2 from 'ssh2'
import ssh, { localHostKeyPins } from '../../checks/mfa/ssh.ts'
import mfa from '../../checks/mfa/index.ts'
import { fingerprintOf } from '../../src/net/ssh.ts'
import { readFileCapped } from '../../src/lib-files.ts'
import { defaultTargetsContext } from '../../src/defaults.ts'
import { sshEndpoint } from '../../checks/mfa/targets.ts'
import type { ScanReport } from '../../src/types.ts'
import { checkTester, findingOf } from '../helpers/check-tester.ts'
import { hasSshd, startSshd } from '../helpers/sshd.ts'
import { parsePolicy } from '../../src/rules/policy.ts'
import { existsSync } from 'node:fs'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

const run = promisify(execFile)

const tester = checkTester(ssh)
const verdicts = (r: ScanReport): string[] => r.findings.map((f) => `${f.status} ${f.ruleId}`).sort()
const noSshd = !hasSshd()
const why = noSshd ? ' (skipped: /usr/sbin/sshd or ssh-keygen missing; CI installs openssh-server)' : ''

describe('mfa-ssh against real OpenSSH sshd variants' + why, () => {
  const variants: { name: string; config: string; methods: string[]; fail: string[]; policy?: Record<string, unknown> }[] = [
    { name: 'password allowed', config: 'PasswordAuthentication yes', methods: ['publickey', 'password'], fail: ['mfa-ssh-single-factor'] },
    { name: 'publickey only', config: '', methods: ['publickey'], fail: [] },
    {
      name: 'publickey only, policy refuses a single possession factor',
      config: '',
      methods: ['publickey'],
      fail: ['mfa-ssh-single-factor'],
      policy: { rules: { 'mfa-ssh-single-factor': { parameters: { allowPublicKeyOnly: false } } } },
    },
    // The second factor is asked only after publickey succeeds, so the none probe sees publickey alone: a pass.
    { name: 'AuthenticationMethods publickey,password (two factors required)', config: 'PasswordAuthentication yes\nAuthenticationMethods publickey,password', methods: ['publickey'], fail: [] },
    {
      name: 'AuthenticationMethods publickey,keyboard-interactive (two factors required)',
      config: 'KbdInteractiveAuthentication yes\nAuthenticationMethods publickey,keyboard-interactive',
      methods: ['publickey'],
      fail: [],
    },
    { name: 'password for one user only (Match User)', config: `PasswordAuthentication no\nMatch User ${process.env.USER ?? 'root'}\n  PasswordAuthentication yes`, methods: ['publickey', 'password'], fail: ['mfa-ssh-single-factor'] },
  ]

  it.skipIf(noSshd).each(variants)('$name', async ({ config, methods, fail, policy }) => {
    const sshd = await startSshd({ config })
    onTestFinished(() => sshd.stop())
    const report = await tester.run(sshEndpoint(sshd.host, sshd.port, { username: sshd.user }), {
      settings: { ssh: { knownHostsPath: sshd.knownHostsPath } },
      ...(policy ? { policy: policy as never } : {}),
    })
    expect(report.errors).toEqual([])
    const f = findingOf(report, 'mfa-ssh-single-factor')
    expect(f.evidence.methods).toEqual(methods)
    expect(f.evidence).toMatchObject({ hostKeyFingerprint: sshd.hostKeyFingerprint, hostKeyAlgorithm: 'ssh-ed25519', hostKeyVerified: 'known_hosts', user: sshd.user })
    expect(String(f.evidence.banner)).toMatch(/^SSH-2\.0-OpenSSH_/)
    expect(verdicts(report).filter((v) => v.startsWith('fail')).map((v) => v.slice(5))).toEqual(fail)
    expect(findingOf(report, 'mfa-ssh-no-authentication').status).toBe('pass')
    if (fail.length) expect(f.message).toMatch(new RegExp(`^ssh://127\\.0\\.0\\.1:${sshd.port} offers .+ as a complete login \\(offered methods: ${methods.join(', ')}\\)$`))
  })

  it.skipIf(noSshd)('keyboard-interactive: single factor by default, multi-factor when the policy says its PAM stack asks for an OTP', async () => {
    const sshd = await startSshd({ config: 'KbdInteractiveAuthentication yes\nPasswordAuthentication no' })
    onTestFinished(() => sshd.stop())
    const settings = { ssh: { knownHostsPath: sshd.knownHostsPath } }
    const report = await tester.run(sshEndpoint(sshd.host, sshd.port), { settings })
    expect(report.errors).toEqual([])
    const f = findingOf(report, 'mfa-ssh-single-factor')
    expect(f.evidence.methods).toEqual(['publickey', 'keyboard-interactive'])
    expect(f).toMatchObject({ status: 'fail', resource: 'auth-methods' })
    expect(f.evidence.singleFactor).toEqual(['keyboard-interactive'])
    const lenient = await tester.run(sshEndpoint(sshd.host, sshd.port), { settings, policy: { rules: { 'mfa-ssh-single-factor': { parameters: { keyboardInteractiveIsMfa: true } } } } as never })
    expect(findingOf(lenient, 'mfa-ssh-single-factor').status).toBe('pass')
  })

  it.skipIf(noSshd)('an unknown host key is a host-key error before any authentication', async () => {
    const sshd = await startSshd({ config: 'PasswordAuthentication yes' })
    onTestFinished(() => sshd.stop())
    const other = await startSshd()
    onTestFinished(() => other.stop())
    // known_hosts of another server: the key is unknown for this one. Loopback pins from /etc/ssh do not apply
    // when trust is configured.
    const wrong = join(sshd.dir, 'wrong_known_hosts')
    await writeFile(wrong, (await readFile(other.knownHostsPath, 'utf8')).replace(`]:${other.port} `, `]:${sshd.port} `))
    const report = await tester.run(sshEndpoint(sshd.host, sshd.port), { settings: { ssh: { knownHostsPath: wrong } } })
    expect(report.findings).toEqual([])
    expect(report.errors).toEqual([expect.objectContaining({ check: 'mfa-ssh', reason: 'host-key' })])
    expect(report.errors[0]!.message).toMatch(/does not match the known_hosts entry/)
  })

  it.skipIf(noSshd)('on loopback, with no trust configured, the local sshd key files are the trust anchor', async () => {
    const sshd = await startSshd()
    onTestFinished(() => sshd.stop())
    // The helper's host key lives in sshd.dir as ssh_host_ed25519_key.pub, like /etc/ssh for the machine's own sshd.
    const report = await tester.run(sshEndpoint(sshd.host, sshd.port, { localHostKeyDir: sshd.dir }))
    expect(report.errors).toEqual([])
    expect(findingOf(report, 'mfa-ssh-single-factor').evidence).toMatchObject({ hostKeyVerified: 'pinned', hostKeyFingerprint: sshd.hostKeyFingerprint })
    // A directory with no matching key: the unknown key is refused.
    const empty = await mkdtemp(join(tmpdir(), 'ztscan-nokeys-'))
    onTestFinished(() => rm(empty, { recursive: true, force: true }))
    const refused = await tester.run(sshEndpoint(sshd.host, sshd.port, { localHostKeyDir: empty }))
    expect(refused.errors).toEqual([expect.objectContaining({ reason: 'host-key' })])
  })
})

describe('mfa-ssh: the second factor confirmed with a key, against real sshd variants' + why, () => {
  const strict = parsePolicy({ rules: { 'mfa-ssh-single-factor': { parameters: { allowPublicKeyOnly: false } } } })
  const variants: { name: string; config: string; secondFactor: string; single: string[]; log: RegExp; rsa?: boolean }[] = [
    { name: 'AuthenticationMethods publickey: the key alone logs in (one factor)', config: 'AuthenticationMethods publickey', secondFactor: 'not required: the key alone logged in', single: ['publickey'], log: /Accepted publickey for / },
    {
      name: 'AuthenticationMethods publickey,keyboard-interactive: two factors required',
      config: 'KbdInteractiveAuthentication yes\nAuthenticationMethods publickey,keyboard-interactive',
      secondFactor: 'required after the key: keyboard-interactive',
      single: [],
      log: /Partial publickey for /,
    },
    { name: 'AuthenticationMethods publickey,password: two factors required', config: 'PasswordAuthentication yes\nAuthenticationMethods publickey,password', secondFactor: 'required after the key: password', single: [], log: /Partial publickey for / },
    {
      name: 'the same with an RSA key',
      config: 'PasswordAuthentication yes\nAuthenticationMethods publickey,password',
      secondFactor: 'required after the key: password',
      single: [],
      log: /Partial publickey for /,
      rsa: true,
    },
    { name: 'AuthenticationMethods any with a key: password and the key each log in alone', config: 'PasswordAuthentication yes\nAuthenticationMethods any', secondFactor: 'not required: the key alone logged in', single: ['password', 'publickey'], log: /Accepted publickey for / },
  ]

  it.skipIf(noSshd).each(variants)('$name', async ({ config, secondFactor, single, log, rsa }) => {
    // Any session or command would run ForceCommand and leave this file: the probe must open no channel at all.
    const dir = await mkdtemp(join(tmpdir(), 'ztscan-2fa-'))
    onTestFinished(() => rm(dir, { recursive: true, force: true }))
    const opened = join(dir, 'channel-opened')
    let keyPath: string | undefined
    let authorizedKeys: string | undefined
    if (rsa) {
      keyPath = join(dir, 'id_rsa')
      await run('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', '-N', '', '-f', keyPath])
      authorizedKeys = await readFile(`${keyPath}.pub`, 'utf8')
    }
    const sshd = await startSshd({ config: `${config}\nLogLevel VERBOSE\nForceCommand /usr/bin/touch ${opened}`, authorizedKeys })
    onTestFinished(() => sshd.stop())
    const password = 'never-sent-password-2fa'
    const report = await tester.run(sshEndpoint(sshd.host, sshd.port, { username: sshd.user }), {
      settings: { ssh: { knownHostsPath: sshd.knownHostsPath, privateKeyPath: keyPath ?? sshd.clientKeyPath, password } },
      policy: strict,
    })
    expect(report.errors).toEqual([])
    const f = findingOf(report, 'mfa-ssh-single-factor')
    expect(f.evidence).toMatchObject({ secondFactor, singleFactor: single, methods: single.includes('password') ? ['publickey', 'password'] : ['publickey'] })
    expect(f.status).toBe(single.length ? 'fail' : 'pass')
    // sshd saw the key (accepted, or partial success) and never a password; no channel was opened.
    for (let i = 0; i < 100 && !log.test(sshd.logs()); i++) await new Promise((r) => setTimeout(r, 20))
    expect(sshd.logs()).toMatch(log)
    expect(sshd.logs()).not.toMatch(/password for /)
    await new Promise((r) => setTimeout(r, 100))
    expect(existsSync(opened)).toBe(false)
  })

  it.skipIf(noSshd)('a key the server refuses: an input error (the second factor is not confirmed), not a pass', async () => {
    const sshd = await startSshd({ config: 'PasswordAuthentication yes\nAuthenticationMethods publickey,password' })
    onTestFinished(() => sshd.stop())
    const dir = await mkdtemp(join(tmpdir(), 'ztscan-2fa-'))
    onTestFinished(() => rm(dir, { recursive: true, force: true }))
    const stranger = join(dir, 'id_other')
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', stranger])
    const report = await tester.run(sshEndpoint(sshd.host, sshd.port, { username: sshd.user }), { settings: { ssh: { knownHostsPath: sshd.knownHostsPath, privateKeyPath: stranger } } })
    expect(report.findings.map((x) => x.ruleId)).toEqual(['mfa-ssh-no-authentication'])
    expect(report.errors).toEqual([expect.objectContaining({ reason: 'input', message: expect.stringMatching(/the configured SSH key was refused for \S+ \(server still offers: publickey\); the second factor was not confirmed/) })])
    const key = await readFile(stranger, 'utf8')
    for (const line of key.split('\n').filter((l) => l.length > 16 && !l.startsWith('-----'))) expect(JSON.stringify(report)).not.toContain(line)
  })
})

/** A real SSH server (ssh2's) that accepts the `none` method: the case OpenSSH makes hard to set up. */
async function startNoneServer(): Promise<{ port: number; fingerprint: string; stop(): Promise<void> }> {
  const pem = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } }).privateKey
  const parsed = ssh2.utils.parseKey(pem)
  if (parsed instanceof Error) throw parsed
  const clients = new Set<ssh2.Connection>()
  const server = new ssh2.Server({ hostKeys: [pem], ident: 'ztscan-test-none' }, (client) => {
    clients.add(client)
    client.on('error', () => {})
    client.on('authentication', (ctx) => (ctx.method === 'none' ? ctx.accept() : ctx.reject()))
    client.on('ready', () => client.end())
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  return {
    port: (server.address() as { port: number }).port,
    fingerprint: fingerprintOf((Array.isArray(parsed) ? parsed[0]! : parsed).getPublicSSH()),
    stop: () => new Promise<void>((r) => {
      for (const c of clients) c.end()
      server.close(() => r())
    }),
  }
}

/** A TCP server with a hostile behaviour. */
async function hostileServer(onConn: (s: Socket) => void): Promise<{ port: number; stop(): void }> {
  const socks = new Set<Socket>()
  const srv = createServer((s) => {
    socks.add(s)
    s.on('error', () => {})
    onConn(s)
  })
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  return {
    port: (srv.address() as { port: number }).port,
    stop: () => {
      for (const s of socks) s.destroy()
      srv.close()
    },
  }
}

describe('mfa-ssh against in-process and hostile servers', () => {
  it('a server that accepts "none" fails mfa-ssh-no-authentication', async () => {
    const srv = await startNoneServer()
    onTestFinished(() => srv.stop())
    const report = await tester.run(sshEndpoint('127.0.0.1', srv.port, { username: 'guest' }), { settings: { ssh: { hostKeyFingerprints: [`127.0.0.1:${srv.port}=${srv.fingerprint}`] } } })
    expect(report.errors).toEqual([])
    expect(verdicts(report)).toEqual(['fail mfa-ssh-no-authentication'])
    const f = findingOf(report, 'mfa-ssh-no-authentication')
    expect(f).toMatchObject({ severity: 'critical', resource: 'user:guest' })
    expect(f.message).toBe(`ssh://127.0.0.1:${srv.port} accepts SSH "none" authentication for user guest: no factor at all`)
    expect(f.evidence).toMatchObject({ banner: 'SSH-2.0-ztscan-test-none', hostKeyAlgorithm: 'ssh-rsa', hostKeyVerified: 'pinned' })
  })

  const hostile: { name: string; behave: (s: Socket) => void }[] = [
    {
      name: 'endless banner',
      behave: (s) => {
        const t = setInterval(() => s.writable && s.write('x'.repeat(200) + '\r\n'), 5)
        s.on('close', () => clearInterval(t))
      },
    },
    { name: 'never answers', behave: () => {} },
    {
      name: 'banner then silence',
      behave: (s) => s.write('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n'),
    },
  ]
  it.each(hostile)('$name → error within the timeout', async ({ behave }) => {
    const srv = await hostileServer(behave)
    onTestFinished(() => srv.stop())
    const report = await tester.run(sshEndpoint('127.0.0.1', srv.port), { connectTimeoutMs: 500, timeoutMs: 5000, settings: { ssh: { acceptUnknownHostKeys: true } } })
    expect(report.findings).toEqual([])
    expect(report.errors).toHaveLength(1)
    expect(['timeout', 'protocol']).toContain(report.errors[0]!.reason)
  })

  it('garbage instead of SSH is a protocol error', async () => {
    const srv = await hostileServer((s) => s.end('HTTP/1.1 400 Bad Request\r\n\r\n'))
    onTestFinished(() => srv.stop())
    const report = await tester.run(sshEndpoint('127.0.0.1', srv.port), { connectTimeoutMs: 1000, settings: { ssh: { acceptUnknownHostKeys: true } } })
    expect(report.errors).toEqual([expect.objectContaining({ reason: 'protocol' })])
  })
})

describe('mfa family wiring', () => {
  it('localHostKeyPins reads ssh_host_*_key.pub files and skips others', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ztscan-keys-'))
    onTestFinished(() => rm(dir, { recursive: true, force: true }))
    const blob = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), Buffer.from([0, 0, 0, 32]), Buffer.alloc(32, 7)])
    await writeFile(join(dir, 'ssh_host_ed25519_key.pub'), `ssh-ed25519 ${blob.toString('base64')} root@host\n`)
    await writeFile(join(dir, 'ssh_host_ed25519_key'), 'PRIVATE, never read')
    await writeFile(join(dir, 'other.pub'), `ssh-ed25519 ${blob.toString('base64')}\n`)
    expect(await localHostKeyPins(readFileCapped, '127.0.0.1', 2222, dir)).toEqual([`127.0.0.1:2222=${fingerprintOf(blob)}`])
    expect(await localHostKeyPins(readFileCapped, '127.0.0.1', 22, join(dir, 'missing'))).toEqual([])
  })

  it('defaultTargets offers this machine\'s sshd only when 127.0.0.1:22 answers', async () => {
    const targets = await mfa.defaultTargets!(defaultTargetsContext())
    const listening = await new Promise<boolean>((resolve) => {
      const s = createConnection({ host: '127.0.0.1', port: 22 })
      s.setTimeout(1000, () => (s.destroy(), resolve(false)))
      s.once('connect', () => (s.destroy(), resolve(true)))
      s.once('error', () => resolve(false))
    })
    expect(targets.map((t) => t.id)).toEqual(listening ? ['ssh://127.0.0.1:22'] : [])
  })

  it('demo: flawed exports and a weak issuer produce failures of every export and token rule', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ztscan-demo-mfa-'))
    onTestFinished(() => rm(dir, { recursive: true, force: true }))
    const lab = await mfa.demo!(join(dir, 'mfa'))
    onTestFinished(() => lab.stop())
    const report = await checkTester(mfa.checks).run(lab.targets)
    expect(report.errors).toEqual([])
    const failed = new Set(report.findings.filter((f) => f.status === 'fail').map((f) => f.ruleId))
    for (const r of ['mfa-user-without-mfa', 'mfa-admin-without-mfa', 'mfa-weak-factors-only', 'mfa-not-enforced', 'mfa-aws-root-without-mfa', 'mfa-aws-root-access-keys', 'mfa-oidc-weak-signing', 'mfa-oidc-weak-jwks-key', 'mfa-token-unsigned', 'mfa-token-unverifiable', 'mfa-token-single-factor'])
      expect(failed, r).toContain(r)
  })
})
