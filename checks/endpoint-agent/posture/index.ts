/**
 * @fileoverview Device posture controls of this machine (`local`) and of hosts over SSH (`agents://`): full-disk encryption,
 * host firewall, OS support, pending security updates, automatic updates, screen lock and time synchronisation. Every
 * command is one of the fixed argv of posture/commands.ts, run through the family's probe runners (execFile locally,
 * single-quoted words over SSH). A control that cannot be read is a named skip with its reason — never a pass.
 */
import type { CheckContext } from '../../../src/engine/check.ts'
import { AttemptFailure } from '../../../src/errors.ts'
import type { ExecResult } from '../../../src/net/ssh.ts'
import { hostOs, type ProbeRunner } from '../probe.ts'
import { POSTURE_COMMANDS, POSTURE_FILES, WINDOWS_COMMANDS, type PostureCommand, type WindowsCommand } from './commands.ts'
import { appFirewall, appFirewallBlockAll, fileVault, macUpdates, networkTime, plistDefaults, screenLock, swVers } from './darwin.ts'
import { aptConfigValues, aptPending, chainEncrypted, chronyLeap, iptablesInbound, keyValues, lsblkRootChain, nftInbound, NOT_A_DISK, parseOsRelease, rootMount } from './linux.ts'
import { osqueryRootEncryption } from './osquery.ts'
import { dnfSecurity, zypperPatches, type SecurityUpdate } from './packages.ts'
import { AU_OPTIONS, auPolicy, bitLockerJson, firewallProfiles, fullyEncrypted, hotFixes, manageBde, windowsOs, type BitLockerVolume, type FirewallProfile } from './windows.ts'
import support from './os-support.json' with { type: 'json' }

import { POSTURE_RULES } from '../family.ts'

export { POSTURE_RULES }
export type PostureRule = (typeof POSTURE_RULES)[number]

/** A control's outcome: judged (pass/fail with its state), or not determinable here (skip with the reason). */
export type Outcome = { readonly pass: boolean; readonly state: string; readonly evidence?: Readonly<Record<string, unknown>> } | { readonly skip: string }

/** Commands that may legitimately take long. */
const SLOW: ReadonlySet<PostureCommand | WindowsCommand> = new Set(['apt-upgrades', 'softwareupdate', 'win-hotfix', 'dnf-security', 'zypper-patches'])
const SMALL = 256 * 1024
const BIG = 4 * 1024 * 1024
const DAY = 86_400_000

/** Runs the fixed posture commands and files through a probe runner; a command that is absent or times out is said so. */
export class PostureReader {
  readonly #cache = new Map<string, Promise<Ran>>()
  readonly runner: ProbeRunner
  readonly perProbeMs: number
  readonly signal: AbortSignal
  /** For the commands that may take long (apt's upgrade simulation, `softwareupdate -l`). */
  readonly slowMs: number
  constructor(runner: ProbeRunner, perProbeMs: number, signal: AbortSignal, slowMs = perProbeMs) {
    this.runner = runner
    this.perProbeMs = perProbeMs
    this.signal = signal
    this.slowMs = slowMs
  }

  get where(): string {
    return this.runner.where
  }

  /** Runs one fixed command once per host (several controls share `apt-config`, `paths`). */
  cmd(name: PostureCommand, maxBytes = SMALL): Promise<Ran> {
    const k = `cmd:${name}`
    let p = this.#cache.get(k)
    if (!p) this.#cache.set(k, (p = this.#run({ kind: 'posture', command: name }, POSTURE_COMMANDS[name].join(' '), maxBytes, SLOW.has(name) ? this.slowMs : this.perProbeMs)))
    return p
  }

  /** Runs one fixed Windows command line once per host; reasons name its cmdlet (or executable). */
  win(name: WindowsCommand, maxBytes = SMALL): Promise<Ran> {
    const k = `win:${name}`
    let p = this.#cache.get(k)
    const e: { powershell?: string; exe?: readonly string[] } = WINDOWS_COMMANDS[name]
    const shown = e.powershell ? e.powershell.split(' ')[0]! : e.exe!.join(' ')
    if (!p) this.#cache.set(k, (p = this.#run({ kind: 'windows', command: name }, shown, maxBytes, SLOW.has(name) ? this.slowMs : this.perProbeMs)))
    return p
  }

  file(path: (typeof POSTURE_FILES)[keyof typeof POSTURE_FILES]): Promise<Ran> {
    const k = `file:${path}`
    let p = this.#cache.get(k)
    if (!p) this.#cache.set(k, (p = this.#run({ kind: 'read-file', path }, path, SMALL, this.perProbeMs)))
    return p
  }

  /** Which of these fixed paths exist. */
  async exist(paths: readonly string[]): Promise<Set<string>> {
    const r = await this.#run({ kind: 'paths-exist', paths }, 'ls', SMALL, this.perProbeMs)
    return new Set(r.ok ? r.stdout.split('\n').filter((l) => paths.includes(l)) : [])
  }

