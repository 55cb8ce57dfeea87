/**
 * The score, rule by rule, with hand-computed examples (README "Score" repeats them), and its properties (fast-check).
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { score, scoreReport, stageOf, mergeScoreCards, SCORE_VERSION } from '../src/scoring/score.ts'
import type { AttemptError, AttemptSkip, Finding, Pillar, RuleMeta, Severity } from '../src/types.ts'

type Rule = RuleMeta & { enabled?: boolean }
const rule = (id: string, severity: Severity, pillar: Pillar = 'networks', extra: Partial<RuleMeta> = {}): Rule => ({
  id, family: 'fam', title: id, pillar, severity, message: 'm', description: 'd', remediation: 'r', helpUri: 'https://example.invalid', ...extra,
})
let n = 0
const f = (r: Rule, status: Finding['status'], target: string, resource = 'r', extra: Partial<Finding> = {}): Finding => ({
  ruleId: r.id, status, severity: r.severity, pillar: r.pillar, family: r.family, target, resource, message: 'm', evidence: {},
  fingerprint: (n++).toString(16).padStart(32, '0'), ...extra,
})

const expired = rule('certificate-expired', 'critical', 'networks', { functions: ['traffic-encryption'] })
const selfSigned = rule('certificate-self-signed', 'high', 'networks', { functions: ['traffic-encryption'] })
const legacy = rule('certificate-legacy-protocol', 'medium', 'networks', { functions: ['traffic-encryption'] })
const tooLong = rule('certificate-validity-too-long', 'low', 'networks', { functions: ['traffic-encryption'] })
const openPort = rule('open-port-critical-service', 'critical', 'networks', { functions: ['network-segmentation'], family: 'ports' })
const userMfa = rule('mfa-user-without-mfa', 'high', 'identity', { functions: ['authentication'], population: 'users' })
const enforced = rule('mfa-not-enforced', 'high', 'identity', { functions: ['authentication'], population: 'users' })
const info = rule('info-only', 'info', 'networks')

/** One TLS endpoint's twenty-odd results, all passing. */
const cleanEndpoint = (target: string): Finding[] => [
  f(expired, 'pass', target, 'leaf'), f(expired, 'pass', target, 'intermediate[1]'),
  f(selfSigned, 'pass', target, 'leaf'), f(tooLong, 'pass', target, 'leaf'),
  f(legacy, 'pass', target, 'protocol SSLv3'), f(legacy, 'pass', target, 'protocol TLSv1'), f(legacy, 'pass', target, 'protocol TLSv1.1'),
]

