import { describe, expect, it } from 'vitest'
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs'
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

  it('a lookup that does not follow the previous one reads its record only; the next in order starts a block read ahead', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ztscan-rf-test-'))
    try {
      const f = new RecordFile<[number, string]>(dir)
      for (let i = 0; i < 1000; i++) f.add([i, `v${i}`])
      const path = join(dir, readdirSync(dir)[0]!, 'records.jsonl')
      // What a read took from the file shows by changing a record on disk after it (same length): a record already
      // in the reader's block is given as it was, one read now as it is on disk.
      const rewrite = (i: number): void => {
        const at = readFileSync(path).indexOf(`[${i},"v${i}"]`)
        expect(at).toBeGreaterThan(0)
        const fd = openSync(path, 'r+')
        writeSync(fd, `[${i},"w${i}"]`, at)
        closeSync(fd)
      }
      const read = f.reader()
      // At random (500 does not follow anything read): record 500 alone, so 501 is read from the file.
      expect(read(500)).toEqual([500, 'v500'])
      rewrite(501)
      expect(read(501)).toEqual([501, 'w501'])
      // 501 followed 500: it started a block, so 502 came with it, as it was.
      rewrite(502)
      expect(read(502)).toEqual([502, 'v502'])
      // Back at random, then in order again.
      expect(read(10)).toEqual([10, 'v10'])
      rewrite(11)
      expect(read(11)).toEqual([11, 'w11'])
      f.release()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
