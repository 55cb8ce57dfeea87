/**
 * @fileoverview The endpoint-agent family: are the EDR/management agents a policy requires installed, running, current,
 * healthy and checking in? Three sources: hosts over SSH (`agents://`), this machine (`local://`), and EDR/MDM inventory
 * exports (`inventory:PROVIDER:FILE`). Host probes use only the fixed allowlist in `probe.ts`. This is the checks' code,
 * loaded when one runs; the family and its checks are declared in family.ts (loaded by every scan).
 */
import { humanHours } from '../../src/lib-units.ts'
import type { CheckContext } from '../../src/engine/check.ts'
import { AttemptFailure } from '../../src/errors.ts'
import { hostPort, isValidHost } from '../../src/targets/host.ts'
import type { Target } from '../../src/types.ts'
import { agentsFor, loadCatalogue, type AgentSpec } from './catalogue.ts'
import { ABSENT_HINT, providerOf, type DeviceRecord } from './inventory.ts'
import { streamInventory } from './inventory-stream.ts'
import { localRunner, observeHost, observeSshd, passwordAlone, sshRunner, withSession, type AgentObservation, type ProbeRunner, type StatusAnswer } from './probe.ts'
import { judgeReleaseText, reportPosture, type PostureRule } from './posture/index.ts'
import type { ENDPOINT_AGENT_RULES } from './family.ts'

type Rule = (typeof ENDPOINT_AGENT_RULES)[number]

/**
 * Family settings (`settings.endpointAgent`): an operator catalogue file that adds or replaces agents, and the sshd_config
 * `sshd -T` reads (default: sshd's own default file).
 */
function familySettings(settings: Readonly<Record<string, unknown>>): { catalogue?: string; sshdConfig?: string } {
  const raw = settings.endpointAgent
  if (raw === undefined) return {}
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new AttemptFailure('input', 'settings.endpointAgent: expected an object')
  const { catalogue: c, sshdConfig } = raw as Record<string, unknown>
  if (c !== undefined && (typeof c !== 'string' || !c)) throw new AttemptFailure('input', 'settings.endpointAgent.catalogue: expected a file path')
  if (sshdConfig !== undefined && (typeof sshdConfig !== 'string' || !/^(\/[A-Za-z0-9_+@][A-Za-z0-9 ._+@-]{0,127})+$/.test(sshdConfig)))
    throw new AttemptFailure('input', 'settings.endpointAgent.sshdConfig: expected an absolute path (letters, digits, space, ._+@-; no .. segments)')
  return { catalogue: c as string | undefined, sshdConfig: sshdConfig as string | undefined }
}

/**
 * Numeric comparison of dotted versions (`7.10.2` > `7.9`); non-numeric parts count as 0. Linear in the (capped) text:
 * one split on single characters, no regular expression that can backtrack.
 */
export function compareVersions(a: string, b: string): number {
  const parts = (v: string): number[] => v.slice(0, 200).split(/[.\-+]/, 12).map((x) => Number.parseInt(x.slice(0, 15), 10) || 0)
  const pa = parts(a)
  const pb = parts(b)
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0)
    if (d) return Math.sign(d)
  }
  return 0
}

/** The minimum version of an agent on a platform and where it comes from; undefined when there is none. */
type Minimum = (agent: string, platform: string) => { version: string; from: string } | undefined

/**
 * The minimum versions of a scan: the policy's `minVersions` (`agent/platform` wins over `agent`), else the catalogue's
 * `minimumVersion` for that platform — looked up once per agent and platform (an export asks for every device).
 */
function minimumsOf(ctx: CheckContext<Rule>, catalogue: readonly AgentSpec[]): Minimum {
  const minVersions = ctx.params<{ minVersions?: Record<string, string> }>('endpoint-agent-outdated').minVersions ?? {}
  const own = (k: string): string | undefined => (Object.hasOwn(minVersions, k) ? minVersions[k] : undefined)
  const known = new Map<string, { version: string; from: string } | undefined>()
  return (agent, platform) => {
    const k = `${agent}\0${platform}`
    if (known.has(k)) return known.get(k)
    const policy = own(`${agent}/${platform}`) ?? own(agent)
    const spec = policy ? undefined : catalogue.find((a) => a.id === agent)
    const fromCatalogue = platform === 'linux' || platform === 'darwin' || platform === 'windows' ? spec?.platforms[platform]?.minimumVersion : undefined
    const min = policy ? { version: policy, from: 'policy minVersions' } : fromCatalogue ? { version: fromCatalogue, from: `catalogue (${platform})` } : undefined
    known.set(k, min)
    return min
  }
}

