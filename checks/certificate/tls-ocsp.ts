/**
 * @fileoverview OCSP stapling as the handshake shows it: one TLS handshake with status_request (RFC 6066 §8) — Node's
 * `requestOCSP` — reads the staple the server sends, if any; the leaf's TLS Feature extension (RFC 7633, "must-staple") says
 * whether it had to. The staple's status is read here as evidence only; `revocation.ts` verifies its signature (with the
 * served chain returned here) and asks the OCSP responder and CRLs.
 */
import type { X509Certificate } from 'node:crypto'
import type { Socket } from 'node:net'
import { connect as tlsConnect, createSecureContext, type ConnectionOptions, type SecureContext, type TLSSocket } from 'node:tls'
import type forge from 'node-forge'
import type { CheckContext } from '../../src/engine/check.ts'
import { AttemptFailure } from '../../src/errors.ts'
import { hostPort } from '../../src/net/index.ts'
import { connectStartTls, type StartTls } from './tls-starttls.ts'
import { chainOf, NOT_TLS } from './probe.ts'
import { lazyModule, lazyObject } from '../../src/lib-lazy.ts'

const forgeLib = lazyModule<typeof forge>('node-forge')
const asn1 = lazyObject(() => forgeLib.asn1)

/** What the stapling handshake showed. */
export interface StapleInfo {
  readonly stapled: boolean
  /** OCSPResponseStatus (0 successful, 1 malformedRequest, 2 internalError, 3 tryLater, 5 sigRequired, 6 unauthorized). */
  readonly responseStatus?: number
  /** The first SingleResponse's certStatus, when the staple could be read. */
  readonly certStatus?: 'good' | 'revoked' | 'unknown'
  /** The leaf carries the TLS Feature extension with status_request (5). */
  readonly mustStaple: boolean
  /** The staple as sent (DER OCSPResponse), for signature verification. */
  readonly staple?: Buffer
  /** The served chain in path order (as `fetchServed` reads it); empty when it could not be read (`chainError`). */
  readonly chain: readonly X509Certificate[]
  readonly chainError?: string
}

const TLS_FEATURE = '1.3.6.1.5.5.7.1.24'
const BASIC = '1.3.6.1.5.5.7.48.1.1'

/** True when the certificate's TLS Feature extension lists status_request (RFC 7633 §4). */
export function mustStaple(cert: X509Certificate): boolean {
  try {
    const tbs = asn1.fromDer(forgeLib.util.createBuffer(cert.raw.toString('binary'))).value[0] as forge.asn1.Asn1
    const extsWrap = (tbs.value as forge.asn1.Asn1[]).find((e) => e.tagClass === asn1.Class.CONTEXT_SPECIFIC && e.type === 3)
    const exts = ((extsWrap?.value as forge.asn1.Asn1[] | undefined)?.[0]?.value ?? []) as forge.asn1.Asn1[]
    for (const ext of exts) {
      const parts = ext.value as forge.asn1.Asn1[]
      if (asn1.derToOid(parts[0]!.value as string) !== TLS_FEATURE) continue
      const features = asn1.fromDer(parts.at(-1)!.value as string).value as forge.asn1.Asn1[]
      return features.some((f) => asn1.derToInteger(f.value as string) === 5)
    }
  } catch {
    // an unparsable certificate is judged by the certificate family
  }
  return false
}

/** The response status and the first certificate status of a DER OCSPResponse (RFC 6960 §4.2.1); undefined when unreadable. */
export function parseOcspResponse(der: Buffer): { responseStatus: number; certStatus?: 'good' | 'revoked' | 'unknown' } | undefined {
  try {
    const top = asn1.fromDer(forgeLib.util.createBuffer(der.toString('binary'))).value as forge.asn1.Asn1[]
    const responseStatus = (top[0]!.value as string).charCodeAt(0)
    const bytes = top[1] ? ((top[1].value as forge.asn1.Asn1[])[0]!.value as forge.asn1.Asn1[]) : undefined
    if (!bytes || asn1.derToOid(bytes[0]!.value as string) !== BASIC) return { responseStatus }
    const basic = asn1.fromDer(bytes[1]!.value as string).value as forge.asn1.Asn1[]
    const tbs = basic[0]!.value as forge.asn1.Asn1[]
    const at = tbs.findIndex((e) => e.tagClass === asn1.Class.UNIVERSAL && e.type === asn1.Type.GENERALIZEDTIME)
    const responses = tbs[at + 1]!.value as forge.asn1.Asn1[]
    const status = (responses[0]!.value as forge.asn1.Asn1[])[1]!
    const certStatus = status.tagClass !== asn1.Class.CONTEXT_SPECIFIC ? undefined : status.type === 0 ? 'good' : status.type === 1 ? 'revoked' : status.type === 2 ? 'unknown' : undefined
    return { responseStatus, ...(certStatus ? { certStatus } : {}) }
  } catch {
    return undefined
  }
}

