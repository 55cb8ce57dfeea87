/**
 * @fileoverview The live connectors' REST client against a loopback server: Link parsing, Retry-After in seconds and as a
 * date, the retry count and wait budget, cancellation while throttled, the byte cap per page, base URL rules, and
 * httpRequest's bounds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApiClient, baseUrl, nextFromLink, pullList, retryAfterMs, vendorCode } from '../../checks/mfa/live/client.ts'
import { httpRequest } from '../../src/net/http.ts'
import { AttemptFailure } from '../../src/errors.ts'
import { startFake, type FakeReply, type FakeServer } from '../helpers/vendor-fakes/server.ts'

let api: FakeServer
beforeAll(async () => {
  api = await startFake((r): FakeReply => {
    const page = Number(r.url.searchParams.get('page') ?? '1')
    if (r.url.pathname === '/big') return { json: { value: ['x'.repeat(5000)] } }
    if (r.url.pathname === '/loop') return { json: [1], headers: { link: `<${api.origin}/loop>; rel="next"` } }
    return { json: [page], headers: page < 3 ? { link: `<${api.origin}/list?page=${page + 1}>; rel="next", <${api.origin}/list?page=3>; rel="last"` } : {} }
  })
})
afterAll(() => api.stop())

const client = (o: { signal?: AbortSignal; limits?: Record<string, number> } = {}) =>
  new ApiClient({ vendor: 'Test API', base: api.origin, transport: (u, x) => httpRequest(u, { ...x, signal: o.signal }), signal: o.signal ?? new AbortController().signal, authorization: async () => 'Bearer t', limits: o.limits })

describe('vendor error codes in messages', () => {
  const body = (v: unknown): Buffer => Buffer.from(JSON.stringify(v))
  it('shows documented code shapes', () => {
    expect(vendorCode(body({ error: { code: 'Authorization_RequestDenied' } }))).toBe('Authorization_RequestDenied')
    expect(vendorCode(body({ error: 'invalid_grant' }))).toBe('invalid_grant')
    expect(vendorCode(body({ errorCode: 'E0000011' }))).toBe('E0000011')
  })
  it('never shows an echoed token as a code (GitHub installation token, Okta API token, a JWT, a word with digits)', () => {
    for (const echoed of ['ghs_16C7e42F292c6912E7710c838347Ae178B4a', '00QCjAl4MlV-WPXM-ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln', 'secret123']) {
      expect(vendorCode(body({ error: { code: echoed } }))).toBeUndefined()
      expect(vendorCode(body({ error: echoed }))).toBeUndefined()
      expect(vendorCode(body({ errorCode: echoed }))).toBeUndefined()
    }
  })
})

describe('live API client', () => {
  it('reads Link headers (several rels, quoted or not) and Retry-After (seconds or an HTTP date)', () => {
    expect(nextFromLink('<https://a/x?after=1>; rel="self", <https://a/x?after=2&limit=200>; rel="next"')).toBe('https://a/x?after=2&limit=200')
    expect(nextFromLink('<https://a/p?page=2>; rel=next')).toBe('https://a/p?page=2')
    expect(nextFromLink('<https://a/p?page=9>; rel="last"')).toBeUndefined()
    expect(nextFromLink(undefined)).toBeUndefined()
    expect(retryAfterMs('7')).toBe(7000)
    expect(retryAfterMs(new Date(Date.UTC(2026, 0, 1, 0, 0, 30)).toUTCString(), Date.UTC(2026, 0, 1))).toBe(30_000)
    expect(retryAfterMs('soon')).toBeUndefined()
  })

  it('follows Link rel="next" across three pages; a page repeating itself is refused', async () => {
    const seen: unknown[] = []
    const r = await pullList(client(), '/list', 'link', (items) => {
      seen.push(...items)
    })
    expect(r).toEqual({ pages: 3, items: 3 })
    expect(seen).toEqual([1, 2, 3])
    const loop = await pullList(client(), '/loop', 'link', () => {})
    expect(loop.failure?.message).toMatch(/the next link repeats an earlier page/)
  })

  it('caps the bytes of a page', async () => {
    await expect(client({ limits: { maxPageBytes: 1000 } }).get('/big')).rejects.toThrow(/response larger than 1000 bytes/)
  })

  it('gives up after maxRetries throttled answers; an abort while waiting ends at once', async () => {
    api.faults.push({ when: (q) => q.url.pathname === '/t', reply: { status: 429, headers: { 'retry-after': '0' } }, times: 10 })
    await expect(client({ limits: { maxRetries: 2 } }).get('/t')).rejects.toThrow('Test API: GET http://127.0.0.1:' + api.origin.split(':')[2] + '/t: HTTP 429: still throttled after 2 retries')
    api.faults.length = 0
    api.faults.push({ when: (q) => q.url.pathname === '/slow', reply: { status: 503, headers: { 'retry-after': '60' } } })
    const ac = new AbortController()
    const t0 = Date.now()
    setTimeout(() => ac.abort(), 200)
    const err = await client({ signal: ac.signal }).get('/slow').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(AttemptFailure)
    expect((err as AttemptFailure).reason).toBe('aborted')
    expect(Date.now() - t0).toBeLessThan(30_000)
  })

  it('base URLs: https, or plain http to loopback only; no credentials, no query', () => {
    expect(baseUrl('https://graph.microsoft.com/v1.0/', 's')).toBe('https://graph.microsoft.com/v1.0')
    expect(baseUrl('http://[::1]:8080', 's')).toBe('http://[::1]:8080')
    expect(() => baseUrl('http://10.0.0.1', 'settings.x')).toThrow('settings.x: expected an https:// URL (plain http only to a loopback address)')
    expect(() => baseUrl('https://user:pw@example.test', 's')).toThrow('s: a URL must not hold credentials')
    expect(() => baseUrl('https://example.test/?k=1', 's')).toThrow('s: expected a URL without ?query or #fragment')
  })
})
