/**
 * @fileoverview What the two spill files (spill.ts' findings and JSON records, tally.ts' binary tallies) share: their
 * write and read buffer sizes, the read of a run's next bytes, and the merge of their sorted runs by key.
 */
import { readSync } from 'node:fs'

/** Bytes gathered before a spill file is written to. */
export const WRITE_CHUNK = 1 << 20

/**
 * Records of a run once a store or map has spilled (when its budget is larger): past the budget, records are held for a
 * short time only, so that they die young. A record held until a spill of 20,000 keys outlives a few scavenges and is
 * copied and promoted, then collected by a full GC: most of the main thread's GC time on a large scan. The cost is more
 * runs to merge (a deeper heap, smaller read buffers).
 */
export const SHORT_RUN = 512

/**
 * Records a run may hold: the `budget` until the first run is written, then {@link SHORT_RUN}, doubled every 512 runs up
 * to the budget, so that a huge input does not make thousands of runs to merge (each with its read buffer): at most about
 * 512 runs per doubling more than the budget alone would make.
 */
export const runLimit = (budget: number, runs: number): number => (runs ? Math.min(budget, SHORT_RUN * 2 ** Math.floor((runs - 1) / 512)) : budget)

/**
 * Read buffer of one run while merging `runs` runs: 8 MiB shared by up to 512 runs (256 KiB each for 32 runs or fewer);
 * past 512 runs 16 KiB each, so `runs` × 16 KiB in all ({@link runLimit} keeps the number of runs bounded).
 */
export const readChunk = (runs: number): number => Math.max(16 * 1024, Math.min(256 * 1024, Math.floor((8 << 20) / Math.max(1, runs))))

/**
 * A run's next bytes: `rest` (the unread end of the previous chunk) followed by the file's bytes from `pos`, `size` of them
 * or at least enough for `min` bytes in all, up to the run's `end`. A new buffer each time: records may keep slices of
 * the previous one for as long as a reader holds them. `what` names the file in the error for a file that ends early.
 */
export function readOn(fd: number, rest: Buffer, pos: number, end: number, size: number, what: string, min = 0): Buffer {
  const want = Math.min(Math.max(size, min - rest.length), end - pos)
  const buf = Buffer.allocUnsafe(rest.length + want)
  rest.copy(buf, 0)
  let got = 0
  while (got < want) {
    const k = readSync(fd, buf, rest.length + got, want - got, pos + got)
    if (k <= 0) throw new Error(`${what}: the temporary file ended early`)
    got += k
  }
  return buf
}

/**
 * The records of sorted `sources` merged by key (UTF-16 code units, as `<` compares strings); equal keys come in the order
 * of their sources (the lower index first), and one source's in its own order. A binary heap of the sources' next records:
 * an entry is moved, not swapped, and reused for its source's next record.
 */
export function* mergeByKey<R extends { readonly key: string }>(sources: readonly Iterator<R>[]): Generator<R> {
  type Entry = { r: R; readonly i: number }
  const heap: Entry[] = []
  const before = (a: Entry, b: Entry): boolean => a.r.key < b.r.key || (a.r.key === b.r.key && a.i < b.i)
  const down = (h: Entry): void => {
    const n = heap.length
    let c = 0
    for (;;) {
      const l = 2 * c + 1
      if (l >= n) break
      const m = l + 1 < n && before(heap[l + 1]!, heap[l]!) ? l + 1 : l
      if (!before(heap[m]!, h)) break
      heap[c] = heap[m]!
      c = m
    }
    heap[c] = h
  }
  for (let i = 0; i < sources.length; i++) {
    const n = sources[i]!.next()
    if (n.done) continue
    const h: Entry = { r: n.value, i }
    let c = heap.push(h) - 1
    while (c > 0) {
      const p = (c - 1) >> 1
      if (!before(h, heap[p]!)) break
      heap[c] = heap[p]!
      c = p
    }
    heap[c] = h
  }
  while (heap.length) {
    const top = heap[0]!
    const r = top.r
    const n = sources[top.i]!.next()
    if (!n.done) {
      top.r = n.value
      down(top)
    } else {
      const last = heap.pop()!
      if (heap.length) down(last)
    }
    yield r
  }
}
