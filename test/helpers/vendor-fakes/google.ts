/**
 * @fileoverview Test helper: a Google stand-in on loopback in the documented shapes — the OAuth token endpoint's JWT bearer
 * grant (RFC 7523; the assertion verified against the service account's public key: iss, aud, scope, sub), the STS token
 * exchange of workload identity federation, the IAM Credentials `signJwt` and `generateAccessToken` calls, and the Admin
 * SDK Directory API's `users.list` (`nextPageToken` paging, `projection=full`) and `orgunits.list`.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto'
import { jwtVerify, SignJWT } from 'jose'
import { form, startFake, type FakeReply, type FakeServer } from './server.ts'

export interface GoogleFakeOptions {
  readonly users: number
  readonly pageSize?: number
  readonly user?: (i: number) => Record<string, unknown>
  readonly serviceAccount: string
  /** The service account's key pair (PEM private key; the fake verifies JWTs with its public half). */
  readonly privateKeyPem: string
  readonly publicKey: KeyObject
  /** The delegated administrator a JWT's `sub` must name. */
  readonly subject?: string
  /** The federated subject token STS accepts. */
  readonly federatedToken?: string
}

export interface GoogleFake extends FakeServer {
  readonly baseUrl: string
  readonly tokenUri: string
  readonly stsUrl: string
  readonly impersonationUrl: string
}

/** Users: user0 the super admin; every 5th not enrolled in 2SV; odd ones in /Engineering (2SV enforced), even in /Sales (not); every 11th suspended. */
export function defaultGoogleUser(i: number): Record<string, unknown> {
  const eng = i % 2 === 1
  return {
    kind: 'admin#directory#user', id: String(100000000000000000000 + i), etag: `"e${i}"`, primaryEmail: `user${i}@example.test`,
    name: { givenName: 'User', familyName: String(i), fullName: `User ${i}` }, isAdmin: i === 0, isDelegatedAdmin: false,
    lastLoginTime: '2026-11-01T00:00:00.000Z', creationTime: '2025-01-01T00:00:00.000Z', agreedToTerms: true, suspended: i % 11 === 10, archived: false,
    changePasswordAtNextLogin: false, ipWhitelisted: false, customerId: 'C01abc23d', orgUnitPath: eng ? '/Engineering' : '/Sales',
    isMailboxSetup: true, isEnrolledIn2Sv: i % 5 !== 0, isEnforcedIn2Sv: eng, includeInGlobalAddressList: true,
  }
}

const SCOPE = 'https://www.googleapis.com/auth/admin.directory.user.readonly'

export async function startGoogleFake(o: GoogleFakeOptions): Promise<GoogleFake> {
  const pageSize = o.pageSize ?? 10
  const user = o.user ?? defaultGoogleUser
  const federated = new Set<string>()
  const saKey = createPrivateKey(o.privateKeyPem)
  const base = await startFake(async (r, s): Promise<FakeReply> => {
    const p = r.url.pathname
    if (p === '/token' && r.method === 'POST') {
      const f = form(r.body)
      if (f.grant_type !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') return { status: 400, json: { error: 'unsupported_grant_type' } }
      try {
        const { payload } = await jwtVerify(f.assertion ?? '', o.publicKey, { audience: `${s.origin}/token`, issuer: o.serviceAccount })
        if (typeof payload.scope !== 'string' || !payload.scope.split(' ').includes(SCOPE)) return { status: 400, json: { error: 'invalid_scope', error_description: 'Bad scope' } }
        if (o.subject && payload.sub !== o.subject) return { status: 401, json: { error: 'unauthorized_client', error_description: 'Client is unauthorized to retrieve access tokens using this method' } }
      } catch {
        // A real endpoint does not echo the assertion; a hostile one might: the client must not print it either way.
        return { status: 400, json: { error: 'invalid_grant', error_description: `Invalid JWT Signature. ${f.assertion ?? ''}` } }
      }
      return { json: { access_token: s.issue(), expires_in: 3599, token_type: 'Bearer' } }
    }
    if (p === '/v1/token' && r.method === 'POST') {
      const f = form(r.body)
      if (f.grant_type !== 'urn:ietf:params:oauth:grant-type:token-exchange' || !o.federatedToken || f.subject_token !== o.federatedToken)
        return { status: 400, json: { error: 'invalid_grant', error_description: 'The subject token is invalid.' } }
      const t = s.issue()
      federated.add(t)
      return { json: { access_token: t, issued_token_type: 'urn:ietf:params:oauth:token-type:access_token', token_type: 'Bearer', expires_in: 3600 } }
    }
    const m = /^\/v1\/projects\/-\/serviceAccounts\/([^/:]+):(signJwt|generateAccessToken)$/.exec(p)
    if (m && r.method === 'POST') {
      const bearer = (r.headers.authorization ?? '').replace(/^Bearer /, '')
      if (!federated.has(bearer)) return { status: 401, json: { error: { code: 401, message: 'Request had invalid authentication credentials.', status: 'UNAUTHENTICATED' } } }
      if (decodeURIComponent(m[1]!) !== o.serviceAccount) return { status: 403, json: { error: { code: 403, message: 'Permission denied', status: 'PERMISSION_DENIED' } } }
      const body = JSON.parse(r.body) as { payload?: string; scope?: string[] }
      if (m[2] === 'signJwt') {
        const claims = JSON.parse(body.payload ?? '{}') as Record<string, unknown>
        const signedJwt = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: 'k1' }).sign(saKey)
        return { json: { keyId: 'k1', signedJwt } }
      }
      return { json: { accessToken: s.issue(), expireTime: new Date(Date.now() + 3600_000).toISOString() } }
    }
    if (!s.authorized(r)) return { status: 401, json: { error: { code: 401, message: 'Login Required.', errors: [{ reason: 'required' }], status: 'UNAUTHENTICATED' } } }
    if (p === '/admin/directory/v1/users') {
      if (r.url.searchParams.get('projection') !== 'full') return { status: 400, json: { error: { code: 400, message: 'test fake: projection=full expected' } } }
      const start = Number(r.url.searchParams.get('pageToken') ?? '0')
      const users = []
      for (let i = start; i < Math.min(o.users, start + pageSize); i++) users.push(user(i))
      return { json: { kind: 'admin#directory#users', etag: '"x"', users, ...(start + pageSize < o.users ? { nextPageToken: String(start + pageSize) } : {}) } }
    }
    if (/^\/admin\/directory\/v1\/customer\/[^/]+\/orgunits$/.test(p)) {
      const ou = (name: string) => ({ kind: 'admin#directory#orgUnit', name, orgUnitPath: `/${name}`, orgUnitId: `id:${name}`, parentOrgUnitPath: '/', parentOrgUnitId: 'id:root' })
      return { json: { kind: 'admin#directory#org_units', etag: '"o"', organizationUnits: [ou('Engineering'), ou('Sales'), ou('Empty')] } }
    }
    return { status: 404, json: { error: { code: 404, message: 'Not Found' } } }
  })
  return Object.assign(base, {
    baseUrl: base.origin,
    tokenUri: `${base.origin}/token`,
    stsUrl: `${base.origin}/v1/token`,
    impersonationUrl: `${base.origin}/v1/projects/-/serviceAccounts/${encodeURIComponent(o.serviceAccount)}:generateAccessToken`,
  })
}
