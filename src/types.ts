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
  /** CISA ZTMM v2.0 functions the rule judges (ids as in README "Score"), for coverage. */
  readonly functions?: readonly string[]
  /**
   * Plural noun when the rule counts members of a population within one asset (`users`): the asset earns proportional
   * credit (312 of 340 users pass: 312/340 of the rule's weight). Without it, one failed resource fails the rule for the asset.
   */
  readonly population?: string
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
  /**
   * The asset the score groups this finding under when a target holds many (a host of an nmap file, a device of an
   * inventory); absent: the target itself.
   */
  readonly asset?: string
  /** Baseline comparison state when a baseline was given. */
  readonly baselineState?: 'new' | 'unchanged' | 'updated'
}

/**
 * Passes counted rather than stored (the default; `includePassed` stores each as a finding): `count` passing resources of
 * `ruleId` on `asset` of `target` (asset absent: the target itself).
 */
export interface PassCount {
  readonly ruleId: string
  readonly target: string
  readonly asset?: string
  readonly count: number
}

/**
 * Why a check attempt could not complete. `incomplete`: the input holds only part of what was asked (a Graph export with
 * `@odata.nextLink`): what it holds was judged, the rest was not.
 */
export type ErrorReason = 'connectivity' | 'timeout' | 'aborted' | 'input' | 'incomplete' | 'protocol' | 'host-key' | 'bug'

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
  /** Set when one rule could not be judged in an attempt that ran (`ctx.skip`); absent when the whole attempt was skipped. */
  readonly rule?: string
  readonly why: string
}

/** Why a score is held below what its percentage would give, and the finding (or fact) that caused it. */
export interface ScoreCap {
  /** Highest stage allowed; the score is clamped to the top of that stage (`optimal` never caps). */
  readonly stage: Stage
  /**
   * `critical-failed`: an unsuppressed failed critical (ceiling initial); `high-failed` / `medium-failed`: a failed high or
   * medium (ceiling advanced; medium caps the asset only);
   * `incomplete`: a check errored on the asset or pillar (ceiling advanced); `asset-share`: fewer than 90 % of the pillar's
   * assets reach the stage; `weakest-pillar`: the policy's floor holds the overall at the weakest pillar's stage.
   */
  readonly kind: 'critical-failed' | 'high-failed' | 'medium-failed' | 'incomplete' | 'asset-share' | 'weakest-pillar'
  /** One line a human reads, naming the cause. */
  readonly text: string
  /** Rule of the finding that caused it (finding caps). */
  readonly ruleId?: string
  /** Asset and resource of the (first) finding that caused it. */
  readonly asset?: string
  readonly resource?: string
  readonly fingerprint?: string
  /** How many findings (asset caps) or assets (pillar caps) share this cause. */
  readonly count: number
}

/** Score of one asset (a target, or a host/device within one) in one pillar. */
export interface AssetScore {
  readonly asset: string
  readonly target: string
  readonly pillar: Pillar
  /** 0–100 after caps. */
  readonly score: number
  /** 0–100 before caps: Σ weight × credit ÷ Σ weight over the asset's counted rules. */
  readonly uncapped: number
  readonly stage: Stage
  /** Rules counted on this asset. */
  readonly rules: number
  readonly passed: number
  readonly failed: number
  readonly suppressed: number
  readonly caps: readonly ScoreCap[]
  /** Population rules' partial credit on this asset, Secure Score style (`312 of 340 users`). */
  readonly partial?: readonly PartialCredit[]
}

/** A population rule's share on one asset: `passed` of `total` members earn `passed ÷ total` of its weight. */
export interface PartialCredit {
  readonly ruleId: string
  readonly passed: number
  readonly total: number
  /** `312 of 340 users`. */
  readonly text: string
}

/** A risk accepted by a suppression: out of the denominator, listed with its reason and expiry. */
export interface AcceptedRisk {
  readonly ruleId: string
  readonly reason: string
  readonly expires?: string
  /** Suppressed findings (pass or fail) with this rule, reason and expiry. */
  readonly count: number
}

/** What the score of a pillar stands on. */
export interface PillarCoverage {
  /** CISA ZTMM v2.0 functions of the pillar: judged on this scan, judgeable by rules in force but not judged, or beyond ztscan's rules. */
  readonly functions: readonly { readonly id: string; readonly name: string; readonly status: 'judged' | 'not-judged' | 'not-covered' }[]
  /** Judged functions ÷ all functions of the pillar, 0–1. */
  readonly share: number
  /** Ids of the rules in force for the pillar, and of those that produced a counted result. */
  readonly rulesInForce: readonly string[]
  readonly rulesJudged: readonly string[]
  /** Check attempts of the pillar's families that errored or were skipped (not applicable). */
  readonly errors: number
  readonly skipped: number
  /** Assets scored; assets of errored attempts that yielded no result (not scored, never passes). */
  readonly assetsScored: number
  readonly assetsUnjudged: number
  /** Set when the score stands on less than half the pillar's functions or on nothing: says so in words. */
  readonly note?: string
}

