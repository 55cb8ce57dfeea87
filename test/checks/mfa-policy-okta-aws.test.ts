/**
 * What Okta authentication policies and AWS IAM policies enforce, judged through the real check from export files in the
 * vendors' shapes: Okta `GET /api/v1/policies?type=ACCESS_POLICY` with rules and app mappings; AWS
 * `aws iam get-account-authorization-details`, `get-account-summary` and the credential report.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import idpExport from '../../checks/mfa/idp.ts'
import { iamMatch } from '../../checks/mfa/policy-aws.ts'
import { fileTarget } from '../../src/targets/host.ts'
import type { ScanReport } from '../../src/types.ts'
import { checkTester } from '../helpers/check-tester.ts'

const tester = checkTester(idpExport)
type Json = Record<string, unknown>

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ztscan-okta-aws-policy-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})
let n = 0
async function judge(provider: string, content: unknown, policy?: Json): Promise<ScanReport> {
  const path = join(dir, `${provider}-${++n}.json`)
  await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content))
  return tester.run(fileTarget('identity-export', 'idp', path, provider), policy ? { policy: policy as never } : {})
}
const messages = (r: ScanReport): string[] => r.findings.map((f) => `${f.status} ${f.ruleId} ${f.resource}: ${f.message}`).sort()

// ------------------------------------------------------------------------------------------------------------------ Okta

/** An Okta Identity Engine app sign-in policy rule (`GET /api/v1/policies/{id}/rules` item). */
function oktaRule(name: string, over: { status?: string; access?: string; factorMode?: string | null; phishingResistant?: boolean } = {}): Json {
  return {
    id: `rul${++n}`,
    status: over.status ?? 'ACTIVE',
    name,
    priority: n,
    created: '2025-01-01T00:00:00.000Z',
    lastUpdated: '2025-01-01T00:00:00.000Z',
    system: false,
    conditions: { people: { users: { exclude: [] } }, network: { connection: 'ANYWHERE' }, riskScore: { level: 'ANY' } },
    actions: {
      appSignOn: {
        access: over.access ?? 'ALLOW',
        ...(over.factorMode === null
          ? {}
          : {
              verificationMethod: {
                factorMode: over.factorMode ?? '2FA',
                type: 'ASSURANCE',
                reauthenticateIn: 'PT2H',
                constraints: [{ knowledge: { types: ['password'] }, possession: { deviceBound: 'REQUIRED', ...(over.phishingResistant ? { phishingResistant: 'REQUIRED' } : {}) } }],
              },
            }),
      },
    },
    type: 'ACCESS_POLICY',
  }
}
function oktaPolicy(name: string, rules: Json[], apps: Json[] = [], status = 'ACTIVE'): Json {
  return { id: `rst${++n}`, status, name, description: null, priority: 1, system: false, type: 'ACCESS_POLICY', rules, apps }
}
const ADMIN_CONSOLE = { id: '0oa1admin', name: 'saasure', label: 'Okta Admin Console', status: 'ACTIVE' }
const DASHBOARD = { id: '0oa1dash', name: 'okta_enduser', label: 'Okta Dashboard', status: 'ACTIVE' }