describe('rule 1 — assets first: per-rule credit within an asset, each asset once in its pillar', () => {
  it('an asset scores Σ weight × credit ÷ Σ weight; one failed resource fails a non-population rule', () => {
    // expired (critical 10) passes on both certificates: credit 1; self-signed (high 5) fails: 0; validity (low 1) passes: 1;
    // legacy-protocol (medium 3) passes SSLv3 and fails TLSv1: not a population rule, so credit 0.
    // (10 + 0 + 1 + 0) / (10 + 5 + 1 + 3) = 11 / 19 = 57.9 → initial (the high and medium caps, advanced, do not bind).
    const card = score([
      f(expired, 'pass', 'tls://a', 'leaf'), f(expired, 'pass', 'tls://a', 'intermediate[1]'), f(selfSigned, 'fail', 'tls://a', 'leaf'),
      f(tooLong, 'pass', 'tls://a', 'leaf'), f(legacy, 'pass', 'tls://a', 'protocol SSLv3'), f(legacy, 'fail', 'tls://a', 'protocol TLSv1'),
      f(info, 'fail', 'tls://a', 'x'),
    ], { rules: [expired, selfSigned, legacy, tooLong, info] })
    const a = card.assets!.find((x) => x.asset === 'tls://a')!
    expect(a).toMatchObject({ score: 57.9, uncapped: 57.9, stage: 'initial', rules: 4, passed: 4, failed: 2 })
    expect(a.caps.map((c) => [c.kind, c.ruleId, c.stage])).toEqual([['high-failed', 'certificate-self-signed', 'advanced'], ['medium-failed', 'certificate-legacy-protocol', 'advanced']])
    expect(card.pillars.networks.score).toBe(57.9)
    expect(card.scoreVersion).toBe(SCORE_VERSION)
  })

  it('a population rule earns proportional credit: 312 of 340 users (passes counted, not stored)', () => {
    // mfa-user-without-mfa (high 5): 312 / 340 = 0.9176 of its weight; mfa-not-enforced (high 5) passes: 5.
    // (5 × 312/340 + 5) / 10 = 95.9 uncapped; 28 failed users are a failed high → capped to advanced: 89.9.
    const fails = Array.from({ length: 28 }, (_, i) => f(userMfa, 'fail', 'idp:okta:users.json', `user:u${i}`))
    const card = scoreReport({
      findings: [...fails, f(enforced, 'pass', 'idp:okta:users.json', 'tenant')],
      passCounts: [{ ruleId: userMfa.id, target: 'idp:okta:users.json', count: 312 }],
      rules: [userMfa, enforced],
    })
    const a = card.assets![0]!
    expect(a).toMatchObject({ asset: 'idp:okta:users.json', uncapped: 95.9, score: 89.9, stage: 'advanced', passed: 313, failed: 28 })
    expect(a.caps[0]).toMatchObject({ kind: 'high-failed', ruleId: 'mfa-user-without-mfa', resource: 'user:u0', count: 28 })
    expect(card.pillars.identity).toMatchObject({ score: 89.9, stage: 'advanced', passed: 313, failed: 28 })
  })

  it('thousands of passed checks cannot hide one broken asset: 15 clean endpoints and one expired', () => {
    // Each endpoint counts once. Broken endpoint: expired (10) fails, self-signed (5), validity (1), legacy (3) pass:
    // 9 / 19 = 47.4 (initial; the critical cap, 69.9, does not bind). Pillar mean: (15 × 100 + 47.4) / 16 = 96.7 — but a
    // failed critical caps the pillar at initial: 69.9. (The old formula, Σ passed weights ÷ Σ all, said 534 / 544 = 98.2, optimal.)
    const findings = [...Array.from({ length: 15 }, (_, i) => cleanEndpoint(`tls://ok${i}`)).flat(),
      f(expired, 'fail', 'tls://bad', 'leaf'), f(selfSigned, 'pass', 'tls://bad', 'leaf'), f(tooLong, 'pass', 'tls://bad', 'leaf'), f(legacy, 'pass', 'tls://bad', 'protocol TLSv1')]
    const card = score(findings, { rules: [expired, selfSigned, legacy, tooLong] })
    const p = card.pillars.networks
    expect(card.assets!.find((a) => a.asset === 'tls://bad')).toMatchObject({ score: 47.4, stage: 'initial' })
    expect(p).toMatchObject({ uncapped: 96.7, score: 69.9, stage: 'initial', assets: { count: 16, byStage: { optimal: 15, advanced: 0, initial: 1, traditional: 0 } } })
    expect(p.caps).toHaveLength(1)
    expect(p.caps[0]).toMatchObject({ kind: 'critical-failed', stage: 'initial', ruleId: 'certificate-expired', asset: 'tls://bad', resource: 'leaf', count: 1 })
    expect(p.caps[0]!.text).toBe('capped to initial: critical certificate-expired failed on tls://bad (leaf)')
  })

  it('a finding may name its asset within a target (hosts of an nmap file)', () => {
    const card = score([
      f(openPort, 'pass', 'nmap:scan.xml', '10.0.0.1', { asset: '10.0.0.1' }),
      f(openPort, 'fail', 'nmap:scan.xml', '10.0.0.2 tcp/6379', { asset: '10.0.0.2' }),
    ], { rules: [openPort] })
    expect(card.assets!.map((a) => [a.asset, a.score])).toEqual([['10.0.0.1', 100], ['10.0.0.2', 0]])
  })
})

