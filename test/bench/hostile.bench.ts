/**
 * @fileoverview Hostile-input figures through the built CLI: a 200 MB CrowdStrike export wrong in every field (time, peak RSS
 * of the CLI process). Figures are printed, never asserted (test/hostile/huge-inventory.test.ts asserts a 48 MB one).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ensureBuilt, runCli, writeBadCrowdStrike } from '../hostile/cli.ts'

/** Prints the figures. */
export async function run(): Promise<void> {
  ensureBuilt()
  const dir = mkdtempSync(join(tmpdir(), 'ztscan-hostile-bench-'))
  try {
    const file = join(dir, 'bad-crowdstrike.json')
    writeBadCrowdStrike(file, 200)
    const r = await runCli(['scan', '-q', '--format', 'json', '--fail-on', 'none', `inventory:crowdstrike:${file}`], { killAfterMs: 300_000 })
    const stopped = /validation stopped after the first 20 problems/.test(r.stdout + r.stderr)
    console.log(`  bad CrowdStrike export, 200 MB: ${(r.ms / 1000).toFixed(1)} s, peak RSS ${Math.round(r.rssMb)} MB, exit ${r.code}, first 20 problems listed: ${stopped}`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
