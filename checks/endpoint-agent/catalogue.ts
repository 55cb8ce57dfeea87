/**
 * @fileoverview The agent catalogue: `catalogue.json` validated against `catalogue.schema.json` (ajv) at load, plus an
 * optional operator catalogue (`settings.endpointAgent.catalogue`) whose entries replace built-in ones by id or add new ones.
 */
import type { RE2JS } from 're2js'
import { lazyRequire } from '../../src/lib-lazy.ts'
import { readBounded } from '../../src/lib-files.ts'
import { AttemptFailure, formatProblems, type FieldProblem } from '../../src/errors.ts'
import { toProblems, validatorFor } from '../../src/lib-ajv.ts'
// JSON imports: tsc copies both files into dist/ beside the compiled module.
import catalogueData from './catalogue.json' with { type: 'json' }
import catalogueSchema from './catalogue.schema.json' with { type: 'json' }

/** A read-only command from the catalogue: an absolute binary path and fixed arguments. */
export interface CatalogueCommand {
  readonly argv: readonly string[]
  readonly pattern: string
}
/** A file whose text holds the version. */
export interface CatalogueFileProbe {
  readonly file: string
  readonly pattern: string
}
/** How an agent shows itself on Linux or macOS. */
export interface PosixPlatform {
  readonly processes?: readonly string[]
  /** systemd units (Linux) or launchd labels (macOS). */
  readonly services?: readonly string[]
  readonly paths?: readonly string[]
  readonly version?: readonly (CatalogueCommand | CatalogueFileProbe)[]
  readonly degraded?: readonly CatalogueCommand[]
  /** Commands whose output matching `pattern` means the running agent is not connected to its cloud. */
  readonly disconnected?: readonly CatalogueCommand[]
  /** Commands whose output matching `pattern` means tamper protection is off. */
  readonly tamperOff?: readonly CatalogueCommand[]
  /** Lowest supported version on this platform (a policy `minVersions` entry wins). */
  readonly minimumVersion?: string
}

/** The status command lists of a platform, in the order their patterns are checked and named (`/platforms/OS/LIST/N`). */
export const STATUS_LISTS = ['version', 'degraded', 'disconnected', 'tamperOff'] as const
/** Inventory providers the family reads. */
export type Provider = 'crowdstrike' | 'defender' | 'sentinelone' | 'intune' | 'osquery' | 'jamf'
/** Agent categories a policy can require. */
export type Category = 'edr' | 'antivirus' | 'management' | 'visibility' | 'hids'
/** One catalogue entry. */
export interface AgentSpec {
  readonly id: string
  readonly name: string
  readonly vendor: string
  readonly categories: readonly Category[]
  readonly inventoryProviders?: readonly Provider[]
  readonly platforms: { readonly linux?: PosixPlatform; readonly darwin?: PosixPlatform; readonly windows?: { readonly processes?: readonly string[]; readonly services?: readonly string[]; readonly paths?: readonly string[]; readonly minimumVersion?: string } }
  readonly source: readonly string[]
  readonly notes?: string
}

/** The JSON Schema of agent catalogues (`catalogue.schema.json`). */
export const CATALOGUE_SCHEMA = catalogueSchema as Record<string, unknown>

/**
 * Catalogue patterns run on what a probed host prints, so they run on a linear-time engine (RE2JS: an automaton, no
 * backtracking): a host answering 256 KiB of digits cannot make `([0-9]+\.[0-9]+)` quadratic and stall the scan. RE2 syntax
 * has no backreferences or lookaround; such a pattern is refused when the catalogue is loaded. The compiled program is
 * capped too, which bounds the work per character.
 */
const MAX_PROGRAM_SIZE = 2000
const re2js = lazyRequire<typeof import('re2js')>('re2js')
const compiled = new Map<string, RE2JS>()

/** The linear-time matcher of a catalogue pattern (multi-line: `^`/`$` match at line breaks). Throws on a pattern RE2 refuses. */
export function linearPattern(pattern: string): RE2JS {
  let re = compiled.get(pattern)
  if (!re) {
    re = re2js().RE2JS.compile(pattern, re2js().RE2JS.MULTILINE)
    if (re.programSize() > MAX_PROGRAM_SIZE) throw new Error(`compiled program of ${re.programSize()} instructions, more than ${MAX_PROGRAM_SIZE}`)
    compiled.set(pattern, re)
  }
  return re
}

/** The longest line of probe output a pattern sees; the rest of a longer line is cut (version and health lines are short). */
export const MAX_LINE_CHARS = 4096

