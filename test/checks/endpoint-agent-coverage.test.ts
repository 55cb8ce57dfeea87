import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import endpointAgent from '../../checks/endpoint-agent/index.ts'
import { parseTarget } from '../../src/targets/parse.ts'
import { TargetError } from '../../src/errors.ts'
import type { ScanReport } from '../../src/types.ts'
import { checkTester } from '../helpers/check-tester.ts'
import { coverageFleet } from '../helpers/device-fleet.ts'
import { coverage, normalHost, type CoverageResult } from '../../checks/endpoint-agent/coverage.ts'
import { parseInventory, type DeviceRecord } from '../../checks/endpoint-agent/inventory.ts'

const NOW = new Date('2025-06-01T12:00:00Z')
const tester = checkTester(endpointAgent.checks, { now: () => NOW })

const fails = (r: ScanReport): string[] => r.findings.filter((f) => f.ruleId === 'endpoint-agent-coverage-gap' && f.status === 'fail').map((f) => f.resource).sort()

describe('endpoint-agent coverage across inventories', () => {
  let dir: string
  let fleet: ReturnType<typeof coverageFleet>
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ztscan-cov-'))
    fleet = coverageFleet(1000, NOW)
    await writeFile(join(dir, 'mdm.json'), JSON.stringify({ value: fleet.mdm }))
    await writeFile(join(dir, 'edr.json'), JSON.stringify({ meta: {}, resources: fleet.edr, errors: [] }))
  })
  afterAll(() => rm(dir, { recursive: true, force: true }))

  it('MDM 1,000 vs EDR 980 with 30 planted mismatches → exactly the planted findings, each with the keys it was matched on', async () => {
    expect(fleet.mdm).toHaveLength(1000)
    expect(fleet.edr).toHaveLength(980)
    expect(fleet.planted).toHaveLength(30)
    const r = await tester.run(`coverage:intune:${join(dir, 'mdm.json')},crowdstrike:${join(dir, 'edr.json')}`)
    expect(r.errors).toEqual([])
    expect(fails(r)).toEqual([...fleet.planted].sort())
    const passes = r.findings.filter((f) => f.ruleId === 'endpoint-agent-coverage-gap' && f.status === 'pass')
    expect(passes).toHaveLength(975 * 2)
    // The decoys matched on the key they were built for, in both directions.
    const on = (resource: string): unknown => passes.find((f) => f.resource === resource)?.evidence.matchedOn
    for (const [i, key] of fleet.decoys) {
      expect(on(`intune:${fleet.mdm[i]!.id} in crowdstrike`), `MDM ${i}`).toBe(key)
      expect(on(`crowdstrike:${fleet.edr[i]!.device_id} in intune`), `EDR ${i}`).toBe(key)
    }
    // Evidence of a gap names what was tried and the coverage share of that direction.
    const gap = r.findings.find((f) => f.status === 'fail' && f.resource === `intune:${fleet.mdm[980]!.id} in crowdstrike`)!
    expect(gap.evidence).toMatchObject({ host: 'LT-0980', source: 'intune', other: 'crowdstrike', serial: 'SN000980', hostname: 'lt-0980', covered: '975 of 1000 (97.5 %)' })
    expect(gap.message).toMatch(/^LT-0980 \(intune\) in crowdstrike: missing \(no unique match on serial SN000980, hostname lt-0980, MAC /)
    expect(gap.severity).toBe('high')
    expect(gap.pillar).toBe('devices')
    // The devices pillar carries the share: one asset per direction, credited in proportion to its devices.
    const assets = (r.score.assets ?? []).filter((a) => a.pillar === 'devices').map((a) => [a.asset, a.uncapped])
    expect(assets).toEqual([
      ['coverage:crowdstrike in intune', expect.closeTo((975 / 980) * 100, 1)],
      ['coverage:intune in crowdstrike', expect.closeTo(97.5, 1)],
    ])
  })

  it('three inventories: every ordered pair is judged', async () => {
    await writeFile(join(dir, 'edr2.json'), JSON.stringify({ resources: fleet.edr.slice(0, 10) }))
    const r = await tester.run(`coverage:intune:${join(dir, 'mdm.json')},crowdstrike:${join(dir, 'edr.json')},crowdstrike:${join(dir, 'edr2.json')}`)
    expect(r.errors).toEqual([])
    const pairs = new Set(r.findings.map((f) => f.resource.split(':').slice(0, 1).concat(f.resource.split(' in ')[1]!).join(' in ')))
    expect([...pairs].sort()).toEqual(['crowdstrike in crowdstrike#2', 'crowdstrike in intune', 'crowdstrike#2 in crowdstrike', 'crowdstrike#2 in intune', 'intune in crowdstrike', 'intune in crowdstrike#2'].sort())
  })

  it.each([
    ['coverage:intune:a.json', 'at least two inventories'],
    ['coverage:intune:a.json,', 'expected coverage:PROVIDER:FILE,PROVIDER:FILE'],
    ['coverage:in tune:a.json,crowdstrike:b.json', 'is not a provider name'],
  ])('%s is a target error', (raw, msg) => {
    expect(() => parseTarget(raw)).toThrow(TargetError)
    expect(() => parseTarget(raw)).toThrow(msg)
  })

  it('the key join past a tiny in-memory budget (sorted runs spilled to a file and merged) gives the in-memory result and the plain key-map matcher\'s', () => {
    const m = parseInventory('intune', JSON.stringify({ value: fleet.mdm }), 'mdm')
    const e = parseInventory('crowdstrike', JSON.stringify({ resources: fleet.edr }), 'edr')
    for (const [a, b] of [[m, e], [e, m]] as const) {
      const inMemory = coverage(a, b)
      expect(coverage(a, b, 7)).toEqual(inMemory)
      expect(inMemory).toEqual(plainCoverage(a, b))
      expect(inMemory.filter((x) => !x.match)).toHaveLength(a === m ? 25 : 5)
    }
  })

  it('random fleets full of shared keys (clones, reused host names and MACs, no serial): spilled join = in-memory join = plain matcher', () => {
    let seed = 7
    const rnd = (n: number): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % n
    const device = (side: string, i: number): DeviceRecord => {
      const macs = Array.from({ length: rnd(4) }, () => `MAC${rnd(60)}`)
      const serial = rnd(5) ? `SN${rnd(90)}` : undefined
      return { id: `${side}${i}`, host: rnd(6) ? `Host-${rnd(80)}${rnd(3) ? '' : '.corp.example'}` : `${side}${i}`, agent: 'x', agentName: 'x', platform: 'linux', serial, macs }
    }
    for (let round = 0; round < 20; round++) {
      const a = Array.from({ length: 60 + rnd(60) }, (_, i) => device('a', i))
      const b = Array.from({ length: 60 + rnd(60) }, (_, i) => device('b', i))
      for (const [x, y] of [[a, b], [b, a]] as const) {
        const plain = plainCoverage(x, y)
        expect(coverage(x, y)).toEqual(plain)
        expect(coverage(x, y, 3)).toEqual(plain)
      }
    }
  })

  it('hostile keys: separators, quotes, escapes, lone surrogates and prefixes of each other stay distinct; one key held by 2,000 devices matches nothing', () => {
    const odd = ['A', 'A\t', 'A\n', 'A\u0000', 'A"', 'A\\', 'A\\"', '\ud800', '\udc00', '\ud800\udc00', 'A B', '1A', '0A']
    const dev = (side: string, i: number, o: Partial<DeviceRecord>): DeviceRecord => ({ id: `${side}${i}`, host: `${side}${i}`, agent: 'x', agentName: 'x', platform: 'linux', ...o })
    // Each odd string is one device's serial on both sides (b in reverse order: a match), and also the host name of a device
    // of a and a MAC of a device of b (kinds never match each other).
    const a = [...odd.map((k, i) => dev('a', i, { serial: k })), ...odd.map((k, i) => dev('ah', i, { host: k }))]
    const b = [...odd.map((_, i) => dev('b', odd.length - 1 - i, { serial: odd[odd.length - 1 - i]! })), ...odd.map((k, i) => dev('bm', i, { macs: [k] }))]
    for (const budget of [Infinity, 2]) {
      const r = coverage(a, b, budget)
      expect(r.slice(0, odd.length).map((x) => [x.key, x.matchedOn, x.match?.serial])).toEqual(odd.map((k) => [k, 'serial', k]))
      expect(r.slice(odd.length).every((x) => !x.match)).toBe(true)
      expect(r).toEqual(plainCoverage(a, b))
    }
    // 2,000 devices of each side share one MAC (over many spilled runs), one device of each side holds a MAC alone.
    const many = (side: string): DeviceRecord[] => [...Array.from({ length: 2000 }, (_, i) => dev(side, i, { macs: ['SHARED'] })), dev(side, 2000, { macs: ['SHARED', 'ALONE'] })]
    const r = coverage(many('a'), many('b'), 50)
    expect(r.filter((x) => x.match).map((x) => [x.device.id, x.match!.id, x.key])).toEqual([['a2000', 'b2000', 'ALONE']])
  })

  it('a missing inventory file fails the scan before any check runs, naming it', async () => {
    await expect(tester.run(`coverage:intune:${join(dir, 'mdm.json')},crowdstrike:${join(dir, 'nope.json')}`)).rejects.toThrow(/nope\.json: cannot read \(ENOENT\)/)
  })
})

