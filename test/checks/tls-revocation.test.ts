/**
 * The revocation check against real parts on loopback: `openssl ocsp` answering each request (behind a loopback HTTP front, as
 * OpenSSL 3.0's own `-port` listens on every interface), CRLs and AIA certificates from a loopback HTTP server, Node TLS servers
 * (one stapling). Hostile cases: a responder that never answers, a CRL over the size cap, a CRL signed by another key, a
 * responder certificate the issuer did not issue.
 */
import { execFile } from 'node:child_process'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer as createTlsServer } from 'node:tls'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import tls from '../../checks/certificate/tls-check.ts'
import certificate from '../../checks/certificate/index.ts'
import { askOcsp, tlsRevocationCheck } from '../../checks/certificate/revocation.ts'
import { verifyCrl, verifyOcsp, RevocationDataError, ocspRequest } from '../../checks/certificate/revocation-data.ts'
import { bindNet } from '../../src/net/index.ts'
import pLimit from 'p-limit'
import { issueCrl, revocationExtensions } from '../../checks/certificate/lab.ts'
import { tlsEndpoint } from '../../checks/certificate/targets.ts'
import type { ScanReport } from '../../src/types.ts'
import { checkTester, failedRuleIds, findingOf, passedRuleIds } from '../helpers/check-tester.ts'
import { issue, labLeaf, labPki, labTrust, listen, privateKey, startTlsServer, tempDir, tracked, type Issued } from '../helpers/tls.ts'

const run = promisify(execFile)
const HAVE_OPENSSL = await run('openssl', ['version']).then(
  () => true,
  () => false,
)
const DAY = 86_400_000
const tmp = tempDir('ztscan-revoc-')
const closers: (() => Promise<void> | void)[] = [() => tmp.cleanup()]
afterAll(async () => {
  for (const c of closers.reverse()) await c()
})

const { intermediate, root } = labPki()
const trust = labTrust(tmp.write)
const tester = checkTester([tlsRevocationCheck], { perHost: 16, connectTimeoutMs: 1500, timeoutMs: 10_000, settings: trust })

// A rogue responder: its own self-signed certificate, marked for OCSP signing, not issued by the lab intermediate.
const rogue = issue({ cn: 'rogue OCSP responder', key: privateKey('ec:prime256v1', 7), ca: false, notBefore: new Date(Date.now() - DAY), notAfter: new Date(Date.now() + 30 * DAY), profile: { extKeyUsage: ['1.3.6.1.5.5.7.3.9'] } })

const hits = new Map<string, number>()
let postCount = 0
let base = ''
const files = new Map<string, Buffer>()
const keyPem = (i: Issued): string => i.key.export({ type: 'pkcs8', format: 'pem' }) as string
const pems = { int: tmp.write('int.pem', intermediate.pem), intKey: tmp.write('int.key', keyPem(intermediate)), rogue: tmp.write('rogue.pem', rogue.pem), rogueKey: tmp.write('rogue.key', keyPem(rogue)) }

/** The index `openssl ocsp` answers from (V good, R revoked), rewritten as leaves are made. */
const index: string[] = []
const t = (d: Date): string => d.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z'
function enrol(leaf: Issued, status: 'good' | 'revoked'): void {
  const serial = leaf.x509.serialNumber.toUpperCase()
  index.push(status === 'good' ? `V\t${t(new Date(leaf.x509.validTo))}\t\t${serial}\tunknown\t/CN=localhost` : `R\t${t(new Date(leaf.x509.validTo))}\t${t(new Date(Date.now() - 3_600_000))},keyCompromise\t${serial}\tunknown\t/CN=localhost`)
  writeFileSync(join(tmp.dir, 'index.txt'), index.join('\n') + '\n')
  writeFileSync(join(tmp.dir, 'index.txt.attr'), 'unique_subject = no\n')
}

