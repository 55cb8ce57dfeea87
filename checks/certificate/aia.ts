/**
 * @fileoverview Fetches beyond the target — AIA `caIssuers` certificates, OCSP responses, CRLs — over plain HTTP (what RFC 5280
 * §4.2.2.1 and §4.2.1.13 name; https, LDAP and other schemes are skipped with a named reason), each with a byte cap and a time
 * cap, cached per scan: one fetch per URL (and per OCSP request) whatever number of endpoints share an issuer. The cache is keyed
 * by the scan's shared socket limiter, the one object every attempt of a scan holds, so it dies with the scan.
 */
import { X509Certificate } from 'node:crypto'
import type { CheckContext } from '../../src/engine/check.ts'
import { AttemptFailure } from '../../src/errors.ts'
import { CONTEXT, T, is, kids, must, oid, parseDer, raw } from './der.ts'
import { parseCertificates } from './chain.ts'
import { pointersOf } from './revocation-data.ts'

/** Caps per fetched object. */
export const LIMITS = {
  /** A caIssuers certificate, DER or a PKCS#7 certs-only bundle. */
  certBytes: 256 * 1024,
  /** An OCSP response (a few KB in practice). */
  ocspBytes: 64 * 1024,
  /** A CRL. */
  crlBytes: 10 * 1024 * 1024,
  /** Certificates kept from one PKCS#7 bundle. */
  certsPerBundle: 8,
  /** Issuers fetched one after another above the served chain. */
  aiaDepth: 4,
} as const

/** Settings of the fetches (settings.tls). */
export interface FetchSettings {
  /** `fail-closed` (default), `soft-fail` or `off`. */
  readonly revocation: 'fail-closed' | 'soft-fail' | 'off'
  /** Fetch missing issuers from AIA caIssuers (default true). */
  readonly aia: boolean
}

/** The fetch settings of a scan (settings.tls.revocation, settings.tls.aia). */
export function fetchSettings(settings: Readonly<Record<string, unknown>>): FetchSettings {
  const tls = (settings.tls ?? {}) as { revocation?: FetchSettings['revocation']; aia?: boolean | 'on' | 'off' }
  return { revocation: tls.revocation ?? 'fail-closed', aia: tls.aia === undefined ? true : tls.aia === true || tls.aia === 'on' }
}

type Ctx = Pick<CheckContext, 'net' | 'sockets' | 'connectTimeoutMs' | 'signal'>

const caches = new WeakMap<object, Map<string, Promise<Buffer>>>()

/** Why a URL is not fetched (only http:// is). */
export function unfetchable(url: string): string | undefined {
  let u: URL
  try {
    u = new URL(url)
  } catch {
    return 'not a URL'
  }
  if (u.protocol === 'ldap:' || u.protocol === 'ldaps:') return 'LDAP distribution points are not fetched'
  if (u.protocol !== 'http:') return `${u.protocol.slice(0, -1)} URLs are not fetched (RFC 5280 names http for these)`
  return undefined
}

/**
 * GETs (or POSTs `body`) `url` once per scan: the body of a 200 answer, at most `maxBytes`, within `timeoutMs` (default twice
 * the connect timeout). Throws `AttemptFailure`: connectivity/timeout when unreachable, protocol for another status or too
 * many bytes. A failed fetch is cached too (the same responder is not asked again by every endpoint in the scan).
 */
export async function fetchOnce(ctx: Ctx, url: string, o: { maxBytes: number; accept: string; body?: Buffer; contentType?: string; timeoutMs?: number }): Promise<Buffer> {
  // Another attempt's fetch of the same URL may be aborted with that attempt (its deadline): not an answer, so ask again.
  for (let i = 0; ; i++) {
    try {
      return await shared(ctx, url, o)
    } catch (err) {
      if (i < 2 && err instanceof AttemptFailure && err.reason === 'aborted' && !ctx.signal.aborted) continue
      throw err
    }
  }
}

