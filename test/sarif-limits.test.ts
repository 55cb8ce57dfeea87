import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, readFileSync, rmSync, createWriteStream } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { mergeSarif, releaseFindings, scan, writeSarif, toSarif, type ScanReport } from '../src/index.ts'
import { parsePolicy } from '../src/rules/policy.ts'
import { GITHUB_SARIF_LIMITS } from '../src/report/sarif.ts'
import openPort from '../checks/open-port/index.ts'
import { assertValidSarif } from './helpers/schemas.ts'
import { portsHost, writeNmapFile, nmapDocument, hostAddress } from './helpers/nmap-gen.ts'

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- walking SARIF freely
type Sarif = any

/**
 * A generated nmap file of 2,600 hosts, each with Redis (critical), telnet (high) and 8 more ports open, under a policy that
 * allows only port 22: 2,600 critical + 2,600 high + 26,000 medium failed findings = 31,200, more than GitHub's 25,000
 * results per run.
 */
const HOSTS = 2_600
const PORTS = [23, 6379, 20001, 20002, 20003, 20004, 20005, 20006, 20007, 20008]
const dir = mkdtempSync(join(tmpdir(), 'ztscan-sarif-limits-'))
let report: ScanReport

beforeAll(async () => {
  const file = join(dir, 'big.xml')
  await writeNmapFile(file, nmapDocument({ host: (i) => portsHost(i, PORTS), hosts: HOSTS }))
  const policy = parsePolicy({ rules: { 'open-port-not-allowed': { parameters: { allowed: { '*': [22] } } } } })
  report = await scan({ targets: [`nmap:${file}`], checks: openPort.checks, policy, timeoutMs: 120_000 })
  expect(report.errors).toEqual([])
  expect(report.findings.filter((f) => f.status === 'fail')).toHaveLength(HOSTS * (PORTS.length + 2))
}, 120_000)
afterAll(() => {
  // Its findings spill past the in-memory budget: the temporary file goes with the report (a worker may end without 'exit').
  releaseFindings(report)
  rmSync(dir, { recursive: true, force: true })
})

async function written(opts: Parameters<typeof writeSarif>[2] = {}): Promise<{ log: Sarif; bytes: Buffer; outcome: Awaited<ReturnType<typeof writeSarif>> }> {
  const path = join(dir, `out-${Math.random().toString(36).slice(2)}.sarif`)
  const outcome = await writeSarif(report, createWriteStream(path), opts)
  const bytes = readFileSync(path)
  return { log: JSON.parse(bytes.toString('utf8')), bytes, outcome }
}

const byRule = (log: Sarif): Record<string, { n: number; grouped: Set<string | undefined> }> => {
  const out: Record<string, { n: number; grouped: Set<string | undefined> }> = {}
  for (const r of log.runs[0].results) (out[r.ruleId] ??= { n: 0, grouped: new Set() }).n++
  for (const r of log.runs[0].results) out[r.ruleId]!.grouped.add(r.properties.grouped)
  return out
}

