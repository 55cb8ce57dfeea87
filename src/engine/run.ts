/**
 * @fileoverview `scan()`: plans (check × target) attempts, runs them under a global and a per-host p-limit, each with a
 * deadline and an AbortSignal, turns every exception into an `AttemptError`, and assembles a deterministic report.
 */
import crypto, { createHash } from 'node:crypto'
import pLimit from 'p-limit'
import { HostScheduler } from './limit.ts'
import { AttemptFailure, OptionsError, ZtscanError, positiveInt } from '../errors.ts'
import { catalogueWith } from '../rules/load.ts'
import { effectiveRules, type Policy } from '../rules/policy.ts'
import { registryOf, type Registry } from '../targets/registry.ts'
import { toProblems, validatorFor } from '../lib-ajv.ts'
import { baselineMarker, type Baseline } from '../report/baseline.ts'
import { suppressor, type Suppression } from '../report/suppress.ts'
import { DEFAULT_MEMORY_BYTES, DEFAULT_MEMORY_FINDINGS, DEFAULT_MEMORY_RECORDS, FindingStore, SpillStore, SpilledRecord, recordView } from './spill.ts'
import { PASS_CODEC, TallyMap } from './tally.ts'
import { SEVERITIES, type AttemptError, type AttemptSkip, type EffectiveRule, type ErrorReason, type Finding, type PassCount, type RuleMeta, type ScanReport, type Severity, type Target } from '../types.ts'
import type { CheckDefinition, Family, Logger } from './check.ts'
import { AttemptContext, type ScanShared } from './context.ts'
import { makeRedactor } from './redact.ts'
import { ioWith, type ScanIoOverrides } from '../net/io.ts'
import { PreflightError, runPreflight } from './preflight.ts'
import { buildReport, countFinding, incompleteness, type ErrorBudget } from '../report/build.ts'
import { SarifTally, tallySarif } from '../report/sarif.ts'
import { GradeTally } from '../report/grades.ts'
import { scoreTally } from '../scoring/score.ts'

/** Options of `scan()`. */
export interface ScanOptions {
  /** Targets as objects or strings (`tls://host:port`, `cert:file.pem`, …). */
  readonly targets: readonly (Target | string)[]
  /**
   * Families: their target schemes parse target strings, their kinds are the ones checks may target, their checks run
   * (default: the built-in families). Add a plugin's with `[...builtinFamilies, ...plugin.families]`.
   */
  readonly families?: readonly Family[]
  /** Checks to run (default: the families' checks). Add a plugin's checks with `[...builtinChecks, ...plugin.checks]`. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- checks declare different rule-id unions
  readonly checks?: readonly CheckDefinition<any>[]
  /** Extra rule metadata shipped by plugins; validated like `rules/*.json`. */
  readonly rules?: readonly RuleMeta[]
  readonly policy?: Policy
  /** Attempts in flight at once (default 32). */
  readonly concurrency?: number
  /** Attempts in flight per host (default 4). */
  readonly perHost?: number
  /** Simultaneous sockets across the scan (default 256). */
  readonly maxSockets?: number
  /** Per-attempt timeout in ms (default 15000); a check may scale it per target. */
  readonly timeoutMs?: number
  /** Per-connection timeout in ms (default 5000). */
  readonly connectTimeoutMs?: number
  /** Cancels the whole scan; the report then lists unfinished attempts as `aborted` errors. */
  readonly signal?: AbortSignal
  /**
   * Settings shared by the checks: credentials and trust material, e.g. `{ ssh: { username, privateKeyPath, knownHostsPath,
   * hostKeyFingerprints, acceptUnknownHostKeys }, tls: { caFile } }`. Secret-looking values are redacted from all output.
   */
  readonly settings?: Readonly<Record<string, unknown>>
  /** Runs only the targets of shard `index` (1-based) of `count`, split by a stable hash of the target id. */
  readonly shard?: { readonly index: number; readonly count: number }
  /** Suppressions (rule + target pattern + reason + expiry) applied to the findings. */
  readonly suppressions?: readonly Suppression[]
  /** A previous report to compare with: failed findings get `baselineState`. */
  readonly baseline?: Baseline
  /**
   * Chaining (targets found by checks, e.g. an open TLS port becoming a certificate target): by default only live targets
   * chain (`host://` scans); offline inputs (nmap XML, files, exports) chain only with `true`; `false` chains nothing.
   */
  readonly chain?: boolean
  /**
   * Store every passing result as a finding (default false: passes are counted per rule, target and asset in
   * `report.passCounts`, so memory does not grow with the number of passes; scores and summaries are the same either way).
   * Counted passes are not `finding` events.
   */
  readonly includePassed?: boolean
  /**
   * Findings held in memory (default 10,000); beyond them findings spill to a temporary file in `os.tmpdir()` and
   * `report.findings` becomes a lazy view read back from it (see `releaseFindings`). Events stop keeping findings then:
   * iterate the scan from its start to see them all. Pass counts, per-asset scores, errors and skips spill the same way
   * past the smaller of this and 20,000 entries (`report.passCounts`, `report.score.assets`, `report.errors`,
   * `report.skipped` become lazy views). A lazy view has the array methods readers use but no index access (`[0]` throws).
   */
  readonly memoryFindings?: number
  /**
   * Characters of JSON text (about bytes) each of those lists — findings, pass counts, errors, skips — holds in memory
   * before it spills, whichever of this and its count comes first (default 32 MiB).
   */
  readonly memoryBytes?: number
  /** Clock (tests pass a fixed one). */
  readonly now?: () => Date
  /**
   * Replaces side effects the checks cause (default: the real ones in src/net/io.ts): `tcpConnect`, `tlsHandshake`,
   * `httpGet`, `readFile`, `exec`, `ssh.probe`, `ssh.session`. Each receives the attempt's signal and deadline. For tests
   * (a fake SSH server answering with hostile data) and embedders (a sandboxed command runner).
   */
  readonly io?: ScanIoOverrides
  readonly logger?: Logger
  /** Called with each event as it happens. */
  readonly onEvent?: (e: ScanEvent) => void
  /**
   * Attempt errors the scan tolerates before its report says `complete: false`: a count (`3`, `"3"`) or a share of the
   * attempts (`"5%"`). Default 0: any error makes the scan incomplete (fail closed; the CLI then exits 4).
   */
  readonly maxErrors?: number | string
}

