import { describe, expect, it } from 'vitest'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import idpExport from '../../checks/mfa/idp.ts'
import { parseCsv } from '../../checks/mfa/exports.ts'
import { fileTarget } from '../../src/targets/parse.ts'
import type { ScanReport } from '../../src/types.ts'
import { checkTester, findingOf } from '../helpers/check-tester.ts'

const tester = checkTester(idpExport)
const fixture = (p: string): string => join(import.meta.dirname, '../../fixtures/mfa', p)
const target = (provider: string, p: string) => fileTarget('identity-export', 'idp', fixture(p), provider)
/** Every verdict as `status rule resource`, sorted. */
const verdicts = (r: ScanReport): string[] => r.findings.map((f) => `${f.status} ${f.ruleId} ${f.resource}`).sort()

const cases: { name: string; provider: string; file: string; policy?: Record<string, unknown>; expect: string[] }[] = [
  {
    name: 'okta users + factors + roles',
    provider: 'okta',
    file: 'okta/users-factors.json',
    expect: [
      'fail mfa-admin-without-mfa user:frank@example.com',
      'pass mfa-admin-without-mfa user:erin@example.com',
      'pass mfa-admin-without-mfa user:grace@example.com',
      'fail mfa-user-without-mfa user:carol@example.com',
      'fail mfa-user-without-mfa user:dave@example.com', // security question only; TOTP still pending activation
      'pass mfa-user-without-mfa user:alice@example.com',
      'pass mfa-user-without-mfa user:bob@example.com',
      'pass mfa-user-without-mfa user:ivan@example.com',
      'fail mfa-weak-factors-only user:bob@example.com', // sms only
      'fail mfa-weak-factors-only user:erin@example.com', // admin with push + TOTP: phishing-resistant required for admins
      'fail mfa-weak-factors-only user:ivan@example.com', // email + voice
      'pass mfa-weak-factors-only user:alice@example.com', // webauthn
      'pass mfa-weak-factors-only user:grace@example.com', // Okta FastPass (signed_nonce)
    ],
  },
  {
    name: 'okta users with _embedded.factors',
    provider: 'okta',
    file: 'okta/users-embedded.json',
    expect: [
      'fail mfa-user-without-mfa user:carol@example.com',
      'fail mfa-weak-factors-only user:bob@example.com',
      'pass mfa-user-without-mfa user:alice@example.com',
      'pass mfa-user-without-mfa user:bob@example.com',
      'pass mfa-weak-factors-only user:alice@example.com',
    ],
  },
  {
    name: 'entra userRegistrationDetails',
    provider: 'entra',
    file: 'entra/user-registration-details.json',
    expect: [
      'fail mfa-admin-without-mfa user:admin.nomfa@contoso.com',
      'pass mfa-admin-without-mfa user:admin.fido@contoso.com',
      'pass mfa-admin-without-mfa user:admin.push@contoso.com',
      'fail mfa-user-without-mfa user:guest_partner.com#EXT#@contoso.onmicrosoft.com', // email is not an MFA method in Entra
      'pass mfa-user-without-mfa user:sms.only@contoso.com',
      'pass mfa-user-without-mfa user:totp.user@contoso.com',
      'pass mfa-user-without-mfa user:whfb.user@contoso.com',
      'fail mfa-weak-factors-only user:admin.push@contoso.com',
      'fail mfa-weak-factors-only user:sms.only@contoso.com',
      'pass mfa-weak-factors-only user:admin.fido@contoso.com',
      'pass mfa-weak-factors-only user:totp.user@contoso.com',
      'pass mfa-weak-factors-only user:whfb.user@contoso.com',
    ],
  },
  {
    name: 'entra Conditional Access: report-only, OR compliantDevice, one app only, block — none enforces MFA',
    provider: 'entra',
    file: 'entra/conditional-access-policies.json',
    expect: ['fail mfa-not-enforced tenant:conditional-access'],
  },
  {
    name: 'entra bundle with a phishing-resistant strength policy for all users',
    provider: 'entra',
    file: 'entra/bundle.json',
    expect: [
      'fail mfa-admin-without-mfa user:admin.nomfa@contoso.com',
      'pass mfa-admin-without-mfa user:admin.fido@contoso.com',
      'pass mfa-not-enforced tenant:conditional-access',
      'pass mfa-weak-factors-only user:admin.fido@contoso.com',
    ],
  },
  {
    name: 'entra: requirePhishingResistant for everyone',
    provider: 'entra',
    file: 'entra/user-registration-details.json',
    policy: { rules: { 'mfa-weak-factors-only': { parameters: { requirePhishingResistant: true } } } },
    expect: [
      'fail mfa-admin-without-mfa user:admin.nomfa@contoso.com',
      'pass mfa-admin-without-mfa user:admin.fido@contoso.com',
      'pass mfa-admin-without-mfa user:admin.push@contoso.com',
      'fail mfa-user-without-mfa user:guest_partner.com#EXT#@contoso.onmicrosoft.com',
      'pass mfa-user-without-mfa user:sms.only@contoso.com',
      'pass mfa-user-without-mfa user:totp.user@contoso.com',
      'pass mfa-user-without-mfa user:whfb.user@contoso.com',
      'fail mfa-weak-factors-only user:admin.push@contoso.com',
      'fail mfa-weak-factors-only user:sms.only@contoso.com',
      'fail mfa-weak-factors-only user:totp.user@contoso.com',
      'pass mfa-weak-factors-only user:admin.fido@contoso.com',
      'pass mfa-weak-factors-only user:whfb.user@contoso.com',
    ],
  },
  {
    name: 'google directory users',
    provider: 'google',
    file: 'google/users.json',
    expect: [
      'fail mfa-admin-without-mfa user:delegate@example.org',
      'fail mfa-admin-without-mfa user:lazyadmin@example.org',
      'pass mfa-admin-without-mfa user:super@example.org',
      'fail mfa-user-without-mfa user:nobody@example.org',
      'pass mfa-user-without-mfa user:enrolled@example.org',
      'fail mfa-not-enforced user:enrolled@example.org',
      'fail mfa-not-enforced user:lazyadmin@example.org',
      'fail mfa-not-enforced user:nobody@example.org',
      'pass mfa-not-enforced user:delegate@example.org',
      'pass mfa-not-enforced user:super@example.org',
    ],
  },
  {
    name: 'aws credential report CSV: root without MFA and with a key; console user without MFA',
    provider: 'aws',
    file: 'aws/credential-report.csv',
    expect: [
      'fail mfa-aws-root-access-keys user:<root_account>',
      'fail mfa-aws-root-without-mfa user:<root_account>',
      'fail mfa-user-without-mfa user:bob',
      'pass mfa-user-without-mfa user:alice',
    ],
  },
  {
    name: 'aws get-credential-report JSON (base64 Content): a clean account',
    provider: 'aws',
    file: 'aws/get-credential-report.json',
    expect: ['pass mfa-aws-root-access-keys user:<root_account>', 'pass mfa-aws-root-without-mfa user:<root_account>', 'pass mfa-user-without-mfa user:carol'],
  },
  {
    name: 'github org bundle',
    provider: 'github',
    file: 'github/org-bundle.json',
    expect: [
      'fail mfa-admin-without-mfa user:monalisa',
      'pass mfa-admin-without-mfa user:defunkt',
      'fail mfa-user-without-mfa user:hubot',
      'pass mfa-user-without-mfa user:octocat',
      'fail mfa-not-enforced org:acme-corp',
    ],
  },
  { name: 'github 2fa_disabled list alone', provider: 'github', file: 'github/members-2fa-disabled.json', expect: ['fail mfa-user-without-mfa user:hubot'] },
  {
    name: 'github org requiring 2FA',
    provider: 'github',
    file: 'github/org-enforced.json',
    expect: ['pass mfa-not-enforced org:good-corp', 'pass mfa-user-without-mfa user:octocat'],
  },
]