function reportOutdated(ctx: CheckContext<Rule>, minimum: Minimum, resource: string, host: string, agent: string, agentId: string, platform: string, version: string | undefined, asset?: string): void {
  if (!version) return
  const min = minimum(agentId, platform)
  if (!min) return
  ctx.report('endpoint-agent-outdated', compareVersions(version, min.version) < 0 ? 'fail' : 'pass', { resource, asset, evidence: { host, agent, agentId, version, minVersion: min.version, minimumFrom: min.from } })
}

// ---------------------------------------------------------------------------------------------------------------------
// Hosts (SSH) and this machine
// ---------------------------------------------------------------------------------------------------------------------

/** Validates an `agent-host` target before any I/O: host, port and user name must be plain tokens. */
function agentHost(target: Target): { host: string; port: number; username?: string } {
  const { host, port, username } = target as { host?: unknown; port?: unknown; username?: unknown }
  if (typeof host !== 'string' || !isValidHost(host)) throw new AttemptFailure('input', `${target.id}: host ${JSON.stringify(host)?.slice(0, 80)} is not a valid host name or IP address`)
  const p = port ?? 22
  if (typeof p !== 'number' || !Number.isInteger(p) || p < 1 || p > 65535) throw new AttemptFailure('input', `${target.id}: port must be 1-65535`)
  if (username !== undefined && (typeof username !== 'string' || !/^[a-z_][a-z0-9_.-]{0,31}$/i.test(username)))
    throw new AttemptFailure('input', `${target.id}: ${JSON.stringify(username)?.slice(0, 40)} is not a valid user name`)
  return { host, port: p, username: username as string | undefined }
}

function reportHost(ctx: CheckContext<Rule>, host: string, os: string, agents: readonly AgentObservation[], catalogue: readonly AgentSpec[]): void {
  const { required } = ctx.params<{ required: string[] }>('endpoint-agent-missing')
  for (const req of required ?? []) {
    const candidates = agentsFor(req, catalogue)
    if (!candidates.length) throw new AttemptFailure('input', `endpoint-agent-missing.required: "${req}" names no catalogue agent or category`)
    const here = candidates.filter((c) => c.platforms[os as 'linux' | 'darwin'])
    const found = agents.filter((o) => o.installed && here.some((c) => c.id === o.agent.id))
    const names = (found.length ? found.map((f) => f.agent.name) : here.map((c) => c.name)).join(', ')
    ctx.report('endpoint-agent-missing', found.length ? 'pass' : 'fail', {
      resource: `require:${req}`,
      evidence: { host, requirement: req, state: found.length ? 'installed' : 'missing', agent: found.length ? names : `none of: ${names || 'no agent for this OS'}`, os },
    })
  }
  for (const o of agents) {
    if (!o.installed) continue
    const base = { host, agent: o.agent.name, agentId: o.agent.id, version: o.version ?? 'unknown' }
    ctx.report('endpoint-agent-not-running', o.running ? 'pass' : 'fail', {
      resource: `agent:${o.agent.id}`,
      evidence: { ...base, state: o.running ? 'running' : 'installed but not running', processes: o.processes, services: o.services, paths: o.paths },
    })
    reportOutdated(ctx, minimumsOf(ctx, catalogue), `agent:${o.agent.id}`, host, o.agent.name, o.agent.id, os, o.version)
    // The agent's own status commands: a match is the bad state; an unanswered command is a named skip, never a pass.
    const answer = (rule: Rule, a: StatusAnswer | undefined, good: (detail: string) => string, bad: (detail: string) => string, extra: Record<string, unknown> = {}): void => {
      if (!a) return
      if ('unknown' in a) ctx.skip(rule, `${o.agent.name} on ${host}: ${a.unknown}`)
      else ctx.report(rule, a.match ? 'fail' : 'pass', { resource: `agent:${o.agent.id}`, evidence: { ...base, state: a.match ? bad(a.detail) : good(a.detail), ...extra } })
    }
    answer('endpoint-agent-sensor-degraded', o.degraded, () => 'healthy', (d) => `degraded (${d})`)
    answer('endpoint-agent-not-connected', o.disconnected, (d) => `connected (status command: ${d})`, (d) => `status command says: ${d}`, { source: "the agent's own status command" })
    answer('endpoint-agent-tamper-protection-off', o.tamperOff, (d) => `tamper protection: ${d}`, (d) => `tamper protection: ${d}`)
  }
}

