/**
 * @fileoverview `google://CUSTOMER`: the Google Workspace Admin SDK Directory API pulled live into the model the Google
 * export reader builds (`users.list` with `projection=full`: `isEnrolledIn2Sv`, `isEnforcedIn2Sv`, `isAdmin`), plus the
 * organizational units (`orgunits.list`): one `mfa-not-enforced` verdict per unit whose users are not all enforced.
 * `CUSTOMER` is a customer id (`C01abc23d`) or `my_customer`.
 *
 * Credentials, Google's documented flows (what google-auth-library implements), from `settings.google.credentialsFile`
 * or `GOOGLE_APPLICATION_CREDENTIALS`:
 * - `type: service_account`: a JWT signed with the key (RS256; `sub` = `settings.google.subject`, the administrator it acts
 *   for with domain-wide delegation) exchanged at the key's `token_uri` (RFC 7523 JWT bearer grant).
 * - `type: external_account` (workload identity federation): the subject token from `credential_source` (a file, or a URL
 *   such as a CI's OIDC endpoint) exchanged at the STS `token_url`; then, through `service_account_impersonation_url`, a
 *   delegated JWT signed by the IAM Credentials API (`signJwt`, when `subject` is set) or an access token
 *   (`generateAccessToken`).
 * - `settings.google.accessToken` as is.
 * `settings.google.adminBaseUrl` overrides `https://admin.googleapis.com` (the client libraries' rootUrl).
 */
import { createPrivateKey } from 'node:crypto'
import { AttemptFailure } from '../../../src/errors.ts'
import type { CheckContext } from '../../../src/engine/check.ts'
import type { Target } from '../../../src/types.ts'
import { parseExportData, type Enforcement, type IdpModel, type Json } from '../exports.ts'
import { ApiClient, baseUrl, shortUrl, Throttled, type Transport } from './client.ts'
import { postForm, readSecretFile, tokenCache, tokenFrom, type Token, type ReadFile } from './tokens.ts'

/** `settings.google`. */
export interface GoogleSettings {
  readonly credentialsFile?: string
  readonly subject?: string
  readonly adminBaseUrl?: string
  readonly accessToken?: string
}

/** Read-only scopes the pull needs (also named in a 403). */
export const GOOGLE_SCOPES = ['https://www.googleapis.com/auth/admin.directory.user.readonly', 'https://www.googleapis.com/auth/admin.directory.orgunit.readonly']
const JWT_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer'
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)
type Env = Readonly<Record<string, string | undefined>>

function field(o: Json, key: string, setting: string): string {
  const v = o[key]
  if (typeof v !== 'string' || !v) throw new AttemptFailure('input', `${setting}: expected "${key}" in the credentials file`)
  return v
}

/** An RS256 JWT for the JWT bearer grant: `iss`, optional `sub`, `scope`, `aud`, one hour. */
async function delegationJwt(privateKeyPem: string, iss: string, sub: string | undefined, aud: string, setting: string): Promise<string> {
  let key
  try {
    key = createPrivateKey(privateKeyPem)
  } catch {
    throw new AttemptFailure('input', `${setting}: the private_key of the service account cannot be read`)
  }
  // jose is loaded when the connector signs, not when the CLI starts.
  const { SignJWT } = await import('jose')
  const now = Math.floor(Date.now() / 1000)
  const jwt = new SignJWT({ scope: GOOGLE_SCOPES.join(' ') }).setProtectedHeader({ alg: 'RS256', typ: 'JWT' }).setIssuer(iss).setAudience(aud).setIssuedAt(now).setExpirationTime(now + 3600)
  return (sub ? jwt.setSubject(sub) : jwt).sign(key)
}

