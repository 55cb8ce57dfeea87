/**
 * @fileoverview The built-in TCP connect scan: one `ctx.net.tcpConnect` per port under the scan-wide socket limit, each
 * with its own timeout. Connected = open, refused = closed, no answer in time = filtered (nmap's vocabulary).
 */
import type { CheckContext } from '../../src/engine/check.ts'
import { AttemptFailure } from '../../src/errors.ts'

/** Outcome of a connect scan. */
export interface ConnectScan {
  readonly open: readonly number[]
  readonly closed: number
  readonly filtered: number
}

/**
 * Probes `ports` of `host` with a pool of workers, each holding one slot of the scan-wide socket limit for its life
 * (a queued port is an array index, not a promise: a 65,535-port scan allocates no per-port closures). Throws
 * `AttemptFailure` when the host cannot be scanned at all (name does not resolve, no route from this machine, out of file
 * descriptors) or when the attempt is aborted.
 */
export async function connectScan(ctx: CheckContext<string>, host: string, ports: readonly number[], perConnectionMs: number): Promise<ConnectScan> {
  const open: number[] = []
  let closed = 0
  let filtered = 0
  let fatal: string | undefined
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < ports.length && !fatal && !ctx.signal.aborted) {
      const port = ports[next++]!
      const r = await ctx.net.tcpProbe(host, port, perConnectionMs)
      if (r === 'open') open.push(port)
      else if (r === 'closed') closed++
      else if (r === 'filtered') filtered++
      else fatal ??= r.fatal
    }
  }
  const workers = Math.max(1, Math.min(ports.length, ctx.sockets.concurrency))
  await Promise.all(Array.from({ length: workers }, () => ctx.sockets(worker)))
  if (ctx.signal.aborted) throw new AttemptFailure(/Timeout/.test(String((ctx.signal.reason as Error)?.name)) ? 'timeout' : 'aborted', `${host}: connect scan stopped after ${closed + filtered + open.length} of ${ports.length} ports`)
  if (fatal) throw new AttemptFailure('connectivity', `tcp ${host}: ${fatal} (connect scan stopped)`)
  if (open.length === 0 && closed === 0 && ports.length > 0)
    throw new AttemptFailure('connectivity', `${host}: no answer on any of ${ports.length} port(s) within ${perConnectionMs} ms each (host down or everything filtered)`)
  return { open: open.sort((a, b) => a - b), closed, filtered }
}
