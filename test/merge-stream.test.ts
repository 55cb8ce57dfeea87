/**
 * `ztscan merge` streams its JSON parts (issue 14): each part's findings and pass counts spill past the in-memory budgets,
 * so parts of any size merge in bounded memory, into the same report as the in-memory merge; bad parts are refused as a
 * whole read refuses them (exit 2 naming the file and the field); no 256 MiB cap on JSON parts.
 */
import { afterAll, describe, expect, it, vi } from 'vitest'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { isFindingView, mergeReports, releaseFindings, scan, writeJson, writeSarif, type ScanReport } from '../src/index.ts'
import { mergeReportFiles } from '../src/report/merge.ts'
import { stringifyJson } from '../src/report/json.ts'
import { main } from '../src/cli/main.ts'
import openPort from '../checks/open-port/index.ts'
import { nmapDocument, portsHost, serviceHost, writeNmapFile } from './helpers/nmap-gen.ts'

// A whole read of a part is capped at MAX_REPORT_BYTES: lowered here to 64 KiB, so parts above it prove that JSON parts
// are not read whole (they are streamed), while SARIF parts still are.
vi.mock('../src/lib-files.ts', async (importOriginal) => ({ ...(await importOriginal<typeof import('../src/lib-files.ts')>()), MAX_REPORT_BYTES: 64 * 1024 }))

const dir = mkdtempSync(join(tmpdir(), 'ztscan-merge-stream-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const now = (): Date => new Date('2026-12-01T00:00:00Z')
const host = (i: number): string => (i % 3 === 0 ? serviceHost(i) : i % 3 === 1 ? portsHost(i, []) : portsHost(i, [20_000 + (i % 7)]))

/** Everything a writer wrote. */
async function written(write: (out: Writable) => Promise<unknown>): Promise<string> {
  const chunks: string[] = []
  await write(new Writable({ write(c: Buffer, _e, cb) { chunks.push(c.toString('utf8')); cb() } }))
  return chunks.join('')
}

/** Scans a generated nmap file of `hosts` hosts and writes its JSON report; returns the path and the report. */
async function part(name: string, hosts: number, includePassed = false): Promise<{ path: string; report: ScanReport }> {
  const xml = join(dir, `${name}.xml`)
  await writeNmapFile(xml, nmapDocument({ host, hosts }))
  const report = await scan({ targets: [`nmap:${xml}`], families: [openPort], now, includePassed })
  const path = join(dir, `${name}.json`)
  writeFileSync(path, stringifyJson(report))
  return { path, report }
}

/** Captures what `main` writes on stderr. */
async function cli(args: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = ''
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
    stderr += String(s)
    return true
  })
  try {
    return { code: await main(args), stderr }
  } finally {
    spy.mockRestore()
  }
}

describe('merge streams its JSON parts', () => {
  it('parts far beyond a small in-memory budget merge into the in-memory merge’s report (JSON and SARIF byte for byte)', async () => {
    const parts = [await part('a', 150), await part('b', 120, true), await part('c', 90)]
    // A part given twice counts once, both ways.
    const paths = [...parts.map((p) => p.path), parts[0]!.path]
    const whole = mergeReports([...parts.map((p) => JSON.parse(readFileSync(p.path, 'utf8')) as ScanReport), JSON.parse(readFileSync(parts[0]!.path, 'utf8')) as ScanReport])
    expect(isFindingView(whole.findings)).toBe(false)
    const streamed = await mergeReportFiles(paths, { memoryFindings: 7, memoryRecords: 5 })
    try {
      // Spilled: findings, pass counts and per-asset scores are read back from disk.
      expect(isFindingView(streamed.findings)).toBe(true)
      expect(isFindingView(streamed.passCounts)).toBe(true)
      expect(isFindingView(streamed.score.assets)).toBe(true)
      expect(streamed.findings.length).toBeGreaterThan(7 * 10)
      expect(whole.summary.passed).toBeGreaterThan(100)
      expect(whole.findings.some((f) => f.status === 'pass')).toBe(true)
      expect(await written((o) => writeJson(streamed, o))).toBe(await written((o) => writeJson(whole, o)))
      expect(await written((o) => writeSarif(streamed, o))).toBe(await written((o) => writeSarif(whole, o)))
      expect(streamed.summary.passed).toBe(parts.reduce((n, p) => n + p.report.summary.passed, 0))
    } finally {
      releaseFindings(streamed)
    }
  })

  it('ztscan merge: a JSON part above the whole-read cap is merged (-o FILE.json -o FILE.sarif both from one merge); a SARIF part above it is still refused', async () => {
    const big = await part('big', 400)
    expect(statSync(big.path).size).toBeGreaterThan(64 * 1024)
    const out = join(dir, 'big-merged.json')
    expect(await cli(['merge', big.path, big.path, '-o', out])).toEqual({ code: 0, stderr: '' })
    const parsed = (): ScanReport => JSON.parse(readFileSync(big.path, 'utf8')) as ScanReport
    expect(readFileSync(out, 'utf8')).toBe(stringifyJson(mergeReports([parsed(), parsed()])))
    // Several -o from the one merge: each as a merge with that -o alone.
    const [both, one] = [join(dir, 'both'), join(dir, 'one.sarif')]
    expect(await cli(['merge', big.path, big.path, '-o', `${both}.json`, '-o', `${both}.sarif`])).toEqual({ code: 0, stderr: '' })
    expect(await cli(['merge', big.path, big.path, '-o', one])).toEqual({ code: 0, stderr: '' })
    expect(readFileSync(`${both}.json`, 'utf8')).toBe(readFileSync(out, 'utf8'))
    expect(readFileSync(`${both}.sarif`, 'utf8')).toBe(readFileSync(one, 'utf8'))
    const sarif = join(dir, 'big.sarif')
    writeFileSync(sarif, `${JSON.stringify({ version: '2.1.0', runs: [] })}${' '.repeat(70 * 1024)}`)
    const r = await cli(['merge', sarif, '-o', join(dir, 'x.sarif')])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(sarif)
    expect(r.stderr).toContain("more than the 65536-byte limit")
  })

  it.each([
    ['truncated', (t: string) => t.slice(0, Math.floor(t.length / 2)), /not JSON \(/],
    ['a bad finding deep in the file', (t: string) => t.replace(/"severity": ?"high"(?![\s\S]*"severity": ?"high")/, '"severity":"urgent"'), /\/findings\/\d+\/severity: /],
    ['a top-level key given twice', (t: string) => t.replace(/\n}\n$/, ',\n  "findings": []\n}\n'), /findings.*given twice|given twice/],
    ['a nesting bomb', (t: string) => t.replace('"findings": [', `"findings": [${'['.repeat(5000)}${']'.repeat(5000)},`), /nested deeper than/],
    ['an unknown field', (t: string) => t.replace('"schemaVersion": "1.0",', '"schemaVersion": "1.0",\n  "extra": 1,'), /\/extra: expected no such property/],
  ])('a part with %s: exit 2 naming the file and the field', async (name, edit, message) => {
    const src = readFileSync(join(dir, 'a.json'), 'utf8')
    const bad = join(dir, `bad-${name.replace(/\W+/g, '-')}.json`)
    const text = edit(src)
    expect(text).not.toBe(src)
    writeFileSync(bad, text)
    const r = await cli(['merge', join(dir, 'a.json'), bad, '-o', join(dir, 'never.json')])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(bad)
    expect(r.stderr).toMatch(message)
    expect(r.stderr).not.toMatch(/\n\s+at /)
  })
})
