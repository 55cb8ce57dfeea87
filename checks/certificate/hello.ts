/**
 * @fileoverview A hand-written ClientHello probe for SSLv3 … TLS 1.2: one TCP connection, one ClientHello record, read until the
 * server's first answer (ServerHello, alert or close), then close. It never completes a handshake, so it costs the client almost no
 * CPU and works for versions the runtime's OpenSSL cannot offer (Node 20's OpenSSL 3 has no SSLv3).
 *
 * The server's choice in its ServerHello is what a full handshake would negotiate: a server picks the highest version both sides
 * support, at most the ClientHello's client_version (RFC 5246 §7.4.1.3 and appendix E.1; RFC 6101 §5.6.1.3 for SSLv3).
 * `sendHello` never offers TLS 1.3 (no supported_versions extension); it stays known from the first, full handshake.
 * `sendCustomHello` offers chosen suites and groups for any version up to TLS 1.3 — what cipher-suite and group enumeration
 * (`tls-ciphers.ts`) is made of — and can read on to the ServerKeyExchange for the DH prime or the ECDHE curve.
 */
import { randomBytes, randomFillSync } from 'node:crypto'
import { isIP, type Socket } from 'node:net'
import type { CheckContext } from '../../src/engine/check.ts'
import { AttemptFailure } from '../../src/errors.ts'
import { hostPort } from '../../src/net/index.ts'
import { connectStartTls, StartTlsError, StartTlsRefused, type StartTls } from './tls-starttls.ts'

/** Versions a hand-written ClientHello can offer, oldest first. */
export type HelloVersion = 'SSLv3' | 'TLSv1' | 'TLSv1.1' | 'TLSv1.2'
/** Every version a ServerHello can name. */
export type WireVersion = HelloVersion | 'TLSv1.3'

const WIRE: Readonly<Record<WireVersion, number>> = { SSLv3: 0x0300, TLSv1: 0x0301, 'TLSv1.1': 0x0302, 'TLSv1.2': 0x0303, 'TLSv1.3': 0x0304 }
const BY_WIRE = new Map(Object.entries(WIRE).map(([k, v]) => [v, k as WireVersion]))

/** Name of a wire version (`0x0303` → `TLSv1.2`), or its hex form. */
export const versionName = (v: number): string => BY_WIRE.get(v) ?? `0x${v.toString(16).padStart(4, '0')}`

/** Most bytes read from a server before giving up on its ServerHello (a real one arrives in the first few hundred bytes). */
export const MAX_HELLO_BYTES = 64 * 1024

/**
 * Cipher suites of a TLS ClientHello: what modern and legacy servers accept, so that a refusal means the version and not the
 * ciphers. ECDHE (ECDSA, RSA) with AES-GCM, ChaCha20 and AES-CBC; DHE-RSA/DSS; static RSA; 3DES; RC4 last; then the
 * renegotiation SCSV (RFC 5746). Suites a version does not define are ignored by the server.
 */
const TLS_SUITES = [
  0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0x009e, 0x009f, // AEAD (TLS 1.2)
  0xc023, 0xc027, 0xc024, 0xc028, 0x0067, 0x006b, 0x003c, 0x003d, // CBC with SHA-256/384 (TLS 1.2)
  0xc009, 0xc013, 0xc00a, 0xc014, 0x0033, 0x0039, 0x0032, 0x0038, // ECDHE/DHE AES-CBC-SHA
  0x009c, 0x009d, 0x002f, 0x0035, // RSA AES
  0xc008, 0xc012, 0x0016, 0x0013, 0x000a, // 3DES
  0xc007, 0xc011, 0x0005, 0x0004, // RC4
  0x00ff, // TLS_EMPTY_RENEGOTIATION_INFO_SCSV
]
/** SSLv3 defines no ECDHE and no AEAD suites; an SSLv3 server speaks RSA/DHE with AES-CBC, 3DES or RC4. */
const SSL3_SUITES = [0x002f, 0x0035, 0x0033, 0x0039, 0x0032, 0x0038, 0x000a, 0x0016, 0x0013, 0x0005, 0x0004, 0x0009, 0x0015, 0x00ff]
/** x25519, secp256r1, secp384r1, secp521r1. */
const GROUPS = [0x001d, 0x0017, 0x0018, 0x0019]
/** ECDSA, RSA-PSS, Ed25519, RSA PKCS#1 (SHA-2 and SHA-1), DSA: what TLS 1.2 servers of any age sign with. */
const SIG_ALGS = [0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806, 0x0807, 0x0401, 0x0501, 0x0601, 0x0201, 0x0203, 0x0402, 0x0202]

