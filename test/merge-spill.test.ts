/**
 * `ztscan merge` bounds every list of its parts (issue 14): targets, errors, skips and expired suppressions spill past
 * the record budget like findings (read back in the report's order, so the merged report is the in-memory merge's);
 * the score card's errored targets spill with the per-asset tallies; rules stay in memory, bounded (exit 2 naming the file).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { isFindingView, mergeReports, releaseFindings, scan, writeJson, writeSarif, type ScanReport } from '../src/index.ts'
import { MAX_MERGE_RULES, mergeReportFiles } from '../src/report/merge.ts'
import { stringifyJson, writeJsonl } from '../src/report/json.ts'
import { toMarkdown } from '../src/report/text.ts'
import openPort from '../checks/open-port/index.ts'
import { nmapDocument, portsHost, serviceHost, writeNmapFile } from './helpers/nmap-gen.ts'
import { ensureBuilt, root, runCli } from './helpers/cli.ts'

const dir = mkdtempSync(join(tmpdir(), 'ztscan-merge-spill-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
beforeAll(ensureBuilt)

const now = (): Date => new Date('2026-12-01T00:00:00Z')

/** Everything a writer wrote. */
async function written(write: (out: Writable) => Promise<unknown>): Promise<string> {
  const chunks: string[] = []
  await write(new Writable({ write(c: Buffer, _e, cb) { chunks.push(c.toString('utf8')); cb() } }))
  return chunks.join('')
}

/** A scanned report (findings on real assets) to build parts from. */
let template: ScanReport
beforeAll(async () => {
  const xml = join(dir, 't.xml')
  await writeNmapFile(xml, nmapDocument({ host: (i) => (i % 2 ? serviceHost(i) : portsHost(i, [20_000 + (i % 5)])), hosts: 40 }))
  template = await scan({ targets: [`nmap:${xml}`], families: [openPort], now })
})

/** A writable copy of the template. */
const copy = (): { -readonly [K in keyof ScanReport]: ScanReport[K] } => JSON.parse(stringifyJson(template)) as ScanReport

const host = (i: number): string => `host://h${String(i).padStart(7, '0')}.example.test`

/**
 * A part with `n` extra targets, errors (also on the template's assets, so errored assets are scored), skips (some given
 * twice, in an order that is not the report's) and expired suppressions, from `from` on: parts overlap.
 */
function part(name: string, from: number, n: number): string {
  const assets = [...new Set(template.findings.map((f) => f.asset ?? f.target))]
  const r = copy()
  const ids = Array.from({ length: n }, (_, k) => from + k)
  r.targets = [...r.targets, ...ids.map((i) => ({ id: host(i), kind: 'host' }))]
  r.errors = [
    ...assets.map((a, i) => ({ check: i % 2 ? 'open-port-nmap' : 'open-port-a', family: 'open-port', target: a, reason: 'timeout' as const, message: `slow ${name}` })),
    ...ids.map((i) => ({ check: 'open-port-connect', family: 'open-port', target: host(i), reason: 'timeout' as const, message: `no answer (${i % 3})` })),
  ]
  r.skipped = ids.flatMap((i) => [
    { check: 'certificate-tls', family: 'certificate', target: host(n + from - i), why: `no TLS port (${i % 4})` },
    { check: 'certificate-tls', family: 'certificate', target: host(n + from - i), rule: 'certificate-expired', why: 'no certificate' },
    ...(i % 5 ? [] : [{ check: 'certificate-tls', family: 'certificate', target: host(n + from - i), why: `no TLS port (${i % 4})` }]),
  ])
  r.expiredSuppressions = ids.filter((i) => i % 3 === 0).map((i) => ({ rule: 'open-port-telnet', target: host(i), reason: `ticket ${i}`, expires: '2026-01-01', matched: 1 }))
  const path = join(dir, `${name}.json`)
  writeFileSync(path, stringifyJson(r))
  return path
}

