/**
 * @fileoverview Test helper: Microsoft identity platform + Graph v1.0 stand-in on loopback, answering in Graph's documented
 * shapes — the v2.0 token endpoint (client credentials with a JWT-bearer client assertion), GitHub Actions' OIDC token
 * endpoint, an IMDS-style managed identity endpoint (`/msi/token`) and App Service's (`/msi/appservice`), `directoryRoles` (+ `members`), `reports/authenticationMethods/userRegistrationDetails` (paged with
 * `@odata.nextLink` and `$skiptoken`, records generated on the fly so 100,000 users cost no memory here),
 * `identity/conditionalAccess/policies`, `groups/{id}/transitiveMembers` (2 a page) and `policies/authenticationMethodsPolicy`. Faults are planted through `faults`.
 */
import { form, startFake, type FakeReply, type FakeRequest, type FakeServer } from './server.ts'

export interface GraphFakeOptions {
  readonly tenant: string
  readonly clientId: string
  /** Number of users; records come from `user`. */
  readonly users: number
  readonly user?: (i: number) => Record<string, unknown>
  readonly pageSize?: number
  readonly roles?: readonly { id: string; displayName: string; members: readonly { id: string; userPrincipalName: string }[] }[]
  readonly policies?: readonly unknown[]
  /** Groups: id → transitive members (directoryObjects with `@odata.type`), served by `groups/{id}/transitiveMembers`, 2 a page. */
  readonly groups?: Readonly<Record<string, readonly Record<string, unknown>[]>>
  readonly methodsPolicy?: unknown
  /** Accepts or refuses a client assertion sent to the token endpoint (`tokenUrl` is its `aud`). */
  readonly assertion?: (jwt: string, tokenUrl: string) => boolean | Promise<boolean>
  /** App Service / Functions managed identity (`/msi/appservice`): the `X-IDENTITY-HEADER` value it wants (IDENTITY_HEADER). */
  readonly identityHeader?: string
  /** GitHub Actions' OIDC endpoint (`/gh-oidc`): the request token it wants and the ID token it returns. */
  readonly ghOidc?: { readonly requestToken: string; readonly idToken: string }
}

export interface GraphFake extends FakeServer {
  /** Graph base URL (`settings.entra.graphBaseUrl`). */
  readonly graphBaseUrl: string
  /** Authority host (`settings.entra.authorityHost`). */
  readonly authorityHost: string
  readonly tokenUrl: string
}

/** The default user: every 7th without a method, every 5th SMS only, every 50th an admin, the rest Authenticator push. */
export function defaultUser(i: number): Record<string, unknown> {
  const methods = i % 7 === 0 ? [] : i % 5 === 1 ? ['mobilePhone'] : i % 11 === 2 ? ['fido2SecurityKey', 'microsoftAuthenticatorPush'] : ['microsoftAuthenticatorPush']
  return {
    id: `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`,
    userPrincipalName: `user${i}@contoso.test`,
    userDisplayName: `User ${i}`,
    userType: 'member',
    isAdmin: i % 50 === 0,
    isSsprRegistered: false,
    isSsprEnabled: false,
    isSsprCapable: false,
    isMfaRegistered: methods.length > 0,
    isMfaCapable: methods.length > 0,
    isPasswordlessCapable: methods.includes('fido2SecurityKey'),
    methodsRegistered: methods,
    isSystemPreferredAuthenticationMethodEnabled: true,
    systemPreferredAuthenticationMethods: methods.slice(0, 1),
    userPreferredMethodForSecondaryAuthentication: methods.length ? 'push' : 'none',
    lastUpdatedDateTime: '2026-11-30T08:00:00Z',
  }
}

const unauthorized: FakeReply = { status: 401, json: { error: { code: 'InvalidAuthenticationToken', message: 'Access token has expired or is not yet valid.' } } }