const u16 = (n: number): Buffer => Buffer.from([n >> 8, n & 0xff])
const u24 = (n: number): Buffer => Buffer.from([n >> 16, (n >> 8) & 0xff, n & 0xff])
const vec16 = (b: Buffer): Buffer => Buffer.concat([u16(b.length), b])
const ext = (type: number, data: Buffer): Buffer => Buffer.concat([u16(type), vec16(data)])
const list16 = (xs: readonly number[]): Buffer => vec16(Buffer.concat(xs.map(u16)))

/**
 * Builds one ClientHello record offering versions up to `max`. The record layer says 0x0300 for an SSLv3 hello and 0x0301 otherwise
 * (what OpenSSL and browsers send, tolerated by old servers); an SSLv3 hello carries no extensions at all.
 * `servername` is sent as SNI when it is a DNS name.
 */
export function clientHello(max: HelloVersion, servername?: string, random: Buffer = randomBytes(32)): Buffer {
  const hello = template(max, servername)
  random.copy(hello, 11, 0, 32)
  return hello
}

const templates = new Map<string, Buffer>()
/** A fresh copy of the hello for (`max`, `servername`); its random (bytes 11–42) is left for the caller. */
function template(max: HelloVersion, servername: string | undefined): Buffer {
  const key = `${max} ${servername ?? ''}`
  let t = templates.get(key)
  if (!t) {
    if (templates.size > 1000) templates.clear()
    templates.set(key, (t = buildHello(max, servername, Buffer.alloc(32))))
  }
  return Buffer.from(t)
}

function buildHello(max: HelloVersion, servername: string | undefined, random: Buffer): Buffer {
  return buildCustomHello({ version: max, suites: max === 'SSLv3' ? SSL3_SUITES : TLS_SUITES, groups: GROUPS, ...(servername ? { servername } : {}) }, random)
}

/** What a custom ClientHello offers (see `customHello`). */
export interface HelloSpec {
  /** The highest version offered; `TLSv1.3` offers TLS 1.3 only (supported_versions), with an empty key_share. */
  readonly version: WireVersion
  /** Cipher suites in order of preference; the renegotiation SCSV is appended to TLS 1.2-and-older hellos. */
  readonly suites: readonly number[]
  /** supported_groups, in order of preference (default: x25519, secp256r1, secp384r1, secp521r1). */
  readonly groups?: readonly number[]
  /** Sent as SNI when it is a DNS name. */
  readonly servername?: string
}

/**
 * A ClientHello offering exactly `spec`'s suites and groups. A TLS 1.3 hello carries supported_versions [TLS 1.3] and an empty
 * key_share list, which RFC 8446 §4.2.8 allows "to request group selection from the server": a TLS 1.3 server answers with a
 * HelloRetryRequest naming its chosen suite and group, so neither side computes a key and any group — X25519MLKEM768 included —
 * is seen whether or not the runtime's OpenSSL implements it.
 */
export function customHello(spec: HelloSpec, random: Buffer = randomBytes(32)): Buffer {
  return buildCustomHello({ ...spec, suites: spec.version === 'TLSv1.3' ? spec.suites : [...spec.suites.filter((c) => c !== 0x00ff), 0x00ff] }, random)
}

function buildCustomHello(spec: HelloSpec, random: Buffer): Buffer {
  const { version, suites, groups = GROUPS, servername } = spec
  const ssl3 = version === 'SSLv3'
  const tls13 = version === 'TLSv1.3'
  const head = Buffer.concat([u16(tls13 ? WIRE['TLSv1.2'] : WIRE[version]), random, Buffer.from([0]), list16(suites), Buffer.from([1, 0])])
  let exts: Buffer[] = []
  if (!ssl3) {
    const name = servername && isIP(servername) === 0 ? Buffer.from(servername.replace(/\.$/, ''), 'ascii') : undefined
    if (name && name.length > 0 && name.length < 256) exts.push(ext(0x0000, vec16(Buffer.concat([Buffer.from([0]), vec16(name)]))))
    exts.push(ext(0x000b, Buffer.from([1, 0]))) // ec_point_formats: uncompressed
    exts.push(ext(0x000a, list16(groups)))
    if (version === 'TLSv1.2' || tls13) exts.push(ext(0x000d, list16(SIG_ALGS))) // defined for TLS 1.2 and up (RFC 5246 §7.4.1.4.1)
    exts.push(ext(0x0017, Buffer.alloc(0))) // extended_master_secret
    if (tls13) {
      exts.push(ext(0x002b, Buffer.from([2, 0x03, 0x04]))) // supported_versions: TLS 1.3 only
      exts.push(ext(0x0033, u16(0))) // key_share: no shares (ask the server to choose)
    }
    // Some load balancers hang on a ClientHello of 256–511 bytes; pad it to 512 as OpenSSL and browsers do (RFC 7685).
    const len = 4 + head.length + 2 + exts.reduce((n, e) => n + e.length, 0)
    if (len >= 256 && len < 512) exts = [...exts, ext(0x0015, Buffer.alloc(Math.max(1, 512 - len - 4)))]
  }
  const body = ssl3 ? head : Buffer.concat([head, vec16(Buffer.concat(exts))])
  const hs = Buffer.concat([Buffer.from([1]), u24(body.length), body])
  return Buffer.concat([Buffer.from([0x16]), u16(ssl3 ? 0x0300 : 0x0301), u16(hs.length), hs])
}

