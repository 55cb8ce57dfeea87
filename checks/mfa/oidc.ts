/**
 * @fileoverview Check `mfa-oidc`: an OpenID Provider's discovery document and JWKS (fetched over HTTP(S) with a timeout,
 * a size cap and same-origin redirects only), and sample tokens verified with jose against that JWKS.
 * Tokens that fail verification are reported and never used as evidence; a token is never copied into a finding.
 */
// jose is imported where a check runs (ESM-only: not loaded at start-up).
import type { createLocalJWKSet, JSONWebKeySet, JWK, JWTVerifyOptions } from 'jose'
import type { CheckContext, CheckDefinition } from '../../src/engine/check.ts'
import { AttemptFailure } from '../../src/errors.ts'
import { amrIsMultiFactor, parseTokensFile } from './tokens.ts'
import { oidc } from './family.ts'
import type { OIDC_RULES } from './rules.ts'

const MAX_DOC_BYTES = 512 * 1024
const MAX_JWKS_BYTES = 1024 * 1024
const MAX_TOKENS_FILE_BYTES = 8 * 1024 * 1024
/** JWK members that hold private or secret key material (RFC 7518 section 6). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const

type Rule = (typeof OIDC_RULES)[number]

async function getJson(ctx: CheckContext<Rule>, url: string, maxBytes: number, what: string): Promise<Record<string, unknown>> {
  const res = await ctx.sockets(() => ctx.net.httpGet(url, { maxBytes }))
  if (res.status !== 200) throw new AttemptFailure('protocol', `${what} ${url}: HTTP ${res.status}`)
  let data: unknown
  try {
    data = JSON.parse(res.body.toString('utf8'))
  } catch {
    throw new AttemptFailure('protocol', `${what} ${url}: not JSON`)
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new AttemptFailure('protocol', `${what} ${url}: expected a JSON object`)
  return data as Record<string, unknown>
}

/** Bits of an RSA modulus given as base64url (leading zero bits do not count). */
export function rsaModulusBits(n: string): number {
  const buf = Buffer.from(n, 'base64url')
  let i = 0
  while (i < buf.length && buf[i] === 0) i++
  if (i === buf.length) return 0
  return (buf.length - i) * 8 - Math.clz32(buf[i]!) + 24
}

function keyProblem(jwk: Record<string, unknown>, minRsaBits: number): { problem: string; size: Record<string, unknown> } {
  const secret = PRIVATE_MEMBERS.filter((m) => jwk[m] !== undefined)
  if (jwk.kty === 'oct') return { problem: 'symmetric key (kty "oct") published: anyone can sign with it', size: {} }
  if (secret.length) return { problem: `private key material published (${secret.join(', ')})`, size: {} }
  if (jwk.kty === 'RSA') {
    const bits = typeof jwk.n === 'string' ? rsaModulusBits(jwk.n) : 0
    return { problem: bits < minRsaBits ? `RSA key of ${bits} bits (minimum ${minRsaBits})` : 'none', size: { bits } }
  }
  return { problem: 'none', size: typeof jwk.crv === 'string' ? { crv: jwk.crv } : {} }
}

/** Maps a jose verification error to a short, token-free reason. */
function reasonOf(err: unknown): string {
  const e = err as { code?: string; claim?: string; message?: string }
  switch (e.code) {
    case 'ERR_JWT_EXPIRED': return 'expired'
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED': return e.claim === 'iss' ? 'wrong issuer' : e.claim === 'aud' ? 'wrong audience' : e.claim === 'nbf' ? 'not yet valid' : `claim ${e.claim ?? '?'} invalid`
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED': return 'signature does not verify'
    case 'ERR_JWKS_NO_MATCHING_KEY': return 'no key in the JWKS matches the token header'
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS': return 'several JWKS keys match and none verifies'
    case 'ERR_JOSE_ALG_NOT_ALLOWED': return 'signature algorithm not allowed'
    case 'ERR_JWT_INVALID': case 'ERR_JWS_INVALID': return 'malformed token'
    case 'ERR_JOSE_NOT_SUPPORTED': return 'unsupported algorithm or key'
    default:
      // jose refuses RSA keys under 2048 bits with a TypeError naming the algorithm.
      if (/modulusLength/.test(e.message ?? '')) return 'signing key shorter than 2048 bits'
      return 'cannot be verified'
  }
}

/**
 * `jwtVerify`, trying each candidate key when several JWKS keys match a header without `kid`
 * (jose's `JWKSMultipleMatchingKeys` is async-iterable over the candidates for that purpose).
 */
