/**
 * @fileoverview Check `mfa-idp-export`: identity-provider exports (offline files) and live pulls (`entra://`, …) → users without MFA, users with weak
 * factors only, MFA not enforced by policy, AWS root account without MFA or with access keys.
 */
import type { CheckDefinition } from '../../src/engine/check.ts'
import { AttemptFailure } from '../../src/errors.ts'
import { parseExport, type IdpModel, type IdpRule, type IdpUser } from './exports.ts'
import { pullLive } from './live/index.ts'
import { streamAwsUsers, streamEntraUsers, streamGithubUsers, streamGoogleUsers, streamOktaUsers, type StreamedUsers } from './export-stream.ts'
import type { Target } from '../../src/types.ts'
import { strongestTier } from './factors.ts'
import { evaluateEntraPolicies } from './policy-entra.ts'
import { mfaCoverage } from './coverage.ts'
import { evaluateOktaPolicies } from './policy-okta.ts'
import { evaluateAwsPolicies, SENSITIVE_ACTIONS } from './policy-aws.ts'
import { idpExport } from './family.ts'
import type { IDP_RULES, STREAMED_PROVIDERS } from './rules.ts'

/** Exports larger than this are refused (a 100k-user Okta bundle is about 150 MB; split larger tenants). */
const MAX_EXPORT_BYTES = 256 * 1024 * 1024

const PROVIDER_NAMES: ReadonlyMap<string, string> = new Map(Object.entries({ okta: 'Okta', entra: 'Entra ID', google: 'Google Workspace', aws: 'AWS IAM', github: 'GitHub' }))

type Rule = (typeof IDP_RULES)[number]

interface WeakParams extends Record<string, unknown> {
  requirePhishingResistant: boolean
  requirePhishingResistantForAdmins: boolean
  weakFactors: string[]
  phishingResistantFactors: string[]
}

/** The check's declaration (checks/mfa/family.ts: loaded by every scan); its code, loaded when it runs, is {@link idpExportRun}. */
export default idpExport