  async #run(probe: Parameters<ProbeRunner['run']>[0], shown: string, maxBytes: number, timeoutMs: number): Promise<Ran> {
    let r: ExecResult
    try {
      r = await this.runner.run(probe, { maxBytes, timeoutMs })
    } catch (e) {
      if (e instanceof AttemptFailure && e.reason === 'timeout' && !this.signal.aborted) return { ok: false, absent: false, why: `${shown}: no answer within ${timeoutMs} ms` }
      throw e
    }
    if (r.truncated) return { ok: false, absent: false, why: `${shown}: output over ${maxBytes} bytes (cut off)` }
    if (r.code === 127 || /ENOENT|command not found|No such file or directory|is not recognized as (?:an internal|the name)/.test(r.stderr.slice(0, 400)) && r.code !== 0 && !r.stdout)
      return { ok: false, absent: true, why: `${shown.split(' ')[0]} not found` }
    if (r.code === null) return { ok: false, absent: false, why: `${shown}: no answer within ${timeoutMs} ms` }
    if (r.code !== 0) {
      const said = firstLine(r.stderr) || firstLine(r.stdout)
      return { ok: false, absent: false, why: `${shown}: exit ${r.code}${said ? ` (${said})` : ''}`, stdout: r.stdout, stderr: r.stderr }
    }
    return { ok: true, stdout: r.stdout, stderr: r.stderr }
  }
}

/** A command's result as the controls read it. */
export type Ran = { readonly ok: true; readonly stdout: string; readonly stderr: string } | { readonly ok: false; readonly absent: boolean; readonly why: string; readonly stdout?: string; readonly stderr?: string }

/** The line that says what went wrong (an `ERROR:`/denied line when a tool prints a banner first), else the first. */
function firstLine(s: string): string {
  const lines = s.trim().split(/\r?\n/, 50)
  return (lines.find((l) => /\berror\b|denied/i.test(l)) ?? lines[0] ?? '').trim().slice(0, 160)
}

/** Whether a container marker exists: said in the reasons, since a container shares the host's kernel, clock and disks. */
async function inContainer(r: PostureReader): Promise<boolean> {
  const m = await r.cmd('container-markers')
  const out = m.ok ? m.stdout : (m.stdout ?? '')
  return out.split('\n').some((l) => l === '/.dockerenv' || l === '/run/.containerenv')
}

// ---------------------------------------------------------------------------------------------------------------------
// Linux controls
// ---------------------------------------------------------------------------------------------------------------------

async function linuxDisk(r: PostureReader): Promise<Outcome> {
  const mounts = await r.file(POSTURE_FILES.mounts)
  const root = mounts.ok ? rootMount(mounts.stdout) : undefined
  if (!root) return { skip: `not determinable: no / entry read from /proc/mounts${mounts.ok ? '' : ` (${mounts.why})`}` }
  if (NOT_A_DISK.has(root.fstype) || root.fstype.startsWith('fuse'))
    return { skip: `not determinable in a container or on a network root: / is ${root.fstype} (${root.source}), not a disk of this machine — check the host or the volume's encryption` }
  if (root.fstype === 'zfs') return { skip: `not determinable: / is ZFS (${root.source}); ZFS native encryption is not read` }
  const lsblk = await r.cmd('lsblk', BIG)
  if (!lsblk.ok) return orOsquery(r, `not determinable: ${lsblk.why}`)
  const chain = lsblkRootChain(lsblk.stdout)
  if (!chain) return orOsquery(r, `not determinable: lsblk shows no block device mounted on / (root ${root.source}, ${root.fstype})`)
  const path = chain.map((n) => `${n.name} (${n.type}${n.fstype ? ` ${n.fstype}` : ''})`).join(' → ')
  const enc = chainEncrypted(chain)
  return { pass: enc, state: enc ? `/ is on dm-crypt: ${path}` : `/ is not encrypted: ${path}, no dm-crypt layer`, evidence: { root: root.source, fstype: root.fstype, devices: path } }
}

/**
 * Where the shell reads could not tell, osquery's disk_encryption for the device mounted on / (when osqueryi is installed);
 * otherwise the skip, with what osquery said when it was there but could not answer.
 */
async function orOsquery(r: PostureReader, skip: string): Promise<Outcome> {
  const q = await r.cmd('osquery-root-encryption')
  if (!q.ok) return { skip: q.absent ? skip : `${skip}; osqueryi: ${q.why.slice(q.why.indexOf(': ') + 2)}` }
  const v = osqueryRootEncryption(q.stdout)
  if (!v || v === 'no-row') return { skip: `${skip}; osquery: ${v ? 'disk_encryption has no row for the device mounted on /' : 'no readable row for /'}` }
  const what = [v.device, v.type, v.status].filter(Boolean).join(', ')
  return { pass: v.encrypted, state: `/ is ${v.encrypted ? '' : 'not '}encrypted (osquery disk_encryption: ${what})`, evidence: { source: 'osquery disk_encryption', device: v.device, type: v.type || 'none', encryptionStatus: v.status || 'unknown' } }
}

