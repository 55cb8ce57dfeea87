/**
 * Review findings on the spill, tally and score code (issue 14, bounded memory): the spilled card's per-asset scores
 * spill by bytes too, the score card takes the scan's byte budget, a damaged or hostile asset tally stays bounded and
 * fails with the "damaged" message, the errored targets' file is removed when reading the errors throws, and the asset tallies' when reading the findings or pass counts does.
 */
import { describe, expect, it } from 'vitest'
import { OrderedSpill, SpillStore, isFindingView, releaseFindings } from '../src/engine/spill.ts'
import { BinReader, BinWriter, PASS_CODEC, TallyMap } from '../src/engine/tally.ts'
import { SHORT_RUN } from '../src/engine/runs.ts'
import { assetCodec, MAX_RULE_IDS, scoreReport, scoreTally, type AssetAcc } from '../src/scoring/score.ts'
import { privateTmpdir, spillDirs } from './helpers/tmpdir.ts'
import type { AttemptError, Finding, PassCount, RuleMeta } from '../src/types.ts'

const RULE: RuleMeta = { id: 'r-high', family: 'fam', title: 't', pillar: 'networks', severity: 'high', message: 'm', description: 'd', remediation: 'r', helpUri: 'https://example.invalid' }
const finding = (asset: string, ruleId = RULE.id): Finding => ({
  ruleId, status: 'fail', severity: 'high', pillar: 'networks', family: 'fam', target: 'nmap:f.xml', asset, resource: asset, message: 'm', evidence: {}, fingerprint: `fp-${asset}`,
})

describe('OrderedSpill', () => {
  privateTmpdir('ztscan-spill-review-')

  it('writes once the JSON text it holds reaches its byte budget, before its record count; reads back the same records in order', () => {
    const recs = Array.from({ length: 6 }, (_, i) => ({ i, text: 'x'.repeat(20_000) }))
    const s = new OrderedSpill<{ i: number; text: string }>(1_000, undefined, { maxBytes: 30_000 })
    try {
      s.add(recs[0]!)
      expect(s.spilled).toBe(false)
      s.add(recs[1]!)
      expect(s.spilled).toBe(true)
      expect(spillDirs().length).toBe(1)
      for (const r of recs.slice(2)) s.add(r)
      expect([...s.finish()]).toEqual(recs)
    } finally {
      s.release()
    }
    expect(spillDirs()).toEqual([])
  })
})

describe('the score card', () => {
  privateTmpdir('ztscan-spill-review-score-')

  it('takes the byte budget (memoryBytes): a few assets with long ids spill under a large count budget; same card', () => {
    const findings = Array.from({ length: 8 }, (_, i) => finding(`${i}-${'a'.repeat(5_000)}`))
    const memory = scoreReport({ findings, rules: [RULE] })
    expect(isFindingView(memory.assets)).toBe(false)
    const spilled = scoreReport({ findings, rules: [RULE], memoryAssets: 1_000, memoryBytes: 12_000 })
    try {
      expect(isFindingView(spilled.assets)).toBe(true)
      expect([...spilled.assets!]).toEqual(memory.assets)
    } finally {
      releaseFindings({ findings: [], score: spilled })
    }
    expect(spillDirs()).toEqual([])
  })

  it('removes its temporary files when reading the errors throws (a spilled view that fails)', () => {
    const t = scoreTally({ rules: [RULE], memoryAssets: 2 })
    for (let i = 0; i < 10; i++) t.finding(finding(`h${i}`))
    const errors = {
      *[Symbol.iterator](): Generator<AttemptError> {
        for (let i = 0; i < 5; i++) yield { check: 'c', family: 'fam', target: `t${i}`, reason: 'timeout', message: 'slow' }
        throw new Error('injected read failure')
      },
    } as unknown as readonly AttemptError[]
    expect(spillDirs().length).toBeGreaterThan(0)
    expect(() => t.card(errors, [])).toThrow('injected read failure')
    expect(spillDirs()).toEqual([])
  })

  it('scoreReport removes the tallies\' temporary file when reading its findings or pass counts throws (a spilled view that fails)', () => {
    let spilledBeforeThrow = 0
    /** Ten assets (past a budget of two: the tallies spilled), then the read fails. */
    const failing = <T>(make: (i: number) => T): Iterable<T> => ({
      *[Symbol.iterator](): Generator<T> {
        for (let i = 0; i < 10; i++) yield make(i)
        spilledBeforeThrow = spillDirs().length
        throw new Error('injected read failure')
      },
    })
    expect(() => scoreReport({ findings: failing((i) => finding(`h${i}`)), rules: [RULE], memoryAssets: 2 })).toThrow('injected read failure')
    expect(spilledBeforeThrow).toBeGreaterThan(0)
    expect(spillDirs()).toEqual([])
    const findings = Array.from({ length: 10 }, (_, i) => finding(`h${i}`))
    const passCounts = failing((i): PassCount => ({ ruleId: RULE.id, target: 'nmap:f.xml', asset: `p${i}`, count: 1 }))
    spilledBeforeThrow = 0
    expect(() => scoreReport({ findings, passCounts, rules: [RULE], memoryAssets: 2 })).toThrow('injected read failure')
    expect(spilledBeforeThrow).toBeGreaterThan(0)
    expect(spillDirs()).toEqual([])
  })
})

