/**
 * @fileoverview The report formats: one list, used by `ztscan scan`, `ztscan merge` and the library alike. A format has a
 * name (`--format NAME`), the file extensions that select it (`-o FILE.EXT`), a renderer, and optionally a streaming
 * writer for reports too large to hold as one string. To add a format, add an entry here.
 */
import { createWriteStream } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import type { Writable } from 'node:stream'
import { formatNamed, formatOfPath, planOutputsOf } from './format-names.ts'
import type { ScanReport } from '../types.ts'
import { escapeJsonText } from './escape.ts'
import { stringifyJson, toJsonl, writeJson, writeJsonl } from './json.ts'
import { toSarif, writeSarif } from './sarif.ts'
import { toMarkdown, toTable } from './text.ts'
import { toHtml } from './html.ts'
import { toJunit } from './junit.ts'
import { toCodeQuality, toGitlabDast } from './gitlab.ts'
import { trendMarkdown, type Trend } from './trend.ts'

/** Options every renderer receives (a format uses what applies to it). */
export interface FormatOptions {
  /** SARIF `automationDetails` category (GitHub code scanning). */
  readonly category?: string
  /** GitLab security report schema version declared by the `gitlab` format (default GITLAB_SCHEMA_VERSION). */
  readonly gitlabSchemaVersion?: string
  /** Trend across runs, shown by the `html` and `markdown` formats. */
  readonly trend?: Trend
  /** Most SARIF results per run (default: GitHub's 25,000); beyond it results are grouped. */
  readonly sarifMaxResults?: number
  /** Receives what a writer has to say about its output (e.g. SARIF results grouped to fit GitHub's limits). */
  readonly note?: (message: string) => void
  /** The `table` format: columns to fit (a terminal's width) and whether to colour it. */
  readonly width?: number
  readonly color?: boolean
}

/** One report format. */
export interface ReportFormat {
  /** `--format` value. */
  readonly name: string
  /** Lower-case file name endings that select this format for `-o FILE` (the longest match wins). */
  readonly extensions: readonly string[]
  /** The whole document as a string. */
  render(report: ScanReport, o: FormatOptions): string
  /** Writes the document to a stream piece by piece and ends it unless `end` is false (stdout). */
  stream?(report: ScanReport, out: Writable, o: FormatOptions & { readonly end?: boolean }): Promise<void>
}

/** Every report format, in the order `--help` lists them. */
export const FORMATS: readonly ReportFormat[] = [
  // JSON (and JSON Lines, last) stream element by element: a report of any size is never one string.
  { name: 'json', extensions: ['.json'], render: (r) => stringifyJson(r), stream: (r, out, o) => writeJson(r, out, { end: o.end }) },
  {
    name: 'sarif',
    extensions: ['.sarif', '.sarif.json'],
    render: (r, o) => escapeJsonText(JSON.stringify(toSarif(r, { category: o.category, maxResults: o.sarifMaxResults }), null, 2)) + '\n',
    // SARIF streams result by result (100,000 findings never exist as one string) and groups results to stay within
    // GitHub's limits, saying what it grouped.
    async stream(r, out, o) {
      const outcome = await writeSarif(r, out, { category: o.category, maxResults: o.sarifMaxResults, end: o.end })
      for (const n of outcome.notes) o.note?.(n)
    },
  },
  { name: 'table', extensions: [], render: (r, o) => toTable(r, 50, { width: o.width, color: o.color }) },
  { name: 'markdown', extensions: ['.md', '.markdown'], render: (r, o) => toMarkdown(r) + (o.trend ? `\n${trendMarkdown(o.trend)}` : '') },
  { name: 'html', extensions: ['.html', '.htm'], render: (r, o) => toHtml(r, { trend: o.trend }) },
  { name: 'junit', extensions: ['.xml', '.junit.xml'], render: (r) => toJunit(r) },
  // GitLab: `gl-dast-report.json` / `gl-code-quality-report.json` are the names GitLab's own templates use.
  { name: 'gitlab', extensions: ['.gitlab.json', 'gl-dast-report.json'], render: (r, o) => escapeJsonText(JSON.stringify(toGitlabDast(r, { schemaVersion: o.gitlabSchemaVersion, note: o.note }), null, 2)) + '\n' },
  { name: 'codequality', extensions: ['.codequality.json', 'gl-code-quality-report.json'], render: (r, o) => escapeJsonText(JSON.stringify(toCodeQuality(r, { note: o.note }), null, 2)) + '\n' },
  // JSON Lines for pipelines: one finding or error per line, then a summary line.
  { name: 'jsonl', extensions: ['.jsonl', '.ndjson'], render: (r) => toJsonl(r), stream: (r, out, o) => writeJsonl(r, out, { end: o.end }) },
]

/** The format named `name`, or a UsageError listing the names. */
export function formatByName(name: string): ReportFormat {
  return formatNamed(FORMATS, name)
}

/** The format a file name selects by its extension (the longest matching one), if any. */
export function formatForPath(path: string): ReportFormat | undefined {
  return formatOfPath(FORMATS, path)
}

/** One planned output: a format and a file (`-` for stdout). */
export interface PlannedOutput {
  readonly format: ReportFormat
  readonly file: string
}

/**
 * Output plan: each `-o FILE` takes its format from its extension; `--format` values go, in order, to the `-o` files
 * without a known extension, and the rest to stdout. Nothing given: `dflt` on stdout.
 */
export function planOutputs(formats: readonly string[], files: readonly string[], dflt = 'table'): PlannedOutput[] {
  return planOutputsOf(FORMATS, formats, files, dflt)
}

/**
 * Bytes a report file's stream buffers before a writer waits for 'drain' (Node's default is 16 KiB): a writer makes
 * chunks until about 4 MiB is queued, then waits while that is written (libuv's threads), so it waits far less often and
 * the writes are larger, though making and writing overlap only at the start of each round (a 340 MB report waited about
 * a second less in all).
 */
const FILE_BUFFER = 4 << 20

/** Writes one planned output: to stdout, or to its file (streamed when the format can stream). */
export async function writeOutput(report: ScanReport, o: PlannedOutput, opts: FormatOptions = {}): Promise<void> {
  if (o.file === '-') {
    if (o.format.stream) await o.format.stream(report, process.stdout, { ...opts, end: false })
    else process.stdout.write(o.format.render(report, opts))
  } else if (o.format.stream) await o.format.stream(report, createWriteStream(o.file, { highWaterMark: FILE_BUFFER }), opts)
  else await writeFile(o.file, o.format.render(report, opts))
}