async function verify(token: string, keySet: ReturnType<typeof createLocalJWKSet>, options: JWTVerifyOptions): Promise<Record<string, unknown>> {
  const { jwtVerify } = await import('jose')
  try {
    return (await jwtVerify(token, keySet, options)).payload
  } catch (err) {
    if ((err as { code?: string }).code !== 'ERR_JWKS_MULTIPLE_MATCHING_KEYS') throw err
    let last: unknown = err
    for await (const key of err as AsyncIterable<Parameters<typeof jwtVerify>[1]>) {
      try {
        return (await jwtVerify(token, key, options)).payload
      } catch (e) {
        last = e
        if ((e as { code?: string }).code !== 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') break
      }
    }
    throw last
  }
}

const iso = (s: unknown): string | undefined => (typeof s === 'number' && Number.isFinite(s) ? new Date(s * 1000).toISOString() : undefined)

/** The check's declaration (checks/mfa/family.ts: loaded by every scan); its code, loaded when it runs, is {@link oidcRun}. */
export default oidc

export const oidcRun: Pick<CheckDefinition<Rule>, 'run'> = {
  async run(target, ctx) {
    const { calculateJwkThumbprint, createLocalJWKSet, decodeProtectedHeader } = await import('jose')
    if (typeof target.issuer !== 'string') throw new AttemptFailure('input', `${target.id}: an oidc target needs "issuer"`)
    const issuer = target.issuer.replace(/\/$/, '')
    const origin = new URL(issuer).origin

    // OpenID Connect Discovery 1.0 section 4: the document lives at issuer + /.well-known/openid-configuration.
    const doc = await getJson(ctx, `${issuer}/.well-known/openid-configuration`, MAX_DOC_BYTES, 'discovery')
    if (typeof doc.issuer !== 'string' || doc.issuer.replace(/\/$/, '') !== issuer)
      throw new AttemptFailure('protocol', `discovery: "issuer" is ${JSON.stringify(doc.issuer)}, not ${issuer} (OpenID Connect Discovery section 4.3)`)
    const advertised = Array.isArray(doc.id_token_signing_alg_values_supported) ? doc.id_token_signing_alg_values_supported.filter((a): a is string => typeof a === 'string') : []
    const { weakAlgorithms } = ctx.params<{ weakAlgorithms: string[] }>('mfa-oidc-weak-signing')
    const weakAlgs = advertised.filter((a) => weakAlgorithms.includes(a))
    ctx.report('mfa-oidc-weak-signing', weakAlgs.length ? 'fail' : 'pass', {
      resource: 'discovery',
      evidence: { issuer, algorithms: advertised.length ? advertised : ['(not advertised)'], weak: weakAlgs },
      ...(weakAlgs.length ? {} : { message: `${issuer} advertises only strong ID token signing algorithms (${advertised.join(', ') || 'none listed'})` }),
    })

    if (typeof doc.jwks_uri !== 'string') throw new AttemptFailure('protocol', 'discovery: "jwks_uri" missing')
    let jwksUrl: URL
    try {
      jwksUrl = new URL(doc.jwks_uri)
    } catch {
      throw new AttemptFailure('protocol', `discovery: "jwks_uri" is not a URL`)
    }
    const keyParams = ctx.params<{ minRsaBits: number; allowedJwksOrigins: string[] }>('mfa-oidc-weak-jwks-key')
    const allowedOrigins = new Set([origin, ...keyParams.allowedJwksOrigins.map((o) => new URL(o).origin)])
    if (!allowedOrigins.has(jwksUrl.origin))
      throw new AttemptFailure('input', `jwks_uri ${jwksUrl.origin} is on another origin than the issuer ${origin}; allow it with the mfa-oidc-weak-jwks-key parameter allowedJwksOrigins`)
    const jwks = await getJson(ctx, jwksUrl.href, MAX_JWKS_BYTES, 'jwks')
    if (!Array.isArray(jwks.keys)) throw new AttemptFailure('protocol', `jwks ${jwksUrl.href}: "keys" is not an array`)

    const publicKeys: JWK[] = []
    for (const [i, raw] of jwks.keys.entries()) {
      if (typeof raw !== 'object' || raw === null || typeof (raw as JWK).kty !== 'string') throw new AttemptFailure('protocol', `jwks ${jwksUrl.href}: /keys/${i}: expected a JWK with "kty"`)
      const jwk = raw as Record<string, unknown>
      let id = typeof jwk.kid === 'string' && jwk.kid ? jwk.kid : undefined
      if (!id) {
        try {
          id = `sha256:${await calculateJwkThumbprint(jwk as JWK)}`
        } catch {
          id = `#${i}`
        }
      }
      const { problem, size } = keyProblem(jwk, keyParams.minRsaBits)
      ctx.report('mfa-oidc-weak-jwks-key', problem === 'none' ? 'pass' : 'fail', {
        resource: `jwk:${id}`,
        evidence: { issuer, kid: id, kty: jwk.kty, alg: jwk.alg ?? null, use: jwk.use ?? null, ...size, problem },
        ...(problem === 'none' ? { message: `Key ${id} in the JWKS of ${issuer} is acceptable` } : {}),
      })
      // Only public members go to jose; a published private member must not turn into a signing key.
      const pub = Object.fromEntries(Object.entries(jwk).filter(([k]) => !(PRIVATE_MEMBERS as readonly string[]).includes(k))) as JWK
      if (jwk.kty !== 'oct') publicKeys.push(pub)
    }

    const tokensFile = typeof target.tokensFile === 'string' ? target.tokensFile : undefined
    if (!tokensFile) return
    const parsed = parseTokensFile(await ctx.net.readFile(tokensFile, MAX_TOKENS_FILE_BYTES), tokensFile)
    const vp = ctx.params<{ audience: string[]; algorithms: string[]; clockToleranceSeconds: number }>('mfa-token-unverifiable')
    const targetAud = typeof target.audience === 'string' ? [target.audience] : Array.isArray(target.audience) ? (target.audience as string[]) : undefined
    const audience = vp.audience.length ? vp.audience : parsed.audience ? [...parsed.audience] : targetAud
    const { mfaAcrValues } = ctx.params<{ mfaAcrValues: string[] }>('mfa-token-single-factor')
    const keySet = createLocalJWKSet({ keys: publicKeys } as JSONWebKeySet)

    for (const { resource, token, problem } of parsed.tokens) {
      ctx.signal.throwIfAborted()
      if (problem) {
        ctx.report('mfa-token-unverifiable', 'fail', { resource, evidence: { issuer, reason: problem } })
        continue
      }
      let header: Record<string, unknown>
      try {
        header = decodeProtectedHeader(token) as Record<string, unknown>
        if (token.split('.').length !== 3) throw new Error('not a compact JWS')
      } catch {
        ctx.report('mfa-token-unverifiable', 'fail', { resource, evidence: { issuer, reason: 'malformed token (not a compact JWS)' } })
        continue
      }
      const alg = typeof header.alg === 'string' ? header.alg : '(missing)'
      const kid = typeof header.kid === 'string' ? header.kid : null
      const unsigned = alg.toLowerCase() === 'none'
      ctx.report('mfa-token-unsigned', unsigned ? 'fail' : 'pass', {
        resource,
        evidence: { issuer, alg, kid },
        ...(unsigned ? {} : { message: `Token ${resource} for ${issuer} is signed (alg: ${alg})` }),
      })
      if (unsigned) continue // never trusted, and reported once

      let payload: Record<string, unknown>
      try {
        payload = await verify(token, keySet, {
          issuer: doc.issuer as string,
          audience,
          algorithms: vp.algorithms,
          clockTolerance: vp.clockToleranceSeconds,
          currentDate: ctx.now(),
        })
      } catch (err) {
        ctx.report('mfa-token-unverifiable', 'fail', { resource, evidence: { issuer, alg, kid, reason: reasonOf(err) } })
        continue
      }
      ctx.report('mfa-token-unverifiable', 'pass', { resource, evidence: { issuer, alg, kid, reason: 'verified' }, message: `Token ${resource} verified against ${issuer}` })

      const amr = Array.isArray(payload.amr) ? payload.amr.filter((m): m is string => typeof m === 'string') : undefined
      const acr = typeof payload.acr === 'string' ? payload.acr : undefined
      const multi = (amr !== undefined && amrIsMultiFactor(amr)) || (acr !== undefined && mfaAcrValues.includes(acr))
      const evidence = {
        issuer,
        sub: typeof payload.sub === 'string' ? payload.sub : null,
        amr: amr?.length ? amr : ['(absent)'],
        acr: acr ?? '(absent)',
        alg,
        kid,
        exp: iso(payload.exp) ?? null,
      }
      ctx.report('mfa-token-single-factor', multi ? 'pass' : 'fail', {
        resource,
        evidence,
        ...(multi ? { message: `Token ${resource} from ${issuer} shows multi-factor authentication (amr: ${evidence.amr.join(', ')}; acr: ${evidence.acr})` } : {}),
      })
    }
  },
}