export const idpExportRun: Pick<CheckDefinition<Rule>, 'run'> = {
  async run(target, ctx) {
    const weak = ctx.params<WeakParams>('mfa-weak-factors-only')
    // User lists are streamed (export-stream.ts): their users are read, not held.
    const streamed = await streamExport(target, ctx.net.readStream, weak)
    const model = streamed?.model ?? (target.kind === 'identity-live' ? await pullLive(target, ctx) : await readExport(target, ctx.net.readFile))
    const name = PROVIDER_NAMES.get(model.provider) ?? model.provider
    const userCount = streamed?.users.count ?? model.users.length

    const reportUser = (u: IdpUser): void => {
      const at = userAt(u, name)
      const rule = u.admin ? 'mfa-admin-without-mfa' : 'mfa-user-without-mfa'
      ctx.report(rule, u.mfa ? 'pass' : 'fail', u.mfa ? { ...at, message: `${u.admin ? 'Administrator ' : ''}${u.login} has a second factor (${name})` } : at)

      if (u.mfa && u.factors?.length) {
        const tier = strongestTier(u.factors, weak.weakFactors, weak.phishingResistantFactors)
        const needPr = weak.requirePhishingResistant || (u.admin && weak.requirePhishingResistantForAdmins)
        const required = needPr ? 'phishing-resistant' : 'stronger than SMS, voice or email'
        const ok = needPr ? tier === 'phishing-resistant' : tier === 'stronger' || tier === 'phishing-resistant'
        const evidence = { ...at.evidence, tier, required }
        ctx.report('mfa-weak-factors-only', ok ? 'pass' : 'fail', {
          resource: at.resource,
          evidence,
          ...(ok ? { message: `${u.login} (${name}) has a ${tier} factor (required: ${required})` } : {}),
        })
      }

      if (u.enforced !== undefined) {
        const evidence = { provider: name, scope: `user ${u.login}`, setting: `isEnforcedIn2Sv: ${u.enforced}`, user: u.login, enforced: u.enforced }
        ctx.report('mfa-not-enforced', u.enforced ? 'pass' : 'fail', {
          resource: at.resource,
          evidence,
          ...(u.enforced ? { message: `${name}: 2-Step Verification is enforced for ${u.login}` } : {}),
        })
      }
    }
    for (const u of model.users) reportUser(u)
    await streamed?.users.each(reportUser)

    for (const e of model.enforcement) {
      const scope = e.resource.startsWith('org:') ? `organization ${e.resource.slice(4)}` : 'all users'
      const evidence = { provider: name, scope, ...e.evidence }
      ctx.report('mfa-not-enforced', e.enforced ? 'pass' : 'fail', {
        resource: e.resource,
        evidence,
        ...(e.enforced ? { message: `${name}: MFA is enforced for ${scope} (${(e.evidence.policies as string[]).join(', ')})` } : {}),
      })
    }

    const root = model.awsRoot
    if (root) {
      const resource = 'user:<root_account>'
      ctx.report('mfa-aws-root-without-mfa', root.mfaActive ? 'pass' : 'fail', {
        resource,
        evidence: { arn: root.arn, mfaActive: root.mfaActive, ...(root.source ? { source: root.source } : {}) },
        ...(root.mfaActive ? { message: `AWS root account ${root.arn} has MFA` } : {}),
      })
      const none = root.activeAccessKeys.length === 0
      ctx.report('mfa-aws-root-access-keys', none ? 'pass' : 'fail', {
        resource,
        evidence: { arn: root.arn, accessKeys: root.activeAccessKeys, ...(root.source ? { source: root.source } : {}) },
        ...(none ? { message: `AWS root account ${root.arn} has no active access keys` } : {}),
      })
    }
    if (userCount) {
      const cov = streamed?.users.coverage ?? mfaCoverage(model.users, weak.weakFactors, weak.phishingResistantFactors)
      ctx.report('mfa-coverage', cov.users.none ? 'fail' : 'pass', { resource: 'coverage:users', evidence: { provider: name, summary: cov.summary, users: cov.users, admins: cov.admins }, message: `${name}: ${cov.summary}` })
    }
    let policyVerdicts = 0
    if (model.entra) {
      const { verdicts, notJudged } = evaluateEntraPolicies({
        policies: model.entra.policies,
        methodsPolicy: model.entra.methodsPolicy,
        membership: model.entra.membership,
        users: model.users,
        breakGlass: ctx.params<{ accounts?: string[] }>('mfa-entra-break-glass').accounts ?? [],
        privilegedRoles: ctx.params<{ privilegedRoles?: string[] }>('mfa-entra-admin-phishing-resistant').privilegedRoles ?? [],
        phishingResistantFactors: weak.phishingResistantFactors,
      })
      for (const v of verdicts) ctx.report(v.rule, v.status, { resource: v.resource, evidence: { provider: name, summary: v.summary, ...v.evidence }, message: `${name}: ${v.summary}` })
      for (const n of notJudged) ctx.skip(n.rule, n.why)
      if (model.entra.policies.length && !(ctx.params<{ accounts?: string[] }>('mfa-entra-break-glass').accounts ?? []).length)
        ctx.skip('mfa-entra-break-glass', 'no break-glass accounts listed in the policy (rules.mfa-entra-break-glass.parameters.accounts)')
      policyVerdicts = verdicts.length
    }
    if (model.oktaPolicies) {
      const { verdicts, notJudged } = evaluateOktaPolicies(model.oktaPolicies)
      for (const v of verdicts) ctx.report(v.rule, v.status, { resource: v.resource, evidence: { provider: name, summary: v.summary, ...v.evidence }, message: `${name}: ${v.summary}` })
      for (const n of notJudged) ctx.skip(n.rule, n.why)
      policyVerdicts += verdicts.length
    }
    if (model.awsAuthorization) {
      const sensitive = ctx.params<{ sensitiveActions?: string[] }>('mfa-aws-policy-without-mfa-condition').sensitiveActions ?? [...SENSITIVE_ACTIONS]
      const { verdicts, notJudged } = evaluateAwsPolicies(model.awsAuthorization as Record<string, unknown>, sensitive)
      for (const v of verdicts)
        ctx.report('mfa-aws-policy-without-mfa-condition', v.status, { resource: `user:${v.user}`, evidence: { provider: name, summary: v.summary, arn: v.arn, ...v.evidence }, message: `${name}: ${v.summary}` })
      const uniq = [...new Set(notJudged)]
      if (uniq.length) ctx.skip('mfa-aws-policy-without-mfa-condition', `not judged (${uniq.length}): ${uniq.slice(0, 5).join('; ')}${uniq.length > 5 ? `; and ${uniq.length - 5} more` : ''}`)
      policyVerdicts += verdicts.length
    }
    ctx.log.debug(`${userCount} users evaluated`)

    // Say what was not judged: one skip entry per rule, naming the first records and the field each lacks (bounded: a
    // 50,000-user export with one field missing everywhere is 1 entry, not 50,000).
    const byRule = new Map<string, string[]>()
    for (const n of model.notJudged) byRule.set(n.rule, [...(byRule.get(n.rule) ?? []), n.why].slice(0, 6))
    const counts = new Map<string, number>(streamed?.users.notJudgedCounts)
    if (!streamed) for (const n of model.notJudged) counts.set(n.rule, (counts.get(n.rule) ?? 0) + 1)
    const nothing = !userCount && !model.enforcement.length && !root && !policyVerdicts
    if (nothing && !byRule.size) ctx.skip('mfa-user-without-mfa', `nothing judged in this ${name} export (no user that can sign in, no enforcement setting)`)
    for (const [rule, whys] of byRule) {
      const n = counts.get(rule)!
      const shown = whys.slice(0, 5).join('; ') + (n > 5 ? `; and ${n - 5} more` : '')
      ctx.skip(rule as IdpRule, `${nothing ? `nothing judged in this ${name} export; ` : ''}not judged (${n}): ${shown}`)
    }
    if (model.incomplete) throw new AttemptFailure('incomplete', model.incomplete)
  },
}

