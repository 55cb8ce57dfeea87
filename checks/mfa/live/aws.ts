/**
 * @fileoverview `aws-iam://ACCOUNT`: the IAM Query API pulled live into the bundle the AWS export reader takes
 * (`{ credentialReport, accountSummary, authorizationDetails }`, the shapes `aws iam …` prints), so the same reader and
 * rules judge a pull and a file: root MFA and access keys, console users without MFA, policies allowing sensitive actions
 * without `aws:MultiFactorAuthPresent`, coverage.
 *
 * Calls (IAM `Version=2010-05-08`, SigV4 over the context's bounded transport): `GenerateCredentialReport` polled until
 * `COMPLETE` (bounded by `settings.aws.reportWaitSeconds`), `GetCredentialReport` (base64 CSV), `GetAccountSummary`,
 * `GetAccountAuthorizationDetails` paged with `Marker`/`IsTruncated`. A part that fails is named in an `incomplete` error
 * and the rest is judged; the credential's account must be the target's (a pull of another account is refused).
 */
import { AttemptFailure } from '../../../src/errors.ts'
import type { CheckContext } from '../../../src/engine/check.ts'
import type { Target } from '../../../src/types.ts'
import { parseExport, type IdpModel } from '../exports.ts'
import { baseUrl, PullLog } from './client.ts'
import { awsCredentialProvider, awsCredentialSource, describeSource, type AwsSettings } from './aws-credentials.ts'
import { AwsQuery } from './aws-query.ts'
import { setTimeout as sleep } from 'node:timers/promises'

/** IAM permissions the pull needs (named in an AccessDenied message). */
export const AWS_PERMISSIONS = 'iam:GenerateCredentialReport, iam:GetCredentialReport, iam:GetAccountSummary, iam:GetAccountAuthorizationDetails (the SecurityAudit managed policy has them)'

const PARTITIONS = {
  aws: { iam: 'https://iam.amazonaws.com', region: 'us-east-1', sts: 'https://sts.amazonaws.com', suffix: 'amazonaws.com' },
  'aws-cn': { iam: 'https://iam.cn-north-1.amazonaws.com.cn', region: 'cn-north-1', sts: 'https://sts.cn-north-1.amazonaws.com.cn', suffix: 'amazonaws.com.cn' },
  'aws-us-gov': { iam: 'https://iam.us-gov.amazonaws.com', region: 'us-gov-west-1', sts: 'https://sts.us-gov-west-1.amazonaws.com', suffix: 'amazonaws.com' },
} as const

type Json = Record<string, unknown>
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)

/** The IAM and STS places of the settings: endpoints, signing regions. */
export function awsPlaces(s: AwsSettings, env: Readonly<Record<string, string | undefined>> = process.env): { iam: string; iamRegion: string; sts: string; stsRegion: string } {
  const p = PARTITIONS[s.partition ?? 'aws']
  const region = s.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION
  const regional = region && /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/.test(region) ? region : undefined
  return {
    iam: baseUrl(s.endpoint ?? p.iam, 'settings.aws.endpoint'),
    iamRegion: p.region,
    sts: baseUrl(s.stsEndpoint ?? (regional ? `https://sts.${regional}.${p.suffix}` : p.sts), 'settings.aws.stsEndpoint'),
    stsRegion: regional ?? p.region,
  }
}

