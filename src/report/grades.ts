/**
 * @fileoverview Letter grades checks give targets. A finding whose evidence holds a string `grade` (and optionally `gradeCaps`,
 * the reasons it is capped) grades its target — the tls family's `tls-grade` does, A+…F, T, M. The report formats show them
 * beside the score: SARIF run properties (`grades`), the terminal table and the Markdown summary; the JSON has them in the
 * findings' evidence.
 */
import type { Finding } from '../types.ts'
import { isFindingView } from '../engine/spill.ts'

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

/** The grades in `findings`, one per target and rule (the first), in target order. */
export function gradesOf(findings: readonly Finding[]): TargetGrade[] {
  const cached = known.get(findings)
  if (cached) return [...cached]
  const seen = new Map<string, TargetGrade>()
  for (const f of findings) {
    const g = f.evidence?.grade
    if (typeof g !== 'string') continue
    const key = `${f.target}\0${f.ruleId}`
    if (seen.has(key)) continue
    const caps = Array.isArray(f.evidence?.gradeCaps) ? (f.evidence.gradeCaps as unknown[]).filter((c): c is string => typeof c === 'string') : []
    const binding = caps.filter((c) => c.startsWith(`capped to ${typeof f.evidence?.gradeIgnoringTrust === 'string' ? f.evidence.gradeIgnoringTrust : g}:`))
    seen.set(key, { target: f.target, rule: f.ruleId, grade: g, caps: binding })
  }
  const out = [...seen.values()].sort((a, b) => (a.target < b.target ? -1 : a.target > b.target ? 1 : 0))
  if (isFindingView(findings)) known.set(findings, out)
  return [...out]
}

/** `tls://h:443  B  (tls-grade: capped to B: TLSv1 offered)` lines, escaped by `esc`, at most `limit`, then a count of the rest. */
export function gradeLines(findings: readonly Finding[], esc: (v: unknown) => string, limit: number): string[] {
  const all = gradesOf(findings)
  const lines = all.slice(0, limit).map((g) => `${esc(g.target)}: ${esc(g.grade)} (${g.rule}${g.caps.length ? `: ${g.caps.map(esc).join('; ')}` : ''})`)
  if (all.length > limit) lines.push(`… and ${all.length - limit} more (see the JSON or SARIF report)`)
  return lines
}
