/**
 * @fileoverview Host probes: a FIXED allowlist of read-only command templates whose arguments come only from the catalogue
 * and pass a strict regex before use. The local runner executes argv through `ctx.exec` (execFile, no shell); the SSH runner sends the
 * same argv, every word single-quoted, as the one command string of an exec request. No target data ever enters a command.
 */
import { AttemptFailure } from '../../src/errors.ts'
import { shellQuote } from '../../src/net/ssh.ts'
import type { ExecHelper, ExecResult, SshSession } from '../../src/net/io.ts'
import { postureArgv, windowsArgv, windowsCommandLine, type PostureCommand, type WindowsCommand } from './posture/commands.ts'
import { boundedLines, linearPattern, STATUS_LISTS, type AgentSpec, type CatalogueCommand, type CatalogueFileProbe, type PosixPlatform } from './catalogue.ts'

/** Names (process, unit, label) as the catalogue schema allows them. */
const NAME = /^[A-Za-z0-9_][A-Za-z0-9._@+-]{0,63}$/
/** Absolute paths: no `..`/`.` segments, no segment starting with `-` or `.`, no shell metacharacters. */
const PATH = /^(\/[A-Za-z0-9_+@][A-Za-z0-9 ._+@-]{0,127})+$/
const ARG = /^[A-Za-z0-9_][A-Za-z0-9._=:,+-]{0,63}$|^--?[A-Za-z0-9][A-Za-z0-9._=-]{0,63}$/

/** The OpenSSH server binary (Debian, RHEL, SUSE, macOS). */
export const SSHD = '/usr/sbin/sshd'

/** One allowlisted probe. Nothing else can be run. */
export type Probe =
  | { readonly kind: 'uname' }
  | { readonly kind: 'processes' }
  | { readonly kind: 'systemd-units'; readonly units: readonly string[] }
  | { readonly kind: 'launchd-labels' }
  | { readonly kind: 'paths-exist'; readonly paths: readonly string[] }
  | { readonly kind: 'catalogue-command'; readonly argv: readonly string[] }
  | { readonly kind: 'read-file'; readonly path: string }
  /** `sshd -T`: the SSH server's effective global configuration (of `config`, when given, else its default file). */
  | { readonly kind: 'sshd-effective'; readonly config?: string }
  /** One of the fixed device-posture commands (posture/commands.ts): no variable part. */
  | { readonly kind: 'posture'; readonly command: PostureCommand }
  /** One of the fixed Windows posture command lines (posture/commands.ts): no variable part, sent as is. */
  | { readonly kind: 'windows'; readonly command: WindowsCommand }

function check(re: RegExp, v: string, what: string): string {
  if (typeof v !== 'string' || !re.test(v)) throw new AttemptFailure('input', `refusing to probe: ${what} ${JSON.stringify(v)?.slice(0, 80)} does not match ${re}`)
  return v
}

/** The argv of a probe; every variable part is validated against its regex here, whatever its source. */
export function probeArgv(p: Probe): string[] {
  switch (p.kind) {
    case 'uname':
      return ['uname', '-s']
    case 'processes':
      return ['ps', '-A', '-o', 'comm=']
    case 'systemd-units':
      return ['systemctl', 'show', '--no-pager', '--property=Id,LoadState,ActiveState', '--', ...p.units.map((u) => check(NAME, u, 'unit'))]
    case 'launchd-labels':
      return ['launchctl', 'list']
    case 'paths-exist':
      return ['ls', '-1d', '--', ...p.paths.map((x) => check(PATH, x, 'path'))]
    case 'catalogue-command': {
      const [bin, ...args] = p.argv
      return [check(PATH, bin ?? '', 'binary'), ...args.map((a) => check(ARG, a, 'argument'))]
    }
    case 'read-file':
      return ['cat', '--', check(PATH, p.path, 'path')]
    case 'sshd-effective':
      return [SSHD, '-T', ...(p.config === undefined ? [] : ['-f', check(PATH, p.config, 'sshd config')])]
    case 'posture':
      return postureArgv(p.command)
    case 'windows':
      return windowsArgv(p.command)
  }
}

