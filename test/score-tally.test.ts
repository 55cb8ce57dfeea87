/**
 * The score card's tallies past their in-memory budget: per-asset tallies spill as binary sorted runs (src/engine/tally.ts)
 * and the per-asset scores are written once, as JSON text, to a file the report reads them from. Same card, byte for byte, as
 * in memory.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { scoreReport, scoreTally } from '../src/scoring/score.ts'
import { PASS_CODEC, TallyMap, type Codec } from '../src/engine/tally.ts'
import { runLimit, SHORT_RUN } from '../src/engine/runs.ts'
import { SarifTally } from '../src/report/sarif.ts'
import { fingerprintOf } from '../src/engine/run.ts'
import { escapeJsonText } from '../src/report/escape.ts'
import { isFindingView, recordsOf, releaseFindings } from '../src/engine/spill.ts'
import { privateTmpdir, spillDirs } from './helpers/tmpdir.ts'
import type { AttemptError, AttemptSkip, Finding, PassCount, Pillar, RuleMeta, Severity } from '../src/types.ts'

type Rule = RuleMeta & { enabled?: boolean }
const rule = (id: string, severity: Severity, pillar: Pillar, extra: Partial<RuleMeta> = {}): Rule => ({
  id, family: `fam-${pillar}`, title: id, pillar, severity, message: 'm', description: 'd', remediation: 'r', helpUri: 'https://example.invalid', ...extra,
})
const RULES: readonly Rule[] = [
  rule('a-critical', 'critical', 'networks', { functions: ['network-segmentation'] }),
  rule('b-high', 'high', 'networks'),
  rule('c-medium', 'medium', 'devices'),
  rule('d-low', 'low', 'networks'),
  rule('e-info', 'info', 'networks'),
  rule('f-population', 'high', 'identity', { population: 'users' }),
]

// Strings a target chooses: non-ASCII, a NUL, an astral character (a surrogate pair), DEL and a bidi override.
// Lone surrogates too: two of them must stay two keys, in their order, when they spill (not both U+FFFD).
const NAMES = ['h1', 'h2', 'h10', 'é', 'a\0b', 'a', '😀', 'x\u202ey', 'del\x7f', 'z', 'a\ud800', 'a\udbff', '\udc00b']

const findingArb = fc.record({
  r: fc.integer({ min: 0, max: RULES.length - 1 }),
  fail: fc.boolean(),
  target: fc.constantFrom('tls://t1', 'nmap:f.xml', 'idp:ü'),
  asset: fc.option(fc.constantFrom(...NAMES), { nil: undefined }),
  resource: fc.constantFrom(...NAMES),
  suppressed: fc.integer({ min: 0, max: 9 }),
})
const passArb = fc.record({ r: fc.integer({ min: 0, max: RULES.length - 1 }), target: fc.constantFrom('tls://t1', 'nmap:f.xml'), asset: fc.option(fc.constantFrom(...NAMES), { nil: undefined }), count: fc.integer({ min: 1, max: 5 }) })

interface FindingSpec {
  r: number
  fail: boolean
  target: string
  asset: string | undefined
  resource: string
  suppressed: number
}
function toFinding(x: FindingSpec): Finding {
  const r = RULES[x.r]!
  return {
    ruleId: r.id, status: x.fail ? 'fail' : 'pass', severity: r.severity, pillar: r.pillar, family: r.family, target: x.target, resource: x.resource,
    // As a scan makes it: one per (rule, target, resource), so equal findings name the same first failure in any order.
    message: 'm', evidence: {}, fingerprint: fingerprintOf(r.id, x.target, x.resource),
    ...(x.asset !== undefined ? { asset: x.asset } : {}),
    ...(x.suppressed === 0 ? { suppression: { reason: 'lab', expires: '2099-01-01' } } : {}),
  }
}

/**
 * The card as the JSON writer sees it: the assets' JSON text one record at a time (escaped for output as the writer writes
 * it: a spilled record's text already is), the rest as JSON.
 */