/** SSH server hardening from `sshd -T`; an sshd that is absent or unreadable is a named skip of both rules. */
async function reportSshd(ctx: CheckContext<Rule>, runner: ProbeRunner, config: string | undefined, perProbeMs: number): Promise<void> {
  if (!ctx.enabled('endpoint-agent-sshd-root-login') && !ctx.enabled('endpoint-agent-sshd-password-login')) return
  const o = await observeSshd(runner, config, perProbeMs)
  if (o.state !== 'read') {
    ctx.skip('endpoint-agent-sshd-root-login', o.why)
    ctx.skip('endpoint-agent-sshd-password-login', o.why)
    return
  }
  const base = { host: runner.where, config: o.config, scope: 'global settings (Match blocks not evaluated)' }
  const root = o.values.get('permitrootlogin')!
  ctx.report('endpoint-agent-sshd-root-login', root === 'no' ? 'pass' : 'fail', { resource: 'sshd', evidence: { ...base, permitRootLogin: root, state: `PermitRootLogin ${root}` } })
  const pw = passwordAlone(o.values)
  ctx.report('endpoint-agent-sshd-password-login', pw.alone ? 'fail' : 'pass', {
    resource: 'sshd',
    evidence: {
      ...base, state: pw.state, passwordAuthentication: o.values.get('passwordauthentication') ?? 'unknown',
      kbdInteractiveAuthentication: o.values.get('kbdinteractiveauthentication') ?? 'unknown', authenticationMethods: o.values.get('authenticationmethods') ?? 'any',
    },
  })
}

/** Runs `fn` with a probe runner on this machine, or on an `agents://` host over an SSH session whose host key was verified. */
async function withHostRunner(target: Target, ctx: CheckContext<string>, fn: (runner: ProbeRunner) => Promise<void>): Promise<void> {
  if (target.kind === 'local') return fn(localRunner(ctx.exec))
  const { host, port, username } = agentHost(target)
  const settings = ctx.ssh.settings()
  const where = hostPort(host, port)
  await ctx.sockets(() =>
    withSession(
      () => ctx.ssh.session(host, port, { settings, username: username ?? settings.username }),
      (session) => fn(sshRunner(session, where)),
    ),
  )
}

/** Probes one host (over SSH) or this machine with the allowlisted commands and reports installed/running/version/health. */
async function runHost(target: Target, ctx: CheckContext<Rule>): Promise<void> {
  const fam = familySettings(ctx.settings)
  const catalogue = await loadCatalogue(fam.catalogue, (p, max) => ctx.readFile(p, max))
  const perProbeMs = Math.max(500, Math.min(10_000, Math.floor(ctx.timeoutMs / 3)))
  await withHostRunner(target, ctx, async (runner) => {
    const obs = await observeHost(runner, catalogue, perProbeMs)
    reportHost(ctx, runner.where, obs.os, obs.agents, catalogue)
    await reportSshd(ctx, runner, fam.sshdConfig, perProbeMs)
  })
}

// ---------------------------------------------------------------------------------------------------------------------
// Inventory exports
// ---------------------------------------------------------------------------------------------------------------------

/** A version's release line (`7.14.16703.0` → major 7, line `7.14`); undefined when it does not start MAJOR.MINOR. */
function releaseLine(version: string | undefined): { major: number; line: string } | undefined {
  const m = version ? /^([0-9]{1,9})\.([0-9]{1,9})/.exec(version) : null
  return m ? { major: Number(m[1]), line: `${Number(m[1])}.${Number(m[2])}` } : undefined
}

/** A device's agent/platform and release line, as one string (`crowdstrike-falcon/linux\07.14`); undefined without a line. */
function lineGroup(d: DeviceRecord): string | undefined {
  const r = d.onboarded === false ? undefined : releaseLine(d.version)
  return r ? `${d.agent}/${d.platform}\0${r.line}` : undefined
}

/**
 * Release lines per agent/platform, newest first, from `lineGroup` strings (at most 1000 lines each): a device is as many
 * releases behind as there are newer lines in its fleet (a line nobody runs is not counted), and a major version behind
 * the newest is behind.
 */
