/**
 * @fileoverview Streaming reader of JSON exports whose bulk is one array (`{resources: […]}`, `{value: […]}`, a bare array):
 * the entries of the arrays at the named paths are handed over one at a time as they complete, never the whole document.
 * Memory is bounded by the largest entry (`maxEntryBytes`), not by the file; nesting by `maxDepth`; the document by the
 * bytes actually read (`maxBytes`). Every other value is parsed whole when it is at most `maxOtherBytes` (envelope fields such
 * as `@odata.nextLink`, `meta`) and handed to `onOther`. One pass, linear in the bytes: a byte-level scanner finds where
 * each value ends (strings, escapes, brackets), and `JSON.parse` parses each entry's own text, so an entry is exactly what
 * `JSON.parse` of the whole file would have held. Objects keyed by id (`factors: { <userId>: […] }`) are streamed the same
 * way, member by member, with their keys.
 */

import { statSync } from 'node:fs'
import { MAX_STREAM_BYTES } from './lib-files.ts'

/** The slowest a streamed export is assumed to be read and judged (bytes per ms: 256 KB/s, two passes on a loaded machine). */
const EXPORT_BYTES_PER_MS = 256

/**
 * The deadline of an attempt that streams exports: `baseMs` (at least two minutes) plus the files' size at 256 KB/s, asked
 * in a check's `timeout()` before the attempt exists (a file that cannot be stat'ed counts 0: the attempt reports it).
 * A 255 MB 1M-device export gets about 19 minutes; the reader itself is bounded by bytes read, not by this.
 */
export function streamedExportTimeout(paths: readonly unknown[], baseMs: number): number {
  let bytes = 0
  for (const p of paths) {
    try {
      if (typeof p === 'string') bytes += statSync(p).size
    } catch {
      // the attempt reports the unreadable file
    }
  }
  return Math.max(baseMs, 120_000) + bytes / EXPORT_BYTES_PER_MS
}

/** Why a document could not be read; `pointer` locates the value (`/resources/12`), `offset` the byte. */
export class JsonStreamError extends Error {
  override readonly name = 'JsonStreamError'
  readonly pointer: string
  readonly detail: string
  readonly offset: number
  /** True when the document is not JSON at all (syntax, truncation); false for a limit it exceeded. */
  readonly syntax: boolean
  constructor(pointer: string, detail: string, offset: number, syntax: boolean) {
    super(`${pointer ? `${pointer}: ` : ''}${detail}`)
    this.pointer = pointer
    this.detail = detail
    this.offset = offset
    this.syntax = syntax
  }

  /** `FILE: not JSON (…)` for a syntax error, `FILE: /pointer: …` for a bound exceeded. */
  describe(file: string): string {
    return this.syntax ? `${file}: not JSON (${this.message})` : `${file}: ${this.message}`
  }
}

/** What to stream and the bounds. */
export interface JsonEntriesSpec {
  /** Object paths whose array values are streamed entry by entry (`[['resources']]`, `[['userRegistrationDetails', 'value']]`). */
  readonly arrays: readonly (readonly string[])[]
  /** Object paths whose members are streamed one at a time, each with its key (`[['factors']]` for `{ factors: { <id>: … } }`). */
  readonly maps?: readonly (readonly string[])[]
  /** Streamed arrays or maps whose entries are only checked as JSON (bounded, counted, dropped at once), not handed over: a pass that needs other parts. */
  readonly skip?: readonly (readonly string[])[]
  /** A top-level array is streamed too (a bare export). */
  readonly bare: boolean
  /** Largest entry, in bytes of its JSON text (default 8 MiB). */
  readonly maxEntryBytes?: number
  /** Largest other value kept (default 16 MiB); a larger one is an error. */
  readonly maxOtherBytes?: number
  /** Deepest bracket nesting in the document (default 64). */
  readonly maxDepth?: number
  /** Largest document, counted in bytes read (default 16 GiB). */
  readonly maxBytes?: number
}

