/**
 * @fileoverview Configuration in layers for the CLI: flags > `ZTSCAN_*` environment variables > a config file >
 * defaults. The config file holds every scan flag under its long name (`fail-on: high`, `output: [a.sarif, a.json]`)
 * plus `targets` (the target list itself), `settings` and `policy` (a path or the policy inline); one ajv schema,
 * generated from the flags, validates it, so a flag added to `ztscan scan` is a config key and a variable at once.
 */
import { existsSync, statSync } from 'node:fs'
import { dirname, isAbsolute, join, resolve } from 'node:path'
import { FileFieldError, UsageError, type FieldProblem } from '../errors.ts'
import { readConfigFile } from '../lib-files.ts'
import { toProblems, validatorFor } from '../lib-ajv.ts'
import { closest, didYouMean } from '../lib-suggest.ts'

/** A flag as `parseArgs` declares it. */
export interface FlagSpec {
  readonly type: 'string' | 'boolean'
  readonly multiple?: boolean
  readonly short?: string
  /** The value names a file (`FILE`) or is `PROVIDER:FILE`: a relative path in a config file is relative to the file. */
  readonly path?: 'file' | 'provider-file'
}

/** Config file names looked for, in this order, in each directory from the working directory up to the repository root. */
export const CONFIG_NAMES = ['ztscan.config.yaml', 'ztscan.config.yml', 'ztscan.config.json', '.ztscan.yaml'] as const

/**
 * Flag values that name a file to read: relative paths in a config file are relative to the file. The families' flags
 * say so themselves (`FlagSpec.path`, from their `FILE` placeholders).
 */
const PATH_FLAGS = new Set(['targets-file', 'policy', 'baseline', 'suppressions', 'history', 'output', 'plugin'])
/** Keys of the file that are not flags. */
const EXTRA_KEYS = ['targets', 'settings', 'policy'] as const
/** Flags that make no sense in a file or the environment (they print and exit). */
const NOT_LAYERED = new Set(['help', 'version', 'config'])

/** The environment variable of a flag: `--fail-on` → `ZTSCAN_FAIL_ON`. */
export function envName(flag: string): string {
  return `ZTSCAN_${flag.toUpperCase().replace(/-/g, '_')}`
}

/** Config key of a flag: the flag's long name, except `--targets FILE`, which is `targets-file` (`targets` is the list). */
export function configKey(flag: string): string {
  return flag === 'targets' ? 'targets-file' : flag
}

/** The JSON Schema of the config file for these flags. */
export function configSchema(flags: Readonly<Record<string, FlagSpec>>): Record<string, unknown> {
  const properties: Record<string, unknown> = {}
  for (const [name, f] of Object.entries(flags)) {
    if (NOT_LAYERED.has(name)) continue
    const one = f.type === 'boolean' ? { type: 'boolean' } : { type: ['string', 'number'] }
    properties[configKey(name)] = f.multiple ? { anyOf: [one, { type: 'array', items: one, maxItems: 10_000 }] } : one
  }
  properties.targets = { type: 'array', maxItems: 1_000_000, items: { anyOf: [{ type: 'string' }, { type: 'object', required: ['kind', 'id'] }] } }
  properties.settings = { type: 'object' }
  properties.policy = { anyOf: [{ type: 'string' }, { type: 'object' }] }
  return { $schema: 'http://json-schema.org/draft-07/schema#', title: 'ztscan configuration', type: 'object', additionalProperties: false, properties }
}

/** The config file for `cwd`: from `cwd` up to the directory holding `.git` (or the filesystem root). */
export function findConfigFile(cwd: string): string | undefined {
  for (let dir = resolve(cwd); ; ) {
    for (const name of CONFIG_NAMES) {
      const p = join(dir, name)
      if (existsSync(p) && statSync(p).isFile()) return p
    }
    const up = dirname(dir)
    if (existsSync(join(dir, '.git')) || up === dir) return undefined
    dir = up
  }
}

/** The outcome: values shaped like parseArgs' (flag name → value), and where each came from. */
export interface Layered {
  readonly values: Record<string, unknown>
  /** Targets from the config file, used when neither arguments nor target flags name any. */
  readonly targets?: readonly unknown[]
  /** `settings` of the config file (targets files and flags override them). */
  readonly settings?: Record<string, unknown>
  /** An inline policy from the config file (a string `policy` is a path, in `values.policy`). */
  readonly policy?: Record<string, unknown>
  /** The config file used, if any. */
  readonly file?: string
  /** Flag (or `targets`, `settings`, `policy`) → `--flag`, `ZTSCAN_X`, `FILE: /key`. */
  readonly sources: ReadonlyMap<string, string>
}

/**
 * Switches that contradict each other: a layer that sets one drops the other from the layers below it (`--chain` on the
 * command line wins over `no-chain: true` in the file); both in one layer stay an error (`give one of them`).
 */
const OPPOSITE: Readonly<Record<string, string>> = { chain: 'no-chain', 'no-chain': 'chain' }

const TRUE = /^(1|true|yes|on)$/i
const FALSE = /^(0|false|no|off)?$/i

function fromEnv(name: string, f: FlagSpec, raw: string): unknown {
  if (f.type === 'boolean') {
    if (TRUE.test(raw.trim())) return true
    if (FALSE.test(raw.trim())) return false
    throw new UsageError(`${envName(name)}: expected 1, true, yes, on or 0, false, no, off (got "${raw}")`)
  }
  return f.multiple ? raw.split(',').map((s) => s.trim()).filter(Boolean) : raw
}