describe('rule 2 — caps with reasons', () => {
  it('a failed critical caps its asset to initial even when everything else passes; a failed high to advanced', () => {
    // Population rule with 339 of 340 administrators: uncapped 99.7, but one admin without MFA is a failed critical.
    const admins = rule('mfa-admin-without-mfa', 'critical', 'identity', { population: 'administrators' })
    const card = scoreReport({ findings: [f(admins, 'fail', 'idp:t', 'user:root')], passCounts: [{ ruleId: admins.id, target: 'idp:t', count: 339 }], rules: [admins] })
    expect(card.assets![0]).toMatchObject({ uncapped: 99.7, score: 69.9, stage: 'initial' })
    expect(card.pillars.identity.caps.map((c) => c.text)).toEqual(['capped to initial: critical mfa-admin-without-mfa failed on idp:t (user:root)'])
  })

  it('a pillar reaches a stage only when 90 % of its assets do (asset share)', () => {
    // 8 clean endpoints (100, optimal) and 2 failing a medium only: (0 + 10 + 5 + 1) / 19 = 84.2 (advanced).
    // Mean (800 + 168.4) / 10 = 96.8; at optimal: 8 of 10 = 80 % < 90 % → capped to advanced (89.9).
    const medium = (t: string): Finding[] => [f(legacy, 'fail', t, 'protocol TLSv1'), f(expired, 'pass', t), f(selfSigned, 'pass', t), f(tooLong, 'pass', t)]
    const card = score([...Array.from({ length: 8 }, (_, i) => cleanEndpoint(`tls://ok${i}`)).flat(), ...medium('tls://m1'), ...medium('tls://m2')], { rules: [expired, selfSigned, legacy, tooLong] })
    expect(card.assets!.find((a) => a.asset === 'tls://m1')!.score).toBe(84.2)
    expect(card.pillars.networks).toMatchObject({ uncapped: 96.8, score: 89.9, stage: 'advanced' })
    expect(card.pillars.networks.caps.map((c) => [c.kind, c.stage, c.count])).toEqual([['asset-share', 'advanced', 2]])
  })

  it('caps are named in every format: JSON card, SARIF properties, table, Markdown', async () => {
    const { buildReport, toSarif, toTable, toMarkdown } = await import('../src/index.ts')
    const eff = [expired, selfSigned].map((r) => ({ ...r, enabled: true, values: {} }))
    const report = buildReport({ startedAt: new Date(0), targets: [{ id: 'tls://bad', kind: 'tls-endpoint' }], rules: eff, findings: [f(expired, 'fail', 'tls://bad', 'leaf'), f(selfSigned, 'pass', 'tls://bad', 'leaf')], errors: [], skipped: [], attempts: 1 })
    const text = 'capped to initial: critical certificate-expired failed on tls://bad (leaf)'
    expect(report.score.pillars.networks.caps[0]!.text).toBe(text)
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- walking SARIF
    expect((toSarif(report) as any).runs[0].properties.score.pillars.networks.caps[0].text).toBe(text)
    expect(toTable(report)).toContain(`networks: ${text}`)
    expect(toMarkdown(report)).toContain('networks: capped to initial: critical certificate-expired failed on tls://bad (leaf)')
  })
})

describe('rule 3 — coverage beside every score', () => {
  it('lists judged, not-judged and not-covered ZTMM functions, rules, errors, skips; a thin score says so', () => {
    const errors: AttemptError[] = [{ check: 'port-scan', family: 'ports', target: 'host://10.0.0.9', reason: 'timeout', message: 'no result' }]
    const skipped: AttemptSkip[] = [{ check: 'port-scan', family: 'ports', target: 'host://10.0.0.8', why: 'all rules disabled' }]
    const card = scoreReport({ findings: cleanEndpoint('tls://a'), errors, skipped, rules: [expired, selfSigned, legacy, tooLong, openPort] })
    const c = card.pillars.networks.coverage
    expect(c.functions.map((x) => `${x.id}:${x.status}`)).toEqual([
      'network-segmentation:not-judged', 'network-traffic-management:not-covered', 'traffic-encryption:judged', 'network-resilience:not-covered',
    ])
    expect(c).toMatchObject({ share: 0.25, errors: 1, skipped: 1, assetsScored: 1, assetsUnjudged: 1, rulesJudged: [expired.id, legacy.id, selfSigned.id, tooLong.id].sort() })
    expect(c.rulesInForce).toHaveLength(5)
    expect(c.note).toBe('covers 1 of 4 ZTMM functions (25 %): the score speaks for those only')
    expect(card.pillars.networks.notApplicable).toEqual([{ check: 'port-scan', why: 'all rules disabled', count: 1 }])
    expect(card.pillars.identity.coverage.note).toBeUndefined() // nothing in force, nothing to say
  })
})

