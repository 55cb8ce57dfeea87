/**
 * @fileoverview Tallies by key in bounded memory, spilled as binary sorted runs: {@link TallyMap} is
 * spill.ts's SpillMap for values with a {@link Codec} — numbers and strings written as they are (no
 * JSON.stringify, no escaping, no JSON.parse on the way back). Past its budget of keys the map's partial values are
 * sorted and appended to a temporary file (mode 0600, in `os.tmpdir()`, removed by {@link TallyMap.release} and at process
 * exit) as one run; reading back merges the runs and the in-memory rest by key and combines a key's partial values.
 *
 * A record on disk: its length (u32), its key (u32 length + UTF-8), then what the codec wrote.
 */
import { closeSync, mkdtempSync, openSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEFAULT_MEMORY_BYTES, asError, jsonWeight, track, untrack, writeAllSync } from './spill.ts'
import { mergeByKey, readChunk, readOn, runLimit, WRITE_CHUNK } from './runs.ts'
import type { PassCount } from '../types.ts'

/** Buffer's own UTF-8 copy methods (the ones `write` and `toString` call after checking their arguments). */
interface Utf8Buffer {
  utf8Write(s: string, offset: number): number
  utf8Slice(start: number, end: number): string
}
const direct = typeof (Buffer.prototype as unknown as Partial<Utf8Buffer>).utf8Write === 'function' && typeof (Buffer.prototype as unknown as Partial<Utf8Buffer>).utf8Slice === 'function'
const writeUtf8 = direct ? (b: Buffer, s: string, at: number): number => (b as unknown as Utf8Buffer).utf8Write(s, at) : (b: Buffer, s: string, at: number): number => b.write(s, at)
const readUtf8 = direct ? (b: Buffer, from: number, to: number): string => (b as unknown as Utf8Buffer).utf8Slice(from, to) : (b: Buffer, from: number, to: number): string => b.toString('utf8', from, to)

/** Appends numbers and strings to a growing buffer. */
export class BinWriter {
  buf = Buffer.allocUnsafe(1 << 16)
  pos = 0
  #room(n: number): void {
    if (this.pos + n <= this.buf.length) return
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n))
    this.buf.copy(next, 0, 0, this.pos)
    this.buf = next
  }
  u8(n: number): void {
    this.#room(1)
    this.buf[this.pos++] = n
  }
  u32(n: number): void {
    this.#room(4)
    this.buf.writeUInt32LE(n, this.pos)
    this.pos += 4
  }
  /** A count or any other number (a double: exact for integers up to 2^53). */
  num(n: number): void {
    this.#room(8)
    this.buf.writeDoubleLE(n, this.pos)
    this.pos += 8
  }
  /**
   * A string, exactly: UTF-8 when it is well formed (at most 3 bytes per UTF-16 unit), else its UTF-16 units as they are
   * (a lone surrogate would become U+FFFD in UTF-8, and two distinct keys one) — the length's top bit says which.
   */
  str(s: string): void {
    this.#room(4 + 3 * s.length)
    if ((s as string & { isWellFormed(): boolean }).isWellFormed()) {
      const n = writeUtf8(this.buf, s, this.pos + 4)
      this.buf.writeUInt32LE(n, this.pos)
      this.pos += 4 + n
    } else {
      const n = this.buf.write(s, this.pos + 4, 'utf16le')
      this.buf.writeUInt32LE((n | UTF16) >>> 0, this.pos)
      this.pos += 4 + n
    }
  }
  /** A string or undefined. */
  opt(s: string | undefined): void {
    if (s === undefined) this.u8(0)
    else {
      this.u8(1)
      this.str(s)
    }
  }
}

/** The top bit of a string's length: its bytes are UTF-16LE units (a string that is not well formed). */
const UTF16 = 0x8000_0000

/** Reads what a {@link BinWriter} wrote, from `pos`. */
export class BinReader {
  buf: Buffer
  pos: number
  constructor(buf: Buffer, pos = 0) {
    this.buf = buf
    this.pos = pos
  }
  u8(): number {
    return this.buf[this.pos++]!
  }
  u32(): number {
    const n = this.buf.readUInt32LE(this.pos)
    this.pos += 4
    return n
  }
  num(): number {
    const n = this.buf.readDoubleLE(this.pos)
    this.pos += 8
    return n
  }
  str(): string {
    const w = this.u32()
    const n = w & ~UTF16
    const s = w & UTF16 ? this.buf.toString('utf16le', this.pos, this.pos + n) : readUtf8(this.buf, this.pos, this.pos + n)
    this.pos += n
    return s
  }
  opt(): string | undefined {
    return this.u8() ? this.str() : undefined
  }
}

/** How a value is written to and read from a spill file (with its key: a codec may take parts of the value from it). */
export interface Codec<V> {
  write(w: BinWriter, v: V, key: string): void
  read(r: BinReader, key: string): V
  /**
   * What a new key and its first value weigh against the map's byte budget (default: the key's length and the value's
   * {@link jsonWeight}). Weighed once, when the key is added: a codec whose values grow in place counts their growth here.
   */
  weigh?(key: string, v: V): number
}

