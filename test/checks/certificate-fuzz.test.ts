/**
 * @fileoverview Fuzzed certificates (fast-check): byte mutations of a valid chain's DER, and validly signed certificates whose
 * extensions (SAN, basicConstraints, keyUsage, EKU, name constraints, key identifiers, AIA, unknown ones) hold random DER,
 * scanned as files and served by a loopback TLS server. Only findings or named errors (`input`, `protocol`) may come out —
 * never `bug`, never an unhandled event (vitest fails the run on one).
 */
import { afterAll, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { createServer, type Server } from 'node:tls'
import certificate from '../../checks/certificate/index.ts'
import { parsePolicy } from '../../src/rules/policy.ts'
import { tlsEndpoint } from '../../checks/certificate/targets.ts'
import type { ScanReport } from '../../src/types.ts'
import { checkTester } from '../helpers/check-tester.ts'
import { issue, labLeaf, labPki, listen, privateKey, tempDir, tracked } from '../helpers/tls.ts'

const tester = checkTester(certificate.checks, { connectTimeoutMs: 2000, timeoutMs: 4000 })
const tmp = tempDir('ztscan-certfuzz-')
afterAll(() => tmp.cleanup())
const caFile = tmp.write('ca.pem', labPki().root.pem)
const policy = parsePolicy({ rules: { 'certificate-untrusted': { parameters: { useSystemRoots: false } }, 'certificate-legacy-protocol': { enabled: false }, 'certificate-tls12-unsupported': { enabled: false } } })
const { intermediate } = labPki()
const good = labLeaf()

/** Only findings and named errors. */
function wellBehaved(r: ScanReport, name: string): void {
  for (const e of r.errors) {
    expect(e.reason, e.message).not.toBe('bug')
    expect(['input', 'protocol', 'connectivity'], e.message).toContain(e.reason)
    expect(e.message).toContain(name)
  }
  expect(r.findings.length + r.errors.length).toBeGreaterThan(0)
}

// A DER-shaped value: nested TLVs with the tags certificates use, or plain bytes.
const tlv: fc.Arbitrary<Buffer> = fc.letrec<{ node: Buffer }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.tuple(fc.constantFrom(0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x0c, 0x16, 0x80, 0x81, 0x82, 0x86, 0x87, 0x88), fc.uint8Array({ maxLength: 24 })).map(([t, v]) => Buffer.concat([Buffer.from([t, v.length]), Buffer.from(v)])),
    fc.tuple(fc.constantFrom(0x30, 0x31, 0xa0, 0xa1, 0xa3, 0xa4), fc.array(tie('node'), { maxLength: 4 })).map(([t, kids]) => {
      const body = Buffer.concat(kids)
      return body.length < 128 ? Buffer.concat([Buffer.from([t, body.length]), body]) : Buffer.concat([Buffer.from([t, 0x81, Math.min(255, body.length)]), body.subarray(0, 255)])
    }),
  ),
})).node
const extValue = fc.oneof(tlv, fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)))
const OIDS = ['2.5.29.17', '2.5.29.19', '2.5.29.15', '2.5.29.37', '2.5.29.30', '2.5.29.35', '2.5.29.14', '1.3.6.1.5.5.7.1.1', '2.5.29.32', '2.5.29.36', '1.3.6.1.4.1.55555.9']
const extensions = fc.array(fc.record({ oid: fc.constantFrom(...OIDS), critical: fc.boolean(), value: extValue }), { minLength: 1, maxLength: 4 })
const now = Date.now()
const v = { notBefore: new Date(now - 86_400_000), notAfter: new Date(now + 90 * 86_400_000) }
/** A validly signed certificate with fuzzed extensions, as leaf or as intermediate. */
const fuzzedChain = fc.tuple(extensions, fc.boolean()).map(([extra, asCa]) => {
  if (!asCa) return [issue({ cn: 'localhost', key: privateKey('rsa:2048'), issuer: intermediate, sans: ['localhost'], ...v, profile: { extra, omit: ['extKeyUsage'] } }), intermediate]
  const ca = issue({ cn: 'Fuzzed CA', key: privateKey('ec:prime256v1', 30), issuer: labPki().root, ca: true, ...v, profile: { extra, omit: ['basicConstraints'] } })
  return [issue({ cn: 'localhost', key: privateKey('rsa:2048'), issuer: ca, sans: ['localhost'], ...v }), ca]
})
/** Byte mutations of the leaf's or the intermediate's DER. */
const mutated = fc.tuple(fc.constantFrom(0, 1), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), fc.option(fc.nat())).map(([which, flips, cut]) => {
  const ders = [Buffer.from(good.der), Buffer.from(intermediate.der)]
  const d = ders[which]!
  for (const [at, b] of flips) d[at % d.length] = b
  if (cut !== null) ders[which] = d.subarray(0, cut % d.length)
  return ders
})
const pem = (der: Buffer): string => `-----BEGIN CERTIFICATE-----\n${der.toString('base64')}\n-----END CERTIFICATE-----\n`

