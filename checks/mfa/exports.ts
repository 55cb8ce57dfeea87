/**
 * @fileoverview Identity-provider exports, in the shapes the vendors' APIs return, → one normalised model.
 *
 * Accepted files (a `idp:PROVIDER:PATH` target each; field names are the vendors'):
 * - okta:   `{ users: [GET /api/v1/users items], factors: { <userId>: [GET /api/v1/users/{id}/factors items] },
 *            roles?: { <userId>: [GET /api/v1/users/{id}/roles items] } }`, or users carrying `_embedded.factors`
 *            (and `_embedded.roles`). Every evaluated user needs a factor list (`[]` when none).
 * - entra:  a Graph response of `reports/authenticationMethods/userRegistrationDetails` (`{ value: [...] }`), of
 *            `identity/conditionalAccess/policies` (`{ value: [...] }`), or both in one file:
 *            `{ userRegistrationDetails: {value}|[...], conditionalAccessPolicies: {value}|[...], authenticationMethodsPolicy? }`,
 *            or `policies/authenticationMethodsPolicy` alone (policy-entra.ts judges the policies); a bundle may add
 *            `groups: { <groupId>: GET /groups/{id}/transitiveMembers }` and `directoryRoles` with their `members`
 *            (entra-membership.ts: who a policy's groups and roles hold).
 * - google: a Directory API `users.list` response (`{ kind: 'admin#directory#users', users: [...] }`) or its `users` array.
 * - aws:    the IAM credential report CSV (`aws iam get-credential-report --query Content --output text | base64 -d`),
 *            or the CLI's JSON `{ Content: <base64>, ReportFormat: 'text/csv', ... }`.
 * - github: `{ org?: GET /orgs/{org}, members?: GET /orgs/{org}/members, admins?: …?role=admin, membersWith2faDisabled: [...] }`
 *            (a bare member array is refused: unfiltered and `?filter=2fa_disabled` lists look alike).
 *
 * Tolerance: Entra files may be PowerShell Graph SDK output (PascalCase keys); a record missing an optional field is judged
 * on what it has or left out with a sentence in `notJudged`, never the whole file; a Graph page with `@odata.nextLink` sets
 * `incomplete`.
 */
import { AttemptFailure } from '../../src/errors.ts'
import { entraMethod, NOT_A_SECOND_FACTOR, oktaFactor, type Factor } from './factors.ts'
import { entraEnforcement, readCaPolicy, type CaPolicy } from './policy-entra.ts'
import { readMembership, type Membership } from './entra-membership.ts'
import { readOktaPolicy, type OktaPolicy } from './policy-okta.ts'

/** Identity providers whose exports ztscan reads. */
export const PROVIDERS = ['okta', 'entra', 'google', 'aws', 'github'] as const
/** One of `PROVIDERS`. */
export type Provider = (typeof PROVIDERS)[number]

/** One account that can sign in, as far as the export tells. */
export interface IdpUser {
  /** Login shown in findings (Okta `profile.login`, Entra `userPrincipalName`, Google `primaryEmail`, AWS `user`, GitHub `login`). */
  readonly login: string
  /** The vendor's immutable id. */
  readonly id: string
  readonly admin: boolean
  /** True when the user has at least one usable second factor. */
  readonly mfa: boolean
  /** Canonical factors, when the export lists them (Okta, Entra). */
  readonly factors?: readonly Factor[]
  /** The vendor's own factor names, for evidence. */
  readonly vendorFactors?: readonly string[]
  /** Google: whether 2SV is enforced for the user (`isEnforcedIn2Sv`). */
  readonly enforced?: boolean
  /** Entra: `userType` is `guest` (true) or `member` (false), when the record says. */
  readonly guest?: boolean
}

/** Whether a tenant/organisation-wide setting enforces MFA. */
export interface Enforcement {
  readonly resource: string
  readonly enforced: boolean
  readonly evidence: Readonly<Record<string, unknown>>
}

/** The AWS root account row of a credential report. */
export interface AwsRoot {
  readonly arn: string
  readonly mfaActive: boolean
  /** Active root access keys: `access_key_1`, `access_key_2`. */
  readonly activeAccessKeys: readonly string[]
  /** Where the facts come from when not the credential report (`GetAccountSummary: …`). */
  readonly source?: string
}

/** Rules of `mfa-idp-export` a record can leave unjudged. */
export type IdpRule = 'mfa-user-without-mfa' | 'mfa-admin-without-mfa' | 'mfa-not-enforced' | 'mfa-aws-root-without-mfa' | 'mfa-aws-root-access-keys'

/** A record (or part of a file) left unjudged for `rule`, and why. */
export interface NotJudged {
  readonly rule: IdpRule
  readonly why: string
}

/** A parsed export. */
export interface IdpModel {
  readonly provider: Provider
  readonly users: readonly IdpUser[]
  readonly enforcement: readonly Enforcement[]
  readonly awsRoot?: AwsRoot
  /** What was not judged, by rule, one sentence each naming the record and the missing field (`Google user a@b (/users/0): no isEnrolledIn2Sv`). */
  readonly notJudged: readonly NotJudged[]
  /** Set when the file holds only part of what was asked (a Graph page with `@odata.nextLink`): names what is missing. */
  readonly incomplete?: string
  /** Entra: the Conditional Access policies and the authentication methods policy, for the policy rules (policy-entra.ts). */
  readonly entra?: { readonly policies: readonly CaPolicy[]; readonly methodsPolicy?: Readonly<Record<string, unknown>>; readonly membership?: Membership }
  /** Okta: the authentication (app sign-in) policies with their rules and app mappings (policy-okta.ts). */
  readonly oktaPolicies?: readonly OktaPolicy[]
  /** AWS: the `get-account-authorization-details` response (policy-aws.ts). */
  readonly awsAuthorization?: Readonly<Record<string, unknown>>
}

