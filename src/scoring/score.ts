/**
 * @fileoverview The posture score (formula version {@link SCORE_VERSION}; README "Score" explains it with worked examples).
 *
 * 1. Asset: a target, or the host/device a finding names within one (`finding.asset`). For each rule counted on it,
 *    credit = 1 when no resource failed, 0 when one did; a population rule (`population` in the rule file) earns
 *    passed ÷ (passed + failed). Asset score = 100 × Σ weight × credit ÷ Σ weight. Suppressed results and `info` rules are
 *    out of the denominator; errors are never passes.
 * 2. Asset caps: a failed critical → at most `initial` (score ≤ 69.9); a failed high or medium → at most `advanced`
 *    (≤ 89.9); a check that errored on the asset → at most `advanced`. Optimal means nothing above low failed.
 * 3. Pillar = mean of its assets' capped scores (each asset once, however many checks it has), then capped: by every
 *    critical and high asset cap (a critical anywhere → initial), by errors (→ advanced), and by asset share: the pillar reaches a stage only
 *    when ≥ 90 % of its assets do.
 * 4. Overall = mean of evaluated pillars; with `weakestPillarFloor` it cannot be above the weakest pillar's stage.
 *
 * The pillar aggregates are sums and counts, so shard reports merge into the same score ({@link mergeScoreCards}).
 * Input is findings and, for passes counted rather than stored, per-(rule, asset) pass counts.
 */
import {
  PILLARS,
  SEVERITIES,
  type AcceptedRisk,
  type AssetScore,
  type AttemptError,
  type AttemptSkip,
  type Finding,
  type PartialCredit,
  type PassCount,
  type Pillar,
  type PillarScore,
  type RuleMeta,
  type ScoreCap,
  type ScoreCard,
  type ScoreSettings,
  type Severity,
  type Stage,
} from '../types.ts'
import { SEVERITY_WEIGHT } from './severity.ts'
import { ZTMM_FUNCTIONS } from './ztmm.ts'
import { DEFAULT_MEMORY_RECORDS, OrderedSpill, SpillMap } from '../engine/spill.ts'
import { TallyMap, type BinReader, type BinWriter, type Codec } from '../engine/tally.ts'

/** Version of the formula; reports carry it as `score.scoreVersion`. */
export const SCORE_VERSION = '2.0'

/** Stage thresholds: the lowest score that reaches each stage. */
export const STAGE_THRESHOLDS: readonly (readonly [Stage, number])[] = [
  ['optimal', 90],
  ['advanced', 70],
  ['initial', 40],
  ['traditional', 0],
]

/** Share of a pillar's assets that must reach a stage for the pillar to reach it. */
export const ASSET_SHARE = 0.9

const STAGES: readonly Stage[] = ['traditional', 'initial', 'advanced', 'optimal']
const RANK: Readonly<Record<Stage, number>> = { traditional: 0, initial: 1, advanced: 2, optimal: 3 }
/** Highest score a stage allows (a cap to `initial` clamps the score to 69.9). */
const TOP: Readonly<Record<Stage, number>> = { traditional: 39.9, initial: 69.9, advanced: 89.9, optimal: 100 }
const MIN: Readonly<Record<Stage, number>> = { traditional: 0, initial: 40, advanced: 70, optimal: 90 }
const CAP_ORDER: Readonly<Record<ScoreCap['kind'], number>> = { 'critical-failed': 0, 'high-failed': 1, 'medium-failed': 2, incomplete: 3, 'asset-share': 4, 'weakest-pillar': 5 }
/** The ladder: the stage a failed rule of each severity holds its asset at (critical and high also hold the pillar). */
const FAIL_CAP: Partial<Record<Severity, { stage: Stage; kind: ScoreCap['kind'] }>> = {
  critical: { stage: 'initial', kind: 'critical-failed' },
  high: { stage: 'advanced', kind: 'high-failed' },
  medium: { stage: 'advanced', kind: 'medium-failed' },
}

type Writable<T> = { -readonly [K in keyof T]: T[K] }

const round1 = (x: number): number => Math.round(x * 10) / 10
const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)
const minStage = (a: Stage, b: Stage): Stage => (RANK[a] <= RANK[b] ? a : b)

/** ZTMM stage a 0–100 score maps to. */
export function stageOf(score: number): Stage {
  for (const [stage, min] of STAGE_THRESHOLDS) if (score >= min) return stage
  return 'traditional'
}

export type { PassCount } from '../types.ts'

