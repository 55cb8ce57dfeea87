/**
 * @fileoverview Engine overhead (10,000 targets × 4 no-op checks; goal ≤ 1 s) and SARIF writing of 100,000 results
 * (goal ≤ 2 s, peak RSS ≤ 300 MB, measured in a fresh child process so other benches do not inflate it).
 */
import { spawnSync } from 'node:child_process'
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { tmpdir } from 'node:os'
import { fileURLToPath } from 'node:url'
import { buildReport, defineCheck, scan, type EffectiveRule, type Finding, type RuleMeta } from '../../src/index.ts'
import { fingerprintOf } from '../../src/engine/run.ts'
import { writeSarif } from '../../src/report/sarif.ts'

const rule: RuleMeta = {
  id: 'bench-noop', family: 'bench', title: 'No-op', pillar: 'networks', severity: 'medium', message: '{{target}} ok', description: 'Bench rule.',
  remediation: 'None.', helpUri: 'https://example.invalid/bench',
}

async function engineOverhead(): Promise<void> {
  const checks = [1, 2, 3, 4].map((i) =>
    defineCheck({ id: `bench-noop-${i}`, family: 'bench', targetKinds: ['thing'], rules: ['bench-noop'], async run() {} }),
  )
  const targets = Array.from({ length: 10_000 }, (_, i) => ({ kind: 'thing', id: `thing://h${i % 500}/${i}`, host: `h${i % 500}` }))
  await scan({ targets: targets.slice(0, 500), checks, rules: [rule] }) // warm-up
  const t0 = performance.now()
  const report = await scan({ targets, checks, rules: [rule], concurrency: 64 })
  const ms = performance.now() - t0
  console.log(`  engine: ${report.summary.attempts} attempts (10,000 targets × 4 no-op checks) in ${ms.toFixed(0)} ms  (goal ≤ 1000 ms)  ${ms <= 1000 ? 'OK' : 'MISSED'}`)
}

function bigReport(n: number) {
  const effective: EffectiveRule = { ...rule, enabled: true, values: {} }
  const findings: Finding[] = []
  for (let i = 0; i < n; i++) {
    const target = `tls://10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:443`
    findings.push({
      ruleId: rule.id, status: 'fail', severity: 'medium', pillar: 'networks', family: 'bench', target, resource: `leaf SHA256:${i.toString(16).padStart(8, '0')}`,
      message: `Certificate of ${target} failed`, evidence: { subject: `CN=host-${i}`, notAfter: '2026-01-01T00:00:00.000Z', keySize: 2048 },
      fingerprint: fingerprintOf(rule.id, target, String(i)),
    })
  }
  return buildReport({ startedAt: new Date(), targets: [], rules: [effective], findings, errors: [], skipped: [], attempts: n })
}

async function sarifChild(): Promise<void> {
  const report = bigReport(100_000)
  const dir = mkdtempSync(join(tmpdir(), 'ztscan-bench-'))
  const file = join(dir, 'out.sarif')
  const t0 = performance.now()
  await writeSarif(report, createWriteStream(file))
  const ms = performance.now() - t0
  const size = statSync(file).size
  rmSync(dir, { recursive: true, force: true })
  const rssMb = process.resourceUsage().maxRSS / 1024
  console.log(`  sarif: 100,000 results written (${(size / 1e6).toFixed(0)} MB) in ${ms.toFixed(0)} ms (goal ≤ 2000 ms) ${ms <= 2000 ? 'OK' : 'MISSED'}; peak RSS of the whole process incl. building the report ${rssMb.toFixed(0)} MB (goal ≤ 300 MB) ${rssMb <= 300 ? 'OK' : 'MISSED'}`)
}

export async function run(): Promise<void> {
  await engineOverhead()
  const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--sarif-child'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
  process.stdout.write(r.stdout)
}

if (process.argv.includes('--sarif-child')) await sarifChild()