/** The subject token of an external account: a file (text or JSON field) or a URL (CI OIDC endpoints), read on every renewal. */
async function subjectToken(src: Json, transport: Transport, read: ReadFile, setting: string): Promise<string> {
  const format = isObj(src.format) ? src.format : {}
  const pick = (text: string, where: string): string => {
    if (format.type !== 'json') return text.trim()
    const name = typeof format.subject_token_field_name === 'string' ? format.subject_token_field_name : ''
    let j: unknown
    try {
      j = JSON.parse(text)
    } catch {
      throw new AttemptFailure('input', `${setting}: the subject token at ${where} is not JSON`)
    }
    const v = isObj(j) ? j[name] : undefined
    if (typeof v !== 'string' || !v) throw new AttemptFailure('input', `${setting}: no "${name}" in the subject token at ${where}`)
    return v
  }
  if (typeof src.file === 'string') return pick(await readSecretFile(read, src.file, `${setting}: credential_source.file`), src.file)
  if (typeof src.url === 'string') {
    const url = baseUrl(src.url.replace(/\?.*$/, ''), `${setting}: credential_source.url`) + (src.url.includes('?') ? src.url.slice(src.url.indexOf('?')) : '')
    const headers = isObj(src.headers) ? Object.fromEntries(Object.entries(src.headers).filter((e): e is [string, string] => typeof e[1] === 'string')) : {}
    const res = await transport(url, { headers, maxBytes: 64 * 1024, timeoutMs: 10_000 })
    if (res.status !== 200) throw new AttemptFailure('input', `${setting}: credential_source.url ${shortUrl(url)}: HTTP ${res.status}: no subject token`)
    return pick(res.body.toString('utf8'), shortUrl(url))
  }
  throw new AttemptFailure('input', `${setting}: credential_source needs "file" or "url"`)
}

