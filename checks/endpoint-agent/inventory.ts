/**
 * @fileoverview EDR/MDM inventory exports as their APIs return them → one normalised record per device.
 * Each provider has a JSON Schema of the fields ztscan reads (other fields are ignored); a wrong type is an `input`
 * error naming the file and the JSON pointer of every bad field.
 *
 * Shapes: CrowdStrike `GET /devices/entities/devices/v2` ({resources: [...]}), Defender for Endpoint `GET /api/machines`
 * ({value: [...]}), SentinelOne `GET /web/api/v2.1/agents` ({data: [...]}), Microsoft Graph
 * `GET /deviceManagement/managedDevices` ({value: [...]}), Fleet `GET /api/v1/fleet/hosts` ({hosts: [...]}), Jamf Pro
 * `GET /api/v1/computers-inventory` ({results: [...]}, inventory-jamf.ts).
 * A bare array of the entries is accepted too.
 */
import { AttemptFailure, formatProblems, type FieldProblem } from '../../src/errors.ts'
import type { ValidateFunction } from 'ajv'
import { toProblems, validatorFor } from '../../src/lib-ajv.ts'
import type { Provider } from './catalogue.ts'
import { JAMF_ITEM, mapJamf } from './inventory-jamf.ts'

/** One device as an inventory sees it. */
export interface DeviceRecord {
  /** Provider's device id (stable across exports). */
  readonly id: string
  readonly host: string
  /** Catalogue agent id, or `intune` for an MDM record. */
  readonly agent: string
  readonly agentName: string
  readonly platform: 'linux' | 'darwin' | 'windows' | 'other'
  readonly version?: string
  /** ISO time of the last check-in; null when the provider says never. */
  readonly lastSeen?: string | null
  /** True/false when the provider states it; undefined when unknown. */
  readonly degraded?: boolean
  /** Raw state that decided `degraded`. */
  readonly sensorState?: string
  /** False when the provider lists the device but the agent is not onboarded on it. */
  readonly onboarded?: boolean
  readonly onboardingStatus?: string
  readonly compliance?: string
  readonly encrypted?: boolean
  /** The export's own words for the encryption state (Jamf `partitionFileVault2State ENCRYPTING (41%)`), for evidence. */
  readonly encryptionState?: string
  /** The OS as the export names it (`Ubuntu 22.04.3 LTS`, `Windows 10.0.22631.3296`), for the OS-support rule. */
  readonly os?: string
  /** Hardware serial number, when the export has one (coverage matching). */
  readonly serial?: string
  /** MAC addresses, when the export has them (coverage matching). */
  readonly macs?: readonly string[]
  /** Why the record is not judged as a device of its own (decommissioned agent, merged or excluded record). */
  readonly notJudged?: string
  /** SentinelOne: the agent reports the device infected. */
  readonly infected?: boolean
  /** SentinelOne: unresolved threats on the device. */
  readonly activeThreats?: number
  /** SentinelOne: actions the agent waits for (`userActionsNeeded`) and permissions it lacks (`missingPermissions`). */
  readonly actionsNeeded?: readonly string[]
  /** Containment state: CrowdStrike `status`, SentinelOne network quarantine (`networkStatus`); `normal` when not contained. */
  readonly containment?: string
  /** CrowdStrike Zero Trust Assessment scores (0-100), when the export carries them. */
  readonly zta?: { readonly overall?: number; readonly os?: number; readonly sensor_config?: number; readonly modified?: string }
  /** Tamper/uninstall protection: on, or off with the state the export gives (`DISABLED`, `MAINTENANCE_MODE`). */
  readonly tamper?: { readonly on: boolean; readonly state: string }
  /** The agent's link to its cloud: false when the export says the running agent does not reach it. */
  readonly connection?: { readonly connected: boolean; readonly state: string }
  /** Rules this record cannot be judged on because the export lacks the field: rule id → provider field name. */
  readonly absent?: Readonly<Record<string, string>>
}

/** Hint shown with a field an export lacks (Graph APIs drop fields outside `$select`). */
export const ABSENT_HINT: Record<Provider, string> = {
  crowdstrike: 'was the device details call made with a field filter?',
  defender: 'was it made with $select?',
  sentinelone: 'was the export trimmed to fewer columns?',
  intune: 'was it made with $select?',
  osquery: 'was the host list exported with fewer columns?',
  jamf: 'was it requested with every section= it needs (GENERAL, DISK_ENCRYPTION, OPERATING_SYSTEM, HARDWARE)?',
}

