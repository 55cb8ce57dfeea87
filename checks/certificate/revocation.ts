/**
 * @fileoverview The revocation check (`tls-revocation`): is the served leaf revoked? Sources, in the order a client uses them:
 * the stapled OCSP response (its signature verified now), the OCSP responders of the leaf's AIA (RFC 6960: GET with the
 * base64 request when it fits in 255 bytes, else POST with a nonce), then the CRLs of its distribution points (http only).
 * The first verified answer decides. Revocation is judged on a trusted path only: the issuer's key is what verifies every
 * answer, and an untrusted certificate's URLs are the sender's choice (certificate-untrusted already fails it).
 *
 * Outcomes: revoked → `tls-certificate-revoked` fails; no OCSP URL, no CRL distribution point and no staple →
 * `tls-no-revocation-info` fails; no source answered (unreachable, bad signature, stale) → an attempt error in the default
 * fail-closed mode, a named skip with `settings.tls.revocation: soft-fail` (as browsers do), nothing asked with `off`.
 */
import type { X509Certificate } from 'node:crypto'
import type { CheckContext } from '../../src/engine/check.ts'
import { AttemptFailure } from '../../src/errors.ts'
import type { Target } from '../../src/types.ts'
import { chaseAia, fetchOnce, fetchSettings, LIMITS, unfetchable } from './aia.ts'
import { anchorsOf } from './index.ts'
import { buildPaths, type Path } from './path.ts'
import { newNonce, ocspRequest, pointersOf, RevocationDataError, verifyCrl, verifyOcsp, type CrlVerdict, type OcspVerdict } from './revocation-data.ts'
import { readFields } from './fields.ts'
import { StartTlsError, StartTlsRefused, type StartTls } from './tls-starttls.ts'
import { readStaple } from './tls-ocsp.ts'
import { TLS_REVOCATION_RULES } from './tls-family.ts'

type Rule = (typeof TLS_REVOCATION_RULES)[number]
type Ctx = CheckContext<Rule>

/** One source asked, and what it said. */
interface Tried {
  readonly source: string
  readonly result: string
  /** How the source failed: `skipped` by design (LDAP), `unreachable`, or `unusable` (bad signature, stale, malformed). */
  readonly failure?: 'skipped' | 'unreachable' | 'unusable'
  readonly reason?: AttemptFailure['reason']
}

type Verdict = { readonly source: string; readonly via: 'staple' | 'ocsp' | 'crl'; readonly v: OcspVerdict | CrlVerdict }

/** The trusted path of the served chain, completed from AIA when an issuer is missing (and AIA fetching is on). */
async function trustedPath(chain: readonly X509Certificate[], ctx: Ctx): Promise<Path> {
  const base = ctx as unknown as CheckContext
  const { useSystemRoots = true } = base.params<{ useSystemRoots?: boolean }>('certificate-untrusted')
  const anchors = await anchorsOf(base, useSystemRoots)
  const { minRsaBits = 2048, minEcBits = 256 } = base.params<{ minRsaBits?: number; minEcBits?: number }>('certificate-weak-key')
  const { weakHashes = ['md5', 'sha1'] } = base.params<{ weakHashes?: string[] }>('certificate-weak-signature')
  const opts = { now: ctx.now().getTime(), minRsaBits, minEcBits, weakHashes }
  let path = buildPaths(chain, anchors, opts)[0]!
  if (path.status === 'incomplete' && fetchSettings(ctx.settings).aia) {
    const fetched = await chaseAia(ctx, path.nodes.at(-1)!.x509, (c) => anchors.has(c.fingerprint256))
    if (fetched.certs.length) path = buildPaths(chain, anchors, opts, fetched.certs)[0]!
  }
  return path
}

const endpointOf = (target: Target): { host: string; port: number; servername?: string; starttls?: StartTls } => ({
  host: String(target.host),
  port: Number(target.port),
  ...(typeof target.servername === 'string' ? { servername: target.servername } : {}),
  ...(typeof target.starttls === 'string' ? { starttls: target.starttls as StartTls } : {}),
})

