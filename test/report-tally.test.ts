/**
 * Counts a scan makes while its findings arrive, so the writers read spilled findings back once (or not at all): the SARIF
 * plan (per rule: findings, host groups, hosts, targets, first findings) and the targets' grades. Each must give exactly
 * what reading the sorted findings gives — here findings arrive shuffled, spill in small runs, and are compared with the
 * same findings as a sorted array.
 */
import { describe, expect, it } from 'vitest'
import { Writable } from 'node:stream'
import { FindingStore, isFindingView, releaseFindings } from '../src/engine/spill.ts'
import { SarifTally, tallySarif, toSarif, writeSarif } from '../src/report/sarif.ts'
import { GradeTally, gradesOf } from '../src/report/grades.ts'
import { buildReport } from '../src/report/build.ts'
import { stringifyJson, toJsonl, writeJson, writeJsonl } from '../src/report/json.ts'
import type { EffectiveRule, Finding, ScanReport, Severity } from '../src/types.ts'

const key = (f: Finding): string => `${f.target}\0${f.ruleId}\0${f.resource}\0${f.status}`
const rule = (id: string, severity: Severity): EffectiveRule => ({
  id, family: 'open-port', title: id, pillar: 'networks', severity, message: '{{resource}}', description: 'd', remediation: 'r', helpUri: 'https://example.invalid/r', enabled: true, values: {},
})
const RULES = [rule('r-critical', 'critical'), rule('r-high', 'high'), rule('r-medium', 'medium')]

