#!/usr/bin/env node
/**
 * @fileoverview The thin CLI: argv -> public API -> files/stdout -> exit code. No check or format logic lives here.
 */
import { parseArgs } from 'node:util'
import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { appendFile } from 'node:fs/promises'
import type * as Lib from '../index.ts'
import type { Family, Registry, ScanReport, Severity, Target, Policy, RuleMeta } from '../index.ts'
import { catalogueWith } from '../rules/load.ts'
import { loadPlugins, loadTargetsFile } from '../plugins.ts'
import { effectiveRules, loadPolicy, parsePolicy, selectRules } from '../rules/policy.ts'
import { VERSION } from '../version.ts'
import { OptionsError, ZtscanError } from '../errors.ts'
import { PreflightError } from '../engine/preflight.ts'
import { verdict } from '../engine/verdict.ts'
import { FORMAT_NAMES, planOutputsOf } from '../report/format-names.ts'
import { SEVERITIES } from '../types.ts'
import { COMMANDS, EXIT, UsageError, commandHelp, mainHelp, type FamilyHelp } from './help.ts'
import { FAMILY_HELP } from '../generated/family-help.ts'
import type { FamilyFlag } from '../engine/check.ts'
import { oneOf, parseCommand, parseIntFlag } from './args.ts'
import { didYouMean } from '../lib-suggest.ts'
import { escapeControls } from '../report/escape.ts'
import { releaseFindings } from '../engine/spill.ts'
import { PROGRESS_MODES, startProgress, targetVerdicts } from './progress.ts'
import { terminal } from '../lib-term.ts'
import { resolveLayers, type FlagSpec, type Layered } from '../config/layers.ts'
import { showConfig } from '../config/show.ts'
import { outputProblem } from '../engine/preflight.ts'

/** Timers longer than this fire at once in Node (2^31 - 1 ms; the library's MAX_TIMER_MS). */
const MAX_TIMER_MS = 2 ** 31 - 1

