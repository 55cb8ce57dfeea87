/**
 * @fileoverview Signal- and timeout-aware I/O helpers handed to checks through `ctx.net`.
 * Every helper honours an AbortSignal and a timeout, and destroys its socket when either fires.
 */
import { createConnection, isIP, type Socket } from 'node:net'
import type { ConnectionOptions, TLSSocket } from 'node:tls'
import type { IncomingMessage } from 'node:http'
import { AttemptFailure } from '../errors.ts'
import { MAX_STREAM_BYTES, readFileCapped, streamFileCapped } from '../lib-files.ts'
import { hostPort } from '../targets/host.ts'
import { httpRequest as boundedRequest, type HttpRequestOptions } from './http.ts'
import { PortScan, probeVerdict, selfConnected, type ProbePool, type ProbeResult } from './port-scan.ts'
import { lazyRequire } from '../lib-lazy.ts'

// Loaded on first use: a scan reaches its first probe (nmap's start, say) without them.
const tls = lazyRequire<typeof import('node:tls')>('node:tls')
const http = lazyRequire<typeof import('node:http')>('node:http')
const https = lazyRequire<typeof import('node:https')>('node:https')

/** Options common to every network helper. */
export interface IoOptions {
  readonly signal?: AbortSignal
  readonly timeoutMs?: number
}

/**
 * A signal that aborts when `parent` aborts or `timeoutMs` passes, and a `clear()` that drops the timer and the listener.
 * Not `AbortSignal.any([parent, AbortSignal.timeout(ms)])`: Node holds a timeout signal only weakly, so under GC pressure
 * (an endless garbage banner) the composite could be collected with its timer and never fire — an attempt that hangs.
 * Here the timer's closure holds the controller.
 */
export function deadline(parent: AbortSignal | undefined, timeoutMs: number | undefined): { signal: AbortSignal; clear(): void } {
  const ac = new AbortController()
  const onParent = (): void => ac.abort(parent!.reason)
  let timer: NodeJS.Timeout | undefined
  if (parent?.aborted) ac.abort(parent.reason)
  else {
    parent?.addEventListener('abort', onParent, { once: true })
    if (timeoutMs !== undefined && Number.isFinite(timeoutMs))
      timer = setTimeout(() => ac.abort(new DOMException(`timed out after ${timeoutMs} ms`, 'TimeoutError')), Math.max(1, timeoutMs))
  }
  return {
    signal: ac.signal,
    clear() {
      clearTimeout(timer)
      parent?.removeEventListener('abort', onParent)
    },
  }
}

export function abortReason(signal: AbortSignal, what: string): AttemptFailure {
  const r = signal.reason as { name?: string } | undefined
  return r?.name === 'TimeoutError' ? new AttemptFailure('timeout', `${what}: timed out`) : new AttemptFailure('aborted', `${what}: aborted`)
}

/** `host:port` for display (the one formatter, re-exported for the network helpers' users). */
export { hostPort }

export function sockError(err: NodeJS.ErrnoException, what: string): AttemptFailure {
  const code = err.code ?? ''
  const reason = /ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|ECONNRESET|EPIPE|EADDRNOTAVAIL/.test(code) ? 'connectivity' : 'protocol'
  return new AttemptFailure(reason, `${what}: ${code || err.message}`, { code: code || undefined })
}

const ignore = (): void => {}

/**
 * Waits for `emitter` to emit `ok`, or rejects on `error`/`close`/abort. Destroys the socket on failure.
 */
