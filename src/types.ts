/**
 * @fileoverview Public types of ztscan: targets, rules, results and the report model.
 * Every report field carries a doc line; the JSON Schema in `src/report/report.schema.json` mirrors them.
 */

/** Severity of a rule, highest first. */
export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info'
/** The five pillars of the CISA Zero Trust Maturity Model v2.0. */
export type Pillar = 'identity' | 'devices' | 'networks' | 'applications' | 'data'
/** CISA ZTMM maturity stages, lowest first. */
export type Stage = 'traditional' | 'initial' | 'advanced' | 'optimal'

export const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low', 'info']
export const PILLARS: readonly Pillar[] = ['identity', 'devices', 'networks', 'applications', 'data']

/**
 * Something a check looks at. `kind` selects the checks that apply; `id` is the canonical, stable string
 * (`tls://127.0.0.1:8443`, `file:certs/api.pem`) used in findings, fingerprints, shards and baselines.
 */
export interface Target {
  /** Target kind, e.g. `tls-endpoint`, `cert-file`, `host`, `ssh-endpoint`, `nmap-xml`, `identity-export`, `local`. */
  readonly kind: string
  /** Canonical id; two targets with the same id are the same target. */
  readonly id: string
  /** Network host (name or address) the target lives on, used for the per-host concurrency limit. */
  readonly host?: string
  /** Free-form labels a policy can match on (e.g. allowed ports per tag). */
  readonly tags?: readonly string[]
  /** Kind-specific fields. */
  readonly [key: string]: unknown
}

/** A rule parameter: its JSON Schema, default and meaning. */
export interface RuleParameter {
  readonly schema: Record<string, unknown>
  readonly default: unknown
  readonly description: string
}

/** Declarative metadata of one rule, as stored in `rules/<id>.json`. */
export interface RuleMeta {
  readonly id: string
  readonly family: string
  /** Ids of the checks that report this rule. */
  readonly checks?: readonly string[]
  readonly title: string
  readonly pillar: Pillar
  readonly severity: Severity
  /** Finding message template with `{{placeholder}}`s filled from the finding's evidence and `target`. */
  readonly message: string
  readonly description: string
  readonly risk?: string
  readonly remediation: string
  readonly helpUri: string
  readonly references?: readonly string[]
  readonly tags?: readonly string[]
  readonly parameters?: Readonly<Record<string, RuleParameter>>
}

/** A rule as in force for one scan: its metadata after the policy was applied. */
export interface EffectiveRule extends RuleMeta {
  readonly enabled: boolean
  /** Parameter values: defaults overridden by the policy. */
  readonly values: Readonly<Record<string, unknown>>
}

/** What a check found about one resource of a target under one rule. */
export interface Finding {
  /** Rule id, e.g. `certificate-expired`. */
  readonly ruleId: string
  /** `pass` when the resource complies with the rule, `fail` when it does not. */
  readonly status: 'pass' | 'fail'
  /** Effective severity of the rule (after policy overrides). */
  readonly severity: Severity
  /** ZTMM pillar of the rule. */
  readonly pillar: Pillar
  /** Check family that produced the finding. */
  readonly family: string
  /** Canonical target id. */
  readonly target: string
  /** The thing within the target the finding is about (certificate position and fingerprint, user id, port). */
  readonly resource: string
  /** Human-readable sentence naming the resource. */
  readonly message: string
  /** Structured evidence; never holds secrets. */
  readonly evidence: Readonly<Record<string, unknown>>
  /** Stable hash of rule id, target and resource; matches across runs. */
  readonly fingerprint: string
  /** Set when a suppression matched: the finding is kept but does not count. */
  readonly suppression?: { readonly reason: string; readonly expires?: string }
  /** Baseline comparison state when a baseline was given. */
  readonly baselineState?: 'new' | 'unchanged' | 'updated'
}

/** Why a check attempt could not complete. */
export type ErrorReason = 'connectivity' | 'timeout' | 'aborted' | 'input' | 'protocol' | 'host-key' | 'bug'

/** A check attempt that could not complete: it says nothing about compliance and is never a `fail`. */
export interface AttemptError {
  readonly check: string
  readonly family: string
  readonly target: string
  readonly reason: ErrorReason
  /** Sanitised message; never holds secrets. */
  readonly message: string
}

