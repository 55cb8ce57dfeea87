/**
 * @fileoverview Trend across runs: the score per pillar of each run, and what was fixed, new and still open between the
 * last two. Input: ztscan JSON reports (files given to `ztscan trend`, or the folder of `scan --history DIR`).
 * Reading is bounded: at most MAX_RUNS reports, only regular files; `readTrendReports` streams each (read-stream.ts), so a
 * report of any size reads in memory bounded by the open findings of the two newest runs; `readReport` reads one whole
 * report (at most MAX_REPORT_BYTES, lib-files.ts).
 */
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { InputError } from '../errors.ts'
import { FileError, MAX_REPORT_BYTES, readBounded } from '../lib-files.ts'
import { PILLARS, type Finding, type Pillar, type ScanReport } from '../types.ts'
import { SEVERITY_RANK } from '../scoring/severity.ts'
import { mdCell } from './text.ts'
import { validateReportPart } from './merge.ts'
import { streamReport } from './read-stream.ts'

/** Most reports a trend reads (the newest are kept). */
export const MAX_RUNS = 100

/** One run in a trend. */
export interface TrendRun {
  readonly startedAt: string
  /** File the run came from, when read from disk. */
  readonly source?: string
  readonly overall: number | null
  readonly stage: string | null
  readonly pillars: Readonly<Record<Pillar, number | null>>
  /** Open failed findings (not suppressed). */
  readonly open: number
}

/** A finding in the difference between two runs. */
export interface TrendItem {
  readonly fingerprint: string
  readonly ruleId: string
  readonly severity: string
  readonly target: string
  readonly message: string
}

/** Score per pillar over runs (oldest first) and the difference between the last two runs. */
export interface Trend {
  readonly runs: readonly TrendRun[]
  /** Open in the previous run, gone (or passing, or suppressed) in the last. Empty with fewer than two runs. */
  readonly fixed: readonly TrendItem[]
  /** Open in the last run, not open in the previous one. */
  readonly new: readonly TrendItem[]
  /** Open in both. */
  readonly stillOpen: readonly TrendItem[]
}

/**
 * A report as `readTrendReports` returns it: `findings` holds the open failed findings of the two newest runs only; for the
 * others it is an empty list that carries the run's count of open findings (on the list, so a copy of the report —
 * `{ ...r }`, `structuredClone` — keeps it, and a written report does not show it). `openFindings` counts them: what the
 * list holds, or the count an emptied list carries. It is a getter, not written (`JSON.stringify`) nor copied by a spread;
 * `trendOf` does not need it: a list filtered or replaced after reading is counted as it is, never by a count read before.
 */
export type TrendReport = ScanReport & { readonly openFindings: number }

const isOpen = (f: Finding): boolean => f.status === 'fail' && !f.suppression

/** The count of open findings an emptied list carries (see {@link TrendReport}): a key JSON does not write for an array. */
const CARRIED = 'openFindings'

/** An empty findings list standing for `n` open findings not kept. */
const emptied = (n: number): readonly Finding[] => Object.freeze(Object.assign([] as Finding[], { [CARRIED]: n }))

/** Open findings of a run: those of its list, or the count an emptied list (readTrendReports) carries. */
function openCount(findings: readonly Finding[]): number {
  const carried = (findings as { readonly [CARRIED]?: unknown })[CARRIED]
  if (findings.length === 0 && typeof carried === 'number') return carried
  let n = 0
  for (const f of findings) if (isOpen(f)) n++
  return n
}

/** `r` with `findings` and an `openFindings` getter over them (not enumerable: a written report does not show it). */
function trendReport(r: ScanReport, findings: readonly Finding[]): TrendReport {
  const t = { ...r, findings }
  Object.defineProperty(t, 'openFindings', { get: () => openCount(t.findings), enumerable: false })
  return t as TrendReport
}

const num = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null)

function openFindings(r: ScanReport): Map<string, TrendItem> {
  const m = new Map<string, TrendItem>()
  for (const f of r.findings as readonly Finding[])
    if (isOpen(f)) m.set(f.fingerprint, { fingerprint: f.fingerprint, ruleId: f.ruleId, severity: f.severity, target: f.target, message: f.message })
  return m
}

const order = (a: TrendItem, b: TrendItem): number =>
  (SEVERITY_RANK[b.severity as keyof typeof SEVERITY_RANK] ?? 0) - (SEVERITY_RANK[a.severity as keyof typeof SEVERITY_RANK] ?? 0) ||
  (a.ruleId < b.ruleId ? -1 : a.ruleId > b.ruleId ? 1 : 0) ||
  (a.target < b.target ? -1 : a.target > b.target ? 1 : 0)

/** Builds the trend of reports, ordered by their start time (ties keep the given order). */
export function trendOf(reports: readonly ScanReport[], sources?: readonly string[]): Trend {
  const withIx = reports.map((r, i) => ({ r, i })).sort((a, b) => Date.parse(a.r.startedAt) - Date.parse(b.r.startedAt) || a.i - b.i)
  const runs: TrendRun[] = withIx.map(({ r, i }) => {
    const score = (r.score ?? {}) as { overall?: unknown; stage?: unknown; pillars?: Record<string, { score?: unknown } | undefined> }
    const pillars = {} as Record<Pillar, number | null>
    for (const p of PILLARS) pillars[p] = num(score.pillars?.[p]?.score)
    const open = openCount(r.findings)
    return {
      startedAt: r.startedAt,
      ...(sources?.[i] ? { source: sources[i] } : {}),
      overall: num(score.overall),
      stage: typeof score.stage === 'string' ? score.stage : null,
      pillars,
      open,
    }
  })
  if (withIx.length < 2) return { runs, fixed: [], new: [], stillOpen: [] }
  const prev = openFindings(withIx[withIx.length - 2]!.r)
  const last = openFindings(withIx[withIx.length - 1]!.r)
  const fixed: TrendItem[] = []
  const added: TrendItem[] = []
  const still: TrendItem[] = []
  for (const [fp, f] of last) (prev.has(fp) ? still : added).push(f)
  for (const [fp, f] of prev) if (!last.has(fp)) fixed.push(f)
  return { runs, fixed: fixed.sort(order), new: added.sort(order), stillOpen: still.sort(order) }
}

