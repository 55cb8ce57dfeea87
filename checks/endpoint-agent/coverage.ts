/**
 * @fileoverview Coverage across inventories: every device one inventory (MDM, EDR) lists must be in each other one.
 * Devices are matched on serial number, then normalised host name, then MAC address — each key only where it names one
 * device in both inventories (a serial reused by cloned VMs or a host name given twice matches nothing), and a host-name or
 * MAC match is refused when both records carry different serials. Linear in the number of devices (hash maps only).
 */
import { defineCheck, type CheckContext } from '../../src/engine/check.ts'
import { AttemptFailure } from '../../src/errors.ts'
import type { Target } from '../../src/types.ts'
import { judgedDevices, parseInventory, providerOf, type DeviceRecord } from './inventory.ts'

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

interface Keys {
  readonly serial?: string
  readonly host?: string
  readonly macs: readonly string[]
}

function keysOf(d: DeviceRecord): Keys {
  // A record named by its id only (no host name in the export) has no host key.
  const host = d.host && d.host !== d.id ? normalHost(d.host) : undefined
  return { serial: d.serial, host: host || undefined, macs: d.macs ?? [] }
}

/** Key → devices holding it; a key held by more than one device is not unique and matches nothing. */
class KeyIndex {
  readonly #serial = new Map<string, DeviceRecord | null>()
  readonly #host = new Map<string, DeviceRecord | null>()
  readonly #mac = new Map<string, DeviceRecord | null>()
  readonly keys = new Map<DeviceRecord, Keys>()

  constructor(devices: readonly DeviceRecord[]) {
    const put = (m: Map<string, DeviceRecord | null>, k: string | undefined, d: DeviceRecord): void => {
      if (k === undefined) return
      const prev = m.get(k)
      m.set(k, prev === undefined || prev === d ? d : null)
    }
    for (const d of devices) {
      const k = keysOf(d)
      this.keys.set(d, k)
      put(this.#serial, k.serial, d)
      put(this.#host, k.host, d)
      for (const mac of k.macs) put(this.#mac, mac, d)
    }
  }

  /** The one device holding `k` for that key kind; undefined when none or several do. */
  unique(kind: 'serial' | 'hostname' | 'mac', k: string | undefined): DeviceRecord | undefined {
    if (k === undefined) return undefined
    const m = kind === 'serial' ? this.#serial : kind === 'hostname' ? this.#host : this.#mac
    return m.get(k) ?? undefined
  }
}

/** Matches every device of `from` against `to` (one direction). */
export function coverage(from: readonly DeviceRecord[], to: readonly DeviceRecord[]): CoverageResult[] {
  const a = new KeyIndex(from)
  const b = new KeyIndex(to)
  const out: CoverageResult[] = []
  for (const d of from) {
    const k = a.keys.get(d)!
    // Keys unique on both sides only: a serial two devices of `from` share cannot tell them apart.
    const serial = k.serial !== undefined && a.unique('serial', k.serial) === d ? k.serial : undefined
    const bySerial = b.unique('serial', serial)
    if (bySerial) {
      out.push({ device: d, match: bySerial, matchedOn: 'serial', key: serial })
      continue
    }
    // Host name and MAC: refused when both records carry a (unique) serial and the serials differ.
    const agrees = (m: DeviceRecord): boolean => {
      const ms = b.keys.get(m)!.serial
      const mSerial = ms !== undefined && b.unique('serial', ms) === m ? ms : undefined
      return serial === undefined || mSerial === undefined || serial === mSerial
    }
    const host = k.host !== undefined && a.unique('hostname', k.host) === d ? k.host : undefined
    const byHost = b.unique('hostname', host)
    if (byHost && agrees(byHost)) {
      out.push({ device: d, match: byHost, matchedOn: 'hostname', key: host })
      continue
    }
    let found: CoverageResult | undefined
    for (const mac of k.macs) {
      if (a.unique('mac', mac) !== d) continue
      const byMac = b.unique('mac', mac)
      if (byMac && agrees(byMac)) {
        found = { device: d, match: byMac, matchedOn: 'mac', key: mac }
        break
      }
    }
    out.push(found ?? { device: d })
  }
  return out
}

// ---------------------------------------------------------------------------------------------------------------------
// The check: `coverage:PROVIDER:FILE,PROVIDER:FILE[,…]`
// ---------------------------------------------------------------------------------------------------------------------

const pct = (a: number, b: number): string => `${a} of ${b} (${b ? (Math.round((a / b) * 1000) / 10).toFixed(1) : '0.0'} %)`

/** Reports, for every ordered pair of inventories, each device of the first as found in (pass) or missing from (fail) the second. */
async function runCoverage(target: Target, ctx: CheckContext<'endpoint-agent-coverage-gap'>): Promise<void> {
  const list = target.inventories
  if (!Array.isArray(list) || list.length < 2) throw new AttemptFailure('input', `${target.id}: at least two inventories are needed`)
  const inventories: { label: string; devices: DeviceRecord[] }[] = []
  const labels = new Map<string, number>()
  for (const inv of list as { provider?: unknown; path?: unknown }[]) {
    const provider = providerOf(inv?.provider)
    if (!provider) throw new AttemptFailure('input', `${target.id}: unknown inventory provider ${JSON.stringify(inv?.provider)} (expected crowdstrike, defender, sentinelone, intune or osquery/fleet)`)
    if (typeof inv.path !== 'string') throw new AttemptFailure('input', `${target.id}: a file path is required for ${provider}`)
    const text = (await ctx.net.readFile(inv.path, 256 * 1024 * 1024)).toString('utf8')
    const n = (labels.get(provider) ?? 0) + 1
    labels.set(provider, n)
    inventories.push({ label: n > 1 ? `${provider}#${n}` : provider, devices: judgedDevices(parseInventory(provider, text, inv.path)).devices })
  }
  for (const from of inventories)
    for (const to of inventories) {
      if (from === to) continue
      const results = coverage(from.devices, to.devices)
      const found = results.filter((r) => r.match).length
      const covered = pct(found, results.length)
      const asset = `coverage:${from.label} in ${to.label}`
      ctx.log.info(`${from.label} devices in ${to.label}: ${covered}`)
      for (const r of results) {
        const d = r.device
        const keys = { serial: d.serial ?? 'none', hostname: d.host !== d.id ? normalHost(d.host) : 'none', macs: d.macs ?? [] }
        const tried = [d.serial && `serial ${d.serial}`, keys.hostname !== 'none' && `hostname ${keys.hostname}`, ...(d.macs ?? []).map((m) => `MAC ${m}`)].filter(Boolean).join(', ')
        ctx.report('endpoint-agent-coverage-gap', r.match ? 'pass' : 'fail', {
          resource: `${from.label}:${d.id} in ${to.label}`,
          asset,
          evidence: {
            host: d.host, id: d.id, source: from.label, other: to.label, ...keys, covered,
            ...(r.match
              ? { state: `matched on ${r.matchedOn} ${r.key}`, matchedOn: r.matchedOn, key: r.key, matchedId: r.match.id, matchedHost: r.match.host }
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
  timeout: (_target, baseMs) => Math.max(baseMs, 120_000),
  run: runCoverage,
})