/** Streamed while a scan runs. */
export type ScanEvent =
  | { readonly type: 'target'; readonly target: Target }
  | { readonly type: 'finding'; readonly finding: Finding }
  | { readonly type: 'error'; readonly error: AttemptError }
  | { readonly type: 'skip'; readonly skip: AttemptSkip }
  | { readonly type: 'progress'; readonly done: number; readonly total: number }
  /** A long step inside one attempt (`ctx.progress`): e.g. 12,000 of 65,535 `ports probed`. */
  | { readonly type: 'step'; readonly check: string; readonly target: string; readonly label: string; readonly done: number; readonly total: number }

/**
 * A running scan: await it for the report, or iterate it for events. Every iterator sees every event from the first one,
 * whenever it starts (also after the scan ended: it replays them), and ends when the scan ends; an option or input error
 * is thrown to the iterating caller.
 */
export interface ScanRun extends PromiseLike<ScanReport>, AsyncIterable<ScanEvent> {
  /** The report promise itself. */
  readonly report: Promise<ScanReport>
}

/** Abort reason when an attempt ends normally (one shared object: no stack captured per attempt). */
const ATTEMPT_FINISHED = Object.freeze(Object.assign(new Error('attempt finished'), { name: 'AbortError' }))

/** The largest delay Node's timers accept (2^31 - 1 ms); a larger one fires after 1 ms with a warning. */
export const MAX_TIMER_MS = 2 ** 31 - 1

const noopLogger: Logger = { debug() {}, info() {}, warn() {} }

/** Stable hash of a target id into [0, count). */
export function shardOf(targetId: string, count: number): number {
  return createHash('sha256').update(targetId).digest().readUInt32BE(0) % count
}

/** Stable fingerprint of a finding: rule id, target and resource. */
export function fingerprintOf(ruleId: string, target: string, resource: string): string {
  const text = `${ruleId}\n${target}\n${resource}`
  // crypto.hash (Node >= 20.12) hashes in one call, without a Hash object per finding; same digest.
  return (oneShotHash ? oneShotHash('sha256', text, 'hex') : createHash('sha256').update(text).digest('hex')).slice(0, 32)
}
const oneShotHash = typeof crypto.hash === 'function' ? crypto.hash : undefined

