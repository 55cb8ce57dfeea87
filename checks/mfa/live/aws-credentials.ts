/**
 * @fileoverview AWS credentials for `aws-iam://`, the default chain's sources in the order the AWS SDKs document (Java
 * SDK v2's: environment, web identity, shared files, container, instance metadata), the first that applies:
 * 1. `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` (+ `AWS_SESSION_TOKEN`);
 * 2. web identity: `AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN` (+ `AWS_ROLE_SESSION_NAME`) → STS
 *    `AssumeRoleWithWebIdentity` (unsigned; the token file is read again at every renewal — CI and EKS rotate it);
 * 3. the shared files (`AWS_SHARED_CREDENTIALS_FILE` / `~/.aws/credentials`, `AWS_CONFIG_FILE` / `~/.aws/config`), profile
 *    `settings.aws.profile` / `AWS_PROFILE` / `default`: static keys, `role_arn` + `source_profile` (STS `AssumeRole`
 *    signed with the source profile's keys), or `role_arn` + `web_identity_token_file`;
 * 4. container credentials: `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (ECS agent at 169.254.170.2) or
 *    `AWS_CONTAINER_CREDENTIALS_FULL_URI` (loopback, the EKS Pod Identity agent, or https), with
 *    `AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE)`;
 * 5. EC2 instance metadata, IMDSv2 only (a session token by PUT first), and only when `settings.aws.imds` is true.
 * Temporary credentials are renewed five minutes before they expire, and once on an expired-credential answer.
 * `awsCredentialSource` picks the source without any network call (the preflight uses it: no credential → exit 2).
 * No key, token or signature reaches a message: errors name the variable, the file, the profile and the endpoint.
 */
import { homedir } from 'node:os'
import { join } from 'node:path'
import { AttemptFailure } from '../../../src/errors.ts'
import { shortUrl, type Transport } from './client.ts'
import { AwsQuery } from './aws-query.ts'
import type { AwsKeys } from './aws-sigv4.ts'
import { readSecretFile, type ReadFile } from './tokens.ts'

/** `settings.aws`. */
export interface AwsSettings {
  /** IAM Query endpoint (default by partition: https://iam.amazonaws.com). */
  readonly endpoint?: string
  /** STS endpoint (default https://sts.amazonaws.com, or the regional one when `region` is set). */
  readonly stsEndpoint?: string
  /** `aws` (default), `aws-cn` or `aws-us-gov`: the IAM endpoint and signing region. */
  readonly partition?: 'aws' | 'aws-cn' | 'aws-us-gov'
  /** Region of STS calls (`AWS_REGION` / `AWS_DEFAULT_REGION` otherwise; us-east-1 for the global endpoint). */
  readonly region?: string
  readonly profile?: string
  readonly sharedCredentialsFile?: string
  readonly configFile?: string
  /** EC2 instance metadata (IMDSv2) as the last source. */
  readonly imds?: boolean
  readonly imdsEndpoint?: string
  /** Base of `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (default http://169.254.170.2). */
  readonly containerEndpoint?: string
  readonly roleSessionName?: string
  /** Seconds to wait for the credential report to be generated (default 60). */
  readonly reportWaitSeconds?: number
}

type Env = Readonly<Record<string, string | undefined>>

/** Where the credential comes from, chosen without any network call. */
export type AwsSource =
  | { readonly kind: 'env'; readonly keys: AwsKeys }
  | { readonly kind: 'web-identity'; readonly tokenFile: string; readonly roleArn: string; readonly sessionName?: string; readonly where: string }
  | { readonly kind: 'profile-keys'; readonly profile: string; readonly keys: AwsKeys }
  | { readonly kind: 'assume-role'; readonly profile: string; readonly roleArn: string; readonly source: AwsKeys; readonly sessionName?: string; readonly externalId?: string }
  | { readonly kind: 'container'; readonly url: string; readonly authorization?: { readonly token?: string; readonly file?: string } }
  | { readonly kind: 'imds'; readonly endpoint: string }

