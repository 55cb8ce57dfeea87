/**
 * @fileoverview Test helper: an Okta org stand-in on loopback in the management API's documented shapes — the org
 * authorization server's token endpoint (client credentials with a private-key JWT), `/api/v1/users` paged by
 * `Link: <…?after=CURSOR&limit=N>; rel="next"`, `/api/v1/users/{id}/factors`, `/api/v1/users/{id}/roles`,
 * `/api/v1/iam/assignees/users` (`_links.next`), `/api/v1/authenticators`, `/api/v1/policies?type=` with their `/rules` and `/app` mappings.
 * Accepts `Authorization: Bearer` tokens it issued, or `SSWS <apiToken>`.
 */
import { createHash, type KeyObject } from 'node:crypto'
import { calculateJwkThumbprint, decodeProtectedHeader, importJWK, jwtVerify, type JWK } from 'jose'
import { form, startFake, type FakeReply, type FakeRequest, type FakeServer } from './server.ts'

export interface OktaFakeOptions {
  readonly users: number
  readonly user?: (i: number) => Record<string, unknown>
  readonly factors?: (i: number) => Record<string, unknown>[]
  readonly pageSize?: number
  /** Indexes of users holding an admin role. */
  readonly admins?: readonly number[]
  readonly clientId?: string
  /** Public key the private-key JWT must verify against. */
  readonly publicKey?: KeyObject
  readonly apiToken?: string
  /**
   * The service app requires DPoP (RFC 9449), as Okta's "Require Demonstrating Proof of Possession": the token endpoint
   * wants a proof with its nonce (`use_dpop_nonce` first) and issues `token_type: DPoP` tokens bound to the proof's key;
   * every API call needs `Authorization: DPoP` and a proof with `htm`, `htu`, `ath`, a fresh `jti`. `resourceNonce`: the
   * API also asks for a nonce (401 with `WWW-Authenticate: DPoP error="use_dpop_nonce"`).
   */
  readonly dpop?: { readonly resourceNonce?: boolean }
}

export interface OktaFake extends FakeServer {
  readonly baseUrl: string
}

const oktaId = (i: number): string => `00u${String(i).padStart(17, '0')}`

/** Default users: every 9th (i % 9 === 8) SUSPENDED; factors by `defaultOktaFactors`. */
export function defaultOktaUser(i: number): Record<string, unknown> {
  return {
    id: oktaId(i), status: i % 9 === 8 ? 'SUSPENDED' : 'ACTIVE', created: '2025-01-01T00:00:00.000Z', activated: null, statusChanged: null,
    lastLogin: null, lastUpdated: '2026-11-01T00:00:00.000Z', passwordChanged: null, type: { id: 'oty1' },
    profile: { firstName: 'User', lastName: String(i), login: `user${i}@example.test`, email: `user${i}@example.test` },
    credentials: { provider: { type: 'OKTA', name: 'OKTA' } }, _links: { self: { href: `https://example.okta.com/api/v1/users/${oktaId(i)}` } },
  }
}

/** Every 6th user has no factor, every 4th (i % 4 === 1) SMS only (push pending), the rest push + WebAuthn. */
export function defaultOktaFactors(i: number): Record<string, unknown>[] {
  if (i % 6 === 0) return []
  const f = (factorType: string, provider: string, status = 'ACTIVE') => ({ id: `fct${i}${factorType.replace(/\W/g, '')}`, factorType, provider, vendorName: provider, status, created: '2025-01-01T00:00:00.000Z', lastUpdated: '2025-01-01T00:00:00.000Z', profile: {} })
  if (i % 4 === 1) return [f('sms', 'OKTA'), f('push', 'OKTA', 'PENDING_ACTIVATION')]
  return [f('push', 'OKTA'), f('webauthn', 'FIDO')]
}