async function linuxFirewall(r: PostureReader): Promise<Outcome> {
  const [nft, v4, v6, v6off] = await Promise.all([r.cmd('nft', BIG), r.cmd('iptables-save', BIG), r.cmd('ip6tables-save', BIG), r.file(POSTURE_FILES.ipv6Disabled)])
  const v4Chains: string[] = []
  const v6Chains: string[] = []
  let v4Deny = false
  let v6Deny = false
  const read: string[] = []
  if (nft.ok) {
    const p = nftInbound(nft.stdout)
    if (p) {
      read.push('nft')
      v4Chains.push(...p.v4.map((c) => `nft ${c}`))
      v6Chains.push(...p.v6.map((c) => `nft ${c}`))
      v4Deny ||= p.v4Deny
      v6Deny ||= p.v6Deny
    }
  }
  for (const [res, fam] of [[v4, 4], [v6, 6]] as const) {
    if (!res.ok) continue
    read.push(fam === 4 ? 'iptables-save' : 'ip6tables-save')
    const p = iptablesInbound(res.stdout)
    if (!p) continue
    ;(fam === 4 ? v4Chains : v6Chains).push(`${fam === 4 ? 'iptables' : 'ip6tables'} ${p.chain}`)
    if (fam === 4) v4Deny ||= p.deny
    else v6Deny ||= p.deny
  }
  if (!read.length) {
    const why = [nft, v4].map((x) => (x.ok ? '' : x.why)).filter(Boolean)
    const absent = !nft.ok && nft.absent && !v4.ok && v4.absent
    return { skip: absent ? 'not determinable: neither nft nor iptables-save is installed' : `not determinable: the ruleset could not be read (${why.join('; ')}) — reading it needs root` }
  }
  // IPv6 needs a filter unless it is off (disable_ipv6 = 1, or no IPv6 stack at all).
  const v6Needed = v6off.ok ? v6off.stdout.trim() !== '1' : !v6off.absent && !/No such file/.test(v6off.why + (v6off.stderr ?? ''))
  const pass = v4Deny && (v6Deny || !v6Needed)
  const gaps = [!v4Deny && 'IPv4', !v6Deny && v6Needed && 'IPv6'].filter(Boolean).join(' and ')
  const none = !v4Chains.length && !v6Chains.length
  const state = pass
    ? `inbound denied by default${v6Needed ? '' : ' (IPv6 off)'}`
    : none ? 'no input filter chain: all inbound traffic allowed' : `${gaps} inbound allowed by default`
  return { pass, state, evidence: { read: read.join(', '), ipv4Chains: v4Chains.slice(0, 20), ipv6Chains: v6Needed ? v6Chains.slice(0, 20) : 'IPv6 disabled' } }
}

/** The support end of an OS release: exact version, then MAJOR.MINOR, then MAJOR; the policy's endOfSupport wins. */
export function supportEnd(id: string, version: string, overrides: Readonly<Record<string, string>>): { key: string; ends: string; estimate: boolean } | undefined {
  const parts = version.split('.').slice(0, 6)
  const table = support.ends as Record<string, string>
  for (let n = parts.length; n > 0; n--) {
    const v = parts.slice(0, n).join('.')
    const key = `${id}:${v}`
    if (Object.hasOwn(overrides, key)) return { key, ends: overrides[key]!, estimate: false }
    if (Object.hasOwn(table, key)) return { key, ends: table[key]!, estimate: support.estimates.includes(key) }
  }
  return undefined
}

const OS_NAMES: readonly [string, string][] = [
  ['ubuntu', 'ubuntu'], ['debian', 'debian'], ['red hat', 'rhel'], ['rhel', 'rhel'], ['rocky', 'rocky'], ['alma', 'almalinux'], ['centos', 'centos'],
  ['amazon linux', 'amzn'], ['alpine', 'alpine'], ['macos', 'macos'], ['mac os', 'macos'], ['os x', 'macos'], ['windows', 'windows'],
]

/**
 * An OS release from an inventory's OS name and version text (Fleet `os_version` "Ubuntu 22.04.3 LTS"; Intune
 * `operatingSystem` "Windows" + `osVersion` "10.0.22631.3296"): the table id and the longest dotted number.
 */
export function releaseOf(osText: string): { id: string; version: string } | undefined {
  const t = osText.slice(0, 200).toLowerCase()
  const id = OS_NAMES.find(([k]) => t.includes(k))?.[1]
  if (!id) return undefined
  let version: string | undefined
  for (const m of t.matchAll(/\d+(?:\.\d+)*/g)) if (!version || m[0].split('.').length > version.split('.').length) version = m[0]
  return version ? { id, version } : undefined
}

/** Judges an OS release named by an inventory (`undefined` when the text names no known OS or release). */
export function judgeReleaseText(osText: string, now: Date, overrides: Readonly<Record<string, string>>): Outcome {
  const r = releaseOf(osText)
  if (!r) return { skip: `${osText.slice(0, 80)}: no OS release recognised (known: ${[...new Set(OS_NAMES.map(([, id]) => id))].join(', ')})` }
  return judgeSupport(osText.slice(0, 80), r.id, r.version, now, overrides)
}

export function judgeSupport(name: string, id: string, version: string, now: Date, overrides: Readonly<Record<string, string>>): Outcome {
  const s = supportEnd(id, version, overrides)
  if (!s) return { skip: `${name}: not in the support table (checks/endpoint-agent/posture/os-support.json) — add "${id}:${version}" to endOfSupport` }
  const ended = Date.parse(`${s.ends}T23:59:59Z`) < now.getTime()
  const est = s.estimate ? ' (estimated: the vendor publishes no date)' : ''
  return { pass: !ended, state: ended ? `${name}: security support ended ${s.ends}${est}` : `${name}: supported until ${s.ends}${est}`, evidence: { release: s.key, endOfSupport: s.ends } }
}