/** Fills `{{name}}` placeholders; unknown names stay visible as `{{name}}` so tests catch them. */
export function renderMessage(template: string, data: Readonly<Record<string, unknown>>): string {
  return template.replace(PLACEHOLDER, (m, key: string) => shown(m, data[key]))
}

const PLACEHOLDER = /\{\{\s*([a-zA-Z0-9_.]+)\s*\}\}/g
const shown = (m: string, v: unknown): string => (v === undefined || v === null ? m : Array.isArray(v) ? v.join(', ') : String(v))
/** A template split once: literal text at even indexes; at odd ones [placeholder as written, name]. */
type Compiled = readonly (string | readonly [string, string])[]
const compiled = new Map<string, Compiled>()
const NO_FIELDS: Readonly<Record<string, unknown>> = {}

function compile(template: string): Compiled {
  let c = compiled.get(template)
  if (c) return c
  const parts: (string | readonly [string, string])[] = []
  let last = 0
  for (const m of template.matchAll(PLACEHOLDER)) {
    parts.push(template.slice(last, m.index), [m[0], m[1]!])
    last = m.index + m[0].length
  }
  parts.push(template.slice(last))
  // Rule messages are few; a plugin making templates on the fly must not grow the cache without bound.
  if (compiled.size < 1_000) compiled.set(template, (c = parts))
  return parts
}

/**
 * `renderMessage(template, { target, resource, ...evidence })` without building that object (it runs for every finding):
 * the template is split once, and each name is looked up in the evidence, then target and resource.
 */
export function renderFinding(template: string, target: string, resource: string, evidence: Readonly<Record<string, unknown>>): string {
  const parts = compile(template)
  let out = parts[0] as string
  for (let i = 1; i < parts.length; i += 2) {
    const [m, key] = parts[i] as readonly [string, string]
    const v = Object.prototype.propertyIsEnumerable.call(evidence, key) ? evidence[key] : key === 'target' ? target : key === 'resource' ? resource : NO_FIELDS[key]
    out += shown(m, v) + (parts[i + 1] as string)
  }
  return out
}

const byKey = <T>(key: (x: T) => string) => (a: T, b: T): number => {
  const ka = key(a)
  const kb = key(b)
  return ka < kb ? -1 : ka > kb ? 1 : 0
}

/**
 * Runs a scan.
 * @example
 * const report = await scan({ targets: ['tls://127.0.0.1:8443', 'cert:certs/api.pem'], policy: await loadPolicy('ztscan.policy.yaml') })
 * for await (const e of scan({ targets })) if (e.type === 'finding') console.log(e.finding.message)
 */
export function scan(options: ScanOptions): ScanRun {
  // Every event is kept (the report holds the same objects): an iterator started at any time replays from the first one —
  // until findings, errors or skips spill to disk with no iterator attached: then no event is kept (an iterator started
  // later could not replay them all: it throws).
  let history: ScanEvent[] = []
  let iterators = 0
  let findingsDropped = false
  const dropFindingEvents = (): void => {
    if (iterators > 0 || findingsDropped) return
    findingsDropped = true
    history = []
  }
  let finished = false
  const waiting = new Set<() => void>()
  const wakeAll = (): void => {
    for (const w of waiting) w()
    waiting.clear()
  }
  const emit = (e: ScanEvent): void => {
    options.onEvent?.(e)
    if (!findingsDropped) history.push(e)
    if (waiting.size) wakeAll()
  }
  // Start on a later tick so a caller can attach an iterator synchronously.
  const report = new Promise<ScanReport>((resolve, reject) => {
    setImmediate(() => {
      runScan(options, emit, dropFindingEvents).then(resolve, reject).finally(() => {
        finished = true
        wakeAll()
      })
    })
  })
  return {
    report,
    then: (onOk, onErr) => report.then(onOk, onErr),
    [Symbol.asyncIterator](): AsyncIterator<ScanEvent> {
      iterators++
      const late = findingsDropped
      let next = 0
      let ended = false
      return {
        async next(): Promise<IteratorResult<ScanEvent>> {
          for (;;) {
            if (ended) return { done: true, value: undefined }
            if (late) throw new Error('scan events: findings, errors or skips beyond the in-memory budget (memoryFindings, memoryBytes) were spilled to disk and events were no longer kept; iterate the scan from its start, or read the report')
            if (next < history.length) return { done: false, value: history[next++]! }
            if (finished) {
              ended = true
              await report // surface a thrown option or input error to the iterating caller
              return { done: true, value: undefined }
            }
            await new Promise<void>((r) => waiting.add(r))
          }
        },
        async return(): Promise<IteratorResult<ScanEvent>> {
          ended = true
          return { done: true, value: undefined }
        },
      }
    },
  }
}


