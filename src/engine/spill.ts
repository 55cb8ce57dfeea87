/**
 * @fileoverview Findings beyond an in-memory budget spill to a temporary file of lines (each: the record's sort key, a tab,
 * its JSON escaped for output; in `os.tmpdir()`, mode 0600,
 * removed by {@link releaseFindings}, and at process exit whatever happened), never to the heap. Each spill is one sorted
 * run; reading back merges the runs and the in-memory rest in order, one finding at a time, so writers stream a report
 * of any size with memory bounded by the budget. The same store ({@link SpillStore}) holds any JSON record — the
 * report's per-asset scores — and {@link SpillMap} aggregates by key (pass counts, per-asset tallies) with the same bound:
 * past its budget of keys the partial values spill as one sorted run, and reading back combines equal keys across runs.
 *
 * A spilled report's `findings` is a {@link FindingView}: iterable, with `length` and the read-only array methods the
 * writers use (`filter` gives another lazy view; `map`, `slice`, `sort` return arrays; `toJSON` makes `JSON.stringify`
 * see the whole array). Index access (`findings[i]`) is not supported on a spilled view.
 */
import { close, closeSync, mkdtempSync, openSync, rmSync, write, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Finding } from '../types.ts'
import { escapeJsonText, writeJsonForOutput } from '../report/escape.ts'
import { mergeByKey, readChunk, readOn, runLimit, WRITE_CHUNK } from './runs.ts'

/** Findings kept in memory before the rest spill to a temporary file (per scan). */
export const DEFAULT_MEMORY_FINDINGS = 10_000
/** Keys of a {@link SpillMap} (pass counts, per-asset tallies and scores) kept in memory before the rest spill. */
export const DEFAULT_MEMORY_RECORDS = 20_000
/**
 * Beside the count, each store and map spills once the records it holds in memory reach this many characters of JSON text
 * (about bytes; keys included), whichever comes first: 20,000 records of a few MiB each (long error messages, big
 * evidence) do not stay on the heap.
 */
export const DEFAULT_MEMORY_BYTES = 32 * 1024 * 1024

/**
 * About the length of `v`'s JSON text, without making it (a walk of its strings and fields): how much a record held in
 * memory weighs against a byte budget.
 */
export function jsonWeight(v: unknown): number {
  switch (typeof v) {
    case 'string':
      return v.length + 2
    case 'object': {
      if (v === null) return 4
      let n = 2
      if (Array.isArray(v)) for (const x of v as unknown[]) n += jsonWeight(x) + 1
      else for (const k in v) n += k.length + 4 + jsonWeight((v as Record<string, unknown>)[k])
      return n
    }
    default:
      return 8
  }
}

/** Temporary directories still on disk, removed at process exit if nothing released them before. */
const live = new Set<string>()
let exitHook = false
/** Removes `dir` at process exit unless {@link untrack} removed it before (also used by other temporary files). */
export function track(dir: string): void {
  live.add(dir)
  if (exitHook) return
  exitHook = true
  process.once('exit', () => {
    for (const d of live) rmSync(d, { recursive: true, force: true })
  })
}

/** Removes `dir` now; it is no longer removed at exit. */
export function untrack(dir: string): void {
  rmSync(dir, { recursive: true, force: true })
  live.delete(dir)
}

/** Writes `buf`'s first `n` bytes at `at` in the file, all of them (a write may write fewer). */
export function writeAllSync(fd: number, buf: Buffer, n: number, at: number): void {
  let off = 0
  while (off < n) off += writeSync(fd, buf, off, n - off, at + off)
}

/** What a failed write threw, as the Error a store that failed keeps and throws from then on. */
export const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)))

/** Bytes an asynchronous store lets be in flight to its file: past them it writes synchronously until they land. */
const MAX_IN_FLIGHT = 8 * WRITE_CHUNK

/**
 * One record as a sorted read gives it: its order key, and its JSON text or its value — each made from the other only
 * when asked for. A record read back from the spill file has its text as bytes, already escaped for output
 * (`escapeJsonText`): a writer copies them as they are (no decode, no parse, no stringify); one in memory has its value.
 */
