/**
 * @fileoverview Talks to a TLS endpoint: one handshake (TLS 1.0–1.3) to read the served chain and the negotiated version, then
 * one full handshake per range of versions still unknown (see `probeProtocols`), each its own connection under `ctx.sockets`.
 *
 * What this runtime can detect (Node 20, its bundled OpenSSL 3.0): TLS 1.0, 1.1, 1.2 and 1.3, with the OpenSSL security level
 * lowered to 0 for ztscan's client contexts only (`DEFAULT@SECLEVEL=0`), so legacy-only servers, weak keys and SHA-1 chains still
 * complete a handshake. SSLv3 and SSLv2 cannot be probed: OpenSSL 3 is built without them and Node rejects `SSLv3` as a version.
 * Whether the runtime can offer a version at all is checked once, offline (`runtimeOffers`); a version it cannot offer is reported
 * as `unsupported-by-runtime` in the evidence and its rule is not judged for it — never a pass.
 */
import { Duplex } from 'node:stream'
import { connect as tlsConnect, createSecureContext, type SecureContext, type SecureVersion, type TLSSocket } from 'node:tls'
import type { X509Certificate } from 'node:crypto'
import type { CheckContext } from '../../src/engine/check.ts'
import { AttemptFailure } from '../../src/errors.ts'

/** Longest served chain accepted; a longer one is hostile or broken (OpenSSL's own verify depth default is 100, browsers stop far earlier). */
export const MAX_CHAIN = 10

/** The protocol versions probed, oldest first. */
export const PROBED_VERSIONS: readonly SecureVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3']

/** Endpoint fields of a `tls-endpoint` target. */
export interface Endpoint {
  readonly host: string
  readonly port: number
  readonly servername?: string
}

const LEGACY_CIPHERS = 'DEFAULT@SECLEVEL=0'

/** The served chain and the negotiated parameters of the first handshake. */
export interface Served {
  readonly certs: readonly X509Certificate[]
  readonly protocol: string
  readonly cipher: string
}

/** Outcome of one protocol probe. */
export type ProbeState = 'accepted' | 'refused' | 'unsupported-by-runtime' | 'inconclusive'
export interface ProbeResult {
  readonly version: SecureVersion
  readonly state: ProbeState
  readonly detail?: string
}

/**
 * Reads the served chain in path order (`getPeerX509Certificate()` and its `issuerCertificate` links). Node rebuilds the path from
 * what the server sent and may append the root from its own store; it drops served certificates that are not on the path.
 */