/** A record longer than this is not one this module wrote (a damaged temporary file). */
const MAX_RECORD = 256 << 20

/** A key and its (partial) value, as a run or the in-memory rest gives them to the merge. */
interface Keyed<V> {
  readonly key: string
  readonly value: V
}

/** One run of the file: its records in order, decoded one at a time (one read buffer per run). */
function* readRun<V>(fd: number, start: number, end: number, size: number, codec: Codec<V>): Generator<Keyed<V>> {
  let buf: Buffer = Buffer.alloc(0)
  let at = 0
  let pos = start
  /** Has `n` bytes from `at` in the buffer (reads on), or false at the run's end. */
  const have = (n: number): boolean => {
    if (at + n <= buf.length) return true
    const rest = buf.length - at
    if (pos >= end) {
      if (rest) throw new Error('tally spill: the temporary file ends inside a record')
      return false
    }
    buf = readOn(fd, buf.subarray(at), pos, end, size, 'tally spill', n)
    pos += buf.length - rest
    at = 0
    if (buf.length < n) throw new Error('tally spill: the temporary file ends inside a record')
    return true
  }
  while (have(4)) {
    const len = buf.readUInt32LE(at)
    if (len > MAX_RECORD) throw new Error('tally spill: a record of the temporary file is damaged')
    at += 4
    if (!have(len)) throw new Error('tally spill: the temporary file ends inside a record')
    const r = new BinReader(buf, at)
    const key = r.str()
    const value = codec.read(r, key)
    at += len
    yield { key, value }
  }
}

/** The in-memory rest, sorted, as the merge takes it. */
function* keyed<V>(sorted: readonly [string, V][]): Generator<Keyed<V>> {
  for (const [key, value] of sorted) yield { key, value }
}

/**
 * A map's keys in order (UTF-16 code units, as `<` compares strings): the built-in order of `sort()` without a comparator,
 * about twice as fast as sorting the entries with one, even with the lookup per key after.
 */
const sortedKeys = (m: Map<string, unknown>): string[] => [...m.keys()].sort()

/**
 * Values aggregated by key with at most `budget` keys in memory, and keys weighing at most `maxBytes` ({@link Codec.weigh}:
 * weighed as they are added, default {@link DEFAULT_MEMORY_BYTES}), whichever comes first: past it, the partial values
 * are written to a temporary file as one sorted run (through the codec) and the map starts empty; {@link entries} merges
 * the runs and the in-memory rest in key order and combines a key's partial values in the order they were added (`combine(earlier, later)`).
 * Read as often as wanted once every value was set; release to remove the file.
 */
export class TallyMap<V> {
  readonly #budget: number
  readonly #combine: (a: V, b: V) => V
  readonly #codec: Codec<V>
  readonly #dir: string
  #mem = new Map<string, V>()
  /** The in-memory rest sorted by key, made by the first read (the map takes no value after it). */
  #sorted: [string, V][] | undefined
  #tmp: string | undefined
  #fd: number | undefined
  #bytes = 0
  readonly #runs: { start: number; end: number }[] = []
  #released = false
  /** The spill buffer, kept from one run to the next (at most about WRITE_CHUNK and one record). */
  #w: BinWriter | undefined
  readonly #maxBytes: number
  /** What the keys in memory weigh. */
  #memBytes = 0
  /** A write that failed (ENOSPC, EIO): the file misses a run, so every later set and read throws it. */
  #failed: Error | undefined

  constructor(budget: number, combine: (a: V, b: V) => V, codec: Codec<V>, dir = tmpdir(), opts: { readonly maxBytes?: number } = {}) {
    this.#budget = Math.max(1, budget)
    this.#combine = combine
    this.#codec = codec
    this.#dir = dir
    this.#maxBytes = Math.max(1, opts.maxBytes ?? DEFAULT_MEMORY_BYTES)
  }

  /** The in-memory value of `key` (a key spilled earlier starts again from undefined; {@link entries} combines both). */
  get(key: string): V | undefined {
    return this.#mem.get(key)
  }

