/**
 * @fileoverview One bounded HTTP request of any method (API clients: token endpoints take a POST, APIs want headers).
 * Honours a signal and a timeout (for the whole exchange, body included), caps the response body, follows no redirect
 * (a 3xx is returned to the caller), and never puts a header or the request body into an error message.
 */
import type { IncomingMessage } from 'node:http'
import { lazyRequire } from '../lib-lazy.ts'
import { AttemptFailure } from '../errors.ts'
import { abortReason, deadline, readBody, sockError, type HttpResult, type IoOptions } from './index.ts'

// Loaded on first use (src/net/index.ts does the same).
const http = lazyRequire<typeof import('node:http')>('node:http')
const https = lazyRequire<typeof import('node:https')>('node:https')

/** What `httpRequest` takes besides the URL. */
export interface HttpRequestOptions extends IoOptions {
  readonly method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD'
  readonly headers?: Readonly<Record<string, string>>
  readonly body?: string | Buffer
  /** Response bytes beyond which the request fails (`protocol`); default 1 MB. */
  readonly maxBytes?: number
  readonly ca?: string | Buffer
}

/**
 * Sends one request and reads the response, at most `maxBytes` of body. Messages name the method and the URL without its
 * query (a query may hold a cursor or, in badly written APIs, a key).
 */
export async function httpRequest(url: string, opts: HttpRequestOptions = {}): Promise<HttpResult> {
  const method = opts.method ?? 'GET'
  const u = new URL(url)
  const what = `${method} ${u.origin}${u.pathname}`
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new AttemptFailure('input', `${what}: unsupported scheme ${u.protocol}`)
  const maxBytes = opts.maxBytes ?? 1_000_000
  const d = deadline(opts.signal, opts.timeoutMs)
  const signal = d.signal
  try {
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const headers: Record<string, string> = { accept: 'application/json', ...opts.headers }
      if (opts.body !== undefined) headers['content-length'] = String(Buffer.byteLength(opts.body))
      const req = (u.protocol === 'https:' ? https().request : http().request)(u, { method, signal, headers, ca: opts.ca })
      req.once('response', resolve)
      req.once('error', (e: NodeJS.ErrnoException) => reject(signal.aborted ? abortReason(signal, what) : sockError(e, what)))
      req.end(opts.body)
    })
    return { status: res.statusCode ?? 0, headers: res.headers, body: await readBody(res, maxBytes, signal, what), url: u.href }
  } finally {
    d.clear()
  }
}
