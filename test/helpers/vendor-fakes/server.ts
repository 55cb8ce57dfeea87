/**
 * @fileoverview Test helper: the loopback HTTP server every vendor fake runs on (127.0.0.1, port 0), with request bodies
 * read (capped), JSON replies, bearer tokens it issued, scripted faults and a request log.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { randomBytes } from 'node:crypto'

/** One request as a handler sees it. */
export interface FakeRequest {
  readonly method: string
  readonly url: URL
  readonly headers: IncomingMessage['headers']
  readonly body: string
  /** Requests so far to this path (this one included). */
  readonly nth: number
}

/** A handler's reply. */
export interface FakeReply {
  readonly status?: number
  readonly json?: unknown
  /** A body sent as is (XML answers), instead of `json`. */
  readonly text?: string
  readonly headers?: Record<string, string>
}

/** A fault a test plants: when `when` matches a request, that reply is sent instead (once, unless `times`). */
export interface Fault {
  readonly when: (r: FakeRequest) => boolean
  readonly reply: FakeReply
  times?: number
}

export interface FakeServer {
  readonly origin: string
  /** Every request: method, path and query (never the headers). */
  readonly log: string[]
  readonly faults: Fault[]
  /** Issues a bearer token valid until revoked. */
  issue(): string
  /** Makes every issued token invalid (an expired credential). */
  revokeAll(): void
  /** True when the request carries an issued token as `Authorization: <scheme> <token>`. */
  authorized(r: FakeRequest, scheme?: string): boolean
  stop(): Promise<void>
}

export async function startFake(handle: (r: FakeRequest, s: FakeServer) => FakeReply | Promise<FakeReply>): Promise<FakeServer> {
  const tokens = new Set<string>()
  const counts = new Map<string, number>()
  const sockets = new Set<Socket>()
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (c: Buffer) => {
      size += c.length
      if (size <= 1_000_000) chunks.push(c)
    })
    req.on('end', () => {
      void (async () => {
        const url = new URL(req.url ?? '/', fake.origin)
        const nth = (counts.get(url.pathname) ?? 0) + 1
        counts.set(url.pathname, nth)
        const r: FakeRequest = { method: req.method ?? 'GET', url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), nth }
        fake.log.push(`${r.method} ${url.pathname}${url.search}`)
        let reply: FakeReply
        const fault = fake.faults.find((f) => (f.times ?? 1) > 0 && f.when(r))
        if (fault) {
          fault.times = (fault.times ?? 1) - 1
          reply = fault.reply
        } else {
          try {
            reply = await handle(r, fake)
          } catch (err) {
            reply = { status: 500, json: { error: { code: 'fakeBug', message: String(err) } } }
          }
        }
        const body = reply.text ?? (reply.json === undefined ? '' : JSON.stringify(reply.json))
        res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers })
        res.end(body)
      })()
    })
  })
  server.on('connection', (s: Socket) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const fake: FakeServer = {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    log: [],
    faults: [],
    issue() {
      const t = `fake-at-${randomBytes(18).toString('base64url')}`
      tokens.add(t)
      return t
    },
    revokeAll: () => tokens.clear(),
    authorized(r, scheme = 'Bearer') {
      const h = r.headers.authorization ?? ''
      const i = h.indexOf(' ')
      return i > 0 && h.slice(0, i).toLowerCase() === scheme.toLowerCase() && tokens.has(h.slice(i + 1))
    },
    async stop() {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
  return fake
}

/** A form body as an object. */
export function form(body: string): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(body))
}
