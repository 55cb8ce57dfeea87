/**
 * A JSON report baseline's errors and skips stay bounded (issue 14): past the record budget they spill to a temporary file,
 * as the score's errored targets and per-asset tallies do, and the re-scored card is still the one of the whole parsed
 * report; a baseline of 150,000 errors loads in a small old space.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { baselineFrom, buildReport, fingerprintOf, loadBaseline, type AttemptError, type AttemptSkip, type EffectiveRule, type Finding, type ScanReport } from '../src/index.ts'
import { stringifyJson } from '../src/report/json.ts'
import { ensureBuilt, root } from './helpers/cli.ts'

const dir = mkdtempSync(join(tmpdir(), 'ztscan-baseline-spill-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
beforeAll(ensureBuilt)

const rule = (id: string, pillar: EffectiveRule['pillar']): EffectiveRule => ({
  id, family: 'x', title: id, pillar, severity: 'high', message: id, description: id, remediation: 'fix', helpUri: 'https://example.invalid/', enabled: true, values: {},
})
const rules = [rule('r-id', 'identity'), rule('r-net', 'networks')]
const finding = (i: number): Finding => {
  const ruleId = i % 4 ? 'r-net' : 'r-id'
  const target = `h${i}`
  return {
    ruleId, status: i % 3 ? 'fail' : 'pass', severity: 'high', pillar: ruleId === 'r-id' ? 'identity' : 'networks', family: 'x', target, resource: 'res', asset: target,
    message: `${ruleId} on ${target}`, evidence: {}, fingerprint: fingerprintOf(ruleId, target, 'res'),
  }
}

/** A baseline report: 60 hosts' findings, `errors` errors (some on those hosts: errored assets) and `skips` skips. */
function baseline(errors: number, skips: number): string {
  const report: ScanReport = buildReport({
    startedAt: new Date(Date.UTC(2026, 0, 1)), finishedAt: new Date(Date.UTC(2026, 0, 1, 1)), targets: [], rules,
    findings: Array.from({ length: 60 }, (_, i) => finding(i)),
    errors: Array.from({ length: errors }, (_, i): AttemptError => ({ target: `h${i % 9 ? 100 + i : i % 60}`, check: `c${i % 3}`, family: 'x', reason: 'timeout', message: `slow ${i}` })),
    skipped: Array.from({ length: skips }, (_, i): AttemptSkip => ({ target: `h${i}`, check: `c${i % 2}`, family: 'x', why: `why ${i % 7}` })),
    attempts: 60 + errors + skips,
  })
  const path = join(dir, `b-${errors}-${skips}.json`)
  writeFileSync(path, stringifyJson(report))
  return path
}

describe('a JSON report baseline with many errors and skips', () => {
  it('spilled past the budget (20,000 records): the card of the whole parsed report', async () => {
    const path = baseline(45_000, 25_000)
    const streamed = await loadBaseline(path)
    const whole = baselineFrom(JSON.parse(readFileSync(path, 'utf8')), path)
    expect(streamed.score).toEqual(whole.score)
    const net = streamed.score!.pillars.networks.coverage
    expect(net.errors).toBe(45_000)
    expect(net.skipped).toBe(25_000)
    expect(net.assetsUnjudged).toBeGreaterThan(39_000)
    expect(streamed.failed.size).toBe(whole.failed.size)
  })

  it('150,000 errors load in a 32 MB old space (the built library in a process of its own)', () => {
    const path = baseline(150_000, 0)
    const script = `
      const { loadBaseline } = await import(${JSON.stringify(join(root, 'dist/src/report/baseline.js'))})
      const b = await loadBaseline(${JSON.stringify(path)})
      console.log(JSON.stringify({ errors: b.score.pillars.networks.coverage.errors, failed: b.failed.size }))`
    const r = spawnSync(process.execPath, ['--max-old-space-size=32', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 120_000 })
    expect(r.stderr).toBe('')
    expect(JSON.parse(r.stdout)).toEqual({ errors: 150_000, failed: 40 })
  })
})
