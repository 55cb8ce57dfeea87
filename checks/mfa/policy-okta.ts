/**
 * @fileoverview What Okta authentication policies (Identity Engine app sign-in policies, `GET /api/v1/policies?type=ACCESS_POLICY`
 * with each policy's `GET /api/v1/policies/{id}/rules` and `…/app` mappings) enforce, mirroring the DISA Okta IDaaS STIG:
 *
 * - `mfa-okta-policy-single-factor` (V-273193 Admin Console, V-273194 Dashboard: "Password/IdP + Another factor" or "Any 2
 *   factor types"): every ACTIVE rule of an ACTIVE authentication policy that allows access requires two factors
 *   (`actions.appSignOn.verificationMethod.factorMode: '2FA'`).
 * - `mfa-okta-admin-console-phishable` (V-273190's phishing-resistant possession constraint, applied to the Okta Admin Console
 *   as Okta's HealthInsight recommends): every allowing rule of the policy mapped to the Admin Console (app `saasure`) requires
 *   two factors with a possession constraint `phishingResistant: 'REQUIRED'`.
 *
 * Input (in an `idp:okta:` export, beside or without users): `authenticationPolicies: [ { ...policy, rules: [...], apps?: [...] } ]`.
 */
import { OKTA_POLICY_RULES } from './rules.ts'

type Json = Record<string, unknown>

export { OKTA_POLICY_RULES }
export type OktaPolicyRule = (typeof OKTA_POLICY_RULES)[number]

/** One rule of an authentication policy, as far as the verdicts need it. */
export interface OktaRule {
  readonly name: string
  readonly active: boolean
  readonly allow: boolean
  /** `1FA`, `2FA`, or undefined when the rule has no verification method (Okta then asks for one factor). */
  readonly factorMode?: string
  /** Some constraint requires a phishing-resistant possession factor. */
  readonly phishingResistant: boolean
}

/** An authentication policy with its rules and the apps it is mapped to. */
export interface OktaPolicy {
  readonly name: string
  readonly active: boolean
  readonly rules: readonly OktaRule[]
  /** App `name`s (`saasure` is the Admin Console) and labels, lower-cased. */
  readonly apps: readonly string[]
}

export interface OktaVerdict {
  readonly rule: OktaPolicyRule
  readonly status: 'pass' | 'fail'
  readonly resource: string
  readonly summary: string
  readonly evidence: Readonly<Record<string, unknown>>
}

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)
const q = (s: string): string => `'${s}'`

/** Reads one rule of `GET /api/v1/policies/{id}/rules`. */
export function readOktaRule(r: Json, index: number): OktaRule {
  const actions = isObj(r.actions) ? r.actions : {}
  const sign = isObj(actions.appSignOn) ? actions.appSignOn : {}
  const vm = isObj(sign.verificationMethod) ? sign.verificationMethod : undefined
  const constraints = vm && Array.isArray(vm.constraints) ? vm.constraints.filter(isObj) : []
  return {
    name: typeof r.name === 'string' && r.name ? r.name : `rule #${index}`,
    active: r.status === undefined || r.status === 'ACTIVE',
    allow: sign.access === undefined || sign.access === 'ALLOW',
    ...(vm && typeof vm.factorMode === 'string' ? { factorMode: vm.factorMode } : {}),
    phishingResistant: constraints.some((c) => isObj(c.possession) && c.possession.phishingResistant === 'REQUIRED'),
  }
}

/** Reads a policy object with its `rules` (and optional `apps`), as ztscan's Okta export bundles them. */
export function readOktaPolicy(p: Json, rules: readonly Json[], apps: readonly Json[], index: number): OktaPolicy {
  return {
    name: typeof p.name === 'string' && p.name ? p.name : typeof p.id === 'string' ? p.id : `policy #${index}`,
    active: p.status === undefined || p.status === 'ACTIVE',
    rules: rules.map(readOktaRule),
    apps: apps.flatMap((a) => [a.name, a.label].filter((x): x is string => typeof x === 'string').map((x) => x.toLowerCase())),
  }
}

const isAdminConsole = (p: OktaPolicy): boolean => p.apps.includes('saasure') || p.apps.includes('okta admin console') || (!p.apps.length && p.name.toLowerCase() === 'okta admin console')

/** Verdicts for the authentication policies of one Okta org; `notJudged` says why a rule had nothing to judge. */
export function evaluateOktaPolicies(policies: readonly OktaPolicy[]): { verdicts: OktaVerdict[]; notJudged: { rule: OktaPolicyRule; why: string }[] } {
  const verdicts: OktaVerdict[] = []
  const notJudged: { rule: OktaPolicyRule; why: string }[] = []
  for (const p of policies.filter((x) => x.active)) {
    const allowing = p.rules.filter((r) => r.active && r.allow)
    const one = allowing.filter((r) => r.factorMode !== '2FA')
    verdicts.push({
      rule: 'mfa-okta-policy-single-factor',
      status: one.length ? 'fail' : 'pass',
      resource: `policy:${p.name}`,
      summary: one.length
        ? `authentication policy ${q(p.name)}: ${one.map((r) => `rule ${q(r.name)} allows sign-in with ${r.factorMode ? `factorMode ${r.factorMode}` : 'no verification method (one factor)'}`).join('; ')}`
        : `authentication policy ${q(p.name)}: every allowing rule requires two factors (${allowing.length})`,
      evidence: { policy: p.name, singleFactorRules: one.map((r) => r.name), rulesChecked: allowing.length },
    })
  }
  const consoles = policies.filter((p) => p.active && isAdminConsole(p))
  if (!consoles.length) notJudged.push({ rule: 'mfa-okta-admin-console-phishable', why: 'no active authentication policy mapped to the Okta Admin Console (app saasure) in this export' })
  for (const p of consoles) {
    const weak = p.rules.filter((r) => r.active && r.allow && (r.factorMode !== '2FA' || !r.phishingResistant))
    verdicts.push({
      rule: 'mfa-okta-admin-console-phishable',
      status: weak.length ? 'fail' : 'pass',
      resource: `policy:${p.name}`,
      summary: weak.length
        ? `the Okta Admin Console policy ${q(p.name)} lets administrators in without a phishing-resistant factor: ${weak.map((r) => `rule ${q(r.name)} (${r.factorMode === '2FA' ? 'possession factor not required to be phishing-resistant' : 'one factor'})`).join('; ')}`
        : `the Okta Admin Console policy ${q(p.name)} requires two factors, one of them phishing-resistant, in every allowing rule`,
      evidence: { policy: p.name, weakRules: weak.map((r) => r.name) },
    })
  }
  return { verdicts, notJudged }
}