/** Everything the score is computed from; a pure function of it. */
export interface ScoreInput {
  /** Findings, pass and fail, suppressed ones included (they are listed as accepted risk). */
  readonly findings: Iterable<Finding>
  /** Passes counted instead of stored as findings (severity and pillar then come from `rules`). */
  readonly passCounts?: Iterable<PassCount>
  readonly errors?: readonly AttemptError[]
  readonly skipped?: readonly AttemptSkip[]
  /** Rules in force (coverage, population rules, severity of counted passes). */
  readonly rules?: readonly (RuleMeta & { readonly enabled?: boolean })[]
  readonly settings?: ScoreSettings
  /**
   * Assets tallied in memory (default 20,000): past it the per-asset tallies and scores spill to temporary files and
   * `assets` is a lazy view read back from them (released with the report, see `releaseFindings`). Same card either way.
   */
  readonly memoryAssets?: number
  /** Characters held in memory by each of those spilled lists before it writes (default 32 MiB, as `scan`'s memoryBytes). */
  readonly memoryBytes?: number
}

/** One rule's tally on an asset; `fail*`: its first failed finding (by resource, then target), once one failed. */
export interface RuleTally {
  readonly ruleId: string
  readonly severity: Severity
  passed: number
  failed: number
  failResource?: string
  failFingerprint?: string
  failTarget?: string
}

/** An asset's tallies: flat records, written to the spill file as they are (see {@link assetCodec}) past the budget. */
export interface AssetAcc {
  readonly asset: string
  /** The asset's target: the lowest among its findings' targets, else among its counted passes' (order-independent). */
  ft?: string
  pt?: string
  readonly pillar: Pillar
  /** A few rules per asset: looked up by a scan of the list. */
  readonly rules: RuleTally[]
  passed: number
  failed: number
  suppressed: number
}

const ruleOf = (a: AssetAcc, ruleId: string): RuleTally | undefined => {
  for (const t of a.rules) if (t.ruleId === ruleId) return t
  return undefined
}

/** The failure an asset's cap names: the lowest resource, then the lowest target (the first in the report's order). */
const firstFailBefore = (resource: string, target: string, t: RuleTally): boolean => {
  if (t.failResource === undefined) return true
  const c = cmp(resource, t.failResource)
  return c < 0 || (c === 0 && cmp(target, t.failTarget!) < 0)
}

/** Two partial tallies of one asset, `a` added first: counts add up, the first failure is the lowest resource. */
function combineAssets(a: AssetAcc, b: AssetAcc): AssetAcc {
  a.passed += b.passed
  a.failed += b.failed
  a.suppressed += b.suppressed
  if (b.ft !== undefined && (a.ft === undefined || cmp(b.ft, a.ft) < 0)) a.ft = b.ft
  if (b.pt !== undefined && (a.pt === undefined || cmp(b.pt, a.pt) < 0)) a.pt = b.pt
  for (const t of b.rules) {
    const x = ruleOf(a, t.ruleId)
    if (!x) {
      a.rules.push(t)
      continue
    }
    x.passed += t.passed
    x.failed += t.failed
    if (t.failResource !== undefined && firstFailBefore(t.failResource, t.failTarget!, x)) {
      x.failResource = t.failResource
      x.failFingerprint = t.failFingerprint
      x.failTarget = t.failTarget
    }
  }
  return a
}

const PILLAR_INDEX = new Map<string, number>(PILLARS.map((p, i) => [p, i]))
const SEVERITY_INDEX = new Map<string, number>(SEVERITIES.map((s, i) => [s, i]))
/** Rule ids an asset codec keeps in its table (a merge's come from its input files): any other is written whole. */
export const MAX_RULE_IDS = 4096
/** The index written before a rule id written whole. */
const RULE_ID_TAG = 0xffffffff

/**
 * An asset's tallies in the spill file: numbers and strings as they are (no JSON). The asset is read back from the key
 * (`pillar\0asset`, as {@link scoreTally} makes it: the pillar's name has no NUL), a rule id is its index in the tally's own table of rule ids (few: kept in memory), and a target
 * equal to the asset's first one (`ft`) is a flag: most strings of a record are not written at all.
 */
