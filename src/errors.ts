/**
 * @fileoverview Errors thrown to the caller when an input is wrong (a rule, a policy, a target, an option).
 * A target that misbehaves during a scan is never a thrown error: it becomes an `AttemptError` in the report.
 */

export type ZtscanErrorCode =
  | 'ERR_RULE_FILE_INVALID'
  | 'ERR_POLICY_INVALID'
  | 'ERR_TARGET_INVALID'
  | 'ERR_OPTIONS_INVALID'
  | 'ERR_INPUT_INVALID'
  | 'ERR_USAGE'

/** Base class of every error ztscan throws; `code` is stable, switch on it. */
export class ZtscanError extends Error {
  readonly code: ZtscanErrorCode
  constructor(code: ZtscanErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
}

/** One problem in a file: where it is and what was expected. */
export interface FieldProblem {
  readonly pointer: string
  readonly expected: string
  readonly actual?: unknown
}

function show(v: unknown): string {
  if (v === undefined) return ''
  let s: string
  try {
    s = JSON.stringify(v) ?? String(v)
  } catch {
    s = String(v)
  }
  return ` (got ${s.length > 80 ? s.slice(0, 77) + '...' : s})`
}

/** Formats `<file>: <pointer>: expected <what> (got <value>)` lines. */
export function formatProblems(file: string, problems: readonly FieldProblem[]): string {
  return problems.map((p) => `${file}: ${p.pointer || '/'}: expected ${p.expected}${show(p.actual)}`).join('\n')
}

/** Base for errors that point into a file. */
export class FileFieldError extends ZtscanError {
  readonly file: string
  readonly problems: readonly FieldProblem[]
  /** JSON pointer of the first problem. */
  readonly pointer: string
  constructor(code: ZtscanErrorCode, file: string, problems: readonly FieldProblem[]) {
    super(code, formatProblems(file, problems))
    this.file = file
    this.problems = problems
    this.pointer = problems[0]?.pointer ?? ''
  }
}

/** A rule file does not fit `rules/schema.json` or its id does not match its file name. */
export class RuleFileError extends FileFieldError {
  constructor(file: string, problems: readonly FieldProblem[]) {
    super('ERR_RULE_FILE_INVALID', file, problems)
  }
}

/** A policy file is malformed or names unknown rules or parameters. */
export class PolicyError extends FileFieldError {
  constructor(file: string, problems: readonly FieldProblem[]) {
    super('ERR_POLICY_INVALID', file, problems)
  }
}

/** A target cannot be understood. */
export class TargetError extends ZtscanError {
  readonly target: string
  constructor(target: string, message: string) {
    super('ERR_TARGET_INVALID', `${target}: ${message}`)
    this.target = target
  }
}

/** An option passed to the library or CLI is wrong. */
export class OptionsError extends ZtscanError {
  readonly option: string
  constructor(option: string, message: string) {
    super('ERR_OPTIONS_INVALID', `${option}: ${message}`)
    this.option = option
  }
}

/**
 * A count option (`name` names it): `dflt` when absent, else an integer from 1 up; anything else (NaN, Infinity, 0, -1, 1.5,
 * not a number) is an `OptionsError` — a NaN budget would compare false with everything and silently turn it off.
 */
export function positiveInt(name: string, v: number | undefined, dflt: number): number {
  if (v === undefined) return dflt
  if (!Number.isInteger(v) || v < 1) throw new OptionsError(name, `expected an integer from 1 and up (got ${String(v)})`)
  return v
}

/** An input file (export, nmap XML, certificate) cannot be read as what it claims to be. */
export class InputError extends ZtscanError {
  readonly file: string
  constructor(file: string, message: string, options?: ErrorOptions) {
    super('ERR_INPUT_INVALID', `${file}: ${message}`, options)
    this.file = file
  }
}

/** A wrong command line (an unknown flag value, a missing argument): the CLI exits 2 with the message. */
export class UsageError extends ZtscanError {
  constructor(message: string) {
    super('ERR_USAGE', message)
  }
}

/** Thrown inside a check to end its attempt with a given reason (the engine turns it into an `AttemptError`). */
export class AttemptFailure extends Error {
  readonly reason: import('./types.ts').ErrorReason
  /** The system or library error code behind it (`ECONNREFUSED`, `ERR_SSL_WRONG_VERSION_NUMBER`), when there was one. */
  readonly code?: string
  constructor(reason: import('./types.ts').ErrorReason, message: string, options?: ErrorOptions & { readonly code?: string }) {
    super(message, options)
    this.name = 'AttemptFailure'
    this.reason = reason
    if (options?.code) this.code = options.code
  }
}
