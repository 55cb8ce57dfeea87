/**
 * @fileoverview Hostile peers for the zoo that the family helpers do not already provide (`test/helpers/tls.ts`
 * `startHostile` has tarpit, garbage, mid-handshake close, plain HTTP and the 50-certificate chain).
 */
import { createServer, type Socket } from 'node:net'

export interface Hostile {
  readonly port: number
  close(): Promise<void>
}

function serve(onConnection: (s: Socket) => void): Promise<Hostile> {
  const sockets = new Set<Socket>()
  const server = createServer((s) => {
    sockets.add(s)
    s.on('error', () => {})
    s.on('close', () => sockets.delete(s))
    onConnection(s)
  })
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        port: (server.address() as { port: number }).port,
        close: () =>
          new Promise<void>((r) => {
            for (const s of sockets) s.destroy()
            server.close(() => r())
          }),
      }),
    ),
  )
}

/** Slowloris from the server side: one byte every 200 ms, forever. */
export function slowDrip(prefix = ''): Promise<Hostile> {
  return serve((s) => {
    if (prefix) s.write(prefix)
    const t = setInterval(() => s.writable && s.write('A'), 200)
    s.on('close', () => clearInterval(t))
  })
}

/** An SSH server whose banner never ends: pre-ident lines forever (RFC 4253 section 4.2 allows lines before the ident). */
export function endlessSshBanner(): Promise<Hostile> {
  const line = Buffer.from(`Welcome, this banner never reaches the SSH-2.0 ident ${'x'.repeat(200)}\r\n`)
  return serve((s) => {
    const pump = (): void => {
      while (s.writable && s.write(line)) {
        /* fill the socket buffer, then wait for drain */
      }
    }
    pump()
    s.on('drain', pump)
  })
}
