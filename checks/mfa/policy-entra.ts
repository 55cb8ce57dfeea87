/**
 * @fileoverview What Entra ID Conditional Access and the authentication methods policy actually enforce, judged from the
 * Graph shapes (`identity/conditionalAccess/policies`, `policies/authenticationMethodsPolicy`), each verdict mirroring a
 * CISA ScubaGear (`baselines/aad.md`) or CIS Microsoft 365 Foundations policy:
 *
 * - `mfa-not-enforced` (MS.AAD.3.2v1, CIS 5.2.2.2): an ENABLED policy requires MFA or an authentication strength of all
 *   users for all apps. Report-only and disabled policies do not count, nor do policies narrowed by a condition — user or
 *   sign-in risk (ScubaGear #1742's false pass), locations, platforms, client apps, a device filter, excluded apps — nor a
 *   grant that MFA is one of several OR'ed choices.
 * - `mfa-entra-exclusion-without-fallback` (MS.AAD.3.2v1, CIS 5.2.2.2): every user, group or role an enforcing policy excludes
 *   is included, and not excluded, by another enforcing policy — break-glass accounts excepted.
 * - `mfa-entra-break-glass` (CIS 1.1.2, Microsoft's emergency-access guidance): each break-glass account of the scan policy is
 *   excluded from every enabled MFA policy that would include it, and has a phishing-resistant method registered instead.
 * - `mfa-entra-admin-phishing-resistant` (MS.AAD.3.6v1, CIS 5.2.2.5): the highly privileged roles are all covered by an
 *   enabled policy requiring a phishing-resistant authentication strength.
 * - `mfa-entra-legacy-auth-allowed` (MS.AAD.1.1v1, CIS 5.2.2.3): an enabled policy blocks Exchange ActiveSync and other
 *   legacy clients for all users and apps.
 * - `mfa-entra-device-code-allowed` (MS.AAD.3.9v1): an enabled policy blocks the device code flow for all users and apps.
 * - `mfa-entra-weak-methods-enabled` (MS.AAD.3.5v1, MS.AAD.3.4v1, CIS 5.2.3.5): SMS, Voice call and Email OTP are disabled
 *   in the authentication methods policy, and its migration is complete (else the legacy MFA settings still apply).
 *
 * Pure functions of the parsed JSON (lower-camel keys: `lowerCamelKeys` has run). Groups and roles are resolved to their
 * users when the export or pull carries their members (entra-membership.ts): an exclusion is then judged user by user, and
 * a break-glass account excluded through a group counts as excluded. Members not known leave a named gap, never a pass.
 */
import { memberOf, nameOf, NO_MEMBERSHIP, usersOf, type Membership } from './entra-membership.ts'
import type { Enforcement, IdpUser } from './exports.ts'
import { ENTRA_POLICY_RULES } from './rules.ts'

type Json = Record<string, unknown>

/** Rules this module judges (besides `mfa-not-enforced`, which it feeds through {@link entraEnforcement}): the list is in rules.ts. */
export { ENTRA_POLICY_RULES }
export type EntraPolicyRule = (typeof ENTRA_POLICY_RULES)[number]

/** One verdict: the check reports it as it is (message = `Entra ID: ` + summary). */
export interface PolicyVerdict {
  readonly rule: EntraPolicyRule
  readonly status: 'pass' | 'fail'
  readonly resource: string
  /** The evidence sentence: names the policy and the gap (or what satisfies the rule). */
  readonly summary: string
  readonly evidence: Readonly<Record<string, unknown>>
}

/** What could not be judged for a rule, and why (the check turns it into a skip entry). */
export interface PolicyNotJudged {
  readonly rule: EntraPolicyRule
  readonly why: string
}

/** Built-in authentication strength "Phishing-resistant MFA". */
export const PHISHING_RESISTANT_STRENGTH = '00000000-0000-0000-0000-000000000004'
/** `authenticationMethodModes` that are phishing-resistant (the built-in strength's allowedCombinations). */
const PR_MODES = new Set(['windowsHelloForBusiness', 'fido2', 'x509CertificateMultiFactor'])