export function assetCodec(): Codec<AssetAcc> {
  const ruleIds: string[] = []
  const ruleIndex = new Map<string, number>()
  const damaged = (): never => {
    throw new Error('tally spill: an asset tally of the temporary file is damaged')
  }
  /** A rule id: its index in the table, or (past the table's cap: ids of a hostile merge's inputs) the tag and the string. */
  const writeRule = (w: BinWriter, id: string): void => {
    let i = ruleIndex.get(id)
    if (i === undefined && ruleIds.length < MAX_RULE_IDS) ruleIndex.set(id, (i = ruleIds.push(id) - 1))
    if (i !== undefined) return w.u32(i)
    w.u32(RULE_ID_TAG)
    w.str(id)
  }
  const readRule = (r: BinReader): string => {
    const i = r.u32()
    return i === RULE_ID_TAG ? r.str() : (ruleIds[i] ?? damaged())
  }
  /** A target: 0 absent, 1 the asset's `ft`, else 2 and the string. */
  const target = (w: BinWriter, t: string | undefined, ft: string | undefined): void => {
    if (t === undefined) w.u8(0)
    else if (t === ft) w.u8(1)
    else {
      w.u8(2)
      w.str(t)
    }
  }
  const readTarget = (r: BinReader, ft: string | undefined): string | undefined => {
    const how = r.u8()
    return how === 0 ? undefined : how === 1 ? ft : r.str()
  }
  return {
    // The key and the asset id when added (what the tally holds later is counted by grew()): no walk per new asset.
    weigh: (key, a) => key.length + a.asset.length + 96,
    write(w: BinWriter, a: AssetAcc): void {
      w.u8(PILLAR_INDEX.get(a.pillar)!)
      w.opt(a.ft)
      target(w, a.pt, a.ft)
      w.num(a.passed)
      w.num(a.failed)
      w.num(a.suppressed)
      w.u32(a.rules.length)
      for (const t of a.rules) {
        writeRule(w, t.ruleId)
        w.u8(SEVERITY_INDEX.get(t.severity)!)
        w.num(t.passed)
        w.num(t.failed)
        if (t.failResource === undefined) w.u8(0)
        else {
          w.u8(1)
          w.str(t.failResource)
          w.str(t.failFingerprint!)
          target(w, t.failTarget, a.ft)
        }
      }
    },
    read(r: BinReader, key: string): AssetAcc {
      const pillar = PILLARS[r.u8()] ?? damaged()
      const asset = key.slice(pillar.length + 1)
      const ft = r.opt()
      const pt = readTarget(r, ft)
      const a: AssetAcc = { asset, ft, pt, pillar, passed: r.num(), failed: r.num(), suppressed: r.num(), rules: [] }
      for (let n = r.u32(); n > 0; n--) {
        const t: RuleTally = { ruleId: readRule(r), severity: SEVERITIES[r.u8()] ?? damaged(), passed: r.num(), failed: r.num() }
        if (r.u8()) {
          t.failResource = r.str()
          t.failFingerprint = r.str()
          t.failTarget = readTarget(r, ft)
        }
        a.rules.push(t)
      }
      return a
    },
  }
}

/** The mergeable part of a pillar (sums, counts, sets); {@link finishPillar} turns it into a {@link PillarScore}. */
interface PillarStats {
  count: number
  scoreSum: number
  byStage: Record<Stage, number>
  passed: number
  failed: number
  suppressed: number
  caps: Map<string, ScoreCap>
  errors: number
  firstError?: { target: string; check: string; reason: string }
  skipped: number
  assetsUnjudged: number
  functions: Map<string, 'judged' | 'not-judged'>
  accepted: Map<string, AcceptedRisk>
  notApplicable: Map<string, { check: string; why: string; count: number }>
}

function emptyStats(): PillarStats {
  return {
    count: 0, scoreSum: 0, byStage: { traditional: 0, initial: 0, advanced: 0, optimal: 0 }, passed: 0, failed: 0, suppressed: 0,
    caps: new Map(), errors: 0, skipped: 0, assetsUnjudged: 0, functions: new Map(), accepted: new Map(), notApplicable: new Map(),
  }
}

/** The sentence a cap shows, built from its fields (so merged caps read the same as unmerged ones). */
export function capText(c: Omit<ScoreCap, 'text'>, pillar?: Pillar): string {
  const more = (n: number, what: string): string => (n > 1 ? ` (+${n - 1} more ${what})` : '')
  switch (c.kind) {
    case 'critical-failed':
    case 'high-failed':
    case 'medium-failed': {
      const sev = c.kind.slice(0, -'-failed'.length)
      const where = `${c.ruleId} failed on ${c.asset}${c.resource && c.resource !== c.asset ? ` (${c.resource})` : ''}`
      return `capped to ${c.stage}: ${sev} ${where}${more(c.count, pillar ? 'assets' : 'resources')}`
    }
    case 'incomplete':
      return `capped to ${c.stage}: ${c.count} check attempt(s) errored, e.g. ${c.resource} on ${c.asset}: errors are never passes`
    case 'asset-share':
      return `capped to ${c.stage}: ${c.count} asset(s) below ${STAGES[RANK[c.stage] + 1] ?? c.stage}; a pillar reaches a stage when ${ASSET_SHARE * 100} % of its assets do`
    case 'weakest-pillar':
      return `capped to ${c.stage}: weakest-pillar floor (policy), ${c.asset} is ${c.stage}`
  }
}

function mkCap(c: Omit<ScoreCap, 'text'>, pillar?: Pillar): ScoreCap {
  return { ...c, text: capText(c, pillar) }
}