/** One `openssl ocsp` run on a DER request: signed by the intermediate (or by the rogue responder). */
let n = 0
async function answer(req: Buffer, signer: 'issuer' | 'rogue'): Promise<Buffer> {
  const dir = join(tmp.dir, `req-${n++}`)
  mkdirSync(dir)
  writeFileSync(join(dir, 'req.der'), req)
  const [rsigner, rkey] = signer === 'issuer' ? [pems.int, pems.intKey] : [pems.rogue, pems.rogueKey]
  await run('openssl', ['ocsp', '-index', join(tmp.dir, 'index.txt'), '-rsigner', rsigner, '-rkey', rkey, '-CA', pems.int, '-reqin', join(dir, 'req.der'), '-respout', join(dir, 'resp.der'), '-ndays', '1'])
  return readFileSync(join(dir, 'resp.der'))
}

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of req as AsyncIterable<Buffer>) chunks.push(c)
  return Buffer.concat(chunks)
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://x')
  const route = url.pathname.split('/')[1] ?? ''
  hits.set(route, (hits.get(route) ?? 0) + 1)
  if (route === 'slow') return // never answers
  if (route === 'ocsp' || route === 'rogue-ocsp') {
    if (req.method === 'POST') postCount++
    const der = req.method === 'POST' ? await body(req) : Buffer.from(decodeURIComponent(url.pathname.slice(route.length + 2)), 'base64')
    const resp = await answer(der, route === 'ocsp' ? 'issuer' : 'rogue')
    res.writeHead(200, { 'content-type': 'application/ocsp-response' }).end(resp)
    return
  }
  if (route === 'huge.crl') {
    res.writeHead(200)
    const chunk = Buffer.alloc(1 << 20)
    let sent = 0
    const more = (): void => {
      while (sent < 12 && res.write(chunk)) sent++
      if (sent >= 12) res.end()
      else res.once('drain', () => (sent++, more()))
    }
    res.on('error', () => {})
    more()
    return
  }
  const f = files.get(route)
  if (!f) return void res.writeHead(404).end()
  res.writeHead(200).end(f)
}

const http = createServer((req, res) => void handle(req, res).catch(() => res.destroy()))
const leaves: Record<string, Issued> = {}

/** A lab leaf under the intermediate naming the given revocation URLs (paths on the loopback HTTP server). */
function leafWith(p: { ocsp?: string[]; crl?: string[]; caIssuers?: string[] }): Issued {
  const abs = (xs?: string[]): string[] | undefined => xs?.map((x) => (x.startsWith('http') || x.startsWith('ldap') ? x : `${base}/${x}`))
  return labLeaf({ profile: { extra: revocationExtensions({ ocsp: abs(p.ocsp), crl: abs(p.crl), caIssuers: abs(p.caIssuers) }) } })
}

async function serve(chain: Issued[]): Promise<string> {
  const s = await startTlsServer({ chain })
  closers.push(() => s.close())
  return `tls://127.0.0.1:${s.port}`
}

beforeAll(async () => {
  const port = await listen(http as unknown as import('node:net').Server, '127.0.0.1')
  closers.push(tracked(http as unknown as import('node:net').Server))
  base = `http://127.0.0.1:${port}`
  leaves.ocspGood = leafWith({ ocsp: ['ocsp'] })
  leaves.ocspRevoked = leafWith({ ocsp: ['ocsp'] })
  leaves.crlGood = leafWith({ crl: ['int.crl'] })
  leaves.crlRevoked = leafWith({ crl: ['int.crl'] })
  leaves.none = labLeaf()
  leaves.unreachable = leafWith({ ocsp: ['http://127.0.0.1:1/'] })
  leaves.slow = leafWith({ ocsp: ['slow'] })
  leaves.huge = leafWith({ crl: ['huge.crl'] })
  leaves.badSig = leafWith({ crl: ['bad.crl'] })
  leaves.rogue = leafWith({ ocsp: ['rogue-ocsp'] })
  leaves.ldapOnly = leafWith({ crl: ['ldap://127.0.0.1/cn=int?certificateRevocationList'] })
  leaves.aia = leafWith({ ocsp: ['ocsp'], caIssuers: ['int.der'] })
  leaves.shared = leafWith({ crl: ['shared.crl'] })
  for (const [k, l] of Object.entries(leaves)) enrol(l, k.includes('Revoked') ? 'revoked' : 'good')
  files.set('int.crl', issueCrl(intermediate, [leaves.crlRevoked.x509, leaves.ocspRevoked.x509]))
  files.set('shared.crl', issueCrl(intermediate, []))
  files.set('bad.crl', issueCrl(intermediate, [], { signer: privateKey('ec:prime256v1', 8) }))
  files.set('int.der', intermediate.der)
})

