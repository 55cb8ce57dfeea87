/**
 * @fileoverview Fail closed before the first probe: every input a scan names — target files, settings files (keys,
 * known_hosts, CA bundles, catalogues), policy values, policy families — is checked up front, so a typo is exit 2 naming
 * the file and field instead of one `input` error per target and a green gate. `scan()` runs this before planning any
 * attempt; library users can call `preflight()` on its own. Family-specific checks of settings and rule parameters live
 * with the families' code (`checks/preflight.ts`); this module holds the generic part and the file test they share.
 */
import { didYouMean } from '../lib-suggest.ts'
import { constants } from 'node:fs'
import { access, stat } from 'node:fs/promises'
import type { CheckDefinition } from './check.ts'
import { FileError, openRegularFile } from '../lib-files.ts'
import { InputError, OptionsError, PolicyError, ZtscanError, type FieldProblem } from '../errors.ts'
import type { Policy } from '../rules/policy.ts'
import type { EffectiveRule, Target } from '../types.ts'

/** What a preflight check sees: the scan's inputs, already parsed. */
export interface PreflightInput {
  /** The targets given to the scan, normalised (not the chained ones, which the scan finds later). */
  readonly targets: readonly Target[]
  readonly settings: Readonly<Record<string, unknown>>
  readonly policy?: Policy
  /** The rules in force (policy applied). */
  readonly rules: ReadonlyMap<string, EffectiveRule>
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- checks declare different rule-id unions
  readonly checks: readonly CheckDefinition<any>[]
}

/** A check of some inputs: returns the problems found (errors that name the file and field), never throws them. */
export type InputCheck = (input: PreflightInput) => Promise<readonly ZtscanError[]>

/** Several input problems at once: `problems` holds each (each names its file and field); the message lists them all. */
export class PreflightError extends ZtscanError {
  readonly problems: readonly ZtscanError[]
  constructor(problems: readonly ZtscanError[]) {
    super(problems[0]?.code ?? 'ERR_INPUT_INVALID', problems.map((p) => p.message).join('\n'))
    this.problems = problems
  }
}

/**
 * Why `path` cannot be read as an input file, or undefined when it can: it must exist, be a regular file (devices, FIFOs,
 * sockets and directories would block or never end) and be readable. A FIFO is opened non-blocking and never read.
 */
export async function inputFileProblem(path: string): Promise<string | undefined> {
  try {
    await (await openRegularFile(path)).close()
    return undefined
  } catch (err) {
    if (err instanceof FileError) return err.message
    throw err
  }
}

function describeNonFile(s: import('node:fs').Stats): string {
  if (s.isDirectory()) return 'a directory'
  if (s.isFIFO()) return 'a FIFO'
  if (s.isCharacterDevice() || s.isBlockDevice()) return 'a device'
  if (s.isSocket()) return 'a socket'
  return 'not a regular file'
}

/** Where an output goes: `-` (stdout) or a file path. */
export async function outputProblem(path: string): Promise<string | undefined> {
  if (path === '-') return undefined
  const { dirname, resolve } = await import('node:path')
  const full = resolve(path)
  try {
    const s = await stat(full)
    if (!s.isFile() && !s.isFIFO() && !s.isCharacterDevice()) return `cannot write: ${describeNonFile(s)}`
    await access(full, constants.W_OK)
    return undefined
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code !== 'ENOENT') return `cannot write (${code ?? (err as Error).message})`
  }
  const dir = dirname(full)
  try {
    const d = await stat(dir)
    if (!d.isDirectory()) return `cannot write: ${dir} is not a directory`
    await access(dir, constants.W_OK | constants.X_OK)
    return undefined
  } catch (err) {
    return `cannot write into ${dir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`
  }
}

/** The generic checks: target files (any target with a `path`) and the families a policy names. */
export const genericInputChecks: readonly InputCheck[] = [
  async ({ targets }) => {
    const out: ZtscanError[] = []
    await Promise.all(
      targets.map(async (t) => {
        // `path`, or the `path` of each entry of `inventories` (coverage across inventory exports).
        const paths = typeof t.path === 'string' ? [t.path] : Array.isArray(t.inventories) ? t.inventories.map((x: { path?: unknown }) => x?.path).filter((p): p is string => typeof p === 'string') : []
        for (const path of paths) {
          const problem = await inputFileProblem(path)
          if (problem) out.push(new InputError(path, problem))
        }
      }),
    )
    return out
  },
  async ({ policy, checks }) => {
    if (!policy?.families) return []
    const known = [...new Set(checks.map((c) => c.family))].sort()
    const problems: FieldProblem[] = Object.keys(policy.families)
      .filter((f) => !known.includes(f))
      .map((f) => ({ pointer: `/families/${f}`, expected: `a known check family (${known.join(', ')})${didYouMean(f, known)}` }))
    return problems.length ? [new PolicyError(policy.source, problems)] : []
  },
]

/**
 * Runs the generic input checks and `extra` ones, and throws when any problem is found: the one problem itself, or a
 * `PreflightError` listing all. `scan()` and `preflight()` call it with the built-in families' checks.
 * @example
 * await runPreflight({ targets: [normalizeTarget('cert:nope.pem')], settings: {}, rules, checks: builtinChecks })
 * // throws InputError: "/abs/nope.pem: cannot read (ENOENT)"
 */
export async function runPreflight(input: PreflightInput, extra: readonly InputCheck[] = []): Promise<void> {
  const problems: ZtscanError[] = []
  for (const check of [...genericInputChecks, ...extra]) {
    try {
      problems.push(...(await check(input)))
    } catch (err) {
      if (err instanceof ZtscanError) problems.push(err)
      else problems.push(new OptionsError('preflight', (err as Error).message))
    }
  }
  if (problems.length === 1) throw problems[0]!
  if (problems.length) throw new PreflightError(problems)
}