const failureOf = (err: unknown): Pick<Tried, 'failure' | 'reason' | 'result'> => {
  if (err instanceof RevocationDataError) return { failure: 'unusable', reason: 'protocol', result: err.message }
  if (err instanceof AttemptFailure) return { failure: 'unreachable', reason: err.reason, result: err.message }
  return { failure: 'unusable', reason: 'protocol', result: err instanceof Error ? err.message : String(err) }
}

/**
 * Asks one OCSP responder about `leaf`: GET when the encoded request fits in `getMax` bytes (255, RFC 5019 §5), else POST with a
 * nonce that the response must echo (when it echoes one). Throws `AttemptFailure` (unreachable) or `RevocationDataError`.
 */
export async function askOcsp(url: string, leaf: X509Certificate, issuer: X509Certificate, ctx: Pick<CheckContext, 'net' | 'sockets' | 'connectTimeoutMs' | 'signal' | 'now'>, getMax = 255): Promise<OcspVerdict> {
  const plain = ocspRequest(leaf, issuer)
  const path = encodeURIComponent(plain.toString('base64'))
  const accept = 'application/ocsp-response'
  if (path.length <= getMax) {
    const body = await fetchOnce(ctx, `${url.replace(/\/+$/, '')}/${path}`, { maxBytes: LIMITS.ocspBytes, accept })
    return verifyOcsp(body, leaf, issuer, ctx.now().getTime())
  }
  const nonce = newNonce()
  const body = await fetchOnce(ctx, url, { maxBytes: LIMITS.ocspBytes, accept, body: ocspRequest(leaf, issuer, nonce), contentType: 'application/ocsp-request' })
  return verifyOcsp(body, leaf, issuer, ctx.now().getTime(), nonce)
}