function linesOf(groups: Iterable<string>): Map<string, string[]> {
  const lines = new Map<string, Set<string>>()
  for (const g of groups) {
    const cut = g.indexOf('\0')
    const k = g.slice(0, cut)
    let set = lines.get(k)
    if (!set) lines.set(k, (set = new Set()))
    if (set.size < 1000) set.add(g.slice(cut + 1))
  }
  const out = new Map<string, string[]>()
  for (const [k, set] of lines) out.set(k, [...set].sort((a, b) => compareVersions(b, a)))
  return out
}

/** One agent/platform's release lines, newest first, with each line's place (a device's lookup is one Map get, not a scan of 1000 lines). */
interface Fleet {
  readonly lines: readonly string[]
  readonly place: ReadonlyMap<string, number>
  readonly newestMajor: number
}

/** {@link linesOf}, each with its lookup. */
function fleetsOf(groups: Iterable<string>): Map<string, Fleet> {
  const out = new Map<string, Fleet>()
  for (const [k, lines] of linesOf(groups)) out.set(k, { lines, place: new Map(lines.map((l, i) => [l, i])), newestMajor: Number(lines[0]!.split('.')[0]) })
  return out
}

/** What every device of an export is judged against: the rules' parameters, read once per export. */
interface DeviceLimits {
  readonly minimum: Minimum
  readonly maxHours: number
  /** `maxHours` in words (`3 days`). */
  readonly limit: string
  readonly maxReleasesBehind: number
}

function reportBehind(ctx: CheckContext<Rule>, d: DeviceRecord, fleet: Fleet | undefined, maxReleasesBehind: number): void {
  const r = d.onboarded === false ? undefined : releaseLine(d.version)
  if (!r || !fleet) return
  const newest = fleet.lines[0]!
  const behind = fleet.place.get(r.line) ?? -1
  const majorBehind = r.major < fleet.newestMajor
  const fail = majorBehind || behind > maxReleasesBehind
  const resource = `device:${d.id}`
  const state = behind === 0 ? `on the newest release line in this export (${newest})` : `${behind} release line${behind === 1 ? '' : 's'} behind ${newest}${majorBehind ? ' (a major version behind)' : ''}`
  ctx.report('endpoint-agent-releases-behind', fail ? 'fail' : 'pass', {
    resource,
    asset: resource,
    evidence: { host: d.host, agent: d.agentName, agentId: d.agent, version: d.version, line: r.line, newestLine: newest, releasesBehind: behind, maxReleasesBehind, basis: 'release lines running in this export, per agent and platform', state },
  })
}

