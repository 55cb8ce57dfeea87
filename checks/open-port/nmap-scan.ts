/**
 * @fileoverview nmap as the port-scan back-end of `host://` targets: `nmap -sT` (or `-sS` when nmap may send raw packets:
 * effective uid 0 and, on Linux, CAP_NET_RAW in the effective set) with `-oX -`, its XML streamed into the same parser as nmap files. Run with `execFile`-style arguments (no shell); the host
 * was validated when the target was parsed and is checked again here, after `--` so it can never be read as an option.
 */
import { spawn } from 'node:child_process'
import { accessSync, constants, readFileSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import { isIP } from 'node:net'
import type { CheckContext } from '../../src/engine/check.ts'
import { AttemptFailure } from '../../src/errors.ts'
import { isValidHost } from '../../src/targets/host.ts'
import { parseNmapXml } from './nmap-xml.ts'
import type { ConnectScan } from './scan.ts'
import { NMAP_STEP_LABEL } from './family.ts'

/** Which port scanner `host://` targets use: `auto` = nmap when it is on the PATH, else the built-in connect scan. */
export type PortScanner = 'auto' | 'nmap' | 'builtin'

/** The nmap executable on the PATH, if any. */
export function findNmap(path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue
    const candidate = join(dir, 'nmap')
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // not here
    }
  }
  return undefined
}

/** CAP_NET_RAW's bit in the capability sets of /proc/PID/status (linux/capability.h). */
const CAP_NET_RAW = 13

/**
 * Whether nmap may run a SYN scan (`-sS`), which needs a raw socket: the effective uid is 0 and, on Linux, CAP_NET_RAW is in
 * the effective set (`CapEff` of `status`, the text of /proc/self/status). Root in a container started with
 * `--cap-drop NET_RAW` may not open one (nmap -sS then fails with "Couldn't open a raw socket"), so it gets `-sT`; where
 * Linux's status cannot be read, `-sT` too (it works everywhere). Other systems: root is enough.
 */
export function rawScanAllowed(euid: number | undefined, platform: string, status: string | undefined): boolean {
  if (euid !== 0) return false
  if (platform !== 'linux') return true
  const eff = status === undefined ? undefined : /^CapEff:\s*([0-9a-fA-F]{1,16})\s*$/m.exec(status)?.[1]
  // The bit is in the low 32 bits: the last 8 hex digits are enough (and stay a safe integer).
  return eff !== undefined && (parseInt(eff.slice(-8), 16) & (1 << CAP_NET_RAW)) !== 0
}

let rawAllowed: boolean | undefined
/** `rawScanAllowed` for this process, read once. */
function thisProcessMayRawScan(): boolean {
  if (rawAllowed === undefined) {
    let status: string | undefined
    try {
      status = process.platform === 'linux' ? readFileSync('/proc/self/status', 'utf8') : undefined
    } catch {
      status = undefined
    }
    rawAllowed = rawScanAllowed(process.geteuid?.(), process.platform, status)
  }
  return rawAllowed
}

/** `22,80,8000-8100` from a list of ports (ranges compressed, so 65,535 ports are one argument `1-65535`). */
export function portArgument(ports: readonly number[]): string {
  // One pass over expandPorts' lists, which are sorted and unique already (65,535 ports, read before the JIT has warmed
  // up: half the time of a check pass and a range pass); a list that is not is sorted once and read again.
  const parts: string[] = []
  let start = ports[0]!
  let prev = start
  for (let i = 1; i <= ports.length; i++) {
    const p = ports[i]
    if (p === prev + 1) {
      prev = p
      continue
    }
    if (p !== undefined && p <= prev) return portArgument([...new Set(ports)].sort((a, b) => a - b))
    parts.push(start === prev ? String(start) : `${start}-${prev}`)
    start = prev = p!
  }
  return parts.join(',')
}

/** nmap's arguments for a TCP scan of `ports` on `host`. */
export function nmapArguments(host: string, ports: readonly number[], privileged: boolean, perConnectionMs: number): string[] {
  if (!isValidHost(host) || host.startsWith('-')) throw new AttemptFailure('input', `"${host}" is not a valid host`)
  return [
    privileged ? '-sS' : '-sT',
    '-n',
    '-Pn',
    ...(isIP(host) === 6 ? ['-6'] : []),
    '--max-retries', '1',
    '--max-rtt-timeout', `${Math.max(50, perConnectionMs)}ms`,
    '-p', portArgument(ports),
    // <taskprogress> every second in the XML stream: the progress display shows ports probed of the total.
    '--stats-every', '1s',
    '-oX', '-',
    '--',
    host,
  ]
}

/** Most bytes of nmap's stderr kept for an error message. */
const MAX_STDERR = 4096