/** ScubaGear's highly privileged roles (role template ids), the default of `mfa-entra-admin-phishing-resistant`'s `privilegedRoles`. */
export const HIGHLY_PRIVILEGED_ROLES: Readonly<Record<string, string>> = {
  '62e90394-69f5-4237-9190-012177145e10': 'Global Administrator',
  'e8611ab8-c189-46e8-94e1-60213ab1f814': 'Privileged Role Administrator',
  'fe930be7-5e62-47db-91af-98c3a49a38b1': 'User Administrator',
  'f28a1f50-f6e7-4571-818b-6a12f2af6b6c': 'SharePoint Administrator',
  '29232cdf-9323-42fd-ade2-1d097af3e4de': 'Exchange Administrator',
  '8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2': 'Hybrid Identity Administrator',
  '9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3': 'Application Administrator',
  '158c047a-c907-4556-b7ef-446551a6b5f7': 'Cloud Application Administrator',
}

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)
const strs = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [])
const q = (s: string): string => `'${s}'`
const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`

/** A Conditional Access policy, read once into what the rules ask of it. */
export interface CaPolicy {
  readonly name: string
  readonly state: string
  readonly enabled: boolean
  readonly includeUsers: readonly string[]
  readonly excludeUsers: readonly string[]
  readonly includeGroups: readonly string[]
  readonly excludeGroups: readonly string[]
  readonly includeRoles: readonly string[]
  readonly excludeRoles: readonly string[]
  /** `excludeGuestsOrExternalUsers` is set. */
  readonly excludesGuests: boolean
  readonly allApps: boolean
  readonly clientAppTypes: readonly string[]
  readonly transferMethods: readonly string[]
  /** Conditions that narrow the policy to some sign-ins (risk, location, platform, client apps, device filter, excluded apps). */
  readonly narrowedBy: readonly string[]
  /** The grant requires MFA (or an authentication strength) on every path. */
  readonly requiresMfa: boolean
  readonly block: boolean
  readonly phishingResistant: boolean
  /** Why an MFA grant does not count (OR'ed with another control), for evidence. */
  readonly grantGap?: string
}

/** Reads a normalised conditionalAccessPolicy object (lower-camel keys). */
export function readCaPolicy(p: Json, index: number): CaPolicy {
  const name = typeof p.displayName === 'string' && p.displayName ? p.displayName : typeof p.id === 'string' ? p.id : `#${index}`
  const state = typeof p.state === 'string' ? p.state : ''
  const cond = isObj(p.conditions) ? p.conditions : {}
  const users = isObj(cond.users) ? cond.users : {}
  const apps = isObj(cond.applications) ? cond.applications : {}
  const grant = isObj(p.grantControls) ? p.grantControls : undefined
  const narrowedBy: string[] = []
  for (const k of ['userRiskLevels', 'signInRiskLevels', 'servicePrincipalRiskLevels', 'insiderRiskLevels'] as const) {
    const levels = strs(cond[k])
    if (levels.length) narrowedBy.push(`${k.replace(/Levels$/, '').replace(/([A-Z])/g, ' $1').toLowerCase()} ${levels.join('/')}`)
  }
  if (cond.insiderRiskLevels !== undefined && cond.insiderRiskLevels !== null && typeof cond.insiderRiskLevels === 'string' && cond.insiderRiskLevels)
    narrowedBy.push(`insider risk ${cond.insiderRiskLevels}`)
  const loc = isObj(cond.locations) ? cond.locations : undefined
  if (loc) {
    const inc = strs(loc.includeLocations)
    const exc = strs(loc.excludeLocations)
    if ((inc.length && !inc.includes('All')) || exc.length) narrowedBy.push(`locations (${[...(inc.includes('All') ? [] : inc.map((x) => `include ${x}`)), ...exc.map((x) => `exclude ${x}`)].join(', ')})`)
  }
  const plat = isObj(cond.platforms) ? cond.platforms : undefined
  if (plat) {
    const inc = strs(plat.includePlatforms)
    const exc = strs(plat.excludePlatforms)
    if ((inc.length && !inc.includes('all')) || exc.length) narrowedBy.push(`platforms (${[...(inc.includes('all') ? [] : inc), ...exc.map((x) => `not ${x}`)].join(', ')})`)
  }
  const clientAppTypes = strs(cond.clientAppTypes)
  const modern = clientAppTypes.length === 0 || clientAppTypes.includes('all') || (clientAppTypes.includes('browser') && clientAppTypes.includes('mobileAppsAndDesktopClients'))
  if (!modern) narrowedBy.push(`client apps ${clientAppTypes.join('/')}`)
  const devices = isObj(cond.devices) ? cond.devices : undefined
  const filter = devices && isObj(devices.deviceFilter) ? devices.deviceFilter : undefined
  if (filter && typeof filter.rule === 'string' && filter.rule) narrowedBy.push(`a device filter (${typeof filter.mode === 'string' ? filter.mode : 'include'})`)
  const excludedApps = strs(apps.excludeApplications)
  if (excludedApps.length) narrowedBy.push(`${plural(excludedApps.length, 'excluded application')}`)
  const flows = isObj(cond.authenticationFlows) ? cond.authenticationFlows : undefined
  // Graph serialises the flags enum as one comma-separated string; accept an array too.
  const transferMethods = flows ? (typeof flows.transferMethods === 'string' ? flows.transferMethods.split(',').map((s) => s.trim()).filter(Boolean) : strs(flows.transferMethods)) : []

  const builtIn = grant ? strs(grant.builtInControls) : []
  const strength = grant && isObj(grant.authenticationStrength) ? grant.authenticationStrength : undefined
  const customCount = grant && Array.isArray(grant.customAuthenticationFactors) ? grant.customAuthenticationFactors.length : 0
  const others = builtIn.filter((c) => c !== 'mfa' && c !== 'block').length + customCount
  const mfa = builtIn.includes('mfa') || strength !== undefined
  const and = String(grant?.operator ?? 'OR').toUpperCase() === 'AND'
  const requiresMfa = mfa && (others === 0 || and)
  const combos = strength ? strs(strength.allowedCombinations) : []
  const phishingResistant = requiresMfa && strength !== undefined && (strength.id === PHISHING_RESISTANT_STRENGTH || (combos.length > 0 && combos.every((c) => PR_MODES.has(c))))
  return {
    name,
    state,
    enabled: state === 'enabled',
    includeUsers: strs(users.includeUsers),
    excludeUsers: strs(users.excludeUsers),
    includeGroups: strs(users.includeGroups),
    excludeGroups: strs(users.excludeGroups),
    includeRoles: strs(users.includeRoles),
    excludeRoles: strs(users.excludeRoles),
    excludesGuests: isObj(users.excludeGuestsOrExternalUsers),
    allApps: strs(apps.includeApplications).includes('All'),
    clientAppTypes,
    transferMethods,
    narrowedBy,
    requiresMfa,
    block: builtIn.includes('block'),
    phishingResistant,
    ...(mfa && !requiresMfa ? { grantGap: `MFA is one choice among ${[...builtIn.filter((c) => c !== 'mfa'), ...(customCount ? ['custom controls'] : [])].join(', ')} (operator OR)` } : {}),
  }
}