export async function startOktaFake(o: OktaFakeOptions): Promise<OktaFake> {
  const pageSize = o.pageSize ?? 200
  const user = o.user ?? defaultOktaUser
  const factors = o.factors ?? defaultOktaFactors
  const admins = o.admins ?? []
  const indexOf = (id: string): number => (/^00u\d{17}$/.test(id) ? Number(id.slice(3)) : -1)
  const ok = (s: FakeServer, r: FakeRequest): boolean => s.authorized(r) || (o.apiToken !== undefined && r.headers.authorization === `SSWS ${o.apiToken}`)
  // DPoP: the nonces the fake hands out, the jti values seen (no replay), each DPoP token's key thumbprint.
  const tokenNonce = 'okta-as-nonce-1'
  const resourceNonce = 'okta-rs-nonce-1'
  const jtis = new Set<string>()
  const bound = new Map<string, string>()
  const invalid = (description: string) => ({ error: 'invalid_dpop_proof', description })
  const checkProof = async (r: FakeRequest, htu: string, token: string | undefined, nonce: string | undefined): Promise<{ error: string; description: string } | { jkt: string }> => {
    const proof = r.headers.dpop
    if (typeof proof !== 'string' || !proof) return invalid('The DPoP proof JWT header is missing.')
    try {
      const h = decodeProtectedHeader(proof)
      const jwk = h.jwk as JWK | undefined
      if (h.typ !== 'dpop+jwt' || !jwk || 'd' in jwk || typeof h.alg !== 'string') return invalid('The DPoP proof JWT header is invalid.')
      const { payload } = await jwtVerify(proof, await importJWK(jwk, h.alg), { typ: 'dpop+jwt', maxTokenAge: '60s' })
      if (payload.htm !== r.method || payload.htu !== htu) return invalid(`DPoP proof htm/htu do not match the request (${String(payload.htm)} ${String(payload.htu)}).`)
      if (typeof payload.jti !== 'string' || jtis.has(payload.jti)) return invalid('DPoP proof jti is missing or was used before.')
      jtis.add(payload.jti)
      if (token !== undefined && payload.ath !== createHash('sha256').update(token).digest('base64url')) return invalid('DPoP proof ath does not match the access token.')
      if (nonce !== undefined && payload.nonce !== nonce) return { error: 'use_dpop_nonce', description: 'Authorization server requires nonce in DPoP proof.' }
      return { jkt: await calculateJwkThumbprint(jwk) }
    } catch {
      return invalid('The DPoP proof JWT is invalid.')
    }
  }
  const base = await startFake(async (r, s): Promise<FakeReply> => {
    const p = r.url.pathname
    if (p === '/oauth2/v1/token' && r.method === 'POST' && o.dpop) {
      const v = await checkProof(r, `${s.origin}/oauth2/v1/token`, undefined, tokenNonce)
      if ('error' in v) return { status: 400, headers: v.error === 'use_dpop_nonce' ? { 'dpop-nonce': tokenNonce } : {}, json: { error: v.error, error_description: v.description } }
      const f = form(r.body)
      try {
        await jwtVerify(f.client_assertion ?? '', o.publicKey!, { audience: `${s.origin}/oauth2/v1/token`, issuer: o.clientId, subject: o.clientId })
      } catch {
        return { status: 401, json: { error: 'invalid_client', error_description: 'The client_assertion signature is invalid.' } }
      }
      const token = s.issue()
      bound.set(token, v.jkt)
      return { json: { token_type: 'DPoP', expires_in: 3600, access_token: token, scope: f.scope } }
    }
    if (p === '/oauth2/v1/token' && r.method === 'POST') {
      const f = form(r.body)
      if (f.grant_type !== 'client_credentials' || f.client_assertion_type !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' || !o.publicKey)
        return { status: 400, json: { error: 'invalid_request', error_description: 'bad request' } }
      try {
        await jwtVerify(f.client_assertion ?? '', o.publicKey, { audience: `${s.origin}/oauth2/v1/token`, issuer: o.clientId, subject: o.clientId })
      } catch {
        return { status: 401, json: { error: 'invalid_client', error_description: `The client_assertion signature is invalid. ${f.client_assertion ?? ''}` } }
      }
      return { json: { token_type: 'Bearer', expires_in: 3600, access_token: s.issue(), scope: f.scope } }
    }
    if (o.dpop && (r.headers.authorization ?? '').startsWith('DPoP ')) {
      const token = r.headers.authorization!.slice(5)
      const refuse = (error: string, nonce = false): FakeReply => ({ status: 401, headers: { 'www-authenticate': `DPoP algs="RS256 ES256", error="${error}"`, ...(nonce ? { 'dpop-nonce': resourceNonce } : {}) }, json: { errorCode: 'E0000011', errorSummary: 'Invalid token provided' } })
      if (!s.authorized(r, 'DPoP')) return refuse('invalid_token')
      const v = await checkProof(r, `${s.origin}${p}`, token, o.dpop.resourceNonce ? resourceNonce : undefined)
      if ('error' in v) return refuse(v.error, v.error === 'use_dpop_nonce')
      if (v.jkt !== bound.get(token)) return refuse('invalid_dpop_proof')
    } else if (o.dpop && s.authorized(r)) {
      // A DPoP-bound token presented as a bearer token.
      return { status: 401, headers: { 'www-authenticate': 'DPoP algs="RS256 ES256"' }, json: { errorCode: 'E0000011', errorSummary: 'Invalid token provided' } }
    } else if (!ok(s, r)) return { status: 401, json: { errorCode: 'E0000011', errorSummary: 'Invalid token provided', errorLink: 'E0000011', errorId: 'oae1', errorCauses: [] } }
    if (p === '/api/v1/users') {
      const limit = Math.min(Number(r.url.searchParams.get('limit') ?? pageSize), pageSize)
      const after = r.url.searchParams.get('after')
      const start = after ? indexOf(after) + 1 : 0
      const value = []
      for (let i = start; i < Math.min(o.users, start + limit); i++) value.push(user(i))
      const links = [`<${s.origin}/api/v1/users?limit=${limit}>; rel="self"`]
      if (start + limit < o.users) links.push(`<${s.origin}/api/v1/users?after=${oktaId(start + limit - 1)}&limit=${limit}>; rel="next"`)
      return { json: value, headers: { link: links.join(', ') } }
    }
    let m = /^\/api\/v1\/users\/([^/]+)\/(factors|roles)$/.exec(p)
    if (m) {
      const i = indexOf(decodeURIComponent(m[1]!))
      if (i < 0 || i >= o.users) return { status: 404, json: { errorCode: 'E0000007', errorSummary: 'Not found' } }
      if (m[2] === 'factors') return { json: factors(i) }
      return { json: admins.includes(i) ? [{ id: `ra${i}`, label: 'Super Organization Administrator', type: 'SUPER_ADMIN', status: 'ACTIVE', assignmentType: 'USER' }] : [] }
    }
    if (p === '/api/v1/iam/assignees/users') {
      const after = Number(r.url.searchParams.get('after') ?? '0')
      const value = admins.slice(after, after + 2).map((i) => ({ id: oktaId(i), orn: `orn:okta:directory:x:users:${oktaId(i)}`, _links: {} }))
      return { json: { value, _links: after + 2 < admins.length ? { next: { href: `${s.origin}/api/v1/iam/assignees/users?after=${after + 2}&limit=100` } } : {} } }
    }
    if (p === '/api/v1/authenticators') return { json: [{ id: 'aut1', key: 'okta_verify', name: 'Okta Verify', status: 'ACTIVE', type: 'app' }, { id: 'aut2', key: 'phone_number', name: 'Phone', status: 'ACTIVE', type: 'phone' }] }
    if (p === '/api/v1/policies') {
      const type = r.url.searchParams.get('type')
      return { json: [{ id: `pol-${type}`, type, name: `Default ${type}`, status: 'ACTIVE', priority: 1, system: true, conditions: null }] }
    }
    if (/^\/api\/v1\/policies\/[^/]+\/app$/.test(p)) return { json: [{ id: '0oa-admin', name: 'saasure', label: 'Okta Admin Console', status: 'ACTIVE', signOnMode: 'OPENID_CONNECT' }] }
    m = /^\/api\/v1\/policies\/([^/]+)\/rules$/.exec(p)
    if (m) return { json: [{ id: `rul-${m[1]}`, name: 'Catch-all Rule', status: 'ACTIVE', priority: 99, system: true, type: 'ACCESS_POLICY', actions: { appSignOn: { access: 'ALLOW', verificationMethod: { factorMode: '2FA', type: 'ASSURANCE', reauthenticateIn: 'PT2H', constraints: [] } } } }] }
    return { status: 404, json: { errorCode: 'E0000022', errorSummary: 'The endpoint does not support the provided HTTP method' } }
  })
  return Object.assign(base, { baseUrl: base.origin })
}
