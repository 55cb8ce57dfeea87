/**
 * @fileoverview Start-up bench (issue 14.6): wall time of `ztscan rules` and `ztscan scan --help` (the built CLI) beside
 * bare `node -e 0`; goal ≤ 0.15 s above bare Node. Median and best of 15 runs each, interleaved, and the CPU a run takes
 * (user + system, mean of 15 more, from the shell's `times`). Printed, never asserted.
 *   npm run bench -- startup
 */
import { spawnSync } from 'node:child_process'
import { bin, cleanEnv, ensureBuilt } from '../helpers/cli.ts'

const RUNS = 15

/** Mean CPU seconds (user + system) of `RUNS` runs of `node ARGS`, from bash's `times` (fixed arguments, quoted). */
function cpuSecs(args: string[]): number {
  const cmd = [process.execPath, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')
  const r = spawnSync('bash', ['-c', `for i in $(seq ${RUNS}); do ${cmd} >/dev/null 2>&1; done; times`], { env: cleanEnv(), encoding: 'utf8' })
  const [user = '', sys = ''] = r.stdout.trim().split('\n').at(-1)!.split(/\s+/)
  const secs = (t: string): number => Number(/^(\d+)m/.exec(t)?.[1] ?? NaN) * 60 + Number(/m([\d.]+)s$/.exec(t)?.[1] ?? NaN)
  return (secs(user) + secs(sys)) / RUNS
}

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
  const cpu = new Map(cases.map(([name, args]) => [name, cpuSecs(args)]))
  for (const [name] of cases) {
    const s = stat(times.get(name)!)
    const c = cpu.get(name)!
    const above = name === 'node -e 0' ? '' : `  (+${((s.median - bare.median) / 1000).toFixed(3)} s median, +${((s.best - bare.best) / 1000).toFixed(3)} s best, CPU +${(c - cpu.get('node -e 0')!).toFixed(3)} s above bare Node; goal ≤ 0.150 s)`
    console.log(`  ${name.padEnd(20)} median ${(s.median / 1000).toFixed(3)} s, best ${(s.best / 1000).toFixed(3)} s, CPU ${c.toFixed(3)} s${above}`)
  }
}
