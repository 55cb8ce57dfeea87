/**
 * @fileoverview The check plugin contract: `defineCheck()` and the context a check runs with.
 */
import type { LimitFunction } from 'p-limit'
import type { NetHelpers } from '../net/index.ts'
import type { ExecHelper, SshHelpers } from '../net/io.ts'
import { PILLARS, type Pillar, type Target } from '../types.ts'

/** Where a finding points and what it shows. */
export interface ReportAt {
  /** The thing within the target the finding is about; part of the fingerprint, so keep it stable across runs. */
  readonly resource: string
  /** Structured evidence; fills the rule's message placeholders. Never put secrets here. */
  readonly evidence?: Readonly<Record<string, unknown>>
  /** Overrides the rule's message template; a function is called only when a finding is built (not for a pass only counted). */
  readonly message?: string | (() => string)
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
   * A string goes through the scan's registered schemes (`tls://…`: the family that owns the scheme builds the target);
   * `extra` fields (tags, provenance) are added to it.
   */
  emit(target: Target | string, extra?: Readonly<Record<string, unknown>>): void
  /**
   * For a check that emits many targets (an nmap file's TLS and SSH ports): true when the scan withholds this check's
   * targets and its registry reads `scheme` with the definition `as` — the target is then counted as withheld here,
   * without being built and parsed. Call it only for a target `as` is known to accept; on false, `emit` it.
   */
  withhold(scheme: string, as: TargetScheme): boolean
  /** Settings from the scan options: credentials (`ssh`), trust files (`tls.caFile`). */
  readonly settings: Readonly<Record<string, unknown>>
  /** Scan-wide limit on simultaneous sockets; wrap each connection attempt in it. */
  readonly sockets: LimitFunction
  /**
   * Signal- and timeout-aware network helpers: `tcpConnect`, `tlsHandshake`, `httpGet` (size-capped, same-origin
   * redirects), `tcpProbe`, `readFile`. Checks open no socket of their own: tests replace these through `ScanOptions.io`.
   */
  readonly net: NetHelpers
  /**
   * SSH: `probe(host, port)` (host key verified, then the `none` request only: the methods offered) and `session(host,
   * port)` (authenticated with the scan's `settings.ssh`; `exec` of ONE allowlisted command string, capped). Bound to this
   * attempt's signal and connect timeout.
   */
  readonly ssh: SshHelpers
  /**
   * Runs a local command: `argv` without a shell (`LC_ALL=C`), stdout/stderr capped at `maxBytes` each (default 1 MiB;
   * excess → `truncated`, process killed), killed at `timeoutMs` (default: the attempt's timeout) or when the attempt ends.
   * A missing program is exit code 127. Build argv only from a fixed allowlist, never from target data.
   */
  readonly exec: ExecHelper
  /** Reads at most `maxBytes` (default 64 MiB) of a regular file; a device, FIFO, directory or a larger file is an `input` failure. */
  readFile(path: string, maxBytes?: number): Promise<Buffer>
  /**
   * A value computed once per scan and shared by every attempt of the check's family (a trust store built from CA files):
   * `make` runs on the first call with `key`; a rejection is not kept (the next call tries again).
   */
  memo<T>(key: string, make: () => Promise<T>): Promise<T>
  readonly log: Logger
  /**
   * Says how far a long step of this attempt is — `done` of `total` units named by `label` (`'ports probed'`) — for
   * progress displays (the scan's `step` events, at most 10 a second per attempt, always the last one). Optional to call.
   */
  progress(done: number, total: number, label: string): void
}

/** A check: what it looks at, which rules it may report, and how. */
export interface CheckDefinition<R extends string = string, K extends string = string> {
  /** Unique id, kebab-case, starting with the family name (e.g. `certificate-tls`). */
  readonly id: string
  /** Family name (kebab-case); rules it reports must belong to this family. */
  readonly family: string
  /** Target kinds this check runs against: kinds some registered family declares (an unknown one is an error at scan start). */
  readonly targetKinds: readonly K[]
  /** Rule ids this check may report; `ctx.report()` accepts only these. */
  readonly rules: readonly R[]
  /**
   * True when the check only reads local input (files, exports): targets it emits are chained only when the scan asks for
   * it (`chain: true`, CLI `--chain`), so a file handed in for offline analysis never causes network traffic by itself.
   */
  readonly offline?: boolean
  /** Per-attempt timeout for a target, given the scan's base timeout (e.g. scale with the number of ports). */
  timeout?(target: Target, baseMs: number): number
  /**
   * Loads the check's code (optional; e.g. `() => import('./index.ts')` when `run` imports it): the engine awaits it once
   * per scan before it arms an attempt's timer, so a first attempt does not spend its budget loading modules. A failure
   * to load is a `bug` error of each attempt.
   */
  load?(): Promise<unknown>
  /** Runs the check. Throwing `AttemptFailure` ends the attempt with that reason; any other throw is a `bug` error. */
  run(target: Target, ctx: CheckContext<R>): Promise<void>
}

