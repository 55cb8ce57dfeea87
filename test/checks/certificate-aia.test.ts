/**
 * AIA chasing (issue 16 item 5) against a loopback HTTP server: a missing intermediate fetched from the leaf's caIssuers URL
 * (DER or PKCS#7 certs-only) makes `certificate-incomplete-chain` the only finding; an issuer that cannot be found, or leads
 * to no anchor, makes `certificate-untrusted` the only one (incomplete-chain is then a named skip).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { Server } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import certificate from '../../checks/certificate/index.ts'
import tls from '../../checks/certificate/tls-check.ts'
import { integer, oidDer, seq, tlv } from '../../checks/certificate/revocation-data.ts'
import { revocationExtensions } from '../../checks/certificate/lab.ts'
import { fileTarget } from '../../src/targets/host.ts'
import type { ScanReport } from '../../src/types.ts'
import { checkTester, failedRuleIds, findingOf } from '../helpers/check-tester.ts'
import { issue, labLeaf, labPki, labTrust, listen, privateKey, startTlsServer, tempDir, tracked, type Issued } from '../helpers/tls.ts'

const DAY = 86_400_000
const tmp = tempDir('ztscan-aia-')
const closers: (() => Promise<void> | void)[] = [() => tmp.cleanup()]
afterAll(async () => {
  for (const c of closers.reverse()) await c()
})
const settings = labTrust(tmp.write)
const tester = checkTester(certificate.checks, { perHost: 16, connectTimeoutMs: 1500, timeoutMs: 10_000, settings })
const { intermediate, rogueRoot } = labPki()
const long = { notBefore: new Date(Date.now() - DAY), notAfter: new Date(Date.now() + 300 * DAY) }
const rogueInt = issue({ cn: 'Rogue issuing CA', key: privateKey('ec:prime256v1', 9), issuer: rogueRoot, ca: true, ...long })

/** A PKCS#7 certs-only SignedData (RFC 5280 4.2.2.1's alternative to one DER certificate). */
const pkcs7 = (...certs: Buffer[]): Buffer =>
  seq(oidDer('1.2.840.113549.1.7.2'), tlv(0xa0, seq(integer(Buffer.from([1])), tlv(0x31), seq(oidDer('1.2.840.113549.1.7.1')), tlv(0xa0, ...certs), tlv(0x31))))

const hits = new Map<string, number>()
const files = new Map<string, Buffer>([
  ['int.der', intermediate.der],
  ['int.p7c', pkcs7(intermediate.der)],
  ['rogue.der', rogueInt.der],
  ['garbage', Buffer.alloc(1 << 20, 0x41)],
])
const http = createServer((req: IncomingMessage, res: ServerResponse) => {
  const name = (req.url ?? '/').slice(1)
  hits.set(name, (hits.get(name) ?? 0) + 1)
  const f = files.get(name)
  res.on('error', () => {})
  if (!f) return void res.writeHead(404).end()
  res.writeHead(200).end(f)
})
let base = ''
beforeAll(async () => {
  base = `http://127.0.0.1:${await listen(http as unknown as Server, '127.0.0.1')}`
  closers.push(tracked(http as unknown as Server))
})

const leafFor = (caIssuers: string[], issuer: Issued = intermediate): Issued =>
  labLeaf({ issuer, profile: { extra: revocationExtensions({ caIssuers: caIssuers.map((p) => (p.startsWith('http') ? p : `${base}/${p}`)) }) } })
async function serve(chain: Issued[]): Promise<string> {
  const s = await startTlsServer({ chain })
  closers.push(() => s.close())
  return s.target.id
}
const skipOf = (r: ScanReport): string => r.skipped.filter((s) => s.rule === 'certificate-incomplete-chain').map((s) => s.why).join('\n')
const chainResults = (r: ScanReport): string[][] => r.findings.filter((f) => f.ruleId === 'certificate-untrusted' || f.ruleId === 'certificate-incomplete-chain').map((f) => [f.ruleId, f.status])

