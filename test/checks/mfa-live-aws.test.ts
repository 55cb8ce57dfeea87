/**
 * @fileoverview `aws-iam://ACCOUNT` against a loopback IAM + STS stand-in speaking the Query protocol (XML answers in the
 * IAM API reference's shapes; every request's SigV4 signature verified): SigV4 known answers from AWS's published test
 * suite, credential report generation polled STARTED → COMPLETE, authorization details over three Marker pages, a
 * `Throttling` 400 and a 429 with Retry-After, a 500 mid-pull (incomplete), an expired credential renewed once, web
 * identity via STS, a profile assuming a role, the pull judged exactly as the same data given as a file, and the
 * credential chain's order and messages.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import idpExport from '../../checks/mfa/idp.ts'
import { signV4 } from '../../checks/mfa/live/aws-sigv4.ts'
import { awsCredentialSource, parseIni } from '../../checks/mfa/live/aws-credentials.ts'
import { AwsQuery, parseAwsXml } from '../../checks/mfa/live/aws-query.ts'
import { awsPlaces } from '../../checks/mfa/live/aws.ts'
import { readFileCapped } from '../../src/lib-files.ts'
import { parseTarget } from '../../src/targets/parse.ts'
import type { Finding, ScanReport } from '../../src/types.ts'
import { checkTester } from '../helpers/check-tester.ts'
import { ensureBuilt, runCli } from '../helpers/cli.ts'
import { ACCOUNT, awsError, startAwsFake, type AwsFake } from '../helpers/vendor-fakes/aws.ts'

const AWS_VARS = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_ROLE_ARN', 'AWS_ROLE_SESSION_NAME', 'AWS_PROFILE', 'AWS_DEFAULT_PROFILE', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'AWS_CONTAINER_CREDENTIALS_FULL_URI', 'AWS_CONTAINER_AUTHORIZATION_TOKEN', 'AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_CONFIG_FILE', 'AWS_REGION', 'AWS_DEFAULT_REGION']
for (const v of AWS_VARS) delete process.env[v]
const dir = mkdtempSync(join(tmpdir(), 'ztscan-aws-'))
// No shared files from the machine running the tests.
process.env.AWS_SHARED_CREDENTIALS_FILE = join(dir, 'no-credentials')
process.env.AWS_CONFIG_FILE = join(dir, 'no-config')
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const ROLE = `arn:aws:iam::${ACCOUNT}:role/ztscan-audit`
const WEB_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOmFjbWUvaW5mcmEifQ.github-oidc-token-for-aws-test'
let f: AwsFake
const tester = checkTester(idpExport)
beforeAll(async () => {
  f = await startAwsFake({ users: 25, pageSize: 10, reportPolls: 2, webIdentityToken: WEB_TOKEN, roleArn: ROLE })
  return () => f.stop()
})

/** Runs a pull with `env` set for its duration (the credential chain reads process.env). */
async function pull(env: Record<string, string>, aws: Record<string, unknown> = {}, target = `aws-iam://${ACCOUNT}`): Promise<ScanReport> {
  Object.assign(process.env, env)
  try {
    return await tester.run(parseTarget(target), { settings: { aws: { endpoint: f.iamEndpoint, stsEndpoint: f.stsEndpoint, reportWaitSeconds: 30, ...aws } } })
  } finally {
    for (const k of Object.keys(env)) delete process.env[k]
  }
}
const envKeys = (k = f.keys()): Record<string, string> => ({ AWS_ACCESS_KEY_ID: k.accessKeyId, AWS_SECRET_ACCESS_KEY: k.secretAccessKey, ...(k.sessionToken ? { AWS_SESSION_TOKEN: k.sessionToken } : {}) })
const fails = (r: ScanReport, rule: string): string[] => r.findings.filter((x) => x.ruleId === rule && x.status === 'fail').map((x) => x.resource).sort()
/** Console users (i % 3 !== 2) without MFA (i % 4 === 0). */
const noMfa = (n: number): string[] => Array.from({ length: n }, (_, i) => i).filter((i) => i % 3 !== 2 && i % 4 === 0).map((i) => `user:user${i}`).sort()
/** Users in the admins group (AdministratorAccess without MFA). */
const admins = (n: number): string[] => Array.from({ length: n }, (_, i) => i).filter((i) => i % 5 === 0).map((i) => `user:user${i}`).sort()
const verdicts = (r: ScanReport): string[] => r.findings.map((x: Finding) => `${x.ruleId} ${x.status} ${x.resource} ${x.message}`).sort()

