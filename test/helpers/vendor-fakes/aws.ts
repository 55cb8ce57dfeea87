/**
 * @fileoverview Test helper: an AWS IAM + STS stand-in on loopback speaking the Query protocol in the documented shapes
 * (IAM API reference response samples): form-encoded POSTs, XML answers (`<XResponse><XResult>…`, `<member>` lists,
 * `<SummaryMap><entry><key/><value/></entry>`, URL-encoded policy documents), `<ErrorResponse><Error><Code>` errors.
 * Every IAM request must carry a valid SigV4 signature of a key the fake issued (and its session token when temporary);
 * `expire(id)` makes a key answer `403 ExpiredToken`. STS (path `/sts/`) answers `AssumeRoleWithWebIdentity` (unsigned,
 * the expected web identity token) and `AssumeRole` (signed) with fresh temporary keys. The account's data comes from one
 * JSON bundle in the CLI's shapes (`awsBundle`), so a test can scan the same data as a file.
 */
import { randomBytes } from 'node:crypto'
import { signV4, type AwsKeys } from '../../../checks/mfa/live/aws-sigv4.ts'
import { form, startFake, type FakeReply, type FakeRequest, type FakeServer } from './server.ts'

export const ACCOUNT = '123456789012'
const NS_IAM = 'https://iam.amazonaws.com/doc/2010-05-08/'
const NS_STS = 'https://sts.amazonaws.com/doc/2011-06-15/'

type Json = Record<string, unknown>

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/** A JSON value in the CLI's shapes → Query XML (arrays as `<member>`, `SummaryMap` as entries, documents URL-encoded). */
export function toXml(name: string, v: unknown): string {
  if (v === undefined || v === null) return ''
  if (Array.isArray(v)) return `<${name}>${v.map((x) => toXml('member', x)).join('')}</${name}>`
  if (typeof v === 'object') {
    if (name === 'SummaryMap') return `<SummaryMap>${Object.entries(v as Json).map(([k, x]) => `<entry><key>${esc(k)}</key><value>${String(x)}</value></entry>`).join('')}</SummaryMap>`
    // The raw API returns policy documents URL-encoded (the CLI decodes them).
    if (name === 'Document' || name === 'PolicyDocument') return `<${name}>${esc(encodeURIComponent(JSON.stringify(v)))}</${name}>`
    return `<${name}>${Object.entries(v as Json).map(([k, x]) => toXml(k, x)).join('')}</${name}>`
  }
  return `<${name}>${esc(String(v))}</${name}>`
}

const XML = { 'content-type': 'text/xml' }

function response(action: string, result: Json | undefined, ns = NS_IAM): FakeReply {
  const body = result === undefined ? '' : toXml(`${action}Result`, result)
  return { headers: XML, text: `<${action}Response xmlns="${ns}">${body}<ResponseMetadata><RequestId>${randomBytes(8).toString('hex')}</RequestId></ResponseMetadata></${action}Response>` }
}

/** An AWS error answer. */
export function awsError(status: number, code: string, message: string, type = 'Sender', headers: Record<string, string> = {}): FakeReply {
  return { status, headers: { ...XML, ...headers }, text: `<ErrorResponse xmlns="${NS_IAM}"><Error><Type>${type}</Type><Code>${code}</Code><Message>${esc(message)}</Message></Error><RequestId>${randomBytes(8).toString('hex')}</RequestId></ErrorResponse>` }
}

const CSV_HEADER = 'user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated'

/**
 * An account of `users` IAM users, in the CLI's JSON shapes: root without MFA and with access key 1 active; user i has a
 * console password unless i % 3 === 2, MFA unless i % 4 === 0; users with i % 5 === 0 are in group `admins`
 * (AdministratorAccess: everything without MFA), the others in `developers` (an inline policy allowing iam:* only with
 * `aws:MultiFactorAuthPresent`).
 */
