/**
 * @fileoverview Findings beyond an in-memory budget spill to a temporary JSON Lines file (in `os.tmpdir()`, mode 0600,
 * removed by {@link releaseFindings}, and at process exit whatever happened), never to the heap. Each spill is one sorted
 * run; reading back merges the runs and the in-memory rest in order, one finding at a time, so writers stream a report
 * of any size with memory bounded by the budget.
 *
 * A spilled report's `findings` is a {@link FindingView}: iterable, with `length` and the read-only array methods the
 * writers use (`filter` gives another lazy view; `map`, `slice`, `sort` return arrays; `toJSON` makes `JSON.stringify`
 * see the whole array). Index access (`findings[i]`) is not supported on a spilled view.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Finding } from '../types.ts'

/** Findings kept in memory before the rest spill to a temporary file (per scan). */
export const DEFAULT_MEMORY_FINDINGS = 50_000

/** Temporary directories still on disk, removed at process exit if nothing released them before. */
const live = new Set<string>()
let exitHook = false
function track(dir: string): void {
  live.add(dir)
  if (exitHook) return
  exitHook = true
  process.once('exit', () => {
    for (const d of live) rmSync(d, { recursive: true, force: true })
  })
}

const READ_CHUNK = 256 * 1024
const WRITE_CHUNK = 1 << 20

/** The findings of one byte range of the spill file (one sorted run), parsed one line at a time. */
function* readRun(fd: number, start: number, end: number): Generator<Finding> {
  const buf = Buffer.allocUnsafe(READ_CHUNK)
  let carry: Buffer = Buffer.alloc(0)
  let pos = start
  while (pos < end) {
    const n = readSync(fd, buf, 0, Math.min(READ_CHUNK, end - pos), pos)
    if (n <= 0) throw new Error('spilled findings: the temporary file ended early')
    pos += n
    const chunk = carry.length ? Buffer.concat([carry, buf.subarray(0, n)]) : buf.subarray(0, n)
    let from = 0
    let nl: number
    const found: Finding[] = []
    while ((nl = chunk.indexOf(10, from)) >= 0) {
      found.push(JSON.parse(chunk.toString('utf8', from, nl)) as Finding)
      from = nl + 1
    }
    // Copy the incomplete tail: `buf` is reused by the next read.
    carry = Buffer.from(chunk.subarray(from))
    yield* found
  }
  if (carry.length) throw new Error('spilled findings: the temporary file ends inside a line')
}

/** Collects findings; past `budget` in memory, sorts them and appends them to the spill file as one run. */
export class FindingStore {
  readonly #budget: number
  readonly #key: (f: Finding) => string
  readonly #dir: string
  #mem: Finding[] = []
  #tmp: string | undefined
  #fd: number | undefined
  #bytes = 0
  #count = 0
  readonly #runs: { start: number; end: number }[] = []
  #released = false

  /** `key` orders the findings (the report's order); `dir` holds the temporary directory (default `os.tmpdir()`). */
  constructor(budget: number, key: (f: Finding) => string, dir = tmpdir()) {
    this.#budget = Math.max(1, budget)
    this.#key = key
    this.#dir = dir
  }

  /** Findings added so far. */
  get count(): number {
    return this.#count
  }

  /** True once findings were written to the temporary file. */
  get spilled(): boolean {
    return this.#runs.length > 0
  }