const capKey = (c: Pick<ScoreCap, 'kind' | 'ruleId'>): string => `${c.kind}\0${c.ruleId ?? ''}`
const byCap = (a: ScoreCap, b: ScoreCap): number => CAP_ORDER[a.kind] - CAP_ORDER[b.kind] || cmp(a.ruleId ?? '', b.ruleId ?? '') || cmp(a.asset ?? '', b.asset ?? '')

/**
 * Adds `cap` to a pillar's caps: same kind and rule → counts add up, the example is the first asset by id. The caps'
 * texts are written once, by {@link finishPillar} (this runs for every capped asset).
 */
function addCap(caps: Map<string, ScoreCap>, cap: ScoreCap, count = cap.count): void {
  const k = capKey(cap)
  const prev = caps.get(k)
  // The map holds copies of its own (made here), so a count adds up in place: most calls allocate nothing.
  if (!prev) return void caps.set(k, { ...cap, count })
  if (cmp(`${cap.asset ?? ''}\0${cap.resource ?? ''}`, `${prev.asset ?? ''}\0${prev.resource ?? ''}`) < 0) caps.set(k, { ...cap, count: prev.count + count })
  else (prev as Writable<ScoreCap>).count += count
}

/** Computes the score card. Pure: same input, same card (whatever the order of the findings and pass counts). */
export function scoreReport(input: ScoreInput): ScoreCard {
  const t = scoreTally(input)
  // The findings and counts may be spilled views whose reads can throw (released, damaged): the tallies' temporary file,
  // spilled by then, is removed before the error passes (card() releases its own on a throw).
  try {
    for (const f of input.findings) t.finding(f)
    for (const c of input.passCounts ?? []) t.passes(c)
  } catch (err) {
    t.release()
    throw err
  }
  return t.card(input.errors, input.skipped)
}

/** A score computed as findings and passes arrive (a scan feeds it while it runs): {@link scoreReport} in parts. */
export interface ScoreTally {
  finding(f: Finding): void
  passes(c: PassCount): void
  /** The card, once every finding and pass was added (call once: the per-asset tallies are released). */
  card(errors?: readonly AttemptError[], skipped?: readonly AttemptSkip[]): ScoreCard
  /** Removes the tallies' temporary file without a card (a scan that failed). */
  release(): void
}

