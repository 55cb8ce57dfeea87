/**
 * @fileoverview Scores per CISA ZTMM pillar and overall. Formula (also in the README):
 *   weight(f) = SEVERITY_WEIGHT[f.severity]; counted findings are pass/fail, not suppressed, weight > 0
 *   pillar score = round(100 × Σ weight(passed) ÷ Σ weight(counted), 1); null when nothing counted
 *   overall = round(mean of non-null pillar scores, 1); stage: ≥ 90 optimal, ≥ 70 advanced, ≥ 40 initial, else traditional
 */
import { PILLARS, type Finding, type Pillar, type PillarScore, type ScoreCard, type Stage } from '../types.ts'
import { SEVERITY_WEIGHT } from './severity.ts'

/** Stage thresholds: the lowest score that reaches each stage. */
export const STAGE_THRESHOLDS: readonly (readonly [Stage, number])[] = [
  ['optimal', 90],
  ['advanced', 70],
  ['initial', 40],
  ['traditional', 0],
]

const round1 = (x: number): number => Math.round(x * 10) / 10

/** ZTMM stage a 0–100 score maps to. */
export function stageOf(score: number): Stage {
  for (const [stage, min] of STAGE_THRESHOLDS) if (score >= min) return stage
  return 'traditional'
}

/** Computes the score card from findings. */
export function score(findings: Iterable<Finding>): ScoreCard {
  const acc = new Map<Pillar, { passed: number; failed: number; earned: number; possible: number }>(
    PILLARS.map((p) => [p, { passed: 0, failed: 0, earned: 0, possible: 0 }]),
  )
  for (const f of findings) {
    if (f.suppression) continue
    const w = SEVERITY_WEIGHT[f.severity]
    if (w === 0) continue
    const a = acc.get(f.pillar)
    if (!a) continue
    a.possible += w
    if (f.status === 'pass') {
      a.passed++
      a.earned += w
    } else a.failed++
  }
  const pillars = {} as Record<Pillar, PillarScore>
  const evaluated: number[] = []
  for (const [p, a] of acc) {
    const s = a.possible > 0 ? round1((100 * a.earned) / a.possible) : null
    if (s !== null) evaluated.push(s)
    pillars[p] = { score: s, stage: s === null ? null : stageOf(s), ...a }
  }
  const overall = evaluated.length ? round1(evaluated.reduce((x, y) => x + y, 0) / evaluated.length) : null
  return { overall, stage: overall === null ? null : stageOf(overall), pillars, weights: SEVERITY_WEIGHT }
}