const allUsers = (p: CaPolicy): boolean => p.includeUsers.includes('All')
const stateWord = (s: string): string => (s === 'enabledForReportingButNotEnforced' ? 'report-only' : s || 'without a state')

/** Policies that enforce MFA for all users and all apps, unnarrowed, enabled. */
function enforcing(ps: readonly CaPolicy[]): CaPolicy[] {
  return ps.filter((p) => p.enabled && allUsers(p) && p.allApps && p.requiresMfa && !p.narrowedBy.length)
}

/** Why a policy that looks like MFA enforcement does not count, or undefined when it does or is unrelated. */
function whyNotEnforcing(p: CaPolicy): string | undefined {
  const mfaish = p.requiresMfa || p.grantGap !== undefined
  if (!mfaish) return undefined
  if (!p.enabled) return `${q(p.name)} is ${stateWord(p.state)}`
  if (p.grantGap) return `${q(p.name)}: ${p.grantGap}`
  if (p.narrowedBy.length) return `${q(p.name)} applies only to some sign-ins: ${p.narrowedBy.join('; ')}`
  if (!allUsers(p)) return `${q(p.name)} does not include all users`
  if (!p.allApps) return `${q(p.name)} does not include all cloud apps`
  return undefined
}

/**
 * `mfa-not-enforced` for Entra: some enabled, unnarrowed policy requires MFA of all users for all apps. The evidence keeps
 * the fields earlier reports had (`policies`, `policiesChecked`, `exclusions`, `phishingResistantStrength`) and adds `gaps`:
 * one sentence per MFA-looking policy that does not count, and why.
 */