describe('SigV4 (AWS Signature Version 4 test suite, known answers)', () => {
  const keys = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' }
  const date = new Date(Date.UTC(2015, 7, 30, 12, 36, 0))
  const sign = (method: string, url: string, headers: Record<string, string> = {}, body = ''): string => signV4({ method, url, headers, body, region: 'us-east-1', service: 'service', keys, date }).authorization!
  const scope = 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request'
  it.each([
    ['get-vanilla', 'GET', 'https://example.amazonaws.com/', {}, '', 'host;x-amz-date', '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31'],
    ['get-vanilla-query-order-key-case', 'GET', 'https://example.amazonaws.com/?Param2=value2&Param1=value1', {}, '', 'host;x-amz-date', 'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500'],
    ['post-vanilla', 'POST', 'https://example.amazonaws.com/', {}, '', 'host;x-amz-date', '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b'],
    ['post-x-www-form-urlencoded', 'POST', 'https://example.amazonaws.com/', { 'Content-Type': 'application/x-www-form-urlencoded' }, 'Param1=value1', 'content-type;host;x-amz-date', 'ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a'],
  ] as const)('%s', (_name, method, url, headers, body, signed, sig) => {
    expect(sign(method, url, headers, body)).toBe(`${scope}, SignedHeaders=${signed}, Signature=${sig}`)
  })
  it('temporary credentials sign x-amz-security-token; the secret is in no header', () => {
    const h = signV4({ method: 'POST', url: 'https://iam.amazonaws.com/', body: 'Action=GetAccountSummary', region: 'us-east-1', service: 'iam', keys: { ...keys, sessionToken: 'session-token-value' }, date })
    expect(h['x-amz-security-token']).toBe('session-token-value')
    expect(h.authorization).toMatch(/SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/)
    expect(JSON.stringify(h)).not.toContain(keys.secretAccessKey)
  })
})

describe('Query XML reader', () => {
  it('member lists, SummaryMap entries, booleans, empty lists; a DOCTYPE and deep nesting are refused', () => {
    const doc = parseAwsXml('<R xmlns="x"><Result><IsTruncated>false</IsTruncated><UserDetailList><member><UserName>a</UserName><GroupList/></member></UserDetailList><SummaryMap><entry><key>Users</key><value>3</value></entry></SummaryMap></Result></R>', 't')
    expect(JSON.parse(JSON.stringify(doc))).toEqual({ R: { Result: { IsTruncated: false, UserDetailList: [{ UserName: 'a', GroupList: [] }], SummaryMap: { Users: 3 } } } })
    expect(() => parseAwsXml('<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', 't')).toThrow(/t: /)
    expect(() => parseAwsXml(`${'<a>'.repeat(40)}${'</a>'.repeat(40)}`, 't')).toThrow(/more than 32 levels/)
    expect(() => parseAwsXml('<a><b></a>', 't')).toThrow(/not well-formed XML/)
    // Linear: 2 MB of nested-looking text parses at once.
    expect(() => parseAwsXml(`<a>${'&lt;b&gt;'.repeat(200_000)}</a>`, 't')).not.toThrow()
  })
})