/** The streamed readers by provider: each returns undefined for a file shape it leaves to the whole-file reader. */
const STREAMED: ReadonlyMap<string, typeof streamEntraUsers> = new Map(Object.entries({
  entra: streamEntraUsers,
  google: streamGoogleUsers,
  okta: streamOktaUsers,
  github: streamGithubUsers,
  aws: streamAwsUsers,
} satisfies Record<(typeof STREAMED_PROVIDERS)[number], typeof streamEntraUsers>))

/** A user list read as a stream: a model without its users, and the users; undefined for anything else. */
async function streamExport(target: Target, readStream: (path: string) => AsyncIterable<Buffer>, weak: WeakParams): Promise<{ model: IdpModel; users: StreamedUsers } | undefined> {
  const path = target.path
  const provider = target.provider
  const stream = typeof provider === 'string' ? STREAMED.get(provider) : undefined
  if (target.kind !== 'identity-export' || !stream || typeof path !== 'string') return undefined
  const users = await stream(() => readStream(path), target.id.replace(/^idp:[^:]+:/, ''), weak.weakFactors, weak.phishingResistantFactors)
  if (!users) return undefined
  const model: IdpModel = {
    provider: provider as IdpModel['provider'],
    users: [],
    enforcement: [],
    notJudged: users.notJudged,
    ...users.parts,
    ...(users.incomplete ? { incomplete: users.incomplete } : {}),
    ...(provider === 'entra' ? { entra: { policies: [] } } : {}),
  }
  return { users, model }
}

async function readExport(target: Target, readFile: (path: string, max: number) => Promise<Buffer>): Promise<IdpModel> {
  const path = target.path
  const provider = target.provider
  if (typeof path !== 'string' || typeof provider !== 'string') throw new AttemptFailure('input', `${target.id}: an identity-export target needs "path" and "provider"`)
  return parseExport(provider, await readFile(path, MAX_EXPORT_BYTES), target.id.replace(/^idp:[^:]+:/, ''))
}

function userAt(u: IdpUser, provider: string): { resource: string; evidence: Record<string, unknown> } {
  return {
    resource: `user:${u.login}`,
    evidence: {
      user: u.login,
      userId: u.id,
      provider,
      admin: u.admin,
      ...(u.factors ? { factors: [...new Set(u.factors)], vendorFactors: [...new Set(u.vendorFactors)] } : {}),
    },
  }
}
