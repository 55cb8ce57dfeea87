/**
 * @fileoverview `entra://TENANT`: Microsoft Graph pulled live into the same model the Entra export reader builds.
 *
 * Endpoints (Graph v1.0): `directoryRoles` and each role's `members` (who is an administrator), then
 * `reports/authenticationMethods/userRegistrationDetails` streamed page by page into users (records are not kept),
 * `identity/conditionalAccess/policies`, `groups/{id}/transitiveMembers` of every group an enabled policy (or a directory
 * role) names, `policies/authenticationMethodsPolicy`. The small parts are assembled into the export bundle's shape
 * (`{ conditionalAccessPolicies, authenticationMethodsPolicy, directoryRoles, groups }`) and read by the export reader, so
 * every rule judges a pull and a file alike.
 *
 * Credentials, first that applies (Microsoft's documented token flows, the ones `@azure/identity` implements):
 * `settings.entra.accessToken`; a client certificate (`clientCertificatePath` / `AZURE_CLIENT_CERTIFICATE_PATH`: PEM with
 * key and certificate, a signed client assertion); federated workload identity from a file (`federatedTokenFile` /
 * `AZURE_FEDERATED_TOKEN_FILE`) or from GitHub Actions' OIDC endpoint (`ACTIONS_ID_TOKEN_REQUEST_URL` and `_TOKEN`,
 * audience `api://AzureADTokenExchange`); managed identity (`IDENTITY_ENDPOINT` + `IDENTITY_HEADER`, or IMDS when
 * `managedIdentity: true`).
 */
import { AttemptFailure } from '../../../src/errors.ts'
import type { CheckContext } from '../../../src/engine/check.ts'
import type { Target } from '../../../src/types.ts'
import { entraRegistration, parseExportData, type IdpModel, type IdpUser, type Json } from '../exports.ts'
import { readCaPolicy } from '../policy-entra.ts'
import { ApiClient, baseUrl, PullLog, pullList, shortUrl, type Transport } from './client.ts'
import { clientAssertion, JWT_BEARER, loadKeyPem, postForm, readSecretFile, tokenCache, tokenFrom, type Token, type ReadFile } from './tokens.ts'

/** `settings.entra`. */
export interface EntraSettings {
  readonly clientId?: string
  readonly authorityHost?: string
  readonly graphBaseUrl?: string
  readonly graphScope?: string
  readonly clientCertificatePath?: string
  readonly federatedTokenFile?: string
  readonly managedIdentity?: boolean
  readonly managedIdentityEndpoint?: string
  readonly accessToken?: string
}

const IMDS = 'http://169.254.169.254/metadata/identity/oauth2/token'
const GITHUB_AUDIENCE = 'api://AzureADTokenExchange'
/** Graph's app-only permissions these calls need, for the 403 message. */
const PERMISSIONS = 'AuditLog.Read.All, Policy.Read.All, RoleManagement.Read.Directory, GroupMember.Read.All'
/** Groups whose members one pull reads (Conditional Access allows 195 policies; each names a few groups). */
const MAX_GROUPS = 500

type Env = Readonly<Record<string, string | undefined>>

/**
 * The credential chain → an `Authorization` header source and the flow's name (for the log; never a secret).
 * `env` is `process.env` (the variables Azure SDKs and GitHub Actions set).
 */
