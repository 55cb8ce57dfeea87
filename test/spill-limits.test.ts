/**
 * Spill stores under large or hostile input (session 8 review): a spilled line of several MiB is read back with its bytes
 * copied a bounded number of times (not once per read chunk); an eager store counts its keys against its byte budget and
 * reserves a key's room from its escaped length; a synchronous write that fails (ENOSPC, EIO) fails the store (and a
 * TallyMap) for good — later adds, reads and `settled()` throw — instead of leaving the failed chunk to be written in
 * front of the next run.
 *
 * `node:fs` is the real module: readSync is counted as it is called, and writeSync fails (ENOSPC) only while a test says
 * so (a full disk is hostile behaviour a test cannot make on a shared machine without root).
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import type * as Fs from 'node:fs'

const io = vi.hoisted(() => ({ reads: 0, readOffsets: 0, failWrites: false }))
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof Fs>()
  const readSync = ((fd: number, buf: NodeJS.ArrayBufferView, offset: number, length: number, position: number | null): number => {
    io.reads++
    // The offset a read lands at is how many bytes of the previous chunk were copied in front of it (readOn).
    io.readOffsets += offset
    return fs.readSync(fd, buf, offset, length, position)
  }) as typeof fs.readSync
  const writeSync = ((...args: Parameters<typeof fs.writeSync>): number => {
    if (io.failWrites) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' })
    return (fs.writeSync as (...a: unknown[]) => number)(...args)
  }) as typeof fs.writeSync
  return { ...fs, default: { ...fs, readSync, writeSync }, readSync, writeSync }
})

const { OrderedSpill, SpillStore } = await import('../src/engine/spill.ts')
const { TallyMap } = await import('../src/engine/tally.ts')

afterEach(() => {
  io.failWrites = false
  vi.restoreAllMocks()
})

const MiB = 1024 * 1024
type Rec = { i: number; text: string }
/** A record whose JSON text is about `n` bytes (plain ASCII: written as it is). */
const long = (i: number, n: number): Rec => ({ i, text: `${i}:`.padEnd(n, 'abcdefgh') })

/** Bytes of the records' JSON text, one line each. */
const textBytes = (recs: readonly Rec[]): number => recs.reduce((n, r) => n + JSON.stringify(r).length + 1, 0)

describe('a spilled line longer than the read chunk', () => {
  it('SpillStore: four 3 MiB records read back equal, each byte copied a bounded number of times', () => {
    const recs = [long(3, 3 * MiB), long(1, 3 * MiB), long(0, 3 * MiB), long(2, 3 * MiB)]
    // Budget 1: each record is its own run (a 256 KiB read chunk per run).
    const store = new SpillStore<Rec>(1, (r) => String(r.i))
    try {
      for (const r of recs) store.add(r)
      const view = store.finish()
      io.reads = 0
      io.readOffsets = 0
      const back = [...view]
      expect(back.map((r) => r.i)).toEqual([0, 1, 2, 3])
      expect(back).toEqual([...recs].sort((a, b) => a.i - b.i))
      // Chunk by chunk, a 3 MiB line is copied again at each of its 12 chunks (~18 MiB a line); growing the read
      // geometrically copies it less than its length again.
      const bytes = textBytes(recs)
      expect(io.readOffsets).toBeLessThanOrEqual(2 * bytes)
      expect(io.reads).toBeLessThanOrEqual(4 * 6)
    } finally {
      store.release()
    }
  })

  it('OrderedSpill: the same through its reader', () => {
    const recs = [long(0, 3 * MiB), long(1, 10), long(2, 4 * MiB), long(3, 3 * MiB)]
    const spill = new OrderedSpill<Rec>(1)
    try {
      for (const r of recs) spill.add(r)
      const view = spill.finish()
      io.reads = 0
      io.readOffsets = 0
      expect([...view]).toEqual(recs)
      expect(io.readOffsets).toBeLessThanOrEqual(2 * textBytes(recs))
      expect(io.reads).toBeLessThanOrEqual(4 * 6)
    } finally {
      spill.release()
    }
  })
})