describe('rule 4 — accepted risk and not applicable stay out of the denominator; errors are never passes', () => {
  it('a suppressed failed critical is listed with reason and expiry, not counted and not capping', () => {
    const card = score([
      ...cleanEndpoint('tls://a'),
      f(expired, 'fail', 'tls://b', 'leaf', { suppression: { reason: 'decommissioned Q1, CHG-1234', expires: '2027-03-31' } }),
      f(selfSigned, 'pass', 'tls://b', 'leaf'),
    ], { rules: [expired, selfSigned, legacy, tooLong] })
    expect(card.assets!.find((a) => a.asset === 'tls://b')).toMatchObject({ score: 100, suppressed: 1, caps: [] })
    expect(card.pillars.networks).toMatchObject({ score: 100, stage: 'optimal', suppressed: 1, caps: [] })
    expect(card.pillars.networks.accepted).toEqual([{ ruleId: 'certificate-expired', reason: 'decommissioned Q1, CHG-1234', expires: '2027-03-31', count: 1 }])
  })

  it('an errored attempt is not a pass: its asset is unjudged and the pillar cannot be optimal', () => {
    const errors: AttemptError[] = [{ check: 'tls', family: 'fam', target: 'tls://down', reason: 'connectivity', message: 'refused' }]
    const card = scoreReport({ findings: cleanEndpoint('tls://a'), errors, rules: [expired, selfSigned, legacy, tooLong] })
    expect(card.assets!.map((a) => a.asset)).toEqual(['tls://a'])
    expect(card.pillars.networks).toMatchObject({ uncapped: 100, score: 89.9, stage: 'advanced' })
    expect(card.pillars.networks.caps[0]!.text).toBe('capped to advanced: 1 check attempt(s) errored, e.g. tls on tls://down: errors are never passes')
    // The same error on an asset that did report something caps that asset too.
    const partial = scoreReport({ findings: cleanEndpoint('tls://down'), errors, rules: [expired] })
    expect(partial.assets![0]).toMatchObject({ uncapped: 100, score: 89.9, caps: [{ kind: 'incomplete', resource: 'tls' }] })
  })

  it('nothing evaluated -> null, not 100', () => {
    expect(score([]).overall).toBeNull()
    expect(score([f(expired, 'fail', 'tls://x', 'leaf', { suppression: { reason: 'r' } })]).pillars.networks.score).toBeNull()
  })
})

describe('rule 5 — target stage, weakest-pillar floor', () => {
  const findings = [...cleanEndpoint('tls://a'), f(userMfa, 'fail', 'idp:t', 'user:x'), f(userMfa, 'pass', 'idp:t', 'user:y'), f(enforced, 'pass', 'idp:t', 'tenant')]
  const rules = [expired, selfSigned, legacy, tooLong, userMfa, enforced]
  // identity: (5 × 1/2 + 5) / 10 = 75.0 (advanced; the high cap binds at 89.9, not here). networks: 100.
  it('shows the gap to the target stage', () => {
    const card = scoreReport({ findings, rules, settings: { targets: { identity: 'optimal', networks: 'advanced' } } })
    expect(card.pillars.identity).toMatchObject({ score: 75, stage: 'advanced', target: { stage: 'optimal', met: false, points: 15 } })
    expect(card.pillars.networks.target).toEqual({ stage: 'advanced', met: true, points: 0 })
  })
  it('the floor holds the overall at the weakest pillar’s stage', () => {
    // mean (75 + 100) / 2 = 87.5 (advanced) either way here; with a traditional pillar the floor binds:
    const bad = [...findings, f(legacy, 'fail', 'tls://z', 'protocol SSLv3', { pillar: 'devices' })]
    const off = scoreReport({ findings: bad, rules })
    const on = scoreReport({ findings: bad, rules, settings: { weakestPillarFloor: true } })
    // devices: 0 (traditional). Mean (75 + 0 + 100) / 3 = 58.3 → initial; floor → traditional, 39.9.
    expect(off).toMatchObject({ overall: 58.3, stage: 'initial', caps: [] })
    expect(on).toMatchObject({ overall: 39.9, uncapped: 58.3, stage: 'traditional' })
    expect(on.caps[0]!.text).toBe('capped to traditional: weakest-pillar floor (policy), devices is traditional')
  })
})