export function awsBundle(users: number): { credentialReport: Json; accountSummary: Json; authorizationDetails: Json } {
  const rows = [CSV_HEADER, `<root_account>,arn:aws:iam::${ACCOUNT}:root,2020-01-01T00:00:00+00:00,not_supported,2026-11-01T00:00:00+00:00,not_supported,not_supported,false,true,2020-01-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A`]
  const list: Json[] = []
  for (let i = 0; i < users; i++) {
    const name = `user${i}`
    const console = i % 3 !== 2
    rows.push(`${name},arn:aws:iam::${ACCOUNT}:user/${name},2025-01-01T00:00:00+00:00,${console},${console ? '2026-11-01T00:00:00+00:00' : 'N/A'},N/A,N/A,${i % 4 !== 0},false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A`)
    list.push({ Path: '/', UserName: name, UserId: `AIDA${String(i).padStart(17, '0')}`, Arn: `arn:aws:iam::${ACCOUNT}:user/${name}`, CreateDate: '2025-01-01T00:00:00Z', UserPolicyList: [], GroupList: [i % 5 === 0 ? 'admins' : 'developers'], AttachedManagedPolicies: [], Tags: [] })
  }
  const admin = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }
  const mfaOnly = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iam:*', Resource: '*', Condition: { Bool: { 'aws:MultiFactorAuthPresent': 'true' } } }] }
  return {
    credentialReport: { Content: Buffer.from(`${rows.join('\n')}\n`).toString('base64'), ReportFormat: 'text/csv', GeneratedTime: '2026-12-01T00:00:00Z' },
    accountSummary: { SummaryMap: { Users: users, Groups: 2, Policies: 1, AccountMFAEnabled: 0, AccountAccessKeysPresent: 1, AccountSigningCertificatesPresent: 0, MFADevices: 0, MFADevicesInUse: 0 } },
    authorizationDetails: {
      UserDetailList: list,
      GroupDetailList: [
        { Path: '/', GroupName: 'admins', GroupId: 'AGPA000000000000000A1', Arn: `arn:aws:iam::${ACCOUNT}:group/admins`, CreateDate: '2025-01-01T00:00:00Z', GroupPolicyList: [], AttachedManagedPolicies: [{ PolicyName: 'AdministratorAccess', PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }] },
        { Path: '/', GroupName: 'developers', GroupId: 'AGPA000000000000000D1', Arn: `arn:aws:iam::${ACCOUNT}:group/developers`, CreateDate: '2025-01-01T00:00:00Z', GroupPolicyList: [{ PolicyName: 'iam-with-mfa', PolicyDocument: mfaOnly }], AttachedManagedPolicies: [] },
      ],
      RoleDetailList: [],
      Policies: [{ PolicyName: 'AdministratorAccess', PolicyId: 'ANPAIWMBCKSKIEE64ZLYK', Arn: 'arn:aws:iam::aws:policy/AdministratorAccess', Path: '/', DefaultVersionId: 'v1', AttachmentCount: 1, IsAttachable: true, PolicyVersionList: [{ Document: admin, VersionId: 'v1', IsDefaultVersion: true, CreateDate: '2015-02-06T18:39:46Z' }] }],
    },
  }
}

export interface AwsFakeOptions {
  readonly users: number
  /** Users per GetAccountAuthorizationDetails page (the fake ignores MaxItems above it). */
  readonly pageSize?: number
  /** GenerateCredentialReport answers STARTED this many times, then COMPLETE (default 1). */
  readonly reportPolls?: number
  /** The web identity token STS accepts, and the role it may assume. */
  readonly webIdentityToken?: string
  readonly roleArn?: string
  /** Lifetime of STS-issued keys (seconds, default 3600). */
  readonly stsLifetime?: number
}

export interface AwsFake extends FakeServer {
  readonly iamEndpoint: string
  readonly stsEndpoint: string
  /** Issues long-term (or, with `temporary`, session) keys the fake accepts. */
  keys(temporary?: boolean): AwsKeys
  /** Makes a key answer ExpiredToken. */
  expire(accessKeyId: string): void
  /** Actions called, in order (`GetAccountAuthorizationDetails Marker=…`). */
  readonly calls: string[]
  readonly bundle: ReturnType<typeof awsBundle>
}