/** Parses `maxErrors` (`3`, `"3"`, `"5%"`); throws an `OptionsError` naming `name` otherwise. */
export function parseErrorBudget(v: number | string | undefined, name = 'maxErrors'): ErrorBudget {
  if (v === undefined) return { count: 0 }
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 0) throw new OptionsError(name, `expected a count (0 and up) or a percentage such as 5% (got ${v})`)
    return { count: v }
  }
  const m = /^(\d{1,9})$|^(\d{1,3}(?:\.\d{1,3})?)%$/.exec(v.trim())
  if (!m || (m[2] !== undefined && Number(m[2]) > 100)) throw new OptionsError(name, `expected a count (0 and up) or a percentage from 0% to 100% (got "${v}")`)
  return m[1] !== undefined ? { count: Number(m[1]) } : { percent: Number(m[2]) }
}


/**
 * Validates the scan settings against the registered families' settings schemas: each problem is an `OptionsError` named
 * `settings.<path>` (the CLI names the flag or the targets file and pointer that set it), all at once.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- checks declare different rule-id unions
function validateSettings(registry: Registry, checks: readonly CheckDefinition<any>[], settings: Readonly<Record<string, unknown>> | undefined, log: Logger): void {
  if (settings === undefined) return
  // A key no family declares is said once (a bare plugin check may read it; otherwise it is a typo).
  const declared = registry.settingsSchema(false).properties as Record<string, unknown>
  const unknown = Object.keys(settings).filter((k) => !Object.hasOwn(declared, k))
  if (unknown.length && checks.every((c) => registry.families.some((f) => f.checks.includes(c))))
    log.warn(`settings: ${unknown.map((k) => `"${k}"`).join(', ')} not declared by any family (ignored; known: ${Object.keys(declared).join(', ')})`)
  const validate = validatorFor(registry.settingsSchema(false))
  if (validate(settings)) return
  const problems = toProblems(validate.errors, settings).map((p) => {
    const path = p.pointer.split('/').slice(1).map((x) => x.replace(/~1/g, '/').replace(/~0/g, '~'))
    const shown = p.actual === undefined ? '' : ` (got ${JSON.stringify(p.actual)?.slice(0, 80)})`
    return new OptionsError(['settings', ...path].join('.'), `expected ${p.expected}${shown}`)
  })
  throw problems.length === 1 ? problems[0]! : new PreflightError(problems)
}

/**
 * Checks every input of a scan before the first probe — targets, their files, settings files (SSH keys, known_hosts, CA
 * bundles, catalogues), policy values and families, options — and throws a `ZtscanError` naming the file and field
 * (a `PreflightError` when there are several). `scan()` runs it first; call it alone to validate a configuration.
 */
export async function preflight(options: ScanOptions): Promise<void> {
  await prepare(options)
}