/** Starts a {@link ScoreTally}: same card as {@link scoreReport} of the same findings and passes, in any order. */
export function scoreTally(input: Pick<ScoreInput, 'rules' | 'settings' | 'memoryAssets' | 'memoryBytes'>): ScoreTally {
  const settings = input.settings ?? {}
  const ruleMeta = new Map((input.rules ?? []).filter((r) => PILLARS.includes(r.pillar)).map((r) => [r.id, r]))
  const memoryAssets = input.memoryAssets ?? DEFAULT_MEMORY_RECORDS
  const bytes = { maxBytes: input.memoryBytes }
  const assets = new TallyMap<AssetAcc>(memoryAssets, combineAssets, assetCodec(), undefined, bytes)
  const stats = new Map<Pillar, PillarStats>(PILLARS.map((p) => [p, emptyStats()]))
  const statsOf = (p: Pillar): PillarStats => stats.get(p)!
  const familyPillars = new Map<string, Set<Pillar>>()
  const notePillar = (family: string, pillar: Pillar): void => {
    let s = familyPillars.get(family)
    if (!s) familyPillars.set(family, (s = new Set()))
    s.add(pillar)
  }
  const rulesOk = (input.rules ?? []).filter((r) => stats.has(r.pillar))
  for (const r of rulesOk) {
    if (r.enabled === false) continue
    notePillar(r.family, r.pillar)
    for (const fn of r.functions ?? []) if (!statsOf(r.pillar).functions.has(fn)) statsOf(r.pillar).functions.set(fn, 'not-judged')
  }
  const rulesInForce = new Map<Pillar, Set<string>>(PILLARS.map((p) => [p, new Set(rulesOk.filter((r) => r.enabled !== false && r.pillar === p).map((r) => r.id))]))
  const rulesJudged = new Map<Pillar, Set<string>>(PILLARS.map((p) => [p, new Set()]))

  // The last asset tallied: a scan's findings and passes of one host arrive together (no key made, no lookup). Valid
  // while the map wrote no run since (a spill empties it).
  let last: AssetAcc | undefined
  let lastRuns = 0
  const assetOf = (pillar: Pillar, target: string, asset: string, pass: boolean): AssetAcc => {
    let a = last !== undefined && last.asset === asset && last.pillar === pillar && lastRuns === assets.runs ? last : undefined
    if (!a) {
      const key = `${pillar}\0${asset}`
      a = assets.get(key)
      if (!a) assets.set(key, (a = { asset, ft: undefined, pt: undefined, pillar, rules: [], passed: 0, failed: 0, suppressed: 0 }))
      last = a
      lastRuns = assets.runs
    }
    // A string the tally now holds counts against the map's byte budget (a replaced one is counted again: an overestimate).
    if (pass) {
      if (a.pt === undefined || cmp(target, a.pt) < 0) assets.grew((a.pt = target).length)
    } else if (a.ft === undefined || cmp(target, a.ft) < 0) assets.grew((a.ft = target).length)
    return a
  }
  const tally = (pillar: Pillar, target: string, asset: string, ruleId: string, severity: Severity, counted: boolean): { a: AssetAcc; t: RuleTally } => {
    const a = assetOf(pillar, target, asset, counted)
    let t = ruleOf(a, ruleId)
    if (!t) {
      a.rules.push((t = { ruleId, severity, passed: 0, failed: 0 }))
      assets.grew(ruleId.length + 64)
    }
    return { a, t }
  }
  const judged = (pillar: Pillar, ruleId: string): void => {
    const rules = rulesJudged.get(pillar)!
    // Once per pillar and rule: its functions stay judged (the per-finding calls after the first change nothing).
    if (rules.has(ruleId)) return
    rules.add(ruleId)
    for (const fn of ruleMeta.get(ruleId)?.functions ?? []) statsOf(pillar).functions.set(fn, 'judged')
  }

  const finding = (f: Finding): void => {
    const st = stats.get(f.pillar)
    if (!st) return
    notePillar(f.family, f.pillar)
    const asset = f.asset ?? f.target
    if (f.suppression) {
      st.suppressed++
      assetOf(f.pillar, f.target, asset, false).suppressed++
      const k = `${f.ruleId}\0${f.suppression.reason}\0${f.suppression.expires ?? ''}`
      const prev = st.accepted.get(k)
      st.accepted.set(k, { ruleId: f.ruleId, reason: f.suppression.reason, ...(f.suppression.expires ? { expires: f.suppression.expires } : {}), count: (prev?.count ?? 0) + 1 })
      return
    }
    if (f.status === 'pass') st.passed++
    else st.failed++
    judged(f.pillar, f.ruleId)
    if (SEVERITY_WEIGHT[f.severity] === 0) return
    const { a, t } = tally(f.pillar, f.target, asset, f.ruleId, f.severity, false)
    if (f.status === 'pass') {
      t.passed++
      a.passed++
    } else {
      t.failed++
      a.failed++
      if (firstFailBefore(f.resource, f.target, t)) {
        t.failResource = f.resource
        t.failFingerprint = f.fingerprint
        t.failTarget = f.target
        assets.grew(f.resource.length + f.fingerprint.length + f.target.length)
      }
    }
  }
  const passes = (c: PassCount): void => {
    const r = ruleMeta.get(c.ruleId)
    if (!r || c.count <= 0) return
    statsOf(r.pillar).passed += c.count
    judged(r.pillar, c.ruleId)
    if (SEVERITY_WEIGHT[r.severity] === 0) return
    const { a, t } = tally(r.pillar, c.target, c.asset ?? c.target, c.ruleId, r.severity, true)
    t.passed += c.count
    a.passed += c.count
  }
  return { finding, passes, card: (errors, skipped) => finishCard(errors ?? [], skipped ?? []), release: () => assets.release() }

  function finishCard(errors: readonly AttemptError[], skipped: readonly AttemptSkip[]): ScoreCard {
    // Errors and skips belong to the pillars of their family's rules.
    // Each errored (pillar, target) with its first check, keyed `pillar\0target` as the asset tallies are: read back in
    // key order beside them (a merge join, see erroredOf), so past the budget they spill instead of growing the heap.
    /** A lookup of the errored check of assets asked for in key order (one pass over the errored targets). */
    const erroredOf = (): ((key: string) => string | undefined) => {
      const it = erroredTargets.records()
      let cur = it.next()
      return (key) => {
        while (!cur.done && cur.value.key < key) cur = it.next()
        return !cur.done && cur.value.key === key ? cur.value.value : undefined
      }
    }
    const erroredTargets = new SpillMap<string>(memoryAssets, (a, b) => (cmp(b, a) < 0 ? b : a), undefined, bytes)
    // The errors and skips may be spilled views whose reads can throw: the temporary files are released then too.
    try {
      for (const e of errors)
        for (const p of familyPillars.get(e.family) ?? []) {
          const st = statsOf(p)
          st.errors++
          if (!st.firstError || cmp(`${e.target}\0${e.check}`, `${st.firstError.target}\0${st.firstError.check}`) < 0) st.firstError = { target: e.target, check: e.check, reason: e.reason }
          const k = `${p}\0${e.target}`
          const first = erroredTargets.get(k)
          if (first === undefined || cmp(e.check, first) < 0) erroredTargets.set(k, e.check)
        }
      for (const s of skipped)
        for (const p of familyPillars.get(s.family) ?? []) {
          const st = statsOf(p)
          st.skipped++
          const k = `${s.check}\0${s.why}`
          st.notApplicable.set(k, { check: s.check, why: s.why, count: (st.notApplicable.get(k)?.count ?? 0) + 1 })
        }
    } catch (err) {
      erroredTargets.release()
      assets.release()
      throw err
    }

    // Assets, in a stable order (pillar, asset id: the key order), one at a time. Past the budget the tallies were
    // spilled: each asset's score is then written once as the JSON text the report shows (an OrderedSpill: the scores are
    // made in key order, so they are appended as they come, with no key, sort or merge), and the report's writers copy
    // that text (`assets` below).
    const spilled = assets.spilled
    const list: AssetScore[] = []
    const scores = spilled ? new OrderedSpill<AssetScore>(memoryAssets, undefined, bytes) : undefined
    // Each scored (pillar, target), keyed `pillar\0target` as the errored ones are: past the budget they spill, and an
    // errored target none of whose assets was scored is counted unjudged by a merge join of the two in key order. Kept
    // only when a target errored (the common scan has no error: nothing is added per asset then).
    const scoredTargets = erroredTargets.size || erroredTargets.spilled ? new SpillMap<true>(memoryAssets, (a) => a, undefined, bytes) : undefined
    try {
      const errored = erroredOf()
      for (const [key, a] of assets.entries()) {
        const s = scoreAsset(a, errored(key), ruleMeta, true)
        if (!s) continue
        if (scores) scores.add(s)
        else list.push(s)
        scoredTargets?.set(`${a.pillar}\0${s.target}`, true)
        const st = statsOf(a.pillar)
        st.count++
        st.scoreSum = round1(st.scoreSum + s.score)
        st.byStage[s.stage]++
        for (const c of s.caps) if (c.kind === 'critical-failed' || c.kind === 'high-failed') addCap(st.caps, c, 1)
      }
      if (scoredTargets) {
        const scored = scoredTargets.records()
        let cur = scored.next()
        for (const [k] of erroredTargets.entries()) {
          while (!cur.done && cur.value.key < k) cur = scored.next()
          if (cur.done || cur.value.key !== k) statsOf(k.slice(0, k.indexOf('\0')) as Pillar).assetsUnjudged++
        }
      }
    } catch (err) {
      scores?.release()
      throw err
    } finally {
      assets.release()
      erroredTargets.release()
      scoredTargets?.release()
    }

    try {
      const pillars = Object.fromEntries(
        PILLARS.map((p) => [p, finishPillar(p, statsOf(p), [...rulesInForce.get(p)!].sort(), [...rulesJudged.get(p)!].sort(), settings)]),
      ) as Record<Pillar, PillarScore>
      // A spilled card's assets are a lazy view of the scores' file, kept until the report is released (releaseFindings).
      return { ...finishOverall(pillars, settings), assets: scores ? scores.finish() : list }
    } catch (err) {
      scores?.release()
      throw err
    }
  }
}

