/**
 * A merge part's `incomplete` entries (issue 14 review): a part that does not say whether its scan was complete (no
 * `complete` field, an older ztscan) is taken as incomplete whichever way it is read — whole (`mergeReports`) or streamed
 * from its file (`ztscan merge`, `mergeReportFiles`) — and a part with more `incomplete` entries than a merge keeps is
 * refused (exit 2 naming the file and the field).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { mergeReports, releaseFindings, scan, type ScanReport } from '../src/index.ts'
import { MAX_MERGE_INCOMPLETE, MAX_MERGE_RULE_BYTES, mergeReportFiles } from '../src/report/merge.ts'
import { stringifyJson } from '../src/report/json.ts'
import openPort from '../checks/open-port/index.ts'
import { nmapDocument, portsHost, writeNmapFile } from './helpers/nmap-gen.ts'
import { ensureBuilt, runCli } from './helpers/cli.ts'

const dir = mkdtempSync(join(tmpdir(), 'ztscan-merge-incomplete-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
beforeAll(ensureBuilt)

/** A complete report of a small nmap file. */
let template: ScanReport
beforeAll(async () => {
  const xml = join(dir, 't.xml')
  await writeNmapFile(xml, nmapDocument({ host: (i) => portsHost(i, [22, 23]), hosts: 4 }))
  template = await scan({ targets: [`nmap:${xml}`], families: [openPort], now: () => new Date('2026-12-01T00:00:00Z') })
})

/** The template written to `name` after `edit`. */
function partFile(name: string, edit: (r: Record<string, unknown>) => void): string {
  const r = JSON.parse(stringifyJson(template)) as Record<string, unknown>
  edit(r)
  const path = join(dir, name)
  writeFileSync(path, JSON.stringify(r, null, 2))
  return path
}

describe('merge: incomplete parts', () => {
  it('a part without `complete` merges as incomplete from its file too (CLI and mergeReportFiles), as mergeReports says', async () => {
    expect(template.complete).toBe(true)
    const path = partFile('old.json', (r) => {
      delete r.complete
      delete r.incomplete
    })
    const whole = mergeReports([JSON.parse(readFileSync(path, 'utf8')) as ScanReport])
    expect(whole).toMatchObject({ complete: false, incomplete: [{ reason: 'nothing-checked', message: 'part 1: this part does not say whether its scan was complete' }] })
    const streamed = await mergeReportFiles([path])
    try {
      expect(streamed.complete).toBe(false)
      expect(streamed.incomplete).toEqual(whole.incomplete)
    } finally {
      releaseFindings(streamed)
    }
    const out = join(dir, 'merged-old.json')
    // The exit code of a merge of an incomplete part (test/hostile/contract.test.ts): 0, said on stderr and in the report.
    const res = runCli(['merge', path, path, '-o', out])
    expect(res.code).toBe(0)
    expect(res.stderr).toContain('the merged scan is incomplete: part 1: this part does not say whether its scan was complete')
    const merged = JSON.parse(readFileSync(out, 'utf8')) as ScanReport
    expect(merged.complete).toBe(false)
    expect(merged.incomplete!.map((x) => x.message)).toEqual(['part 1: this part does not say whether its scan was complete', 'part 2: this part does not say whether its scan was complete'])
    // The same file with `complete: true` merges as complete.
    const fine = partFile('fine.json', () => {})
    const ok = runCli(['merge', fine, '-o', join(dir, 'merged-fine.json')])
    expect(ok.code).toBe(0)
    expect(ok.stderr).toBe('')
    expect(JSON.parse(readFileSync(join(dir, 'merged-fine.json'), 'utf8'))).toMatchObject({ complete: true })
  })

  it(`a part with ${(MAX_MERGE_INCOMPLETE + 1).toLocaleString('en-US')} incomplete entries: exit 2 naming the file and /incomplete, no stack trace`, async () => {
    const path = partFile('many.json', (r) => {
      r.complete = false
      r.incomplete = Array.from({ length: MAX_MERGE_INCOMPLETE + 1 }, (_, i) => ({ reason: 'errors', message: `error ${i}` }))
    })
    const res = runCli(['merge', path, '-o', join(dir, 'never.json')])
    expect(res.code).toBe(2)
    expect(res.stderr).toContain(`${path}: /incomplete: more than 1,000 entries`)
    expect(res.stderr).not.toMatch(/\n\s+at /)
    await expect(mergeReportFiles([path])).rejects.toThrow('/incomplete: more than 1,000 entries')
    expect(() => mergeReports([JSON.parse(readFileSync(path, 'utf8')) as ScanReport])).toThrow('part 1: /incomplete: more than 1,000 entries')
    // At the limit the part merges.
    const at = partFile('at.json', (r) => {
      r.complete = false
      r.incomplete = Array.from({ length: MAX_MERGE_INCOMPLETE }, (_, i) => ({ reason: 'errors', message: `error ${i}` }))
    })
    const merged = await mergeReportFiles([at])
    releaseFindings(merged)
    expect(merged.incomplete).toHaveLength(MAX_MERGE_INCOMPLETE)
  })
})

describe('merge: the order of skips', () => {
  it('skips sort by target, then check, whatever characters the check holds (a NUL followed by a character below "0")', () => {
    const r = JSON.parse(stringifyJson(template)) as ScanReport & { skipped: unknown[] }
    const skip = (check: string, why: string) => ({ check, family: 'certificate', target: 'host://a.example.test', why })
    r.skipped = [skip('x\0!', 'second'), skip('x\x01', 'third'), skip('x', 'first'), skip('x\0!', 'second again')]
    const merged = mergeReports([r])
    expect(merged.skipped.map((s) => s.why)).toEqual(['first', 'second', 'second again', 'third'])
  })
})

describe('merge: rules are bounded in bytes too', () => {
  it(`rules over ${MAX_MERGE_RULE_BYTES / 1024 / 1024} MiB in all (each within an entry's 8 MiB): exit 2 naming the file and /rules, no stack trace`, () => {
    const r = JSON.parse(stringifyJson(template)) as ScanReport & { rules: Record<string, unknown>[] }
    const rule = r.rules[0]!
    const big = 'x'.repeat(7 * 1024 * 1024)
    r.rules = Array.from({ length: Math.ceil(MAX_MERGE_RULE_BYTES / big.length) + 1 }, (_, i) => ({ ...rule, id: `plugin-rule-${i}`, description: big }))
    const path = join(dir, 'big-rules.json')
    writeFileSync(path, JSON.stringify(r))
    const res = runCli(['merge', path, '-o', join(dir, 'never-rules.json')], { timeout: 120_000 })
    expect(res.code).toBe(2)
    expect(res.stderr).toContain(`${path}: /rules: more than 32 MiB of rules`)
    expect(res.stderr).not.toMatch(/\n\s+at /)
  })
})
