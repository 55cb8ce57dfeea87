/**
 * @fileoverview Pure parsers of what the Linux posture commands print (posture/commands.ts). Everything here reads text a
 * host sent: lines are bounded (boundedLines), JSON comes from a capped buffer, trees are walked to a fixed depth, and every
 * match is a plain string operation or a linear regex without nested quantifiers.
 */
import { boundedLines } from '../catalogue.ts'

const MAX_LINES = 20_000

function lines(text: string): string[] {
  return boundedLines(text).split('\n').slice(0, MAX_LINES)
}

/** `/etc/os-release` (KEY=value, the value optionally quoted) → map of keys. */
export function parseOsRelease(text: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const raw of lines(text)) {
    const line = raw.trim()
    const eq = line.indexOf('=')
    if (line.startsWith('#') || eq <= 0) continue
    let v = line.slice(eq + 1).trim()
    if (v.length >= 2 && (v[0] === '"' || v[0] === "'") && v.at(-1) === v[0]) v = v.slice(1, -1).replace(/\\(["'$`\\])/g, '$1')
    out.set(line.slice(0, eq), v.slice(0, 200))
  }
  return out
}

/** `/proc/mounts`: the file system mounted last on `/` (source, type), octal escapes decoded. */
export function rootMount(text: string): { source: string; fstype: string } | undefined {
  let found: { source: string; fstype: string } | undefined
  const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)))
  for (const line of lines(text)) {
    const [source, mountpoint, fstype] = line.split(' ')
    if (source && fstype && mountpoint !== undefined && unescape(mountpoint) === '/') found = { source: unescape(source).slice(0, 200), fstype: fstype.slice(0, 40) }
  }
  return found
}

/** File systems under which `/` is not a block device of this machine (a container's view, or a network root). */
export const NOT_A_DISK = new Set(['overlay', 'aufs', 'tmpfs', 'rootfs', 'fuse-overlayfs', 'shiftfs', 'nfs', 'nfs4', 'cifs', 'smb3', '9p', 'virtiofs', 'ramfs', 'squashfs'])

interface LsblkNode {
  readonly name: string
  readonly type: string
  readonly fstype: string | null
  readonly mountpoints: readonly string[]
  readonly children: readonly LsblkNode[]
}

function lsblkNode(v: unknown, depth: number): LsblkNode | undefined {
  if (!v || typeof v !== 'object' || depth > 16) return undefined
  const o = v as Record<string, unknown>
  const str = (x: unknown): string | null => (typeof x === 'string' ? x.slice(0, 200) : null)
  const mps = [o.mountpoint, ...(Array.isArray(o.mountpoints) ? o.mountpoints.slice(0, 64) : [])].filter((x): x is string => typeof x === 'string')
  const kids = Array.isArray(o.children) ? o.children.slice(0, 4096).map((c) => lsblkNode(c, depth + 1)).filter((c): c is LsblkNode => !!c) : []
  return { name: str(o.name) ?? '?', type: str(o.type) ?? '?', fstype: str(o.fstype), mountpoints: mps, children: kids }
}

/**
 * `lsblk -J -o NAME,TYPE,FSTYPE,MOUNTPOINT` → the chain of block devices from a disk down to the one mounted on `/`, or
 * undefined when no device is mounted there (or the JSON is not lsblk's).
 */
export function lsblkRootChain(json: string): { name: string; type: string; fstype: string | null }[] | undefined {
  let data: unknown
  try {
    data = JSON.parse(json)
  } catch {
    return undefined
  }
  const devs = (data as { blockdevices?: unknown })?.blockdevices
  if (!Array.isArray(devs)) return undefined
  const walk = (n: LsblkNode, path: LsblkNode[]): LsblkNode[] | undefined => {
    const here = [...path, n]
    if (n.mountpoints.includes('/')) return here
    for (const c of n.children) {
      const f = walk(c, here)
      if (f) return f
    }
    return undefined
  }
  for (const d of devs.slice(0, 4096)) {
    const n = lsblkNode(d, 0)
    const chain = n && walk(n, [])
    if (chain) return chain.map(({ name, type, fstype }) => ({ name, type, fstype }))
  }
  return undefined
}

