/**
 * @fileoverview STARTTLS: the plaintext exchange that turns a protocol's connection into a TLS one, run on a connected socket
 * before any ClientHello. Every certificate and `tls-*` rule then applies to the service as to a `tls://` endpoint.
 *
 * SMTP (RFC 3207: EHLO, STARTTLS), IMAP (RFC 9051 §6.2.1: CAPABILITY, STARTTLS), POP3 (RFC 2595: CAPA, STLS), FTP (RFC 4217:
 * AUTH TLS), LDAP (RFC 4511 §4.14: the StartTLS extended operation), PostgreSQL (SSLRequest, protocol 3 §55.2.10), MySQL and
 * MariaDB (the CLIENT_SSL capability in the server's greeting, then an SSLRequest packet) and XMPP (RFC 6120 §5: stream
 * features, <starttls/>). Every read is bounded: 64 KiB in all, 8 KiB per line, and the caller's deadline.
 * A server that does not offer TLS throws `StartTlsRefused` (a finding: plaintext only); anything else unexpected throws
 * `StartTlsError` (an error).
 */
import type { Socket } from 'node:net'
import { AttemptFailure } from '../../src/errors.ts'

/** Protocols with a STARTTLS step, by target scheme. */
export type StartTls = 'smtp' | 'imap' | 'pop3' | 'ftp' | 'ldap' | 'postgres' | 'mysql' | 'xmpp'

/** Default ports of the STARTTLS schemes. */
export const STARTTLS_PORTS: Readonly<Record<StartTls, number>> = { smtp: 25, imap: 143, pop3: 110, ftp: 21, ldap: 389, postgres: 5432, mysql: 3306, xmpp: 5222 }

/** The server does not offer TLS in its protocol (plaintext only). */
export class StartTlsRefused extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'StartTlsRefused'
  }
}
/** The server's plaintext answers are not the protocol's, or it stopped answering. */
export class StartTlsError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'StartTlsError'
  }
}

const MAX_BYTES = 64 * 1024
const MAX_LINE = 8192

/** Reads from a socket with byte caps; `next*` resolve when enough has arrived, reject on close, error, cap or deadline. */
class Conversation {
  #buf = Buffer.alloc(0)
  #total = 0
  #waiter: (() => void) | undefined
  #failure: Error | undefined
  readonly #sock: Socket
  readonly #detach: () => void

  constructor(sock: Socket, signal: AbortSignal) {
    this.#sock = sock
    const fail = (e: Error): void => {
      this.#failure ??= e
      this.#waiter?.()
    }
    const onData = (d: Buffer): void => {
      this.#total += d.length
      if (this.#total > MAX_BYTES) return fail(new StartTlsError(`more than ${MAX_BYTES} bytes before TLS`))
      this.#buf = Buffer.concat([this.#buf, d])
      this.#waiter?.()
    }
    const onEnd = (): void => fail(new StartTlsError('the server closed the connection before TLS'))
    const onError = (e: NodeJS.ErrnoException): void => fail(new StartTlsError(`socket error before TLS: ${e.code ?? e.message}`))
    const onAbort = (): void => fail(new StartTlsError(`no STARTTLS answer in time (${this.#total} bytes read)`))
    sock.on('data', onData)
    sock.on('end', onEnd)
    sock.on('close', onEnd)
    sock.on('error', onError)
    if (signal.aborted) onAbort()
    else signal.addEventListener('abort', onAbort, { once: true })
    this.#detach = () => {
      sock.off('data', onData)
      sock.off('end', onEnd)
      sock.off('close', onEnd)
      sock.off('error', onError)
      signal.removeEventListener('abort', onAbort)
    }
  }

  /** Stops listening, leaving the socket for TLS (the data listener is removed, so the socket pauses until TLS reads it). */
  detach(): void {
    this.#detach()
    this.#sock.pause()
  }

  write(s: string | Buffer): void {
    this.#sock.write(s)
  }