function relativeTo(base: string, name: string, v: string, providerFile = false): string {
  if (providerFile) {
    const i = v.indexOf(':')
    return i > 0 ? `${v.slice(0, i)}:${relativeTo(base, 'x-path', v.slice(i + 1))}` : v
  }
  // `-` is stdout; a plugin given as a package name (no ./ or /) is resolved by Node, not as a path.
  if (v === '-' || isAbsolute(v) || (name === 'plugin' && !/^\.\.?[\\/]/.test(v))) return v
  return resolve(base, v)
}

/**
 * Merges the layers. `given` holds what parseArgs read from the command line; a flag set there wins, then its
 * `ZTSCAN_*` variable, then the config file (`--config FILE`, `ZTSCAN_CONFIG`, or the nearest file named in
 * `CONFIG_NAMES`). Lists are replaced, not appended, by a higher layer.
 */
export async function resolveLayers(o: {
  readonly flags: Readonly<Record<string, FlagSpec>>
  readonly given: Readonly<Record<string, unknown>>
  readonly env: Readonly<Record<string, string | undefined>>
  readonly cwd: string
  readonly configFlag?: string
  readonly warn?: (m: string) => void
}): Promise<Layered> {
  const values: Record<string, unknown> = {}
  const sources = new Map<string, string>()
  const layered = Object.entries(o.flags).filter(([n]) => !NOT_LAYERED.has(n))
  // The layer each value came from (0 file, 1 environment, 2 command line), so a higher one can drop a lower opposite.
  const layerOf = new Map<string, number>()
  const set = (name: string, v: unknown, source: string, layer: number): void => {
    const opposite = OPPOSITE[name]
    if (opposite !== undefined && v === true && (layerOf.get(opposite) ?? layer) < layer) {
      delete values[opposite]
      sources.delete(opposite)
      layerOf.delete(opposite)
    }
    values[name] = v
    sources.set(name, source)
    layerOf.set(name, layer)
  }

  // The config file.
  const explicit = o.configFlag ?? (o.env.ZTSCAN_CONFIG || undefined)
  const file = explicit !== undefined ? resolve(o.cwd, explicit) : findConfigFile(o.cwd)
  let data: Record<string, unknown> = {}
  if (file !== undefined) {
    const shown = explicit ?? file
    const fail = (expected: string): Error => new FileFieldError('ERR_INPUT_INVALID', shown, [{ pointer: '', expected }])
    const parsed = (await readConfigFile(file, fail)) ?? {}
    const schema = configSchema(o.flags)
    const validate = validatorFor(schema)
    if (!validate(parsed)) {
      const keys = Object.keys(schema.properties as object)
      const problems: FieldProblem[] = toProblems(validate.errors, parsed).map((p) =>
        p.expected.startsWith('no such property') ? { ...p, expected: `a ztscan setting${didYouMean(p.pointer.slice(1), keys)} (ztscan help scan lists the flags; the file takes their long names)` } : p,
      )
      throw new FileFieldError('ERR_INPUT_INVALID', shown, problems)
    }
    data = parsed as Record<string, unknown>
    const base = dirname(file)
    for (const [name, f] of layered) {
      const key = configKey(name)
      if (!Object.hasOwn(data, key)) continue
      let v = data[key]
      if (key === 'policy' && typeof v === 'object') continue // inline: `policy` below
      if (f.type === 'string') v = f.multiple ? [v].flat().map(String) : String(v)
      if (PATH_FLAGS.has(key) || f.path) {
        const pf = f.path === 'provider-file'
        v = Array.isArray(v) ? v.map((x: string) => relativeTo(base, key, x, pf)) : relativeTo(base, key, v as string, pf)
      }
      set(name, v, `${shown}: /${key}`, 0)
    }
    for (const k of EXTRA_KEYS) if (Object.hasOwn(data, k) && !(k === 'policy' && typeof data[k] === 'string')) sources.set(k, `${shown}: /${k}`)
  }

  // The environment.
  const envNames = new Map(layered.map(([n]) => [envName(n), n]))
  for (const [k, raw] of Object.entries(o.env)) {
    if (!k.startsWith('ZTSCAN_') || raw === undefined || k === 'ZTSCAN_CONFIG') continue
    const name = envNames.get(k)
    if (name === undefined) {
      const near = closest(k, envNames.keys())
      if (near) o.warn?.(`ignoring ${k}: not a ztscan variable; did you mean ${near}?`)
      continue
    }
    set(name, fromEnv(name, o.flags[name]!, raw), k, 1)
  }

  // The command line.
  for (const [name] of layered) {
    if (o.given[name] === undefined) continue
    set(name, o.given[name], `--${name}`, 2)
  }
  for (const n of NOT_LAYERED) if (o.given[n] !== undefined) values[n] = o.given[n]

  const policy = data.policy
  return {
    values,
    sources,
    ...(file !== undefined ? { file } : {}),
    ...(Array.isArray(data.targets) ? { targets: data.targets } : {}),
    ...(data.settings ? { settings: data.settings as Record<string, unknown> } : {}),
    ...(policy && typeof policy === 'object' ? { policy: policy as Record<string, unknown> } : {}),
  }
}