function cardText(card: ReturnType<typeof scoreReport>): string {
  const { assets, ...rest } = card
  return JSON.stringify(rest) + '\n' + [...recordsOf(assets ?? [])].map((r) => escapeJsonText(r.json)).join('\n')
}

describe('score tallies past their budget', () => {
  privateTmpdir('ztscan-score-tally-test-')

  it('a card scored with a budget of 1–3 assets (spilled, scores written once and read back) equals the in-memory card byte for byte, in any order', () => {
    let spilledCards = 0
    fc.assert(
      fc.property(
        fc.array(findingArb, { maxLength: 60 }),
        fc.array(passArb, { maxLength: 20 }),
        fc.integer({ min: 1, max: 3 }),
        fc.array(fc.constantFrom('tls://t1', 'nmap:f.xml', 'h2'), { maxLength: 3 }),
        (xs, ps, budget, erroredTargets) => {
          const findings = xs.map(toFinding)
          const passCounts: PassCount[] = ps.map((p) => ({ ruleId: RULES[p.r]!.id, target: p.target, ...(p.asset !== undefined ? { asset: p.asset } : {}), count: p.count }))
          const errors: AttemptError[] = erroredTargets.map((t, i) => ({ check: `check-${i}`, family: 'fam-networks', target: t, reason: 'timeout', message: 'slow' }))
          const skipped: AttemptSkip[] = [{ check: 'c', family: 'fam-devices', target: 'tls://t1', why: 'n/a' }]
          const input = { findings, passCounts, errors, skipped, rules: RULES }
          const memory = scoreReport(input)
          const before = spillDirs().length
          const spilled = scoreReport({ ...input, findings: [...findings].reverse(), passCounts: [...passCounts].reverse(), memoryAssets: budget })
          try {
            if (isFindingView(spilled.assets)) spilledCards++
            expect(isFindingView(memory.assets)).toBe(false)
            expect(cardText(spilled)).toBe(cardText(memory))
            // Read again: the same records, and the values parse to the in-memory ones.
            expect(cardText(spilled)).toBe(cardText(memory))
            expect([...spilled.assets!]).toEqual(memory.assets)
            expect(spilled.assets!.length).toBe(memory.assets!.length)
          } finally {
            releaseFindings({ findings: [], score: spilled })
          }
          expect(spillDirs().length).toBe(before)
        },
      ),
      { numRuns: 150 },
    )
    expect(spilledCards).toBeGreaterThan(50)
  })

  it('a scan-time tally (findings and passes as they arrive) spills and releases its file when the scan fails', () => {
    const before = spillDirs().length
    const t = scoreTally({ rules: RULES, memoryAssets: 2 })
    for (let i = 0; i < 10; i++) t.finding(toFinding({ r: 0, fail: true, target: 'nmap:f.xml', asset: `h${i}`, resource: 'r', suppressed: 1 }))
    expect(spillDirs().length).toBe(before + 1)
    t.release()
    expect(spillDirs().length).toBe(before)
  })
})