/**
 * Sorts a short list in place, stably, by insertion: an asset has a few rules and caps, and `Array.prototype.sort`
 * allocates work arrays of about 2 KB a call (125,000 assets scored: hundreds of MB of garbage).
 */
function sortFew<T>(list: T[], order: (a: T, b: T) => number): T[] {
  for (let i = 1; i < list.length; i++) {
    const t = list[i]!
    let j = i - 1
    while (j >= 0 && order(list[j]!, t) > 0) {
      list[j + 1] = list[j]!
      j--
    }
    list[j + 1] = t
  }
  return list
}

const byRuleId = (a: RuleTally, b: RuleTally): number => cmp(a.ruleId, b.ruleId)

/** An asset's rule tallies by rule id: the list itself when already in order, else a sorted copy. */
function rulesById(rules: readonly RuleTally[]): readonly RuleTally[] {
  for (let i = 1; i < rules.length; i++) if (byRuleId(rules[i - 1]!, rules[i]!) > 0) return sortFew(rules.slice(), byRuleId)
  return rules
}

/** An asset's score; with `text` false its caps have no `text` and no partial credit is listed (the pillars need neither). */
function scoreAsset(a: AssetAcc, erroredCheck: string | undefined, ruleMeta: ReadonlyMap<string, RuleMeta>, text: boolean): AssetScore | null {
  let num = 0
  let den = 0
  let rules = 0
  const caps: ScoreCap[] = []
  const partial: PartialCredit[] = []
  for (const t of rulesById(a.rules)) {
    const ruleId = t.ruleId
    const n = t.passed + t.failed
    const w = SEVERITY_WEIGHT[t.severity]
    if (!n || !w) continue
    den += w
    rules++
    const population = ruleMeta.get(ruleId)?.population
    num += w * (population ? t.passed / n : t.failed ? 0 : 1)
    if (population && text) partial.push({ ruleId, passed: t.passed, total: n, text: `${t.passed} of ${n} ${population}` })
    const cap = FAIL_CAP[t.severity]
    // Object literals, not spreads: a spread of a shared object followed by more fields costs tens of µs each in V8.
    if (t.failed && cap) {
      const c: Writable<ScoreCap> = { stage: cap.stage, kind: cap.kind, ruleId, asset: a.asset, resource: t.failResource, fingerprint: t.failFingerprint, count: t.failed, text: '' }
      if (text) c.text = capText(c)
      caps.push(c)
    }
  }
  if (!den) return null
  if (erroredCheck !== undefined) {
    const c: Writable<ScoreCap> = { stage: 'advanced', kind: 'incomplete', asset: a.asset, resource: erroredCheck, count: 1, text: '' }
    if (text) c.text = capText(c)
    caps.push(c)
  }
  if (caps.length > 1) sortFew(caps, byCap)
  const uncapped = round1((100 * num) / den)
  let ceiling: Stage = 'optimal'
  for (const c of caps) ceiling = minStage(ceiling, c.stage)
  const score = Math.min(uncapped, TOP[ceiling])
  const s: AssetScore = {
    asset: a.asset, target: (a.ft ?? a.pt)!, pillar: a.pillar, score, uncapped, stage: stageOf(score), rules,
    passed: a.passed, failed: a.failed, suppressed: a.suppressed, caps,
  }
  if (partial.length) (s as { partial?: PartialCredit[] }).partial = partial
  return s
}