/** Rules a record is judged on only when its agent is onboarded (an unonboarded device has no agent to judge). */
function reportDevice(ctx: CheckContext<Rule>, d: DeviceRecord, { minimum, maxHours, limit }: DeviceLimits): void {
  const resource = `device:${d.id}`
  const base = { host: d.host, agent: d.agentName, agentId: d.agent, version: d.version ?? 'unknown', lastSeen: d.lastSeen ?? 'never' }
  if (d.onboarded !== undefined)
    ctx.report('endpoint-agent-missing', d.onboarded ? 'pass' : 'fail', {
      resource,
      asset: resource,
      evidence: { ...base, requirement: d.agent, state: d.onboarded ? 'installed' : `not onboarded (${d.onboardingStatus})`, os: d.platform },
    })
  if (d.onboarded === false) return // no agent: nothing else to judge
  const hours = d.lastSeen === undefined ? undefined : d.lastSeen === null ? Infinity : (ctx.now().getTime() - Date.parse(d.lastSeen)) / 3_600_000
  if (hours !== undefined) {
    ctx.report('endpoint-agent-stale-checkin', hours > maxHours ? 'fail' : 'pass', {
      resource,
      asset: resource,
      evidence: { ...base, hoursSince: Number.isFinite(hours) ? Math.round(hours * 10) / 10 : 'never', maxHours, ago: Number.isFinite(hours) ? `${humanHours(hours)} ago` : 'never', limit, state: hours > maxHours ? 'stale' : 'current' },
    })
  }
  reportOutdated(ctx, minimum, resource, d.host, d.agentName, d.agent, d.platform, d.version, resource)
  if (d.degraded !== undefined)
    ctx.report('endpoint-agent-sensor-degraded', d.degraded ? 'fail' : 'pass', { resource, asset: resource, evidence: { ...base, state: d.sensorState ?? (d.degraded ? 'degraded' : 'healthy') } })
  if (d.compliance !== undefined)
    ctx.report('endpoint-agent-device-noncompliant', d.compliance === 'compliant' ? 'pass' : 'fail', { resource, asset: resource, evidence: { ...base, state: d.compliance } })
  if (d.encrypted !== undefined)
    ctx.report('endpoint-agent-disk-unencrypted', d.encrypted ? 'pass' : 'fail', { resource, asset: resource, evidence: { ...base, state: d.encryptionState ?? (d.encrypted ? 'encrypted' : 'not encrypted') } })
  if (d.infected !== undefined || d.activeThreats !== undefined) {
    const bad = d.infected === true || (d.activeThreats ?? 0) > 0
    const state = bad ? [d.infected ? 'infected' : '', d.activeThreats ? `${d.activeThreats} active threats` : ''].filter(Boolean).join(', ') : 'no active threats'
    ctx.report('endpoint-agent-active-threat', bad ? 'fail' : 'pass', { resource, asset: resource, evidence: { ...base, state, infected: d.infected ?? 'unknown', activeThreats: d.activeThreats ?? 'unknown' } })
  }
  if (d.actionsNeeded !== undefined)
    ctx.report('endpoint-agent-action-needed', d.actionsNeeded.length ? 'fail' : 'pass', {
      resource,
      asset: resource,
      evidence: { ...base, state: d.actionsNeeded.length ? d.actionsNeeded.join(', ') : 'none', actions: d.actionsNeeded },
    })
  if (d.containment !== undefined)
    ctx.report('endpoint-agent-contained', d.containment === 'normal' ? 'pass' : 'fail', { resource, asset: resource, evidence: { ...base, state: d.containment } })
  // A device that stopped checking in altogether is the stale check-in finding, not a second one here.
  if (d.connection !== undefined && !(d.connection.connected === false && hours !== undefined && hours > maxHours))
    ctx.report('endpoint-agent-not-connected', d.connection.connected ? 'pass' : 'fail', { resource, asset: resource, evidence: { ...base, state: d.connection.state, source: 'inventory export' } })
  if (d.tamper !== undefined)
    ctx.report('endpoint-agent-tamper-protection-off', d.tamper.on ? 'pass' : 'fail', { resource, asset: resource, evidence: { ...base, state: d.tamper.state } })
  if (d.zta !== undefined) reportZta(ctx, d, resource, base)
}

/** CrowdStrike Zero Trust Assessment scores against `minScores` (each configured score; a score the export lacks is named). */
function reportZta(ctx: CheckContext<Rule>, d: DeviceRecord, resource: string, base: Record<string, unknown>): void {
  const { minScores } = ctx.params<{ minScores: Partial<Record<'overall' | 'os' | 'sensor_config', number>> }>('endpoint-agent-zta-score-low')
  const zta = d.zta!
  const below: string[] = []
  const missing: string[] = []
  for (const k of ['overall', 'os', 'sensor_config'] as const) {
    const min = minScores?.[k]
    if (min === undefined) continue
    const v = zta[k]
    if (v === undefined) missing.push(k)
    else if (v < min) below.push(`${k} ${v} < ${min}`)
  }
  const scores = { overall: zta.overall ?? 'absent', os: zta.os ?? 'absent', sensorConfig: zta.sensor_config ?? 'absent' }
  // A configured score the assessment lacks is unknown, never a pass.
  const fail = below.length > 0 || missing.length > 0
  const state = below.length ? `score ${below.join(', ')}` : missing.length ? `score ${missing.join(', ')} absent from the assessment` : `scores at or above ${Object.entries(minScores ?? {}).map(([k, v]) => `${k} ${v}`).join(', ')}`
  ctx.report('endpoint-agent-zta-score-low', fail ? 'fail' : 'pass', { resource, asset: resource, evidence: { ...base, state, ...scores, minScores, assessedAt: zta.modified ?? 'unknown' } })
}