/** The sentence of a missing credential (also the preflight's). */
export const NO_AWS_CREDENTIAL = 'no AWS credential: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN (CI OIDC), or a profile in ~/.aws/credentials or ~/.aws/config (AWS_PROFILE / settings.aws.profile), or run where AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI is set, or on EC2 with settings.aws.imds: true'

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/

/** An INI file of the AWS CLI: sections → key → value. Linear; comments `#`/`;` at line start; bounded by the file cap. */
export function parseIni(text: string): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>()
  let cur: Map<string, string> | undefined
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim()
    if (!line || line.startsWith('#') || line.startsWith(';')) continue
    if (line.startsWith('[') && line.endsWith(']')) {
      const name = line.slice(1, -1).trim().split(/\s+/).join(' ')
      cur = out.get(name) ?? new Map<string, string>()
      out.set(name, cur)
      continue
    }
    const eq = line.indexOf('=')
    // Nested sub-properties (`s3 =` then indented lines) have no value here; they are not credentials.
    if (eq > 0 && cur && !/^\s/.test(raw)) cur.set(line.slice(0, eq).trim().toLowerCase(), line.slice(eq + 1).trim())
  }
  return out
}

async function readOptional(read: ReadFile, path: string, what: string): Promise<string | undefined> {
  try {
    return (await read(path, 1024 * 1024)).toString('utf8')
  } catch (err) {
    if (err instanceof AttemptFailure && err.code === 'ENOENT') return undefined
    if (err instanceof AttemptFailure) throw new AttemptFailure('input', `${what}: ${err.message}`)
    throw err
  }
}

function keysFrom(p: ReadonlyMap<string, string>, where: string): AwsKeys | undefined {
  const id = p.get('aws_access_key_id')
  const secret = p.get('aws_secret_access_key')
  if (!id && !secret) return undefined
  if (!id || !secret) throw new AttemptFailure('input', `${where}: expected both aws_access_key_id and aws_secret_access_key`)
  const token = p.get('aws_session_token')
  return { accessKeyId: id, secretAccessKey: secret, ...(token ? { sessionToken: token } : {}) }
}

/** Plain-http credential endpoints the SDKs accept: loopback, ECS (169.254.170.2), EKS Pod Identity (169.254.170.23), IMDS. */
function containerUrl(value: string, what: string): string {
  let u: URL
  try {
    u = new URL(value)
  } catch {
    throw new AttemptFailure('input', `${what}: not a URL`)
  }
  const host = u.hostname.replace(/^\[|\]$/g, '')
  const plainOk = /^127\.\d+\.\d+\.\d+$/.test(host) || host === '::1' || host === 'localhost' || ['169.254.170.2', '169.254.170.23', 'fd00:ec2::23', '169.254.169.254', 'fd00:ec2::254'].includes(host)
  if (u.username || u.password) throw new AttemptFailure('input', `${what}: a URL must not hold credentials`)
  if (!(u.protocol === 'https:' || (u.protocol === 'http:' && plainOk))) throw new AttemptFailure('input', `${what}: expected https://, or http:// to loopback or an AWS link-local credential endpoint (169.254.170.2, 169.254.170.23, 169.254.169.254, [fd00:ec2::23], [fd00:ec2::254])`)
  return u.href
}

/**
 * Picks the credential source: the first that applies, files read through `read` (a missing shared file is skipped; a
 * profile named explicitly must exist). Throws `AttemptFailure('input')` naming what to set when nothing applies.
 */
