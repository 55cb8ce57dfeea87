/**
 * @fileoverview The `ssh` family: the transport algorithms an SSH server offers — key exchange, host key, ciphers, MACs — read
 * from its SSH_MSG_KEXINIT (RFC 4253 §7.1), the first binary packet a server sends, in plaintext, before any key exchange. One TCP
 * connection: our identification line goes out, the server's identification line and KEXINIT come in, the socket closes. No
 * credentials are ever sent and no key exchange is done, so no host key needs trusting for this.
 *
 * The host keys' sizes need the keys themselves, which a server sends only inside a key exchange: for each key type offered
 * (RSA, ECDSA, Ed25519, DSA), ssh2 runs a key exchange restricted to it and its hostVerifier reads the key and refuses it, so
 * the connection ends before authentication. Algorithms ssh2 cannot negotiate are judged by name only.
 *
 * Judged against deny lists (rule parameters) taken from RFC 9142 (MUST NOT / SHOULD NOT key exchanges), RFC 8758 (no RC4),
 * RFC 8332 (ssh-rsa = SHA-1 signatures), and ssh-audit's hardening guides and policy (no CBC, no SHA-1 or MD5 MACs, no 64-bit
 * tags, RSA ≥ 3072), plus Terrapin (CVE-2023-48795): ChaCha20-Poly1305 or an encrypt-then-MAC with CBC, without strict kex.
 */
import { lazyRequire } from '../../src/lib-lazy.ts'
import type { Socket } from 'node:net'
import type { CheckContext } from '../../src/engine/check.ts'
import { AttemptFailure } from '../../src/errors.ts'
import { hostPort } from '../../src/net/index.ts'
import type { SSH_ALGORITHM_RULES } from './ssh-family.ts'

/** Most bytes read before the KEXINIT (identification lines, other pre-banner lines, the packet). */
export const MAX_KEXINIT_BYTES = 64 * 1024

/** What a server's KEXINIT offers, in its order of preference. */
export interface KexInit {
  /** The server's identification line (`SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3`), control characters escaped. */
  readonly banner: string
  readonly kex: readonly string[]
  readonly hostKey: readonly string[]
  /** Ciphers server→client, then any client→server ones not in that list. */
  readonly ciphers: readonly string[]
  readonly macs: readonly string[]
  readonly compression: readonly string[]
}

/** The server's bytes are not an SSH identification and KEXINIT. */
export class KexInitError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'KexInitError'
  }
}

