/**
 * @fileoverview The AWS Query protocol (IAM, STS): form-encoded POSTs (`Action=…&Version=…`) through the context's
 * bounded `httpRequest`, signed with SigV4 (`aws-sigv4.ts`) or unsigned (STS AssumeRoleWithWebIdentity), XML answers read
 * with saxes (a linear, non-backtracking parser; no DTD, no entity beyond XML's five) into the JSON shapes the AWS CLI
 * prints (`member` lists → arrays, `SummaryMap` entries → an object), so live answers feed the readers of the CLI's files.
 *
 * Throttling (HTTP 429/503, or AWS's `Throttling` / `RequestLimitExceeded` codes on a 400) is retried after `Retry-After`
 * or a backoff, within the shared client's limits (5 retries, 120 s of waiting in all); an expired credential
 * (`ExpiredToken`, `InvalidClientTokenId`, `RequestExpired` on 400/403) is renewed once through the credential chain.
 * Messages name the service, the endpoint and the action, with AWS's error code when it is a plain word — never a
 * header, a body, a key, a token or a signature.
 */
import type { SaxesTagPlain } from 'saxes'
import { AttemptFailure } from '../../../src/errors.ts'
import { lazyRequire } from '../../../src/lib-lazy.ts'
import type { HttpResult } from '../../../src/net/index.ts'
import { ApiFailure, DEFAULT_LIMITS, retryAfterMs, shortUrl, ThrottleBudget, type ClientLimits, type Transport } from './client.ts'
import { signV4, type AwsKeys } from './aws-sigv4.ts'

const saxes = lazyRequire<typeof import('saxes')>('saxes')

type Json = Record<string, unknown>

/** XML nesting beyond which an answer is refused (IAM answers nest about 8 deep). */
const MAX_XML_DEPTH = 32
/** Elements whose empty form is an empty list (`<GroupList/>`), as the CLI prints them. */
const LIST_NAME = /(List|Policies|Tags)$/
/** Leaf elements that are booleans in the CLI's JSON. */
const BOOLEANS = new Set(['IsTruncated', 'IsDefaultVersion', 'IsAttachable'])

interface Frame {
  readonly name: string
  obj?: Json
  list?: unknown[]
  map?: Json
  key?: string
  value?: unknown
  text: string
}

/**
 * An AWS Query XML document → `{ [rootName]: value }` in the CLI's JSON shapes. `<member>` children make an array,
 * `<entry><key/><value/></entry>` children an object (numbers where the value is an integer), leaves are strings
 * (`true`/`false` for the known booleans). Throws `AttemptFailure('protocol')` on malformed XML, a DOCTYPE, or nesting
 * deeper than 32.
 */
export function parseAwsXml(xml: string, what: string): Json {
  const parser = new (saxes().SaxesParser)({ xmlns: false })
  const root: Frame = { name: '#root', text: '' }
  const stack: Frame[] = [root]
  let failure: string | undefined
  parser.on('doctype', () => {
    failure ??= 'a DOCTYPE is not accepted'
  })
  parser.on('opentag', (tag: SaxesTagPlain) => {
    if (stack.length > MAX_XML_DEPTH) failure ??= `more than ${MAX_XML_DEPTH} levels of nesting`
    stack.push({ name: tag.name.includes(':') ? tag.name.slice(tag.name.indexOf(':') + 1) : tag.name, text: '' })
  })
  parser.on('text', (t: string) => {
    const top = stack[stack.length - 1]!
    if (top !== root) top.text += t
  })
  parser.on('closetag', () => {
    const f = stack.pop()!
    const parent = stack[stack.length - 1]!
    let value: unknown
    if (f.list) value = f.list
    else if (f.map) value = f.map
    else if (f.obj) value = f.obj
    else if (LIST_NAME.test(f.name) && !f.text.trim()) value = []
    else if (BOOLEANS.has(f.name) && (f.text === 'true' || f.text === 'false')) value = f.text === 'true'
    else value = f.text
    if (f.name === 'member') (parent.list ??= []).push(value)
    else if (f.name === 'entry' && f.key !== undefined) {
      const v = f.value
      ;(parent.map ??= Object.create(null) as Json)[f.key] = typeof v === 'string' && /^-?\d{1,15}$/.test(v) ? Number(v) : v
    } else if (parent.name === 'entry' && f.name === 'key' && typeof value === 'string') parent.key = value
    else if (parent.name === 'entry' && f.name === 'value') parent.value = value
    else (parent.obj ??= Object.create(null) as Json)[f.name] = value
  })
  try {
    parser.write(xml).close()
  } catch (err) {
    throw new AttemptFailure('protocol', `${what}: the response is not well-formed XML (${String((err as Error).message).split('\n')[0]!.slice(0, 120)})`)
  }
  if (failure) throw new AttemptFailure('protocol', `${what}: ${failure}`)
  return root.obj ?? {}
}

const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)

