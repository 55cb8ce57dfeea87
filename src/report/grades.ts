/**
 * @fileoverview Letter grades checks give targets. A finding whose evidence holds a string `grade` (and optionally `gradeCaps`,
 * the reasons it is capped) grades its target — the tls family's `tls-grade` does, A+…F, T, M. The report formats show them
 * beside the score: SARIF run properties (`grades`), the terminal table and the Markdown summary; the JSON has them in the
 * findings' evidence.
 */
import type { Finding } from '../types.ts'
import { isFindingView, recordsOf } from '../engine/spill.ts'

/** One target's grade from one rule. */
export interface TargetGrade {
  readonly target: string
  readonly rule: string
  readonly grade: string
  /** The caps that bind (`capped to B: TLSv1.1 offered`). */
  readonly caps: readonly string[]
}

/** Grades already read from a spilled report's findings (read back from disk, and read-only: once is enough). */
const known = new WeakMap<readonly Finding[], readonly TargetGrade[]>()

/** The grade a finding gives its target, if any. */
function gradeOf(f: Finding): TargetGrade | undefined {
  const g = f.evidence?.grade
  if (typeof g !== 'string') return undefined
  const caps = Array.isArray(f.evidence?.gradeCaps) ? (f.evidence.gradeCaps as unknown[]).filter((c): c is string => typeof c === 'string') : []
  const binding = caps.filter((c) => c.startsWith(`capped to ${typeof f.evidence?.gradeIgnoringTrust === 'string' ? f.evidence.gradeIgnoringTrust : g}:`))
  return { target: f.target, rule: f.ruleId, grade: g, caps: binding }
}

const byTarget = (a: TargetGrade, b: TargetGrade): number => (a.target < b.target ? -1 : a.target > b.target ? 1 : 0)

/** The grades in `findings`, one per target and rule (the first), in target order. */
export function gradesOf(findings: readonly Finding[]): TargetGrade[] {
  const cached = known.get(findings)
  if (cached) return [...cached]
  const seen = new Map<string, TargetGrade>()
  for (const r of recordsOf(findings)) {
    // A spilled finding's JSON text names a "grade" key if its evidence has one: the others are not parsed.
    if (r.mentions('"grade":') === false) continue
    const f = r.value
    const key = `${f.target}\0${f.ruleId}`
    if (seen.has(key)) continue
    const g = gradeOf(f)
    if (g) seen.set(key, g)
  }
  const out = [...seen.values()].sort(byTarget)
  if (isFindingView(findings)) known.set(findings, out)
  return [...out]
}

/**
 * The grades of a scan's findings, taken as they arrive (in any order): per target and rule, the grade of the finding that
 * comes first in the report's order (`order` gives a finding's sort key; equal keys: the earlier one). Attached to the
 * findings when they spilled, so `gradesOf` does not read them back.
 */
export class GradeTally {
  readonly #order: (f: Finding) => string
  readonly #first = new Map<string, { readonly order: string; readonly grade: TargetGrade }>()
  constructor(order: (f: Finding) => string) {
    this.#order = order
  }
  add(f: Finding): void {
    if (typeof f.evidence?.grade !== 'string') return
    const key = `${f.target}\0${f.ruleId}\0`
    const order = this.#order(f)
    const cur = this.#first.get(key)
    if (!cur || order < cur.order) this.#first.set(key, { order, grade: gradeOf(f)! })
  }
  /** Gives `gradesOf(findings)` these grades (when `findings` is a spilled, read-only view; an array is read as it is). */
  attach(findings: readonly Finding[]): void {
    if (!isFindingView(findings)) return
    const out = [...this.#first.values()].sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0)).map((x) => x.grade)
    known.set(findings, out.sort(byTarget))
  }
}

/** `tls://h:443  B  (tls-grade: capped to B: TLSv1 offered)` lines, escaped by `esc`, at most `limit`, then a count of the rest. */
export function gradeLines(findings: readonly Finding[], esc: (v: unknown) => string, limit: number): string[] {
  const all = gradesOf(findings)
  const lines = all.slice(0, limit).map((g) => `${esc(g.target)}: ${esc(g.grade)} (${g.rule}${g.caps.length ? `: ${g.caps.map(esc).join('; ')}` : ''})`)
  if (all.length > limit) lines.push(`… and ${all.length - limit} more (see the JSON or SARIF report)`)
  return lines
}
