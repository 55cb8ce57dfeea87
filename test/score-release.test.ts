/**
 * A scan whose report fails to assemble after its score card was scored removes every temporary file it made (issue 14):
 * the card's spilled per-asset scores (made inside buildReport), the findings, the pass counts and the tallies. The
 * failure is injected (the score delta against the baseline throws: no real input makes it fail there).
 */
import { beforeAll, describe, expect, it, vi } from 'vitest'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { baselineFrom, releaseFindings, scan, type ScanReport } from '../src/index.ts'
import { mergeReportFiles } from '../src/report/merge.ts'
import { stringifyJson } from '../src/report/json.ts'
import openPort from '../checks/open-port/index.ts'
import { nmapDocument, portsHost, writeNmapFile } from './helpers/nmap-gen.ts'
import { privateTmpdir, spillDirs } from './helpers/tmpdir.ts'

const fail = vi.hoisted(() => ({ delta: false, incompleteness: false }))
vi.mock('../src/report/build.ts', async (importOriginal) => {
  const orig = await importOriginal<typeof import('../src/report/build.ts')>()
  return {
    ...orig,
    incompleteness: (...args: Parameters<typeof orig.incompleteness>) => {
      if (fail.incompleteness) throw new Error('injected failure')
      return orig.incompleteness(...args)
    },
  }
})
vi.mock('../src/scoring/delta.ts', async (importOriginal) => {
  const orig = await importOriginal<typeof import('../src/scoring/delta.ts')>()
  return {
    ...orig,
    scoreDelta: (...args: Parameters<typeof orig.scoreDelta>) => {
      if (fail.delta) throw new Error('injected failure')
      return orig.scoreDelta(...args)
    },
  }
})

describe('a scan whose report fails after the score card leaves no temporary file', () => {
  privateTmpdir('ztscan-score-release-')
  let xml: string
  const now = (): Date => new Date('2026-12-01T00:00:00Z')
  beforeAll(async () => {
    xml = join(mkdtempSync(join(tmpdir(), 'score-release-')), 't.xml')
    await writeNmapFile(xml, nmapDocument({ host: (i) => portsHost(i, [22, 23]), hosts: 40 }))
  })

  it('spilled card, findings and counts: the error passes, no spill directory is left', async () => {
    expect(spillDirs()).toEqual([])
    const opts = { targets: [`nmap:${xml}`], families: [openPort], now, memoryFindings: 5 }
    const first = await scan(opts)
    // The budget spills the per-asset scores (a lazy view), so the card owns a file.
    expect(Array.isArray(first.score.assets)).toBe(false)
    const baseline = baselineFrom(JSON.parse(stringifyJson(first)), 'first.json')
    releaseFindings(first)
    expect(spillDirs()).toEqual([])
    const ok = await scan({ ...opts, baseline })
    expect(ok.score.delta).toBeDefined()
    releaseFindings(ok)
    expect(spillDirs()).toEqual([])
    fail.delta = true
    try {
      await expect(scan({ ...opts, baseline })).rejects.toThrow('injected failure')
      expect(spillDirs()).toEqual([])
    } finally {
      fail.delta = false
    }
  })

  it('a merge failing after its report was built (the union\'s incompleteness read) removes the report\'s files, the card\'s scores too', async () => {
    const part = join(mkdtempSync(join(tmpdir(), 'score-release-')), 'part.json')
    const r = await scan({ targets: [`nmap:${xml}`], families: [openPort], now })
    writeFileSync(part, stringifyJson(r))
    const ok: ScanReport = await mergeReportFiles([part], { memoryFindings: 3, memoryRecords: 3 })
    expect(Array.isArray(ok.score.assets)).toBe(false)
    releaseFindings(ok)
    expect(spillDirs()).toEqual([])
    fail.incompleteness = true
    try {
      await expect(mergeReportFiles([part], { memoryFindings: 3, memoryRecords: 3 })).rejects.toThrow('injected failure')
      expect(spillDirs()).toEqual([])
    } finally {
      fail.incompleteness = false
    }
  })
})
