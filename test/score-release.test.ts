/**
 * A scan whose report fails to assemble after its score card was scored removes every temporary file it made (issue 14):
 * the card's spilled per-asset scores (made inside buildReport), the findings, the pass counts and the tallies. The
 * failure is injected (the score delta against the baseline throws: no real input makes it fail there).
 */
import { beforeAll, describe, expect, it, vi } from 'vitest'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { baselineFrom, releaseFindings, scan } from '../src/index.ts'
import { stringifyJson } from '../src/report/json.ts'
import openPort from '../checks/open-port/index.ts'
import { nmapDocument, portsHost, writeNmapFile } from './helpers/nmap-gen.ts'
import { privateTmpdir, spillDirs } from './helpers/tmpdir.ts'

const fail = vi.hoisted(() => ({ delta: false }))
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
})
