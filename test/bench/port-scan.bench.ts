/**
 * @fileoverview Port-scan bench (issue 14.5): `ztscan scan host://127.0.0.1?ports=all` (the built CLI, start-up included)
 * with the built-in connect scan — its default `native` engine and its public-API `socket` engine (what runs where the
 * `tcp_wrap` binding is not used: `NODE_PENDING_DEPRECATION=1` selects it) — and with the nmap back-end, beside
 * `nmap -sT -n -Pn -p- 127.0.0.1`, interleaved, 7 rounds (`BENCH_ROUNDS=N` for more): best and median wall time, the CPU of
 * the best run (user + system, from the shell's `times`), the ratios best to best and median to median (goals: nmap back-end
 * ≤ 1.1×, built-in ≤ 2×). nmap's own time moves ~2× between runs on a loaded machine, so each ztscan run of the back-end
 * is paired with the nmap scan of the same type run just before or after it (the order alternates by round): the median
 * of those paired ratios and of the paired differences (what ztscan adds) are printed too. Printed, never asserted.
 * As root the back-end runs `nmap -sS` (a SYN scan, faster on loopback than `-sT`), so the bench also times `nmap -sS`
 * and the back-end without CAP_NET_RAW (`setpriv --bounding-set -net_raw`: what it runs as `-sT`), each beside the nmap
 * scan of the same type.
 * Loopback only. Runs `dist/` (build first: `npm run build`).
 *   npm run bench -- port-scan
 */
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { bin, cleanEnv, ensureBuilt } from '../helpers/cli.ts'
import { rawScanAllowed } from '../../checks/open-port/nmap-scan.ts'

const NMAP = '/usr/bin/nmap'
const SETPRIV = '/usr/bin/setpriv'
/** Rounds (each runs every case once, interleaved): `BENCH_ROUNDS=N`, at least 1; 7 by default. */
const ROUNDS = Math.max(1, Number.parseInt(process.env.BENCH_ROUNDS ?? '', 10) || 7)

/** The median of `xs` (not empty). */
const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

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
  type Case = { name: string; argv: string[]; env?: Record<string, string>; peer?: string }
  const nmapCase = (name: string, type: string): Case => ({ name, argv: [NMAP, type, '-n', '-Pn', '-p-', '127.0.0.1'] })
  // Groups run in turn each round; within a group (a back-end run and the nmap scan of its type) the order alternates.
  const groups: Case[][] = [
    [{ name: 'ztscan builtin (native engine)', argv: ztscan('builtin') }],
    [{ name: 'ztscan builtin (socket engine)', argv: ztscan('builtin'), env: { NODE_PENDING_DEPRECATION: '1' } }],
    ...(hasNmap
      ? [
          [{ name: `ztscan --port-scanner nmap (${raw ? '-sS' : '-sT'})`, argv: ztscan('nmap'), peer: raw ? nmapSs : nmapSt }, raw ? nmapCase(nmapSs, '-sS') : nmapCase(nmapSt, '-sT')],
          ...(dropRaw ? [[{ name: 'ztscan --port-scanner nmap, no CAP_NET_RAW (-sT)', argv: [SETPRIV, '--bounding-set', '-net_raw', '--', ...ztscan('nmap')], peer: nmapSt }, nmapCase(nmapSt, '-sT')]] : []),
          // The built-in scan's goal is relative to nmap -sT: timed on its own where no back-end run pairs with it.
          ...(raw && !dropRaw ? [[nmapCase(nmapSt, '-sT')]] : []),
        ]
      : []),
  ]
  type Run = { ms: number; user: number; sys: number; note: string }
  const runs = new Map<string, Run[]>()
  // Paired with the nmap run next to it in the same round: [ztscan ms, nmap ms].
  const pairs = new Map<string, [number, number][]>()
  const load0 = loadavg()
  for (let round = 0; round < ROUNDS; round++) {
    for (const group of groups) {
      const inRound = new Map<string, number>()
      for (const c of round % 2 ? [...group].reverse() : group) {
        // ztscan's --debug line names the engine and the counts; nmap's own output lists the open ports.
        const r = timed(c.argv, c.env)
        const counted = /port\(s\): (\d+ open, \d+ closed, \d+ filtered)/.exec(r.out)?.[1]
        const engine = /\((\w+) engine\)/.exec(r.out)?.[1]
        // The back-end's --debug line names nmap's command line: the scan type it really ran.
        const nmapType = /port scanner: \S*nmap (-s[A-Z])/.exec(r.out)?.[1]
        const note = c.name.startsWith('nmap') ? `${(r.out.match(/\/tcp\s+open/g) ?? []).length} open` : `${counted ?? '?'}${engine ? `, ${engine} engine` : ''}${nmapType ? `, ran nmap ${nmapType}` : ''}`
        runs.set(c.name, [...(runs.get(c.name) ?? []), { ...r, note }])
        inRound.set(c.name, r.ms)
      }
      for (const c of group) if (c.peer && inRound.has(c.peer)) pairs.set(c.name, [...(pairs.get(c.name) ?? []), [inRound.get(c.name)!, inRound.get(c.peer)!]])
    }
  }
  const load1 = loadavg()
  const stats = (name: string): { best: Run; median: number } | undefined => {
    const rs = runs.get(name)
    return rs?.length ? { best: rs.reduce((a, b) => (b.ms < a.ms ? b : a)), median: median(rs.map((r) => r.ms)) } : undefined
  }
  const ratios = (r: { best: Run; median: number }, peer: string, label: string): string => {
    const p = stats(peer)
    return p ? `, ${(r.best.ms / p.best.ms).toFixed(2)}× / ${(r.median / p.median).toFixed(2)}× ${label}` : ''
  }
  console.log(`  ${ROUNDS} rounds, interleaved; load average ${load0.map((x) => x.toFixed(1)).join(' ')} at the start, ${load1.map((x) => x.toFixed(1)).join(' ')} at the end; ratios are best / best and median / median`)
  for (const name of runs.keys()) {
    const r = stats(name)!
    const peer = groups.flat().find((c) => c.name === name)?.peer
    const vsSt = name.startsWith('nmap') ? '' : ratios(r, nmapSt, 'nmap -sT')
    const same = peer && peer !== nmapSt ? ratios(r, peer, `${peer.split(' -n')[0]} (same scan type)`) : ''
    const ps = pairs.get(name) ?? []
    const paired = ps.length ? `; paired with the ${peer!.split(' -n')[0]} run beside it: median ${median(ps.map(([z, n]) => z / n)).toFixed(2)}×, +${(median(ps.map(([z, n]) => z - n)) / 1000).toFixed(2)} s` : ''
    console.log(`  ${name.padEnd(50)} best ${(r.best.ms / 1000).toFixed(2)} s, median ${(r.median / 1000).toFixed(2)} s${vsSt}${same}${paired}; CPU of the best ${(r.best.user + r.best.sys).toFixed(2)} s (user ${r.best.user.toFixed(2)}, sys ${r.best.sys.toFixed(2)}); ${r.best.note}`)
  }
  if (!hasNmap) console.log('  nmap: skipped (/usr/bin/nmap missing)')
}
