/**
 * @fileoverview Pure parsers of what the Windows posture commands print (posture/commands.ts WINDOWS_COMMANDS), written from
 * Microsoft's documented output formats; the fixtures (fixtures/endpoint-agent/posture/windows/) name the command that
 * produces each and were not captured on Windows. Windows PowerShell 5.1's ConvertTo-Json writes enums as their numbers
 * (PowerShell 7 with -EnumsAsStrings, or a hand-made export, writes names): both are read. A value outside the documented
 * enums is `unknown`, never a pass. Input is at most the runner's byte cap; JSON.parse and line splitting are linear.
 */
import { boundedLines } from '../catalogue.ts'

/** A single object or an array of objects from ConvertTo-Json (PowerShell writes one object bare); BOM and junk tolerated. */
export function psObjects(text: string): Record<string, unknown>[] | undefined {
  const t = text.replace(/^\uFEFF/, '').trim()
  if (!t.startsWith('{') && !t.startsWith('[')) return undefined
  let v: unknown
  try {
    v = JSON.parse(t)
  } catch {
    return undefined
  }
  const all = Array.isArray(v) ? v : [v]
  const objs = all.filter((o): o is Record<string, unknown> => !!o && typeof o === 'object' && !Array.isArray(o))
  return objs.length ? objs.slice(0, 1000) : undefined
}

/** An enum value as its documented name: a number through `byNumber`, a string matched case-insensitively without spaces. */
function enumName<T extends string>(v: unknown, byNumber: Readonly<Record<number, T>>): T | 'unknown' {
  if (typeof v === 'number') return Object.hasOwn(byNumber, v) ? byNumber[v]! : 'unknown'
  if (typeof v === 'string') {
    const k = v.replace(/\s+/g, '').toLowerCase()
    return Object.values(byNumber).find((n) => n.toLowerCase() === k) ?? 'unknown'
  }
  return 'unknown'
}

/** A short printable rendering of a value the host sent (evidence only). */
function shown(v: unknown, max = 40): string {
  return String(typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : JSON.stringify(v) ?? 'absent').slice(0, max)
}

// ---------------------------------------------------------------------------------------------------------------------
// BitLocker
// ---------------------------------------------------------------------------------------------------------------------

/** Microsoft.BitLocker.Structures enums as Get-BitLockerVolume | ConvertTo-Json writes them. */
const VOLUME_STATUS = {
  0: 'FullyDecrypted', 1: 'FullyEncrypted', 2: 'EncryptionInProgress', 3: 'DecryptionInProgress', 4: 'EncryptionSuspended',
  5: 'DecryptionSuspended', 6: 'FullyEncryptedWipeInProgress', 7: 'FullyEncryptedWipeSuspended',
} as const
const PROTECTION_STATUS = { 0: 'Off', 1: 'On', 2: 'Unknown' } as const
const VOLUME_TYPE = { 0: 'OperatingSystem', 1: 'Data' } as const

/** One volume's BitLocker state, from either source. `status` is the VolumeStatus name (manage-bde's words without spaces). */
export interface BitLockerVolume {
  readonly mount: string
  /** The volume Windows runs from (VolumeType OperatingSystem, manage-bde's `[OS Volume]`). */
  readonly system: boolean
  readonly status: string
  readonly protection: 'On' | 'Off' | 'Unknown' | 'unknown'
  readonly percent?: number
}

const MOUNT = /^[A-Za-z]:$|^\\\\\?\\Volume\{[0-9A-Fa-f-]{36}\}\\$/

/** `Get-BitLockerVolume | ConvertTo-Json` (the full object or the fixed Select-Object): only state fields are read, never KeyProtector. */
export function bitLockerJson(text: string): BitLockerVolume[] | undefined {
  const objs = psObjects(text)
  if (!objs) return undefined
  const out: BitLockerVolume[] = []
  for (const o of objs) {
    if (typeof o.MountPoint !== 'string' || !('VolumeStatus' in o)) continue
    const mount = MOUNT.test(o.MountPoint) ? o.MountPoint : `volume ${JSON.stringify(o.MountPoint.slice(0, 20))}`
    const type = enumName(o.VolumeType, VOLUME_TYPE)
    const pct = typeof o.EncryptionPercentage === 'number' && o.EncryptionPercentage >= 0 && o.EncryptionPercentage <= 100 ? o.EncryptionPercentage : undefined
    // Without VolumeType (a trimmed export), C: is taken as the system volume and said so by the caller.
    out.push({ mount, system: type === 'OperatingSystem' || (o.VolumeType === undefined && /^c:$/i.test(mount)), status: enumName(o.VolumeStatus, VOLUME_STATUS), protection: enumName(o.ProtectionStatus, PROTECTION_STATUS), percent: pct })
  }
  return out.length ? out : undefined
}