function chainOf(sock: TLSSocket, what: string): X509Certificate[] {
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

const codeOf = (err: AttemptFailure): string => /: ([A-Z][A-Z0-9_]+)$/.exec(err.message)?.[1] ?? ''

/** Opens the first connection (any version TLS 1.0–1.3, security level 0) and reads the chain. */
export async function fetchServed(ep: Endpoint, ctx: CheckContext): Promise<Served> {
  const what = `tls ${ep.host.includes(':') ? `[${ep.host}]` : ep.host}:${ep.port}`
  const sock = await ctx.sockets(() =>
    ctx.net
      .tlsHandshake({ host: ep.host, port: ep.port, servername: ep.servername, secureContext: contextFor('TLSv1', 'TLSv1.3') })
      .catch((err: unknown) => {
        if (err instanceof AttemptFailure && err.reason === 'protocol' && /^ERR_SSL_(WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|RECORD_LAYER_FAILURE|UNEXPECTED_MESSAGE|BAD_PACKET_LENGTH|HTTP_REQUEST)/.test(codeOf(err)))
          throw new AttemptFailure('protocol', `${what}: the service did not answer with TLS (${codeOf(err)})`)
        throw err
      }),
  )
  try {
    const certs = chainOf(sock, what)
    return { certs, protocol: sock.getProtocol() ?? 'unknown', cipher: sock.getCipher()?.name ?? 'unknown' }
  } finally {
    sock.destroy()
  }
}

const ORDER: readonly SecureVersion[] = PROBED_VERSIONS
const rank = (v: string): number => ORDER.indexOf(v as SecureVersion)

const runtime = new Map<SecureVersion, Promise<boolean>>()
/**
 * Whether this runtime's OpenSSL can offer `version` as a client at security level 0: a client socket over an in-memory stream
 * either writes a ClientHello (a handshake record, 0x16) or fails with "no protocols available". No network involved.
 */
export function runtimeOffers(version: SecureVersion): Promise<boolean> {
  let p = runtime.get(version)
  if (!p) {
    p = new Promise<boolean>((resolve) => {
      let sock: TLSSocket | undefined
      const raw = new Duplex({
        read() {},
        write(chunk: Buffer, _enc, cb) {
          resolve(chunk[0] === 0x16)
          cb()
          setImmediate(() => sock?.destroy())
        },
      })
      try {
        sock = tlsConnect({ socket: raw, secureContext: contextFor(version, version), rejectUnauthorized: false, servername: 'runtime-check.invalid' })
        sock.on('error', () => resolve(false))
      } catch {
        resolve(false)
      }
    })
    runtime.set(version, p)
  }
  return p
}

/** One connection offering versions `min`…`max`. */
async function probeRange(ep: Endpoint, min: SecureVersion, max: SecureVersion, ctx: CheckContext): Promise<{ state: ProbeState; negotiated?: string; detail?: string }> {
  try {
    const sock = await ctx.sockets(() => ctx.net.tlsHandshake({ host: ep.host, port: ep.port, servername: ep.servername, secureContext: contextFor(min, max) }))
    const negotiated = sock.getProtocol() ?? undefined
    sock.destroy()
    return negotiated && rank(negotiated) >= rank(min) && rank(negotiated) <= rank(max) ? { state: 'accepted', negotiated } : { state: 'refused', detail: `negotiated ${negotiated}` }
  } catch (err) {
    if (!(err instanceof AttemptFailure)) throw err
    if (err.reason === 'aborted') throw err
    const code = codeOf(err)
    if (code === 'ERR_SSL_NO_PROTOCOLS_AVAILABLE' || code === 'ERR_SSL_NO_CIPHERS_AVAILABLE') return { state: 'unsupported-by-runtime', detail: code }
    // An alert, or a reset right after our ClientHello (how many servers refuse an old version).
    if (err.reason === 'protocol' || /ECONNRESET|EPIPE/.test(code)) return { state: 'refused', detail: code || err.message }
    return { state: 'inconclusive', detail: err.message }
  }
}

/**
 * Finds out which of `wanted` the endpoint accepts, given that the first handshake (offering TLS 1.0–1.3) negotiated `negotiated`.
 * Versions above the negotiated one are refused (a server picks the highest version both sides offer, RFC 8446 §4.2.1, RFC 5246 E.1).
 * The rest is probed with one connection per range of still-unknown versions: a refusal settles the whole range, an acceptance
 * settles the chosen version and those above it; so a modern server needs two probes (TLS 1.0–1.2, then 1.0–1.1).
 */
export async function probeProtocols(ep: Endpoint, negotiated: string, wanted: readonly SecureVersion[], ctx: CheckContext): Promise<Map<SecureVersion, ProbeResult>> {
  const out = new Map<SecureVersion, ProbeResult>()
  const known = rank(negotiated) >= 0
  if (known) {
    out.set(negotiated as SecureVersion, { version: negotiated as SecureVersion, state: 'accepted', detail: 'first handshake' })
    for (const v of ORDER) if (rank(v) > rank(negotiated)) out.set(v, { version: v, state: 'refused', detail: `server chose ${negotiated} when offered up to TLSv1.3` })
  }
  for (const v of wanted) if (!out.has(v) && !(await runtimeOffers(v))) out.set(v, { version: v, state: 'unsupported-by-runtime', detail: 'this runtime cannot offer it as a client' })
  for (;;) {
    const unknown = wanted.filter((v) => !out.has(v)).sort((a, b) => rank(a) - rank(b))
    if (!unknown.length) return out
    const lo = unknown[0]!
    const hi = unknown.at(-1)!
    const r = await probeRange(ep, lo, hi, ctx)
    if (r.state === 'accepted') {
      const got = r.negotiated as SecureVersion
      out.set(got, { version: got, state: 'accepted' })
      for (const v of unknown) if (rank(v) > rank(got)) out.set(v, { version: v, state: 'refused', detail: `server chose ${got} when offered ${lo}–${hi}` })
    } else for (const v of unknown) out.set(v, { version: v, state: r.state, ...(r.detail ? { detail: r.detail } : {}) })
  }
}