/** Turns a pillar's mergeable statistics into its score: mean, caps (asset, errors, asset share), coverage, target. */
function finishPillar(p: Pillar, st: PillarStats, inForce: readonly string[], judgedRules: readonly string[], settings: ScoreSettings): PillarScore {
  const caps = new Map<string, ScoreCap>()
  for (const [k, { text: _t, ...c }] of st.caps) caps.set(k, mkCap(c, p))
  if (st.errors && st.firstError)
    caps.set('incomplete\0', mkCap({ stage: 'advanced', kind: 'incomplete', asset: st.firstError.target, resource: st.firstError.check, count: st.errors }, p))
  const uncapped = st.count ? round1(st.scoreSum / st.count) : null
  if (uncapped !== null) {
    // The highest stage reached by ≥ 90 % of the assets.
    let allowed: Stage = 'traditional'
    for (const s of STAGES) {
      const atOrAbove = STAGES.filter((x) => RANK[x] >= RANK[s]).reduce((n, x) => n + st.byStage[x], 0)
      if (atOrAbove >= ASSET_SHARE * st.count) allowed = s
    }
    if (RANK[allowed] < RANK[stageOf(uncapped)]) {
      const below = STAGES.filter((x) => RANK[x] <= RANK[allowed]).reduce((n, x) => n + st.byStage[x], 0)
      caps.set('asset-share\0', mkCap({ stage: allowed, kind: 'asset-share', count: below }, p))
    }
  }
  const capList = [...caps.values()].sort(byCap)
  const ceiling = capList.reduce<Stage>((s, c) => minStage(s, c.stage), 'optimal')
  const score = uncapped === null ? null : Math.min(uncapped, TOP[ceiling])
  const stage = score === null ? null : stageOf(score)
  const functions = ZTMM_FUNCTIONS[p].map((f) => ({ ...f, status: st.functions.get(f.id) ?? ('not-covered' as const) }))
  const judgedFns = functions.filter((f) => f.status === 'judged').length
  const share = Math.round((100 * judgedFns) / functions.length) / 100
  const note =
    score === null
      ? inForce.length
        ? `not evaluated: ${st.errors ? `${st.errors} attempt(s) errored, ` : ''}no rule of this pillar produced a result`
        : undefined
      : share < 0.5
        ? `covers ${judgedFns} of ${functions.length} ZTMM functions (${Math.round(share * 100)} %): the score speaks for those only`
        : undefined
  const want = settings.targets?.[p]
  return {
    score,
    stage,
    uncapped,
    assets: { count: st.count, scoreSum: st.scoreSum, byStage: { ...st.byStage } },
    passed: st.passed,
    failed: st.failed,
    suppressed: st.suppressed,
    caps: capList,
    coverage: {
      functions,
      share,
      rulesInForce: inForce,
      rulesJudged: judgedRules,
      errors: st.errors,
      skipped: st.skipped,
      assetsScored: st.count,
      assetsUnjudged: st.assetsUnjudged,
      ...(note ? { note } : {}),
    },
    accepted: [...st.accepted.values()].sort((a, b) => cmp(a.ruleId, b.ruleId) || cmp(a.reason, b.reason) || cmp(a.expires ?? '', b.expires ?? '')),
    notApplicable: [...st.notApplicable.values()].sort((a, b) => cmp(a.check, b.check) || cmp(a.why, b.why)),
    ...(want ? { target: { stage: want, met: stage !== null && RANK[stage] >= RANK[want], points: round1(Math.max(0, MIN[want] - (score ?? 0))) } } : {}),
  }
}

