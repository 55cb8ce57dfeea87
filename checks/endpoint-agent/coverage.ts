/**
 * @fileoverview Coverage across inventories: every device one inventory (MDM, EDR) lists must be in each other one.
 * Devices are matched on serial number, then normalised host name, then MAC address — each key only where it names one
 * device in both inventories (a serial reused by cloned VMs or a host name given twice matches nothing), and a host-name or
 * MAC match is refused when both records carry different serials. Linear in the number of devices (hash maps only); the
 * exports are streamed and only each device's id, host name, serial and MACs are kept.
 */
import { defineCheck, type CheckContext } from '../../src/engine/check.ts'
import { AttemptFailure } from '../../src/errors.ts'
import type { Target } from '../../src/types.ts'
import { providerOf, type DeviceRecord } from './inventory.ts'
import { streamInventory } from './inventory-stream.ts'
import { streamedExportTimeout } from '../../src/lib-json-stream.ts'

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

/** Key → device ordinal; -1 when more than one device holds the key (it matches nothing). */
type KeyMap = Map<string, number>

/**
 * The devices of one inventory reduced to what coverage needs — id, host name, serial and MACs (no other field of the
 * record) — and their keys indexed: key → the one device holding it.
 */
export class KeyIndex {
  readonly #serial: KeyMap = new Map()
  readonly #host: KeyMap = new Map()
  readonly #mac: KeyMap = new Map()
  readonly ids: string[] = []
  readonly hosts: string[] = []
  readonly serials: (string | undefined)[] = []
  readonly macs: (readonly string[] | undefined)[] = []

  get size(): number {
    return this.ids.length
  }

