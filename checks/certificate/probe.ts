/**
 * @fileoverview Talks to a TLS endpoint: one full handshake with Node's TLS (TLS 1.0–1.3) to read the served chain and the negotiated
 * version, then hand-written ClientHellos (`hello.ts`) for the versions still unknown (see `probeProtocols`), each its own
 * connection under `ctx.sockets`, read only up to the server's ServerHello or refusal.
 *
 * The first handshake runs with the OpenSSL security level lowered to 0 for ztscan's client context only (`DEFAULT@SECLEVEL=0`),
 * so legacy-only servers, weak keys and SHA-1 chains still complete it. The version probes need no OpenSSL at all, so SSLv3 —
 * which Node 20's OpenSSL 3 cannot offer — is probed like TLS 1.0–1.2. SSLv2 (a different record format) is not probed.
 */
import { createSecureContext, type SecureContext, type SecureVersion, type TLSSocket } from 'node:tls'
import type { X509Certificate } from 'node:crypto'
import type { CheckContext } from '../../src/engine/check.ts'
import { AttemptFailure } from '../../src/errors.ts'
import type { Socket } from 'node:net'
import { connectStartTls, StartTlsError, type StartTls } from './tls-starttls.ts'
import { hostPort } from '../../src/targets/host.ts'
import { sendHello, versionName, type HelloVersion, type ProbeContext, type WireVersion } from './hello.ts'

/** Longest served chain accepted; a longer one is hostile or broken (OpenSSL's own verify depth default is 100, browsers stop far earlier). */
export const MAX_CHAIN = 10

/** The protocol versions known to the probes, oldest first. */
export const PROBED_VERSIONS: readonly WireVersion[] = ['SSLv3', 'TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3']

/** Endpoint fields of a `tls-endpoint` target. */
export interface Endpoint {
  readonly host: string
  readonly port: number
  readonly servername?: string
  /** The STARTTLS exchange to run first (`smtp://` and the other STARTTLS schemes). */
  readonly starttls?: StartTls
}

const LEGACY_CIPHERS = 'DEFAULT@SECLEVEL=0'

/** The served chain and the negotiated parameters of the first handshake. */
export interface Served {
  readonly certs: readonly X509Certificate[]
  readonly protocol: string
  readonly cipher: string
  /** OpenSSL's own verdict on the handshake with the scan's anchors (and Node's hostname check), when anchors were given. */
  readonly openssl?: { readonly authorized: boolean; readonly error?: string }
}

/** Outcome of one protocol probe. */
export type ProbeState = 'accepted' | 'refused' | 'inconclusive'
export interface ProbeResult {
  readonly version: WireVersion
  readonly state: ProbeState
  readonly detail?: string
  /** Why an `inconclusive` probe is: the attempt-failure reason the check reports. */
  readonly reason?: 'timeout' | 'protocol' | 'connectivity'
}

/**
 * Reads the served chain in path order (`getPeerX509Certificate()` and its `issuerCertificate` links). Node rebuilds the path from
 * what the server sent and may append the root from its own store; it drops served certificates that are not on the path.
 */
export function chainOf(sock: TLSSocket, what: string): X509Certificate[] {
  const out: X509Certificate[] = []
  const seen = new Set<string>()
  let c: X509Certificate | undefined = sock.getPeerX509Certificate()
  if (!c) throw new AttemptFailure('protocol', `${what}: the server sent no certificate`)
  while (c && !seen.has(c.fingerprint256)) {
    if (out.length >= MAX_CHAIN)
      throw new AttemptFailure('protocol', `${what}: the server sent a chain longer than ${MAX_CHAIN} certificates; not analysed`)
    seen.add(c.fingerprint256)
    out.push(c)
    c = c.issuerCertificate
  }
  return out
}

const contexts = new Map<string, SecureContext>()
/**
 * One client context per version range, shared by every connection: building a context per connection (which `tls.connect`
 * does when given `ciphers` or versions) costs more than the handshake itself.
 */