const str = { type: 'string' }
const score = { type: 'integer', minimum: 0, maximum: 100 }
const strOrNull = { type: ['string', 'null'] }

interface ProviderDef {
  readonly envelope: string
  readonly item: Record<string, unknown>
  readonly required: string[]
  /** Date fields checked as ISO 8601: top-level keys, or `section/key` paths. */
  readonly dates: readonly string[]
  /** The provider field each rule reads: a record without it is a named skip of that rule. */
  readonly ruleFields: Readonly<Record<string, string>>
  map(e: Record<string, unknown>): DeviceRecord
}

function platformOf(s: unknown): DeviceRecord['platform'] {
  const v = String(s ?? '').toLowerCase()
  if (/windows/.test(v)) return 'windows'
  if (/mac|darwin|osx/.test(v)) return 'darwin'
  if (/linux|ubuntu|debian|rhel|centos|fedora|amzn|suse|rocky|alma|oracle/.test(v)) return 'linux'
  return 'other'
}

const s = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined)
const strList = { type: 'array', maxItems: 1000 }
/** Entries of an array field as short strings (objects by their JSON), at most 20. */
function strings(v: unknown): string[] {
  if (!Array.isArray(v)) return []
  return v.slice(0, 20).map((x) => (typeof x === 'string' ? x : JSON.stringify(x) ?? String(x)).slice(0, 120))
}
/** MAC addresses of a record, lower-case `aa:bb:cc:dd:ee:ff`; all-zero and malformed ones dropped. */
export function normalMac(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined
  const hex = v.toLowerCase().replace(/[^0-9a-f]/g, '')
  if (hex.length !== 12 || /^0+$/.test(hex) || /^f+$/.test(hex)) return undefined
  return hex.replace(/(..)(?!$)/g, '$1:')
}
const macsOf = (...v: unknown[]): string[] | undefined => {
  const m = [...new Set(v.map(normalMac).filter((x): x is string => !!x))]
  return m.length ? m : undefined
}
/** Serial numbers that are placeholders (`0`, `000000000000`, "To Be Filled By O.E.M.", "System Serial Number") are no serial. */
export function normalSerial(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined
  const t = v.trim().toUpperCase()
  if (!t || /^0+$/.test(t) || /^(TO BE FILLED|SYSTEM SERIAL|DEFAULT STRING|NONE|N\/A|UNKNOWN|NOT SPECIFIED)/.test(t)) return undefined
  return t.slice(0, 200)
}
/** Which of a provider's rule fields an entry lacks (key absent; `null` counts as present: the provider said "none"). */
function absentOf(def: ProviderDef, e: Record<string, unknown>): Record<string, string> | undefined {
  let out: Record<string, string> | undefined
  for (const [rule, field] of Object.entries(def.ruleFields)) if (!Object.hasOwn(e, field)) (out ??= {})[rule] = field
  return out
}

// Defender `healthStatus` values: Active, Inactive, ImpairedCommunication, NoSensorData, NoSensorDataImpairedCommunication, Unknown
// (https://learn.microsoft.com/en-us/defender-endpoint/api/machine). Inactive is a stale device (caught by check-in age);
// ImpairedCommunication alone is a connection problem (endpoint-agent-not-connected), not a sensor one.
const DEFENDER_DEGRADED = new Set(['NoSensorData', 'NoSensorDataImpairedCommunication'])
// SentinelOne `operationalState`: na (normal), fully_disabled, partially_disabled, disabled_error, db_corruption.
const S1_DEGRADED = new Set(['fully_disabled', 'partially_disabled', 'disabled_error', 'db_corruption'])

