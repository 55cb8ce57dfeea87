/**
 * @fileoverview `okta://ORG` against a loopback Okta stand-in (documented management API shapes): private-key JWT client
 * credentials and the SSWS fallback, users across three pages (`Link` with `after` cursors), per-user factors, admin
 * role assignments (`_links.next`), a 429 with Retry-After, a 500 mid-pull, a refused credential.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import idpExport from '../../checks/mfa/idp.ts'
import { parseTarget } from '../../src/targets/parse.ts'
import type { ScanReport } from '../../src/types.ts'
import { checkTester } from '../helpers/check-tester.ts'
import { readFileCapped } from '../../src/lib-files.ts'
import { startOktaFake, type OktaFake } from '../helpers/vendor-fakes/okta.ts'

const dir = mkdtempSync(join(tmpdir(), 'ztscan-okta-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
const keyFile = join(dir, 'okta.pem')
writeFileSync(keyFile, privateKey.export({ format: 'pem', type: 'pkcs8' }).toString())
const API_TOKEN = '00okta-ssws-api-token-for-tests-0123456789'
delete process.env.OKTA_API_TOKEN

let okta: OktaFake
const tester = checkTester(idpExport)
beforeAll(async () => {
  okta = await startOktaFake({ users: 30, pageSize: 12, admins: [2, 6, 12], clientId: '0oaclient', publicKey, apiToken: API_TOKEN })
  return () => okta.stop()
})
const pull = (okt: Record<string, unknown> = {}): Promise<ScanReport> =>
  tester.run(parseTarget('okta://example.okta.com'), { settings: { okta: { baseUrl: okta.baseUrl, clientId: '0oaclient', privateKeyPath: keyFile, keyId: 'k1', ...okt } } })
const fails = (r: ScanReport, rule: string): string[] => r.findings.filter((f) => f.ruleId === rule && f.status === 'fail').map((f) => f.resource).sort()
const judged = (r: ScanReport): number => r.findings.filter((f) => f.ruleId === 'mfa-user-without-mfa' || f.ruleId === 'mfa-admin-without-mfa').length
// 30 users; suspended: 8, 17, 26 (not judged); no factors: i % 6 === 0 → 0, 6, 12, 18, 24; admins 2, 6, 12.
const live = Array.from({ length: 30 }, (_, i) => i).filter((i) => i % 9 !== 8)

describe('okta:// live pull', () => {
  it('private-key JWT; three pages of users, their factors and admin roles, judged as the export reader judges them', async () => {
    okta.log.length = 0
    const r = await pull()
    expect(r.errors).toEqual([])
    expect(okta.log.filter((l) => l.startsWith('GET /api/v1/users?'))).toHaveLength(3)
    expect(okta.log.filter((l) => l.startsWith('POST /oauth2/v1/token'))).toHaveLength(1)
    // Policies of three types, each with its rules; the authentication policy with its app mappings.
    expect(okta.log.filter((l) => /^GET \/api\/v1\/policies\/[^/]+\/rules$/.test(l))).toHaveLength(3)
    expect(okta.log.filter((l) => /^GET \/api\/v1\/policies\/pol-ACCESS_POLICY\/app$/.test(l))).toHaveLength(1)
    expect(judged(r)).toBe(live.length)
    expect(fails(r, 'mfa-admin-without-mfa')).toEqual(['user:user12@example.test', 'user:user6@example.test'])
    expect(fails(r, 'mfa-user-without-mfa')).toEqual(['user:user0@example.test', 'user:user18@example.test', 'user:user24@example.test'])
    // SMS-only users (i % 4 === 1; the pending push does not count) are weak; user2 (admin, push + WebAuthn) is not.
    const weak = fails(r, 'mfa-weak-factors-only')
    expect(weak).toContain('user:user1@example.test')
    expect(weak).not.toContain('user:user2@example.test')
  })

  it('SSWS API token as the fallback; a refused one is an input error that does not echo it', async () => {
    const r = await tester.run(parseTarget('okta://example.okta.com'), { settings: { okta: { baseUrl: okta.baseUrl, apiToken: API_TOKEN } } })
    expect(r.errors).toEqual([])
    expect(judged(r)).toBe(live.length)
    const bad = await tester.run(parseTarget('okta://example.okta.com'), { settings: { okta: { baseUrl: okta.baseUrl, apiToken: 'revoked-okta-token-abcdef' } } })
    expect(bad.findings).toEqual([])
    expect(bad.errors[0]!.reason).toBe('input')
    expect(bad.errors[0]!.message).toMatch(/Okta: GET http:\/\/127\.0\.0\.1:\d+\/api\/v1\/iam\/assignees\/users: HTTP 401 E0000011: the credential was rejected/)
    expect(JSON.stringify(bad)).not.toContain('revoked-okta-token')
  })

  it('a key the org does not know: the token endpoint refusal names the endpoint, never the assertion', async () => {
    const other = join(dir, 'other.pem')
    writeFileSync(other, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString())
    const r = await pull({ privateKeyPath: other })
    expect(r.errors[0]!.message).toMatch(/^Okta token endpoint http:\/\/127\.0\.0\.1:\d+\/oauth2\/v1\/token: HTTP 401 invalid_client: the credential was refused/)
    expect(r.errors[0]!.message).not.toContain('eyJ')
  })

  it('the token endpoint answering 429: waited out after Retry-After, asked again with a fresh assertion; beyond the retry budget a timeout naming the endpoint; a 400 names the settings, never the assertion', async () => {
    // A spy (never fires) sees every token request's assertion.
    const assertions: string[] = []
    const spy = { when: (q: { url: URL; body: string }): boolean => (q.url.pathname === '/oauth2/v1/token' && assertions.push(new URLSearchParams(q.body).get('client_assertion') ?? ''), false), reply: {} }
    okta.faults.push(spy, { when: (q) => q.url.pathname === '/oauth2/v1/token', reply: { status: 429, headers: { 'retry-after': '1', 'x-rate-limit-limit': '600', 'x-rate-limit-remaining': '0' }, json: { errorCode: 'E0000047', errorSummary: 'API call exceeded rate limit due to too many requests.' } } })
    okta.log.length = 0
    const r = await pull()
    okta.faults.splice(okta.faults.indexOf(spy), 1)
    expect(r.errors).toEqual([])
    expect(judged(r)).toBe(live.length)
    expect(okta.log.filter((l) => l.startsWith('POST /oauth2/v1/token'))).toHaveLength(2)
    // The jti must not be replayed: the retry carries a new assertion.
    expect(assertions).toHaveLength(2)
    expect(assertions[1]).not.toBe(assertions[0])

    const long = { when: (q: { url: URL }) => q.url.pathname === '/oauth2/v1/token', reply: { status: 429, headers: { 'retry-after': '86400' }, json: { errorCode: 'E0000047' } }, times: 100 }
    okta.faults.push(long)
    const slow = await pull()
    okta.faults.splice(okta.faults.indexOf(long), 1)
    expect(slow.findings).toEqual([])
    expect(slow.errors.map((e) => `${e.reason}: ${e.message}`)).toEqual([expect.stringMatching(/^timeout: Okta token endpoint http:\/\/127\.0\.0\.1:\d+\/oauth2\/v1\/token: HTTP 429 E0000047: throttled for 86400 s, beyond the 120 s left of the retry budget$/)])

    const refuse = { when: (q: { url: URL }) => q.url.pathname === '/oauth2/v1/token', reply: { status: 400, json: { error: 'invalid_scope', error_description: 'The following scopes are not allowed: okta.users.read (eyJhbGciOiJSUzI1NiJ9.echoed.assertion)' } }, times: 100 }
    okta.faults.push(refuse)
    const scope = await pull()
    okta.faults.splice(okta.faults.indexOf(refuse), 1)
    expect(scope.errors.map((e) => `${e.reason}: ${e.message}`)).toEqual([
      expect.stringMatching(/^input: Okta token endpoint http:\/\/127\.0\.0\.1:\d+\/oauth2\/v1\/token: HTTP 400 invalid_scope: the credential was refused \(expired, revoked or not trusted for this client\?\): check settings\.okta\.clientId, privateKeyPath, keyId and scopes \(the service app's public key and granted scopes\)$/),
    ])
    expect(JSON.stringify(scope)).not.toContain('echoed.assertion')
  })

  it('a 429 with Retry-After is waited out; a 500 on page 2 leaves an incomplete error naming the missing pages', async () => {
    okta.faults.push({ when: (q) => q.url.pathname === '/api/v1/users' && q.url.searchParams.has('after'), reply: { status: 429, headers: { 'retry-after': '1', 'x-rate-limit-remaining': '0' }, json: { errorCode: 'E0000047', errorSummary: 'API call exceeded rate limit due to too many requests.' } } })
    const r = await pull()
    expect(r.errors).toEqual([])
    expect(judged(r)).toBe(live.length)

    okta.faults.push({ when: (q) => q.url.pathname === '/api/v1/users' && q.url.searchParams.has('after'), reply: { status: 500, json: { errorCode: 'E0000009', errorSummary: 'Internal Server Error' } } })
    const p = await pull()
    expect(p.errors.map((e) => e.reason)).toEqual(['incomplete'])
    expect(p.errors[0]!.message).toContain('users: the pages after page 1 (12 read)')
    expect(p.errors[0]!.message).toContain('HTTP 500 E0000009')
    expect(judged(p)).toBe(live.filter((i) => i < 12).length)
  })

  it('a factor list that cannot be read leaves that user unjudged, by name, and the pull incomplete', async () => {
    okta.faults.push({ when: (q) => q.url.pathname === '/api/v1/users/00u00000000000000003/factors', reply: { status: 500, json: { errorCode: 'E0000009' } } })
    const r = await pull()
    expect(judged(r)).toBe(live.length - 1)
    expect(r.skipped.some((s) => s.rule === 'mfa-user-without-mfa' && s.why.includes('user3@example.test'))).toBe(true)
    expect(r.errors[0]!.message).toContain('the factors of 1 user(s), not judged (first: user 00u00000000000000003')
  })

  it('DPoP (RFC 9449) when the service app requires it: an ephemeral key, the nonce the token endpoint asks for, a proof bound to the token on every call', async () => {
    for (const resourceNonce of [false, true]) {
      const fake = await startOktaFake({ users: 30, pageSize: 12, admins: [2, 6, 12], clientId: '0oaclient', publicKey, dpop: { resourceNonce } })
      try {
        const r = await tester.run(parseTarget('okta://example.okta.com'), { settings: { okta: { baseUrl: fake.baseUrl, clientId: '0oaclient', privateKeyPath: keyFile, keyId: 'k1' } } })
        expect(r.errors).toEqual([])
        expect(judged(r)).toBe(live.length)
        expect(fails(r, 'mfa-admin-without-mfa')).toEqual(['user:user12@example.test', 'user:user6@example.test'])
        // Plain (invalid_dpop_proof), with a proof (use_dpop_nonce), with the nonce: three token requests, one token.
        expect(fake.log.filter((l) => l.startsWith('POST /oauth2/v1/token'))).toHaveLength(3)
        // The fake verifies every API call's proof (htm, htu, ath, unused jti, the token's key); with resourceNonce the
        // first call is refused once for its nonce, then every call carries it.
        const calls = fake.log.filter((l) => l.startsWith('GET '))
        expect(calls.filter((l) => l.startsWith('GET /api/v1/users?'))).toHaveLength(3)
        expect(calls.filter((l) => l === 'GET /api/v1/iam/assignees/users?limit=100')).toHaveLength(resourceNonce ? 2 : 1)
        const text = JSON.stringify(r)
        for (const secret of ['eyJ', 'fake-at-', 'okta-as-nonce', 'okta-rs-nonce']) expect(text).not.toContain(secret)
      } finally {
        await fake.stop()
      }
    }
  })

  it('the key file is read through the scan\'s io (ctx.readFile), each time a token is made', async () => {
    const reads: string[] = []
    const r = await tester.run(parseTarget('okta://example.okta.com'), {
      settings: { okta: { baseUrl: okta.baseUrl, clientId: '0oaclient', privateKeyPath: '/nonexistent/okta.pem', keyId: 'k1' } },
      io: { readFile: async (path: string, max?: number) => (reads.push(`${path} ${max}`), path === '/nonexistent/okta.pem' ? readFileCapped(keyFile, max) : readFileCapped(path, max)) },
    })
    expect(r.errors).toEqual([])
    expect(judged(r)).toBe(live.length)
    expect(reads).toEqual(['/nonexistent/okta.pem 65536'])
  })

  it('without a credential, or with half a private-key JWT configuration, says what to set', async () => {
    const none = await tester.run(parseTarget('okta://example.okta.com'), { settings: { okta: { baseUrl: okta.baseUrl } } })
    expect(none.errors[0]!.message).toBe('okta://example.okta.com: no credential: set settings.okta.clientId and privateKeyPath (private-key JWT), or settings.okta.apiToken / OKTA_API_TOKEN')
    const half = await tester.run(parseTarget('okta://example'), { settings: { okta: { baseUrl: okta.baseUrl, clientId: 'x' } } })
    expect(half.errors[0]!.message).toBe('settings.okta: privateKeyPath is missing (private-key JWT needs both)')
    expect(parseTarget('okta://example').id).toBe('okta://example.okta.com')
  })
})