const KEBAB = /^[a-z0-9]+(-[a-z0-9]+)*$/

/**
 * Declares a check. The generics keep `ctx.report()` to the declared rule ids and the target kinds to literal names (a
 * family that registers the check accepts only its own kinds and the built-in ones).
 * @example
 * export default defineCheck({
 *   id: 'example-banner', family: 'example', targetKinds: ['host'], rules: ['example-banner'] as const,
 *   async run(target, ctx) { ctx.report('example-banner', 'pass', { resource: target.id }) },
 * })
 */
export function defineCheck<const R extends string, const K extends string = string>(def: CheckDefinition<R, K>): CheckDefinition<R, K> {
  if (!KEBAB.test(def.id)) throw new TypeError(`defineCheck: id must be kebab-case (got "${def.id}")`)
  if (!def.id.startsWith(def.family)) throw new TypeError(`defineCheck: id "${def.id}" must start with its family "${def.family}"`)
  for (const r of def.rules)
    if (!r.startsWith(`${def.family}-`)) throw new TypeError(`defineCheck: rule "${r}" of check "${def.id}" must start with "${def.family}-"`)
  if (!def.targetKinds.length) throw new TypeError(`defineCheck: check "${def.id}" declares no target kind`)
  return Object.freeze(def)
}

/** One target string form a family understands: `SCHEME://…` or `SCHEME:…` (or the bare word `SCHEME`). */
export interface TargetScheme<K extends string = string> {
  /** Lower-case scheme name, e.g. `tls`. */
  readonly scheme: string
  /** Other names accepted for the same form (not listed in the help). */
  readonly aliases?: readonly string[]
  /** Kind of the targets it makes. */
  readonly kind: K
  /** The form as `--help` and the README show it, e.g. `tls://HOST:PORT[?sni=NAME]`. */
  readonly example: string
  /** A few words shown beside the form (what it is read with). */
  readonly note?: string
  /**
   * Parses what follows `SCHEME://` or `SCHEME:` (`rest`); throws `TargetError` naming `raw` before any I/O. `scheme` is
   * the name the string used (the scheme or one of its aliases).
   */
  parse(rest: string, raw: string, scheme: string): Target
  /**
   * Offers this scheme when a target string has none (a URL, a bare `host:port`, a bare host): the target to write and
   * a few words on what it checks, or undefined when the form does not fit. The CLI's hint lists every family's offer.
   */
  suggest?(form: SchemelessForm): { readonly target: string; readonly what: string } | undefined
}

/** A target string written without a ztscan scheme, as the CLI's hint sees it (`host` bracketed when IPv6). */
export type SchemelessForm =
  | { readonly form: 'url'; readonly protocol: 'http' | 'https'; readonly host: string; readonly port?: string; readonly raw: string }
  | { readonly form: 'host-port'; readonly host: string; readonly port: string }
  | { readonly form: 'host'; readonly host: string }

/** Declares a family's target schemes (keeps the kinds as a literal union). */
export function defineTargets<const K extends string>(schemes: readonly TargetScheme<K>[]): readonly TargetScheme<K>[] {
  for (const s of schemes) {
    if (!s || typeof s.parse !== 'function' || typeof s.scheme !== 'string' || typeof s.kind !== 'string' || typeof s.example !== 'string')
      throw new TypeError('defineTargets: a scheme needs string "scheme", "kind", "example" and a "parse" function')
    for (const name of [s.scheme, ...(s.aliases ?? [])]) if (!/^[a-z][a-z0-9+.-]*$/.test(name)) throw new TypeError(`defineTargets: scheme "${name}" must be a lower-case URI scheme`)
    if (!KEBAB.test(s.kind)) throw new TypeError(`defineTargets: kind "${s.kind}" must be kebab-case`)
    if (!s.example.startsWith(s.scheme)) throw new TypeError(`defineTargets: the example of "${s.scheme}" must start with the scheme (got "${s.example}")`)
  }
  return Object.freeze([...schemes])
}

/** The target kinds of the built-in families (a literal union derived from their schemes). */
export type BuiltinTargetKind = import('../../checks/index.ts').BuiltinTargetKind

/**
 * A CLI flag a family adds (`ztscan scan --NAME`). It either sets one settings value (`setting`, a JSON pointer such as
 * `/ssh/username`: the one table from flags to settings) or adds a target per value (`target`, a scheme: `SCHEME:VALUE`).
 */