const PROVIDERS: Record<Provider, ProviderDef> = {
  crowdstrike: {
    envelope: 'resources',
    item: {
      device_id: str, hostname: str, agent_version: str, last_seen: str, platform_name: str, reduced_functionality_mode: str, status: str, serial_number: str, mac_address: str,
      // PSFalcon `Get-FalconHost -Include zero_trust_assessment` adds the GET /zero-trust-assessment/entities/assessments/v1 entity.
      zero_trust_assessment: { type: ['object', 'null'], properties: { assessment: { type: 'object', properties: { overall: score, os: score, sensor_config: score } }, modified_time: str } },
      device_policies: { type: 'object', properties: { sensor_update: { type: 'object', properties: { uninstall_protection: str } } } },
    },
    required: ['device_id'],
    dates: ['last_seen'],
    ruleFields: { 'endpoint-agent-sensor-degraded': 'reduced_functionality_mode', 'endpoint-agent-stale-checkin': 'last_seen', 'endpoint-agent-outdated': 'agent_version', 'endpoint-agent-contained': 'status' },
    map: (e) => {
      const rfm = s(e.reduced_functionality_mode)?.toLowerCase()
      const zta = (e.zero_trust_assessment as { assessment?: Record<string, number>; modified_time?: string } | null | undefined)?.assessment
      const up = s((e.device_policies as { sensor_update?: { uninstall_protection?: string } } | undefined)?.sensor_update?.uninstall_protection)?.toUpperCase()
      const absent: Record<string, string> = {}
      if (!zta) absent['endpoint-agent-zta-score-low'] = 'zero_trust_assessment not in this export (PSFalcon: Get-FalconHost -Detailed -Include zero_trust_assessment; API: GET /zero-trust-assessment/entities/assessments/v1)'
      if (!up) absent['endpoint-agent-tamper-protection-off'] = 'device_policies.sensor_update.uninstall_protection not in this export (the device details of GET /devices/entities/devices/v2 carry it)'
      else if (up !== 'ENABLED' && up !== 'DISABLED' && up !== 'MAINTENANCE_MODE') absent['endpoint-agent-tamper-protection-off'] = 'uninstall_protection is none of ENABLED, DISABLED, MAINTENANCE_MODE: not judged'
      return {
        id: e.device_id as string, host: s(e.hostname) ?? (e.device_id as string), agent: 'crowdstrike-falcon', agentName: 'CrowdStrike Falcon sensor',
        platform: platformOf(e.platform_name), version: s(e.agent_version), lastSeen: s(e.last_seen),
        degraded: rfm === 'yes' ? true : rfm === 'no' ? false : undefined, sensorState: rfm ? `reduced_functionality_mode=${rfm}` : undefined,
        // `status`: normal, containment_pending, contained, lift_containment_pending.
        containment: s(e.status)?.toLowerCase(),
        serial: normalSerial(e.serial_number), macs: macsOf(e.mac_address),
        zta: zta ? { overall: zta.overall, os: zta.os, sensor_config: zta.sensor_config, modified: s((e.zero_trust_assessment as { modified_time?: unknown }).modified_time) } : undefined,
        // Sensor update policy uninstall protection: ENABLED; DISABLED; MAINTENANCE_MODE (bulk maintenance mode: one token uninstalls every sensor of the policy).
        tamper: up === 'ENABLED' ? { on: true, state: 'uninstall protection ENABLED' } : up === 'DISABLED' || up === 'MAINTENANCE_MODE' ? { on: false, state: `uninstall protection ${up}` } : undefined,
        ...(Object.keys(absent).length ? { absent } : {}),
      }
    },
  },
  defender: {
    envelope: 'value',
    item: { id: str, computerDnsName: strOrNull, healthStatus: strOrNull, onboardingStatus: strOrNull, lastSeen: strOrNull, agentVersion: strOrNull, osPlatform: strOrNull, isExcluded: { type: ['boolean', 'null'] }, mergedIntoMachineId: strOrNull },
    required: ['id'],
    dates: ['lastSeen'],
    ruleFields: { 'endpoint-agent-sensor-degraded': 'healthStatus', 'endpoint-agent-stale-checkin': 'lastSeen', 'endpoint-agent-missing': 'onboardingStatus', 'endpoint-agent-outdated': 'agentVersion', 'endpoint-agent-not-connected': 'healthStatus' },
    map: (e) => {
      const health = s(e.healthStatus)
      const onboarding = s(e.onboardingStatus)
      const merged = s(e.mergedIntoMachineId)
      return {
        notJudged: merged ? `merged into machine ${merged.slice(0, 64)}` : e.isExcluded === true ? 'excluded in Defender (isExcluded)' : undefined,
        id: e.id as string, host: s(e.computerDnsName) ?? (e.id as string), agent: 'defender-endpoint', agentName: 'Microsoft Defender for Endpoint',
        platform: platformOf(e.osPlatform), version: s(e.agentVersion), lastSeen: e.lastSeen === null ? null : s(e.lastSeen),
        degraded: health === undefined || health === 'Unknown' || health === 'Inactive' || health === 'ImpairedCommunication' ? undefined : DEFENDER_DEGRADED.has(health), sensorState: health ? `healthStatus=${health}` : undefined,
        // The device reports in, but its communication with the service is impaired (Inactive, a device gone quiet, is a stale check-in).
        connection: health === 'Active' ? { connected: true, state: `healthStatus=${health}` } : health?.endsWith('ImpairedCommunication') ? { connected: false, state: `healthStatus=${health}` } : undefined,
        onboarded: onboarding === undefined ? undefined : onboarding === 'Onboarded', onboardingStatus: onboarding,
      }
    },
  },
  sentinelone: {
    envelope: 'data',
    item: {
      id: str, computerName: str, agentVersion: str, isActive: { type: 'boolean' }, lastActiveDate: str, operationalState: strOrNull, networkStatus: strOrNull, mitigationMode: strOrNull, osType: str,
      infected: { type: 'boolean' }, activeThreats: { type: 'integer', minimum: 0 }, isDecommissioned: { type: 'boolean' }, userActionsNeeded: strList, missingPermissions: strList,
      serialNumber: strOrNull, networkInterfaces: { type: 'array', maxItems: 200, items: { type: 'object', properties: { physical: strOrNull } } },
    },
    required: ['id'],
    dates: ['lastActiveDate'],
    ruleFields: {
      'endpoint-agent-sensor-degraded': 'operationalState', 'endpoint-agent-stale-checkin': 'lastActiveDate', 'endpoint-agent-outdated': 'agentVersion',
      'endpoint-agent-active-threat': 'infected', 'endpoint-agent-action-needed': 'userActionsNeeded', 'endpoint-agent-contained': 'networkStatus', 'endpoint-agent-not-connected': 'isActive',
    },
    map: (e) => {
      const op = s(e.operationalState)
      const net = s(e.networkStatus)?.toLowerCase()
      const detectOnly = s(e.mitigationMode)?.toLowerCase() === 'detect'
      const needed = [...strings(e.userActionsNeeded), ...strings(e.missingPermissions).map((p) => `missing permission ${p}`)]
      const hasActions = Object.hasOwn(e, 'userActionsNeeded') || Object.hasOwn(e, 'missingPermissions')
      return {
        id: e.id as string, host: s(e.computerName) ?? (e.id as string), agent: 'sentinelone', agentName: 'SentinelOne Singularity agent',
        platform: platformOf(e.osType), version: s(e.agentVersion), lastSeen: s(e.lastActiveDate),
        // A policy in detect mode (`mitigationMode: detect`) reports threats and stops none: protection reduced to visibility.
        degraded: op === undefined && !detectOnly ? undefined : detectOnly || S1_DEGRADED.has(op!),
        sensorState: [op && `operationalState=${op}`, detectOnly && 'mitigationMode=detect (threats detected, not mitigated)'].filter(Boolean).join(', ') || undefined,
        notJudged: e.isDecommissioned === true ? 'agent decommissioned in SentinelOne (isDecommissioned)' : undefined,
        // `networkStatus` is SentinelOne's network quarantine: connected (normal), disconnected (quarantined), connecting, disconnecting.
        containment: net === 'connected' ? 'normal' : net === 'disconnected' || net === 'connecting' || net === 'disconnecting' ? `networkStatus=${net} (SentinelOne network quarantine)` : undefined,
        // `isActive`: the agent is in contact with the management console now.
        connection: typeof e.isActive === 'boolean' ? { connected: e.isActive, state: e.isActive ? 'isActive=true' : 'isActive=false (no contact with the management console)' } : undefined,
        infected: typeof e.infected === 'boolean' ? e.infected : undefined,
        activeThreats: typeof e.activeThreats === 'number' ? e.activeThreats : undefined,
        actionsNeeded: hasActions ? needed : undefined,
        serial: normalSerial(e.serialNumber),
        macs: macsOf(...(Array.isArray(e.networkInterfaces) ? (e.networkInterfaces as { physical?: unknown }[]).map((n) => n?.physical) : [])),
      }
    },
  },
  intune: {
    envelope: 'value',
    item: { id: str, deviceName: strOrNull, complianceState: str, isEncrypted: { type: 'boolean' }, lastSyncDateTime: str, operatingSystem: strOrNull, osVersion: strOrNull, serialNumber: strOrNull, wiFiMacAddress: strOrNull, ethernetMacAddress: strOrNull },
    required: ['id'],
    dates: ['lastSyncDateTime'],
    ruleFields: { 'endpoint-agent-device-noncompliant': 'complianceState', 'endpoint-agent-disk-unencrypted': 'isEncrypted', 'endpoint-agent-stale-checkin': 'lastSyncDateTime', 'endpoint-agent-os-unsupported': 'osVersion' },
    map: (e) => ({
      id: e.id as string, host: s(e.deviceName) ?? (e.id as string), agent: 'intune', agentName: 'Microsoft Intune',
      platform: platformOf(e.operatingSystem), lastSeen: s(e.lastSyncDateTime), compliance: s(e.complianceState),
      encrypted: typeof e.isEncrypted === 'boolean' ? e.isEncrypted : undefined,
      os: s(e.osVersion) ? `${s(e.operatingSystem) ?? ''} ${s(e.osVersion)}`.trim() : undefined,
      serial: normalSerial(e.serialNumber), macs: macsOf(e.wiFiMacAddress, e.ethernetMacAddress),
    }),
  },
  osquery: {
    envelope: 'hosts',
    item: {
      id: { type: ['integer', 'string'] }, uuid: str, hostname: str, osquery_version: str, seen_time: str, status: str, platform: str, hardware_serial: strOrNull, primary_mac: strOrNull,
      os_version: strOrNull, disk_encryption_enabled: { type: ['boolean', 'null'] },
    },
    required: ['id'],
    dates: ['seen_time'],
    ruleFields: { 'endpoint-agent-stale-checkin': 'seen_time', 'endpoint-agent-outdated': 'osquery_version', 'endpoint-agent-os-unsupported': 'os_version', 'endpoint-agent-disk-unencrypted': 'disk_encryption_enabled' },
    map: (e) => ({
      id: String(e.id), host: s(e.hostname) ?? String(e.id), agent: 'osquery', agentName: 'osquery (osqueryd)',
      platform: platformOf(e.platform), version: s(e.osquery_version), lastSeen: s(e.seen_time), os: s(e.os_version),
      // Fleet reports null where it does not know (Linux hosts without a disk encryption profile): a named skip, below.
      encrypted: typeof e.disk_encryption_enabled === 'boolean' ? e.disk_encryption_enabled : undefined,
      ...(e.disk_encryption_enabled === null ? { absent: { 'endpoint-agent-disk-unencrypted': 'disk_encryption_enabled is null (Fleet does not know it for this host)' } } : {}),
      serial: normalSerial(e.hardware_serial), macs: macsOf(e.primary_mac),
    }),
  },
  jamf: {
    envelope: 'results',
    item: JAMF_ITEM,
    required: ['id'],
    dates: ['general/lastContactTime'],
    // Jamf returns an unrequested section as null: mapJamf names the section= to add, per rule.
    ruleFields: {},
    map: (e) => mapJamf(e, { platformOf, normalSerial, macsOf }),
  },
}

