import { describe, expect, it } from 'vitest'
import { createServer, type Server } from 'node:net'
import { scan } from '../../src/index.ts'
import openPort from '../../checks/open-port/index.ts'
import { parsePolicy } from '../../src/rules/policy.ts'
import { findNmap, nmapArguments, portArgument } from '../../checks/open-port/nmap-scan.ts'

const nmap = findNmap()
const listen = (s: Server, host: string): Promise<number> => new Promise((resolve) => s.listen(0, host, () => resolve((s.address() as { port: number }).port)))

describe('nmap as the port-scan back-end', () => {
  it('arguments: no shell, the host after --, ranges compressed, a hostile host refused', () => {
    expect(portArgument([80, 22, 23, 24, 8000, 8001])).toBe('22-24,80,8000-8001')
    expect(portArgument(Array.from({ length: 65_535 }, (_, i) => i + 1))).toBe('1-65535')
    expect(portArgument([8001, 22, 8000, 22, 23])).toBe('22-23,8000-8001')
    expect(portArgument([22, 23, 25, 26, 27])).toBe('22-23,25-27')
    const args = nmapArguments('::1', [22], false, 2000)
    expect(args.slice(-4)).toEqual(['-oX', '-', '--', '::1'])
    expect(args).toContain('-6')
    expect(args).toContain('-sT')
    for (const bad of ['a;rm -rf /', '$(id)', '-oN/tmp/x', '--script=x']) expect(() => nmapArguments(bad, [22], false, 2000)).toThrow(/not a valid host/)
  })

  it('port argument: one port, a run ending the list, unsorted runs and repeats (sorted once), an empty list', () => {
    expect(portArgument([5])).toBe('5')
    expect(portArgument([1, 2, 3, 5])).toBe('1-3,5')
    expect(portArgument([1, 3, 4, 5])).toBe('1,3-5')
    expect(portArgument([3, 2, 1])).toBe('1-3')
    expect(portArgument([1, 3, 3])).toBe('1,3')
    expect(portArgument([2, 3, 1, 1, 65535])).toBe('1-3,65535')
    expect(portArgument([])).toBe('')
  })

  it.skipIf(!nmap)('reports the same open ports as the built-in connect scan (loopback listeners, IPv4 and IPv6)', async () => {
    const servers: Server[] = []
    try {
      for (const host of ['127.0.0.1', '::1']) {
        const open: number[] = []
        for (let i = 0; i < 3; i++) {
          const s = createServer((c) => c.destroy())
          servers.push(s)
          open.push(await listen(s, host))
        }
        // Two ports that were free a moment ago (closed).
        const spare = createServer()
        const closedPort = await listen(spare, host)
        await new Promise((r) => spare.close(r))
        const target = `host://${host.includes(':') ? `[${host}]` : host}?ports=${[...open, closedPort].join(',')}`
        // Every open port fails the allow-list, so the findings name each one.
        const policy = parsePolicy({ rules: { 'open-port-not-allowed': { parameters: { allowed: { '*': [1] } } } } })
        const seen: Record<string, string[]> = {}
        for (const scanner of ['nmap', 'builtin']) {
          const debug: string[] = []
          const logger = { debug: (m: string) => void debug.push(m), info: () => {}, warn: () => {} }
          const report = await scan({ targets: [target], checks: openPort.checks, policy, settings: { portScan: { scanner, sniff: false } }, timeoutMs: 60_000, logger })
          expect(report.errors).toEqual([])
          // The scanner asked for is the one that ran: nmap's command line, or the connect scan's own line.
          expect(debug.filter((m) => (scanner === 'nmap' ? /port scanner: \S*nmap -s[ST] / : /connect scan of \d+ port/).test(m))).toHaveLength(1)
          seen[scanner] = report.findings.filter((f) => f.ruleId === 'open-port-not-allowed' && f.status === 'fail').map((f) => f.resource).sort()
        }
        const expected = open.map((p) => `${host} tcp/${p}`).sort()
        expect(seen).toEqual({ nmap: expected, builtin: expected })
      }
    } finally {
      for (const s of servers) s.close()
    }
  }, 120_000)
})
if (!nmap) console.log('open-port nmap back-end: integration test skipped (nmap is not on the PATH)')