/** The matcher as a key map per inventory states it (the rules of coverage.ts, one device at a time): the reference. */
function plainCoverage(from: readonly DeviceRecord[], to: readonly DeviceRecord[]): CoverageResult[] {
  const hostKey = (d: DeviceRecord): string | undefined => (d.host && d.host !== d.id ? normalHost(d.host) : undefined) || undefined
  const index = (list: readonly DeviceRecord[]): Record<'serial' | 'hostname' | 'mac', Map<string, number>> => {
    const maps = { serial: new Map<string, number>(), hostname: new Map<string, number>(), mac: new Map<string, number>() }
    const put = (m: Map<string, number>, k: string | undefined, j: number): void => {
      if (k !== undefined) m.set(k, m.has(k) && m.get(k) !== j ? -1 : j)
    }
    list.forEach((d, j) => {
      put(maps.serial, d.serial, j)
      put(maps.hostname, hostKey(d), j)
      for (const mac of d.macs ?? []) put(maps.mac, mac, j)
    })
    return maps
  }
  const a = index(from)
  const b = index(to)
  const own = (m: Map<string, number>, k: string | undefined, j: number): string | undefined => (k !== undefined && m.get(k) === j ? k : undefined)
  return from.map((device, j) => {
    const serial = own(a.serial, device.serial, j)
    const bySerial = serial === undefined ? -1 : (b.serial.get(serial) ?? -1)
    if (bySerial >= 0) return { device, match: to[bySerial], matchedOn: 'serial', key: serial }
    const agrees = (m: number): boolean => {
      const mSerial = own(b.serial, to[m]!.serial, m)
      return serial === undefined || mSerial === undefined || serial === mSerial
    }
    const host = own(a.hostname, hostKey(device), j)
    const byHost = host === undefined ? -1 : (b.hostname.get(host) ?? -1)
    if (byHost >= 0 && agrees(byHost)) return { device, match: to[byHost], matchedOn: 'hostname', key: host }
    for (const mac of device.macs ?? []) {
      if (own(a.mac, mac, j) === undefined) continue
      const byMac = b.mac.get(mac) ?? -1
      if (byMac >= 0 && agrees(byMac)) return { device, match: to[byMac], matchedOn: 'mac', key: mac }
    }
    return { device }
  })
}
