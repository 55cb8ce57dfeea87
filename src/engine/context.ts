/**
 * @fileoverview The context of one (check × target) attempt. A class, so the 40,000 contexts of a large scan share their
 * methods through the prototype instead of allocating a dozen closures each; the AbortController and the network helpers
 * are made on first use.
 */
import { setMaxListeners } from 'node:events'
import type { LimitFunction } from 'p-limit'
import type { NetHelpers } from '../net/index.ts'
import { bindExec, bindNetIo, bindSsh, type ExecHelper, type ScanIo, type SshHelpers } from '../net/io.ts'
import type { AttemptSkip, EffectiveRule, Finding, Target } from '../types.ts'
import type { CheckContext, CheckDefinition, Logger, ReportAt, TargetScheme } from './check.ts'
import type { Redactor } from './redact.ts'

/** What every attempt of one scan shares. */
export interface ScanShared {
  readonly rules: ReadonlyMap<string, EffectiveRule>
  readonly settings: Readonly<Record<string, unknown>>
  readonly sockets: LimitFunction
  readonly connectTimeoutMs: number
  readonly now: () => Date
  readonly redact: Redactor
  readonly log: Logger
  /** The scan's side effects (real, or the ones `ScanOptions.io` replaced). */
  readonly io: ScanIo
  /** Values computed once per scan (`ctx.memo`), by family-scoped key. */
  readonly memo: Map<string, Promise<unknown>>
  /** Records a finding (already redacted and fingerprinted). */
  addFinding(f: Finding): void
  /** Counts a pass instead of storing it, when the scan counts passes: true when counted (no finding is built then). */
  countPass(ruleId: string, target: string, asset: string | undefined): boolean
  /** Records a rule that could not be judged on a target (already redacted). */
  addSkip(s: AttemptSkip): void
  /**
   * Adds a target chained from `from` by `check`, with `extra` fields over it (unless the scan's chaining mode withholds
   * it: then it is only checked and counted); throws on an invalid one.
   */
  addTarget(t: Target | string, from: Target, check: CheckDefinition, extra?: Readonly<Record<string, unknown>>): void
  /** Counts a target of `scheme` as withheld from `from` when `check`'s targets are withheld and `as` reads `scheme` (see `CheckContext.withhold`). */
  withhold(from: Target, check: CheckDefinition, scheme: string, as: TargetScheme): boolean
  /** A target string or object as the scan's registry reads it; throws on an invalid one. */
  normalize(t: Target | string): Target
  fingerprint(ruleId: string, target: string, resource: string): string
  /** A long step's progress in an attempt (throttled by the context). */
  progress(check: CheckDefinition, target: Target, done: number, total: number, label: string): void
  /** The rule's message template filled from the evidence, then `target` and `resource` (see `renderFinding` in run.ts). */
  render(template: string, target: string, resource: string, evidence: Readonly<Record<string, unknown>>): string
}

/** One attempt's context; `end()` seals it and aborts its signal. */
export class AttemptContext implements CheckContext {
  readonly timeoutMs: number
  readonly connectTimeoutMs: number
  readonly #shared: ScanShared
  readonly #check: CheckDefinition
  readonly #target: Target
  #ac: AbortController | undefined
  #endReason: unknown
  #onEnd: ((reason: unknown) => void) | undefined
  #net: NetHelpers | undefined
  #ssh: SshHelpers | undefined
  #exec: ExecHelper | undefined
  #log: Logger | undefined
  #skips: Set<string> | undefined
  #progressAt = 0

  constructor(shared: ScanShared, check: CheckDefinition, target: Target, timeoutMs: number) {
    this.#shared = shared
    this.#check = check
    this.#target = target
    this.timeoutMs = timeoutMs
    this.connectTimeoutMs = Math.min(shared.connectTimeoutMs, timeoutMs)
  }

  /** True once the attempt has ended (findings and chained targets are then ignored). */
  get ended(): boolean {
    return this.#endReason !== undefined
  }

