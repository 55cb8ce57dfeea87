import { afterAll, describe, expect, it } from 'vitest'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tmpdir } from 'node:os'
import { defineCheck, effectiveRules, loadPolicy, parsePolicy, PolicyError, scan, type RuleMeta } from '../src/index.ts'

const rules: RuleMeta[] = [
  {
    id: 'testing-days', family: 'testing', title: 'Days', pillar: 'data', severity: 'medium', message: '{{target}} {{n}}', description: 'd', remediation: 'r',
    helpUri: 'https://example.invalid/d', parameters: { warnDays: { schema: { type: 'integer', minimum: 0 }, default: 30, description: 'days' } },
  },
  { id: 'testing-other', family: 'testing', title: 'Other', pillar: 'data', severity: 'low', message: 'm', description: 'd', remediation: 'r', helpUri: 'https://example.invalid/o' },
]
const dir = mkdtempSync(join(tmpdir(), 'ztscan-policy-'))
const write = (name: string, text: string): string => {
  const p = join(dir, name)
  writeFileSync(p, text)
  return p
}

describe('policy', () => {
  it('YAML policy overrides severity, parameters and enablement', async () => {
    const p = await loadPolicy(write('ok.yaml', 'rules:\n  testing-days:\n    severity: critical\n    parameters:\n      warnDays: 45\n  testing-other:\n    enabled: false\n'), rules)
    const eff = effectiveRules(rules, p)
    expect(eff[0]).toMatchObject({ severity: 'critical', values: { warnDays: 45 }, enabled: true })
    expect(eff[1]).toMatchObject({ enabled: false, severity: 'low' })
    const check = defineCheck({
      id: 'testing-policy', family: 'testing', targetKinds: ['t'], rules: ['testing-days', 'testing-other'],
      async run(_t, ctx) {
        ctx.report('testing-days', 'fail', { resource: 'r', evidence: { n: ctx.params<{ warnDays: number }>('testing-days').warnDays } })
        ctx.report('testing-other', 'fail', { resource: 'r' })
      },
    })
    const report = await scan({ targets: [{ kind: 't', id: 't://1' }], checks: [check], rules, policy: p })
    expect(report.findings.map((f) => [f.ruleId, f.severity, f.message])).toEqual([['testing-days', 'critical', 't://1 45']])
  })
  const bad = [
    { name: 'unknown rule id', text: '{"rules":{"testing-nope":{}}}', msg: 'bad.json: /rules/testing-nope: expected a known rule id' },
    { name: 'bad severity', text: '{"rules":{"testing-days":{"severity":"urgent"}}}', msg: 'bad.json: /rules/testing-days/severity: expected one of critical, high, medium, low, info (got "urgent")' },
    { name: 'unknown parameter', text: '{"rules":{"testing-days":{"parameters":{"days":3}}}}', msg: 'bad.json: /rules/testing-days/parameters/days: expected one of the rule\'s parameters: warnDays' },
    { name: 'parameter of the wrong type', text: '{"rules":{"testing-days":{"parameters":{"warnDays":"soon"}}}}', msg: 'bad.json: /rules/testing-days/parameters/warnDays: expected a value of type integer (got "soon")' },
    { name: 'unknown top-level field', text: '{"rulez":{}}', msg: 'bad.json: /rulez: expected no such property' },
    { name: 'not JSON', text: '{rules', msg: 'bad.json: /: expected valid JSON' },
  ]
  it.each(bad)('$name -> error names file and field', async ({ text, msg }) => {
    const err = await loadPolicy(write('bad.json', text), rules).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PolicyError)
    expect((err as PolicyError).message).toContain(msg)
    expect((err as PolicyError).file).toMatch(/bad\.json$/)
  })
  it('reports every problem at once', () => {
    expect(() => parsePolicy({ rules: { 'testing-days': { severity: 'x', enabled: 'y' } } }, 'p.json', rules)).toThrow(/\/severity[\s\S]*\/enabled|\/enabled[\s\S]*\/severity/)
  })
})

afterAll(() => rmSync(dir, { recursive: true, force: true }))
