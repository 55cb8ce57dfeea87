import { describe, expect, it, onTestFinished } from 'vitest'
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import openPort from '../../checks/open-port/index.ts'
import { startLab } from '../../checks/open-port/lab.ts'
import { parseNmapFile, type NmapHost } from '../../checks/open-port/nmap-xml.ts'
import { expandPorts } from '../../checks/open-port/ports.ts'
import { CATALOGUE, matchService, validateCatalogue } from '../../checks/open-port/catalogue.ts'
import { allowedFor } from '../../checks/open-port/evaluate.ts'
import { defaultTargetsContext } from '../../src/defaults.ts'
import { parsePolicy } from '../../src/rules/policy.ts'
import type { Target } from '../../src/types.ts'
import { checkTester, failedRuleIds, passedRuleIds, findingOf } from '../helpers/check-tester.ts'

const NMAP = '/usr/bin/nmap'
const hasNmap = existsSync(NMAP)
const fx = (f: string): string => join('fixtures', f)
const tester = checkTester(openPort.checks)

describe('open-port: real nmap fixtures', () => {
  const cases = [
    { name: '-sT on 127.0.0.1', file: 'nmap/sT-loopback.xml', fail: [], pass: ['open-port-critical-service', 'open-port-database-exposed', 'open-port-plaintext-admin', 'open-port-remote-admin'], chained: [] },
    { name: '-6 -sT on ::1', file: 'nmap/sT-ipv6.xml', fail: [], pass: ['open-port-critical-service', 'open-port-database-exposed', 'open-port-plaintext-admin', 'open-port-remote-admin'], chained: [] },
    {
      name: '-sV with scripts: Redis and telnet by probed name on high ports, TLS and SSH chained',
      file: 'nmap/sV-scripts-loopback.xml',
      fail: ['open-port-critical-service', 'open-port-plaintext-admin'],
      pass: ['open-port-database-exposed', 'open-port-remote-admin'],
      chained: ['ssh://127.0.0.1:54373', 'tls://127.0.0.1:54374'],
    },
    { name: 'a host down and a host up', file: 'nmap/hosts-down.xml', fail: [], pass: ['open-port-critical-service', 'open-port-database-exposed', 'open-port-plaintext-admin', 'open-port-remote-admin'], chained: [] },
  ]
  it.each(cases)('$name', async ({ file, fail, pass, chained }) => {
    const report = await tester.run(`nmap:${fx(file)}`, { chain: true })
    expect(report.errors).toEqual([])
    expect(failedRuleIds(report)).toEqual(fail)
    expect(passedRuleIds(report)).toEqual(pass)
    expect(report.targets.map((t) => t.id).filter((id) => !id.startsWith('nmap:'))).toEqual(chained)
    // Without --chain the file's TLS and SSH ports are counted, not probed.
    const offline = await tester.run(`nmap:${fx(file)}`)
    expect(offline.targets.map((t) => t.id)).toEqual([`nmap:${fx(file)}`])
    expect(offline.chaining?.withheld.reduce((n, w) => n + w.targets, 0)).toBe(chained.length)
  })

  it('evidence carries address, port, protocol, state, service, product/version and nmap reason', async () => {
    const report = await tester.run(`nmap:${fx('nmap/sV-scripts-loopback.xml')}`)
    const redis = findingOf(report, 'open-port-critical-service', (f) => f.status === 'fail')
    expect(redis.resource).toBe('127.0.0.1 tcp/54370')
    expect(redis.evidence).toMatchObject({
      address: '127.0.0.1', protocol: 'tcp', port: 54370, state: 'open', reason: 'syn-ack',
      service: 'redis', product: 'Redis key-value store', version: '7.0.15', detection: 'probed', riskService: 'redis', riskSeverity: 'critical',
    })
    const telnet = findingOf(report, 'open-port-plaintext-admin', (f) => f.status === 'fail')
    expect(telnet.evidence).toMatchObject({ service: 'telnet', product: 'Linux telnetd', scripts: ['banner'] })
  })

  it('reads nmaprun, hosts (down/up), addresses, ports, services, tunnel, scripts and runstats', async () => {
    const hosts: NmapHost[] = []
    const sum = await parseNmapFile(fx('nmap/sV-scripts-loopback.xml'), 'sV', { host: (h) => hosts.push(h) })
    expect(sum.run).toMatchObject({ scanner: 'nmap', version: '7.93', xmloutputversion: '1.05' })
    expect(sum.run?.args).toContain('-sV')
    expect(sum.runstats).toMatchObject({ exit: 'success', hostsUp: 1, hostsDown: 0, hostsTotal: 1 })
    expect(hosts).toHaveLength(1)
    const tls = hosts[0]!.ports.find((p) => p.portid === 54374)!
    expect(tls.service).toMatchObject({ name: 'unknown', tunnel: 'ssl', method: 'table' })
    expect(tls.scripts).toEqual(['ssl-cert', 'fingerprint-strings'])
    expect(hosts[0]!.ports.find((p) => p.portid === 54376)).toMatchObject({ state: 'closed', reason: 'conn-refused' })

    const down: NmapHost[] = []
    const s2 = await parseNmapFile(fx('nmap/hosts-down.xml'), 'down', { host: (h) => down.push(h) })
    expect(down.map((h) => [h.addresses[0]?.addr, h.state, h.reason])).toEqual([['127.0.0.1', 'down', 'no-response'], ['127.0.0.3', 'up', 'conn-refused']])
    expect(s2.runstats).toMatchObject({ hostsUp: 1, hostsDown: 1 })

    const v6: NmapHost[] = []
    await parseNmapFile(fx('nmap/sT-ipv6.xml'), 'v6', { host: (h) => v6.push(h) })
    expect(v6[0]!.addresses).toEqual([{ addr: '::1', addrtype: 'ipv6' }])
    expect(v6[0]!.ports.filter((p) => p.state === 'open')).toHaveLength(6)
  })
})