describe('aws-iam:// live pull', () => {
  it('environment keys: report generated (STARTED → COMPLETE), three pages of authorization details, judged like the export', async () => {
    f.calls.length = 0
    const r = await pull(envKeys())
    expect(r.errors).toEqual([])
    expect(f.calls).toEqual(['GenerateCredentialReport', 'GenerateCredentialReport', 'GenerateCredentialReport', 'GetCredentialReport', 'GetAccountSummary', 'GetAccountAuthorizationDetails', 'GetAccountAuthorizationDetails Marker=10', 'GetAccountAuthorizationDetails Marker=20'])
    expect(fails(r, 'mfa-user-without-mfa')).toEqual(noMfa(25))
    expect(fails(r, 'mfa-aws-root-without-mfa')).toEqual(['user:<root_account>'])
    expect(fails(r, 'mfa-aws-root-access-keys')).toEqual(['user:<root_account>'])
    expect(fails(r, 'mfa-aws-policy-without-mfa-condition')).toEqual(admins(25))
    expect(r.findings.filter((x) => x.ruleId === 'mfa-aws-policy-without-mfa-condition' && x.status === 'pass')).toHaveLength(20)
  })

  it('the pull and the same data as an export file give the same findings', async () => {
    const live = await pull(envKeys())
    const file = join(dir, 'bundle.json')
    writeFileSync(file, JSON.stringify(f.bundle))
    const offline = await tester.run(parseTarget(`idp:aws:${file}`))
    expect(offline.errors).toEqual([])
    expect(verdicts(live)).toEqual(verdicts(offline))
    expect(verdicts(live).length).toBeGreaterThan(40)
  })

  it('Throttling (400) and a 429 with Retry-After are waited out; a 500 on the third page is an incomplete error, the rest judged', async () => {
    f.faults.push({ when: (q) => q.body.includes('Action=GetAccountSummary'), reply: awsError(400, 'Throttling', 'Rate exceeded', 'Sender', { 'retry-after': '1' }) })
    f.faults.push({ when: (q) => q.body.includes('Marker=10'), reply: awsError(429, 'Throttling', 'Rate exceeded', 'Sender', { 'retry-after': '1' }) })
    f.calls.length = 0
    const ok = await pull(envKeys())
    expect(ok.errors).toEqual([])
    expect(fails(ok, 'mfa-aws-policy-without-mfa-condition')).toEqual(admins(25))
    expect(f.faults.every((x) => x.times === 0)).toBe(true)
    f.faults.push({ when: (q) => q.body.includes('Marker=20'), reply: awsError(500, 'ServiceFailure', 'Internal failure', 'Receiver') })
    const part = await pull(envKeys())
    expect(part.errors).toHaveLength(1)
    expect(part.errors[0]).toMatchObject({ reason: 'incomplete' })
    expect(part.errors[0]!.message).toMatch(/^aws-iam:\/\/123456789012: incomplete pull, judged what was read; missing authorization details: the pages after page 2 \(20 users read\): AWS IAM: POST http:\/\/127\.0\.0\.1:\d+\/ GetAccountAuthorizationDetails: HTTP 500 ServiceFailure$/)
    // The report and the first 20 users are judged; users 20-24 have no policy verdict.
    expect(fails(part, 'mfa-user-without-mfa')).toEqual(noMfa(25))
    expect(fails(part, 'mfa-aws-policy-without-mfa-condition')).toEqual(admins(20))
  })

  it('an expired credential is renewed once through the chain (web identity), then a second expiry is an input error', async () => {
    const token = join(dir, 'web-identity.jwt')
    writeFileSync(token, WEB_TOKEN)
    f.calls.length = 0
    // The STS keys expire after the first IAM call: the client asks STS again and goes on.
    let expired = false
    f.faults.push({
      when: (q) => {
        if (expired || !q.body.includes('Action=GetCredentialReport')) return false
        expired = true
        return true
      },
      reply: awsError(403, 'ExpiredToken', 'The security token included in the request is expired'),
    })
    const r = await pull({ AWS_WEB_IDENTITY_TOKEN_FILE: token, AWS_ROLE_ARN: ROLE })
    expect(r.errors).toEqual([])
    expect(f.calls.filter((c) => c.startsWith('sts:'))).toEqual(['sts:AssumeRoleWithWebIdentity', 'sts:AssumeRoleWithWebIdentity'])
    expect(fails(r, 'mfa-user-without-mfa')).toEqual(noMfa(25))
    // Long-term keys that are expired stay expired: renewal gives the same keys, the second refusal is the error.
    const k = f.keys()
    f.expire(k.accessKeyId)
    const dead = await pull(envKeys(k))
    expect(dead.findings).toEqual([])
    expect(dead.errors).toHaveLength(1)
    expect(dead.errors[0]).toMatchObject({ reason: 'input' })
    expect(dead.errors[0]!.message).toMatch(/AWS IAM: POST http:\/\/127\.0\.0\.1:\d+\/ GenerateCredentialReport: HTTP 403 ExpiredToken: the credential was rejected/)
  })

  it('web identity: a token STS refuses is an input error naming STS and its code, never the token', async () => {
    const token = join(dir, 'wrong.jwt')
    writeFileSync(token, 'eyJhbGciOiJSUzI1NiJ9.wrong-web-identity-token.sig')
    const r = await pull({ AWS_WEB_IDENTITY_TOKEN_FILE: token, AWS_ROLE_ARN: ROLE })
    expect(r.errors).toHaveLength(1)
    expect(r.errors[0]!.message).toMatch(/AWS STS: POST http:\/\/127\.0\.0\.1:\d+\/sts\/ AssumeRoleWithWebIdentity: HTTP 400 InvalidIdentityToken/)
    expect(JSON.stringify(r)).not.toContain('wrong-web-identity-token')
  })

  it('shared files: a profile with role_arn + source_profile assumes the role with the source keys', async () => {
    const src = f.keys()
    const creds = join(dir, 'credentials')
    const conf = join(dir, 'config')
    writeFileSync(creds, `[base]\naws_access_key_id = ${src.accessKeyId}\naws_secret_access_key = ${src.secretAccessKey}\n`)
    writeFileSync(conf, `[default]\nregion = us-east-1\n\n[profile audit]\nrole_arn = ${ROLE}\nsource_profile = base\nrole_session_name = ztscan-ci\n`)
    f.calls.length = 0
    const r = await pull({ AWS_PROFILE: 'audit' }, { sharedCredentialsFile: creds, configFile: conf })
    expect(r.errors).toEqual([])
    expect(f.calls[0]).toBe('sts:AssumeRole')
    expect(fails(r, 'mfa-aws-root-without-mfa')).toEqual(['user:<root_account>'])
    // A profile named but absent fails the preflight, naming both files.
    await expect(pull({}, { sharedCredentialsFile: creds, configFile: conf, profile: 'nope' })).rejects.toThrow(`aws-iam://${ACCOUNT}: AWS profile "nope": not found in ${creds} or ${conf}`)
  })

  it('report generation is polled within reportWaitSeconds: a report never COMPLETE is named missing, root judged from the account summary', async () => {
    const slow = await startAwsFake({ users: 5, reportPolls: 1_000_000 })
    try {
      const k = slow.keys()
      Object.assign(process.env, envKeys(k))
      const r = await tester.run(parseTarget(`aws-iam://${ACCOUNT}`), { settings: { aws: { endpoint: slow.iamEndpoint, reportWaitSeconds: 1 } } })
      expect(r.errors).toHaveLength(1)
      expect(r.errors[0]!.message).toMatch(/^aws-iam:\/\/123456789012: incomplete pull, judged what was read; missing credential report: AWS IAM: GenerateCredentialReport: not COMPLETE after \d+ s \(settings\.aws\.reportWaitSeconds: 1\)$/)
      expect(slow.calls.filter((c) => c === 'GenerateCredentialReport').length).toBeLessThanOrEqual(4)
      const root = r.findings.find((x) => x.ruleId === 'mfa-aws-root-without-mfa')!
      expect(root).toMatchObject({ status: 'fail', evidence: { source: 'GetAccountSummary: AccountMFAEnabled 0' } })
      expect(fails(r, 'mfa-aws-policy-without-mfa-condition')).toEqual(admins(5))
    } finally {
      for (const v of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) delete process.env[v]
      await slow.stop()
    }
  })

  it('cancellation ends a wait on throttling: the call rejects as aborted after one request', async () => {
    const { startFake } = await import('../helpers/vendor-fakes/server.ts')
    const busy = await startFake(() => awsError(429, 'Throttling', 'Rate exceeded', 'Sender', { 'retry-after': '60' }))
    const { bindNet } = await import('../../src/net/index.ts')
    const ac = new AbortController()
    try {
      const q = new AwsQuery({ vendor: 'AWS IAM', endpoint: busy.origin, version: '2010-05-08', region: 'us-east-1', service: 'iam', transport: bindNet(ac.signal, 30_000).httpRequest, signal: ac.signal, keys: async () => f.keys() })
      const call = q.call('GetAccountSummary')
      setTimeout(() => ac.abort(), 200)
      await expect(call).rejects.toMatchObject({ reason: 'aborted', message: expect.stringMatching(/GetAccountSummary: aborted while throttled$/) })
      expect(busy.log).toEqual(['POST /'])
    } finally {
      await busy.stop()
    }
  })

  it('partitions and regions pick the IAM and STS endpoints and signing regions', () => {
    expect(awsPlaces({}, {})).toEqual({ iam: 'https://iam.amazonaws.com', iamRegion: 'us-east-1', sts: 'https://sts.amazonaws.com', stsRegion: 'us-east-1' })
    expect(awsPlaces({ region: 'eu-west-1' }, {})).toMatchObject({ sts: 'https://sts.eu-west-1.amazonaws.com', stsRegion: 'eu-west-1', iamRegion: 'us-east-1' })
    expect(awsPlaces({ partition: 'aws-cn' }, { AWS_REGION: 'cn-northwest-1' })).toEqual({ iam: 'https://iam.cn-north-1.amazonaws.com.cn', iamRegion: 'cn-north-1', sts: 'https://sts.cn-northwest-1.amazonaws.com.cn', stsRegion: 'cn-northwest-1' })
    expect(awsPlaces({ partition: 'aws-us-gov' }, {})).toMatchObject({ iam: 'https://iam.us-gov.amazonaws.com', iamRegion: 'us-gov-west-1' })
    expect(() => awsPlaces({ endpoint: 'http://iam.example.com' }, {})).toThrow(/settings\.aws\.endpoint: expected an https:\/\/ URL/)
  })

  it('the credential must belong to the target account', async () => {
    const r = await pull(envKeys(), {}, 'aws-iam://210987654321')
    expect(r.findings).toEqual([])
    expect(r.errors[0]!.message).toBe('aws-iam://210987654321: the credential belongs to AWS account 123456789012, not 210987654321')
  })

  it('a credential AWS does not know: input error, nothing judged, no key in the output', async () => {
    const r = await pull({ AWS_ACCESS_KEY_ID: 'AKIAUNKNOWN000000000', AWS_SECRET_ACCESS_KEY: 'unknown-secret-key-for-test' })
    expect(r.findings).toEqual([])
    expect(r.errors[0]!.message).toMatch(/HTTP 403 InvalidClientTokenId: the credential was rejected/)
    expect(JSON.stringify(r)).not.toContain('unknown-secret-key-for-test')
  })
})

