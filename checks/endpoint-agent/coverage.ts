/**
 * @fileoverview Coverage across inventories: every device one inventory (MDM, EDR) lists must be in each other one.
 * Devices are matched on serial number, then normalised host name, then MAC address — each key only where it names one
 * device in both inventories (a serial reused by cloned VMs or a host name given twice matches nothing), and a host-name or
 * MAC match is refused when both records carry different serials. The exports are streamed; their keys are joined through
 * a sorted spill (`CoverageJoin`) and each device's id, host name, serial and MACs wait in a temporary file (`RecordFile`):
 * memory holds a few typed-array entries per device (about 25 bytes), not the keys, whatever the inventories' size.
 */
import type { CheckContext } from '../../src/engine/check.ts'
import { AttemptFailure } from '../../src/errors.ts'
import type { Target } from '../../src/types.ts'
import { providerOf, type DeviceRecord } from './inventory.ts'
import { streamInventory } from './inventory-stream.ts'
import { SpillStore } from '../../src/engine/spill.ts'
import { RecordFile } from '../../src/engine/record-file.ts'

/** How a device was found in another inventory, or why it was not. */
export interface CoverageResult {
  readonly device: DeviceRecord
  /** Matched record in the other inventory, when found. */
  readonly match?: DeviceRecord
  readonly matchedOn?: 'serial' | 'hostname' | 'mac'
  /** The key value that matched (serial, normalised host name or MAC). */
  readonly key?: string
}

/** Host names compared case-insensitively without their DNS domain (`WS-11.corp.example` = `ws-11`). */
export function normalHost(h: string): string {
  const t = h.trim().toLowerCase()
  const dot = t.indexOf('.')
  // An IP address is kept whole; a name loses its domain.
  return /^\d+\.\d+\.\d+\.\d+$/.test(t) || dot <= 0 ? t : t.slice(0, dot)
}

/** Key records kept in memory by a {@link CoverageJoin} before the rest spill to a temporary file (sorted runs). */
export const JOIN_MEMORY_RECORDS = 50_000

/** Key kinds in the order they are tried: each one's records sort before the next one's (the prefix of the record key). */
const SERIAL = '0'
const HOST = '1'
const MAC = '2'

/** A device's host-name key: none for a record named by its id only (no host name in the export). */
const hostKeyOf = (d: Pick<DeviceRecord, 'id' | 'host'>): string | undefined => (d.host && d.host !== d.id ? normalHost(d.host) : undefined) || undefined

/** How the devices of one inventory are found in another: per device, the ordinal matched (-1: missing) and how. */
export interface JoinDirection {
  /** Device ordinal in the other inventory, or -1. */
  readonly match: Int32Array
  /** 0: serial, 1: host name, 2 + k: the device's k-th MAC. */
  readonly how: Int32Array
}

/**
 * The exact join of several inventories' keys (serial, normalised host name, MACs) without holding them: each key a record
 * `(kind + key) → [inventory, device ordinal, MAC index]` in a {@link SpillStore} (past {@link JOIN_MEMORY_RECORDS} in memory,
 * sorted runs in a temporary file), read back merged in key order: every key's holders come together, serials first,
 * then host names, then MACs, so the matching sees one key at a time and keeps only typed arrays per device (its match and
 * how in each direction, and whether its serial is its own alone). Keys are compared exactly (no hash): memory does not grow
 * with the keys, and no two keys can be taken for one.
 *
 * The rules (as a key index per inventory would give them): a key matches where it names one device in both inventories;
 * a serial first, then the host name, then the device's MACs in their order; a host-name or MAC match is refused when
 * both devices carry a serial of their own and the serials differ.
 */
export class CoverageJoin {
  readonly #store: SpillStore<[number, number, number]>
  readonly #sizes: number[]
  #directions: JoinDirection[][] = []

  /** `inventories`: how many; `budget`: key records kept in memory before they spill (tests make it tiny). */
  constructor(inventories: number, budget = JOIN_MEMORY_RECORDS) {
    this.#store = new SpillStore<[number, number, number]>(budget)
    this.#sizes = new Array<number>(inventories).fill(0)
  }

