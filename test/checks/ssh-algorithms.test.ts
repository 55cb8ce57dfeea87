import { execFile } from 'node:child_process'
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import ssh, { denied, hostKeyInfo, KexInitError, KexInitReader } from '../../checks/mfa/ssh-algorithms.ts'
import { parsePolicy } from '../../src/rules/policy.ts'
import { sshEndpoint } from '../../checks/mfa/targets.ts'
import { checkTester, failedRuleIds, findingOf, passedRuleIds } from '../helpers/check-tester.ts'
import { hasSshd, startSshd, type Sshd } from '../helpers/sshd.ts'

const run = promisify(execFile)
const closers: (() => Promise<void>)[] = []
afterAll(async () => {
  await Promise.all(closers.map((c) => c()))
})
const tester = checkTester(ssh.checks, { perHost: 8, connectTimeoutMs: 5000, timeoutMs: 30_000 })
const HAVE_SSH_AUDIT = await run('ssh-audit', ['-h']).then(
  () => true,
  (e: { code?: unknown }) => typeof e.code === 'number', // ssh-audit -h exits non-zero but exists
)

// ---------------------------------------------------------------------------------------------------------------------------------
// A KEXINIT as a server sends it.
/** An SSH string: uint32 length, then the bytes (latin1). */
function str(v: string): Buffer {
  const b = Buffer.from(v, 'latin1')
  const len = Buffer.alloc(4)
  len.writeUInt32BE(b.length)
  return Buffer.concat([len, b])
}
function kexinit(lists: { kex: string[]; hostKey: string[]; ciphers: string[]; macs: string[] }): Buffer {
  const payload = Buffer.concat([
    Buffer.from([20]),
    Buffer.alloc(16, 9),
    ...[lists.kex, lists.hostKey, lists.ciphers, lists.ciphers, lists.macs, lists.macs, ['none'], ['none'], [], []].map((l) => str(l.join(','))),
    Buffer.from([0, 0, 0, 0, 0]),
  ])
  const pad = 8 - ((payload.length + 5) % 8) + 4
  const len = Buffer.alloc(4)
  len.writeUInt32BE(1 + payload.length + pad)
  return Buffer.concat([len, Buffer.from([pad]), payload, Buffer.alloc(pad)])
}
const OLD = { kex: ['curve25519-sha256', 'diffie-hellman-group1-sha1'], hostKey: ['ssh-ed25519'], ciphers: ['chacha20-poly1305@openssh.com', 'aes128-ctr'], macs: ['hmac-sha2-256-etm@openssh.com'] }