describe('credential chain', () => {
  const read = (p: string, max: number): Promise<Buffer> => readFileCapped(p, max)
  const files = { sharedCredentialsFile: join(dir, 'absent-credentials'), configFile: join(dir, 'absent-config') }
  it('order: environment, web identity, shared files, container, IMDS (only when enabled)', async () => {
    const creds = join(dir, 'chain-credentials')
    writeFileSync(creds, '[default]\naws_access_key_id = AKIAPROFILE\naws_secret_access_key = profile-secret\n')
    const all = { AWS_ACCESS_KEY_ID: 'AKIAENV', AWS_SECRET_ACCESS_KEY: 's', AWS_WEB_IDENTITY_TOKEN_FILE: '/t', AWS_ROLE_ARN: ROLE, AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '/v2/credentials/x' }
    const kind = async (env: Record<string, string>, s: Record<string, unknown> = files): Promise<string> => (await awsCredentialSource(s, read, env)).kind
    expect(await kind(all, { sharedCredentialsFile: creds, configFile: files.configFile })).toBe('env')
    expect(await kind({ ...all, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' }, { sharedCredentialsFile: creds, configFile: files.configFile })).toBe('web-identity')
    expect(await kind({ AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '/v2/x' }, { sharedCredentialsFile: creds, configFile: files.configFile })).toBe('profile-keys')
    expect(await kind({ AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '/v2/x' })).toBe('container')
    expect(await kind({}, { ...files, imds: true })).toBe('imds')
    await expect(kind({})).rejects.toThrow(/^no AWS credential: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN/)
    await expect(kind({ AWS_ACCESS_KEY_ID: 'AKIA' })).rejects.toThrow('AWS_SECRET_ACCESS_KEY is not set (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY go together)')
    await expect(kind({ AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://10.0.0.1/creds' })).rejects.toThrow(/AWS_CONTAINER_CREDENTIALS_FULL_URI: expected https:\/\/, or http:\/\/ to loopback/)
    const sso = join(dir, 'sso-config')
    writeFileSync(sso, '[profile dev]\nsso_session = corp\nsso_account_id = 123456789012\n')
    await expect(kind({}, { sharedCredentialsFile: files.sharedCredentialsFile, configFile: sso, profile: 'dev' })).rejects.toThrow(/sso_session is not supported by ztscan/)
  })

  it('container credentials (with an authorization token) and IMDSv2 against loopback stand-ins', async () => {
    const { startFake } = await import('../helpers/vendor-fakes/server.ts')
    const k = f.keys(true)
    const meta = await startFake((q) => {
      if (q.url.pathname === '/v2/credentials/abc') return q.headers.authorization === 'container-auth-token' ? { json: { AccessKeyId: k.accessKeyId, SecretAccessKey: k.secretAccessKey, Token: k.sessionToken, Expiration: new Date(Date.now() + 3600_000).toISOString() } } : { status: 401, json: {} }
      if (q.url.pathname === '/latest/api/token' && q.method === 'PUT') return { text: 'imds-session-token', headers: { 'content-type': 'text/plain' } }
      if (q.headers['x-aws-ec2-metadata-token'] !== 'imds-session-token') return { status: 401, text: '' }
      if (q.url.pathname === '/latest/meta-data/iam/security-credentials/') return { text: 'ztscan-role', headers: { 'content-type': 'text/plain' } }
      if (q.url.pathname === '/latest/meta-data/iam/security-credentials/ztscan-role') return { json: { Code: 'Success', Type: 'AWS-HMAC', AccessKeyId: k.accessKeyId, SecretAccessKey: k.secretAccessKey, Token: k.sessionToken, Expiration: new Date(Date.now() + 3600_000).toISOString() } }
      return { status: 404, json: {} }
    })
    try {
      const ecs = await pull({ AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '/v2/credentials/abc', AWS_CONTAINER_AUTHORIZATION_TOKEN: 'container-auth-token' }, { containerEndpoint: meta.origin })
      expect(ecs.errors).toEqual([])
      expect(fails(ecs, 'mfa-aws-root-access-keys')).toEqual(['user:<root_account>'])
      meta.log.length = 0
      const ec2 = await pull({}, { imds: true, imdsEndpoint: meta.origin })
      expect(ec2.errors).toEqual([])
      expect(meta.log).toEqual(['PUT /latest/api/token', 'GET /latest/meta-data/iam/security-credentials/', 'GET /latest/meta-data/iam/security-credentials/ztscan-role'])
    } finally {
      await meta.stop()
    }
  })

  it('INI: sections, comments, profile prefixes; nested sub-properties are not keys', () => {
    const ini = parseIni('# c\n[default]\naws_access_key_id=A\n[profile x]\n; c\nrole_arn = arn\ns3 =\n  max_concurrent_requests = 20\n')
    expect([...ini.keys()]).toEqual(['default', 'profile x'])
    expect(ini.get('default')!.get('aws_access_key_id')).toBe('A')
    expect(ini.get('profile x')!.has('max_concurrent_requests')).toBe(false)
  })

  it('ztscan scan aws-iam://ACCOUNT without a credential, or with a bad setting, exits 2 before any request', () => {
    ensureBuilt()
    const cfg = join(dir, 'ztscan.config.yaml')
    writeFileSync(cfg, `settings:\n  aws: { endpoint: "${f.iamEndpoint}", stsEndpoint: "${f.stsEndpoint}" }\n`)
    f.log.length = 0
    const none = runCli(['scan', '--config', cfg, `aws-iam://${ACCOUNT}`], { cwd: dir })
    expect(none.code).toBe(2)
    expect(none.stderr).toMatch(/^ztscan: aws-iam:\/\/123456789012: no AWS credential: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN/)
    const half = runCli(['scan', '--config', cfg, `aws-iam://${ACCOUNT}`], { cwd: dir, env: { AWS_ROLE_ARN: ROLE } })
    expect(half.code).toBe(2)
    expect(half.stderr).toMatch(/AWS_WEB_IDENTITY_TOKEN_FILE is not set \(web identity needs AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN\)/)
    writeFileSync(cfg, 'settings:\n  aws: { endpoint: "http://iam.example.com", bogus: 1 }\n')
    const bad = runCli(['scan', '--config', cfg, `aws-iam://${ACCOUNT}`], { cwd: dir, env: { AWS_ACCESS_KEY_ID: 'AKIAX', AWS_SECRET_ACCESS_KEY: 'x' } })
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain(`${cfg}: /settings/aws/bogus: expected no such property`)
    expect(f.log).toEqual([])
  })

  it('the target is a 12-digit account id', () => {
    expect(parseTarget('aws-iam://123456789012')).toMatchObject({ kind: 'identity-live', provider: 'aws', account: '123456789012', id: 'aws-iam://123456789012' })
    expect(() => parseTarget('aws-iam://acme')).toThrow(/expected aws-iam:\/\/ACCOUNT \(the 12-digit AWS account id\)/)
  })
})