export function entraCredential(s: EntraSettings, tenant: string, transport: Transport, read: ReadFile, env: Env = process.env): { flow: string; authorization: (refresh: boolean) => Promise<string> } {
  const authority = baseUrl(s.authorityHost ?? env.AZURE_AUTHORITY_HOST ?? 'https://login.microsoftonline.com', 'settings.entra.authorityHost')
  const tokenUrl = `${authority}/${encodeURIComponent(tenant)}/oauth2/v2.0/token`
  const scope = s.graphScope ?? 'https://graph.microsoft.com/.default'
  const resource = scope.replace(/\/\.default$/, '')
  const clientId = s.clientId ?? env.AZURE_CLIENT_ID
  const needClient = (flow: string): string => {
    if (!clientId) throw new AttemptFailure('input', `settings.entra.clientId: the ${flow} flow needs the app's client id (or AZURE_CLIENT_ID)`)
    return clientId
  }
  const clientSetting = s.clientId ? 'settings.entra.clientId' : 'AZURE_CLIENT_ID'
  // `source`: the settings the assertion comes from, named when the token endpoint refuses it.
  const withAssertion = (assertion: () => Promise<string>, source: string) => async (): Promise<Token> =>
    tokenFrom(await postForm(transport, tokenUrl, { client_id: needClient('client assertion'), scope, grant_type: 'client_credentials', client_assertion_type: JWT_BEARER, client_assertion: await assertion() }), 'Entra', tokenUrl, `${clientSetting}, ${source} and the tenant`)

  if (s.accessToken) {
    const v = s.accessToken
    return { flow: 'access token (settings.entra.accessToken)', authorization: async () => `Bearer ${v}` }
  }
  const certPath = s.clientCertificatePath ?? env.AZURE_CLIENT_CERTIFICATE_PATH
  if (certPath) {
    const setting = s.clientCertificatePath ? 'settings.entra.clientCertificatePath' : 'AZURE_CLIENT_CERTIFICATE_PATH'
    const id = needClient('client certificate')
    return {
      flow: 'client certificate',
      authorization: tokenCache(withAssertion(async () => {
        const { key, cert } = loadKeyPem(await readSecretFile(read, certPath, setting), setting)
        if (!cert) throw new AttemptFailure('input', `${setting}: expected the certificate beside the private key in the PEM file`)
        return clientAssertion({ key, cert, clientId: id, audience: tokenUrl, setting })
      }, setting)),
    }
  }
  const federatedFile = s.federatedTokenFile ?? env.AZURE_FEDERATED_TOKEN_FILE
  if (federatedFile) {
    const setting = s.federatedTokenFile ? 'settings.entra.federatedTokenFile' : 'AZURE_FEDERATED_TOKEN_FILE'
    needClient('federated workload identity')
    // Read on every renewal: the platform rotates the file.
    return { flow: 'federated workload identity (token file)', authorization: tokenCache(withAssertion(() => readSecretFile(read, federatedFile, setting), `${setting} (the app's federated credential must trust its issuer and subject)`)) }
  }
  const ghUrl = env.ACTIONS_ID_TOKEN_REQUEST_URL
  const ghToken = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN
  if (ghUrl && ghToken) {
    needClient('federated workload identity')
    return {
      flow: 'federated workload identity (GitHub Actions OIDC)',
      authorization: tokenCache(withAssertion(async () => {
        const u = new URL(baseUrl(ghUrl.replace(/\?.*$/, ''), 'ACTIONS_ID_TOKEN_REQUEST_URL'))
        u.search = new URL(ghUrl).search
        u.searchParams.set('audience', GITHUB_AUDIENCE)
        const res = await transport(u.href, { headers: { authorization: `bearer ${ghToken}` }, maxBytes: 64 * 1024 })
        let value: unknown
        try {
          value = (JSON.parse(res.body.toString('utf8')) as { value?: unknown }).value
        } catch {
          value = undefined
        }
        if (res.status !== 200 || typeof value !== 'string' || !value)
          throw new AttemptFailure('input', `GitHub Actions OIDC ${shortUrl(u.href)}: HTTP ${res.status}: no ID token (does the job have "permissions: id-token: write"?)`)
        return value
      }, "the GitHub Actions OIDC token (the app's federated credential must trust this repository's subject)")),
    }
  }
  const idEndpoint = env.IDENTITY_ENDPOINT
  const idHeader = env.IDENTITY_HEADER
  if ((idEndpoint && idHeader) || s.managedIdentity) {
    const appService = Boolean(idEndpoint && idHeader && !s.managedIdentityEndpoint)
    const endpoint = s.managedIdentityEndpoint ? baseUrl(s.managedIdentityEndpoint, 'settings.entra.managedIdentityEndpoint') : appService ? idEndpoint! : IMDS
    return {
      flow: `managed identity (${appService ? 'IDENTITY_ENDPOINT' : 'IMDS'})`,
      authorization: tokenCache(async () => {
        const u = new URL(endpoint)
        u.searchParams.set('api-version', appService ? '2019-08-01' : '2018-02-01')
        u.searchParams.set('resource', resource)
        if (clientId) u.searchParams.set('client_id', clientId)
        const res = await transport(u.href, { headers: appService ? { 'x-identity-header': idHeader! } : { metadata: 'true' }, maxBytes: 256 * 1024, timeoutMs: 10_000 })
        return tokenFrom(res, 'Managed identity', u.href, `${appService ? 'IDENTITY_ENDPOINT and IDENTITY_HEADER' : 'settings.entra.managedIdentity'}${clientId ? ` and ${clientSetting} (a user-assigned identity's client id)` : ''}`)
      }),
    }
  }
  throw new AttemptFailure('input', `entra://${tenant}: no credential: set settings.entra.clientCertificatePath, a federated token (AZURE_FEDERATED_TOKEN_FILE, or GitHub Actions with id-token: write), managed identity (settings.entra.managedIdentity), or settings.entra.accessToken`)
}

/** What a pull tells beside the model: figures for logs, tests and the bench. */
export interface PullStats {
  readonly requests: number
  readonly throttled: number
  readonly pages: number
}

/** Pulls `entra://TENANT` into the export model. `users` may be replaced by a sink (the bench counts without keeping). */
export async function pullEntra(target: Target, ctx: Pick<CheckContext, 'signal' | 'settings' | 'net' | 'log'>, sink?: (u: IdpUser) => void): Promise<IdpModel & { stats: PullStats }> {
  const tenant = String(target.tenant)
  const s = (ctx.settings.entra ?? {}) as EntraSettings
  const base = baseUrl(s.graphBaseUrl ?? 'https://graph.microsoft.com/v1.0', 'settings.entra.graphBaseUrl')
  const cred = entraCredential(s, tenant, ctx.net.httpRequest, ctx.net.readFile)
  ctx.log.debug(`${target.id}: ${cred.flow}`)
  const client = new ApiClient({ vendor: 'Microsoft Graph', base, transport: ctx.net.httpRequest, signal: ctx.signal, authorization: cred.authorization, permissions: PERMISSIONS })
  const log = new PullLog()
  const note = log.note.bind(log)
  const part = log.part.bind(log)

  // Administrators: members of every activated directory role.
  const roles: Json[] = []
  const admins = new Set<string>()
  await part('directoryRoles', async () => {
    note('directoryRoles', await pullList(client, '/directoryRoles', 'odata', (items) => {
      for (const r of items) if (r && typeof r === 'object' && typeof (r as Json).id === 'string') roles.push({ ...(r as Json), members: [] })
    }))
    for (const role of roles) {
      const members = role.members as Json[]
      const what = `members of directory role ${String(role.displayName ?? role.id)}`
      await part(what, async () => note(what, await pullList(client, `/directoryRoles/${encodeURIComponent(String(role.id))}/members?$select=id,userPrincipalName`, 'odata', (items) => {
        for (const m of items) {
          if (!m || typeof m !== 'object') continue
          const { id, userPrincipalName } = m as Json
          members.push({ id, userPrincipalName, '@odata.type': (m as Json)['@odata.type'] })
          if (typeof id === 'string') admins.add(id)
        }
      })))
    }
  })

  // Users, streamed: each record becomes a user and is dropped.
  const users: IdpUser[] = []
  const add = sink ?? ((u: IdpUser) => users.push(u))
  await part('userRegistrationDetails', async () => note('userRegistrationDetails', await pullList(client, '/reports/authenticationMethods/userRegistrationDetails', 'odata', (items, offset) => {
    items.forEach((rec, i) => {
      const u = entraRegistration(rec, target.id, `/userRegistrationDetails/${offset + i}`)
      add(admins.has(u.id) && !u.admin ? { ...u, admin: true } : u)
    })
  })))

  const bundle: Json = {}
  const policies: unknown[] = []
  await part('conditionalAccessPolicies', async () => {
    const pr = await pullList(client, '/identity/conditionalAccess/policies', 'odata', (items) => {
      policies.push(...items)
    })
    note('conditionalAccessPolicies', pr)
    if (!pr.failure) bundle.conditionalAccessPolicies = policies
  })
  // Members of the groups enabled policies name, and of groups holding a directory role (role-assignable groups):
  // transitive, so users of nested groups count. A group that cannot be read stays unresolved (a named gap).
  const groupIds = new Set<string>()
  policies.forEach((p, i) => {
    if (!p || typeof p !== 'object') return
    const ca = readCaPolicy(p as Json, i)
    if (ca.enabled) for (const g of [...ca.includeGroups, ...ca.excludeGroups]) if (g) groupIds.add(g)
  })
  for (const r of roles) for (const m of r.members as Json[]) if (m['@odata.type'] === '#microsoft.graph.group' && typeof m.id === 'string') groupIds.add(m.id)
  const groups: Record<string, Json[]> = Object.create(null) as Record<string, Json[]>
  let pulled = 0
  for (const gid of groupIds) {
    const what = `transitive members of group ${gid}`
    if (pulled++ >= MAX_GROUPS) {
      log.missing.push(`${what}: more than ${MAX_GROUPS} groups named by the policies`)
      continue
    }
    const members: Json[] = []
    await part(what, async () => {
      const r = await pullList(client, `/groups/${encodeURIComponent(gid)}/transitiveMembers?$select=id,userPrincipalName,userType&$top=999`, 'odata', (items) => {
        for (const m of items) {
          if (!m || typeof m !== 'object') continue
          const { id, userPrincipalName, userType } = m as Json
          members.push({ '@odata.type': (m as Json)['@odata.type'], id, userPrincipalName, userType })
        }
      })
      note(what, r)
      if (!r.failure) groups[gid] = members
    })
  }
  if (groupIds.size) bundle.groups = groups

  await part('authenticationMethodsPolicy', async () => {
    bundle.authenticationMethodsPolicy = (await client.get('/policies/authenticationMethodsPolicy')).json
    log.pages++
  })
  if (!log.lacks('directoryRoles') && !log.lacks('members of')) bundle.directoryRoles = roles
  // Nothing at all could be read (a refused credential, a wrong base URL): that failure is the attempt's.
  const incomplete = log.incomplete(target.id)

  const small = bundle.conditionalAccessPolicies ? parseExportData('entra', bundle, target.id) : undefined
  const stats = { requests: client.stats.requests, throttled: client.stats.throttled, pages: log.pages }
  ctx.log.debug(`${target.id}: ${client.stats.requests} requests, ${log.pages} pages, ${client.stats.throttled} throttled`)
  return {
    provider: 'entra',
    ...small,
    users,
    enforcement: small?.enforcement ?? [],
    notJudged: small?.notJudged ?? [],
    ...(incomplete ? { incomplete } : {}),
    stats,
  }
}

/** The Graph permissions the pull needs (README, 403 help). */
export const ENTRA_PERMISSIONS = PERMISSIONS