describe('merge bounds its parts’ lists', () => {
  it('targets, errors, skips and expired suppressions far beyond a small budget merge into the in-memory merge’s report (JSON, SARIF, JSONL and Markdown byte for byte)', async () => {
    const paths = [part('a', 0, 300), part('b', 200, 250), part('c', 1000, 90)]
    paths.push(paths[0]!)
    const whole = mergeReports(paths.map((p) => JSON.parse(readFileSync(p, 'utf8')) as ScanReport))
    expect(isFindingView(whole.errors)).toBe(false)
    expect(whole.summary.errors).toBeGreaterThan(500)
    expect(whole.score.pillars.networks.coverage.assetsUnjudged).toBeGreaterThan(500)
    // Errored assets are scored with their first errored check (the merge join of the score card).
    expect(JSON.stringify(whole.score)).toContain('open-port-a')
    const streamed = await mergeReportFiles(paths, { memoryFindings: 7, memoryRecords: 13 })
    try {
      for (const list of [streamed.targets, streamed.errors, streamed.skipped, streamed.expiredSuppressions, streamed.score.assets]) expect(isFindingView(list)).toBe(true)
      expect(streamed.summary).toEqual(whole.summary)
      expect(await written((o) => writeJson(streamed, o))).toBe(await written((o) => writeJson(whole, o)))
      expect(await written((o) => writeSarif(streamed, o))).toBe(await written((o) => writeSarif(whole, o)))
      expect(await written((o) => writeJsonl(streamed, o))).toBe(await written((o) => writeJsonl(whole, o)))
      expect(toMarkdown(streamed)).toBe(toMarkdown(whole))
    } finally {
      releaseFindings(streamed)
    }
    // Within the budget nothing spills: plain arrays, the same report.
    const small = await mergeReportFiles(paths)
    expect(isFindingView(small.errors) || isFindingView(small.targets) || isFindingView(small.skipped)).toBe(false)
    expect(stringifyJson(small)).toBe(stringifyJson(whole))
  })

  it('a part with 60,000 targets and 60,000 errors merges in a 24 MB old space (kept whole, they take more: that run dies)', () => {
    const path = join(dir, 'big.json')
    const r = copy()
    const ids = Array.from({ length: 60_000 }, (_, i) => i)
    r.targets = ids.map((i) => ({ id: host(i), kind: 'host' }))
    r.errors = ids.map((i) => ({ check: 'open-port-connect', family: 'open-port', target: host(i), reason: 'timeout' as const, message: `no answer within 3000 ms (attempt ${i})` }))
    writeFileSync(path, stringifyJson(r))
    // The library in a process of its own, budgets of 500 records, the report written to /dev/null.
    const script = (budget: number): string => `
      const { mergeReportFiles } = await import(${JSON.stringify(join(root, 'dist/src/report/merge.js'))})
      const { writeJson } = await import(${JSON.stringify(join(root, 'dist/src/report/json.js'))})
      const { releaseFindings } = await import(${JSON.stringify(join(root, 'dist/src/engine/spill.js'))})
      const { createWriteStream } = await import('node:fs')
      const budget = ${budget}
      const r = await mergeReportFiles([${JSON.stringify(path)}], { memoryFindings: budget, memoryRecords: budget })
      await writeJson(r, createWriteStream('/dev/null'))
      releaseFindings(r)
      console.log(JSON.stringify({ errors: r.summary.errors, targets: r.summary.targets }))`
    const run = (budget: number) => spawnSync(process.execPath, ['--max-old-space-size=24', '--input-type=module', '-e', script(budget)], { encoding: 'utf8', timeout: 120_000 })
    const bounded = run(500)
    expect(bounded.stderr).toBe('')
    expect(JSON.parse(bounded.stdout)).toEqual({ errors: 60_000, targets: 60_000 })
    // The same merge with everything in memory does not fit: the bound above is what keeps the heap small.
    const whole = run(1_000_000)
    expect(whole.status).not.toBe(0)
    expect(whole.stderr).toMatch(/heap out of memory|Allocation failed/)
  })

  it(`more than ${MAX_MERGE_RULES.toLocaleString('en-US')} distinct rules: exit 2 naming the file and /rules, no stack trace`, () => {
    const r = copy()
    const rule = r.rules[0]!
    r.rules = Array.from({ length: MAX_MERGE_RULES + 1 }, (_, i) => ({ ...rule, id: `plugin-rule-${i}` }))
    const path = join(dir, 'rules.json')
    writeFileSync(path, stringifyJson(r))
    const res = runCli(['merge', path, '-o', join(dir, 'never.json')])
    expect(res.code).toBe(2)
    expect(res.stderr).toContain(path)
    expect(res.stderr).toContain('/rules: more than 10,000 distinct rules')
    expect(res.stderr).not.toMatch(/\n\s+at /)
  })

  it('a SARIF part over the 256 MiB whole-read cap: exit 2 naming it before any part is read (a bad part given before it is not read)', () => {
    const bad = join(dir, 'bad.sarif')
    writeFileSync(bad, '{"version": "2.1.0", "runs": [')
    const huge = join(dir, 'huge.sarif')
    writeFileSync(huge, '')
    truncateSync(huge, 300 * 1024 * 1024) // sparse: nothing is written
    const res = runCli(['merge', bad, huge, '-o', join(dir, 'never.sarif')])
    expect(res.code).toBe(2)
    expect(res.stderr).toContain(`${huge}: more than the 268435456-byte limit`)
    expect(res.stderr).not.toContain(bad)
    expect(res.stderr).not.toMatch(/\n\s+at /)
  })
})
