/**
 * @fileoverview `github-org://ORG`: GitHub's REST API pulled live into the bundle the GitHub export reader reads —
 * `GET /orgs/{org}` (`two_factor_requirement_enabled`, visible to owners), `/orgs/{org}/members?filter=2fa_disabled`,
 * all members (the denominator) and `?role=admin`, paged by `Link: rel="next"` (100 a page) — plus the organization's
 * SAML SSO identity provider (GraphQL `organization.samlIdentityProvider`), added to the enforcement evidence.
 *
 * Credentials: `settings.github.token`, `GITHUB_TOKEN` or `GH_TOKEN` (an owner's token with `read:org`), or a GitHub App
 * (`appId`, `installationId`, `privateKeyPath`: a jose-signed app JWT exchanged for an installation token).
 */
import { AttemptFailure } from '../../../src/errors.ts'
import type { CheckContext } from '../../../src/engine/check.ts'
import type { Target } from '../../../src/types.ts'
import { parseExportData, type IdpModel, type Json } from '../exports.ts'
import { ApiClient, baseUrl, PullLog, pullList, Throttled, type Transport } from './client.ts'
import { loadKeyPem, readSecretFile, tokenCache, type ReadFile } from './tokens.ts'

/** `settings.github`. */
export interface GithubSettings {
  readonly baseUrl?: string
  readonly graphqlUrl?: string
  readonly token?: string
  readonly appId?: string
  readonly installationId?: string
  readonly privateKeyPath?: string
}

