/**
 * @fileoverview The canonical JSON report. `toJson` returns the plain object; its schema is `report.schema.json`.
 * `writeJson` streams the same text element by element (a report of any size that fits on disk); `writeJsonl` writes
 * JSON Lines for pipelines: one finding or error per line, then one summary line with the rest of the report.
 */
import type { Writable } from 'node:stream'
import type { ScanReport } from '../types.ts'
import { escapeJsonText } from './escape.ts'
import { ChunkSink } from './sink.ts'
import { isFindingView } from '../engine/spill.ts'

/** The JSON report object (the canonical model, stamped with `schemaVersion`). */
export function toJson(report: ScanReport): ScanReport {
  return report
}

/** Serialises a report as one string (small reports; `writeJson` streams any size). */
export function stringifyJson(report: ScanReport): string {
  return escapeJsonText(JSON.stringify(toJson(report), null, 2)) + '\n'
}

/** `JSON.stringify(v, null, 2)` indented by `pad` (newlines in JSON text are structural: strings escape theirs). */
const indented = (v: unknown, pad: string): string => escapeJsonText(JSON.stringify(v, null, 2)).replace(/\n/g, `\n${pad}`)

/**
 * Streams the JSON report to `out` — the same text as `stringifyJson` — in bounded chunks, never as one string: the
 * report's fields, their fields and the elements of arrays down to the third level are written one by one (findings,
 * errors, per-asset scores), each element as one piece. Ends the stream unless `end` is false (stdout).
 */
export async function writeJson(report: ScanReport, out: Writable, opts: { readonly end?: boolean } = {}): Promise<void> {
  const sink = new ChunkSink(out)
  await emit(sink, toJson(report), '', 0)
  sink.push('\n')
  await sink.close(opts.end)
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Writes `value` as `JSON.stringify(value, null, 2)` would at indentation `pad`, descending into containers to `depth` 2. */
async function emit(sink: ChunkSink, value: unknown, pad: string, depth: number): Promise<void> {
  const inner = pad + '  '
  // A spilled report's findings are a lazy view read back from disk: written element by element like an array.
  if ((Array.isArray(value) || isFindingView(value)) && value.length > 0 && depth < 3) {
    let pending = sink.push('[')
    let i = 0
    for (const item of value as Iterable<unknown>) {
      if (pending) await pending
      pending = sink.push(`${i++ ? ',' : ''}\n${inner}`)
      if (pending) await pending
      // JSON.stringify writes undefined and functions in arrays as null.
      const v = item === undefined || typeof item === 'function' ? null : item
      pending = depth < 2 && isPlainObject(v) ? emit(sink, v, inner, depth + 1) : sink.push(indented(v, inner))
    }
    if (pending) await pending
    sink.push(`\n${pad}]`)
    return
  }
  if (isPlainObject(value) && depth < 2 && typeof value.toJSON !== 'function') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined && typeof v !== 'function')
    if (!entries.length) {
      sink.push('{}')
      return
    }
    let pending = sink.push('{')
    for (const [i, [key, v]] of entries.entries()) {
      if (pending) await pending
      pending = sink.push(`${i ? ',' : ''}\n${inner}${JSON.stringify(key)}: `)
      if (pending) await pending
      pending = emit(sink, v, inner, depth + 1)
    }
    if (pending) await pending
    sink.push(`\n${pad}}`)
    return
  }
  await sink.push(indented(value, pad))
}

/**
 * Streams JSON Lines: `{"type":"finding",…}` per finding, `{"type":"error",…}` per attempt error, then one
 * `{"type":"summary",…}` line holding every other field of the report (score, summary, targets, rules, completeness).
 */
export async function writeJsonl(report: ScanReport, out: Writable, opts: { readonly end?: boolean } = {}): Promise<void> {
  const sink = new ChunkSink(out)
  const { findings, errors, ...rest } = toJson(report)
  for (const f of findings) {
    const p = sink.push(escapeJsonText(JSON.stringify({ type: 'finding', ...f })) + '\n')
    if (p) await p
  }
  for (const e of errors) {
    const p = sink.push(escapeJsonText(JSON.stringify({ type: 'error', ...e })) + '\n')
    if (p) await p
  }
  sink.push(escapeJsonText(JSON.stringify({ type: 'summary', ...rest })) + '\n')
  await sink.close(opts.end)
}

/** JSON Lines as one string (small reports; `writeJsonl` streams any size). */
export function toJsonl(report: ScanReport): string {
  const { findings, errors, ...rest } = toJson(report)
  return [...findings.map((f) => ({ type: 'finding', ...f })), ...errors.map((e) => ({ type: 'error', ...e })), { type: 'summary', ...rest }].map((x) => escapeJsonText(JSON.stringify(x)) + '\n').join('')
}
