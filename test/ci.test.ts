import { describe, expect, it } from 'vitest'
import { baselineFrom, defineCheck, gatingFindings, mergeReports, mergeSarif, parseSuppressions, scan, toSarif, type RuleMeta, type ScanReport, type Target } from '../src/index.ts'
import { assertValidReport, assertValidSarif } from './helpers/schemas.ts'

const rules: RuleMeta[] = ['high', 'low'].map((sev) => ({
  id: `testing-${sev}`, family: 'testing', title: `T ${sev}`, pillar: sev === 'high' ? 'networks' : 'devices', severity: sev as 'high' | 'low',
  message: '{{target}} is {{state}}', description: 'd', remediation: 'r', helpUri: 'https://example.invalid/' + sev,
}))
// Each target says which rules fail; `v` changes the message (an updated finding).
const check = defineCheck({
  id: 'testing-ci', family: 'testing', targetKinds: ['t'], rules: ['testing-high', 'testing-low'],
  async run(t, ctx) {
    const fails = String(t.fails ?? '')
    for (const r of ['testing-high', 'testing-low'] as const)
      ctx.report(r, fails.includes(r.slice(8)) ? 'fail' : 'pass', { resource: 'r', evidence: { state: `${fails.includes(r.slice(8)) ? 'bad' : 'good'}${t.v ?? ''}` } })
  },
})
const T = (i: number, fails: string, v = ''): Target => ({ kind: 't', id: `t://host-${i}`, fails, v })
const many = Array.from({ length: 40 }, (_, i) => T(i, i % 3 === 0 ? 'high' : i % 3 === 1 ? 'low' : 'high,low'))
const strip = (r: ScanReport) => ({ targets: r.targets, findings: r.findings, errors: r.errors, score: r.score, summary: r.summary, rules: r.rules })

describe('baseline', () => {
  it('marks new/unchanged/updated and lists absent, from JSON and from SARIF', async () => {
    const before = await scan({ targets: [T(1, 'high'), T(2, 'high'), T(3, 'high')], checks: [check], rules })
    const now = [T(1, 'high'), T(2, 'high', ' again'), T(4, 'high')]
    for (const base of [baselineFrom(before, 'before.json'), baselineFrom(JSON.parse(JSON.stringify(toSarif(before))), 'before.sarif')]) {
      const after = await scan({ targets: now, checks: [check], rules, baseline: base })
      const states = after.findings.filter((f) => f.status === 'fail').map((f) => [f.target, f.baselineState])
      expect(states).toEqual([['t://host-1', 'unchanged'], ['t://host-2', 'updated'], ['t://host-4', 'new']])
      expect(after.baseline!.absent.map((a) => a.target)).toEqual(['t://host-3'])
      assertValidReport(after)
      const sarif = toSarif(after) as { runs: { results: { baselineState: string }[] }[] }
      expect(sarif.runs[0]!.results.map((r) => r.baselineState).sort()).toEqual(['absent', 'new', 'unchanged', 'updated'])
    }
  })
})

describe('CI gate', () => {
  it('gatingFindings: severity threshold, suppressions and --fail-on-new', async () => {
    const before = await scan({ targets: [T(1, 'high')], checks: [check], rules })
    const after = await scan({ targets: [T(1, 'high'), T(2, 'low')], checks: [check], rules, baseline: baselineFrom(before) })
    expect(gatingFindings(after, { failOn: 'high' }).map((f) => f.target)).toEqual(['t://host-1'])
    expect(gatingFindings(after, { failOn: 'low' }).map((f) => f.target)).toEqual(['t://host-1', 't://host-2'])
    expect(gatingFindings(after, { failOn: 'low', newOnly: true }).map((f) => f.target)).toEqual(['t://host-2'])
    expect(gatingFindings(after, { failOn: 'high', newOnly: true })).toEqual([])
    expect(gatingFindings(after, { failOn: 'none' })).toEqual([])
    const muted = await scan({ targets: [T(1, 'high')], checks: [check], rules, suppressions: parseSuppressions({ suppressions: [{ rule: '*', reason: 'accepted', expires: '2999-01-01' }] }) })
    expect(gatingFindings(muted, { failOn: 'info' })).toEqual([])
  })
})

