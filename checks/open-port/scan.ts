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
 * Probes `ports` of `host` through `ctx.net.portScan` (src/net/port-scan.ts): lanes of one connect in flight each, every
 * lane holding one slot of the scan-wide socket limit for its life (no promise, closure or timer per port). Progress goes to `ctx.progress` as ports probed of the total. Throws `AttemptFailure` when the host cannot
 * be scanned at all (name does not resolve, no route from this machine, out of file descriptors) or when the attempt is
 * aborted.
 */
export async function connectScan(ctx: CheckContext<string>, host: string, ports: readonly number[], perConnectionMs: number): Promise<ConnectScan> {
  const total = ports.length
  ctx.progress(0, total, 'ports probed')
  const scan = ctx.net.portScan(host, ports, perConnectionMs, (probed) => {
    if ((probed & 255) === 0 || probed === total) ctx.progress(probed, total, 'ports probed')
  })
  const lanes = Math.max(1, Math.min(total, ctx.sockets.concurrency))
  ctx.log.debug(`connect scan of ${total} port(s), ${lanes} in flight (${scan.engine} engine)`)
  await Promise.all(Array.from({ length: lanes }, () => ctx.sockets(() => scan.lane())))
  const { open, closed, filtered, fatal } = scan
  if (ctx.signal.aborted) throw new AttemptFailure(/Timeout/.test(String((ctx.signal.reason as Error)?.name)) ? 'timeout' : 'aborted', `${host}: connect scan stopped after ${scan.probed} of ${total} ports`)
  if (fatal) throw new AttemptFailure('connectivity', `tcp ${host}: ${fatal} (connect scan stopped)`)
  if (open.length === 0 && closed === 0 && total > 0)
    throw new AttemptFailure('connectivity', `${host}: no answer on any of ${total} port(s) within ${perConnectionMs} ms each (host down or everything filtered)`)
  return { open: [...open].sort((a, b) => a - b), closed, filtered }
}
