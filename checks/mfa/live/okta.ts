/**
 * @fileoverview `okta://ORG`: the Okta management API pulled live into the model the Okta export reader builds.
 *
 * Calls: `GET /api/v1/iam/assignees/users` (who holds an admin role; `_links.next` paging) and each admin's
 * `/api/v1/users/{id}/roles`; `GET /api/v1/users` (`Link: rel="next"` with `after` cursors, 200 a page) and, per user that
 * can sign in, `/api/v1/users/{id}/factors` (4 at a time); `GET /api/v1/authenticators`; `GET /api/v1/policies` of the
 * types `OKTA_SIGN_ON`, `ACCESS_POLICY`, `MFA_ENROLL` with each policy's `/rules` (and an authentication policy's `/app`
 * mappings). Users are converted page by page (the raw records are dropped); roles, authenticators and policies go into
 * the bundle the export reader reads (`{ users, roles, authenticators, authenticationPolicies, policies }`).
 *
 * Credentials: OAuth 2.0 client credentials with a private-key JWT (`settings.okta.clientId`, `privateKeyPath`, `keyId`;
 * jose signs the assertion), else an API token (`settings.okta.apiToken` or `OKTA_API_TOKEN`, sent as `SSWS`).
 */
import { AttemptFailure } from '../../../src/errors.ts'
import type { CheckContext } from '../../../src/engine/check.ts'
import type { Target } from '../../../src/types.ts'
import { oktaUser, parseExportData, type IdpModel, type IdpUser, type Json, type NotJudged } from '../exports.ts'
import { ApiClient, baseUrl, PullLog, pullList, vendorCode, type ClientOptions, type Transport } from './client.ts'
import { clientAssertion, JWT_BEARER, loadKeyPem, postForm, readSecretFile, tokenCache, tokenFrom, type Token, type ReadFile } from './tokens.ts'
import { DpopKey, wantsNonce } from './dpop.ts'

/** `settings.okta`. */
export interface OktaSettings {
  readonly baseUrl?: string
  readonly clientId?: string
  readonly privateKeyPath?: string
  readonly keyId?: string
  readonly scopes?: string
  readonly apiToken?: string
}

/** Scopes the calls need (OAuth for Okta, read-only). */
export const OKTA_SCOPES = 'okta.users.read okta.roles.read okta.policies.read okta.authenticators.read'
const POLICY_TYPES = ['OKTA_SIGN_ON', 'ACCESS_POLICY', 'MFA_ENROLL'] as const
/** Users whose factors are fetched at once. */
const FACTOR_CONCURRENCY = 4

type Env = Readonly<Record<string, string | undefined>>