describe('suppressions', () => {
  const list = parseSuppressions({
    suppressions: [
      { rule: 'testing-high', target: 't://host-1', reason: 'lab box, accepted until rebuild', expires: '2099-01-01' },
      { rule: 'testing-*', target: 't://host-2', reason: 'old exception', expires: '2020-01-01' },
    ],
  })
  it('suppressed findings stay (SARIF suppressions), do not count; expired ones stop suppressing and are reported', async () => {
    const r = await scan({ targets: [T(1, 'high'), T(2, 'high')], checks: [check], rules, suppressions: list })
    const f1 = r.findings.find((f) => f.target === 't://host-1' && f.status === 'fail')!
    expect(f1.suppression).toEqual({ reason: 'lab box, accepted until rebuild', expires: '2099-01-01' })
    expect(r.findings.find((f) => f.target === 't://host-2' && f.status === 'fail')!.suppression).toBeUndefined()
    expect(r.summary.failed.high).toBe(1)
    expect(r.summary.suppressed).toBe(1)
    expect(r.expiredSuppressions).toEqual([{ rule: 'testing-*', target: 't://host-2', reason: 'old exception', expires: '2020-01-01', matched: 1 }])
    const sarif = toSarif(r) as { runs: { results: { suppressions?: { justification: string }[] }[]; invocations: { toolExecutionNotifications: { descriptor: { id: string } }[] }[] }[] }
    expect(sarif.runs[0]!.results.filter((x) => x.suppressions).map((x) => x.suppressions![0]!.justification)).toEqual(['lab box, accepted until rebuild'])
    expect(sarif.runs[0]!.invocations[0]!.toolExecutionNotifications.map((n) => n.descriptor.id)).toContain('suppression-expired')
    assertValidReport(r)
  })
  it('rejects a suppression without reason or expiry, naming the field', () => {
    expect(() => parseSuppressions({ suppressions: [{ rule: 'x' }] }, 's.yaml')).toThrow(/s\.yaml: \/suppressions\/0\/reason: expected a value \(required\)/)
    expect(() => parseSuppressions({ suppressions: [{ rule: 'x', reason: 'why not', expires: 'soon' }] }, 's.yaml')).toThrow(/\/suppressions\/0\/expires/)
  })
})

describe('shard and merge', () => {
  it('shards split targets without overlap; merged JSON equals the unsharded scan', async () => {
    const whole = await scan({ targets: many, checks: [check], rules })
    const parts = await Promise.all([1, 2, 3].map((index) => scan({ targets: many, checks: [check], rules, shard: { index, count: 3 } })))
    const ids = parts.flatMap((p) => p.targets.map((t) => t.id))
    expect(new Set(ids).size).toBe(ids.length)
    expect(ids.length).toBe(40)
    expect(parts.every((p) => p.targets.length > 0)).toBe(true)
    const merged = mergeReports(parts)
    expect(strip(merged)).toEqual(strip(whole))
    assertValidReport(merged)
  })
  it('merged SARIF has the unsharded results and the same score', async () => {
    const whole = await scan({ targets: many, checks: [check], rules })
    const parts = await Promise.all([1, 2].map((index) => scan({ targets: many, checks: [check], rules, shard: { index, count: 2 } })))
    const merged = mergeSarif(parts.map((p) => JSON.parse(JSON.stringify(toSarif(p))))) as { runs: { results: unknown[]; properties: { score: { overall: number; pillars: unknown } } }[] }
    const direct = toSarif(whole) as typeof merged
    assertValidSarif(merged)
    expect(merged.runs[0]!.properties.score.overall).toBe(whole.score.overall)
    expect(merged.runs[0]!.properties.score.pillars).toEqual(whole.score.pillars)
    const key = (r: unknown) => JSON.stringify(r)
    expect(merged.runs[0]!.results.map(key).sort()).toEqual(direct.runs[0]!.results.map(key).sort())
  })
})