describe('AIA caIssuers chasing', () => {
  it.each([
    ['a DER certificate', 'int.der'],
    ['a PKCS#7 certs-only bundle', 'int.p7c'],
  ])('a missing intermediate fetched as %s: certificate-incomplete-chain only', async (_what, file) => {
    const r = await tester.run(await serve([leafFor([file])]))
    expect(r.errors).toEqual([])
    expect(failedRuleIds(r)).toEqual(['certificate-incomplete-chain'])
    expect(findingOf(r, 'certificate-untrusted').status).toBe('pass')
    const f = findingOf(r, 'certificate-incomplete-chain')
    expect(f.evidence.detail).toBe('the server omits "CN=ztscan lab issuing CA, O=ztscan lab": fetched from AIA caIssuers to reach the trust anchor')
    expect(f.evidence.path).toEqual(['leaf: CN=localhost', 'fetched: CN=ztscan lab issuing CA, O=ztscan lab', 'anchor: CN=ztscan lab root CA, O=ztscan lab'])
    // The fetched intermediate is judged like a served one.
    expect(r.findings.filter((x) => x.ruleId === 'certificate-expired').map((x) => x.evidence.position)).toEqual(['anchor', 'fetched', 'leaf'])
  })

  it('the tls grade completes the chain the same way: no T for an intermediate AIA finds, T when AIA is off', async () => {
    const id = await serve([leafFor(['int.der'])])
    const tlsTester = checkTester(tls.checks, { perHost: 16, connectTimeoutMs: 1500, timeoutMs: 10_000, settings })
    const on = findingOf(await tlsTester.run(id), 'tls-grade')
    expect(on.evidence.grade).toBe(on.evidence.gradeIgnoringTrust)
    expect(on.evidence.gradeTrust).toBeUndefined()
    const off = findingOf(await tlsTester.run(id, { settings: { tls: { ...settings.tls, aia: 'off' } } }), 'tls-grade')
    expect(off.evidence).toMatchObject({ grade: 'T', gradeTrust: ['incomplete chain (an issuer is neither served nor a trust anchor)'] })
  })

  it.each([
    ['unreachable', 'http://127.0.0.1:1/int.der', /http:\/\/127\.0\.0\.1:1\/int\.der: .*ECONNREFUSED/],
    ['not found', 'missing.der', /missing\.der: GET .*HTTP 404/],
    ['over the 256 KiB cap', 'garbage', /larger than 262144 bytes/],
  ])('an issuer that cannot be found (%s): certificate-untrusted only, incomplete-chain a named skip', async (_what, url, why) => {
    const r = await tester.run(await serve([leafFor([url])]))
    expect(r.errors).toEqual([])
    expect(failedRuleIds(r)).toEqual(['certificate-untrusted'])
    expect(chainResults(r)).toEqual([['certificate-untrusted', 'fail']])
    expect(skipOf(r)).toMatch(why)
    expect(skipOf(r)).toMatch(/certificate-untrusted reports it$/)
  })

  it('an issuer that leads to no anchor: certificate-untrusted only', async () => {
    const r = await tester.run(await serve([leafFor(['rogue.der'], rogueInt)]))
    expect(failedRuleIds(r)).toEqual(['certificate-untrusted'])
    expect(findingOf(r, 'certificate-untrusted').evidence.path).toEqual(['leaf: CN=localhost', 'fetched: CN=Rogue issuing CA'])
    expect(skipOf(r)).toMatch(/or leads to no trust anchor; certificate-untrusted reports it/)
  })

  it('no caIssuers URL, AIA off, or a certificate file: nothing is fetched and incomplete-chain says why it is not judged', async () => {
    const bare = await tester.run(await serve([labLeaf()]))
    expect(failedRuleIds(bare)).toEqual(['certificate-untrusted'])
    expect(skipOf(bare)).toMatch(/names no AIA caIssuers URL/)
    const before = hits.get('int.der') ?? 0
    const off = await tester.run(await serve([leafFor(['int.der'])]), { settings: { tls: { ...settings.tls, aia: 'off' } } })
    expect(failedRuleIds(off)).toEqual(['certificate-untrusted'])
    expect(skipOf(off)).toMatch(/AIA fetching is off/)
    const file = await tester.run(fileTarget('cert-file', 'cert', tmp.write('leaf.pem', leafFor(['int.der']).pem)))
    expect(failedRuleIds(file)).toEqual(['certificate-untrusted'])
    expect(skipOf(file)).toMatch(/a certificate file is offline input/)
    expect(hits.get('int.der') ?? 0).toBe(before)
  })

  it('cached per scan: six endpoints missing the same intermediate fetch it once', async () => {
    files.set('shared.der', intermediate.der)
    const targets = await Promise.all(Array.from({ length: 6 }, () => serve([leafFor(['shared.der'])])))
    const r = await tester.run(targets)
    expect(r.errors).toEqual([])
    expect(r.findings.filter((f) => f.ruleId === 'certificate-incomplete-chain' && f.status === 'fail')).toHaveLength(6)
    expect(hits.get('shared.der')).toBe(1)
  })
})
