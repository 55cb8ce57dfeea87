/**
 * Byte budgets beside the record counts (issue 14, bounded memory): a store or map of few but large records (long error
 * messages, long target ids, big evidence) spills once the JSON text it holds reaches its byte budget, whichever of that
 * and its count comes first; what is read back is what the in-memory way gives, in the same order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isFindingView, mergeReports, releaseFindings, scan, type PassCount, type ScanReport } from '../src/index.ts'
import { jsonWeight, SpillMap, SpillStore } from '../src/engine/spill.ts'
import { PASS_CODEC, TallyMap } from '../src/engine/tally.ts'
import { mergeReportFiles } from '../src/report/merge.ts'
import { stringifyJson } from '../src/report/json.ts'
import openPort from '../checks/open-port/index.ts'
import { nmapDocument, portsHost, writeNmapFile } from './helpers/nmap-gen.ts'

const dir = mkdtempSync(join(tmpdir(), 'ztscan-spill-bytes-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const now = (): Date => new Date('2026-12-01T00:00:00Z')

/** A record of about `n` characters of JSON. */
const big = (i: number, n: number): { i: number; text: string } => ({ i, text: `${i}:`.padEnd(n, 'x') })

describe('jsonWeight', () => {
  it('is about the length of the JSON text', () => {
    for (const v of [big(1, 5_000), { a: [1, 'two', null, true, { b: 'c'.repeat(300) }] }, 'é'.repeat(100), [], {}]) {
      const n = JSON.stringify(v).length
      expect(jsonWeight(v)).toBeGreaterThanOrEqual(n)
      expect(jsonWeight(v)).toBeLessThanOrEqual(2 * n + 16)
    }
  })
})

describe('stores and maps spill by bytes as well as by count', () => {
  it('SpillStore: 60 records of 2,000 characters in a 10,000-character budget spill, at most a few held at a time; same order and values', () => {
    const recs = Array.from({ length: 60 }, (_, i) => big((i * 37) % 60, 2_000))
    const store = new SpillStore<{ i: number; text: string }>(1_000, (r) => String(r.i).padStart(3, '0'), undefined, { maxBytes: 10_000 })
    const held: number[] = []
    try {
      for (const r of recs) {
        store.add(r)
        held.push(store.held)
      }
      expect(store.spilled).toBe(true)
      // Before the first run (records as values) and after it (records as text): never more than the budget's worth.
      expect(Math.max(...held)).toBeLessThanOrEqual(6)
      expect([...store.finish()]).toEqual([...recs].sort((a, b) => a.i - b.i))
    } finally {
      store.release()
    }
  })

  it('SpillMap: long values and keys spill by bytes; a value set again counts again; entries combine as before', () => {
    const m = new SpillMap<string[]>(1_000, (a, b) => [...a, ...b], undefined, { maxBytes: 10_000 })
    const sizes: number[] = []
    try {
      for (let i = 0; i < 40; i++) {
        m.set(`k${i % 10}`.padEnd(500, '.'), [String(i).padEnd(1_500, '-')])
        sizes.push(m.size)
      }
      expect(m.spilled).toBe(true)
      expect(Math.max(...sizes)).toBeLessThanOrEqual(6)
      const got = [...m.entries()]
      expect(got.map(([k]) => k.trimEnd().replace(/\.+$/, ''))).toEqual(Array.from({ length: 10 }, (_, i) => `k${i}`))
      // Each key's values: the ones set after the key's last spill replace the ones before in memory only (set, not
      // combined); what spilled is combined in order. The last value set is always the last one read.
      for (const [k, v] of got) expect(v.at(-1)!.trimEnd().replace(/-+$/, '')).toBe(String(30 + Number(k.slice(1).replace(/\.+$/, ''))))
    } finally {
      m.release()
    }
  })

  it('TallyMap: long keys spill by bytes; a value grown in place (grew) counts; counts add up as before', () => {
    const m = new TallyMap<PassCount>(1_000, (a, b) => ({ ...a, count: a.count + b.count }), PASS_CODEC, undefined, { maxBytes: 20_000 })
    const target = (i: number): string => `host://${'h'.repeat(2_000)}${i}.example.test`
    const sizes: number[] = []
    try {
      for (let n = 0; n < 3; n++)
        for (let i = 0; i < 20; i++) {
          const k = `${target(i)}\0rule`
          const c = m.get(k)
          if (c) (c as { count: number }).count++
          else m.set(k, { ruleId: 'rule', target: target(i), count: 1 })
          sizes.push(m.size)
        }
      expect(m.spilled).toBe(true)
      expect(Math.max(...sizes)).toBeLessThanOrEqual(6)
      expect([...m.entries()].map(([, c]) => c.count)).toEqual(Array.from({ length: 20 }, () => 3))
    } finally {
      m.release()
    }
    const g = new TallyMap<number>(1_000, (a, b) => a + b, { write: (w, v) => w.num(v), read: (r) => r.num() }, undefined, { maxBytes: 1_000 })
    try {
      g.set('a', 1)
      expect(g.spilled).toBe(false)
      g.grew(1_000)
      g.set('b', 1)
      expect(g.spilled).toBe(true)
      expect([...g.entries()]).toEqual([['a', 1], ['b', 1]])
    } finally {
      g.release()
    }
  })
})

