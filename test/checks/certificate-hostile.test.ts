import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import certificate from '../../checks/certificate/index.ts'
import type { ScanReport, Target } from '../../src/types.ts'
import { checkTester } from '../helpers/check-tester.ts'
import { labLeaf, labPki, startHostile, startTlsServer, type HostileKind, type LabServer } from '../helpers/tls.ts'

// Short limits keep the suite fast: every hostile endpoint must end as an error within them.
const tester = checkTester(certificate.checks, { connectTimeoutMs: 1000, timeoutMs: 1500, perHost: 16 })

const cases: { kind: HostileKind; reason: string[]; message: RegExp }[] = [
  // The handshake's own timer or, on a loaded machine, the check's deadline (both reason 'timeout') ends a tarpit.
  { kind: 'tarpit', reason: ['timeout'], message: /timed out|no result within 1500 ms/ },
  { kind: 'garbage', reason: ['protocol'], message: /did not answer with TLS|ERR_SSL/ },
  { kind: 'mid-handshake-close', reason: ['protocol', 'connectivity'], message: /closed before the TLS handshake completed|ECONNRESET/ },
  { kind: 'plain-http', reason: ['protocol'], message: /did not answer with TLS/ },
  { kind: 'long-chain', reason: ['protocol'], message: /chain longer than 10 certificates/ },
]

describe('certificate: hostile endpoints end as errors and the scan finishes', () => {
  const hostile = new Map<HostileKind, { target: Target; close(): Promise<void> }>()
  let good: LabServer
  let report: ScanReport
  beforeAll(async () => {
    for (const c of cases) hostile.set(c.kind, await startHostile(c.kind))
    good = await startTlsServer({ chain: [labLeaf(), labPki().intermediate] })
    report = await tester.run([...[...hostile.values()].map((h) => h.target), good.target, 'tls://127.0.0.1:1'])
  })
  afterAll(async () => {
    await Promise.all([...hostile.values()].map((h) => h.close()))
    await good.close()
  })

  it.each(cases)('$kind → error ($reason)', ({ kind, reason, message }) => {
    const id = hostile.get(kind)!.target.id
    const errs = report.errors.filter((e) => e.target === id)
    expect(errs).toHaveLength(1)
    expect(reason).toContain(errs[0]!.reason)
    expect(errs[0]!.message).toMatch(message)
    expect(report.findings.filter((f) => f.target === id)).toEqual([])
  })

  it('a closed port is a connectivity error', () => {
    expect(report.errors.find((e) => e.target === 'tls://127.0.0.1:1')).toMatchObject({ reason: 'connectivity' })
  })

  it('the well-behaved server in the same scan is fully checked', () => {
    expect(report.errors.filter((e) => e.target === good.target.id)).toEqual([])
    expect(report.findings.filter((f) => f.target === good.target.id).length).toBeGreaterThan(20)
  })
})
