/**
 * @fileoverview Path validation (RFC 5280 section 6 + the Web PKI profile) on the generated corpus: every case as a file
 * (`cert:FILE?name=HOST`) and, where OpenSSL can serve its key, from a loopback TLS server; the failing rules are asserted
 * exactly, and each failure names the certificate, section and field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import certificate from '../../checks/certificate/index.ts'
import { parsePolicy } from '../../src/rules/policy.ts'
import { tlsEndpoint } from '../../checks/certificate/targets.ts'
import type { ScanReport } from '../../src/types.ts'
import { checkTester, failedRuleIds, findingOf } from '../helpers/check-tester.ts'
import { issue, privateKey, startTlsServer, tempDir, type LabServer } from '../helpers/tls.ts'
import { pathCorpus, type CorpusCase } from '../helpers/pathval-corpus.ts'

const tester = checkTester(certificate.checks, { perHost: 16, connectTimeoutMs: 3000, timeoutMs: 8000 })
const tmp = tempDir('ztscan-pathval-')
// Only the anchors of each case; protocol probes are not what this file is about.
const policy = parsePolicy({ rules: { 'certificate-untrusted': { parameters: { useSystemRoots: false } }, 'certificate-legacy-protocol': { enabled: false }, 'certificate-tls12-unsupported': { enabled: false } } })
const corpus = pathCorpus()

const fileRun = new Map<string, ScanReport>()
const tlsRun = new Map<string, ScanReport>()
const servers: LabServer[] = []

beforeAll(async () => {
  await Promise.all(
    corpus.map(async (c) => {
      const caFile = tmp.write(`${c.name}-ca.pem`, c.anchors.map((a) => a.pem).join(''))
      const file = tmp.write(`${c.name}.pem`, c.chain.map((x) => x.pem).join(''))
      fileRun.set(c.name, await tester.run(`cert:${file}?name=${c.host}`, { settings: { tls: { caFile } }, policy }))
      if (!c.tls) return
      const s = await startTlsServer({ chain: c.chain })
      servers.push(s)
      tlsRun.set(c.name, await tester.run(tlsEndpoint(s.host, s.port, undefined, { name: c.host }), { settings: { tls: { caFile } }, policy }))
    }),
  )
})
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()))
  tmp.cleanup()
})

describe('path validation corpus', () => {
  it('has a valid and an invalid chain for every path rule', () => {
    const rules = new Set(corpus.flatMap((c) => c.fail))
    for (const r of ['certificate-invalid-ca', 'certificate-name-constraints', 'certificate-wrong-purpose', 'certificate-unknown-critical-extension', 'certificate-profile-violation', 'certificate-expired', 'certificate-weak-key', 'certificate-hostname-mismatch', 'certificate-unneeded'])
      expect(rules.has(r), r).toBe(true)
    expect(corpus.filter((c) => !c.fail.length).length).toBeGreaterThanOrEqual(4)
  })

  it.each(corpus.map((c) => [c.name, c] as [string, CorpusCase]))('%s as a file', (name, c) => {
    const r = fileRun.get(name)!
    expect(r.errors).toEqual([])
    expect(failedRuleIds(r)).toEqual(c.fail)
  })

  it.each(corpus.filter((c) => c.tls).map((c) => [c.name, c] as [string, CorpusCase]))('%s over TLS', (name, c) => {
    const r = tlsRun.get(name)!
    expect(r.errors).toEqual([])
    expect(failedRuleIds(r)).toEqual(c.fail)
  })
})

describe('failures name the certificate, the section and the field', () => {
  it('a CA:FALSE issuer', () => {
    const f = findingOf(fileRun.get('ca-false')!, 'certificate-invalid-ca', (x) => x.status === 'fail')
    expect(f.resource).toMatch(/^intermediate\[1\] SHA256:[0-9a-f]{64}$/)
    expect(f.evidence.problems).toEqual([{ section: 'RFC 5280 6.1.4 (k), 4.2.1.9', field: 'basicConstraints.cA', detail: 'FALSE: the issuer is not a CA and may not issue certificates' }])
    expect(f.message).toContain('Corpus not-a-CA')
  })
  it('a pathLen 0 CA with a CA below it', () => {
    const f = findingOf(fileRun.get('pathlen-exceeded')!, 'certificate-invalid-ca', (x) => x.status === 'fail')
    expect(f.evidence).toMatchObject({ position: 'intermediate[2]', problems: [{ field: 'basicConstraints.pathLenConstraint', section: 'RFC 5280 6.1.4 (m), 4.2.1.9' }] })
  })
  it('a name outside the permitted subtree names the constraining certificate', () => {
    const f = findingOf(fileRun.get('nc-outside-permitted')!, 'certificate-name-constraints', (x) => x.status === 'fail')
    expect(f.evidence.position).toBe('leaf')
    expect(f.evidence.detail).toMatch(/dNSName api\.other\.test is outside the permitted subtrees \(example\.com\) of certificate 1 on the path/)
  })
  it('the expired anchor is judged and named', () => {
    const f = findingOf(fileRun.get('expired-anchor')!, 'certificate-expired', (x) => x.status === 'fail')
    expect(f.evidence).toMatchObject({ position: 'anchor', subject: 'CN=Corpus Expired Root, O=ztscan corpus' })
    expect(f.resource).toMatch(/^anchor SHA256:/)
  })
  it('an expired cross-sign the path does not need is reported as unneeded, not expired', () => {
    const r = fileRun.get('unneeded-stale-cross')!
    const f = findingOf(r, 'certificate-unneeded', (x) => x.status === 'fail')
    expect(f.evidence).toMatchObject({ position: 'intermediate[2]', detail: 'served but not on the validated path' })
    expect(r.findings.filter((x) => x.ruleId === 'certificate-expired').map((x) => x.evidence.position)).toEqual(['anchor', 'intermediate[1]', 'leaf'])
  })
  it('of two anchored paths the valid one wins; the other path\'s expired cross-sign is unneeded, not a broken chain', () => {
    const r = fileRun.get('cross-sign-best-path')!
    const trust = findingOf(r, 'certificate-untrusted')
    expect(trust.evidence).toMatchObject({ trust: 'trusted', candidatePaths: 2 })
    expect(trust.evidence.path).toEqual(['leaf: CN=api.example.com', 'intermediate[2]: CN=Corpus Issuing CA, O=ztscan corpus', 'anchor: CN=Corpus Root, O=ztscan corpus'])
    expect(findingOf(r, 'certificate-unneeded', (x) => x.status === 'fail').evidence.position).toBe('intermediate[1]')
  })
  it('path building is bounded: 200 same-name CA certificates sharing one key, none an anchor', async () => {
    const key = privateKey('ec:prime256v1', 40)
    const now = Date.now()
    const v = { notBefore: new Date(now - 86_400_000), notAfter: new Date(now + 86_400_000 * 30) }
    const loop = Array.from({ length: 200 }, () => issue({ cn: 'Loop CA', key, ca: true, ...v }))
    const leaf = issue({ cn: 'loop.test', key: privateKey('rsa:2048'), issuer: loop[0]!, sans: ['loop.test'], ...v })
    const file = tmp.write('loop.pem', [leaf, ...loop].map((x) => x.pem).join(''))
    const t0 = performance.now()
    const r = await tester.run(`cert:${file}?name=loop.test`, { settings: { tls: { caFile: tmp.write('loop-ca.pem', corpus[0]!.anchors[0]!.pem) } }, policy })
    expect(performance.now() - t0).toBeLessThan(20_000)
    expect(r.errors).toEqual([])
    expect(findingOf(r, 'certificate-untrusted').evidence).toMatchObject({ trust: 'untrusted-root' })
  })
  it('name constraints stay cheap: 1,100 SANs against 1,000 constraints are rejected unevaluated', async () => {
    const now = Date.now()
    const v = { notBefore: new Date(now - 86_400_000), notAfter: new Date(now + 86_400_000 * 90) }
    const root = corpus[0]!.anchors[0]!
    const nc = issue({ cn: 'Many constraints CA', key: privateKey('ec:prime256v1', 41), issuer: root, ca: true, ...v, profile: { nameConstraints: { permitted: Array.from({ length: 1000 }, (_, i) => `c${i}.test`) } } })
    const leaf = issue({ cn: 'n0.c0.test', key: privateKey('rsa:2048'), issuer: nc, sans: Array.from({ length: 1100 }, (_, i) => `n${i}.c0.test`), ...v })
    const file = tmp.write('many-names.pem', leaf.pem + nc.pem)
    const r = await tester.run(`cert:${file}?name=n0.c0.test`, { settings: { tls: { caFile: tmp.write('many-ca.pem', root.pem) } }, policy })
    expect(failedRuleIds(r)).toEqual(['certificate-name-constraints'])
    expect(findingOf(r, 'certificate-name-constraints', (x) => x.status === 'fail').evidence.detail).toMatch(/1101 names against 1000 constraints .*not evaluated/)
  })
  it('OpenSSL\'s verdict with the same anchors is recorded on live handshakes', () => {
    expect(findingOf(tlsRun.get('valid')!, 'certificate-untrusted').evidence.openssl).toEqual({ authorized: true })
    expect(findingOf(tlsRun.get('ca-false')!, 'certificate-untrusted').evidence.openssl).toMatchObject({ authorized: false, error: expect.stringMatching(/^[A-Z_]+$/) })
  })
  it('cert:FILE?name= applies the hostname rule to files; without a name it does not apply', async () => {
    const c = corpus.find((x) => x.name === 'valid')!
    const caFile = tmp.write('valid-ca-2.pem', c.anchors[0]!.pem)
    const file = tmp.write('valid-2.pem', c.chain.map((x) => x.pem).join(''))
    const wrong = await tester.run(`cert:${file}?name=www.example.org`, { settings: { tls: { caFile } }, policy })
    expect(failedRuleIds(wrong)).toEqual(['certificate-hostname-mismatch'])
    expect(wrong.findings[0]!.target).toMatch(/\?name=www\.example\.org$/)
    const ip = await tester.run(`cert:${file}?name=127.0.0.1`, { settings: { tls: { caFile } }, policy })
    expect(findingOf(ip, 'certificate-hostname-mismatch')).toMatchObject({ status: 'pass', evidence: { name: '127.0.0.1' } })
    const none = await tester.run(`cert:${file}`, { settings: { tls: { caFile } }, policy })
    expect(none.findings.some((f) => f.ruleId === 'certificate-hostname-mismatch')).toBe(false)
  })
})
