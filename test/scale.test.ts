/**
 * Enterprise scale (issue 14): passes counted per rule, target and asset instead of stored one finding each; the score,
 * summary and every consumer of passes (JUnit, HTML, verbose verdicts, merge) come out the same as with every pass stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { mergeReports, scan, toJunit, type ScanReport } from '../src/index.ts'
import { targetVerdicts } from '../src/cli/progress.ts'
import { toHtml } from '../src/report/html.ts'
import openPort from '../checks/open-port/index.ts'
import { assertValidReport } from './helpers/schemas.ts'
import { hostAddress, nmapDocument, portsHost, serviceHost, writeNmapFile } from './helpers/nmap-gen.ts'
import { ensureBuilt, runCli as ztscan } from './helpers/cli.ts'

const dir = mkdtempSync(join(tmpdir(), 'ztscan-scale-'))
beforeAll(() => ensureBuilt())
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const now = (): Date => new Date('2026-12-01T00:00:00Z')
const families = [openPort]
/** Hosts of three shapes: risky services (mysql, redis), nothing open, an allowed high port. */
const host = (i: number): string => (i % 3 === 0 ? serviceHost(i) : i % 3 === 1 ? portsHost(i, []) : portsHost(i, [20_000 + (i % 7)]))

async function nmapFile(name: string, hosts: number): Promise<string> {
  const file = join(dir, name)
  await writeNmapFile(file, nmapDocument({ host, hosts }))
  return file
}

/** The report without its clock fields and without the (stored or counted) passes. */
const comparable = (r: ScanReport) => {
  const { startedAt: _s, finishedAt: _f, findings, passCounts: _p, ...rest } = r
  return { ...rest, findings: findings.filter((f) => f.status === 'fail') }
}

describe('passes counted, not stored', () => {
  it('score, summary, JUnit, HTML and verbose verdicts equal those of the scan that stores every pass', async () => {
    const file = await nmapFile('mixed.xml', 300)
    const policy = { source: '<inline>', rules: { 'open-port-not-allowed': { parameters: { allowed: { '*': [22, 80, 443, '20000-20003'] } } } } }
    const counted = await scan({ targets: [`nmap:${file}`], families, now, policy })
    const stored = await scan({ targets: [`nmap:${file}`], families, now, policy, includePassed: true })
    assertValidReport(counted)
    const passes = stored.findings.filter((f) => f.status === 'pass')
    expect(passes.length).toBeGreaterThan(600)
    expect(counted.findings.every((f) => f.status === 'fail')).toBe(true)
    expect(stored.passCounts).toBeUndefined()
    // One count per (rule, target, asset), adding up to the stored passes.
    expect(counted.passCounts!.reduce((n, c) => n + c.count, 0)).toBe(passes.length)
    expect(new Set(counted.passCounts!.map((c) => c.asset))).toEqual(new Set(passes.map((f) => f.asset)))
    expect(counted.passCounts!.find((c) => c.asset === hostAddress(1) && c.ruleId === 'open-port-database-exposed')).toEqual({
      ruleId: 'open-port-database-exposed', target: `nmap:${file}`, asset: hostAddress(1), count: 1,
    })
    expect(comparable(counted)).toEqual(comparable(stored))
    expect(counted.summary.passed).toBe(passes.length)
    expect(counted.score.pillars.networks.passed).toBe(passes.length)
    expect(toJunit(counted).replace(/timestamp="[^"]*"|time="[^"]*"/g, '')).toBe(toJunit(stored).replace(/timestamp="[^"]*"|time="[^"]*"/g, ''))
    expect(targetVerdicts(counted)).toEqual(targetVerdicts(stored))
    const rulesTable = (r: ScanReport): string => /<section aria-labelledby="h-rules">[\s\S]*?<\/section>/.exec(toHtml(r))![0]
    expect(rulesTable(counted)).toBe(rulesTable(stored))
  })

  it('shards with counted passes merge into the unsharded score', async () => {
    const file1 = await nmapFile('a.xml', 120)
    const file2 = await nmapFile('b.xml', 90)
    const targets = [`nmap:${file1}`, `nmap:${file2}`]
    const whole = await scan({ targets, families, now })
    const parts = [await scan({ targets, families, now, shard: { index: 1, count: 2 } }), await scan({ targets, families, now, shard: { index: 2, count: 2 } })]
    expect(parts.every((p) => p.targets.length === 1)).toBe(true)
    const merged = mergeReports(parts)
    expect(merged.passCounts).toEqual(whole.passCounts)
    expect(merged.score).toEqual(whole.score)
    expect(merged.summary).toEqual(whole.summary)
    // A part given twice counts once.
    expect(mergeReports([...parts, parts[0]!]).summary.passed).toBe(whole.summary.passed)
  })

  it('ztscan scan --include-passed stores each pass in the JSON; without it the JSON holds the counts', async () => {
    const file = await nmapFile('cli.xml', 30)
    const a = ztscan(['scan', '-q', '--nmap', file, '-o', join(dir, 'counted.json'), '--fail-on', 'none'])
    const b = ztscan(['scan', '-q', '--nmap', file, '-o', join(dir, 'stored.json'), '--fail-on', 'none', '--include-passed'])
    expect([a.code, a.stderr, b.code, b.stderr]).toEqual([0, '', 0, ''])
    const counted = JSON.parse(readFileSync(join(dir, 'counted.json'), 'utf8')) as ScanReport
    const stored = JSON.parse(readFileSync(join(dir, 'stored.json'), 'utf8')) as ScanReport
    expect(counted.findings.filter((f) => f.status === 'pass')).toEqual([])
    expect(stored.findings.filter((f) => f.status === 'pass')).toHaveLength(counted.summary.passed)
    expect(counted.passCounts!.reduce((n, c) => n + c.count, 0)).toBe(counted.summary.passed)
    expect(counted.score.overall).toBe(stored.score.overall)
  })
})