  /** Adds the next device of inventory `inv`; returns its ordinal there. */
  add(inv: number, d: Pick<DeviceRecord, 'id' | 'host' | 'serial' | 'macs'>): number {
    const j = this.#sizes[inv]!++
    if (d.serial !== undefined) this.#store.add([inv, j, 0], SERIAL + d.serial)
    const host = hostKeyOf(d)
    if (host !== undefined) this.#store.add([inv, j, 0], HOST + host)
    const macs = d.macs ?? []
    for (let k = 0; k < macs.length; k++) this.#store.add([inv, j, k], MAC + macs[k]!)
    return j
  }

  /** Devices added to inventory `inv`. */
  size(inv: number): number {
    return this.#sizes[inv]!
  }

  /** Matches every device of each inventory in each other one (after the last {@link add}); the key records are released. */
  finish(): void {
    const n = this.#sizes.length
    this.#directions = this.#sizes.map((size, i) =>
      this.#sizes.map((_, t) => (i === t ? { match: new Int32Array(0), how: new Int32Array(0) } : { match: new Int32Array(size).fill(-1), how: new Int32Array(size) })),
    )
    // Per inventory: whether a device's serial is its own alone (a host-name or MAC match needs no two differing ones).
    const ownSerial = this.#sizes.map((size) => new Uint8Array(size))
    // The key being read: per inventory the one device holding it (-1: none, -2: several) and that device's first MAC index.
    const holder = new Float64Array(n)
    const index = new Int32Array(n)
    const close = (kind: string): void => {
      for (let i = 0; i < n; i++) {
        const x = holder[i]!
        if (x < 0) continue
        if (kind === SERIAL) ownSerial[i]![x] = 1
        for (let t = 0; t < n; t++) {
          const y = holder[t]!
          if (t === i || y < 0) continue
          const { match, how } = this.#directions[i]![t]!
          if (kind === SERIAL) {
            match[x] = y
            how[x] = 0
            continue
          }
          // Not when both carry serials of their own: equal ones matched already, so these differ.
          if (ownSerial[i]![x] && ownSerial[t]![y]) continue
          if (kind === HOST ? match[x]! < 0 : match[x]! < 0 || (how[x]! >= 2 && index[i]! < how[x]! - 2)) {
            match[x] = y
            how[x] = kind === HOST ? 1 : 2 + index[i]!
          }
        }
      }
    }
    let key: string | undefined
    try {
      for (const r of this.#store.sorted()) {
        if (r.key !== key) {
          if (key !== undefined) close(key[0]!)
          key = r.key
          holder.fill(-1)
        }
        const [inv, j, k] = r.value
        const h = holder[inv]!
        if (h === -1) {
          holder[inv] = j
          index[inv] = k
        } else if (h !== j) holder[inv] = -2
      }
      if (key !== undefined) close(key[0]!)
    } finally {
      this.#store.release()
    }
  }

  /** How the devices of inventory `from` are found in `to` (after {@link finish}). */
  direction(from: number, to: number): JoinDirection {
    return this.#directions[from]![to]!
  }

  /** Releases the key records (when {@link finish} was not reached). */
  release(): void {
    this.#store.release()
  }
}

/** The key a match was made on (`how` of {@link JoinDirection}). */
function matchedKey(d: Pick<DeviceRecord, 'id' | 'host' | 'serial' | 'macs'>, how: number): { matchedOn: 'serial' | 'hostname' | 'mac'; key: string } {
  return how === 0 ? { matchedOn: 'serial', key: d.serial! } : how === 1 ? { matchedOn: 'hostname', key: hostKeyOf(d)! } : { matchedOn: 'mac', key: d.macs![how - 2]! }
}

/** Matches every device of `from` against `to` (one direction); `budget`: key records in memory before they spill. */
export function coverage(from: readonly DeviceRecord[], to: readonly DeviceRecord[], budget = Infinity): CoverageResult[] {
  const join = new CoverageJoin(2, budget)
  for (const d of from) join.add(0, d)
  for (const d of to) join.add(1, d)
  join.finish()
  const { match, how } = join.direction(0, 1)
  return from.map((device, j) => (match[j]! >= 0 ? { device, match: to[match[j]!], ...matchedKey(device, how[j]!) } : { device }))
}

/** A device as the coverage findings show it, kept in a {@link RecordFile}: `[id, host, serial | null, macs | null]`. */
type DeviceLine = [string, string, string | null, readonly string[] | null]

const deviceLine = (d: DeviceRecord): DeviceLine => [d.id, d.host, d.serial ?? null, d.macs?.length ? d.macs : null]