describe('mfa-idp-export', () => {
  it.each(cases)('$name', async ({ provider, file, policy, expect: want }) => {
    const report = await tester.run(target(provider, file), policy ? { policy: policy as never } : {})
    expect(report.errors).toEqual([])
    expect(verdicts(report)).toEqual([...want].sort())
  })

  it('evidence names users and factors, and messages read right for fails and passes', async () => {
    const report = await tester.run(target('okta', 'okta/users-factors.json'))
    const bob = findingOf(report, 'mfa-weak-factors-only', (f) => f.resource === 'user:bob@example.com')
    expect(bob).toMatchObject({ status: 'fail', severity: 'medium', pillar: 'identity' })
    expect(bob.evidence).toMatchObject({ user: 'bob@example.com', userId: '00u2bob00000000002', provider: 'Okta', admin: false, factors: ['sms'], vendorFactors: ['sms'], tier: 'weak' })
    expect(bob.message).toBe('bob@example.com (Okta) has no factor of the required strength: strongest is weak (sms); required: stronger than SMS, voice or email')
    const frank = findingOf(report, 'mfa-admin-without-mfa', (f) => f.resource === 'user:frank@example.com')
    expect(frank).toMatchObject({ severity: 'critical', message: 'Administrator frank@example.com can sign in to Okta without a second factor' })
    expect(findingOf(report, 'mfa-user-without-mfa', (f) => f.resource === 'user:alice@example.com').message).toBe('alice@example.com has a second factor (Okta)')
    // Nothing from the factor profiles (phone numbers, credential ids) reaches the report.
    expect(JSON.stringify(report)).not.toMatch(/555-415|l3Br0n|favorite_art/)
  })

  it('entra: the enforcing policy and its exclusions are evidence', async () => {
    const report = await tester.run(target('entra', 'entra/bundle.json'))
    const f = findingOf(report, 'mfa-not-enforced')
    expect(f.evidence).toMatchObject({
      policies: ['Require phishing-resistant MFA for all users'],
      policiesChecked: 5,
      exclusions: ['Require phishing-resistant MFA for all users: 1 users, 0 groups, 0 roles excluded'],
      phishingResistantStrength: true,
    })
  })

  it('not-enforced messages name the missing setting', async () => {
    const entra = await tester.run(target('entra', 'entra/conditional-access-policies.json'))
    expect(findingOf(entra, 'mfa-not-enforced').message).toBe('Entra ID: MFA is not enforced for all users (no enabled Conditional Access policy requires MFA for all users and all apps)')
    const github = await tester.run(target('github', 'github/org-bundle.json'))
    expect(findingOf(github, 'mfa-not-enforced').message).toBe('GitHub: MFA is not enforced for organization acme-corp (two_factor_requirement_enabled: false)')
    const google = await tester.run(target('google', 'google/users.json'))
    expect(findingOf(google, 'mfa-not-enforced', (f) => f.resource === 'user:nobody@example.org').message).toBe('Google Workspace: MFA is not enforced for user nobody@example.org (isEnforcedIn2Sv: false)')
  })

  it('aws root evidence carries the ARN and which keys are active', async () => {
    const report = await tester.run(target('aws', 'aws/credential-report.csv'))
    expect(findingOf(report, 'mfa-aws-root-access-keys').message).toBe('AWS root account arn:aws:iam::123456789012:root has active access keys: access_key_1')
    expect(report.summary.failed.critical).toBe(2)
  })

  it('a policy can move a factor between tiers', async () => {
    const policy = { rules: { 'mfa-weak-factors-only': { parameters: { weakFactors: ['sms', 'voice', 'email', 'push', 'totp'], requirePhishingResistantForAdmins: false } } } }
    const report = await tester.run(target('okta', 'okta/users-factors.json'), { policy: policy as never })
    const weak = report.findings.filter((f) => f.ruleId === 'mfa-weak-factors-only' && f.status === 'fail').map((f) => f.resource).sort()
    expect(weak).toEqual(['user:bob@example.com', 'user:erin@example.com', 'user:ivan@example.com'])
  })

  describe('bad inputs become input errors naming the file and field', () => {
    const bad: { name: string; provider: string; content: string; message: RegExp }[] = [
      { name: 'not JSON', provider: 'okta', content: '{"users": [', message: /bad\.json: \/: expected valid JSON/ },
      { name: 'okta user without login', provider: 'okta', content: JSON.stringify({ users: [{ id: 'x', status: 'ACTIVE', profile: {} }], factors: { x: [] } }), message: /bad\.json: \/users\/0\/profile\/login: expected a non-empty string/ },
      { name: 'okta user missing from factors', provider: 'okta', content: '', message: /missing-factors\.json: \/factors\/00u2bob00000000002: expected the factor list of user bob@example\.com/ },
      { name: 'entra methodsRegistered not an array', provider: 'entra', content: JSON.stringify({ value: [{ userPrincipalName: 'a@b', methodsRegistered: 'sms' }] }), message: /\/value\/0\/methodsRegistered: expected an array \(got "sms"\)/ },
      { name: 'google user without isEnrolledIn2Sv', provider: 'google', content: JSON.stringify({ users: [{ primaryEmail: 'a@b' }] }), message: /\/users\/0\/isEnrolledIn2Sv: expected true or false/ },
      { name: 'aws report without mfa_active', provider: 'aws', content: 'user,arn,password_enabled\nx,y,true\n', message: /line 1: expected a column "mfa_active"/ },
      { name: 'aws value not a boolean', provider: 'aws', content: 'user,arn,password_enabled,mfa_active,access_key_1_active,access_key_2_active\nx,arn:x,true,maybe,false,false\n', message: /line 2: column mfa_active: expected true or false \(got "maybe"\)/ },
      { name: 'github member without login', provider: 'github', content: JSON.stringify([{ id: 1 }]), message: /bad\.json: \/0\/login: expected a non-empty string/ },
      { name: 'unknown provider', provider: 'ldap', content: '{}', message: /unknown identity provider "ldap"/ },
    ]
    it.each(bad)('$name', async ({ provider, content, message }) => {
      const dir = await mkdtemp(join(tmpdir(), 'ztscan-mfa-'))
      try {
        let path = join(dir, 'bad.json')
        if (content) await writeFile(path, content)
        else path = fixture('okta/missing-factors.json')
        const report = await tester.run(fileTarget('identity-export', 'idp', path, provider))
        expect(report.findings).toEqual([])
        expect(report.errors).toHaveLength(1)
        expect(report.errors[0]).toMatchObject({ check: 'mfa-idp-export', reason: 'input' })
        expect(report.errors[0]!.message).toMatch(message)
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
    })

    it('a missing file fails the scan before any check runs (fail closed)', async () => {
      await expect(tester.run(fileTarget('identity-export', 'idp', '/nonexistent/ztscan/users.json', 'okta'))).rejects.toThrow(/users\.json: cannot read \(ENOENT\)/)
    })
  })

  it('parses RFC 4180 CSV: quotes, doubled quotes, CRLF', () => {
    expect(parseCsv('a,b\r\n"x,1","say ""hi"""\r\n')).toEqual([['a', 'b'], ['x,1', 'say "hi"']])
    expect(parseCsv('a,b\n1,2')).toEqual([['a', 'b'], ['1', '2']])
  })
})