  add(f: Finding): void {
    if (this.#released) throw new Error('finding store already released')
    this.#mem.push(f)
    this.#count++
    if (this.#mem.length >= this.#budget) this.#spill()
  }

  #sorted(list: Finding[]): Finding[] {
    const keyed = list.map((f) => ({ k: this.#key(f), f }))
    keyed.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0))
    return keyed.map((x) => x.f)
  }

  #write(s: string): void {
    const b = Buffer.from(s, 'utf8')
    let off = 0
    while (off < b.length) off += writeSync(this.#fd!, b, off, b.length - off, this.#bytes + off)
    this.#bytes += b.length
  }

  #spill(): void {
    if (this.#fd === undefined) {
      this.#tmp = mkdtempSync(join(this.#dir, 'ztscan-spill-'))
      track(this.#tmp)
      this.#fd = openSync(join(this.#tmp, 'findings.jsonl'), 'w+', 0o600)
    }
    const start = this.#bytes
    let buf = ''
    for (const f of this.#sorted(this.#mem)) {
      buf += JSON.stringify(f) + '\n'
      if (buf.length >= WRITE_CHUNK) {
        this.#write(buf)
        buf = ''
      }
    }
    if (buf) this.#write(buf)
    this.#runs.push({ start, end: this.#bytes })
    this.#mem = []
  }

  /** Every finding in order: the spilled runs and the in-memory rest, merged. */
  *#merged(): Generator<Finding> {
    if (this.#released) throw new Error('spilled findings were released (releaseFindings) and can no longer be read')
    const sources: Iterator<Finding>[] = [...this.#runs.map((r) => readRun(this.#fd!, r.start, r.end)), this.#mem[Symbol.iterator]()]
    const heads: ({ k: string; f: Finding } | undefined)[] = sources.map((s) => {
      const n = s.next()
      return n.done ? undefined : { k: this.#key(n.value), f: n.value }
    })
    for (;;) {
      let best = -1
      for (let i = 0; i < heads.length; i++) if (heads[i] && (best < 0 || heads[i]!.k < heads[best]!.k)) best = i
      if (best < 0) return
      const { f } = heads[best]!
      const n = sources[best]!.next()
      heads[best] = n.done ? undefined : { k: this.#key(n.value), f: n.value }
      yield f
    }
  }

  /**
   * The findings in order: a plain sorted array when nothing spilled, else a {@link FindingView} over the file and the
   * in-memory rest (the store must then live until {@link releaseFindings}).
   */
  finish(): readonly Finding[] {
    this.#mem = this.#sorted(this.#mem)
    if (!this.spilled) return this.#mem
    const view = new FindingView(() => this.#merged(), undefined, this.#count)
    stores.set(view, this)
    return view as unknown as readonly Finding[]
  }

  /** Closes and removes the temporary file. */
  release(): void {
    if (this.#released) return
    this.#released = true
    this.#mem = []
    if (this.#fd !== undefined) closeSync(this.#fd)
    if (this.#tmp) {
      rmSync(this.#tmp, { recursive: true, force: true })
      live.delete(this.#tmp)
    }
  }
}

const stores = new WeakMap<FindingView, FindingStore>()

/** A lazy, read-only list of findings (a spilled report's `findings`, or a filter of one). */
export class FindingView implements Iterable<Finding> {
  readonly #source: () => Iterator<Finding>
  readonly #pred: ((f: Finding, i: number) => unknown) | undefined
  #length: number | undefined

  constructor(source: () => Iterator<Finding>, pred?: (f: Finding, i: number) => unknown, length?: number) {
    this.#source = source
    this.#pred = pred
    this.#length = length
  }

  *[Symbol.iterator](): Generator<Finding> {
    const it = this.#source()
    let i = 0
    for (let n = it.next(); !n.done; n = it.next()) if (!this.#pred || this.#pred(n.value, i++)) yield n.value
  }

  /** Findings in the view (counted by one pass the first time for a filtered view). */
  get length(): number {
    if (this.#length === undefined) {
      let n = 0
      for (const _ of this) n++
      this.#length = n
    }
    return this.#length
  }

  filter(pred: (f: Finding, i: number) => unknown): FindingView {
    return new FindingView(() => this[Symbol.iterator](), pred)
  }
  map<T>(fn: (f: Finding, i: number) => T): T[] {
    const out: T[] = []
    let i = 0
    for (const f of this) out.push(fn(f, i++))
    return out
  }
  flatMap<T>(fn: (f: Finding, i: number) => T | readonly T[]): T[] {
    return this.map(fn).flat() as T[]
  }
  forEach(fn: (f: Finding, i: number) => void): void {
    let i = 0
    for (const f of this) fn(f, i++)
  }
  find(pred: (f: Finding, i: number) => unknown): Finding | undefined {
    let i = 0
    for (const f of this) if (pred(f, i++)) return f
    return undefined
  }
  some(pred: (f: Finding, i: number) => unknown): boolean {
    return this.find(pred) !== undefined
  }
  every(pred: (f: Finding, i: number) => unknown): boolean {
    let i = 0
    for (const f of this) if (!pred(f, i++)) return false
    return true
  }
  reduce<T>(fn: (acc: T, f: Finding, i: number) => T, init: T): T {
    let acc = init
    let i = 0
    for (const f of this) acc = fn(acc, f, i++)
    return acc
  }
  slice(start = 0, end = Infinity): Finding[] {
    const out: Finding[] = []
    let i = 0
    for (const f of this) {
      if (i >= end) break
      if (i++ >= start) out.push(f)
    }
    return out
  }
  at(i: number): Finding | undefined {
    return i < 0 ? this.slice(this.length + i, this.length + i + 1)[0] : this.slice(i, i + 1)[0]
  }
  /** A sorted array (unlike `Array.prototype.sort`, a new one: the view itself is read-only). */
  sort(cmp: (a: Finding, b: Finding) => number): Finding[] {
    return [...this].sort(cmp)
  }
  /** `JSON.stringify` sees the whole array (small consumers; the report writers stream instead). */
  toJSON(): Finding[] {
    return [...this]
  }
}

/** True when `findings` is a lazy view (a spilled report), which writers iterate instead of indexing. */
export function isFindingView(findings: unknown): findings is FindingView {
  return findings instanceof FindingView
}

/**
 * Removes the temporary file behind a spilled report's findings (no-op for an in-memory report). The CLI calls it when its
 * reports are written; a library user may, or leave it to process exit.
 */
export function releaseFindings(report: { readonly findings: readonly Finding[] }): void {
  const f = report.findings as unknown
  if (f instanceof FindingView) stores.get(f)?.release()
}
