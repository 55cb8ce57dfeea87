/**
 * The merge of sorted runs that the findings spill (spill.ts) and the tallies (tally.ts) share, and the read of a run's
 * next bytes: the same order as a stable sort by key of the sources one after another, for any keys (lone surrogates,
 * controls), any number of sources (empty ones too); a read that keeps the unread rest in front of the file's bytes.
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { mergeByKey, readOn } from '../src/engine/runs.ts'

const key = fc.array(fc.constantFrom('a', 'b', '\0', '\t', 'é', '\ud800', '\udfff', '\ud83d\ude00', '\uffff'), { maxLength: 4 }).map((a) => a.join(''))

describe('mergeByKey', () => {
  it('gives the records of sorted sources in key order, equal keys by source index then in their source order', () => {
    fc.assert(
      fc.property(fc.array(fc.array(key, { maxLength: 12 }), { maxLength: 9 }), (lists) => {
        const sources = lists.map((l, i) => [...l].sort().map((k, j) => ({ key: k, at: `${i}.${j}` })))
        const expected = sources.flat().sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
        expect([...mergeByKey(sources.map((s) => s[Symbol.iterator]()))]).toEqual(expected)
      }),
      { numRuns: 300 },
    )
  })

  it('takes one record of a source at a time, after the one it gave (no read ahead past the heap)', () => {
    const pulled: string[] = []
    function* source(name: string, keys: string[]): Generator<{ key: string }> {
      for (const k of keys) {
        pulled.push(`${name}${k}`)
        yield { key: k }
      }
    }
    const it = mergeByKey([source('x', ['1', '3']), source('y', ['2'])])
    expect(it.next().value).toEqual({ key: '1' })
    expect(pulled).toEqual(['x1', 'y2', 'x3'])
  })
})

describe('readOn', () => {
  it('puts the unread rest before the next bytes, reads at least what is asked up to the run end, refuses a short file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ztscan-runs-test-'))
    try {
      const fd = openSync(join(dir, 'f'), 'w+', 0o600)
      writeSync(fd, Buffer.from('0123456789'))
      expect(readOn(fd, Buffer.from('xy'), 2, 10, 3, 't').toString()).toBe('xy234')
      expect(readOn(fd, Buffer.from('xy'), 2, 10, 3, 't', 7).toString()).toBe('xy23456')
      expect(readOn(fd, Buffer.alloc(0), 8, 10, 64, 't').toString()).toBe('89')
      expect(() => readOn(fd, Buffer.alloc(0), 8, 14, 64, 't')).toThrow('t: the temporary file ended early')
      closeSync(fd)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