/** A deterministic shuffle (no flaky order). */
function shuffled<T>(list: T[]): T[] {
  let seed = 7
  const out = [...list]
  for (let i = out.length - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31
    const j = seed % (i + 1)
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}

/** Failed and passing findings on 3 targets × 60 hosts × 3 rules, some suppressed, some graded, some sharing a key. */
function findings(): Finding[] {
  const out: Finding[] = []
  for (let t = 0; t < 3; t++)
    for (let h = 0; h < 60; h++)
      for (const [ri, r] of RULES.entries())
        for (let p = 0; p < 1 + ((h + ri) % 3); p++) {
          const address = `127.0.${t}.${h}`
          out.push({
            ruleId: r.id, status: (h + p) % 7 ? 'fail' : 'pass', severity: r.severity, pillar: 'networks', family: 'open-port', target: `nmap:scan-${t}.xml`,
            resource: `${address} tcp/${1000 + p}`, message: `port ${p} open`, fingerprint: `${t}-${h}-${r.id}-${p}`,
            evidence: { address, port: 1000 + p, ...(p === 0 && ri === 0 ? { grade: 'ABCF'[h % 4], gradeCaps: [`capped to ${'ABCF'[h % 4]}: reason ${h}`] } : {}) },
            ...(h % 11 === 3 ? { suppression: { reason: 'accepted' } } : {}),
          })
        }
  // The same key twice (the earlier one comes first in the report) with different grades.
  const twin = { ...out[0]!, evidence: { ...out[0]!.evidence, grade: 'T' }, fingerprint: 'twin' }
  return [...out, twin]
}

function reportOf(list: readonly Finding[]): ScanReport {
  return buildReport({ startedAt: new Date(0), finishedAt: new Date(1000), targets: [], rules: RULES, findings: list, errors: [], skipped: [], attempts: 1 })
}

async function sarifText(report: ScanReport, maxResults: number): Promise<unknown> {
  let text = ''
  const out = new Writable({ write(c: Buffer, _e, cb) { text += c.toString('utf8'); cb() } })
  await writeSarif(report, out, { maxResults })
  return (JSON.parse(text) as { runs: { results: unknown }[] }).runs[0]!.results
}

describe('tallies made while findings arrive', () => {
  it('a spilled report with its SARIF tally writes the same SARIF as the sorted findings, at every grouping level', async () => {
    const all = findings()
    const store = new FindingStore(37, key)
    const tally = new SarifTally(key)
    const grades = new GradeTally(key)
    const arrived = shuffled(all)
    for (const f of arrived) {
      store.add(f)
      tally.add(f)
      grades.add(f)
    }
    const view = store.finish()
    tallySarif(view, tally)
    grades.attach(view)
    const spilled = reportOf(view)
    // Equal keys keep their arrival order (the store's runs merge earlier first; the sort is stable).
    const sorted = reportOf([...arrived].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0)))
    try {
      expect(isFindingView(view)).toBe(true)
      expect([...view]).toEqual(sorted.findings)
      const failed = all.filter((f) => f.status === 'fail').length
      // One result per finding; per host for some rules; per rule for all; the lowest rules left out.
      for (const max of [5_000, failed - 50, 200, 3, 2]) expect(await sarifText(spilled, max)).toEqual((toSarif(sorted, { maxResults: max }) as { runs: { results: unknown }[] }).runs[0]!.results)
      // Per rule, counted independently: its failed findings, (target, host) pairs, suppressed or not, and targets.
      const perRule = (await sarifText(spilled, 3)) as { ruleId: string; properties: { findings: number; hosts: number; targets: number; resources: string[] } }[]
      expect(perRule.map((r) => r.ruleId)).toEqual(RULES.map((r) => r.id))
      for (const r of perRule) {
        const mine = sorted.findings.filter((f) => f.ruleId === r.ruleId && f.status === 'fail')
        expect(r.properties.findings).toBe(mine.length)
        expect(r.properties.hosts).toBe(new Set(mine.map((f) => `${f.target} ${String(f.evidence.address)}`)).size)
        expect(r.properties.hosts).toBeGreaterThan(new Set(mine.filter((f) => !f.suppression).map((f) => `${f.target} ${String(f.evidence.address)}`)).size)
        expect(r.properties.targets).toBe(3)
        expect(r.properties.resources.slice(0, 100)).toEqual(mine.slice(0, 100).map((f) => f.resource))
      }
      // Grades: the first graded finding per target and rule in the report's order (of two with one key, the earlier).
      expect(gradesOf(view)).toEqual(gradesOf(sorted.findings))
      expect(gradesOf(view).map((g) => g.target)).toEqual(['nmap:scan-0.xml', 'nmap:scan-1.xml', 'nmap:scan-2.xml'])
      expect(gradesOf(view)[0]!.grade).toBe(arrived.indexOf(all.at(-1)!) < arrived.indexOf(all[0]!) ? 'T' : 'A')
    } finally {
      releaseFindings(spilled)
    }
  })

  it('spilled findings are copied to the JSON and JSON Lines as spilled: escaped once (bidi, C1, line separators), same data', async () => {
    const hostile = findings().slice(0, 60).map((f, i) => ({ ...f, message: `port ${i} \u202e\u0085\u2028 "q" \\ \x7f`, evidence: { ...f.evidence, banner: `\u2066x\u2069 ${i}` } }))
    const store = new FindingStore(7, key)
    for (const f of hostile) store.add(f)
    const view = store.finish()
    const spilled = reportOf(view)
    const memory = reportOf([...hostile].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0)))
    try {
      expect(isFindingView(view)).toBe(true)
      const collect = async (write: (out: Writable) => Promise<void>): Promise<string> => {
        const chunks: Buffer[] = []
        await write(new Writable({ write(c: Buffer, _e, cb) { chunks.push(c); cb() } }))
        return Buffer.concat(chunks).toString('utf8')
      }
      const json = await collect((out) => writeJson(spilled, out))
      expect(json).toBe(stringifyJson(spilled))
      expect(json).toBe(stringifyJson(memory))
      expect(json).not.toMatch(/[\u202e\u0085\u2028\u2066\u2069\x7f]/)
      expect(json).toContain('\\u202e')
      expect(JSON.parse(json).findings).toEqual(memory.findings)
      const jsonl = await collect((out) => writeJsonl(spilled, out))
      expect(jsonl).toBe(toJsonl(memory))
      expect(jsonl).not.toMatch(/[\u202e\u0085\u2028\u2066\u2069\x7f]/)
      expect(jsonl.trimEnd().split('\n').slice(0, -1).map((l) => JSON.parse(l) as object)).toEqual(memory.findings.map((f) => ({ type: 'finding', ...f })))
    } finally {
      releaseFindings(spilled)
    }
  })
})
