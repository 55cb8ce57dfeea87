/**
 * @fileoverview Which IAM users can call sensitive actions without MFA, from `aws iam get-account-authorization-details`
 * (`UserDetailList`, `GroupDetailList`, `Policies` with `PolicyVersionList`): rule `mfa-aws-policy-without-mfa-condition`,
 * mirroring AWS's "MFA-protected API access" guidance and CIS AWS Foundations 1.x (MFA for IAM users).
 *
 * For each user, the statements of its inline policies, attached managed policies (default version) and its groups'
 * inline and attached policies are gathered. A sensitive action (rule parameter `sensitiveActions`) is reachable without
 * MFA when an `Allow` statement's `Action` (or `NotAction`) covers it without a `Bool`/`NumericLessThan…` condition on
 * `aws:MultiFactorAuthPresent`/`aws:MultiFactorAuthAge`, and no `Deny` statement covers it when MFA is absent (AWS's
 * `BoolIfExists: { aws:MultiFactorAuthPresent: false }` pattern). `BoolIfExists … true` on an Allow does not count: it
 * lets long-term access keys (no MFA key at all) through. Wildcards are matched in linear time, case-insensitively.
 */
type Json = Record<string, unknown>

/** Default of the `sensitiveActions` parameter: privilege escalation, credential and MFA changes, audit and data destruction. */
export const SENSITIVE_ACTIONS = [
  'iam:CreateUser', 'iam:CreateAccessKey', 'iam:CreateLoginProfile', 'iam:UpdateLoginProfile', 'iam:AttachUserPolicy',
  'iam:PutUserPolicy', 'iam:AttachRolePolicy', 'iam:PutRolePolicy', 'iam:CreatePolicyVersion', 'iam:PassRole',
  'iam:DeactivateMFADevice', 'iam:DeleteVirtualMFADevice', 'sts:AssumeRole', 'organizations:LeaveOrganization',
  'kms:ScheduleKeyDeletion', 's3:DeleteBucket', 'ec2:TerminateInstances', 'cloudtrail:StopLogging', 'cloudtrail:DeleteTrail',
] as const

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)
const list = (v: unknown): string[] => (typeof v === 'string' ? [v] : Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [])

/**
 * IAM wildcard match (`*` any run, `?` one character), case-insensitive, greedy with one backtrack point: O(|p|·|s|) at
 * worst, no regular expression built from input.
 */
export function iamMatch(pattern: string, s: string): boolean {
  const p = pattern.toLowerCase()
  const t = s.toLowerCase()
  let i = 0
  let j = 0
  let star = -1
  let mark = 0
  while (j < t.length) {
    if (i < p.length && (p[i] === '?' || p[i] === t[j])) {
      i++
      j++
    } else if (i < p.length && p[i] === '*') {
      star = i++
      mark = j
    } else if (star >= 0) {
      i = star + 1
      j = ++mark
    } else return false
  }
  while (i < p.length && p[i] === '*') i++
  return i === p.length
}

interface Statement {
  readonly effect: 'Allow' | 'Deny'
  readonly actions: readonly string[]
  readonly notActions?: readonly string[]
  /** The statement applies only with MFA (Allow) / only without MFA (Deny). */
  readonly mfaScoped: boolean
  /** No Condition at all. */
  readonly unconditional: boolean
  readonly policy: string
}

/** Condition keys and operators: does this condition block say "MFA present" (`want` true) or "MFA absent" (`want` false)? */
function mfaCondition(cond: unknown, want: boolean): boolean {
  if (!isObj(cond)) return false
  for (const [op, body] of Object.entries(cond)) {
    if (!isObj(body)) continue
    for (const [key, v] of Object.entries(body)) {
      const k = key.toLowerCase()
      const vals = (Array.isArray(v) ? v : [v]).map((x) => String(x).toLowerCase())
      if (k === 'aws:multifactorauthpresent') {
        // Allow: only Bool true requires MFA (BoolIfExists lets a request without the key — long-term keys — through).
        // Deny: Bool or BoolIfExists false denies requests without MFA (IfExists also catches the key's absence).
        if (want && op === 'Bool' && vals.every((x) => x === 'true')) return true
        if (!want && (op === 'BoolIfExists' || op === 'Bool') && vals.every((x) => x === 'false')) return op === 'BoolIfExists'
      }
      if (k === 'aws:multifactorauthage' && want && /^NumericLess(Than|ThanEquals)$/.test(op)) return true
      if (k === 'aws:multifactorauthage' && !want && op === 'Null' && vals.every((x) => x === 'true')) return true
    }
  }
  return false
}

