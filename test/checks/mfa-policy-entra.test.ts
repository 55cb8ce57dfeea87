/**
 * What Entra ID policies enforce: hand-built Conditional Access policy sets in Graph's `conditionalAccessPolicy` shape
 * (and `authenticationMethodsPolicy`), each judged through the real check from an export file, asserting the verdict and
 * the evidence sentence (the finding's message).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import idpExport from '../../checks/mfa/idp.ts'
import { HIGHLY_PRIVILEGED_ROLES } from '../../checks/mfa/policy-entra.ts'
import { fileTarget } from '../../src/targets/host.ts'
import type { ScanReport } from '../../src/types.ts'
import { checkTester } from '../helpers/check-tester.ts'

const tester = checkTester(idpExport)
type Json = Record<string, unknown>

const GA = '62e90394-69f5-4237-9190-012177145e10'
const ALL_ROLES = Object.keys(HIGHLY_PRIVILEGED_ROLES)
const GROUP = 'b0b0b0b0-0000-4000-8000-00000000000a'
const GLASS_ID = 'e0e0e0e0-0000-4000-8000-000000000001'
const GLASS = 'breakglass1@contoso.onmicrosoft.com'
const PR_STRENGTH = { id: '00000000-0000-0000-0000-000000000004', displayName: 'Phishing-resistant MFA', policyType: 'builtIn', requirementsSatisfied: 'mfa', allowedCombinations: ['windowsHelloForBusiness', 'fido2', 'x509CertificateMultiFactor'] }

let n = 0
/** A conditionalAccessPolicy as Graph returns it: all users, all apps, grant MFA, enabled — then `over` (shallow per section). */
function ca(name: string, over: { state?: string; users?: Json; applications?: Json; conditions?: Json; grantControls?: Json | null } = {}): Json {
  n++
  return {
    id: `aaaaaaaa-0000-4000-8000-${String(n).padStart(12, '0')}`,
    templateId: null,
    displayName: name,
    createdDateTime: '2025-01-01T10:00:00Z',
    modifiedDateTime: '2025-06-01T10:00:00Z',
    state: over.state ?? 'enabled',
    sessionControls: null,
    conditions: {
      userRiskLevels: [],
      signInRiskLevels: [],
      clientAppTypes: ['all'],
      platforms: null,
      locations: null,
      ...over.conditions,
      applications: { includeApplications: ['All'], excludeApplications: [], includeUserActions: [], includeAuthenticationContextClassReferences: [], ...over.applications },
      users: { includeUsers: ['All'], excludeUsers: [], includeGroups: [], excludeGroups: [], includeRoles: [], excludeRoles: [], ...over.users },
    },
    grantControls: over.grantControls === null ? null : { operator: 'OR', builtInControls: ['mfa'], customAuthenticationFactors: [], termsOfUse: [], ...over.grantControls },
  }
}
const block = (name: string, conditions: Json, over: { state?: string } = {}): Json => ca(name, { ...over, conditions, grantControls: { builtInControls: ['block'] } })
const LEGACY = { clientAppTypes: ['exchangeActiveSync', 'other'] }
const DEVICE_CODE = { authenticationFlows: { transferMethods: 'deviceCodeFlow' } }
const reg = (upn: string, id: string, methods: string[], isAdmin = false): Json => ({ id, userPrincipalName: upn, userDisplayName: upn, isAdmin, isMfaRegistered: methods.length > 0, methodsRegistered: methods })
const methods = (states: Record<string, string>, migration = 'migrationComplete'): Json => ({
  '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#authenticationMethodsPolicy',
  id: 'authenticationMethodsPolicy',
  displayName: 'Authentication Methods Policy',
  policyVersion: '1.5',
  policyMigrationState: migration,
  authenticationMethodConfigurations: Object.entries(states).map(([id, state]) => ({ '@odata.type': `#microsoft.graph.${id[0]!.toLowerCase()}${id.slice(1)}AuthenticationMethodConfiguration`, id, state })),
})