export class SpilledRecord<T> {
  readonly key: string
  readonly #bytes: Buffer | undefined
  #json: string | undefined
  #value: T | undefined
  #parsed: boolean
  constructor(key: string, json: string | Buffer | undefined, value?: T) {
    this.key = key
    if (typeof json === 'string') this.#json = json
    else this.#bytes = json
    this.#value = value
    // Text and value both given (a record whose text was made from its value): the value is not parsed again.
    this.#parsed = json === undefined || value !== undefined
  }
  /** The record's JSON text, compact (`JSON.stringify(value)`, or the spilled text: the same data, escapes aside). */
  get json(): string {
    return (this.#json ??= this.#bytes ? this.#bytes.toString('utf8') : JSON.stringify(this.#value))
  }
  /** The spilled JSON text as UTF-8, escaped for output (undefined for a record still in memory). */
  get bytes(): Buffer | undefined {
    return this.#bytes
  }
  /** The start of the JSON text (about `n` characters) when the record has its text, else undefined (nothing is made). */
  head(n: number): string | undefined {
    return this.#bytes ? this.#bytes.toString('utf8', 0, Math.min(n, this.#bytes.length)) : this.#json?.slice(0, n)
  }
  /** Whether the JSON text holds `s` (ASCII) when the record has its text, else undefined (nothing is made). */
  mentions(s: string): boolean | undefined {
    return this.#bytes ? this.#bytes.includes(s) : this.#json?.includes(s)
  }
  /** The record itself (parsed once from its text when it was read back from the file). */
  get value(): T {
    if (!this.#parsed) {
      this.#value = JSON.parse(this.json) as T
      this.#parsed = true
    }
    return this.#value as T
  }
}

/**
 * A spill line: the record's key, a tab, the record's JSON (escaped for output once, here), a newline. JSON text holds no
 * raw tab or newline, so the first tab ends the key, and the merge compares keys without parsing the records. A key that
 * is printable ASCII without a backslash and does not start with a quote is written as it is (read back without a parse);
 * any other is written as a JSON string (it starts with a quote).
 */
const RAW_KEY = /^[^"\\\t\n\x7f-\uffff][^\\\t\n\x7f-\uffff]*$/

/** The key of a spill line's first field: raw, or a JSON string (see {@link RAW_KEY}). */
function keyAt(chunk: Buffer, from: number, tab: number): string {
  return chunk[from] === 0x22 ? (JSON.parse(chunk.toString('utf8', from, tab)) as string) : chunk.toString('latin1', from, tab)
}

/**
 * A key as its spill line holds it: the key itself when raw (written as latin1), else its JSON string (UTF-8; it starts
 * with a quote, which no raw key does).
 */
const keyField = (k: string): string => (RAW_KEY.test(k) ? k : JSON.stringify(k))

/**
 * Bytes a key field takes, and its tab: measured, not bounded (6 bytes a character would reserve 120 MiB for a 20 MiB key
 * with one character to escape).
 */
const keyRoom = (field: string): number => (field.charCodeAt(0) === 0x22 ? Buffer.byteLength(field, 'utf8') : field.length) + 1

/**
 * Bytes gathered in a buffer: `room(n)` makes room for `n` more (a {@link LineBuffer} writes what it holds and starts a
 * new buffer; a {@link JsonBuffer} grows).
 */
abstract class Bytes {
  buf: Buffer
  off = 0
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size)
  }
  abstract room(n: number): void
  /**
   * Appends `json` (text from `JSON.stringify`) as UTF-8, escaped for output (`escapeJsonText`), without moving what is
   * gathered (room for 3 bytes a character must have been made). Plain ASCII without DEL — most JSON — is written once,
   * as it is; false when it must be written again escaped (nothing was appended then).
   */
  json(json: string): boolean {
    const n = writeJsonForOutput(this.buf, this.off, json)
    if (n < 0) return false
    this.off += n
    return true
  }
  /** Appends `json` escaped for output (see {@link json}), making room for it. */
  escapedJson(json: string): void {
    const escaped = escapeJsonText(json)
    this.room(3 * escaped.length)
    this.off += this.buf.write(escaped, this.off, 'utf8')
  }
}

/**
 * Where spill lines are gathered before a write: `flush` writes them and gives the buffer to fill next (the same one once
 * written, or a free one while it is being written), kept by its store from run to run (a buffer allocated anew costs its
 * page faults each time).
 */
