/**
 * @fileoverview The small REST client the live identity connectors share: JSON GETs and form POSTs through the context's
 * bounded `httpRequest`, paging (`@odata.nextLink`, `Link: <…>; rel="next"` with Okta's `after` cursors and GitHub's
 * `page`, `_links.next.href`), throttling (429/503 with `Retry-After`, bounded retries with backoff inside a total wait
 * budget), one token refresh on a 401, a byte cap per page and a page cap per list. Every next link must stay on the
 * API's origin (a server cannot send the bearer token elsewhere). Messages name the vendor, the method and the path —
 * never a header, a body, a query or a token.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { AttemptFailure } from '../../../src/errors.ts'
import type { HttpResult } from '../../../src/net/index.ts'
import type { HttpRequestOptions } from '../../../src/net/http.ts'

/** The transport: `ctx.net.httpRequest` (bound to the attempt's signal). */
export type Transport = (url: string, opts?: Omit<HttpRequestOptions, 'signal'>) => Promise<HttpResult>

/** Limits of one client; the defaults suit a tenant of a few hundred thousand users. */
export interface ClientLimits {
  /** Bytes one response may have (default 16 MiB: a Graph page of 999 users is about 1 MB). */
  readonly maxPageBytes: number
  /** Pages one list may have (default 20,000). */
  readonly maxPages: number
  /** Retries of one request after 429/503 (default 5). */
  readonly maxRetries: number
  /** Milliseconds all waits on throttling may add up to over the client's life (default 120 s). */
  readonly retryBudgetMs: number
  /** Milliseconds one request may take (default 60 s). */
  readonly requestTimeoutMs: number
}

export const DEFAULT_LIMITS: ClientLimits = { maxPageBytes: 16 * 1024 * 1024, maxPages: 20_000, maxRetries: 5, retryBudgetMs: 120_000, requestTimeoutMs: 60_000 }

/** How a list says where its next page is. */
export type Paging = 'odata' | 'link' | 'links-next'

type Json = Record<string, unknown>
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)

/** `https://host/path` of a URL, for messages (no query: cursors, skip tokens). */
export function shortUrl(url: string): string {
  try {
    const u = new URL(url)
    return `${u.origin}${u.pathname}`
  } catch {
    return '(invalid URL)'
  }
}

/**
 * A base URL from settings: http(s), no credentials in it, and plain http only to a loopback address (a bearer token
 * never crosses a network unencrypted). Returns it without a trailing slash.
 */
export function baseUrl(value: string, setting: string): string {
  let u: URL
  try {
    u = new URL(value)
  } catch {
    throw new AttemptFailure('input', `${setting}: expected an https:// URL`)
  }
  if (u.username || u.password) throw new AttemptFailure('input', `${setting}: a URL must not hold credentials`)
  const host = u.hostname.replace(/^\[|\]$/g, '')
  const loopback = /^127\.\d+\.\d+\.\d+$/.test(host) || host === '::1' || host === 'localhost'
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && loopback)) throw new AttemptFailure('input', `${setting}: expected an https:// URL (plain http only to a loopback address)`)
  if (u.search || u.hash) throw new AttemptFailure('input', `${setting}: expected a URL without ?query or #fragment`)
  return u.href.replace(/\/+$/, '')
}

/** Seconds or an HTTP date → milliseconds from now (undefined when absent or unreadable). */
export function retryAfterMs(v: string | string[] | undefined, now = Date.now()): number | undefined {
  const s = Array.isArray(v) ? v[0] : v
  if (!s) return undefined
  const t = s.trim()
  if (/^\d{1,9}$/.test(t)) return Number(t) * 1000
  const at = Date.parse(t)
  return Number.isNaN(at) ? undefined : Math.max(0, at - now)
}

/** The `rel="next"` target of a `Link` header (RFC 8288), or undefined. Linear: split on commas, no backtracking. */
export function nextFromLink(header: string | string[] | undefined): string | undefined {
  const h = Array.isArray(header) ? header.join(',') : header
  if (!h || h.length > 64 * 1024) return undefined
  for (const part of h.split(',')) {
    const open = part.indexOf('<')
    const close = part.indexOf('>', open + 1)
    if (open < 0 || close < 0) continue
    const params = part.slice(close + 1).split(';')
    if (params.some((p) => /^\s*rel\s*=\s*"?([^"]*)"?\s*$/i.exec(p)?.[1]?.split(/\s+/).includes('next'))) return part.slice(open + 1, close).trim()
  }
  return undefined
}