async function linuxOs(r: PostureReader, now: Date, overrides: Readonly<Record<string, string>>): Promise<Outcome> {
  const f = await r.file(POSTURE_FILES.osRelease)
  if (!f.ok) return { skip: `not determinable: /etc/os-release not readable (${f.why})` }
  const o = parseOsRelease(f.stdout)
  const id = o.get('ID')
  const version = o.get('VERSION_ID')
  const name = o.get('PRETTY_NAME') ?? `${id} ${version}`
  if (!id || !/^[a-z0-9._-]{1,40}$/.test(id)) return { skip: 'not determinable: /etc/os-release has no ID' }
  if (!version || !/^[0-9][0-9.]{0,20}$/.test(version)) return { skip: `${name}: no numeric VERSION_ID (rolling or testing release): support not judged` }
  return judgeSupport(name, id, version, now, overrides)
}

async function linuxUpdates(r: PostureReader, now: Date, p: { maxPending: number; maxListAgeDays: number }): Promise<Outcome> {
  const sim = await r.cmd('apt-upgrades', BIG)
  if (!sim.ok) return sim.absent ? otherPackageManager(r, p.maxPending) : { skip: `not determinable: ${sim.why}` }
  const pending = aptPending(sim.stdout)
  const security = pending.filter((u) => u.security)
  const age = await r.cmd('apt-lists-age')
  const secs = age.ok ? Number(age.stdout.trim()) : NaN
  const days = Number.isFinite(secs) ? Math.max(0, Math.floor((now.getTime() - secs * 1000) / DAY)) : undefined
  const stale = days === undefined || days > p.maxListAgeDays
  const tooMany = security.length > p.maxPending
  const parts = [
    `${security.length} pending security update${security.length === 1 ? '' : 's'} (${pending.length} in all)`,
    days === undefined ? 'package lists age unknown' : `package lists ${days} day${days === 1 ? '' : 's'} old`,
  ]
  return {
    pass: !tooMany && !stale,
    state: parts.join(', '),
    evidence: {
      pendingSecurity: security.length, pendingAll: pending.length, packages: security.slice(0, 20).map((u) => `${u.name} ${u.version}`),
      listsAgeDays: days ?? 'unknown', maxPending: p.maxPending, maxListAgeDays: p.maxListAgeDays,
    },
  }
}

function judgePending(list: readonly SecurityUpdate[], source: string, maxPending: number, stale?: string): Outcome {
  const pkgs = [...new Set(list.map((u) => u.pkg))]
  const advisories = new Set(list.map((u) => u.advisory)).size
  const state = `${pkgs.length} pending security update${pkgs.length === 1 ? '' : 's'} (${advisories} advisor${advisories === 1 ? 'y' : 'ies'}, ${source})${stale ? `, ${stale}` : ''}`
  return {
    pass: pkgs.length <= maxPending && !stale,
    state,
    evidence: { source, pendingSecurity: pkgs.length, advisories, packages: pkgs.slice(0, 20), maxPending, ...(stale ? { stale } : {}) },
  }
}

/** Without apt: dnf's security advisories, else zypper's security patches; apk (no security classification) and others are named skips. */
async function otherPackageManager(r: PostureReader, maxPending: number): Promise<Outcome> {
  const dnf = await r.cmd('dnf-security', BIG)
  if (!(!dnf.ok && dnf.absent)) {
    if (!dnf.ok) return { skip: `not determinable: ${dnf.why}` }
    const list = dnfSecurity(dnf.stdout)
    return list ? judgePending(list, 'dnf updateinfo', maxPending) : { skip: 'not determinable: dnf updateinfo list --security printed no advisory list' }
  }
  const zy = await r.cmd('zypper-patches', BIG)
  if (!(!zy.ok && zy.absent)) {
    // zypper exits 100/101 when patches (security ones) are needed: its XML is read whatever the code.
    const res = zypperPatches(zy.ok ? zy.stdout : (zy.stdout ?? ''))
    if (!res) return { skip: `not determinable: ${zy.ok ? 'zypper list-patches printed no update status' : zy.why}` }
    const stale = res.outOfDate.length ? `repository metadata out of date (${res.outOfDate.slice(0, 5).join(', ')}: refreshing needs root)` : undefined
    return judgePending(res.updates, 'zypper list-patches', maxPending, stale)
  }
  const apk = await r.exist(['/sbin/apk'])
  if (apk.size) return { skip: 'pending security updates not determinable: apk (Alpine) does not tell security fixes from other upgrades' }
  return { skip: 'pending security updates not determinable: no apt-get, dnf or zypper' }
}