/** Reads devices by ordinal from their file. */
function deviceReader(file: RecordFile<DeviceLine>): (j: number) => Pick<DeviceRecord, 'id' | 'host' | 'serial' | 'macs'> {
  const read = file.reader()
  return (j) => {
    const [id, host, serial, macs] = read(j)
    return { id, host, ...(serial === null ? {} : { serial }), ...(macs === null ? {} : { macs }) }
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// The check: `coverage:PROVIDER:FILE,PROVIDER:FILE[,…]`
// ---------------------------------------------------------------------------------------------------------------------

const pct = (a: number, b: number): string => `${a} of ${b} (${b ? (Math.round((a / b) * 1000) / 10).toFixed(1) : '0.0'} %)`

/**
 * Reports, for every ordered pair of inventories, each device of the first as found in (pass) or missing from (fail) the
 * second. Each export is streamed (validated, then its judged devices read once): its devices' id, host name, serial and
 * MACs go to a temporary file and their keys to the join; never whole records, nor keys, on the heap.
 */
/** The `endpoint-agent-coverage` check's code (declared in family.ts, which every scan loads; this module loads when it runs). */
export async function runCoverage(target: Target, ctx: CheckContext<'endpoint-agent-coverage-gap'>): Promise<void> {
  const list = target.inventories
  if (!Array.isArray(list) || list.length < 2) throw new AttemptFailure('input', `${target.id}: at least two inventories are needed`)
  const inventories: { label: string; devices: RecordFile<DeviceLine> }[] = []
  const labels = new Map<string, number>()
  const index = new CoverageJoin(list.length)
  try {
    for (const inv of list as { provider?: unknown; path?: unknown }[]) {
      const provider = providerOf(inv?.provider)
      if (!provider) throw new AttemptFailure('input', `${target.id}: unknown inventory provider ${JSON.stringify(inv?.provider)} (expected crowdstrike, defender, sentinelone, intune, osquery/fleet or jamf)`)
      const path = inv.path
      if (typeof path !== 'string') throw new AttemptFailure('input', `${target.id}: a file path is required for ${provider}`)
      const n = (labels.get(provider) ?? 0) + 1
      labels.set(provider, n)
      const devices = new RecordFile<DeviceLine>()
      const i = inventories.push({ label: n > 1 ? `${provider}#${n}` : provider, devices }) - 1
      await streamInventory(provider, () => ctx.net.readStream(path), path, (d) => {
        devices.add(deviceLine(d))
        index.add(i, d)
      })
    }
    index.finish()
    for (const [f, from] of inventories.entries())
      for (const [t, to] of inventories.entries()) {
        if (from === to) continue
        const { match, how } = index.direction(f, t)
        const size = index.size(f)
        let found = 0
        for (let j = 0; j < size; j++) if (match[j]! >= 0) found++
        const covered = pct(found, size)
        const asset = `coverage:${from.label} in ${to.label}`
        ctx.log.info(`${from.label} devices in ${to.label}: ${covered}`)
        const device = deviceReader(from.devices)
        const other = deviceReader(to.devices)
        for (let j = 0; j < size; j++) {
          const m = match[j]!
          const d = device(j)
          const [id, host, serial, macs] = [d.id, d.host, d.serial, d.macs]
          const keys = { serial: serial ?? 'none', hostname: host !== id ? normalHost(host) : 'none', macs: macs ?? [] }
          const tried = [serial && `serial ${serial}`, keys.hostname !== 'none' && `hostname ${keys.hostname}`, ...(macs ?? []).map((mac) => `MAC ${mac}`)].filter(Boolean).join(', ')
          let state: Record<string, unknown>
          if (m >= 0) {
            const { matchedOn, key } = matchedKey(d, how[j]!)
            const o = other(m)
            state = { state: `matched on ${matchedOn} ${key}`, matchedOn, key, matchedId: o.id, matchedHost: o.host }
          } else state = { state: `missing (no unique match on ${tried || 'any key: the record has no serial, host name or MAC'})` }
          ctx.report('endpoint-agent-coverage-gap', m >= 0 ? 'pass' : 'fail', {
            resource: `${from.label}:${id} in ${to.label}`,
            asset,
            evidence: { host, id, source: from.label, other: to.label, ...keys, covered, ...state },
          })
        }
      }
  } finally {
    index.release()
    for (const { devices } of inventories) devices.release()
  }
}

export { coverageCheck } from './family.ts'