/** Options validated, rules in force, targets normalised and every input checked: what a scan needs before its first probe. */
async function prepare(options: ScanOptions) {
  const concurrency = positiveInt('concurrency', options.concurrency, 32)
  const perHost = positiveInt('perHost', options.perHost, 4)
  const maxSockets = positiveInt('maxSockets', options.maxSockets, 256)
  const baseTimeout = positiveInt('timeoutMs', options.timeoutMs, 15_000)
  const connectTimeoutMs = Math.min(positiveInt('connectTimeoutMs', options.connectTimeoutMs, 5_000), baseTimeout)
  for (const [name, v] of [['timeoutMs', baseTimeout], ['connectTimeoutMs', connectTimeoutMs]] as const)
    if (v > MAX_TIMER_MS) throw new OptionsError(name, `at most ${MAX_TIMER_MS} ms (about 24.8 days, the timer maximum; got ${v})`)
  const maxErrors = parseErrorBudget(options.maxErrors)
  const memoryFindings = positiveInt('memoryFindings', options.memoryFindings, DEFAULT_MEMORY_FINDINGS)
  const memoryBytes = positiveInt('memoryBytes', options.memoryBytes, DEFAULT_MEMORY_BYTES)
  if (options.shard && !(Number.isInteger(options.shard.count) && options.shard.count >= 1 && Number.isInteger(options.shard.index) && options.shard.index >= 1 && options.shard.index <= options.shard.count))
    throw new OptionsError('shard', `expected i/n with 1 <= i <= n (got ${options.shard.index}/${options.shard.count})`)

  const registry = registryOf(options.families)
  const checks = options.checks ?? registry.checks
  const metas = catalogueWith(options.rules)
  const rules = new Map<string, EffectiveRule>(effectiveRules(metas, options.policy).map((r) => [r.id, r]))
  const checkIds = new Set<string>()
  for (const c of checks) {
    if (checkIds.has(c.id)) throw new OptionsError('checks', `two checks have the id "${c.id}"`)
    checkIds.add(c.id)
    for (const r of c.rules) if (!rules.has(r)) throw new OptionsError('checks', `check "${c.id}" declares rule "${r}" that has no rule metadata`)
  }
  // Settings are validated once, against the families' schemas, before anything else reads them.
  validateSettings(registry, checks, options.settings, options.logger ?? noopLogger)
  const settings = Object.freeze({ ...options.settings })
  // Every target is parsed before any is planned: a bad fifth target must not let the first four start probing.
  const targets = options.targets.map((t) => registry.normalize(t))
  const { builtinInputChecks } = await import('../../checks/preflight.ts')
  try {
    await runPreflight({ targets, settings, policy: options.policy, rules, checks }, builtinInputChecks)
  } catch (err) {
    // A problem message may quote a value (a policy field, a setting): secrets from the settings never pass.
    const redact = makeRedactor(options.settings)
    for (const e of [err, ...(err instanceof PreflightError ? err.problems : [])]) if (e instanceof Error) e.message = redact(e.message)
    throw err
  }
  // A check must target a kind some family declares (or that a target object given to this scan has): a typo is an error.
  registry.assertKnownKinds(checks, new Set(options.targets.flatMap((t) => (t && typeof t === 'object' && typeof t.kind === 'string' ? [t.kind] : []))))
  return { concurrency, perHost, maxSockets, baseTimeout, connectTimeoutMs, maxErrors, memoryFindings, memoryBytes, checks, rules, settings, targets, registry }
}

/** The report's order of findings. */
const findingKey = (f: Finding): string => `${f.target}\0${f.ruleId}\0${f.resource}\0${f.status}`
/** The report's order of errors and of skips (equal keys: in the order they happened). */
const errorKey = (e: AttemptError): string => `${e.target}\0${e.check}\0${e.message}`
const skipKey = (s: AttemptSkip): string => `${s.target}\0${s.check}\0${s.why}`