async function linuxAutoUpdates(r: PostureReader): Promise<Outcome> {
  const cfg = await r.cmd('apt-config')
  if (!cfg.ok) return { skip: cfg.absent ? 'not determinable: no apt-config (automatic updates are read on Debian and Ubuntu only: unattended-upgrades)' : `not determinable: ${cfg.why}` }
  const keys = ['APT::Periodic::Update-Package-Lists', 'APT::Periodic::Unattended-Upgrade']
  const v = aptConfigValues(cfg.stdout, keys)
  const installed = (await r.exist(['/usr/bin/unattended-upgrade'])).has('/usr/bin/unattended-upgrade')
  const on = (k: string): boolean => !!v.get(k) && v.get(k) !== '0'
  const pass = installed && keys.every(on)
  const state = !installed ? 'unattended-upgrades not installed' : pass ? 'unattended-upgrades on' : `unattended-upgrades installed but ${keys.filter((k) => !on(k)).join(' and ')} ${v.size ? 'is 0' : 'not set'}`
  return { pass, state, evidence: { unattendedUpgrades: installed ? 'installed' : 'absent', ...Object.fromEntries(keys.map((k) => [k, v.get(k) ?? 'unset'])) } }
}

async function linuxScreenLock(r: PostureReader, maxIdleSeconds: number): Promise<Outcome> {
  const sessions = await r.exist(['/usr/share/xsessions', '/usr/share/wayland-sessions'])
  if (!sessions.size) return { skip: 'no desktop on this host (no /usr/share/xsessions or /usr/share/wayland-sessions): screen lock does not apply' }
  const [lock, idle] = await Promise.all([r.cmd('gsettings-lock'), r.cmd('gsettings-idle')])
  if (!lock.ok) return { skip: `desktop installed, but screen lock not determinable: only GNOME's settings are read (${lock.why})` }
  if (!idle.ok) return { skip: `desktop installed, but screen lock not determinable: only GNOME's settings are read (${idle.why})` }
  const enabled = lock.stdout.trim() === 'true'
  const m = /^uint32 ([0-9]{1,9})$/.exec(idle.stdout.trim())
  const delay = m ? Number(m[1]) : undefined
  if (delay === undefined) return { skip: `desktop installed, but GNOME's idle-delay is unreadable (${JSON.stringify(idle.stdout.trim().slice(0, 40))})` }
  const pass = enabled && delay > 0 && delay <= maxIdleSeconds
  const state = !enabled ? 'GNOME screen lock disabled' : delay === 0 ? 'GNOME idle delay 0 (never blanks)' : `GNOME screen lock after ${delay} s idle (limit ${maxIdleSeconds} s)`
  return { pass, state, evidence: { scope: 'GNOME settings of the scanning user', lockEnabled: enabled, idleDelaySeconds: delay, maxIdleSeconds } }
}

async function linuxTime(r: PostureReader, container: boolean): Promise<Outcome> {
  const td = await r.cmd('timedatectl')
  if (td.ok) {
    const kv = keyValues(td.stdout)
    const synced = kv.get('NTPSynchronized')
    if (synced === 'yes' || synced === 'no')
      return { pass: synced === 'yes', state: synced === 'yes' ? 'clock synchronised (timedatectl NTPSynchronized=yes)' : `clock not synchronised (timedatectl NTP=${kv.get('NTP') ?? '?'}, NTPSynchronized=no)`, evidence: { source: 'timedatectl', ntp: kv.get('NTP') ?? 'unknown' } }
  }
  const ch = await r.cmd('chronyc')
  if (ch.ok) {
    const leap = chronyLeap(ch.stdout)
    if (leap) return { pass: leap === 'Normal', state: `chrony leap status ${leap}`, evidence: { source: 'chronyc tracking' } }
  }
  const why = [!td.ok ? td.why : 'timedatectl gave no NTPSynchronized', !ch.ok ? ch.why : 'chronyc gave no leap status'].join('; ')
  return { skip: `not determinable${container ? ' in a container (its clock is the host\'s: check the host)' : ''}: ${why}` }
}

// ---------------------------------------------------------------------------------------------------------------------
// macOS controls
// ---------------------------------------------------------------------------------------------------------------------

function unreadable(r: Ran, what: string): Outcome {
  return { skip: `not determinable: ${r.ok ? `${what} printed nothing recognisable` : r.why}` }
}

async function darwinDisk(r: PostureReader): Promise<Outcome> {
  const f = await r.cmd('fdesetup')
  const v = f.ok ? fileVault(f.stdout) : undefined
  if (v) return { pass: v.on, state: v.detail, evidence: { source: 'fdesetup status' } }
  const u = unreadable(f, 'fdesetup status')
  return 'skip' in u ? orOsquery(r, u.skip) : u
}

async function darwinFirewall(r: PostureReader): Promise<Outcome> {
  const [g, b] = await Promise.all([r.cmd('socketfilterfw-state'), r.cmd('socketfilterfw-blockall')])
  const fw = g.ok ? appFirewall(g.stdout) : undefined
  if (!fw) return unreadable(g, 'socketfilterfw --getglobalstate')
  const blockAll = b.ok ? appFirewallBlockAll(b.stdout) : undefined
  return { pass: fw.enabled, state: `${fw.state}${blockAll ? ', blocking all incoming connections' : ''}`, evidence: { source: 'socketfilterfw', blockAll: blockAll ?? 'unknown' } }
}

