/**
 * @fileoverview `ztscan trend REPORT.json... [--history DIR] [-o FILE]`: the score per pillar over runs and what was fixed,
 * new and still open between the last two — Markdown (default, or `.md`), the HTML report of the last run with the
 * trend chart (`.html`), or the trend as JSON (`.json`). Also the `--history DIR` helpers of `ztscan scan`.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { historyFiles, historyName, readReport, readTrendReports, toHtml, trendMarkdown, trendOf, VERSION, type ScanReport } from '../index.ts'
import { escapeJsonText } from '../report/escape.ts'
import { EXIT, UsageError, commandHelp } from './help.ts'
import { oneOf, parseCommand } from './args.ts'

/**
 * Reads every report of a history folder (a missing folder is an empty history), streamed: what a trend needs of each
 * (readTrendReports): reports of any size, in memory that grows with the open findings of the two newest runs only.
 */
export async function loadHistory(dir: string): Promise<{ files: string[]; reports: ScanReport[] }> {
  const files = await historyFiles(dir)
  return { files, reports: await readTrendReports(files) }
}

/** Stores a report in a history folder (created when missing); returns the file written. */
export async function saveToHistory(dir: string, report: ScanReport): Promise<string> {
  await mkdir(dir, { recursive: true })
  const file = join(dir, historyName(report))
  await writeFile(file, escapeJsonText(JSON.stringify(report)) + '\n')
  return file
}

const TREND_FORMATS = ['markdown', 'html', 'json'] as const

export async function cmdTrend(argv: string[]): Promise<number> {
  const { values: v, positionals } = parseCommand('trend', argv, { output: { type: 'string', short: 'o' }, format: { type: 'string', short: 'f' }, history: { type: 'string' } }, true)
  if (v.help || v.version) {
    process.stdout.write(v.help ? commandHelp('trend')! : `${VERSION}\n`)
    return EXIT.ok
  }
  const files = [...(v.history ? await historyFiles(v.history) : []), ...positionals]
  const reports = await readTrendReports(files)
  if (!reports.length) throw new UsageError('trend: give JSON reports of earlier runs (ztscan trend a.json b.json), or --history DIR')
  const out = v.output ?? '-'
  const byExt = /\.html?$/i.test(out) ? 'html' : /\.json$/i.test(out) ? 'json' : /\.(md|markdown)$/i.test(out) ? 'markdown' : undefined
  const format = v.format === undefined ? byExt ?? 'markdown' : oneOf('--format', v.format, TREND_FORMATS)
  const trend = trendOf(reports, files)
  // The HTML report is the last run's, whole (read again: the trend kept only its open findings).
  const last = reports.reduce((a, b, i) => (Date.parse(b.startedAt) >= Date.parse(reports[a]!.startedAt) ? i : a), 0)
  const text = format === 'html' ? toHtml(await readReport(files[last]!), { trend }) : format === 'json' ? escapeJsonText(JSON.stringify(trend, null, 2)) + '\n' : trendMarkdown(trend)
  if (out === '-') process.stdout.write(text)
  else await writeFile(out, text)
  return EXIT.ok
}
