/**
 * @fileoverview Progress on stderr (never stdout): on a TTY one line redrawn at most 10 times a second; without one a
 * plain line every `intervalMs` so a CI log shows a long scan is alive; nothing with `none`.
 */
import type { ScanEvent } from '../engine/run.ts'
import type { Finding, ScanReport, Severity } from '../types.ts'
import { SEVERITY_RANK } from '../scoring/severity.ts'
import { escapeLine } from '../report/escape.ts'
import { humanMs, plural } from '../lib-units.ts'

/** `--progress` values. */
export const PROGRESS_MODES = ['auto', 'tty', 'plain', 'none'] as const
export type ProgressMode = (typeof PROGRESS_MODES)[number]

/** The stream progress goes to (stderr; `columns` from a TTY). */
export interface ProgressStream {
  write(s: string): unknown
  readonly isTTY?: boolean
  readonly columns?: number
}

/** A running progress display: feed it the scan's events; `end()` before anything else is written to the stream. */
export interface Progress {
  onEvent(e: ScanEvent): void
  /** Clears the TTY line (before a note is written); it is redrawn on the next event. */
  clear(): void
  end(): void
}

/** The line shown: checks done of total, errors so far, elapsed, ETA. */
export function progressLine(s: { done: number; total: number; errors: number; targets: number; elapsedMs: number }): string {
  const eta = s.done > 0 && s.done < s.total ? `, ETA ${humanMs((s.elapsedMs * (s.total - s.done)) / s.done)}` : ''
  return `checks ${s.total ? `${s.done}/${s.total}` : s.done} done, ${plural(s.targets, 'target')}, ${plural(s.errors, 'error')}, ${humanMs(s.elapsedMs)} elapsed${eta}`
}

/** Starts a progress display in `mode` (`auto`: tty on a TTY, plain otherwise). */
export function startProgress(mode: ProgressMode, stream: ProgressStream, o: { intervalMs?: number; now?: () => number } = {}): Progress {
  const kind = mode === 'auto' ? (stream.isTTY ? 'tty' : 'plain') : mode
  const now = o.now ?? Date.now
  const start = now()
  const st = { done: 0, total: 0, errors: 0, targets: 0 }
  const line = (): string => progressLine({ ...st, elapsedMs: now() - start })
  if (kind === 'none') return { onEvent() {}, clear() {}, end() {} }
  if (kind === 'plain') {
    const timer = setInterval(() => stream.write(`ztscan: ${line()}\n`), o.intervalMs ?? 10_000)
    timer.unref()
    return {
      onEvent(e) {
        count(st, e)
      },
      clear() {},
      end() {
        clearInterval(timer)
      },
    }
  }
  let last = 0
  let shown = false
  const draw = (): void => {
    const width = Math.max(20, (stream.columns ?? 80) - 1)
    const text = line()
    stream.write(`\r\x1b[K${text.length > width ? text.slice(0, width - 1) + '…' : text}`)
    shown = true
    last = now()
  }
  // A redraw also every second while nothing happens: elapsed and ETA keep moving during a long port scan.
  const timer = setInterval(draw, 1000)
  timer.unref()
  return {
    onEvent(e) {
      count(st, e)
      if (now() - last >= 100) draw()
    },
    clear() {
      if (shown) stream.write('\r\x1b[K')
      shown = false
    },
    end() {
      clearInterval(timer)
      if (shown) stream.write('\r\x1b[K')
    },
  }
}

function count(st: { done: number; total: number; errors: number; targets: number }, e: ScanEvent): void {
  if (e.type === 'progress') {
    st.done = e.done
    st.total = e.total
  } else if (e.type === 'error') st.errors++
  else if (e.type === 'target') st.targets++
}

/** `--verbose`: one line per target: its verdict (failed findings by worst severity, passed, errors). */
export function targetVerdicts(report: ScanReport): string[] {
  const by = new Map<string, { fail: Finding[]; pass: number; errors: number }>()
  const of = (id: string) => by.get(id) ?? (by.set(id, { fail: [], pass: 0, errors: 0 }).get(id)!)
  for (const t of report.targets) of(t.id)
  for (const f of report.findings) if (f.status === 'fail' && !f.suppression) of(f.target).fail.push(f)
  else if (f.status === 'pass') of(f.target).pass++
  for (const c of report.passCounts ?? []) of(c.target).pass += c.count
  for (const e of report.errors) of(e.target).errors++
  return [...by].map(([id, x]) => {
    const worst = x.fail.reduce<Severity | undefined>((w, f) => (w === undefined || SEVERITY_RANK[f.severity] > SEVERITY_RANK[w] ? f.severity : w), undefined)
    const verdict = x.fail.length ? `FAIL (${plural(x.fail.length, 'failed finding')}, worst ${worst})` : x.errors && !x.pass ? 'NOT CHECKED' : 'PASS'
    return `ztscan: ${escapeLine(id)}: ${verdict}; ${x.pass} passed, ${plural(x.errors, 'error')}`
  })
}
