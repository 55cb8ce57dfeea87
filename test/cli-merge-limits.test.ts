import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ensureBuilt, root, runCli } from './helpers/cli.ts'

/**
 * `ztscan merge` keeps SARIF within its budget as `scan` does, and says so on stderr whatever the parts are (JSON reports
 * merged into SARIF grouped silently before); `--sarif-max-results` sets the budget there too.
 */
const dir = mkdtempSync(join(tmpdir(), 'ztscan-merge-limits-'))
const fixture = (f: string): string => join(root, 'fixtures/nmap', f)
type Sarif = { runs: { results: unknown[]; invocations: { toolExecutionNotifications?: { descriptor: { id: string } }[] }[] }[] }
const sarifAt = (f: string): Sarif => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Sarif

beforeAll(() => {
  ensureBuilt()
  // Two shards: each offline nmap file has failed findings on loopback hosts (nothing is probed).
  for (const [i, f] of ['sV-scripts-loopback.xml', 'sT-ipv6.xml'].entries()) {
    const r = runCli(['scan', '-q', '--nmap', fixture(f), '-o', `p${i}.json`, '-o', `p${i}.sarif`, '--fail-on', 'none'], { cwd: dir })
    expect(r.code).toBe(0)
  }
}, 120_000)
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('merge: SARIF budget and notes', () => {
  it('within the default budget nothing is grouped and stderr is quiet', () => {
    const r = runCli(['merge', 'p0.json', 'p1.json', '-o', 'all.sarif'], { cwd: dir })
    expect(r.code).toBe(0)
    expect(r.stderr).toBe('')
    expect(sarifAt('all.sarif').runs[0]!.results.length).toBeGreaterThan(1)
  })
  it.each([['JSON', 'json'], ['SARIF', 'sarif']])('%s parts, --sarif-max-results 1: one result, said in the run and on stderr', (_, ext) => {
    const r = runCli(['merge', `p0.${ext}`, `p1.${ext}`, '-o', `one-${ext}.sarif`, '--sarif-max-results', '1'], { cwd: dir })
    expect(r.code).toBe(0)
    expect(r.stderr).toMatch(/^ztscan: merge: SARIF grouped to stay within 1 results and 10 MB gzip per run: /)
    const run = sarifAt(`one-${ext}.sarif`).runs[0]!
    expect(run.results).toHaveLength(1)
    expect(run.invocations[0]!.toolExecutionNotifications?.map((n) => n.descriptor.id)).toContain('results-grouped')
  })
  it('a bad value is exit 2 naming the flag', () => {
    const r = runCli(['merge', 'p0.json', '-o', 'x.sarif', '--sarif-max-results', 'lots'], { cwd: dir })
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('--sarif-max-results: expected an integer from 1 and up (got "lots")')
  })
})