describe('Okta authentication policies', () => {
  it('Admin Console: two factors with a phishing-resistant possession constraint passes both rules', async () => {
    const r = await judge('okta', { authenticationPolicies: [oktaPolicy('Okta Admin Console', [oktaRule('Admins', { phishingResistant: true }), oktaRule('Catch-all Rule', { access: 'DENY', factorMode: '1FA' })], [ADMIN_CONSOLE])] })
    expect(r.errors).toEqual([])
    expect(messages(r)).toEqual([
      "pass mfa-okta-admin-console-phishable policy:Okta Admin Console: Okta: the Okta Admin Console policy 'Okta Admin Console' requires two factors, one of them phishing-resistant, in every allowing rule",
      "pass mfa-okta-policy-single-factor policy:Okta Admin Console: Okta: authentication policy 'Okta Admin Console': every allowing rule requires two factors (1)",
    ])
  })

  it('Admin Console: two factors but any possession factor (push, OTP) fails the phishing-resistant rule', async () => {
    const r = await judge('okta', { authenticationPolicies: [oktaPolicy('Admin apps', [oktaRule('Admins')], [ADMIN_CONSOLE])] })
    expect(messages(r)).toEqual([
      "fail mfa-okta-admin-console-phishable policy:Admin apps: Okta: the Okta Admin Console policy 'Admin apps' lets administrators in without a phishing-resistant factor: rule 'Admins' (possession factor not required to be phishing-resistant)",
      "pass mfa-okta-policy-single-factor policy:Admin apps: Okta: authentication policy 'Admin apps': every allowing rule requires two factors (1)",
    ])
  })

  it('a one-factor allow rule fails its policy; inactive and deny rules, and inactive policies, are not judged', async () => {
    const r = await judge('okta', {
      authenticationPolicies: [
        oktaPolicy('Okta Dashboard', [oktaRule('Office network', { factorMode: '1FA' }), oktaRule('No method', { factorMode: null }), oktaRule('Old', { status: 'INACTIVE', factorMode: '1FA' }), oktaRule('Everyone', {})], [DASHBOARD]),
        oktaPolicy('Retired', [oktaRule('Anything', { factorMode: '1FA' })], [], 'INACTIVE'),
        oktaPolicy('Okta Admin Console', [oktaRule('Admins', { factorMode: '1FA' })], [ADMIN_CONSOLE]),
      ],
    })
    expect(messages(r)).toEqual([
      "fail mfa-okta-admin-console-phishable policy:Okta Admin Console: Okta: the Okta Admin Console policy 'Okta Admin Console' lets administrators in without a phishing-resistant factor: rule 'Admins' (one factor)",
      "fail mfa-okta-policy-single-factor policy:Okta Admin Console: Okta: authentication policy 'Okta Admin Console': rule 'Admins' allows sign-in with factorMode 1FA",
      "fail mfa-okta-policy-single-factor policy:Okta Dashboard: Okta: authentication policy 'Okta Dashboard': rule 'Office network' allows sign-in with factorMode 1FA; rule 'No method' allows sign-in with no verification method (one factor)",
    ])
  })

  it('no Admin Console policy in the export is a named skip; users and policies judge together', async () => {
    const r = await judge('okta', {
      users: [{ id: '00u1', status: 'ACTIVE', profile: { login: 'alice@example.com' }, _embedded: { factors: [{ factorType: 'webauthn', status: 'ACTIVE' }] } }],
      authenticationPolicies: [oktaPolicy('Okta Dashboard', [oktaRule('Everyone')], [DASHBOARD])],
    })
    expect(r.findings.map((f) => `${f.status} ${f.ruleId}`).sort()).toEqual(['pass mfa-coverage', 'pass mfa-okta-policy-single-factor', 'pass mfa-user-without-mfa', 'pass mfa-weak-factors-only'])
    expect(r.skipped.map((s) => s.why)).toEqual(['mfa-okta-admin-console-phishable: no active authentication policy mapped to the Okta Admin Console (app saasure) in this export'])
  })

  it('a policy without a rules array is an input error naming it', async () => {
    const r = await judge('okta', { authenticationPolicies: [{ id: 'rst1', name: 'P', status: 'ACTIVE', type: 'ACCESS_POLICY' }] })
    expect(r.errors[0]!.message).toMatch(/\/authenticationPolicies\/0\/rules: expected an array \(GET \/api\/v1\/policies\/\{id\}\/rules\)/)
  })
})

// ------------------------------------------------------------------------------------------------------------------- AWS