/** The credential: private-key JWT client credentials, else an SSWS API token. */
export function oktaCredential(s: OktaSettings, base: string, transport: Transport, read: ReadFile, id: string, env: Env = process.env): { flow: string } & Pick<ClientOptions, 'authorization' | 'proof' | 'nonce'> {
  if (s.clientId && s.privateKeyPath) {
    const tokenUrl = `${base}/oauth2/v1/token`
    const clientId = s.clientId
    const keyPath = s.privateKeyPath
    const settings = 'settings.okta.clientId, privateKeyPath, keyId and scopes (the service app\'s public key and granted scopes)'
    // Set once the org says the app requires DPoP (invalid_dpop_proof): an ephemeral key for this credential's life.
    let dpop: DpopKey | undefined
    const fetch = async (): Promise<Token> => {
      const { key } = loadKeyPem(await readSecretFile(read, keyPath, 'settings.okta.privateKeyPath'), 'settings.okta.privateKeyPath')
      // At most three requests: plain; with a DPoP proof when the app requires one; with the nonce the server then asks for.
      for (let i = 0; ; i++) {
        // A fresh assertion (and proof) each time: their jti must not be replayed.
        const assertion = await clientAssertion({ key, kid: s.keyId, clientId, audience: tokenUrl, setting: 'settings.okta.privateKeyPath' })
        const headers = dpop ? { dpop: await dpop.proof('POST', tokenUrl) } : undefined
        const res = await postForm(transport, tokenUrl, { grant_type: 'client_credentials', scope: s.scopes ?? OKTA_SCOPES, client_assertion_type: JWT_BEARER, client_assertion: assertion }, headers)
        const error = res.status === 400 && i < 2 ? vendorCode(res.body) : undefined
        if (error === 'invalid_dpop_proof' && !dpop) {
          dpop = await DpopKey.create()
          continue
        }
        if (error === 'use_dpop_nonce' && dpop?.noteNonce(tokenUrl, res)) continue
        const t = tokenFrom(res, 'Okta', tokenUrl, settings)
        const type = t.type.toLowerCase()
        if (type === 'bearer' || (type === 'dpop' && dpop)) return t
        throw new AttemptFailure('input', `Okta token endpoint: token type ${t.type.slice(0, 16).replace(/[^\w-]/g, '?')} is not supported (expected Bearer, or DPoP when the app requires it)`)
      }
    }
    return {
      flow: 'OAuth client credentials, private-key JWT',
      authorization: tokenCache(fetch, (t) => `${t.type.toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer'} ${t.value}`),
      // A DPoP-bound token goes with a proof on every call (ath binds it to the token); a 401 asking for a nonce is retried.
      proof: async (method, url, authorization): Promise<Record<string, string>> => (dpop && authorization.startsWith('DPoP ') ? { dpop: await dpop.proof(method, url, authorization.slice(5)) } : {}),
      nonce: (url, res) => Boolean(dpop && wantsNonce(res) && dpop.noteNonce(url, res)),
    }
  }
  if (s.clientId || s.privateKeyPath) throw new AttemptFailure('input', `settings.okta: ${s.clientId ? 'privateKeyPath' : 'clientId'} is missing (private-key JWT needs both)`)
  const token = s.apiToken ?? env.OKTA_API_TOKEN
  if (token) return { flow: 'API token (SSWS)', authorization: async () => `SSWS ${token}` }
  throw new AttemptFailure('input', `${id}: no credential: set settings.okta.clientId and privateKeyPath (private-key JWT), or settings.okta.apiToken / OKTA_API_TOKEN`)
}

