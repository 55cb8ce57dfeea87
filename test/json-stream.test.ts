/**
 * @fileoverview The streaming JSON reader (src/lib-json-stream.ts) against JSON.parse: the same entries and values for any
 * document cut into any chunks, an error exactly where JSON.parse has one; and hostile documents (a 50 MB entry, deep
 * nesting, truncation) end with a bounded error, not a crash or a heap the size of the input.
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { JsonStreamError, readJsonEntries, type JsonEntriesSpec } from '../src/lib-json-stream.ts'

/** The text cut at the given points (chunks as Buffers: cuts may fall inside a multi-byte character). */
async function* chunked(text: string | Buffer, cuts: readonly number[]): AsyncGenerator<Buffer> {
  const buf = Buffer.isBuffer(text) ? text : Buffer.from(text)
  let at = 0
  for (const c of [...cuts].map((x) => x % (buf.length + 1)).sort((a, b) => a - b)) {
    yield buf.subarray(at, c)
    at = c
  }
  yield buf.subarray(at)
}

async function collect(text: string | Buffer, spec: JsonEntriesSpec, cuts: readonly number[] = []): Promise<{ entries: [string, number, unknown][]; others: [string, unknown][] }> {
  const entries: [string, number, unknown][] = []
  const others: [string, unknown][] = []
  await readJsonEntries(chunked(text, cuts), spec, (v, i, p) => entries.push([p, i, v]), (p, v) => others.push([p, v]))
  return { entries, others }
}

const SPEC: JsonEntriesSpec = { arrays: [['resources'], ['report', 'value']], bare: true }

describe('readJsonEntries equals JSON.parse', () => {
  it('entries of the streamed arrays and every other value, whatever the chunking', async () => {
    const doc = fc.record({
      meta: fc.jsonValue(),
      resources: fc.array(fc.jsonValue(), { maxLength: 6 }),
      report: fc.record({ value: fc.array(fc.jsonValue(), { maxLength: 4 }), '@odata.nextLink': fc.string() }),
    })
    await fc.assert(
      fc.asyncProperty(doc, fc.array(fc.nat(), { maxLength: 8 }), fc.boolean(), async (d, cuts, spaced) => {
        const text = JSON.stringify(d, null, spaced ? 2 : undefined)
        const r = await collect(text, SPEC, cuts)
        const back = JSON.parse(text) as typeof d
        expect(r.entries).toEqual([...back.resources.map((v, i) => ['/resources', i, v]), ...back.report.value.map((v, i) => ['/report/value', i, v])])
        expect(r.others).toEqual([['/meta', back.meta], ['/report/@odata.nextLink', back.report['@odata.nextLink']]])
      }),
      { numRuns: 300 },
    )
  })

  it('maps stream member by member with their keys, whatever the chunking: the members JSON.parse holds, in order', async () => {
    const doc = fc.record({ users: fc.array(fc.jsonValue(), { maxLength: 4 }), factors: fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 6 }), meta: fc.jsonValue() })
    const spec: JsonEntriesSpec = { arrays: [['users']], maps: [['factors']], bare: false }
    await fc.assert(
      fc.asyncProperty(doc, fc.array(fc.nat(), { maxLength: 8 }), async (d, cuts) => {
        const text = JSON.stringify(d)
        const parsed = JSON.parse(text) as { users: unknown[]; factors: Record<string, unknown> }
        const members: [string, unknown][] = []
        const users: unknown[] = []
        const summary = await readJsonEntries(chunked(text, cuts), spec, (v, _i, p, key) => (p === '/factors' ? members.push([key!, v]) : users.push(v)))
        expect(Object.fromEntries(members)).toEqual(parsed.factors)
        expect(members.map(([k]) => k)).toEqual(Object.keys(parsed.factors))
        expect(users).toEqual(parsed.users)
        expect(summary.counts.get('/factors')).toBe(Object.keys(parsed.factors).length)
      }),
      { numRuns: 200 },
    )
    // A member beyond the entry limit is named by its key; a map given twice is an error; a map in another shape is another value.
    const big = `{"factors": {"a/b": [1], "c": ${JSON.stringify('x'.repeat(300))}}}`
    await expect(readJsonEntries(chunked(big, [9]), { arrays: [], maps: [['factors']], bare: false, maxEntryBytes: 100 }, () => {})).rejects.toThrow('/factors/c: an entry larger than the 100-byte limit')
    await expect(readJsonEntries(chunked('{"factors": {}, "factors": {}}', []), { arrays: [], maps: [['factors']], bare: false }, () => {})).rejects.toThrow('/factors: given twice')
    // Skipped arrays and maps are scanned (bounded, counted), not parsed nor handed over.
    const seen: string[] = []
    const skipped = await readJsonEntries(chunked('{"users": [{"a": [1]}, "x", 3], "factors": {"k": {"b": 2}}, "more": [1]}', [5, 17]), { arrays: [['users'], ['more']], maps: [['factors']], skip: [['users'], ['factors']], bare: false }, (v, _i, p) => seen.push(`${p} ${JSON.stringify(v)}`))
    expect(seen).toEqual(['/more 1'])
    expect([...skipped.counts]).toEqual([['/users', 3], ['/factors', 1], ['/more', 1]])
    await expect(readJsonEntries(chunked(big, []), { arrays: [], maps: [['factors']], skip: [['factors']], bare: false, maxEntryBytes: 100 }, () => {})).rejects.toThrow('/factors/c: an entry larger')
    const others: [string, unknown][] = []
    await readJsonEntries(chunked('{"factors": [1]}', []), { arrays: [], maps: [['factors']], bare: false }, () => {}, (p, v) => others.push([p, v]))
    expect(others).toEqual([['/factors', [1]]])
  })

  it('a bare array streams; a top-level scalar is another value', async () => {
    expect((await collect(' [1, "a", {"b": [2]}, null] ', SPEC)).entries).toEqual([['', 0, 1], ['', 1, 'a'], ['', 2, { b: [2] }], ['', 3, null]])
    expect(await collect('"x"', SPEC)).toEqual({ entries: [], others: [['', 'x']] })
    expect(await collect('42', SPEC)).toEqual({ entries: [], others: [['', 42]] })
    // A streamed key holding something else than an array is handed over as a value (the caller says what was expected).
    expect(await collect('{"resources": {"a": 1}}', SPEC)).toEqual({ entries: [], others: [['/resources', { a: 1 }]] })
    // A UTF-8 byte order mark is skipped.
    expect((await collect(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('[7]')]), SPEC)).entries).toEqual([['', 0, 7]])
  })

  it('accepts exactly what JSON.parse accepts (random and mutated texts)', async () => {
    const near = fc.tuple(fc.jsonValue().map((v) => JSON.stringify({ resources: [v, v] })), fc.nat(), fc.constantFrom('', ',', ']', '}', '"', '[', '{', ':', '\\', ' ', 'x')).map(([t, at, ins]) => t.slice(0, at % (t.length + 1)) + ins + t.slice(at % (t.length + 1)))
    await fc.assert(
      fc.asyncProperty(fc.oneof(near, fc.string(), fc.jsonValue().map((v) => JSON.stringify(v))), fc.array(fc.nat(), { maxLength: 4 }), async (text, cuts) => {
        let parsed = true
        try {
          JSON.parse(text)
        } catch {
          parsed = false
        }
        let streamed = true
        try {
          await collect(text, { arrays: [['resources']], bare: true }, cuts)
        } catch (err) {
          expect(err).toBeInstanceOf(JsonStreamError)
          streamed = false
        }
        expect(streamed, text).toBe(parsed)
      }),
      { numRuns: 1500 },
    )
  })
})