const ACCOUNT = '123456789012'
const managed = (name: string, doc: Json, aws = false): Json => ({
  PolicyName: name,
  PolicyId: `ANPA${name.toUpperCase().replace(/[^A-Z]/g, '')}`,
  Arn: aws ? `arn:aws:iam::aws:policy/${name}` : `arn:aws:iam::${ACCOUNT}:policy/${name}`,
  Path: '/',
  DefaultVersionId: 'v1',
  AttachmentCount: 1,
  IsAttachable: true,
  PolicyVersionList: [{ Document: doc, VersionId: 'v1', IsDefaultVersion: true, CreateDate: '2025-01-01T00:00:00Z' }],
})
const doc = (...Statement: Json[]): Json => ({ Version: '2012-10-17', Statement })
const user = (name: string, over: Json = {}): Json => ({ Path: '/', UserName: name, UserId: `AIDA${name.toUpperCase()}`, Arn: `arn:aws:iam::${ACCOUNT}:user/${name}`, CreateDate: '2025-01-01T00:00:00Z', UserPolicyList: [], GroupList: [], AttachedManagedPolicies: [], Tags: [], ...over })
const attach = (name: string, aws = false): Json => ({ PolicyName: name, PolicyArn: aws ? `arn:aws:iam::aws:policy/${name}` : `arn:aws:iam::${ACCOUNT}:policy/${name}` })
/** AWS's documented "allow managing own MFA, deny everything else without MFA" statement. */
const FORCE_MFA = {
  Sid: 'DenyAllExceptListedIfNoMFA',
  Effect: 'Deny',
  NotAction: ['iam:CreateVirtualMFADevice', 'iam:EnableMFADevice', 'iam:GetUser', 'iam:ListMFADevices', 'iam:ListVirtualMFADevices', 'iam:ResyncMFADevice', 'sts:GetSessionToken'],
  Resource: '*',
  Condition: { BoolIfExists: { 'aws:MultiFactorAuthPresent': 'false' } },
}

const details = {
  UserDetailList: [
    user('alice', { GroupList: ['admins'] }),
    user('bob', { AttachedManagedPolicies: [attach('AdministratorAccess', true)], UserPolicyList: [{ PolicyName: 'ForceMFA', PolicyDocument: doc(FORCE_MFA) }] }),
    user('carol', { UserPolicyList: [{ PolicyName: 'IamWithMfa', PolicyDocument: doc({ Effect: 'Allow', Action: 'iam:*', Resource: '*', Condition: { Bool: { 'aws:MultiFactorAuthPresent': 'true' } } }) }] }),
    user('dave', { UserPolicyList: [{ PolicyName: 'IamIfExists', PolicyDocument: doc({ Effect: 'Allow', Action: ['iam:*'], Resource: '*', Condition: { BoolIfExists: { 'aws:MultiFactorAuthPresent': 'true' } } }) }] }),
    user('erin', { AttachedManagedPolicies: [attach('ReadS3')] }),
    user('frank', { UserPolicyList: [{ PolicyName: 'AllButIam', PolicyDocument: encodeURIComponent(JSON.stringify(doc({ Effect: 'Allow', NotAction: 'iam:*', Resource: '*' }))) }] }),
  ],
  GroupDetailList: [{ Path: '/', GroupName: 'admins', GroupId: 'AGPAADMINS', Arn: `arn:aws:iam::${ACCOUNT}:group/admins`, GroupPolicyList: [], AttachedManagedPolicies: [attach('AdministratorAccess', true)] }],
  RoleDetailList: [],
  Policies: [managed('AdministratorAccess', doc({ Effect: 'Allow', Action: '*', Resource: '*' }), true), managed('ReadS3', doc({ Effect: 'Allow', Action: ['s3:GetObject', 's3:List*'], Resource: '*' }))],
}