/** A JSON object. */
export type Json = Record<string, unknown>

function bad(file: string, pointer: string, expected: string, actual?: unknown): AttemptFailure {
  let got = ''
  if (actual !== undefined) {
    const s = JSON.stringify(actual) ?? String(actual)
    got = ` (got ${s.length > 60 ? `${s.slice(0, 57)}...` : s})`
  }
  return new AttemptFailure('input', `${file}: ${pointer || '/'}: expected ${expected}${got}`)
}

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Nesting beyond which an export is refused (Graph objects nest 5 deep; PowerShell's ConvertTo-Json defaults to 2). */
const MAX_DEPTH = 64
const UPPER = /^[A-Z]/

/**
 * PowerShell Graph SDK output (`Get-Mg… | ConvertTo-Json`: `State`, `Conditions.Users.IncludeUsers`) → Graph's own
 * lower-camel keys, first letter only. Own keys only (Object.entries), into null-prototype objects so a `__proto__` key
 * stays data; a key already present in lower-camel wins over its PascalCase twin. Subtrees without a PascalCase key are
 * returned as they are (no copy of a camelCase export). Iterative depth bound: deeper input is an input error.
 */
export function lowerCamelKeys(v: unknown, file: string, depth = 0): unknown {
  if (typeof v !== 'object' || v === null) return v
  if (depth > MAX_DEPTH) throw bad(file, '', `at most ${MAX_DEPTH} levels of nesting`)
  if (Array.isArray(v)) {
    let out: unknown[] | undefined
    for (let i = 0; i < v.length; i++) {
      const x = lowerCamelKeys(v[i], file, depth + 1)
      if (x !== v[i]) (out ??= v.slice())[i] = x
    }
    return out ?? v
  }
  const entries = Object.entries(v as Json)
  let changed = false
  const conv = entries.map(([k, x]) => {
    const y = lowerCamelKeys(x, file, depth + 1)
    const nk = UPPER.test(k) ? k[0]!.toLowerCase() + k.slice(1) : k
    if (y !== x || nk !== k) changed = true
    return [k, nk, y] as const
  })
  if (!changed) return v
  const out = Object.create(null) as Json
  const own = new Map<string, unknown>()
  // Lower-camel originals first, so they win over a PascalCase twin.
  for (const [k, nk, y] of conv) if (k === nk) own.set(nk, y)
  for (const [k, nk, y] of conv) if (k !== nk && !own.has(nk)) own.set(nk, y)
  for (const [k, y] of own) out[k] = y
  return out
}

/** A record's name for skip sentences: login when it has one, else its pointer. */
function recordName(what: string, login: unknown, ptr: string): string {
  return typeof login === 'string' && login ? `${what} ${login} (${ptr})` : `${what} at ${ptr}`
}

function str(file: string, o: Json, key: string, ptr: string): string {
  const v = o[key]
  if (typeof v !== 'string' || !v) throw bad(file, `${ptr}/${key}`, 'a non-empty string', v)
  return v
}

function bool(file: string, o: Json, key: string, ptr: string, dflt?: boolean): boolean {
  const v = o[key]
  if (v === undefined && dflt !== undefined) return dflt
  if (typeof v !== 'boolean') throw bad(file, `${ptr}/${key}`, 'true or false', v)
  return v
}

function arr(file: string, v: unknown, ptr: string): unknown[] {
  if (!Array.isArray(v)) throw bad(file, ptr, 'an array', v)
  return v
}

function parseJson(file: string, buf: Buffer): unknown {
  try {
    return JSON.parse(buf.toString('utf8').replace(/^\uFEFF/, ''))
  } catch (err) {
    throw bad(file, '', `valid JSON (${(err as Error).message})`)
  }
}

/** Parses an export of `provider`; `file` names it in errors. Throws `AttemptFailure('input')` naming the field. */
export function parseExport(provider: string, buf: Buffer, file: string): IdpModel {
  return provider === 'aws' ? parseAws(buf, file) : parseExportData(provider, PROVIDERS.includes(provider as Provider) ? parseJson(file, buf) : undefined, file)
}

/**
 * Parses already-parsed JSON of `provider` (a live connector's pull assembled into the export's shape: the same reader
 * judges files and pulls). AWS reports are CSV: use `parseExport`.
 */
export function parseExportData(provider: string, data: unknown, file: string): IdpModel {
  switch (provider) {
    case 'okta': return parseOkta(data, file)
    case 'entra': return parseEntra(data, file)
    case 'google': return parseGoogle(data, file)
    case 'github': return parseGithub(data, file)
    default: throw new AttemptFailure('input', `${file}: unknown identity provider "${provider}" (expected one of ${PROVIDERS.join(', ')})`)
  }
}

// ---------------------------------------------------------------------------------------------------------------- Okta

/** Okta user statuses that can sign in (`STAGED`, `PROVISIONED`, `SUSPENDED`, `DEPROVISIONED` cannot). */
const OKTA_LIVE = new Set(['ACTIVE', 'PASSWORD_EXPIRED', 'LOCKED_OUT', 'RECOVERY'])

function parseOkta(data: unknown, file: string): IdpModel {
  const root = Array.isArray(data) ? { users: data } : data
  if (!isObj(root)) throw bad(file, '', 'an object { users, factors, roles? } or an array of users')
  const oktaPolicies = root.authenticationPolicies === undefined ? undefined : oktaPolicyList(file, root.authenticationPolicies)
  const users = oktaPolicies && root.users === undefined ? [] : arr(file, root.users, '/users')
  const factorMap: unknown = root.factors === undefined ? undefined : root.factors
  if (factorMap !== undefined && !isObj(factorMap)) throw bad(file, '/factors', 'an object keyed by user id', factorMap)
  const roleMap: unknown = root.roles === undefined ? undefined : root.roles
  if (roleMap !== undefined && !isObj(roleMap)) throw bad(file, '/roles', 'an object keyed by user id', roleMap)
  const out: IdpUser[] = []
  const notJudged: NotJudged[] = []
  users.forEach((u, i) => {
    const r = oktaUser(u, file, Array.isArray(data) ? `/${i}` : `/users/${i}`, factorMap, roleMap)
    if (r && 'rule' in r) notJudged.push(r)
    else if (r) out.push(r)
  })
  return { provider: 'okta', users: out, enforcement: [], notJudged, ...(oktaPolicies ? { oktaPolicies } : {}) }
}

/** `authenticationPolicies: [ GET /api/v1/policies?type=ACCESS_POLICY items, each with rules: GET …/{id}/rules, apps?: GET …/{id}/app ]`. */
export function oktaPolicyList(file: string, v: unknown): OktaPolicy[] {
  return arr(file, v, '/authenticationPolicies').map((p, i) => {
    const ptr = `/authenticationPolicies/${i}`
    if (!isObj(p)) throw bad(file, ptr, 'a policy object (GET /api/v1/policies?type=ACCESS_POLICY)', p)
    if (!Array.isArray(p.rules)) throw bad(file, `${ptr}/rules`, 'an array (GET /api/v1/policies/{id}/rules)', p.rules)
    const rules = p.rules.map((r, j) => {
      if (!isObj(r)) throw bad(file, `${ptr}/rules/${j}`, 'a policy rule object', r)
      return r
    })
    const apps = p.apps === undefined ? [] : arr(file, p.apps, `${ptr}/apps`).filter(isObj)
    return readOktaPolicy(p, rules, apps, i)
  })
}

/** A user's factor list reduced to what is judged: its active factors, or why it is no factor list (thrown when a user needs it). */
export type OktaFactors = readonly { readonly type: string; readonly provider?: string }[] | AttemptFailure
/** A user's role list reduced to whether it makes an administrator, or why it is no role list. */
export type OktaRoles = boolean | AttemptFailure

/** Where a user's factors and roles are found by user id (the export's maps), when not in its `_embedded`. */
export interface OktaLookup {
  factors(id: string): OktaFactors | undefined
  roles(id: string): OktaRoles | undefined
}

const failure = <T>(f: () => T): T | AttemptFailure => {
  try {
    return f()
  } catch (err) {
    if (err instanceof AttemptFailure) return err
    throw err
  }
}

/** A factor list (GET /api/v1/users/{id}/factors) at `fptr` → its active factors. */
export function oktaFactors(v: unknown, file: string, fptr: string): OktaFactors {
  return failure(() => {
    const active: { type: string; provider?: string }[] = []
    arr(file, v, fptr).forEach((f, j) => {
      if (!isObj(f)) throw bad(file, `${fptr}/${j}`, 'a factor object', f)
      const type = str(file, f, 'factorType', `${fptr}/${j}`)
      if (f.status === 'ACTIVE') active.push({ type, provider: typeof f.provider === 'string' ? f.provider : undefined })
    })
    return active
  })
}

/** A role list (GET /api/v1/users/{id}/roles) at `ptr` → whether it holds an active role. */
export function oktaRoles(v: unknown, file: string, ptr: string): OktaRoles {
  return failure(() => arr(file, v, ptr).some((r) => isObj(r) && (r.status === undefined || r.status === 'ACTIVE')))
}

/**
 * One Okta user (GET /api/v1/users item) with its factors and roles, from `factorMap`/`roleMap` (keyed by user id) or
 * its `_embedded` lists → a user, a sentence saying why it was not judged, or undefined for a user who cannot sign in.
 * Shared by the export reader and the live Okta connector.
 */
export function oktaUser(u: unknown, file: string, ptr: string, factorMap?: Json, roleMap?: Json): IdpUser | NotJudged | undefined {
  // Own keys only: a user id such as `toString` or `__proto__` must not find Object.prototype's members.
  return oktaUserWith(u, file, ptr, {
    factors: (id) => (factorMap && Object.hasOwn(factorMap, id) ? oktaFactors(factorMap[id], file, `/factors/${id}`) : undefined),
    roles: (id) => (roleMap !== undefined && Object.hasOwn(roleMap, id) ? oktaRoles(roleMap[id], file, `/roles/${id}`) : undefined),
  })
}

/** `oktaUser` with the factor and role lists looked up through `maps` (the streamed reader keeps them reduced). */
export function oktaUserWith(u: unknown, file: string, ptr: string, maps: OktaLookup): IdpUser | NotJudged | undefined {
  if (!isObj(u)) throw bad(file, ptr, 'a user object', u)
  const id = str(file, u, 'id', ptr)
  const status = str(file, u, 'status', ptr)
  if (!isObj(u.profile)) throw bad(file, `${ptr}/profile`, 'an object', u.profile)
  const login = str(file, u.profile, 'login', `${ptr}/profile`)
  if (!OKTA_LIVE.has(status)) return undefined
  const embedded = isObj(u._embedded) ? u._embedded : {}
  let active = maps.factors(id)
  if (active === undefined) {
    if (embedded.factors === undefined) return { rule: 'mfa-user-without-mfa', why: `${recordName('Okta user', login, ptr)}: no factor list (neither /factors/${id} nor _embedded.factors)` }
    active = oktaFactors(embedded.factors, file, `${ptr}/_embedded/factors`)
  }
  if (active instanceof AttemptFailure) throw active
  const canon = active.map((f) => oktaFactor(f.type, f.provider))
  const admin = maps.roles(id) ?? (embedded.roles === undefined ? false : oktaRoles(embedded.roles, file, `${ptr}/_embedded/roles`))
  if (admin instanceof AttemptFailure) throw admin
  return { login, id, admin, mfa: canon.some((f) => !NOT_A_SECOND_FACTOR.has(f)), factors: canon, vendorFactors: active.map((f) => f.type) }
}

// --------------------------------------------------------------------------------------------------------------- Entra

function valueList(file: string, v: unknown, ptr: string): unknown[] {
  if (Array.isArray(v)) return v
  if (isObj(v)) return arr(file, v.value, `${ptr}/value`)
  throw bad(file, ptr, 'a Graph response { value: [...] } or an array', v)
}

/** `@odata.nextLink` of a Graph page, shortened for a message (a skip token is no secret, but can be long). */
export function nextLink(o: Json, ptr: string): string | undefined {
  const v = o['@odata.nextLink']
  if (v === undefined) return undefined
  const s = typeof v === 'string' ? v : JSON.stringify(v) ?? ''
  return `${ptr}/@odata.nextLink (${s.length > 120 ? `${s.slice(0, 117)}...` : s})`
}

function parseEntra(raw: unknown, file: string): IdpModel {
  // PowerShell Graph SDK output (PascalCase) reads as Graph JSON; `ConvertTo-Json` of a list is a bare array.
  const norm = lowerCamelKeys(raw, file)
  const data: unknown = Array.isArray(norm) ? { value: norm } : norm
  if (!isObj(data)) throw bad(file, '', 'a Graph response object')
  let regs: unknown[] | undefined
  let policies: unknown[] | undefined
  const base = Array.isArray(norm) ? '' : '/value'
  let regPtr = base
  let polPtr = base
  const pagesLeft: string[] = []
  let methodsPolicy: Json | undefined
  if (data.authenticationMethodsPolicy !== undefined) {
    if (!isObj(data.authenticationMethodsPolicy)) throw bad(file, '/authenticationMethodsPolicy', 'the object of GET /policies/authenticationMethodsPolicy', data.authenticationMethodsPolicy)
    methodsPolicy = data.authenticationMethodsPolicy
  } else if (Array.isArray(data.authenticationMethodConfigurations)) methodsPolicy = data
  if (methodsPolicy && methodsPolicy.authenticationMethodConfigurations !== undefined) arr(file, methodsPolicy.authenticationMethodConfigurations, `${methodsPolicy === data ? '' : '/authenticationMethodsPolicy'}/authenticationMethodConfigurations`)
  if (methodsPolicy === data) {
    // A file of GET /policies/authenticationMethodsPolicy alone.
  } else if ('userRegistrationDetails' in data || 'conditionalAccessPolicies' in data || 'authenticationMethodsPolicy' in data) {
    if (data.userRegistrationDetails !== undefined) {
      regs = valueList(file, data.userRegistrationDetails, '/userRegistrationDetails')
      regPtr = Array.isArray(data.userRegistrationDetails) ? '/userRegistrationDetails' : '/userRegistrationDetails/value'
      const more = isObj(data.userRegistrationDetails) ? nextLink(data.userRegistrationDetails, '/userRegistrationDetails') : undefined
      if (more) pagesLeft.push(`userRegistrationDetails: the pages after ${more}`)
    }
    if (data.conditionalAccessPolicies !== undefined) {
      policies = valueList(file, data.conditionalAccessPolicies, '/conditionalAccessPolicies')
      polPtr = Array.isArray(data.conditionalAccessPolicies) ? '/conditionalAccessPolicies' : '/conditionalAccessPolicies/value'
      const more = isObj(data.conditionalAccessPolicies) ? nextLink(data.conditionalAccessPolicies, '/conditionalAccessPolicies') : undefined
      if (more) pagesLeft.push(`conditionalAccessPolicies: the pages after ${more}`)
    }
  } else {
    const list = arr(file, data.value, '/value')
    const ctx = typeof data['@odata.context'] === 'string' ? data['@odata.context'] : ''
    const first = list.find(isObj)
    if (/conditionalAccess/i.test(ctx) || (first && ('grantControls' in first || 'conditions' in first))) policies = list
    else regs = list
    const more = nextLink(data, '')
    if (more) pagesLeft.push(`the pages after ${more}`)
  }
  const users: IdpUser[] = []
  regs?.forEach((u, i) => {
    users.push(entraRegistration(u, file, `${regPtr}/${i}`))
  })
  const enforcement: Enforcement[] = []
  const ca = policies?.map((p, i) => {
    if (!isObj(p)) throw bad(file, `${polPtr}/${i}`, 'a conditionalAccessPolicy object', p)
    str(file, p, 'state', `${polPtr}/${i}`)
    return readCaPolicy(p, i)
  })
  if (ca) enforcement.push(entraEnforcement(ca))
  const membership = readMembership(data, (ptr, expected, got) => bad(file, ptr, expected, got))
  for (const ptr of membership.partial) pagesLeft.push(`${ptr.replace(/\/@odata\.nextLink$/, '')}: the pages after ${ptr}`)
  const incomplete = pagesLeft.length
    ? `${file}: a Graph page with more to come: only its ${users.length} users and ${policies?.length ?? 0} policies were judged; missing ${pagesLeft.join('; ')} (export every page: follow @odata.nextLink, or Get-Mg… -All)`
    : undefined
  return { provider: 'entra', users, enforcement, notJudged: [], ...(incomplete ? { incomplete } : {}), entra: { policies: ca ?? [], ...(methodsPolicy ? { methodsPolicy } : {}), membership } }
}

/**
 * One `userRegistrationDetails` record (camelCase, or PascalCase through `lowerCamelKeys`) → a user; `ptr` locates it in
 * errors. Shared by the export reader and the live Graph connector (which streams records page by page).
 */
export function entraRegistration(u: unknown, file: string, ptr: string): IdpUser {
  if (!isObj(u)) throw bad(file, ptr, 'a userRegistrationDetails object', u)
  const login = str(file, u, 'userPrincipalName', ptr)
  const methods = u.methodsRegistered === undefined ? [] : arr(file, u.methodsRegistered, `${ptr}/methodsRegistered`)
  methods.forEach((m, j) => {
    if (typeof m !== 'string') throw bad(file, `${ptr}/methodsRegistered/${j}`, 'a string', m)
  })
  const canon = (methods as string[]).map(entraMethod)
  const mfa = typeof u.isMfaRegistered === 'boolean' ? u.isMfaRegistered : canon.some((f) => !NOT_A_SECOND_FACTOR.has(f))
  const type = typeof u.userType === 'string' ? u.userType.toLowerCase() : undefined
  return { login, id: typeof u.id === 'string' ? u.id : login, admin: bool(file, u, 'isAdmin', ptr, false), mfa, factors: canon, vendorFactors: methods as string[], ...(type === 'guest' || type === 'member' ? { guest: type === 'guest' } : {}) }
}

// -------------------------------------------------------------------------------------------------------------- Google

function parseGoogle(data: unknown, file: string): IdpModel {
  const list = Array.isArray(data) ? data : isObj(data) ? arr(file, data.users ?? [], '/users') : undefined
  if (!list) throw bad(file, '', 'a Directory API users.list response { users: [...] }')
  const base = Array.isArray(data) ? '' : '/users'
  const users: IdpUser[] = []
  const notJudged: NotJudged[] = []
  list.forEach((u, i) => {
    const r = googleUser(u, file, `${base}/${i}`, (n) => notJudged.push(n))
    if (r) users.push(r)
  })
  return { provider: 'google', users, enforcement: [], notJudged }
}

/**
 * One Directory API user (`ptr` locates it in errors) → a user, or undefined when suspended, archived or not judged; what
 * is not judged goes to `notJudged`, one sentence each. Shared by the whole-file and the streamed reader.
 */
export function googleUser(u: unknown, file: string, ptr: string, notJudged: (n: NotJudged) => void): IdpUser | undefined {
  if (!isObj(u)) throw bad(file, ptr, 'a user object', u)
  const login = str(file, u, 'primaryEmail', ptr)
  if (bool(file, u, 'suspended', ptr, false) || bool(file, u, 'archived', ptr, false)) return undefined
  // The 2SV fields come only with projection=full and an admin scope: a user without them is skipped, not guessed.
  if (u.isEnrolledIn2Sv === undefined) {
    const admin = u.isAdmin === true || u.isDelegatedAdmin === true
    notJudged({ rule: admin ? 'mfa-admin-without-mfa' : 'mfa-user-without-mfa', why: `${recordName('Google user', login, ptr)}: no isEnrolledIn2Sv` })
    return undefined
  }
  const enforced = u.isEnforcedIn2Sv === undefined ? undefined : bool(file, u, 'isEnforcedIn2Sv', ptr)
  if (enforced === undefined) notJudged({ rule: 'mfa-not-enforced', why: `${recordName('Google user', login, ptr)}: no isEnforcedIn2Sv (enrolment judged, enforcement not)` })
  return {
    login,
    id: typeof u.id === 'string' ? u.id : login,
    admin: bool(file, u, 'isAdmin', ptr, false) || bool(file, u, 'isDelegatedAdmin', ptr, false),
    mfa: bool(file, u, 'isEnrolledIn2Sv', ptr),
    ...(enforced === undefined ? {} : { enforced }),
  }
}

// ----------------------------------------------------------------------------------------------------------------- AWS

const [QUOTE, COMMA, LF, CR] = [0x22, 0x2c, 0x0a, 0x0d]
/** Where an unquoted run ends (one character class: linear). */
const FIELD_END = /[,\r\n]/g

/** Bounds of a credential report (AWS caps IAM users at 5,000 per account; the report has 22 columns). */
export const CSV_LIMITS = { maxRows: 100_000, maxColumns: 256 } as const

/** Bounds of a CSV read: rows, columns and, when set, characters per row (a streamed reader holds one row). */
export interface CsvLimits {
  readonly maxRows: number
  readonly maxColumns: number
  readonly maxRowChars?: number
}

/**
 * RFC 4180 CSV (quoted fields, doubled quotes, CRLF or LF) read from text in pieces: `push` each piece, then `end`; `onRow`
 * gets each row as it completes, and only the row being read is held. A piece may end anywhere (inside a quoted field, between
 * CR and LF, on a quote that may be doubled): the state carries over, so the rows are those of the whole text. Blank lines
 * are skipped as they are read, and rows, columns and (when set) a row's characters are bounded (`RangeError` beyond them),
 * so 256 MiB of newlines or commas cannot become millions of arrays.
 */
export class CsvReader {
  /** Rows handed over so far. */
  rows = 0
  readonly #onRow: (row: string[]) => void
  readonly #limits: CsvLimits
  #row: string[] = []
  #field = ''
  /** Inside a quoted section. */
  #quoted = false
  /** The last piece ended on a quote inside a quoted section: closing, or the first of a doubled one. */
  #quoteEnd = false
  /** The last piece ended on a CR that ended a row: a LF starting the next piece belongs to it. */
  #cr = false
  /** Characters of the current row in earlier pieces. */
  #rowChars = 0

  constructor(onRow: (row: string[]) => void, limits: CsvLimits = CSV_LIMITS) {
    this.#onRow = onRow
    this.#limits = limits
  }

  push(text: string): void {
    const n = text.length
    let i = 0
    if (this.#cr && n) {
      this.#cr = false
      if (text.charCodeAt(0) === LF) i = 1
    }
    if (this.#quoteEnd && n) {
      this.#quoteEnd = false
      if (text.charCodeAt(0) === QUOTE) {
        this.#field += '"'
        i = 1
      } else this.#quoted = false
    }
    let rowFrom = i
    // Runs of ordinary characters are sliced, never appended one by one (a 64 MB field built a character at a time took
    // 20 s and 2 GB of cons strings).
    while (i < n) {
      if (this.#quoted) {
        // A quoted section: up to the closing quote; "" inside is one quote.
        const q = text.indexOf('"', i)
        if (q < 0 || q === n - 1) {
          this.#field += text.slice(i, q < 0 ? n : q)
          this.#quoteEnd = q === n - 1
          i = n
        } else if (text.charCodeAt(q + 1) === QUOTE) {
          this.#field += text.slice(i, q + 1)
          i = q + 2
        } else {
          this.#field += text.slice(i, q)
          this.#quoted = false
          i = q + 1
        }
        continue
      }
      const c = text.charCodeAt(i)
      if (c === QUOTE && this.#field === '') {
        this.#quoted = true
        i++
      } else if (c === COMMA) {
        this.#endField()
        i++
      } else if (c === LF || c === CR) {
        const end = i
        if (c === CR && i === n - 1) this.#cr = true
        i += c === CR && text.charCodeAt(i + 1) === LF ? 2 : 1
        // A blank line is skipped without allocating a row.
        if (this.#field !== '' || this.#row.length) {
          this.#endField()
          this.#endRow(end - rowFrom)
        }
        this.#rowChars = 0
        rowFrom = i
      } else {
        FIELD_END.lastIndex = i + 1
        const j = FIELD_END.exec(text)?.index ?? n
        this.#field += text.slice(i, j)
        i = j
      }
    }
    this.#rowChars += n - rowFrom
    const max = this.#limits.maxRowChars
    if (max !== undefined && this.#rowChars > max) throw new RangeError(`line ${this.rows + 1}: longer than ${max} characters`)
  }

  /** The text ended: the last row (without a line break) is handed over. */
  end(): void {
    // A quoted section still open ends with the text (its closing quote, if the last piece ended on one, included).
    this.#quoted = this.#quoteEnd = this.#cr = false
    if (this.#field !== '' || this.#row.length) {
      this.#endField()
      this.#endRow(0)
    }
  }

  #endField(): void {
    const max = this.#limits.maxColumns
    if (this.#row.length >= max) throw new RangeError(`line ${this.rows + 1}: more than ${max} columns`)
    this.#row.push(this.#field)
    this.#field = ''
  }

  #endRow(chars: number): void {
    const row = this.#row
    this.#row = []
    if (row.length > 1 || row[0] !== '') {
      const { maxRows, maxRowChars } = this.#limits
      if (this.rows >= maxRows) throw new RangeError(`more than ${maxRows} rows`)
      if (maxRowChars !== undefined && this.#rowChars + chars > maxRowChars) throw new RangeError(`line ${this.rows + 1}: longer than ${maxRowChars} characters`)
      this.rows++
      this.#onRow(row)
    }
  }
}

/** The rows of a whole CSV text (see `CsvReader`). */
export function parseCsv(text: string, limits: CsvLimits = CSV_LIMITS): string[][] {
  const rows: string[][] = []
  const r = new CsvReader((row) => rows.push(row), limits)
  r.push(text)
  r.end()
  return rows
}

const AWS_REQUIRED = ['user', 'arn', 'password_enabled', 'mfa_active', 'access_key_1_active', 'access_key_2_active'] as const

const AWS_BUNDLE = '{ credentialReport?, accountSummary?, authorizationDetails? } (get-credential-report, get-account-summary, get-account-authorization-details)'

function parseAws(buf: Buffer, file: string): IdpModel {
  let text: string | undefined = buf.toString('utf8').replace(/^\uFEFF/, '')
  let authorization: Json | undefined
  let summary: Json | undefined
  if (text.trimStart().startsWith('{')) {
    const j = parseJson(file, buf)
    if (!isObj(j)) throw bad(file, '', AWS_BUNDLE)
    let report: unknown = j.Content === undefined ? undefined : j
    if (Array.isArray(j.UserDetailList)) authorization = j
    else if (isObj(j.SummaryMap)) summary = j
    else if (j.Content === undefined) {
      if (j.credentialReport === undefined && j.accountSummary === undefined && j.authorizationDetails === undefined) throw bad(file, '/Content', 'the base64 report of `aws iam get-credential-report`, or a bundle ' + AWS_BUNDLE)
      report = j.credentialReport
      if (j.accountSummary !== undefined) {
        if (!isObj(j.accountSummary) || !isObj(j.accountSummary.SummaryMap)) throw bad(file, '/accountSummary/SummaryMap', 'the SummaryMap of `aws iam get-account-summary`')
        summary = j.accountSummary
      }
      if (j.authorizationDetails !== undefined) {
        if (!isObj(j.authorizationDetails) || !Array.isArray(j.authorizationDetails.UserDetailList)) throw bad(file, '/authorizationDetails/UserDetailList', 'the users of `aws iam get-account-authorization-details`')
        authorization = j.authorizationDetails
      }
    }
    if (report === undefined) text = undefined
    else if (typeof report === 'string') text = report
    else if (isObj(report) && typeof report.Content === 'string') text = Buffer.from(report.Content, 'base64').toString('utf8')
    else throw bad(file, j.Content === undefined ? '/credentialReport/Content' : '/Content', 'the base64 report of `aws iam get-credential-report`', isObj(report) ? report.Content : report)
  }
  const extra = { ...(authorization ? { awsAuthorization: authorization } : {}) }
  if (text === undefined) {
    const root = summary ? rootFromSummary(summary) : undefined
    const notJudged: NotJudged[] = root ? [] : (['mfa-aws-root-without-mfa', 'mfa-aws-root-access-keys'] as const).map((rule) => ({ rule, why: 'no credential report or account summary: the root account was not checked' }))
    return { provider: 'aws', users: [], enforcement: [], notJudged, ...(root ? { awsRoot: root } : {}), ...extra }
  }
  const model = parseCredentialReport(text, file)
  if (model.awsRoot || !summary) return { ...model, ...extra }
  // No <root_account> row: the account summary still says whether root has MFA and access keys.
  return { ...model, awsRoot: rootFromSummary(summary), notJudged: model.notJudged.filter((n) => !n.rule.startsWith('mfa-aws-root')), ...extra }
}

/** Root MFA and keys from `GetAccountSummary` (`AccountMFAEnabled`, `AccountAccessKeysPresent`: 0 or 1). */
function rootFromSummary(s: Json): AwsRoot {
  const m = s.SummaryMap as Json
  const mfa = m.AccountMFAEnabled === 1
  const keys = typeof m.AccountAccessKeysPresent === 'number' && m.AccountAccessKeysPresent > 0
  return { arn: '<root_account>', mfaActive: mfa, activeAccessKeys: keys ? ['AccountAccessKeysPresent'] : [], source: `GetAccountSummary: AccountMFAEnabled ${String(m.AccountMFAEnabled)}` }
}

function parseCredentialReport(text: string, file: string): IdpModel {
  let rows: string[][]
  try {
    rows = parseCsv(text)
  } catch (err) {
    if (!(err instanceof RangeError)) throw err
    throw new AttemptFailure('input', `${file}: not a credential report (${err.message})`)
  }
  const report = new CredentialReportRows(file)
  const users: IdpUser[] = []
  for (const r of rows) {
    const u = report.add(r)
    if (u) users.push(u)
  }
  const notJudged = report.finish()
  return { provider: 'aws', users, enforcement: [], notJudged, ...(report.awsRoot ? { awsRoot: report.awsRoot } : {}) }
}

/** The header row → column index by name. @throws AttemptFailure('input') naming what is missing. */
function credentialHeader(header: readonly string[], file: string): Map<string, number> {
  if (header.some((h) => h.includes('<root_account>')))
    throw new AttemptFailure('input', `${file}: line 1: the header runs into the <root_account> row (a line break is missing after the header)`)
  const col = new Map<string, number>()
  header.forEach((h, i) => {
    col.set(h.trim(), i)
  })
  for (const k of AWS_REQUIRED) if (col.get(k) === undefined) throw new AttemptFailure('input', `${file}: line 1: expected a column "${k}" (credential report header)`)
  return col
}

/** Names listed in a sentence before "and N more". */
export const LISTED = 5

/**
 * A credential report read row by row (`add` each CSV row, the header first; then `finish`): the same judgement and errors
 * as the whole report, holding only the root row, the count of users without a console password and the first names.
 */
export class CredentialReportRows {
  readonly #file: string
  #col: Map<string, number> | undefined
  #line = 1
  readonly #noConsole: string[] = []
  #noConsoleCount = 0
  awsRoot: AwsRoot | undefined
  constructor(file: string) {
    this.#file = file
  }

  /** One CSV row → the user it judges; undefined for the header, the root row, a user without a console password. */
  add(r: readonly string[]): IdpUser | undefined {
    const file = this.#file
    const col = this.#col
    if (!col) {
      this.#col = credentialHeader(r, file)
      return undefined
    }
    const line = ++this.#line
    const get = (k: string): string | undefined => r[col.get(k)!]
    const truthy = (name: string): boolean => {
      const v = get(name)
      const s = (v ?? '').trim().toLowerCase()
      if (s === 'true') return true
      if (s === 'false' || s === 'n/a' || s === 'not_supported' || s === '') return false
      throw new AttemptFailure('input', `${file}: line ${line}: column ${name}: expected true or false (got ${JSON.stringify(v)})`)
    }
    const user = get('user')?.trim()
    const arn = get('arn')?.trim() ?? ''
    if (!user) throw new AttemptFailure('input', `${file}: line ${line}: column user: expected a user name`)
    const mfa = truthy('mfa_active')
    const keys = (['access_key_1', 'access_key_2'] as const).filter((k) => truthy(`${k}_active`))
    if (user === '<root_account>') {
      this.awsRoot = { arn, mfaActive: mfa, activeAccessKeys: keys }
      return undefined
    }
    // Users without a console password cannot sign in interactively; IAM MFA guards console sign-in.
    if (!truthy('password_enabled')) {
      if (++this.#noConsoleCount <= LISTED + 1) this.#noConsole.push(user)
      return undefined
    }
    return { login: user, id: arn || user, admin: false, mfa }
  }

  /** What was not judged, once every row was added. @throws AttemptFailure('input') when there was no header. */
  finish(): NotJudged[] {
    if (!this.#col) throw bad(this.#file, 'line 1', 'the credential report header (user,arn,...)')
    const notJudged: NotJudged[] = []
    const n = this.#noConsoleCount
    if (n) notJudged.push({ rule: 'mfa-user-without-mfa', why: `${n} IAM user(s) without a console password, so no console MFA to judge (${listSome(this.#noConsole, LISTED, n)})` })
    if (!this.awsRoot) {
      for (const rule of ['mfa-aws-root-without-mfa', 'mfa-aws-root-access-keys'] as const)
        notJudged.push({ rule, why: 'no <root_account> row: the root account was not checked' })
    }
    return notJudged
  }
}

/** The first few of `names`, and how many more (`total`: how many there are, when `names` holds only the first). */
export function listSome(names: readonly string[], n = LISTED, total = names.length): string {
  return total > n ? `${names.slice(0, n).join(', ')} and ${total - n} more` : names.join(', ')
}

// -------------------------------------------------------------------------------------------------------------- GitHub

/** One member object (`ptr` locates it) → its login. */
export function githubLogin(file: string, x: unknown, ptr: string): string {
  if (!isObj(x)) throw bad(file, ptr, 'a member object', x)
  return str(file, x, 'login', ptr)
}

function ghLogins(file: string, v: unknown, ptr: string): Map<string, Json> {
  const m = new Map<string, Json>()
  arr(file, v, ptr).forEach((x, i) => {
    m.set(githubLogin(file, x, `${ptr}/${i}`), x as Json)
  })
  return m
}

/** The error of a bundle with neither the 2FA-disabled list nor the org. */
export const githubNoList = (file: string): AttemptFailure => bad(file, '/membersWith2faDisabled', 'the members array of GET /orgs/{org}/members?filter=2fa_disabled')

/** What is said when no member could be judged (`listed`: the first members and how many more, when the bundle lists some). */
export function githubNotJudged(listed: string | undefined, count: number): NotJudged {
  return { rule: 'mfa-user-without-mfa', why: `no member could be judged: /membersWith2faDisabled is missing (GET /orgs/{org}/members?filter=2fa_disabled)${count ? `; ${count} listed member(s) not judged (${listed})` : ''}` }
}

/** The org object of GET /orgs/{org} → whether it requires 2FA. */
export function githubOrg(file: string, org: unknown): Enforcement {
  if (!isObj(org)) throw bad(file, '/org', 'the object of GET /orgs/{org}', org)
  const login = str(file, org, 'login', '/org')
  const req = org.two_factor_requirement_enabled
  if (typeof req !== 'boolean') throw bad(file, '/org/two_factor_requirement_enabled', 'true or false (visible to organization owners)', req)
  return { resource: `org:${login}`, enforced: req, evidence: { setting: `two_factor_requirement_enabled: ${req}`, policies: req ? ['two_factor_requirement_enabled'] : [], policiesChecked: 1 } }
}

const GH_BUNDLE = '{ org: GET /orgs/{org}, membersWith2faDisabled: GET /orgs/{org}/members?filter=2fa_disabled, members?, admins? }'

function parseGithub(data: unknown, file: string): IdpModel {
  // A bare array of members is ambiguous: unfiltered GET /orgs/{org}/members has the same shape as ?filter=2fa_disabled,
  // and reading the one as the other flags every member.
  if (Array.isArray(data))
    throw new AttemptFailure('input', `${file}: a bare member array is ambiguous (GET /orgs/{org}/members and ?filter=2fa_disabled look alike): expected ${GH_BUNDLE}`)
  if (!isObj(data)) throw bad(file, '', GH_BUNDLE)
  const b = data
  const p = (k: string): string => `/${k}`
  if (b.membersWith2faDisabled === undefined && b.org === undefined) throw githubNoList(file)
  const disabled = b.membersWith2faDisabled === undefined ? new Map<string, Json>() : ghLogins(file, b.membersWith2faDisabled, p('membersWith2faDisabled'))
  const members = b.members === undefined ? undefined : ghLogins(file, b.members, '/members')
  const admins = b.admins === undefined ? new Set<string>() : new Set(ghLogins(file, b.admins, '/admins').keys())
  const all = new Map([...(members ?? []), ...disabled])
  const users: IdpUser[] = []
  const notJudged: NotJudged[] = []
  if (b.membersWith2faDisabled !== undefined)
    for (const [login, m] of all) users.push({ login, id: String(m.id ?? login), admin: admins.has(login), mfa: !disabled.has(login) })
  else
    notJudged.push(githubNotJudged(members?.size ? listSome([...members.keys()]) : undefined, members?.size ?? 0))
  const enforcement: Enforcement[] = b.org === undefined ? [] : [githubOrg(file, b.org)]
  return { provider: 'github', users, enforcement, notJudged }
}
