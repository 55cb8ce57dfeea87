import { afterAll, describe, expect, it } from 'vitest'
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { Writable } from 'node:stream'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { JSONParser } from '@streamparser/json'
import { buildReport, scan, stringifyJson, toJsonl, writeJson, writeJsonl, type EffectiveRule, type Finding, type ScanReport } from '../src/index.ts'
import { CHUNK, ChunkSink } from '../src/report/sink.ts'
import { escapeJsonText } from '../src/report/escape.ts'
import openPort from '../checks/open-port/index.ts'
import { assertValidReport } from './helpers/schemas.ts'
import { nmapDocument, serviceHost, writeNmapFile } from './helpers/nmap-gen.ts'

const dir = mkdtempSync(join(tmpdir(), 'ztscan-stream-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** A writable that keeps every chunk it is given (and asks for drain now and then, like a slow file). */
function recorder(): { sink: Writable; chunks: string[] } {
  const chunks: string[] = []
  let n = 0
  const sink = new Writable({
    highWaterMark: 16 * 1024,
    write(c: Buffer, _e, cb) {
      chunks.push(c.toString('utf8'))
      if (++n % 7 === 0) setImmediate(cb)
      else cb()
    },
  })
  return { sink, chunks }
}

const rule: EffectiveRule = {
  id: 'open-port-critical-service', family: 'open-port', title: 'Critical service exposed', pillar: 'networks', severity: 'critical',
  message: '{{resource}}', description: 'd', remediation: 'r', helpUri: 'https://example.invalid/r', enabled: true, values: {},
}
function synthetic(n: number): ScanReport {
  const findings: Finding[] = Array.from({ length: n }, (_, i) => ({
    ruleId: rule.id, status: i % 3 ? 'pass' : 'fail', severity: 'critical', pillar: 'networks', family: 'open-port', target: `host://127.0.0.${(i % 250) + 1}`,
    resource: `127.0.0.${(i % 250) + 1} tcp/${i}`, message: `port ${i} \u202e\u0085 "quoted"\nline`, evidence: { port: i, nested: { list: [1, 2, { deep: 'x' }] } },
    fingerprint: i.toString(16).padStart(32, '0'),
  }))
  return buildReport({ startedAt: new Date(0), finishedAt: new Date(1000), targets: [{ id: 'host://127.0.0.1', kind: 'host' }], rules: [rule], findings, errors: [{ check: 'open-port-connect', family: 'open-port', target: 'host://127.0.0.9', reason: 'timeout', message: 'slow' }], skipped: [], attempts: 1 })
}

describe('streaming JSON writer', () => {
  it('writes exactly the text of stringifyJson (escapes included), in chunks bounded by 64 KiB plus one element', async () => {
    const report = synthetic(20_000)
    const { sink, chunks } = recorder()
    await writeJson(report, sink)
    const text = chunks.join('')
    expect(text).toBe(stringifyJson(report))
    expect(text).toContain('\\u202e') // bidi override escaped, as in stringifyJson
    const longestElement = Math.max(...report.findings.map((f) => JSON.stringify(f, null, 2).length * 2))
    expect(chunks.length).toBeGreaterThan(text.length / (CHUNK + longestElement))
    for (const c of chunks) expect(c.length).toBeLessThanOrEqual(CHUNK + longestElement)
  })

  it('writes each finding in memory as its JSON text on a line of its own, escaped for output only where it needs it', async () => {
    // Plain ASCII, text that needs no escape (é, an astral character), text that does (DEL, C1, a bidi override, U+2028),
    // mixed in one list: each line is the record's escapeJsonText(JSON.stringify(f)), in order.
    const texts = ['plain', 'caf\u00e9 \u{1F600}', 'del\x7f', 'c1\u0085', 'bidi\u202e', 'sep\u2028', 'x'.repeat(70_000)]
    const report = synthetic(3 * texts.length)
    const findings = report.findings.map((f, i) => ({ ...f, message: texts[i % texts.length]!, evidence: { note: texts[(i + 1) % texts.length]! } }))
    const mixed = { ...report, findings }
    const { sink, chunks } = recorder()
    await writeJson(mixed, sink)
    const text = chunks.join('')
    const lines = text.split('\n')
    const first = lines.indexOf('  "findings": [')
    expect(first).toBeGreaterThan(0)
    findings.forEach((f, i) => expect(lines[first + 1 + i]).toBe(`    ${escapeJsonText(JSON.stringify(f))}${i < findings.length - 1 ? ',' : ''}`))
    expect(JSON.parse(text).findings).toEqual(findings)
    expect(text).toBe(stringifyJson(mixed))
  })

  it('JSON Lines: one finding or error per line, then a summary line with the rest of the report', async () => {
    const report = synthetic(1_000)
    const { sink, chunks } = recorder()
    await writeJsonl(report, sink)
    const text = chunks.join('')
    expect(text).toBe(toJsonl(report))
    const lines = text.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(lines).toHaveLength(1_000 + 1 + 1)
    expect(lines.slice(0, 1_000).every((l) => l.type === 'finding')).toBe(true)
    const { type: _t, ...first } = lines[0]!
    expect(first).toEqual(report.findings[0])
    expect(lines[1_000]).toMatchObject({ type: 'error', reason: 'timeout' })
    const { type, ...summary } = lines.at(-1)!
    expect(type).toBe('summary')
    const { findings: _f, errors: _e, ...rest } = JSON.parse(JSON.stringify(report)) as ScanReport
    expect(summary).toEqual(rest)
  })

  it('a generated nmap file end to end: JSON streamed to a file and read back by a streaming parser, JSONL read line by line', async () => {
    const xml = join(dir, 'scan.xml')
    await writeNmapFile(xml, nmapDocument({ host: serviceHost, hosts: 3_000 }))
    const report = await scan({ targets: [`nmap:${xml}`], checks: openPort.checks, timeoutMs: 120_000 })
    expect(report.errors).toEqual([])
    assertValidReport({ ...report, findings: report.findings.slice(0, 50) })
    const jsonFile = join(dir, 'r.json')
    await writeJson(report, createWriteStream(jsonFile))
    expect(statSync(jsonFile).size).toBeGreaterThan(5_000_000)

    // Streaming read-back: only one finding is held at a time.
    let findings = 0
    let failed = 0
    let summary: unknown
    const parser = new JSONParser({ paths: ['$.findings.*', '$.summary'], keepStack: false })
    parser.onValue = ({ value, key }) => {
      if (key === 'summary') summary = value
      else {
        findings++
        if ((value as { status?: string }).status === 'fail') failed++
      }
    }
    for await (const chunk of createReadStream(jsonFile)) parser.write(chunk as Buffer)
    expect(findings).toBe(report.findings.length)
    expect(failed).toBe(report.findings.filter((f) => f.status === 'fail').length)
    expect(summary).toEqual(JSON.parse(JSON.stringify(report.summary)))
    // Every host's Redis (6379) and MySQL (3306) are there.
    expect(failed).toBe(3_000 * 2)

    const jsonlFile = join(dir, 'r.jsonl')
    await writeJsonl(report, createWriteStream(jsonlFile))
    let lines = 0
    let last = ''
    for await (const line of createInterface({ input: createReadStream(jsonlFile) })) {
      lines++
      last = line
    }
    expect(lines).toBe(report.findings.length + 1)
    expect(JSON.parse(last)).toMatchObject({ type: 'summary', summary: JSON.parse(JSON.stringify(report.summary)) })
  }, 120_000)
})

describe('ChunkSink blocks', () => {
  /** Pushes `n` blocks of the sink, block i filled with byte i % 251 (a part of it when i is odd); returns the blocks' memories. */
  async function fill(sink: ChunkSink, n: number): Promise<{ memories: Set<ArrayBufferLike>; expected: Buffer }> {
    const memories = new Set<ArrayBufferLike>()
    const parts: Buffer[] = []
    for (let i = 0; i < n; i++) {
      const b = sink.block(CHUNK)
      memories.add(b.buffer)
      const len = i % 2 ? CHUNK - 7 * i : CHUNK
      b.fill(i % 251, 0, len)
      parts.push(Buffer.alloc(len, i % 251))
      const pending = sink.push(b.subarray(0, len))
      // A short text between blocks: it and the odd blocks are gathered and copied into one chunk.
      if (i % 5 === 0) sink.push('x')
      if (i % 5 === 0) parts.push(Buffer.from('x'))
      if (pending) await pending
    }
    await sink.close()
    return { memories, expected: Buffer.concat(parts) }
  }

  it('reuses a block written to a file only once the file stream has written it: the file holds every byte pushed', async () => {
    const file = join(dir, 'blocks.bin')
    const { memories, expected } = await fill(new ChunkSink(createWriteStream(file, { highWaterMark: 1 << 20 })), 400)
    expect(readFileSync(file).equals(expected)).toBe(true)
    // 400 blocks (25 MB) from far fewer memories: at most about what the stream buffers, plus what is in flight.
    expect(memories.size).toBeLessThan(200)
  })

  it('never reuses a block given to another kind of stream (it may keep the chunk after its callback)', async () => {
    const kept: Buffer[] = []
    const out = new Writable({
      highWaterMark: 1 << 20,
      write(c: Buffer, _e, cb) {
        kept.push(c)
        setImmediate(cb)
      },
    })
    const { memories, expected } = await fill(new ChunkSink(out), 60)
    expect(memories.size).toBe(60)
    expect(Buffer.concat(kept).equals(expected)).toBe(true)
  })
})