export async function awsCredentialSource(s: AwsSettings, read: ReadFile, env: Env = process.env): Promise<AwsSource> {
  const id = env.AWS_ACCESS_KEY_ID
  const secret = env.AWS_SECRET_ACCESS_KEY
  if (id || secret) {
    if (!id || !secret) throw new AttemptFailure('input', `${id ? 'AWS_SECRET_ACCESS_KEY' : 'AWS_ACCESS_KEY_ID'} is not set (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY go together)`)
    return { kind: 'env', keys: { accessKeyId: id, secretAccessKey: secret, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) } }
  }
  const sessionName = s.roleSessionName ?? env.AWS_ROLE_SESSION_NAME
  if (env.AWS_WEB_IDENTITY_TOKEN_FILE || env.AWS_ROLE_ARN) {
    if (!env.AWS_WEB_IDENTITY_TOKEN_FILE || !env.AWS_ROLE_ARN) throw new AttemptFailure('input', `${env.AWS_ROLE_ARN ? 'AWS_WEB_IDENTITY_TOKEN_FILE' : 'AWS_ROLE_ARN'} is not set (web identity needs AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN)`)
    if (!ROLE_ARN.test(env.AWS_ROLE_ARN)) throw new AttemptFailure('input', 'AWS_ROLE_ARN: expected arn:aws:iam::ACCOUNT:role/NAME')
    return { kind: 'web-identity', tokenFile: env.AWS_WEB_IDENTITY_TOKEN_FILE, roleArn: env.AWS_ROLE_ARN, ...(sessionName ? { sessionName } : {}), where: 'AWS_WEB_IDENTITY_TOKEN_FILE' }
  }
  const profile = s.profile ?? env.AWS_PROFILE ?? env.AWS_DEFAULT_PROFILE
  const fromProfile = await profileSource(s, read, env, profile ?? 'default', profile !== undefined, sessionName)
  if (fromProfile) return fromProfile
  const rel = env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
  const full = env.AWS_CONTAINER_CREDENTIALS_FULL_URI
  if (rel || full) {
    const url = rel
      ? containerUrl(`${(s.containerEndpoint ?? 'http://169.254.170.2').replace(/\/+$/, '')}${rel.startsWith('/') ? '' : '/'}${rel}`, 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI')
      : containerUrl(full!, 'AWS_CONTAINER_CREDENTIALS_FULL_URI')
    const file = env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE
    const token = env.AWS_CONTAINER_AUTHORIZATION_TOKEN
    return { kind: 'container', url, ...(file || token ? { authorization: file ? { file } : { token } } : {}) }
  }
  if (s.imds === true) return { kind: 'imds', endpoint: containerUrl(s.imdsEndpoint ?? 'http://169.254.169.254', 'settings.aws.imdsEndpoint').replace(/\/+$/, '') }
  throw new AttemptFailure('input', NO_AWS_CREDENTIAL)
}

async function profileSource(s: AwsSettings, read: ReadFile, env: Env, name: string, explicit: boolean, sessionName: string | undefined, depth = 0): Promise<AwsSource | undefined> {
  const credPath = s.sharedCredentialsFile ?? env.AWS_SHARED_CREDENTIALS_FILE ?? join(homedir(), '.aws', 'credentials')
  const confPath = s.configFile ?? env.AWS_CONFIG_FILE ?? join(homedir(), '.aws', 'config')
  const credText = await readOptional(read, credPath, 'shared credentials file')
  const confText = await readOptional(read, confPath, 'shared config file')
  const creds = credText === undefined ? undefined : parseIni(credText).get(name)
  const conf = confText === undefined ? undefined : parseIni(confText).get(name === 'default' ? 'default' : `profile ${name}`) ?? (name === 'default' ? undefined : parseIni(confText).get(name))
  if (!creds && !conf) {
    if (explicit) throw new AttemptFailure('input', `AWS profile "${name}": not found in ${credPath} or ${confPath}`)
    return undefined
  }
  const where = `AWS profile "${name}" (${creds ? credPath : confPath})`
  const merged = new Map([...(conf ?? []), ...(creds ?? [])])
  const roleArn = merged.get('role_arn')
  if (roleArn) {
    if (!ROLE_ARN.test(roleArn)) throw new AttemptFailure('input', `${where}: role_arn: expected arn:aws:iam::ACCOUNT:role/NAME`)
    const session = merged.get('role_session_name') ?? sessionName
    const tokenFile = merged.get('web_identity_token_file')
    if (tokenFile) return { kind: 'web-identity', tokenFile, roleArn, ...(session ? { sessionName: session } : {}), where: `${where}: web_identity_token_file` }
    const src = merged.get('source_profile')
    if (!src) throw new AttemptFailure('input', `${where}: role_arn needs source_profile or web_identity_token_file (credential_source is not supported)`)
    if (depth > 0) throw new AttemptFailure('input', `${where}: a source_profile that assumes a role in turn is not supported (chain one role)`)
    const source = src === name ? keysFrom(merged, where) : await profileSource(s, read, env, src, true, sessionName, depth + 1)
    const keys = source === undefined ? undefined : 'kind' in source ? (source.kind === 'profile-keys' ? source.keys : undefined) : source
    if (!keys) throw new AttemptFailure('input', `${where}: source_profile "${src}" has no aws_access_key_id / aws_secret_access_key`)
    const externalId = merged.get('external_id')
    return { kind: 'assume-role', profile: name, roleArn, source: keys, ...(session ? { sessionName: session } : {}), ...(externalId ? { externalId } : {}) }
  }
  const keys = keysFrom(merged, where)
  if (keys) return { kind: 'profile-keys', profile: name, keys }
  for (const k of ['credential_process', 'sso_session', 'sso_start_url', 'credential_source'])
    if (merged.has(k)) throw new AttemptFailure('input', `${where}: ${k} is not supported by ztscan; use static keys, role_arn with source_profile or web_identity_token_file, or the environment`)
  if (explicit) throw new AttemptFailure('input', `${where}: no aws_access_key_id / aws_secret_access_key or role_arn`)
  return undefined
}