  /** Ends the attempt with `reason` (first call wins): aborts the signal, settles `whenEnded`. */
  end(reason: unknown): void {
    if (this.#endReason !== undefined) return
    this.#endReason = reason
    this.#ac?.abort(reason)
    this.#onEnd?.(reason)
  }

  /** Rejects with the end reason when the attempt is ended from outside (timeout, scan abort). */
  whenEnded(): Promise<never> {
    return new Promise<never>((_, reject) => (this.#endReason !== undefined ? reject(this.#endReason) : (this.#onEnd = reject)))
  }

  get signal(): AbortSignal {
    if (!this.#ac) {
      this.#ac = new AbortController()
      // A check may have many helpers in flight on this signal (a port scan sniffs every open port at once); each removes
      // its listener when done, so Node's "possible leak" warning at 11 listeners would only be noise on stderr.
      setMaxListeners(0, this.#ac.signal)
      if (this.#endReason !== undefined) this.#ac.abort(this.#endReason)
    }
    return this.#ac.signal
  }

  get settings(): Readonly<Record<string, unknown>> {
    return this.#shared.settings
  }

  get sockets(): LimitFunction {
    return this.#shared.sockets
  }

  get net(): NetHelpers {
    return (this.#net ??= bindNetIo(this.#shared.io, this))
  }

  get ssh(): SshHelpers {
    return (this.#ssh ??= bindSsh(this.#shared.io, this))
  }

  get exec(): ExecHelper {
    return (this.#exec ??= bindExec(this.#shared.io, this))
  }

  readFile(path: string, maxBytes?: number): Promise<Buffer> {
    return this.net.readFile(path, maxBytes)
  }

  memo<T>(key: string, make: () => Promise<T>): Promise<T> {
    const memo = this.#shared.memo
    const k = `${this.#check.family}\0${key}`
    let p = memo.get(k) as Promise<T> | undefined
    if (!p) {
      p = make()
      memo.set(k, p)
      p.catch(() => memo.delete(k))
    }
    return p
  }

  get log(): Logger {
    if (!this.#log) {
      const { log, redact } = this.#shared
      const prefix = `${this.#check.id} ${this.#target.id}: `
      this.#log = { debug: (m) => log.debug(redact(prefix + m)), info: (m) => log.info(redact(prefix + m)), warn: (m) => log.warn(redact(prefix + m)) }
    }
    return this.#log
  }

  now(): Date {
    return this.#shared.now()
  }

  params<T extends Record<string, unknown> = Record<string, unknown>>(ruleId: string): T {
    return (this.#shared.rules.get(ruleId)?.values ?? {}) as T
  }

  enabled(ruleId: string): boolean {
    return this.#shared.rules.get(ruleId)?.enabled ?? false
  }

  skip(ruleId: string, why: string): void {
    if (this.ended) return
    const check = this.#check
    if (!check.rules.includes(ruleId)) throw new Error(`check "${check.id}" skipped undeclared rule "${ruleId}"`)
    if (!this.#shared.rules.get(ruleId)?.enabled) return
    const key = `${ruleId}\0${why}`
    if ((this.#skips ??= new Set()).has(key)) return
    this.#skips.add(key)
    this.#shared.addSkip({ check: check.id, family: check.family, target: this.#target.id, rule: ruleId, why: this.#shared.redact(`${ruleId}: ${why}`) })
  }

  report(ruleId: string, status: 'pass' | 'fail', at: ReportAt): void {
    if (this.ended) return
    const check = this.#check
    if (!check.rules.includes(ruleId)) throw new Error(`check "${check.id}" reported undeclared rule "${ruleId}"`)
    const s = this.#shared
    const rule = s.rules.get(ruleId)!
    if (!rule.enabled) return
    const target = this.#target.id
    if (status === 'pass' && s.countPass(ruleId, target, at.asset !== undefined && at.asset !== target ? at.asset : undefined)) return
    const evidence = at.evidence ?? {}
    s.addFinding({
      ruleId,
      status,
      severity: rule.severity,
      pillar: rule.pillar,
      family: check.family,
      target,
      resource: at.resource,
      message: s.redact((typeof at.message === 'function' ? at.message() : at.message) ?? s.render(rule.message, target, at.resource, evidence)),
      evidence: s.redact.deep(evidence) as Record<string, unknown>,
      fingerprint: s.fingerprint(ruleId, target, at.resource),
      ...(at.asset !== undefined && at.asset !== target ? { asset: at.asset } : {}),
    })
  }

  progress(done: number, total: number, label: string): void {
    if (this.ended) return
    // At most 10 a second (a port scan calls this for every port), and always the step's last one.
    const now = Date.now()
    if (done < total && now - this.#progressAt < 100) return
    this.#progressAt = now
    this.#shared.progress(this.#check, this.#target, done, total, label)
  }

  withhold(scheme: string, as: TargetScheme): boolean {
    return this.ended || this.#shared.withhold(this.#target, this.#check, scheme, as)
  }

  emit(t: Target | string, extra?: Readonly<Record<string, unknown>>): void {
    if (this.ended) return
    try {
      this.#shared.addTarget(t, this.#target, this.#check, extra)
    } catch (err) {
      this.#shared.log.warn(this.#shared.redact(`${this.#check.id}: ignored chained target: ${(err as Error).message}`))
    }
  }
}