async function rawServer(onConnection: (s: Socket) => void): Promise<number> {
  const sockets = new Set<Socket>()
  const server: Server = createServer((s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
    s.on('error', () => {})
    onConnection(s)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  closers.push(() => new Promise<void>((r) => (sockets.forEach((s) => s.destroy()), server.close(() => r()))))
  return (server.address() as AddressInfo).port
}

describe('ssh algorithms: the KEXINIT reader', () => {
  it('reads a KEXINIT after pre-banner lines, however chunked', () => {
    const bytes = Buffer.concat([Buffer.from('hello there\r\nSSH-2.0-Old_1.0 test\r\n'), kexinit(OLD)])
    for (const size of [1, 3, 7, bytes.length]) {
      const r = new KexInitReader()
      let got
      for (let i = 0; i < bytes.length && !got; i += size) got = r.push(bytes.subarray(i, i + size))
      expect(got).toEqual({ banner: 'SSH-2.0-Old_1.0 test', kex: OLD.kex, hostKey: OLD.hostKey, ciphers: OLD.ciphers, macs: OLD.macs, compression: ['none'] })
    }
  })
  it.each([
    ['an SSH-1 server', Buffer.from('SSH-1.5-ancient\r\n'), /not an SSH-2 server/],
    ['an endless line', Buffer.alloc(9000, 0x41), /more than 8192 bytes/],
    ['a huge first packet', Buffer.concat([Buffer.from('SSH-2.0-x\r\n'), Buffer.from([0x7f, 0, 0, 0, 4, 20])]), /a first packet of \d+ bytes/],
    ['a packet that is not a KEXINIT', Buffer.concat([Buffer.from('SSH-2.0-x\r\n'), Buffer.from([0, 0, 0, 12, 4, 21]), Buffer.alloc(10)]), /not a KEXINIT \(message type 21\)/],
    ['control characters in a name-list', Buffer.concat([Buffer.from('SSH-2.0-x\r\n'), kexinit({ ...OLD, kex: ['a\u0007b'] })]), /non-printable/],
    ['a flood of short lines', Buffer.from('x\r\n'.repeat(30_000)), /no KEXINIT in the first 65536 bytes/],
  ])('refuses %s with a KexInitError', (_name, bytes, message) => {
    expect(() => new KexInitReader().push(bytes)).toThrow(KexInitError)
    expect(() => new KexInitReader().push(bytes)).toThrow(message)
  })
  it('escapes control characters in the banner', () => {
    const got = new KexInitReader().push(Buffer.concat([Buffer.from('SSH-2.0-evil\x1b[2J\r\n'), kexinit(OLD)]))
    expect(got?.banner).toBe('SSH-2.0-evil\\x1b[2J')
  })
  it('matches deny entries with * in linear time, and reads host-key sizes from key blobs', () => {
    expect(denied('aes128-cbc', ['*-cbc'])).toBe(true)
    expect(denied('rijndael-cbc@lysator.liu.se', ['*-cbc@*'])).toBe(true)
    expect(denied('hmac-sha1-etm@openssh.com', ['hmac-sha1*'])).toBe(true)
    expect(denied('hmac-sha2-256', ['hmac-sha1*', '*-cbc'])).toBe(false)
    expect(denied('a'.repeat(10_000), ['*a*a*a*a*b'])).toBe(false)
    const blob = Buffer.concat([str('ssh-rsa'), str('\x01\x00\x01'), str(`\x00${'\xff'.repeat(256)}`)])
    expect(hostKeyInfo(blob)).toEqual({ type: 'ssh-rsa', bits: 2048 })
    expect(hostKeyInfo(Buffer.concat([str('ecdsa-sha2-nistp384'), str('nistp384'), str('x')]))).toEqual({ type: 'ecdsa-sha2-nistp384', bits: 384 })
    expect(hostKeyInfo(Buffer.from([0, 0, 0, 9, 1]))).toBeUndefined()
  })
})

describe.skipIf(!hasSshd())('ssh algorithms: against a real sshd', () => {
  let plain: Sshd
  it('a default OpenSSH: the same algorithms ssh-audit lists; SHA-1 and 64-bit MACs fail, the rest pass', async () => {
    plain = await startSshd()
    closers.push(() => plain.stop())
    const r = await tester.run(sshEndpoint('127.0.0.1', plain.port))
    expect(r.errors).toEqual([])
    expect(failedRuleIds(r)).toEqual(['ssh-weak-mac'])
    expect(passedRuleIds(r)).toEqual(['ssh-terrapin', 'ssh-weak-cipher', 'ssh-weak-host-key', 'ssh-weak-kex'])
    const mac = findingOf(r, 'ssh-weak-mac')
    expect(mac.evidence!.weak).toEqual(expect.arrayContaining(['hmac-sha1', 'umac-64@openssh.com']))
    expect(findingOf(r, 'ssh-weak-host-key').evidence).toMatchObject({ hostKeys: ['ssh-ed25519 256'] })
    expect(findingOf(r, 'ssh-terrapin').evidence).toMatchObject({ strictKex: true })
    if (!HAVE_SSH_AUDIT) return
    const { stdout } = await run('ssh-audit', ['-j', `127.0.0.1:${plain.port}`]).catch((e: { stdout: string }) => e) // exits 3 on failures
    // ssh-audit's JSON: kex and key are objects with an algorithm name, enc and mac plain names.
    const audit = JSON.parse(stdout) as Record<string, ({ algorithm: string } | string)[]>
    const names = (k: string): string[] => audit[k]!.map((a) => (typeof a === 'string' ? a : a.algorithm)).sort()
    const ev = mac.evidence as { kex: string[]; hostKeyAlgorithms: string[]; ciphers: string[]; macs: string[] }
    expect([...ev.kex].sort()).toEqual(names('kex'))
    expect([...ev.hostKeyAlgorithms].sort()).toEqual(names('key'))
    expect([...ev.ciphers].sort()).toEqual(names('enc'))
    expect([...ev.macs].sort()).toEqual(names('mac'))
  })

  it('a weakened OpenSSH fails each rule, naming what is weak; a 2048-bit RSA host key is read and judged', async () => {
    const s = await startSshd({ config: 'KexAlgorithms diffie-hellman-group14-sha1,curve25519-sha256\nCiphers aes128-cbc,aes128-ctr\nMACs hmac-sha2-256-etm@openssh.com,hmac-md5\nHostKeyAlgorithms ssh-rsa,rsa-sha2-256,ssh-ed25519' })
    closers.push(() => s.stop())
    // A second server on the same config plus an RSA 2048 host key (sshd reads HostKey lines cumulatively).
    const rsaKey = join(s.dir, 'ssh_host_rsa_key')
    await run('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', '-N', '', '-f', rsaKey])
    const withRsa = await startSshd({ config: `HostKey ${rsaKey}\nKexAlgorithms diffie-hellman-group14-sha1,curve25519-sha256\nCiphers aes128-cbc,aes128-ctr\nMACs hmac-sha2-256-etm@openssh.com,hmac-md5\nHostKeyAlgorithms ssh-rsa,rsa-sha2-256,ssh-ed25519` })
    closers.push(() => withRsa.stop())
    const r = await tester.run(sshEndpoint('127.0.0.1', withRsa.port))
    expect(r.errors).toEqual([])
    expect(failedRuleIds(r)).toEqual(['ssh-weak-cipher', 'ssh-weak-host-key', 'ssh-weak-kex', 'ssh-weak-mac'])
    expect(findingOf(r, 'ssh-weak-kex').message).toBe(`ssh://127.0.0.1:${withRsa.port}: weak key exchange offered: diffie-hellman-group14-sha1`)
    expect(findingOf(r, 'ssh-weak-cipher').evidence!.weak).toEqual(['aes128-cbc'])
    expect(findingOf(r, 'ssh-weak-mac').evidence!.weak).toEqual(['hmac-md5'])
    expect(findingOf(r, 'ssh-weak-host-key').evidence!.detail).toBe('weak host-key algorithms offered: ssh-rsa; ssh-rsa host key of 2048 bits (minimum 3072)')
    // CBC with an encrypt-then-MAC is Terrapin-prone, but this OpenSSH offers strict kex.
    expect(findingOf(r, 'ssh-terrapin')).toMatchObject({ status: 'pass', evidence: expect.objectContaining({ strictKex: true }) })
    // The deny lists are parameters.
    const relaxed = await tester.run(sshEndpoint('127.0.0.1', withRsa.port), { policy: parsePolicy({ rules: { 'ssh-weak-kex': { parameters: { deny: ['*-sha1', 'ecdh-sha2-nistp*'] } }, 'ssh-weak-mac': { parameters: { deny: [] } } } }) })
    expect(findingOf(relaxed, 'ssh-weak-kex').evidence!.weak).toEqual(['diffie-hellman-group14-sha1'])
    expect(findingOf(relaxed, 'ssh-weak-mac').status).toBe('pass')
  })
})

describe('ssh algorithms: scripted and hostile servers', () => {
  const scripted = (lists = OLD, banner = 'SSH-2.0-OpenSSH_9.0\r\n') => rawServer((s) => s.write(Buffer.concat([Buffer.from(banner), kexinit(lists)])))

  it('ChaCha20-Poly1305 without strict kex fails ssh-terrapin; the unreadable host key leaves ssh-weak-host-key unknown (an error)', async () => {
    const port = await scripted()
    const r = await tester.run(sshEndpoint('127.0.0.1', port), { connectTimeoutMs: 1500 })
    expect(findingOf(r, 'ssh-terrapin')).toMatchObject({ status: 'fail', message: `ssh://127.0.0.1:${port}: chacha20-poly1305@openssh.com offered without strict key exchange (kex-strict-s-v00@openssh.com)` })
    expect(findingOf(r, 'ssh-weak-kex').evidence!.weak).toEqual(['diffie-hellman-group1-sha1'])
    expect(r.findings.filter((f) => f.ruleId === 'ssh-weak-host-key')).toEqual([])
    expect(r.errors).toEqual([expect.objectContaining({ reason: 'protocol', message: expect.stringMatching(/the ed25519 host key could not be read/) })])
  })

  it.each([
    { name: 'never answers', serve: () => {}, reason: 'timeout' },
    { name: 'an HTTP server', serve: (s: Socket) => s.end('HTTP/1.1 400 Bad Request\r\n\r\n'), reason: 'protocol' },
    { name: 'SSH-1 only', serve: (s: Socket) => s.end('SSH-1.5-old\r\n'), reason: 'protocol' },
    { name: 'a 10 MB banner', serve: (s: Socket) => s.write(Buffer.alloc(10 * 1024 * 1024, 0x41)), reason: 'protocol' },
    { name: 'a banner, then silence', serve: (s: Socket) => s.write('SSH-2.0-x\r\n'), reason: 'timeout' },
  ])('a server that $name is an error ($reason), never a finding', async ({ serve, reason }) => {
    const port = await rawServer(serve)
    const r = await tester.run(sshEndpoint('127.0.0.1', port), { connectTimeoutMs: 600 })
    expect(r.findings).toEqual([])
    expect(r.errors).toEqual([expect.objectContaining({ reason })])
  })
})