/** Reads one ztscan JSON report (bounded, regular files only); errors name the file. */
export async function readReport(path: string): Promise<ScanReport> {
  let text: string
  try {
    text = (await readBounded(path, MAX_REPORT_BYTES)).toString('utf8')
  } catch (err) {
    if (err instanceof FileError) throw new InputError(path, FileError.detail(err.problem))
    throw err
  }
  let data: unknown
  try {
    data = JSON.parse(text)
  } catch (err) {
    throw new InputError(path, `not JSON (${(err as Error).message})`)
  }
  const d = data as { schemaVersion?: unknown; startedAt?: unknown } | null
  if (!d || typeof d !== 'object' || d.schemaVersion !== '1.0') throw new InputError(path, 'not a ztscan JSON report (schemaVersion 1.0)')
  // The same check as a merge part: the report schema, field by field.
  return validateReportPart(data, path)
}

/**
 * Reads reports for `trendOf`, streamed (read-stream.ts): any size that fits on disk, memory bounded. Each report comes back
 * without its findings except, for the two newest (by start time; ties: the later file), their open failed findings, all
 * that `trendOf` compares; the others carry their count of open findings (see {@link TrendReport}). Checked as
 * `readReport` checks, same messages.
 */
export async function readTrendReports(paths: readonly string[]): Promise<TrendReport[]> {
  const reports: TrendReport[] = []
  const kept: number[] = [] // indexes whose open findings are kept: at most the two newest so far
  for (const path of paths) {
    const open: Finding[] = []
    const report = await streamReport(path, {
      onFinding: (f) => {
        if (isOpen(f)) open.push({ ruleId: f.ruleId, status: f.status, severity: f.severity, target: f.target, message: f.message, fingerprint: f.fingerprint } as Finding)
      },
    })
    reports.push(trendReport(report, open))
    kept.push(reports.length - 1)
    // Newest last, as trendOf orders them (a stable sort by start time): keep the last two.
    kept.sort((a, b) => Date.parse(reports[a]!.startedAt) - Date.parse(reports[b]!.startedAt) || a - b)
    while (kept.length > 2) {
      const drop = kept.shift()!
      reports[drop] = trendReport(reports[drop]!, emptied(reports[drop]!.findings.length))
    }
  }
  return reports
}

/** The JSON reports in a history folder (`*.json`), oldest first by file name, at most the newest MAX_RUNS. */
export async function historyFiles(dir: string): Promise<string[]> {
  let names: string[]
  try {
    if (!(await stat(dir)).isDirectory()) throw new InputError(dir, 'not a folder')
    names = await readdir(dir)
  } catch (err) {
    if (err instanceof InputError) throw err
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw new InputError(dir, `cannot read the folder (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
  }
  return names.filter((n) => /^ztscan-.*\.json$/.test(n)).sort().slice(-MAX_RUNS).map((n) => join(dir, n))
}

/** File name a run is stored under in a history folder: sortable by start time. */
export function historyName(report: ScanReport): string {
  return `ztscan-${report.startedAt.replace(/[:.]/g, '-')}.json`
}

const fmt = (s: number | null): string => (s === null ? 'n/a' : s.toFixed(1))

/** Markdown: a table of the score per pillar over runs, and the fixed/new/still-open lists between the last two. */
export function trendMarkdown(trend: Trend, limit = 50): string {
  const out: string[] = ['## ztscan trend', '']
  out.push(`| Run | Overall | Stage | ${PILLARS.join(' | ')} | Open |`)
  out.push(`|---|---:|---|${PILLARS.map(() => '---:').join('|')}|---:|`)
  trend.runs.forEach((r, i) => {
    out.push(`| ${i + 1}: ${mdCell(r.startedAt)} | ${fmt(r.overall)} | ${mdCell(r.stage ?? 'not evaluated')} | ${PILLARS.map((p) => fmt(r.pillars[p])).join(' | ')} | ${r.open} |`)
  })
  if (trend.runs.length >= 2) {
    out.push('', `Between the last two runs: **${trend.fixed.length} fixed**, **${trend.new.length} new**, ${trend.stillOpen.length} still open.`)
    for (const [title, items] of [['Fixed', trend.fixed], ['New', trend.new], ['Still open', trend.stillOpen]] as const) {
      if (!items.length) continue
      out.push('', `### ${title}`, '', '| Severity | Rule | Target | Finding |', '|---|---|---|---|')
      for (const f of items.slice(0, limit)) out.push(`| ${mdCell(f.severity)} | ${mdCell(f.ruleId)} | ${mdCell(f.target)} | ${mdCell(f.message)} |`)
      if (items.length > limit) out.push('', `… and ${items.length - limit} more.`)
    }
  } else out.push('', 'One run only: nothing to compare yet.')
  return out.join('\n') + '\n'
}