/** A transitiveMembers item (Graph's directoryObject of a user, with what ztscan selects). */
const member = (id: string, upn: string, userType = 'Member'): Json => ({ '@odata.type': '#microsoft.graph.user', id, userPrincipalName: upn, userType })
const members = (...m: Json[]): Json => ({ '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#directoryObjects', value: m })
const uid = (k: number): string => `c1c1c1c1-0000-4000-8000-${String(k).padStart(12, '0')}`
const GROUP2 = 'b0b0b0b0-0000-4000-8000-00000000000b'
const GLASS_GROUP = 'b0b0b0b0-0000-4000-8000-0000000000ee'

interface Case {
  name: string
  policies?: Json[]
  users?: Json[]
  methodsPolicy?: Json
  breakGlass?: string[]
  /** `groups`: group id → GET /groups/{id}/transitiveMembers response. */
  groups?: Json
  /** `directoryRoles` with their members. */
  directoryRoles?: Json[]
  /** `status rule resource` → the exact message; each must be among the findings. */
  expect: Record<string, string>
  /** Skip entries expected (exactly), when given. */
  skipped?: string[]
}

const cases: Case[] = [
  {
    name: 'one enabled policy: MFA for all users and all apps',
    policies: [ca('Require MFA for everyone')],
    expect: { 'pass mfa-not-enforced tenant:conditional-access': 'Entra ID: MFA is enforced for all users (Require MFA for everyone)' },
  },
  {
    name: 'report-only does not enforce',
    policies: [ca('Require MFA (pilot)', { state: 'enabledForReportingButNotEnforced' })],
    expect: { 'fail mfa-not-enforced tenant:conditional-access': "Entra ID: MFA is not enforced for all users (no enabled Conditional Access policy requires MFA for all users and all apps: 'Require MFA (pilot)' is report-only)" },
  },
  {
    name: 'disabled does not enforce',
    policies: [ca('Require MFA', { state: 'disabled' })],
    expect: { 'fail mfa-not-enforced tenant:conditional-access': "Entra ID: MFA is not enforced for all users (no enabled Conditional Access policy requires MFA for all users and all apps: 'Require MFA' is disabled)" },
  },
  {
    name: 'sign-in-risk-scoped policy is not enforcement (ScubaGear #1742)',
    policies: [ca('MFA on risky sign-ins', { conditions: { signInRiskLevels: ['medium', 'high'] } })],
    expect: { 'fail mfa-not-enforced tenant:conditional-access': "Entra ID: MFA is not enforced for all users (no enabled Conditional Access policy requires MFA for all users and all apps: 'MFA on risky sign-ins' applies only to some sign-ins: sign in risk medium/high)" },
  },
  {
    name: 'user-risk-scoped policy is not enforcement',
    policies: [ca('MFA for risky users', { conditions: { userRiskLevels: ['high'] } })],
    expect: { 'fail mfa-not-enforced tenant:conditional-access': "Entra ID: MFA is not enforced for all users (no enabled Conditional Access policy requires MFA for all users and all apps: 'MFA for risky users' applies only to some sign-ins: user risk high)" },
  },
  {
    name: 'location-scoped policy (trusted locations excluded) is not enforcement',
    policies: [ca('MFA outside the office', { conditions: { locations: { includeLocations: ['All'], excludeLocations: ['AllTrusted'] } } })],
    expect: { 'fail mfa-not-enforced tenant:conditional-access': "Entra ID: MFA is not enforced for all users (no enabled Conditional Access policy requires MFA for all users and all apps: 'MFA outside the office' applies only to some sign-ins: locations (exclude AllTrusted))" },
  },
  {
    name: 'platform-scoped policy is not enforcement',
    policies: [ca('MFA on phones', { conditions: { platforms: { includePlatforms: ['android', 'iOS'], excludePlatforms: [] } } })],
    expect: { 'fail mfa-not-enforced tenant:conditional-access': "Entra ID: MFA is not enforced for all users (no enabled Conditional Access policy requires MFA for all users and all apps: 'MFA on phones' applies only to some sign-ins: platforms (android, iOS))" },
  },
  {
    name: 'MFA OR compliant device lets a user in without MFA; AND does not',
    policies: [ca('MFA or compliant', { grantControls: { builtInControls: ['mfa', 'compliantDevice'] } }), ca('MFA and compliant', { grantControls: { operator: 'AND', builtInControls: ['mfa', 'compliantDevice'] } })],
    expect: { 'pass mfa-not-enforced tenant:conditional-access': 'Entra ID: MFA is enforced for all users (MFA and compliant)' },
  },
  {
    name: 'an excluded group with no fallback policy',
    policies: [ca('Require MFA', { users: { excludeGroups: [GROUP] } })],
    expect: {
      'pass mfa-not-enforced tenant:conditional-access': 'Entra ID: MFA is enforced for all users (Require MFA)',
      'fail mfa-entra-exclusion-without-fallback policy:Require MFA': `Entra ID: policy 'Require MFA' excludes group ${GROUP} (members not resolved) with no other enabled policy requiring MFA for them`,
    },
  },
  {
    name: 'an excluded group covered by a fallback policy for that group',
    policies: [ca('Require MFA', { users: { excludeGroups: [GROUP] } }), ca('MFA for contractors', { users: { includeUsers: [], includeGroups: [GROUP] } })],
    expect: { 'pass mfa-entra-exclusion-without-fallback policy:Require MFA': "Entra ID: policy 'Require MFA': every exclusion (1 principal) is covered by another policy requiring MFA" },
  },
  {
    name: 'a report-only fallback does not cover the exclusion',
    policies: [ca('Require MFA', { users: { excludeUsers: ['c0c0c0c0-0000-4000-8000-000000000001'] } }), ca('MFA for svc', { state: 'enabledForReportingButNotEnforced', users: { includeUsers: ['c0c0c0c0-0000-4000-8000-000000000001'] } })],
    expect: { 'fail mfa-entra-exclusion-without-fallback policy:Require MFA': "Entra ID: policy 'Require MFA' excludes user c0c0c0c0-0000-4000-8000-000000000001 with no other enabled policy requiring MFA for them" },
  },
  {
    name: 'a fallback narrowed by location does not cover the exclusion; guests excluded without fallback',
    policies: [
      ca('Require MFA', { users: { excludeRoles: [GA], excludeGuestsOrExternalUsers: { guestOrExternalUserTypes: 'b2bCollaborationGuest', externalTenants: { membershipKind: 'all' } } } }),
      ca('Admins off-site', { users: { includeUsers: [], includeRoles: [GA] }, conditions: { locations: { includeLocations: ['All'], excludeLocations: ['AllTrusted'] } } }),
    ],
    expect: { 'fail mfa-entra-exclusion-without-fallback policy:Require MFA': "Entra ID: policy 'Require MFA' excludes role Global Administrator (members not resolved), guests or external users with no other enabled policy requiring MFA for them" },
  },
  {
    name: 'break-glass account excluded by id, with a FIDO2 key: exempt from the exclusion rule, and passes',
    policies: [ca('Require MFA', { users: { excludeUsers: [GLASS_ID] } })],
    users: [reg(GLASS, GLASS_ID, ['fido2SecurityKey'], true)],
    breakGlass: [GLASS],
    expect: {
      'pass mfa-entra-exclusion-without-fallback policy:Require MFA': "Entra ID: policy 'Require MFA': no exclusions (break-glass excluded: 1)",
      [`pass mfa-entra-break-glass user:${GLASS}`]: `Entra ID: break-glass account ${GLASS} is excluded from every MFA policy and has a phishing-resistant method (fido2)`,
    },
  },
  {
    name: 'break-glass account caught by an MFA policy',
    policies: [ca('Require MFA'), block('Block legacy', LEGACY, {})],
    users: [reg(GLASS, GLASS_ID, ['fido2SecurityKey'], true)],
    breakGlass: [GLASS_ID],
    expect: { [`fail mfa-entra-break-glass user:${GLASS}`]: `Entra ID: break-glass account ${GLASS_ID} is not excluded from 'Require MFA', 'Block legacy': a broken MFA provider or policy locks the tenant out` },
  },
  {
    name: 'break-glass account excluded but protected by SMS only',
    policies: [ca('Require MFA', { users: { excludeUsers: [GLASS_ID] } })],
    users: [reg(GLASS, GLASS_ID, ['mobilePhone'], true)],
    breakGlass: [GLASS],
    expect: { [`fail mfa-entra-break-glass user:${GLASS}`]: `Entra ID: break-glass account ${GLASS} is excluded from every MFA policy and has no phishing-resistant method registered (mobilePhone): it signs in with a password alone or a phishable factor` },
  },
  {
    name: 'phishing-resistant strength for every highly privileged role',
    policies: [ca('Admins: phishing-resistant', { users: { includeUsers: [], includeRoles: ALL_ROLES }, grantControls: { builtInControls: [], authenticationStrength: PR_STRENGTH } })],
    expect: { 'pass mfa-entra-admin-phishing-resistant tenant:conditional-access': "Entra ID: the 8 highly privileged roles require phishing-resistant MFA ('Admins: phishing-resistant')" },
  },
  {
    name: 'phishing-resistant strength for Global Administrator only',
    policies: [ca('GA: phishing-resistant', { users: { includeUsers: [], includeRoles: [GA] }, grantControls: { builtInControls: [], authenticationStrength: PR_STRENGTH } })],
    expect: { 'fail mfa-entra-admin-phishing-resistant tenant:conditional-access': 'Entra ID: no enabled policy requires phishing-resistant MFA for Privileged Role Administrator, User Administrator, SharePoint Administrator, Exchange Administrator and 3 more roles' },
  },
  {
    name: 'admin roles with plain MFA, and a report-only phishing-resistant policy',
    policies: [
      ca('Admins: MFA', { users: { includeUsers: [], includeRoles: ALL_ROLES } }),
      ca('Admins: phishing-resistant (pilot)', { state: 'enabledForReportingButNotEnforced', users: { includeUsers: [], includeRoles: ALL_ROLES }, grantControls: { builtInControls: [], authenticationStrength: PR_STRENGTH } }),
    ],
    expect: {
      'fail mfa-entra-admin-phishing-resistant tenant:conditional-access':
        "Entra ID: no enabled policy requires phishing-resistant MFA for Global Administrator, Privileged Role Administrator, User Administrator, SharePoint Administrator and 4 more roles ('Admins: MFA' does not require a phishing-resistant authentication strength; 'Admins: phishing-resistant (pilot)' is report-only)",
    },
  },
  {
    name: 'a custom strength allowing FIDO2 only, for all users, covers the admin roles',
    policies: [ca('Everyone: FIDO2', { grantControls: { builtInControls: [], authenticationStrength: { id: 'd0d0d0d0-0000-4000-8000-000000000001', displayName: 'FIDO2 only', policyType: 'custom', allowedCombinations: ['fido2'] } } })],
    expect: {
      'pass mfa-entra-admin-phishing-resistant tenant:conditional-access': "Entra ID: the 8 highly privileged roles require phishing-resistant MFA ('Everyone: FIDO2')",
      'pass mfa-not-enforced tenant:conditional-access': 'Entra ID: MFA is enforced for all users (Everyone: FIDO2)',
    },
  },
  {
    name: 'a custom strength that allows SMS is not phishing-resistant',
    policies: [ca('Everyone: strength', { users: { includeUsers: [], includeRoles: ALL_ROLES }, grantControls: { builtInControls: [], authenticationStrength: { id: 'd0d0d0d0-0000-4000-8000-000000000002', displayName: 'FIDO2 or SMS', policyType: 'custom', allowedCombinations: ['fido2', 'password,sms'] } } })],
    expect: {
      'fail mfa-entra-admin-phishing-resistant tenant:conditional-access':
        "Entra ID: no enabled policy requires phishing-resistant MFA for Global Administrator, Privileged Role Administrator, User Administrator, SharePoint Administrator and 4 more roles ('Everyone: strength' does not require a phishing-resistant authentication strength)",
    },
  },
  {
    name: 'legacy authentication blocked',
    policies: [ca('Require MFA'), block('Block legacy authentication', LEGACY)],
    expect: { 'pass mfa-entra-legacy-auth-allowed tenant:conditional-access': "Entra ID: legacy authentication (Exchange ActiveSync and other clients) is blocked for all users by 'Block legacy authentication'" },
  },
  {
    name: 'legacy authentication block in report-only',
    policies: [ca('Require MFA'), block('Block legacy authentication', LEGACY, { state: 'enabledForReportingButNotEnforced' })],
    expect: { 'fail mfa-entra-legacy-auth-allowed tenant:conditional-access': "Entra ID: no enabled Conditional Access policy blocks legacy authentication (Exchange ActiveSync and other clients) for all users and all apps ('Block legacy authentication' is report-only)" },
  },
  {
    name: 'device code flow blocked, and not',
    policies: [ca('Require MFA'), block('Block device code flow', DEVICE_CODE)],
    expect: { 'pass mfa-entra-device-code-allowed tenant:conditional-access': "Entra ID: the device code flow is blocked for all users by 'Block device code flow'" },
  },
  {
    name: 'device code block limited to one location',
    policies: [block('Block device code abroad', { ...DEVICE_CODE, locations: { includeLocations: ['All'], excludeLocations: ['AllTrusted'] } })],
    expect: { 'fail mfa-entra-device-code-allowed tenant:conditional-access': "Entra ID: no enabled Conditional Access policy blocks the device code flow for all users and all apps ('Block device code abroad' applies only to some sign-ins (locations (exclude AllTrusted)))" },
  },
  {
    name: 'SMS and Voice enabled in the authentication methods policy',
    methodsPolicy: methods({ Sms: 'enabled', Voice: 'enabled', Email: 'disabled', Fido2: 'enabled' }),
    expect: { 'fail mfa-entra-weak-methods-enabled tenant:authentication-methods-policy': 'Entra ID: authentication methods policy: SMS, Voice call are enabled' },
  },
  {
    name: 'weak methods disabled but the migration is not complete',
    methodsPolicy: methods({ Sms: 'disabled', Voice: 'disabled', Email: 'disabled' }, 'migrationInProgress'),
    expect: { 'fail mfa-entra-weak-methods-enabled tenant:authentication-methods-policy': 'Entra ID: authentication methods policy: the methods policy migration is migrationInProgress (not migrationComplete): the legacy MFA and SSPR settings still allow their methods' },
  },
  {
    name: 'weak methods disabled, migration complete',
    methodsPolicy: methods({ Sms: 'disabled', Voice: 'disabled', Email: 'disabled', MicrosoftAuthenticator: 'enabled' }),
    expect: { 'pass mfa-entra-weak-methods-enabled tenant:authentication-methods-policy': 'Entra ID: authentication methods policy: SMS, Voice call and Email OTP are disabled' },
  },
  ...membershipCases(),
]

