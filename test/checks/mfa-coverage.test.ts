/**
 * Coverage figures (issue 17 item 4): per identity export, how many users and administrators have a phishing-resistant
 * factor, any MFA, none — in the JSON report (the `mfa-coverage` finding's evidence) and in the score (each asset's
 * population rules' partial credit, "3 of 5 users").
 */
import { describe, expect, it } from 'vitest'
import { join } from 'node:path'
import idpExport from '../../checks/mfa/idp.ts'
import { fileTarget } from '../../src/targets/host.ts'
import { checkTester, findingOf } from '../helpers/check-tester.ts'

const tester = checkTester(idpExport)
const target = (provider: string, p: string) => fileTarget('identity-export', 'idp', join(import.meta.dirname, '../../fixtures/mfa', p), provider)

describe('MFA coverage figures', () => {
  it('okta: users and administrators by phishing-resistant, any MFA, none', async () => {
    const report = await tester.run(target('okta', 'okta/users-factors.json'))
    const f = findingOf(report, 'mfa-coverage')
    expect(f).toMatchObject({ status: 'fail', severity: 'info', resource: 'coverage:users' })
    // 8 users: alice (webauthn), grace (FastPass) phishing-resistant; bob (sms), erin (push+TOTP), ivan (email+voice) other
    // MFA; carol, dave (security question only), frank none. Administrators: erin, frank, grace.
    expect(f.evidence).toMatchObject({ users: { total: 8, phishingResistant: 2, anyMfa: 5, none: 3 }, admins: { total: 3, phishingResistant: 1, anyMfa: 2, none: 1 } })
    expect(f.message).toBe('Okta: 5 of 8 users have MFA (62.5 %), 2 phishing-resistant, 3 none; 2 of 3 administrators have MFA (66.6 %), 1 phishing-resistant, 1 none')
  })

  it('the phishing-resistant share follows the policy\'s factor tiers', async () => {
    const policy = { rules: { 'mfa-weak-factors-only': { parameters: { phishingResistantFactors: ['webauthn'] } } } }
    const report = await tester.run(target('okta', 'okta/users-factors.json'), { policy: policy as never })
    expect(findingOf(report, 'mfa-coverage').evidence).toMatchObject({ users: { phishingResistant: 1 }, admins: { phishingResistant: 0 } })
  })

  it('google: phishing-resistant is unknown (null), never zero, when the export lists no factor types', async () => {
    const report = await tester.run(target('google', 'google/users.json'))
    const f = findingOf(report, 'mfa-coverage')
    expect((f.evidence as { users: { phishingResistant: unknown } }).users.phishingResistant).toBeNull()
    expect(f.message).toMatch(/phishing-resistant unknown \(no factor types in the export\)/)
  })

  it('entra: everyone enrolled passes; a policy-only export has no coverage finding', async () => {
    const bundle = await tester.run(target('entra', 'entra/powershell-registration-details.json'))
    expect(findingOf(bundle, 'mfa-coverage').status).toBe('fail')
    const policies = await tester.run(target('entra', 'entra/conditional-access-policies.json'))
    expect(policies.findings.filter((x) => x.ruleId === 'mfa-coverage')).toEqual([])
  })

  it('the score names each population rule\'s partial credit on the asset ("3 of 5 users")', async () => {
    const report = await tester.run(target('okta', 'okta/users-factors.json'))
    const asset = report.score.assets!.find((a) => a.pillar === 'identity')!
    expect(asset.partial).toEqual(
      expect.arrayContaining([
        { ruleId: 'mfa-user-without-mfa', passed: 3, total: 5, text: '3 of 5 users' },
        { ruleId: 'mfa-admin-without-mfa', passed: 2, total: 3, text: '2 of 3 administrators' },
        { ruleId: 'mfa-weak-factors-only', passed: 2, total: 5, text: '2 of 5 users' },
      ]),
    )
    // The info-level coverage finding carries no weight: it is not among the partial credits.
    expect(asset.partial!.map((p) => p.ruleId)).not.toContain('mfa-coverage')
  })
})