class LineBuffer extends Bytes {
  readonly #flush: (b: Buffer, n: number) => Buffer
  constructor(flush: (b: Buffer, n: number) => Buffer) {
    super(WRITE_CHUNK)
    this.#flush = flush
  }
  room(n: number): void {
    if (this.off + n <= this.buf.length) return
    this.end()
    if (n > this.buf.length) this.buf = Buffer.allocUnsafe(n)
  }
  /** Writes a key field ({@link keyField}) and a tab (room for them must have been made: {@link keyRoom}). */
  key(field: string): void {
    this.off += this.buf.write(field, this.off, field.charCodeAt(0) === 0x22 ? 'utf8' : 'latin1')
    this.buf[this.off++] = 9
  }
  /** A spill line of `key` and the record's JSON text. */
  line(k: string, json: string): void {
    const field = keyField(k)
    const room = keyRoom(field)
    this.room(room + 3 * json.length + 1)
    const start = this.off
    this.key(field)
    if (!this.json(json)) {
      // Written again, escaped: the line starts over, with room for the longer text.
      this.off = start
      const escaped = escapeJsonText(json)
      this.room(room + 3 * escaped.length + 1)
      this.key(field)
      this.off += this.buf.write(escaped, this.off, 'utf8')
    }
    this.buf[this.off++] = 10
  }
  /** A line of the record's JSON text alone (no key: {@link OrderedSpill}). */
  text(json: string): void {
    this.room(3 * json.length + 1)
    if (!this.json(json)) this.escapedJson(json)
    this.buf[this.off++] = 10
  }
  /** A spill line of `key` and JSON text already escaped (`src` from `start` to `end`). */
  copied(k: string, src: Buffer, start: number, end: number): void {
    const field = keyField(k)
    this.room(keyRoom(field) + end - start + 1)
    this.key(field)
    this.off += src.copy(this.buf, this.off, start, end)
    this.buf[this.off++] = 10
  }
  /**
   * Writes what is gathered. The buffer is empty again before the write: a write that throws (ENOSPC, EIO) leaves no stale
   * chunk to be written in front of the next one (its store fails then: see {@link SpillStore}'s `#write`).
   */
  end(): void {
    const n = this.off
    this.off = 0
    if (n) this.buf = this.#flush(this.buf, n)
  }
}

/** Records' JSON text, escaped for output, one after another in one growing buffer. */
class JsonBuffer extends Bytes {
  constructor() {
    super(64 * 1024)
  }
  room(n: number): void {
    if (this.off + n <= this.buf.length) return
    const next = Buffer.allocUnsafe(Math.max(2 * this.buf.length, this.off + n))
    this.buf.copy(next, 0, 0, this.off)
    this.buf = next
  }
  /** Starts empty again, keeping the buffer. */
  clear(): void {
    this.off = 0
  }
  /** Appends a record's JSON text; returns where it ends (it starts where the previous one ended). */
  add(json: string): number {
    this.room(3 * json.length)
    if (!this.json(json)) this.escapedJson(json)
    return this.off
  }
}

/**
 * The records of one byte range of the spill file (one sorted run), split one line at a time as they are taken: with many
 * runs merged at once, each holds one read buffer and one record. Records are not parsed here (see {@link SpilledRecord}).
 */
function* readRun<T>(fd: number, start: number, end: number, size: number): Generator<SpilledRecord<T>> {
  let carry: Buffer = Buffer.alloc(0)
  let pos = start
  while (pos < end) {
    // A line longer than a chunk: the read grows with it (twice what is carried), so its bytes are copied O(1) times each.
    const chunk = readOn(fd, carry, pos, end, size, 'spilled findings', 2 * carry.length)
    pos += chunk.length - carry.length
    let from = 0
    let nl: number
    while ((nl = chunk.indexOf(10, from)) >= 0) {
      const tab = chunk.indexOf(9, from)
      if (tab < 0 || tab > nl) throw new Error('spilled findings: a line of the temporary file has no key')
      const key = keyAt(chunk, from, tab)
      const json = chunk.subarray(tab + 1, nl)
      from = nl + 1
      yield new SpilledRecord<T>(key, json)
    }
    carry = chunk.subarray(from)
  }
  if (carry.length) throw new Error('spilled findings: the temporary file ends inside a line')
}

/** In-memory records, in order. */
function* inMemory<T>(list: readonly { k: string; f: T }[]): Generator<SpilledRecord<T>> {
  for (const x of list) yield new SpilledRecord<T>(x.k, undefined, x.f)
}

/** Indices 0…n-1 ordered by `keys` (equal keys: the earlier index first). */
function sortedIndices(keys: readonly string[]): number[] {
  const order = Array.from({ length: keys.length }, (_, i) => i)
  return order.sort((a, b) => {
    const ka = keys[a]!
    const kb = keys[b]!
    return ka < kb ? -1 : ka > kb ? 1 : a - b
  })
}

/**
 * Collects records; past `budget` in memory, sorts them and appends them to the spill file as one run. Once a run was
 * written (the store has spilled), a record added is turned into its JSON text at once (`eager`, the default) and kept as
 * bytes until the next run: the record itself is not held. An `async` store writes its runs on libuv's threads, not the
 * caller's (at most MAX_IN_FLIGHT bytes at a time): {@link settled} must be awaited before it is read.
 */
