/**
 * @fileoverview Inventory exports read as streams (checks/endpoint-agent/inventory-stream.ts): the devices judged equal
 * `judgedDevices(parseInventory(…))` on the whole file (fixtures and generated fleets, also with ids forced to share a
 * hash), a 200k-device export is read with heap and buffers grown by the id table only, and hostile files (a 50 MB entry, deep nesting, truncation, a file changing
 * between the passes) end as input errors naming the file, with no finding.
 */
import { describe, expect, it, onTestFinished } from 'vitest'
import fc from 'fast-check'
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import endpointAgent from '../../checks/endpoint-agent/index.ts'
import { judgedDevices, parseInventory, providerOf, type DeviceRecord } from '../../checks/endpoint-agent/inventory.ts'
import { streamInventory } from '../../checks/endpoint-agent/inventory-stream.ts'
import { IdSlots, type IdHash } from '../../checks/endpoint-agent/id-slots.ts'
import type { Provider } from '../../checks/endpoint-agent/catalogue.ts'
import { AttemptFailure } from '../../src/errors.ts'
import { checkTester } from '../helpers/check-tester.ts'
import { coverageFleet, crowdStrikeExport } from '../helpers/device-fleet.ts'

const FIX = fileURLToPath(new URL('../../fixtures/endpoint-agent/', import.meta.url))
const NOW = new Date('2025-06-01T12:00:00Z')
const tester = checkTester(endpointAgent.checks, { now: () => NOW })

/** The text in chunks of `size` bytes, each call from the start. */
const opener = (text: string | Buffer, size = 4096) =>
  async function* (): AsyncGenerator<Buffer> {
    const b = Buffer.isBuffer(text) ? text : Buffer.from(text)
    for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size)
  }

async function streamed(provider: Provider, text: string | Buffer, size?: number, idHash?: IdHash): Promise<{ devices: DeviceRecord[]; notJudged: Map<string, number>; duplicates: number; groups: readonly string[] }> {
  const devices: DeviceRecord[] = []
  const f = await streamInventory(provider, opener(text, size), 'x.json', (d) => devices.push(d), { idHash, group: (d) => `${d.version ?? ''}` })
  return { devices, notJudged: new Map(f.notJudged), duplicates: f.duplicates, groups: f.groups }
}

/** Id hashes that collide on purpose: every id the same hash, or one of two by the id's length. */
const COLLIDING: [string, IdHash][] = [
  ['one hash for every id', (_s, _a, _b, out) => out.fill(7)],
  ['two hashes (by id length)', (s, _a, _b, out) => out.fill(s.length & 1)],
]

function wholeFile(provider: Provider, text: string): { devices: DeviceRecord[]; notJudged: Map<string, number>; duplicates: number } | string {
  try {
    return judgedDevices(parseInventory(provider, text, 'x.json'))
  } catch (err) {
    return (err as Error).message
  }
}

const byId = (ds: DeviceRecord[]): DeviceRecord[] => [...ds].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))

