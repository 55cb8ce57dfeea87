/**
 * A JSON report baseline read as a stream (`loadBaseline` → streamBaseline): the same baseline (failed findings, re-scored
 * card) as `baselineFrom` of the whole parsed report, whatever the order of its fields; SARIF logs still read whole; bad
 * and hostile baselines give the same messages, bounded. A baseline larger than the old 256 MiB cap is measured by hand.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { baselineFrom, buildReport, fingerprintOf, loadBaseline, toSarif, type EffectiveRule, type Finding, type ScanReport } from '../src/index.ts'

const dir = mkdtempSync(join(tmpdir(), 'ztscan-basestream-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const rule = (id: string, pillar: EffectiveRule['pillar'], functions?: string[]): EffectiveRule => ({
  id, family: 'x', title: id, pillar, severity: 'high', message: id, description: id, remediation: 'fix', helpUri: 'https://example.invalid/', enabled: true, values: {},
  ...(functions ? { functions } : {}),
})
const rules = [rule('r-id', 'identity', ['Authentication']), rule('r-net', 'networks', ['Network Segmentation'])]
const finding = (ruleId: string, target: string, status: Finding['status'], suppressed = false): Finding => ({
  ruleId, status, severity: target.endsWith('7') ? 'critical' : 'high', pillar: ruleId === 'r-id' ? 'identity' : 'networks', family: 'x', target, resource: 'res', asset: target,
  message: `${ruleId} on ${target}`, evidence: {}, fingerprint: fingerprintOf(ruleId, target, 'res'), ...(suppressed ? { suppression: { reason: 'accepted' } } : {}),
})
const report = (n: number, floor = false): ScanReport => {
  const findings: Finding[] = []
  for (let i = 0; i < n; i++) findings.push(finding(i % 4 ? 'r-net' : 'r-id', `h${i}`, i % 3 ? 'fail' : 'pass', i % 89 === 0))
  return buildReport({
    startedAt: new Date(Date.UTC(2026, 0, 1)), finishedAt: new Date(Date.UTC(2026, 0, 1, 1)), targets: [], rules, findings,
    errors: [{ target: 'h1', check: 'x', family: 'x', reason: 'timeout', message: 'slow' } as never], skipped: [], attempts: n,
    ...(floor ? { scoreSettings: { weakestPillarFloor: true } } : {}),
  })
}
let k = 0
const write = (text: string): string => {
  const p = join(dir, `b${++k}.json`)
  writeFileSync(p, text)
  return p
}

describe('a JSON report baseline read as a stream', () => {
  it('is the same baseline as the whole report parsed, the rules before or after the findings, any score settings', async () => {
    for (const r of [report(5000), report(3000, true)]) {
      const { rules: rs, ...rest } = r
      for (const text of [JSON.stringify(r), JSON.stringify({ ...rest, rules: rs })]) {
        const p = write(text)
        const streamed = await loadBaseline(p)
        const whole = baselineFrom(JSON.parse(readFileSync(p, 'utf8')), p)
        expect(streamed.failed.size).toBeGreaterThan(1000)
        expect([...streamed.failed]).toEqual([...whole.failed])
        expect(streamed.score).toEqual(whole.score)
        expect(streamed.score!.overall).not.toBeNull()
        // The rules count (functions judged, rules in force): read after the findings, they are applied by a second pass.
        expect(streamed.score).not.toEqual(baselineFrom({ ...JSON.parse(text), rules: [] }, p).score)
        expect(streamed.source).toBe(p)
      }
    }
  })
  it('passes counted rather than stored (no --include-passed) count in the re-scored baseline as in the report itself', async () => {
    const findings = report(4000).findings.filter((f) => f.status === 'fail')
    const passCounts = Array.from({ length: 300 }, (_, i) => ({ ruleId: i % 4 ? 'r-net' : 'r-id', target: `p${i}`, asset: `p${i}`, count: 1 + (i % 3) }))
    const r = buildReport({ startedAt: new Date(Date.UTC(2026, 0, 1)), targets: [], rules, findings, passCounts, errors: [], skipped: [], attempts: 1 })
    const p = write(JSON.stringify(r))
    const streamed = await loadBaseline(p)
    const whole = baselineFrom(JSON.parse(readFileSync(p, 'utf8')), p)
    expect(r.summary.passed).toBe(600)
    for (const b of [streamed, whole]) {
      expect(b.score!.overall).toBe(r.score.overall)
      expect(b.score!.pillars).toEqual(r.score.pillars)
    }
    // Without them the baseline would score lower than the report it was made from.
    expect(baselineFrom({ ...r, passCounts: [] }, p).score!.overall).toBeLessThan(r.score.overall!)
  })

  it('a SARIF log is still read whole, as before', async () => {
    const p = write(JSON.stringify(toSarif(report(200))))
    const streamed = await loadBaseline(p)
    expect([...streamed.failed]).toEqual([...baselineFrom(JSON.parse(readFileSync(p, 'utf8')), p).failed])
    expect(streamed.failed.size).toBeGreaterThan(100)
  })
  it('a SARIF log is known at its first run: not scanned on by the stream (a run over 8 MiB, a large value after the runs)', async () => {
    // One run of 20,000 results (about 11 MB): was refused at /runs/0 by the stream's entry bound.
    const big = toSarif(report(30_000), { maxResults: 1e9 })
    expect(big.runs).toHaveLength(1)
    const text = JSON.stringify(big)
    expect(text.length).toBeGreaterThan(9 * 1024 * 1024)
    // The runs, then a value over the stream's 16 MiB bound for one: the stream used to read on into it and refuse the file.
    const after = `${text.slice(0, -1)},"properties":{"note":"${'n'.repeat(17 * 1024 * 1024)}"}}`
    for (const p of [write(text), write(after)]) {
      const b = await loadBaseline(p)
      expect(b.failed.size).toBeGreaterThan(15_000)
      expect([...b.failed]).toEqual([...baselineFrom(JSON.parse(readFileSync(p, 'utf8')), p).failed])
    }
  }, 60_000)
  it('bad and hostile baselines: the same messages, bounded', async () => {
    const r = JSON.parse(JSON.stringify(report(100))) as { findings: Record<string, unknown>[] }
    r.findings[42]!.target = 5
    await expect(loadBaseline(write(JSON.stringify(r)))).rejects.toThrow(/b\d+\.json: \/findings\/42\/target: expected a string/)
    await expect(loadBaseline(write('{"schemaVersion":"1.0","findings":[null]}'))).rejects.toThrow('/findings/0: expected a finding object')
    await expect(loadBaseline(write('{"schemaVersion":'))).rejects.toThrow('expected valid JSON (unexpected end of input')
    await expect(loadBaseline(write('{"findings":[],"x":1}'))).rejects.toThrow('/: expected a ztscan JSON report or a SARIF log')
    await expect(loadBaseline(write(`{"schemaVersion":"1.0","findings":[{"message":"${'a'.repeat(9 * 1024 * 1024)}"}]}`))).rejects.toThrow('/findings/0: an entry larger than the 8 MiB limit')
    await expect(loadBaseline(write(`{"schemaVersion":"1.0","findings":[${'['.repeat(100_000)}`))).rejects.toThrow('/findings/0: nested deeper than 64 levels')
    // Entries of the only-scanned arrays are still checked as JSON: rejected naming the file, as a whole read does.
    const text = JSON.stringify(report(100))
    for (const bad of [text.replace(/^\{/, '{"passCounts":[{x y}, tru],'), text.replace('"assets":[', '"assets":[tru,')]) {
      const p = write(bad)
      await expect(loadBaseline(p)).rejects.toThrow(new RegExp(`${p.replace(/[.\\/]/g, '\\$&')}: .*(valid JSON|not JSON)`))
    }
    await expect(loadBaseline(join(dir, 'missing.json'))).rejects.toThrow('missing.json')
  })
})
