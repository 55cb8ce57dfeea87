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

  it('a missing inventory file fails the scan before any check runs, naming it', async () => {
    await expect(tester.run(`coverage:intune:${join(dir, 'mdm.json')},crowdstrike:${join(dir, 'nope.json')}`)).rejects.toThrow(/nope\.json: cannot read \(ENOENT\)/)
  })
})