/** Pulls `aws-iam://ACCOUNT` into the export model. */
export async function pullAws(target: Target, ctx: Pick<CheckContext, 'signal' | 'settings' | 'net' | 'log'>): Promise<IdpModel> {
  const account = String(target.account)
  const s = (ctx.settings.aws ?? {}) as AwsSettings
  const places = awsPlaces(s)
  const read = (path: string, max: number): Promise<Buffer> => ctx.net.readFile(path, max)
  const source = await awsCredentialSource(s, read)
  ctx.log.debug(`${target.id}: ${describeSource(source)}`)
  const keys = awsCredentialProvider(source, { endpoint: places.sts, region: places.stsRegion }, ctx.net.httpRequest, read, ctx.signal)
  const iam = new AwsQuery({ vendor: 'AWS IAM', endpoint: places.iam, version: '2010-05-08', region: places.iamRegion, service: 'iam', transport: ctx.net.httpRequest, signal: ctx.signal, keys, permissions: AWS_PERMISSIONS })

  // Each part that fails is named as missing; `log.pages` counts the answers that hold data.
  const log = new PullLog()
  const bundle: Json = {}

  await log.part('credential report', async () => {
    const waitMs = (s.reportWaitSeconds ?? 60) * 1000
    const start = Date.now()
    for (let n = 0; ; n++) {
      const g = await iam.call('GenerateCredentialReport')
      if (g.State === 'COMPLETE') break
      if (g.State !== 'STARTED' && g.State !== 'INPROGRESS') throw new AttemptFailure('protocol', `AWS IAM: GenerateCredentialReport: unexpected State ${JSON.stringify(String(g.State)).slice(0, 40)}`)
      const delay = Math.min(5000, 250 * 2 ** n)
      if (Date.now() - start + delay > waitMs) throw new AttemptFailure('timeout', `AWS IAM: GenerateCredentialReport: not COMPLETE after ${Math.round((Date.now() - start) / 1000)} s (settings.aws.reportWaitSeconds: ${waitMs / 1000})`)
      try {
        await sleep(delay, undefined, { signal: ctx.signal })
      } catch {
        throw new AttemptFailure('aborted', `${target.id}: aborted while the credential report was generated`)
      }
    }
    const r = await iam.call('GetCredentialReport')
    if (typeof r.Content !== 'string' || !r.Content) throw new AttemptFailure('protocol', 'AWS IAM: GetCredentialReport: the answer has no Content')
    bundle.credentialReport = { Content: r.Content, ReportFormat: r.ReportFormat, GeneratedTime: r.GeneratedTime }
    log.pages++
  })
  await log.part('account summary', async () => {
    const r = await iam.call('GetAccountSummary')
    if (!isObj(r.SummaryMap)) throw new AttemptFailure('protocol', 'AWS IAM: GetAccountSummary: the answer has no SummaryMap')
    bundle.accountSummary = { SummaryMap: r.SummaryMap }
    log.pages++
  })
  let pages = 0
  const details = { UserDetailList: [] as unknown[], GroupDetailList: [] as unknown[], RoleDetailList: [] as unknown[], Policies: [] as unknown[] }
  await log.part('authorization details', async () => {
    let marker: string | undefined
    const seen = new Set<string>()
    do {
      if (pages >= iam.limits.maxPages) throw new AttemptFailure('incomplete', `AWS IAM: GetAccountAuthorizationDetails: more than ${iam.limits.maxPages} pages`)
      let r: Json
      try {
        r = await iam.call('GetAccountAuthorizationDetails', { MaxItems: '1000', ...(marker ? { Marker: marker } : {}) })
      } catch (err) {
        if (err instanceof AttemptFailure && pages > 0 && err.reason !== 'aborted') throw new AttemptFailure(err.reason, `the pages after page ${pages} (${details.UserDetailList.length} users read): ${err.message}`)
        throw err
      }
      for (const k of ['UserDetailList', 'GroupDetailList', 'RoleDetailList', 'Policies'] as const) {
        const v = r[k]
        if (v === undefined) continue
        if (!Array.isArray(v)) throw new AttemptFailure('protocol', `AWS IAM: GetAccountAuthorizationDetails: expected ${k} to be a list`)
        for (const x of v) details[k].push(x)
      }
      pages++
      log.pages++
      marker = r.IsTruncated === true && typeof r.Marker === 'string' && r.Marker ? r.Marker : undefined
      if (r.IsTruncated === true && !marker) throw new AttemptFailure('protocol', 'AWS IAM: GetAccountAuthorizationDetails: IsTruncated without a Marker')
      if (marker && seen.has(marker)) throw new AttemptFailure('protocol', 'AWS IAM: GetAccountAuthorizationDetails: the Marker repeats')
      if (marker) seen.add(marker)
    } while (marker)
  })
  // A partly read authorization list is judged too (users on the pages read), and named as missing.
  if (pages > 0) bundle.authorizationDetails = details
  // Nothing read at all: the first failure is the attempt's.
  const incomplete = log.incomplete(target.id)

  const model = parseExport('aws', Buffer.from(JSON.stringify(bundle)), target.id)
  checkAccount(model, details.UserDetailList, account, target.id)
  return { ...model, ...(incomplete ? { incomplete } : {}) }
}

/** The account of the ARNs read must be the target's: credentials for another account must not pass for this one. */
function checkAccount(model: IdpModel, users: readonly unknown[], account: string, id: string): void {
  const arns = [model.awsRoot?.arn, ...model.users.slice(0, 1).map((u) => u.id), ...users.slice(0, 1).map((u) => (isObj(u) ? u.Arn : undefined))]
  for (const arn of arns) {
    const m = typeof arn === 'string' ? /^arn:aws[a-z-]*:iam::(\d{12}):/.exec(arn) : null
    if (m && m[1] !== account) throw new AttemptFailure('input', `${id}: the credential belongs to AWS account ${m[1]}, not ${account}`)
  }
}