/** The credential chain → an `Authorization` header source and the flow's name (never a secret). */
export async function googleCredential(s: GoogleSettings, transport: Transport, read: ReadFile, env: Env = process.env): Promise<{ flow: string; authorization: (refresh: boolean) => Promise<string> }> {
  if (s.accessToken) {
    const v = s.accessToken
    return { flow: 'access token (settings.google.accessToken)', authorization: async () => `Bearer ${v}` }
  }
  const path = s.credentialsFile ?? env.GOOGLE_APPLICATION_CREDENTIALS
  const setting = s.credentialsFile ? 'settings.google.credentialsFile' : 'GOOGLE_APPLICATION_CREDENTIALS'
  if (!path) throw new AttemptFailure('input', 'google://: no credential: set settings.google.credentialsFile (or GOOGLE_APPLICATION_CREDENTIALS) to a service account key or a workload identity federation configuration, or settings.google.accessToken')
  let cred: unknown
  try {
    cred = JSON.parse(await readSecretFile(read, path, setting))
  } catch (err) {
    if (err instanceof AttemptFailure) throw err
    throw new AttemptFailure('input', `${setting}: ${path} is not JSON`)
  }
  if (!isObj(cred)) throw new AttemptFailure('input', `${setting}: expected a JSON object`)
  const exchangeJwt = async (jwt: string, tokenUri: string): Promise<Token> => tokenFrom(await postForm(transport, tokenUri, { grant_type: JWT_GRANT, assertion: jwt }), 'Google', tokenUri, `${setting}${s.subject ? ' and settings.google.subject (domain-wide delegation for the service account\'s client id)' : ''}`)

  if (cred.type === 'service_account') {
    const email = field(cred, 'client_email', setting)
    const keyPem = field(cred, 'private_key', setting)
    const tokenUri = baseUrl(typeof cred.token_uri === 'string' ? cred.token_uri : 'https://oauth2.googleapis.com/token', `${setting}: token_uri`)
    return {
      flow: `service account${s.subject ? ' with domain-wide delegation' : ''}`,
      authorization: tokenCache(async () => exchangeJwt(await delegationJwt(keyPem, email, s.subject, tokenUri, setting), tokenUri)),
    }
  }
  if (cred.type === 'external_account') {
    const stsUrl = baseUrl(field(cred, 'token_url', setting), `${setting}: token_url`)
    const audience = field(cred, 'audience', setting)
    const tokenType = field(cred, 'subject_token_type', setting)
    const src = isObj(cred.credential_source) ? cred.credential_source : undefined
    if (!src) throw new AttemptFailure('input', `${setting}: expected "credential_source" in the credentials file`)
    // Out of scope, refused before any request: an executable source runs a command the file names; an AWS source
    // (environment_id) signs a GetCallerIdentity request with the machine's AWS credentials.
    if (src.executable !== undefined)
      throw new AttemptFailure('input', `${setting}: credential_source.executable (an executable-sourced credential) is not supported: ztscan runs no command named in a credentials file; give the subject token as credential_source.file or credential_source.url`)
    if (src.environment_id !== undefined)
      throw new AttemptFailure('input', `${setting}: credential_source.environment_id (an AWS-sourced credential) is not supported: ztscan does not sign AWS requests for Google STS; give an OIDC subject token as credential_source.file or credential_source.url`)
    if (typeof src.file !== 'string' && typeof src.url !== 'string') throw new AttemptFailure('input', `${setting}: credential_source needs "file" or "url"`)
    const impersonation = typeof cred.service_account_impersonation_url === 'string' ? cred.service_account_impersonation_url : undefined
    const sts = async (): Promise<Token> =>
      tokenFrom(await postForm(transport, stsUrl, {
        grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
        audience,
        scope: 'https://www.googleapis.com/auth/cloud-platform',
        requested_token_type: 'urn:ietf:params:oauth:token-type:access_token',
        subject_token_type: tokenType,
        subject_token: await subjectToken(src, transport, read, setting),
      }), 'Google STS', stsUrl, `${setting} (audience and the workload identity pool provider's attribute conditions)`)
    if (!impersonation) {
      if (s.subject) throw new AttemptFailure('input', `${setting}: domain-wide delegation (settings.google.subject) needs service_account_impersonation_url`)
      return { flow: 'workload identity federation', authorization: tokenCache(sts) }
    }
    const imp = new URL(baseUrl(impersonation.replace(/:generateAccessToken$/, ''), `${setting}: service_account_impersonation_url`))
    const email = decodeURIComponent(imp.pathname.slice(imp.pathname.lastIndexOf('/') + 1))
    const call = async (suffix: string, body: Json): Promise<Json> => {
      const federated = await sts()
      const url = `${imp.href}:${suffix}`
      const res = await transport(url, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', authorization: `Bearer ${federated.value}` }, maxBytes: 256 * 1024 })
      let j: unknown
      try {
        j = JSON.parse(res.body.toString('utf8'))
      } catch {
        j = undefined
      }
      if (Throttled.is(res)) throw new Throttled(`Google IAM Credentials ${shortUrl(url)}`, res)
      if (res.status !== 200 || !isObj(j)) throw new AttemptFailure('input', `Google IAM Credentials ${shortUrl(url)}: HTTP ${res.status}: the federated identity may not impersonate ${email} (roles/iam.serviceAccountTokenCreator)`)
      return j
    }
    if (s.subject) {
      const subject = s.subject
      const tokenUri = baseUrl(typeof cred.token_uri === 'string' ? cred.token_uri : 'https://oauth2.googleapis.com/token', `${setting}: token_uri`)
      return {
        flow: 'workload identity federation with domain-wide delegation (signJwt)',
        authorization: tokenCache(async () => {
          const now = Math.floor(Date.now() / 1000)
          const signed = (await call('signJwt', { payload: JSON.stringify({ iss: email, sub: subject, scope: GOOGLE_SCOPES.join(' '), aud: tokenUri, iat: now, exp: now + 3600 }) })).signedJwt
          if (typeof signed !== 'string') throw new AttemptFailure('protocol', `Google IAM Credentials: signJwt returned no signedJwt`)
          return exchangeJwt(signed, tokenUri)
        }),
      }
    }
    return {
      flow: 'workload identity federation (service account impersonation)',
      authorization: tokenCache(async () => {
        const j = await call('generateAccessToken', { scope: GOOGLE_SCOPES, lifetime: '3600s' })
        if (typeof j.accessToken !== 'string') throw new AttemptFailure('protocol', 'Google IAM Credentials: generateAccessToken returned no accessToken')
        const at = typeof j.expireTime === 'string' ? Date.parse(j.expireTime) : NaN
        return { value: j.accessToken, type: 'Bearer', renewAt: Math.max(Date.now(), (Number.isNaN(at) ? Date.now() + 3600_000 : at) - 60_000) }
      }),
    }
  }
  throw new AttemptFailure('input', `${setting}: expected "type": "service_account" or "external_account" (got ${JSON.stringify(String(cred.type)).slice(0, 40)})`)
}

/** Every item of a Directory API list (`nextPageToken` paging), page by page. */
async function eachPage(client: ApiClient, path: string, key: string, onItems: (items: unknown[]) => void): Promise<number> {
  let token: string | undefined
  let pages = 0
  const seen = new Set<string>()
  do {
    if (pages >= client.limits.maxPages) throw new AttemptFailure('incomplete', `Google Admin SDK: GET ${path}: more than ${client.limits.maxPages} pages`)
    const { json } = await client.get(`${path}${token ? `${path.includes('?') ? '&' : '?'}pageToken=${encodeURIComponent(token)}` : ''}`)
    if (!isObj(json)) throw new AttemptFailure('protocol', `Google Admin SDK: GET ${path}: expected an object`)
    const items = json[key] ?? []
    if (!Array.isArray(items)) throw new AttemptFailure('protocol', `Google Admin SDK: GET ${path}: expected "${key}" to be a list`)
    onItems(items)
    pages++
    const next = json.nextPageToken
    token = typeof next === 'string' && next ? next : undefined
    if (token && seen.has(token)) throw new AttemptFailure('protocol', `Google Admin SDK: GET ${path}: the page token repeats`)
    if (token) seen.add(token)
  } while (token)
  return pages
}

/** Pulls `google://CUSTOMER` into the export model. */
export async function pullGoogle(target: Target, ctx: Pick<CheckContext, 'signal' | 'settings' | 'net' | 'log'>): Promise<IdpModel> {
  const customer = String(target.customer)
  const s = (ctx.settings.google ?? {}) as GoogleSettings
  const base = baseUrl(s.adminBaseUrl ?? 'https://admin.googleapis.com', 'settings.google.adminBaseUrl')
  const cred = await googleCredential(s, ctx.net.httpRequest, ctx.net.readFile)
  ctx.log.debug(`${target.id}: ${cred.flow}`)
  const client = new ApiClient({ vendor: 'Google Admin SDK', base, transport: ctx.net.httpRequest, signal: ctx.signal, authorization: cred.authorization, permissions: GOOGLE_SCOPES.join(', ') })
  const users: unknown[] = []
  const c = encodeURIComponent(customer)
  let missing: string | undefined
  try {
    await eachPage(client, `/admin/directory/v1/users?customer=${c}&projection=full&maxResults=500`, 'users', (items) => users.push(...items))
  } catch (err) {
    if (!(err instanceof AttemptFailure) || err.reason === 'aborted' || !users.length) throw err
    missing = `users: the pages after the ${users.length} users read: ${err.message}`
  }
  const units: string[] = ['/']
  try {
    await eachPage(client, `/admin/directory/v1/customer/${c}/orgunits?type=all`, 'organizationUnits', (items) => {
      for (const u of items) if (isObj(u) && typeof u.orgUnitPath === 'string') units.push(u.orgUnitPath)
    })
  } catch (err) {
    if (!(err instanceof AttemptFailure) || err.reason === 'aborted') throw err
    missing = [missing, `organization units: ${err.message}`].filter(Boolean).join('; ')
  }
  const model = parseExportData('google', { kind: 'admin#directory#users', users }, target.id)
  const enforcement: Enforcement[] = [...model.enforcement, ...unitEnforcement(users, units)]
  return { ...model, enforcement, ...(missing ? { incomplete: `${target.id}: incomplete pull, judged what was read; missing ${missing}` } : {}) }
}

/**
 * 2-Step Verification enforcement per organizational unit (it is set per unit): a unit is enforced when every active user
 * directly in it has `isEnforcedIn2Sv`; units without active users are not judged.
 */
export function unitEnforcement(users: readonly unknown[], units: readonly string[]): Enforcement[] {
  const by = new Map<string, { total: number; enforced: number }>()
  for (const u of users) {
    if (!isObj(u) || u.suspended === true || u.archived === true || typeof u.isEnforcedIn2Sv !== 'boolean') continue
    const path = typeof u.orgUnitPath === 'string' ? u.orgUnitPath : '/'
    const t = by.get(path) ?? { total: 0, enforced: 0 }
    t.total++
    if (u.isEnforcedIn2Sv) t.enforced++
    by.set(path, t)
  }
  return [...new Set(units)].sort().flatMap((path) => {
    const t = by.get(path)
    if (!t) return []
    const enforced = t.enforced === t.total
    return [{
      resource: `org:${path}`,
      enforced,
      evidence: { setting: `isEnforcedIn2Sv true for ${t.enforced} of ${t.total} users`, policies: enforced ? [`2-Step Verification enforcement (${path})`] : [], policiesChecked: 1 },
    }]
  })
}