async function darwinOs(r: PostureReader, now: Date, overrides: Readonly<Record<string, string>>): Promise<Outcome> {
  const s = await r.cmd('sw-vers')
  const v = s.ok ? swVers(s.stdout) : undefined
  if (!v || !/^[0-9][0-9.]{0,20}$/.test(v.version)) return unreadable(s, 'sw_vers')
  return judgeSupport(`${v.name} ${v.version}`, 'macos', v.version, now, overrides)
}

async function darwinUpdates(r: PostureReader, maxPending: number): Promise<Outcome> {
  const s = await r.cmd('softwareupdate')
  const list = s.ok ? macUpdates(s.stdout + s.stderr) : undefined
  if (!list) return unreadable(s, 'softwareupdate -l')
  const rec = list.filter((u) => u.recommended)
  return {
    pass: rec.length <= maxPending,
    state: `${rec.length} recommended update${rec.length === 1 ? '' : 's'} pending (${list.length} in all)`,
    evidence: { pendingSecurity: rec.length, pendingAll: list.length, packages: rec.slice(0, 20).map((u) => u.title || u.label), maxPending },
  }
}

async function darwinAutoUpdates(r: PostureReader): Promise<Outcome> {
  const s = await r.cmd('softwareupdate-prefs')
  if (!s.ok) return unreadable(s, 'defaults read com.apple.SoftwareUpdate')
  const d = plistDefaults(s.stdout)
  const keys = ['AutomaticCheckEnabled', 'CriticalUpdateInstall']
  const missing = keys.filter((k) => !d.has(k))
  if (missing.length) return { skip: `not determinable: ${missing.join(' and ')} not set in /Library/Preferences/com.apple.SoftwareUpdate (the macOS default applies but is not verifiable; set it by configuration profile)` }
  const off = keys.filter((k) => d.get(k) !== '1')
  return { pass: !off.length, state: off.length ? `${off.join(' and ')} off` : 'automatic checks and security responses on', evidence: Object.fromEntries(keys.map((k) => [k, d.get(k)])) }
}

async function darwinScreenLock(r: PostureReader, maxIdleSeconds: number): Promise<Outcome> {
  const s = await r.cmd('screen-lock')
  const v = s.ok || s.stderr !== undefined ? screenLock(`${s.ok ? s.stdout : s.stdout ?? ''}\n${s.stderr ?? ''}`) : undefined
  if (!v) return unreadable(s, 'sysadminctl -screenLock status')
  const pass = v.on && (v.delaySeconds ?? Infinity) <= maxIdleSeconds
  return { pass, state: v.state, evidence: { scope: 'the scanning user', maxIdleSeconds } }
}

async function darwinTime(r: PostureReader): Promise<Outcome> {
  const s = await r.cmd('network-time')
  const on = s.ok ? networkTime(s.stdout) : undefined
  if (on === undefined) return unreadable(s, 'systemsetup -getusingnetworktime (needs root)')
  return { pass: on, state: `network time ${on ? 'on' : 'off'}`, evidence: { source: 'systemsetup' } }
}

// ---------------------------------------------------------------------------------------------------------------------
// Windows controls (over a Windows OpenSSH server; the commands are WINDOWS_COMMANDS' fixed lines)
// ---------------------------------------------------------------------------------------------------------------------

/** BitLocker of the operating-system volume: Get-BitLockerVolume's JSON, else manage-bde's English text (both need an administrator). */
async function windowsDisk(r: PostureReader): Promise<Outcome> {
  const j = await r.win('win-bitlocker')
  let vols: BitLockerVolume[] | undefined = j.ok ? bitLockerJson(j.stdout) : undefined
  let source = 'Get-BitLockerVolume'
  if (!vols) {
    const m = await r.win('manage-bde')
    vols = m.ok ? manageBde(m.stdout) : undefined
    source = 'manage-bde -status'
    if (!vols) {
      const whys = [j.ok ? 'Get-BitLockerVolume printed no volume' : j.why, m.ok ? 'manage-bde -status printed no volume (only its English output is read)' : m.why]
      return { skip: `not determinable: ${whys.join('; ')} — reading BitLocker needs an administrator` }
    }
  }
  const sys = vols.find((v) => v.system)
  if (!sys) return { skip: `not determinable: ${source} lists no operating-system volume (${vols.slice(0, 10).map((v) => v.mount).join(', ')})` }
  const pct = sys.percent === undefined ? '' : `, ${sys.percent}% encrypted`
  const evidence = { source, volume: sys.mount, volumeStatus: sys.status, protectionStatus: sys.protection, encryptionPercentage: sys.percent ?? 'unknown' }
  if (sys.status === 'unknown') return { skip: `not determinable: ${source} gives ${sys.mount} no documented conversion status` }
  if (!fullyEncrypted(sys.status)) return { pass: false, state: `system volume ${sys.mount} not fully encrypted (${sys.status}${pct})`, evidence }
  if (sys.protection === 'On') return { pass: true, state: `system volume ${sys.mount} encrypted, BitLocker protection on`, evidence }
  if (sys.protection === 'Off') return { pass: false, state: `system volume ${sys.mount} encrypted but BitLocker protection off (suspended: the key is stored in the clear)`, evidence }
  return { skip: `not determinable: ${source} gives ${sys.mount} protection status ${sys.protection}` }
}

