/**
 * @fileoverview Test helper: a real OpenID Provider stand-in on loopback (discovery + JWKS over HTTP, port 0) and tokens
 * signed with jose (RS256, ES256, HS256, `alg: none`, expired, foreign issuer/audience).
 */
import { generateKeyPairSync } from 'node:crypto'
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose'
import { discoveryDoc, startIssuer, type IssuerServer, type Route } from '../../checks/mfa/lab.ts'

export { discoveryDoc, startIssuer, type IssuerServer, type Route }

/** A signing key and its public JWK (with `kid`, `alg`, `use`). */
export interface TestKey {
  readonly alg: string
  readonly kid: string
  readonly privateKey: CryptoKey | Uint8Array
  readonly jwk: JWK
}

/** Generates a key for `alg` (`RS256`, `ES256`, `HS256`); `HS256` yields a secret and an `oct` JWK. */
export async function makeKey(alg: 'RS256' | 'ES256' | 'PS256' | 'HS256', kid = `${alg.toLowerCase()}-key`): Promise<TestKey> {
  if (alg === 'HS256') {
    const secret = new TextEncoder().encode('a-shared-client-secret-of-32-bytes!!')
    return { alg, kid, privateKey: secret, jwk: { kty: 'oct', k: Buffer.from(secret).toString('base64url'), kid, alg } }
  }
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  return { alg, kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } }
}

/** A public RSA JWK of `bits` (jose refuses to generate keys under 2048 bits, node:crypto does not). */
export function rsaJwk(bits: number, kid: string): JWK {
  return { ...(generateKeyPairSync('rsa', { modulusLength: bits }).publicKey.export({ format: 'jwk' }) as JWK), kid, alg: 'RS256', use: 'sig' }
}

/** Signs claims with `key`; `iss`, `aud`, `exp` default to a valid token of `issuer` for `aud`. */
export async function signToken(
  key: TestKey,
  issuer: string,
  claims: Record<string, unknown>,
  o: { aud?: string; exp?: number; iat?: number; kid?: string | null } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  const jwt = new SignJWT({ ...claims })
    .setProtectedHeader({ alg: key.alg, ...(o.kid === null ? {} : { kid: o.kid ?? key.kid }), typ: 'JWT' })
    .setIssuedAt(o.iat ?? now - 60)
    .setExpirationTime(o.exp ?? now + 3600)
    .setAudience(o.aud ?? 'api://ztscan-test')
  if (!('iss' in claims)) jwt.setIssuer(issuer)
  return jwt.sign(key.privateKey)
}

/** An Unsecured JWS (`alg: none`, empty signature, RFC 7519 section 6). */
export function unsignedToken(claims: Record<string, unknown>): string {
  const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url')
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`
}
