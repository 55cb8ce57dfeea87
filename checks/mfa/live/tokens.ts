/**
 * @fileoverview Credentials of the live connectors: signed client assertions (RFC 7523 private-key JWT, with jose), secret
 * files read with a cap through the context's reader, OAuth token responses, and a token cache. Nothing here puts a token, a key or an assertion into
 * a message: errors name the setting, the file path and the endpoint, and a vendor's error code when it is a plain word.
 */
import { createHash, createPrivateKey, randomUUID, X509Certificate, type KeyObject } from 'node:crypto'
import { AttemptFailure } from '../../../src/errors.ts'
import type { HttpResult } from '../../../src/net/index.ts'
import { shortUrl, Throttled, vendorCode, type Transport } from './client.ts'

/** The context's file reader (`ctx.net.readFile`): bounded, replaceable in tests. */
export type ReadFile = (path: string, maxBytes: number) => Promise<Buffer>

/**
 * A file holding a secret (a key, a federated token), read through the context: at most 64 KiB, named by `setting` in
 * errors, trailing space trimmed.
 */
export async function readSecretFile(read: ReadFile, path: string, setting: string): Promise<string> {
  let buf: Buffer
  try {
    buf = await read(path, 64 * 1024)
  } catch (err) {
    if (err instanceof AttemptFailure) throw new AttemptFailure('input', `${setting}: ${err.message}`)
    throw err
  }
  const s = buf.toString('utf8').trim()
  if (!s) throw new AttemptFailure('input', `${setting}: ${path} is empty`)
  return s
}

/** A PEM private key (PKCS#8, PKCS#1 or SEC1) and, when the file has one, the certificate beside it. */
export function loadKeyPem(pem: string, setting: string): { key: KeyObject; cert?: X509Certificate } {
  let key: KeyObject
  try {
    key = createPrivateKey(pem)
  } catch {
    throw new AttemptFailure('input', `${setting}: no readable unencrypted PEM private key in the file`)
  }
  const block = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]{1,65536}?-----END CERTIFICATE-----/.exec(pem)?.[0]
  let cert: X509Certificate | undefined
  if (block) {
    try {
      cert = new X509Certificate(block)
    } catch {
      throw new AttemptFailure('input', `${setting}: the certificate in the file cannot be read`)
    }
  }
  return { key, cert }
}

/** The JWS algorithm for a key: RS256 for RSA, ES256/ES384/ES512 for EC by curve. */
function algFor(key: KeyObject, setting: string): string {
  if (key.asymmetricKeyType === 'rsa') return 'RS256'
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve
    if (curve === 'prime256v1') return 'ES256'
    if (curve === 'secp384r1') return 'ES384'
    if (curve === 'secp521r1') return 'ES512'
  }
  throw new AttemptFailure('input', `${setting}: expected an RSA or P-256/P-384/P-521 key (got ${key.asymmetricKeyType ?? 'unknown'})`)
}

/**
 * A short-lived client assertion (RFC 7523): `iss` = `sub` = `clientId`, `aud` = the token endpoint, 5 minutes, a fresh
 * `jti`. `cert` adds the `x5t#S256` (and `x5t`) thumbprints Entra matches against the app's certificates.
 */
export async function clientAssertion(o: { key: KeyObject; cert?: X509Certificate; kid?: string; clientId: string; audience: string; setting: string; issuer?: string; subject?: string }): Promise<string> {
  const alg = algFor(o.key, o.setting)
  const header: Record<string, string> = { alg, typ: 'JWT' }
  if (o.kid) header.kid = o.kid
  if (o.cert) {
    header['x5t#S256'] = createHash('sha256').update(o.cert.raw).digest('base64url')
    header.x5t = createHash('sha1').update(o.cert.raw).digest('base64url')
  }
  const now = Math.floor(Date.now() / 1000)
  // jose is loaded when a live connector signs, not when the CLI starts.
  const { SignJWT } = await import('jose')
  return new SignJWT({})
    .setProtectedHeader(header as { alg: string })
    .setIssuer(o.issuer ?? o.clientId)
    .setSubject(o.subject ?? o.clientId)
    .setAudience(o.audience)
    .setJti(randomUUID())
    .setIssuedAt(now)
    .setNotBefore(now - 30)
    .setExpirationTime(now + 300)
    .sign(o.key)
}