/** Problems listed for a bad export; validation stops there. */
/** Problems an export's input error lists before validation stops. */
export const MAX_PROBLEMS = 20
const itemValidators = new Map<Provider, ValidateFunction>()

/** The JSON Schema of one entry of a provider's export. */
export function itemSchema(provider: Provider): Record<string, unknown> {
  const def = PROVIDERS[provider]
  return { type: 'object', required: def.required, properties: def.item }
}

/** The providers of inventory exports. */
export function inventoryProviders(): Provider[] {
  return Object.keys(PROVIDERS) as Provider[]
}

/** The validator of one entry of a provider's export (compiled once). */
function itemValidator(provider: Provider): ValidateFunction {
  let v = itemValidators.get(provider)
  if (!v) {
    v = validatorFor(itemSchema(provider))
    itemValidators.set(provider, v)
  }
  return v
}

/** Provider names accepted in `inventory:PROVIDER:FILE` (`fleet` is an alias of `osquery`). */
export function providerOf(name: unknown): Provider | undefined {
  const n = String(name ?? '').toLowerCase()
  if (n === 'fleet') return 'osquery'
  return Object.hasOwn(PROVIDERS, n) ? (n as Provider) : undefined
}

/** The envelope field of a provider's export (`resources`, `value`, `data`, `hosts`). */
export function envelopeOf(provider: Provider): string {
  return PROVIDERS[provider].envelope
}