/** The command string the SSH runner sends for a probe: fixed `LC_ALL=C` then each argv word single-quoted. */
export function probeCommandString(p: Probe): string {
  // A Windows OpenSSH server's shell (cmd.exe or PowerShell) knows neither `LC_ALL=` nor single quotes: its fixed line as is.
  if (p.kind === 'windows') return windowsCommandLine(p.command)
  return `LC_ALL=C ${probeArgv(p).map(shellQuote).join(' ')}`
}

/** Runs probes somewhere (this machine or an SSH session). */
export interface ProbeRunner {
  /** Where the probes run, for evidence (`local`, `127.0.0.1:2222`). */
  readonly where: string
  run(p: Probe, o: { maxBytes: number; timeoutMs: number }): Promise<ExecResult>
}

/** Runs probes on this machine through `ctx.exec` (argv, no shell, `LC_ALL=C`). `trace` receives each argv. */
export function localRunner(exec: ExecHelper, trace?: (argv: readonly string[]) => void): ProbeRunner {
  return {
    where: 'local',
    run(p, o) {
      const argv = probeArgv(p)
      trace?.(argv)
      return exec(argv, o)
    },
  }
}

/** Runs probes over an open SSH session. `trace` receives each command string sent. */
export function sshRunner(session: SshSession, where: string, trace?: (command: string) => void): ProbeRunner {
  return {
    where,
    run(p, o) {
      const cmd = probeCommandString(p)
      trace?.(cmd)
      return session.exec(cmd, o)
    },
  }
}

/** What the probes saw of one agent. */
export interface AgentObservation {
  readonly agent: AgentSpec
  readonly installed: boolean
  readonly running: boolean
  readonly processes: readonly string[]
  readonly services: readonly string[]
  readonly paths: readonly string[]
  readonly version?: string
  /** The catalogue health command's answer (match: reduced functionality); undefined when there is none to run. */
  readonly degraded?: StatusAnswer
  /** The catalogue status command's answer (match: the running agent is not connected to its cloud). */
  readonly disconnected?: StatusAnswer
  /** The catalogue status command's answer (match: tamper protection off). */
  readonly tamperOff?: StatusAnswer
}

/** What a catalogue status command said: whether its pattern (the bad state) matched, with its first output line; or why it is unknown. */
export type StatusAnswer = { readonly match: boolean; readonly detail: string } | { readonly unknown: string }

/** Everything a host probe returns. */
export interface HostObservation {
  readonly os: 'linux' | 'darwin'
  readonly agents: readonly AgentObservation[]
  /** False when service state could not be read (no systemd, e.g. in a container). */
  readonly servicesKnown: boolean
  readonly truncated: boolean
}

const SMALL = 256 * 1024
const PS_MAX = 4 * 1024 * 1024

function binOf(c: CatalogueCommand | CatalogueFileProbe): string {
  return 'argv' in c ? c.argv[0]! : c.file
}

/** The host's OS from `uname -s`; anything but Linux and macOS is a protocol error of the attempt. */
export async function hostOs(runner: ProbeRunner, perProbeMs: number): Promise<'linux' | 'darwin'> {
  const uname = await runner.run({ kind: 'uname' }, { maxBytes: SMALL, timeoutMs: perProbeMs })
  const sys = uname.stdout.trim()
  const os = sys === 'Linux' ? 'linux' : sys === 'Darwin' ? 'darwin' : undefined
  if (!os) throw new AttemptFailure('protocol', `${runner.where}: unsupported operating system ${JSON.stringify(sys.slice(0, 40) || uname.stderr.trim().slice(0, 80))} (Linux and macOS are probed; use an inventory export for Windows)`)
  return os
}