export class SpillStore<T = Finding> {
  readonly #budget: number
  readonly #key: ((f: T) => string) | undefined
  readonly #dir: string
  readonly #eager: boolean
  /** The in-memory rest with its keys (before the first run, or when not eager); sorted when {@link #sortedMem}. */
  #mem: { k: string; f: T }[] = []
  #sortedMem = true
  /** {@link jsonWeight} of the in-memory records and their keys (not eager, or before the first run). */
  #memBytes = 0
  readonly #maxBytes: number
  /** Eager: the in-memory rest's keys, and where each one's JSON text ends in {@link #text}, in the order added. */
  #keys: string[] = []
  #ends: number[] = []
  /** Characters of {@link #keys}: they weigh against the byte budget beside the text (an error's key holds its message). */
  #keyBytes = 0
  #text: JsonBuffer | undefined
  /** True while records read from {@link #text} may be held by a reader: it is not written over then. */
  #textRead = false
  #lines: LineBuffer | undefined
  #tmp: string | undefined
  #fd: number | undefined
  #bytes = 0
  #count = 0
  readonly #runs: { start: number; end: number }[] = []
  #released = false
  readonly #async: boolean
  /** Asynchronous writes in flight, their bytes, buffers free to fill again, the first failure, who waits for them. */
  #inFlight = 0
  #inFlightBytes = 0
  #free: Buffer[] = []
  #failed: Error | undefined
  #settled: (() => void)[] = []

  /**
   * `key` orders the records (the report's order; without it each record is added with its key); `dir` holds the
   * temporary directory (default `os.tmpdir()`); `maxBytes`: characters of JSON text held in memory before a run is
   * written, whichever of it and `budget` records comes first (default {@link DEFAULT_MEMORY_BYTES}).
   */
  constructor(budget: number, key?: (f: T) => string, dir = tmpdir(), opts: { readonly eager?: boolean; readonly async?: boolean; readonly maxBytes?: number } = {}) {
    this.#budget = Math.max(1, budget)
    this.#maxBytes = Math.max(1, opts.maxBytes ?? DEFAULT_MEMORY_BYTES)
    this.#key = key
    this.#dir = dir
    this.#eager = opts.eager ?? true
    this.#async = opts.async ?? false
  }