export function entraEnforcement(policies: readonly CaPolicy[]): Enforcement {
  const ok = enforcing(policies)
  const gaps = policies.map(whyNotEnforcing).filter((x): x is string => x !== undefined)
  const setting = ok.length
    ? 'Conditional Access'
    : `no enabled Conditional Access policy requires MFA for all users and all apps${gaps.length ? `: ${gaps.slice(0, 3).join('; ')}${gaps.length > 3 ? `; and ${gaps.length - 3} more` : ''}` : ''}`
  return {
    resource: 'tenant:conditional-access',
    enforced: ok.length > 0,
    evidence: {
      setting,
      policies: ok.map((p) => p.name),
      policiesChecked: policies.length,
      exclusions: ok.map((p) => `${p.name}: ${p.excludeUsers.length} users, ${p.excludeGroups.length} groups, ${p.excludeRoles.length} roles excluded`),
      phishingResistantStrength: ok.some((p) => p.phishingResistant),
      gaps,
    },
  }
}

/** Inputs of {@link evaluateEntraPolicies}. */
export interface EntraPolicyInput {
  readonly policies: readonly CaPolicy[]
  /** `policies/authenticationMethodsPolicy` (lower-camel), when the export holds it. */
  readonly methodsPolicy?: Json
  /** Users of the same export (userRegistrationDetails): map break-glass UPNs to ids and read their methods. */
  readonly users: readonly IdpUser[]
  /** Members of the groups and roles the policies name, when the export or pull has them ({@link readMembership}). */
  readonly membership?: Membership
  /** Break-glass accounts (object id or userPrincipalName), from the scan policy. */
  readonly breakGlass: readonly string[]
  /** Role template ids that must require phishing-resistant MFA. */
  readonly privilegedRoles: readonly string[]
  /** Canonical factor names counted as phishing-resistant (the `mfa-weak-factors-only` parameter). */
  readonly phishingResistantFactors: readonly string[]
}

/** Every Entra policy verdict this export allows, plus what it could not judge. */
export function evaluateEntraPolicies(input: EntraPolicyInput): { verdicts: PolicyVerdict[]; notJudged: PolicyNotJudged[] } {
  const verdicts: PolicyVerdict[] = []
  const notJudged: PolicyNotJudged[] = []
  const { policies } = input
  const byLogin = new Map<string, IdpUser>()
  for (const u of input.users) {
    byLogin.set(u.login.toLowerCase(), u)
    byLogin.set(u.id.toLowerCase(), u)
  }
  const m = input.membership ?? NO_MEMBERSHIP
  // Break-glass accounts: the ids the policies would name (from the users or the member records), and the user record.
  const glass = input.breakGlass.map((name) => {
    const key = name.toLowerCase()
    const u = byLogin.get(key)
    const id = m.ids.get(key)
    const login = m.logins.get(key)
    const ids = new Set([key, ...(u ? [u.id.toLowerCase(), u.login.toLowerCase()] : []), ...(id ? [id] : []), ...(login ? [login.toLowerCase()] : [])])
    return { name, user: u, ids }
  })
  const isGlass = (id: string): boolean => glass.some((g) => g.ids.has(id.toLowerCase()))
  const scope = new Scope(m, input.users)

  if (policies.length) {
    verdicts.push(...exclusionVerdicts(policies, scope, isGlass))
    verdicts.push(...glass.flatMap((g) => breakGlassVerdict(g, policies, scope, input.phishingResistantFactors, notJudged)))
    verdicts.push(adminVerdict(policies, input.privilegedRoles))
    verdicts.push(blockVerdict(policies, 'mfa-entra-legacy-auth-allowed', 'legacy authentication (Exchange ActiveSync and other clients)', (p) => p.clientAppTypes.includes('all') || (p.clientAppTypes.includes('exchangeActiveSync') && p.clientAppTypes.includes('other'))))
    verdicts.push(blockVerdict(policies, 'mfa-entra-device-code-allowed', 'the device code flow', (p) => p.transferMethods.includes('deviceCodeFlow')))
  } else if (input.breakGlass.length) {
    notJudged.push({ rule: 'mfa-entra-break-glass', why: 'no Conditional Access policies in this export: break-glass exclusions not judged' })
  }
  if (input.methodsPolicy) verdicts.push(methodsVerdict(input.methodsPolicy))
  return { verdicts, notJudged }
}