/**
 * Probe output as patterns see it: line breaks normalised to `\n` (`\r\n`, `\r`, U+2028/U+2029 end a line for RegExp's
 * `^`/`$` but not for RE2's), every line cut to `MAX_LINE_CHARS`. Linear in the text.
 */
export function boundedLines(text: string): string {
  const lf = text.replace(/\r\n?|[\u2028\u2029]/g, '\n')
  if (lf.length <= MAX_LINE_CHARS) return lf
  return lf.split('\n').map((l) => (l.length > MAX_LINE_CHARS ? l.slice(0, MAX_LINE_CHARS) : l)).join('\n')
}

/**
 * Validates a parsed catalogue; throws `AttemptFailure('input')` listing every problem as `file: /pointer: expected …`.
 * `patterns: false` leaves the patterns to be compiled when first used (the shipped catalogue's: a test compiles them all).
 */
export function validateCatalogue(data: unknown, file: string, { patterns = true }: { readonly patterns?: boolean } = {}): AgentSpec[] {
  const validate = validatorFor(CATALOGUE_SCHEMA)
  const problems: FieldProblem[] = validate(data) ? [] : toProblems(validate.errors, data)
  if (!problems.length) {
    const agents = (data as { agents: AgentSpec[] }).agents
    const checkPattern = patterns ? linearPattern : (): void => {}
    const seen = new Set<string>()
    agents.forEach((a, i) => {
      if (seen.has(a.id)) problems.push({ pointer: `/agents/${i}/id`, expected: 'a unique id', actual: a.id })
      seen.add(a.id)
      for (const os of ['linux', 'darwin'] as const) {
        const p = a.platforms[os]
        for (const list of STATUS_LISTS)
          (p?.[list] ?? []).forEach((c, j) => {
            try {
              checkPattern(c.pattern)
            } catch (err) {
              const why = (err as Error).message.replace(/^error parsing regexp: /, '')
              problems.push({ pointer: `/agents/${i}/platforms/${os}/${list}/${j}/pattern`, expected: `a linear-time regular expression in RE2 syntax (no backreferences or lookaround): ${why}`, actual: c.pattern })
            }
          })
      }
    })
  }
  if (problems.length) throw new AttemptFailure('input', formatProblems(file, problems))
  return (data as { agents: AgentSpec[] }).agents
}

let builtin: readonly AgentSpec[] | undefined

/**
 * The built-in catalogue (validated once). Its patterns are compiled when a probe first uses them, not at every start
 * (the preflight reads this catalogue for every scan: compiling loaded the RE2 engine before the first probe); the test
 * suite compiles every one of them.
 */
export function builtinCatalogue(): readonly AgentSpec[] {
  builtin ??= Object.freeze(validateCatalogue(structuredClone(catalogueData), 'checks/endpoint-agent/catalogue.json', { patterns: false }))
  return builtin
}

/** How a catalogue file is read: `ctx.readFile` in a check; by default the bounded reader (the preflight, before any attempt). */
export type ReadFile = (path: string, maxBytes: number) => Promise<Buffer>

/**
 * Built-in catalogue merged with an operator catalogue file (same schema, read with `read`): entries replace built-ins by
 * id, new ids are added.
 */
export async function loadCatalogue(overridePath: string | undefined, read: ReadFile = readBounded): Promise<readonly AgentSpec[]> {
  const base = builtinCatalogue()
  if (!overridePath) return base
  let data: unknown
  try {
    data = JSON.parse((await read(overridePath, 4 * 1024 * 1024)).toString('utf8'))
  } catch (err) {
    const code = (err as { code?: unknown }).code
    throw new AttemptFailure('input', `${overridePath}: cannot read a JSON catalogue (${typeof code === 'string' ? code : (err as Error).message})`)
  }
  const extra = validateCatalogue(data, overridePath)
  const byId = new Map(base.map((a) => [a.id, a]))
  for (const a of extra) byId.set(a.id, a)
  return [...byId.values()]
}

/** Agents that satisfy a requirement: an agent id, or `category:NAME` (any agent of that category). */
export function agentsFor(requirement: string, catalogue: readonly AgentSpec[]): AgentSpec[] {
  if (requirement.startsWith('category:')) {
    const c = requirement.slice('category:'.length)
    return catalogue.filter((a) => (a.categories as readonly string[]).includes(c))
  }
  return catalogue.filter((a) => a.id === requirement)
}