/**
 * How many agents' commands run at once on one host (over its one SSH connection, or as local child processes). OpenSSH's
 * default MaxSessions is 10 channels per connection; the connection is the attempt's own (`withHostRunner` opens one per
 * attempt and nothing else runs on it during `observeHost`; the posture probes, on their own connection, use 4 at once
 * too), so 4 stays well under the server's cap while a host with many agents no longer pays every remote shell start-up
 * one after another; a server allowing fewer channels refuses the extra ones and the session makes them wait for a free
 * one (`openSession`). Locally it bounds the child processes one host probe has running.
 */
export const AGENT_CONCURRENCY = 4

/** Thrown in place of a command a stopped task does not run (never escapes `inOrder`). */
const STOPPED = new Error('stopped: an earlier agent failed the attempt')

/**
 * Runs `task(0)`…`task(n - 1)`, at most `bound` at once, started in index order; the results come back in index order.
 * It fails as the sequential loop it replaces failed: with the error of the LOWEST index that failed. Once task j fails,
 * no task after j starts and `stopped()` turns true for the running ones after j (they stop before their next command;
 * their outcome is dropped); tasks before j run on to their end, as the loop ran them before reaching j, so the error
 * thrown is the one the loop would have thrown. Every started task is awaited before it settles: no command outlives
 * the call and no rejection is left unhandled.
 */
export async function inOrder<T>(n: number, bound: number, task: (i: number, stopped: () => boolean) => Promise<T>): Promise<T[]> {
  const out: T[] = []
  let next = 0
  let failedAt = n
  let failure: unknown
  const worker = async (): Promise<void> => {
    while (next < Math.min(n, failedAt)) {
      const i = next++
      try {
        out[i] = await task(i, () => i > failedAt)
      } catch (err) {
        if (i < failedAt) {
          failedAt = i
          failure = err
        }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(bound, n)) }, worker))
  if (failedAt < n) throw failure
  return out
}

/**
 * Probes a host for every catalogue agent of its OS. Each probe gets at most `perProbeMs`. The version and status commands
 * of up to `concurrency` agents run at once (one agent's commands one after another); the result is the same as with 1.
 */
