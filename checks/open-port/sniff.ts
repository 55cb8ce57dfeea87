/**
 * @fileoverview Light service sniffing for the connect scan (which otherwise names a port only by its number): an SSH
 * server speaks first with `SSH-`; a TLS server answers a ClientHello. This is what lets the default scan find TLS and
 * SSH services on any port of this machine and hand them to the certificate and MFA checks.
 */
import type { Socket } from 'node:net'
import type { CheckContext } from '../../src/engine/check.ts'

/** What a sniff found. */
export type Sniffed = 'ssh' | 'tls' | 'other' | undefined

/** How long a server-speaks-first protocol gets to say something. */
const BANNER_MS = 300
/**
 * How long the banner is waited for alone before the TLS handshake starts beside it: a server that speaks first (SSH)
 * does so as soon as it accepts, and its banner reaches us about one round trip after our connect completed — so the
 * wait is 50 ms plus twice the time the connect took (a remote host: its round trips), at most the whole banner wait.
 * An SSH server that answers within that is not sent a ClientHello it would log as a bad protocol identification.
 */
export const helloAfterMs = (connectMs: number): number => Math.min(BANNER_MS, 50 + 2 * Math.max(0, connectMs))

/**
 * Sniffs one open port: `ssh`, `tls`, `other` (it spoke first, and not SSH) or undefined (nothing learned). The banner
 * and the TLS handshake are tried on two connections side by side (the handshake {@link helloAfterMs} after the
 * banner wait began), and the answer is taken as soon as it is known: a banner decides at once; a completed handshake decides
 * at once (a TLS server never speaks first); a failed handshake leaves the rest of the banner wait; a connection the
 * server closed or refused ends the banner wait. A silent TLS port costs its handshake, not the whole banner wait too; a
 * handshake still under way when a banner decided is ended then.
 */
export async function sniff(ctx: CheckContext<string>, host: string, port: number, budgetMs: number): Promise<Sniffed> {
  let decided = false
  let bannerSocket: Socket | undefined
  let helloTimer: NodeJS.Timeout | undefined
  let startHello: () => void = () => {}
  const helloDue = new Promise<void>((resolve) => (startHello = resolve))
  // Ends a handshake still under way once the sniff has its answer (a banner decided): it does not wait out its budget.
  const stop = new AbortController()
  const banner = ctx.sockets(async () => {
    let sock
    const began = performance.now()
    try {
      sock = await ctx.net.tcpConnect(host, port, budgetMs)
    } catch {
      return undefined
    }
    bannerSocket = sock
    try {
      // The handshake may start once this connection is up and has said nothing for helloAfterMs(the connect's time).
      helloTimer = setTimeout(startHello, helloAfterMs(performance.now() - began))
      return await new Promise<Buffer | undefined>((resolve) => {
        const t = setTimeout(() => resolve(undefined), BANNER_MS)
        sock.once('data', (d: Buffer) => {
          // It spoke: that decides, and no ClientHello is sent to it.
          decided = true
          clearTimeout(t)
          resolve(d)
        })
        sock.once('error', () => (clearTimeout(t), resolve(undefined)))
        sock.once('close', () => (clearTimeout(t), resolve(undefined)))
      })
    } finally {
      sock.destroy()
    }
  }).finally(() => {
    clearTimeout(helloTimer)
    // No banner connection (refused, or it ended): the handshake need not wait for it.
    startHello()
  })
  const tls = helloDue.then(() =>
    decided
      ? false
      : ctx.sockets(async () => {
          if (decided) return false
          try {
            // No CA bundle: only whether a handshake completes matters (and the default one costs ~5-10 ms to load).
            const s = await ctx.net.tlsHandshake({ host, port, ca: [] }, budgetMs, stop.signal)
            s.destroy()
            return true
          } catch {
            return false
          }
        }),
  )
  // Whichever settles first may decide: a banner, or a completed handshake while no banner came.
  const first = await Promise.race([banner.then((b) => ({ b })), tls.then((ok) => ({ ok }))])
  let result: Sniffed
  if ('ok' in first && first.ok) result = 'tls'
  else {
    const b = 'b' in first ? first.b : await banner
    if (b) result = b.subarray(0, 4).toString('latin1') === 'SSH-' ? 'ssh' : 'other'
    else result = (await tls) ? 'tls' : undefined
  }
  decided = true
  bannerSocket?.destroy()
  stop.abort()
  return result
}
