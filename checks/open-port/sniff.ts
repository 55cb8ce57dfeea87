/**
 * @fileoverview Light service sniffing for the connect scan (which otherwise names a port only by its number): an SSH
 * server speaks first with `SSH-`; a TLS server answers a ClientHello. This is what lets the default scan find TLS and
 * SSH services on any port of this machine and hand them to the certificate and MFA checks.
 */
import type { CheckContext } from '../../src/engine/check.ts'

/** What a sniff found. */
export type Sniffed = 'ssh' | 'tls' | 'other' | undefined

/** How long a server-speaks-first protocol gets to say something. */
const BANNER_MS = 300

/** Sniffs one open port: `ssh`, `tls`, `other` (it spoke first, and not SSH) or undefined (nothing learned). */
export async function sniff(ctx: CheckContext<string>, host: string, port: number, budgetMs: number): Promise<Sniffed> {
  const banner = await ctx.sockets(async () => {
    let sock
    try {
      sock = await ctx.net.tcpConnect(host, port, budgetMs)
    } catch {
      return undefined
    }
    try {
      return await new Promise<Buffer | undefined>((resolve) => {
        const t = setTimeout(() => resolve(undefined), BANNER_MS)
        sock.once('data', (d: Buffer) => (clearTimeout(t), resolve(d)))
        sock.once('error', () => (clearTimeout(t), resolve(undefined)))
        sock.once('close', () => (clearTimeout(t), resolve(undefined)))
      })
    } finally {
      sock.destroy()
    }
  })
  if (banner) return banner.subarray(0, 4).toString('latin1') === 'SSH-' ? 'ssh' : 'other'
  return ctx.sockets(async () => {
    try {
      const s = await ctx.net.tlsHandshake({ host, port }, budgetMs)
      s.destroy()
      return 'tls' as const
    } catch {
      return undefined
    }
  })
}