export async function observeHost(runner: ProbeRunner, catalogue: readonly AgentSpec[], perProbeMs: number, concurrency = AGENT_CONCURRENCY): Promise<HostObservation> {
  const small = { maxBytes: SMALL, timeoutMs: perProbeMs }
  const os = await hostOs(runner, perProbeMs)
  const specs = catalogue.filter((a) => a.platforms[os]).map((a) => ({ agent: a, p: a.platforms[os] as PosixPlatform }))
  let truncated = false

  // Processes: Linux `comm` is the first 15 bytes of the executable name (TASK_COMM_LEN 16); macOS prints a path.
  const ps = await runner.run({ kind: 'processes' }, { maxBytes: PS_MAX, timeoutMs: perProbeMs })
  if (ps.code !== 0 && !ps.truncated) throw new AttemptFailure('protocol', `${runner.where}: cannot list processes (ps exited ${ps.code}: ${ps.stderr.trim().slice(0, 120)})`)
  truncated ||= ps.truncated
  const procs = new Set(ps.stdout.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => (os === 'darwin' ? l.slice(l.lastIndexOf('/') + 1) : l)))
  const procKey = (n: string): string => (os === 'linux' ? n.slice(0, 15) : n)

  // Services: systemd on Linux (absent in most containers), launchd on macOS.
  const loaded = new Set<string>()
  const active = new Set<string>()
  let servicesKnown = false
  const units = [...new Set(specs.flatMap((s) => s.p.services ?? []))]
  if (os === 'linux' && units.length) {
    const r = await runner.run({ kind: 'systemd-units', units }, small)
    truncated ||= r.truncated
    // Blocks of KEY=VALUE lines separated by blank lines, read line by line (a Map: keys come from the host).
    const blocks: Map<string, string>[] = [new Map()]
    for (const line of r.stdout.split('\n')) {
      const eq = line.indexOf('=')
      if (!line.trim()) blocks.push(new Map())
      else if (eq > 0) blocks.at(-1)!.set(line.slice(0, eq), line.slice(eq + 1))
    }
    for (const f of blocks) {
      const id = f.get('Id')
      if (!id) continue
      servicesKnown = true
      if (f.get('LoadState') === 'loaded') loaded.add(id)
      const state = f.get('ActiveState')
      if (state === 'active' || state === 'activating' || state === 'reloading') active.add(id)
    }
  } else if (os === 'darwin') {
    const r = await runner.run({ kind: 'launchd-labels' }, small)
    truncated ||= r.truncated
    servicesKnown = r.code === 0
    for (const line of r.stdout.split('\n').slice(1)) {
      const [pid, , label] = line.trim().split(/\s+/)
      if (!label) continue
      loaded.add(label)
      if (pid && /^\d+$/.test(pid)) active.add(label)
    }
  }

  // Paths, including the binaries of version and health commands (run only when present).
  const allPaths = [...new Set(specs.flatMap((s) => [...(s.p.paths ?? []), ...STATUS_LISTS.flatMap((l) => (s.p[l] ?? []).map(binOf))]))]
  const present = new Set<string>()
  for (let i = 0; i < allPaths.length; i += 64) {
    const chunk = allPaths.slice(i, i + 64)
    const r = await runner.run({ kind: 'paths-exist', paths: chunk }, small)
    truncated ||= r.truncated
    const asked = new Set(chunk)
    for (const l of r.stdout.split('\n')) if (asked.has(l)) present.add(l)
  }

  // Each agent's version and status commands, for up to `concurrency` agents at once (in order within one agent).
  const out = await inOrder(specs.length, concurrency, async (i, stopped) => {
    const { agent, p } = specs[i]!
    const run = (probe: Probe): Promise<ExecResult> => {
      if (stopped()) throw STOPPED
      return runner.run(probe, small)
    }
    const processes = (p.processes ?? []).filter((n) => procs.has(procKey(n)))
    const services = (p.services ?? []).filter((s) => loaded.has(s) || active.has(s))
    const paths = (p.paths ?? []).filter((x) => present.has(x))
    const running = processes.length > 0 || (p.services ?? []).some((s) => active.has(s))
    const installed = running || services.length > 0 || paths.length > 0
    let version: string | undefined
    if (installed) {
      for (const v of p.version ?? []) {
        if (!present.has(binOf(v))) continue
        const r = await run('argv' in v ? { kind: 'catalogue-command', argv: v.argv } : { kind: 'read-file', path: v.file })
        const m = linearPattern(v.pattern).exec(boundedLines(r.stdout))
        if (m?.[1] && /^[0-9][0-9.]*$/.test(m[1])) {
          version = m[1]
          break
        }
      }
    }
    // Status commands of a running agent: the first whose binary is present answers. A match is the bad state; no match
    // counts as the good state only from a command that exited 0 with output (an error message is not "healthy").
    const status = async (list: readonly CatalogueCommand[] | undefined): Promise<StatusAnswer | undefined> => {
      if (!running) return undefined
      for (const d of list ?? []) {
        if (!present.has(binOf(d))) continue
        const r = await run({ kind: 'catalogue-command', argv: d.argv })
        if (r.code === null && !r.truncated) continue
        const text = boundedLines(r.stdout)
        const detail = (text.trim().split('\n')[0] ?? '').slice(0, 120)
        const cmd = d.argv.join(' ')
        const re = linearPattern(d.pattern)
        if (re.test(text)) {
          // The evidence is the line that matched (each line tested once: linear), else the first line.
          const hit = text.split('\n').find((l) => re.test(l))?.trim().slice(0, 120)
          return { match: true, detail: hit || detail || `exit ${r.code}` }
        }
        if (r.code === 0 && detail) return { match: false, detail }
        const err = (boundedLines(r.stderr).trim().split('\n')[0] ?? '').slice(0, 120)
        return { unknown: `${cmd} gave no answer (exit ${r.code}${err ? `: ${err}` : ''}): not determinable${r.code === 0 ? '' : ' (root may be needed)'}` }
      }
      return undefined
    }
    const deg = await status(p.degraded)
    const dis = await status(p.disconnected)
    const tam = await status(p.tamperOff)
    return { agent, installed, running, processes, services, paths, version, degraded: deg, disconnected: dis, tamperOff: tam } satisfies AgentObservation
  })
  return { os, agents: out, servicesKnown, truncated }
}