function settle<T extends Socket>(sock: T, ok: string, signal: AbortSignal, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const cleanup = (): void => {
      sock.off(ok, onOk)
      sock.off('error', onErr)
      sock.off('close', onClose)
      signal.removeEventListener('abort', onAbort)
    }
    const fail = (e: Error): void => {
      cleanup()
      sock.on('error', ignore)
      sock.destroy()
      reject(e)
    }
    const onOk = (): void => {
      cleanup()
      // From here on the caller owns the socket, but an 'error' it does not listen for (a TLS alert or a record error
      // right after the handshake, e.g. ERR_SSL_TOO_LONG on a malformed certificate) must not become an uncaught
      // exception: the socket keeps a listener for its whole life. Callers that read from it add their own.
      sock.on('error', ignore)
      resolve(sock)
    }
    const onErr = (e: NodeJS.ErrnoException): void => fail(sockError(e, what))
    const onClose = (): void => fail(new AttemptFailure('protocol', `${what}: connection closed before ${ok === 'secureConnect' ? 'the TLS handshake completed' : 'it was established'}`))
    const onAbort = (): void => fail(abortReason(signal, what))
    if (signal.aborted) return onAbort()
    sock.once(ok, onOk)
    sock.once('error', onErr)
    sock.once('close', onClose)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

/** Opens a TCP connection. Rejects with `AttemptFailure` (connectivity, timeout, aborted). */
export async function tcpConnect(host: string, port: number, opts: IoOptions = {}): Promise<Socket> {
  const d = deadline(opts.signal, opts.timeoutMs)
  const sock = createConnection({ host, port })
  const s = await settle(sock, 'connect', d.signal, `tcp ${hostPort(host, port)}`).finally(d.clear)
  // A loopback connect can pick the probed port as its own source port and connect to itself (TCP self-connect):
  // that is not a listening service.
  if (selfConnected(s, port)) {
    s.destroy()
    throw new AttemptFailure('connectivity', `tcp ${hostPort(host, port)}: self-connect, nothing listens`)
  }
  return s
}

export { PortScan, type ProbePool, type ProbeResult, type ScanEngine } from './port-scan.ts'

/**
 * One TCP connect as a port probe, made for scanning tens of thousands of ports: one socket, one timer, no Error objects
 * of ours, no signal plumbing (the caller destroys `live` sockets on abort). Open = connected (not a loopback
 * self-connect); closed = refused; filtered = no answer in time, unreachable or reset.
 */
export function tcpProbe(host: string, port: number, timeoutMs: number, pool?: ProbePool): Promise<ProbeResult> {
  const live = pool?.live
  return new Promise((resolve) => {
    const sock = createConnection({ host, port })
    live?.add(sock)
    let done = false
    const finish = (r: ProbeResult): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      live?.delete(sock)
      sock.destroy()
      resolve(r)
    }
    const timer = setTimeout(() => finish('filtered'), timeoutMs)
    sock.once('connect', () => {
      if (selfConnected(sock, port, pool)) return finish('closed')
      pool?.opened.set(sock.localPort ?? 0, port)
      finish('open')
    })
    sock.once('error', (e: NodeJS.ErrnoException) => finish(probeVerdict(e.code ?? 'EUNKNOWN')))
    // Destroyed by the caller (abort) before anything happened.
    sock.once('close', () => finish('filtered'))
  })
}

/** Completes a TLS handshake. The caller must `destroy()` the socket. */
export async function tlsHandshake(options: ConnectionOptions & { host: string; port: number }, opts: IoOptions = {}): Promise<TLSSocket> {
  const d = deadline(opts.signal, opts.timeoutMs)
  const servername = options.servername ?? (isIP(options.host) ? undefined : options.host)
  const sock = tls().connect({ ...options, servername, rejectUnauthorized: false })
  return settle(sock, 'secureConnect', d.signal, `tls ${hostPort(options.host, options.port)}`).finally(d.clear)
}

/** Result of an HTTP GET. */
export interface HttpResult {
  readonly status: number
  readonly headers: IncomingMessage['headers']
  readonly body: Buffer
  readonly url: string
}

/**
 * GETs a URL with a size cap. Redirects are followed only to the same origin (at most 3); a cross-host redirect is an error.
 */
export async function httpGet(url: string, opts: IoOptions & HttpOptions = {}): Promise<HttpResult> {
  const d = deadline(opts.signal, opts.timeoutMs)
  try {
    return await httpGetWithin(url, opts, d.signal)
  } finally {
    d.clear()
  }
}

/** Options of `httpGet` / `httpPost`. */
export interface HttpOptions {
  readonly maxBytes?: number
  readonly headers?: Record<string, string>
  readonly ca?: string | Buffer
}

/** POSTs `body` (e.g. an OCSP request) with the same caps and redirect rule as `httpGet` (a redirect is followed with GET only for 303). */
export async function httpPost(url: string, body: Buffer, opts: IoOptions & HttpOptions = {}): Promise<HttpResult> {
  const d = deadline(opts.signal, opts.timeoutMs)
  try {
    return await httpGetWithin(url, opts, d.signal, body)
  } finally {
    d.clear()
  }
}

async function httpGetWithin(url: string, opts: HttpOptions, signal: AbortSignal, body?: Buffer): Promise<HttpResult> {
  const maxBytes = opts.maxBytes ?? 1_000_000
  let current = new URL(url)
  const origin = current.origin
  for (let hop = 0; hop < 4; hop++) {
    if (current.protocol !== 'http:' && current.protocol !== 'https:') throw new AttemptFailure('input', `GET ${url}: unsupported scheme ${current.protocol}`)
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const post = body !== undefined && hop === 0
      const req = (current.protocol === 'https:' ? https().request : http().request)(current, { method: post ? 'POST' : 'GET', signal, headers: { accept: 'application/json', ...opts.headers, ...(post ? { 'content-length': String(body.length) } : {}) }, ca: opts.ca })
      req.once('response', resolve)
      req.once('error', (e: NodeJS.ErrnoException) => reject(signal.aborted ? abortReason(signal, `GET ${current.href}`) : sockError(e, `GET ${current.href}`)))
      req.end(post ? body : undefined)
    })
    if (res.statusCode && res.statusCode >= 300 && res.statusCode < 400 && res.headers.location) {
      res.resume()
      const next = new URL(res.headers.location, current)
      if (next.origin !== origin) throw new AttemptFailure('protocol', `GET ${url}: refused redirect to another origin (${next.origin})`)
      if (hop === 3) throw new AttemptFailure('protocol', `GET ${url}: too many redirects`)
      current = next
      continue
    }
    return { status: res.statusCode ?? 0, headers: res.headers, body: await readBody(res, maxBytes, signal, `GET ${current.href}`), url: current.href }
  }
  throw new AttemptFailure('protocol', `GET ${url}: too many redirects`)
}

