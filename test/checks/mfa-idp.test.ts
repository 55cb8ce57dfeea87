import { describe, expect, it } from 'vitest'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import idpExport from '../../checks/mfa/idp.ts'
import { lowerCamelKeys, parseCsv } from '../../checks/mfa/exports.ts'
import { fileTarget } from '../../src/targets/host.ts'
import type { ScanReport } from '../../src/types.ts'
import { checkTester, findingOf } from '../helpers/check-tester.ts'

const tester = checkTester(idpExport)
const fixture = (p: string): string => join(import.meta.dirname, '../../fixtures/mfa', p)
const target = (provider: string, p: string) => fileTarget('identity-export', 'idp', fixture(p), provider)
/** Every verdict as `status rule resource`, sorted (the per-export coverage summary, mfa-coverage, has its own tests). */
const verdicts = (r: ScanReport): string[] => r.findings.filter((f) => f.ruleId !== 'mfa-coverage').map((f) => `${f.status} ${f.ruleId} ${f.resource}`).sort()

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
    expect: [
      'fail mfa-entra-admin-phishing-resistant tenant:conditional-access',
      'fail mfa-entra-device-code-allowed tenant:conditional-access',
      'fail mfa-not-enforced tenant:conditional-access',
      'pass mfa-entra-legacy-auth-allowed tenant:conditional-access', // 'Block legacy auth' blocks every client app for all users
    ],
  },
  {
    name: 'entra bundle with a phishing-resistant strength policy for all users',
    provider: 'entra',
    file: 'entra/bundle.json',
    expect: [
      'fail mfa-admin-without-mfa user:admin.nomfa@contoso.com',
      'fail mfa-entra-device-code-allowed tenant:conditional-access',
      'fail mfa-entra-exclusion-without-fallback policy:Require phishing-resistant MFA for all users', // 1 user excluded, no other policy
      'pass mfa-admin-without-mfa user:admin.fido@contoso.com',
      'pass mfa-entra-admin-phishing-resistant tenant:conditional-access',
      'pass mfa-entra-legacy-auth-allowed tenant:conditional-access',
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
    expect(findingOf(entra, 'mfa-not-enforced').message).toBe(
      "Entra ID: MFA is not enforced for all users (no enabled Conditional Access policy requires MFA for all users and all apps: 'Require MFA - report only' is report-only; 'MFA or compliant device': MFA is one choice among compliantDevice (operator OR); 'MFA for Office only' does not include all cloud apps)",
    )
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
      { name: 'entra methodsRegistered not an array', provider: 'entra', content: JSON.stringify({ value: [{ userPrincipalName: 'a@b', methodsRegistered: 'sms' }] }), message: /\/value\/0\/methodsRegistered: expected an array \(got "sms"\)/ },
      { name: 'google isEnrolledIn2Sv not a boolean', provider: 'google', content: JSON.stringify({ users: [{ primaryEmail: 'a@b', isEnrolledIn2Sv: 'yes' }] }), message: /\/users\/0\/isEnrolledIn2Sv: expected true or false \(got "yes"\)/ },
      { name: 'aws report without mfa_active', provider: 'aws', content: 'user,arn,password_enabled\nx,y,true\n', message: /line 1: expected a column "mfa_active"/ },
      { name: 'aws value not a boolean', provider: 'aws', content: 'user,arn,password_enabled,mfa_active,access_key_1_active,access_key_2_active\nx,arn:x,true,maybe,false,false\n', message: /line 2: column mfa_active: expected true or false \(got "maybe"\)/ },
      { name: 'github member without login', provider: 'github', content: JSON.stringify({ membersWith2faDisabled: [{ id: 1 }] }), message: /bad\.json: \/membersWith2faDisabled\/0\/login: expected a non-empty string/ },
      { name: 'entra nested beyond 64 levels', provider: 'entra', content: `${'['.repeat(100)}${']'.repeat(100)}`, message: /bad\.json: \/: expected at most 64 levels of nesting/ },
      { name: 'unknown provider', provider: 'ldap', content: '{}', message: /unknown identity provider "ldap"/ },
    ]
    it.each(bad)('$name', async ({ provider, content, message }) => {
      const dir = await mkdtemp(join(tmpdir(), 'ztscan-mfa-'))
      try {
        const path = join(dir, 'bad.json')
        await writeFile(path, content)
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

  describe('one tolerant reader per vendor: partial records, PowerShell keys, ambiguous and paged files', () => {
    /** The attempt's skip entries (one per rule at most), as their `why` sentences, sorted. */
    const skips = (r: ScanReport): string[] => {
      for (const s of r.skipped) expect(s).toMatchObject({ check: 'mfa-idp-export', family: 'mfa', rule: s.why.slice(0, s.why.indexOf(':')) })
      expect(new Set(r.skipped.map((s) => s.rule)).size).toBe(r.skipped.length)
      return r.skipped.map((s) => s.why).sort()
    }

    it('entra: Get-MgIdentityConditionalAccessPolicy | ConvertTo-Json (PascalCase) is judged like Graph JSON', async () => {
      const report = await tester.run(target('entra', 'entra/powershell-ca-policies.json'))
      expect(report.errors).toEqual([])
      expect(verdicts(report).filter((v) => v.includes('mfa-not-enforced'))).toEqual(['pass mfa-not-enforced tenant:conditional-access'])
      expect(findingOf(report, 'mfa-not-enforced').evidence).toMatchObject({
        policies: ['Phishing-resistant MFA for all users'], // the report-only one does not count
        policiesChecked: 2,
        exclusions: ['Phishing-resistant MFA for all users: 1 users, 0 groups, 0 roles excluded'],
        phishingResistantStrength: true,
      })
      // The same reader still refuses what it refused: a report-only policy alone enforces nothing.
      const ro = await tester.run(target('entra', 'entra/powershell-ca-report-only.json'))
      expect(verdicts(ro).filter((v) => v.includes('mfa-not-enforced'))).toEqual(['fail mfa-not-enforced tenant:conditional-access'])
    })

    it('entra: Get-MgReportAuthenticationMethodUserRegistrationDetail | ConvertTo-Json (PascalCase) is judged', async () => {
      const report = await tester.run(target('entra', 'entra/powershell-registration-details.json'))
      expect(report.errors).toEqual([])
      expect(report.skipped).toEqual([])
      expect(verdicts(report)).toEqual([
        'fail mfa-admin-without-mfa user:admin.none@fabrikam.com',
        'fail mfa-weak-factors-only user:sms.user@fabrikam.com',
        'pass mfa-admin-without-mfa user:admin.key@fabrikam.com',
        'pass mfa-user-without-mfa user:sms.user@fabrikam.com',
        'pass mfa-weak-factors-only user:admin.key@fabrikam.com',
      ])
      expect(findingOf(report, 'mfa-admin-without-mfa', (f) => f.resource === 'user:admin.key@fabrikam.com').evidence).toMatchObject({ userId: '22222222-aaaa-4aaa-8aaa-000000000001', vendorFactors: ['fido2SecurityKey', 'microsoftAuthenticatorPush'] })
    })

    it('PascalCase keys: own keys only, a camelCase twin wins, no prototype pollution', () => {
      const parsed = JSON.parse('{"State":"disabled","state":"enabled","__proto__":{"Polluted":1},"Value":[{"ToString":"x"}]}') as unknown
      const out = lowerCamelKeys(parsed, 'f.json') as Record<string, unknown>
      expect(out.state).toBe('enabled')
      expect(Object.hasOwn(out, '__proto__')).toBe(true)
      expect(Object.getPrototypeOf(out)).toBe(null)
      expect(out.value).toEqual([Object.assign(Object.create(null), { toString: 'x' })])
      expect(({} as Record<string, unknown>).polluted).toBeUndefined()
      // Nothing to rename: the very same object comes back (a large camelCase export is not copied).
      const camel = { value: [{ userPrincipalName: 'a@b' }] }
      expect(lowerCamelKeys(camel, 'f.json')).toBe(camel)
    })

    it('entra: a Graph page with @odata.nextLink is judged and the attempt is an incomplete error naming the missing pages', async () => {
      const report = await tester.run(target('entra', 'entra/registration-details-next-link.json'))
      expect(verdicts(report)).toEqual(['fail mfa-user-without-mfa user:page1.none@contoso.com', 'pass mfa-user-without-mfa user:page1.fido@contoso.com', 'pass mfa-weak-factors-only user:page1.fido@contoso.com'])
      expect(report.errors).toHaveLength(1)
      expect(report.errors[0]).toMatchObject({ check: 'mfa-idp-export', reason: 'incomplete' })
      expect(report.errors[0]!.message).toMatch(/registration-details-next-link\.json: a Graph page with more to come: only its 2 users and 0 policies were judged; missing the pages after \/@odata\.nextLink \(https:\/\/graph\.microsoft\.com\/v1\.0\/reports\/authenticationMethods\/userRegistrationDetails\?\$top=2&\$skiptoken=/)
      // The default error budget (0) makes the scan incomplete: the CLI exits 4.
      expect(report.complete).toBe(false)
      expect(report.incomplete).toContainEqual(expect.objectContaining({ reason: 'errors', message: '1 of 1 checks could not complete (maxErrors 0)' }))
    })

    it('entra bundle: a nextLink inside one part names that part', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'ztscan-mfa-'))
      try {
        const path = join(dir, 'bundle.json')
        await writeFile(path, JSON.stringify({ conditionalAccessPolicies: { value: [], '@odata.nextLink': 'https://graph.microsoft.com/v1.0/identity/conditionalAccess/policies?$skiptoken=abc' } }))
        const report = await tester.run(fileTarget('identity-export', 'idp', path, 'entra'))
        expect(report.errors[0]).toMatchObject({ reason: 'incomplete' })
        expect(report.errors[0]!.message).toMatch(/missing conditionalAccessPolicies: the pages after \/conditionalAccessPolicies\/@odata\.nextLink/)
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
    })

    it('google: a user without isEnrolledIn2Sv is skipped by name; the others are judged', async () => {
      const report = await tester.run(target('google', 'google/users-partial.json'))
      expect(report.errors).toEqual([])
      expect(verdicts(report)).toEqual([
        'fail mfa-user-without-mfa user:noenforce@example.net',
        'pass mfa-not-enforced user:enrolled2@example.net',
        'pass mfa-user-without-mfa user:enrolled2@example.net',
      ])
      expect(skips(report)).toEqual([
        'mfa-not-enforced: not judged (1): Google user noenforce@example.net (/users/2): no isEnforcedIn2Sv (enrolment judged, enforcement not)',
        'mfa-user-without-mfa: not judged (1): Google user partial@example.net (/users/1): no isEnrolledIn2Sv',
      ])
    })

    it('10,000 records missing a field are one bounded skip entry, not 10,000', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'ztscan-mfa-'))
      try {
        const path = join(dir, 'users.json')
        const users = Array.from({ length: 10_000 }, (_, i) => ({ primaryEmail: `u${i}@example.net`, isEnforcedIn2Sv: false }))
        await writeFile(path, JSON.stringify({ users: [{ primaryEmail: 'ok@example.net', isEnrolledIn2Sv: true, isEnforcedIn2Sv: true }, ...users] }))
        const report = await tester.run(fileTarget('identity-export', 'idp', path, 'google'))
        expect(verdicts(report)).toEqual(['pass mfa-not-enforced user:ok@example.net', 'pass mfa-user-without-mfa user:ok@example.net'])
        const [why] = skips(report)
        expect(skips(report)).toHaveLength(1)
        expect(why).toMatch(/^mfa-user-without-mfa: not judged \(10000\): Google user u0@example\.net \(\/users\/1\): no isEnrolledIn2Sv; .*u4@example\.net .*; and 9995 more$/)
        expect(why!.length).toBeLessThan(600)
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
    })

    it('okta: a user without a factor list is skipped by name; the others are judged', async () => {
      const report = await tester.run(target('okta', 'okta/missing-factors.json'))
      expect(report.errors).toEqual([])
      expect(verdicts(report)).toEqual(['pass mfa-user-without-mfa user:alice@example.com', 'pass mfa-weak-factors-only user:alice@example.com'])
      expect(skips(report)).toEqual(['mfa-user-without-mfa: not judged (1): Okta user bob@example.com (/users/1): no factor list (neither /factors/00u2bob00000000002 nor _embedded.factors)'])
    })

    it('okta: no user with a factor list: the file says it judged nothing', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'ztscan-mfa-'))
      try {
        const path = join(dir, 'users.json')
        await writeFile(path, JSON.stringify([{ id: '00u1', status: 'ACTIVE', profile: { login: 'a@example.com' } }]))
        const report = await tester.run(fileTarget('identity-export', 'idp', path, 'okta'))
        expect(report.findings).toEqual([])
        expect(skips(report)).toEqual(['mfa-user-without-mfa: nothing judged in this Okta export; not judged (1): Okta user a@example.com (/0): no factor list (neither /factors/00u1 nor _embedded.factors)'])
        const empty = join(dir, 'empty.json')
        await writeFile(empty, '{"users": []}')
        expect(skips(await tester.run(fileTarget('identity-export', 'idp', empty, 'okta')))).toEqual(['mfa-user-without-mfa: nothing judged in this Okta export (no user that can sign in, no enforcement setting)'])
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
    })

    it.each(['github/members-unfiltered.json', 'github/members-2fa-disabled.json'])('github: a bare member array (%s) is refused as ambiguous, naming the export needed', async (file) => {
      const report = await tester.run(target('github', file))
      expect(report.findings).toEqual([])
      expect(report.errors).toHaveLength(1)
      expect(report.errors[0]).toMatchObject({ reason: 'input' })
      expect(report.errors[0]!.message).toMatch(/a bare member array is ambiguous \(GET \/orgs\/\{org\}\/members and \?filter=2fa_disabled look alike\): expected \{ org: GET \/orgs\/\{org\}, membersWith2faDisabled: /)
    })

    it('github: { org, members } without membersWith2faDisabled judges the org setting and says no member could be judged', async () => {
      const report = await tester.run(target('github', 'github/org-members-only.json'))
      expect(report.errors).toEqual([])
      expect(verdicts(report)).toEqual(['fail mfa-not-enforced org:acme-corp'])
      expect(skips(report)).toEqual([
        'mfa-user-without-mfa: not judged (1): no member could be judged: /membersWith2faDisabled is missing (GET /orgs/{org}/members?filter=2fa_disabled); 3 listed member(s) not judged (octocat, hubot, monalisa)',
      ])
    })

    it('aws: a report whose only user has no console password and no root row says the root account was not checked', async () => {
      const report = await tester.run(target('aws', 'aws/credential-report-no-console.csv'))
      expect(report.findings).toEqual([])
      expect(report.errors).toEqual([])
      expect(skips(report)).toEqual([
        'mfa-aws-root-access-keys: nothing judged in this AWS IAM export; not judged (1): no <root_account> row: the root account was not checked',
        'mfa-aws-root-without-mfa: nothing judged in this AWS IAM export; not judged (1): no <root_account> row: the root account was not checked',
        'mfa-user-without-mfa: nothing judged in this AWS IAM export; not judged (1): 1 IAM user(s) without a console password, so no console MFA to judge (ci-deployer)',
      ])
    })

    it('aws: a header glued onto the root row is an input error saying so', async () => {
      const report = await tester.run(target('aws', 'aws/credential-report-glued.csv'))
      expect(report.findings).toEqual([])
      expect(report.errors).toEqual([expect.objectContaining({ reason: 'input', message: 'fixtures/mfa/aws/credential-report-glued.csv: line 1: the header runs into the <root_account> row (a line break is missing after the header)' })])
    })

    it('aws: users without a console password are named in the skip entry while the rest is judged', async () => {
      const report = await tester.run(target('aws', 'aws/credential-report.csv'))
      expect(skips(report)).toEqual(['mfa-user-without-mfa: not judged (1): 1 IAM user(s) without a console password, so no console MFA to judge (ci-deployer)'])
    })
  })

  it('parses RFC 4180 CSV: quotes, doubled quotes, CRLF', () => {
    expect(parseCsv('a,b\r\n"x,1","say ""hi"""\r\n')).toEqual([['a', 'b'], ['x,1', 'say "hi"']])
    expect(parseCsv('a,b\n1,2')).toEqual([['a', 'b'], ['1', '2']])
  })
})
