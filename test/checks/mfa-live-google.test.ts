/**
 * @fileoverview `google://CUSTOMER` against a loopback Google stand-in (documented shapes): a service account with
 * domain-wide delegation (a JWT the stand-in verifies), workload identity federation (STS exchange + IAM Credentials
 * signJwt), three pages of users, a 429 with Retry-After, a 500 mid-pull, a refused credential, and no secret in the output.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import idpExport from '../../checks/mfa/idp.ts'
import { parseTarget } from '../../src/targets/parse.ts'
import type { ScanReport } from '../../src/types.ts'
import { checkTester } from '../helpers/check-tester.ts'
import { startGoogleFake, type GoogleFake } from '../helpers/vendor-fakes/google.ts'

delete process.env.GOOGLE_APPLICATION_CREDENTIALS
const SA = 'ztscan-reader@acme-project.iam.gserviceaccount.com'
const ADMIN = 'admin@example.test'
const FEDERATED = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOmFjbWUvaW5mcmEifQ.ci-oidc-token-for-test'
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
const PEM = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
const dir = mkdtempSync(join(tmpdir(), 'ztscan-google-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

let g: GoogleFake
let keyFile: string
let wifFile: string
const tester = checkTester(idpExport)
beforeAll(async () => {
  g = await startGoogleFake({ users: 25, pageSize: 10, serviceAccount: SA, privateKeyPem: PEM, publicKey, subject: ADMIN, federatedToken: FEDERATED })
  keyFile = join(dir, 'sa.json')
  writeFileSync(keyFile, JSON.stringify({ type: 'service_account', project_id: 'acme-project', private_key_id: 'k1', private_key: PEM, client_email: SA, client_id: '1234567890', token_uri: g.tokenUri }))
  const subjectFile = join(dir, 'oidc.jwt')
  writeFileSync(subjectFile, FEDERATED)
  wifFile = join(dir, 'wif.json')
  writeFileSync(wifFile, JSON.stringify({
    type: 'external_account', audience: '//iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/ci/providers/github',
    subject_token_type: 'urn:ietf:params:oauth:token-type:jwt', token_url: g.stsUrl, token_uri: g.tokenUri,
    service_account_impersonation_url: g.impersonationUrl, credential_source: { file: subjectFile, format: { type: 'text' } },
  }))
  return () => g.stop()
})

const pull = (google: Record<string, unknown>): Promise<ScanReport> => tester.run(parseTarget('google://C01abc23d'), { settings: { google: { adminBaseUrl: g.baseUrl, ...google } } })
const fails = (r: ScanReport, rule: string): string[] => r.findings.filter((f) => f.ruleId === rule && f.status === 'fail').map((f) => f.resource).sort()
/** Active users (not every 11th) whose index is a multiple of 5 have no 2SV. */
const expectedNoMfa = Array.from({ length: 25 }, (_, i) => i).filter((i) => i % 5 === 0 && i % 11 !== 10 && i !== 0).map((i) => `user:user${i}@example.test`).sort()