/**
 * Scans `ports` of `host` with nmap and returns the same shape as the built-in connect scan. Throws `AttemptFailure` when
 * nmap cannot run or reports an error; the child is killed when the attempt ends. `onOpen` is called with each open TCP
 * port as soon as nmap's streamed output names it (before nmap has exited).
 */
export async function nmapScan(ctx: CheckContext<string>, nmap: string, host: string, ports: readonly number[], perConnectionMs: number, onOpen?: (port: number) => void): Promise<ConnectScan> {
  const args = nmapArguments(host, ports, thisProcessMayRawScan(), perConnectionMs)
  ctx.log.debug(`port scanner: ${nmap} ${args.join(' ')}`)
  const child = spawn(nmap, args, { stdio: ['ignore', 'pipe', 'pipe'], shell: false })
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => {
    if (stderr.length < MAX_STDERR) stderr += d.toString('utf8').slice(0, MAX_STDERR - stderr.length)
  })
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', (e: NodeJS.ErrnoException) => reject(new AttemptFailure('input', `nmap: cannot run ${nmap} (${e.code ?? e.message})`)))
    child.once('close', (code) => resolve(code))
  })
  exited.catch(() => {})
  const kill = (): void => {
    child.kill('SIGKILL')
  }
  ctx.signal.addEventListener('abort', kill, { once: true })
  const open: number[] = []
  let closed = 0
  let filtered = 0
  let hosts = 0
  let down = false
  let foldedOpen = 0
  let runError: string | undefined
  const total = ports.length
  ctx.progress(0, total, NMAP_STEP_LABEL)
  try {
    await parseNmapXml(child.stdout, `nmap ${host}`, {
      taskprogress(t) {
        // The scan task itself (not host discovery or service detection), as ports of the total (the last one on exit).
        if (/scan$/i.test(t.task)) ctx.progress(Math.min(total - 1, Math.floor((t.percent / 100) * total)), total, NMAP_STEP_LABEL)
      },
      host(h) {
        hosts++
        if (h.state !== 'up') down = true
        for (const p of h.ports) {
          if (p.protocol !== 'tcp') continue
          if (p.state === 'open') {
            open.push(p.portid)
            onOpen?.(p.portid)
          }
          else if (p.state === 'closed') closed++
          else filtered++
        }
        // Ports nmap folds by state (`<extraports state="filtered" count="997">`): counted by their state, never as closed
        // unless nmap says closed. An open port is never folded by nmap; a file that folds one cannot say which it is.
        for (const x of h.extraports) {
          if (x.state === 'closed') closed += x.count
          else if (x.state === 'open') foldedOpen += x.count
          else filtered += x.count
        }
      },
      runstats(r) {
        if (r.exit === 'error') runError = r.errormsg ?? 'error'
      },
    })
    const code = await exited
    if (ctx.signal.aborted) throw new AttemptFailure('aborted', `${host}: nmap stopped`)
    const said = (): string => stderr.trim().split('\n').slice(-2).join(' ') || 'no message'
    if (code !== 0) throw new AttemptFailure('connectivity', `nmap ${host}: exit ${code}: ${said()}`)
    // nmap exits 0 when it could not scan the host at all (a name that does not resolve, a host timeout): the ports it did
    // not report are unknown, never closed. Fail closed, as the built-in scan does when nothing answered.
    if (runError !== undefined) throw new AttemptFailure('connectivity', `nmap ${host}: ${runError}`)
    if (hosts === 0) throw new AttemptFailure('connectivity', `nmap ${host}: no host was scanned (${said()})`)
    if (down) throw new AttemptFailure('connectivity', `nmap ${host}: host reported down`)
    if (foldedOpen > 0) throw new AttemptFailure('protocol', `nmap ${host}: ${foldedOpen} open port(s) reported only as a count`)
    const asked = new Set(ports).size
    if (open.length + closed + filtered < asked) throw new AttemptFailure('connectivity', `nmap ${host}: reported ${open.length + closed + filtered} of ${asked} port(s) (${said()})`)
    if (open.length === 0 && closed === 0 && asked > 0)
      throw new AttemptFailure('connectivity', `${host}: no answer on any of ${asked} port(s) (host down or everything filtered)`)
    ctx.progress(total, total, NMAP_STEP_LABEL)
  } catch (err) {
    kill()
    if (err instanceof AttemptFailure) throw err
    if (ctx.signal.aborted) throw new AttemptFailure(/Timeout/.test(String((ctx.signal.reason as Error)?.name)) ? 'timeout' : 'aborted', `${host}: nmap stopped`)
    await exited.catch((e: unknown) => {
      throw e
    })
    throw new AttemptFailure('protocol', `nmap ${host}: ${(err as Error).message}`)
  } finally {
    ctx.signal.removeEventListener('abort', kill)
  }
  return { open: open.sort((a, b) => a - b), closed, filtered }
}