async function runScan(options: ScanOptions, emit: (e: ScanEvent) => void, dropFindingEvents: () => void): Promise<ScanReport> {
  const startedAt = new Date()
  const now = options.now ?? (() => new Date())
  const log = options.logger ?? noopLogger
  const { concurrency, perHost, maxSockets, baseTimeout, connectTimeoutMs, maxErrors, memoryFindings, memoryBytes, checks, rules, settings, targets: given, registry } = await prepare(options)
  const redact = makeRedactor(options.settings)

  const scheduler = new HostScheduler(concurrency, perHost)
  const sockets = pLimit(maxSockets)
  const targets = new Map<string, Target>()
  const chainedFrom = new Map<string, string>()
  const withheld = new Map<string, number>()
  const chainMode = options.chain === true ? 'all' : options.chain === false ? 'off' : 'live'
  const withholds = (check: CheckDefinition): boolean => chainMode === 'off' || (chainMode === 'live' && check.offline === true)
  // Findings past the in-memory budget spill to a temporary file; suppressions and the baseline apply as they arrive.
  const store = new FindingStore(memoryFindings, findingKey, undefined, { async: true, maxBytes: memoryBytes })
  // The finding being added and its key: made once, read by the store and both tallies.
  let keyed: Finding | undefined
  let keyedKey = ''
  const keyOf = (f: Finding): string => (f === keyed ? keyedKey : findingKey(f))
  const suppress = options.suppressions?.length ? suppressor(options.suppressions, now()) : undefined
  const mark = options.baseline ? baselineMarker(options.baseline) : undefined
  // Passes counted per (rule, target, asset) unless stored individually; past the budget of keys the counts spill too.
  const memoryRecords = Math.min(memoryFindings, DEFAULT_MEMORY_RECORDS)
  const passes = new TallyMap<PassCount>(memoryRecords, addCounts, PASS_CODEC, undefined, { maxBytes: memoryBytes })
  const includePassed = options.includePassed === true
  // The score and the summary's counts are tallied as findings and passes arrive (nothing is read back for them).
  const firedRules = [...rules.values()].filter((r) => r.enabled && checks.some((c) => c.rules.includes(r.id))).sort(byKey((r) => r.id))
  const tallied = {
    score: scoreTally({ rules: firedRules, settings: options.policy?.score, memoryAssets: memoryRecords, memoryBytes }),
    passed: 0,
    failed: Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>,
    suppressed: 0,
  }
  // The SARIF writer's counts per rule, tallied likewise: it reads spilled findings back once, for the results alone.
  const sarifTally = new SarifTally(keyOf)
  const grades = new GradeTally(keyOf)
  // Errors and skips past the budget spill like findings (a scan of a million unreachable targets), in the report's order.
  const errors = new SpillStore<AttemptError>(memoryRecords, errorKey, undefined, { async: true, maxBytes: memoryBytes })
  const skipped = new SpillStore<AttemptSkip>(memoryRecords, skipKey, undefined, { async: true, maxBytes: memoryBytes })
  /** Skips of a whole attempt (not of one rule inside an attempt that ran). */
  let attemptsSkipped = 0
  let done = 0
  let total = 0
  const scanSignal = options.signal
  // One listener on the caller's signal (not one per attempt): it stops every attempt in flight.
  const activeAttempts = new Set<() => void>()
  const onAbort = (): void => {
    for (const stopAttempt of [...activeAttempts]) stopAttempt()
  }
  scanSignal?.addEventListener('abort', onAbort, { once: true })

  const shared: ScanShared = {
    rules,
    settings,
    // A bad `io` part is an options error, raised before any attempt starts.
    io: ioWith(options.io),
    memo: new Map(),
    sockets,
    connectTimeoutMs,
    now,
    redact,
    log,
    countPass(ruleId, target, asset) {
      if (includePassed) return false
      tallied.passed++
      tallied.score.passes({ ruleId, target, asset, count: 1 })
      const k = `${target}\0${ruleId}\0${asset ?? ''}`
      const c = passes.get(k) as { count: number } | undefined
      if (c) c.count++
      else passes.set(k, asset ? { ruleId, target, asset, count: 1 } : { ruleId, target, count: 1 })
      return true
    },
    addFinding(f) {
      if (f.status === 'pass' && shared.countPass(f.ruleId, f.target, f.asset)) return
      let g = f
      if (suppress) g = suppress.apply(g)
      if (mark) g = mark.apply(g)
      countFinding(tallied, g)
      tallied.score.finding(g)
      keyed = g
      keyedKey = findingKey(g)
      sarifTally.add(g)
      grades.add(g)
      store.add(g, keyedKey)
      if (store.spilled) dropFindingEvents()
      emit({ type: 'finding', finding: g })
    },
    addSkip(s) {
      record.skip(s)
    },
    withhold(from, check, scheme, as) {
      if (!withholds(check) || registry.schemes.get(scheme)?.scheme !== as) return false
      withheld.set(from.id, (withheld.get(from.id) ?? 0) + 1)
      return true
    },
    addTarget(t, from, check, extra) {
      if (withholds(check)) {
        // An invalid target is still reported as such; `extra` is merged only when it holds a field normalize checks.
        const n = registry.normalize(t)
        if (extra && ('kind' in extra || 'id' in extra || 'host' in extra)) registry.normalize({ ...n, ...extra })
        withheld.set(from.id, (withheld.get(from.id) ?? 0) + 1)
        return
      }
      const id = addTarget(extra ? { ...registry.normalize(t), ...extra } : t, true)
      if (id && !chainedFrom.has(id)) chainedFrom.set(id, from.id)
    },
    normalize: (t) => registry.normalize(t),
    fingerprint: fingerprintOf,
    render: renderFinding,
    progress(check, target, stepDone, stepTotal, label) {
      emit({ type: 'step', check: check.id, target: target.id, label, done: stepDone, total: stepTotal })
    },
  }

  const record = {
    error(check: CheckDefinition, target: string, reason: ErrorReason, message: string): void {
      const e: AttemptError = { check: check.id, family: check.family, target, reason, message: redact(message) }
      errors.add(e)
      if (errors.spilled) dropFindingEvents()
      emit({ type: 'error', error: e })
    },
    skip(s: AttemptSkip): void {
      if (s.rule === undefined) attemptsSkipped++
      skipped.add(s)
      if (skipped.spilled) dropFindingEvents()
      emit({ type: 'skip', skip: s })
    },
  }

  const inShard = (id: string): boolean => !options.shard || shardOf(id, options.shard.count) === options.shard.index - 1

  /** Adds a target; returns its id when it is new to this scan. */
  function addTarget(raw: Target | string, fromChain: boolean): string | undefined {
    const t = registry.normalize(raw)
    if (targets.has(t.id)) return undefined
    // Chained targets stay with the shard that found them, so shards never overlap and their union is the whole scan.
    if (!fromChain && !inShard(t.id)) return undefined
    targets.set(t.id, t)
    emit({ type: 'target', target: t })
    for (const c of checks) if (c.targetKinds.includes(t.kind)) plan(c, t)
    return t.id
  }

  function plan(check: CheckDefinition, target: Target): void {
    const family = check.family
    const live = check.rules.some((r) => rules.get(r)?.enabled)
    total++
    scheduler.add(target.host ?? `\0${target.id}`, () =>
      attempt(check, target, family, live)
        .catch((err: unknown) => record.error(check, target.id, 'bug', `engine: ${(err as Error).message}`))
        .finally(() => {
          done++
          emit({ type: 'progress', done, total })
        }),
    )
  }

  /** Each check's `load()`, called once per scan. */
  const loads = new Map<CheckDefinition, Promise<unknown>>()
  async function attempt(check: CheckDefinition, target: Target, family: string, live: boolean): Promise<void> {
    if (scanSignal?.aborted) return record.error(check, target.id, 'aborted', 'scan aborted before this check ran')
    if (!live) {
      record.skip({ check: check.id, family, target: target.id, why: 'all rules of this check are disabled by the policy' })
      return
    }
    if (check.load) {
      // The check's code loads before its deadline starts (once per scan): loading is not the target's time.
      let load = loads.get(check)
      if (!load) loads.set(check, (load = Promise.resolve().then(() => check.load!())))
      try {
        await load
      } catch (err) {
        return record.error(check, target.id, 'bug', `${check.id} failed: ${(err as Error | undefined)?.message ?? String(err)}`)
      }
      if (scanSignal?.aborted) return record.error(check, target.id, 'aborted', 'scan aborted before this check ran')
    }
    const timeoutMs = Math.max(1, Math.round(check.timeout?.(target, baseTimeout) ?? baseTimeout))
    const ctx = new AttemptContext(shared, check, target, timeoutMs)
    const timer = setTimeout(() => ctx.end(new DOMException(`attempt timed out after ${timeoutMs} ms`, 'TimeoutError')), timeoutMs)
    const onScanAbort = (): void => ctx.end(new DOMException('scan aborted', 'AbortError'))
    activeAttempts.add(onScanAbort)
    try {
      if (scanSignal?.aborted) onScanAbort()
      const running = Promise.resolve().then(() => check.run(target, ctx))
      running.catch(() => {})
      // A check that ignores its signal may settle after the attempt ended: the race below moves on without it.
      await Promise.race([running, ctx.whenEnded()])
    } catch (err) {
      const e = err as { name?: string; message?: string }
      if (err instanceof AttemptFailure) record.error(check, target.id, err.reason, err.message)
      else if (err instanceof ZtscanError) record.error(check, target.id, 'input', err.message)
      else if (e?.name === 'TimeoutError') record.error(check, target.id, 'timeout', `no result within ${timeoutMs} ms`)
      else if (e?.name === 'AbortError' || scanSignal?.aborted) record.error(check, target.id, 'aborted', 'scan aborted')
      else record.error(check, target.id, 'bug', `${check.id} failed: ${e?.message ?? String(err)}`)
    } finally {
      clearTimeout(timer)
      activeAttempts.delete(onScanAbort)
      // Seal the context and close whatever the check still holds open (sockets listen on ctx.signal).
      ctx.end(ATTEMPT_FINISHED)
    }
  }

  try {
    for (const t of given) addTarget(t, false)
    await scheduler.idle()
    // The spill files' last writes land before they are read.
    await Promise.all([store.settled(), errors.settled(), skipped.settled()])
  } catch (err) {
    releaseAll()
    throw err
  } finally {
    scanSignal?.removeEventListener('abort', onAbort)
  }

  try {
    return report()
  } catch (err) {
    // No report to release later: every temporary file of the scan goes now (buildReport releases the card's own).
    releaseAll()
    throw err
  }

  /** Releases every temporary file of the scan (when no report will own them). */
  function releaseAll(): void {
    store.release()
    errors.release()
    skipped.release()
    passes.release()
    tallied.score.release()
    sarifTally.release()
  }

  function report(): ScanReport {
    const findings = store.finish()
    const errorList = errors.finish()
    const skipList = skipped.finish()
    tallySarif(findings, sarifTally)
    grades.attach(findings)
    return buildReport({
      startedAt,
      targets: [...targets.values()].map((t) => (chainedFrom.has(t.id) ? { id: t.id, kind: t.kind, chainedFrom: chainedFrom.get(t.id)! } : { id: t.id, kind: t.kind })).sort(byKey((t) => t.id)),
      chaining: { mode: chainMode, chained: chainedFrom.size, withheld: [...withheld].map(([from, n]) => ({ from, targets: n })).sort(byKey((w) => w.from)) },
      rules: firedRules,
      findings,
      applied: { expired: suppress?.expired() ?? [], absent: mark?.absent() },
      passCounts: passCountsOf(passes),
      errors: errorList,
      skipped: skipList,
      attempts: total,
      shard: options.shard ? `${options.shard.index}/${options.shard.count}` : undefined,
      suppressions: options.suppressions,
      baseline: options.baseline,
      scoreSettings: options.policy?.score,
      memoryAssets: memoryRecords,
      memoryBytes,
      tallied,
      now: now(),
      incomplete: incompleteness({
        attempts: total,
        errors: errors.count,
        // A rule skipped inside an attempt that ran does not make the attempt itself unproductive.
        skipped: attemptsSkipped,
        targets: targets.size,
        aborted: scanSignal?.aborted ?? false,
        sharded: !!options.shard,
        maxErrors,
      }),
    })
  }
}