describe('an eager store weighs its keys', () => {
  it('after its first run, records with long keys spill by the keys’ bytes too', () => {
    // Tiny records with 100,000-character keys, in a 1,000,000-character budget: about ten keys' worth at a time.
    const store = new SpillStore<{ i: number }>(10_000, (r) => `k${String(r.i % 97).padStart(3, '0')}`.padEnd(100_000, '.'), undefined, { maxBytes: 1_000_000 })
    const held: number[] = []
    try {
      for (let i = 0; i < 200; i++) {
        store.add({ i })
        held.push(store.held)
      }
      expect(store.spilled).toBe(true)
      expect(Math.max(...held)).toBeLessThanOrEqual(11)
      const back = [...store.finish()]
      expect(back).toHaveLength(200)
      const keys = back.map((r) => r.i % 97)
      expect(keys).toEqual([...keys].sort((a, b) => a - b))
    } finally {
      store.release()
    }
  })

  it('a 4 MiB key with one non-ASCII character reserves about its escaped length, not 6 bytes a character', () => {
    const msg = `é${'m'.repeat(4 * MiB)}`
    const store = new SpillStore<{ i: number; message: string }>(10_000, (r) => `t\0c\0${r.message}`)
    const sizes: number[] = []
    try {
      // A first, small run: later records are added as text and copied into the write buffer with their keys.
      store.add({ i: 0, message: 'a' })
      store.spillNow()
      store.add({ i: 1, message: msg })
      // The buffers the run is written from (the record's text was kept when it was added).
      const alloc = Buffer.allocUnsafe.bind(Buffer)
      vi.spyOn(Buffer, 'allocUnsafe').mockImplementation((n: number) => {
        sizes.push(n)
        return alloc(n)
      })
      store.spillNow()
      vi.restoreAllMocks()
      // The key (~4 MiB) and the record's text (~4 MiB) in one line: 6 bytes a key character would be over 24 MiB.
      expect(Math.max(...sizes)).toBeLessThanOrEqual(10 * MiB)
      const back = [...store.finish()]
      expect(back.map((r) => r.i)).toEqual([0, 1])
      expect(back[1]!.message).toBe(msg)
    } finally {
      store.release()
    }
  })
})

describe('a synchronous spill write that fails', () => {
  const key = (r: Rec): string => String(r.i).padStart(4, '0')

  it('fails the store: later adds, spillNow and reads throw, settled() rejects (the failed chunk is not written again)', async () => {
    const store = new SpillStore<Rec>(10, key)
    try {
      for (let i = 0; i < 25; i++) store.add(long(i, 100))
      io.failWrites = true
      let thrown: unknown
      try {
        for (let i = 25; i < 60; i++) store.add(long(i, 100))
      } catch (err) {
        thrown = err
      }
      expect((thrown as NodeJS.ErrnoException | undefined)?.code).toBe('ENOSPC')
      io.failWrites = false
      // The disk has room again: the store stays failed (its file misses a run), it does not write the stale chunk.
      expect(() => store.add(long(99, 100))).toThrow(/ENOSPC/)
      expect(() => store.spillNow()).toThrow(/ENOSPC/)
      await expect(store.settled()).rejects.toThrow(/ENOSPC/)
      expect(() => [...store.finish()]).toThrow(/ENOSPC/)
    } finally {
      store.release()
    }
  })

  it('an asynchronous store past its in-flight bytes writes synchronously: a failure there fails it too', async () => {
    const store = new SpillStore<Rec>(1, key, undefined, { async: true })
    try {
      io.failWrites = true
      // Budget 1: every add is a run; the asynchronous writes are real, the synchronous ones (past 8 MiB in flight) fail.
      let thrown: unknown
      try {
        for (let i = 0; i < 40; i++) store.add(long(i, MiB))
      } catch (err) {
        thrown = err
      }
      expect((thrown as NodeJS.ErrnoException | undefined)?.code).toBe('ENOSPC')
      io.failWrites = false
      expect(() => store.add(long(99, 100))).toThrow(/ENOSPC/)
      await expect(store.settled()).rejects.toThrow(/ENOSPC/)
    } finally {
      store.release()
    }
  })

  it('OrderedSpill: later adds and reads throw', () => {
    const spill = new OrderedSpill<Rec>(2)
    try {
      spill.add(long(0, 100))
      spill.add(long(1, 100))
      io.failWrites = true
      let thrown: unknown
      try {
        // A 2 MiB record does not fit the 1 MiB write buffer: what is gathered is written first.
        spill.add(long(2, 2 * MiB))
      } catch (err) {
        thrown = err
      }
      expect((thrown as NodeJS.ErrnoException | undefined)?.code).toBe('ENOSPC')
      io.failWrites = false
      expect(() => spill.add(long(3, 100))).toThrow(/ENOSPC/)
      expect(() => [...spill.finish()]).toThrow(/ENOSPC/)
    } finally {
      spill.release()
    }
  })

  it('TallyMap: later sets and reads throw (its spill buffer does not keep the failed chunk to double-count)', () => {
    const m = new TallyMap<number>(10, (a, b) => a + b, { write: (w, v) => w.num(v), read: (r) => r.num() })
    try {
      for (let i = 0; i < 25; i++) m.set(`k${String(i).padStart(3, '0')}`, 1)
      expect(m.spilled).toBe(true)
      io.failWrites = true
      let thrown: unknown
      try {
        for (let i = 25; i < 40; i++) m.set(`k${String(i).padStart(3, '0')}`, 1)
      } catch (err) {
        thrown = err
      }
      expect((thrown as NodeJS.ErrnoException | undefined)?.code).toBe('ENOSPC')
      io.failWrites = false
      expect(() => m.set('k999', 1)).toThrow(/ENOSPC/)
      expect(() => [...m.entries()]).toThrow(/ENOSPC/)
    } finally {
      m.release()
    }
  })
})