let lib: typeof Lib | undefined
/** The library with the families, loaded by the commands that need it: `rules` and `--help` start without it. */
async function library(): Promise<typeof Lib> {
  return (lib ??= await import('../index.ts'))
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** A duration flag: a bare number is seconds; units ms, s, m, h; from 1 ms to the timer maximum (2^31 - 1 ms). */
export function parseDuration(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined
  const m = /^(\d{1,12}(?:\.\d{1,6})?)(ms|s|m|h)?$/.exec(v.trim())
  if (!m) throw new UsageError(`${name}: expected a duration: seconds (30) or a number with a unit: 500ms, 5s, 2m, 1h (got "${v}")`)
  const n = Number(m[1]) * UNIT_MS[m[2] ?? 's']!
  if (n < 1) throw new UsageError(`${name}: must be at least 1ms (got "${v}")`)
  if (n > MAX_TIMER_MS) throw new UsageError(`${name}: at most ${MAX_TIMER_MS}ms (about 24.8 days, the longest timer Node supports; got "${v}")`)
  return Math.round(n)
}


const scanFlags = {
  targets: { type: 'string', short: 't', multiple: true },
  format: { type: 'string', short: 'f', multiple: true },
  output: { type: 'string', short: 'o', multiple: true },
  'fail-on': { type: 'string' },
  concurrency: { type: 'string' },
  'per-host': { type: 'string' },
  timeout: { type: 'string' },
  'connect-timeout': { type: 'string' },
  policy: { type: 'string', short: 'p' },
  severity: { type: 'string', multiple: true },
  only: { type: 'string', multiple: true },
  skip: { type: 'string', multiple: true },
  quiet: { type: 'boolean', short: 'q' },
  category: { type: 'string' },
  'sarif-max-results': { type: 'string' },
  'include-passed': { type: 'boolean' },
  shard: { type: 'string' },
  chain: { type: 'boolean' },
  'no-chain': { type: 'boolean' },
  plugin: { type: 'string', multiple: true },
  baseline: { type: 'string' },
  'fail-on-new': { type: 'boolean' },
  suppressions: { type: 'string' },
  progress: { type: 'string' },
  'progress-interval': { type: 'string' },
  verbose: { type: 'boolean' },
  debug: { type: 'boolean' },
  'max-errors': { type: 'string' },
  'gitlab-schema-version': { type: 'string' },
  history: { type: 'string' },
} as const

/** `--config FILE` (`ztscan scan`, `demo` and `config`). */
const CONFIG_FLAG = { config: { type: 'string', short: 'c' } } as const

/** Where each scan flag's value came from, for error messages (`--fail-on: …` → `ztscan.config.yaml: /fail-on: …`). */
let flagSources: ReadonlyMap<string, string> = new Map()

/** The layers for parsed scan flags: flags > ZTSCAN_* > config file; remembers the sources for error messages. */
async function layersOf(given: Record<string, unknown>, flags: Readonly<Record<string, FlagSpec>> = scanFlags): Promise<Layered> {
  const layers = await resolveLayers({
    flags,
    given,
    env: process.env,
    cwd: process.cwd(),
    configFlag: given.config as string | undefined,
    warn: (m) => process.stderr.write(`ztscan: warning: ${escapeControls(m)}\n`),
  })
  flagSources = layers.sources
  return layers
}

/** A message about `--flag` whose value came from a variable or the config file names that instead. */
function bySource(message: string): string {
  return message.replace(/^--([a-z][\w-]*): /, (m, flag: string) => {
    const s = flagSources.get(flag)
    return s && !s.startsWith('--') ? `${s}: ` : m
  })
}

/** `ztscan config`: the effective configuration of a scan with these flags, and where each value came from. */
async function cmdConfig(argv: string[]): Promise<number> {
  const { registryOf } = await import('../targets/registry.ts')
  const families = await familiesOf(await pluginsOf(argv))
  const flags = { ...scanFlags, ...familyFlagOptions(registryOf(families)), ...CONFIG_FLAG }
  const parsed = parseCommand('config', argv, flags, false)
  if (helpOrVersion('config', parsed.values, families)) return EXIT.ok
  process.stdout.write(showConfig(await layersOf(parsed.values, flags)))
  return EXIT.ok
}

/** `--help` and `--version` of a command: prints and says so. */
function helpOrVersion(cmd: string, v: { help?: boolean; version?: boolean }, families?: readonly FamilyHelp[]): boolean {
  if (v.help) process.stdout.write(commandHelp(cmd, families && { families, formats: FORMAT_NAMES })!)
  else if (v.version) process.stdout.write(`${VERSION}\n`)
  return !!(v.help || v.version)
}

/** Where each setting came from (`ssh.privateKeyPath` → `--ssh-key` or `targets.yaml: /settings/ssh/privateKeyPath`). */
type Origins = Map<string, string>

function recordOrigins(origins: Origins, value: unknown, file: string, path: string[] = []): void {
  if (path.length) origins.set(path.join('.'), `${file}: /settings/${path.join('/')}`)
  if (value && typeof value === 'object' && !Array.isArray(value) && path.length < 6)
    for (const [k, v] of Object.entries(value)) recordOrigins(origins, v, file, [...path, k])
}

/** An error's message, with a setting named as the user wrote it: the flag, or the targets file and pointer. */
function describe(err: Error, origins: Origins): string {
  if (err instanceof PreflightError) return oneLinePerField(err.problems.map((p) => describe(p, origins))).join('\n')
  if (err instanceof OptionsError && err.option.startsWith('settings.')) {
    const key = err.option.slice('settings.'.length).replace(/\[(\d+)\]/g, '.$1')
    const where = origins.get(key) ?? origins.get(key.replace(/\.\d+$/, ''))
    if (where) return suggestValue(`${where}: ${err.message.slice(err.option.length + 2)}`)
  }
  return err.message
}

/** `…: expected one of a, b, c (got "x")` (a family flag's value) gets the nearest allowed value suggested, as scan's own flags do. */
function suggestValue(line: string): string {
  const m = /^(.*: expected one of (.+) \(got "([^"]*)"\))$/.exec(line)
  return m ? m[1] + didYouMean(m[3]!, m[2]!.split(', ')) : line
}

/**
 * A value against a schema with alternatives (`--aia`: true/false or on/off) fails every branch: of one field's lines,
 * the one listing the allowed values is kept, not "expected a value of type boolean" and "must match a schema in anyOf".
 */
function oneLinePerField(lines: readonly string[]): string[] {
  const field = (l: string): string | undefined => /^(.*?): expected one of /.exec(l)?.[1]
  const listed = new Set(lines.map(field).filter((f) => f !== undefined))
  return lines.filter((l) => {
    const m = /^(.*?): expected (a value of type \w+|a value that must match a schema in anyOf)\b/.exec(l)
    return !(m && listed.has(m[1]!))
  })
}

/** Loads `--plugin` modules before the full parse, so plugin families add their flags, schemes and help lines. */
async function pluginsOf(argv: string[]): Promise<Awaited<ReturnType<typeof loadPlugins>>> {
  const { values } = parseArgs({ args: argv, options: { plugin: { type: 'string', multiple: true } }, allowPositionals: true, strict: false })
  const specs = (values.plugin ?? []).filter((x): x is string => typeof x === 'string')
  return loadPlugins(specs).catch((err: unknown) => {
    throw new UsageError(`--plugin: ${(err as Error).message}`)
  })
}

/** The families of this run: the built-in ones and the plugins'. */
async function familiesOf(plugins: { families: readonly Family[] }): Promise<readonly Family[]> {
  const builtin = await builtinFamilies()
  return plugins.families.length ? [...builtin, ...plugins.families] : builtin
}

/** `parseArgs` options of the families' flags (a family cannot take a flag of `scan` itself). */
function familyFlagOptions(registry: { readonly flags: ReadonlyMap<string, { readonly family: { readonly name: string }; readonly flag: FamilyFlag }> }): Record<string, FlagSpec> {
  const out: Record<string, FlagSpec> = {}
  for (const [name, { family, flag }] of registry.flags) {
    if (name in scanFlags || name === 'help' || name === 'version') throw new UsageError(`--plugin: family "${family.name}" declares the flag --${name}, which ztscan scan already has`)
    // A FILE placeholder marks a path: relative to the config file when given there.
    const path = flag.arg === 'FILE' ? 'file' : flag.arg?.endsWith(':FILE') ? 'provider-file' : undefined
    out[name] = { type: flag.arg ? 'string' : 'boolean', ...(flag.multiple ? { multiple: true } : {}), ...(path ? { path } : {}) }
  }
  return out
}

/**
 * The one table from family flags to settings and targets: each flag sets its settings pointer (overriding the targets
 * files, and remembered in `origins` so an error names the flag) or adds `SCHEME:VALUE` targets.
 */
function applyFamilyFlags(registry: Registry, values: Record<string, unknown>, settings: Record<string, unknown>, targets: (Target | string)[], origins: Origins): Record<string, unknown> {
  let out = settings
  for (const [name, { flag }] of registry.flags) {
    const value = values[name]
    if (value === undefined || value === false) continue
    if (flag.target) for (const x of [value].flat()) targets.push(`${flag.target}:${String(x)}`)
    else if (flag.setting) {
      const path = flag.setting.split('/').slice(1)
      const set = (obj: Record<string, unknown>, i: number): Record<string, unknown> => {
        const cur = obj[path[i]!]
        return { ...obj, [path[i]!]: i === path.length - 1 ? value : set(cur && typeof cur === 'object' && !Array.isArray(cur) ? (cur as Record<string, unknown>) : {}, i + 1) }
      }
      out = set(out, 0)
      origins.set(path.join('.'), flagSources.get(name) ?? `--${name}`)
    }
  }
  return out
}

async function cmdScan(argv: string[], demo: boolean, origins: Origins): Promise<number> {
  const plugins = await pluginsOf(argv)
  // --help of the built-in families: their help data, written by the build; no family module loads.
  if (FAMILY_HELP && !plugins.families.length && argv.some((a) => a === '--help' || a === '-h')) {
    const table = new Map(FAMILY_HELP.flatMap((family) => (family.flags ?? []).map((flag) => [flag.name, { family, flag }] as const)))
    const parsed = parseCommand(demo ? 'demo' : 'scan', argv, { ...scanFlags, ...familyFlagOptions({ flags: table }), ...CONFIG_FLAG }, !demo)
    if (helpOrVersion(demo ? 'demo' : 'scan', parsed.values, FAMILY_HELP)) return EXIT.ok
  }
  const families = await familiesOf(plugins)
  const registry = (await import('../targets/registry.ts')).registryOf(families)
  const flags = { ...scanFlags, ...familyFlagOptions(registry), ...CONFIG_FLAG }
  const parsed = parseCommand(demo ? 'demo' : 'scan', argv, flags, !demo)
  if (helpOrVersion(demo ? 'demo' : 'scan', parsed.values, families)) return EXIT.ok
  // Past --help: what checks the inputs and runs the scan loads now; the rest of the library (the report writers) loads
  // once nmap probes (the nmap back-end's first step: the work overlaps nmap's, in its own process) or once the scan is
  // over, so the first probe does not wait for it. Not on the connect scan's steps: evaluating ~70 modules on this thread
  // as up to 256 connects start with their timers could make an open port read as filtered. The writers are imported
  // only then: a broken install that cannot load them fails after the probes (exit 3, like any bug), not before.
  const [{ builtinChecks }, { scan, parseErrorBudget }, { defaultTargets, startDemoLab }, { loadBaseline }, { loadSuppressions }, { gitlabSchemaVersion }, { NMAP_STEP_LABEL }] = await Promise.all([
    import('../../checks/index.ts'),
    import('../engine/run.ts'),
    import('../defaults.ts'),
    import('../report/baseline.ts'),
    import('../report/suppress.ts'),
    import('../report/gitlab.ts'),
    import('../../checks/open-port/family.ts'),
  ])
  const prefetch = (): void => void library().catch(() => {}) // a failure is met again where the library is awaited
  const { positionals } = parsed
  const layers = await layersOf(parsed.values, flags)
  const v = layers.values as typeof parsed.values
  const failOn: Severity | 'none' = oneOf('--fail-on', v['fail-on'] ?? 'high', [...SEVERITIES, 'none'])
  const planned = planOutputsOf(FORMAT_NAMES, (v.format ?? []).map((f) => oneOf('--format', f, FORMAT_NAMES.map((x) => x.name))), v.output ?? [])
  const gitlabVersion = gitlabSchemaVersion(v['gitlab-schema-version'])
  // --history DIR: earlier runs are read (and checked) before the first probe; this run is added after the scan.
  const historyFiles = v.history ? await import('./trend.ts') : undefined
  const history = v.history ? await historyFiles!.loadHistory(v.history) : undefined
  const sarifMax = parseIntFlag('--sarif-max-results', v['sarif-max-results'])
  let shard: { index: number; count: number } | undefined
  if (v.shard !== undefined) {
    const m = /^(\d+)\/(\d+)$/.exec(v.shard)
    if (!m) throw new UsageError(`--shard: expected i/n such as 2/8 (got "${v.shard}")`)
    shard = { index: Number(m[1]), count: Number(m[2]) }
  }
  if (v.chain && v['no-chain']) throw new UsageError('--chain and --no-chain: give one of them')
  // The demo's nmap file describes the demo's own loopback lab: it chains unless told not to.
  const chain = v['no-chain'] ? false : v.chain || demo ? true : undefined
  const timeoutMs = parseDuration('--timeout', v.timeout)
  const connectTimeoutMs = parseDuration('--connect-timeout', v['connect-timeout'])
  const concurrency = parseIntFlag('--concurrency', v.concurrency)
  const perHost = parseIntFlag('--per-host', v['per-host'])
  const maxErrors = v['max-errors'] ?? '0'
  parseErrorBudget(maxErrors, '--max-errors')
  // Outputs are checked before anything is scanned: a report that cannot be written must not cost a whole scan.
  for (const o of planned) {
    const problem = await outputProblem(o.file)
    if (problem) throw new UsageError(`-o ${o.file}: ${problem}`)
  }
  const policy: Policy | undefined = v.policy
    ? await loadPolicy(v.policy, catalogueWith(plugins.rules))
    : layers.policy
      ? parsePolicy(layers.policy, `${layers.file}: /policy`, catalogueWith(plugins.rules))
      : undefined

  let targets: (Target | string)[] = [...positionals]
  let settings: Record<string, unknown> = { ...layers.settings }
  if (layers.settings) recordOrigins(origins, layers.settings, layers.file!)
  for (const f of v.targets ?? []) {
    const t = await loadTargetsFile(f)
    targets.push(...t.targets)
    recordOrigins(origins, t.settings, f)
    settings = { ...settings, ...t.settings }
  }
  settings = applyFamilyFlags(registry, v, settings, targets, origins)

  const selected = withSelection(policy, v, catalogueWith(plugins.rules))
  const baseline = v.baseline ? await loadBaseline(v.baseline) : undefined
  if (v['fail-on-new'] && !baseline) throw new UsageError('--fail-on-new needs --baseline FILE')
  const suppressions = v.suppressions ? await loadSuppressions(v.suppressions) : undefined
  const quiet = v.quiet ?? false
  const say = (m: string): void => {
    if (!quiet) process.stderr.write(escapeControls(m, { multiline: true }) + '\n')
  }
  // The config file's targets stand in when the command line names none (arguments, -t or a target flag).
  if (!targets.length && layers.targets) targets.push(...(layers.targets as (Target | string)[]))
  let lab: Awaited<ReturnType<typeof startDemoLab>> | undefined
  let pendingNotice: string | undefined
  if (demo) {
    lab = await startDemoLab(families)
    targets = [...lab.targets]
    settings = { ...lab.settings, ...settings }
    say(`ztscan demo: started a throwaway lab on loopback with ${lab.targets.length} targets (stopped when the scan ends)`)
  } else if (targets.length === 0) {
    targets = await defaultTargets(families)
    // Said once the scan has accepted its inputs: a usage error (exit 2) is then the only message.
    pendingNotice = `ztscan: no targets given; scanning this machine (loopback only): ${targets.map((t) => (typeof t === 'string' ? t : t.id)).join(', ') || 'nothing to scan'}`
  }

  // SIGINT/SIGTERM: stop the scan, write the partial report (marked incomplete), exit 130/143. A second signal kills.
  const ac = new AbortController()
  let signalled: 'SIGINT' | 'SIGTERM' | undefined
  const onSignal = (sig: 'SIGINT' | 'SIGTERM') => (): void => {
    signalled ??= sig
    process.stderr.write(`ztscan: ${sig}: stopping; writing a partial report marked incomplete\n`)
    ac.abort()
  }
  const onInt = onSignal('SIGINT')
  const onTerm = onSignal('SIGTERM')
  process.once('SIGINT', onInt)
  process.once('SIGTERM', onTerm)
  // Progress on stderr: --progress auto|tty|plain|none (quiet: none); notes and warnings clear its line first.
  const progress = startProgress(quiet ? 'none' : oneOf('--progress', v.progress ?? 'auto', PROGRESS_MODES), process.stderr, {
    intervalMs: parseDuration('--progress-interval', v['progress-interval']) ?? 10_000,
  })
  const note = (m: string): void => {
    progress.clear()
    say(m)
  }
  const debug = v.debug ? (m: string): void => note(`debug: ${m}`) : (): void => {}
  const sayPending = (): void => {
    if (pendingNotice === undefined) return
    const m = pendingNotice
    pendingNotice = undefined
    note(m)
  }
  let scanned: ScanReport | undefined
  try {
    let report: ScanReport
    try {
      report = scanned = await scan({
        targets,
        policy: selected,
        settings,
        families,
        checks: plugins.checks.length ? [...builtinChecks, ...plugins.checks] : undefined,
        rules: plugins.rules,
        baseline,
        suppressions,
        shard,
        chain,
        includePassed: v['include-passed'] ?? false,
        signal: ac.signal,
        concurrency,
        perHost,
        timeoutMs,
        connectTimeoutMs,
        maxErrors,
        logger: { debug, info: (m) => note(m), warn: (m) => note(`warning: ${m}`) },
        onEvent: (e) => {
          sayPending()
          progress.onEvent(e)
          if (e.type === 'step' && e.label === NMAP_STEP_LABEL) prefetch()
        },
      })
      sayPending()
    } finally {
      progress.end()
      await lab?.stop()
    }
    if (v.verbose) for (const line of targetVerdicts(report)) say(line)
    const { formatByName, writeOutput, toMarkdown, trendMarkdown, trendOf } = await library()
    const outs = planned.map(({ format, file }) => ({ format: formatByName(format.name), file }))

    const trend = history ? trendOf([...history.reports, report], [...history.files, 'this run']) : undefined
    for (const o of outs) {
      try {
        await writeOutput(report, o, { category: v.category, gitlabSchemaVersion: gitlabVersion, trend, sarifMaxResults: sarifMax, note: (n) => say(`ztscan: ${o.file === '-' ? 'stdout' : o.file}: ${n}`), ...(o.file === '-' ? terminal(process.stdout) : {}) })
      } catch (err) {
        throw new UsageError(`-o ${o.file}: cannot write (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
      }
      if (o.file !== '-') say(`ztscan: wrote ${o.format.name} report to ${o.file}`)
    }
    if (v.history) say(`ztscan: added this run to ${await historyFiles!.saveToHistory(v.history, report)} (${trend!.runs.length} runs in the trend)`)
    for (const w of report.chaining?.withheld ?? [])
      say(`ztscan: ${w.targets.toLocaleString('en-US')} TLS/SSH target(s) found in ${w.from} not probed (${report.chaining!.mode === 'off' ? '--no-chain' : 'offline input; --chain probes them'})`)
    for (const x of report.expiredSuppressions ?? []) say(`warning: suppression for ${x.rule} on ${x.target} expired on ${x.expires}; ${x.matched} finding(s) count again`)
    const summary = process.env.GITHUB_STEP_SUMMARY
    if (summary)
      await appendFile(summary, toMarkdown(report) + (trend ? `\n${trendMarkdown(trend)}` : '')).catch((err: unknown) => {
        // The summary is a courtesy: the verdict stands, one line says why it is missing.
        process.stderr.write(`ztscan: warning: cannot append the summary to GITHUB_STEP_SUMMARY (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})\n`)
      })
    const result = verdict(report, { failOn, newOnly: v['fail-on-new'] ?? false })
    if (!report.complete) process.stderr.write(`ztscan: scan incomplete: ${result.incomplete.map((x) => x.message).join('; ')}\n`)
    if (signalled) return signalled === 'SIGINT' ? EXIT.sigint : EXIT.sigterm
    return result.exitCode
  } finally {
    process.off('SIGINT', onInt)
    process.off('SIGTERM', onTerm)
    // Findings spilled to a temporary file (a large scan): removed once the reports are written, or on an error.
    if (scanned) releaseFindings(scanned)
  }
}


/**
 * `--severity LIST`, `--only NAME…`, `--skip NAME…` (repeatable, comma-separated) added to the policy; they act through
 * `effectiveRules` like the policy's own enabled flags, so a skipped rule is neither reported, scored nor gated.
 */
function withSelection(policy: Policy | undefined, v: { severity?: string[]; only?: string[]; skip?: string[] }, rules: readonly RuleMeta[]): Policy | undefined {
  const list = (xs: string[] | undefined): string[] => (xs ?? []).flatMap((x) => x.split(',')).map((x) => x.trim()).filter(Boolean)
  const severities = list(v.severity).map((s) => oneOf('--severity', s, SEVERITIES))
  const only = list(v.only).map((x) => x.toLowerCase())
  const skip = list(v.skip).map((x) => x.toLowerCase())
  if (!severities.length && !only.length && !skip.length) return policy
  try {
    return selectRules(policy, { severities, only, skip }, rules)
  } catch (err) {
    throw new UsageError(`--${(err as Error).message}`)
  }
}

async function cmdRules(argv: string[]): Promise<number> {
  const { values: v } = parseCommand('rules', argv, { format: { type: 'string', short: 'f' }, policy: { type: 'string', short: 'p' }, severity: scanFlags.severity, only: scanFlags.only, skip: scanFlags.skip, plugin: { type: 'string', multiple: true } }, false)
  if (helpOrVersion('rules', v)) return EXIT.ok
  const format = oneOf('--format', v.format ?? 'table', ['table', 'json'])
  const plugins = await pluginsOf(argv)
  const catalogue = catalogueWith(plugins.rules)
  const policy = withSelection(v.policy ? await loadPolicy(v.policy, catalogue) : undefined, v, catalogue)
  // The same function the scan applies the policy with (families switched off by the policy show as disabled).
  const shown = effectiveRules(catalogue, policy).map(({ values: _values, ...r }) => r)
  if (format === 'json') process.stdout.write(JSON.stringify(shown, null, 2) + '\n')
  else {
    const rows = [['ID', 'SEVERITY', 'PILLAR', 'TITLE'], ...shown.map((r) => [r.id + (r.enabled ? '' : ' (disabled)'), r.severity, r.pillar, r.title])]
    const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
    process.stdout.write(rows.map((r) => r.map((c, i) => c.padEnd(w[i]!)).join('  ').trimEnd()).join('\n') + '\n')
  }
  return EXIT.ok
}

/** What to say for a first word that is no command: a near command, options or a target given without `scan`. */
function unknownCommand(cmd: string): string {
  if (cmd.startsWith('-')) return `options come after a command: ztscan scan ${cmd} … (commands: ${COMMANDS.join(', ')})`
  const near = didYouMean(cmd, COMMANDS)
  if (near) return `unknown command "${cmd}"${near} (commands: ${COMMANDS.join(', ')})`
  if (/[:/]/.test(cmd) || cmd === 'local') return `unknown command "${cmd}"; to scan it: ztscan scan ${cmd}`
  return `unknown command "${cmd}" (commands: ${COMMANDS.join(', ')}; ztscan help)`
}

/** The built-in families (their modules load on first use). */
async function builtinFamilies(): Promise<readonly Family[]> {
  return (await import('../../checks/index.ts')).builtinFamilies
}

/** The built-in families' help data: written by the build, else (source runs) read from the families. */
async function helpFamilies(): Promise<readonly FamilyHelp[]> {
  return FAMILY_HELP ?? (await builtinFamilies())
}

/** Runs the CLI; resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv
  const origins: Origins = new Map()
  try {
    switch (cmd) {
      case 'scan':
        return await cmdScan(rest, false, origins)
      case 'demo':
        return await cmdScan(rest, true, origins)
      case 'config':
        return await cmdConfig(rest)
      case 'rules':
        return await cmdRules(rest)
      case 'merge':
        return await (await import('./merge.ts')).cmdMerge(rest)
      case 'trend':
        return await (await import('./trend.ts')).cmdTrend(rest)
      case '--version':
      case '-V':
        process.stdout.write(`${VERSION}\n`)
        return EXIT.ok
      case undefined:
      case '--help':
      case '-h':
        process.stdout.write(mainHelp(await helpFamilies()))
        return EXIT.ok
      case 'help': {
        const { values: v, positionals } = parseCommand('help', rest, {}, true)
        if (helpOrVersion('help', v)) return EXIT.ok
        const topic = positionals[0]
        if (topic === undefined) process.stdout.write(mainHelp(await helpFamilies()))
        else if (topic === 'scan') process.stdout.write(commandHelp(topic, { families: await helpFamilies(), formats: FORMAT_NAMES })!)
        else if (commandHelp(topic) !== undefined) process.stdout.write(commandHelp(topic)!)
        else throw new UsageError(`help: unknown command "${topic}"${didYouMean(topic, COMMANDS)} (commands: ${COMMANDS.join(', ')})`)
        return EXIT.ok
      }
      default:
        throw new UsageError(unknownCommand(cmd))
    }
  } catch (err) {
    if (err instanceof ZtscanError) {
      process.stderr.write(`ztscan: ${escapeControls(bySource(describe(err, origins)), { multiline: true }).replace(/\n/g, '\nztscan: ')}\n`)
      return EXIT.usage
    }
    process.stderr.write(`ztscan: internal error: ${escapeControls((err as Error).stack ?? String(err), { multiline: true })}\n`)
    return EXIT.internal
  }
}

// Run when executed directly (bin, possibly through a symlink), not when imported by tests.
function invokedDirectly(): boolean {
  try {
    return !!process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)
  } catch {
    return false
  }
}
if (invokedDirectly()) {
  // stdout closed early (`ztscan scan | head`): further writes are dropped; the exit code stays the verdict's.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') process.stderr.write(`ztscan: stdout: ${err.code ?? err.message}\n`)
  })
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code
    },
    (err: unknown) => {
      process.stderr.write(`ztscan: internal error: ${escapeControls(String(err), { multiline: true })}\n`)
      process.exitCode = EXIT.internal
    },
  )
}
