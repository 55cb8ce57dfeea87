/**
 * The spill file's fast paths: keys written raw when they can be (read back without a parse), JSON text written straight
 * into the file's buffer (escaped only when it needs it), records turned into text as they arrive once the store spilled.
 * Each must give what the plain way gives: keys in JavaScript's string order (equal keys in the order added), every
 * record's bytes equal to `escapeJsonText(JSON.stringify(record))`, and the record itself back.
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { Writable } from 'node:stream'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { SpillStore } from '../src/engine/spill.ts'
import { escapeJsonText } from '../src/report/escape.ts'
import { stringifyJson, writeJson } from '../src/report/json.ts'
import type { ScanReport } from '../src/types.ts'

/** Characters a hostile target or export may put in a key or a record: separators, quotes, controls, surrogates. */
const HOSTILE = ['a', 'b', '"', '\\', '\t', '\n', '\r', '\0', '\x1b', '\x7f', '\u0085', '\u009b', 'é', '\u2028', '\u2029', '\u202e', '\u2066', '\ufeff', '\ud800', '\udfff', '\ud83d\ude00', '\ue000', '\uffff', '~', ' ']
const hostileString = fc.array(fc.constantFrom(...HOSTILE), { maxLength: 12 }).map((a) => a.join(''))

type Rec = { readonly n: number; readonly s: string; readonly o: Record<string, unknown> }

/** What the plain way writes for a record: its JSON, escaped for output, as UTF-8. */
const plainBytes = (v: unknown): Buffer => Buffer.from(escapeJsonText(JSON.stringify(v)), 'utf8')

/** Every record of a store in its order, with its key, bytes (when read back as text) and value. */
function readAll(store: SpillStore<Rec>): { key: string; bytes: Buffer | undefined; value: Rec }[] {
  return [...store.sorted()].map((r) => ({ key: r.key, bytes: r.bytes, value: r.value }))
}

