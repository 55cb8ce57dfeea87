/**
 * @fileoverview Records appended to a temporary file and read back by their ordinal, for a check that must keep a value per
 * item of a big input (the coverage join: each device's id, host name, serial and MACs) without holding it on the heap:
 * each record one JSON line in a file of `os.tmpdir()` (mode 0600, removed by {@link RecordFile.release}, or at process exit
 * whatever happened); memory keeps 8 bytes a record (its offset) and a write buffer of 1 MiB.
 */
import { closeSync, mkdtempSync, openSync, readSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { track, untrack } from './spill.ts'

/** JSON values written once, in order, and read back by ordinal (see the file overview). */
export class RecordFile<T> {
  readonly #dir: string
  readonly #fd: number
  /** Offset of each record's line; entry `size` is the end of the last (off the heap, doubled as it fills). */
  #at = new Float64Array(1024)
  #size = 0
  #bytes = 0
  #buf = Buffer.allocUnsafe(1 << 20)
  #used = 0
  #released = false

  constructor(dir = tmpdir()) {
    this.#dir = mkdtempSync(join(dir, 'ztscan-records-'))
    track(this.#dir)
    this.#fd = openSync(join(this.#dir, 'records.jsonl'), 'w+', 0o600)
  }

  /** Records written. */
  get size(): number {
    return this.#size
  }

  /** Appends a record; returns its ordinal. */
  add(value: T): number {
    const line = `${JSON.stringify(value)}\n`
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    if (this.#used + line.length * 3 > this.#buf.length) this.#flush()
    if (line.length * 3 > this.#buf.length) this.#buf = Buffer.allocUnsafe(line.length * 3)
    const n = this.#buf.write(line, this.#used)
    this.#used += n
    this.#bytes += n
    if (this.#size + 1 === this.#at.length) {
      const at = new Float64Array(this.#at.length * 2)
      at.set(this.#at)
      this.#at = at
    }
    this.#at[this.#size + 1] = this.#bytes
    return this.#size++
  }

  #flush(): void {
    let off = 0
    while (off < this.#used) off += writeSync(this.#fd, this.#buf, off, this.#used - off, this.#bytes - this.#used + off)
    this.#used = 0
  }

  /**
   * A reader of records by ordinal (after the last {@link add}), with a read block of its own: reading in order takes one
   * `read` per 64 KiB; a lookup that does not follow the previous one reads that record's bytes only (a random lookup
   * costs its record, not a block). Several readers can go through one file at once (one in order, another at random).
   */
  reader(): (j: number) => T {
    this.#flush()
    // One block per reader, reused (a parsed record keeps nothing of it); a record longer than the block gets its own.
    let buf = Buffer.allocUnsafe(1 << 16)
    let block = buf.subarray(0, 0)
    let from = 0
    // The previous lookup (none: record 0 starts a block): the record after it starts a block, any other is read alone.
    let last = -1
    return (j) => {
      if (this.#released) throw new Error('record file already released')
      if (!(j >= 0 && j < this.#size)) throw new RangeError(`record ${j} of ${this.#size}`)
      const start = this.#at[j]!
      const end = this.#at[j + 1]!
      if (start < from || end > from + block.length) {
        if (end - start > buf.length) buf = Buffer.allocUnsafe(end - start)
        const n = readSync(this.#fd, buf, 0, j === last + 1 ? buf.length : end - start, start)
        block = buf.subarray(0, n)
        from = start
        if (end > from + n) throw new Error('record file: the temporary file ended early')
      }
      last = j
      return JSON.parse(block.toString('utf8', start - from, end - from)) as T
    }
  }

  /** Closes and removes the file. */
  release(): void {
    if (this.#released) return
    this.#released = true
    closeSync(this.#fd)
    untrack(this.#dir)
  }
}