/** AWS's error code of an `<ErrorResponse>` (or `<Response><Errors>`) body, when it is a plain word. */
export function awsErrorCode(body: Buffer): string | undefined {
  let doc: Json
  try {
    doc = parseAwsXml(body.toString('utf8'), 'error')
  } catch {
    return undefined
  }
  const er = isObj(doc.ErrorResponse) ? doc.ErrorResponse.Error : isObj(doc.Response) && isObj(doc.Response.Errors) ? doc.Response.Errors.Error : undefined
  const code = isObj(er) ? er.Code : undefined
  // AWS's codes are words (`Throttling`, `AccessDenied`, `InvalidClientTokenId`): letters only, so an echoed key or
  // token (which has digits) is not taken for one.
  return typeof code === 'string' && /^[A-Za-z]{2,64}(\.[A-Za-z]{2,64})?$/.test(code) ? code : undefined
}

const THROTTLING = new Set(['Throttling', 'ThrottlingException', 'RequestLimitExceeded', 'TooManyRequestsException', 'RequestThrottled', 'SlowDown'])
const EXPIRED = new Set(['ExpiredToken', 'ExpiredTokenException', 'InvalidClientTokenId', 'RequestExpired', 'TokenRefreshRequired', 'SignatureDoesNotMatch'])

/** One Query API endpoint (IAM or STS). */
export interface QueryOptions {
  /** Name in messages (`AWS IAM`). */
  readonly vendor: string
  readonly endpoint: string
  readonly version: string
  /** SigV4 scope; unsigned when `keys` is absent. */
  readonly region: string
  readonly service: string
  readonly transport: Transport
  readonly signal?: AbortSignal
  /** The credential; `refresh` asks the chain for a new one (after an expired-credential answer). */
  readonly keys?: (refresh: boolean) => Promise<AwsKeys>
  readonly limits?: Partial<ClientLimits>
  /** The permissions the calls need, named in an AccessDenied message. */
  readonly permissions?: string
}

/** A Query API client: `call(action, params)` → the action's `…Result` element in JSON shapes. */
export class AwsQuery {
  readonly limits: ClientLimits
  readonly stats = { requests: 0, throttled: 0, renewed: 0 }
  private readonly budget: ThrottleBudget
  private readonly o: QueryOptions

  constructor(o: QueryOptions) {
    this.o = o
    this.limits = { ...DEFAULT_LIMITS, ...o.limits }
    this.budget = new ThrottleBudget(this.limits, this.stats, o.signal)
  }

  async call(action: string, params: Readonly<Record<string, string>> = {}): Promise<Json> {
    const res = await this.send(action, params)
    const what = `${this.o.vendor}: ${action}`
    const doc = parseAwsXml(res.body.toString('utf8'), what)
    const top = doc[`${action}Response`]
    if (!isObj(top)) throw new AttemptFailure('protocol', `${what}: expected a <${action}Response> answer`)
    const result = top[`${action}Result`]
    return isObj(result) ? result : {}
  }

  private async send(action: string, params: Readonly<Record<string, string>>): Promise<HttpResult> {
    const url = this.o.endpoint.endsWith('/') ? this.o.endpoint : `${this.o.endpoint}/`
    const what = `${this.o.vendor}: POST ${shortUrl(url)} ${action}`
    const body = new URLSearchParams({ Action: action, Version: this.o.version, ...params }).toString()
    let refreshed = false
    for (let attempt = 0; ; attempt++) {
      if (this.o.signal?.aborted) throw new AttemptFailure('aborted', `${what}: aborted`)
      const base = { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', accept: 'text/xml' }
      const headers = this.o.keys
        ? signV4({ method: 'POST', url, headers: base, body, region: this.o.region, service: this.o.service, keys: await this.o.keys(refreshed) })
        : base
      this.stats.requests++
      const res = await this.o.transport(url, { method: 'POST', headers, body, maxBytes: this.limits.maxPageBytes, timeoutMs: this.limits.requestTimeoutMs })
      if (res.status >= 200 && res.status < 300) return res
      const code = awsErrorCode(res.body)
      // A code that repeats part of the request (a hostile endpoint echoing a token) is not shown.
      const shown = code && !body.includes(code) && !Object.values(headers).some((v) => v.includes(code)) ? code : undefined
      const status = `HTTP ${res.status}${shown ? ` ${shown}` : ''}`
      if (res.status === 429 || res.status === 503 || (code && THROTTLING.has(code))) {
        await this.budget.wait(what, status, res.status, retryAfterMs(res.headers['retry-after']), attempt)
        continue
      }
      const expired = (res.status === 401 || res.status === 403 || res.status === 400) && code !== undefined && EXPIRED.has(code)
      if (expired && this.o.keys && !refreshed) {
        refreshed = true
        this.stats.renewed++
        continue
      }
      if (expired || res.status === 401) throw new ApiFailure('input', `${what}: ${status}: the credential was rejected (expired, revoked or for another partition?)`, res.status)
      if (res.status === 403) throw new ApiFailure('input', `${what}: ${status}: the credential lacks a permission this call needs${this.o.permissions ? ` (needed: ${this.o.permissions})` : ''}`, res.status)
      throw new ApiFailure(res.status === 404 || res.status === 410 ? 'input' : 'protocol', `${what}: ${status}`, res.status)
    }
  }
}