function shared(ctx: Ctx, url: string, o: { maxBytes: number; accept: string; body?: Buffer; contentType?: string; timeoutMs?: number }): Promise<Buffer> {
  let cache = caches.get(ctx.sockets)
  if (!cache) caches.set(ctx.sockets, (cache = new Map()))
  const key = `${o.body ? `POST ${o.body.toString('base64')} ` : ''}${url}`
  let p = cache.get(key)
  if (!p) {
    const timeoutMs = o.timeoutMs ?? ctx.connectTimeoutMs * 2
    const headers = { accept: o.accept, ...(o.contentType ? { 'content-type': o.contentType } : {}) }
    p = ctx.sockets(() => (o.body ? ctx.net.httpPost(url, o.body, { maxBytes: o.maxBytes, headers, timeoutMs }) : ctx.net.httpGet(url, { maxBytes: o.maxBytes, headers, timeoutMs }))).then((r) => {
      if (r.status !== 200) throw new AttemptFailure('protocol', `${o.body ? 'POST' : 'GET'} ${url}: HTTP ${r.status}`)
      return r.body
    })
    cache.set(key, p)
    // The attempt that started it may be aborted: an abort is not an answer about the URL, so it is not kept.
    p.catch((err: unknown) => {
      if (err instanceof AttemptFailure && err.reason === 'aborted') cache.delete(key)
    })
  }
  return p
}

const SIGNED_DATA = '1.2.840.113549.1.7.2'

/** Certificates of a caIssuers answer: one DER certificate, a PKCS#7 certs-only SignedData (RFC 5280 §4.2.2.1), or PEM. */
export function caIssuersCerts(data: Buffer, url: string): X509Certificate[] {
  if (data.includes('-----BEGIN ')) return parseCertificates(data, url).slice(0, LIMITS.certsPerBundle)
  const top = parseDer(data)
  const parts = kids(must(top, T.SEQUENCE, 'caIssuers'), 3)
  if (is(parts[0], 0, T.OID) && oid(parts[0]!) === SIGNED_DATA) {
    // ContentInfo { contentType, [0] SignedData { version, digestAlgorithms, encapContentInfo, [0] IMPLICIT certificates, … } }
    const sd = kids(must(kids(parts[1]!, 1)[0], T.SEQUENCE, 'SignedData'), 6)
    const certs = sd.find((e) => is(e, CONTEXT, 0))
    if (!certs) return []
    return kids(certs, 64)
      .slice(0, LIMITS.certsPerBundle)
      .flatMap((c) => {
        try {
          return [new X509Certificate(raw(c))]
        } catch {
          return []
        }
      })
  }
  return [new X509Certificate(data)]
}

/** A fetched issuer candidate, or why a URL gave none. */
export interface AiaResult {
  readonly certs: readonly X509Certificate[]
  /** URL: fetched certificate subjects, or the reason nothing came. */
  readonly tried: readonly { readonly url: string; readonly result: string }[]
}

/**
 * Chases AIA caIssuers from `from` upward: fetches the issuer candidates it names, then theirs, at most `LIMITS.aiaDepth`
 * levels, stopping at a self-signed certificate or one `stop` accepts (its issuer is already known). Failures are recorded,
 * never thrown (except an abort): a missing issuer is then judged as missing.
 */
export async function chaseAia(ctx: Ctx, from: X509Certificate, stop: (c: X509Certificate) => boolean): Promise<AiaResult> {
  const certs: X509Certificate[] = []
  const tried: { url: string; result: string }[] = []
  const seen = new Set<string>([from.fingerprint256])
  let frontier = [from]
  for (let depth = 0; depth < LIMITS.aiaDepth && frontier.length; depth++) {
    const next: X509Certificate[] = []
    for (const c of frontier) {
      for (const url of pointersOf(c).caIssuers.slice(0, 2)) {
        const why = unfetchable(url)
        if (why) {
          tried.push({ url, result: why })
          continue
        }
        try {
          const got = caIssuersCerts(await fetchOnce(ctx, url, { maxBytes: LIMITS.certBytes, accept: 'application/pkix-cert, application/pkcs7-mime' }), url)
          const fresh = got.filter((g) => !seen.has(g.fingerprint256))
          for (const g of fresh) seen.add(g.fingerprint256)
          certs.push(...fresh)
          tried.push({ url, result: got.length ? got.map((g) => g.subject.replace(/\n/g, ', ')).join('; ') : 'no certificate' })
          next.push(...fresh.filter((g) => g.subject !== g.issuer && !stop(g)))
        } catch (err) {
          if (err instanceof AttemptFailure && err.reason === 'aborted') throw err
          tried.push({ url, result: err instanceof Error ? err.message : String(err) })
        }
      }
    }
    frontier = next
  }
  return { certs, tried }
}