  /** Resolves when every write of an `async` store has landed (rejects with the first that failed). */
  settled(): Promise<void> {
    if (this.#inFlight === 0) return this.#failed ? Promise.reject(this.#failed) : Promise.resolve()
    return new Promise<void>((resolve, reject) => this.#settled.push(() => (this.#failed ? reject(this.#failed) : resolve())))
  }

  /** Findings added so far. */
  get count(): number {
    return this.#count
  }

  /** True once findings were written to the temporary file. */
  get spilled(): boolean {
    return this.#runs.length > 0
  }

  /** Records held in memory (not yet written to the file). */
  get held(): number {
    return this.#mem.length + this.#keys.length
  }

  /** Adds a record; `key` is its key when the store has no key function. */
  add(f: T, key?: string): void {
    if (this.#released) throw new Error('finding store already released')
    if (this.#failed) throw this.#failed
    const k = key ?? this.#key?.(f)
    if (k === undefined) throw new Error('spill store: a record needs a key')
    this.#count++
    if (this.#eager && this.#runs.length) {
      this.#keys.push(k)
      this.#keyBytes += k.length
      const end = (this.#text ??= new JsonBuffer()).add(JSON.stringify(f))
      this.#ends.push(end)
      // Once spilled, runs are short (runLimit): the keys die young; or a run holds its byte budget's worth, keys included.
      if (this.#keys.length >= runLimit(this.#budget, this.#runs.length) || end + this.#keyBytes >= this.#maxBytes) this.#spill()
      return
    }
    this.#mem.push({ k, f })
    this.#sortedMem = false
    // A store that only spills when told (a SpillMap's) weighs nothing.
    if (this.#maxBytes !== Infinity) this.#memBytes += k.length + jsonWeight(f)
    if (this.#mem.length >= this.#budget || this.#memBytes >= this.#maxBytes) this.#spill()
  }

  /** Writes what is in memory to the file now, as one sorted run (a {@link SpillMap} past its budget of keys). */
  spillNow(): void {
    if (this.#failed) throw this.#failed
    if (this.#mem.length || this.#keys.length) this.#spill()
  }

  /** Sorts the in-memory records by key (stable: equal keys keep the order they were added in). */
  #sortMem(): { k: string; f: T }[] {
    if (!this.#sortedMem) this.#mem.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0))
    this.#sortedMem = true
    return this.#mem
  }

  /** Writes `buf`'s first `n` bytes at the end of the file; returns the buffer to fill next. */
  #write(buf: Buffer, n: number): Buffer {
    const at = this.#bytes
    this.#bytes += n
    if (!this.#async || this.#inFlightBytes >= MAX_IN_FLIGHT) {
      try {
        writeAllSync(this.#fd!, buf, n, at)
      } catch (err) {
        // The file misses a run now: the store fails for good (adds, reads, settled() throw), as an asynchronous write's.
        this.#failed ??= asError(err)
        throw err
      }
      return buf
    }
    this.#inFlight++
    // A write holds its whole buffer until it lands (a short run's write too): count the buffer, not the bytes.
    this.#inFlightBytes += buf.length
    const fd = this.#fd!
    const landed = (err: Error | null, off: number): void => {
      if (!err && off < n) return write(fd, buf, off, n - off, at + off, (e, w) => landed(e, off + w))
      this.#failed ??= err ?? undefined
      this.#inFlight--
      this.#inFlightBytes -= buf.length
      if (buf.length === WRITE_CHUNK && this.#free.length < 2) this.#free.push(buf)
      if (this.#inFlight) return
      if (this.#released) close(fd, () => {})
      for (const done of this.#settled.splice(0)) done()
    }
    write(fd, buf, 0, n, at, (e, w) => landed(e, w))
    return this.#free.pop() ?? Buffer.allocUnsafe(WRITE_CHUNK)
  }

  #spill(): void {
    if (this.#failed) throw this.#failed
    if (this.#fd === undefined) {
      this.#tmp = mkdtempSync(join(this.#dir, 'ztscan-spill-'))
      track(this.#tmp)
      this.#fd = openSync(join(this.#tmp, 'findings.jsonl'), 'w+', 0o600)
    }
    const start = this.#bytes
    const out = (this.#lines ??= new LineBuffer((b, n) => this.#write(b, n)))
    const keys = this.#keys
    if (keys.length) {
      const ends = this.#ends
      const text = this.#text!.buf
      for (const i of sortedIndices(keys)) out.copied(keys[i]!, text, i ? ends[i - 1]! : 0, ends[i]!)
      this.#keys = []
      this.#ends = []
      this.#keyBytes = 0
      if (this.#textRead) this.#text = undefined
      else this.#text!.clear()
    }
    for (const { k, f } of this.#sortMem()) out.line(k, JSON.stringify(f))
    out.end()
    this.#runs.push({ start, end: this.#bytes })
    this.#mem = []
    this.#memBytes = 0
  }

  /** The eager in-memory rest, in order, as records with their JSON text. */
  *#memText(): Generator<SpilledRecord<T>> {
    const keys = this.#keys
    const ends = this.#ends
    const text = this.#text!.buf
    this.#textRead = true
    for (const i of sortedIndices(keys)) yield new SpilledRecord<T>(keys[i]!, text.subarray(i ? ends[i - 1]! : 0, ends[i]!))
  }

  /** Every record in order: the spilled runs and the in-memory rest, merged (equal keys: the earlier run first). */
  *#merged(): Generator<SpilledRecord<T>> {
    if (this.#released) throw new Error('spilled findings were released (releaseFindings) and can no longer be read')
    if (this.#inFlight) throw new Error('spill store: read while its writes are in flight (await settled() first)')
    if (this.#failed) throw this.#failed
    const size = readChunk(this.#runs.length)
    yield* mergeByKey([...this.#runs.map((r) => readRun<T>(this.#fd!, r.start, r.end, size)), this.#keys.length ? this.#memText() : inMemory(this.#sortMem())])
  }

  /**
   * The findings in order: a plain sorted array when nothing spilled, else a {@link FindingView} over the file and the
   * in-memory rest (the store must then live until {@link releaseFindings}).
   */
  finish(): readonly T[] {
    // A failed first run leaves every record in memory, but the caller was told of the failure: no list is given then.
    if (this.#failed) throw this.#failed
    const mem = this.#sortMem()
    if (!this.spilled) return mem.map((x) => x.f)
    const view = new FindingView<T>(() => values(this.#merged()), undefined, this.#count, () => this.#merged())
    stores.set(view, this)
    return view as unknown as readonly T[]
  }

  /** The records in order, with their keys and JSON text (after {@link finish}). */
  sorted(): Generator<SpilledRecord<T>> {
    return this.#merged()
  }

  /** Closes and removes the temporary file. */
  release(): void {
    if (this.#released) return
    this.#released = true
    this.#mem = []
    this.#keys = []
    this.#ends = []
    this.#text = undefined
    this.#lines = undefined
    this.#free = []
    // A file still being written is closed when its last write lands (its descriptor must not be reused before).
    if (this.#fd !== undefined && !this.#inFlight) closeSync(this.#fd)
    if (this.#tmp) {
      rmSync(this.#tmp, { recursive: true, force: true })
      live.delete(this.#tmp)
    }
  }
}

/**
 * Records added in their final order (a spilled card's per-asset scores, made in key order): past `budget` in memory each
 * one's JSON text, escaped for output, is appended to a temporary file as one line — no key, no sort, no merge — and read
 * back in the same order, its text copied by writers as it is (see {@link SpilledRecord}). Memory: the budget before the
 * first write, then one write buffer.
 */
export class OrderedSpill<T> {
  readonly #budget: number
  readonly #dir: string
  #mem: T[] = []
  #lines: LineBuffer | undefined
  #tmp: string | undefined
  #fd: number | undefined
  readonly #maxBytes: number
  /** Characters of JSON text held in memory before the first write ({@link jsonWeight}). */
  #memBytes = 0
  #bytes = 0
  #count = 0
  #released = false
  /** A write that failed: the file misses records, so every later add and read throws it. */
  #failed: Error | undefined

  /** `maxBytes`: characters of JSON text held before the first write (default {@link DEFAULT_MEMORY_BYTES}). */
  constructor(budget: number, dir = tmpdir(), opts: { readonly maxBytes?: number } = {}) {
    this.#budget = Math.max(1, budget)
    this.#dir = dir
    this.#maxBytes = Math.max(1, opts.maxBytes ?? DEFAULT_MEMORY_BYTES)
  }

  /** True once records were written to the temporary file. */
  get spilled(): boolean {
    return this.#lines !== undefined
  }

  /** Adds the next record. */
  add(v: T): void {
    if (this.#released) throw new Error('spill already released')
    if (this.#failed) throw this.#failed
    this.#count++
    if (this.#lines) return this.#lines.text(JSON.stringify(v))
    this.#mem.push(v)
    this.#memBytes += jsonWeight(v)
    if (this.#mem.length < this.#budget && this.#memBytes < this.#maxBytes) return
    this.#tmp = mkdtempSync(join(this.#dir, 'ztscan-spill-'))
    track(this.#tmp)
    this.#fd = openSync(join(this.#tmp, 'records.jsonl'), 'w+', 0o600)
    const lines = (this.#lines = new LineBuffer((b, n) => {
      try {
        writeAllSync(this.#fd!, b, n, this.#bytes)
      } catch (err) {
        this.#failed ??= asError(err)
        throw err
      }
      this.#bytes += n
      return b
    }))
    for (const x of this.#mem) lines.text(JSON.stringify(x))
    this.#mem = []
    this.#memBytes = 0
  }

  /** The records in order: a plain array when nothing was written, else a lazy view of the file (kept until released). */
  finish(): readonly T[] {
    if (this.#failed) throw this.#failed
    if (!this.#lines) return this.#mem
    this.#lines.end()
    return recordView(() => this.#read(), this, this.#count)
  }

  *#read(): Generator<SpilledRecord<T>> {
    if (this.#released) throw new Error('spilled records were released (releaseFindings) and can no longer be read')
    if (this.#failed) throw this.#failed
    const size = readChunk(1)
    let carry: Buffer = Buffer.alloc(0)
    let pos = 0
    while (pos < this.#bytes) {
      // As readRun: a long line's read grows geometrically.
      const chunk = readOn(this.#fd!, carry, pos, this.#bytes, size, 'spilled records', 2 * carry.length)
      pos += chunk.length - carry.length
      let from = 0
      let nl: number
      while ((nl = chunk.indexOf(10, from)) >= 0) {
        yield new SpilledRecord<T>('', chunk.subarray(from, nl))
        from = nl + 1
      }
      carry = chunk.subarray(from)
    }
    if (carry.length) throw new Error('spilled records: the temporary file ends inside a line')
  }

  /** Closes and removes the temporary file. */
  release(): void {
    if (this.#released) return
    this.#released = true
    this.#mem = []
    this.#lines = undefined
    if (this.#fd !== undefined) closeSync(this.#fd)
    if (this.#tmp) untrack(this.#tmp)
  }
}

/** The findings of a scan (the report's order). */
export class FindingStore extends SpillStore<Finding> {}

/**
 * Values aggregated by key with at most `budget` keys in memory, and at most `maxBytes` characters of JSON text (keys and
 * values as set, {@link jsonWeight}; a value set again counts again): past either, the partial values spill to the file as
 * one sorted run and the map starts empty; {@link entries} merges the runs and combines a key's partial values in the order
 * they were added (`combine(earlier, later)`). Values must survive `JSON.stringify` (plain objects, no Maps).
 */
export class SpillMap<V> {
  readonly #budget: number
  readonly #combine: (a: V, b: V) => V
  readonly #store: SpillStore<V>
  #mem = new Map<string, V>()
  readonly #maxBytes: number
  #bytes = 0

  constructor(budget: number, combine: (a: V, b: V) => V, dir = tmpdir(), opts: { readonly maxBytes?: number } = {}) {
    this.#budget = Math.max(1, budget)
    this.#combine = combine
    this.#maxBytes = Math.max(1, opts.maxBytes ?? DEFAULT_MEMORY_BYTES)
    this.#store = new SpillStore<V>(Number.MAX_SAFE_INTEGER, undefined, dir, { eager: false, maxBytes: Infinity })
  }

  /** The in-memory value of `key` (a key spilled earlier starts again from undefined; {@link entries} combines both). */
  get(key: string): V | undefined {
    return this.#mem.get(key)
  }

  set(key: string, v: V): void {
    if (this.#bytes >= this.#maxBytes || (this.#mem.size >= this.#budget && !this.#mem.has(key))) {
      for (const [k, x] of this.#mem) this.#store.add(x, k)
      this.#store.spillNow()
      this.#mem.clear()
      this.#bytes = 0
    }
    this.#mem.set(key, v)
    this.#bytes += key.length + jsonWeight(v)
  }

  /** True once partial values were written to the temporary file. */
  get spilled(): boolean {
    return this.#store.spilled
  }

  /** Keys in memory (all of them unless {@link spilled}). */
  get size(): number {
    return this.#mem.size
  }

  /**
   * Every key once, in key order, with its combined value, as a record: a key written to the file once only keeps the
   * JSON text it was spilled as (a writer copies it; see {@link SpilledRecord}). Call when every value was set (again to
   * read again).
   */
  *records(): Generator<SpilledRecord<V>> {
    for (const [k, x] of this.#mem) this.#store.add(x, k)
    this.#mem = new Map()
    this.#bytes = 0
    let cur: SpilledRecord<V> | undefined
    let combined: V | undefined
    let more = false
    for (const r of this.#store.sorted()) {
      if (cur && cur.key === r.key) {
        combined = this.#combine(more ? combined! : cur.value, r.value)
        more = true
        continue
      }
      if (cur) yield more ? new SpilledRecord<V>(cur.key, undefined, combined) : cur
      cur = r
      more = false
    }
    if (cur) yield more ? new SpilledRecord<V>(cur.key, undefined, combined) : cur
  }

  /** Every key once, in key order, with its combined value (see {@link records}). */
  *entries(): Generator<[string, V]> {
    for (const r of this.records()) yield [r.key, r.value]
  }

  /** Closes and removes the temporary file. */
  release(): void {
    this.#store.release()
  }
}

/** What a lazy view reads from: a store, a map, or several (released together). */
interface Releasable {
  release(): void
}
const stores = new WeakMap<object, Releasable>()

/** The values of records, in order. */
function* values<T>(records: Iterator<SpilledRecord<T>>): Generator<T> {
  for (let n = records.next(); !n.done; n = records.next()) yield n.value.value
}

/**
 * A lazy view over `source` that keeps `owner` (the store or map behind it) until {@link releaseFindings}: iterated once
 * for its length (cached), again by each reader. `source` may be another view: its records (JSON text as read back) pass.
 */
export function spilledView<T>(source: (() => Iterator<T>) | readonly T[], owner: Releasable, length?: number): readonly T[] {
  const from = source instanceof FindingView ? (source as FindingView<T>) : undefined
  const view = from
    ? new FindingView<T>(() => from[Symbol.iterator](), undefined, length, () => from.records()[Symbol.iterator]())
    : new FindingView<T>(typeof source === 'function' ? source : () => source[Symbol.iterator](), undefined, length)
  stores.set(view, owner)
  return view as unknown as readonly T[]
}

/** A lazy view over records (their JSON text passes to writers as read back), kept like {@link spilledView}. */
export function recordView<T>(records: () => Iterator<SpilledRecord<T>>, owner: Releasable, length?: number): readonly T[] {
  const view = new FindingView<T>(() => values(records()), undefined, length, records)
  stores.set(view, owner)
  return view as unknown as readonly T[]
}

/**
 * The records of a list with their JSON text: a spilled view's as read back from its file (copied by writers as they
 * are), an array's elements stringified one at a time when asked for.
 */
export function recordsOf<T>(list: Iterable<T>): Iterable<SpilledRecord<T>> {
  if (list instanceof FindingView) return (list as FindingView<T>).records()
  return wrapped(list)
}

function* wrapped<T>(list: Iterable<T>): Generator<SpilledRecord<T>> {
  for (const v of list) yield new SpilledRecord<T>('', undefined, v)
}

/** Makes {@link releaseFindings} release `extra` too when it releases `view` (e.g. counts made while findings arrived). */
export function releaseWith(view: object, extra: Releasable): void {
  const owner = stores.get(view)
  if (owner)
    stores.set(view, {
      release: () => {
        owner.release()
        extra.release()
      },
    })
}

/**
 * A lazy, read-only list of findings (a spilled report's `findings`, or a filter of one) or of other records (its
 * `passCounts`, `errors`, `skipped`, `score.assets`). It has the array methods readers use (`length`, `at`, `slice`,
 * `map`, `filter`, `find`, `some`, …) and is iterable, but no index access: `view[0]` throws a TypeError saying so
 * (it read `undefined`, quietly, though the report's type says array; see {@link INDEX_GUARD}).
 */
export class FindingView<T = Finding> implements Iterable<T> {
  readonly #source: () => Iterator<T>
  readonly #pred: ((f: T, i: number) => unknown) | undefined
  readonly #records: (() => Iterator<SpilledRecord<T>>) | undefined
  #length: number | undefined

  constructor(source: () => Iterator<T>, pred?: (f: T, i: number) => unknown, length?: number, records?: () => Iterator<SpilledRecord<T>>) {
    this.#source = source
    this.#pred = pred
    this.#length = length
    this.#records = pred ? undefined : records
  }

  /** The records with their JSON text (read back from the file as they are when the view has them: no parse). */
  records(): Iterable<SpilledRecord<T>> {
    const src = this.#records
    return src ? { [Symbol.iterator]: src } : wrapped(this)
  }

  *[Symbol.iterator](): Generator<T> {
    const it = this.#source()
    let i = 0
    for (let n = it.next(); !n.done; n = it.next()) if (!this.#pred || this.#pred(n.value, i++)) yield n.value
  }

  /** Records in the view (counted by one pass the first time for a filtered view). */
  get length(): number {
    if (this.#length === undefined) {
      let n = 0
      for (const _ of this) n++
      this.#length = n
    }
    return this.#length
  }

  filter(pred: (f: T, i: number) => unknown): FindingView<T> {
    return new FindingView<T>(() => this[Symbol.iterator](), pred)
  }
  map<U>(fn: (f: T, i: number) => U): U[] {
    const out: U[] = []
    let i = 0
    for (const f of this) out.push(fn(f, i++))
    return out
  }
  flatMap<U>(fn: (f: T, i: number) => U | readonly U[]): U[] {
    return this.map(fn).flat() as U[]
  }
  forEach(fn: (f: T, i: number) => void): void {
    let i = 0
    for (const f of this) fn(f, i++)
  }
  find(pred: (f: T, i: number) => unknown): T | undefined {
    let i = 0
    for (const f of this) if (pred(f, i++)) return f
    return undefined
  }
  some(pred: (f: T, i: number) => unknown): boolean {
    return this.find(pred) !== undefined
  }
  every(pred: (f: T, i: number) => unknown): boolean {
    let i = 0
    for (const f of this) if (!pred(f, i++)) return false
    return true
  }
  reduce<U>(fn: (acc: U, f: T, i: number) => U, init: U): U {
    let acc = init
    let i = 0
    for (const f of this) acc = fn(acc, f, i++)
    return acc
  }
  slice(start = 0, end = Infinity): T[] {
    const out: T[] = []
    let i = 0
    for (const f of this) {
      if (i >= end) break
      if (i++ >= start) out.push(f)
    }
    return out
  }
  at(i: number): T | undefined {
    return i < 0 ? this.slice(this.length + i, this.length + i + 1)[0] : this.slice(i, i + 1)[0]
  }
  /** A sorted array (unlike `Array.prototype.sort`, a new one: the view itself is read-only). */
  sort(cmp: (a: T, b: T) => number): T[] {
    return [...this].sort(cmp)
  }
  /** `JSON.stringify` sees the whole array (small consumers; the report writers stream instead). */
  toJSON(): T[] {
    return [...this]
  }
}

/**
 * The prototype of {@link FindingView}'s methods: a property a view lacks is looked up here, and an array index (`view[0]`,
 * `view['12']`) throws instead of reading `undefined` (fail closed: a caller indexing a spilled report's list would see
 * an empty one). Anything else is looked up on `Object.prototype` as usual; the views' own methods are found before this
 * (no cost to them).
 */
const INDEX_GUARD: object = new Proxy(Object.prototype, {
  get(target, key, receiver) {
    if (typeof key === 'string' && /^(?:0|[1-9]\d*)$/.test(key))
      throw new TypeError(`index ${key} of a lazy report list (a spilled report's findings, passCounts, errors, skipped or score.assets): it has no index access; iterate it, or use .at(${key}) or .slice()`)
    return Reflect.get(target, key, receiver) as unknown
  },
})
Object.setPrototypeOf(FindingView.prototype, INDEX_GUARD)

/** True when `list` is a view ztscan made together with its report (a scan's or a merge's), not a filter a caller made of one. */
export function isOwnView(list: unknown): boolean {
  return list instanceof FindingView && stores.has(list)
}

/** True when `findings` is a lazy view (a spilled report), which writers iterate instead of indexing. */
export function isFindingView(findings: unknown): findings is FindingView<unknown> {
  return findings instanceof FindingView
}

/**
 * Removes the temporary files behind a spilled report's findings, pass counts and per-asset scores (no-op for an
 * in-memory report). The CLI calls it when its
 * reports are written; a library user may, or leave it to process exit.
 */
export function releaseFindings(report: {
  readonly findings: readonly Finding[]
  readonly passCounts?: readonly unknown[]
  readonly errors?: readonly unknown[]
  readonly skipped?: readonly unknown[]
  readonly score?: { readonly assets?: readonly unknown[] }
}): void {
  for (const x of [report.findings, report.passCounts, report.errors, report.skipped, report.score?.assets] as unknown[]) if (x instanceof FindingView) stores.get(x)?.release()
}