function contextFor(minVersion: SecureVersion, maxVersion: SecureVersion): SecureContext {
  const key = `${minVersion}-${maxVersion}`
  let c = contexts.get(key)
  if (!c) contexts.set(key, (c = createSecureContext({ minVersion, maxVersion, ciphers: LEGACY_CIPHERS })))
  return c
}

const codeOf = (err: AttemptFailure): string => err.code ?? ''
/** OpenSSL errors that mean the peer does not speak TLS at all. */
export const NOT_TLS = /^ERR_SSL_(WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|RECORD_LAYER_FAILURE|UNEXPECTED_MESSAGE|BAD_PACKET_LENGTH|HTTP_REQUEST)/

// The first handshake's context carries the scan's anchors, so OpenSSL's verdict with the same anchors comes for free.
const anchoredContexts = new WeakMap<object, SecureContext>()
function anchoredContext(anchors: { readonly pems: readonly string[] }): SecureContext {
  let c = anchoredContexts.get(anchors)
  if (!c) anchoredContexts.set(anchors, (c = createSecureContext({ minVersion: 'TLSv1', maxVersion: 'TLSv1.3', ciphers: LEGACY_CIPHERS, ca: [...anchors.pems] })))
  return c
}

/**
 * Opens the first connection (any version TLS 1.0–1.3, security level 0) and reads the chain; with `anchors`, OpenSSL verifies
 * the chain against them (never rejecting: its verdict is recorded, not obeyed).
 */
export async function fetchServed(ep: Endpoint, ctx: CheckContext, anchors?: { readonly pems: readonly string[] }): Promise<Served> {
  const what = `tls ${hostPort(ep.host, ep.port)}`
  const sock = await ctx.sockets(async () =>
    ctx.net
      .tlsHandshake({ host: ep.host, port: ep.port, servername: ep.servername, secureContext: anchors?.pems.length ? anchoredContext(anchors) : contextFor('TLSv1', 'TLSv1.3'), ...(ep.starttls ? { socket: await plaintextFirst(ep, ctx) } : {}) })
      .catch((err: unknown) => {
        if (err instanceof AttemptFailure && err.reason === 'protocol' && NOT_TLS.test(codeOf(err)))
          throw new AttemptFailure('protocol', `${what}: the service did not answer with TLS (${codeOf(err)})`)
        throw err
      }),
  )
  try {
    const certs = chainOf(sock, what)
    const openssl = anchors?.pems.length ? { authorized: sock.authorized, ...(sock.authorizationError ? { error: String(sock.authorizationError) } : {}) } : undefined
    return { certs, protocol: sock.getProtocol() ?? 'unknown', cipher: sock.getCipher()?.name ?? 'unknown', ...(openssl ? { openssl } : {}) }
  } finally {
    sock.destroy()
  }
}

/** Connects and runs the STARTTLS exchange; a service without TLS throws `StartTlsRefused`, other surprises a protocol failure. */
async function plaintextFirst(ep: Endpoint, ctx: CheckContext): Promise<Socket> {
  try {
    return await connectStartTls({ ...ep, starttls: ep.starttls! }, ctx)
  } catch (err) {
    if (err instanceof StartTlsError) throw new AttemptFailure('protocol', `${ep.starttls}://${ep.host}:${ep.port}: STARTTLS: ${err.message}`)
    throw err
  }
}

const ORDER: readonly WireVersion[] = PROBED_VERSIONS
const rank = (v: string): number => ORDER.indexOf(v as WireVersion)

type RangeResult = { state: 'accepted'; negotiated: WireVersion; detail: string } | { state: 'refused'; detail: string; negotiated?: WireVersion } | { state: 'inconclusive'; detail: string; reason: 'timeout' | 'protocol' | 'connectivity' }

/**
 * One ClientHello offering `min`…`max` (its client_version is `max`; a ClientHello cannot name a minimum). A ServerHello inside
 * the range accepts the chosen version; one below it refuses the range but still proves the version it chose.
 */