describe('streamed inventories judge what the whole-file reader judged', () => {
  const files = readdirSync(FIX).filter((f) => f.endsWith('.json'))
  const providerFor = (f: string): Provider => providerOf(/^bad-not-json|^fleet/.test(f) ? 'osquery' : f.split('-')[f.startsWith('bad-') ? 1 : 0])!
  it.each(files)('%s: same devices, reasons, duplicates — or the same error', async (file) => {
    const provider = providerFor(file)
    const text = readFileSync(join(FIX, file), 'utf8')
    const want = wholeFile(provider, text)
    const got = await streamed(provider, text, 7).catch((e: unknown) => (e as Error).message)
    if (typeof want === 'string') {
      // JSON.parse's syntax message differs from the stream's; both say "not JSON". Field errors are the same text.
      if (want.includes('not JSON')) expect(got).toMatch(/^x\.json: not JSON \(/)
      else expect(got).toBe(want)
    } else {
      expect(typeof got).toBe('object')
      const g = got as Exclude<typeof got, string>
      expect(byId(g.devices)).toEqual(byId(want.devices))
      expect([g.notJudged, g.duplicates]).toEqual([want.notJudged, want.duplicates])
    }
  })

  it('a generated MDM and EDR pair, with duplicates whose later record wins, in any chunking', async () => {
    const fleet = coverageFleet(600, NOW)
    const edr = [...fleet.edr, { ...fleet.edr[3], last_seen: NOW.toISOString(), agent_version: '7.20.1.0' }, { ...fleet.edr[4], last_seen: '2020-01-01T00:00:00Z' }]
    for (const [provider, text] of [['intune', JSON.stringify({ value: fleet.mdm })], ['crowdstrike', JSON.stringify({ resources: edr })]] as const) {
      const want = wholeFile(provider, text) as Exclude<ReturnType<typeof wholeFile>, string>
      for (const size of [1, 333, 1 << 20]) {
        const got = await streamed(provider, text, size)
        expect(byId(got.devices)).toEqual(byId(want.devices))
        expect(got.duplicates).toBe(want.duplicates)
      }
      if (provider === 'crowdstrike') expect(want.devices.find((d) => d.id === fleet.edr[3]!.device_id)?.version).toBe('7.20.1.0')
    }
  })

  it('random exports (right keys, random values, duplicates, bare arrays, junk): the same devices or the same error', async () => {
    const field = fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('2025-06-01T10:00:00Z', '2025-05-01T10:00:00Z', 'yes', 'no', 'normal', 'contained', 'Linux', 'Windows', '7.14.1', 'AA-BB-CC-DD-EE-01'), fc.integer(), fc.constant(null), fc.boolean())
    const entry = fc.dictionary(fc.constantFrom('device_id', 'hostname', 'last_seen', 'agent_version', 'reduced_functionality_mode', 'status', 'serial_number', 'mac_address', 'platform_name'), field)
    const ids = fc.constantFrom('a', 'b', 'c')
    const docs = fc.oneof(
      fc.array(fc.tuple(entry, ids).map(([e, id]) => ({ ...e, device_id: id })), { maxLength: 6 }).map((list) => JSON.stringify({ meta: {}, resources: list })),
      fc.array(entry, { maxLength: 4 }).map((list) => JSON.stringify(list)),
      fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null'),
      fc.string(),
    )
    await fc.assert(
      fc.asyncProperty(docs, fc.integer({ min: 1, max: 64 }), async (text, size) => {
        const want = wholeFile('crowdstrike', text)
        const got = await streamed('crowdstrike', text, size).catch((e: unknown) => (e as Error).message)
        if (typeof want === 'string') {
          if (want.includes('not JSON')) expect(got).toMatch(/^x\.json: not JSON \(/)
          else expect(got).toBe(want)
        } else {
          expect(typeof got, String(got)).toBe('object')
          const g = got as Exclude<typeof got, string>
          expect(byId(g.devices)).toEqual(byId(want.devices))
          expect(g.duplicates).toBe(want.duplicates)
        }
      }),
      { numRuns: 400 },
    )
  })

  it.each(COLLIDING)('ids of one hash (%s) are told apart exactly: the same devices, duplicates and release groups', async (_name, idHash) => {
    const groupsOf = (ds: DeviceRecord[]): string[] => [...new Set(ds.map((d) => `${d.version ?? ''}`))]
    const fleet = coverageFleet(300, NOW)
    const edr = [...fleet.edr, { ...fleet.edr[3], last_seen: NOW.toISOString(), agent_version: '7.20.1.0' }, { ...fleet.edr[4], last_seen: '2020-01-01T00:00:00Z', agent_version: '6.1.0' }, { ...fleet.edr[5], last_seen: '2025-01-01T00:00:00Z' }]
    const text = JSON.stringify({ resources: edr })
    const want = wholeFile('crowdstrike', text) as Exclude<ReturnType<typeof wholeFile>, string>
    const got = await streamed('crowdstrike', text, 4096, idHash)
    expect(byId(got.devices)).toEqual(byId(want.devices))
    expect([got.duplicates, got.groups]).toEqual([3, groupsOf(want.devices)])
    // Random ones: a few ids, repeated, with check-ins that tie or differ.
    const rec = fc.record({ device_id: fc.constantFrom('a', 'b', 'cc', 'ddd', 'eeee'), hostname: fc.constant('h'), agent_version: fc.constantFrom('1.0', '2.0', '3.1'), last_seen: fc.constantFrom('2025-06-01T10:00:00Z', '2025-05-01T10:00:00Z', '2025-05-01T10:00:00.000Z') })
    await fc.assert(
      fc.asyncProperty(fc.array(rec, { maxLength: 12 }), async (list) => {
        const t = JSON.stringify({ resources: list })
        const w = wholeFile('crowdstrike', t) as Exclude<ReturnType<typeof wholeFile>, string>
        const g = await streamed('crowdstrike', t, 64, idHash)
        expect(byId(g.devices)).toEqual(byId(w.devices))
        expect([g.duplicates, g.groups]).toEqual([w.duplicates, groupsOf(w.devices)])
      }),
      { numRuns: 200 },
    )
  })

  it('the id table: a slot per distinct hash, in the order hashes first show, found again after it grew', () => {
    const t = new IdSlots()
    for (let i = 0; i < 50_000; i++) expect(t.add(`dev-${i}`)).toBe(i)
    expect(t.added).toBe(true)
    expect([t.size, t.add('dev-123'), t.added, t.find('dev-49999'), t.find('dev-50000')]).toEqual([50_000, 123, false, 49_999, -1])
    const same = new IdSlots(COLLIDING[0]![1])
    expect([same.add('a'), same.add('b'), same.added, same.find('zzz')]).toEqual([0, 0, false, 0])
  })

  it('a file that changes between the two passes is an input error, not a misjudged device', async () => {
    let calls = 0
    const a = JSON.stringify({ resources: [{ device_id: 'a', hostname: 'h' }] })
    const b = JSON.stringify({ resources: [{ device_id: 'b', hostname: 'h' }] })
    const open = () => opener(calls++ ? b : a)()
    const err = await streamInventory('crowdstrike', open, 'cs.json', () => {}).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(AttemptFailure)
    expect((err as AttemptFailure).message).toBe('cs.json: changed while being read (read it from a file nothing else writes)')
  })

  it('records that swap ids between the passes are an input error, not devices lost silently (io.readStream serves other bytes the second time)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ztscan-inv-swap-'))
    onTestFinished(() => rm(dir, { recursive: true, force: true }))
    const file = join(dir, 'cs.json')
    const rec = (id: string) => ({ device_id: id, hostname: `h-${id}`, agent_version: '7.10.0', last_seen: '2025-06-01T10:00:00Z', platform_name: 'Linux' })
    const ab = JSON.stringify({ resources: [rec('a'), rec('b'), rec('c')] })
    // The same ids and count, in another order: each record now stands where another id's first record was.
    const swapped = JSON.stringify({ resources: [rec('b'), rec('a'), rec('c')] })
    await writeFile(file, ab)
    const run = async (later: string) => {
      let reads = 0
      const r = await tester.run(`inventory:crowdstrike:${file}`, { io: { readStream: () => opener(reads++ ? later : ab)() } })
      return { reads, devices: [...new Set(r.findings.map((f) => f.resource))].sort(), errors: r.errors.map((e) => [e.reason, e.message]) }
    }
    expect(await run(ab)).toEqual({ reads: 2, devices: ['device:a', 'device:b', 'device:c'], errors: [] })
    const got = await run(swapped)
    expect(got.errors).toEqual([['input', `${file}: changed while being read (read it from a file nothing else writes)`]])
    // Device c is read where it was and handed over before the end; a and b are lost: the scan says so.
    expect(got.devices).toEqual(['device:c'])
  })
})

