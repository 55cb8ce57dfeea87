import { describe, expect, it } from 'vitest'
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RecordFile } from '../src/engine/record-file.ts'

describe('RecordFile: records in a temporary file, read back by ordinal', () => {
  it('gives back each record as written, in order and at random, with two readers at once; the file is 0600 and removed on release', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ztscan-rf-test-'))
    try {
      const f = new RecordFile<[number, string, string[] | null]>(dir)
      // Odd strings (separators, escapes, lone surrogates, multi-byte), and records larger than the 1 MiB write buffer.
      const odd = ['', 'a\tb\nc', '"\\', '\ud800', '\udc00x', 'é€😀', 'x'.repeat(3 << 20)]
      const want = Array.from({ length: 5000 }, (_, i) => [i, odd[i % odd.length]!.slice(0, i % 1000 === 6 ? Infinity : 200), i % 3 ? [`m${i}`] : null] as [number, string, string[] | null])
      for (const r of want) f.add(r)
      expect(f.size).toBe(5000)
      const [sub] = readdirSync(dir)
      expect(statSync(join(dir, sub!, 'records.jsonl')).mode & 0o777).toBe(0o600)
      const inOrder = f.reader()
      const random = f.reader()
      for (let j = 0; j < want.length; j++) {
        expect(inOrder(j)).toEqual(want[j])
        const k = (j * 7919) % want.length
        expect(random(k)).toEqual(want[k])
      }
      expect(() => inOrder(5000)).toThrow(RangeError)
      f.release()
      expect(existsSync(join(dir, sub!))).toBe(false)
      expect(() => inOrder(0)).toThrow('released')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