/** Group and role membership resolved (exports with `groups` / `directoryRoles`, as the live pull assembles them). */
function membershipCases(): Case[] {
  const [a, b, c] = [member(uid(1), 'ann@contoso.test'), member(uid(2), 'bob@contoso.test'), member(uid(3), 'cy@contoso.test')]
  return [
    {
      name: 'groups resolved: 2 of 3 members of an excluded group have no fallback (one is covered by a policy naming him)',
      policies: [ca('Require MFA', { users: { excludeGroups: [GROUP] } }), ca('MFA for Cy', { users: { includeUsers: [uid(3)] } })],
      groups: { [GROUP]: members(a, b, c) },
      expect: { 'fail mfa-entra-exclusion-without-fallback policy:Require MFA': `Entra ID: policy 'Require MFA' excludes group ${GROUP} (2 of 3 members: ann@contoso.test, bob@contoso.test) with no other enabled policy requiring MFA for them` },
    },
    {
      name: 'groups resolved: every member of the excluded group is in a group a fallback includes (nested groups through transitiveMembers)',
      policies: [ca('Require MFA', { users: { excludeGroups: [GROUP] } }), ca('MFA for staff', { users: { includeUsers: [], includeGroups: [GROUP2] } })],
      groups: { [GROUP]: members(a, b), [GROUP2]: members({ '@odata.type': '#microsoft.graph.group', id: GROUP, displayName: 'Contractors' }, a, b, c) },
      expect: { 'pass mfa-entra-exclusion-without-fallback policy:Require MFA': "Entra ID: policy 'Require MFA': every exclusion (1 principal) is covered by another policy requiring MFA" },
    },
    {
      name: 'an excluded user covered through a group another policy includes',
      policies: [ca('Require MFA', { users: { excludeUsers: [uid(2)] } }), ca('MFA for staff', { users: { includeUsers: [], includeGroups: [GROUP2] } })],
      groups: { [GROUP2]: members(a, b) },
      expect: { 'pass mfa-entra-exclusion-without-fallback policy:Require MFA': "Entra ID: policy 'Require MFA': every exclusion (1 principal) is covered by another policy requiring MFA" },
    },
    {
      name: 'a fallback whose included group is not resolved covers no one for certain',
      policies: [ca('Require MFA', { users: { excludeUsers: [uid(2)] } }), ca('MFA for staff', { users: { includeUsers: [], includeGroups: [GROUP2] } })],
      expect: { 'fail mfa-entra-exclusion-without-fallback policy:Require MFA': `Entra ID: policy 'Require MFA' excludes user ${uid(2)} with no other enabled policy requiring MFA for them` },
    },
    {
      name: 'a fallback for everyone but a group: the excluded user it also excludes is uncovered, by name',
      policies: [ca('Require MFA', { users: { excludeUsers: [uid(1), uid(2)] } }), ca('MFA except contractors', { users: { excludeGroups: [GROUP] } })],
      groups: { [GROUP]: members(b) },
      users: [reg('bob@contoso.test', uid(2), [])],
      expect: {
        'fail mfa-entra-exclusion-without-fallback policy:Require MFA': "Entra ID: policy 'Require MFA' excludes user bob@contoso.test with no other enabled policy requiring MFA for them",
        'fail mfa-entra-exclusion-without-fallback policy:MFA except contractors': `Entra ID: policy 'MFA except contractors' excludes group ${GROUP} (1 member: bob@contoso.test) with no other enabled policy requiring MFA for them`,
      },
    },
    {
      name: 'an excluded group with no members excludes no one',
      policies: [ca('Require MFA', { users: { excludeGroups: [GROUP] } })],
      groups: { [GROUP]: members() },
      expect: { 'pass mfa-entra-exclusion-without-fallback policy:Require MFA': "Entra ID: policy 'Require MFA': every exclusion (1 principal) is covered by another policy requiring MFA" },
    },
    {
      name: 'roles resolved: an excluded Global Administrator role whose members another policy covers, but for one admin also excluded there',
      policies: [ca('Require MFA', { users: { excludeRoles: [GA] } }), ca('MFA for admins', { users: { includeUsers: [], includeRoles: [GA], excludeGroups: [GROUP] } })],
      directoryRoles: [{ id: 'f0f0f0f0-0000-4000-8000-000000000001', displayName: 'Global Administrator', roleTemplateId: GA, members: [a, c] }],
      groups: { [GROUP]: members(c) },
      expect: { 'fail mfa-entra-exclusion-without-fallback policy:Require MFA': "Entra ID: policy 'Require MFA' excludes role Global Administrator (1 of 2 members: cy@contoso.test) with no other enabled policy requiring MFA for them" },
    },
    {
      name: 'a role held through a role-assignable group counts that group\'s members; an unlisted role has none',
      policies: [ca('Require MFA', { users: { excludeRoles: [GA, ALL_ROLES[1]!] } }), ca('MFA for admins', { users: { includeUsers: [], includeGroups: [GROUP2] } })],
      directoryRoles: [{ id: 'f0f0f0f0-0000-4000-8000-000000000001', displayName: 'Global Administrator', roleTemplateId: GA, members: [{ '@odata.type': '#microsoft.graph.group', id: GROUP2 }] }],
      groups: { [GROUP2]: members(a, b) },
      expect: { 'pass mfa-entra-exclusion-without-fallback policy:Require MFA': "Entra ID: policy 'Require MFA': every exclusion (2 principals) is covered by another policy requiring MFA" },
    },
    {
      name: 'a fallback excluding guests covers a member user (userType Member), not one of unknown type',
      policies: [
        ca('Require MFA', { users: { excludeUsers: [uid(1), uid(9)] } }),
        ca('MFA for members', { users: { excludeGuestsOrExternalUsers: { guestOrExternalUserTypes: 'b2bCollaborationGuest', externalTenants: { membershipKind: 'all' } } } }),
      ],
      groups: { [GROUP2]: members(a) },
      expect: { 'fail mfa-entra-exclusion-without-fallback policy:Require MFA': `Entra ID: policy 'Require MFA' excludes user ${uid(9)} with no other enabled policy requiring MFA for them` },
    },
    {
      name: 'break-glass account excluded through a resolved group: excluded, exempt, judged on its methods',
      policies: [ca('Require MFA', { users: { excludeGroups: [GLASS_GROUP] } })],
      groups: { [GLASS_GROUP]: members(member(GLASS_ID, GLASS)) },
      users: [reg(GLASS, GLASS_ID, ['fido2SecurityKey'], true)],
      breakGlass: [GLASS],
      expect: {
        'pass mfa-entra-exclusion-without-fallback policy:Require MFA': "Entra ID: policy 'Require MFA': every exclusion (1 principal) is covered by another policy requiring MFA",
        [`pass mfa-entra-break-glass user:${GLASS}`]: `Entra ID: break-glass account ${GLASS} is excluded from every MFA policy and has a phishing-resistant method (fido2)`,
      },
    },
    {
      name: 'break-glass account included through a resolved group and not excluded: caught',
      policies: [ca('MFA for staff', { users: { includeUsers: [], includeGroups: [GROUP2] } })],
      groups: { [GROUP2]: members(a, member(GLASS_ID, GLASS)) },
      breakGlass: [GLASS],
      expect: { [`fail mfa-entra-break-glass user:${GLASS}`]: `Entra ID: break-glass account ${GLASS} is not excluded from 'MFA for staff': a broken MFA provider or policy locks the tenant out` },
    },
    {
      name: 'break-glass account behind a group whose members are not known: not judged, never passed',
      policies: [ca('Require MFA', { users: { excludeGroups: [GLASS_GROUP] } })],
      users: [reg(GLASS, GLASS_ID, ['fido2SecurityKey'], true)],
      breakGlass: [GLASS],
      expect: { 'fail mfa-entra-exclusion-without-fallback policy:Require MFA': `Entra ID: policy 'Require MFA' excludes group ${GLASS_GROUP} (members not resolved) with no other enabled policy requiring MFA for them` },
      skipped: [
        `mfa-entra-break-glass: break-glass account ${GLASS}: whether 'Require MFA' applies to it depends on members not resolved (group ${GLASS_GROUP}): export the groups' transitiveMembers and directoryRoles, or pull entra:// live`,
      ],
    },
  ]
}

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ztscan-entra-policy-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function judge(c: Pick<Case, 'policies' | 'users' | 'methodsPolicy' | 'breakGlass' | 'groups' | 'directoryRoles'>, file = `case-${++n}.json`): Promise<ScanReport> {
  const path = join(dir, file)
  const bundle: Json = {}
  if (c.policies) bundle.conditionalAccessPolicies = { '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#identity/conditionalAccess/policies', value: c.policies }
  if (c.users) bundle.userRegistrationDetails = { value: c.users }
  if (c.methodsPolicy) bundle.authenticationMethodsPolicy = c.methodsPolicy
  if (c.groups) bundle.groups = c.groups
  if (c.directoryRoles) bundle.directoryRoles = { '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#directoryRoles', value: c.directoryRoles }
  await writeFile(path, JSON.stringify(bundle))
  const policy = c.breakGlass ? { rules: { 'mfa-entra-break-glass': { parameters: { accounts: c.breakGlass } } } } : undefined
  return tester.run(fileTarget('identity-export', 'idp', path, 'entra'), policy ? { policy: policy as never } : {})
}

