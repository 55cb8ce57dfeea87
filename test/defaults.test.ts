import { describe, expect, it } from 'vitest'
import { isIP } from 'node:net'
import { defaultTargets, scan, startDemoLab } from '../src/index.ts'
import { assertValidReport } from './helpers/schemas.ts'

const loopback = (host: string): boolean => host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'))

describe('embedded default scan', () => {
  it('targets only this machine (loopback and local) and completes', async () => {
    const targets = await defaultTargets()
    expect(targets.length).toBeGreaterThan(0)
    expect(targets.map((t) => t.id)).toContain('local://')
    for (const t of targets) if (t.host !== undefined) expect(loopback(String(t.host)), t.id).toBe(true)
    const report = await scan({ targets, timeoutMs: 20_000 })
    assertValidReport(report)
    // Chained targets (open TLS/SSH ports) stay on loopback too.
    for (const t of report.targets) {
      const m = /^[a-z]+:\/\/\[?([^\]/?]+?)\]?(:\d+)?([/?]|$)/.exec(t.id)
      if (m && t.id !== 'local://') expect(loopback(m[1]!), t.id).toBe(true)
    }
    expect(report.findings.some((f) => f.target === 'local://')).toBe(true)
  }, 60_000)
})

describe('demo lab', () => {
  it('shows every family’s findings and a score, then stops', async () => {
    const lab = await startDemoLab()
    let report
    try {
      report = await scan({ targets: [...lab.targets], settings: lab.settings, chain: true, timeoutMs: 20_000 })
    } finally {
      await lab.stop()
    }
    assertValidReport(report)
    const failing = new Set(report.findings.filter((f) => f.status === 'fail').map((f) => f.family))
    expect([...failing].sort()).toEqual(['certificate', 'endpoint-agent', 'mfa', 'open-port', 'tls'])
    expect(report.score.overall).not.toBeNull()
    expect(report.errors).toEqual([])
  }, 60_000)
})
