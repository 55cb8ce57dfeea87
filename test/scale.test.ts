/**
 * Enterprise scale (issue 14): passes counted per rule, target and asset instead of stored one finding each; the score,
 * summary and every consumer of passes (JUnit, HTML, verbose verdicts, merge) come out the same as with every pass stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createReadStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { JSONParser } from '@streamparser/json'
import { Writable } from 'node:stream'
import { spawnSync } from 'node:child_process'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { baselineFrom, isFindingView, mergeReports, releaseFindings, scan, toJunit, toSarif, verdict, writeJson, writeJsonl, writeSarif, type ScanReport } from '../src/index.ts'
import { targetVerdicts } from '../src/cli/progress.ts'
import { toHtml } from '../src/report/html.ts'
import openPort from '../checks/open-port/index.ts'
import { assertValidReport, assertValidSarif } from './helpers/schemas.ts'
import { SpillMap } from '../src/engine/spill.ts'
import { hostAddress, nmapDocument, portsHost, serviceHost, writeNmapFile } from './helpers/nmap-gen.ts'
import { ensureBuilt, runCli as ztscan } from './helpers/cli.ts'
import { privateTmpdir, spillDirs } from './helpers/tmpdir.ts'
import { runCli as ztscanAsync } from './hostile/cli.ts'

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

/** Everything a writer wrote to a stream. */
async function written(write: (out: Writable) => Promise<unknown>): Promise<string> {
  const chunks: string[] = []
  await write(new Writable({ write(c: Buffer, _e, cb) { chunks.push(c.toString('utf8')); cb() } }))
  return chunks.join('')
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
    expect(parts[0]!.targets.length + parts[1]!.targets.length).toBe(2)
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


describe('findings beyond the in-memory budget spill to a temporary file', () => {
  privateTmpdir('ztscan-scale-test-')

  it('the spilled report reads back in the same order, with the same score, JSON, JSON Lines and SARIF as the in-memory one; the file is removed on release', async () => {
    const file = await nmapFile('spill.xml', 900)
    const policy = { source: '<inline>', rules: { 'open-port-not-allowed': { parameters: { allowed: { '*': [22, 80, 443] } } } } }
    // One suppression and a baseline: applied as findings arrive, before they spill.
    const suppressions = [{ rule: 'open-port-database-exposed', target: '*', resource: `${hostAddress(3)} *`, reason: 'lab box', expires: '2099-01-01' }]
    const baseline = baselineFrom({ schemaVersion: '1.0', findings: [] }, 'empty.json')
    const opts = { targets: [`nmap:${file}`], families, now, policy, suppressions, baseline }
    const memory = await scan(opts)
    const before = spillDirs()
    const events: string[] = []
    const spilled = await scan({ ...opts, memoryFindings: 250, onEvent: (e) => events.push(e.type) })
    try {
      expect(isFindingView(memory.findings)).toBe(false)
      expect(isFindingView(spilled.findings)).toBe(true)
      // Findings, pass counts and per-asset tallies (the budget applies to their keys too) spilled, each to its own file;
      // the tallies' file is replaced by the per-asset scores' file, which stays with the report.
      expect(spillDirs().length).toBe(before.length + 3)
      expect(isFindingView(spilled.passCounts)).toBe(true)
      expect(isFindingView(spilled.score.assets)).toBe(true)
      expect(spilled.score.assets!.length).toBe(memory.score.assets!.length)
      expect(memory.findings.length).toBeGreaterThan(1_000)
      expect(spilled.findings.length).toBe(memory.findings.length)
      expect(events.filter((t) => t === 'finding')).toHaveLength(memory.findings.length)
      expect([...spilled.findings]).toEqual(memory.findings)
      expect(spilled.findings.filter((f) => f.suppression).length).toBe(1)
      const same = (r: ScanReport) => ({ ...r, startedAt: '', finishedAt: '', findings: [], passCounts: [...r.passCounts!], score: { ...r.score, assets: [...r.score.assets!] } })
      expect(same(spilled)).toEqual(same(memory))
      // Streamed piece by piece: no string as long as the report, nor as a whole list (findings, pass counts, assets).
      const stringify = JSON.stringify
      let longest = 0
      JSON.stringify = ((...a: Parameters<typeof stringify>) => {
        const out = stringify(...a)
        longest = Math.max(longest, out?.length ?? 0)
        return out
      }) as typeof stringify
      let json: string
      try {
        json = await written((out) => writeJson(spilled, out))
      } finally {
        JSON.stringify = stringify
      }
      expect(json.length).toBeGreaterThan(1_000_000)
      expect(longest).toBeLessThan(16 * 1024)
      expect(JSON.parse(json)).toEqual(JSON.parse(JSON.stringify({ ...memory, finishedAt: spilled.finishedAt, startedAt: spilled.startedAt })))
      const jsonl = await written((out) => writeJsonl(spilled, out))
      expect(jsonl.split('\n').filter((l) => l.startsWith('{"type":"finding"'))).toHaveLength(memory.findings.length)
      const sarif = await written((out) => writeSarif(spilled, out, { maxResults: 500 }).then(() => undefined))
      const log = JSON.parse(sarif)
      assertValidSarif(log)
      expect(log.runs[0].results).toEqual((toSarif(memory, { maxResults: 500 }) as { runs: { results: unknown[] }[] }).runs[0]!.results)
      expect(log.runs[0].results.length).toBeLessThanOrEqual(500)
      expect(verdict(spilled).gating.length).toBe(verdict(memory).gating.length)
      // A filter of the view is not the scan's own: the summary does not describe it, so the gate reads it.
      expect(verdict({ ...spilled, findings: spilled.findings.filter(() => false) }).exitCode).toBe(spilled.complete ? 0 : 4)
    } finally {
      releaseFindings(spilled)
    }
    expect(spillDirs()).toEqual(before)
    expect(() => [...spilled.findings]).toThrow(/released/)
    // The gate answers from the summary counted as findings arrived, without reading the (now removed) spill file back.
    for (const failOn of ['critical', 'high', 'medium', 'low', 'info', 'none'] as const)
      expect(verdict(spilled, { failOn }).exitCode, failOn).toBe(verdict(memory, { failOn }).exitCode)
  })

  it('an iterator that starts after findings spilled is told so instead of missing them; one started first sees them all', async () => {
    const file = await nmapFile('spill-events.xml', 300)
    const opts = { targets: [`nmap:${file}`], families, now, memoryFindings: 50 }
    const run = scan(opts)
    const report = await run
    const early = scan(opts)
    let seen = 0
    for await (const e of early) if (e.type === 'finding') seen++
    const again = await early
    try {
      expect(report.findings.length).toBeGreaterThan(150)
      await expect(run[Symbol.asyncIterator]().next()).rejects.toThrow(/spilled to disk/)
      expect(seen).toBe(again.findings.length)
    } finally {
      releaseFindings(report)
      releaseFindings(again)
    }
  })
})

describe('aggregates in bounded memory', () => {
  privateTmpdir('ztscan-scale-test-')
  it('SpillMap combines the partial values of a key spilled in several runs, in the order added', () => {
    const before = spillDirs().length
    const m = new SpillMap<number[]>(7, (a, b) => [...a, ...b])
    const want = new Map<string, number[]>()
    for (let i = 0; i < 500; i++) {
      const k = `k${(i * 37) % 61}`
      m.set(k, [...(m.get(k) ?? []), i])
      want.set(k, [...(want.get(k) ?? []), i])
    }
    expect(m.spilled).toBe(true)
    const got = [...m.entries()]
    expect(got).toEqual([...want].sort((a, b) => (a[0] < b[0] ? -1 : 1)))
    // Read again: the same.
    expect([...m.entries()]).toEqual(got)
    m.release()
    expect(spillDirs().length).toBe(before)
  })
})

describe('bounded memory reading nmap XML', () => {
  it('nmap:- reads standard input (nmap -oX - … | ztscan scan --nmap -): the same report as the file', async () => {
    const file = await nmapFile('stdin.xml', 200)
    const cli = (args: string[], input?: Buffer) => spawnSync(process.execPath, [join(import.meta.dirname, '..', 'dist/src/cli/main.js'), 'scan', '-q', ...args, '--format', 'json', '--fail-on', 'none'], { input, encoding: 'utf8', timeout: 60_000, cwd: dir })
    const piped = cli(['--nmap', '-'], readFileSync(file))
    const direct = cli(['--nmap', file])
    expect([piped.status, piped.stderr, direct.status, direct.stderr]).toEqual([0, '', 0, ''])
    const a = JSON.parse(piped.stdout) as ScanReport
    const b = JSON.parse(direct.stdout) as ScanReport
    expect(a.targets).toEqual([{ id: 'nmap:-', kind: 'nmap-xml' }])
    expect(a.summary).toEqual(b.summary)
    expect(a.findings.map((f) => f.resource)).toEqual(b.findings.map((f) => f.resource))
    expect(a.score.overall).toBe(b.score.overall)
    // Nothing on standard input is an input error (exit 4), never an empty pass.
    const empty = cli(['--nmap', '-'], Buffer.alloc(0))
    expect(empty.status).toBe(4)
    expect((JSON.parse(empty.stdout) as ScanReport).errors[0]).toMatchObject({ target: 'nmap:-', reason: 'input' })
  }, 120_000)

  it('strings kept from a host (address, name, version) do not pin the input: 30 MB of XML grows the live heap by a few MB', () => {
    // In a child with --expose-gc: the heap after a full GC, before and after reading, with three strings per host kept.
    const child = `
const { parseNmapXml } = await import(process.argv[1] + '/checks/open-port/nmap-xml.ts')
const { nmapDocument, serviceHost } = await import(process.argv[1] + '/test/helpers/nmap-gen.ts')
const kept = []
globalThis.gc()
const before = process.memoryUsage().heapUsed
async function* source() { for (const s of nmapDocument({ host: serviceHost, bytes: 30 * 1024 * 1024 })) yield Buffer.from(s) }
const summary = await parseNmapXml(source(), 'gen.xml', { host(h) { kept.push(h.addresses[0].addr, h.hostnames[0].name, h.ports[0].service.version) } })
globalThis.gc()
process.stdout.write(JSON.stringify({ hosts: summary.hosts, kept: kept.length, grownMb: (process.memoryUsage().heapUsed - before) / 1048576 }))`
    const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', child, join(import.meta.dirname, '..')], { encoding: 'utf8', timeout: 120_000 })
    expect(r.stderr).toBe('')
    const out = JSON.parse(r.stdout) as { hosts: number; kept: number; grownMb: number }
    expect(out.hosts).toBeGreaterThan(15_000)
    expect(out.kept).toBe(out.hosts * 3)
    // Slices of the 256 KiB chunks would keep all 30 MB alive (measured: ~32 MB); copies take ~4 MB.
    expect(out.grownMb).toBeLessThan(12)
  }, 120_000)
})

/**
 * Issue 14's test at full size: JSON longer than V8's longest string (2^29 - 24 characters, ~512 MB), which the old
 * writer (one JSON.stringify) could not produce; 350 MB of nmap XML, since a finding is one compact line of the report
 * (about 1.7 bytes of JSON per byte of XML). It takes minutes and ~1.7 GB of disk, so it runs where
 * ZTSCAN_SCALE_TESTS=1 (CI's .ci/run sets it); the always-on tests above check the same writer piece by piece.
 */
describe.skipIf(process.env.ZTSCAN_SCALE_TESTS !== '1')('a report beyond V8\'s string limit (ZTSCAN_SCALE_TESTS=1; skipped otherwise: minutes of CPU, ~1.7 GB of disk)', () => {
  it('ztscan scan --nmap (350 MB) writes a JSON report longer than the longest string, read back by a streaming parser, and a SARIF within GitHub\'s limits that validates', async () => {
    const xml = join(dir, 'huge.xml')
    await writeNmapFile(xml, nmapDocument({ host: serviceHost, bytes: 350 * 1024 * 1024 }))
    const r = await ztscanAsync(['scan', '-q', '--nmap', xml, '-o', join(dir, 'huge.json'), '-o', join(dir, 'huge.sarif'), '--fail-on', 'none'], { cwd: dir, killAfterMs: 1_800_000 })
    rmSync(xml)
    expect([r.code, r.stderr]).toEqual([0, ''])
    const jsonFile = join(dir, 'huge.json')
    expect(statSync(jsonFile).size).toBeGreaterThan(2 ** 29)
    let hosts = 0
    let failed = 0
    let passed = 0
    let summary: { passed?: number; failed?: Record<string, number> } = {}
    const parser = new JSONParser({ paths: ['$.findings.*', '$.passCounts.*', '$.score.assets.*', '$.summary'], keepStack: false })
    parser.onValue = ({ value, key, stack }) => {
      const path = stack.map((s) => s.key).join('.')
      if (key === 'summary') summary = value as typeof summary
      else if (path.endsWith('findings')) failed += (value as { status?: string }).status === 'fail' ? 1 : 0
      else if (path.endsWith('passCounts')) passed += (value as { count: number }).count
      else hosts++
    }
    for await (const chunk of createReadStream(jsonFile)) parser.write(chunk as Buffer)
    rmSync(jsonFile)
    // Every generated host is an asset with Redis and MySQL open (two failures) and two rules passed.
    expect(hosts).toBeGreaterThan(150_000)
    expect(failed).toBe(hosts * 2)
    expect(passed).toBe(hosts * 2)
    expect(summary.passed).toBe(passed)
    const sarif = readFileSync(join(dir, 'huge.sarif'))
    expect(gzipSync(sarif).length).toBeLessThanOrEqual(10 * 1024 * 1024)
    const log = JSON.parse(sarif.toString('utf8')) as { runs: { results: unknown[] }[] }
    assertValidSarif(log)
    expect(log.runs[0]!.results.length).toBeLessThanOrEqual(25_000)
  }, 1_800_000)
})
