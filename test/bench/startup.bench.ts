/**
 * @fileoverview Start-up bench (issue 14.6): wall time of `ztscan rules` and `ztscan scan --help` (the built CLI) beside
 * bare `node -e 0`; goal ≤ 0.15 s above bare Node. Median and best of 15 runs each, interleaved. Printed, never asserted.
 *   npm run bench -- startup
 */
import { spawnSync } from 'node:child_process'
import { bin, cleanEnv, ensureBuilt } from '../helpers/cli.ts'

const RUNS = 15

function wallMs(args: string[]): number {
  const t0 = performance.now()
  const r = spawnSync(process.execPath, args, { env: cleanEnv(), stdio: 'ignore' })
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}`)
  return performance.now() - t0
}

export async function run(): Promise<void> {
  ensureBuilt()
  const cases: [string, string[]][] = [
    ['node -e 0', ['-e', '0']],
    ['ztscan rules', [bin, 'rules']],
    ['ztscan scan --help', [bin, 'scan', '--help']],
  ]
  const times = new Map(cases.map(([name]) => [name, [] as number[]]))
  for (let i = 0; i < RUNS; i++) for (const [name, args] of cases) times.get(name)!.push(wallMs(args))
  const stat = (xs: number[]): { median: number; best: number } => {
    const s = [...xs].sort((a, b) => a - b)
    return { median: s[Math.floor(s.length / 2)]!, best: s[0]! }
  }
  const bare = stat(times.get('node -e 0')!)
  for (const [name] of cases) {
    const s = stat(times.get(name)!)
    const above = name === 'node -e 0' ? '' : `  (+${((s.median - bare.median) / 1000).toFixed(3)} s median above bare Node; goal ≤ 0.150 s)`
    console.log(`  ${name.padEnd(20)} median ${(s.median / 1000).toFixed(3)} s, best ${(s.best / 1000).toFixed(3)} s${above}`)
  }
}