describe('google:// live pull', () => {
  it('service account with domain-wide delegation: three pages of users and the org units, judged like the export', async () => {
    g.log.length = 0
    const r = await pull({ credentialsFile: keyFile, subject: ADMIN })
    expect(r.errors).toEqual([])
    expect(g.log.filter((l) => l.startsWith('GET /admin/directory/v1/users'))).toEqual([
      'GET /admin/directory/v1/users?customer=C01abc23d&projection=full&maxResults=500',
      'GET /admin/directory/v1/users?customer=C01abc23d&projection=full&maxResults=500&pageToken=10',
      'GET /admin/directory/v1/users?customer=C01abc23d&projection=full&maxResults=500&pageToken=20',
    ])
    expect(fails(r, 'mfa-user-without-mfa')).toEqual(expectedNoMfa)
    expect(fails(r, 'mfa-admin-without-mfa')).toEqual(['user:user0@example.test'])
    // 2SV is enforced per organizational unit: /Engineering yes, /Sales no, /Empty has nobody to judge.
    const ou = r.findings.filter((f) => f.ruleId === 'mfa-not-enforced' && f.resource.startsWith('org:')).map((f) => `${f.status} ${f.resource} ${String(f.evidence?.setting)}`)
    expect(ou).toEqual(['pass org:/Engineering isEnforcedIn2Sv true for 11 of 11 users', 'fail org:/Sales isEnforcedIn2Sv true for 0 of 12 users'])
  })

  it('a 429 with Retry-After is waited out; a 500 on the third page is an incomplete error, the rest judged', async () => {
    g.faults.push({ when: (q) => q.url.searchParams.get('pageToken') === '10', reply: { status: 429, headers: { 'retry-after': '1' }, json: { error: { code: 429, message: 'Quota exceeded' } } } })
    const ok = await pull({ credentialsFile: keyFile, subject: ADMIN })
    expect(ok.errors).toEqual([])
    expect(fails(ok, 'mfa-user-without-mfa')).toEqual(expectedNoMfa)
    g.faults.push({ when: (q) => q.url.searchParams.get('pageToken') === '20', reply: { status: 500, json: { error: { code: 500, message: 'Backend Error' } } } })
    const part = await pull({ credentialsFile: keyFile, subject: ADMIN })
    expect(part.errors).toHaveLength(1)
    expect(part.errors[0]).toMatchObject({ reason: 'incomplete' })
    expect(part.errors[0]!.message).toMatch(/google:\/\/C01abc23d: incomplete pull, judged what was read; missing users: the pages after the 20 users read: Google Admin SDK: GET http:\/\/127\.0\.0\.1:\d+\/admin\/directory\/v1\/users: HTTP 500/)
    expect(fails(part, 'mfa-user-without-mfa')).toEqual(expectedNoMfa.filter((u) => Number(/\d+/.exec(u)![0]) < 20))
  })

  it('workload identity federation: the CI token exchanged at STS, a delegated JWT signed by IAM Credentials', async () => {
    g.log.length = 0
    const r = await pull({ credentialsFile: wifFile, subject: ADMIN })
    expect(r.errors).toEqual([])
    expect(g.log.slice(0, 3)).toEqual(['POST /v1/token', `POST /v1/projects/-/serviceAccounts/${encodeURIComponent(SA)}:signJwt`, 'POST /token'])
    expect(fails(r, 'mfa-user-without-mfa')).toEqual(expectedNoMfa)
    // Without a subject: an access token of the impersonated service account.
    g.log.length = 0
    const plain = await pull({ credentialsFile: wifFile })
    expect(plain.errors).toEqual([])
    expect(g.log[1]).toBe(`POST /v1/projects/-/serviceAccounts/${encodeURIComponent(SA)}:generateAccessToken`)
  })

  it('a refused credential is an input error naming the endpoint and the OAuth error, never the assertion or the key', async () => {
    const r = await pull({ credentialsFile: keyFile, subject: 'someone-else@example.test' })
    expect(r.findings).toEqual([])
    expect(r.errors).toHaveLength(1)
    expect(r.errors[0]).toMatchObject({ reason: 'input' })
    expect(r.errors[0]!.message).toMatch(/Google token endpoint http:\/\/127\.0\.0\.1:\d+\/token: HTTP 401 unauthorized_client: the credential was refused \(expired, revoked or not trusted for this client\?\): check settings\.google\.credentialsFile and settings\.google\.subject \(domain-wide delegation for the service account's client id\)$/)
    const badKey = join(dir, 'other.json')
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
    writeFileSync(badKey, JSON.stringify({ type: 'service_account', private_key: other, client_email: SA, token_uri: g.tokenUri }))
    const r2 = await pull({ credentialsFile: badKey, subject: ADMIN })
    expect(r2.errors[0]!.message).toMatch(/HTTP 400 invalid_grant/)
    const text = JSON.stringify([r, r2])
    for (const secret of [PEM.slice(40, 100), other.slice(40, 100), 'eyJ']) expect(text).not.toContain(secret)
  })

  it('settings are checked: no credential, a wrong credentials type, a non-loopback http base URL', async () => {
    expect((await pull({})).errors[0]!.message).toMatch(/no credential: set settings\.google\.credentialsFile/)
    const odd = join(dir, 'odd.json')
    writeFileSync(odd, JSON.stringify({ type: 'authorized_user', refresh_token: 'r-secret-token' }))
    const r = await pull({ credentialsFile: odd })
    expect(r.errors[0]!.message).toMatch(/expected "type": "service_account" or "external_account" \(got "authorized_user"\)/)
    expect(JSON.stringify(r)).not.toContain('r-secret-token')
    const far = await tester.run(parseTarget('google://C01abc23d'), { settings: { google: { adminBaseUrl: 'http://admin.example.test', credentialsFile: keyFile } } })
    expect(far.errors[0]!.message).toMatch(/settings\.google\.adminBaseUrl: expected an https:\/\/ URL \(plain http only to a loopback address\)/)
  })

  it('workload identity federation from an executable or from AWS is refused before any request, saying why', async () => {
    const base = JSON.parse(readFileSync(wifFile, 'utf8')) as Record<string, unknown>
    const exe = join(dir, 'wif-exe.json')
    writeFileSync(exe, JSON.stringify({ ...base, credential_source: { executable: { command: '/usr/local/bin/get-token --secret s3cr3t', timeout_millis: 5000 } } }))
    const aws = join(dir, 'wif-aws.json')
    writeFileSync(aws, JSON.stringify({ ...base, credential_source: { environment_id: 'aws1', region_url: 'http://169.254.169.254/latest/meta-data/placement/availability-zone', regional_cred_verification_url: 'https://sts.{region}.amazonaws.com?Action=GetCallerIdentity&Version=2011-06-15' } }))
    g.log.length = 0
    const r1 = await pull({ credentialsFile: exe })
    expect(r1.errors.map((e) => `${e.reason}: ${e.message}`)).toEqual(['input: settings.google.credentialsFile: credential_source.executable (an executable-sourced credential) is not supported: ztscan runs no command named in a credentials file; give the subject token as credential_source.file or credential_source.url'])
    expect(JSON.stringify(r1)).not.toContain('s3cr3t')
    const r2 = await pull({ credentialsFile: aws })
    expect(r2.errors.map((e) => `${e.reason}: ${e.message}`)).toEqual(['input: settings.google.credentialsFile: credential_source.environment_id (an AWS-sourced credential) is not supported: ztscan does not sign AWS requests for Google STS; give an OIDC subject token as credential_source.file or credential_source.url'])
    expect(g.log).toEqual([])
  })

  it('the target names a customer id or my_customer', () => {
    expect(parseTarget('google://my_customer')).toMatchObject({ kind: 'identity-live', provider: 'google', customer: 'my_customer' })
    expect(() => parseTarget('google://C01;rm')).toThrow(/expected google:\/\/CUSTOMER/)
  })
})