  set(key: string, v: V): void {
    if (this.#failed) throw this.#failed
    if (this.#sorted) throw new Error('tally map: a value was set after the map was read')
    // Past the budget once, runs are short (runLimit); or a run holds the byte budget's worth, whichever comes first.
    if ((this.#mem.size >= runLimit(this.#budget, this.#runs.length) || this.#memBytes >= this.#maxBytes) && !this.#mem.has(key)) this.#spill()
    const n = this.#mem.size
    this.#mem.set(key, v)
    // Only a new key is weighed (a tally sets its key's value again and again).
    if (this.#mem.size !== n) this.#memBytes += this.#codec.weigh ? this.#codec.weigh(key, v) : key.length + jsonWeight(v)
  }

  /**
   * Adds `n` to what the keys in memory weigh: a value got from the map grew in place by about `n` characters (a string
   * it now holds). Checked against the byte budget when the next new key is set.
   */
  grew(n: number): void {
    this.#memBytes += n
  }

  /** True once partial values were written to the temporary file. */
  get spilled(): boolean {
    return this.#runs.length > 0
  }

  /** Runs written so far: a value got from the map before the count changed is no longer in it (set it again). */
  get runs(): number {
    return this.#runs.length
  }

  /** Keys in memory (all of them unless {@link spilled}). */
  get size(): number {
    return this.#mem.size
  }

  #sortedMem(): [string, V][] {
    if (!this.#sorted) {
      const mem = this.#mem
      this.#sorted = sortedKeys(mem).map((k) => [k, mem.get(k)!])
    }
    return this.#sorted
  }

  #spill(): void {
    if (this.#released) throw new Error('tally map already released')
    if (this.#fd === undefined) {
      this.#tmp = mkdtempSync(join(this.#dir, 'ztscan-spill-'))
      track(this.#tmp)
      this.#fd = openSync(join(this.#tmp, 'tally.bin'), 'w+', 0o600)
    }
    const start = this.#bytes
    const mem = this.#mem
    const w = (this.#w ??= new BinWriter())
    for (const k of sortedKeys(mem)) {
      const at = w.pos
      w.u32(0)
      w.str(k)
      this.#codec.write(w, mem.get(k)!, k)
      w.buf.writeUInt32LE(w.pos - at - 4, at)
      if (w.pos >= WRITE_CHUNK) this.#flush(w)
    }
    this.#flush(w)
    this.#runs.push({ start, end: this.#bytes })
    this.#mem = new Map()
    this.#memBytes = 0
  }

  /** Writes what `w` gathered; it is empty again even when the write throws (the map has failed then). */
  #flush(w: BinWriter): void {
    const n = w.pos
    w.pos = 0
    try {
      writeAllSync(this.#fd!, w.buf, n, this.#bytes)
    } catch (err) {
      this.#failed ??= asError(err)
      throw err
    }
    this.#bytes += n
  }

  /** Every key once, in key order, with its combined value. */
  *entries(): Generator<[string, V]> {
    if (this.#released) throw new Error('tally map was released and can no longer be read')
    if (this.#failed) throw this.#failed
    const mem = this.#sortedMem()
    if (!this.spilled) {
      yield* mem
      return
    }
    const size = readChunk(this.#runs.length)
    // Runs first, the in-memory rest last: equal keys combine in the order their values were added.
    const sources = [...this.#runs.map((r) => readRun<V>(this.#fd!, r.start, r.end, size, this.#codec)), keyed(mem)]
    let cur: Keyed<V> | undefined
    let v: V | undefined
    for (const r of mergeByKey(sources)) {
      if (cur && r.key === cur.key) {
        v = this.#combine(v!, r.value)
        continue
      }
      if (cur) yield [cur.key, v!]
      cur = r
      v = r.value
    }
    if (cur) yield [cur.key, v!]
  }

  /** Closes and removes the temporary file. */
  release(): void {
    if (this.#released) return
    this.#released = true
    this.#mem = new Map()
    this.#sorted = undefined
    this.#w = undefined
    if (this.#fd !== undefined) closeSync(this.#fd)
    if (this.#tmp) {
      untrack(this.#tmp)
    }
  }
}

/** True when `key` is the scan's key of the pass count `c`: `${target}\0${ruleId}\0${asset ?? ''}`. */
function isPassKey(key: string, c: PassCount): boolean {
  const t = c.target.length
  const r = c.ruleId.length
  return (
    key.length === t + r + 2 + (c.asset?.length ?? 0) &&
    key.startsWith(c.target) &&
    key.charCodeAt(t) === 0 &&
    key.startsWith(c.ruleId, t + 1) &&
    key.charCodeAt(t + r + 1) === 0 &&
    (c.asset === undefined || key.endsWith(c.asset))
  )
}

/**
 * A pass count in the spill file: when its key is the scan's (`${target}\0${ruleId}\0${asset ?? ''}`), only the lengths
 * of its target and rule id (its strings are read back from the key), else its strings as they are; then its count.
 */
export const PASS_CODEC: Codec<PassCount> = {
  // The key holds the count's strings: about twice its length in all (no walk of the object per new key).
  weigh: (key) => 2 * key.length + 48,
  write(w, c, key) {
    if (isPassKey(key, c)) {
      w.u8(c.asset === undefined ? 0 : 1)
      w.u32(c.target.length)
      w.u32(c.ruleId.length)
    } else {
      w.u8(2)
      w.str(c.ruleId)
      w.str(c.target)
      w.opt(c.asset)
    }
    w.num(c.count)
  },
  read(r, key) {
    const how = r.u8()
    let ruleId: string
    let target: string
    let asset: string | undefined
    if (how === 2) {
      ruleId = r.str()
      target = r.str()
      asset = r.opt()
    } else {
      const t = r.u32()
      const n = r.u32()
      if (how > 1 || t + n + 2 > key.length) throw new Error('tally spill: a pass count of the temporary file is damaged')
      target = key.slice(0, t)
      ruleId = key.slice(t + 1, t + 1 + n)
      asset = how === 1 ? key.slice(t + n + 2) : undefined
    }
    const count = r.num()
    return asset !== undefined ? { ruleId, target, asset, count } : { ruleId, target, count }
  },
}
