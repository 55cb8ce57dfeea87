/**
 * Reports read back as a stream (read-stream.ts, `readTrendReports`): the same trend as whole reads, only the two newest
 * runs' open findings kept, the same messages for bad reports, and hostile reports bounded. A report larger than the old
 * 256 MiB cap is measured by hand (README "Scale" / the report of issue 14), not here: it takes a minute to write.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildReport, fingerprintOf, InputError, readReport, readTrendReports, trendOf, type EffectiveRule, type Finding, type ScanReport } from '../src/index.ts'
import { streamReport } from '../src/report/read-stream.ts'
import { validateReportPart } from '../src/report/merge.ts'

const dir = mkdtempSync(join(tmpdir(), 'ztscan-readstream-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const rule = (id: string, pillar: EffectiveRule['pillar']): EffectiveRule => ({
  id, family: 'x', title: id, pillar, severity: 'high', message: id, description: id, remediation: 'fix', helpUri: 'https://example.invalid/', enabled: true, values: {},
})
const rules = [rule('r-id', 'identity'), rule('r-net', 'networks')]
const finding = (ruleId: string, target: string, status: Finding['status'], suppressed = false): Finding => ({
  ruleId, status, severity: 'high', pillar: ruleId === 'r-id' ? 'identity' : 'networks', family: 'x', target, resource: 'res', asset: target,
  message: `${ruleId} on ${target}`, evidence: { banner: 'x'.repeat(40) }, fingerprint: fingerprintOf(ruleId, target, 'res'),
  ...(suppressed ? { suppression: { reason: 'accepted' } } : {}),
})
/** A run of `n` hosts on `day`: host i fails when (i + day) % 3 === 0, some failures suppressed. */
const run = (day: number, n: number): ScanReport => {
  const findings: Finding[] = []
  for (let i = 0; i < n; i++) findings.push(finding('r-net', `10.0.${i >> 8}.${i & 255}`, (i + day) % 3 === 0 ? 'fail' : 'pass', i % 97 === 0))
  return buildReport({ startedAt: new Date(Date.UTC(2026, 0, day)), finishedAt: new Date(Date.UTC(2026, 0, day, 1)), targets: [], rules, findings, errors: [], skipped: [], attempts: n })
}
const write = (name: string, data: unknown): string => {
  const p = join(dir, name)
  writeFileSync(p, typeof data === 'string' ? data : JSON.stringify(data))
  return p
}

