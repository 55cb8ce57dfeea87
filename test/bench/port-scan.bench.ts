/**
 * @fileoverview Port-scan bench (issue 14.5): `ztscan scan host://127.0.0.1?ports=all` (the built CLI, start-up included)
 * with the built-in connect scan — its default `native` engine and its public-API `socket` engine (what runs where the
 * `tcp_wrap` binding is not used: `NODE_PENDING_DEPRECATION=1` selects it) — and with the nmap back-end, beside
 * `nmap -sT -n -Pn -p- 127.0.0.1`, interleaved, best of 5 each: wall time, the CPU of that run (user + system, from the
 * shell's `times`), the ratio to nmap's best (goals: nmap back-end ≤ 1.1×, built-in ≤ 2×). Printed, never asserted.
 * Loopback only. Runs `dist/` (build first: `npm run build`).
 *   npm run bench -- port-scan
 */
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { bin, cleanEnv, ensureBuilt } from '../helpers/cli.ts'

const NMAP = '/usr/bin/nmap'
const ROUNDS = 5

/** `h m s` of the shell's `times` → seconds. */
const secs = (t: string): number => {
  const m = /^(\d+)m([\d.]+)s$/.exec(t)
  return m ? Number(m[1]) * 60 + Number(m[2]) : NaN
}

/** Runs argv under bash (fixed arguments, quoted), returns wall ms, the child's CPU seconds and its output (stdout + stderr). */
function timed(argv: readonly string[], env: Record<string, string> = {}): { ms: number; user: number; sys: number; out: string } {
  const quoted = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')
  const t0 = performance.now()
  const r = spawnSync('bash', ['-c', `${quoted} 2>&1; rc=$?; times >&2; exit $rc`], { env: cleanEnv(env), encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 })
  const ms = performance.now() - t0
  if (r.status !== 0 && r.status !== 1) throw new Error(`${argv.join(' ')} exited ${r.status}`)
  const children = r.stderr.trim().split('\n').at(-1)!.split(/\s+/)
  return { ms, user: secs(children[0]!), sys: secs(children[1]!), out: r.stdout }
}

export async function run(): Promise<void> {
  ensureBuilt()
  const hasNmap = existsSync(NMAP)
  const ztscan = (scanner: string): string[] => [process.execPath, bin, 'scan', 'host://127.0.0.1?ports=all', '--port-scanner', scanner, '--no-chain', '--fail-on', 'none', '--debug', '-f', 'json', '-o', '/dev/null']
  const cases: { name: string; argv: string[]; env?: Record<string, string> }[] = [
    { name: 'ztscan builtin (native engine)', argv: ztscan('builtin') },
    { name: 'ztscan builtin (socket engine)', argv: ztscan('builtin'), env: { NODE_PENDING_DEPRECATION: '1' } },
    ...(hasNmap
      ? [
          { name: 'ztscan --port-scanner nmap', argv: ztscan('nmap') },
          { name: 'nmap -sT -n -Pn -p- 127.0.0.1', argv: [NMAP, '-sT', '-n', '-Pn', '-p-', '127.0.0.1'] },
        ]
      : []),
  ]
  const best = new Map<string, { ms: number; user: number; sys: number; note: string }>()
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of cases) {
      // ztscan's --debug line names the engine and the counts; nmap's own output lists the open ports.
      const r = timed(c.argv, c.env)
      const counted = /port\(s\): (\d+ open, \d+ closed, \d+ filtered)/.exec(r.out)?.[1]
      const engine = /\((\w+) engine\)/.exec(r.out)?.[1]
      const note = c.name.startsWith('nmap') ? `${(r.out.match(/\/tcp\s+open/g) ?? []).length} open` : `${counted ?? '?'}${engine ? `, ${engine} engine` : ''}`
      const cur = best.get(c.name)
      if (!cur || r.ms < cur.ms) best.set(c.name, { ms: r.ms, user: r.user, sys: r.sys, note })
    }
  }
  const nmap = best.get('nmap -sT -n -Pn -p- 127.0.0.1')
  for (const [name, r] of best) {
    const ratio = nmap && !name.startsWith('nmap') ? `, ${(r.ms / nmap.ms).toFixed(2)}× nmap` : ''
    console.log(`  ${name.padEnd(32)} ${(r.ms / 1000).toFixed(2)} s (best of ${ROUNDS})${ratio}; CPU ${(r.user + r.sys).toFixed(2)} s (user ${r.user.toFixed(2)}, sys ${r.sys.toFixed(2)})${r.note ? `; ${r.note}` : ''}`)
  }
  if (!hasNmap) console.log('  nmap: skipped (/usr/bin/nmap missing)')
}