const HEADERS = { accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28', 'user-agent': 'ztscan' }
const SAML_QUERY = 'query($org: String!) { organization(login: $org) { samlIdentityProvider { ssoUrl issuer } } }'

type Env = Readonly<Record<string, string | undefined>>

/** The credential: a GitHub App installation token, else a token from settings or the environment. */
export function githubCredential(s: GithubSettings, base: string, transport: Transport, read: ReadFile, id: string, env: Env = process.env): { flow: string; authorization: (refresh: boolean) => Promise<string> } {
  if (s.appId || s.installationId) {
    if (!s.appId || !s.installationId || !s.privateKeyPath) throw new AttemptFailure('input', 'settings.github: a GitHub App needs appId, installationId and privateKeyPath')
    const { appId, installationId, privateKeyPath } = s
    const url = `${base}/app/installations/${encodeURIComponent(installationId)}/access_tokens`
    return {
      flow: 'GitHub App installation token',
      authorization: tokenCache(async () => {
        const { key } = loadKeyPem(await readSecretFile(read, privateKeyPath, 'settings.github.privateKeyPath'), 'settings.github.privateKeyPath')
        const now = Math.floor(Date.now() / 1000)
        const { SignJWT } = await import('jose')
        const jwt = await new SignJWT({}).setProtectedHeader({ alg: 'RS256', typ: 'JWT' }).setIssuer(appId).setIssuedAt(now - 60).setExpirationTime(now + 540).sign(key)
        const res = await transport(url, { method: 'POST', headers: { ...HEADERS, authorization: `Bearer ${jwt}` }, maxBytes: 256 * 1024 })
        let j: { token?: unknown; expires_at?: unknown } = {}
        try {
          j = JSON.parse(res.body.toString('utf8')) as typeof j
        } catch {
          j = {}
        }
        const where = `GitHub App installation token ${base}/app/installations/…/access_tokens`
        if (Throttled.is(res)) throw new Throttled(where, res)
        if (res.status !== 201 || typeof j.token !== 'string' || !j.token)
          throw new AttemptFailure('input', `${where}: HTTP ${res.status}: refused (wrong app id, installation or key?): check settings.github.appId, installationId and privateKeyPath`)
        const exp = typeof j.expires_at === 'string' ? Date.parse(j.expires_at) : NaN
        return { value: j.token, type: 'Bearer', renewAt: Number.isNaN(exp) ? Date.now() + 3000_000 : exp - 60_000 }
      }),
    }
  }
  const token = s.token ?? env.GITHUB_TOKEN ?? env.GH_TOKEN
  if (token) return { flow: s.token ? 'token (settings.github.token)' : 'token (GITHUB_TOKEN/GH_TOKEN)', authorization: async () => `Bearer ${token}` }
  throw new AttemptFailure('input', `${id}: no credential: set GITHUB_TOKEN (an organization owner's token with read:org), settings.github.token, or a GitHub App (settings.github.appId, installationId, privateKeyPath)`)
}

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Pulls `github-org://ORG` into the export model. */
export async function pullGithub(target: Target, ctx: Pick<CheckContext, 'signal' | 'settings' | 'net' | 'log'>): Promise<IdpModel> {
  const s = (ctx.settings.github ?? {}) as GithubSettings
  const org = String(target.org)
  const base = baseUrl(s.baseUrl ?? 'https://api.github.com', 'settings.github.baseUrl')
  const cred = githubCredential(s, base, ctx.net.httpRequest, ctx.net.readFile, target.id)
  ctx.log.debug(`${target.id}: ${cred.flow}`)
  const client = new ApiClient({ vendor: 'GitHub', base, transport: ctx.net.httpRequest, signal: ctx.signal, authorization: cred.authorization, headers: HEADERS, permissions: 'an organization owner with read:org' })
  const log = new PullLog()
  const o = encodeURIComponent(org)
  const bundle: Json = {}
  await log.part('the organization', async () => {
    const { json } = await client.get(`/orgs/${o}`)
    log.pages++
    // Visible to owners only: without it the members are still judged, and the setting is named as missing.
    if (isObj(json) && typeof json.two_factor_requirement_enabled !== 'boolean')
      throw new AttemptFailure('incomplete', `GET /orgs/${org}: no two_factor_requirement_enabled (the token is not an organization owner's)`)
    bundle.org = json
  })
  // Only login and id of each member are kept.
  const members = async (what: string, key: string, query: string): Promise<void> => {
    const list: Json[] = []
    const ok = await log.part(what, async () => {
      const r = await pullList(client, `/orgs/${o}/members?${query}per_page=100`, 'link', (items) => {
        for (const m of items) if (isObj(m)) list.push({ login: m.login, id: m.id })
      })
      log.note(what, r)
      if (r.failure) throw r.failure
    })
    if (ok) bundle[key] = list
  }
  await members('members with 2FA disabled', 'membersWith2faDisabled', 'filter=2fa_disabled&')
  await members('members', 'members', '')
  await members('admins', 'admins', 'role=admin&')

  let saml: string | undefined
  await log.part('SAML SSO', async () => {
    const url = baseUrl(s.graphqlUrl ?? `${base}/graphql`, 'settings.github.graphqlUrl')
    const { json } = await client.post(url, { query: SAML_QUERY, variables: { org } })
    const orgData = isObj(json) && isObj(json.data) && isObj(json.data.organization) ? json.data.organization : undefined
    if (!orgData) throw new AttemptFailure('protocol', `GitHub: POST ${url}: no organization in the GraphQL answer`)
    const idp = orgData.samlIdentityProvider
    saml = isObj(idp) ? `SAML SSO enabled (${typeof idp.ssoUrl === 'string' ? idp.ssoUrl.slice(0, 200) : 'no ssoUrl'})` : 'SAML SSO not configured for the organization'
    log.pages++
  })
  const model = Object.keys(bundle).length ? parseExportData('github', bundle, target.id) : undefined
  const incomplete = log.incomplete(target.id)
  const enforcement = (model?.enforcement ?? []).map((e) => (saml ? { ...e, evidence: { ...e.evidence, samlSso: saml } } : e))
  return { provider: 'github', users: [], notJudged: [], ...model, enforcement, ...(incomplete ? { incomplete } : {}) }
}