describe('reports read back as a stream', () => {
  // Given out of time order: day 4 first, day 2 last; two runs share day 3 (the later file is the newer).
  const reports = [run(4, 3000), run(1, 3000), run(3, 2000), { ...run(3, 2500), finishedAt: '2026-01-03T02:00:00.000Z' }, run(2, 3000)]
  const files = reports.map((r, i) => write(`r${i}.json`, r))

  it('gives the same trend as reading each report whole, keeping the open findings of the two newest runs only', async () => {
    expect(reports[0]!.passCounts?.length ?? 0).toBe(0)
    expect(reports[0]!.score.assets?.length).toBeGreaterThan(1000)
    const light = await readTrendReports(files)
    const whole = await Promise.all(files.map((f) => readReport(f)))
    expect(trendOf(light, files)).toEqual(trendOf(whole, files))
    const t = trendOf(light, files)
    expect(t.runs.map((r) => r.open).every((n) => n > 500)).toBe(true)
    expect(t.fixed.length + t.new.length + t.stillOpen.length).toBeGreaterThan(1000)
    // Day 4 and the later day-3 file keep their open findings; the others none, and no report keeps passing ones.
    expect(light.map((r) => r.findings.length)).toEqual([whole[0]!, undefined, undefined, whole[3]!, undefined].map((r) => r?.findings.filter((f) => f.status === 'fail' && !f.suppression).length ?? 0))
    expect(light.every((r) => r.score.assets === undefined || r.score.assets.length === 0)).toBe(true)
    // Each carries its count of open findings, which copies keep (it was kept aside, keyed by the object: a copy lost it).
    const openOf = (r: ScanReport) => r.findings.filter((f) => f.status === 'fail' && !f.suppression).length
    expect(light.map((r) => r.openFindings)).toEqual(whole.map(openOf))
    expect(trendOf(light.map((r) => ({ ...r })), files)).toEqual(trendOf(whole, files))
    expect(trendOf(structuredClone(light), files).runs).toEqual(trendOf(whole, files).runs)
    // Everything else of the report is as read whole.
    const pick = (r: ScanReport) => ({ ...r, findings: [], targets: [], rules: [], score: { ...r.score, assets: [] }, openFindings: undefined })
    expect(pick(light[1]!)).toEqual(pick(whole[1]!))
    expect(light[1]!.rules).toEqual([])
    const kept = await streamReport(files[1]!, { keep: ['rules', 'findings'] })
    expect(kept.rules).toEqual(whole[1]!.rules)
    expect(kept.findings).toEqual(whole[1]!.findings)
  })

  it('a count never stale: findings filtered after reading are counted as they are; no count in a written report', async () => {
    const light = await readTrendReports(files)
    const whole = await Promise.all(files.map((f) => readReport(f)))
    // A library caller keeps the findings of some hosts only: the two newest runs are counted from what is left.
    const keep = (f: Finding) => !f.target.startsWith('10.0.1.')
    const filtered = light.map((r) => (r.findings.length ? { ...r, findings: r.findings.filter(keep) } : r))
    const openOf = (r: ScanReport, which: (f: Finding) => boolean) => r.findings.filter((f) => f.status === 'fail' && !f.suppression && which(f)).length
    const want = trendOf(whole.map((r, i) => (light[i]!.findings.length ? { ...r, findings: r.findings.filter(keep) } : r)), files)
    expect(filtered.map((r) => r.findings.length).filter((n) => n > 0)).toHaveLength(2)
    expect(trendOf(filtered, files)).toEqual(want)
    expect(trendOf(filtered, files).runs.map((r) => r.open)).not.toEqual(trendOf(whole, files).runs.map((r) => r.open))
    expect(light.map((r) => r.openFindings)).toEqual(whole.map((r) => openOf(r, () => true)))
    // The count follows the list: the same lists filtered in place of the report's own.
    for (const r of light) if (r.findings.length) (r as { findings: readonly Finding[] }).findings = r.findings.filter(keep)
    expect(light.map((r) => r.openFindings)).toEqual(filtered.map((r) => trendOf([r]).runs[0]!.open))
    // Written back, no count shows: the report schema (field by field, as a merge part) takes what is written, with the
    // two newest runs' findings left out (they keep only what a trend compares).
    for (const r of light) {
      const text = JSON.stringify(r)
      expect(text).not.toContain('openFindings')
      expect(() => validateReportPart({ ...(JSON.parse(text) as object), findings: [] }, 'x.json')).not.toThrow()
    }
  })

  it('bad reports: the same message as a whole read, naming the file and the field', async () => {
    const r = JSON.parse(JSON.stringify(reports[1])) as { findings: Record<string, unknown>[]; summary: Record<string, unknown> }
    r.findings[1234]!.status = 'maybe'
    const badFinding = write('bad-finding.json', r)
    const r2 = JSON.parse(JSON.stringify(reports[1])) as Record<string, unknown>
    delete r2.summary
    const noSummary = write('no-summary.json', r2)
    const sarif = write('sarif.json', { version: '2.1.0', runs: [] })
    for (const p of [badFinding, noSummary, sarif, dir]) {
      const whole = await readReport(p).then(() => 'read', (e: Error) => e.message)
      const streamed = await readTrendReports([p]).then(() => 'read', (e: Error) => e.message)
      expect(streamed).toBe(whole)
      expect(streamed).toContain(p)
    }
    await expect(readTrendReports([badFinding])).rejects.toThrow('/findings/1234/status: expected one of')
    await expect(readTrendReports([noSummary])).rejects.toThrow('/summary: expected a value (required)')
    const cut = JSON.stringify(reports[1]).slice(0, 50_000)
    await expect(readTrendReports([write('cut.json', cut)])).rejects.toThrow(/cut\.json: not JSON \(.*ends early/)
  })

  it('hostile reports stay bounded: a huge finding, deep nesting, a huge skipped array entry', async () => {
    const head = '{"schemaVersion":"1.0","findings":['
    const big = write('big-entry.json', `${head}{"message":"${'a'.repeat(9 * 1024 * 1024)}"}]}`)
    await expect(readTrendReports([big])).rejects.toThrow(/big-entry\.json: \/findings\/0: an entry larger than the 8 MiB limit/)
    const deep = write('deep.json', `${head}${'['.repeat(100_000)}`)
    await expect(readTrendReports([deep])).rejects.toThrow(/deep\.json: \/findings\/0: nested deeper than 64 levels/)
    const bigPass = write('big-pass.json', `{"schemaVersion":"1.0","passCounts":[{"x":"${'a'.repeat(9 * 1024 * 1024)}"}]}`)
    await expect(readTrendReports([bigPass])).rejects.toThrow(/\/passCounts\/0: an entry larger than the 8 MiB limit/)
    await expect(streamReport(files[0]!, { maxBytes: 1000 })).rejects.toThrow(InputError)
    await expect(streamReport(files[0]!, { maxBytes: 1000 })).rejects.toThrow('more than the 1000-byte limit')
  })

  it('entries of the only-scanned arrays (passCounts, score.assets) must still be JSON, as in a whole read', async () => {
    const text = JSON.stringify(reports[1])
    const badPass = write('bad-pass.json', text.replace(/^\{/, '{"passCounts":[{x y}, tru],'))
    const badAsset = write('bad-asset.json', text.replace('"assets":[', '"assets":[tru,'))
    for (const p of [badPass, badAsset]) {
      await expect(readReport(p)).rejects.toThrow(/not JSON/)
      await expect(streamReport(p)).rejects.toThrow(InputError)
      await expect(streamReport(p)).rejects.toThrow(new RegExp(`${p.replace(/[.\\/]/g, '\\$&')}: not JSON \\(/(passCounts|score/assets)/0: `))
      await expect(readTrendReports([p])).rejects.toThrow(/not JSON/)
    }
  })

  it('a field the report schema lacks is rejected as it arrives, with the message of a whole read; __proto__ too', async () => {
    const text = JSON.stringify(reports[1])
    const big = `{"a":"${'x'.repeat(1024 * 1024)}"}`
    const cases: [string, string][] = [
      ['unknown-first.json', text.replace(/^\{/, '{"zzz":1,')],
      ['unknown-last.json', text.replace(/\}$/, ',"zzz":{"a":1}}')],
      ['proto-obj.json', text.replace(/^\{/, '{"__proto__":{},')],
      ['proto-after.json', text.replace(/\}$/, ',"__proto__":{"schemaVersion":"1.0"}}')],
      ['proto-num.json', text.replace(/\}$/, ',"__proto__":5}')],
      ['many-unknown.json', text.replace(/\}$/, `,${Array.from({ length: 40 }, (_, i) => `"k${i}":${big}`).join(',')}}`)],
    ]
    for (const [name, t] of cases) {
      const p = write(name, t)
      const whole = await readReport(p).then(() => 'read', (e: Error) => e.message)
      expect(whole).toMatch(/: \/(zzz|__proto__|k0): expected no such property \(unknown field\)$/)
      const streamed = await streamReport(p).then(() => 'read', (e: Error) => e.message)
      expect(streamed).toBe(whole)
    }
    // Rejected at the first unknown field: the 40 MiB of unknown values after it are not even read (a 3 MiB read limit).
    await expect(streamReport(write('many-unknown.json', text.replace(/\}$/, `,${Array.from({ length: 40 }, (_, i) => `"k${i}":${big}`).join(',')}}`)), { maxBytes: text.length + 3 * 1024 * 1024 })).rejects.toThrow('/k0: expected no such property')
    // Before schemaVersion, a file that is no report keeps the whole read's message.
    const notReport = write('not-report.json', '{"zzz":1,"__proto__":{},"version":"2.1.0"}')
    expect(await streamReport(notReport).then(() => 'read', (e: Error) => e.message)).toBe(await readReport(notReport).then(() => 'read', (e: Error) => e.message))
  })

  it('reads a report written as a stream, finding by finding, without holding it', async () => {
    // 60,000 findings (~20 MB): written by a stream, read back by a stream; the callback sees each finding once, in order.
    const base = run(5, 10)
    const p = join(dir, 'streamed.json')
    const out = createWriteStream(p)
    const { findings: _f, ...env } = base
    const envText = JSON.stringify(env)
    out.write(`${envText.slice(0, -1)},"findings":[`)
    const n = 60_000
    for (let i = 0; i < n; i++) {
      const f = finding('r-net', `h${i}`, i % 2 ? 'fail' : 'pass')
      if (!out.write(`${i ? ',' : ''}${JSON.stringify(f)}`)) await new Promise<void>((r) => out.once('drain', () => r()))
    }
    await new Promise<void>((r) => out.end(']}', () => r()))
    let seen = 0
    let last = ''
    const report = await streamReport(p, {
      onFinding: (f, i) => {
        expect(i).toBe(seen++)
        last = f.target
      },
    })
    expect(seen).toBe(n)
    expect(last).toBe(`h${n - 1}`)
    expect(report.findings).toEqual([])
    const [light] = await readTrendReports([p])
    expect(trendOf([light!]).runs[0]!.open).toBe(n / 2)
  })
})