/** A server's first answer to a ClientHello. */
export type ServerAnswer =
  | {
      readonly kind: 'server-hello'
      readonly version: number
      readonly cipher: number
      /** The key_share group of a TLS 1.3 ServerHello, or the selected_group of a HelloRetryRequest. */
      readonly group?: number
      /** A HelloRetryRequest (RFC 8446 §4.1.3): a TLS 1.3 ServerHello whose random is the fixed HRR value. */
      readonly retry?: true
      /** With `keyExchange`: the body of the ServerKeyExchange that followed (TLS 1.2 and older), absent when none came. */
      readonly keyExchange?: Buffer
    }
  | { readonly kind: 'alert'; readonly level: number; readonly description: number }

/** The server's bytes are not a TLS answer to a ClientHello. The only error `ServerHelloReader` throws. */
export class HelloParseError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'HelloParseError'
  }
}

/** Names of the alerts a refusal usually carries (RFC 5246 §7.2, RFC 8446 §6). */
const ALERTS: Readonly<Record<number, string>> = {
  0: 'close_notify', 10: 'unexpected_message', 20: 'bad_record_mac', 22: 'record_overflow', 40: 'handshake_failure', 47: 'illegal_parameter',
  50: 'decode_error', 51: 'decrypt_error', 70: 'protocol_version', 71: 'insufficient_security', 80: 'internal_error', 86: 'inappropriate_fallback',
  90: 'user_canceled', 109: 'missing_extension', 110: 'unsupported_extension', 112: 'unrecognized_name',
}
/** `handshake_failure (40)`. */
export const alertName = (d: number): string => `${ALERTS[d] ?? 'alert'} (${d})`

const MAX_RECORD = 16_384 + 2048
const hex = (n: number): string => `0x${n.toString(16).padStart(2, '0')}`

/** A byte queue: appends copy into one buffer that grows by doubling, so a byte-by-byte stream costs no quadratic copying. */
class Bytes {
  #buf = Buffer.alloc(0)
  #start = 0
  #end = 0

  get length(): number {
    return this.#end - this.#start
  }

  append(b: Uint8Array): void {
    if (this.#end + b.length > this.#buf.length) {
      const live = this.#buf.subarray(this.#start, this.#end)
      const next = Buffer.allocUnsafe(Math.max(256, 2 * (live.length + b.length)))
      live.copy(next)
      this.#buf = next
      this.#end = live.length
      this.#start = 0
    }
    this.#buf.set(b, this.#end)
    this.#end += b.length
  }

  /** The queued bytes (valid until the next append). */
  view(): Buffer {
    return this.#buf.subarray(this.#start, this.#end)
  }

  consume(n: number): void {
    this.#start += n
  }
}

/**
 * Reads a server's answer to a ClientHello from chunks as they arrive: records may be fragmented over chunks, several may share one
 * chunk, and a handshake message may span records. Empty HelloRequests and warning alerts (but close_notify) before the
 * ServerHello are skipped, as clients do. Throws `HelloParseError` on anything else, and when `maxBytes` pass without an answer.
 */
export class ServerHelloReader {
  readonly #records = new Bytes()
  readonly #handshake = new Bytes()
  readonly #alert = new Bytes()
  readonly #maxBytes: number
  readonly #keyExchange: boolean
  #bytes = 0
  #hello: Extract<ServerAnswer, { kind: 'server-hello' }> | undefined