describe('SpillStore: raw keys, direct JSON text, records turned into text as they arrive', () => {
  it('any keys and records, any budget: JavaScript string order (equal keys as added), the plain bytes, the same values', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.oneof(hostileString, fc.constantFrom('k', 'k\0x', 'k\0', '', '"k', 'é')), hostileString), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 1, max: 9 }),
        (items, budget) => {
          const store = new SpillStore<Rec>(budget)
          const recs = items.map(([k, s], n) => ({ k, r: { n, s, o: { [s]: s, __proto__: s, ['\u2028']: [s, n] } } }))
          for (const { k, r } of recs) store.add(r, k)
          try {
            const want = [...recs].sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : a.r.n - b.r.n))
            const got = readAll(store)
            expect(got.map((g) => g.key)).toEqual(want.map((w) => w.k))
            expect(got.map((g) => g.value)).toEqual(want.map((w) => JSON.parse(JSON.stringify(w.r))))
            expect(store.spilled).toBe(items.length >= budget)
            // Spilled and eager records are text: exactly the plain bytes (in memory before any spill: the values).
            for (const [i, g] of got.entries()) if (store.spilled) expect(g.bytes?.equals(plainBytes(want[i]!.r))).toBe(true)
            // Read twice: the same.
            expect(readAll(store).map((g) => g.key)).toEqual(want.map((w) => w.k))
          } finally {
            store.release()
          }
        },
      ),
      { numRuns: 300 },
    )
  })

  it('records longer than the write buffer (1 MiB), with characters to escape, spill and read back whole', () => {
    const store = new SpillStore<Rec>(2)
    const big = (n: number, c: string): Rec => ({ n, s: `${c.repeat(700_000)}\u2028"\\`, o: { tail: '\ud800'.repeat(3) } })
    const recs = [big(0, 'é'), big(1, 'x'), { n: 2, s: 'small', o: {} }, big(3, '\u202e'), big(4, 'y')]
    recs.forEach((r, i) => store.add(r, `k${4 - i}`))
    try {
      const got = readAll(store)
      expect(got.map((g) => g.value.n)).toEqual([4, 3, 2, 1, 0])
      for (const g of got) {
        expect(g.bytes?.equals(plainBytes(recs[g.value.n]))).toBe(true)
        expect(g.value).toEqual(recs[g.value.n])
      }
      expect(got[1]!.bytes!.length).toBeGreaterThan(2 << 20)
    } finally {
      store.release()
    }
  })

  it('records read from memory stay whole when more records arrive and spill after the read', () => {
    const store = new SpillStore<Rec>(3)
    for (let n = 0; n < 5; n++) store.add({ n, s: `r${n}`, o: {} }, `k${n}`)
    const held = readAll(store)
    for (let n = 5; n < 9; n++) store.add({ n, s: `r${n}`.repeat(50), o: {} }, `k${n}`)
    try {
      expect(held.map((g) => g.bytes?.toString('utf8'))).toEqual([0, 1, 2, 3, 4].map((n) => JSON.stringify({ n, s: `r${n}`, o: {} })))
      expect(readAll(store).map((g) => g.value.n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8])
    } finally {
      store.release()
    }
  })

  it('the JSON writer copies spilled records in blocks: the same text as the records written one by one, at any size', async () => {
    const store = new SpillStore<Rec>(4)
    // Sizes around the writer's 64 KiB block: many small records per block, one record filling one, one larger than one.
    const sizes = [10, 65_000, 30, 70_000, 65_530, 1, 200_000, ...Array.from({ length: 300 }, (_, i) => (i * 977) % 3000)]
    const recs = sizes.map((n, i) => ({ n: i, s: `${'\u2028é"'.repeat(i % 3)}${'x'.repeat(n)}`, o: {} }))
    recs.forEach((r, i) => store.add(r, String(i).padStart(4, '0')))
    const report = (findings: readonly Rec[]) => ({ schemaVersion: '1.0', findings, errors: [] }) as unknown as ScanReport
    try {
      const chunks: Buffer[] = []
      await writeJson(report(store.finish()), new Writable({ write(c: Buffer, _e, cb) { chunks.push(c); cb() } }))
      const text = Buffer.concat(chunks).toString('utf8')
      expect(text).toBe(stringifyJson(report(recs)))
      expect(JSON.parse(text).findings).toEqual(recs)
    } finally {
      store.release()
    }
  })

  it('an async store writes its runs off the caller: read after settled(), the same records as written synchronously', async () => {
    const recs = Array.from({ length: 24_000 }, (_, n) => ({ n, s: `${'\u2028'.repeat(n % 2)}${'v'.repeat(900)}`, o: { k: n % 7 } }))
    const keyOf = (r: Rec): string => `${r.n % 13}\0${r.n}`
    const plain = new SpillStore<Rec>(1_000, keyOf)
    const async = new SpillStore<Rec>(1_000, keyOf, undefined, { async: true })
    for (const r of recs) {
      plain.add(r)
      async.add(r)
    }
    try {
      expect(() => [...async.sorted()]).toThrow(/in flight/)
      await async.settled()
      const a = [...async.sorted()]
      const b = [...plain.sorted()]
      expect(a.map((r) => r.key)).toEqual(b.map((r) => r.key))
      expect(a.every((r, i) => r.bytes!.equals(b[i]!.bytes!))).toBe(true)
    } finally {
      plain.release()
      async.release()
    }
  })

  it('an async store released with writes in flight removes its file and closes it once they land', async () => {
    const own = mkdtempSync(join(tmpdir(), 'ztscan-spill-test-'))
    const fds = (): number => readdirSync('/proc/self/fd').length
    const before = fds()
    const store = new SpillStore<Rec>(100, (r) => String(r.n).padStart(6, '0'), own, { async: true })
    try {
      for (let n = 0; n < 3_000; n++) store.add({ n, s: 'w'.repeat(2_000), o: {} })
      expect(readdirSync(own)).toHaveLength(1)
      store.release()
      expect(readdirSync(own)).toEqual([])
      await store.settled()
      for (let i = 0; i < 50 && fds() > before; i++) await sleep(20)
      expect(fds()).toBe(before)
      expect(() => store.add({ n: 0, s: '', o: {} })).toThrow(/released/)
    } finally {
      rmSync(own, { recursive: true, force: true })
    }
  })
})