function finishOverall(pillars: Record<Pillar, PillarScore>, settings: ScoreSettings): Omit<ScoreCard, 'assets'> {
  const evaluated = PILLARS.filter((p) => pillars[p].score !== null)
  const uncapped = evaluated.length ? round1(evaluated.reduce((n, p) => n + pillars[p].score!, 0) / evaluated.length) : null
  const caps: ScoreCap[] = []
  if (uncapped !== null && settings.weakestPillarFloor) {
    const weakest = evaluated.reduce((w, p) => (pillars[p].score! < pillars[w].score! ? p : w))
    const ws = pillars[weakest].stage!
    if (RANK[ws] < RANK[stageOf(uncapped)]) caps.push(mkCap({ stage: ws, kind: 'weakest-pillar', asset: weakest, count: 1 }))
  }
  const overall = uncapped === null ? null : Math.min(uncapped, TOP[caps[0]?.stage ?? 'optimal'])
  return {
    scoreVersion: SCORE_VERSION,
    overall,
    stage: overall === null ? null : stageOf(overall),
    uncapped,
    caps,
    pillars,
    weights: SEVERITY_WEIGHT,
    settings,
  }
}

/** Scores findings alone (no errors, skips or rule metadata): the library's quick form of {@link scoreReport}. */
export function score(findings: Iterable<Finding>, rest: Omit<ScoreInput, 'findings'> = {}): ScoreCard {
  return scoreReport({ ...rest, findings })
}

/**
 * Joins score cards of shard reports (SARIF parts carry no passing findings) into the card of the whole scan: pillar
 * sums, counts and caps add up, then the same caps and means are applied. Per-asset scores are not carried.
 */
export function mergeScoreCards(cards: readonly ScoreCard[], settings: ScoreSettings = cards[0]?.settings ?? {}): ScoreCard {
  const pillars = {} as Record<Pillar, PillarScore>
  for (const p of PILLARS) {
    const st = emptyStats()
    const inForce = new Set<string>()
    const judgedRules = new Set<string>()
    for (const card of cards) {
      const x = card.pillars[p]
      if (!x) continue
      st.count += x.assets.count
      st.scoreSum = round1(st.scoreSum + x.assets.scoreSum)
      for (const s of STAGES) st.byStage[s] += x.assets.byStage[s]
      st.passed += x.passed
      st.failed += x.failed
      st.suppressed += x.suppressed
      for (const c of x.caps) if (c.kind === 'critical-failed' || c.kind === 'high-failed') addCap(st.caps, c)
      const inc = x.caps.find((c) => c.kind === 'incomplete')
      if (inc && (!st.firstError || cmp(`${inc.asset}\0${inc.resource}`, `${st.firstError.target}\0${st.firstError.check}`) < 0))
        st.firstError = { target: inc.asset ?? '', check: inc.resource ?? '', reason: '' }
      st.errors += x.coverage.errors
      st.skipped += x.coverage.skipped
      st.assetsUnjudged += x.coverage.assetsUnjudged
      for (const f of x.coverage.functions) if (f.status !== 'not-covered' && st.functions.get(f.id) !== 'judged') st.functions.set(f.id, f.status)
      for (const r of x.coverage.rulesInForce) inForce.add(r)
      for (const r of x.coverage.rulesJudged) judgedRules.add(r)
      for (const a of x.accepted) {
        const k = `${a.ruleId}\0${a.reason}\0${a.expires ?? ''}`
        st.accepted.set(k, { ...a, count: (st.accepted.get(k)?.count ?? 0) + a.count })
      }
      for (const n of x.notApplicable) {
        const k = `${n.check}\0${n.why}`
        st.notApplicable.set(k, { ...n, count: (st.notApplicable.get(k)?.count ?? 0) + n.count })
      }
    }
    pillars[p] = finishPillar(p, st, [...inForce].sort(), [...judgedRules].sort(), settings)
  }
  return finishOverall(pillars, settings)
}