/** A failed HTTP exchange: its status, for callers that tell 404 from 403. */
export class ApiFailure extends AttemptFailure {
  readonly status: number
  constructor(reason: ConstructorParameters<typeof AttemptFailure>[0], message: string, status: number) {
    super(reason, message)
    this.status = status
  }
}

/**
 * Error codes shown in messages: words joined by `_ . : -` (Graph `Authorization_RequestDenied`, OAuth `invalid_grant`) or
 * Okta's `E0000011`. Nothing else: an API (or a proxy) that echoes a token as its error code must not put it in a
 * message, and tokens carry digits (`ghs_…`, Okta's `00…`) or are longer than 64 characters (JWTs).
 */
const CODE = /^(?:[A-Za-z]{1,40}(?:[_.:-][A-Za-z]{1,40}){0,5}|E[0-9]{7})$/

/** A vendor error code from a JSON error body (Graph `error.code`, OAuth `error`, Okta `errorCode`), when it is a plain word. */
export function vendorCode(body: Buffer): string | undefined {
  let j: unknown
  try {
    j = JSON.parse(body.toString('utf8'))
  } catch {
    return undefined
  }
  if (!isObj(j)) return undefined
  const c = isObj(j.error) ? j.error.code : j.error ?? j.errorCode
  return typeof c === 'string' && c.length <= 64 && CODE.test(c) ? c : undefined
}

/** What a client needs to talk to one API. */
export interface ClientOptions {
  /** Vendor name in messages (`Microsoft Graph`). */
  readonly vendor: string
  /** The API's base URL (next links must stay on its origin). */
  readonly base: string
  readonly transport: Transport
  readonly signal: AbortSignal
  /** The `Authorization` header value; `refresh` asks for a new token (after a 401). */
  readonly authorization: (refresh: boolean) => Promise<string>
  readonly headers?: Readonly<Record<string, string>>
  readonly limits?: Partial<ClientLimits>
  /** The permissions or scopes the calls need, named in a 403's message. */
  readonly permissions?: string
  /** Sender-constrained tokens (DPoP): headers proving possession of the key, per request (method, URL, `Authorization`). */
  readonly proof?: (method: string, url: string, authorization: string) => Promise<Readonly<Record<string, string>>>
  /** A 401 asking for a DPoP nonce: keeps it and says whether one more try is worth it. */
  readonly nonce?: (url: string, res: HttpResult) => boolean
}

/** The retries and waiting one client may spend on throttled answers (its limits' `maxRetries` and `retryBudgetMs`). */
export class ThrottleBudget {
  #waitedMs = 0
  private readonly limits: Pick<ClientLimits, 'maxRetries' | 'retryBudgetMs'>
  private readonly stats: { throttled: number }
  private readonly signal: AbortSignal | undefined
  constructor(limits: Pick<ClientLimits, 'maxRetries' | 'retryBudgetMs'>, stats: { throttled: number }, signal: AbortSignal | undefined) {
    this.limits = limits
    this.stats = stats
    this.signal = signal
  }

  /** Waits out a throttled answer (`Retry-After`, else backoff) within the retry count and budget, or throws a timeout. */
  async wait(what: string, status: string, code: number, hinted: number | undefined, attempt: number): Promise<void> {
    const wait = hinted ?? Math.min(30_000, 500 * 2 ** attempt)
    const left = this.limits.retryBudgetMs - this.#waitedMs
    if (attempt >= this.limits.maxRetries) throw new ApiFailure('timeout', `${what}: ${status}: still throttled after ${attempt} retries`, code)
    if (wait > left) throw new ApiFailure('timeout', `${what}: ${status}: throttled for ${Math.ceil(wait / 1000)} s, beyond the ${Math.ceil(left / 1000)} s left of the retry budget`, code)
    this.#waitedMs += wait
    this.stats.throttled++
    try {
      await sleep(wait, undefined, { signal: this.signal })
    } catch {
      throw new AttemptFailure('aborted', `${what}: aborted while throttled`)
    }
  }
}

/** A JSON API client (one per attempt). */
export class ApiClient {
  readonly limits: ClientLimits
  private readonly budget: ThrottleBudget
  private readonly origin: string
  /** Requests sent, retries after throttling: figures for logs and tests. */
  readonly stats = { requests: 0, throttled: 0 }

  private readonly o: ClientOptions

  constructor(o: ClientOptions) {
    this.o = o
    this.limits = { ...DEFAULT_LIMITS, ...o.limits }
    this.budget = new ThrottleBudget(this.limits, this.stats, o.signal)
    this.origin = new URL(o.base).origin
  }