/** Two partial counts of one key (`a` is the map's own: a value read back or made by countPass), added in place. */
const addCounts = (a: PassCount, b: PassCount): PassCount => {
  ;(a as { count: number }).count += b.count
  return a
}

/**
 * The pass counts, sorted by target, rule and asset ('' for the target itself): an array, or — when they spilled — a lazy
 * view read back from the temporary file (released with the report's findings).
 */
function passCountsOf(passes: TallyMap<PassCount>): readonly PassCount[] {
  if (!passes.spilled) return [...passes.entries()].map((e) => e[1])
  return recordView(function* () {
    const text = passCountText()
    for (const [k, c] of passes.entries()) yield new SpilledRecord<PassCount>(k, text(c), c)
  }, passes)
}

/**
 * A pass count's JSON text, `JSON.stringify(c)` (keys in the order countPass and PASS_CODEC make them), without a
 * stringify of the object: the rule's and the target's parts are reused from the previous count (in key order, the
 * same for long stretches).
 */
function passCountText(): (c: PassCount) => string {
  let rule: string | undefined
  let ruleJson = ''
  let target: string | undefined
  let targetJson = ''
  return (c) => {
    if (c.ruleId !== rule) ruleJson = `{"ruleId":${JSON.stringify((rule = c.ruleId))},"target":`
    if (c.target !== target) targetJson = JSON.stringify((target = c.target))
    return `${ruleJson}${targetJson}${c.asset !== undefined ? `,"asset":${JSON.stringify(c.asset)}` : ''},"count":${JSON.stringify(c.count)}}`
  }
}