/** A response's body, at most `maxBytes` (beyond: the response is destroyed, `protocol`); `what` names it in errors. */
export async function readBody(res: IncomingMessage, maxBytes: number, signal: AbortSignal, what: string): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) {
      size += chunk.length
      if (size > maxBytes) {
        res.destroy()
        throw new AttemptFailure('protocol', `${what}: response larger than ${maxBytes} bytes`)
      }
      chunks.push(chunk)
    }
  } catch (err) {
    if (err instanceof AttemptFailure) throw err
    throw signal.aborted ? abortReason(signal, what) : sockError(err as NodeJS.ErrnoException, what)
  }
  return Buffer.concat(chunks)
}

/** Reads at most `maxBytes` of a regular file (bounded by bytes read; devices, FIFOs, directories are `input` errors). */
export { readFileCapped }

/** The helpers as handed to a check, bound to its signal and timeouts. */
export interface NetHelpers {
  /** A connect scan of many ports (see `PortScan`): run its lanes under `ctx.sockets`; sockets close when the attempt ends. */
  portScan(host: string, ports: readonly number[], timeoutMs?: number, onProbed?: (probed: number) => void): PortScan
  /** A lean port probe for scans (see `tcpProbe`); sockets still open when the attempt ends are destroyed. */
  tcpProbe(host: string, port: number, timeoutMs?: number): Promise<ProbeResult>
  tcpConnect(host: string, port: number, timeoutMs?: number): Promise<Socket>
  /** `stop`: the caller's own signal that ends the handshake early (the answer came from elsewhere), beside the attempt's. */
  tlsHandshake(options: ConnectionOptions & { host: string; port: number }, timeoutMs?: number, stop?: AbortSignal): Promise<TLSSocket>
  httpGet(url: string, opts?: HttpOptions & { timeoutMs?: number }): Promise<HttpResult>
  httpPost(url: string, body: Buffer, opts?: HttpOptions & { timeoutMs?: number }): Promise<HttpResult>
  readFile(path: string, maxBytes?: number): Promise<Buffer>
  /** Streams a regular file in chunks (see `streamFileCapped`; default cap 16 GiB): for exports too large to hold whole. */
  readStream(path: string, maxBytes?: number): AsyncIterable<Buffer>
  /** Any method with headers and a body, bounded (see `httpRequest`); no redirect is followed. */
  httpRequest(url: string, opts?: Omit<HttpRequestOptions, 'signal'>): Promise<HttpResult>
}

/**
 * Runs `call` under a signal that aborts when `signal` or `stop` does (no `stop`: `signal` itself); the listeners are
 * removed once the call settles.
 */
export function withStop<T>(signal: AbortSignal, stop: AbortSignal | undefined, call: (s: AbortSignal) => Promise<T>): Promise<T> {
  if (!stop) return call(signal)
  const ac = new AbortController()
  const abort = (): void => ac.abort(signal.aborted ? signal.reason : stop.reason)
  if (signal.aborted || stop.aborted) abort()
  else {
    signal.addEventListener('abort', abort, { once: true })
    stop.addEventListener('abort', abort, { once: true })
  }
  return call(ac.signal).finally(() => {
    signal.removeEventListener('abort', abort)
    stop.removeEventListener('abort', abort)
  })
}

/** Binds the helpers to an attempt's signal and connect timeout. */
export function bindNet(signal: AbortSignal, connectTimeoutMs: number): NetHelpers {
  const pool: ProbePool = { live: new Set<Socket>(), opened: new Map() }
  signal.addEventListener('abort', () => {
    for (const s of pool.live) s.destroy()
  }, { once: true })
  return {
    portScan: (host, ports, t, onProbed) => new PortScan(host, ports, t ?? connectTimeoutMs, pool, signal, onProbed),
    tcpProbe: (host, port, t) => (signal.aborted ? Promise.resolve('filtered' as const) : tcpProbe(host, port, t ?? connectTimeoutMs, pool)),
    tcpConnect: (host, port, t) => tcpConnect(host, port, { signal, timeoutMs: t ?? connectTimeoutMs }),
    tlsHandshake: (o, t, stop) => withStop(signal, stop, (s) => tlsHandshake(o, { signal: s, timeoutMs: t ?? connectTimeoutMs })),
    httpGet: (url, o) => httpGet(url, { ...o, signal, timeoutMs: o?.timeoutMs ?? connectTimeoutMs }),
    httpPost: (url, body, o) => httpPost(url, body, { ...o, signal, timeoutMs: o?.timeoutMs ?? connectTimeoutMs }),
    readFile: (path, max) => readFileCapped(path, max),
    readStream: (path, max) => streamFileCapped(path, max ?? MAX_STREAM_BYTES, signal),
    httpRequest: (url, o) => boundedRequest(url, { ...o, signal, timeoutMs: o?.timeoutMs ?? connectTimeoutMs }),
  }
}