describe('rule 5 — trend: a baseline is re-scored with this formula and the delta says what moved', () => {
  it('score delta, movers, caps added and lifted', async () => {
    const { buildReport, baselineFrom } = await import('../src/index.ts')
    const rules = [expired, selfSigned, legacy, tooLong].map((r) => ({ ...r, enabled: true, values: {} }))
    const withExpired = (t: string): Finding[] => [f(expired, 'fail', t, 'leaf'), f(selfSigned, 'pass', t, 'leaf'), f(tooLong, 'pass', t, 'leaf'), f(legacy, 'pass', t, 'protocol TLSv1')]
    const withSelfSigned = (t: string): Finding[] => [f(expired, 'pass', t, 'leaf'), f(selfSigned, 'fail', t, 'leaf'), f(tooLong, 'pass', t, 'leaf'), f(legacy, 'pass', t, 'protocol TLSv1')]
    const base = { startedAt: new Date(0), targets: [], rules, errors: [], skipped: [], attempts: 0 }
    // Before: a 100, b expired 9/19 = 47.4 → mean 73.7, capped to 69.9 (critical). Now: a 100, b fixed 100, c self-signed
    // 14/19 = 73.7 → mean 91.2, capped to 89.9 (high). Delta +20.0.
    const before = buildReport({ ...base, findings: [...cleanEndpoint('tls://a'), ...withExpired('tls://b')] })
    const baseline = baselineFrom(JSON.parse(JSON.stringify(before)), 'before.json')
    const now = buildReport({ ...base, findings: [...cleanEndpoint('tls://a'), ...cleanEndpoint('tls://b'), ...withSelfSigned('tls://c')], baseline })
    expect(before.score.pillars.networks.score).toBe(69.9)
    expect(now.score.pillars.networks).toMatchObject({ uncapped: 91.2, score: 89.9 })
    const d = now.score.delta!
    expect(d).toMatchObject({ source: 'before.json', overall: 20, pillars: { networks: 20, identity: null } })
    expect(d.movers).toEqual([{ asset: 'tls://c', pillar: 'networks', before: null, after: 73.7 }, { asset: 'tls://b', pillar: 'networks', before: 47.4, after: 100 }])
    expect(d.capsAdded.map((c) => `${c.kind} ${c.ruleId}`)).toEqual(['high-failed certificate-self-signed'])
    expect(d.capsRemoved.map((c) => `${c.kind} ${c.ruleId}`)).toEqual(['critical-failed certificate-expired'])
  })
})

describe('policy: score settings', () => {
  it('the README policy validates; a wrong stage names the field', async () => {
    const { parsePolicy } = await import('../src/index.ts')
    const p = parsePolicy({ score: { targets: { identity: 'advanced', networks: 'optimal' }, weakestPillarFloor: true } }, 'p.yaml')
    expect(p.score).toEqual({ targets: { identity: 'advanced', networks: 'optimal' }, weakestPillarFloor: true })
    expect(() => parsePolicy({ score: { targets: { identity: 'perfect' } } }, 'p.yaml')).toThrow(/p\.yaml: \/score\/targets\/identity/)
    expect(() => parsePolicy({ score: { targets: { network: 'advanced' } } }, 'p.yaml')).toThrow(/p\.yaml: \/score\/targets/)
  })
})

describe('merge: shard cards add up to the whole scan’s card', () => {
  it('mergeScoreCards(parts) equals scoring the union', () => {
    const all = [...cleanEndpoint('tls://a'), ...cleanEndpoint('tls://b'), f(expired, 'fail', 'tls://c', 'leaf'), f(selfSigned, 'fail', 'tls://d', 'leaf'), f(userMfa, 'fail', 'idp:t', 'user:x')]
    const rules = [expired, selfSigned, legacy, tooLong, userMfa]
    const errors: AttemptError[] = [{ check: 'tls', family: 'fam', target: 'tls://e', reason: 'timeout', message: 't' }]
    const whole = scoreReport({ findings: all, rules, errors })
    const parts = [scoreReport({ findings: all.filter((x) => x.target < 'tls://c'), rules }), scoreReport({ findings: all.filter((x) => x.target >= 'tls://c'), rules, errors })]
    const merged = mergeScoreCards(parts)
    expect(merged.pillars).toEqual(whole.pillars)
    expect(merged.overall).toBe(whole.overall)
  })
})

describe('rule metadata', () => {
  it('built-in rules name the ZTMM functions they judge, each of its own pillar', async () => {
    const { builtinRules } = await import('../src/index.ts')
    const { ZTMM_FUNCTIONS } = await import('../src/scoring/ztmm.ts')
    const rules = builtinRules()
    // A rule without `functions` still scores; it only adds nothing to coverage. New rules should name theirs.
    expect(rules.filter((r) => r.functions?.length).length).toBeGreaterThanOrEqual(Math.ceil(rules.length * 0.9))
    for (const r of rules) {
      for (const fn of r.functions ?? []) expect(ZTMM_FUNCTIONS[r.pillar].map((x) => x.id), r.id).toContain(fn)
    }
  })
})