/** A target a check did not apply to or chose not to run against, with why. */
export interface AttemptSkip {
  readonly check: string
  readonly family: string
  readonly target: string
  readonly why: string
}

/** Score of one pillar. */
export interface PillarScore {
  /** 0–100, or null when no rule of the pillar was evaluated. */
  readonly score: number | null
  readonly stage: Stage | null
  readonly passed: number
  readonly failed: number
  /** Sum of severity weights of passing findings. */
  readonly earned: number
  /** Sum of severity weights of all counted findings. */
  readonly possible: number
}

/** The scored posture. */
export interface ScoreCard {
  /** Mean of the evaluated pillars' scores, or null when nothing was evaluated. */
  readonly overall: number | null
  readonly stage: Stage | null
  readonly pillars: Readonly<Record<Pillar, PillarScore>>
  /** Severity weights used (published so the maximum never shifts silently). */
  readonly weights: Readonly<Record<Severity, number>>
}

/** Counts for quick gating. */
export interface ReportSummary {
  readonly targets: number
  readonly attempts: number
  readonly passed: number
  /** Failed findings (not suppressed) by severity. */
  readonly failed: Readonly<Record<Severity, number>>
  readonly suppressed: number
  readonly errors: number
  readonly skipped: number
}

/** A failed finding of the baseline that is gone now. */
export interface AbsentFinding {
  readonly fingerprint: string
  readonly ruleId: string
  readonly target: string
  readonly message: string
}

/** A suppression whose expiry date has passed: it no longer suppresses the findings it matches. */
export interface ExpiredSuppression {
  readonly rule: string
  readonly target: string
  readonly reason: string
  readonly expires: string
  /** Failed findings it would have suppressed. */
  readonly matched: number
}

/** Why a scan did not check everything it was asked to (the report's `incomplete` list). */
export interface Incompleteness {
  /** `aborted`: cancelled (signal, SIGINT/SIGTERM); `errors`: more attempt errors than `maxErrors`; `nothing-checked`: no attempt produced a result. */
  readonly reason: 'aborted' | 'errors' | 'nothing-checked'
  readonly message: string
}

/** The canonical scan report (JSON). */
export interface ScanReport {
  readonly schemaVersion: '1.0'
  readonly tool: { readonly name: 'ztscan'; readonly version: string }
  readonly startedAt: string
  readonly finishedAt: string
  /** Shard this report covers, `i/n`, when sharded. */
  readonly shard?: string
  /** Every target scanned; a target found by chaining names the target it was found in (`chainedFrom`). */
  readonly targets: readonly { readonly id: string; readonly kind: string; readonly chainedFrom?: string }[]
  /**
   * Chaining in this scan: `live` (default: targets found by live scans are probed, those found in offline input are
   * not), `all` (`--chain`) or `off` (`--no-chain`); how many targets were chained, and how many were withheld, per source.
   */
  readonly chaining?: {
    readonly mode: 'live' | 'all' | 'off'
    readonly chained: number
    readonly withheld: readonly { readonly from: string; readonly targets: number }[]
  }
  /** Rules that were in force, so a report renders (SARIF, Markdown) on its own. */
  readonly rules: readonly EffectiveRule[]
  readonly findings: readonly Finding[]
  readonly errors: readonly AttemptError[]
  readonly skipped: readonly AttemptSkip[]
  readonly score: ScoreCard
  readonly summary: ReportSummary
  /**
   * True when the scan checked what it was asked to: not aborted, attempt errors within `maxErrors` (default 0) and at least
   * one attempt produced a result. The CLI exits 4 on an incomplete scan without gating findings.
   */
  readonly complete: boolean
  /** Why the scan is incomplete (absent when complete). */
  readonly incomplete?: readonly Incompleteness[]
  /** Baseline comparison, when a baseline was given: its failed findings that are gone. */
  readonly baseline?: { readonly source: string; readonly absent: readonly AbsentFinding[] }
  /** Suppressions that matched findings but have expired (they no longer suppress). */
  readonly expiredSuppressions?: readonly ExpiredSuppression[]
}
