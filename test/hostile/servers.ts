/**
 * @fileoverview Hostile peers on loopback for the hostile-input zoo: each listens on 127.0.0.1 port 0 and misbehaves in one way.
 */
import { createServer, type Server, type Socket } from 'node:net'
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http'

export interface Hostile {
  readonly port: number
  close(): Promise<void>
}

async function listen(server: Server | HttpServer, sockets: Set<Socket>): Promise<Hostile> {
  server.on('connection', (s: Socket) => {
    sockets.add(s)
    s.on('error', () => {})
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return {
    port: (server.address() as { port: number }).port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy()
        server.close(() => r())
      }),
  }
}

/** Accepts and never answers. */
export function tarpit(): Promise<Hostile> {
  const sockets = new Set<Socket>()
  return listen(createServer(() => {}), sockets)
}

/** Answers every connection with random-looking garbage, then keeps sending it slowly. */
export function garbage(): Promise<Hostile> {
  const sockets = new Set<Socket>()
  return listen(
    createServer((s) => {
      const junk = Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 131 + 7) & 0xff))
      s.write(junk)
      const t = setInterval(() => s.writable && s.write(junk), 50)
      s.on('close', () => clearInterval(t))
    }),
    sockets,
  )
}

/** Reads the first bytes (a TLS ClientHello or an SSH ident) and closes. */
export function closeMidHandshake(): Promise<Hostile> {
  const sockets = new Set<Socket>()
  return listen(createServer((s) => s.once('data', () => s.destroy())), sockets)
}

/** Sends one byte every 200 ms forever (slowloris on the client side). */
export function slowDrip(prefix = ''): Promise<Hostile> {
  const sockets = new Set<Socket>()
  return listen(
    createServer((s) => {
      if (prefix) s.write(prefix)
      const t = setInterval(() => s.writable && s.write('A'), 200)
      s.on('close', () => clearInterval(t))
    }),
    sockets,
  )
}

/** An SSH server whose banner never ends: pre-ident lines forever (RFC 4253 §4.2 allows lines before the ident). */
export function endlessSshBanner(): Promise<Hostile> {
  const sockets = new Set<Socket>()
  return listen(
    createServer((s) => {
      const line = Buffer.from('Welcome to a very long banner that never reaches SSH-2.0 ' + 'x'.repeat(200) + '\r\n')
      const pump = (): void => {
        while (s.writable && s.write(line)) {
          /* fill the buffer */
        }
      }
      pump()
      s.on('drain', pump)
    }),
    sockets,
  )
}

/** Plain HTTP on the port. */
export function plainHttp(): Promise<Hostile> {
  const sockets = new Set<Socket>()
  return listen(createHttpServer((_req, res) => res.end('hello')), sockets)
}

/** HTTP server whose every response redirects to another origin. */
export function redirectElsewhere(to = 'http://127.0.0.2:1/'): Promise<Hostile> {
  const sockets = new Set<Socket>()
  return listen(createHttpServer((req, res) => res.writeHead(302, { location: to + (req.url ?? '').slice(1) }).end()), sockets)
}

/** HTTP server that streams `bytes` of JSON-looking data. */
export function hugeJson(bytes = 100 * 1024 * 1024): Promise<Hostile> {
  const sockets = new Set<Socket>()
  return listen(
    createHttpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      const chunk = Buffer.alloc(64 * 1024, 0x20)
      let sent = 0
      res.write('{"keys":[')
      const pump = (): void => {
        while (sent < bytes) {
          sent += chunk.length
          if (!res.write(chunk)) return void res.once('drain', pump)
        }
        res.end(']}')
      }
      pump()
    }),
    sockets,
  )
}