const ssh2 = lazyRequire<typeof import('ssh2')>('ssh2')
const printable = (s: string): string => s.replace(/[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)

/**
 * Reads a KEXINIT from a byte stream as chunks arrive: lines before the `SSH-` identification (RFC 4253 §4.2) are skipped, the
 * identification must be `SSH-2.0-` or `SSH-1.99-`, then one binary packet (uint32 length, padding length, payload) must be a
 * KEXINIT (type 20). Throws `KexInitError` on anything else, or when `maxBytes` pass without one.
 */
export class KexInitReader {
  #buf = Buffer.alloc(0)
  #banner: string | undefined
  #bytes = 0
  readonly #maxBytes: number

  constructor(maxBytes = MAX_KEXINIT_BYTES) {
    this.#maxBytes = maxBytes
  }

  get bytes(): number {
    return this.#bytes
  }

  push(chunk: Buffer): KexInit | undefined {
    const room = Math.max(0, this.#maxBytes - this.#bytes)
    this.#bytes += chunk.length
    this.#buf = Buffer.concat([this.#buf, chunk.subarray(0, room)])
    while (this.#banner === undefined) {
      const nl = this.#buf.indexOf(0x0a)
      if (nl < 0) {
        if (this.#buf.length > 8192) throw new KexInitError('a line of more than 8192 bytes before the SSH identification')
        break
      }
      const line = this.#buf.subarray(0, nl).toString('latin1').replace(/\r$/, '')
      this.#buf = this.#buf.subarray(nl + 1)
      if (!line.startsWith('SSH-')) continue
      if (!/^SSH-(2\.0|1\.99)-/.test(line)) throw new KexInitError(`not an SSH-2 server: "${printable(line.slice(0, 80))}"`)
      this.#banner = printable(line.slice(0, 255))
    }
    if (this.#banner !== undefined && this.#buf.length >= 6) {
      const len = this.#buf.readUInt32BE(0)
      if (len < 12 || len > this.#maxBytes) throw new KexInitError(`a first packet of ${len} bytes`)
      if (this.#buf.length >= 4 + len) return parseKexInit(this.#banner, this.#buf.subarray(4, 4 + len))
    }
    if (this.#bytes >= this.#maxBytes) throw new KexInitError(`no KEXINIT in the first ${this.#maxBytes} bytes`)
    return undefined
  }
}

function parseKexInit(banner: string, packet: Buffer): KexInit {
  const pad = packet[0]!
  const payload = packet.subarray(1, packet.length - pad)
  if (pad >= packet.length || payload[0] !== 20) throw new KexInitError(`the first packet is not a KEXINIT (message type ${payload[0] ?? 'none'})`)
  let off = 17 // type + 16-byte cookie
  const lists: string[][] = []
  for (let i = 0; i < 10; i++) {
    if (payload.length < off + 4) throw new KexInitError('a truncated KEXINIT')
    const n = payload.readUInt32BE(off)
    if (payload.length < off + 4 + n) throw new KexInitError('a truncated KEXINIT')
    const text = payload.subarray(off + 4, off + 4 + n).toString('latin1')
    if (/[^\x21-\x7e]/.test(text)) throw new KexInitError('a KEXINIT name-list with non-printable characters')
    lists.push(text ? text.split(',') : [])
    off += 4 + n
  }
  const [kex, hostKey, c2s, s2c, macC2s, macS2c, compC2s, compS2c] = lists as [string[], string[], string[], string[], string[], string[], string[], string[]]
  const union = (a: string[], b: string[]): string[] => [...new Set([...a, ...b])]
  return { banner, kex, hostKey, ciphers: union(s2c, c2s), macs: union(macS2c, macC2s), compression: union(compS2c, compC2s) }
}

type Ctx = Pick<CheckContext, 'net' | 'sockets' | 'signal' | 'connectTimeoutMs'>

/** Connects, sends our identification, reads the server's KEXINIT, closes. Bounded by the connect timeout and `MAX_KEXINIT_BYTES`. */
export async function readKexInit(host: string, port: number, ctx: Ctx): Promise<KexInit> {
  const what = `ssh ${hostPort(host, port)}`
  return ctx.sockets(async () => {
    const start = performance.now()
    const sock: Socket = await ctx.net.tcpConnect(host, port, ctx.connectTimeoutMs)
    return new Promise<KexInit>((resolve, reject) => {
      const reader = new KexInitReader()
      let done = false
      const finish = (r: KexInit | Error): void => {
        if (done) return
        done = true
        clearTimeout(timer)
        ctx.signal.removeEventListener('abort', onAbort)
        sock.destroy()
        if (r instanceof Error) reject(r)
        else resolve(r)
      }
      const onAbort = (): void => finish(new AttemptFailure('aborted', `${what}: aborted`))
      const timer = setTimeout(() => finish(new AttemptFailure('timeout', `${what}: no KEXINIT within ${ctx.connectTimeoutMs} ms (${reader.bytes} bytes read)`)), Math.max(1, ctx.connectTimeoutMs - (performance.now() - start)))
      if (ctx.signal.aborted) return onAbort()
      ctx.signal.addEventListener('abort', onAbort, { once: true })
      sock.on('data', (chunk: Buffer) => {
        try {
          const k = reader.push(chunk)
          if (k) finish(k)
        } catch (err) {
          if (!(err instanceof KexInitError)) throw err
          finish(new AttemptFailure('protocol', `${what}: ${err.message}`))
        }
      })
      sock.on('close', () => finish(new AttemptFailure('protocol', `${what}: closed after ${reader.bytes} bytes, before a KEXINIT`)))
      sock.on('error', (e: NodeJS.ErrnoException) => finish(new AttemptFailure('connectivity', `${what}: ${e.code ?? e.message}`)))
      sock.write('SSH-2.0-ztscan\r\n')
    })
  })
}

/** A host key: its type and size in bits (RSA/DSA modulus, ECDSA curve, Ed25519/Ed448 fixed). */
export interface HostKeyInfo {
  readonly type: string
  readonly bits: number
}

/** Type and size of an SSH public key blob (RFC 4253 §6.6, RFC 5656 §3.1, RFC 8709). */
export function hostKeyInfo(blob: Buffer): HostKeyInfo | undefined {
  const fields: Buffer[] = []
  let off = 0
  while (off + 4 <= blob.length && fields.length < 6) {
    const n = blob.readUInt32BE(off)
    if (off + 4 + n > blob.length) return undefined
    fields.push(blob.subarray(off + 4, off + 4 + n))
    off += 4 + n
  }
  const type = fields[0]?.toString('latin1')
  const bitsOf = (b: Buffer | undefined): number => {
    if (!b) return 0
    let i = 0
    while (i < b.length && b[i] === 0) i++
    return i === b.length ? 0 : (b.length - i - 1) * 8 + (32 - Math.clz32(b[i]!))
  }
  if (type === 'ssh-rsa') return { type, bits: bitsOf(fields[2]) }
  if (type === 'ssh-dss') return { type, bits: bitsOf(fields[1]) }
  if (type?.startsWith('ecdsa-sha2-nistp')) return { type, bits: Number(type.slice('ecdsa-sha2-nistp'.length)) }
  if (type === 'ssh-ed25519') return { type, bits: 256 }
  if (type === 'ssh-ed448') return { type, bits: 456 }
  return type ? { type, bits: 0 } : undefined
}

/** Host-key algorithms that select each key type, the one ssh2 negotiates first. */
const KEY_PROBES: readonly (readonly [string, readonly string[]])[] = [
  ['rsa', ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']],
  ['ecdsa', ['ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521']],
  ['ed25519', ['ssh-ed25519']],
  ['dsa', ['ssh-dss']],
]

/** Reads the host key of one type through a key exchange that ssh2 ends in its hostVerifier (no authentication). */
function fetchHostKey(host: string, port: number, algs: readonly string[], ctx: Ctx): Promise<HostKeyInfo | undefined> {
  return ctx.sockets(
    () =>
      new Promise<HostKeyInfo | undefined>((resolve) => {
        const client = new (ssh2().Client)()
        let got: HostKeyInfo | undefined
        let done = false
        const finish = (): void => {
          if (done) return
          done = true
          clearTimeout(timer)
          ctx.signal.removeEventListener('abort', finish)
          client.end()
          client.destroy()
          resolve(got)
        }
        const timer = setTimeout(finish, ctx.connectTimeoutMs)
        ctx.signal.addEventListener('abort', finish, { once: true })
        client.on('error', finish)
        client.on('close', finish)
        client.on('ready', finish)
        client.connect({
          host,
          port,
          username: 'ztscan-host-key-probe',
          readyTimeout: ctx.connectTimeoutMs,
          algorithms: { serverHostKey: [...algs] as never },
          hostVerifier: (key: Buffer) => {
            got = hostKeyInfo(key)
            return false
          },
        })
      }),
  )
}

/** Matches a name against deny entries, where `*` stands for any run of characters (`*-cbc`, `hmac-sha1*`). */
export function denied(name: string, deny: readonly string[]): boolean {
  return deny.some((d) => {
    const parts = d.split('*')
    if (parts.length === 1) return name === d
    // Anchored first and last parts, the middle ones found left to right: linear in the name's length.
    const first = parts[0]!
    const last = parts.at(-1)!
    if (name.length < first.length + last.length || !name.startsWith(first) || !name.endsWith(last)) return false
    let at = first.length
    for (const mid of parts.slice(1, -1)) {
      const i = name.indexOf(mid, at)
      if (i < 0 || i + mid.length > name.length - last.length) return false
      at = i + mid.length
    }
    return true
  })
}

type Rule = (typeof SSH_ALGORITHM_RULES)[number]

/** The `ssh-algorithms` check's code (declared in ssh-family.ts, which every scan loads; this module loads when it runs). */
export async function runSshAlgorithms(target: { id: string; host?: unknown; port?: unknown }, ctx: CheckContext<Rule>): Promise<void> {
  const host = target.host
  const port = target.port
  if (typeof host !== 'string' || typeof port !== 'number') throw new AttemptFailure('input', `${target.id}: an ssh-endpoint target needs "host" and "port"`)
  const k = await readKexInit(host, port, ctx)
  const types = KEY_PROBES.filter(([, algs]) => algs.some((a) => k.hostKey.includes(a)))
  const keys = ctx.enabled('ssh-weak-host-key') ? await Promise.all(types.map(([, algs]) => fetchHostKey(host, port, algs.filter((a) => k.hostKey.includes(a)), ctx))) : []
  const evidence = {
    banner: k.banner,
    kex: k.kex,
    hostKeyAlgorithms: k.hostKey,
    ciphers: k.ciphers,
    macs: k.macs,
    hostKeys: keys.filter((x) => x).map((x) => `${x!.type} ${x!.bits}`),
  }
  const judge = (rule: Rule, what: string, offered: readonly string[], deny: readonly string[]): void => {
    const bad = offered.filter((a) => denied(a, deny))
    ctx.report(rule, bad.length ? 'fail' : 'pass', { resource: what, evidence: { ...evidence, weak: bad, detail: bad.length ? `weak ${what} offered: ${bad.join(', ')}` : `no weak ${what} among ${offered.length} offered` } })
  }
  judge('ssh-weak-kex', 'key exchange', k.kex, ctx.params<{ deny: string[] }>('ssh-weak-kex').deny)
  judge('ssh-weak-cipher', 'ciphers', k.ciphers, ctx.params<{ deny: string[] }>('ssh-weak-cipher').deny)
  judge('ssh-weak-mac', 'MACs', k.macs, ctx.params<{ deny: string[] }>('ssh-weak-mac').deny)

  const { deny, minRsaBits } = ctx.params<{ deny: string[]; minRsaBits: number }>('ssh-weak-host-key')
  const badAlgs = k.hostKey.filter((a) => denied(a, deny))
  const small = keys.filter((x): x is HostKeyInfo => !!x && (x.type === 'ssh-rsa' || x.type === 'ssh-dss') && x.bits < minRsaBits)
  const unread = ctx.enabled('ssh-weak-host-key') ? types.filter((_, i) => !keys[i]).map(([t]) => t) : []
  const problems = [...(badAlgs.length ? [`weak host-key algorithms offered: ${badAlgs.join(', ')}`] : []), ...small.map((x) => `${x.type} host key of ${x.bits} bits (minimum ${minRsaBits})`)]
  // A key that could not be read leaves the rule unknown: a proven problem still fails, but no pass is reported.
  if (problems.length || !unread.length)
    ctx.report('ssh-weak-host-key', problems.length ? 'fail' : 'pass', { resource: 'host keys', evidence: { ...evidence, weak: badAlgs, detail: problems.length ? problems.join('; ') : `host keys ${evidence.hostKeys.join(', ') || 'none offered'}; no weak algorithm among ${k.hostKey.length} offered` } })

  const strict = k.kex.includes('kex-strict-s-v00@openssh.com')
  const chacha = k.ciphers.filter((c) => c === 'chacha20-poly1305@openssh.com')
  const cbcEtm = k.ciphers.some((c) => c.endsWith('-cbc') || c.endsWith('-cbc@lysator.liu.se')) ? k.macs.filter((m) => m.endsWith('-etm@openssh.com')) : []
  const prone = [...chacha, ...(cbcEtm.length ? ['CBC ciphers with ' + cbcEtm.join(', ')] : [])]
  const vulnerable = prone.length > 0 && !strict
  ctx.report('ssh-terrapin', vulnerable ? 'fail' : 'pass', {
    resource: 'key exchange',
    evidence: { ...evidence, strictKex: strict, detail: vulnerable ? `${prone.join('; ')} offered without strict key exchange (kex-strict-s-v00@openssh.com)` : strict ? 'strict key exchange offered (kex-strict-s-v00@openssh.com)' : 'neither ChaCha20-Poly1305 nor CBC with encrypt-then-MAC offered' },
  })
  if (unread.length && !problems.length) throw new AttemptFailure('protocol', `${target.id}: the ${unread.join(', ')} host key could not be read (ssh2 could not complete a key exchange for it); the other results were reported`)
}

export { sshAlgorithmsCheck, default } from './ssh-family.ts'