  /** Adds a device; returns its ordinal. */
  add(d: Pick<DeviceRecord, 'id' | 'host' | 'serial' | 'macs'>): number {
    const j = this.ids.length
    this.ids.push(d.id)
    this.hosts.push(d.host)
    this.serials.push(d.serial)
    this.macs.push(d.macs?.length ? d.macs : undefined)
    const put = (m: KeyMap, k: string | undefined): void => {
      if (k === undefined) return
      const prev = m.get(k)
      m.set(k, prev === undefined || prev === j ? j : -1)
    }
    put(this.#serial, d.serial)
    put(this.#host, this.hostKey(j))
    for (const mac of d.macs ?? []) put(this.#mac, mac)
    return j
  }

  /** A device's host-name key: none for a record named by its id only (no host name in the export). */
  hostKey(j: number): string | undefined {
    const host = this.hosts[j]!
    return (host && host !== this.ids[j] ? normalHost(host) : undefined) || undefined
  }

  /** The one device holding `k` for that key kind; -1 when none or several do. */
  unique(kind: 'serial' | 'hostname' | 'mac', k: string | undefined): number {
    if (k === undefined) return -1
    const m = kind === 'serial' ? this.#serial : kind === 'hostname' ? this.#host : this.#mac
    return m.get(k) ?? -1
  }
}

/** How device `j` of `a` is found in `b`: the ordinal matched (-1: missing), on which key, and its value. */
export function matchOf(a: KeyIndex, j: number, b: KeyIndex): { match: number; matchedOn?: 'serial' | 'hostname' | 'mac'; key?: string } {
  // Keys unique on both sides only: a serial two devices of `a` share cannot tell them apart.
  const s = a.serials[j]
  const serial = s !== undefined && a.unique('serial', s) === j ? s : undefined
  const bySerial = b.unique('serial', serial)
  if (bySerial >= 0) return { match: bySerial, matchedOn: 'serial', key: serial }
  // Host name and MAC: refused when both records carry a (unique) serial and the serials differ.
  const agrees = (m: number): boolean => {
    const ms = b.serials[m]
    const mSerial = ms !== undefined && b.unique('serial', ms) === m ? ms : undefined
    return serial === undefined || mSerial === undefined || serial === mSerial
  }
  const h = a.hostKey(j)
  const host = h !== undefined && a.unique('hostname', h) === j ? h : undefined
  const byHost = b.unique('hostname', host)
  if (byHost >= 0 && agrees(byHost)) return { match: byHost, matchedOn: 'hostname', key: host }
  for (const mac of a.macs[j] ?? []) {
    if (a.unique('mac', mac) !== j) continue
    const byMac = b.unique('mac', mac)
    if (byMac >= 0 && agrees(byMac)) return { match: byMac, matchedOn: 'mac', key: mac }
  }
  return { match: -1 }
}

/** Matches every device of `from` against `to` (one direction). */
export function coverage(from: readonly DeviceRecord[], to: readonly DeviceRecord[]): CoverageResult[] {
  const a = new KeyIndex()
  const b = new KeyIndex()
  for (const d of from) a.add(d)
  for (const d of to) b.add(d)
  return from.map((device, j) => {
    const m = matchOf(a, j, b)
    return m.match >= 0 ? { device, match: to[m.match], matchedOn: m.matchedOn, key: m.key } : { device }
  })
}

// ---------------------------------------------------------------------------------------------------------------------
// The check: `coverage:PROVIDER:FILE,PROVIDER:FILE[,…]`
// ---------------------------------------------------------------------------------------------------------------------

const pct = (a: number, b: number): string => `${a} of ${b} (${b ? (Math.round((a / b) * 1000) / 10).toFixed(1) : '0.0'} %)`

/**
 * Reports, for every ordered pair of inventories, each device of the first as found in (pass) or missing from (fail) the
 * second. Each export is streamed (validated, then its judged devices read once): memory holds each device's id, host name,
 * serial and MACs and the key maps, never whole records.
 */
async function runCoverage(target: Target, ctx: CheckContext<'endpoint-agent-coverage-gap'>): Promise<void> {
  const list = target.inventories
  if (!Array.isArray(list) || list.length < 2) throw new AttemptFailure('input', `${target.id}: at least two inventories are needed`)
  const inventories: { label: string; index: KeyIndex }[] = []
  const labels = new Map<string, number>()
  for (const inv of list as { provider?: unknown; path?: unknown }[]) {
    const provider = providerOf(inv?.provider)
    if (!provider) throw new AttemptFailure('input', `${target.id}: unknown inventory provider ${JSON.stringify(inv?.provider)} (expected crowdstrike, defender, sentinelone, intune, osquery/fleet or jamf)`)
    const path = inv.path
    if (typeof path !== 'string') throw new AttemptFailure('input', `${target.id}: a file path is required for ${provider}`)
    const n = (labels.get(provider) ?? 0) + 1
    labels.set(provider, n)
    const index = new KeyIndex()
    await streamInventory(provider, () => ctx.net.readStream(path), path, (d) => void index.add(d))
    inventories.push({ label: n > 1 ? `${provider}#${n}` : provider, index })
  }
  for (const from of inventories)
    for (const to of inventories) {
      if (from === to) continue
      const a = from.index
      // Each device matched once: the match and how (0 serial, 1 host name, 2 + k the device's k-th MAC), kept in typed
      // arrays for the findings written after the covered share is known.
      const match = new Int32Array(a.size)
      const how = new Int32Array(a.size)
      let found = 0
      for (let j = 0; j < a.size; j++) {
        const r = matchOf(a, j, to.index)
        match[j] = r.match
        if (r.match < 0) continue
        found++
        how[j] = r.matchedOn === 'serial' ? 0 : r.matchedOn === 'hostname' ? 1 : 2 + a.macs[j]!.indexOf(r.key!)
      }
      const covered = pct(found, a.size)
      const asset = `coverage:${from.label} in ${to.label}`
      ctx.log.info(`${from.label} devices in ${to.label}: ${covered}`)
      for (let j = 0; j < a.size; j++) {
        const m = match[j]!
        const [matchedOn, key] = m < 0 ? [] : how[j] === 0 ? (['serial', a.serials[j]] as const) : how[j] === 1 ? (['hostname', a.hostKey(j)] as const) : (['mac', a.macs[j]![how[j]! - 2]] as const)
        const [id, host, serial, macs] = [a.ids[j]!, a.hosts[j]!, a.serials[j], a.macs[j]]
        const keys = { serial: serial ?? 'none', hostname: host !== id ? normalHost(host) : 'none', macs: macs ?? [] }
        const tried = [serial && `serial ${serial}`, keys.hostname !== 'none' && `hostname ${keys.hostname}`, ...(macs ?? []).map((mac) => `MAC ${mac}`)].filter(Boolean).join(', ')
        ctx.report('endpoint-agent-coverage-gap', m >= 0 ? 'pass' : 'fail', {
          resource: `${from.label}:${id} in ${to.label}`,
          asset,
          evidence: {
            host, id, source: from.label, other: to.label, ...keys, covered,
            ...(m >= 0
              ? { state: `matched on ${matchedOn} ${key}`, matchedOn, key, matchedId: to.index.ids[m], matchedHost: to.index.hosts[m] }
              : { state: `missing (no unique match on ${tried || 'any key: the record has no serial, host name or MAC'})` }),
          },
        })
      }
    }
}

/** Coverage across inventories: a device listed by one (MDM, EDR) and missing from another is a finding. */
export const coverageCheck = defineCheck({
  id: 'endpoint-agent-coverage',
  family: 'endpoint-agent',
  targetKinds: ['inventory-coverage'],
  rules: ['endpoint-agent-coverage-gap'] as const,
  offline: true,
  timeout: (target, baseMs) => streamedExportTimeout(Array.isArray(target.inventories) ? (target.inventories as { path?: unknown }[]).map((i) => i?.path) : [], baseMs),
  run: runCoverage,
})
