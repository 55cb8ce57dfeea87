/**
 * @fileoverview Distinct device ids of a 1M-device export in typed arrays (about 16 bytes an id, off the JS heap), not a Map
 * of id strings (about 90 bytes an id): an id is known by a 64-bit hash, seeded at random per table, and each distinct hash
 * gets a slot (0, 1, 2, … in the order the hashes first show). Two different ids of one hash share a slot: a caller that
 * needs exact ids re-checks the slots that saw more than one record (`inventory-stream.ts` does, by re-reading the file).
 */

/** Two 32-bit lanes of a string's hash (cyrb53's mixing, both lanes kept: 64 bits). */
export type IdHash = (s: string, seedA: number, seedB: number, out: Int32Array) => void

/** The default hash: each UTF-16 unit mixed into two lanes (linear in the id, no allocation). */
export const hashId: IdHash = (s, seedA, seedB, out) => {
  let h1 = 0xdeadbeef ^ seedA
  let h2 = 0x41c6ce57 ^ seedB
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    h1 = Math.imul(h1 ^ c, 2654435761)
    h2 = Math.imul(h2 ^ c, 1597334677)
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909)
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909)
  out[0] = h1 ^ s.length
  out[1] = h2
}

/** A typed array of any length that doubles as it is written past its end. */
export class Column<T extends Int32Array | Uint32Array | Uint8Array> {
  data: T
  readonly #make: (n: number) => T
  constructor(make: (n: number) => T, initial = 1024) {
    this.#make = make
    this.data = make(initial)
  }
  set(i: number, v: number): void {
    if (i >= this.data.length) {
      const next = this.#make(Math.max(i + 1, this.data.length * 2))
      next.set(this.data)
      this.data = next
    }
    this.data[i] = v
  }
  get(i: number): number {
    return i < this.data.length ? this.data[i]! : 0
  }
}

/** Ids by 64-bit hash → slot: an open-addressing table (linear probing, at most half full) over the slots' hashes. */
export class IdSlots {
  readonly #hash: IdHash
  readonly #seedA: number
  readonly #seedB: number
  readonly #h = new Int32Array(2)
  /** Bucket → slot + 1 (0: empty). */
  #table = new Int32Array(2048)
  readonly #hi = new Column((n) => new Int32Array(n))
  readonly #lo = new Column((n) => new Int32Array(n))
  #size = 0
  /** Set by {@link add}: whether the last id added took a new slot. */
  added = false

  /** `hash` replaces the default (tests force collisions with it). */
  constructor(hash: IdHash = hashId) {
    this.#hash = hash
    this.#seedA = (Math.random() * 2 ** 32) | 0
    this.#seedB = (Math.random() * 2 ** 32) | 0
  }

  /** Distinct hashes seen (slots). */
  get size(): number {
    return this.#size
  }

  /** The slot of `id`'s hash, taking the next one when the hash is new (then {@link added} is true). */
  add(id: string): number {
    const b = this.#bucket(id)
    const s = this.#table[b]!
    if (s) {
      this.added = false
      return s - 1
    }
    this.added = true
    const slot = this.#size++
    this.#hi.set(slot, this.#h[0]!)
    this.#lo.set(slot, this.#h[1]!)
    this.#table[b] = slot + 1
    if (this.#size * 2 > this.#table.length) this.#grow()
    return slot
  }

  /** The slot of `id`'s hash; -1 when no id of that hash was added. */
  find(id: string): number {
    return this.#table[this.#bucket(id)]! - 1
  }

  /** The bucket holding `id`'s hash, or the empty one where it would go; leaves the hash in `#h`. */
  #bucket(id: string): number {
    this.#hash(id, this.#seedA, this.#seedB, this.#h)
    const [hi, lo] = this.#h as unknown as [number, number]
    return this.#probe(hi, lo)
  }

  #probe(hi: number, lo: number): number {
    const table = this.#table
    const mask = table.length - 1
    const his = this.#hi.data
    const los = this.#lo.data
    for (let b = (lo ^ Math.imul(hi, 0x9e3779b1)) & mask; ; b = (b + 1) & mask) {
      const s = table[b]!
      if (!s || (his[s - 1] === hi && los[s - 1] === lo)) return b
    }
  }

  #grow(): void {
    this.#table = new Int32Array(this.#table.length * 2)
    for (let slot = 0; slot < this.#size; slot++) this.#table[this.#probe(this.#hi.data[slot]!, this.#lo.data[slot]!)] = slot + 1
  }
}
