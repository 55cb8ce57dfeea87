/**
 * @fileoverview Argument parsing shared by every command: `node:util` parseArgs plus `--help`/`-h` and `--version`/`-V`
 * on every command, and errors a user can act on (the command, the flag, the nearest known flag).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { UsageError } from '../errors.ts'
import { didYouMean } from '../lib-suggest.ts'

type Options = NonNullable<ParseArgsConfig['options']>

/** Options every command takes. */
export const COMMON_FLAGS = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
} as const

/** Flags someone coming from another tool types, and what ztscan calls them. */
const FLAG_HINTS: Readonly<Record<string, string>> = {
  '-v': '-V (--version)',
  '--out': '--output',
  '--severity-threshold': '--fail-on',
  '--exit-code': '--fail-on',
  '--sarif': '-o FILE.sarif',
  '--json': '-o FILE.json or --format json',
  '--no-color': 'NO_COLOR=1',
}

/** The long and short forms a command knows, for suggestions. */
function known(options: Options): string[] {
  return Object.entries(options).flatMap(([name, o]) => [`--${name}`, ...(o.short ? [`-${o.short}`] : [])])
}

/** What parseCommand returns: parseArgs' result for the command's options plus the common ones. */
export type Parsed<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: O & typeof COMMON_FLAGS; allowPositionals: boolean; strict: true }>>

/** parseArgs for `ztscan CMD`, with `--help` and `--version` added and its errors rewritten as UsageErrors. */
export function parseCommand<O extends Options>(cmd: string, args: string[], options: O, allowPositionals: boolean): Parsed<O> {
  const all = { ...options, ...COMMON_FLAGS }
  try {
    return parseArgs({ args, options: all, allowPositionals, strict: true })
  } catch (err) {
    const code = (err as { code?: string }).code
    const msg = (err as Error).message
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const flag = /Unknown option '([^']*)'/.exec(msg)?.[1] ?? msg
      const bare = flag.replace(/=.*$/s, '')
      const hint = FLAG_HINTS[bare] === undefined ? didYouMean(bare, known(all), (s) => s) : `; did you mean ${FLAG_HINTS[bare]}?`
      throw new UsageError(`${cmd}: unknown option ${bare}${hint} (ztscan help ${cmd} lists them)`)
    }
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const m = /Option '(?:-\w, )?(--[\w-]+)(?: <value>)?' argument missing/.exec(msg)
      if (m) throw new UsageError(`${cmd}: ${m[1]} needs a value`)
      const b = /Option '(?:-\w, )?(--[\w-]+)' does not take an argument/.exec(msg)
      if (b) throw new UsageError(`${cmd}: ${b[1]} is a switch and takes no value`)
    }
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      const arg = /Unexpected argument '([^']*)'/.exec(msg)?.[1]
      throw new UsageError(`${cmd}: takes no positional arguments${arg === undefined ? '' : ` (got "${arg}")`}`)
    }
    throw new UsageError(`${cmd}: ${msg}`)
  }
}

/** A closed set of values (severities, formats), matched case-insensitively; unknown → exit 2 with a suggestion. */
export function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  const v = value.trim().toLowerCase()
  const hit = allowed.find((a) => a.toLowerCase() === v)
  if (hit === undefined) throw new UsageError(`${flag}: expected one of ${allowed.join(', ')} (got "${value}")${didYouMean(v, allowed)}`)
  return hit
}

/** A whole number from 1 up to 2^53 - 1 given to `name`, or undefined when not given; otherwise exit 2 naming the flag. */
export function parseIntFlag(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new UsageError(`${name}: expected an integer from 1 and up (got "${v}")`)
  // Past 2^53 a number is no longer the one written (99999999999999999 reads as 100000000000000000).
  if (!Number.isSafeInteger(Number(v))) throw new UsageError(`${name}: expected an integer from 1 to ${Number.MAX_SAFE_INTEGER} (got "${v}")`)
  return Number(v)
}