/** Questions about one user and one policy, answered from the policy's lists and the resolved membership. */
class Scope {
  private readonly byId = new Map<string, IdpUser>()
  readonly m: Membership
  constructor(m: Membership, users: readonly IdpUser[]) {
    this.m = m
    for (const u of users) this.byId.set(u.id.toLowerCase(), u)
  }

  /** userPrincipalName of a user id, when known. */
  login(id: string): string | undefined {
    return this.m.logins.get(id) ?? this.byId.get(id)?.login
  }

  /** The user is known to be a member, not a guest (a policy excluding guests still applies to them). */
  private member(id: string): boolean {
    return this.m.members.has(id) || this.byId.get(id)?.guest === false
  }

  /** Whether the policy includes user `id` (lower case): true, false, or undefined (a group or role with unknown members). */
  includes(p: CaPolicy, id: string): boolean | undefined {
    if (p.includeUsers.some((x) => x === 'All' || x.toLowerCase() === id)) return true
    let r: boolean | undefined = p.includeUsers.includes('GuestsOrExternalUsers') && !this.member(id) ? undefined : false
    for (const [kind, list] of [['group', p.includeGroups], ['role', p.includeRoles]] as const)
      for (const g of list) {
        const m = memberOf(this.m, kind, g, id)
        if (m) return true
        if (m === undefined) r = undefined
      }
    return r
  }

  /** Whether the policy excludes user `id`: true, false, or undefined. */
  excludes(p: CaPolicy, id: string, guests = true): boolean | undefined {
    if (p.excludeUsers.some((x) => x.toLowerCase() === id)) return true
    let r: boolean | undefined = guests && p.excludesGuests && !this.member(id) ? undefined : false
    for (const [kind, list] of [['group', p.excludeGroups], ['role', p.excludeRoles]] as const)
      for (const g of list) {
        const m = memberOf(this.m, kind, g, id)
        if (m) return true
        if (m === undefined) r = undefined
      }
    return r
  }

  /** Groups and roles of the policy whose members are not known, for messages. */
  unresolved(p: CaPolicy): string[] {
    const out: string[] = []
    for (const [kind, list] of [['group', [...p.includeGroups, ...p.excludeGroups]], ['role', [...p.includeRoles, ...p.excludeRoles]]] as const)
      for (const g of new Set(list)) if (!usersOf(this.m, kind, g)) out.push(`${kind} ${g}`)
    return out
  }
}

/**
 * `mfa-entra-exclusion-without-fallback`: the users each enforcing policy excludes — named, or members of an excluded group
 * or role when the membership is known — each need another enforcing policy that certainly applies to them. A group or role
 * whose members are not known is covered only by a fallback that includes it (or all users) and excludes nobody but
 * break-glass accounts; otherwise it is a gap named as unresolved, never a pass.
 */
