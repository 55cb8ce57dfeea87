/**
 * @fileoverview Port-scan bench (issue 14.5): `ztscan scan host://127.0.0.1?ports=all` (the built CLI, start-up included)
 * with the built-in connect scan — its default `native` engine and its public-API `socket` engine (what runs where the
 * `tcp_wrap` binding is not used: `NODE_PENDING_DEPRECATION=1` selects it) — and with the nmap back-end, beside
 * `nmap -sT -n -Pn -p- 127.0.0.1`, interleaved, best of 5 each: wall time, the CPU of that run (user + system, from the
 * shell's `times`), the ratio to nmap's best (goals: nmap back-end ≤ 1.1×, built-in ≤ 2×). Printed, never asserted.
 * As root the back-end runs `nmap -sS` (a SYN scan, faster on loopback than `-sT`), so the bench also times `nmap -sS`
 * and the back-end without CAP_NET_RAW (`setpriv --bounding-set -net_raw`: what it runs as `-sT`), each beside the nmap
 * scan of the same type.
 * Loopback only. Runs `dist/` (build first: `npm run build`).
 *   npm run bench -- port-scan
 */
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { bin, cleanEnv, ensureBuilt } from '../helpers/cli.ts'
import { rawScanAllowed } from '../../checks/open-port/nmap-scan.ts'

const NMAP = '/usr/bin/nmap'
const SETPRIV = '/usr/bin/setpriv'
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
  const nmapSt = 'nmap -sT -n -Pn -p- 127.0.0.1'
  const nmapSs = 'nmap -sS -n -Pn -p- 127.0.0.1'
  // What the back-end runs here: -sS when nmap may open a raw socket (root with CAP_NET_RAW), else -sT.
  const raw = rawScanAllowed(process.geteuid?.(), process.platform, process.platform === 'linux' ? readFileSync('/proc/self/status', 'utf8') : undefined)
  const dropRaw = raw && existsSync(SETPRIV)
  const cases: { name: string; argv: string[]; env?: Record<string, string>; peer?: string }[] = [
    { name: 'ztscan builtin (native engine)', argv: ztscan('builtin') },
    { name: 'ztscan builtin (socket engine)', argv: ztscan('builtin'), env: { NODE_PENDING_DEPRECATION: '1' } },
    ...(hasNmap
      ? [
          { name: `ztscan --port-scanner nmap (${raw ? '-sS' : '-sT'})`, argv: ztscan('nmap'), peer: raw ? nmapSs : nmapSt },
          ...(dropRaw ? [{ name: 'ztscan --port-scanner nmap, no CAP_NET_RAW (-sT)', argv: [SETPRIV, '--bounding-set', '-net_raw', '--', ...ztscan('nmap')], peer: nmapSt }] : []),
          { name: nmapSt, argv: [NMAP, '-sT', '-n', '-Pn', '-p-', '127.0.0.1'] },
          ...(raw ? [{ name: nmapSs, argv: [NMAP, '-sS', '-n', '-Pn', '-p-', '127.0.0.1'] }] : []),
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
      // The back-end's --debug line names nmap's command line: the scan type it really ran.
      const nmapType = /port scanner: \S*nmap (-s[A-Z])/.exec(r.out)?.[1]
      const note = c.name.startsWith('nmap') ? `${(r.out.match(/\/tcp\s+open/g) ?? []).length} open` : `${counted ?? '?'}${engine ? `, ${engine} engine` : ''}${nmapType ? `, ran nmap ${nmapType}` : ''}`
      const cur = best.get(c.name)
      if (!cur || r.ms < cur.ms) best.set(c.name, { ms: r.ms, user: r.user, sys: r.sys, note })
    }
  }
  const nmap = best.get(nmapSt)
  for (const [name, r] of best) {
    const peer = cases.find((c) => c.name === name)?.peer
    const same = peer && peer !== nmapSt && best.get(peer) ? `, ${(r.ms / best.get(peer)!.ms).toFixed(2)}× ${peer.split(' -n')[0]} (same scan type)` : ''
    const ratio = nmap && !name.startsWith('nmap') ? `, ${(r.ms / nmap.ms).toFixed(2)}× nmap -sT${same}` : ''
    console.log(`  ${name.padEnd(50)} ${(r.ms / 1000).toFixed(2)} s (best of ${ROUNDS})${ratio}; CPU ${(r.user + r.sys).toFixed(2)} s (user ${r.user.toFixed(2)}, sys ${r.sys.toFixed(2)})${r.note ? `; ${r.note}` : ''}`)
  }
  if (!hasNmap) console.log('  nmap: skipped (/usr/bin/nmap missing)')
}