/** A bearer token and when to renew it. */
export interface Token {
  readonly value: string
  readonly type: string
  /** Epoch milliseconds after which it is renewed (a minute before it expires). */
  readonly renewAt: number
}

/** Number or numeric string seconds. */
function seconds(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d{1,12}$/.test(v) ? Number(v) : undefined
  return n !== undefined && Number.isFinite(n) ? n : undefined
}

/**
 * An OAuth 2.0 token response (`access_token`, `token_type`, `expires_in`; managed identity's `expires_on`) → a token.
 * A refusal becomes an `input` failure naming the endpoint, the status and the OAuth `error` code (and Entra's AADSTS
 * numbers) and `settings`, the settings the credential came from — never the body (a hostile endpoint could echo the
 * assertion). A 429/503 is {@link Throttled}: the client waits it out and asks again.
 */
export function tokenFrom(res: HttpResult, vendor: string, url: string, settings?: string): Token {
  let j: Record<string, unknown> | undefined
  try {
    const p: unknown = JSON.parse(res.body.toString('utf8'))
    if (typeof p === 'object' && p !== null && !Array.isArray(p)) j = p as Record<string, unknown>
  } catch {
    j = undefined
  }
  const where = `${vendor} token endpoint ${shortUrl(url)}`
  if (Throttled.is(res)) throw new Throttled(where, res)
  if (res.status < 200 || res.status >= 300) {
    const shown = vendorCode(res.body)
    const code = shown ? ` ${shown}` : ''
    const aadsts = Array.isArray(j?.error_codes) ? j.error_codes.filter((c): c is number => Number.isInteger(c)).slice(0, 3).map((c) => `AADSTS${c}`) : []
    throw new AttemptFailure('input', `${where}: HTTP ${res.status}${code}${aadsts.length ? ` (${aadsts.join(', ')})` : ''}: the credential was refused (expired, revoked or not trusted for this client?)${settings ? `: check ${settings}` : ''}`)
  }
  const value = j?.access_token
  if (typeof value !== 'string' || !value) throw new AttemptFailure('protocol', `${where}: the response has no access_token`)
  const type = typeof j?.token_type === 'string' ? j.token_type : 'Bearer'
  const now = Date.now()
  const expiresIn = seconds(j?.expires_in)
  const expiresOn = seconds(j?.expires_on)
  const expiry = expiresIn !== undefined ? now + expiresIn * 1000 : expiresOn !== undefined ? expiresOn * 1000 : now + 3600_000
  return { value, type, renewAt: Math.max(now, expiry - 60_000) }
}

/** Caches a token and renews it when due or when asked (after a 401); `Authorization` header values. */
export function tokenCache(fetch: () => Promise<Token>, scheme: (t: Token) => string = (t) => `Bearer ${t.value}`): (refresh: boolean) => Promise<string> {
  let cur: Token | undefined
  return async (refresh) => {
    if (!cur || refresh || Date.now() >= cur.renewAt) cur = await fetch()
    return scheme(cur)
  }
}

/** POSTs a form to a token endpoint through `transport` (a 4xx is returned for `tokenFrom` to explain). */
export function postForm(transport: Transport, url: string, form: Readonly<Record<string, string>>, headers: Readonly<Record<string, string>> = {}): Promise<HttpResult> {
  return transport(url, { method: 'POST', body: new URLSearchParams(form).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, maxBytes: 256 * 1024 })
}

/** The JWT-bearer client assertion type (RFC 7523). */
export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
