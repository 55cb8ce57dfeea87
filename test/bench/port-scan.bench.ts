/**
 * @fileoverview Port-scan bench (issue 14.5): `host://127.0.0.1?ports=all` with each back-end beside `nmap -sT -p-` on the
 * same machine, interleaved, best of 3 each, with the ratio to nmap (goals: nmap back-end ≤ 1.1×, built-in ≤ 2×); open-port.bench.ts
 * also prints one run of each beside its parser figures.
 * Figures are printed, never asserted. Loopback only.
 *   npm run bench -- port-scan
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { promisify } from 'node:util'
import openPort from '../../checks/open-port/index.ts'
import { scan } from '../../src/engine/run.ts'

const NMAP = '/usr/bin/nmap'
const ROUNDS = 3

export async function run(): Promise<void> {
  const hasNmap = existsSync(NMAP)
  const best = new Map<string, { ms: number; open: string; errors: number }>()
  const keep = (name: string, ms: number, open: string, errors: number): void => {
    const cur = best.get(name)
    if (!cur || ms < cur.ms) best.set(name, { ms, open, errors })
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const scanner of hasNmap ? (['builtin', 'nmap'] as const) : (['builtin'] as const)) {
      const t0 = performance.now()
      const report = await scan({ checks: openPort.checks, targets: ['host://127.0.0.1?ports=all'], settings: { portScan: { scanner, sniff: false } }, chain: false, timeoutMs: 600_000 })
      const openPorts = report.findings.find((f) => f.resource === '127.0.0.1')?.evidence.openPorts
      keep(`ztscan --port-scanner ${scanner}`, performance.now() - t0, String(openPorts), report.errors.length)
    }
    if (hasNmap) {
      const t0 = performance.now()
      const { stdout } = await promisify(execFile)(NMAP, ['-sT', '-n', '-Pn', '-p-', '127.0.0.1'], { maxBuffer: 1024 * 1024 })
      keep('nmap -sT -n -Pn -p- 127.0.0.1', performance.now() - t0, `${(stdout.match(/\/tcp\s+open/g) ?? []).length}`, 0)
    }
  }
  const nmap = best.get('nmap -sT -n -Pn -p- 127.0.0.1')
  for (const [name, r] of best) {
    const ratio = nmap && !name.startsWith('nmap') ? `, ${(r.ms / nmap.ms).toFixed(2)}× nmap` : ''
    console.log(`  ${name.padEnd(32)} ${(r.ms / 1000).toFixed(2)} s (best of ${ROUNDS})${ratio}; open: ${r.open}${r.errors ? `, ${r.errors} errors` : ''}`)
  }
  if (!hasNmap) console.log('  nmap: skipped (/usr/bin/nmap missing)')
}