/**
 * `manage-bde -status` (English): blocks starting `Volume C: [label]`, a `[OS Volume]` / `[Data Volume]` line, then
 * `Key:   value` lines (Conversion Status, Percentage Encrypted, Protection Status). Other languages give undefined.
 */
export function manageBde(text: string): BitLockerVolume[] | undefined {
  const lines = boundedLines(text).split('\n').slice(0, 20_000)
  const out: BitLockerVolume[] = []
  let cur: { mount: string; system: boolean; kv: Map<string, string> } | undefined
  const flush = (): void => {
    if (!cur) return
    const conv = cur.kv.get('conversion status')
    const prot = cur.kv.get('protection status')
    if (conv !== undefined) {
      const pm = /^([0-9]{1,3}(?:\.[0-9]{1,2})?)%$/.exec(cur.kv.get('percentage encrypted') ?? '')
      const status = conv.replace(/\s+/g, '')
      const known = Object.values(VOLUME_STATUS).find((n) => n.toLowerCase() === status.toLowerCase()) ?? (status.toLowerCase() === 'usedspaceonlyencrypted' ? 'UsedSpaceOnlyEncrypted' : 'unknown')
      const protection = prot?.startsWith('Protection On') ? 'On' : prot?.startsWith('Protection Off') ? 'Off' : prot?.startsWith('Protection Unknown') ? 'Unknown' : 'unknown'
      out.push({ mount: cur.mount, system: cur.system, status: known, protection, percent: pm ? Number(pm[1]) : undefined })
    }
    cur = undefined
  }
  for (const raw of lines) {
    const l = raw.trim()
    const v = /^Volume ([A-Za-z]:)(?: |$)/.exec(l)
    if (v) {
      flush()
      cur = { mount: v[1]!.toUpperCase(), system: false, kv: new Map() }
      continue
    }
    if (!cur) continue
    if (l === '[OS Volume]') cur.system = true
    const c = l.indexOf(':')
    if (c > 0 && c < 40) cur.kv.set(l.slice(0, c).trim().toLowerCase(), l.slice(c + 1).trim().slice(0, 80))
  }
  flush()
  return out.length ? out : undefined
}

/** Whether a VolumeStatus name means the whole volume is encrypted. */
export function fullyEncrypted(status: string): boolean {
  return status === 'FullyEncrypted' || status === 'UsedSpaceOnlyEncrypted' || status.startsWith('FullyEncryptedWipe')
}

// ---------------------------------------------------------------------------------------------------------------------
// Firewall
// ---------------------------------------------------------------------------------------------------------------------

/** NetSecurity's GpoBoolean (False 0, True 1, NotConfigured 2) and Action (NotConfigured 0, Allow 2, Block 4). */
const GPO_BOOLEAN = { 0: 'False', 1: 'True', 2: 'NotConfigured' } as const
const ACTION = { 0: 'NotConfigured', 2: 'Allow', 4: 'Block' } as const

export interface FirewallProfile {
  readonly name: string
  readonly enabled: 'True' | 'False' | 'NotConfigured' | 'unknown'
  readonly inbound: 'Allow' | 'Block' | 'NotConfigured' | 'unknown'
  /** The raw values, for evidence when they are not documented ones. */
  readonly raw: string
}

/** `Get-NetFirewallProfile | ConvertTo-Json` (full CIM objects or the fixed Select-Object): one entry per profile. */
export function firewallProfiles(text: string): FirewallProfile[] | undefined {
  const objs = psObjects(text)
  if (!objs) return undefined
  const out: FirewallProfile[] = []
  for (const [i, o] of objs.entries()) {
    if (!('Enabled' in o) && !('DefaultInboundAction' in o)) continue
    const name = typeof o.Name === 'string' && /^(Domain|Private|Public)$/.test(o.Name) ? o.Name : `profile #${i + 1}`
    const enabled = typeof o.Enabled === 'boolean' ? (o.Enabled ? 'True' : 'False') : enumName(o.Enabled, GPO_BOOLEAN)
    out.push({ name, enabled, inbound: enumName(o.DefaultInboundAction, ACTION), raw: `Enabled=${shown(o.Enabled)}, DefaultInboundAction=${shown(o.DefaultInboundAction)}` })
  }
  return out.length ? out : undefined
}