/** Opens the probe runner for an SSH session and guarantees it is closed. */
export async function withSession<T>(open: () => Promise<SshSession>, fn: (s: SshSession) => Promise<T>): Promise<T> {
  const s = await open()
  try {
    return await fn(s)
  } finally {
    s.close()
  }
}

/** What `sshd -T` says about password and root logins; `why` when it could not be determined. */
export type SshdObservation =
  | { readonly state: 'absent'; readonly why: string }
  | { readonly state: 'unknown'; readonly why: string }
  | { readonly state: 'read'; readonly config: string; readonly values: ReadonlyMap<string, string> }

const SSHD_KEYS = new Set(['permitrootlogin', 'passwordauthentication', 'kbdinteractiveauthentication', 'authenticationmethods', 'usepam'])

/** Reads the SSH server's effective settings with `sshd -T` (root is needed to read the host keys it checks). */
export async function observeSshd(runner: ProbeRunner, config: string | undefined, perProbeMs: number): Promise<SshdObservation> {
  const small = { maxBytes: SMALL, timeoutMs: perProbeMs }
  const shown = config ?? 'the default sshd_config'
  const ls = await runner.run({ kind: 'paths-exist', paths: [SSHD] }, small)
  if (!ls.stdout.split('\n').includes(SSHD)) return { state: 'absent', why: `no SSH server on ${runner.where} (${SSHD} absent)` }
  const r = await runner.run({ kind: 'sshd-effective', config }, small)
  const values = new Map<string, string>()
  for (const line of boundedLines(r.stdout).split('\n')) {
    const sp = line.indexOf(' ')
    const k = line.slice(0, sp).toLowerCase()
    if (sp > 0 && SSHD_KEYS.has(k)) values.set(k, line.slice(sp + 1).trim().slice(0, 200))
  }
  if (r.code !== 0 || !values.has('permitrootlogin')) {
    const err = (r.stderr.trim().split('\n')[0] ?? '').slice(0, 160) || `exit ${r.code}`
    return { state: 'unknown', why: `sshd -T on ${runner.where} could not read ${shown} (${err}): not determinable (root is needed to check the host keys)` }
  }
  return { state: 'read', config: shown, values }
}

/**
 * Whether a password alone logs in: PasswordAuthentication (or keyboard-interactive) on, and some AuthenticationMethods
 * list without publickey (`any` = every method is enough on its own).
 */
export function passwordAlone(values: ReadonlyMap<string, string>): { alone: boolean; state: string } {
  const pw = values.get('passwordauthentication') === 'yes'
  const kbd = values.get('kbdinteractiveauthentication') === 'yes'
  const methods = values.get('authenticationmethods') ?? 'any'
  if (!pw && !kbd) return { alone: false, state: 'password and keyboard-interactive authentication off' }
  const on = [pw && 'password', kbd && 'keyboard-interactive'].filter(Boolean).join(' and ')
  if (methods === 'any') return { alone: true, state: `${on} on, AuthenticationMethods any` }
  const lists = methods.split(/\s+/).filter(Boolean)
  const weak = lists.find((l) => !l.split(',').some((m) => m.startsWith('publickey') || m.startsWith('hostbased') || m.startsWith('gssapi')))
  return weak
    ? { alone: true, state: `${on} on, AuthenticationMethods list "${weak}" needs no key` }
    : { alone: false, state: `${on} only after a key (AuthenticationMethods ${methods})` }
}
