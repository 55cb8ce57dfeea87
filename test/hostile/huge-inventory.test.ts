/**
 * @fileoverview A large CrowdStrike export that is wrong in every field of every entry, through the built CLI: validation
 * stops after the first problems instead of building an error object per bad field (ajv `allErrors` over the whole array
 * did: 4.9 GB and SIGABRT on 188 MB). The file is generated here and deleted after; `npm run bench -- hostile` gives the
 * 200 MB figures (README, Benchmarks).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ScanReport } from '../../src/types.ts'
import { ensureBuilt, runCli, writeBadCrowdStrike } from './cli.ts'

const MB = 48
/** Peak RSS bound for a 48 MB export: about 310 MB now; the all-errors validation took 1.2 GB on the same file. */
const RSS_MB = 700

describe(`a ${MB} MB inventory export that is wrong everywhere`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'ztscan-inventory-'))
  const file = join(dir, 'hosts.json')
  beforeAll(() => {
    ensureBuilt()
    writeBadCrowdStrike(file, MB)
  }, 120_000)
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('lists the first 20 problems, says validation stopped, and stays within bounded memory', async () => {
    const r = await runCli(['scan', '-q', '--format', 'json', '--fail-on', 'none', `inventory:crowdstrike:${file}`], { killAfterMs: 90_000 })
    expect(r.code, r.stderr.slice(0, 300)).not.toBeNull()
    expect(r.code).not.toBe(3)
    expect(r.rssMb, 'peak RSS (MB)').toBeLessThan(RSS_MB)
    // Either checked before the first probe (exit 2, on stderr) or an input error of the target in the report.
    const text = r.code === 2 ? r.stderr : ((JSON.parse(r.stdout) as ScanReport).errors.find((e) => e.reason === 'input')?.message ?? '')
    const lines = text.split('\n').filter((l) => l.includes(`${file}: /resources/`))
    expect(lines).toHaveLength(20)
    expect(lines[0]).toBe(`${file}: /resources/0/device_id: expected a value of type string (got 0)`)
    expect(text).toContain('… validation stopped after the first 20 problems')
    console.log(`bad ${MB} MB export: ${Math.round(r.ms)} ms, peak RSS ${Math.round(r.rssMb)} MB, exit ${r.code}`)
  }, 120_000)
})