describe('Entra ID: what policies enforce', () => {
  it('has at least 15 hand-built policy sets', () => {
    expect(cases.length).toBeGreaterThanOrEqual(15)
  })

  it.each(cases)('$name', async (c) => {
    const report = await judge(c)
    expect(report.errors).toEqual([])
    const got = new Map(report.findings.map((f) => [`${f.status} ${f.ruleId} ${f.resource}`, f.message]))
    for (const [key, message] of Object.entries(c.expect)) {
      expect(got.has(key), `${key} among ${[...got.keys()].join(' | ')}`).toBe(true)
      expect(got.get(key)).toBe(message)
    }
    if (c.skipped) expect(report.skipped.map((x) => x.why)).toEqual(c.skipped)
    // One verdict per rule and resource: the same policy set never both passes and fails a rule.
    const keys = report.findings.map((f) => `${f.ruleId} ${f.resource}`)
    expect(new Set(keys).size).toBe(keys.length)
  })

  it('PowerShell Graph SDK output (PascalCase) is judged like Graph JSON', async () => {
    const pascal = (v: unknown): unknown =>
      Array.isArray(v) ? v.map(pascal) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k[0]!.toUpperCase() + k.slice(1), pascal(x)])) : v
    const path = join(dir, 'pascal.json')
    await writeFile(path, JSON.stringify({ conditionalAccessPolicies: pascal([ca('MFA on risky sign-ins', { conditions: { signInRiskLevels: ['high'] } }), block('Block legacy', LEGACY)]) }))
    const report = await tester.run(fileTarget('identity-export', 'idp', path, 'entra'))
    const v = report.findings.map((f) => `${f.status} ${f.ruleId}`).sort()
    expect(v).toEqual(['fail mfa-entra-admin-phishing-resistant', 'fail mfa-entra-device-code-allowed', 'fail mfa-not-enforced', 'pass mfa-entra-legacy-auth-allowed'])
  })

  it('says what it could not judge: no break-glass list; a break-glass account missing from the export', async () => {
    const none = await judge({ policies: [ca('Require MFA')] })
    expect(none.skipped.map((s) => s.why)).toEqual(['mfa-entra-break-glass: no break-glass accounts listed in the policy (rules.mfa-entra-break-glass.parameters.accounts)'])
    const missing = await judge({ policies: [ca('Require MFA', { users: { excludeUsers: [GLASS_ID] } })], breakGlass: [GLASS_ID] })
    expect(missing.findings.filter((f) => f.ruleId === 'mfa-entra-break-glass')).toEqual([])
    expect(missing.skipped.map((s) => s.why)).toEqual([
      `mfa-entra-break-glass: break-glass account ${GLASS_ID}: excluded from every MFA policy, but not in the export's userRegistrationDetails, so its own protection (a phishing-resistant method) was not judged`,
    ])
  })

  it('a group page with @odata.nextLink in a file: the group stays unresolved and the file is incomplete; a groups value of the wrong shape is an input error naming it', async () => {
    const more = await judge({ policies: [ca('Require MFA', { users: { excludeGroups: [GROUP] } })], groups: { [GROUP]: { value: [member(uid(1), 'ann@contoso.test')], '@odata.nextLink': `https://graph.microsoft.com/v1.0/groups/${GROUP}/transitiveMembers?$skiptoken=x` } } }, 'group-next.json')
    expect(more.errors.map((e) => `${e.reason}: ${e.message}`)).toEqual([
      `incomplete: ${join(dir, 'group-next.json')}: a Graph page with more to come: only its 0 users and 1 policies were judged; missing /groups/${GROUP}: the pages after /groups/${GROUP}/@odata.nextLink (export every page: follow @odata.nextLink, or Get-Mg… -All)`,
    ])
    expect(more.findings.find((f) => f.ruleId === 'mfa-entra-exclusion-without-fallback')?.message).toBe(`Entra ID: policy 'Require MFA' excludes group ${GROUP} (members not resolved) with no other enabled policy requiring MFA for them`)
    const bad = await judge({ policies: [ca('Require MFA')], groups: { [GROUP]: 'everyone' } as Json }, 'group-bad.json')
    expect(bad.errors.map((e) => `${e.reason}: ${e.message}`)).toEqual([`input: ${join(dir, 'group-bad.json')}: /groups/${GROUP}: expected a transitiveMembers response { value: [...] } or an array (got "everyone")`])
  })

  it('a methods-policy file alone is judged (GET /policies/authenticationMethodsPolicy)', async () => {
    const path = join(dir, 'methods.json')
    await writeFile(path, JSON.stringify(methods({ Email: 'enabled' })))
    const report = await tester.run(fileTarget('identity-export', 'idp', path, 'entra'))
    expect(report.findings.map((f) => `${f.status} ${f.ruleId} ${f.message}`)).toEqual(['fail mfa-entra-weak-methods-enabled Entra ID: authentication methods policy: Email OTP is enabled'])
    expect(report.skipped).toEqual([])
  })
})
