/**
 * @fileoverview Jamf Pro computer inventory as its API returns it: `GET /api/v1/computers-inventory?section=GENERAL&
 * section=DISK_ENCRYPTION&section=OPERATING_SYSTEM&section=HARDWARE` → `{totalCount, results: [...]}` (pages concatenated,
 * or a bare array of the results). Jamf returns a section that was not requested as `null`: a rule needing it is a named
 * skip saying which `section=` to add, never a pass. Fields read (developer.jamf.com, ComputerInventory):
 * general.name / platform / lastContactTime / jamfBinaryVersion, diskEncryption.bootPartitionEncryptionDetails
 * .partitionFileVault2State (else operatingSystem.fileVault2Status), operatingSystem.name / version, hardware.serialNumber /
 * macAddress / altMacAddress.
 */
import type { DeviceRecord } from './inventory.ts'

const strOrNull = { type: ['string', 'null'] }
const section = (properties: Record<string, unknown>): Record<string, unknown> => ({ type: ['object', 'null'], properties })

/** The JSON Schema of the fields read from one `results` entry (other fields are ignored). */
export const JAMF_ITEM: Record<string, unknown> = {
  id: { type: ['string', 'integer'] },
  udid: strOrNull,
  general: section({ name: strOrNull, platform: strOrNull, lastContactTime: strOrNull, jamfBinaryVersion: strOrNull }),
  diskEncryption: section({
    bootPartitionEncryptionDetails: section({ partitionName: strOrNull, partitionFileVault2State: strOrNull, partitionFileVault2Percent: { type: ['integer', 'null'] } }),
  }),
  operatingSystem: section({ name: strOrNull, version: strOrNull, build: strOrNull, fileVault2Status: strOrNull }),
  hardware: section({ serialNumber: strOrNull, macAddress: strOrNull, altMacAddress: strOrNull }),
}

/** ComputerPartitionFileVault2State: ENCRYPTED passes; these fail; UNKNOWN, INELIGIBLE and OPTIMIZING are not judged. */
const FV_NOT_ENCRYPTED = new Set(['UNENCRYPTED', 'DECRYPTED', 'DECRYPTING', 'DECRYPTING_PAUSED', 'ENCRYPTING', 'ENCRYPTING_PAUSED', 'RESTART_NEEDED'])
/** operatingSystem.fileVault2Status (older servers, or no boot partition details): ALL_/BOOT_ENCRYPTED pass. */
const OS_FV_ENCRYPTED = new Set(['ALL_ENCRYPTED', 'BOOT_ENCRYPTED'])
const OS_FV_NOT = new Set(['NOT_ENCRYPTED', 'SOME_ENCRYPTED'])

const obj = (v: unknown): Record<string, unknown> | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined)
const s = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined)

/** The section a rule needs, and the words of its skip when Jamf returned it as null (not requested). */
function notRequested(key: string, param: string): string {
  return `${key} not in this export — was it requested with section=${param}?`
}

/** FileVault of the boot volume: a verdict, or the reason it cannot be judged. */
function fileVault(disk: Record<string, unknown> | undefined, os: Record<string, unknown> | undefined): { encrypted: boolean; state: string } | { why: string } {
  const boot = obj(disk?.bootPartitionEncryptionDetails)
  const st = s(boot?.partitionFileVault2State)
  if (st === 'ENCRYPTED') return { encrypted: true, state: `partitionFileVault2State ${st}` }
  if (st && FV_NOT_ENCRYPTED.has(st)) {
    const pct = typeof boot?.partitionFileVault2Percent === 'number' ? ` (${boot.partitionFileVault2Percent}%)` : ''
    return { encrypted: false, state: `partitionFileVault2State ${st}${pct}` }
  }
  const osSt = s(os?.fileVault2Status)
  if (osSt && OS_FV_ENCRYPTED.has(osSt)) return { encrypted: true, state: `fileVault2Status ${osSt}` }
  if (osSt && OS_FV_NOT.has(osSt)) return { encrypted: false, state: `fileVault2Status ${osSt}` }
  if (!disk && !os) return { why: notRequested('diskEncryption', 'DISK_ENCRYPTION') }
  return { why: `FileVault state not judged: partitionFileVault2State ${JSON.stringify(st ?? null)}${osSt ? `, fileVault2Status ${JSON.stringify(osSt.slice(0, 40))}` : ''} (UNKNOWN, INELIGIBLE, OPTIMIZING or absent)` }
}

/** One `results` entry → a device record (validated against JAMF_ITEM before). `helpers` are inventory.ts's normalisers. */
export function mapJamf(e: Record<string, unknown>, h: { platformOf: (v: unknown) => DeviceRecord['platform']; normalSerial: (v: unknown) => string | undefined; macsOf: (...v: unknown[]) => string[] | undefined }): DeviceRecord {
  const general = obj(e.general)
  const disk = obj(e.diskEncryption)
  const os = obj(e.operatingSystem)
  const hw = obj(e.hardware)
  const id = String(e.id)
  const absent: Record<string, string> = {}
  if (!general) absent['endpoint-agent-stale-checkin'] = notRequested('general', 'GENERAL')
  else if (!Object.hasOwn(general, 'lastContactTime')) absent['endpoint-agent-stale-checkin'] = 'general.lastContactTime not in this export'
  if (!general) absent['endpoint-agent-outdated'] = notRequested('general', 'GENERAL')
  const fv = fileVault(disk, os)
  if ('why' in fv) absent['endpoint-agent-disk-unencrypted'] = fv.why
  const osName = s(os?.name)
  const osVersion = s(os?.version)
  if (!os) absent['endpoint-agent-os-unsupported'] = notRequested('operatingSystem', 'OPERATING_SYSTEM')
  return {
    id,
    host: s(general?.name) ?? id,
    agent: 'jamf',
    agentName: 'Jamf Pro',
    platform: h.platformOf(s(general?.platform) ?? 'mac'),
    version: s(general?.jamfBinaryVersion),
    lastSeen: general ? (general.lastContactTime === null ? null : s(general.lastContactTime)) : undefined,
    encrypted: 'encrypted' in fv ? fv.encrypted : undefined,
    encryptionState: 'state' in fv ? fv.state : undefined,
    os: osVersion ? `${osName ?? 'macOS'} ${osVersion}` : undefined,
    serial: h.normalSerial(hw?.serialNumber),
    macs: h.macsOf(hw?.macAddress, hw?.altMacAddress),
    ...(Object.keys(absent).length ? { absent } : {}),
  }
}
