/**
 * @fileoverview Runs INSIDE a user + network namespace the test creates (`unshare -rn`): for each step it flushes the
 * namespace's ruleset, applies the step's setup (an nft ruleset file, iptables commands, the IPv6 sysctl), runs the real
 * local posture check (firewall rule only) and prints every outcome as one JSON array on stdout. Nothing here touches the
 * machine's own firewall: the namespace has its own netfilter tables and sysctls.
 */
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import endpointAgent from '../../checks/endpoint-agent/index.ts'
import { scan } from '../../src/engine/run.ts'

interface Step {
  readonly nft?: string
  readonly commands?: readonly (readonly string[])[]
  readonly ipv6Disabled?: boolean
}

const steps = JSON.parse(process.argv[2]!) as Step[]
const posture = endpointAgent.checks.filter((c) => c.id === 'endpoint-agent-posture')
const out: unknown[] = []
for (const step of steps) {
  execFileSync('nft', ['flush', 'ruleset'])
  for (const legacy of ['iptables-legacy', 'ip6tables-legacy']) {
    try {
      execFileSync(legacy, ['-P', 'INPUT', 'ACCEPT'], { stdio: 'ignore' })
      execFileSync(legacy, ['-F', 'INPUT'], { stdio: 'ignore' })
    } catch {
      // not installed: nothing to reset
    }
  }
  writeFileSync('/proc/sys/net/ipv6/conf/all/disable_ipv6', step.ipv6Disabled ? '1' : '0')
  if (step.nft) execFileSync('nft', ['-f', step.nft])
  for (const [bin, ...args] of step.commands ?? []) execFileSync(bin!, args)
  // includePassed: passes stored as findings where the engine counts them instead (ignored where it stores them anyway).
  const keep: Record<string, unknown> = { includePassed: true }
  const r = await scan({ ...keep, checks: posture, targets: ['local'], policy: { source: 'test', rules: {}, select: { only: ['endpoint-agent-firewall-off'] } } })
  out.push({ findings: r.findings.map((f) => ({ ruleId: f.ruleId, status: f.status, evidence: f.evidence })), skipped: r.skipped ?? [], errors: r.errors })
}
process.stdout.write(JSON.stringify(out))
