/**
 * @fileoverview The canonical JSON report. `toJson` returns the plain object; its schema is `report.schema.json`.
 * `writeJson` streams the same text element by element (a report of any size that fits on disk); `writeJsonl` writes
 * JSON Lines for pipelines: one finding or error per line, then one summary line with the rest of the report.
 */
import type { Writable } from 'node:stream'
import type { ScanReport } from '../types.ts'
import { escapeJsonText, writeJsonForOutput } from './escape.ts'
import { CHUNK, ChunkSink } from './sink.ts'
import { isFindingView, recordsOf } from '../engine/spill.ts'

/** The JSON report object (the canonical model, stamped with `schemaVersion`). */
export function toJson(report: ScanReport): ScanReport {
  return report
}

/** Serialises a report as one string (small reports; `writeJson` streams any size): the same text as `writeJson`. */
export function stringifyJson(report: ScanReport): string {
  let text = ''
  for (const piece of jsonPieces(toJson(report), '', 0, '')) text += typeof piece === 'string' ? piece : piece.toString('utf8')
  return text + '\n'
}

/** `JSON.stringify(v, null, 2)` indented by `pad` (newlines in JSON text are structural: strings escape theirs). */
const indented = (v: unknown, pad: string): string => escapeJsonText(JSON.stringify(v, null, 2)).replace(/\n/g, `\n${pad}`)

/**
 * Arrays whose elements are written compact, one per line: the ones that grow with the input. A spilled report's are read
 * back from disk and their JSON text is copied as it was spilled (no parse, no stringify).
 */
const RECORD_ARRAYS: ReadonlySet<string> = new Set(['findings', 'passCounts', 'score.assets'])

/**
 * Streams the JSON report to `out` — the same text as `stringifyJson` — in bounded chunks, never as one string: the
 * report's fields, their fields and the elements of arrays down to the third level are written one by one (findings,
 * errors, per-asset scores), each element as one piece. Findings, pass counts and per-asset scores are written one
 * compact element per line; the rest is indented as `JSON.stringify(report, null, 2)` would. Ends the stream unless `end`
 * is false (stdout).
 */