/** Whether a root chain passes through dm-crypt (LUKS or plain). */
export function chainEncrypted(chain: readonly { type: string; fstype: string | null }[]): boolean {
  return chain.some((n) => n.type === 'crypt' || n.fstype === 'crypto_LUKS')
}

/** Inbound default per address family, as read from one ruleset. */
export interface InboundPolicy {
  /** Base chains hooked at input that filter IPv4 / IPv6 traffic (`family/table/chain policy`). */
  readonly v4: string[]
  readonly v6: string[]
  /** Whether one of those chains denies by default (policy drop, or an unconditional drop/reject at its end, without an unconditional accept). */
  v4Deny: boolean
  v6Deny: boolean
}

const NEUTRAL_EXPR = new Set(['counter', 'log', 'limit', 'comment'])

/** The verdict of an nft JSON rule when it is unconditional (only counters/logs before it); undefined otherwise. */
function unconditionalVerdict(expr: unknown): 'accept' | 'deny' | undefined {
  if (!Array.isArray(expr) || !expr.length || expr.length > 64) return undefined
  for (const e of expr.slice(0, -1)) if (!e || typeof e !== 'object' || !Object.keys(e).every((k) => NEUTRAL_EXPR.has(k))) return undefined
  const last = expr.at(-1) as Record<string, unknown> | null
  if (!last || typeof last !== 'object') return undefined
  if ('accept' in last) return 'accept'
  if ('drop' in last || 'reject' in last) return 'deny'
  return undefined
}

/** Judges a list of input chains: any one denying by default denies that family (nftables: every base chain must accept). */
function chainDenies(policy: string | undefined, verdicts: readonly ('accept' | 'deny' | undefined)[]): boolean {
  const firstUnconditional = verdicts.find((v) => v !== undefined)
  if (firstUnconditional) return firstUnconditional === 'deny'
  return policy === 'drop'
}

/** `nft -j list ruleset` → the inbound policy of the filter chains hooked at input (families ip, ip6, inet). */
export function nftInbound(json: string): InboundPolicy | undefined {
  let data: unknown
  try {
    data = JSON.parse(json)
  } catch {
    return undefined
  }
  const items = (data as { nftables?: unknown })?.nftables
  if (!Array.isArray(items)) return undefined
  const out: InboundPolicy = { v4: [], v6: [], v4Deny: false, v6Deny: false }
  const chains = new Map<string, { family: string; policy?: string; verdicts: ('accept' | 'deny' | undefined)[] }>()
  const key = (o: Record<string, unknown>, chain: unknown): string => `${String(o.family)}/${String(o.table)}/${String(chain)}`
  for (const it of items.slice(0, 200_000)) {
    const c = (it as { chain?: Record<string, unknown> })?.chain
    if (c && typeof c === 'object' && c.hook === 'input' && (c.type === undefined || c.type === 'filter') && ['ip', 'ip6', 'inet'].includes(String(c.family)))
      chains.set(key(c, c.name), { family: String(c.family), policy: typeof c.policy === 'string' ? c.policy : 'accept', verdicts: [] })
    const r = (it as { rule?: Record<string, unknown> })?.rule
    if (r && typeof r === 'object') chains.get(key(r, r.chain))?.verdicts.push(unconditionalVerdict(r.expr))
  }
  for (const [name, c] of chains) {
    const deny = chainDenies(c.policy, c.verdicts)
    const shown = `${name.slice(0, 120)} policy ${c.policy}${deny && c.policy !== 'drop' ? ' (ends in drop/reject)' : ''}`
    if (c.family !== 'ip6') {
      out.v4.push(shown)
      out.v4Deny ||= deny
    }
    if (c.family !== 'ip') {
      out.v6.push(shown)
      out.v6Deny ||= deny
    }
  }
  return out
}