  /** GETs `pathOrUrl` (relative to the base, or an absolute URL on its origin) and parses the JSON body. */
  async get(pathOrUrl: string): Promise<{ json: unknown; headers: HttpResult['headers'] }> {
    const url = this.resolve(pathOrUrl)
    const res = await this.send(url)
    return { json: this.parse(res, url), headers: res.headers }
  }

  /**
   * Every item of a paged list, page by page (each page's items as an array; earlier pages are not kept). `items` picks
   * the array out of a page (default: `value` of an object, or the page itself when it is an array).
   */
  async *pages(pathOrUrl: string, paging: Paging, items: (page: unknown) => unknown = defaultItems): AsyncGenerator<unknown[]> {
    let url: string | undefined = this.resolve(pathOrUrl)
    const seen = new Set<string>()
    for (let n = 0; url; n++) {
      if (n >= this.limits.maxPages) throw new AttemptFailure('incomplete', `${this.o.vendor}: GET ${shortUrl(url)}: more than ${this.limits.maxPages} pages`)
      if (seen.has(url)) throw new AttemptFailure('protocol', `${this.o.vendor}: GET ${shortUrl(url)}: the next link repeats an earlier page`)
      seen.add(url)
      const res = await this.send(url)
      const json = this.parse(res, url)
      const list = items(json)
      if (!Array.isArray(list)) throw new AttemptFailure('protocol', `${this.o.vendor}: GET ${shortUrl(url)}: expected a list of items in the response`)
      const next: unknown = paging === 'odata' ? (isObj(json) ? json['@odata.nextLink'] : undefined)
        : paging === 'link' ? nextFromLink(res.headers.link)
        : isObj(json) && isObj(json._links) && isObj(json._links.next) ? json._links.next.href : undefined
      if (next !== undefined && next !== null && typeof next !== 'string') throw new AttemptFailure('protocol', `${this.o.vendor}: GET ${shortUrl(url)}: the next link is not a string`)
      url = next ? this.resolve(next) : undefined
      yield list
    }
  }

  /** POSTs a JSON body (GraphQL) with the client's authorization and parses the JSON answer. */
  async post(pathOrUrl: string, body: unknown): Promise<{ json: unknown; headers: HttpResult['headers'] }> {
    const url = this.resolve(pathOrUrl)
    const res = await this.send(url, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } })
    return { json: this.parse(res, url), headers: res.headers }
  }

  /** An absolute URL on the API's origin. */
  private resolve(pathOrUrl: string): string {
    const abs = /^https?:\/\//i.test(pathOrUrl)
    const url = abs ? new URL(pathOrUrl) : new URL(this.o.base + (pathOrUrl.startsWith('/') ? '' : '/') + pathOrUrl)
    if (url.origin !== this.origin) throw new AttemptFailure('protocol', `${this.o.vendor}: refused a link to another origin (${url.origin}; the API is ${this.origin})`)
    return url.href
  }

  private parse(res: HttpResult, url: string): unknown {
    try {
      return JSON.parse(res.body.toString('utf8'))
    } catch {
      throw new AttemptFailure('protocol', `${this.o.vendor}: ${shortUrl(url)}: the response is not JSON`)
    }
  }

  /** One request with throttling retries and one re-authentication after a 401. */
  private async send(url: string, req: { method?: 'GET' | 'POST'; body?: string; headers?: Record<string, string> } = {}, auth = true): Promise<HttpResult> {
    const method = req.method ?? 'GET'
    const what = `${this.o.vendor}: ${method} ${shortUrl(url)}`
    let refreshed = false
    let nonced = false
    for (let attempt = 0; ; attempt++) {
      if (this.o.signal.aborted) throw new AttemptFailure('aborted', `${what}: aborted`)
      const headers: Record<string, string> = { ...this.o.headers, ...req.headers }
      if (auth) {
        try {
          headers.authorization = await this.o.authorization(refreshed)
        } catch (err) {
          // The token endpoint is throttled: wait it out within the same bounds, then ask for the token again.
          if (!(err instanceof Throttled)) throw err
          await this.budget.wait(err.where, err.statusText, err.status, err.waitMs, attempt)
          continue
        }
        if (this.o.proof) Object.assign(headers, await this.o.proof(method, url, headers.authorization))
      }
      this.stats.requests++
      const res = await this.o.transport(url, { method, headers, body: req.body, maxBytes: this.limits.maxPageBytes, timeoutMs: this.limits.requestTimeoutMs })
      if (res.status >= 200 && res.status < 300) return res
      const code = vendorCode(res.body)
      const status = `HTTP ${res.status}${code ? ` ${code}` : ''}`
      if (res.status === 401 && auth && !nonced && this.o.nonce?.(url, res)) {
        nonced = true
        continue
      }
      if (res.status === 401 && auth && !refreshed) {
        refreshed = true
        continue
      }
      if (res.status === 401) throw new ApiFailure('input', `${what}: ${status}: the credential was rejected (expired or revoked?)`, 401)
      if (res.status === 403) throw new ApiFailure('input', `${what}: ${status}: the credential lacks a permission this call needs${this.o.permissions ? ` (needed: ${this.o.permissions})` : ''}`, 403)
      if (res.status === 429 || res.status === 503) {
        await this.budget.wait(what, status, res.status, retryAfterMs(res.headers['retry-after']), attempt)
        continue
      }
      throw new ApiFailure(res.status === 404 ? 'input' : 'protocol', `${what}: ${status}`, res.status)
    }
  }

}