export interface FamilyFlag {
  /** Flag name without the dashes. */
  readonly name: string
  /** Placeholder of its value in the help (`FILE`); absent for a switch (sets `true`). */
  readonly arg?: string
  /** May be given several times (the setting becomes a list). */
  readonly multiple?: boolean
  readonly help: string
  readonly setting?: string
  readonly target?: string
}

/** What a family's `defaultTargets` may use: the network helpers (the scan's `io`), bound to a short deadline. */
export interface DefaultTargetsContext {
  readonly net: NetHelpers
}

/** A demo lab part: targets, settings they need, and a stopper. */
export interface DemoPart {
  readonly targets: readonly Target[]
  readonly settings?: Record<string, unknown>
  stop(): Promise<void>
}

/** A family: one registration of its pillar, target schemes, settings, checks, default targets and demo. */
export interface Family<K extends string = string> {
  /** Kebab-case name; its checks' ids and rules start with it. */
  readonly name: string
  /** The ZTMM pillar its rules score in. */
  readonly pillar: Pillar
  /** Target strings it understands. */
  readonly targets: readonly TargetScheme<K>[]
  /**
   * JSON Schema of the settings it reads: an object schema whose `properties` are top-level settings keys (`ssh`, `tls`).
   * Validated once, before the first probe; two families may share a key only with the same schema.
   */
  readonly settings?: Readonly<Record<string, unknown>>
  /** CLI flags that set its settings or add its targets. */
  readonly flags?: readonly FamilyFlag[]
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a family's checks declare different rule-id unions
  readonly checks: readonly CheckDefinition<any, string>[]
  /** Targets the no-config default scan adds for this machine (loopback only); `ctx.net` for a quick look (is port 22 open?). */
  defaultTargets?(ctx: DefaultTargetsContext): Promise<readonly Target[]>
  /** Starts this family's flawed servers/files for `ztscan demo`; returns their targets and a stopper. */
  demo?(dir: string): Promise<DemoPart>
}

/** Throws a TypeError naming what is wrong with a family (also run on plugin families that skipped `defineFamily`). */
export function validateFamily(f: Family): void {
  if (!f || typeof f !== 'object' || typeof f.name !== 'string' || !KEBAB.test(f.name)) throw new TypeError(`family name must be kebab-case (got ${JSON.stringify((f as { name?: unknown })?.name)})`)
  if (!PILLARS.includes(f.pillar)) throw new TypeError(`family "${f.name}": pillar must be one of ${PILLARS.join(', ')} (got ${JSON.stringify(f.pillar)})`)
  if (!Array.isArray(f.targets) || !Array.isArray(f.checks)) throw new TypeError(`family "${f.name}": "targets" and "checks" must be arrays`)
  defineTargets(f.targets)
  for (const c of f.checks) if (c.family !== f.name) throw new TypeError(`family "${f.name}": check "${c.id}" belongs to family "${c.family}"`)
  const s = f.settings
  if (s !== undefined && (s.type !== 'object' || typeof s.properties !== 'object' || s.properties === null))
    throw new TypeError(`family "${f.name}": settings must be an object schema with "properties" (the settings keys it reads)`)
  for (const fl of f.flags ?? []) {
    if (!/^[a-z][a-z0-9-]*$/.test(fl.name)) throw new TypeError(`family "${f.name}": flag "${fl.name}" must be lower-case kebab`)
    if ((fl.setting === undefined) === (fl.target === undefined)) throw new TypeError(`family "${f.name}": flag --${fl.name} needs exactly one of "setting" (a JSON pointer) or "target" (a scheme)`)
    if (fl.setting !== undefined && !/^(\/[A-Za-z0-9_-]+)+$/.test(fl.setting)) throw new TypeError(`family "${f.name}": flag --${fl.name}: setting must be a JSON pointer such as /ssh/username`)
    if (fl.target !== undefined && !f.targets.some((t) => t.scheme === fl.target)) throw new TypeError(`family "${f.name}": flag --${fl.name} adds "${fl.target}:" targets, a scheme the family does not declare`)
  }
}

/**
 * Declares a family: the single registration point of its target schemes, settings schema, checks, default targets and
 * demo. Its checks may target its own kinds and the built-in ones (a typo is a compile error here, and a runtime error when
 * the scan assembles its families).
 */
export function defineFamily<const K extends string>(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a family's checks declare different rule-id unions
  f: Family<K> & { readonly checks: readonly CheckDefinition<any, NoInfer<K> | BuiltinTargetKind>[] },
): Family<K> {
  validateFamily(f)
  return Object.freeze({ ...f, targets: defineTargets(f.targets) })
}
