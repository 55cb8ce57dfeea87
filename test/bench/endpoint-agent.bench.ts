/**
 * @fileoverview endpoint-agent figures: inventory export throughput (devices/s, peak RSS), local probe time, and SSH
 * probe time against a real loopback sshd (when installed), and the MDM × EDR coverage join (wall time, RSS). Figures are printed, never asserted.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import endpointAgent from '../../checks/endpoint-agent/index.ts'
import { coverage } from '../../checks/endpoint-agent/coverage.ts'
import { parseInventory } from '../../checks/endpoint-agent/inventory.ts'
import { scan } from '../../src/engine/run.ts'
import { coverageFleet } from '../helpers/device-fleet.ts'
import { hasSshd, startSshd } from '../helpers/sshd.ts'

const mb = (n: number): string => `${(n / 1048576).toFixed(0)} MB`

/** Prints the figures. */
export async function run(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'ztscan-ea-bench-'))
  try {
    const n = 100_000
    const now = Date.now()
    // Coverage join: 100,000 MDM devices × 99,980 EDR devices (30 planted gaps), through the scan (read, parse, join, report).
    const fleet = coverageFleet(n, new Date(now))
    const mdm = join(dir, 'mdm.json')
    const edr = join(dir, 'edr.json')
    await writeFile(mdm, JSON.stringify({ value: fleet.mdm }))
    await writeFile(edr, JSON.stringify({ resources: fleet.edr }))
    const rssBefore = process.memoryUsage().rss
    const peakBefore = process.resourceUsage().maxRSS * 1024
    let t0 = performance.now()
    const cov = await scan({ targets: [`coverage:intune:${mdm},crowdstrike:${edr}`], checks: endpointAgent.checks, timeoutMs: 300_000 })
    let ms = performance.now() - t0
    const gaps = cov.findings.filter((f) => f.status === 'fail').length
    const peak = process.resourceUsage().maxRSS * 1024
    console.log(
      `  coverage join: ${fleet.mdm.length} MDM x ${fleet.edr.length} EDR -> ${gaps} gaps (${fleet.planted.length} planted), ${cov.findings.length} findings in ${ms.toFixed(0)} ms, ` +
        `RSS ${mb(rssBefore)} -> ${mb(process.memoryUsage().rss)}, peak RSS ${mb(peak)}${peak > peakBefore ? '' : ' (peak set earlier in this process)'}`,
    )

    // The join alone, on records already parsed (both directions).
    const [m, e] = [parseInventory('intune', JSON.stringify({ value: fleet.mdm }), 'mdm'), parseInventory('crowdstrike', JSON.stringify({ resources: fleet.edr }), 'edr')]
    t0 = performance.now()
    const missing = coverage(m, e).filter((x) => !x.match).length + coverage(e, m).filter((x) => !x.match).length
    console.log(`  coverage join alone (parsed records, both directions): ${(performance.now() - t0).toFixed(0)} ms, ${missing} gaps`)

    const resources = Array.from({ length: n }, (_, i) => ({
      device_id: `dev${i.toString(16).padStart(8, '0')}`, hostname: `host-${i}`, platform_name: i % 3 ? 'Linux' : 'Windows',
      agent_version: i % 50 ? '7.14.16703.0' : '6.40.1.0', last_seen: new Date(now - (i % 97) * 3_600_000).toISOString(),
      reduced_functionality_mode: i % 211 ? 'no' : 'yes', status: 'normal',
    }))
    const file = join(dir, 'crowdstrike.json')
    await writeFile(file, JSON.stringify({ meta: {}, resources, errors: [] }))
    const policy = { source: 'bench', rules: { 'endpoint-agent-outdated': { parameters: { minVersions: { 'crowdstrike-falcon': '7.0' } } } } }
    t0 = performance.now()
    const r = await scan({ targets: [`inventory:crowdstrike:${file}`], checks: endpointAgent.checks, policy, timeoutMs: 120_000 })
    ms = performance.now() - t0
    console.log(`  inventory: ${n} CrowdStrike devices -> ${r.findings.length} findings in ${ms.toFixed(0)} ms (${Math.round(n / (ms / 1000))} devices/s), RSS ${mb(process.memoryUsage().rss)}`)

    t0 = performance.now()
    const local = await scan({ targets: ['local'], checks: endpointAgent.checks })
    console.log(`  local probe: ${(performance.now() - t0).toFixed(0)} ms, ${local.findings.length} findings, ${local.errors.length} errors`)

    if (!hasSshd()) {
      console.log('  ssh probe: skipped (no /usr/sbin/sshd)')
      return
    }
    const sshd = await startSshd()
    try {
      const settings = { ssh: { knownHostsPath: sshd.knownHostsPath, privateKeyPath: sshd.clientKeyPath } }
      const targets = Array.from({ length: 10 }, () => `agents://127.0.0.1:${sshd.port}`)
      t0 = performance.now()
      const one = await scan({ targets: targets.slice(0, 1), checks: endpointAgent.checks, settings })
      ms = performance.now() - t0
      console.log(`  ssh probe (1 host, loopback sshd): ${ms.toFixed(0)} ms, ${one.findings.length} findings, ${one.errors.length} errors`)
      // Same host ten times under different ids: measures sessions in parallel (per-host limit applies).
      const ids = targets.map((_, i) => ({ kind: 'agent-host', id: `agents://127.0.0.1:${sshd.port}#${i}`, host: '127.0.0.1', port: sshd.port }))
      t0 = performance.now()
      const ten = await scan({ targets: ids, checks: endpointAgent.checks, settings, perHost: 10 })
      console.log(`  ssh probe (10 sessions in parallel): ${(performance.now() - t0).toFixed(0)} ms, ${ten.errors.length} errors`)
    } finally {
      await sshd.stop()
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
