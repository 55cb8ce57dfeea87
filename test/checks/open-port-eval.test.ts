/** The open-port per-port fast paths give what the plain forms give: catalogue index, evidence shape and key order. */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { CATALOGUE, matchService, type PortFacts } from '../../checks/open-port/catalogue.ts'
import { nmapCheck } from '../../checks/open-port/index.ts'
import { parsePolicy } from '../../src/rules/policy.ts'
import { checkTester, findingOf } from '../helpers/check-tester.ts'

describe('open-port: per-port fast paths', () => {
  it('an identified service matches the same catalogue entry through the index as by scanning the catalogue in order', () => {
    const names = [...new Set(CATALOGUE.flatMap((s) => s.names))]
    const products = [...new Set(CATALOGUE.flatMap((s) => s.products))]
    const facts = fc.record({
      protocol: fc.constantFrom('tcp', 'udp', 'sctp'),
      port: fc.integer({ min: 1, max: 65535 }),
      service: fc.oneof(fc.constantFrom(...names), fc.constantFrom(...names).map((n) => n.toUpperCase()), fc.string({ maxLength: 8 })),
      product: fc.option(fc.oneof(fc.constantFrom(...products), fc.constantFrom(...products).map((p) => `${p.toLowerCase()} 7.1`), fc.string({ maxLength: 8 })), { nil: undefined }),
      tunnel: fc.constantFrom(undefined, 'ssl'),
      method: fc.constantFrom('probed', 'table'),
    })
    // A copy of the catalogue takes the plain path (find in order); the built-in one takes the index.
    const copy = [...CATALOGUE]
    fc.assert(fc.property(facts, (f: PortFacts) => {
      expect(matchService(f)?.name).toBe(matchService(f, copy)?.name)
    }), { numRuns: 3_000 })
    // Product before name, in catalogue order: "MySQL" names mysql; a product of an earlier entry wins over a later name.
    expect(matchService({ protocol: 'tcp', port: 1, service: 'mysql', product: 'Redis key-value store', method: 'probed' })?.name).toBe('redis')
  })

  it('evidence keeps its fields in a fixed order (reports and baselines are compared byte for byte)', async () => {
    const tester = checkTester(nmapCheck)
    const policy = parsePolicy({ rules: { 'open-port-not-allowed': { parameters: { allowed: { '*': [22] } } } } })
    const report = await tester.run('nmap:fixtures/nmap/sV-scripts-loopback.xml', { policy })
    const redis = findingOf(report, 'open-port-critical-service', (f) => f.status === 'fail')
    expect(Object.keys(redis.evidence)).toEqual(['address', 'protocol', 'port', 'state', 'reason', 'service', 'product', 'version', 'detection', 'riskService', 'riskSeverity', 'why'])
    const telnet = findingOf(report, 'open-port-not-allowed', (f) => f.status === 'fail' && f.evidence.service === 'telnet')
    expect(Object.keys(telnet.evidence)).toEqual(['address', 'protocol', 'port', 'state', 'reason', 'service', 'product', 'detection', 'scripts', 'allowed', 'policyKeys'])
  })
})
