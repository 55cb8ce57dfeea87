import { describe, expect, it } from 'vitest'
import { score, stageOf, type Finding } from '../src/index.ts'

const f = (pillar: Finding['pillar'], severity: Finding['severity'], status: Finding['status'], suppressed = false): Finding => ({
  ruleId: 'x-y', status, severity, pillar, family: 'x', target: 't', resource: 'r', message: 'm', evidence: {}, fingerprint: '0'.repeat(32),
  ...(suppressed ? { suppression: { reason: 'accepted risk' } } : {}),
})

describe('scoring (README worked example)', () => {
  it('computes pillar scores, overall and stages by hand', () => {
    // identity: pass critical (10) + fail high (5) + pass low (1) => 11 / 16 = 68.75 -> 68.8 (initial)
    // networks: pass medium (3) + pass high (5) + fail low (1) => 8 / 9 = 88.9 (advanced)
    // devices: fail critical (10) + suppressed fail high (ignored) + info pass (weight 0) => 0 / 10 = 0 (traditional)
    // applications, data: nothing evaluated => null
    // overall = mean(68.8, 88.9, 0) = 52.57 -> 52.6 (initial)
    const card = score([
      f('identity', 'critical', 'pass'), f('identity', 'high', 'fail'), f('identity', 'low', 'pass'),
      f('networks', 'medium', 'pass'), f('networks', 'high', 'pass'), f('networks', 'low', 'fail'),
      f('devices', 'critical', 'fail'), f('devices', 'high', 'fail', true), f('devices', 'info', 'pass'),
    ])
    expect(card.pillars.identity).toEqual({ score: 68.8, stage: 'initial', passed: 2, failed: 1, earned: 11, possible: 16 })
    expect(card.pillars.networks).toEqual({ score: 88.9, stage: 'advanced', passed: 2, failed: 1, earned: 8, possible: 9 })
    expect(card.pillars.devices).toEqual({ score: 0, stage: 'traditional', passed: 0, failed: 1, earned: 0, possible: 10 })
    expect(card.pillars.applications.score).toBeNull()
    expect(card.overall).toBe(52.6)
    expect(card.stage).toBe('initial')
  })
  it('stage thresholds', () => {
    expect([0, 39.9, 40, 69.9, 70, 89.9, 90, 100].map(stageOf)).toEqual(['traditional', 'traditional', 'initial', 'initial', 'advanced', 'advanced', 'optimal', 'optimal'])
  })
  it('nothing evaluated -> null, not 100', () => {
    expect(score([]).overall).toBeNull()
  })
})