/** `okta://ORG` → the API's base URL: `ORG` is the org's host (`dev-123.okta.com`); a bare name means `NAME.okta.com`. */
export function oktaBase(org: string, s: OktaSettings): string {
  return baseUrl(s.baseUrl ?? `https://${org.includes('.') ? org : `${org}.okta.com`}`, 'settings.okta.baseUrl')
}

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Pulls `okta://ORG` into the export model. */
export async function pullOkta(target: Target, ctx: Pick<CheckContext, 'signal' | 'settings' | 'net' | 'log'>, sink?: (u: IdpUser) => void): Promise<IdpModel> {
  const s = (ctx.settings.okta ?? {}) as OktaSettings
  const base = oktaBase(String(target.org), s)
  const cred = oktaCredential(s, base, ctx.net.httpRequest, ctx.net.readFile, target.id)
  ctx.log.debug(`${target.id}: ${cred.flow}`)
  const client = new ApiClient({ vendor: 'Okta', base, transport: ctx.net.httpRequest, signal: ctx.signal, authorization: cred.authorization, proof: cred.proof, nonce: cred.nonce, permissions: s.clientId ? s.scopes ?? OKTA_SCOPES : 'a read-only administrator token' })
  const log = new PullLog()

  // Administrators: every user with a role assignment, and their roles.
  const roles: Json = Object.create(null) as Json
  await log.part('admin role assignments', async () => {
    const ids: string[] = []
    log.note('admin role assignments', await pullList(client, '/api/v1/iam/assignees/users?limit=100', 'links-next', (items) => {
      for (const a of items) if (isObj(a) && typeof a.id === 'string') ids.push(a.id)
    }))
    for (const id of ids) {
      await log.part(`roles of user ${id}`, async () => {
        const { json } = await client.get(`/api/v1/users/${encodeURIComponent(id)}/roles`)
        log.pages++
        roles[id] = Array.isArray(json) ? json : []
      })
    }
  })

  // Users page by page; each page's factor lists fetched a few at a time, converted, and dropped.
  const users: IdpUser[] = []
  const notJudged: NotJudged[] = []
  const add = sink ?? ((u: IdpUser) => users.push(u))
  let factorFailures = 0
  let firstFactorFailure: string | undefined
  await log.part('users', async () => log.note('users', await pullList(client, '/api/v1/users?limit=200', 'link', async (items, offset) => {
    const factors: Json = Object.create(null) as Json
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < items.length) {
        const u = items[next++]
        if (!isObj(u) || typeof u.id !== 'string' || !['ACTIVE', 'PASSWORD_EXPIRED', 'LOCKED_OUT', 'RECOVERY'].includes(String(u.status))) continue
        const id = u.id
        try {
          const { json } = await client.get(`/api/v1/users/${encodeURIComponent(id)}/factors`)
          factors[id] = json
        } catch (err) {
          if (!(err instanceof AttemptFailure) || err.reason === 'aborted' || err.reason === 'bug') throw err
          // Left without a factor list: the reader says it was not judged, naming the user.
          factorFailures++
          firstFactorFailure ??= `user ${id}: ${err.message}`
        }
      }
    }
    await Promise.all(Array.from({ length: FACTOR_CONCURRENCY }, worker))
    items.forEach((u, i) => {
      const r = oktaUser(u, target.id, `/users/${offset + i}`, factors, roles)
      if (r && 'rule' in r) notJudged.push(r)
      else if (r) add(r)
    })
  })))

  if (firstFactorFailure) log.missing.push(`the factors of ${factorFailures} user(s), not judged (first: ${firstFactorFailure})`)

  const bundle: Json = { users: [] }
  await log.part('authenticators', async () => {
    const { json } = await client.get('/api/v1/authenticators')
    log.pages++
    bundle.authenticators = json
  })
  // Policies with their rules; authentication (ACCESS_POLICY) policies also with the apps they are mapped to — the
  // export bundle's `authenticationPolicies`; the other types as `policies`.
  const byType = new Map<string, Json[]>()
  for (const type of POLICY_TYPES) {
    await log.part(`${type} policies`, async () => {
      const list: Json[] = []
      log.note(`${type} policies`, await pullList(client, `/api/v1/policies?type=${type}`, 'link', (items) => {
        for (const p of items) if (isObj(p)) list.push(p)
      }))
      const out: Json[] = []
      for (const p of list) {
        const name = `policy ${String(p.name ?? p.id)}`
        const id = encodeURIComponent(String(p.id))
        const full: Json = { ...p }
        const ok = await log.part(`rules of ${name}`, async () => {
          const rules: unknown[] = []
          const r = await pullList(client, `/api/v1/policies/${id}/rules`, 'link', (items) => {
            rules.push(...items)
          })
          log.note(`rules of ${name}`, r)
          if (r.failure) throw r.failure
          full.rules = rules
        })
        if (ok && type === 'ACCESS_POLICY') {
          await log.part(`apps of ${name}`, async () => {
            const apps: unknown[] = []
            const r = await pullList(client, `/api/v1/policies/${id}/app`, 'link', (items) => {
              for (const a of items) if (isObj(a)) apps.push({ id: a.id, name: a.name, label: a.label })
            })
            log.note(`apps of ${name}`, r)
            if (!r.failure) full.apps = apps
          })
        }
        // A policy without its rules is left out (and named as missing), never judged on half.
        if (ok) out.push(full)
      }
      byType.set(type, out)
    })
  }
  if (byType.has('ACCESS_POLICY')) bundle.authenticationPolicies = byType.get('ACCESS_POLICY')
  bundle.policies = [...(byType.get('OKTA_SIGN_ON') ?? []), ...(byType.get('MFA_ENROLL') ?? [])]
  if (!log.lacks('admin role assignments') && !log.lacks('roles of')) bundle.roles = roles
  const small = parseExportData('okta', bundle, target.id)
  ctx.log.debug(`${target.id}: ${client.stats.requests} requests, ${log.pages} pages, ${client.stats.throttled} throttled`)
  const incomplete = log.incomplete(target.id)
  return { ...small, users, notJudged: [...small.notJudged, ...notJudged], ...(incomplete ? { incomplete } : {}) }
}
