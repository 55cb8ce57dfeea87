/**
 * @fileoverview `entra://TENANT` against a loopback Microsoft identity platform + Graph stand-in (documented shapes): the
 * credential flows (federated token file, GitHub Actions OIDC, client certificate, refused credential), paging across
 * three pages, a 429 with Retry-After, a 500 mid-pull, a token that expires mid-pull, a next link to another origin, and
 * the same verdicts as the export reader on the same records.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { execFileSync } from 'node:child_process'
import { createPublicKey, X509Certificate, createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeProtectedHeader, jwtVerify } from 'jose'
import idpExport from '../../checks/mfa/idp.ts'
import { parseTarget } from '../../src/targets/parse.ts'
import { fileTarget } from '../../src/targets/host.ts'
import type { ScanReport } from '../../src/types.ts'
import { checkTester } from '../helpers/check-tester.ts'
import { defaultUser, startGraphFake, type GraphFake } from '../helpers/vendor-fakes/graph.ts'

const TENANT = 'contoso.onmicrosoft.com'
const CLIENT = '11111111-2222-3333-4444-555555555555'
const FEDERATED = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOmNvbnRvc28vYXBpIn0.federated-signature-for-test'
const dir = mkdtempSync(join(tmpdir(), 'ztscan-entra-'))
const tokenFile = join(dir, 'federated.jwt')
writeFileSync(tokenFile, FEDERATED + '\n')
afterAll(() => rmSync(dir, { recursive: true, force: true }))
afterEach(() => vi.unstubAllEnvs())

// Credential variables of the machine running the tests must not pick the flow.
for (const k of ['AZURE_CLIENT_ID', 'AZURE_FEDERATED_TOKEN_FILE', 'AZURE_CLIENT_CERTIFICATE_PATH', 'AZURE_AUTHORITY_HOST', 'ACTIONS_ID_TOKEN_REQUEST_URL', 'ACTIONS_ID_TOKEN_REQUEST_TOKEN', 'IDENTITY_ENDPOINT', 'IDENTITY_HEADER'])
  delete process.env[k]

const POLICY = {
  id: 'p1', displayName: 'Require MFA for all users', state: 'enabled',
  conditions: { users: { includeUsers: ['All'], excludeUsers: [], excludeGroups: [], excludeRoles: [] }, applications: { includeApplications: ['All'] }, clientAppTypes: ['all'] },
  grantControls: { operator: 'OR', builtInControls: ['mfa'], customAuthenticationFactors: [], termsOfUse: [] },
}
const ROLES = [{ id: 'r-ga', displayName: 'Global Administrator', members: [{ id: defaultUser(3).id as string, userPrincipalName: 'user3@contoso.test' }, { id: defaultUser(50).id as string, userPrincipalName: 'user50@contoso.test' }, { id: 'x', userPrincipalName: 'svc@contoso.test' }] }]

let graph: GraphFake
const tester = checkTester(idpExport)
beforeAll(async () => {
  graph = await startGraphFake({ tenant: TENANT, clientId: CLIENT, users: 250, roles: ROLES, policies: [POLICY, { ...POLICY, id: 'p2', displayName: 'Report only', state: 'enabledForReportingButNotEnforced' }, { ...POLICY, id: 'p3', displayName: 'Third' }], assertion: (jwt) => jwt === FEDERATED })
  return () => graph.stop()
})

const settings = (extra: Record<string, unknown> = {}) => ({ entra: { clientId: CLIENT, authorityHost: graph.authorityHost, graphBaseUrl: graph.graphBaseUrl, federatedTokenFile: tokenFile, ...extra } })
const pull = (extra: Record<string, unknown> = {}): Promise<ScanReport> => tester.run(parseTarget(`entra://${TENANT}`), { settings: settings(extra) })
const usersPulled = (): number => graph.log.filter((l) => l.includes('userRegistrationDetails')).length
const fails = (r: ScanReport, rule: string): string[] => r.findings.filter((f) => f.ruleId === rule && f.status === 'fail').map((f) => f.resource).sort()

describe('entra:// live pull', () => {
  it('pulls three pages of users, roles, policies; judges them as the export reader judges the same records', async () => {
    graph.log.length = 0
    const r = await pull()
    expect(r.errors).toEqual([])
    expect(usersPulled()).toBe(3)
    // 250 users: every 7th has no method (36), of them user0/50/.../200 via isAdmin and user3 via the role are admins.
    const noMfa = Array.from({ length: 250 }, (_, i) => i).filter((i) => i % 7 === 0)
    const admins = new Set([...Array.from({ length: 5 }, (_, k) => k * 50), 3])
    expect(fails(r, 'mfa-user-without-mfa')).toEqual(noMfa.filter((i) => !admins.has(i)).map((i) => `user:user${i}@contoso.test`).sort())
    expect(fails(r, 'mfa-admin-without-mfa')).toEqual(noMfa.filter((i) => admins.has(i)).map((i) => `user:user${i}@contoso.test`).sort())
    const enforced = r.findings.find((f) => f.ruleId === 'mfa-not-enforced')
    expect(enforced?.status).toBe('pass')
    expect(enforced?.evidence?.policies).toEqual(['Require MFA for all users', 'Third'])
    expect(enforced?.evidence?.policiesChecked).toBe(3)
    // user3 is admin by role membership only: its weak-factor verdict is judged as an admin's.
    expect(r.findings.find((f) => f.ruleId === 'mfa-user-without-mfa' && f.resource === 'user:user3@contoso.test')).toBeUndefined()

    // The same records as an export file: identical user verdicts (role membership aside, which only the pull sees).
    const file = join(dir, 'export.json')
    writeFileSync(file, JSON.stringify({ userRegistrationDetails: { value: Array.from({ length: 250 }, (_, i) => ({ ...defaultUser(i), isAdmin: defaultUser(i).isAdmin || i === 3 })) }, conditionalAccessPolicies: [POLICY] }))
    const fr = await tester.run(fileTarget('identity-export', 'idp', file, 'entra'))
    for (const rule of ['mfa-user-without-mfa', 'mfa-admin-without-mfa', 'mfa-weak-factors-only']) expect(fails(r, rule)).toEqual(fails(fr, rule))
  })

  it('waits out a 429 with Retry-After and finishes the pull', async () => {
    graph.log.length = 0
    graph.faults.push({ when: (q) => q.url.pathname.endsWith('/userRegistrationDetails') && q.url.searchParams.get('$skiptoken') === '100', reply: { status: 429, headers: { 'retry-after': '1' }, json: { error: { code: 'TooManyRequests', message: 'Too many requests' } } } })
    const r = await pull()
    expect(r.errors).toEqual([])
    expect(usersPulled()).toBe(4)
    expect(r.findings.filter((f) => f.ruleId === 'mfa-user-without-mfa' || f.ruleId === 'mfa-admin-without-mfa')).toHaveLength(250)
  })

  it('a throttle longer than the retry budget ends the pull as incomplete, naming what is missing', async () => {
    graph.faults.push({ when: (q) => q.url.pathname.endsWith('/userRegistrationDetails') && q.url.searchParams.get('$skiptoken') === '200', reply: { status: 503, headers: { 'retry-after': '86400' } } })
    const r = await pull()
    expect(r.errors).toHaveLength(1)
    expect(r.errors[0]!.reason).toBe('incomplete')
    expect(r.errors[0]!.message).toMatch(/userRegistrationDetails: the pages after page 2 \(200 read\).*HTTP 503.*retry budget/)
  })

  it('a 500 mid-pull: what was read is judged, and the attempt is an incomplete error, never a silent pass', async () => {
    graph.faults.push({ when: (q) => q.url.pathname.endsWith('/userRegistrationDetails') && q.url.searchParams.get('$skiptoken') === '100', reply: { status: 500, json: { error: { code: 'generalException' } } } })
    const r = await pull()
    expect(r.errors.map((e) => e.reason)).toEqual(['incomplete'])
    expect(r.errors[0]!.message).toContain('userRegistrationDetails: the pages after page 1 (100 read)')
    expect(r.errors[0]!.message).toContain('HTTP 500 generalException')
    expect(r.findings.filter((f) => f.ruleId === 'mfa-user-without-mfa' || f.ruleId === 'mfa-admin-without-mfa')).toHaveLength(100)
  })

  it('a token that expires mid-pull is renewed once; a refused credential is an input error that echoes nothing', async () => {
    graph.log.length = 0
    graph.faults.push({ when: (q) => q.url.searchParams.get('$skiptoken') === '100', reply: { status: 401, json: { error: { code: 'InvalidAuthenticationToken', message: 'Access token has expired' } } } })
    const r = await pull()
    expect(r.errors).toEqual([])
    expect(graph.log.filter((l) => l.includes('/oauth2/v2.0/token'))).toHaveLength(2)

    const stale = join(dir, 'stale.jwt')
    writeFileSync(stale, 'eyJhbGciOiJSUzI1NiJ9.e30.expired-federated-token-signature')
    const bad = await pull({ federatedTokenFile: stale })
    expect(bad.findings).toEqual([])
    expect(bad.errors).toHaveLength(1)
    expect(bad.errors[0]!.reason).toBe('input')
    expect(bad.errors[0]!.message).toMatch(/Entra token endpoint http:\/\/127\.0\.0\.1:\d+\/contoso\.onmicrosoft\.com\/oauth2\/v2\.0\/token: HTTP 401 invalid_client \(AADSTS700024\)/)
    // The fake echoes the assertion in error_description: nothing of it reaches the report.
    expect(JSON.stringify(bad)).not.toContain('expired-federated-token-signature')
  })

  it('the token endpoint answering 429 is waited out (Retry-After); a 400 names the settings of the credential, never the token', async () => {
    graph.log.length = 0
    graph.faults.push({ when: (q) => q.url.pathname.endsWith('/oauth2/v2.0/token'), reply: { status: 429, headers: { 'retry-after': '1' }, json: { error: 'temporarily_unavailable', error_description: 'AADSTS90033: A transient error has occurred.', error_codes: [90033] } } })
    const r = await pull()
    expect(r.errors).toEqual([])
    expect(graph.log.filter((l) => l.includes('/oauth2/v2.0/token'))).toHaveLength(2)
    expect(usersPulled()).toBe(3)

    const refuse = { when: (q: { url: URL }) => q.url.pathname.endsWith('/oauth2/v2.0/token'), reply: { status: 400, json: { error: 'invalid_request', error_description: `AADSTS70021: No matching federated identity record found for presented assertion. Assertion: ${FEDERATED}`, error_codes: [70021] } }, times: 100 }
    graph.faults.push(refuse)
    const bad = await pull()
    graph.faults.splice(graph.faults.indexOf(refuse), 1)
    expect(bad.errors.map((e) => `${e.reason}: ${e.message}`)).toEqual([
      expect.stringMatching(/^input: Entra token endpoint http:\/\/127\.0\.0\.1:\d+\/contoso\.onmicrosoft\.com\/oauth2\/v2\.0\/token: HTTP 400 invalid_request \(AADSTS70021\): the credential was refused \(expired, revoked or not trusted for this client\?\): check settings\.entra\.clientId, settings\.entra\.federatedTokenFile \(the app's federated credential must trust its issuer and subject\) and the tenant$/),
    ])
    expect(JSON.stringify(bad)).not.toContain('federated-signature-for-test')
  })

  it('resolves the groups enabled policies name: transitiveMembers paged (3 pages), the exclusion judged user by user; a group failing mid-pull is incomplete and unresolved', async () => {
    const G = 'b0b0b0b0-0000-4000-8000-00000000000a'
    const u = (i: number): Record<string, unknown> => ({ '@odata.type': '#microsoft.graph.user', id: defaultUser(i).id, userPrincipalName: `user${i}@contoso.test`, displayName: `User ${i}`, userType: 'Member', mail: null })
    const policies = [
      { ...POLICY, id: 'g1', displayName: 'Require MFA', conditions: { ...POLICY.conditions, users: { includeUsers: ['All'], excludeUsers: [], excludeGroups: [G], excludeRoles: [] } } },
      { ...POLICY, id: 'g2', displayName: 'MFA for user1', conditions: { ...POLICY.conditions, users: { includeUsers: [defaultUser(1).id], excludeUsers: [], excludeGroups: [], excludeRoles: [] } } },
      { ...POLICY, id: 'g3', displayName: 'Old pilot', state: 'disabled', conditions: { ...POLICY.conditions, users: { includeUsers: [], includeGroups: ['ghost-group'], excludeUsers: [] } } },
    ]
    const fake = await startGraphFake({ tenant: TENANT, clientId: CLIENT, users: 6, policies, groups: { [G]: [u(1), { '@odata.type': '#microsoft.graph.group', id: 'nested', displayName: 'Nested' }, u(2), u(3), u(4)] }, assertion: (jwt) => jwt === FEDERATED })
    try {
      const run = (): Promise<ScanReport> => tester.run(parseTarget(`entra://${TENANT}`), { settings: { entra: { clientId: CLIENT, authorityHost: fake.authorityHost, graphBaseUrl: fake.graphBaseUrl, federatedTokenFile: tokenFile } } })
      const verdict = (r: ScanReport): string | undefined => r.findings.find((f) => f.ruleId === 'mfa-entra-exclusion-without-fallback' && f.resource === 'policy:Require MFA')?.message
      const r = await run()
      expect(r.errors).toEqual([])
      const gets = fake.log.filter((l) => l.includes('/transitiveMembers'))
      expect(gets).toHaveLength(3)
      expect(gets[0]).toBe(`GET /v1.0/groups/${G}/transitiveMembers?$select=id,userPrincipalName,userType&$top=999`)
      expect(fake.log.some((l) => l.includes('ghost-group'))).toBe(false)
      expect(verdict(r)).toBe(`Entra ID: policy 'Require MFA' excludes group ${G} (3 of 4 members: user2@contoso.test, user3@contoso.test, user4@contoso.test) with no other enabled policy requiring MFA for them`)

      fake.faults.push({ when: (q) => q.url.pathname.endsWith('/transitiveMembers') && q.url.searchParams.get('$skiptoken') === '2', reply: { status: 500, json: { error: { code: 'generalException' } } } })
      const broken = await run()
      expect(broken.errors.map((e) => e.reason)).toEqual(['incomplete'])
      expect(broken.errors[0]!.message).toMatch(new RegExp(`missing transitive members of group ${G}: the pages after page 1 \\(2 read\\): Microsoft Graph: GET http://127\\.0\\.0\\.1:\\d+/v1\\.0/groups/${G}/transitiveMembers: HTTP 500 generalException`))
      expect(verdict(broken)).toBe(`Entra ID: policy 'Require MFA' excludes group ${G} (members not resolved) with no other enabled policy requiring MFA for them`)
    } finally {
      await fake.stop()
    }
  })

  it('refuses a next link to another origin (the bearer token stays with the API)', async () => {
    graph.faults.push({ when: (q) => q.url.pathname.endsWith('/userRegistrationDetails') && !q.url.search, reply: { json: { value: [defaultUser(1)], '@odata.nextLink': 'http://127.0.0.2:9/v1.0/steal' } } })
    const r = await pull()
    expect(r.errors.map((e) => e.reason)).toEqual(['incomplete'])
    expect(r.errors[0]!.message).toContain('refused a link to another origin (http://127.0.0.2:9')
  })

  it('federated workload identity from GitHub Actions OIDC (ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN)', async () => {
    const requestToken = 'gh-request-token-0123456789abcdef'
    const gh = await startGraphFake({ tenant: TENANT, clientId: CLIENT, users: 3, ghOidc: { requestToken, idToken: 'gh.oidc.idtoken' }, assertion: (jwt) => jwt === 'gh.oidc.idtoken' })
    try {
      vi.stubEnv('ACTIONS_ID_TOKEN_REQUEST_URL', `${gh.origin}/gh-oidc?api-version=2.0`)
      vi.stubEnv('ACTIONS_ID_TOKEN_REQUEST_TOKEN', requestToken)
      const r = await tester.run(parseTarget(`entra://${TENANT}`), { settings: { entra: { clientId: CLIENT, authorityHost: gh.authorityHost, graphBaseUrl: gh.graphBaseUrl } } })
      expect(r.errors).toEqual([])
      expect(r.findings.filter((f) => f.ruleId === 'mfa-user-without-mfa' || f.ruleId === 'mfa-admin-without-mfa')).toHaveLength(3)
      expect(gh.log.some((l) => l.startsWith('GET /gh-oidc?api-version=2.0&audience=api%3A%2F%2FAzureADTokenExchange'))).toBe(true)
      vi.stubEnv('ACTIONS_ID_TOKEN_REQUEST_TOKEN', 'wrong-request-token-xyz')
      const bad = await tester.run(parseTarget(`entra://${TENANT}`), { settings: { entra: { clientId: CLIENT, authorityHost: gh.authorityHost, graphBaseUrl: gh.graphBaseUrl } } })
      expect(bad.errors[0]!.message).toMatch(/GitHub Actions OIDC .*HTTP 401: no ID token \(does the job have "permissions: id-token: write"\?\)/)
    } finally {
      await gh.stop()
    }
  })

  it('client certificate: a signed assertion the token endpoint verifies against the certificate (x5t#S256)', async () => {
    const key = join(dir, 'app.key')
    const cert = join(dir, 'app.crt')
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-subj', '/CN=ztscan-entra-test', '-days', '1'], { stdio: 'ignore' })
    const pem = join(dir, 'app.pem')
    writeFileSync(pem, readFileSync(key, 'utf8') + readFileSync(cert, 'utf8'))
    const x509 = new X509Certificate(readFileSync(cert))
    const seen: Record<string, unknown>[] = []
    const fake = await startGraphFake({
      tenant: TENANT, clientId: CLIENT, users: 2,
      async assertion(jwt, aud) {
        const h = decodeProtectedHeader(jwt)
        seen.push(h)
        if (h['x5t#S256'] !== createHash('sha256').update(x509.raw).digest('base64url')) return false
        const { payload } = await jwtVerify(jwt, createPublicKey(x509.publicKey.export({ format: 'pem', type: 'spki' })), { audience: aud, issuer: CLIENT, subject: CLIENT })
        return typeof payload.jti === 'string'
      },
    })
    try {
      const r = await tester.run(parseTarget(`entra://${TENANT}`), { settings: { entra: { clientId: CLIENT, authorityHost: fake.authorityHost, graphBaseUrl: fake.graphBaseUrl, clientCertificatePath: pem } } })
      expect(r.errors).toEqual([])
      expect(seen).toEqual([expect.objectContaining({ alg: 'RS256', typ: 'JWT' })])
      const keyOnly = await tester.run(parseTarget(`entra://${TENANT}`), { settings: { entra: { clientId: CLIENT, authorityHost: fake.authorityHost, graphBaseUrl: fake.graphBaseUrl, clientCertificatePath: key } } })
      expect(keyOnly.errors[0]!.message).toBe('settings.entra.clientCertificatePath: expected the certificate beside the private key in the PEM file')
    } finally {
      await fake.stop()
    }
  })

  it('managed identity (IMDS): a token for the Graph resource, asked with Metadata: true', async () => {
    graph.log.length = 0
    const r = await tester.run(parseTarget(`entra://${TENANT}`), { settings: { entra: { graphBaseUrl: graph.graphBaseUrl, managedIdentity: true, managedIdentityEndpoint: `${graph.origin}/msi/token` } } })
    expect(r.errors).toEqual([])
    expect(graph.log.filter((l) => l.startsWith('GET /msi/token?api-version=2018-02-01&resource=https%3A%2F%2Fgraph.microsoft.com'))).toHaveLength(1)
  })

  it('managed identity on App Service / Functions (IDENTITY_ENDPOINT + IDENTITY_HEADER, api-version 2019-08-01); a refused header names the variables, never the value', async () => {
    const header = 'app-service-identity-header-0123456789'
    const msi = await startGraphFake({ tenant: TENANT, clientId: CLIENT, users: 3, identityHeader: header })
    try {
      vi.stubEnv('IDENTITY_ENDPOINT', `${msi.origin}/msi/appservice`)
      vi.stubEnv('IDENTITY_HEADER', header)
      const run = (entra: Record<string, unknown> = {}): Promise<ScanReport> => tester.run(parseTarget(`entra://${TENANT}`), { settings: { entra: { graphBaseUrl: msi.graphBaseUrl, ...entra } } })
      const r = await run()
      expect(r.errors).toEqual([])
      expect(r.findings.filter((f) => f.ruleId === 'mfa-user-without-mfa' || f.ruleId === 'mfa-admin-without-mfa')).toHaveLength(3)
      expect(msi.log.filter((l) => l.startsWith('GET /msi/'))).toEqual(['GET /msi/appservice?api-version=2019-08-01&resource=https%3A%2F%2Fgraph.microsoft.com'])
      // A user-assigned identity is chosen by its client id.
      expect((await run({ clientId: CLIENT })).errors).toEqual([])
      expect(msi.log.filter((l) => l.startsWith('GET /msi/'))[1]).toBe(`GET /msi/appservice?api-version=2019-08-01&resource=https%3A%2F%2Fgraph.microsoft.com&client_id=${CLIENT}`)
      vi.stubEnv('IDENTITY_HEADER', 'stale-identity-header-value-xyz')
      const bad = await run()
      expect(bad.findings).toEqual([])
      expect(bad.errors.map((e) => `${e.reason}: ${e.message}`)).toEqual([
        expect.stringMatching(/^input: Managed identity token endpoint http:\/\/127\.0\.0\.1:\d+\/msi\/appservice: HTTP 401: the credential was refused \(expired, revoked or not trusted for this client\?\): check IDENTITY_ENDPOINT and IDENTITY_HEADER$/),
      ])
      expect(JSON.stringify(bad)).not.toContain('stale-identity-header')
    } finally {
      await msi.stop()
    }
  })

  it('no credential, a plain-http API off loopback, a bad tenant: each says what to fix', async () => {
    const none = await tester.run(parseTarget(`entra://${TENANT}`), { settings: { entra: { clientId: CLIENT, graphBaseUrl: graph.graphBaseUrl } } })
    expect(none.errors[0]!.reason).toBe('input')
    expect(none.errors[0]!.message).toMatch(/^entra:\/\/contoso\.onmicrosoft\.com: no credential: set settings\.entra\.clientCertificatePath/)
    const plain = await pull({ graphBaseUrl: 'http://graph.example.test/v1.0' })
    expect(plain.errors[0]!.message).toBe('settings.entra.graphBaseUrl: expected an https:// URL (plain http only to a loopback address)')
    expect(() => parseTarget('entra://not a tenant')).toThrow(/expected entra:\/\/TENANT/)
  })
})