  /** Waits until `take` returns a value for the buffered bytes (it gets the buffer and returns [value, bytes consumed]). */
  async until<T>(take: (b: Buffer) => readonly [T, number] | undefined): Promise<T> {
    for (;;) {
      const got = take(this.#buf)
      if (got) {
        this.#buf = this.#buf.subarray(got[1])
        return got[0]
      }
      if (this.#failure) throw this.#failure
      await new Promise<void>((r) => (this.#waiter = r))
      this.#waiter = undefined
    }
  }

  /** One CRLF- or LF-terminated line, printable (control characters escaped). */
  line(): Promise<string> {
    return this.until((b) => {
      const nl = b.indexOf(0x0a)
      if (nl < 0) {
        if (b.length > MAX_LINE) throw new StartTlsError(`a line of more than ${MAX_LINE} bytes`)
        return undefined
      }
      return [b.subarray(0, nl).toString('latin1').replace(/\r$/, '').replace(/[^\x20-\x7e]/g, '?'), nl + 1] as const
    })
  }

  /** A numeric reply (SMTP, FTP): its lines until `NNN ` (not `NNN-`); returns the code and the lines. */
  async reply(): Promise<{ code: number; lines: string[] }> {
    const lines: string[] = []
    for (;;) {
      const l = await this.line()
      const m = /^(\d{3})([ -]|$)/.exec(l)
      if (!m) throw new StartTlsError(`not a numeric reply: "${l.slice(0, 80)}"`)
      lines.push(l)
      if (m[2] !== '-') return { code: Number(m[1]), lines }
      if (lines.length > 200) throw new StartTlsError('a reply of more than 200 lines')
    }
  }
}

const quote = (s: string): string => `"${s.slice(0, 80)}"`

async function smtp(c: Conversation): Promise<void> {
  const greeting = await c.reply()
  if (greeting.code !== 220) throw new StartTlsError(`SMTP greeting ${greeting.code}: ${quote(greeting.lines[0]!)}`)
  c.write('EHLO ztscan.invalid\r\n')
  const ehlo = await c.reply()
  if (ehlo.code !== 250) throw new StartTlsError(`EHLO answered ${ehlo.code}: ${quote(ehlo.lines[0]!)}`)
  if (!ehlo.lines.some((l) => /^250[ -]STARTTLS\s*$/i.test(l))) throw new StartTlsRefused('the SMTP server does not offer STARTTLS in its EHLO reply')
  c.write('STARTTLS\r\n')
  const r = await c.reply()
  if (r.code !== 220) throw new StartTlsRefused(`STARTTLS answered ${r.code}: ${quote(r.lines[0]!)}`)
}

async function imap(c: Conversation): Promise<void> {
  const greeting = await c.line()
  if (!/^\* (OK|PREAUTH)\b/i.test(greeting)) throw new StartTlsError(`IMAP greeting ${quote(greeting)}`)
  c.write('z1 CAPABILITY\r\n')
  let caps = ''
  for (let i = 0; ; i++) {
    const l = await c.line()
    if (/^\* CAPABILITY /i.test(l)) caps += ` ${l} `
    if (/^z1 /i.test(l)) break
    if (i > 200) throw new StartTlsError('no end to the CAPABILITY answer')
  }
  if (!/ STARTTLS /i.test(caps)) throw new StartTlsRefused('the IMAP server does not list STARTTLS in its capabilities')
  c.write('z2 STARTTLS\r\n')
  for (let i = 0; ; i++) {
    const l = await c.line()
    if (/^z2 OK\b/i.test(l)) return
    if (/^z2 /i.test(l)) throw new StartTlsRefused(`STARTTLS answered ${quote(l)}`)
    if (i > 50) throw new StartTlsError('no answer to STARTTLS')
  }
}

async function pop3(c: Conversation): Promise<void> {
  const greeting = await c.line()
  if (!/^\+OK\b/.test(greeting)) throw new StartTlsError(`POP3 greeting ${quote(greeting)}`)
  c.write('CAPA\r\n')
  const first = await c.line()
  const caps: string[] = []
  if (/^\+OK\b/.test(first)) {
    for (let l = await c.line(); l !== '.'; l = await c.line()) {
      caps.push(l.toUpperCase())
      if (caps.length > 200) throw new StartTlsError('no end to the CAPA answer')
    }
  }
  if (!caps.includes('STLS')) throw new StartTlsRefused('the POP3 server does not list STLS in its capabilities')
  c.write('STLS\r\n')
  const r = await c.line()
  if (!/^\+OK\b/.test(r)) throw new StartTlsRefused(`STLS answered ${quote(r)}`)
}

async function ftp(c: Conversation): Promise<void> {
  const greeting = await c.reply()
  if (greeting.code !== 220) throw new StartTlsError(`FTP greeting ${greeting.code}: ${quote(greeting.lines[0]!)}`)
  c.write('AUTH TLS\r\n')
  const r = await c.reply()
  if (r.code !== 234) throw new StartTlsRefused(`AUTH TLS answered ${r.code}: ${quote(r.lines[0]!)}`)
}

/** LDAPMessage { messageID 1, extendedReq { requestName "1.3.6.1.4.1.1466.20037" } } (RFC 4511 §4.12, §4.14.1). */
const LDAP_STARTTLS = Buffer.concat([Buffer.from([0x30, 0x1d, 0x02, 0x01, 0x01, 0x77, 0x18, 0x80, 0x16]), Buffer.from('1.3.6.1.4.1.1466.20037', 'ascii')])

async function ldap(c: Conversation): Promise<void> {
  c.write(LDAP_STARTTLS)
  const body = await c.until((b) => {
    if (b.length < 2) return undefined
    if (b[0] !== 0x30) throw new StartTlsError(`not an LDAP message (first byte 0x${b[0]!.toString(16)})`)
    let len = b[1]!
    let head = 2
    if (len & 0x80) {
      const n = len & 0x7f
      if (n < 1 || n > 3) throw new StartTlsError('an LDAP length of more than 3 bytes')
      if (b.length < 2 + n) return undefined
      len = b.readUIntBE(2, n)
      head = 2 + n
    }
    if (len > MAX_BYTES) throw new StartTlsError(`an LDAP message of ${len} bytes`)
    return b.length < head + len ? undefined : ([b.subarray(head, head + len), head + len] as const)
  })
  // messageID INTEGER, then [APPLICATION 24] ExtendedResponse whose first element is resultCode ENUMERATED.
  const i = body.indexOf(Buffer.from([0x78]))
  const at = i < 0 ? -1 : body.indexOf(Buffer.from([0x0a, 0x01]), i)
  if (at < 0 || at + 2 >= body.length) throw new StartTlsError('not an LDAP ExtendedResponse')
  const code = body[at + 2]!
  if (code !== 0) throw new StartTlsRefused(`the LDAP server answered StartTLS with result code ${code}`)
}

async function postgres(c: Conversation): Promise<void> {
  c.write(Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f])) // SSLRequest: length 8, code 80877103
  const answer = await c.until((b) => (b.length ? ([b[0]!, 1] as const) : undefined))
  if (answer === 0x4e) throw new StartTlsRefused('the PostgreSQL server answered the SSLRequest with N (no TLS)')
  if (answer !== 0x53) throw new StartTlsError(`not a PostgreSQL SSLRequest answer (0x${answer.toString(16)})`)
}

/** MySQL capability flags (client/server): CLIENT_LONG_PASSWORD, CLIENT_PROTOCOL_41, CLIENT_SSL, CLIENT_SECURE_CONNECTION. */
const MYSQL_CLIENT_SSL = 0x0800
const MYSQL_CAPS = 0x0001 | 0x0200 | MYSQL_CLIENT_SSL | 0x8000
/** SSLRequest (sequence 1): capabilities, max packet 16 MiB, utf8mb4, 23 zero bytes — the first 32 bytes of a HandshakeResponse41. */
const MYSQL_SSL_REQUEST = (() => {
  const b = Buffer.alloc(36)
  b.writeUIntLE(32, 0, 3)
  b[3] = 1
  b.writeUInt32LE(MYSQL_CAPS, 4)
  b.writeUInt32LE(0x0100_0000, 8)
  b[12] = 45
  return b
})()

/**
 * MySQL/MariaDB: the server speaks first, a packet (3-byte little-endian length, sequence id) holding the initial handshake
 * (protocol 10: server version, thread id, salt, capability flags); TLS is offered when CLIENT_SSL is among the flags. The
 * client answers with an SSLRequest and starts TLS at once (the server sends nothing in between).
 */
async function mysql(c: Conversation): Promise<void> {
  const payload = await c.until((b) => {
    if (b.length < 4) return undefined
    const len = b.readUIntLE(0, 3)
    if (len > MAX_BYTES) throw new StartTlsError(`a MySQL packet of ${len} bytes`)
    if (b[3] !== 0) throw new StartTlsError(`not a MySQL greeting (sequence id ${b[3]})`)
    return b.length < 4 + len ? undefined : ([b.subarray(4, 4 + len), 4 + len] as const)
  })
  if (payload[0] === 0xff) {
    // ERR packet: error code, then (protocol 4.1) '#' and a 5-character SQL state, then the message.
    const code = payload.length >= 3 ? payload.readUInt16LE(1) : 0
    const text = payload.subarray(payload[3] === 0x23 ? 9 : 3).toString('latin1').replace(/[^\x20-\x7e]/g, '?')
    throw new StartTlsError(`the MySQL server refused the connection: error ${code} ${quote(text)}`)
  }
  if (payload[0] === 9) throw new StartTlsRefused('the MySQL server speaks protocol 9 (no TLS)')
  if (payload[0] !== 10) throw new StartTlsError(`not a MySQL greeting (protocol version ${payload[0]})`)
  const nul = payload.indexOf(0, 1)
  const at = nul + 1 + 4 + 8 + 1 // thread id, auth-plugin-data part 1, filler
  if (nul < 0 || payload.length < at + 2) throw new StartTlsError('a truncated MySQL greeting')
  const version = payload.subarray(1, nul).toString('latin1').replace(/[^\x20-\x7e]/g, '?')
  if (!(payload.readUInt16LE(at) & MYSQL_CLIENT_SSL)) throw new StartTlsRefused(`the MySQL server (${quote(version)}) does not announce the SSL capability`)
  c.write(MYSQL_SSL_REQUEST)
}

async function xmpp(c: Conversation, domain: string): Promise<void> {
  c.write(`<?xml version='1.0'?><stream:stream to='${domain}' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>`)
  const features = await c.until((b) => {
    const end = b.indexOf('</stream:features>')
    if (end < 0) {
      if (b.indexOf('</stream:stream>') >= 0 || b.indexOf('<stream:error') >= 0) throw new StartTlsError('the XMPP server ended the stream')
      return undefined
    }
    return [b.subarray(0, end).toString('utf8'), end + 18] as const
  })
  if (!/<starttls[\s>/][^>]*urn:ietf:params:xml:ns:xmpp-tls/.test(features) && !/<starttls\s+xmlns=['"]urn:ietf:params:xml:ns:xmpp-tls/.test(features)) throw new StartTlsRefused('the XMPP server does not offer <starttls/> in its stream features')
  c.write("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
  const r = await c.until((b) => {
    const s = b.toString('utf8')
    if (/<proceed\b/.test(s)) return [true, b.length] as const
    if (/<failure\b/.test(s)) return [false, b.length] as const
    return undefined
  })
  if (!r) throw new StartTlsRefused('the XMPP server answered <starttls/> with <failure/>')
}

/** The domain an XMPP stream is opened to: the SNI name, or the host. Only DNS-name characters pass (it goes into XML). */
const xmppDomain = (name: string): string => (/^[a-zA-Z0-9.:[\]-]+$/.test(name) ? name : 'localhost')

/**
 * Runs the STARTTLS exchange of `proto` on a connected socket; when it resolves the next bytes on the socket are TLS.
 * `signal` bounds it in time. Throws `StartTlsRefused` or `StartTlsError`.
 */
export async function startTls(sock: Socket, proto: StartTls, signal: AbortSignal, servername: string): Promise<void> {
  const c = new Conversation(sock, signal)
  try {
    if (proto === 'smtp') await smtp(c)
    else if (proto === 'imap') await imap(c)
    else if (proto === 'pop3') await pop3(c)
    else if (proto === 'ftp') await ftp(c)
    else if (proto === 'ldap') await ldap(c)
    else if (proto === 'postgres') await postgres(c)
    else if (proto === 'mysql') await mysql(c)
    else await xmpp(c, xmppDomain(servername))
  } finally {
    c.detach()
  }
}

/** What `connectStartTls` needs of a check context. */
export interface StartTlsContext {
  readonly net: { tcpConnect(host: string, port: number, timeoutMs?: number): Promise<Socket> }
  readonly signal: AbortSignal
  readonly connectTimeoutMs: number
}

/**
 * Connects to `ep` and runs its STARTTLS exchange, all within the connect timeout; resolves with the socket ready for a
 * ClientHello. Throws `StartTlsRefused` (the service offers no TLS), `AttemptFailure` from the connect, or `StartTlsError`.
 */
export async function connectStartTls(ep: { host: string; port: number; servername?: string; starttls: StartTls }, ctx: StartTlsContext): Promise<Socket> {
  const start = performance.now()
  const sock = await ctx.net.tcpConnect(ep.host, ep.port, ctx.connectTimeoutMs)
  const deadline = new AbortController()
  const timer = setTimeout(() => deadline.abort(), Math.max(1, ctx.connectTimeoutMs - (performance.now() - start)))
  const onAbort = (): void => deadline.abort()
  ctx.signal.addEventListener('abort', onAbort, { once: true })
  try {
    await startTls(sock, ep.starttls, deadline.signal, ep.servername ?? ep.host)
    return sock
  } catch (err) {
    sock.destroy()
    if (ctx.signal.aborted) throw new AttemptFailure('aborted', `${ep.starttls}://${ep.host}:${ep.port}: aborted`)
    throw err
  } finally {
    clearTimeout(timer)
    ctx.signal.removeEventListener('abort', onAbort)
  }
}