let n = 0
async function asFile(ders: readonly Buffer[]): Promise<void> {
  const file = tmp.write(`f${n++}.pem`, ders.map(pem).join(''))
  wellBehaved(await tester.run(`cert:${file}?name=localhost`, { settings: { tls: { caFile } }, policy }), file)
}

/** Serves the chain when OpenSSL agrees to load it; false when it does not. */
async function overTls(chainPem: string, key: string): Promise<boolean> {
  let server: Server
  try {
    server = createServer({ key, cert: chainPem, ciphers: 'DEFAULT@SECLEVEL=0' }, (s) => s.end())
  } catch {
    return false
  }
  server.on('tlsClientError', () => {})
  const close = tracked(server)
  try {
    const port = await listen(server, '127.0.0.1')
    wellBehaved(await tester.run(tlsEndpoint('127.0.0.1', port), { settings: { tls: { caFile } }, policy }), `127.0.0.1:${port}`)
  } finally {
    await close()
  }
  return true
}
const leafKey = privateKey('rsa:2048').export({ type: 'pkcs8', format: 'pem' }) as string

describe('fuzzed certificates: only findings or named errors', () => {
  it('DER byte mutations, as files', async () => {
    await fc.assert(fc.asyncProperty(mutated, asFile), { numRuns: 150 })
  })
  it('random extension values in validly signed certificates, as files', async () => {
    await fc.assert(fc.asyncProperty(fuzzedChain, (chain) => asFile(chain.map((c) => c.der))), { numRuns: 150 })
  })
  it('random extension values, served over TLS', async () => {
    let served = 0
    await fc.assert(fc.asyncProperty(fuzzedChain, async (chain) => void ((await overTls(chain.map((c) => c.pem).join(''), leafKey)) && served++)), { numRuns: 40 })
    expect(served).toBeGreaterThan(10)
  })
  it('DER byte mutations, served over TLS when OpenSSL loads them', async () => {
    await fc.assert(fc.asyncProperty(mutated, async (ders) => void (await overTls(ders.map(pem).join(''), leafKey))), { numRuns: 40 })
  })
  it('a malformed SAN served over TLS (the former unhandled ERR_SSL error) is judged, not a crash', async () => {
    const leaf = labLeaf({ profile: { rawSan: Buffer.from([0x30, 0x05, 0x82, 0x10, 0x61, 0x62, 0x63]) } })
    expect(await overTls(leaf.pem + intermediate.pem, leafKey)).toBe(true)
    const file = tmp.write('bad-san.pem', leaf.pem + intermediate.pem)
    const r = await tester.run(`cert:${file}?name=localhost`, { settings: { tls: { caFile } }, policy })
    expect(r.errors).toEqual([])
    expect(r.findings.find((f) => f.ruleId === 'certificate-profile-violation' && f.status === 'fail')?.evidence.problems).toEqual([
      { section: 'RFC 5280 4.2', field: 'subjectAltName', detail: expect.stringMatching(/^malformed: /) },
    ])
  })
})