describe('AWS IAM policies without the MFA condition', () => {
  it('judges each user on its own, group and managed policies', async () => {
    const r = await judge('aws', details)
    expect(r.errors).toEqual([])
    expect(messages(r)).toEqual([
      "fail mfa-aws-policy-without-mfa-condition user:alice: AWS IAM: IAM user alice can call iam:CreateUser, iam:CreateAccessKey, iam:CreateLoginProfile and 16 more without MFA ('AdministratorAccess (group admins)': no aws:MultiFactorAuthPresent condition)",
      "fail mfa-aws-policy-without-mfa-condition user:dave: AWS IAM: IAM user dave can call iam:CreateUser, iam:CreateAccessKey, iam:CreateLoginProfile and 9 more without MFA ('IamIfExists': no aws:MultiFactorAuthPresent condition)",
      "fail mfa-aws-policy-without-mfa-condition user:frank: AWS IAM: IAM user frank can call sts:AssumeRole, organizations:LeaveOrganization, kms:ScheduleKeyDeletion and 4 more without MFA ('AllButIam': no aws:MultiFactorAuthPresent condition)",
      'pass mfa-aws-policy-without-mfa-condition user:bob: AWS IAM: IAM user bob: no sensitive action is allowed without MFA',
      'pass mfa-aws-policy-without-mfa-condition user:carol: AWS IAM: IAM user carol: no sensitive action is allowed without MFA',
      'pass mfa-aws-policy-without-mfa-condition user:erin: AWS IAM: IAM user erin: no sensitive action is allowed without MFA',
    ])
    // The credential report's own rules say what they could not judge from this file alone.
    expect(r.skipped.map((s) => s.rule).sort()).toEqual(['mfa-aws-root-access-keys', 'mfa-aws-root-without-mfa'])
  })

  it('the sensitive actions are a rule parameter', async () => {
    const r = await judge('aws', details, { rules: { 'mfa-aws-policy-without-mfa-condition': { parameters: { sensitiveActions: ['s3:GetObject'] } } } })
    expect(r.findings.filter((f) => f.status === 'fail').map((f) => f.resource).sort()).toEqual(['user:alice', 'user:erin', 'user:frank'])
  })

  it('a bundle: credential report, account summary and authorization details together; a missing managed policy document is a named skip', async () => {
    const csv = 'user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n' +
      `alice,arn:aws:iam::${ACCOUNT}:user/alice,2025-01-01T00:00:00+00:00,true,N/A,N/A,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n`
    const bundle = {
      credentialReport: { Content: Buffer.from(csv).toString('base64'), ReportFormat: 'text/csv', GeneratedTime: '2025-06-01T00:00:00Z' },
      accountSummary: { SummaryMap: { AccountMFAEnabled: 0, AccountAccessKeysPresent: 1, Users: 1 } },
      authorizationDetails: { ...details, UserDetailList: [user('alice', { AttachedManagedPolicies: [attach('Gone')] })] },
    }
    const r = await judge('aws', bundle)
    expect(r.errors).toEqual([])
    expect(r.findings.map((f) => `${f.status} ${f.ruleId} ${f.resource}`).sort()).toEqual([
      'fail mfa-aws-root-access-keys user:<root_account>',
      'fail mfa-aws-root-without-mfa user:<root_account>',
      'fail mfa-coverage coverage:users',
      'fail mfa-user-without-mfa user:alice',
      'pass mfa-aws-policy-without-mfa-condition user:alice',
    ])
    expect(r.findings.find((f) => f.ruleId === 'mfa-aws-root-without-mfa')!.evidence).toMatchObject({ source: 'GetAccountSummary: AccountMFAEnabled 0' })
    expect(r.skipped.map((s) => s.why)).toEqual(['mfa-aws-policy-without-mfa-condition: not judged (1): Gone: no policy document in the export'])
  })

  it('IAM wildcards match case-insensitively in linear time', () => {
    expect(iamMatch('iam:*', 'IAM:CreateUser')).toBe(true)
    expect(iamMatch('iam:Create*', 'iam:CreateAccessKey')).toBe(true)
    expect(iamMatch('iam:?reateUser', 'iam:CreateUser')).toBe(true)
    expect(iamMatch('iam:Get*', 'iam:CreateUser')).toBe(false)
    expect(iamMatch('*', 's3:DeleteBucket')).toBe(true)
    // A hostile pattern stays cheap: many stars against a long non-matching action.
    const t = Date.now()
    expect(iamMatch(`${'*a'.repeat(2000)}b`, 'a'.repeat(5000))).toBe(false)
    expect(Date.now() - t).toBeLessThan(5000)
  })
})
