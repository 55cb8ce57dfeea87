/**
 * Spill stores under large input (session 8 review): a spilled line of several MiB is read back with its bytes copied a
 * bounded number of times (not once per read chunk).
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
