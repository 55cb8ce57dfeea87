/**
 * Jamf Pro computer inventory (`inventory:jamf:FILE`): the export of `GET /api/v1/computers-inventory?section=GENERAL&
 * section=DISK_ENCRYPTION&section=OPERATING_SYSTEM&section=HARDWARE`, a fixture written from Jamf's documented response
 * (developer.jamf.com, ComputerInventory; not captured from a Jamf server): FileVault, OS support, check-in, and coverage
 * matching against an EDR export on serial, host name and MAC. A section the request left out (Jamf returns it as null) is a
 * named skip saying which `section=` to add.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import endpointAgent from '../../checks/endpoint-agent/index.ts'
import { itemSchema, parseInventory } from '../../checks/endpoint-agent/inventory.ts'
import type { ScanReport } from '../../src/types.ts'
import { checkTester } from '../helpers/check-tester.ts'

const FIX = join(import.meta.dirname, '..', '..', 'fixtures', 'endpoint-agent')
const NOW = new Date('2026-12-01T00:00:00Z')
const tester = checkTester(endpointAgent.checks, { now: () => NOW })
const byRule = (r: ScanReport, rule: string): Record<string, string> =>
  Object.fromEntries(r.findings.filter((f) => f.ruleId === rule).map((f) => [String(f.evidence.host), `${f.status}: ${String(f.evidence.state)}`]))

describe('Jamf Pro computers-inventory export', () => {
  it('maps id, name, serial, MACs, OS, FileVault state and last contact; the schema lists the fields read', async () => {
    const text = await readFile(join(FIX, 'jamf-computers-inventory.json'), 'utf8')
    const d = parseInventory('jamf', text, 'jamf.json')
    expect(d).toHaveLength(5)
    expect(d[0]).toMatchObject({
      id: '1', host: 'MBP-ALICE', agent: 'jamf', platform: 'darwin', version: '11.10.2', lastSeen: '2026-11-30T22:10:05.331Z', encrypted: true,
      encryptionState: 'partitionFileVault2State ENCRYPTED', os: 'macOS 14.6.1', serial: 'C02XK1ZZJGH5', macs: ['a4:83:e7:10:20:01', 'a4:83:e7:10:20:02'],
    })
    expect(d[2]).toMatchObject({ encrypted: false, encryptionState: 'partitionFileVault2State ENCRYPTING (41%)' })
    expect(d[4]).toMatchObject({ encrypted: true, encryptionState: 'fileVault2Status ALL_ENCRYPTED' }) // no boot partition details: the OS section's status
    expect(d[3]!.encrypted).toBeUndefined()
    expect(Object.keys(itemSchema('jamf').properties as object)).toEqual(['id', 'udid', 'general', 'diskEncryption', 'operatingSystem', 'hardware'])
  })

  it('judges FileVault, OS support and check-in per computer; UNKNOWN FileVault is a named skip, never a pass', async () => {
    const r = await tester.run(`inventory:jamf:${join(FIX, 'jamf-computers-inventory.json')}`)
    expect(r.errors).toEqual([])
    expect(byRule(r, 'endpoint-agent-disk-unencrypted')).toEqual({
      'MBP-ALICE': 'pass: partitionFileVault2State ENCRYPTED',
      'MBA-BOB': 'fail: partitionFileVault2State UNENCRYPTED (0%)',
      'MINI-BUILD': 'fail: partitionFileVault2State ENCRYPTING (41%)',
      'MBP-CAROL': 'pass: fileVault2Status ALL_ENCRYPTED',
    })
    expect(byRule(r, 'endpoint-agent-os-unsupported')).toMatchObject({
      'MBA-BOB': 'fail: macOS 12.7.6: security support ended 2024-09-16',
      'MBP-ALICE': 'fail: macOS 14.6.1: security support ended 2026-09-15 (estimated: the vendor publishes no date)',
      'MINI-BUILD': 'pass: macOS 15.1: supported until 2027-09-15 (estimated: the vendor publishes no date)',
    })
    expect(byRule(r, 'endpoint-agent-stale-checkin')['MBA-BOB']).toMatch(/^fail: /)
    expect(byRule(r, 'endpoint-agent-stale-checkin')['MBP-ALICE']).toMatch(/^pass: /)
    expect(r.skipped.map((s) => s.why)).toEqual([
      'endpoint-agent-disk-unencrypted: FileVault state not judged: partitionFileVault2State "UNKNOWN", fileVault2Status "NOT_APPLICABLE" (UNKNOWN, INELIGIBLE, OPTIMIZING or absent) (1 of 5 devices)',
    ])
  })

  it('an export requested without DISK_ENCRYPTION and OPERATING_SYSTEM (null sections): named skips saying which section= to add', async () => {
    const r = await tester.run(`inventory:jamf:${join(FIX, 'jamf-general-hardware.json')}`)
    expect(r.errors).toEqual([])
    expect(r.findings.filter((f) => f.ruleId === 'endpoint-agent-disk-unencrypted' || f.ruleId === 'endpoint-agent-os-unsupported')).toEqual([])
    expect(r.skipped.map((s) => s.why).sort()).toEqual([
      'endpoint-agent-disk-unencrypted: diskEncryption not in this export — was it requested with section=DISK_ENCRYPTION? (2 of 2 devices)',
      'endpoint-agent-os-unsupported: operatingSystem not in this export — was it requested with section=OPERATING_SYSTEM? (2 of 2 devices)',
    ])
  })

  it('a wrong type or date is an input error naming the file and the JSON pointer', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ztscan-jamf-'))
    try {
      await writeFile(join(dir, 'bad.json'), JSON.stringify({ totalCount: 2, results: [{ id: '1', general: { name: 'a', lastContactTime: 'yesterday' } }, { id: '2', hardware: { serialNumber: 7 } }] }))
      const r = await tester.run(`inventory:jamf:${join(dir, 'bad.json')}`)
      expect(r.errors.map((e) => e.message).join('\n')).toMatch(/bad\.json: \/results\/0\/general\/lastContactTime: expected an ISO 8601 date-time[\s\S]*\/results\/1\/hardware\/serialNumber/)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('coverage: Jamf (MDM) against an EDR export', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ztscan-jamf-cov-'))
    // The EDR knows 4 of the 5 Macs: two by serial, one by host name only (its serial field empty), one by MAC only
    // (renamed, no serial); IMAC-LOBBY is missing, and the EDR has a Linux server Jamf does not manage.
    const edr = [
      { device_id: 'cs-1', hostname: 'MBP-ALICE.corp.example', serial_number: 'C02XK1ZZJGH5', platform_name: 'Mac' },
      { device_id: 'cs-2', hostname: 'mba-bob', serial_number: 'FVFDK2ABQ6L4', platform_name: 'Mac' },
      { device_id: 'cs-3', hostname: 'mini-build', platform_name: 'Mac' },
      { device_id: 'cs-5', hostname: 'carol-renamed', mac_address: '88-66-5A-12-34-57', platform_name: 'Mac' },
      { device_id: 'cs-9', hostname: 'build-linux-01', serial_number: 'VMW-1234', platform_name: 'Linux' },
    ]
    await writeFile(join(dir, 'edr.json'), JSON.stringify({ resources: edr }))
  })
  afterAll(() => rm(dir, { recursive: true, force: true }))

  it('exactly the two gaps, both ways, each match naming its key', async () => {
    const r = await tester.run(`coverage:jamf:${join(FIX, 'jamf-computers-inventory.json')},crowdstrike:${join(dir, 'edr.json')}`)
    expect(r.errors).toEqual([])
    const gaps = r.findings.filter((f) => f.ruleId === 'endpoint-agent-coverage-gap')
    expect(gaps.filter((f) => f.status === 'fail').map((f) => f.resource).sort()).toEqual(['crowdstrike:cs-9 in jamf', 'jamf:4 in crowdstrike'])
    const on = Object.fromEntries(gaps.filter((f) => f.status === 'pass' && f.resource.startsWith('jamf:')).map((f) => [f.resource, f.evidence.matchedOn]))
    expect(on).toEqual({ 'jamf:1 in crowdstrike': 'serial', 'jamf:2 in crowdstrike': 'serial', 'jamf:3 in crowdstrike': 'hostname', 'jamf:5 in crowdstrike': 'mac' })
  })
})