const errorsOf = (r: ScanReport): string => r.errors.map((e) => `${e.reason}: ${e.message}`).join('\n')
const skipsOf = (r: ScanReport): string => r.skipped.map((s) => `${s.rule}: ${s.why}`).join('\n')

describe.skipIf(!HAVE_OPENSSL)('tls-revocation against openssl ocsp and loopback CRLs', () => {
  it('OCSP: a good certificate passes and a revoked one fails, both from signature-verified responder answers (GET)', async () => {
    const good = await serve([leaves.ocspGood!, intermediate])
    const revoked = await serve([leaves.ocspRevoked!, intermediate])
    const r = await tester.run([good, revoked])
    expect(errorsOf(r)).toBe('')
    expect(passedRuleIds(r, (f) => f.target === good)).toEqual(['tls-certificate-revoked', 'tls-no-revocation-info'])
    expect(failedRuleIds(r)).toEqual(['tls-certificate-revoked'])
    const f = findingOf(r, 'tls-certificate-revoked', (x) => x.status === 'fail')
    expect(f.target).toBe(revoked)
    expect(f.evidence?.via).toBe('ocsp')
    expect(String(f.evidence?.detail)).toMatch(/revoked at .* \(keyCompromise\), says the OCSP http:\/\/127\.0\.0\.1:\d+\/ocsp \(signature verified\)/)
  })

  it('CRL: the distribution point is fetched, its signature verified, the serial looked up', async () => {
    const good = await serve([leaves.crlGood!, intermediate])
    const revoked = await serve([leaves.crlRevoked!, intermediate])
    const r = await tester.run([good, revoked])
    expect(errorsOf(r)).toBe('')
    expect(failedRuleIds(r)).toEqual(['tls-certificate-revoked'])
    const f = findingOf(r, 'tls-certificate-revoked', (x) => x.status === 'fail')
    expect(f.target).toBe(revoked)
    expect(f.evidence?.via).toBe('crl')
    expect(findingOf(r, 'tls-certificate-revoked', (x) => x.target === good).status).toBe('pass')
  })

  it('no OCSP URL, no CRL DP, no staple: tls-no-revocation-info fails and revocation is a named skip', async () => {
    const t1 = await serve([leaves.none!, intermediate])
    const r = await tester.run(t1)
    expect(failedRuleIds(r)).toEqual(['tls-no-revocation-info'])
    expect(skipsOf(r)).toMatch(/tls-certificate-revoked: no revocation information/)
  })

  it('an unreachable responder is an attempt error (fail closed), a skip with soft-fail, and nothing is asked with off', async () => {
    const target = await serve([leaves.unreachable!, intermediate])
    const r = await tester.run(target)
    expect(r.findings.filter((f) => f.ruleId === 'tls-certificate-revoked')).toEqual([])
    expect(errorsOf(r)).toMatch(/^connectivity: .*revocation status unknown: OCSP http:\/\/127\.0\.0\.1:1\/: .*ECONNREFUSED/)
    const soft = await tester.run(target, { settings: { tls: { ...trust.tls, revocation: 'soft-fail' } } })
    expect(soft.errors).toEqual([])
    expect(skipsOf(soft)).toMatch(/tls-certificate-revoked: revocation status unknown/)
    const before = hits.get('ocsp') ?? 0
    const off = await tester.run(await serve([leaves.ocspGood!, intermediate]), { settings: { tls: { ...trust.tls, revocation: 'off' } } })
    expect(off.errors).toEqual([])
    expect(off.findings).toEqual([])
    expect(skipsOf(off)).toMatch(/revocation checking is off/)
    expect(hits.get('ocsp') ?? 0).toBe(before)
  })

  it('hostile sources: a silent responder times out, a CRL over 10 MiB is cut, a CRL signed by another key and a rogue responder are refused', async () => {
    const targets = await Promise.all([leaves.slow!, leaves.huge!, leaves.badSig!, leaves.rogue!].map((l) => serve([l, intermediate])))
    const r = await tester.run(targets)
    expect(r.findings.filter((f) => f.ruleId === 'tls-certificate-revoked')).toEqual([])
    const err = (i: number): string => r.errors.filter((e) => e.target === targets[i]).map((e) => `${e.reason}: ${e.message}`).join('\n')
    expect(err(0)).toMatch(/^timeout: .*slow.*timed out/)
    expect(err(1)).toMatch(/larger than 10485760 bytes/)
    expect(err(2)).toMatch(/the CRL signature does not verify with the issuer's key/)
    expect(err(3)).toMatch(/signed by "CN=rogue OCSP responder", which the certificate's issuer did not issue/)
  })

  it('an LDAP distribution point is skipped with its reason, not an error', async () => {
    const r = await tester.run(await serve([leaves.ldapOnly!, intermediate]))
    expect(r.errors).toEqual([])
    expect(skipsOf(r)).toMatch(/LDAP distribution points are not fetched/)
    expect(passedRuleIds(r)).toEqual(['tls-no-revocation-info'])
  })

  it('a chain missing its intermediate is completed from AIA caIssuers, then judged; an untrusted chain is not judged', async () => {
    const r = await tester.run(await serve([leaves.aia!]))
    expect(errorsOf(r)).toBe('')
    expect(passedRuleIds(r)).toEqual(['tls-certificate-revoked', 'tls-no-revocation-info'])
    const untrusted = await tester.run(await serve([leaves.ocspGood!, intermediate]), { settings: {} })
    expect(untrusted.findings).toEqual([])
    expect(skipsOf(untrusted)).toMatch(/the chain is not trusted \(incomplete\)/)
  })

  it('one fetch per URL per scan: eight endpoints sharing a CRL fetch it once', async () => {
    const targets = await Promise.all(Array.from({ length: 8 }, () => serve([leaves.shared!, intermediate])))
    const before = hits.get('shared.crl') ?? 0
    const r = await tester.run(targets)
    expect(errorsOf(r)).toBe('')
    expect(r.findings.filter((f) => f.ruleId === 'tls-certificate-revoked' && f.status === 'pass')).toHaveLength(8)
    expect((hits.get('shared.crl') ?? 0) - before).toBe(1)
  })

  it('a stapled response is verified and decides: a revoked staple fails without asking the responder', async () => {
    const leaf = leaves.ocspRevoked!
    const staple = await answer(ocspRequest(leaf.x509, intermediate.x509), 'issuer')
    const server = createTlsServer({ key: keyPem(leaf), cert: leaf.pem + intermediate.pem }, (s) => s.end())
    server.on('OCSPRequest', (_c: Buffer, _i: Buffer, cb: (e: Error | null, r?: Buffer) => void) => cb(null, staple))
    server.on('tlsClientError', () => {})
    const port = await listen(server, '127.0.0.1')
    closers.push(tracked(server))
    const before = hits.get('ocsp') ?? 0
    const r = await tester.run(tlsEndpoint('127.0.0.1', port))
    const f = findingOf(r, 'tls-certificate-revoked')
    expect(f.status).toBe('fail')
    expect(f.evidence?.via).toBe('staple')
    expect(hits.get('ocsp') ?? 0).toBe(before)
  })

  it('a request too long for GET is POSTed with a nonce; a response echoing another nonce is refused', async () => {
    const ac = new AbortController()
    const ctx = { net: bindNet(ac.signal, 2000), sockets: pLimit(4), connectTimeoutMs: 2000, signal: ac.signal, now: () => new Date() }
    const posts = postCount
    const v = await askOcsp(`${base}/ocsp`, leaves.ocspRevoked!.x509, intermediate.x509, ctx, 0)
    expect(v).toMatchObject({ status: 'revoked', signer: 'issuer', nonce: 'matched', revocationReason: 'keyCompromise' })
    expect(postCount).toBe(posts + 1)
    const withNonce = await answer(ocspRequest(leaves.ocspGood!.x509, intermediate.x509, Buffer.alloc(32, 1)), 'issuer')
    expect(verifyOcsp(withNonce, leaves.ocspGood!.x509, intermediate.x509, Date.now(), Buffer.alloc(32, 1)).nonce).toBe('matched')
    expect(() => verifyOcsp(withNonce, leaves.ocspGood!.x509, intermediate.x509, Date.now(), Buffer.alloc(32, 2))).toThrow(/different nonce/)
    // Asked about another certificate than the one the response is for: no matching CertID.
    expect(() => verifyOcsp(withNonce, leaves.ocspRevoked!.x509, intermediate.x509, Date.now())).toThrow(/no status for this certificate/)
  })

  it('the demo lab has one revoked server (its CRL on loopback), found as revoked', async () => {
    const lab = await certificate.demo!(join(tmp.dir, 'demo'))
    try {
      const r = await tester.run(lab.targets.filter((t) => t.kind === 'tls-endpoint'), { settings: lab.settings })
      expect(r.errors).toEqual([])
      // The other lab leaves name no revocation source (tls-no-revocation-info), except the self-signed one (not judged).
      expect(r.findings.filter((f) => f.ruleId === 'tls-certificate-revoked').map((f) => f.status)).toEqual(['fail'])
      expect(r.findings.filter((f) => f.ruleId === 'tls-no-revocation-info' && f.status === 'fail')).toHaveLength(6)
      expect(findingOf(r, 'tls-certificate-revoked', (f) => f.status === 'fail').evidence?.via).toBe('crl')
    } finally {
      await lab.stop()
    }
  })

    it('the tls family runs it beside tls-ciphers', () => {
    expect(tls.checks.map((c) => c.id)).toContain('tls-revocation')
  })
})

describe('CRL verification units', () => {
  it('refuses a stale CRL and finds a serial among 100,000 entries in one pass', () => {
    const leaf = labLeaf()
    const stale = issueCrl(intermediate, [], { thisUpdate: new Date(Date.now() - 30 * DAY), days: 7 })
    expect(() => verifyCrl(stale, intermediate.x509, Buffer.from(leaf.x509.serialNumber, 'hex'), Date.now())).toThrow(RevocationDataError)
    const many = Array.from({ length: 100_000 }, (_, i) => ({ serialNumber: (0x10000000 + i).toString(16).toUpperCase() }) as unknown as import('node:crypto').X509Certificate)
    const crl = issueCrl(intermediate, [...many, leaf.x509])
    const v = verifyCrl(crl, intermediate.x509, Buffer.from(leaf.x509.serialNumber, 'hex'), Date.now())
    expect(v.status).toBe('revoked')
    expect(v.entries).toBe(100_001)
    expect(verifyCrl(crl, intermediate.x509, Buffer.from('7fffffff', 'hex'), Date.now()).status).toBe('good')
    expect(() => verifyCrl(crl, root.x509, Buffer.from('01', 'hex'), Date.now())).toThrow(/another name/)
  })
})
