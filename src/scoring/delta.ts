/**
 * @fileoverview Score change against a baseline scored with the same formula: overall and pillar deltas, the assets that
 * moved most, and the pillar caps added and lifted.
 */
import { PILLARS, type Pillar, type ScoreCap, type ScoreCard, type ScoreDelta } from '../types.ts'

/** At most this many movers are listed. */
export const MAX_MOVERS = 10

const round1 = (x: number): number => Math.round(x * 10) / 10
const diff = (a: number | null | undefined, b: number | null | undefined): number | null => (a == null || b == null ? null : round1(a - b))

/** What changed from `before` (the baseline, re-scored) to `now`. */
export function scoreDelta(now: ScoreCard, before: ScoreCard, source: string): ScoreDelta {
  const pillars = Object.fromEntries(PILLARS.map((p) => [p, diff(now.pillars[p].score, before.pillars[p]?.score)])) as Record<Pillar, number | null>
  const was = new Map((before.assets ?? []).map((a) => [`${a.pillar}\0${a.asset}`, a]))
  const is = new Map((now.assets ?? []).map((a) => [`${a.pillar}\0${a.asset}`, a]))
  const movers: { asset: string; pillar: Pillar; before: number | null; after: number | null; by: number }[] = []
  if (before.assets && now.assets)
    for (const k of new Set([...was.keys(), ...is.keys()])) {
      const b = was.get(k)
      const a = is.get(k)
      const x = (a ?? b)!
      const by = Math.abs((a?.score ?? 0) - (b?.score ?? 0)) + (a && b ? 0 : 0.05) // a new or gone asset moves the mean even at 0
      if (a && b && a.score === b.score) continue
      movers.push({ asset: x.asset, pillar: x.pillar, before: b?.score ?? null, after: a?.score ?? null, by })
    }
  movers.sort((x, y) => y.by - x.by || (x.asset < y.asset ? -1 : x.asset > y.asset ? 1 : 0))
  const capsOf = (c: ScoreCard): Map<string, ScoreCap & { pillar: Pillar }> =>
    new Map(PILLARS.flatMap((p) => (c.pillars[p]?.caps ?? []).map((cap) => [`${p}\0${cap.kind}\0${cap.ruleId ?? ''}`, { ...cap, pillar: p }] as const)))
  const capsNow = capsOf(now)
  const capsBefore = capsOf(before)
  return {
    source,
    overall: diff(now.overall, before.overall),
    pillars,
    movers: movers.slice(0, MAX_MOVERS).map(({ by: _by, ...m }) => m),
    capsAdded: [...capsNow].filter(([k]) => !capsBefore.has(k)).map(([, c]) => c),
    capsRemoved: [...capsBefore].filter(([k]) => !capsNow.has(k)).map(([, c]) => c),
  }
}