/** Score of one pillar. */
export interface PillarScore {
  /** 0–100 after caps, or null when no asset of the pillar was scored. */
  readonly score: number | null
  readonly stage: Stage | null
  /** Mean of the assets' (capped) scores, before the pillar's own caps. */
  readonly uncapped: number | null
  /** Assets scored, their (capped) scores summed (merge-friendly), and how many reached each stage. */
  readonly assets: { readonly count: number; readonly scoreSum: number; readonly byStage: Readonly<Record<Stage, number>> }
  /** Findings counted: passing, failing (unsuppressed), suppressed (accepted risk). */
  readonly passed: number
  readonly failed: number
  readonly suppressed: number
  /** Every cap on the pillar, with the finding that caused it (first asset by id) and how many assets share the cause. */
  readonly caps: readonly ScoreCap[]
  readonly coverage: PillarCoverage
  /** Suppressed results, out of the denominator. */
  readonly accepted: readonly AcceptedRisk[]
  /** Skipped (not applicable) attempts by check and reason. */
  readonly notApplicable: readonly { readonly check: string; readonly why: string; readonly count: number }[]
  /** Target stage from the policy, whether it is met, and how far the score is from it. */
  readonly target?: { readonly stage: Stage; readonly met: boolean; readonly points: number }
}

/** Policy settings of the score (`score:` in the policy), echoed in the report so a merge re-scores alike. */
export interface ScoreSettings {
  readonly targets?: Partial<Readonly<Record<Pillar, Stage>>>
  /** When true the overall cannot be above the weakest evaluated pillar's stage. */
  readonly weakestPillarFloor?: boolean
}

/** Change against a baseline report, scored with the same formula. */
export interface ScoreDelta {
  readonly source: string
  readonly overall: number | null
  readonly pillars: Readonly<Record<Pillar, number | null>>
  /** Assets whose score moved most (largest change first, at most 10), and assets new or gone. */
  readonly movers: readonly { readonly asset: string; readonly pillar: Pillar; readonly before: number | null; readonly after: number | null }[]
  /** Caps present now but not in the baseline, and the other way round (pillar caps). */
  readonly capsAdded: readonly (ScoreCap & { readonly pillar: Pillar })[]
  readonly capsRemoved: readonly (ScoreCap & { readonly pillar: Pillar })[]
}

/** The scored posture. */
export interface ScoreCard {
  /** Version of the formula (README "Score"); scores of different versions are not comparable. */
  readonly scoreVersion: string
  /** Mean of the evaluated pillars' scores after the overall's caps, or null when nothing was evaluated. */
  readonly overall: number | null
  readonly stage: Stage | null
  readonly uncapped: number | null
  readonly caps: readonly ScoreCap[]
  readonly pillars: Readonly<Record<Pillar, PillarScore>>
  /** Every asset's score (JSON only; SARIF carries the pillars). A lazy view past the budget, as a report's `findings`. */
  readonly assets?: readonly AssetScore[]
  /** Severity weights used (published so the maximum never shifts silently). */
  readonly weights: Readonly<Record<Severity, number>>
  readonly settings: ScoreSettings
  readonly delta?: ScoreDelta
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
  /**
   * Failed findings, and passing ones when stored individually (`includePassed`). Typed as an array, and an array while
   * within the in-memory budget (`memoryFindings`); past it a lazy view read back from a temporary file (`FindingView`,
   * `isFindingView` tells): iterate it or use its array methods (`length`, `at`, `slice`, `map`, `filter`, `find`, `some`,
   * …); it has no index access (`findings[0]` throws a TypeError), and `releaseFindings` removes its file. So are
   * `passCounts`, `errors`, `skipped` and `score.assets` past theirs.
   */
  readonly findings: readonly Finding[]
  /** Passes counted instead of stored, per rule, target and asset (absent or empty with `includePassed`). A lazy view past the budget, as `findings`. */
  readonly passCounts?: readonly PassCount[]
  /** Attempts that errored, in the report's order (target, check, message). A lazy view past the budget, as `findings`. */
  readonly errors: readonly AttemptError[]
  /** Attempts and rules skipped, in the report's order (target, check, why). A lazy view past the budget, as `findings`. */
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
