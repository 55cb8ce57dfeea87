/**
 * @fileoverview A small strict DER reader: type-length-value elements over a Buffer, with byte offsets (so a name can be compared
 * as its exact encoding) and bounds checked on every length. Iterative and linear; nesting is bounded by the caller's walk.
 * Anything not DER (indefinite lengths, non-minimal lengths, elements running past their parent) throws `DerError`.
 */

/** Malformed DER; the message says where. */
export class DerError extends Error {}

/** One element: identifier octets decoded, and where its value lies in `buf`. */
export interface Tlv {
  readonly buf: Buffer
  /** 0 universal, 1 application, 2 context-specific, 3 private. */
  readonly cls: number
  readonly constructed: boolean
  /** Tag number (high-tag-number form decoded). */
  readonly tag: number
  /** Offset of the identifier octet. */
  readonly start: number
  /** Offset of the first value byte. */
  readonly valueStart: number
  /** Offset just past the value. */
  readonly end: number
}

export const UNIVERSAL = 0
export const CONTEXT = 2
export const T = {
  BOOLEAN: 1, INTEGER: 2, BIT_STRING: 3, OCTET_STRING: 4, NULL: 5, OID: 6, UTF8: 12, SEQUENCE: 16, SET: 17,
  PRINTABLE: 19, T61: 20, IA5: 22, UTC_TIME: 23, GENERALIZED_TIME: 24, VISIBLE: 26, UNIVERSAL_STRING: 28, BMP: 30,
} as const

/** Reads the element at `off`, which must end by `limit`. */
export function readTlv(buf: Buffer, off: number, limit = buf.length): Tlv {
  if (off >= limit) throw new DerError(`truncated element at byte ${off}`)
  const id = buf[off]!
  const cls = id >> 6
  const constructed = (id & 0x20) !== 0
  let tag = id & 0x1f
  let p = off + 1
  if (tag === 0x1f) {
    tag = 0
    for (let i = 0; ; i++) {
      if (p >= limit || i >= 4) throw new DerError(`bad tag at byte ${off}`)
      const b = buf[p++]!
      tag = tag * 128 + (b & 0x7f)
      if (!(b & 0x80)) break
    }
  }
  if (p >= limit) throw new DerError(`truncated length at byte ${off}`)
  let len = buf[p++]!
  if (len & 0x80) {
    const n = len & 0x7f
    if (n === 0) throw new DerError(`indefinite length at byte ${off}`)
    if (n > 4 || p + n > limit) throw new DerError(`bad length at byte ${off}`)
    len = 0
    for (let i = 0; i < n; i++) len = len * 256 + buf[p++]!
    if (len < 0x80 || buf[p - n] === 0) throw new DerError(`non-minimal length at byte ${off}`)
  }
  if (p + len > limit) throw new DerError(`element at byte ${off} runs past its parent`)
  return { buf, cls, constructed, tag, start: off, valueStart: p, end: p + len }
}

/** Parses `buf` as exactly one element. */
export function parseDer(buf: Buffer): Tlv {
  const t = readTlv(buf, 0)
  if (t.end !== buf.length) throw new DerError(`${buf.length - t.end} bytes after the element`)
  return t
}

/** The elements inside a constructed element (at most `max`). */
export function kids(t: Tlv, max = 10_000): Tlv[] {
  if (!t.constructed) throw new DerError(`primitive element at byte ${t.start} where a constructed one was expected`)
  const out: Tlv[] = []
  for (let p = t.valueStart; p < t.end; ) {
    if (out.length >= max) throw new DerError(`more than ${max} elements at byte ${t.start}`)
    const c = readTlv(t.buf, p, t.end)
    out.push(c)
    p = c.end
  }
  return out
}

export const value = (t: Tlv): Buffer => t.buf.subarray(t.valueStart, t.end)
export const raw = (t: Tlv): Buffer => t.buf.subarray(t.start, t.end)
export const is = (t: Tlv | undefined, cls: number, tag: number): t is Tlv => !!t && t.cls === cls && t.tag === tag

/** Asserts a universal element of `tag`. */
export function must(t: Tlv | undefined, tag: number, what: string): Tlv {
  if (!is(t, UNIVERSAL, tag)) throw new DerError(`${what}: expected universal tag ${tag}`)
  return t
}

/** OBJECT IDENTIFIER value to dotted form. */
export function oid(t: Tlv): string {
  const v = value(must(t, T.OID, 'OID'))
  if (!v.length || v[v.length - 1]! & 0x80) throw new DerError('malformed OID')
  const parts: number[] = []
  let n = 0
  for (const b of v) {
    n = n * 128 + (b & 0x7f)
    if (n > Number.MAX_SAFE_INTEGER / 128) throw new DerError('OID arc too large')
    if (!(b & 0x80)) {
      if (!parts.length) parts.push(n < 80 ? Math.floor(n / 40) : 2, n < 80 ? n % 40 : n - 80)
      else parts.push(n)
      n = 0
    }
  }
  return parts.join('.')
}

/** BOOLEAN value (DER: 0x00 or 0xff). */
export function bool(t: Tlv): boolean {
  const v = value(must(t, T.BOOLEAN, 'BOOLEAN'))
  if (v.length !== 1 || (v[0] !== 0 && v[0] !== 0xff)) throw new DerError('malformed BOOLEAN')
  return v[0] === 0xff
}

/** A small non-negative INTEGER (path lengths); throws on negative or huge values. */
export function smallInt(t: Tlv): number {
  const v = value(must(t, T.INTEGER, 'INTEGER'))
  if (!v.length || v[0]! & 0x80) throw new DerError('negative or empty INTEGER')
  if (v.length > 1 && v[0] === 0 && !(v[1]! & 0x80)) throw new DerError('non-minimal INTEGER')
  let n = 0
  for (const b of v) n = n * 256 + b
  if (n > 1_000_000) return 1_000_000
  return n
}

/** A string type's value as text (BMP as UTF-16BE, UniversalString as UTF-32BE, the 8-bit ones as UTF-8/latin1). */
export function text(t: Tlv): string {
  const v = value(t)
  switch (t.tag) {
    case T.BMP: {
      let s = ''
      for (let i = 0; i + 1 < v.length; i += 2) s += String.fromCharCode((v[i]! << 8) | v[i + 1]!)
      return s
    }
    case T.UNIVERSAL_STRING: {
      let s = ''
      for (let i = 0; i + 3 < v.length; i += 4) s += String.fromCodePoint(Math.min(0x10ffff, v.readUInt32BE(i)))
      return s
    }
    case T.UTF8:
      return v.toString('utf8')
    default:
      return v.toString('latin1')
  }
}

/** UTCTime / GeneralizedTime to milliseconds (RFC 5280 4.1.2.5 forms; fractions tolerated). */
export function time(t: Tlv): number {
  const s = value(t).toString('latin1')
  const m = t.tag === T.UTC_TIME ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s) : t.tag === T.GENERALIZED_TIME ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d{1,9}))?Z$/.exec(s) : null
  if (!m) throw new DerError(`malformed time "${s.slice(0, 32)}"`)
  let year = Number(m[1])
  if (t.tag === T.UTC_TIME) year += year < 50 ? 2000 : 1900
  const ms = Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) + (m[7] ? Number(`0.${m[7]}`) * 1000 : 0)
  if (Number.isNaN(ms)) throw new DerError(`malformed time "${s}"`)
  return ms
}
