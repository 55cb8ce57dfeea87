/**
 * @fileoverview A generated MDM (Intune) and EDR (CrowdStrike) inventory pair with planted coverage gaps, shared by the
 * coverage test and the bench. For n MDM devices (n − 20 EDR devices): n − 25 are in both, 25 MDM devices are missing from the EDR and 5 EDR
 * devices are missing from the MDM (30 planted gaps). The gaps and the decoys are built to defeat a naive matcher:
 * - decoys that must match: EDR record without serial and with an upper-case FQDN (hostname), renamed host with the same
 *   serial (serial), renamed host without serial but the same MAC written with dashes (mac), ten cloned VMs sharing one
 *   serial (hostname: a serial two devices hold matches nothing);
 * - gaps: five MDM devices reusing the serial of a device that is in the EDR (the serial is not unique, their host names are
 *   nowhere), five MDM host names taken in the EDR by other devices with their own serials (host name refused: serials
 *   differ; those five EDR devices are the EDR-only gaps), fifteen MDM devices simply absent.
 */

export interface Fleet {
  readonly mdm: Record<string, unknown>[]
  readonly edr: Record<string, unknown>[]
  /** Resources of the 30 findings the coverage check must report (`PROVIDER:ID in OTHER`). */
  readonly planted: string[]
  /** Index (same in both lists) → the key that must match it. */
  readonly decoys: [number, 'serial' | 'hostname' | 'mac'][]
}

const hex2 = (n: number): string => (n & 255).toString(16).padStart(2, '0')
const mac = (i: number, sep: string): string => ['3c', '22', 'fb', hex2(i >> 16), hex2(i >> 8), hex2(i)].join(sep)
const pad = (i: number): string => String(i).padStart(4, '0')

/** Builds the pair for `n` MDM devices (n ≥ 200). */
export function coverageFleet(n: number, now: Date): Fleet {
  const seen = new Date(now.getTime() - 3_600_000).toISOString()
  const both = n - 25
  const mdm: Record<string, unknown>[] = []
  const edr: Record<string, unknown>[] = []
  const planted: string[] = []
  const decoys: Fleet['decoys'] = []
  const name = (i: number): string => (n > 9999 ? `LT-${i}` : `LT-${pad(i)}`)
  const serial = (i: number): string => `SN${String(i).padStart(6, '0')}`
  for (let i = 0; i < n; i++) {
    const clone = i >= 100 && i < 110 // cloned VMs: one serial for ten devices
    const reused = i >= both && i < both + 5 // reuses the serial of a device in both lists (200, 210, …)
    mdm.push({
      id: `mdm-${String(i).padStart(8, '0')}`, deviceName: name(i), serialNumber: clone ? 'VMware-56 4d 00 00' : reused ? serial(200 + (i - both) * 10) : serial(i),
      wiFiMacAddress: mac(i, '').toUpperCase(), complianceState: 'compliant', isEncrypted: true, lastSyncDateTime: seen, operatingSystem: 'Windows',
    })
    if (i >= both) {
      planted.push(`intune:${mdm[i]!.id as string} in crowdstrike`)
      continue
    }
    const e: Record<string, unknown> = {
      device_id: `edr${i.toString(16).padStart(8, '0')}`, hostname: name(i), serial_number: mdm[i]!.serialNumber, mac_address: mac(i, '-'),
      last_seen: seen, platform_name: 'Windows', agent_version: '7.14.16703.0', reduced_functionality_mode: 'no', status: 'normal',
    }
    if (clone) decoys.push([i, 'hostname'])
    else if (i % 10 === 1 && i < 600) {
      delete e.serial_number
      e.hostname = `${name(i)}.CORP.EXAMPLE`
      decoys.push([i, 'hostname'])
    } else if (i % 10 === 2 && i < 600) {
      e.hostname = `renamed-${i}`
      decoys.push([i, 'serial'])
    } else if (i % 10 === 3 && i < 600) {
      delete e.serial_number
      e.hostname = `kiosk-${i}`
      decoys.push([i, 'mac'])
    }
    edr.push(e)
  }
  // Five EDR-only devices that took the host names of MDM gaps both+5 … both+9 (their own serials and MACs).
  for (let j = 0; j < 5; j++) {
    const i = both + 5 + j
    const e = { device_id: `edr-squat-${j}`, hostname: name(i), serial_number: `SQ${String(j).padStart(6, '0')}`, mac_address: mac(0xf00000 + j, '-'), last_seen: seen, platform_name: 'Windows', status: 'normal' }
    edr.push(e)
    planted.push(`crowdstrike:${e.device_id} in intune`)
  }
  return { mdm, edr, planted, decoys }
}

/** One generated CrowdStrike device entry (JSON text): every 50th on an old major, every 211th degraded, every 97 hours a step older. */
export function crowdStrikeEntry(i: number, now: number): string {
  return JSON.stringify({
    device_id: `dev${i.toString(16).padStart(12, '0')}`, hostname: `host-${i}`, platform_name: i % 3 ? 'Linux' : 'Windows',
    agent_version: i % 50 ? '7.14.16703.0' : '6.40.1.0', last_seen: new Date(now - (i % 97) * 3_600_000).toISOString(),
    reduced_functionality_mode: i % 211 ? 'no' : 'yes', status: 'normal', serial_number: `SN${String(i).padStart(9, '0')}`, mac_address: mac(i, ':'),
  })
}

/** A `{meta, resources: […], errors}` CrowdStrike export of `n` devices (plus `duplicates` repeats of device 0), as chunks. */
export function* crowdStrikeExport(n: number, now: number, duplicates = 0): Generator<string> {
  yield '{"meta":{"query_time":0.01},"resources":['
  let batch: string[] = []
  for (let i = 0; i < n + duplicates; i++) {
    batch.push(crowdStrikeEntry(i < n ? i : 0, now))
    if (batch.length === 1000) {
      yield (i < 1000 ? '' : ',') + batch.join(',')
      batch = []
    }
  }
  if (batch.length) yield (n + duplicates > batch.length ? ',' : '') + batch.join(',')
  yield '],"errors":[]}'
}

/** A `{value: […]}` Intune export of `n` devices: device i has the serial, host name and MAC of `crowdStrikeEntry(i)`. */
export function* intuneExport(n: number, now: number): Generator<string> {
  yield '{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#deviceManagement/managedDevices","value":['
  const seen = new Date(now - 3_600_000).toISOString()
  for (let i = 0; i < n; i += 1000) {
    const batch: string[] = []
    for (let k = i; k < Math.min(n, i + 1000); k++)
      batch.push(JSON.stringify({
        id: `mdm-${k}`, deviceName: `host-${k}`, serialNumber: `SN${String(k).padStart(9, '0')}`, wiFiMacAddress: mac(k, '').toUpperCase(),
        complianceState: 'compliant', isEncrypted: true, lastSyncDateTime: seen, operatingSystem: 'Windows', osVersion: '10.0.22631.3296',
      }))
    yield (i ? ',' : '') + batch.join(',')
  }
  yield ']}'
}