/** Reads an EDR/MDM inventory export and reports each device; a rule whose field the export lacks is a named skip. */
async function runInventory(target: Target, ctx: CheckContext<Rule>): Promise<void> {
  const provider = providerOf(target.provider)
  if (!provider) throw new AttemptFailure('input', `${target.id}: unknown inventory provider ${JSON.stringify(target.provider)} (expected crowdstrike, defender, sentinelone, intune, osquery/fleet or jamf)`)
  if (typeof target.path !== 'string') throw new AttemptFailure('input', `${target.id}: a file path is required`)
  const shown = target.id.slice(target.id.indexOf(':', 'inventory:'.length) + 1) || target.path
  const path = target.path
  const catalogue = await loadCatalogue(familySettings(ctx.settings).catalogue, (p, max) => ctx.readFile(p, max))
  const absent = new Map<string, { rule: Rule; field: string; count: number }>()
  const { maxHours } = ctx.params<{ maxHours: number }>('endpoint-agent-stale-checkin')
  const { maxReleasesBehind } = ctx.params<{ maxReleasesBehind: number }>('endpoint-agent-releases-behind')
  const limits: DeviceLimits = { minimum: minimumsOf(ctx, catalogue), maxHours, limit: humanHours(maxHours), maxReleasesBehind }
  const { minimum } = limits
  const endOfSupport = ctx.params<{ endOfSupport?: Record<string, string> }>('endpoint-agent-os-unsupported').endOfSupport ?? {}
  // OS releases the support table does not know, counted per reason (a hostile export cannot make a skip per device).
  const osSkips = new Map<string, number>()
  let fleets = new Map<string, Fleet>()
  // Streamed in two passes (inventory-stream.ts): devices are judged as they are read, never held all at once.
  const { devices, notJudged, duplicates } = await streamInventory(provider, () => ctx.net.readStream(path), shown, (d) => {
    reportDevice(ctx, d, limits)
    reportBehind(ctx, d, fleets.get(`${d.agent}/${d.platform}`), maxReleasesBehind)
    if (d.os !== undefined && ctx.enabled('endpoint-agent-os-unsupported')) {
      const o = judgeReleaseText(d.os, ctx.now(), endOfSupport)
      const resource = `device:${d.id}`
      if ('skip' in o) osSkips.set(o.skip, (osSkips.get(o.skip) ?? 0) + 1)
      else ctx.report('endpoint-agent-os-unsupported', o.pass ? 'pass' : 'fail', { resource, asset: resource, evidence: { host: d.host, os: d.os, ...o.evidence, state: o.state } })
    }
    for (const [rule, field] of Object.entries(d.absent ?? {})) {
      // The version is only read against a minimum (policy or catalogue): without one, its absence changes nothing.
      if (rule === 'endpoint-agent-outdated' && !minimum(d.agent, d.platform)) continue
      const k = `${rule}\0${field}`
      const a = absent.get(k)
      if (a) a.count++
      else absent.set(k, { rule: rule as Rule, field, count: 1 })
    }
  }, {
    group: ctx.enabled('endpoint-agent-releases-behind') ? lineGroup : undefined,
    facts: (f) => {
      fleets = fleetsOf(f.groups)
    },
  })
  for (const { rule, field, count } of absent.values())
    // A plain field name is missing from the export; a sentence says why a present field cannot be judged.
    ctx.skip(rule, field.includes(' ') ? `${field} (${count} of ${devices} devices)` : `${field} not in this export (${count} of ${devices} devices) — ${ABSENT_HINT[provider]}`)
  let listed = 0
  for (const [why, n] of osSkips) if (listed++ < 20) ctx.skip('endpoint-agent-os-unsupported', `${why} (${n} device${n === 1 ? '' : 's'})`)
  if (osSkips.size > 20) ctx.skip('endpoint-agent-os-unsupported', `${osSkips.size - 20} more OS releases not judged`)
  for (const [why, n] of notJudged) ctx.log.info(`${n} records not judged: ${why}`)
  if (duplicates) ctx.log.info(`${duplicates} duplicate device records (same id) judged once, latest check-in kept`)
}

/** The `endpoint-agent-status` check's code (declared in family.ts, which every scan loads; this module loads when it runs). */
export const runStatus = (target: Target, ctx: CheckContext<Rule>): Promise<void> => (target.kind === 'inventory-export' ? runInventory(target, ctx) : runHost(target, ctx))

/** The `endpoint-agent-posture` check's code (declared in family.ts). */
export const runPosture = (target: Target, ctx: CheckContext<PostureRule>): Promise<void> =>
  withHostRunner(target, ctx, (runner) => reportPosture(ctx, runner, { perProbeMs: Math.max(500, Math.min(10_000, Math.floor(ctx.timeoutMs / 4))), slowMs: Math.max(500, Math.min(30_000, Math.floor(ctx.timeoutMs / 2))) }))

export { default } from './family.ts'
