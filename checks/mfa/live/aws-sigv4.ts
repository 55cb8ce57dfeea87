/**
 * @fileoverview AWS Signature Version 4 (header signing) with node:crypto, for the IAM and STS Query APIs: the canonical
 * request (method, URI, sorted query, lower-cased trimmed headers, signed header names, SHA-256 of the payload), the
 * string to sign over the credential scope `DATE/REGION/SERVICE/aws4_request`, and the HMAC-SHA256 key derivation. Checked
 * against AWS's published SigV4 test suite (get-vanilla, post-x-www-form-urlencoded, …). The secret key and the
 * signature never leave this module except as the `Authorization` header.
 */
import { createHash, createHmac } from 'node:crypto'

/** An AWS credential: access key id, secret access key, and the session token of temporary credentials. */
export interface AwsKeys {
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly sessionToken?: string
}

/** What is signed. `headers` must not hold `authorization`; `host` is taken from the URL when absent. */
export interface SignInput {
  readonly method: string
  readonly url: string
  readonly headers?: Readonly<Record<string, string>>
  readonly body?: string
  readonly region: string
  readonly service: string
  readonly keys: AwsKeys
  /** Signing time (default now). */
  readonly date?: Date
}

const sha256 = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex')
const hmac = (key: string | Buffer, s: string): Buffer => createHmac('sha256', key).update(s, 'utf8').digest()

/** RFC 3986 encoding as SigV4 wants it: unreserved characters kept, everything else %XX (upper case). */
function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}

/** `20150830T123600Z` and `20150830` of a date. */
function amzDate(d: Date): { stamp: string; day: string } {
  const stamp = d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '')
  return { stamp, day: stamp.slice(0, 8) }
}

/** The canonical request and the signed header names (exported for the known-answer tests). */
function canonicalRequest(method: string, url: URL, headers: Readonly<Record<string, string>>, body: string): { request: string; signedHeaders: string } {
  const path = url.pathname.split('/').map((seg) => uriEncode(decodeURIComponent(seg))).join('/') || '/'
  const query = [...url.searchParams].map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`).join('&')
  const byName = new Map<string, string[]>()
  for (const [k, v] of Object.entries(headers)) {
    const name = k.toLowerCase()
    byName.set(name, [...(byName.get(name) ?? []), v.trim().split(/\s+/).join(' ')])
  }
  const names = [...byName.keys()].sort()
  const canonHeaders = names.map((n) => `${n}:${byName.get(n)!.join(',')}\n`).join('')
  const signedHeaders = names.join(';')
  return { request: [method.toUpperCase(), path, query, canonHeaders, signedHeaders, sha256(body)].join('\n'), signedHeaders }
}

/**
 * Signs a request: returns the headers to send (the input's, plus `host`, `x-amz-date`, `x-amz-security-token` for
 * temporary credentials, and `authorization`).
 */
export function signV4(i: SignInput): Record<string, string> {
  const url = new URL(i.url)
  const { stamp, day } = amzDate(i.date ?? new Date())
  const headers: Record<string, string> = { ...i.headers }
  if (!Object.keys(headers).some((k) => k.toLowerCase() === 'host')) headers.host = url.host
  headers['x-amz-date'] = stamp
  if (i.keys.sessionToken) headers['x-amz-security-token'] = i.keys.sessionToken
  const { request, signedHeaders } = canonicalRequest(i.method, url, headers, i.body ?? '')
  const scope = `${day}/${i.region}/${i.service}/aws4_request`
  const toSign = ['AWS4-HMAC-SHA256', stamp, scope, sha256(request)].join('\n')
  const key = hmac(hmac(hmac(hmac(`AWS4${i.keys.secretAccessKey}`, day), i.region), i.service), 'aws4_request')
  const signature = createHmac('sha256', key).update(toSign, 'utf8').digest('hex')
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${i.keys.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`
  return headers
}