describe('readJsonEntries bounds hostile documents', () => {
  it('a 50 MB string in one entry: an error naming the entry, read no further than the limit, heap not grown by the entry', async () => {
    const chunk = Buffer.alloc(1024 * 1024, 0x61)
    let read = 0
    async function* huge(): AsyncGenerator<Buffer> {
      yield Buffer.from('{"resources": [{"device_id": "a"}, {"device_id": "')
      for (let i = 0; i < 50; i++) {
        read++
        yield chunk
      }
      yield Buffer.from('"}]}')
    }
    const before = process.memoryUsage().heapUsed
    const err = await readJsonEntries(huge(), { arrays: [['resources']], bare: true }, () => {}).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(JsonStreamError)
    expect((err as JsonStreamError).describe('cs.json')).toBe('cs.json: /resources/1: an entry larger than the 8 MiB limit')
    expect(read).toBeLessThanOrEqual(9)
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(40 * 1024 * 1024)
  })

  it('strings full of escapes are scanned in linear time (a quote search is not repeated per backslash)', async () => {
    // 3 MB of escaped backslashes and quotes in one 4 MiB chunk: quadratic rescanning would take minutes.
    const body = '\\\\\\"'.repeat(1_000_000)
    const text = `{"resources": ["${body}"]}`
    const t0 = performance.now()
    const r = await collect(text, SPEC, [2, 4 * 1024 * 1024])
    expect(r.entries).toEqual([['/resources', 0, '\\"'.repeat(1_000_000)]])
    expect(performance.now() - t0).toBeLessThan(20_000)
  })

  it('deep nesting, truncation, trailing data and a streamed key given twice are errors with a place', async () => {
    const cases: [string, RegExp][] = [
      [`{"resources": [${'['.repeat(100_000)}`, /^x\.json: \/resources\/0: nested deeper than 64 levels$/],
      ['['.repeat(100), /^x\.json: \/0: nested deeper than 64 levels$/],
      ['{"resources": [{"device_id": "a"}, {"device_id": "b', /^x\.json: not JSON \(\/resources\/1: the document ends early, at byte \d+ \(truncated\?\)\)$/],
      ['{"resources": []', /^x\.json: not JSON \(\/resources: the document ends early/],
      ['{"resources": []} {}', /^x\.json: not JSON \(unexpected "\{" after the end of the document/],
      ['{"resources": [1], "resources": [2]}', /^x\.json: \/resources: given twice$/],
      ['{"resources": [1,]}', /^x\.json: not JSON \(\/resources\/1: unexpected "\]"/],
    ]
    for (const [text, want] of cases) {
      const err = await readJsonEntries(chunked(text, [7]), { arrays: [['resources']], bare: true }, () => {}).catch((e: unknown) => e)
      expect(err, text.slice(0, 40)).toBeInstanceOf(JsonStreamError)
      expect((err as JsonStreamError).describe('x.json'), text.slice(0, 40)).toMatch(want)
    }
  })

  it('a document larger than maxBytes ends at the limit', async () => {
    const err = await readJsonEntries(chunked(`[${'1,'.repeat(1000)}1]`, [100, 200]), { arrays: [], bare: true, maxBytes: 150 }, () => {}).catch((e: unknown) => e)
    expect((err as JsonStreamError).describe('x.json')).toBe('x.json: more than the 150-byte limit')
  })
})