describe('scan and merge take a byte budget (memoryBytes)', () => {
  let xml: string
  beforeAll(async () => {
    xml = join(dir, 't.xml')
    await writeNmapFile(xml, nmapDocument({ host: (i) => portsHost(i, [23, 2323]), hosts: 30 }))
  })

  it('scan: a few findings past a small byte budget spill; the report is the in-memory scan’s', async () => {
    const opts = { targets: [`nmap:${xml}`], families: [openPort], now }
    const whole = await scan(opts)
    expect(isFindingView(whole.findings)).toBe(false)
    expect(whole.findings.length).toBeLessThan(1_000)
    const small = await scan({ ...opts, memoryBytes: 4_000 })
    try {
      expect(isFindingView(small.findings)).toBe(true)
      expect(stringifyJson({ ...small, startedAt: '', finishedAt: '' })).toBe(stringifyJson({ ...whole, startedAt: '', finishedAt: '' }))
    } finally {
      releaseFindings(small)
    }
    await expect(scan({ ...opts, memoryBytes: 0 })).rejects.toThrow('memoryBytes')
  })

  it('merge: errors with long messages and targets with long ids spill by bytes; the merged report is the in-memory merge’s', async () => {
    const template = await scan({ targets: [`nmap:${xml}`], families: [openPort], now })
    const r = JSON.parse(stringifyJson(template)) as { -readonly [K in keyof ScanReport]: ScanReport[K] }
    const id = (i: number): string => `host://${'t'.repeat(3_000)}${String(i).padStart(3, '0')}.example.test`
    r.targets = [...r.targets, ...Array.from({ length: 40 }, (_, i) => ({ id: id(i), kind: 'host' }))]
    r.errors = Array.from({ length: 40 }, (_, i) => ({ check: 'open-port-connect', family: 'open-port', target: id(39 - i), reason: 'timeout' as const, message: `no answer ${i} `.padEnd(5_000, '.') }))
    const path = join(dir, 'part.json')
    writeFileSync(path, stringifyJson(r))
    const whole = mergeReports([JSON.parse(readFileSync(path, 'utf8')) as ScanReport])
    expect(isFindingView(whole.errors) || isFindingView(whole.targets)).toBe(false)
    const streamed = await mergeReportFiles([path], { memoryBytes: 20_000 })
    try {
      expect(isFindingView(streamed.errors)).toBe(true)
      expect(isFindingView(streamed.targets)).toBe(true)
      expect(stringifyJson(streamed)).toBe(stringifyJson(whole))
    } finally {
      releaseFindings(streamed)
    }
  })
})
