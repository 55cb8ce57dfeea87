/**
 * @fileoverview The check plugin contract: `defineCheck()` and the context a check runs with.
 */
import type { LimitFunction } from 'p-limit'
import type { NetHelpers } from '../net/index.ts'
import type { Target } from '../types.ts'

/** Where a finding points and what it shows. */
export interface ReportAt {
  /** The thing within the target the finding is about; part of the fingerprint, so keep it stable across runs. */
  readonly resource: string
  /** Structured evidence; fills the rule's message placeholders. Never put secrets here. */
  readonly evidence?: Readonly<Record<string, unknown>>
  /** Overrides the rule's message template. */
  readonly message?: string
  /** The asset the score groups by when a target holds many (a host of an nmap file, a device of an inventory); default: the target. */
  readonly asset?: string
}

/** Minimal logger; messages are redacted by the engine. */
export interface Logger {
  debug(msg: string): void
  info(msg: string): void
  warn(msg: string): void
}

/** What a check receives for one (check × target) attempt. */
export interface CheckContext<R extends string = string> {
  /** Aborted when the scan is cancelled or this attempt's deadline passes. Pass it to every I/O. */
  readonly signal: AbortSignal
  /** Milliseconds this attempt may take in all. */
  readonly timeoutMs: number
  /** Milliseconds a single connection or handshake may take. */
  readonly connectTimeoutMs: number
  /** The scan's clock. */
  now(): Date
  /** Parameter values of a rule (defaults overridden by the policy). */
  params<T extends Record<string, unknown> = Record<string, unknown>>(ruleId: R): T
  /** False when the policy disabled the rule: a check may skip work only that rule needs. */
  enabled(ruleId: R): boolean
  /** Records a pass or fail of one rule for one resource. */
  report(ruleId: R, status: 'pass' | 'fail', at: ReportAt): void
  /**
   * Records that a rule could not be judged on this target and why (a field the input lacks, a state not determinable
   * here): a named skip in the report, never a pass. Repeats of the same rule and reason within an attempt are kept once.
   */
  skip(ruleId: R, why: string): void
  /**
   * Adds a target to this scan (chaining: an open TLS port becomes a `tls-endpoint`). Duplicates are ignored; the scan's
   * `chain` option may withhold it (from offline checks unless `chain: true`; from every check with `chain: false`).
   */
  emit(target: Target): void
  /** Settings from the scan options: credentials (`ssh`), trust files (`tls.caFile`). */
  readonly settings: Readonly<Record<string, unknown>>
  /** Scan-wide limit on simultaneous sockets; wrap each connection attempt in it. */
  readonly sockets: LimitFunction
  /** Signal- and timeout-aware network helpers. */
  readonly net: NetHelpers
  readonly log: Logger
}

/** A check: what it looks at, which rules it may report, and how. */
export interface CheckDefinition<R extends string = string> {
  /** Unique id, kebab-case, starting with the family name (e.g. `certificate-tls`). */
  readonly id: string
  /** Family name (kebab-case); rules it reports must belong to this family. */
  readonly family: string
  /** Target kinds this check runs against. */
  readonly targetKinds: readonly string[]
  /** Rule ids this check may report; `ctx.report()` accepts only these. */
  readonly rules: readonly R[]
  /**
   * True when the check only reads local input (files, exports): targets it emits are chained only when the scan asks for
   * it (`chain: true`, CLI `--chain`), so a file handed in for offline analysis never causes network traffic by itself.
   */
  readonly offline?: boolean
  /** Per-attempt timeout for a target, given the scan's base timeout (e.g. scale with the number of ports). */
  timeout?(target: Target, baseMs: number): number
  /** Runs the check. Throwing `AttemptFailure` ends the attempt with that reason; any other throw is a `bug` error. */
  run(target: Target, ctx: CheckContext<R>): Promise<void>
}

/**
 * Declares a check. The generic keeps `ctx.report()` to the declared rule ids.
 * @example
 * export default defineCheck({
 *   id: 'example-banner', family: 'example', targetKinds: ['host'], rules: ['example-banner'] as const,
 *   async run(target, ctx) { ctx.report('example-banner', 'pass', { resource: target.id }) },
 * })
 */
export function defineCheck<const R extends string>(def: CheckDefinition<R>): CheckDefinition<R> {
  if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(def.id)) throw new TypeError(`defineCheck: id must be kebab-case (got "${def.id}")`)
  if (!def.id.startsWith(def.family)) throw new TypeError(`defineCheck: id "${def.id}" must start with its family "${def.family}"`)
  for (const r of def.rules)
    if (!r.startsWith(`${def.family}-`)) throw new TypeError(`defineCheck: rule "${r}" of check "${def.id}" must start with "${def.family}-"`)
  return Object.freeze(def)
}

/** A family: its checks, what it adds to the default scan, and its part of the demo lab. */
export interface Family {
  readonly name: string
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a family's checks declare different rule-id unions
  readonly checks: readonly CheckDefinition<any>[]
  /** Targets the no-config default scan adds for this machine (loopback only). */
  defaultTargets?(): Promise<readonly Target[]>
  /** Starts this family's flawed servers/files for `ztscan demo`; returns their targets and a stopper. */
  demo?(dir: string): Promise<{ readonly targets: readonly Target[]; readonly settings?: Record<string, unknown>; stop(): Promise<void> }>
}

/** Declares a family (identity function for typing). */
export function defineFamily(f: Family): Family {
  return Object.freeze(f)
}