describe('the asset tallies’ codec', () => {
  const acc = (i: number, ruleId: string): AssetAcc => ({
    asset: `h${i}`, ft: 'nmap:f.xml', pt: undefined, pillar: 'networks', passed: 1, failed: 1, suppressed: 0,
    rules: [{ ruleId, severity: 'high', passed: 1, failed: 1, failResource: 'r', failFingerprint: 'fp', failTarget: 'nmap:f.xml' }],
  })

  it(`keeps at most ${MAX_RULE_IDS} rule ids in its table: others are written whole; every record round-trips`, () => {
    const codec = assetCodec()
    const n = MAX_RULE_IDS + 500
    const w = new BinWriter()
    const ends: number[] = []
    for (let i = 0; i < n; i++) {
      codec.write(w, acc(i, `rule-${i}`), `networks\0h${i}`)
      ends.push(w.pos)
    }
    const text = (i: number): string => w.buf.toString('latin1', i ? ends[i - 1]! : 0, ends[i]!)
    // A rule id in the table is an index; past the cap the id itself is in the record (each time it is written).
    expect(text(0)).not.toContain('rule-0')
    expect(text(MAX_RULE_IDS - 1)).not.toContain(`rule-${MAX_RULE_IDS - 1}`)
    expect(text(MAX_RULE_IDS)).toContain(`rule-${MAX_RULE_IDS}`)
    codec.write(w, acc(n, `rule-${n - 1}`), `networks\0h${n}`)
    expect(w.buf.toString('latin1', ends[n - 1]!, w.pos)).toContain(`rule-${n - 1}`)
    codec.write(w, acc(n + 1, 'rule-0'), `networks\0h${n + 1}`)
    const r = new BinReader(w.buf)
    for (let i = 0; i < n; i++) expect(codec.read(r, `networks\0h${i}`)).toEqual(acc(i, `rule-${i}`))
    expect(codec.read(r, `networks\0h${n}`)).toEqual(acc(n, `rule-${n - 1}`))
    expect(codec.read(r, `networks\0h${n + 1}`)).toEqual(acc(n + 1, 'rule-0'))
  })

  it('a damaged record (a pillar or severity byte out of range, an unknown rule index) gives the "damaged" message', () => {
    const codec = assetCodec()
    const w = new BinWriter()
    codec.write(w, acc(0, 'rule-0'), 'networks\0h0')
    const good = Buffer.from(w.buf.subarray(0, w.pos))
    const bad = Buffer.from(good)
    bad[0] = 200
    expect(() => codec.read(new BinReader(bad), 'networks\0h0')).toThrow(/damaged/)
    // A rule index its table does not hold: read by a codec whose table is empty.
    expect(() => assetCodec().read(new BinReader(good), 'networks\0h0')).toThrow(/damaged/)
    expect(codec.read(new BinReader(good), 'networks\0h0')).toEqual(acc(0, 'rule-0'))
  })
})

describe('stores and maps write short runs past their budget, longer after 512 of them (runLimit)', () => {
  privateTmpdir('ztscan-spill-review-runs-')
  const budget = 4 * SHORT_RUN
  // The budget, then 512 runs of SHORT_RUN records, then runs of twice that.
  const n = budget + 512 * SHORT_RUN + 4 * SHORT_RUN
  const key = (i: number): string => `k${String(i).padStart(7, '0')}`

  it('TallyMap: at most SHORT_RUN keys held for the first 512 short runs, then up to twice that', () => {
    const m = new TallyMap<PassCount>(budget, (a, b) => ({ ...a, count: a.count + b.count }), PASS_CODEC)
    try {
      let early = 0
      let late = 0
      for (let i = 0; i < n; i++) {
        const k = key(i)
        m.set(k, { ruleId: 'r', target: k, count: 1 })
        if (m.runs > 0 && m.runs <= 512) early = Math.max(early, m.size)
        if (m.runs > 513) late = Math.max(late, m.size)
      }
      expect(early).toBe(SHORT_RUN)
      expect(late).toBe(2 * SHORT_RUN)
      expect(m.runs).toBe(1 + 512 + 1)
    } finally {
      m.release()
    }
  })

  it('SpillStore: at most SHORT_RUN records held for the first 512 short runs, then up to twice that', () => {
    const s = new SpillStore<number>(budget, key)
    try {
      let spilled = false
      let early = 0
      let late = 0
      for (let i = 0; i < n; i++) {
        s.add(i)
        if (!spilled) spilled = s.spilled
        else if (i < budget + 512 * SHORT_RUN) early = Math.max(early, s.held)
        else late = Math.max(late, s.held)
      }
      expect(early).toBe(SHORT_RUN - 1)
      expect(late).toBe(2 * SHORT_RUN - 1)
    } finally {
      s.release()
    }
  })
})