/** What STS and the metadata services need to be reached. */
export interface StsPlace {
  readonly endpoint: string
  readonly region: string
}

/** A credential with its expiry (epoch ms, undefined for long-term keys). */
interface Timed {
  readonly keys: AwsKeys
  readonly expires?: number
}

const RENEW_BEFORE_MS = 5 * 60_000

function stsKeys(result: Record<string, unknown>, what: string): Timed {
  const c = result.Credentials as Record<string, unknown> | undefined
  const id = c?.AccessKeyId
  const secret = c?.SecretAccessKey
  const token = c?.SessionToken
  if (typeof id !== 'string' || typeof secret !== 'string' || typeof token !== 'string' || !id || !secret || !token) throw new AttemptFailure('protocol', `${what}: the answer has no Credentials`)
  const exp = typeof c?.Expiration === 'string' ? Date.parse(c.Expiration) : NaN
  return { keys: { accessKeyId: id, secretAccessKey: secret, sessionToken: token }, ...(Number.isNaN(exp) ? {} : { expires: exp }) }
}

/** JSON credentials of the container endpoint and IMDS (`AccessKeyId`, `SecretAccessKey`, `Token`, `Expiration`). */
function jsonKeys(body: Buffer, what: string): Timed {
  let j: Record<string, unknown> | undefined
  try {
    const p: unknown = JSON.parse(body.toString('utf8'))
    if (typeof p === 'object' && p !== null && !Array.isArray(p)) j = p as Record<string, unknown>
  } catch {
    j = undefined
  }
  const id = j?.AccessKeyId
  const secret = j?.SecretAccessKey
  if (typeof id !== 'string' || typeof secret !== 'string' || !id || !secret) throw new AttemptFailure('protocol', `${what}: the answer has no AccessKeyId/SecretAccessKey`)
  const token = typeof j?.Token === 'string' && j.Token ? j.Token : undefined
  const exp = typeof j?.Expiration === 'string' ? Date.parse(j.Expiration) : NaN
  return { keys: { accessKeyId: id, secretAccessKey: secret, ...(token ? { sessionToken: token } : {}) }, ...(Number.isNaN(exp) ? {} : { expires: exp }) }
}

/** A readable name of the source, for the debug log (never a secret). */
export function describeSource(src: AwsSource): string {
  switch (src.kind) {
    case 'env': return 'environment (AWS_ACCESS_KEY_ID)'
    case 'web-identity': return `web identity (${src.where}) for ${src.roleArn}`
    case 'profile-keys': return `AWS profile "${src.profile}" (static keys)`
    case 'assume-role': return `AWS profile "${src.profile}": AssumeRole ${src.roleArn}`
    case 'container': return `container credentials ${shortUrl(src.url)}`
    case 'imds': return `EC2 instance metadata (IMDSv2) ${src.endpoint}`
  }
}

/**
 * A credential provider for `src`: cached, renewed five minutes before expiry and when `refresh` is asked (after an
 * expired-credential answer).
 */