function exclusionVerdicts(policies: readonly CaPolicy[], scope: Scope, isGlass: (id: string) => boolean): PolicyVerdict[] {
  const ok = enforcing(policies)
  // Fallbacks: enabled, unnarrowed, all apps, MFA required (users need not be All: a policy for the excluded group is the point).
  const fallbacks = policies.filter((p) => p.enabled && p.allApps && p.requiresMfa && !p.narrowedBy.length)
  return ok.map((p) => {
    const others = fallbacks.filter((f) => f !== p)
    // Per policy: the answer depends on `others`, and two policies may share a display name.
    const coveredUser = new Map<string, boolean>()
    const covered = (id: string): boolean => {
      let c = coveredUser.get(id)
      if (c === undefined) {
        c = others.some((f) => scope.includes(f, id) === true && scope.excludes(f, id) === false)
        coveredUser.set(id, c)
      }
      return c
    }
    // A fallback that covers a whole group or role without knowing its members: includes it (or everyone), excludes no one.
    const coversWhole = (kind: 'group' | 'role', id: string): boolean =>
      others.some((f) => (allUsers(f) || (kind === 'group' ? f.includeGroups : f.includeRoles).includes(id)) && f.excludeUsers.every(isGlass) && !f.excludeGroups.length && !f.excludeRoles.length && !f.excludesGuests)
    const gaps: string[] = []
    const unresolved: string[] = []
    const usersWithout = new Set<string>()
    let coveredCount = 0
    for (const raw of p.excludeUsers) {
      if (isGlass(raw)) continue
      const id = raw.toLowerCase()
      if (covered(id)) coveredCount++
      else {
        gaps.push(`user ${scope.login(id) ?? raw}`)
        usersWithout.add(id)
      }
    }
    for (const [kind, list] of [['group', p.excludeGroups], ['role', p.excludeRoles]] as const)
      for (const gid of list) {
        const label = `${kind} ${nameOf(scope.m, kind, gid) ?? (kind === 'role' ? HIGHLY_PRIVILEGED_ROLES[gid] : undefined) ?? gid}`
        const members = usersOf(scope.m, kind, gid)
        if (!members) {
          if (coversWhole(kind, gid)) coveredCount++
          else {
            gaps.push(`${label} (members not resolved)`)
            unresolved.push(`${kind} ${gid}`)
          }
          continue
        }
        const without = [...members].filter((u) => !isGlass(u) && !covered(u))
        if (!without.length) {
          coveredCount++
          continue
        }
        for (const u of without) usersWithout.add(u)
        const names = without.slice(0, 3).map((u) => scope.login(u) ?? u)
        gaps.push(`${label} (${without.length === members.size ? plural(members.size, 'member') : `${without.length} of ${members.size} members`}: ${names.join(', ')}${without.length > 3 ? ', …' : ''})`)
      }
    const glassExcluded = p.excludeUsers.filter(isGlass)
    const guestGap = p.excludesGuests && !fallbacks.some((f) => f !== p && !f.excludesGuests && allUsers(f))
    if (guestGap) gaps.push('guests or external users')
    const principals = p.excludeUsers.length - glassExcluded.length + p.excludeGroups.length + p.excludeRoles.length
    const summary = gaps.length
      ? `policy ${q(p.name)} excludes ${gaps.slice(0, 5).join(', ')}${gaps.length > 5 ? ` and ${gaps.length - 5} more` : ''} with no other enabled policy requiring MFA for them`
      : `policy ${q(p.name)}: ${principals || p.excludesGuests ? `every exclusion (${plural(principals + (p.excludesGuests ? 1 : 0), 'principal')}) is covered by another policy requiring MFA` : 'no exclusions'}${glassExcluded.length ? ` (break-glass excluded: ${glassExcluded.length})` : ''}`
    return {
      rule: 'mfa-entra-exclusion-without-fallback',
      status: gaps.length ? 'fail' : 'pass',
      resource: `policy:${p.name}`,
      summary,
      evidence: { policy: p.name, uncovered: gaps, covered: coveredCount, usersWithoutFallback: usersWithout.size, unresolved, breakGlassExcluded: glassExcluded },
    } satisfies PolicyVerdict
  })
}