let legacy: SecureContext | undefined
/** One TLS handshake asking for a staple (TLS 1.0–1.3, security level 0 so legacy servers answer); the leaf and the staple. */
export async function readStaple(ep: { host: string; port: number; servername?: string; starttls?: StartTls }, ctx: Pick<CheckContext, 'net' | 'sockets' | 'signal' | 'connectTimeoutMs'>): Promise<StapleInfo> {
  const what = `tls ${hostPort(ep.host, ep.port)} (OCSP stapling)`
  return ctx.sockets(async () => {
    const start = performance.now()
    const raw: Socket = ep.starttls ? await connectStartTls({ ...ep, starttls: ep.starttls }, ctx) : await ctx.net.tcpConnect(ep.host, ep.port, ctx.connectTimeoutMs)
    legacy ??= createSecureContext({ ciphers: 'DEFAULT@SECLEVEL=0', minVersion: 'TLSv1', maxVersion: 'TLSv1.3' })
    const servername = ep.servername ?? (/^[\d.]+$|:/.test(ep.host) ? undefined : ep.host)
    // requestOCSP is passed on to the TLSSocket by tls.connect (Node's TLSSocket options), though @types/node omits it there.
    const options: ConnectionOptions & { requestOCSP: boolean } = { socket: raw, ...(servername ? { servername } : {}), requestOCSP: true, rejectUnauthorized: false, secureContext: legacy }
    const sock = tlsConnect(options)
    return new Promise<StapleInfo>((resolve, reject) => {
      let staple: Buffer | undefined
      const finish = (r: StapleInfo | AttemptFailure): void => {
        clearTimeout(timer)
        ctx.signal.removeEventListener('abort', onAbort)
        sock.destroy()
        raw.destroy()
        if (r instanceof AttemptFailure) reject(r)
        else resolve(r)
      }
      const onAbort = (): void => finish(new AttemptFailure('aborted', `${what}: aborted`))
      const timer = setTimeout(() => finish(new AttemptFailure('timeout', `${what}: no handshake within ${ctx.connectTimeoutMs} ms`)), Math.max(1, ctx.connectTimeoutMs - (performance.now() - start)))
      ctx.signal.addEventListener('abort', onAbort, { once: true })
      sock.on('OCSPResponse', (r: Buffer) => (staple = r))
      sock.once('secureConnect', () => {
        const parsed = staple?.length ? parseOcspResponse(staple) : undefined
        // Node hands the peer certificate out once per socket: the chain walk reads it, the leaf is its first element.
        // A chain the certificate family refuses (too long) is its error to report; the staple is still read.
        let chain: X509Certificate[] = []
        let chainError: string | undefined
        try {
          chain = chainOf(sock as TLSSocket, what)
        } catch (err) {
          chainError = err instanceof Error ? err.message : String(err)
        }
        const leaf = chain[0]
        finish({ stapled: !!staple?.length, ...(parsed ?? {}), mustStaple: leaf ? mustStaple(leaf) : false, ...(staple?.length ? { staple } : {}), chain, ...(chainError ? { chainError } : {}) })
      })
      sock.on('error', (e: NodeJS.ErrnoException) => finish(new AttemptFailure('protocol', `${what}: ${e.code && NOT_TLS.test(e.code) ? `the service did not answer with TLS (${e.code})` : (e.code ?? e.message)}`)))
    })
  })
}