describe('TallyMap', () => {
  const codec: Codec<{ n: number; s: string[] }> = {
    write(w, v) {
      w.num(v.n)
      w.u32(v.s.length)
      for (const s of v.s) w.str(s)
    },
    read(r) {
      const n = r.num()
      const s: string[] = []
      for (let k = r.u32(); k > 0; k--) s.push(r.str())
      return { n, s }
    },
  }
  const combine = (a: { n: number; s: string[] }, b: { n: number; s: string[] }) => ({ n: a.n + b.n, s: [...a.s, ...b.s] })

  it('combines a key spilled in several runs in the order its values were added; records longer than a read buffer; read twice; release removes the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ztscan-tallymap-test-'))
    try {
      const m = new TallyMap(3, combine, codec, dir)
      const big = 'ü'.repeat(300_000)
      const expected = new Map<string, { n: number; s: string[] }>()
      for (let i = 0; i < 50; i++) {
        const key = `k${(i * 7) % 11}${i % 5 === 0 ? '\0' : ''}`
        const v = { n: i, s: [i === 13 ? big : `v${i}`] }
        const mem = m.get(key)
        if (mem) {
          mem.n += v.n
          mem.s.push(...v.s)
        } else m.set(key, { n: v.n, s: [...v.s] })
        const e = expected.get(key)
        expected.set(key, e ? combine(e, v) : v)
      }
      expect(m.spilled).toBe(true)
      const want = [...expected].sort((a, b) => (a[0] < b[0] ? -1 : 1))
      expect([...m.entries()]).toEqual(want)
      expect([...m.entries()]).toEqual(want)
      expect(() => m.set('new', { n: 0, s: [] })).toThrow(/after the map was read/)
      expect(readdirSync(dir)).toHaveLength(1)
      m.release()
      expect(readdirSync(dir)).toHaveLength(0)
      expect(() => [...m.entries()]).toThrow(/released/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('pass counts past their budget', () => {
  it('past its budget once, a map holds at most SHORT_RUN keys at a time (its values die young), and reads every key back combined', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ztscan-passcount-test-'))
    try {
      const budget = 4 * SHORT_RUN
      const m = new TallyMap<PassCount>(budget, (a, b) => ({ ...a, count: a.count + b.count }), PASS_CODEC, dir)
      const n = 3 * budget
      let most = 0
      for (let i = 0; i < n; i++) {
        // every key twice, the second time far from the first (in another run)
        const j = i % (n / 2)
        const k = `nmap:f.xml\0a-critical\0h${String(j).padStart(6, '0')}`
        const c = m.get(k)
        if (c) (c as { count: number }).count++
        else m.set(k, { ruleId: 'a-critical', target: 'nmap:f.xml', asset: `h${String(j).padStart(6, '0')}`, count: 1 })
        if (m.runs > 0) most = Math.max(most, m.size)
      }
      // In memory until the budget, then short runs.
      expect(m.runs).toBeGreaterThanOrEqual((n - budget) / SHORT_RUN)
      expect(most).toBeLessThanOrEqual(SHORT_RUN)
      const got = [...m.entries()]
      expect(got).toHaveLength(n / 2)
      expect(got.every(([, c]) => c.count === 2)).toBe(true)
      m.release()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('runs are short past the budget, doubled every 512 runs up to the budget (a huge input merges a bounded number more runs)', () => {
    expect(runLimit(20_000, 0)).toBe(20_000)
    expect(runLimit(20_000, 1)).toBe(SHORT_RUN)
    expect(runLimit(20_000, 512)).toBe(SHORT_RUN)
    expect(runLimit(20_000, 513)).toBe(2 * SHORT_RUN)
    expect(runLimit(20_000, 5 * 512 + 1)).toBe(32 * SHORT_RUN)
    expect(runLimit(20_000, 6 * 512 + 1)).toBe(20_000)
    expect(runLimit(100, 3)).toBe(100)
  })

  it('a pass count spilled under a key that is not the scan\'s own keeps its strings (they are taken from the key only when it is)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ztscan-passcount-test-'))
    try {
      const m = new TallyMap<PassCount>(1, (a, b) => ({ ...a, count: a.count + b.count }), PASS_CODEC, dir)
      const counts: [string, PassCount][] = [
        // the scan's key: target, rule id, asset ('' without one)
        ['nmap:f.xml\0a-critical\0h1', { ruleId: 'a-critical', target: 'nmap:f.xml', asset: 'h1', count: 2 }],
        ['nmap:f.xml\0a-critical\0', { ruleId: 'a-critical', target: 'nmap:f.xml', count: 3 }],
        // other keys: same lengths in another order, a shorter one, one naming another asset
        ['a-critical\0nmap:f.xml\0h1', { ruleId: 'a-critical', target: 'nmap:f.xml', asset: 'h1', count: 4 }],
        ['k', { ruleId: 'b-high', target: 'tls://t1', count: 5 }],
        ['tls://t1\0b-high\0h2', { ruleId: 'b-high', target: 'tls://t1', asset: 'h1', count: 6 }],
      ]
      for (const [k, c] of counts) m.set(k, { ...c })
      expect(m.spilled).toBe(true)
      expect([...m.entries()]).toEqual([...counts].sort((a, b) => (a[0] < b[0] ? -1 : 1)))
      m.release()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('spilled in runs and read back: the same counts as added up in memory, in key order, with and without an asset', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ztscan-passcount-test-'))
    try {
      const m = new TallyMap<PassCount>(2, (a, b) => ({ ...a, count: a.count + b.count }), PASS_CODEC, dir)
      const expected = new Map<string, PassCount>()
      for (let i = 0; i < 40; i++) {
        const asset = i % 4 === 0 ? undefined : NAMES[i % NAMES.length]!
        const c: PassCount = { ruleId: RULES[i % 3]!.id, target: i % 2 ? 'nmap:f.xml' : 'tls://é', ...(asset !== undefined ? { asset } : {}), count: 1 + (i % 3) }
        const k = `${c.target}\0${c.ruleId}\0${asset ?? ''}`
        const mem = m.get(k)
        if (mem) (mem as { count: number }).count += c.count
        else m.set(k, { ...c })
        const e = expected.get(k)
        expected.set(k, e ? { ...e, count: e.count + c.count } : c)
      }
      expect(m.spilled).toBe(true)
      const got = [...m.entries()]
      expect(got.map(([k]) => k)).toEqual([...expected.keys()].sort())
      // JSON text too: a count without an asset has no asset field (not "asset": null or "").
      expect(got.map(([, c]) => JSON.stringify(c))).toEqual([...expected.keys()].sort().map((k) => JSON.stringify(expected.get(k))))
      m.release()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('SARIF tally of hosts per rule', () => {
  it('past its in-memory keys, in host order or shuffled, counts the (target, host) pairs, suppressed apart, as sets do', () => {
    const findings: Finding[] = []
    for (let h = 0; h < 3_000; h++)
      for (const target of ['nmap:a.xml', 'nmap:b.xml'])
        for (const port of [80, 443]) {
          const suppressed = h % 7 === 0 || (h % 5 === 0 && port === 443)
          findings.push({
            ruleId: 'a-critical', status: 'fail', severity: 'critical', pillar: 'networks', family: 'ports', target, resource: `10.0.${h >> 8}.${h & 255} tcp/${port}`,
            message: 'm', evidence: { address: `10.0.${h >> 8}.${h & 255}` }, fingerprint: `${h}-${port}`, asset: `10.0.${h >> 8}.${h & 255}`,
            ...(suppressed ? { suppression: { reason: 'lab' } } : {}),
          })
        }
    const pair = (f: Finding) => `${f.target} ${String(f.evidence.address)}`
    const want = {
      findings: findings.length,
      hostGroups: new Set(findings.filter((f) => !f.suppression).map(pair)).size + new Set(findings.filter((f) => f.suppression).map(pair)).size,
      hosts: new Set(findings.map(pair)).size,
      targets: 2,
    }
    let seed = 11
    const shuffled = [...findings]
    for (let i = shuffled.length - 1; i > 0; i--) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      const j = seed % (i + 1)
      ;[shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!]
    }
    for (const order of [findings, shuffled]) {
      const t = new SarifTally()
      for (const f of order) t.add(f)
      const [r] = t.rules()
      expect({ findings: r!.findings, hostGroups: r!.hostGroups, hosts: r!.hosts, targets: r!.targets }).toEqual(want)
    }
  })
})
