/**
 * @fileoverview Test helper: GitHub's REST and GraphQL APIs for one organization on loopback, in the documented shapes —
 * `GET /orgs/{org}`, `/orgs/{org}/members` (`filter=2fa_disabled`, `role=admin`, paged by `Link: <…&page=N>; rel="next"`
 * with `per_page`), `POST /graphql` (`organization.samlIdentityProvider`) and the App installation-token endpoint.
 */
import { type KeyObject } from 'node:crypto'
import { jwtVerify } from 'jose'
import { startFake, type FakeReply, type FakeServer } from './server.ts'

export interface GithubFakeOptions {
  readonly org: string
  readonly members: number
  /** Member indexes with 2FA disabled. */
  readonly without2fa: (i: number) => boolean
  readonly admins?: readonly number[]
  readonly twoFactorRequired: boolean | null
  readonly saml?: { readonly ssoUrl: string } | null
  readonly token?: string
  readonly app?: { readonly id: string; readonly installationId: string; readonly publicKey: KeyObject }
}

export interface GithubFake extends FakeServer {
  readonly baseUrl: string
}

const member = (i: number) => ({ login: `dev${i}`, id: 1000 + i, node_id: `MDQ6VXNlcj${i}`, type: 'User', site_admin: false, url: `https://api.github.com/users/dev${i}` })

export async function startGithubFake(o: GithubFakeOptions): Promise<GithubFake> {
  const notFound: FakeReply = { status: 404, json: { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' } }
  const base = await startFake(async (r, s): Promise<FakeReply> => {
    const p = r.url.pathname
    const inst = o.app && /^\/app\/installations\/([^/]+)\/access_tokens$/.exec(p)
    if (inst && r.method === 'POST') {
      try {
        const jwt = (r.headers.authorization ?? '').replace(/^Bearer /, '')
        await jwtVerify(jwt, o.app!.publicKey, { issuer: o.app!.id })
      } catch {
        return { status: 401, json: { message: 'A JSON web token could not be decoded' } }
      }
      if (inst[1] !== o.app!.installationId) return notFound
      return { status: 201, json: { token: s.issue(), expires_at: new Date(Date.now() + 3600_000).toISOString(), permissions: { members: 'read' } } }
    }
    const bearer = s.authorized(r) || (o.token !== undefined && r.headers.authorization === `Bearer ${o.token}`)
    if (!bearer) return { status: 401, json: { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' } }
    if (p === '/graphql' && r.method === 'POST') {
      const q = JSON.parse(r.body) as { variables?: { org?: string } }
      if (q.variables?.org !== o.org) return { json: { data: { organization: null }, errors: [{ type: 'NOT_FOUND', message: 'Could not resolve to an Organization' }] } }
      return { json: { data: { organization: { samlIdentityProvider: o.saml ? { ssoUrl: o.saml.ssoUrl, issuer: 'https://idp.example.test' } : null } } } }
    }
    if (p === `/orgs/${o.org}`) {
      const org: Record<string, unknown> = { login: o.org, id: 42, node_id: 'O_1', url: `https://api.github.com/orgs/${o.org}`, description: '', public_repos: 3 }
      if (o.twoFactorRequired !== null) org.two_factor_requirement_enabled = o.twoFactorRequired
      return { json: org }
    }
    if (p === `/orgs/${o.org}/members`) {
      const per = Math.min(100, Number(r.url.searchParams.get('per_page') ?? '30'))
      const page = Number(r.url.searchParams.get('page') ?? '1')
      const filter = r.url.searchParams.get('filter')
      const role = r.url.searchParams.get('role')
      const all = Array.from({ length: o.members }, (_, i) => i).filter((i) => (filter === '2fa_disabled' ? o.without2fa(i) : true) && (role === 'admin' ? (o.admins ?? []).includes(i) : true))
      const slice = all.slice((page - 1) * per, page * per).map(member)
      const q = new URLSearchParams(r.url.searchParams)
      const links: string[] = []
      const last = Math.max(1, Math.ceil(all.length / per))
      if (page < last) {
        q.set('page', String(page + 1))
        links.push(`<${s.origin}${p}?${q}>; rel="next"`)
        q.set('page', String(last))
        links.push(`<${s.origin}${p}?${q}>; rel="last"`)
      }
      return { json: slice, headers: links.length ? { link: links.join(', ') } : {} }
    }
    return notFound
  })
  return Object.assign(base, { baseUrl: base.origin })
}