function profileState(p: FirewallProfile): string {
  if (p.enabled === 'False') return `${p.name} off`
  const inbound = p.inbound === 'Block' ? 'inbound blocked by default' : p.inbound === 'Allow' ? 'inbound allowed by default' : `DefaultInboundAction ${p.inbound}`
  return `${p.name} ${p.enabled === 'True' ? 'on' : `Enabled ${p.enabled}`}, ${inbound}`
}

/** The effective firewall profiles: every one (Domain, Private, Public) must be on with inbound blocked by default. */
async function windowsFirewall(r: PostureReader): Promise<Outcome> {
  const f = await r.win('win-firewall')
  const profiles = f.ok ? firewallProfiles(f.stdout) : undefined
  if (!profiles) return unreadable(f, 'Get-NetFirewallProfile')
  const bad = profiles.filter((p) => p.enabled === 'False' || p.inbound === 'Allow')
  const unsure = profiles.filter((p) => !bad.includes(p) && (p.enabled !== 'True' || p.inbound !== 'Block'))
  const missing = ['Domain', 'Private', 'Public'].filter((n) => !profiles.some((p) => p.name === n))
  const state = profiles.slice(0, 10).map(profileState).join('; ')
  const evidence = { source: 'Get-NetFirewallProfile -PolicyStore ActiveStore', profiles: Object.fromEntries(profiles.slice(0, 10).map((p) => [p.name, p.raw])) }
  if (bad.length) return { pass: false, state, evidence }
  // NotConfigured or an undocumented value is not "on" (GpoBoolean is three-state), and a profile not listed is not judged.
  if (unsure.length || missing.length)
    return { skip: `not determinable: ${[unsure.length && `${unsure.map((p) => `${p.name} ${p.raw}`).join('; ')} (not True/Block in the active store)`, missing.length && `profile ${missing.join(', ')} not listed`].filter(Boolean).join('; ')}` }
  return { pass: true, state, evidence }
}

async function windowsOsSupport(r: PostureReader, now: Date, overrides: Readonly<Record<string, string>>): Promise<Outcome> {
  const w = await r.win('win-os')
  const v = w.ok ? windowsOs(w.stdout) : undefined
  if (!v) return unreadable(w, 'Win32_OperatingSystem')
  return judgeSupport(`${v.caption} ${v.version}`, 'windows', v.version, now, overrides)
}

/** Windows updates: the install date of the newest update Get-HotFix lists (pending updates are not read). */
async function windowsUpdates(r: PostureReader, now: Date, maxUpdateAgeDays: number): Promise<Outcome> {
  const h = await r.win('win-hotfix', BIG)
  const list = h.ok ? hotFixes(h.stdout) : undefined
  if (!list) return unreadable(h, 'Get-HotFix')
  const dated = list.filter((x) => x.installed).sort((a, b) => b.installed!.getTime() - a.installed!.getTime())
  const newest = dated[0]
  if (!newest) return { skip: `not determinable: none of the ${list.length} updates Get-HotFix lists has an install date` }
  const days = Math.max(0, Math.floor((now.getTime() - newest.installed!.getTime()) / DAY))
  return {
    pass: days <= maxUpdateAgeDays,
    state: `newest update ${newest.id} installed ${days} day${days === 1 ? '' : 's'} ago (limit ${maxUpdateAgeDays}); pending updates are not read on Windows`,
    evidence: { source: 'Get-HotFix', newest: newest.id, installedOn: newest.installed!.toISOString().slice(0, 10), updatesListed: list.length, maxUpdateAgeDays },
  }
}

/** The Windows Update policy (group policy or MDM): automatic install on a schedule (AUOptions 4) passes. */
async function windowsAutoUpdates(r: PostureReader): Promise<Outcome> {
  const a = await r.win('win-au-policy')
  const p = a.ok ? auPolicy(a.stdout) : undefined
  if (!p) {
    const said = `${a.stdout ?? ''}\n${a.ok ? a.stderr : (a.stderr ?? '')}`.slice(0, 4000)
    if (/Cannot find path|does not exist/.test(said) || (a.ok && !a.stdout.trim()))
      return { skip: 'not determinable: no Windows Update policy (HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\WindowsUpdate\\AU absent): the Windows default applies but is not verifiable — set it by group policy or MDM' }
    return unreadable(a, 'the Windows Update policy')
  }
  const evidence = { source: 'HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\WindowsUpdate\\AU', NoAutoUpdate: p.noAutoUpdate ?? 'unset', AUOptions: p.auOptions ?? 'unset' }
  if (p.noAutoUpdate === 1) return { pass: false, state: 'automatic updates turned off by policy (NoAutoUpdate 1)', evidence }
  if (p.auOptions === undefined) return { skip: 'not determinable: the Windows Update policy sets no AUOptions' }
  const what = AU_OPTIONS[p.auOptions] ?? 'not a documented value'
  return { pass: p.auOptions === 4, state: `AUOptions ${p.auOptions}: ${what}`, evidence }
}

// ---------------------------------------------------------------------------------------------------------------------