function breakGlassVerdict(g: { name: string; user?: IdpUser; ids: Set<string> }, policies: readonly CaPolicy[], scope: Scope, prFactors: readonly string[], notJudged: PolicyNotJudged[]): PolicyVerdict[] {
  // Enabled MFA or block policies that include the account (All users, by id, or through a group or role) and do not exclude it.
  const ids = [...g.ids]
  const any = (f: (id: string) => boolean | undefined): boolean | undefined => {
    let r: boolean | undefined = false
    for (const id of ids) {
      const v = f(id)
      if (v) return true
      if (v === undefined) r = undefined
    }
    return r
  }
  const catching: CaPolicy[] = []
  const maybe: CaPolicy[] = []
  for (const p of policies.filter((x) => x.enabled && (x.requiresMfa || x.block))) {
    const inc = any((id) => scope.includes(p, id))
    const exc = any((id) => scope.excludes(p, id, false))
    if (inc === true && exc === false) catching.push(p)
    else if (inc !== false && exc !== true) maybe.push(p)
  }
  const resource = `user:${g.user?.login ?? g.name}`
  if (catching.length) {
    return [{
      rule: 'mfa-entra-break-glass',
      status: 'fail',
      resource,
      summary: `break-glass account ${g.name} is not excluded from ${catching.map((p) => q(p.name)).join(', ')}: a broken MFA provider or policy locks the tenant out`,
      evidence: { account: g.name, notExcludedFrom: catching.map((p) => p.name) },
    }]
  }
  if (maybe.length) {
    notJudged.push({ rule: 'mfa-entra-break-glass', why: `break-glass account ${g.name}: whether ${maybe.map((p) => q(p.name)).join(', ')} ${maybe.length === 1 ? 'applies' : 'apply'} to it depends on members not resolved (${[...new Set(maybe.flatMap((p) => scope.unresolved(p)))].join(', ')}): export the groups' transitiveMembers and directoryRoles, or pull entra:// live` })
    return []
  }
  if (!g.user?.factors) {
    notJudged.push({ rule: 'mfa-entra-break-glass', why: `break-glass account ${g.name}: excluded from every MFA policy, but not in the export's userRegistrationDetails, so its own protection (a phishing-resistant method) was not judged` })
    return []
  }
  const pr = g.user.factors.filter((f) => prFactors.includes(f))
  return [{
    rule: 'mfa-entra-break-glass',
    status: pr.length ? 'pass' : 'fail',
    resource,
    summary: pr.length
      ? `break-glass account ${g.name} is excluded from every MFA policy and has a phishing-resistant method (${[...new Set(pr)].join(', ')})`
      : `break-glass account ${g.name} is excluded from every MFA policy and has no phishing-resistant method registered (${g.user.vendorFactors?.length ? g.user.vendorFactors.join(', ') : 'none'}): it signs in with a password alone or a phishable factor`,
    evidence: { account: g.name, methods: g.user.vendorFactors ?? [] },
  }]
}

