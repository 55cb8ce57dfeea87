/**
 * @fileoverview DPoP (RFC 9449) for the live connectors: an ephemeral key pair made for one credential (never written
 * anywhere), a proof JWT per request — `typ: dpop+jwt`, the public key as `jwk`, claims `htm`, `htu` (the URL without
 * query or fragment), `iat`, a fresh `jti`, `ath` (SHA-256 of the access token) on resource requests, and the server's
 * `nonce` once it has asked for one (`use_dpop_nonce` with a `DPoP-Nonce` header). Okta requires it of service apps
 * with "Require Demonstrating Proof of Possession" on.
 */
import { createHash, generateKeyPair, randomUUID, type JsonWebKey, type KeyObject } from 'node:crypto'
import { promisify } from 'node:util'
import type { HttpResult } from '../../../src/net/index.ts'

const generate = promisify(generateKeyPair)
/** A nonce is an opaque server string: printable ASCII, bounded (RFC 9449 §8: NQCHAR). */
const NONCE = /^[\x21\x23-\x5B\x5D-\x7E]{1,512}$/

/** One ephemeral DPoP key and the nonces servers gave it (by origin). */
export class DpopKey {
  private readonly key: KeyObject
  private readonly jwk: JsonWebKey
  private readonly nonces = new Map<string, string>()

  private constructor(key: KeyObject, jwk: JsonWebKey) {
    this.key = key
    this.jwk = jwk
  }

  /** A new RSA 2048 key pair (RS256, which every DPoP server accepts). */
  static async create(): Promise<DpopKey> {
    const { privateKey, publicKey } = await generate('rsa', { modulusLength: 2048 })
    const { kty, n, e } = publicKey.export({ format: 'jwk' })
    return new DpopKey(privateKey, { kty, n, e })
  }

  /** The proof for one request; `accessToken` binds it to the token (`ath`) on resource requests. */
  async proof(method: string, url: string, accessToken?: string): Promise<string> {
    const u = new URL(url)
    const nonce = this.nonces.get(u.origin)
    const claims: Record<string, string> = { htm: method, htu: `${u.origin}${u.pathname}` }
    if (nonce) claims.nonce = nonce
    if (accessToken !== undefined) claims.ath = createHash('sha256').update(accessToken).digest('base64url')
    // jose is loaded when a live connector signs, not when the CLI starts.
    const { SignJWT } = await import('jose')
    return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'dpop+jwt', jwk: this.jwk as Record<string, string> }).setIssuedAt().setJti(randomUUID()).sign(this.key)
  }

  /**
   * Keeps the `DPoP-Nonce` a server sent with `url`'s answer. True when it is a new nonce (a request refused with
   * `use_dpop_nonce` is worth one more try with it).
   */
  noteNonce(url: string, res: Pick<HttpResult, 'headers'>): boolean {
    const h = res.headers['dpop-nonce']
    const v = Array.isArray(h) ? h[0] : h
    if (!v || !NONCE.test(v)) return false
    const origin = new URL(url).origin
    if (this.nonces.get(origin) === v) return false
    this.nonces.set(origin, v)
    return true
  }
}

/** A resource server's 401 asking for a nonce: `WWW-Authenticate: DPoP error="use_dpop_nonce"` (RFC 9449 §9). */
export function wantsNonce(res: Pick<HttpResult, 'status' | 'headers'>): boolean {
  const h = res.headers['www-authenticate']
  const v = Array.isArray(h) ? h.join(',') : h ?? ''
  return res.status === 401 && v.length < 4096 && /\bDPoP\b/i.test(v) && v.includes('use_dpop_nonce')
}