describe('stages', () => {
  it('thresholds', () => {
    expect([0, 39.9, 40, 69.9, 70, 89.9, 90, 100].map(stageOf)).toEqual(['traditional', 'traditional', 'initial', 'initial', 'advanced', 'advanced', 'optimal', 'optimal'])
  })
})

// ---------------------------------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------------------------------

const SEVS: Severity[] = ['critical', 'high', 'medium', 'low', 'info']
const RULES: Rule[] = Array.from({ length: 8 }, (_, i) => rule(`r${i}`, SEVS[i % 5]!, 'networks', i % 3 === 0 ? { population: 'users' } : {}))
const arbFinding = (targets: string[]): fc.Arbitrary<Finding> =>
  fc.record({ r: fc.constantFrom(...RULES), pass: fc.boolean(), t: fc.constantFrom(...targets), res: fc.integer({ min: 0, max: 5 }), sup: fc.boolean() }).map(({ r, pass, t, res, sup }) =>
    f(r, pass ? 'pass' : 'fail', t, `res${res}`, sup && res === 5 ? { suppression: { reason: 'accepted' } } : {}))
const assetScore = (findings: Finding[], asset: string): number | undefined => score(findings, { rules: RULES }).assets!.find((a) => a.asset === asset)?.score

describe('properties', () => {
  it('adding a passing result never lowers an asset’s score', () => {
    fc.assert(fc.property(fc.array(arbFinding(['a']), { maxLength: 30 }), fc.constantFrom(...RULES), fc.integer({ min: 0, max: 9 }), (fs, r, res) => {
      const before = assetScore(fs, 'a')
      const after = assetScore([...fs, f(r, 'pass', 'a', `new${res}`)], 'a')
      if (before !== undefined) expect(after).toBeGreaterThanOrEqual(before)
    }))
  })
  it('adding a failed critical never raises an asset’s score and always caps it below advanced', () => {
    const crit = RULES.filter((r) => r.severity === 'critical')
    fc.assert(fc.property(fc.array(arbFinding(['a', 'b']), { maxLength: 30 }), fc.constantFrom(...crit), (fs, r) => {
      const before = assetScore(fs, 'a')
      const card = score([...fs, f(r, 'fail', 'a', 'new')], { rules: RULES })
      const a = card.assets!.find((x) => x.asset === 'a')!
      if (before !== undefined) expect(a.score).toBeLessThanOrEqual(before)
      expect(a.caps.some((c) => c.kind === 'critical-failed' && c.stage === 'initial')).toBe(true)
      expect(['initial', 'traditional']).toContain(a.stage)
    }))
  })
  it('suppressing with a reason removes the item from the denominator', () => {
    fc.assert(fc.property(fc.array(arbFinding(['a', 'b']), { maxLength: 30 }), fc.nat(), (fs, k) => {
      if (!fs.length) return
      const i = k % fs.length
      const x = fs[i]!
      const without = fs.filter((_, j) => j !== i)
      const suppressed = fs.map((y, j) => (j === i ? { ...y, suppression: { reason: 'accepted risk' } } : y))
      const s1 = score(without, { rules: RULES })
      const s2 = score(suppressed, { rules: RULES })
      expect(s2.overall).toBe(s1.overall)
      expect(s2.pillars.networks.score).toBe(s1.pillars.networks.score)
      expect(s2.assets!.map((a) => [a.asset, a.score])).toEqual(s1.assets!.map((a) => [a.asset, a.score]))
      expect(s2.pillars.networks.accepted.some((a) => a.ruleId === x.ruleId && a.reason === 'accepted risk')).toBe(true)
    }))
  })
  it('a pillar with any unsuppressed critical failure is never optimal or advanced', () => {
    fc.assert(fc.property(fc.array(arbFinding(['a', 'b', 'c', 'd']), { maxLength: 60 }), (fs) => {
      const card = score(fs, { rules: RULES })
      if (fs.some((x) => x.status === 'fail' && x.severity === 'critical' && !x.suppression)) expect(['initial', 'traditional']).toContain(card.pillars.networks.stage)
    }))
  })
})