function adminVerdict(policies: readonly CaPolicy[], roles: readonly string[]): PolicyVerdict {
  const pr = policies.filter((p) => p.enabled && p.allApps && p.phishingResistant && !p.narrowedBy.length)
  const roleName = (id: string): string => HIGHLY_PRIVILEGED_ROLES[id] ?? id
  const coveredBy = new Map<string, string>()
  for (const id of roles) {
    const p = pr.find((x) => !x.excludeRoles.includes(id) && (x.includeRoles.includes(id) || allUsers(x)))
    if (p) coveredBy.set(id, p.name)
  }
  const missing = roles.filter((id) => !coveredBy.has(id))
  // Say why near-misses do not count (report-only, not phishing-resistant, narrowed), so the gap is actionable.
  const nearMiss = policies
    .filter((p) => (p.requiresMfa || p.grantGap) && roles.some((id) => p.includeRoles.includes(id)) && !pr.includes(p))
    .map((p) => `${q(p.name)} ${!p.enabled ? `is ${stateWord(p.state)}` : !p.phishingResistant ? 'does not require a phishing-resistant authentication strength' : p.narrowedBy.length ? `applies only to some sign-ins (${p.narrowedBy.join('; ')})` : 'does not include all cloud apps'}`)
  const summary = missing.length
    ? `no enabled policy requires phishing-resistant MFA for ${missing.slice(0, 4).map(roleName).join(', ')}${missing.length > 4 ? ` and ${missing.length - 4} more roles` : ''}${nearMiss.length ? ` (${nearMiss.slice(0, 3).join('; ')})` : ''}`
    : `the ${plural(roles.length, 'highly privileged role')} require phishing-resistant MFA (${[...new Set(coveredBy.values())].map(q).join(', ')})`
  return {
    rule: 'mfa-entra-admin-phishing-resistant',
    status: missing.length ? 'fail' : 'pass',
    resource: 'tenant:conditional-access',
    summary,
    evidence: { rolesWithout: missing.map(roleName), policies: [...new Set(coveredBy.values())], nearMisses: nearMiss },
  }
}

function blockVerdict(policies: readonly CaPolicy[], rule: 'mfa-entra-legacy-auth-allowed' | 'mfa-entra-device-code-allowed', what: string, targets: (p: CaPolicy) => boolean): PolicyVerdict {
  const candidates = policies.filter((p) => p.block && targets(p))
  const ok = candidates.filter((p) => p.enabled && allUsers(p) && p.allApps && !p.narrowedBy.some((n) => !n.startsWith('client apps')))
  const why = candidates
    .filter((p) => !ok.includes(p))
    .map((p) => `${q(p.name)} ${!p.enabled ? `is ${stateWord(p.state)}` : !allUsers(p) ? 'does not include all users' : !p.allApps ? 'does not include all cloud apps' : `applies only to some sign-ins (${p.narrowedBy.join('; ')})`}`)
  const summary = ok.length
    ? `${what} is blocked for all users by ${ok.map((p) => q(p.name)).join(', ')}`
    : `no enabled Conditional Access policy blocks ${what} for all users and all apps${why.length ? ` (${why.slice(0, 3).join('; ')})` : ''}`
  return { rule, status: ok.length ? 'pass' : 'fail', resource: 'tenant:conditional-access', summary, evidence: { policies: ok.map((p) => p.name), nearMisses: why } }
}

/** Authentication method configurations (ids as Graph names them) that ScubaGear MS.AAD.3.5v1 wants disabled. */
const WEAK_METHODS: Readonly<Record<string, string>> = { sms: 'SMS', voice: 'Voice call', email: 'Email OTP' }

function methodsVerdict(mp: Json): PolicyVerdict {
  const configs = Array.isArray(mp.authenticationMethodConfigurations) ? mp.authenticationMethodConfigurations.filter(isObj) : []
  const enabled = configs
    .filter((c) => typeof c.id === 'string' && Object.hasOwn(WEAK_METHODS, c.id.toLowerCase()) && c.state === 'enabled')
    .map((c) => WEAK_METHODS[(c.id as string).toLowerCase()]!)
  const migration = typeof mp.policyMigrationState === 'string' ? mp.policyMigrationState : undefined
  const legacy = migration !== undefined && migration !== 'migrationComplete'
  const gaps = [
    ...(enabled.length ? [`${enabled.join(', ')} ${enabled.length === 1 ? 'is' : 'are'} enabled`] : []),
    ...(legacy ? [`the methods policy migration is ${migration} (not migrationComplete): the legacy MFA and SSPR settings still allow their methods`] : []),
  ]
  return {
    rule: 'mfa-entra-weak-methods-enabled',
    status: gaps.length ? 'fail' : 'pass',
    resource: 'tenant:authentication-methods-policy',
    summary: gaps.length ? `authentication methods policy: ${gaps.join('; ')}` : 'authentication methods policy: SMS, Voice call and Email OTP are disabled',
    evidence: { enabledWeakMethods: enabled, ...(migration ? { policyMigrationState: migration } : {}) },
  }
}
