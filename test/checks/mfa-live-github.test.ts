/**
 * @fileoverview `github-org://ORG` against a loopback GitHub stand-in (documented REST and GraphQL shapes): members with
 * 2FA disabled and all members across three pages (`Link` with `page`), admins, the org's 2FA requirement, SAML SSO, a
 * GitHub App installation token, a 429 with Retry-After, a 500 mid-pull, a revoked token.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import idpExport from '../../checks/mfa/idp.ts'
import { parseTarget } from '../../src/targets/parse.ts'
import type { ScanReport } from '../../src/types.ts'
import { checkTester } from '../helpers/check-tester.ts'
import { startGithubFake, type GithubFake } from '../helpers/vendor-fakes/github.ts'

const TOKEN = 'ghp_fakeTokenForTests0123456789abcdefABCD'
const dir = mkdtempSync(join(tmpdir(), 'ztscan-gh-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
delete process.env.GITHUB_TOKEN
delete process.env.GH_TOKEN
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
const appKey = join(dir, 'app.pem')
writeFileSync(appKey, privateKey.export({ format: 'pem', type: 'pkcs1' }).toString())

let gh: GithubFake
const tester = checkTester(idpExport)
// 250 members, 3 pages of 100; every 10th without 2FA; dev0 and dev20 admins.
beforeAll(async () => {
  gh = await startGithubFake({ org: 'acme', members: 250, without2fa: (i) => i % 10 === 0, admins: [0, 20, 31], twoFactorRequired: false, saml: { ssoUrl: 'https://idp.example.test/sso' }, token: TOKEN, app: { id: '123', installationId: '456', publicKey } })
  return () => gh.stop()
})
const pull = (s: Record<string, unknown> = { token: TOKEN }): Promise<ScanReport> => tester.run(parseTarget('github-org://acme'), { settings: { github: { baseUrl: gh.baseUrl, ...s } } })
const fails = (r: ScanReport, rule: string): string[] => r.findings.filter((f) => f.ruleId === rule && f.status === 'fail').map((f) => f.resource).sort()
const judged = (r: ScanReport): number => r.findings.filter((f) => f.ruleId === 'mfa-user-without-mfa' || f.ruleId === 'mfa-admin-without-mfa').length

describe('github-org:// live pull', () => {
  it('pages members (3 pages), the 2fa_disabled filter and admins; the org setting and SAML SSO are evidence', async () => {
    gh.log.length = 0
    const r = await pull()
    expect(r.errors).toEqual([])
    expect(gh.log.filter((l) => l.startsWith('GET /orgs/acme/members?per_page=100'))).toHaveLength(3)
    expect(judged(r)).toBe(250)
    expect(fails(r, 'mfa-admin-without-mfa')).toEqual(['user:dev0', 'user:dev20'])
    expect(fails(r, 'mfa-user-without-mfa')).toHaveLength(23)
    const e = r.findings.find((f) => f.ruleId === 'mfa-not-enforced')!
    expect(e.status).toBe('fail')
    expect(e.resource).toBe('org:acme')
    expect(e.evidence?.samlSso).toBe('SAML SSO enabled (https://idp.example.test/sso)')
  })

  it('a GitHub App: a signed app JWT exchanged for an installation token', async () => {
    gh.log.length = 0
    const r = await pull({ appId: '123', installationId: '456', privateKeyPath: appKey })
    expect(r.errors).toEqual([])
    expect(judged(r)).toBe(250)
    expect(gh.log.filter((l) => l === 'POST /app/installations/456/access_tokens')).toHaveLength(1)
    const wrong = await pull({ appId: '999', installationId: '456', privateKeyPath: appKey })
    expect(wrong.errors[0]!.message).toMatch(/GitHub App installation token .*: HTTP 401: refused \(wrong app id, installation or key\?\): check settings\.github\.appId, installationId and privateKeyPath$/)
  })

  it('the installation-token endpoint throttled (429, then a secondary rate limit: 403 with Retry-After): waited out within the client bounds', async () => {
    gh.log.length = 0
    const path = (q: { url: URL }): boolean => q.url.pathname === '/app/installations/456/access_tokens'
    gh.faults.push(
      { when: path, reply: { status: 429, headers: { 'retry-after': '1' }, json: { message: 'API rate limit exceeded', documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api' } } },
      { when: path, reply: { status: 403, headers: { 'retry-after': '1' }, json: { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.' } } },
    )
    const r = await pull({ appId: '123', installationId: '456', privateKeyPath: appKey })
    expect(r.errors).toEqual([])
    expect(judged(r)).toBe(250)
    expect(gh.log.filter((l) => l === 'POST /app/installations/456/access_tokens')).toHaveLength(3)
    // A 403 without Retry-After is a refusal, not throttling.
    gh.faults.push({ when: path, reply: { status: 403, json: { message: 'Resource not accessible by integration' } }, times: 100 })
    const denied = await pull({ appId: '123', installationId: '456', privateKeyPath: appKey })
    gh.faults.length = 0
    expect(denied.errors.map((e) => `${e.reason}: ${e.message}`)).toEqual([expect.stringMatching(/^input: GitHub App installation token http:\/\/127\.0\.0\.1:\d+\/app\/installations\/…\/access_tokens: HTTP 403: refused/)])
  })

  it('GITHUB_TOKEN from the environment; a revoked token is an input error that does not echo it', async () => {
    vi.stubEnv('GITHUB_TOKEN', TOKEN)
    try {
      expect((await pull({})).errors).toEqual([])
      const bad = await pull({ token: 'ghp_revokedTokenXYZ0123456789' })
      expect(bad.findings).toEqual([])
      expect(bad.errors[0]!.message).toMatch(/^GitHub: GET http:\/\/127\.0\.0\.1:\d+\/orgs\/acme: HTTP 401: the credential was rejected/)
      expect(JSON.stringify(bad)).not.toContain('ghp_revoked')
    } finally {
      vi.unstubAllEnvs()
    }
  })

  it('a 429 with Retry-After is waited out; a 500 on page 2 of all members is an incomplete error', async () => {
    gh.faults.push({ when: (q) => q.url.pathname === '/orgs/acme/members' && q.url.searchParams.get('page') === '2' && !q.url.searchParams.has('filter'), reply: { status: 429, headers: { 'retry-after': '1', 'x-ratelimit-remaining': '0' }, json: { message: 'API rate limit exceeded' } } })
    const r = await pull()
    expect(r.errors).toEqual([])
    expect(judged(r)).toBe(250)

    gh.faults.push({ when: (q) => q.url.pathname === '/orgs/acme/members' && q.url.searchParams.get('page') === '2' && !q.url.searchParams.has('filter') && !q.url.searchParams.has('role'), reply: { status: 500, json: { message: 'Server Error' } } })
    const p = await pull()
    expect(p.errors.map((e) => e.reason)).toEqual(['incomplete'])
    expect(p.errors[0]!.message).toContain('members: the pages after page 1 (100 read)')
  })

  it('a token that cannot see the 2FA requirement (not an owner): members judged, the setting named as missing', async () => {
    const weak = await startGithubFake({ org: 'acme', members: 5, without2fa: (i) => i === 1, twoFactorRequired: null, saml: null, token: TOKEN })
    try {
      const r = await tester.run(parseTarget('github-org://acme'), { settings: { github: { baseUrl: weak.baseUrl, token: TOKEN } } })
      expect(judged(r)).toBe(5)
      expect(r.errors[0]!.reason).toBe('incomplete')
      expect(r.errors[0]!.message).toContain('two_factor_requirement_enabled')
    } finally {
      await weak.stop()
    }
  })
})