// ---------------------------------------------------------------------------------------------------------------------
// OS, updates, update policy
// ---------------------------------------------------------------------------------------------------------------------

/** `Get-CimInstance Win32_OperatingSystem | Select-Object Caption,Version,BuildNumber | ConvertTo-Json`. */
export function windowsOs(text: string): { caption: string; version: string } | undefined {
  const o = psObjects(text)?.[0]
  if (!o || typeof o.Version !== 'string' || !/^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,6}$/.test(o.Version)) return undefined
  const caption = typeof o.Caption === 'string' ? o.Caption.replace(/[^\x20-\x7e]/g, '?').trim().slice(0, 80) : ''
  if (caption && !caption.toLowerCase().includes('windows')) return undefined
  return { caption: caption || 'Windows', version: o.Version }
}

/** One installed update (Get-HotFix). */
export interface HotFix {
  readonly id: string
  readonly description: string
  readonly installed?: Date
}

/**
 * An InstalledOn value as ConvertTo-Json writes it: Windows PowerShell 5.1 `{"value": "/Date(ms)/", "DateTime": "…"}` or
 * the bare `/Date(ms)/` string, PowerShell 7 an ISO 8601 string; Win32_QuickFixEngineering's own `M/D/YYYY` is read too.
 */
export function psDate(v: unknown): Date | undefined {
  if (v && typeof v === 'object' && !Array.isArray(v)) return psDate((v as Record<string, unknown>).value)
  if (typeof v !== 'string' || v.length > 60) return undefined
  const ms = /^\/Date\((-?[0-9]{1,15})(?:[+-][0-9]{4})?\)\/$/.exec(v)
  if (ms) return new Date(Number(ms[1]))
  const us = /^([0-9]{1,2})\/([0-9]{1,2})\/([0-9]{4})$/.exec(v)
  if (us) return new Date(Date.UTC(Number(us[3]), Number(us[1]) - 1, Number(us[2])))
  if (/^[0-9]{4}-[0-9]{2}-[0-9]{2}(?:T[0-9:.]{2,20}(?:Z|[+-][0-9]{2}:[0-9]{2})?)?$/.test(v)) {
    const d = new Date(v)
    return Number.isNaN(d.getTime()) ? undefined : d
  }
  return undefined
}

/** `Get-HotFix | Select-Object HotFixID,Description,InstalledOn | ConvertTo-Json`. */
export function hotFixes(text: string): HotFix[] | undefined {
  const objs = psObjects(text)
  if (!objs) return undefined
  const out: HotFix[] = []
  for (const o of objs) {
    if (typeof o.HotFixID !== 'string') continue
    const d = psDate(o.InstalledOn)
    out.push({
      id: /^KB[0-9]{4,9}$/.test(o.HotFixID) ? o.HotFixID : JSON.stringify(o.HotFixID.slice(0, 20)),
      description: typeof o.Description === 'string' ? o.Description.replace(/[^\x20-\x7e]/g, '?').slice(0, 40) : '',
      installed: d && !Number.isNaN(d.getTime()) ? d : undefined,
    })
  }
  return out.length ? out : undefined
}

/** AUOptions of the Windows Update policy (learn.microsoft.com, "Configure Automatic Updates"). */
export const AU_OPTIONS: Readonly<Record<number, string>> = {
  2: 'notify before download',
  3: 'download automatically, notify to install',
  4: 'download and install automatically on a schedule',
  5: 'local administrator chooses',
  7: 'download automatically, notify to install and restart',
}

/** `Get-ItemProperty …\WindowsUpdate\AU | Select-Object NoAutoUpdate,AUOptions | ConvertTo-Json`. */
export function auPolicy(text: string): { noAutoUpdate?: number; auOptions?: number } | undefined {
  const o = psObjects(text)?.[0]
  if (!o) return undefined
  const int = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 100 ? v : undefined)
  return { noAutoUpdate: int(o.NoAutoUpdate), auOptions: int(o.AUOptions) }
}