async function probeRange(ep: Endpoint, min: HelloVersion, max: HelloVersion, ctx: ProbeContext): Promise<RangeResult> {
  const r = await sendHello(ep, max, ctx)
  if (r.state !== 'answered') return r
  const offered = min === max ? min : `${min}–${max}`
  const name = versionName(r.version)
  const cipher = `cipher 0x${r.cipher.toString(16).padStart(4, '0')}`
  if (rank(name) >= rank(min) && rank(name) <= rank(max)) return { state: 'accepted', negotiated: name as WireVersion, detail: `ServerHello ${name}, ${cipher}` }
  return { state: 'refused', detail: `server chose ${name} when offered ${offered}`, ...(rank(name) >= 0 && rank(name) < rank(min) ? { negotiated: name as WireVersion } : {}) }
}

/**
 * Finds out which of `wanted` the endpoint accepts, given that the first handshake (offering TLS 1.0–1.3) negotiated `negotiated`.
 * Versions above the negotiated one are refused (a server picks the highest version both sides offer, RFC 8446 §4.2.1, RFC 5246 E.1).
 * TLS 1.0–1.2 are probed with one ClientHello per range of still-unknown versions: a refusal settles the whole range, an acceptance
 * settles the chosen version and those above it; so a modern server needs two (TLS 1.0–1.2, then 1.0–1.1). SSLv3 gets its own
 * SSLv3-shaped hello (record version 3.0, no extensions), sent alongside: old stacks refuse or garble TLS-shaped hellos.
 */
export async function probeProtocols(ep: Endpoint, negotiated: string, wanted: readonly WireVersion[], ctx: ProbeContext): Promise<Map<WireVersion, ProbeResult>> {
  const out = new Map<WireVersion, ProbeResult>()
  const settle = (v: WireVersion, r: Omit<ProbeResult, 'version'>): void => {
    if (!out.has(v)) out.set(v, { version: v, ...r })
  }
  if (rank(negotiated) >= 0) {
    settle(negotiated as WireVersion, { state: 'accepted', detail: 'first handshake' })
    for (const v of ORDER) if (rank(v) > rank(negotiated)) settle(v, { state: 'refused', detail: `server chose ${negotiated} when offered up to TLSv1.3` })
  }
  const fromRange = (unknown: readonly HelloVersion[], r: RangeResult): void => {
    if (r.state === 'accepted') {
      settle(r.negotiated, { state: 'accepted', detail: r.detail })
      const offered = unknown.length > 1 ? `${unknown[0]}–${unknown.at(-1)}` : unknown[0]
      for (const v of unknown) if (rank(v) > rank(r.negotiated)) settle(v, { state: 'refused', detail: `server chose ${r.negotiated} when offered ${offered}` })
      return
    }
    if (r.state === 'refused' && r.negotiated) settle(r.negotiated, { state: 'accepted', detail: r.detail })
    for (const v of unknown) settle(v, r.state === 'inconclusive' ? { state: r.state, detail: r.detail, reason: r.reason } : { state: r.state, detail: r.detail })
  }
  const tls = async (): Promise<void> => {
    for (;;) {
      const unknown = (wanted.filter((v) => v !== 'SSLv3' && v !== 'TLSv1.3' && !out.has(v)) as HelloVersion[]).sort((a, b) => rank(a) - rank(b))
      if (!unknown.length) return
      fromRange(unknown, await probeRange(ep, unknown[0]!, unknown.at(-1)!, ctx))
    }
  }
  const ssl3 = async (): Promise<void> => {
    if (wanted.includes('SSLv3') && !out.has('SSLv3')) {
      // A TLS range probe may settle it meanwhile (a server answering a TLS hello with SSLv3); the first result stands.
      fromRange(['SSLv3'], await probeRange(ep, 'SSLv3', 'SSLv3', ctx))
    }
  }
  await Promise.all([tls(), ssl3()])
  return out
}