/** What one pass saw. */
export interface JsonEntriesSummary {
  /** Entries per streamed array or map, by its JSON pointer (`''` for a bare array, `/resources`). */
  readonly counts: ReadonlyMap<string, number>
  readonly bytes: number
}

/** JSON pointer of a path (`['a', 'b/c']` → `/a/b~1c`). */
export function pointerOf(path: readonly string[]): string {
  return path.map((k) => `/${escapeToken(k)}`).join('')
}

/** One JSON pointer reference token (`b/c` → `b~1c`). */
const escapeToken = (k: string): string => k.replace(/~/g, '~0').replace(/\//g, '~1')

const [QUOTE, BACKSLASH, OPEN_OBJ, CLOSE_OBJ, OPEN_ARR, CLOSE_ARR, COMMA, COLON] = [0x22, 0x5c, 0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a]
const isSpace = (b: number): boolean => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09

interface Frame {
  readonly kind: 'obj' | 'arr'
  readonly pointer: string
  /** An array whose elements (or an object whose members) are entries. */
  readonly stream: boolean
  /** Entries of this array or map are scanned, not parsed (`spec.skip`). */
  readonly skip?: boolean
  /** obj: key | colon | value | comma; arr: value | comma. `first` allows the closing bracket right after the opening one. */
  expect: 'key' | 'colon' | 'value' | 'comma'
  first: boolean
  key: string
  count: number
  readonly keys?: Set<string>
}

type Sink = { kind: 'entry'; frame: Frame; index: number } | { kind: 'key'; frame: Frame } | { kind: 'other'; pointer: string }

const MiB = 1024 * 1024

/**
 * Reads a JSON document from `chunks`, calling `onEntry(value, index, arrayPointer, key)` for each entry of the streamed
 * arrays and maps as it completes (`key`: the member's key, for a map) and `onOther(pointer, value)` for every other value outside them (the top-level value itself, pointer `''`,
 * when it is neither an object nor a streamed array). Throwing from a callback ends the read with that error.
 * @throws JsonStreamError for a document that is not JSON, is truncated, or exceeds a bound.
 */
export async function readJsonEntries(
  chunks: AsyncIterable<Buffer | string>,
  spec: JsonEntriesSpec,
  onEntry: (value: unknown, index: number, arrayPointer: string, key?: string) => void,
  onOther: (pointer: string, value: unknown) => void = () => {},
): Promise<JsonEntriesSummary> {
  const maxEntry = spec.maxEntryBytes ?? 8 * MiB
  const maxOther = spec.maxOtherBytes ?? 16 * MiB
  const maxDepth = spec.maxDepth ?? 64
  const maxBytes = spec.maxBytes ?? MAX_STREAM_BYTES
  const targets = spec.arrays.map((p) => pointerOf(p))
  const maps = (spec.maps ?? []).map((p) => pointerOf(p))
  const skips = (spec.skip ?? []).map((p) => pointerOf(p))
  const prefixes = new Set<string>()
  for (const p of [...spec.arrays, ...(spec.maps ?? [])]) for (let i = 0; i < p.length; i++) prefixes.add(pointerOf(p.slice(0, i)))
  const counts = new Map<string, number>()

  const stack: Frame[] = []
  let done = false // the top-level value is complete
  let bytes = 0
  // The value being collected: its bytes so far, and the scanner state inside it.
  let sink: Sink | undefined
  let pieces: Buffer[] = []
  let size = 0
  let limit = 0
  let depth = 0
  let inString = false
  let escape = false
  let scalar = false

  const fail = (pointer: string, detail: string, at: number, syntax = true): never => {
    throw new JsonStreamError(pointer, detail, at, syntax)
  }
  const here = (): string => {
    const f = stack[stack.length - 1]
    if (!f) return ''
    return f.kind === 'arr' ? `${f.pointer}/${f.count}` : `${f.pointer}/${escapeToken(f.key)}`
  }
  const sinkPointer = (s: Sink): string =>
    s.kind === 'entry' ? `${s.frame.pointer}/${s.frame.kind === 'obj' ? escapeToken(s.frame.key) : s.index}` : s.kind === 'key' ? s.frame.pointer : s.pointer

  const finish = (at: number): void => {
    const s = sink!
    const buf = pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces, size)
    pieces = []
    sink = undefined
    let value: unknown
    try {
      // A skipped entry is parsed too (at most maxEntryBytes) and dropped at once: not JSON is an error wherever it is.
      value = JSON.parse(buf.toString('utf8'))
    } catch (err) {
      fail(sinkPointer(s), (err as Error).message.slice(0, 120), at)
    }
    if (s.kind === 'entry' && s.frame.skip) {
      afterValue()
      return
    }
    if (s.kind === 'key') {
      const f = s.frame
      f.key = value as string
      // A streamed array or an object on the way to one given twice: JSON.parse would keep the last, a stream has read both.
      const p = `${f.pointer}/${escapeToken(f.key)}`
      if (f.keys && (targets.includes(p) || maps.includes(p) || prefixes.has(p))) {
        if (f.keys.has(f.key)) fail(p, 'given twice', at, false)
        f.keys.add(f.key)
      }
      f.expect = 'colon'
      return
    }
    if (s.kind === 'entry') onEntry(value, s.index, s.frame.pointer, s.frame.kind === 'obj' ? s.frame.key : undefined)
    else onOther(s.pointer, value)
    afterValue()
  }
  const afterValue = (): void => {
    const f = stack[stack.length - 1]
    if (!f) done = true
    else {
      f.expect = 'comma'
      f.count++
    }
  }
  const begin = (s: Sink, max: number, b: number, at: number): void => {
    sink = s
    size = 0
    limit = max
    depth = 0
    // The scanner sees the value's first byte too: an opening quote or bracket sets its state.
    inString = false
    escape = false
    scalar = b !== QUOTE && b !== OPEN_OBJ && b !== OPEN_ARR
    if (s.kind === 'key' && b !== QUOTE) fail(s.frame.pointer, `expected a key (a string), found ${JSON.stringify(String.fromCharCode(b))}`, at)
  }
  /** A value starts at byte `b`: descend into it, stream it, or collect it. Returns true when `b` was consumed structurally. */
  const startValue = (b: number, at: number): boolean => {
    const f = stack[stack.length - 1]
    if (f?.stream) {
      const index = f.count
      begin({ kind: 'entry', frame: f, index }, maxEntry, b, at)
      return false
    }
    const pointer = f ? here() : ''
    const streamed = b === OPEN_ARR && ((!f && spec.bare) || (f?.kind === 'obj' && targets.includes(pointer)))
    const map = b === OPEN_OBJ && f?.kind === 'obj' && maps.includes(pointer)
    const descend = !map && b === OPEN_OBJ && (!f || (f.kind === 'obj' && prefixes.has(pointer)))
    if (streamed || map || descend) {
      if (stack.length >= maxDepth) fail(pointer, `nested deeper than ${maxDepth} levels`, at, false)
      if (streamed || map) counts.set(pointer, 0)
      stack.push({ kind: streamed ? 'arr' : 'obj', pointer, stream: streamed || map, skip: (streamed || map) && skips.includes(pointer), expect: streamed ? 'value' : 'key', first: true, key: '', count: 0, keys: descend ? new Set() : undefined })
      return true
    }
    begin({ kind: 'other', pointer }, maxOther, b, at)
    return false
  }

  const scan = (buf: Buffer, base: number): void => {
    let i = 0
    // Where the next backslash and quote of this chunk are (n when none): each searched again only once passed, so the
    // scan stays linear in the chunk whatever the strings hold.
    let nextBs = -1
    let nextQuote = -1
    const n = buf.length
    while (i < n) {
      if (sink) {
        // Collecting a value: find where it ends.
        const start = i
        let end = -1
        if (scalar) {
          for (; i < n; i++) {
            const b = buf[i]!
            if (b === COMMA || b === CLOSE_ARR || b === CLOSE_OBJ || isSpace(b)) {
              end = i
              break
            }
          }
        } else {
          for (; i < n; i++) {
            if (inString && !escape) {
              // Inside a string: jump to its next quote; a backslash before it is stepped over byte by byte.
              if (nextBs < i) {
                nextBs = buf.indexOf(BACKSLASH, i)
                if (nextBs < 0) nextBs = n
              }
              if (nextQuote < i) {
                nextQuote = buf.indexOf(QUOTE, i)
                if (nextQuote < 0) nextQuote = n
              }
              i = Math.min(nextBs, nextQuote)
              if (i >= n) break
            }
            const b = buf[i]!
            if (inString) {
              if (escape) escape = false
              else if (b === BACKSLASH) escape = true
              else if (b === QUOTE) {
                inString = false
                if (depth === 0) {
                  end = ++i
                  break
                }
              }
            } else if (b === QUOTE) inString = true
            else if (b === OPEN_OBJ || b === OPEN_ARR) {
              if (++depth + stack.length > maxDepth) fail(sinkPointer(sink), `nested deeper than ${maxDepth} levels`, base + i, false)
            } else if (b === CLOSE_OBJ || b === CLOSE_ARR) {
              if (--depth === 0) {
                end = ++i
                break
              }
            }
          }
          // A string value ends at its closing quote (depth 0 from the start).
        }
        const stop = end < 0 ? n : end
        size += stop - start
        if (size > limit) {
          const what = sink.kind === 'entry' ? 'an entry' : sink.kind === 'key' ? 'a key' : 'a value'
          fail(sinkPointer(sink), `${what} larger than the ${limit >= MiB ? `${limit / MiB} MiB` : `${limit}-byte`} limit`, base + i, false)
        }
        if (stop > start) pieces.push(buf.subarray(start, stop))
        if (end < 0) return
        i = end
        finish(base + i)
        continue
      }
      const b = buf[i]!
      if (isSpace(b)) {
        i++
        continue
      }
      const at = base + i
      if (done) fail('', `unexpected ${JSON.stringify(String.fromCharCode(b))} after the end of the document at byte ${at}`, at)
      const f = stack[stack.length - 1]
      if (!f) {
        if (startValue(b, at)) i++
        continue
      }
      const close = f.kind === 'obj' ? CLOSE_OBJ : CLOSE_ARR
      if (b === close && (f.expect === 'comma' || (f.first && (f.expect === 'key' || f.expect === 'value')))) {
        stack.pop()
        if (f.stream) counts.set(f.pointer, f.count)
        i++
        afterValue()
        continue
      }
      f.first = false
      switch (f.expect) {
        case 'comma':
          if (b !== COMMA) fail(f.pointer, `expected "," or "${String.fromCharCode(close)}" at byte ${at}, found ${JSON.stringify(String.fromCharCode(b))}`, at)
          f.expect = f.kind === 'obj' ? 'key' : 'value'
          i++
          break
        case 'colon':
          if (b !== COLON) fail(f.pointer, `expected ":" at byte ${at}`, at)
          f.expect = 'value'
          i++
          break
        case 'key':
          begin({ kind: 'key', frame: f }, 64 * 1024, b, at)
          break
        case 'value':
          if (b === CLOSE_ARR || b === CLOSE_OBJ || b === COMMA || b === COLON) fail(here(), `unexpected ${JSON.stringify(String.fromCharCode(b))} at byte ${at}`, at)
          if (startValue(b, at)) i++
          break
      }
    }
  }

  let first = true
  for await (const raw of chunks) {
    let chunk = typeof raw === 'string' ? Buffer.from(raw) : raw
    if (first && chunk.length) {
      first = false
      // A UTF-8 byte order mark (PowerShell's Out-File) is no part of the document.
      if (chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) chunk = chunk.subarray(3)
    }
    const base = bytes
    bytes += chunk.length
    if (bytes > maxBytes) fail('', `more than the ${maxBytes}-byte limit`, maxBytes, false)
    scan(chunk, base)
  }
  // A scalar at the very end of the document ends with the document.
  if (sink && scalar) finish(bytes)
  if (!done) fail(sink ? sinkPointer(sink) : here(), `the document ends early, at byte ${bytes} (truncated?)`, bytes)
  return { counts, bytes }
}