/** The input error for an export whose envelope holds no array (`actual`: what `typeof` says of what is there). */
export function envelopeError(provider: Provider, file: string, bare: boolean, actual: string): AttemptFailure {
  const def = PROVIDERS[provider]
  return new AttemptFailure('input', formatProblems(file, [{ pointer: bare ? '/' : `/${def.envelope}`, expected: `an array of ${provider} entries (the API's "${def.envelope}" field, or a bare array)`, actual }]))
}


/** The problems of one entry (`pointer`: where it is, `/resources/12`): schema, then dates; empty when it is valid. */
export function entryProblems(provider: Provider, e: unknown, pointer: string): FieldProblem[] {
  const validate = itemValidator(provider)
  if (!validate(e)) return toProblems(validate.errors, e, pointer)
  const out: FieldProblem[] = []
  for (const k of PROVIDERS[provider].dates) {
    const v = k.split('/').reduce<unknown>((o, p) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[p] : undefined), e)
    if (typeof v === 'string' && Number.isNaN(Date.parse(v))) out.push({ pointer: `${pointer}/${k}`, expected: 'an ISO 8601 date-time', actual: v })
  }
  return out
}

/** The input error listing `problems` (at most MAX_PROBLEMS; saying so when validation stopped there). */
export function problemsError(file: string, problems: readonly FieldProblem[]): AttemptFailure {
  return new AttemptFailure('input', formatProblems(file, problems.slice(0, MAX_PROBLEMS)) + (problems.length >= MAX_PROBLEMS ? `\n… validation stopped after the first ${MAX_PROBLEMS} problems` : ''))
}

