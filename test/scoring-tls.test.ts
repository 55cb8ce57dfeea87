/**
 * The score on real servers: 16 loopback TLS endpoints from the certificate lab, 15 with a planted flaw. Version 1 of the
 * formula called this networks 94.4, "optimal"; a reader expects a pillar held down by its expired certificates, with the
 * caps naming them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { builtinChecks, scan, toMarkdown, toTable, type ScanReport } from '../src/index.ts'
import { labLeaf, labPki, labScenarios, privateKey, startTlsServer, tempDir, type LabServer, type Scenario } from './helpers/tls.ts'
import { assertValidReport } from './helpers/schemas.ts'

const DAY = 86_400_000
const tmp = tempDir('ztscan-score-')
const servers: LabServer[] = []
let report: ScanReport

/** The lab's 14 scenarios (one clean) and two more flaws: 20 days to expiry, an EC leaf signed with SHA-1. */
function sixteen(): Scenario[] {
  const { intermediate } = labPki()
  const now = Date.now()
  return [
    ...labScenarios('127.0.0.1'),
    { name: 'expiring-20-days', flaw: 'leaf expires in 20 days', spec: { chain: [labLeaf({ notBefore: new Date(now - 60 * DAY), notAfter: new Date(now + 20 * DAY) }), intermediate] } },
    { name: 'ec-sha1', flaw: 'EC leaf signed with SHA-1', spec: { chain: [labLeaf({ key: privateKey('ec:prime256v1', 7), hash: 'sha1' }), intermediate] } },
  ]
}

beforeAll(async () => {
  const scenarios = sixteen()
  for (const sc of scenarios) servers.push(await startTlsServer(sc.spec))
  const run = scan({
    targets: servers.map((s) => s.target),
    checks: builtinChecks.filter((c) => c.family === 'certificate'),
    settings: { tls: { caFile: tmp.write('lab-root.pem', labPki().root.pem) } },
    perHost: 16,
  })
  report = await run
}, 120_000)
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()))
  tmp.cleanup()
})

describe('16 loopback TLS servers, 15 planted flaws', () => {
  it('each endpoint is one asset; the clean one is optimal, the broken ones are not', () => {
    assertValidReport(report)
    expect(report.errors).toEqual([])
    const assets = report.score.assets!.filter((a) => a.pillar === 'networks')
    expect(assets).toHaveLength(16)
    const byStage = report.score.pillars.networks.assets.byStage
    expect(byStage.optimal + byStage.advanced + byStage.initial + byStage.traditional).toBe(16)
    // Optimal only where nothing above low failed: the clean server, the long validity (low), TLS 1.3 only (low).
    expect(byStage.optimal).toBeLessThanOrEqual(3)
    expect(byStage.optimal).toBeGreaterThanOrEqual(1)
    for (const a of assets) if (a.failed > 0 && a.caps.some((c) => c.kind === 'critical-failed')) expect(['initial', 'traditional']).toContain(a.stage)
  })

  it('the pillar is capped by the expired and nearly expired certificates, and says so in every format', () => {
    const p = report.score.pillars.networks
    expect(['initial', 'traditional']).toContain(p.stage)
    expect(p.score!).toBeLessThan(70)
    const rules = p.caps.map((c) => c.ruleId)
    expect(rules).toEqual(expect.arrayContaining(['certificate-expired', 'certificate-expiring-critical', 'certificate-self-signed', 'certificate-untrusted', 'certificate-weak-key', 'certificate-weak-signature']))
    const expired = p.caps.find((c) => c.ruleId === 'certificate-expired')!
    expect(expired).toMatchObject({ kind: 'critical-failed', stage: 'initial' })
    expect(expired.text).toMatch(/^capped to initial: critical certificate-expired failed on tls:\/\/127\.0\.0\.1:\d+ \(leaf SHA256:/)
    const table = toTable(report)
    expect(table).toMatch(/^networks +\d+\.\d +(initial|traditional) /m)
    expect(table).toContain(`networks: ${expired.text}`)
    expect(toMarkdown(report)).toContain('### Caps')
    // Coverage: traffic encryption judged; the rest of the networks pillar is beyond these checks, and it says so.
    expect(p.coverage.functions.find((f) => f.id === 'traffic-encryption')!.status).toBe('judged')
    expect(p.coverage.note).toMatch(/covers 1 of 4 ZTMM functions/)
  })
})