describe('streamed inventories stay small', () => {
  it('200,000 devices: every device judged once, the live heap and buffers grown by ~25 bytes a device, not by the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ztscan-inv-stream-'))
    onTestFinished(() => rm(dir, { recursive: true, force: true }))
    const file = join(dir, 'cs.json')
    // 200,000 devices and 500 repeats of device 0 (judged once).
    await writeFile(file, crowdStrikeExport(200_000, NOW.getTime(), 500))
    const size = readFileSync(file).length
    // In a child with --expose-gc: the live heap (after a full GC) before, and the largest live heap while devices are handed over.
    const child = `
const { streamInventory } = await import(process.argv[1] + '/checks/endpoint-agent/inventory-stream.ts')
const { streamFileCapped } = await import(process.argv[1] + '/src/lib-files.ts')
const used = () => { const m = process.memoryUsage(); return m.heapUsed + m.arrayBuffers }
globalThis.gc()
const before = used()
let n = 0, peak = 0
const f = await streamInventory('crowdstrike', () => streamFileCapped(process.argv[2], 2 ** 34), 'cs.json', () => {
  if (++n % 40000 === 0) {
    globalThis.gc()
    peak = Math.max(peak, used())
  }
})
process.stdout.write(JSON.stringify({ n, devices: f.devices, duplicates: f.duplicates, grownMb: (peak - before) / 1048576 }))`
    const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', child, join(import.meta.dirname, '../..'), file], { encoding: 'utf8', timeout: 240_000 })
    expect(r.stderr).toBe('')
    const out = JSON.parse(r.stdout) as { n: number; devices: number; duplicates: number; grownMb: number }
    expect(out).toMatchObject({ n: 200_000, devices: 200_000, duplicates: 500 })
    expect(size).toBeGreaterThan(50 * 1048576)
    // Whole-file parsing holds the text (~size) and every record (several times size); a Map of the ids held ~20 MB for
    // 200,000 ids; the id table holds ~25 bytes an id in typed arrays (counted: array buffers with the heap).
    expect(out.grownMb).toBeLessThan(16)
    console.log(`200k-device export (${(size / 1048576).toFixed(0)} MB): live heap and array buffers grew at most ${out.grownMb.toFixed(1)} MB while streaming`)
  }, 240_000)

  it('hostile exports end as input errors naming the file, with no finding', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ztscan-inv-hostile-'))
    onTestFinished(() => rm(dir, { recursive: true, force: true }))
    const files: [string, string | Buffer, RegExp][] = [
      ['big-entry.json', `{"resources": [{"device_id": "a", "hostname": "${'x'.repeat(50 * 1048576)}"}]}`, /big-entry\.json: \/resources\/0: an entry larger than the 8 MiB limit/],
      ['deep.json', `{"resources": [${'['.repeat(200_000)}`, /deep\.json: \/resources\/0: nested deeper than 64 levels/],
      ['truncated.json', crowdStrikeExport(3000, NOW.getTime()).next().value + [...crowdStrikeExport(3000, NOW.getTime())].slice(1, 2).join('').slice(0, 100_000), /truncated\.json: not JSON \(\/resources\/\d+: the document ends early, at byte 100\d\d\d \(truncated\?\)\)/],
    ]
    for (const [name, text, want] of files) {
      await writeFile(join(dir, name), text)
      const r = await tester.run(`inventory:crowdstrike:${join(dir, name)}`)
      expect(r.findings, name).toEqual([])
      expect(r.errors.map((e) => e.reason), name).toEqual(['input'])
      expect(r.errors[0]!.message, name).toMatch(want)
    }
  }, 60_000)
})