export function awsCredentialProvider(src: AwsSource, sts: StsPlace, transport: Transport, read: ReadFile, signal?: AbortSignal): (refresh: boolean) => Promise<AwsKeys> {
  const session = (name: string | undefined): string => name ?? `ztscan-${Date.now()}`
  const stsClient = (keys?: (refresh: boolean) => Promise<AwsKeys>): AwsQuery =>
    new AwsQuery({ vendor: 'AWS STS', endpoint: sts.endpoint, version: '2011-06-15', region: sts.region, service: 'sts', transport, signal, keys, limits: { maxPageBytes: 256 * 1024, requestTimeoutMs: 30_000 } })
  let fetch: () => Promise<Timed>
  switch (src.kind) {
    case 'env':
    case 'profile-keys': {
      const keys = src.keys
      fetch = async () => ({ keys })
      break
    }
    case 'web-identity':
      fetch = async () => {
        const token = await readSecretFile(read, src.tokenFile, src.where)
        return stsKeys(await stsClient().call('AssumeRoleWithWebIdentity', { RoleArn: src.roleArn, RoleSessionName: session(src.sessionName), WebIdentityToken: token }), 'AWS STS AssumeRoleWithWebIdentity')
      }
      break
    case 'assume-role': {
      const source = src.source
      fetch = async () => stsKeys(await stsClient(async () => source).call('AssumeRole', { RoleArn: src.roleArn, RoleSessionName: session(src.sessionName), ...(src.externalId ? { ExternalId: src.externalId } : {}) }), 'AWS STS AssumeRole')
      break
    }
    case 'container':
      fetch = async () => {
        const a = src.authorization
        let auth: string | undefined
        if (a?.file) {
          try {
            auth = (await read(a.file, 16 * 1024)).toString('utf8').trim()
          } catch (err) {
            throw err instanceof AttemptFailure ? new AttemptFailure('input', `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: ${err.message}`) : err
          }
        } else auth = a?.token
        if (auth !== undefined && /[\r\n]/.test(auth)) throw new AttemptFailure('input', 'AWS_CONTAINER_AUTHORIZATION_TOKEN: a line break in the token')
        const res = await transport(src.url, { headers: { accept: 'application/json', ...(auth ? { authorization: auth } : {}) }, maxBytes: 64 * 1024, timeoutMs: 5_000 })
        const what = `container credentials ${shortUrl(src.url)}`
        if (res.status !== 200) throw new AttemptFailure('input', `${what}: HTTP ${res.status}: no credentials`)
        return jsonKeys(res.body, what)
      }
      break
    case 'imds':
      fetch = async () => {
        const what = `EC2 instance metadata ${src.endpoint}`
        const tok = await transport(`${src.endpoint}/latest/api/token`, { method: 'PUT', headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '21600' }, maxBytes: 4096, timeoutMs: 2_000 })
        if (tok.status !== 200) throw new AttemptFailure('input', `${what}: HTTP ${tok.status} for an IMDSv2 session token (IMDS disabled, or the hop limit too low for a container?)`)
        const h = { 'x-aws-ec2-metadata-token': tok.body.toString('utf8').trim() }
        const list = await transport(`${src.endpoint}/latest/meta-data/iam/security-credentials/`, { headers: h, maxBytes: 4096, timeoutMs: 2_000 })
        const role = list.body.toString('utf8').split('\n')[0]!.trim()
        if (list.status !== 200 || !/^[\w+=,.@-]{1,128}$/.test(role)) throw new AttemptFailure('input', `${what}: HTTP ${list.status}: the instance has no IAM role (instance profile)`)
        const res = await transport(`${src.endpoint}/latest/meta-data/iam/security-credentials/${role}`, { headers: h, maxBytes: 64 * 1024, timeoutMs: 2_000 })
        if (res.status !== 200) throw new AttemptFailure('input', `${what}: HTTP ${res.status}: no credentials for role ${role}`)
        return jsonKeys(res.body, what)
      }
      break
  }
  let cur: Timed | undefined
  return async (refresh) => {
    if (!cur || refresh || (cur.expires !== undefined && Date.now() >= cur.expires - RENEW_BEFORE_MS)) cur = await fetch()
    return cur.keys
  }
}
