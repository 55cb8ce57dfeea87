/**
 * A merge that fails while it finishes removes every temporary file it made (issue 14 review): the skips' sorted store
 * made in finish() included, and an in-memory merge (`mergeReports`) too. The failure is injected (the score tally
 * throws: no real input makes it fail there).
 */
import { beforeAll, describe, expect, it, vi } from 'vitest'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { mergeReports, scan, type ScanReport } from '../src/index.ts'
import { mergeReportFiles } from '../src/report/merge.ts'
import { stringifyJson } from '../src/report/json.ts'
import openPort from '../checks/open-port/index.ts'
import { nmapDocument, portsHost, writeNmapFile } from './helpers/nmap-gen.ts'
import { privateTmpdir, spillDirs } from './helpers/tmpdir.ts'

const fail = vi.hoisted(() => ({ score: false }))
vi.mock('../src/scoring/score.ts', async (importOriginal) => {
  const orig = await importOriginal<typeof import('../src/scoring/score.ts')>()
  return {
    ...orig,
    scoreTally: (...args: Parameters<typeof orig.scoreTally>) => {
      if (fail.score) throw new Error('injected failure')
      return orig.scoreTally(...args)
    },
  }
})

describe('a merge that fails in finish() leaves no temporary file', () => {
  privateTmpdir('ztscan-merge-release-')
  let path: string
  let part: ScanReport
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parts-'))
    const xml = join(dir, 't.xml')
    await writeNmapFile(xml, nmapDocument({ host: (i) => portsHost(i, [22, 23]), hosts: 20 }))
    const r = JSON.parse(stringifyJson(await scan({ targets: [`nmap:${xml}`], families: [openPort], now: () => new Date('2026-12-01T00:00:00Z') }))) as ScanReport & { skipped: unknown[] }
    r.skipped = Array.from({ length: 50 }, (_, i) => ({ check: 'certificate-tls', family: 'certificate', target: `host://h${i}.example.test`, why: 'no TLS port' }))
    path = join(dir, 'part.json')
    writeFileSync(path, stringifyJson(r))
    part = JSON.parse(readFileSync(path, 'utf8')) as ScanReport
  })

  it('mergeReportFiles and mergeReports with small budgets: the error passes, no spill directory is left', async () => {
    expect(spillDirs()).toEqual([])
    // Without the failure these budgets spill (the merge works, its files are released with the report).
    const ok = await mergeReportFiles([path, path], { memoryFindings: 3, memoryRecords: 3 })
    expect(spillDirs().length).toBeGreaterThan(0)
    const { releaseFindings } = await import('../src/engine/spill.ts')
    releaseFindings(ok)
    expect(spillDirs()).toEqual([])
    fail.score = true
    try {
      await expect(mergeReportFiles([path, path], { memoryFindings: 3, memoryRecords: 3 })).rejects.toThrow('injected failure')
      expect(spillDirs()).toEqual([])
      expect(() => mergeReports([part, part], { memoryFindings: 3, memoryRecords: 3 })).toThrow('injected failure')
      expect(spillDirs()).toEqual([])
    } finally {
      fail.score = false
    }
  })
})
