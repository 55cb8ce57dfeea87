/**
 * @fileoverview A probed agent host that answers its version and health commands with 256 KiB of digits and of newlines
 * (the shapes that drive backtracking patterns such as `([0-9]+\.[0-9]+\.[0-9]+)` and `^\s*false` into quadratic time),
 * scanned by the built CLI beside a healthy-but-flawed TLS server in the same run. The real OpenSSH sshd on loopback runs a
 * ForceCommand that claims every catalogue agent (all processes listed, every path present), so every catalogue pattern
 * of the Linux platform runs on the flood. Both targets must keep their verdicts, the exit code must stay 1 (the expired
 * certificate), and the scan must end within its timeout plus slack: the event loop was never blocked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { labScenarios, startTlsServer, type LabServer } from '../helpers/tls.ts'
import { hasSshd, startSshd, type Sshd } from '../helpers/sshd.ts'
import { assertValidReport } from '../helpers/schemas.ts'
import type { ScanReport } from '../../src/types.ts'
import catalogue from '../../checks/endpoint-agent/catalogue.json' with { type: 'json' }
import { ensureBuilt, runCli } from './cli.ts'

const NO_SSHD = !hasSshd()
const WHY = 'needs /usr/sbin/sshd and ssh-keygen (CI installs openssh-server)'
/**
 * The check's budget: the flood costs CPU (every catalogue pattern over 256 KiB), 3.4–10 s on an idle 2-core machine and
 * 16–21 s at load 8–14 (two landing batches turned red at 20 s), so the budget is sized for a loaded machine.
 */
const TIMEOUT_S = 40
/** Generous slack over the timeout for a loaded 2-core CI machine; the blocked loop took minutes (80 s at --timeout 5s; 104 s of one RegExp at --timeout 10s before RE2JS). */
const SLACK_MS = 15_000
const FLOOD = 256 * 1024

describe.skipIf(NO_SSHD)(`a flooding agent host beside a TLS target, through the built CLI (${WHY})`, () => {
  let dir: string
  let sshd: Sshd
  let tls: LabServer

  beforeAll(async () => {
    ensureBuilt()
    dir = await mkdtemp(join(tmpdir(), 'ztscan-flood-'))
    const procs = [...new Set(catalogue.agents.flatMap((a) => (a.platforms as { linux?: { processes?: string[] } }).linux?.processes ?? []))]
    await writeFile(join(dir, 'procs'), procs.map((p) => p.slice(0, 15)).join('\n') + '\n')
    // The command string is `LC_ALL=C 'bin' 'arg' …` (every word single-quoted by ztscan): `ls` echoes back every path it
    // is asked about (all present), version commands and files answer digits, health commands answer newlines.
    await writeFile(
      join(dir, 'host.sh'),
      [
        '#!/bin/sh',
        'c="$SSH_ORIGINAL_COMMAND"',
        'case "$c" in',
        `  *"'uname'"*) echo Linux ;;`,
        `  *"'ps'"*) cat '${dir}/procs' ;;`,
        `  *"'ls'"*) eval "set -- \${c#LC_ALL=C }"; shift 3; printf '%s\\n' "$@" ;;`,
        `  *"'systemctl'"*) : ;;`,
        `  *health*|*rfm-state*) head -c ${FLOOD} /dev/zero | tr '\\0' '\\n' ;;`,
        `  *) head -c ${FLOOD} /dev/zero | tr '\\0' '7' ;;`,
        'esac',
        '',
      ].join('\n'),
      { mode: 0o755 },
    )
    sshd = await startSshd({ config: `ForceCommand ${dir}/host.sh` })
    const expired = labScenarios('127.0.0.1').find((s) => s.name === 'expired')!
    tls = await startTlsServer(expired.spec)
  }, 120_000)
  afterAll(async () => {
    await Promise.all([sshd?.stop(), tls?.close()])
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it('both verdicts intact, exit 1 kept, within the timeout plus slack', async () => {
    const agents = `agents://${sshd.user}@127.0.0.1:${sshd.port}`
    const tlsTarget = `tls://127.0.0.1:${tls.port}`
    const r = await runCli(['scan', '-q', '--format', 'json', '--include-passed', '--fail-on', 'high', '--timeout', `${TIMEOUT_S}s`, '--ssh-key', sshd.clientKeyPath, '--known-hosts', sshd.knownHostsPath, agents, tlsTarget], { killAfterMs: TIMEOUT_S * 1000 + SLACK_MS + 30_000 })
    const ms = r.ms
    expect(r.stderr).toBe('')
    const report = JSON.parse(r.stdout) as ScanReport
    assertValidReport(report)
    expect(report.errors, JSON.stringify(report.errors)).toEqual([])
    // The TLS target: its certificate verdicts are all there, the expired leaf fails.
    expect(report.findings.some((f) => f.target === tlsTarget && f.ruleId === 'certificate-expired' && f.status === 'fail')).toBe(true)
    expect(report.findings.filter((f) => f.target === tlsTarget).length).toBeGreaterThan(5)
    // The agent host: judged (every catalogue agent appears to run), the flood yielded no version and no degraded state.
    const agentFindings = report.findings.filter((f) => f.target === agents.replace(`${sshd.user}@`, '') || f.target === agents)
    expect(agentFindings.length).toBeGreaterThan(0)
    expect(agentFindings.find((f) => f.ruleId === 'endpoint-agent-missing')?.status).toBe('pass')
    expect(agentFindings.some((f) => f.ruleId === 'endpoint-agent-sensor-degraded' && f.status === 'fail')).toBe(false)
    expect(r.code).toBe(1)
    expect(ms).toBeLessThan(TIMEOUT_S * 1000 + SLACK_MS)
    // For the record (README, Benchmarks): how long the whole scan took.
    console.log(`flooding agent host + TLS target: ${Math.round(ms)} ms wall, peak RSS ${Math.round(r.rssMb)} MB, ${report.findings.length} findings, exit ${r.code}`)
  }, 180_000)
})
