#!/usr/bin/env node
/**
 * @fileoverview The thin CLI: argv -> public API -> files/stdout -> exit code. No check or format logic lives here.
 */
import { parseArgs } from 'node:util'
import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { appendFile } from 'node:fs/promises'
import {
  builtinChecks,
  builtinRules,
  gatingFindings,
  loadPlugins,
  loadTargetsFile,
  defaultTargets,
  loadPolicy,
  loadBaseline,
  loadSuppressions,
  planOutputs,
  writeOutput,
  scan,
  startDemoLab,
  toMarkdown,
  VERSION,
  ZtscanError,
  type ScanReport,
  type Severity,
  type Target,
  type Policy,
} from '../index.ts'
import { SEVERITIES } from '../types.ts'
import { EXIT, HELP, UsageError } from './help.ts'
import { escapeControls } from '../report/escape.ts'

function parseDuration(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(v.trim())
  if (!m) throw new UsageError(`${name}: expected a duration such as 5000, 5000ms, 5s or 1m (got "${v}")`)
  const n = Number(m[1]) * (m[2] === 's' ? 1000 : m[2] === 'm' ? 60_000 : 1)
  if (n < 1) throw new UsageError(`${name}: must be at least 1 ms`)
  return Math.round(n)
}

function parseIntFlag(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new UsageError(`${name}: expected an integer from 1 and up (got "${v}")`)
  return Number(v)
}