describe('open-port: hostile and broken nmap XML', () => {
  const cases = [
    { name: 'truncated inside a host: the completed ports are still reported', file: 'open-port/truncated.xml', error: /truncated\.xml:16:20: unclosed tag: \w+ \(the file is truncated\) \(1 host\(s\) reported/, fail: ['open-port-critical-service', 'open-port-plaintext-admin'] },
    { name: 'XXE (external entity in an internal subset)', file: 'open-port/xxe.xml', error: /xxe\.xml:4:2: DOCTYPE with an internal subset \(entity declarations\) refused/, fail: [] },
    { name: 'billion laughs', file: 'open-port/billion-laughs.xml', error: /billion-laughs\.xml:\d+:\d+: DOCTYPE with an internal subset/, fail: [] },
    { name: 'undeclared entity', file: 'open-port/undefined-entity.xml', error: /undefined-entity\.xml:2:20: undefined entity \(only the five XML entities are known/, fail: [] },
    { name: 'invalid UTF-8 (after the first ports)', file: 'open-port/invalid-utf8.xml', error: /invalid-utf8\.xml:\d+:\d+: invalid UTF-8 byte 0xff/, fail: ['open-port-critical-service'] },
    { name: 'another XML document', file: 'open-port/not-nmap.xml', error: /not-nmap\.xml:2:\d+: not nmap XML output: the root element is <svg>/, fail: [] },
  ]
  it.each(cases)('$name', async ({ file, error, fail }) => {
    const report = await tester.run(`nmap:${fx(file)}`)
    expect(report.errors).toHaveLength(1)
    expect(report.errors[0]!.reason).toBe('input')
    expect(report.errors[0]!.message).toMatch(error)
    expect(failedRuleIds(report)).toEqual(fail)
  })

  it('a missing file fails the scan before any check runs (fail closed)', async () => {
    await expect(tester.run(`nmap:${fx('open-port/nope.xml')}`)).rejects.toThrow(/nope\.xml: cannot read \(ENOENT\)/)
  })

  it('locates invalid UTF-8 at the line and column of the bad byte', async () => {
    const bytes = await readFile(fx('open-port/invalid-utf8.xml'))
    const at = bytes.indexOf(0xff)
    const before = bytes.subarray(0, at).toString('utf8').split('\n')
    const report = await tester.run(`nmap:${fx('open-port/invalid-utf8.xml')}`)
    expect(report.errors[0]!.message).toContain(`invalid-utf8.xml:${before.length}:${before.at(-1)!.length + 1}: invalid UTF-8 byte 0xff`)
  })
})

describe('open-port: connect scan', () => {
  it('finds the lab ports open and the others closed; allow-list by tag', async () => {
    const lab = await startLab('127.0.0.1', { services: ['redis', 'telnet', 'silent'] })
    onTestFinished(() => lab.stop())
    const ports = [lab.ports.redis, lab.ports.telnet, lab.ports.silent]
    const target: Target = { kind: 'host', id: 'host://127.0.0.1', host: '127.0.0.1', ports: ports.join(','), tags: ['lab'] }
    const policy = parsePolicy({ rules: { 'open-port-not-allowed': { parameters: { allowed: { 'tag:lab': [lab.ports.redis], 'tag:other': [1] } } } } })
    const report = await tester.run(target, { policy })
    expect(report.errors).toEqual([])
    // High ports: nothing in the catalogue, but two of three are not allowed.
    expect(failedRuleIds(report)).toEqual(['open-port-not-allowed'])
    const notAllowed = report.findings.filter((f) => f.ruleId === 'open-port-not-allowed' && f.status === 'fail').map((f) => f.resource)
    expect(notAllowed.sort()).toEqual([`127.0.0.1 tcp/${lab.ports.silent}`, `127.0.0.1 tcp/${lab.ports.telnet}`].sort())
    expect(findingOf(report, 'open-port-not-allowed', (f) => f.status === 'fail' && f.resource.endsWith(`/${lab.ports.telnet}`)).evidence).toMatchObject({ allowed: String(lab.ports.redis), policyKeys: ['tag:lab'] })
  })

  it('scans ::1 and reports an empty host as passes', async () => {
    const lab = await startLab('::1', { services: ['silent'] })
    onTestFinished(() => lab.stop())
    const report = await tester.run(`host://[::1]?ports=${lab.ports.silent}`)
    expect(report.errors).toEqual([])
    expect(passedRuleIds(report)).toEqual(['open-port-critical-service', 'open-port-database-exposed', 'open-port-plaintext-admin', 'open-port-remote-admin'])
    expect(report.findings[0]!.evidence).toMatchObject({ address: '::1', openPorts: 1 })
  })

  it.each([
    { spec: '70000', error: /ports: "70000": ports must be 1-65535/ },
    { spec: 'top2000', error: /ports: "top2000": N must be 1-1000/ },
    { spec: '90-80', error: /ports: "90-80"/ },
  ])('rejects the port list $spec', async ({ spec, error }) => {
    const report = await tester.run({ kind: 'host', id: 'host://127.0.0.1', host: '127.0.0.1', ports: spec })
    expect(report.errors.map((e) => e.reason)).toEqual(['input'])
    expect(report.errors[0]!.message).toMatch(error)
  })

  it('expands port lists: ranges, topN plus the catalogue, all', () => {
    expect(expandPorts('22, 80,8000-8002,80')).toEqual([22, 80, 8000, 8001, 8002])
    const top100 = expandPorts('top100')
    for (const p of [22, 80, 443, 6379, 2375, 10250, 27017, 11211]) expect(top100).toContain(p)
    // topN adds exactly the validated catalogue's TCP ports (ports.ts reads them from services.json without catalogue.ts).
    const catalogueTcp = [...new Set(CATALOGUE.filter((s) => s.protocol === 'tcp').flatMap((s) => s.ports))]
    expect(catalogueTcp.length).toBeGreaterThan(10)
    const top1 = expandPorts('top1')
    expect(top1).toEqual(expect.arrayContaining(catalogueTcp))
    expect(top1.length - catalogueTcp.length).toBeLessThanOrEqual(1)
    expect(expandPorts('all')).toHaveLength(65535)
  })

  it('expands to sorted unique ports whatever the order of the items, all included', () => {
    expect(expandPorts('9000,22-24,23,1')).toEqual([1, 22, 23, 24, 9000])
    const all = expandPorts('65535,top100,all,1-10')
    expect(all).toHaveLength(65535)
    expect(all.every((p, i) => p === i + 1)).toBe(true)
    expect(expandPorts('top100,top100')).toEqual(expandPorts('top100'))
    const top = expandPorts('top100')
    expect(top.every((p, i) => i === 0 || p > top[i - 1]!)).toBe(true)
  })
})

describe('open-port: catalogue and policy', () => {
  it('matches by port, or by probed name/product on any port; TLS-wrapped plaintext protocols do not match', () => {
    expect(matchService({ protocol: 'tcp', port: 6379 })?.name).toBe('redis')
    expect(matchService({ protocol: 'udp', port: 6379 })).toBeUndefined()
    expect(matchService({ protocol: 'tcp', port: 7000, service: 'redis', method: 'probed' })?.name).toBe('redis')
    expect(matchService({ protocol: 'tcp', port: 6379, service: 'http', method: 'probed' })).toBeUndefined()
    expect(matchService({ protocol: 'tcp', port: 9201, service: 'http', product: 'Elasticsearch REST API', method: 'probed' })?.name).toBe('elasticsearch')
    expect(matchService({ protocol: 'tcp', port: 21, service: 'ftp', tunnel: 'ssl', method: 'probed' })).toBeUndefined()
    expect(matchService({ protocol: 'tcp', port: 21 })?.tier).toBe('plaintext-admin')
  })

  it('validates the catalogue with ajv', () => {
    expect(() => validateCatalogue({ services: [{ name: 'x', tier: 'nope' }] })).toThrow(/services\.json: \/services\/0/)
    const s = { name: 'a', tier: 'remote-admin', severity: 'high', protocol: 'tcp', ports: [1], names: [], products: [], why: 'because it is risky' }
    expect(() => validateCatalogue({ services: [s, { ...s, name: 'b' }] })).toThrow(/tcp\/1 is listed by both "a" and "b"/)
  })

  it('allow-list: union of *, tags, target id, address and names; none matching = not evaluated', () => {
    const t: Target = { kind: 'nmap-xml', id: 'nmap:scan.xml', tags: ['web'] }
    const host = { address: '10.0.0.5', hostnames: ['web1.example.com'] }
    const a = allowedFor({ '*': [22], 'tag:web': ['80', 443], 'web1.example.com': ['udp/161', '8000-8100'], 'tag:db': [5432] }, t, host)!
    expect(a.selectors).toEqual(['*', 'tag:web', 'web1.example.com'])
    expect([a.has('tcp', 22), a.has('tcp', 80), a.has('tcp', 8050), a.has('udp', 161), a.has('tcp', 161), a.has('tcp', 5432)]).toEqual([true, true, true, true, false, false])
    expect(allowedFor({ 'tag:db': [5432] }, t, host)).toBeUndefined()
    expect(() => parsePolicy({ rules: { 'open-port-not-allowed': { parameters: { allowed: { '*': ['ssh'] } } } } })).toThrow(/open-port-not-allowed\/parameters\/allowed/)
  })
})

describe('open-port: family', () => {
  it('default targets are both loopback addresses', async () => {
    expect((await openPort.defaultTargets!(defaultTargetsContext())).map((t) => [t.id, t.ports])).toEqual([['host://127.0.0.1', 'top1000'], ['host://[::1]', 'top1000']])
  })

  it('demo: Redis and telnet look-alikes are flagged and the HTTPS port chains to the certificate checks', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ztscan-op-demo-'))
    onTestFinished(() => rm(dir, { recursive: true, force: true }))
    const lab = await openPort.demo!(dir)
    onTestFinished(() => lab.stop())
    const report = await tester.run([...lab.targets], { chain: true })
    expect(report.errors).toEqual([])
    expect(failedRuleIds(report)).toEqual(['open-port-critical-service', 'open-port-plaintext-admin'])
    expect(report.targets.filter((t) => t.kind === 'tls-endpoint')).toHaveLength(1)
  })
})

describe.skipIf(!hasNmap)('open-port: real nmap against the same listeners (nmap is at /usr/bin/nmap in CI)', () => {
  it.each(['127.0.0.1', '::1'])('nmap -sT and the built-in scan agree on %s', async (address) => {
    const lab = await startLab(address)
    onTestFinished(() => lab.stop())
    const dir = await mkdtemp(join(tmpdir(), 'ztscan-op-nmap-'))
    onTestFinished(() => rm(dir, { recursive: true, force: true }))
    const ports = Object.values(lab.ports)
    const lo = Math.min(...ports)
    const hi = Math.max(...ports)
    // Every lab port plus a band of closed neighbours, when the kernel put them close together.
    const spec = hi - lo < 2000 ? `${lo}-${hi + 5}` : [...ports, lo + 1, hi + 1].join(',')
    const xml = join(dir, 'scan.xml')
    await promisify(execFile)(NMAP, [...(address === '::1' ? ['-6'] : []), '-sT', '-n', '-Pn', '--reason', '-p', spec, '-oX', xml, address])
    const bracketed = address.includes(':') ? `[${address}]` : address
    // Allow nothing, so every open port either side becomes a finding to compare.
    const policy = parsePolicy({ rules: { 'open-port-not-allowed': { parameters: { allowed: { '*': [] } } } } })
    const report = await tester.run([`nmap:${xml}`, { kind: 'host', id: `host://${bracketed}`, host: address, ports: spec }], { policy })
    expect(report.errors).toEqual([])
    const openBy = (prefix: string): number[] =>
      report.findings.filter((f) => f.target.startsWith(prefix) && f.ruleId === 'open-port-not-allowed' && f.status === 'fail').map((f) => f.evidence.port as number).sort()
    expect(openBy('nmap:')).toEqual([...ports].sort())
    expect(openBy('host:')).toEqual(openBy('nmap:'))
    const hosts: NmapHost[] = []
    await parseNmapFile(xml, 'scan.xml', { host: (h) => hosts.push(h) })
    expect(hosts[0]!.ports.filter((p) => p.state === 'open').map((p) => p.portid).sort()).toEqual([...ports].sort())
  })
})