function statements(doc: unknown, policy: string): Statement[] {
  let d = doc
  // get-account-authorization-details returns documents as JSON objects; the raw API returns them URL-encoded strings.
  if (typeof d === 'string') {
    try {
      d = JSON.parse(decodeURIComponent(d))
    } catch {
      return []
    }
  }
  if (!isObj(d)) return []
  const raw = Array.isArray(d.Statement) ? d.Statement : [d.Statement]
  return raw.filter(isObj).flatMap((s) => {
    if (s.Effect !== 'Allow' && s.Effect !== 'Deny') return []
    const effect = s.Effect
    return [{
      effect,
      actions: list(s.Action),
      ...(s.NotAction !== undefined ? { notActions: list(s.NotAction) } : {}),
      mfaScoped: mfaCondition(s.Condition, effect === 'Allow'),
      unconditional: s.Condition === undefined || (isObj(s.Condition) && !Object.keys(s.Condition).length),
      policy,
    }]
  })
}

const covers = (st: Statement, action: string): boolean =>
  st.notActions ? !st.notActions.some((p) => iamMatch(p, action)) : st.actions.some((p) => iamMatch(p, action))

/** One IAM user's verdict. */
export interface AwsPolicyVerdict {
  readonly user: string
  readonly arn: string
  readonly status: 'pass' | 'fail'
  readonly summary: string
  readonly evidence: Readonly<Record<string, unknown>>
}

/** Verdicts from a `get-account-authorization-details` response; `notJudged` names policies whose document is missing. */
export function evaluateAwsPolicies(details: Json, sensitive: readonly string[]): { verdicts: AwsPolicyVerdict[]; notJudged: string[] } {
  const notJudged: string[] = []
  const managed = new Map<string, { name: string; doc: unknown }>()
  for (const p of Array.isArray(details.Policies) ? details.Policies.filter(isObj) : []) {
    const arn = typeof p.Arn === 'string' ? p.Arn : undefined
    if (!arn) continue
    const versions = Array.isArray(p.PolicyVersionList) ? p.PolicyVersionList.filter(isObj) : []
    const v = versions.find((x) => x.IsDefaultVersion === true) ?? versions.find((x) => x.VersionId === p.DefaultVersionId)
    managed.set(arn, { name: typeof p.PolicyName === 'string' ? p.PolicyName : arn, doc: v?.Document })
  }
  const attached = (o: Json, via: string): Statement[] =>
    (Array.isArray(o.AttachedManagedPolicies) ? o.AttachedManagedPolicies.filter(isObj) : []).flatMap((a) => {
      const arn = typeof a.PolicyArn === 'string' ? a.PolicyArn : ''
      const m = managed.get(arn)
      if (!m?.doc) {
        notJudged.push(`${typeof a.PolicyName === 'string' ? a.PolicyName : arn}${via}: no policy document in the export`)
        return []
      }
      return statements(m.doc, `${m.name}${via}`)
    })
  const inline = (o: Json, key: string, via: string): Statement[] =>
    (Array.isArray(o[key]) ? (o[key] as unknown[]).filter(isObj) : []).flatMap((p) => statements(p.PolicyDocument, `${typeof p.PolicyName === 'string' ? p.PolicyName : 'inline'}${via}`))
  const groups = new Map<string, Statement[]>()
  for (const g of Array.isArray(details.GroupDetailList) ? details.GroupDetailList.filter(isObj) : []) {
    const name = typeof g.GroupName === 'string' ? g.GroupName : ''
    groups.set(name, [...inline(g, 'GroupPolicyList', ` (group ${name})`), ...attached(g, ` (group ${name})`)])
  }
  const verdicts: AwsPolicyVerdict[] = []
  for (const u of Array.isArray(details.UserDetailList) ? details.UserDetailList.filter(isObj) : []) {
    const user = typeof u.UserName === 'string' ? u.UserName : ''
    if (!user) continue
    const stmts = [...inline(u, 'UserPolicyList', ''), ...attached(u, ''), ...list(u.GroupList).flatMap((g) => groups.get(g) ?? [])]
    const open: { action: string; policy: string }[] = []
    for (const action of sensitive) {
      // Denied without MFA (the force-MFA pattern), or denied outright: not reachable without MFA.
      if (stmts.some((s) => s.effect === 'Deny' && (s.mfaScoped || s.unconditional) && covers(s, action))) continue
      const allow = stmts.find((s) => s.effect === 'Allow' && !s.mfaScoped && covers(s, action))
      if (allow) open.push({ action, policy: allow.policy })
    }
    const policies = [...new Set(open.map((o) => o.policy))]
    const actions = open.map((o) => o.action)
    verdicts.push({
      user,
      arn: typeof u.Arn === 'string' ? u.Arn : user,
      status: open.length ? 'fail' : 'pass',
      summary: open.length
        ? `IAM user ${user} can call ${actions.slice(0, 3).join(', ')}${actions.length > 3 ? ` and ${actions.length - 3} more` : ''} without MFA (${policies.slice(0, 3).map((p) => `'${p}'`).join(', ')}${policies.length > 3 ? ` and ${policies.length - 3} more` : ''}: no aws:MultiFactorAuthPresent condition)`
        : `IAM user ${user}: no sensitive action is allowed without MFA`,
      evidence: { user, actionsWithoutMfa: actions, policies },
    })
  }
  return { verdicts, notJudged }
}