const scanFlags = {
  targets: { type: 'string', short: 't', multiple: true },
  nmap: { type: 'string', multiple: true },
  idp: { type: 'string', multiple: true },
  inventory: { type: 'string', multiple: true },
  format: { type: 'string', short: 'f', multiple: true },
  output: { type: 'string', short: 'o', multiple: true },
  'fail-on': { type: 'string' },
  concurrency: { type: 'string' },
  'per-host': { type: 'string' },
  timeout: { type: 'string' },
  'connect-timeout': { type: 'string' },
  policy: { type: 'string', short: 'p' },
  quiet: { type: 'boolean', short: 'q' },
  category: { type: 'string' },
  shard: { type: 'string' },
  chain: { type: 'boolean' },
  'no-chain': { type: 'boolean' },
  'ssh-user': { type: 'string' },
  'ssh-key': { type: 'string' },
  'known-hosts': { type: 'string' },
  'host-key': { type: 'string', multiple: true },
  'insecure-accept-unknown-host-keys': { type: 'boolean' },
  'ca-file': { type: 'string' },
  'agent-catalogue': { type: 'string' },
  plugin: { type: 'string', multiple: true },
  baseline: { type: 'string' },
  'fail-on-new': { type: 'boolean' },
  suppressions: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const

async function cmdScan(argv: string[], demo: boolean): Promise<number> {
  const { values: v, positionals } = parseArgs({ args: argv, options: scanFlags, allowPositionals: !demo, strict: true })
  if (v.help) {
    process.stdout.write(HELP)
    return EXIT.ok
  }
  const failOn = (v['fail-on'] ?? 'high') as Severity | 'none'
  if (failOn !== 'none' && !SEVERITIES.includes(failOn)) throw new UsageError(`--fail-on: expected one of ${SEVERITIES.join(', ')}, none (got "${failOn}")`)
  const outs = planOutputs(v.format ?? [], v.output ?? [])
  let shard: { index: number; count: number } | undefined
  if (v.shard !== undefined) {
    const m = /^(\d+)\/(\d+)$/.exec(v.shard)
    if (!m) throw new UsageError(`--shard: expected i/n such as 2/8 (got "${v.shard}")`)
    shard = { index: Number(m[1]), count: Number(m[2]) }
  }
  if (v.chain && v['no-chain']) throw new UsageError('--chain and --no-chain: give one of them')
  // The demo's nmap file describes the demo's own loopback lab: it chains unless told not to.
  const chain = v['no-chain'] ? false : v.chain || demo ? true : undefined
  const policy: Policy | undefined = v.policy ? await loadPolicy(v.policy) : undefined

  let targets: (Target | string)[] = [...positionals]
  let settings: Record<string, unknown> = {}
  for (const f of v.targets ?? []) {
    const t = await loadTargetsFile(f)
    targets.push(...t.targets)
    settings = { ...settings, ...t.settings }
  }
  for (const f of v.nmap ?? []) targets.push(`nmap:${f}`)
  for (const f of v.idp ?? []) targets.push(`idp:${f}`)
  for (const f of v.inventory ?? []) targets.push(`inventory:${f}`)
  const ssh = { ...(settings.ssh as Record<string, unknown> | undefined) }
  if (v['ssh-user']) ssh.username = v['ssh-user']
  if (v['ssh-key']) ssh.privateKeyPath = v['ssh-key']
  if (v['known-hosts']) ssh.knownHostsPath = v['known-hosts']
  if (v['host-key']) ssh.hostKeyFingerprints = v['host-key']
  if (v['insecure-accept-unknown-host-keys']) ssh.acceptUnknownHostKeys = true
  if (Object.keys(ssh).length) settings.ssh = ssh
  if (v['ca-file']) settings.tls = { ...(settings.tls as object | undefined), caFile: v['ca-file'] }
  if (v['agent-catalogue']) settings.endpointAgent = { ...(settings.endpointAgent as object | undefined), catalogue: v['agent-catalogue'] }

  const plugins = await loadPlugins(v.plugin ?? []).catch((err: unknown) => {
    throw new UsageError(`--plugin: ${(err as Error).message}`)
  })
  const baseline = v.baseline ? await loadBaseline(v.baseline) : undefined
  if (v['fail-on-new'] && !baseline) throw new UsageError('--fail-on-new needs --baseline FILE')
  const suppressions = v.suppressions ? await loadSuppressions(v.suppressions) : undefined
  const quiet = v.quiet ?? false
  const say = (m: string): void => {
    if (!quiet) process.stderr.write(escapeControls(m, { multiline: true }) + '\n')
  }
  let lab: Awaited<ReturnType<typeof startDemoLab>> | undefined
  if (demo) {
    lab = await startDemoLab()
    targets = [...lab.targets]
    settings = { ...lab.settings, ...settings }
    say(`ztscan demo: started a throwaway lab on loopback with ${lab.targets.length} targets (stopped when the scan ends)`)
  } else if (targets.length === 0) {
    targets = await defaultTargets()
    say(`ztscan: no targets given; scanning this machine (loopback only): ${targets.map((t) => (typeof t === 'string' ? t : t.id)).join(', ') || 'nothing to scan'}`)
  }

  const ac = new AbortController()
  const onSig = (): void => {
    say('ztscan: interrupted, finishing with a partial report')
    ac.abort()
  }
  process.once('SIGINT', onSig)
  process.once('SIGTERM', onSig)
  const tty = process.stderr.isTTY && !quiet
  let report: ScanReport
  try {
    report = await scan({
      targets,
      policy,
      settings,
      checks: plugins.checks.length ? [...builtinChecks, ...plugins.checks] : undefined,
      rules: plugins.rules,
      baseline,
      suppressions,
      shard,
      chain,
      signal: ac.signal,
      concurrency: parseIntFlag('--concurrency', v.concurrency),
      perHost: parseIntFlag('--per-host', v['per-host']),
      timeoutMs: parseDuration('--timeout', v.timeout),
      connectTimeoutMs: parseDuration('--connect-timeout', v['connect-timeout']),
      logger: { debug() {}, info: (m) => say(m), warn: (m) => say(`warning: ${m}`) },
      onEvent: tty ? (e) => e.type === 'progress' && process.stderr.write(`\r${e.done}/${e.total} checks done`) : undefined,
    })
  } finally {
    process.off('SIGINT', onSig)
    process.off('SIGTERM', onSig)
    if (tty) process.stderr.write('\r\x1b[K')
    await lab?.stop()
  }

  for (const o of outs) {
    await writeOutput(report, o, { category: v.category })
    if (o.file !== '-') say(`ztscan: wrote ${o.format.name} report to ${o.file}`)
  }
  for (const w of report.chaining?.withheld ?? [])
    say(`ztscan: ${w.targets} TLS/SSH target(s) found in ${w.from} not probed (${report.chaining!.mode === 'off' ? '--no-chain' : 'offline input; --chain probes them'})`)
  for (const x of report.expiredSuppressions ?? []) say(`warning: suppression for ${x.rule} on ${x.target} expired on ${x.expires}; ${x.matched} finding(s) count again`)
  if (process.env.GITHUB_STEP_SUMMARY) await appendFile(process.env.GITHUB_STEP_SUMMARY, toMarkdown(report))
  if (failOn === 'none') return EXIT.ok
  const hit = gatingFindings(report, { failOn, newOnly: v['fail-on-new'] ?? false }).length > 0
  return hit ? EXIT.findings : EXIT.ok
}


async function cmdRules(argv: string[]): Promise<number> {
  const { values: v } = parseArgs({ args: argv, options: { format: { type: 'string', short: 'f' }, policy: { type: 'string', short: 'p' } }, strict: true })
  const rules = builtinRules()
  const policy = v.policy ? await loadPolicy(v.policy) : undefined
  const shown = rules.map((r) => ({ ...r, severity: policy?.rules[r.id]?.severity ?? r.severity, enabled: policy?.rules[r.id]?.enabled ?? true }))
  if (v.format === 'json') process.stdout.write(JSON.stringify(shown, null, 2) + '\n')
  else if (v.format === undefined || v.format === 'table') {
    const rows = [['ID', 'SEVERITY', 'PILLAR', 'TITLE'], ...shown.map((r) => [r.id + (r.enabled ? '' : ' (disabled)'), r.severity, r.pillar, r.title])]
    const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
    process.stdout.write(rows.map((r) => r.map((c, i) => c.padEnd(w[i]!)).join('  ').trimEnd()).join('\n') + '\n')
  } else throw new UsageError(`--format: expected table or json (got "${v.format}")`)
  return EXIT.ok
}

/** Runs the CLI; resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv
  try {
    switch (cmd) {
      case 'scan':
        return await cmdScan(rest, false)
      case 'demo':
        return await cmdScan(rest, true)
      case 'rules':
        return await cmdRules(rest)
      case 'merge':
        return await (await import('./merge.ts')).cmdMerge(rest)
      case '--version':
      case '-V':
        process.stdout.write(`${VERSION}\n`)
        return EXIT.ok
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(HELP)
        return EXIT.ok
      default:
        throw new UsageError(`unknown command "${cmd}" (see ztscan --help)`)
    }
  } catch (err) {
    if (err instanceof ZtscanError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`ztscan: ${escapeControls((err as Error).message, { multiline: true })}\n`)
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
