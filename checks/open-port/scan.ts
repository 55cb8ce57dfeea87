/**
 * @fileoverview The built-in TCP connect scan: one `ctx.net.tcpConnect` per port under the scan-wide socket limit, each
 * with its own timeout. Connected = open, refused = closed, no answer in time = filtered (nmap's vocabulary).
 */
import type { CheckContext } from '../../src/engine/check.ts'
import { AttemptFailure } from '../../src/errors.ts'

/** State of one probed port. */
export type PortState = 'open' | 'closed' | 'filtered'

/** Outcome of a connect scan. */
export interface ConnectScan {
  readonly open: readonly number[]
  readonly closed: number
  readonly filtered: number
}

// Errors that say nothing about one port but about the host or this machine: stop the scan.
const FATAL = /ENOTFOUND|EAI_AGAIN|EAI_NONAME|EADDRNOTAVAIL|EAFNOSUPPORT|EINVAL|EMFILE|ENFILE/

/**
 * Probes `ports` of `host`. Throws `AttemptFailure` when the host cannot be scanned at all (name does not resolve,
 * no route from this machine, out of file descriptors) or when the attempt is aborted.
 */
export async function connectScan(ctx: CheckContext<string>, host: string, ports: readonly number[], perConnectionMs: number): Promise<ConnectScan> {
  const open: number[] = []
  let closed = 0
  let filtered = 0
  let fatal: AttemptFailure | undefined
  const probe = async (port: number): Promise<PortState | undefined> => {
    if (fatal || ctx.signal.aborted) return undefined
    try {
      const s = await ctx.net.tcpConnect(host, port, perConnectionMs)
      s.destroy()
      return 'open'
    } catch (err) {
      if (!(err instanceof AttemptFailure)) throw err
      if (err.reason === 'aborted') throw err
      if (err.reason === 'timeout') return 'filtered'
      // tcpConnect reports a loopback self-connect as "nothing listens": that port is closed.
      if (/ECONNREFUSED|self-connect/.test(err.message)) return 'closed'
      if (FATAL.test(err.message)) {
        fatal ??= new AttemptFailure('connectivity', `${err.message} (connect scan stopped)`)
        return undefined
      }
      // EHOSTUNREACH, ENETUNREACH, ECONNRESET: nmap calls such ports filtered.
      return 'filtered'
    }
  }
  await Promise.all(
    ports.map((port) =>
      ctx.sockets(async () => {
        const state = await probe(port)
        if (state === 'open') open.push(port)
        else if (state === 'closed') closed++
        else if (state === 'filtered') filtered++
      }),
    ),
  )
  if (fatal) throw fatal
  if (ctx.signal.aborted) throw new AttemptFailure('aborted', `${host}: connect scan aborted`)
  if (open.length === 0 && closed === 0 && ports.length > 0)
    throw new AttemptFailure('connectivity', `${host}: no answer on any of ${ports.length} port(s) within ${perConnectionMs} ms each (host down or everything filtered)`)
  return { open: open.sort((a, b) => a - b), closed, filtered }
}