describe('SARIF within GitHub limits at any size', () => {
  it('over 25,000 failed findings: the critical and high ones stay one result each, the medium ones are grouped per host; valid SARIF; said in notifications', async () => {
    const { log, bytes, outcome } = await written()
    assertValidSarif(log)
    const results = log.runs[0].results
    expect(results.length).toBeLessThanOrEqual(GITHUB_SARIF_LIMITS.results)
    expect(gzipSync(bytes).length).toBeLessThanOrEqual(GITHUB_SARIF_LIMITS.gzipBytes)
    const rules = byRule(log)
    expect(rules['open-port-critical-service']).toEqual({ n: HOSTS, grouped: new Set([undefined]) })
    expect(rules['open-port-plaintext-admin']).toEqual({ n: HOSTS, grouped: new Set([undefined]) })
    expect(rules['open-port-not-allowed']).toEqual({ n: HOSTS, grouped: new Set(['host']) })
    // Highest severity first.
    expect(results[0].ruleId).toBe('open-port-critical-service')
    expect(results.at(-1).ruleId).toBe('open-port-not-allowed')
    // A grouped result names the host and lists its ports.
    const g = results.find((r: Sarif) => r.ruleId === 'open-port-not-allowed' && r.properties.host === hostAddress(7))
    expect(g.properties.findings).toBe(PORTS.length)
    expect(g.properties.resources).toContain(`${hostAddress(7)} tcp/20005`)
    expect(g.message.text).toContain(`10 finding(s) on ${hostAddress(7)} in nmap:`)
    expect(g.partialFingerprints.primaryLocationLineHash).toMatch(/^[0-9a-f]{32}$/)
    // Said in the run's notifications (and returned for stderr), never silently.
    const note = log.runs[0].invocations[0].toolExecutionNotifications.find((n: Sarif) => n.descriptor.id === 'results-grouped')
    expect(note.message.text).toContain('31,200 failed finding(s) written as 7,800 result(s)')
    expect(note.message.text).toContain('per host: open-port-not-allowed (26,000 → 2,600)')
    expect(outcome.notes).toEqual([note.message.text])
    expect(outcome).toMatchObject({ results: 7_800, findings: 31_200, grouped: [{ rule: 'open-port-not-allowed', level: 'host', findings: 26_000, results: HOSTS }] })
  }, 60_000)

  it('--sarif-max-results: a smaller budget groups lower severities per rule first, the critical ones stay finest', async () => {
    const { log, outcome } = await written({ maxResults: 5_000 })
    assertValidSarif(log)
    expect(log.runs[0].results.length).toBeLessThanOrEqual(5_000)
    const rules = byRule(log)
    expect(rules['open-port-critical-service']).toEqual({ n: HOSTS, grouped: new Set([undefined]) })
    expect(rules['open-port-plaintext-admin']).toEqual({ n: 1, grouped: new Set(['rule']) })
    expect(rules['open-port-not-allowed']).toEqual({ n: 1, grouped: new Set(['rule']) })
    const perRule = log.runs[0].results.find((r: Sarif) => r.ruleId === 'open-port-not-allowed')
    expect(perRule.properties).toMatchObject({ grouped: 'rule', findings: 26_000, hosts: HOSTS, targets: 1 })
    expect(outcome.grouped.map((x) => [x.rule, x.level])).toEqual([['open-port-plaintext-admin', 'rule'], ['open-port-not-allowed', 'rule']])
    // Fewer results than rules: the lowest severities are left out, and that is said too.
    const tiny = await written({ maxResults: 1 })
    expect(tiny.log.runs[0].results.map((r: Sarif) => [r.ruleId, r.properties.grouped])).toEqual([['open-port-critical-service', 'rule']])
    expect(tiny.outcome.notes[0]).toContain('left out: open-port-plaintext-admin (2,600 → 0), open-port-not-allowed (26,000 → 0)')
  }, 60_000)

  it('a gzip budget is kept by measuring, and toSarif groups the same way', async () => {
    const budget = 150_000
    const { bytes, log } = await written({ maxGzipBytes: budget })
    expect(gzipSync(bytes).length).toBeLessThanOrEqual(budget)
    assertValidSarif(log)
    expect(log.runs[0].results[0].ruleId).toBe('open-port-critical-service')
    const plain = JSON.parse(JSON.stringify(toSarif(report, { maxGzipBytes: budget })))
    expect(plain).toEqual(log)
  }, 60_000)

  it('merging shard SARIF logs groups the same way: within 25,000 results, critical and high kept one each, said in the notifications and to note()', () => {
    const half = (k: number): ScanReport => ({ ...report, findings: report.findings.filter((_, i) => i % 2 === k) })
    const parts = [0, 1].map((k) => toSarif(half(k), { maxResults: 100_000 }) as Sarif)
    expect(parts.map((p) => p.runs[0].results.length)).toEqual([15_600, 15_600])
    const notes: string[] = []
    const merged = JSON.parse(JSON.stringify(mergeSarif(parts, { note: (n) => notes.push(n) }))) as Sarif
    assertValidSarif(merged)
    const results = merged.runs[0].results
    expect(results.length).toBeLessThanOrEqual(GITHUB_SARIF_LIMITS.results)
    const rules = byRule(merged)
    expect(rules['open-port-critical-service']).toEqual({ n: HOSTS, grouped: new Set([undefined]) })
    expect(rules['open-port-plaintext-admin']).toEqual({ n: HOSTS, grouped: new Set([undefined]) })
    expect(rules['open-port-not-allowed']).toEqual({ n: HOSTS, grouped: new Set(['host']) })
    // The same results (by fingerprint) as the unsharded scan's SARIF, one of them read back whole.
    const fps = (log: Sarif): string[] => log.runs[0].results.map((r: Sarif) => r.partialFingerprints['ztscan/v1']).sort()
    const whole = JSON.parse(JSON.stringify(toSarif(report))) as Sarif
    expect(fps(merged)).toEqual(fps(whole))
    const critical = (log: Sarif): Sarif => log.runs[0].results.find((r: Sarif) => r.ruleId === 'open-port-critical-service' && r.properties.resource === `${hostAddress(7)} tcp/6379`)
    expect(critical(merged)).toEqual(critical(whole))
    const note = merged.runs[0].invocations[0].toolExecutionNotifications.find((n: Sarif) => n.descriptor.id === 'results-grouped')
    expect(note.message.text).toContain('per host: open-port-not-allowed (26,000 → 2,600)')
    expect(notes).toEqual([note.message.text])
    // Within the limits nothing changes.
    const small = mergeSarif([toSarif({ ...report, findings: report.findings.slice(0, 100) })]) as Sarif
    expect(small.runs[0].results).toHaveLength(100)
    expect(small.runs[0].invocations[0].toolExecutionNotifications.some((n: Sarif) => n.descriptor.id === 'results-grouped')).toBe(false)
  }, 60_000)
})