/**
 * A token endpoint answered 429 or 503 (or GitHub's 403 with `Retry-After`): thrown by the credential, waited out by the
 * client that asked for the token (its retry count, budget and cancellation), then the token is asked for again — with a
 * fresh client assertion, since a `jti` must not be replayed.
 */
export class Throttled extends AttemptFailure {
  readonly where: string
  readonly statusText: string
  readonly status: number
  readonly waitMs: number | undefined
  constructor(where: string, res: HttpResult) {
    const code = vendorCode(res.body)
    const statusText = `HTTP ${res.status}${code ? ` ${code}` : ''}`
    super('timeout', `${where}: ${statusText}: throttled`)
    this.where = where
    this.statusText = statusText
    this.status = res.status
    this.waitMs = retryAfterMs(res.headers['retry-after'])
  }

  /** True when `res` is a throttling answer. */
  static is(res: HttpResult): boolean {
    return res.status === 429 || res.status === 503 || (res.status === 403 && res.headers['retry-after'] !== undefined)
  }
}

function defaultItems(page: unknown): unknown {
  return Array.isArray(page) ? page : isObj(page) ? page.value : undefined
}

/**
 * Pulls every page of a list into `onItems`; on a failure after some pages, returns what was read and the failure (the
 * caller turns it into an `incomplete` error naming what is missing, and judges what it has).
 */
export async function pullList(client: ApiClient, path: string, paging: Paging, onItems: (items: unknown[], offset: number) => void | Promise<void>, items?: (page: unknown) => unknown): Promise<{ pages: number; items: number; failure?: AttemptFailure }> {
  let pages = 0
  let count = 0
  const it = client.pages(path, paging, items)
  for (;;) {
    let r: IteratorResult<unknown[]>
    try {
      r = await it.next()
    } catch (err) {
      if (!(err instanceof AttemptFailure) || err.reason === 'aborted' || (err.reason === 'input' && pages === 0)) throw err
      return { pages, items: count, failure: err }
    }
    if (r.done) return { pages, items: count }
    // A record the reader refuses is an input error naming it, not a missing page.
    await onItems(r.value, count)
    pages++
    count += r.value.length
  }
}

/**
 * What a pull read and what it is missing: parts that fail are noted (the rest is still pulled and judged), and
 * `incomplete()` names them; when nothing at all could be read, the first failure is the attempt's.
 */
export class PullLog {
  readonly missing: string[] = []
  pages = 0
  private first: AttemptFailure | undefined

  /** A list's outcome (`pullList`). */
  note(what: string, r: { pages: number; items: number; failure?: AttemptFailure }): void {
    this.pages += r.pages
    if (r.failure) {
      this.first ??= r.failure
      this.missing.push(`${what}: the pages after page ${r.pages} (${r.items} read): ${r.failure.message}`)
    }
  }

  /** One part of the pull; a failure (not an abort, not a bug) is noted as missing. */
  async part(what: string, run: () => Promise<void>): Promise<boolean> {
    try {
      await run()
      return true
    } catch (err) {
      if (!(err instanceof AttemptFailure) || err.reason === 'aborted' || err.reason === 'bug') throw err
      this.first ??= err
      this.missing.push(`${what}: ${err.message}`)
      return false
    }
  }

  /** True when a part whose name starts with `prefix` is missing. */
  lacks(prefix: string): boolean {
    return this.missing.some((m) => m.startsWith(prefix))
  }

  /** The `incomplete` sentence, or undefined; throws the first failure when no page at all was read. */
  incomplete(id: string): string | undefined {
    if (!this.pages && this.first) throw this.first
    return this.missing.length ? `${id}: incomplete pull, judged what was read; missing ${this.missing.join('; ')}` : undefined
  }
}
