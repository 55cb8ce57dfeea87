import { afterAll, describe, expect, it } from 'vitest'
import { mkdtempSync, writeFileSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { tmpdir } from 'node:os'
import { builtinChecks, builtinRules, loadRules, RuleFileError } from '../src/index.ts'

describe('rule files (parity with checks)', () => {
  const rules = builtinRules()
  it('every rule file validates and its id equals its file name', () => {
    const files = readdirSync(new URL('../rules/', import.meta.url)).filter((f) => f.endsWith('.json') && !f.includes('schema'))
    expect(rules.map((r) => `${r.id}.json`).sort()).toEqual(files.sort())
  })
  it('each rule is reported by checks of its own family only, and each declared id has a file', () => {
    // Several checks of one family may feed one rule (nmap XML and the connect scan judge the same exposure policy);
    // a rule never crosses families.
    const owners = new Map<string, string[]>()
    for (const c of builtinChecks) for (const r of c.rules as string[]) owners.set(r, [...(owners.get(r) ?? []), c.family])
    for (const r of rules) {
      expect(owners.get(r.id), `rule ${r.id} is reported by no check`).toBeDefined()
      expect(new Set(owners.get(r.id)), `families reporting ${r.id}`).toEqual(new Set([r.family]))
    }
    const ids = new Set(rules.map((r) => r.id))
    for (const id of owners.keys()) expect(ids.has(id), `declared rule ${id} has no file`).toBe(true)
  })
  it('each rule file names the checks that report it, both ways', () => {
    const reporters = new Map<string, string[]>()
    for (const c of builtinChecks) for (const r of c.rules as string[]) reporters.set(r, [...(reporters.get(r) ?? []), c.id])
    for (const r of rules) expect([...(r.checks ?? [])].sort(), `rules/${r.id}.json "checks"`).toEqual((reporters.get(r.id) ?? []).sort())
    const byCheck = new Map(builtinChecks.map((c) => [c.id, c]))
    for (const r of rules) for (const id of r.checks ?? []) expect(byCheck.get(id)?.rules, `check ${id} named by ${r.id}`).toContain(r.id)
  })
  it('message placeholders are known names (checked per finding by checkTester)', () => {
    for (const r of rules) expect(r.message).not.toMatch(/\{\{\s*\}\}/)
  })
})

describe('rule schema errors name the file and the field', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ztscan-rules-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const good = {
    id: 'demo-thing', family: 'demo', title: 'T', pillar: 'networks', severity: 'high', message: 'm', description: 'd', remediation: 'r',
    helpUri: 'https://example.invalid/x', parameters: { days: { schema: { type: 'integer', minimum: 1 }, default: 30, description: 'd' } },
  }
  const cases = [
    { name: 'bad severity', patch: { severity: 'urgent' }, file: 'demo-thing.json', msg: 'demo-thing.json: /severity: expected one of critical, high, medium, low, info (got "urgent")', pointer: '/severity' },
    { name: 'missing title', patch: { title: undefined }, file: 'demo-thing.json', msg: 'demo-thing.json: /title: expected a value (required)', pointer: '/title' },
    { name: 'id differs from file name', patch: {}, file: 'demo-other.json', msg: 'demo-other.json: /id: expected the file name "demo-other" (got "demo-thing")', pointer: '/id' },
    { name: 'default does not fit its schema', patch: { parameters: { days: { schema: { type: 'integer', minimum: 1 }, default: 0, description: 'd' } } }, file: 'demo-thing.json', msg: '/parameters/days/default: expected a value that must be >= 1 (got 0)', pointer: '/parameters/days/default' },
    { name: 'unknown field', patch: { colour: 'red' }, file: 'demo-thing.json', msg: '/colour: expected no such property (unknown field)', pointer: '/colour' },
  ]
  it.each(cases)('$name', ({ patch, file, msg, pointer }) => {
    const sub = mkdtempSync(join(dir, 'c-'))
    writeFileSync(join(sub, file), JSON.stringify({ ...good, ...patch }))
    let err: unknown
    try {
      loadRules(sub)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(RuleFileError)
    expect((err as RuleFileError).code).toBe('ERR_RULE_FILE_INVALID')
    expect((err as RuleFileError).message).toContain(msg)
    expect((err as RuleFileError).message).toContain(file)
    expect((err as RuleFileError).pointer).toBe(pointer)
  })
  it('invalid JSON names the file', () => {
    const sub = mkdtempSync(join(dir, 'j-'))
    writeFileSync(join(sub, 'demo-x.json'), '{ nope')
    expect(() => loadRules(sub)).toThrow(/demo-x\.json: \/: expected valid JSON/)
  })
})
