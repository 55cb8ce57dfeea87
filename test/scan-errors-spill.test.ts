/**
 * A scan keeps its errors and skips in bounded memory (issue 14): past the in-memory budget they spill like findings and
 * are read back in the report's order, so the report is the in-memory scan's; events are no longer kept for replay then.
 */
import { describe, expect, it } from 'vitest'
import { AttemptFailure } from '../src/errors.ts'
import { defineCheck, isFindingView, releaseFindings, scan, writeSarif, type RuleMeta, type ScanEvent, type ScanReport, type Target } from '../src/index.ts'
import { stringifyJson } from '../src/report/json.ts'
import { toMarkdown } from '../src/report/text.ts'
import { Writable } from 'node:stream'
import { privateTmpdir, spillDirs } from './helpers/tmpdir.ts'

const rule = (id: string): RuleMeta => ({
  id,
  family: 'testing',
  title: `Test rule ${id}`,
  pillar: 'networks',
  severity: 'high',
  message: '{{target}} has {{thing}}',
  description: 'A rule used by the engine tests.',
  remediation: 'None needed.',
  helpUri: 'https://example.invalid/rules/' + id,
})
const rules = [rule('testing-a'), rule('testing-b')]
// Targets in an order that is not the report's; every third errors twice as far as messages go (same target, check).
const targets: Target[] = Array.from({ length: 240 }, (_, i) => ({ kind: 'thing', id: `thing://h${(i * 97) % 240}`, host: `h${i % 5}` }))
const check = defineCheck({
  id: 'testing-flaky',
  family: 'testing',
  targetKinds: ['thing'],
  rules: ['testing-a', 'testing-b'],
  async run(t, ctx) {
    const n = Number(t.id.slice('thing://h'.length))
    if (n % 4 === 0) ctx.report('testing-a', 'fail', { resource: t.id, evidence: { thing: 'x' } })
    ctx.skip('testing-b', `cannot tell (${n % 3})`)
    if (n % 4) throw new AttemptFailure('connectivity', `no answer (${n % 7})`)
  },
})
const at = '2026-12-01T00:00:00.000Z'
/** The report with fixed start and end times. */
const fixed = (r: ScanReport): ScanReport => ({ ...r, startedAt: at, finishedAt: at })
const blank = (r: ScanReport): string => stringifyJson(fixed(r))
async function written(write: (out: Writable) => Promise<unknown>): Promise<string> {
  const chunks: string[] = []
  await write(new Writable({ write(c: Buffer, _e, cb) { chunks.push(c.toString('utf8')); cb() } }))
  return chunks.join('')
}

describe('a scan’s errors and skips spill past the budget', () => {
  privateTmpdir('ztscan-scan-errors-')
  it('hundreds of errors and skips past a budget of 20: spilled, the in-memory scan’s report (JSON, SARIF, Markdown), no file left', async () => {
    const opts = { targets, checks: [check], rules, now: () => new Date('2026-12-01T00:00:00Z'), maxErrors: '100%' }
    const whole = await scan(opts)
    expect(isFindingView(whole.errors) || isFindingView(whole.skipped)).toBe(false)
    expect(whole.errors).toHaveLength(180)
    expect(whole.skipped).toHaveLength(240)
    const events: ScanEvent['type'][] = []
    const run = scan({ ...opts, memoryFindings: 20, onEvent: (e) => events.push(e.type) })
    const small = await run
    try {
      // Spilled: lazy views read back from files (the old scan kept them in arrays whatever the budget).
      expect(isFindingView(small.errors)).toBe(true)
      expect(isFindingView(small.skipped)).toBe(true)
      expect(spillDirs().length).toBeGreaterThan(0)
      expect(blank(small)).toBe(blank(whole))
      expect(await written((o) => writeSarif(fixed(small), o))).toBe(await written((o) => writeSarif(fixed(whole), o)))
      expect(toMarkdown(small)).toBe(toMarkdown(whole))
      // Every event was still given as it happened; none was kept for a later iterator (it throws, naming why).
      expect(events.filter((t) => t === 'error')).toHaveLength(180)
      expect(events.filter((t) => t === 'skip')).toHaveLength(240)
      await expect(run[Symbol.asyncIterator]().next()).rejects.toThrow('spilled to disk')
    } finally {
      releaseFindings(small)
    }
    expect(spillDirs()).toEqual([])
    // An iterator attached from the start still sees every event.
    const seen: ScanEvent['type'][] = []
    for await (const e of scan({ ...opts, memoryFindings: 20 })) seen.push(e.type)
    expect(seen.filter((t) => t === 'error')).toHaveLength(180)
  })

  it('a spilled list has no index access: errors[0] throws saying so (it read undefined, quietly); at(0) and the methods read it', async () => {
    const opts = { targets, checks: [check], rules, now: () => new Date('2026-12-01T00:00:00Z'), maxErrors: '100%' }
    const whole = await scan(opts)
    // In memory they are arrays: indexing works.
    expect(whole.errors[0]?.target).toBe('thing://h1')
    // (The previous test's last scan was iterated, not released: its files stay until exit.)
    const before = spillDirs()
    const small = await scan({ ...opts, memoryFindings: 20 })
    try {
      for (const list of [small.errors, small.skipped, small.findings] as const) {
        expect(isFindingView(list)).toBe(true)
        expect(() => list[0]).toThrow(TypeError)
        expect(() => (list as unknown as Record<string, unknown>)['12']).toThrow('has no index access; iterate it, or use .at(12) or .slice()')
      }
      expect(small.errors.at(0)).toEqual(whole.errors[0])
      expect(small.skipped.at(-1)).toEqual(whole.skipped.at(-1))
      expect(small.errors.slice(5, 8)).toEqual(whole.errors.slice(5, 8))
      expect(small.errors.find((e) => e.target === 'thing://h7')).toEqual(whole.errors.find((e) => e.target === 'thing://h7'))
      // Other properties a view lacks read as on any object.
      expect((small.errors as unknown as Record<string, unknown>)['-1']).toBeUndefined()
      expect((small.errors as unknown as { then?: unknown }).then).toBeUndefined()
    } finally {
      releaseFindings(small)
    }
    expect(spillDirs()).toEqual(before)
  })
})