/** SigV4 verification: the signature recomputed with the fake's copy of the secret, over what was received. */
function verify(r: FakeRequest, known: Map<string, { secret: string; token?: string; expired: boolean }>, origin: string): 'ok' | 'expired' | 'unknown' | 'bad' {
  const auth = r.headers.authorization ?? ''
  const m = /^AWS4-HMAC-SHA256 Credential=([A-Z0-9]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(auth)
  if (!m) return 'bad'
  const [, id, , region, service, signed] = m as unknown as [string, string, string, string, string, string]
  const k = known.get(id)
  if (!k) return 'unknown'
  const names = signed.split(';')
  if (!names.includes('host') || !names.includes('x-amz-date')) return 'bad'
  if (k.token && r.headers['x-amz-security-token'] !== k.token) return 'bad'
  const headers: Record<string, string> = {}
  for (const n of names) if (n !== 'x-amz-date' && n !== 'x-amz-security-token') headers[n] = String(r.headers[n] ?? '')
  const stamp = String(r.headers['x-amz-date'] ?? '')
  const date = new Date(`${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 8)}T${stamp.slice(9, 11)}:${stamp.slice(11, 13)}:${stamp.slice(13, 15)}Z`)
  const again = signV4({ method: r.method, url: `${origin}${r.url.pathname}${r.url.search}`, headers, body: r.body, region, service, keys: { accessKeyId: id, secretAccessKey: k.secret, ...(k.token ? { sessionToken: k.token } : {}) }, date })
  if (again.authorization !== auth) return 'bad'
  return k.expired ? 'expired' : 'ok'
}

export async function startAwsFake(o: AwsFakeOptions): Promise<AwsFake> {
  const pageSize = o.pageSize ?? 10
  const bundle = awsBundle(o.users)
  const known = new Map<string, { secret: string; token?: string; expired: boolean }>()
  const calls: string[] = []
  let polls = 0
  const issue = (temporary = false): AwsKeys => {
    const accessKeyId = `${temporary ? 'ASIA' : 'AKIA'}${randomBytes(8).toString('hex').toUpperCase()}`
    const secretAccessKey = randomBytes(30).toString('base64')
    const sessionToken = temporary ? `FwoGZXIvYXdzE${randomBytes(40).toString('base64')}` : undefined
    known.set(accessKeyId, { secret: secretAccessKey, ...(sessionToken ? { token: sessionToken } : {}), expired: false })
    return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) }
  }
  const stsCredentials = (): Json => {
    const k = issue(true)
    return { AccessKeyId: k.accessKeyId, SecretAccessKey: k.secretAccessKey, SessionToken: k.sessionToken, Expiration: new Date(Date.now() + (o.stsLifetime ?? 3600) * 1000).toISOString() }
  }
  const base = await startFake(async (r, s): Promise<FakeReply> => {
    const f = form(r.body)
    const action = f.Action ?? ''
    const reply = (x: FakeReply): FakeReply => x
    if (r.method !== 'POST' || !action) return reply(awsError(400, 'MissingAction', 'Could not find operation'))
    if (r.url.pathname === '/sts/') {
      calls.push(`sts:${action}`)
      if (f.Version !== '2011-06-15') return reply(awsError(400, 'InvalidAction', 'Version'))
      if (action === 'AssumeRoleWithWebIdentity') {
        if (r.headers.authorization) return reply(awsError(400, 'InvalidParameterValue', 'AssumeRoleWithWebIdentity is not signed'))
        if (!o.webIdentityToken || f.WebIdentityToken !== o.webIdentityToken) return reply(awsError(400, 'InvalidIdentityToken', `Couldn't retrieve verification key from your identity provider: ${f.WebIdentityToken ?? ''}`))
        if (f.RoleArn !== o.roleArn) return reply(awsError(403, 'AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity'))
        return reply(response(action, { SubjectFromWebIdentityToken: 'repo:acme/infra:ref:refs/heads/main', Audience: 'sts.amazonaws.com', AssumedRoleUser: { Arn: `${o.roleArn}/${f.RoleSessionName}`, AssumedRoleId: 'AROA0000000000000000:x' }, Credentials: stsCredentials(), Provider: 'token.actions.githubusercontent.com' }, NS_STS))
      }
      if (action === 'AssumeRole') {
        const v = verify(r, known, s.origin)
        if (v !== 'ok') return reply(awsError(403, v === 'expired' ? 'ExpiredToken' : 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.'))
        if (f.RoleArn !== o.roleArn) return reply(awsError(403, 'AccessDenied', 'Not authorized to perform sts:AssumeRole'))
        return reply(response(action, { AssumedRoleUser: { Arn: `${o.roleArn}/${f.RoleSessionName}`, AssumedRoleId: 'AROA0000000000000000:x' }, Credentials: stsCredentials() }, NS_STS))
      }
      return reply(awsError(400, 'InvalidAction', action))
    }
    if (f.Version !== '2010-05-08') return reply(awsError(400, 'InvalidAction', 'Version'))
    const v = verify(r, known, s.origin)
    if (v === 'expired') return reply(awsError(403, 'ExpiredToken', 'The security token included in the request is expired'))
    if (v === 'unknown') return reply(awsError(403, 'InvalidClientTokenId', 'The security token included in the request is invalid.'))
    if (v === 'bad') return reply(awsError(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.'))
    calls.push(`${action}${f.Marker ? ` Marker=${f.Marker}` : ''}`)
    switch (action) {
      case 'GenerateCredentialReport': {
        const state = polls++ < (o.reportPolls ?? 1) ? (polls === 1 ? 'STARTED' : 'INPROGRESS') : 'COMPLETE'
        return reply(response(action, { State: state, Description: state === 'STARTED' ? 'No report exists. Starting a new report generation task' : '' }))
      }
      case 'GetCredentialReport':
        return reply(response(action, bundle.credentialReport))
      case 'GetAccountSummary':
        return reply(response(action, bundle.accountSummary))
      case 'GetAccountAuthorizationDetails': {
        const start = Number(f.Marker ?? '0')
        const d = bundle.authorizationDetails
        const users = (d.UserDetailList as unknown[]).slice(start, start + pageSize)
        const more = start + pageSize < (d.UserDetailList as unknown[]).length
        // Groups and policies come on the first page, users on every page.
        return reply(response(action, { UserDetailList: users, GroupDetailList: start ? [] : d.GroupDetailList, RoleDetailList: [], Policies: start ? [] : d.Policies, IsTruncated: more, ...(more ? { Marker: String(start + pageSize) } : {}) }))
      }
      default:
        return reply(awsError(400, 'InvalidAction', `Could not find operation ${action}`))
    }
  })
  return Object.assign(base, {
    iamEndpoint: base.origin,
    stsEndpoint: `${base.origin}/sts`,
    keys: issue,
    expire: (id: string) => {
      const k = known.get(id)
      if (k) k.expired = true
    },
    calls,
    bundle,
  })
}
