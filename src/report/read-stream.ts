/**
 * @fileoverview Reading a ztscan JSON report back as a stream (a `--history` run, a trend input): the report's arrays are
 * read entry by entry (lib-json-stream.ts: entries ≤ 8 MiB, nesting ≤ 64, linear time), each entry checked against its
 * part of the report schema, and only what the caller keeps stays in memory; `passCounts` and `score.assets` are only
 * checked as JSON (bounded, each entry dropped at once) unless the caller asks for pass counts (a merge). So a report of any size that fits on disk reads in memory bounded by its largest entry
 * plus what the caller keeps. The envelope (every other field) is checked against the report schema as `readReport` does,
 * with the same messages (file and JSON pointer); a field the schema lacks is rejected as it arrives, its value never kept.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { ValidateFunction } from 'ajv'
import { InputError, formatProblems } from '../errors.ts'
import { toProblems } from '../lib-ajv.ts'
import { lazyRequire } from '../lib-lazy.ts'
import { FileError, MAX_STREAM_BYTES, fileChunks } from '../lib-files.ts'
import { JsonStreamError, readJsonEntries } from '../lib-json-stream.ts'
import { packageRoot } from '../rules/root.ts'
import type { Finding, PassCount, ScanReport } from '../types.ts'
import { validateReportPart } from './merge.ts'

/** Top-level arrays read entry by entry and checked per entry. */
const STREAMED = ['targets', 'rules', 'findings', 'errors', 'skipped', 'expiredSuppressions', 'incomplete'] as const
/** Arrays only scanned: nothing read back needs them (`score.assets`: per-asset scores; `passCounts`: passing tallies). */
const SKIPPED = [['passCounts'], ['score', 'assets']] as const

let schema: { definitions: unknown; properties: Record<string, { items?: Record<string, unknown> }> } | undefined
const itemValidators = new Map<string, ValidateFunction>()
/** The report schema's part for one entry of the array at `pointer` (`/findings`, `/score/assets`: its `items`, with the shared definitions). */
function itemValidator(pointer: string): ValidateFunction {
  let v = itemValidators.get(pointer)
  if (!v) {
    let node: { properties?: Record<string, unknown>; items?: Record<string, unknown> } | undefined = { properties: reportProperties() }
    for (const k of pointer.split('/').slice(1)) node = node?.properties?.[k] as typeof node
    v = new (lazyRequire<typeof import('ajv')>('ajv')().Ajv)({ allErrors: false, strict: false, validateFormats: false }).compile({ definitions: schema!.definitions, ...(node?.items ?? {}) })
    itemValidators.set(pointer, v)
  }
  return v
}

const unescapeToken = (t: string): string => t.replace(/~1/g, '/').replace(/~0/g, '~')
const pointerOfKey = (k: string): string => `/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`
/** Sets an own field, whatever its name (`__proto__` too), as `JSON.parse` does. */
const define = (o: Record<string, unknown>, k: string, value: unknown): void => {
  Object.defineProperty(o, k, { value, writable: true, enumerable: true, configurable: true })
}
/** The report schema's top-level fields. */
function reportProperties(): Record<string, unknown> {
  schema ??= JSON.parse(readFileSync(join(packageRoot(), 'src', 'report', 'report.schema.json'), 'utf8')) as NonNullable<typeof schema>
  return schema.properties
}

/** What `streamReport` hands over and keeps. */
export interface StreamReportOptions {
  /** Gets each finding (checked against the schema) as it is read. */
  readonly onFinding?: (f: Finding, index: number) => void
  /** Streamed arrays kept whole in the result (`rules`, `errors`, ...); the others come back empty. */
  readonly keep?: readonly StreamedArray[]
  /** Largest report, in bytes read (default 16 GiB). */
  readonly maxBytes?: number
  /** Largest value other than the streamed arrays' entries, in bytes (default 16 MiB; a merge part: what a whole read allows). */
  readonly maxOtherBytes?: number
  /**
   * Gets each pass count (checked against the schema) as it is read, and has each per-asset score checked against the
   * schema too (a merge part: everything the whole-file read checks); without it both are only checked as JSON.
   */
  readonly onPassCount?: (c: PassCount, index: number) => void
  /**
   * Gets each entry (checked against the schema) of the streamed arrays other than `findings` (`targets`, `rules`,
   * `errors`, ...) as it is read: a caller that bounds them itself (a merge spills them) does not `keep` them.
   */
  readonly onEntry?: (array: StreamedArray, value: unknown, index: number) => void
}

