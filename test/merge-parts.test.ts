/**
 * `ztscan merge` refuses a part whose dates are no dates (exit 2 naming the file and the field, not a RangeError), merges a
 * part whose baseline list is large as the whole-file read did, and sniffs its parts one at a time (one descriptor open).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ensureBuilt, root, runCli } from './helpers/cli.ts'
import { mergeReports, type ScanReport } from '../src/index.ts'
import { stringifyJson } from '../src/report/json.ts'
import { main } from '../src/cli/main.ts'

// Counts the file reads open at once (every part is read through fileChunks: the sniff and the streamed read).
const reads = vi.hoisted(() => ({ open: 0, most: 0 }))
vi.mock('../src/lib-files.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/lib-files.ts')>()
  return {
    ...real,
    async *fileChunks(...args: Parameters<typeof real.fileChunks>) {
      reads.most = Math.max(reads.most, ++reads.open)
      try {
        yield* real.fileChunks(...args)
      } finally {
        reads.open--
      }
    },
  }
})

const dir = mkdtempSync(join(tmpdir(), 'ztscan-merge-parts-'))
const partPath = join(dir, 'p.json')
let part: ScanReport

beforeAll(() => {
  ensureBuilt()
  const r = runCli(['scan', '-q', '--nmap', join(root, 'fixtures/nmap/sT-loopback.xml'), '-o', partPath, '--fail-on', 'none'], { cwd: dir })
  expect(r.code).toBe(0)
  part = JSON.parse(readFileSync(partPath, 'utf8')) as ScanReport
}, 120_000)
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('merge parts', () => {
  it.each(['startedAt', 'finishedAt'])('a part whose %s is no date: exit 2 naming the file and the field, no stack trace', (field) => {
    const bad = join(dir, `bad-${field}.json`)
    writeFileSync(bad, stringifyJson({ ...part, [field]: 'garbage' }))
    const r = runCli(['merge', partPath, bad, '-o', join(dir, 'never.json')], { cwd: dir })
    expect(r.stderr).toContain(`${bad}: /${field}: `)
    expect(r.stderr).not.toMatch(/\n\s+at |RangeError/)
    expect(r.code).toBe(2)
  })

  it('a part with a 120k-entry baseline list (beyond 16 MiB) merges as the whole-file read merged it', () => {
    const absent = Array.from({ length: 120_000 }, (_, i) => ({ fingerprint: `${'f'.repeat(56)}${String(i).padStart(8, '0')}`, ruleId: 'open-port.unexpected', target: `nmap:10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, message: `port ${i % 65536}/tcp was open in the baseline and is gone now: ${'x'.repeat(80)}` }))
    const big: ScanReport = { ...part, baseline: { source: 'baseline.json', absent } }
    const path = join(dir, 'big-baseline.json')
    const text = stringifyJson(big)
    expect(text.length).toBeGreaterThan(24 * 1024 * 1024)
    writeFileSync(path, text)
    const out = join(dir, 'big-merged.json')
    const r = runCli(['merge', path, '-o', out], { cwd: dir, timeout: 120_000 })
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(readFileSync(out, 'utf8')).toBe(stringifyJson(mergeReports([JSON.parse(text) as ScanReport])))
  }, 180_000)

  it('parts are sniffed one at a time (one file open at once, however many parts)', async () => {
    reads.most = 0
    const parts = Array.from({ length: 12 }, () => partPath)
    const out = join(dir, 'many.json')
    expect(await main(['merge', ...parts, '-o', out])).toBe(0)
    expect(reads.most).toBe(1)
    expect(readFileSync(out, 'utf8')).toBe(stringifyJson(mergeReports(parts.map(() => part))))
  })
})