/**
 * `iptables-save` / `ip6tables-save` → the filter table's INPUT chain: policy DROP without an unconditional ACCEPT rule,
 * or an unconditional DROP/REJECT rule, denies by default. Undefined when there is no filter INPUT chain.
 */
export function iptablesInbound(text: string): { chain: string; deny: boolean } | undefined {
  let table = ''
  let policy: string | undefined
  const verdicts: ('accept' | 'deny' | undefined)[] = []
  for (const raw of lines(text)) {
    const line = raw.trim()
    if (line.startsWith('*')) table = line.slice(1)
    if (table !== 'filter') continue
    if (line.startsWith(':INPUT ')) policy = line.split(' ')[1]
    else if (line.startsWith('-A INPUT ')) {
      const words = line.split(/\s+/).slice(2)
      const j = words.indexOf('-j')
      const target = j >= 0 ? words[j + 1] : undefined
      // Unconditional: nothing but the jump (and REJECT's --reject-with TYPE) in the rule.
      const rest: string[] = []
      for (let i = 0; i < words.length; i++) {
        if (i === j || words[i] === '--reject-with') i++
        else rest.push(words[i]!)
      }
      verdicts.push(rest.length ? undefined : target === 'ACCEPT' ? 'accept' : target === 'DROP' || target === 'REJECT' ? 'deny' : undefined)
    }
  }
  if (policy === undefined) return undefined
  const deny = chainDenies(policy === 'DROP' ? 'drop' : 'accept', verdicts)
  return { chain: `filter/INPUT policy ${policy}${deny && policy !== 'DROP' ? ' (ends in DROP/REJECT)' : ''}`, deny }
}

/** One upgrade `apt-get -s` would install. */
export interface PendingUpgrade {
  readonly name: string
  readonly version: string
  readonly security: boolean
}

/** `apt-get -s dist-upgrade` → the `Inst` lines; security when an origin is a `-security` suite (Debian, Ubuntu). */
export function aptPending(text: string): PendingUpgrade[] {
  const out: PendingUpgrade[] = []
  for (const line of lines(text)) {
    if (!line.startsWith('Inst ')) continue
    const name = line.slice(5, line.indexOf(' ', 5) >>> 0).slice(0, 100)
    const open = line.indexOf('(')
    const close = line.indexOf(')', open + 1)
    if (!name || open < 0 || close < 0) continue
    const origin = line.slice(open + 1, close)
    const version = origin.split(' ')[0] ?? ''
    out.push({ name, version: version.slice(0, 100), security: origin.includes('-security') || origin.includes('Debian-Security') })
  }
  return out
}

/** `apt-config dump` → the values of the keys asked for (`Key "value";`). */
export function aptConfigValues(text: string, keys: readonly string[]): Map<string, string> {
  const want = new Set(keys)
  const out = new Map<string, string>()
  for (const line of lines(text)) {
    const sp = line.indexOf(' "')
    if (sp <= 0) continue
    const k = line.slice(0, sp)
    if (!want.has(k)) continue
    const end = line.lastIndexOf('"')
    out.set(k, line.slice(sp + 2, end > sp + 1 ? end : undefined).slice(0, 100))
  }
  return out
}

/** KEY=VALUE lines (`timedatectl show`, `systemctl show`). */
export function keyValues(text: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const line of lines(text)) {
    const eq = line.indexOf('=')
    if (eq > 0) out.set(line.slice(0, eq), line.slice(eq + 1).trim().slice(0, 200))
  }
  return out
}

/** `chronyc -n tracking` → its Leap status line (`Normal` when synchronised, `Not synchronised` otherwise). */
export function chronyLeap(text: string): string | undefined {
  for (const line of lines(text)) {
    const c = line.indexOf(':')
    if (c > 0 && line.slice(0, c).trim() === 'Leap status') return line.slice(c + 1).trim().slice(0, 60)
  }
  return undefined
}