/** A host's OS for the posture controls: `uname -s` (Linux, macOS), else the Windows OS query (a Windows OpenSSH server). */
export async function postureOs(r: PostureReader): Promise<'linux' | 'darwin' | 'windows'> {
  try {
    return await hostOs(r.runner, r.perProbeMs)
  } catch (e) {
    if (!(e instanceof AttemptFailure) || e.reason !== 'protocol') throw e
    const w = await r.win('win-os')
    if (w.ok && windowsOs(w.stdout)) return 'windows'
    throw new AttemptFailure('protocol', `${r.where}: unsupported operating system (neither uname -s nor Win32_OperatingSystem answered; Linux, macOS and Windows are read)`)
  }
}

/** Reads every enabled posture control of one host. */
export async function observePosture(
  r: PostureReader,
  os: 'linux' | 'darwin' | 'windows',
  o: { now: Date; enabled: (rule: PostureRule) => boolean; params: <T>(rule: PostureRule) => T },
): Promise<Map<PostureRule, Outcome>> {
  const out = new Map<PostureRule, Outcome>()
  const endOfSupport = o.params<{ endOfSupport?: Record<string, string> }>('endpoint-agent-os-unsupported').endOfSupport ?? {}
  const upd = o.params<{ maxPending?: number; maxListAgeDays?: number; maxUpdateAgeDays?: number }>('endpoint-agent-updates-pending')
  const maxIdle = o.params<{ maxIdleSeconds?: number }>('endpoint-agent-screen-lock-off').maxIdleSeconds ?? 900
  const container = os === 'linux' && (await inContainer(r))
  const controls: [PostureRule, () => Promise<Outcome>][] =
    os === 'linux'
      ? [
          ['endpoint-agent-disk-unencrypted', () => linuxDisk(r)],
          ['endpoint-agent-firewall-off', () => linuxFirewall(r)],
          ['endpoint-agent-os-unsupported', () => linuxOs(r, o.now, endOfSupport)],
          ['endpoint-agent-updates-pending', () => linuxUpdates(r, o.now, { maxPending: upd.maxPending ?? 0, maxListAgeDays: upd.maxListAgeDays ?? 7 })],
          ['endpoint-agent-auto-updates-off', () => linuxAutoUpdates(r)],
          ['endpoint-agent-screen-lock-off', () => linuxScreenLock(r, maxIdle)],
          ['endpoint-agent-time-unsynced', () => linuxTime(r, container)],
        ]
      : os === 'windows'
      ? [
          ['endpoint-agent-disk-unencrypted', () => windowsDisk(r)],
          ['endpoint-agent-firewall-off', () => windowsFirewall(r)],
          ['endpoint-agent-os-unsupported', () => windowsOsSupport(r, o.now, endOfSupport)],
          ['endpoint-agent-updates-pending', () => windowsUpdates(r, o.now, upd.maxUpdateAgeDays ?? 40)],
          ['endpoint-agent-auto-updates-off', () => windowsAutoUpdates(r)],
          ['endpoint-agent-screen-lock-off', async () => ({ skip: 'not read on Windows: the screen lock is a per-user policy (judge it from the MDM, e.g. Intune compliance)' })],
          ['endpoint-agent-time-unsynced', async () => ({ skip: 'not read on Windows yet (w32tm is not among the fixed commands)' })],
        ]
      : [
          ['endpoint-agent-disk-unencrypted', () => darwinDisk(r)],
          ['endpoint-agent-firewall-off', () => darwinFirewall(r)],
          ['endpoint-agent-os-unsupported', () => darwinOs(r, o.now, endOfSupport)],
          ['endpoint-agent-updates-pending', () => darwinUpdates(r, upd.maxPending ?? 0)],
          ['endpoint-agent-auto-updates-off', () => darwinAutoUpdates(r)],
          ['endpoint-agent-screen-lock-off', () => darwinScreenLock(r, maxIdle)],
          ['endpoint-agent-time-unsynced', () => darwinTime(r)],
        ]
  for (const [rule, read] of controls) if (o.enabled(rule)) out.set(rule, await read())
  if (container) for (const [rule, v] of out) if ('pass' in v) out.set(rule, { ...v, evidence: { ...v.evidence, environment: 'container (/.dockerenv or /run/.containerenv present)' } })
  return out
}

/** Reads the host's OS, then reports its posture controls (resource `posture:CONTROL`); slow commands get `slowMs`. */
export async function reportPosture(ctx: CheckContext<PostureRule>, runner: ProbeRunner, t: { perProbeMs: number; slowMs: number }): Promise<void> {
  const reader = new PostureReader(runner, t.perProbeMs, ctx.signal, t.slowMs)
  const os = await postureOs(reader)
  const outcomes = await observePosture(reader, os, { now: ctx.now(), enabled: (r) => ctx.enabled(r), params: <T>(r: PostureRule) => ctx.params(r) as T })
  for (const [rule, v] of outcomes) {
    if ('skip' in v) ctx.skip(rule, `${runner.where}: ${v.skip}`)
    else ctx.report(rule, v.pass ? 'pass' : 'fail', { resource: `posture:${rule.slice('endpoint-agent-'.length)}`, evidence: { host: runner.where, os, ...v.evidence, state: v.state } })
  }
}
