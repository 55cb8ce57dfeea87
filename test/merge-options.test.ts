/**
 * A merge's memory budgets are validated as `scan()` validates its own (review): `Math.max(1, NaN)` is NaN and every
 * `>= NaN` is false, so `memoryBytes: NaN` silently turned the byte budget off and `memoryFindings`/`memoryRecords: NaN`
 * turned spilling off (memory unbounded). Each is an integer from 1 up; anything else is an OptionsError naming it.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { OptionsError, isFindingView, mergeReports, releaseFindings, scan, type MergeOptions, type ScanReport } from '../src/index.ts'
import { ReportMerge, mergeReportFiles } from '../src/report/merge.ts'
import { stringifyJson } from '../src/report/json.ts'
import openPort from '../checks/open-port/index.ts'
import { nmapDocument, portsHost, writeNmapFile } from './helpers/nmap-gen.ts'
import { privateTmpdir, spillDirs } from './helpers/tmpdir.ts'

const OPTIONS = ['memoryFindings', 'memoryRecords', 'memoryBytes'] as const
const BAD = [Number.NaN, Infinity, -Infinity, 0, -1, 1.5]

describe('merge memory options', () => {
  privateTmpdir('ztscan-merge-options-')
  let part: ScanReport
  let file: string
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'merge-options-'))
    const xml = join(dir, 't.xml')
    await writeNmapFile(xml, nmapDocument({ host: (i) => portsHost(i, [22, 23]), hosts: 12 }))
    part = JSON.parse(stringifyJson(await scan({ targets: [`nmap:${xml}`], families: [openPort], now: () => new Date('2026-12-01T00:00:00Z') }))) as ScanReport
    file = join(dir, 'part.json')
    writeFileSync(file, stringifyJson(part))
  })

  it.each(OPTIONS)('%s: NaN, ±Infinity, 0, -1 and 1.5 are refused with an OptionsError naming it (no file left)', async (name) => {
    for (const v of BAD) {
      const opts: MergeOptions = { [name]: v }
      const message = `${name}: expected an integer from 1 and up (got ${String(v)})`
      expect(() => mergeReports([part], opts)).toThrow(expect.objectContaining({ code: 'ERR_OPTIONS_INVALID', option: name, message }))
      await expect(mergeReportFiles([file], opts)).rejects.toThrow(OptionsError)
      expect(() => new ReportMerge(opts)).toThrow(message)
    }
    expect(spillDirs()).toEqual([])
  })

  it('valid budgets still work: the smallest spills every list and merges into the default merge\'s report', async () => {
    const whole = mergeReports([part])
    expect(isFindingView(whole.findings)).toBe(false)
    for (const merged of [mergeReports([part], { memoryFindings: 1, memoryRecords: 1, memoryBytes: 1 }), await mergeReportFiles([file], { memoryFindings: 1, memoryRecords: 1, memoryBytes: 1 })]) {
      try {
        expect(isFindingView(merged.findings)).toBe(true)
        expect(isFindingView(merged.passCounts)).toBe(true)
        expect(JSON.parse(stringifyJson(merged))).toEqual(JSON.parse(stringifyJson(whole)))
      } finally {
        releaseFindings(merged)
      }
    }
    expect(spillDirs()).toEqual([])
  })
})