/** The device record of a valid entry (see `entryProblems`). */
export function deviceOf(provider: Provider, e: Record<string, unknown>): DeviceRecord {
  const def = PROVIDERS[provider]
  const d = def.map(e)
  const absent = absentOf(def, e)
  return absent ? { ...d, absent: { ...d.absent, ...absent } } : d
}

/** Parses an export's text into device records; throws `AttemptFailure('input')` naming file and fields. */
export function parseInventory(provider: Provider, text: string, file: string): DeviceRecord[] {
  const def = PROVIDERS[provider]
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (err) {
    throw new AttemptFailure('input', `${file}: not JSON (${(err as Error).message.slice(0, 120)})`)
  }
  const bare = Array.isArray(data)
  const list = bare ? data : (data as Record<string, unknown> | null)?.[def.envelope]
  const prefix = bare ? '' : `/${def.envelope}`
  if (!Array.isArray(list)) throw envelopeError(provider, file, bare, typeof list)
  // Entry by entry, stopping at the first MAX_PROBLEMS: a huge export that is wrong everywhere costs no more than a
  // small one (ajv's allErrors over the whole array built an error object per bad field before any was dropped).
  const problems: FieldProblem[] = []
  for (let i = 0; i < list.length && problems.length < MAX_PROBLEMS; i++) problems.push(...entryProblems(provider, list[i], `${prefix}/${i}`))
  if (problems.length) throw problemsError(file, problems)
  return (list as Record<string, unknown>[]).map((e) => deviceOf(provider, e))
}

/**
 * Device records judged once each: records that are not devices of their own (decommissioned agents, Defender records
 * merged into another or excluded) are left out, and of records sharing an `id` the latest check-in is kept.
 */
export function judgedDevices(records: readonly DeviceRecord[]): { devices: DeviceRecord[]; notJudged: Map<string, number>; duplicates: number } {
  const byId = new Map<string, DeviceRecord>()
  const notJudged = new Map<string, number>()
  let duplicates = 0
  const seenAt = (d: DeviceRecord): number => (d.lastSeen ? Date.parse(d.lastSeen) : -Infinity)
  for (const d of records) {
    if (d.notJudged) {
      const why = d.notJudged.replace(/^merged into machine .*/, 'merged into another machine (mergedIntoMachineId)')
      notJudged.set(why, (notJudged.get(why) ?? 0) + 1)
      continue
    }
    const prev = byId.get(d.id)
    if (prev) {
      duplicates++
      if (seenAt(d) <= seenAt(prev)) continue
    }
    byId.set(d.id, d)
  }
  return { devices: [...byId.values()], notJudged, duplicates }
}
