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

/** Long steps in flight (`step` events: ports probed of total), summed per label. */
export interface StepsProgress {
  readonly label: string
  readonly done: number
  readonly total: number
  /** Time since the first of these steps started. */
  readonly elapsedMs: number
}

// Made on first use: an Intl formatter costs ~15 ms of ICU set-up, paid by every command that imports this module.
let count0: Intl.NumberFormat | undefined
const grouped = (n: number): string => (count0 ??= new Intl.NumberFormat('en-US')).format(n)

/**
 * The line shown: the long steps in flight (e.g. `12,288/65,535 ports probed`), then checks done of total, errors so far,
 * elapsed, ETA (from the steps' rate while one runs, else from the checks').
 */
export function progressLine(s: { done: number; total: number; errors: number; targets: number; elapsedMs: number; steps?: readonly StepsProgress[] }): string {
  const steps = s.steps ?? []
  let etaMs: number | undefined
  for (const st of steps) if (st.done > 0 && st.done < st.total) etaMs = Math.max(etaMs ?? 0, (st.elapsedMs * (st.total - st.done)) / st.done)
  if (etaMs === undefined && s.done > 0 && s.done < s.total) etaMs = (s.elapsedMs * (s.total - s.done)) / s.done
  const phase = steps.map((st) => `${grouped(st.done)}/${grouped(st.total)} ${st.label}; `).join('')
  const eta = etaMs === undefined ? '' : `, ETA ${humanMs(etaMs)}`
  return `${phase}checks ${s.total ? `${s.done}/${s.total}` : s.done} done, ${plural(s.targets, 'target')}, ${plural(s.errors, 'error')}, ${humanMs(s.elapsedMs)} elapsed${eta}`
}

/** Starts a progress display in `mode` (`auto`: tty on a TTY, plain otherwise). */
export function startProgress(mode: ProgressMode, stream: ProgressStream, o: { intervalMs?: number; now?: () => number } = {}): Progress {
  const kind = mode === 'auto' ? (stream.isTTY ? 'tty' : 'plain') : mode
  const now = o.now ?? Date.now
  const start = now()
  const st: Counts = { done: 0, total: 0, errors: 0, targets: 0, steps: new Map(), now }
  const line = (): string => progressLine({ ...st, elapsedMs: now() - start, steps: stepsOf(st) })
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

interface Counts {
  done: number
  total: number
  errors: number
  targets: number
  /** Steps in flight by check and target: label, done, total, when it started. */
  readonly steps: Map<string, { label: string; done: number; total: number; startedAt: number }>
  readonly now: () => number
}

function count(st: Counts, e: ScanEvent): void {
  if (e.type === 'progress') {
    st.done = e.done
    st.total = e.total
  } else if (e.type === 'error') st.errors++
  else if (e.type === 'target') st.targets++
  else if (e.type === 'step') {
    const key = `${e.check}\0${e.target}\0${e.label}`
    if (e.done >= e.total) st.steps.delete(key)
    else {
      const cur = st.steps.get(key)
      st.steps.set(key, { label: e.label, done: e.done, total: e.total, startedAt: cur?.startedAt ?? st.now() })
    }
  }
}

/** Steps in flight summed per label (two hosts' port scans: one `ports probed` figure). */
function stepsOf(st: Counts): StepsProgress[] {
  const by = new Map<string, { label: string; done: number; total: number; elapsedMs: number }>()
  const t = st.now()
  for (const s of st.steps.values()) {
    const cur = by.get(s.label) ?? { label: s.label, done: 0, total: 0, elapsedMs: 0 }
    cur.done += s.done
    cur.total += s.total
    cur.elapsedMs = Math.max(cur.elapsedMs, t - s.startedAt)
    by.set(s.label, cur)
  }
  return [...by.values()]
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