export async function writeJson(report: ScanReport, out: Writable, opts: { readonly end?: boolean } = {}): Promise<void> {
  const sink = new ChunkSink(out)
  for (const piece of jsonPieces(toJson(report), '', 0, '', (n) => sink.block(n))) {
    const pending = sink.push(piece)
    if (pending) await pending
  }
  sink.push('\n')
  await sink.close(opts.end)
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * The JSON text of `value` at indentation `pad`, piece by piece: as `JSON.stringify(value, null, 2)` would write it,
 * descending into containers to `depth` 2, except the elements of {@link RECORD_ARRAYS} (`path`), one compact per line.
 */
function* jsonPieces(value: unknown, pad: string, depth: number, path: string, alloc = (n: number): Buffer => Buffer.allocUnsafe(Math.max(CHUNK, n))): Generator<string | Buffer> {
  const inner = pad + '  '
  // A spilled report's findings are a lazy view read back from disk: written element by element like an array (an empty
  // one is `[]`: found by starting to read it, since a view's length may take a pass of its own).
  if ((Array.isArray(value) || isFindingView(value)) && depth < 3) {
    let i = 0
    if (RECORD_ARRAYS.has(path)) {
      // Spilled text is copied as it was spilled (escaped then), with its separators, into blocks of about CHUNK bytes; a
      // record in memory is written into the same blocks (no string per record, no join, no second encoding).
      const seps = [Buffer.from(`[\n${inner}`), Buffer.from(`,\n${inner}`)] as const
      let block: Buffer | undefined
      let off = 0
      for (const r of recordsOf(value as Iterable<unknown>)) {
        const sep = seps[i++ ? 1 : 0]
        const bytes = r.bytes
        // A record in memory is written as its JSON text's UTF-8 (JSON.stringify gives undefined for undefined and
        // functions, which arrays write as null): room for 3 bytes a character.
        const json = bytes ? '' : ((r.json as string | undefined) ?? 'null')
        const need = sep.length + (bytes ? bytes.length : 3 * json.length)
        if (block && off + need > block.length) {
          yield block.subarray(0, off)
          block = undefined
        }
        if (!block) {
          // A new block each time (or one already written: ChunkSink.block): the one yielded may not be written yet.
          block = alloc(need)
          off = 0
        }
        const start = off
        off += sep.copy(block, off)
        if (bytes) {
          off += bytes.copy(block, off)
          continue
        }
        // Plain ASCII without DEL (most JSON) has nothing to escape for output: it stays as written.
        const n = writeJsonForOutput(block, off, json)
        if (n >= 0) {
          off += n
          continue
        }
        // Text to escape (escapeJsonText: DEL, C1, bidi controls…): written after the block, escaped.
        yield block.subarray(0, start)
        block = undefined
        yield sep.toString('utf8') + escapeJsonText(json)
      }
      if (block) yield block.subarray(0, off)
    } else {
      for (const item of value as Iterable<unknown>) {
        yield `${i++ ? ',' : '['}\n${inner}`
        const v = item === undefined || typeof item === 'function' ? null : item
        if (depth < 2 && isPlainObject(v)) yield* jsonPieces(v, inner, depth + 1, '', alloc)
        else yield indented(v, inner)
      }
    }
    yield i ? `\n${pad}]` : '[]'
    return
  }
  if (isPlainObject(value) && depth < 2 && typeof value.toJSON !== 'function') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined && typeof v !== 'function')
    if (!entries.length) {
      yield '{}'
      return
    }
    yield '{'
    for (const [i, [key, v]] of entries.entries()) {
      yield `${i ? ',' : ''}\n${inner}${JSON.stringify(key)}: `
      yield* jsonPieces(v, inner, depth + 1, path ? `${path}.${key}` : key, alloc)
    }
    yield `\n${pad}}`
    return
  }
  yield indented(value, pad)
}

/** A finding's or error's JSON Lines line: `{"type":…}` then its fields (its JSON text is reused when it has one). */
function typedLine(type: string, json: string, value: () => object): string {
  // An object with its own `type` field (a plugin's finding) goes the long way: `{ type, ...f }` keeps one key.
  const text = json.includes('"type":') ? JSON.stringify({ type, ...value() }) : json === '{}' ? `{"type":${JSON.stringify(type)}}` : `{"type":${JSON.stringify(type)},${json.slice(1)}`
  return escapeJsonText(text) + '\n'
}

/** The JSON Lines text, line by line (a spilled finding's line in pieces: its spilled bytes are copied as they are). */
function* jsonlLines(report: ScanReport): Generator<string | Buffer> {
  const { findings, errors, ...rest } = toJson(report)
  for (const r of recordsOf(findings)) {
    const bytes = r.bytes
    if (bytes && bytes.length > 2 && !bytes.includes('"type":')) {
      yield '{"type":"finding",'
      yield bytes.subarray(1)
      yield '\n'
    } else yield typedLine('finding', r.json, () => r.value)
  }
  for (const e of errors) yield typedLine('error', JSON.stringify(e), () => e)
  yield escapeJsonText(JSON.stringify({ type: 'summary', ...rest })) + '\n'
}

/**
 * Streams JSON Lines: `{"type":"finding",…}` per finding, `{"type":"error",…}` per attempt error, then one
 * `{"type":"summary",…}` line holding every other field of the report (score, summary, targets, rules, completeness).
 */
export async function writeJsonl(report: ScanReport, out: Writable, opts: { readonly end?: boolean } = {}): Promise<void> {
  const sink = new ChunkSink(out)
  for (const line of jsonlLines(report)) {
    const p = sink.push(line)
    if (p) await p
  }
  await sink.close(opts.end)
}

/** JSON Lines as one string (small reports; `writeJsonl` streams any size). */
export function toJsonl(report: ScanReport): string {
  let text = ''
  for (const line of jsonlLines(report)) text += typeof line === 'string' ? line : line.toString('utf8')
  return text
}