/** A top-level array `streamReport` reads entry by entry. */
export type StreamedArray = (typeof STREAMED)[number]

/**
 * Streams the ztscan JSON report at `path`. Returns the report with every streamed array empty except those in `keep`
 * (`findings`, `targets`, `rules`, `errors`, `skipped`, ... and `passCounts`, `score.assets` when present): the envelope,
 * checked. Errors are `InputError`s naming the file and, where known, the JSON pointer.
 */
export async function streamReport(path: string, opts: StreamReportOptions = {}): Promise<ScanReport> {
  const { onFinding = () => {}, onPassCount, onEntry, keep = [], maxBytes = MAX_STREAM_BYTES, maxOtherBytes } = opts
  const kept = new Map<string, unknown[]>(keep.map((n) => [`/${n}`, []]))
  const env: Record<string, unknown> = {}
  let unknown = false // a field not in the schema was seen before schemaVersion (its placeholder is in env)
  let top: unknown
  let topSet = false
  try {
    await readJsonEntries(
      fileChunks(path, maxBytes),
      { arrays: [...STREAMED.map((n) => [n]), ...SKIPPED], skip: onPassCount ? [] : SKIPPED, bare: false, ...(maxOtherBytes ? { maxOtherBytes } : {}) },
      (value, index, pointer) => {
        const validate = itemValidator(pointer)
        if (!validate(value)) throw new InputError(path, formatProblems('', toProblems(validate.errors, value, `${pointer}/${index}`)).replace(/^: /, ''))
        if (pointer === '/findings') onFinding(value as Finding, index)
        else if (pointer === '/passCounts') onPassCount?.(value as PassCount, index)
        else if (onEntry && pointer.lastIndexOf('/') === 0) onEntry(pointer.slice(1) as StreamedArray, value, index)
        kept.get(pointer)?.push(value)
      },
      (pointer, value) => {
        if (pointer === '') {
          top = value
          topSet = true
          return
        }
        const keys = pointer.split('/').slice(1).map(unescapeToken)
        // A field the report schema does not have: rejected as soon as it arrives in a report (the message of a whole
        // read), its value never kept; before `schemaVersion` only a placeholder is kept (the file may be no report).
        if (!Object.hasOwn(reportProperties(), keys[0]!)) {
          if (env.schemaVersion === '1.0') throw new InputError(path, `${pointerOfKey(keys[0]!)}: expected no such property (unknown field)`)
          if (unknown) return
          unknown = true
          define(env, keys[0]!, null)
          return
        }
        let o = env
        for (const k of keys.slice(0, -1)) {
          if (!Object.hasOwn(o, k)) define(o, k, {})
          o = o[k] as Record<string, unknown>
        }
        define(o, keys[keys.length - 1]!, value)
      },
    ).then((summary) => {
      // A streamed array read back empty: its entries were checked one by one.
      for (const [pointer] of summary.counts) {
        const keys = pointer.split('/').slice(1)
        if (keys.length === 1) env[keys[0]!] = kept.get(pointer) ?? []
        else if (keys[0] === 'score') ((env.score ??= {}) as Record<string, unknown>).assets = []
      }
    })
  } catch (err) {
    if (err instanceof FileError) throw new InputError(path, FileError.detail(err.problem))
    if (err instanceof JsonStreamError) throw new InputError(path, err.syntax ? `not JSON (${err.message})` : err.message)
    throw err
  }
  const data = topSet ? top : env
  const d = data as { schemaVersion?: unknown } | null
  if (!d || typeof d !== 'object' || d.schemaVersion !== '1.0') throw new InputError(path, 'not a ztscan JSON report (schemaVersion 1.0)')
  return validateReportPart(data, path)
}