  /**
   * `keyExchange`: after a TLS 1.2-or-older ServerHello, read on (past Certificate and CertificateStatus) to the ServerKeyExchange
   * and return it with the ServerHello; a ServerHelloDone, an alert or a close before it ends the answer without one.
   */
  constructor(maxBytes = MAX_HELLO_BYTES, opts: { keyExchange?: boolean } = {}) {
    this.#maxBytes = maxBytes
    this.#keyExchange = opts.keyExchange ?? false
  }

  /** With `keyExchange`: the ServerHello read so far while waiting for the ServerKeyExchange (what a close or alert ends with). */
  get pending(): ServerAnswer | undefined {
    return this.#hello
  }

  /** Bytes received so far. */
  get bytes(): number {
    return this.#bytes
  }

  /** Feeds the next chunk; returns the answer once complete, `undefined` while more bytes are needed. */
  push(chunk: Uint8Array): ServerAnswer | undefined {
    // Only the first maxBytes of the stream are parsed: the answer must be in them.
    const room = Math.max(0, this.#maxBytes - this.#bytes)
    this.#bytes += chunk.length
    this.#records.append(chunk.length > room ? chunk.subarray(0, room) : chunk)
    while (this.#records.length >= 5) {
      const p = this.#records.view()
      const type = p[0]!
      if (type < 20 || type > 23) throw new HelloParseError(`not a TLS record (first byte ${hex(type)})`)
      if (p[1] !== 3 || p[2]! > 4) throw new HelloParseError(`not a TLS record (version ${hex(p[1]!)}${p[2]!.toString(16).padStart(2, '0')})`)
      if (type === 20 || type === 23) throw new HelloParseError(`${type === 20 ? 'ChangeCipherSpec' : 'application data'} before the ServerHello`)
      const len = p.readUInt16BE(3)
      if (len > MAX_RECORD) throw new HelloParseError(`record of ${len} bytes is longer than TLS allows`)
      if (p.length < 5 + len) break
      const frag = p.subarray(5, 5 + len)
      const answer = type === 22 ? this.#onHandshake(frag) : this.#onAlert(frag)
      this.#records.consume(5 + len)
      if (answer) return answer
    }
    if (this.#bytes >= this.#maxBytes && this.#hello) return this.#hello
    if (this.#bytes >= this.#maxBytes) throw new HelloParseError(`no ServerHello in the first ${this.#maxBytes} bytes`)
    return undefined
  }

  #onAlert(frag: Buffer): ServerAnswer | undefined {
    if (this.#hello) return this.#hello
    this.#alert.append(frag)
    while (this.#alert.length >= 2) {
      const [level, description] = this.#alert.view()
      this.#alert.consume(2)
      // A warning (e.g. unrecognized_name from servers without a matching vhost) does not end the handshake.
      if (level === 1 && description !== 0) continue
      return { kind: 'alert', level: level!, description: description! }
    }
    return undefined
  }

  #onHandshake(frag: Buffer): ServerAnswer | undefined {
    this.#handshake.append(frag)
    while (this.#handshake.length >= 4) {
      const h = this.#handshake.view()
      const type = h[0]!
      const len = h.readUIntBE(1, 3)
      if (type === 0 && len === 0) {
        this.#handshake.consume(4) // HelloRequest: ignored during a handshake (RFC 5246 §7.4.1.1)
        continue
      }
      if (this.#hello) {
        // Waiting for the ServerKeyExchange: Certificate (11) and CertificateStatus (22) come before it.
        if (type !== 11 && type !== 22 && type !== 12) return this.#hello
        if (len > this.#maxBytes) throw new HelloParseError(`handshake message of ${len} bytes`)
        if (h.length < 4 + len) return undefined
        if (type === 12) return { ...this.#hello, keyExchange: Buffer.from(h.subarray(4, 4 + len)) }
        this.#handshake.consume(4 + len)
        continue
      }
      if (type !== 2) throw new HelloParseError(`expected a ServerHello, got handshake message type ${type}`)
      if (len > this.#maxBytes) throw new HelloParseError(`ServerHello of ${len} bytes`)
      if (h.length < 4 + len) return undefined
      const hello = parseServerHello(h.subarray(4, 4 + len))
      if (!this.#keyExchange || hello.kind !== 'server-hello' || hello.version >= 0x0304) return hello
      this.#hello = hello
      this.#handshake.consume(4 + len)
    }
    return undefined
  }
}

/** The random of a HelloRetryRequest: SHA-256("HelloRetryRequest") (RFC 8446 §4.1.3). */
const HRR_RANDOM = Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex')

/**
 * Parses a ServerHello body (RFC 5246 §7.4.1.3); a supported_versions extension (RFC 8446 §4.2.1) overrides server_version, and
 * key_share (§4.2.8) gives the group: a KeyShareEntry in a ServerHello, the bare selected_group in a HelloRetryRequest.
 */
function parseServerHello(b: Buffer): Extract<ServerAnswer, { kind: 'server-hello' }> {
  const bad = (why: string): HelloParseError => new HelloParseError(`malformed ServerHello: ${why}`)
  if (b.length < 38) throw bad(`${b.length} bytes`)
  let version = b.readUInt16BE(0)
  if (b[0] !== 3) throw bad(`server_version ${versionName(version)}`)
  const sid = b[34]!
  if (sid > 32) throw bad(`session id of ${sid} bytes`)
  let off = 35 + sid
  if (b.length < off + 3) throw bad('truncated')
  const cipher = b.readUInt16BE(off)
  const retry = b.subarray(2, 34).equals(HRR_RANDOM)
  let group: number | undefined
  off += 3
  if (off < b.length) {
    if (b.length < off + 2 || b.readUInt16BE(off) !== b.length - off - 2) throw bad('extensions length')
    off += 2
    while (off < b.length) {
      if (b.length < off + 4) throw bad('truncated extension')
      const type = b.readUInt16BE(off)
      const len = b.readUInt16BE(off + 2)
      off += 4
      if (b.length < off + len) throw bad('truncated extension')
      if (type === 0x002b) {
        if (len !== 2) throw bad('supported_versions')
        version = b.readUInt16BE(off)
      }
      if (type === 0x0033) {
        if (len < 2 || (retry && len !== 2)) throw bad('key_share')
        group = b.readUInt16BE(off)
      }
      off += len
    }
  }
  return { kind: 'server-hello', version, cipher, ...(group !== undefined ? { group } : {}), ...(retry ? { retry: true as const } : {}) }
}

/** What one ClientHello told. `inconclusive` carries why, as the attempt-failure reason the check would report. */
export type HelloOutcome =
  | { readonly state: 'answered'; readonly version: number; readonly cipher: number; readonly group?: number; readonly retry?: true; readonly keyExchange?: Buffer }
  | { readonly state: 'refused'; readonly detail: string }
  | { readonly state: 'inconclusive'; readonly reason: 'timeout' | 'protocol' | 'connectivity'; readonly detail: string }

/** The part of a check context a probe uses. */
export type ProbeContext = Pick<CheckContext, 'net' | 'sockets' | 'signal' | 'connectTimeoutMs'>

/** Endpoint fields of a `tls-endpoint` target. */
export interface HelloEndpoint {
  readonly host: string
  readonly port: number
  readonly servername?: string
  /** The protocol whose STARTTLS exchange runs before the ClientHello (`smtp://`, `imap://`, …). */
  readonly starttls?: StartTls
}

/**
 * Sends one ClientHello offering up to `max` and reports the server's answer: the chosen version, a refusal (an alert, a close or
 * a reset after the hello — how servers refuse an old version), or why it is unknown. One TCP connection under `ctx.sockets`,
 * bounded by `ctx.connectTimeoutMs` in all and by `MAX_HELLO_BYTES`. Throws only `AttemptFailure('aborted')` (scan cancelled).
 * @example
 * const r = await sendHello({ host: '127.0.0.1', port: 443 }, 'SSLv3', ctx)
 * if (r.state === 'answered' && r.version === 0x0300) console.log('SSLv3 accepted')
 */
export function sendHello(ep: HelloEndpoint, max: HelloVersion, ctx: ProbeContext): Promise<HelloOutcome> {
  return send(ep, () => randomHello(max, ep.servername ?? ep.host), `${max} hello`, ctx, false)
}

/**
 * Sends the ClientHello `customHello(spec)` and reports the server's answer like `sendHello`, with the group of a TLS 1.3
 * ServerHello or HelloRetryRequest, and with `keyExchange` the ServerKeyExchange that follows a TLS 1.2-or-older ServerHello.
 */
export function sendCustomHello(ep: HelloEndpoint, spec: HelloSpec, ctx: ProbeContext, opts: { keyExchange?: boolean } = {}): Promise<HelloOutcome> {
  return send(ep, () => customHello({ ...spec, servername: spec.servername ?? ep.servername ?? ep.host }), `${spec.version} hello`, ctx, opts.keyExchange ?? false)
}

function send(ep: HelloEndpoint, hello: () => Buffer, label: string, ctx: ProbeContext, keyExchange: boolean): Promise<HelloOutcome> {
  return ctx.sockets(async () => {
    const start = performance.now()
    let sock: Socket
    try {
      sock = ep.starttls ? await connectStartTls({ ...ep, starttls: ep.starttls }, ctx) : await ctx.net.tcpConnect(ep.host, ep.port, ctx.connectTimeoutMs)
    } catch (err) {
      if (err instanceof StartTlsRefused || err instanceof StartTlsError) return { state: 'inconclusive', reason: 'protocol', detail: `${label} to ${hostPort(ep.host, ep.port)}: STARTTLS: ${err.message}` }
      if (!(err instanceof AttemptFailure) || err.reason === 'aborted') throw err
      return err.reason === 'timeout' ? { state: 'inconclusive', reason: 'timeout', detail: err.message } : { state: 'inconclusive', reason: 'connectivity', detail: err.message }
    }
    const what = `${label} to ${hostPort(ep.host, ep.port)}`
    return exchange(sock, hello(), Math.max(1, ctx.connectTimeoutMs - (performance.now() - start)), ctx.signal, what, keyExchange)
  })
}

function randomHello(max: HelloVersion, servername: string): Buffer {
  const hello = template(max, servername)
  randomFillSync(hello, 11, 32)
  return hello
}

/** Writes the hello and reads the answer on a connected socket; always destroys it. */
function exchange(sock: Socket, hello: Buffer, timeoutMs: number, signal: AbortSignal, what: string, keyExchange: boolean): Promise<HelloOutcome> {
  return new Promise<HelloOutcome>((resolve, reject) => {
    const reader = new ServerHelloReader(MAX_HELLO_BYTES, { keyExchange })
    const answered = (a: Extract<ServerAnswer, { kind: 'server-hello' }>): HelloOutcome => ({ state: 'answered', version: a.version, cipher: a.cipher, ...(a.group !== undefined ? { group: a.group } : {}), ...(a.retry ? { retry: a.retry } : {}), ...(a.keyExchange ? { keyExchange: a.keyExchange } : {}) })
    /** A close or reset after a ServerHello (while reading on to the ServerKeyExchange) still answered. */
    const closed = (detail: string): HelloOutcome => {
      const p = reader.pending
      return p?.kind === 'server-hello' ? answered(p) : { state: 'refused', detail }
    }
    let done = false
    const finish = (r: HelloOutcome | AttemptFailure): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
      sock.destroy()
      if (r instanceof AttemptFailure) reject(r)
      else resolve(r)
    }
    const timedOut = (): HelloOutcome => {
      const p = reader.pending
      return p?.kind === 'server-hello' ? answered(p) : { state: 'inconclusive', reason: 'timeout', detail: `${what}: timed out after ${reader.bytes} bytes` }
    }
    const onAbort = (): void => finish((signal.reason as { name?: string } | undefined)?.name === 'TimeoutError' ? timedOut() : new AttemptFailure('aborted', `${what}: aborted`))
    const timer = setTimeout(() => finish(timedOut()), timeoutMs)
    if (signal.aborted) return onAbort()
    signal.addEventListener('abort', onAbort, { once: true })
    sock.on('data', (chunk: Buffer) => {
      try {
        const a = reader.push(chunk)
        if (!a) return
        if (a.kind === 'server-hello') finish(answered(a))
        else finish({ state: 'refused', detail: `${a.level === 1 ? 'warning' : 'fatal'} alert ${alertName(a.description)}` })
      } catch (err) {
        if (!(err instanceof HelloParseError)) throw err
        const p = reader.pending
        if (p?.kind === 'server-hello') return finish(answered(p))
        finish({ state: 'inconclusive', reason: 'protocol', detail: `${what}: ${err.message}` })
      }
    })
    sock.on('end', () => finish(closed(`closed after ${reader.bytes} bytes`)))
    sock.on('close', () => finish(closed(`closed after ${reader.bytes} bytes`)))
    sock.on('error', (e: NodeJS.ErrnoException) => {
      const code = e.code ?? e.message
      finish(/ECONNRESET|EPIPE/.test(code) ? closed(`${code} after ${reader.bytes} bytes`) : { state: 'inconclusive', reason: 'connectivity', detail: `${what}: ${code}` })
    })
    sock.write(hello)
    sock.resume() // a socket handed over after STARTTLS is paused
  })
}