/** The `tls-revocation` check's code (declared in tls-family.ts, which every scan loads; this module loads when it runs). */
export async function runTlsRevocation(target: Target, ctx: Ctx): Promise<void> {
  const settings = fetchSettings(ctx.settings)
  const skipAll = (why: string): void => TLS_REVOCATION_RULES.forEach((r) => ctx.skip(r, why))
  if (settings.revocation === 'off') return skipAll('revocation checking is off (settings.tls.revocation: off)')
  const info = await readStaple(endpointOf(target), ctx).catch((err: unknown) => {
    if (err instanceof StartTlsRefused) return undefined // plaintext only: tls-starttls-unavailable says so
    if (err instanceof StartTlsError) throw new AttemptFailure('protocol', `${target.id}: STARTTLS: ${err.message}`)
    throw err
  })
  if (!info) return
  const leaf = info.chain[0]
  if (!leaf) throw new AttemptFailure('protocol', info.chainError ?? `${target.id}: the server sent no certificate`)
  const path = await trustedPath(info.chain, ctx)
  if (path.status !== 'trusted') return skipAll(`the chain is not trusted (${path.status}): revocation is judged on a trusted path only (certificate-untrusted reports it)`)
  if (path.nodes.length < 2) return skipAll('the served certificate is itself a trust anchor: nothing revokes it')
  const issuer = path.nodes[1]!.x509
  const serial = readFields(leaf.raw).serial
  const ptr = pointersOf(leaf)
  const now = ctx.now().getTime()
  const resource = `leaf SHA256:${leaf.fingerprint256}`
  const tried: Tried[] = []
  const evidence = (): Record<string, unknown> => ({
    subject: leaf.subject.replace(/\n/g, ', '),
    serial: leaf.serialNumber,
    ocspUrls: ptr.ocsp,
    crlUrls: ptr.crl,
    stapled: info.stapled,
    sources: tried.map((t) => `${t.source}: ${t.result}`),
  })

  let verdict: Verdict | undefined
  const decide = (via: Verdict['via'], source: string, v: OcspVerdict | CrlVerdict): boolean => {
    tried.push({ source, result: `${v.status}${'signer' in v ? ` (signed by the ${v.signer === 'issuer' ? 'issuer' : `delegated responder "${v.signerSubject}"`})` : ` (${v.entries} entries)`}, thisUpdate ${v.thisUpdate}${v.nextUpdate ? `, nextUpdate ${v.nextUpdate}` : ''}` })
    if (v.status === 'unknown') {
      tried[tried.length - 1] = { ...tried.at(-1)!, failure: 'unusable', reason: 'protocol' }
      return false
    }
    verdict = { via, source, v }
    return true
  }

  if (info.staple) {
    try {
      decide('staple', 'stapled OCSP response', verifyOcsp(info.staple, leaf, issuer, now))
    } catch (err) {
      tried.push({ source: 'stapled OCSP response', ...failureOf(err) })
    }
  }
  for (const url of verdict ? [] : ptr.ocsp) {
    const why = unfetchable(url)
    if (why) {
      tried.push({ source: `OCSP ${url}`, result: why, failure: 'skipped' })
      continue
    }
    try {
      if (decide('ocsp', `OCSP ${url}`, await askOcsp(url, leaf, issuer, ctx))) break
    } catch (err) {
      if (err instanceof AttemptFailure && err.reason === 'aborted') throw err
      tried.push({ source: `OCSP ${url}`, ...failureOf(err) })
    }
  }
  for (const url of verdict ? [] : ptr.crl) {
    const why = unfetchable(url)
    if (why) {
      tried.push({ source: `CRL ${url}`, result: why, failure: 'skipped' })
      continue
    }
    try {
      const der = await fetchOnce(ctx, url, { maxBytes: LIMITS.crlBytes, accept: 'application/pkix-crl', timeoutMs: ctx.connectTimeoutMs * 4 })
      if (decide('crl', `CRL ${url}`, verifyCrl(der, issuer, serial, now))) break
    } catch (err) {
      if (err instanceof AttemptFailure && err.reason === 'aborted') throw err
      tried.push({ source: `CRL ${url}`, ...failureOf(err) })
    }
  }

  const none = !ptr.ocsp.length && !ptr.crl.length && !info.stapled
  ctx.report('tls-no-revocation-info', none ? 'fail' : 'pass', {
    resource,
    evidence: { ...evidence(), detail: none ? 'the certificate names no OCSP responder and no CRL distribution point, and the server staples no OCSP response' : `revocation information: ${[ptr.ocsp.length ? `${ptr.ocsp.length} OCSP URL(s)` : '', ptr.crl.length ? `${ptr.crl.length} CRL distribution point(s)` : '', info.stapled ? 'a stapled OCSP response' : ''].filter(Boolean).join(', ')}` },
  })
  if (verdict) {
    const v = verdict.v
    const revoked = v.status === 'revoked'
    const detail = revoked
      ? `revoked${v.revocationTime ? ` at ${v.revocationTime}` : ''}${v.revocationReason ? ` (${v.revocationReason})` : ''}, says the ${verdict.source} (signature verified)`
      : `not revoked, says the ${verdict.source} (signature verified, thisUpdate ${v.thisUpdate})`
    ctx.report('tls-certificate-revoked', revoked ? 'fail' : 'pass', { resource, evidence: { ...evidence(), via: verdict.via, detail } })
    return
  }
  if (none) return ctx.skip('tls-certificate-revoked', 'no revocation information to ask (tls-no-revocation-info)')
  const failed = tried.filter((t) => t.failure && t.failure !== 'skipped')
  const summary = tried.map((t) => `${t.source}: ${t.result}`).join('; ')
  if (!failed.length || settings.revocation === 'soft-fail') return ctx.skip('tls-certificate-revoked', `revocation status unknown (${summary})`)
  const reason = failed.find((t) => t.reason === 'timeout')?.reason ?? failed.find((t) => t.reason === 'connectivity')?.reason ?? 'protocol'
  throw new AttemptFailure(reason, `${target.id}: revocation status unknown: ${summary}`)
}

export { tlsRevocationCheck } from './tls-family.ts'