export async function startGraphFake(o: GraphFakeOptions): Promise<GraphFake> {
  const pageSize = o.pageSize ?? 100
  const gen = o.user ?? defaultUser
  const tokenPath = `/${o.tenant}/oauth2/v2.0/token`
  const ctx = (what: string): string => `https://graph.microsoft.com/v1.0/$metadata#${what}`
  const list = (r: FakeRequest, s: FakeServer, what: string, total: number, item: (i: number) => unknown, size = pageSize): FakeReply => {
    const skip = Number(r.url.searchParams.get('$skiptoken') ?? '0')
    const value = []
    for (let i = skip; i < Math.min(total, skip + size); i++) value.push(item(i))
    // The next link keeps the request's other parameters ($select, $top), as Graph's does.
    const nextUrl = new URL(`${s.origin}${r.url.pathname}${r.url.search}`)
    nextUrl.searchParams.set('$skiptoken', String(skip + size))
    const next = skip + size < total ? nextUrl.href : undefined
    return { json: { '@odata.context': ctx(what), value, ...(next ? { '@odata.nextLink': next } : {}) } }
  }
  const base = await startFake(async (r, s) => {
    const p = r.url.pathname
    if (p === tokenPath && r.method === 'POST') {
      const f = form(r.body)
      if (f.grant_type !== 'client_credentials' || f.client_id !== o.clientId || f.scope !== 'https://graph.microsoft.com/.default')
        return { status: 400, json: { error: 'invalid_request', error_description: 'AADSTS900144: bad request', error_codes: [900144] } }
      if (f.client_assertion_type !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' || !f.client_assertion || !(await (o.assertion ?? (() => false))(f.client_assertion, `${s.origin}${tokenPath}`)))
        return { status: 401, json: { error: 'invalid_client', error_description: `AADSTS700024: Client assertion is not within its valid time range. (${f.client_assertion ?? ''})`, error_codes: [700024] } }
      return { json: { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: s.issue() } }
    }
    if (p === '/msi/token') {
      // Azure IMDS: GET …/metadata/identity/oauth2/token?api-version=2018-02-01&resource=… with `Metadata: true`.
      if (r.headers.metadata !== 'true' || r.url.searchParams.get('resource') !== 'https://graph.microsoft.com' || !r.url.searchParams.get('api-version'))
        return { status: 400, json: { error: 'invalid_request', error_description: 'Required metadata header not specified' } }
      return { json: { access_token: s.issue(), expires_on: String(Math.floor(Date.now() / 1000) + 3600), resource: 'https://graph.microsoft.com', token_type: 'Bearer' } }
    }
    if (p === '/msi/appservice') {
      // App Service / Functions: GET IDENTITY_ENDPOINT?api-version=2019-08-01&resource=…[&client_id=…] with X-IDENTITY-HEADER.
      if (!o.identityHeader || r.headers['x-identity-header'] !== o.identityHeader) return { status: 401, json: { statusCode: 401, message: 'Unauthorized request. Missing or invalid X-IDENTITY-HEADER.' } }
      if (r.url.searchParams.get('api-version') !== '2019-08-01' || r.url.searchParams.get('resource') !== 'https://graph.microsoft.com')
        return { status: 400, json: { statusCode: 400, message: 'Invalid api-version or resource.' } }
      const clientId = r.url.searchParams.get('client_id')
      return { json: { access_token: s.issue(), expires_on: String(Math.floor(Date.now() / 1000) + 3600), resource: 'https://graph.microsoft.com', token_type: 'Bearer', client_id: clientId ?? 'system-assigned-client-id' } }
    }
    if (p === '/gh-oidc') {
      if (!o.ghOidc || r.headers.authorization !== `bearer ${o.ghOidc.requestToken}` || r.url.searchParams.get('audience') !== 'api://AzureADTokenExchange') return { status: 401, json: { message: 'Bad credentials' } }
      return { json: { count: 1, value: o.ghOidc.idToken } }
    }
    if (!p.startsWith('/v1.0/')) return { status: 404, json: { error: { code: 'NotFound', message: 'no such path' } } }
    if (!s.authorized(r)) return unauthorized
    const roles = o.roles ?? []
    const path = p.slice('/v1.0'.length)
    if (path === '/directoryRoles') return { json: { '@odata.context': ctx('directoryRoles'), value: roles.map((x) => ({ id: x.id, displayName: x.displayName, roleTemplateId: x.id, deletedDateTime: null })) } }
    const m = /^\/directoryRoles\/([^/]+)\/members$/.exec(path)
    if (m) {
      const role = roles.find((x) => x.id === decodeURIComponent(m[1]!))
      if (!role) return { status: 404, json: { error: { code: 'Request_ResourceNotFound', message: 'no such role' } } }
      return list(r, s, 'directoryObjects', role.members.length, (i) => ({ '@odata.type': '#microsoft.graph.user', ...role.members[i] }), 2)
    }
    if (path === '/reports/authenticationMethods/userRegistrationDetails') return list(r, s, 'reports/authenticationMethods/userRegistrationDetails', o.users, gen)
    const g = /^\/groups\/([^/]+)\/transitiveMembers$/.exec(path)
    if (g) {
      const members = o.groups?.[decodeURIComponent(g[1]!)]
      if (!members) return { status: 404, json: { error: { code: 'Request_ResourceNotFound', message: `Resource '${g[1]}' does not exist or one of its queried reference-property objects are not present.` } } }
      // $select keeps the listed properties; @odata.type always comes (directoryObject is polymorphic).
      const sel = (r.url.searchParams.get('$select') ?? '').split(',').filter(Boolean)
      return list(r, s, 'directoryObjects', members.length, (i) => {
        const m = members[i]!
        return sel.length ? Object.fromEntries(Object.entries(m).filter(([k]) => k === '@odata.type' || sel.includes(k))) : m
      }, 2)
    }
    if (path === '/identity/conditionalAccess/policies') return list(r, s, 'identity/conditionalAccess/policies', o.policies?.length ?? 0, (i) => o.policies![i], 2)
    if (path === '/policies/authenticationMethodsPolicy')
      return { json: o.methodsPolicy ?? { '@odata.context': ctx('authenticationMethodsPolicy'), id: 'authenticationMethodsPolicy', displayName: 'Authentication Methods Policy', policyVersion: '1.5', authenticationMethodConfigurations: [{ '@odata.type': '#microsoft.graph.smsAuthenticationMethodConfiguration', id: 'Sms', state: 'enabled' }] } }
    return { status: 404, json: { error: { code: 'BadRequest', message: `Resource not found for the segment '${path}'.` } } }
  })
  return Object.assign(base, { graphBaseUrl: `${base.origin}/v1.0`, authorityHost: base.origin, tokenUrl: `${base.origin}${tokenPath}` })
}
