import { spawn, execFile, type ChildProcess } from 'node:child_process'
import { createDiffieHellmanGroup } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createServer as createNetServer, type Server } from 'node:net'
import { createServer as createTlsServer, type TlsOptions } from 'node:tls'
import { promisify } from 'node:util'
import pLimit from 'p-limit'
import { afterAll, describe, expect, it } from 'vitest'
import { tlsCiphersCheck } from '../../checks/certificate/tls-check.ts'
import { enumerateSuites, parseKeyExchange } from '../../checks/certificate/tls-ciphers.ts'
import { MOZILLA_PROFILES } from '../../checks/certificate/tls-mozilla-data.ts'
import { SUITES, suiteNamed, suiteOf } from '../../checks/certificate/tls-suites.ts'
import type { ProbeContext } from '../../checks/certificate/hello.ts'
import { parsePolicy } from '../../src/rules/policy.ts'
import { toSarif } from '../../src/report/sarif.ts'
import { toMarkdown, toTable } from '../../src/report/text.ts'
import { bindNet } from '../../src/net/index.ts'
import { tlsEndpoint } from '../../checks/certificate/targets.ts'
import type { Finding, ScanReport } from '../../src/types.ts'
import { checkTester, failedRuleIds, findingOf, passedRuleIds } from '../helpers/check-tester.ts'
import { issue, labLeaf, labPki, labTrust, listen as listenOn, privateKey, tempDir, tracked, type Issued } from '../helpers/tls.ts'

// ---------------------------------------------------------------------------------------------------------------------------------
// Servers on loopback: Node TLS servers (what OpenSSL 3.0 serves), `openssl s_server` (DH parameters Node would warn about), and a
// scripted ServerHello responder for what no local TLS stack can serve (RC4, 3DES, SSLv3, X25519MLKEM768 — Debian's OpenSSL 3.0
// builds none of them).

const closers: (() => Promise<void> | void)[] = []
afterAll(async () => {
  await Promise.all(closers.map((c) => c()))
})
const tmp = tempDir('ztscan-tls-ciphers-')
closers.push(() => tmp.cleanup())

async function listen(server: Server): Promise<number> {
  const port = await listenOn(server, '127.0.0.1')
  closers.push(tracked(server))
  return port
}

const leaf = labLeaf()
const leafKey = leaf.key.export({ type: 'pkcs8', format: 'pem' }) as string

/** A Node TLS server with the lab leaf (RSA 2048, SHA-256, 90 days) and its intermediate, and the given options. */
async function nodeServer(opts: TlsOptions, staple?: Buffer): Promise<number> {
  const server = createTlsServer({ key: leafKey, cert: leaf.pem + labPki().intermediate.pem, minVersion: 'TLSv1.2', ...opts }, (s) => s.end())
  server.on('tlsClientError', () => {})
  if (staple) server.on('OCSPRequest', (_cert: Buffer, _issuer: Buffer, cb: (err: Error | null, resp?: Buffer) => void) => cb(null, staple))
  return listen(server)
}

/** PEM DH parameters for an RFC 2409/3526 MODP group (`modp2` = 1024 bits, `modp14` = 2048). */
function dhParams(group: 'modp2' | 'modp14'): string {
  const der = (tag: number, body: Buffer): Buffer => {
    const len = body.length < 128 ? [body.length] : body.length < 256 ? [0x81, body.length] : [0x82, body.length >> 8, body.length & 255]
    return Buffer.concat([Buffer.from([tag, ...len]), body])
  }
  const int = (b: Buffer): Buffer => der(2, b[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b)
  const seq = der(0x30, Buffer.concat([int(createDiffieHellmanGroup(group).getPrime()), int(Buffer.from([2]))]))
  return `-----BEGIN DH PARAMETERS-----\n${seq.toString('base64')}\n-----END DH PARAMETERS-----\n`
}

/** A real OCSP response for `cert` from `openssl ocsp`, signed by the lab intermediate (its issuer): good or revoked. */
async function ocspResponse(cert: Issued, status: 'good' | 'revoked'): Promise<Buffer> {
  const int = labPki().intermediate
  const dir = join(tmp.dir, `ocsp-${status}-${Math.random().toString(16).slice(2)}`)
  mkdirSync(dir)
  const f = (name: string, data: string): string => {
    writeFileSync(join(dir, name), data)
    return join(dir, name)
  }
  const intPem = f('int.pem', int.pem)
  const intKey = f('int.key', int.key.export({ type: 'pkcs8', format: 'pem' }) as string)
  const leafPem = f('leaf.pem', cert.pem)
  const t = (d: Date): string => d.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z'
  const serial = cert.x509.serialNumber.toUpperCase()
  const line = status === 'good' ? `V\t${t(new Date(cert.x509.validTo))}\t\t${serial}\tunknown\t/CN=localhost` : `R\t${t(new Date(cert.x509.validTo))}\t${t(new Date(Date.now() - 3_600_000))}\t${serial}\tunknown\t/CN=localhost`
  const index = f('index.txt', `${line}\n`)
  const run = promisify(execFile)
  await run('openssl', ['ocsp', '-issuer', intPem, '-cert', leafPem, '-no_nonce', '-reqout', join(dir, 'req.der')])
  await run('openssl', ['ocsp', '-index', index, '-rsigner', intPem, '-rkey', intKey, '-CA', intPem, '-reqin', join(dir, 'req.der'), '-respout', join(dir, 'resp.der'), '-ndays', '1'])
  return readFileSync(join(dir, 'resp.der'))
}

const hasBinary = async (bin: string, args: string[]): Promise<boolean> =>
  promisify(execFile)(bin, args).then(
    () => true,
    () => false,
  )
const HAVE_OPENSSL = await hasBinary('openssl', ['version'])
const HAVE_SSLSCAN = await hasBinary('sslscan', ['--version'])

/** `openssl s_server` on 127.0.0.1 (port chosen by the OS), serving the lab leaf. */
async function sServer(args: string[]): Promise<number> {
  const cert = tmp.write(`leaf-${args.length}-${Math.random()}.pem`, leaf.pem)
  const key = tmp.write(`key-${Math.random()}.pem`, leafKey)
  const child: ChildProcess = spawn('openssl', ['s_server', '-accept', '127.0.0.1:0', '-cert', cert, '-key', key, '-naccept', '10000', ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
  closers.push(() => void child.kill())
  return new Promise<number>((resolve, reject) => {
    let out = ''
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      const m = /ACCEPT 127\.0\.0\.1:(\d+)/.exec(out)
      if (m) resolve(Number(m[1]))
    })
    child.stderr!.on('data', () => {})
    child.once('exit', (code) => reject(new Error(`openssl s_server exited (${code}): ${out}`)))
  })
}

// The scripted responder: reads one ClientHello and answers with a ServerHello (or HelloRetryRequest) picking, by its own
// preference, the first suite and group it shares with the hello — what a real server does for the first flight.
const HRR_RANDOM = Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex')
const u16 = (n: number): number[] => [n >> 8, n & 0xff]
const record = (type: number, body: Buffer): Buffer => Buffer.from([type, 3, 3, ...u16(body.length), ...body])
const handshake = (type: number, body: Buffer): Buffer => Buffer.from([type, 0, ...u16(body.length), ...body])
const alert = (d: number): Buffer => record(0x15, Buffer.from([2, d]))
function serverHello(version: number, cipher: number, random: Buffer, exts: number[] = []): Buffer {
  return handshake(2, Buffer.from([...u16(version), ...random, 0, ...u16(cipher), 0, ...(exts.length ? [...u16(exts.length), ...exts] : [])]))
}

interface Hello {
  version: number
  suites: number[]
  groups: number[]
  versions: number[]
}
function parseHello(b: Buffer): Hello {
  let off = 9
  const version = b.readUInt16BE(off)
  off += 34
  off += 1 + b[off]!
  const n = b.readUInt16BE(off)
  const suites = Array.from({ length: n / 2 }, (_, i) => b.readUInt16BE(off + 2 + 2 * i))
  off += 2 + n
  off += 1 + b[off]!
  let groups: number[] = []
  let versions: number[] = []
  if (off < b.length) {
    const end = off + 2 + b.readUInt16BE(off)
    off += 2
    while (off < end) {
      const type = b.readUInt16BE(off)
      const len = b.readUInt16BE(off + 2)
      const data = b.subarray(off + 4, off + 4 + len)
      if (type === 0x000a) groups = Array.from({ length: data.readUInt16BE(0) / 2 }, (_, i) => data.readUInt16BE(2 + 2 * i))
      if (type === 0x002b) versions = Array.from({ length: data[0]! / 2 }, (_, i) => data.readUInt16BE(1 + 2 * i))
      off += 4 + len
    }
  }
  return { version, suites, groups, versions }
}

interface Script {
  /** Suites by legacy version (0x0300 … 0x0303), in the server's preference. */
  legacy: Record<number, number[]>
  tls13?: { suites: number[]; groups: number[] }
  /** Sends this many ServerHellos, then never answers a hello it would accept (a tarpit); refusals still come. */
  answerFirst?: number
  /** Curves for ECDHE suites below TLS 1.3, in the server's preference: a ServerKeyExchange names the first the hello offers. */
  curves12?: number[]
}
async function scripted(script: Script): Promise<number> {
  let answered = 0
  const server = createNetServer((s) => {
    let buf = Buffer.alloc(0)
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d])
      if (buf.length < 5 || buf.length < 5 + buf.readUInt16BE(3)) return
      const h = parseHello(buf)
      const random = Buffer.alloc(32, 7)
      if (h.versions.includes(0x0304)) {
        const t = script.tls13
        const suite = t?.suites.find((c) => h.suites.includes(c))
        const group = t?.groups.find((g) => h.groups.includes(g))
        if (suite === undefined || group === undefined) return void s.end(alert(t ? 40 : 70))
        return void s.end(record(0x16, serverHello(0x0303, suite, HRR_RANDOM, [0x00, 0x2b, 0, 2, 3, 4, 0x00, 0x33, 0, 2, ...u16(group)])))
      }
      const suite = script.legacy[h.version]?.find((c) => h.suites.includes(c))
      if (suite === undefined) return void s.end(alert(script.legacy[h.version] ? 40 : 70))
      if (script.answerFirst !== undefined && answered++ >= script.answerFirst) return
      let ske: Buffer = Buffer.alloc(0)
      if (script.curves12 && suiteOf(suite).ecdh) {
        const curve = script.curves12.find((c) => h.groups.includes(c))
        if (curve === undefined) return void s.end(alert(40))
        ske = handshake(12, Buffer.from([3, ...u16(curve), 1, 4]))
      }
      s.end(record(0x16, Buffer.concat([serverHello(h.version, suite, random), ske, handshake(14, Buffer.alloc(0))])))
    })
  })
  return listen(server)
}

// ---------------------------------------------------------------------------------------------------------------------------------

// The suite enumeration alone: the revocation check beside it has its own tests (tls-revocation.test.ts).
const tester = checkTester([tlsCiphersCheck], { perHost: 16, connectTimeoutMs: 3000, timeoutMs: 30_000 })
const probeCtx = (): ProbeContext => {
  const signal = new AbortController().signal
  return { net: bindNet(signal, 3000), sockets: pLimit(16), signal, connectTimeoutMs: 3000 }
}
const target = (port: number) => tlsEndpoint('127.0.0.1', port)
const policy = (rules: Record<string, unknown>) => parsePolicy({ rules })
const ofRule = (r: ScanReport, rule: string): Finding[] => r.findings.filter((f) => f.ruleId === rule)
const names = (...xs: string[]): string[] => xs
const trusted = labTrust(tmp.write)

const INTERMEDIATE_OPENSSL = 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305'

describe('tls ciphers: the suite table', () => {
  it('classifies suites from their IANA names', () => {
    expect(SUITES.length).toBe(353)
    expect(suiteNamed('TLS_RSA_WITH_3DES_EDE_CBC_SHA')).toMatchObject({ code: 0x000a, weak: ['3DES'], forwardSecret: false, cbc: true, aead: false, tls12Only: false })
    expect(suiteNamed('TLS_RSA_EXPORT_WITH_RC4_40_MD5')!.weak).toEqual(['EXPORT', 'RC4'])
    expect(suiteNamed('TLS_DH_anon_WITH_AES_128_GCM_SHA256')).toMatchObject({ weak: ['anonymous'], ffdh: true, aead: true, tls12Only: true })
    expect(suiteNamed('TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256')).toMatchObject({ weak: [], forwardSecret: true, aead: true, ecdh: true })
    expect(suiteNamed('TLS_RSA_WITH_NULL_SHA256')!.weak).toEqual(['NULL'])
    expect(suiteNamed('TLS_RSA_WITH_DES_CBC_SHA')!.weak).toEqual(['DES'])
    expect(suiteOf(0x1301)).toMatchObject({ name: 'TLS_AES_128_GCM_SHA256', tls13: true, forwardSecret: true })
    expect(suiteOf(0xabcd).name).toBe('0xabcd')
    // Every suite Mozilla names is in the table (IANA names on both sides).
    for (const p of Object.values(MOZILLA_PROFILES)) for (const n of [...p.ciphers, ...p.ciphersuites]) expect(suiteNamed(n), n).toBeDefined()
  })

  it('reads the DH prime size and the ECDHE curve from ServerKeyExchange bodies, and refuses truncated ones', () => {
    const p = createDiffieHellmanGroup('modp2').getPrime()
    const dhe = suiteNamed('TLS_DHE_RSA_WITH_AES_128_GCM_SHA256')!
    expect(parseKeyExchange(dhe, Buffer.from([...u16(p.length), ...p, 0, 1, 2]))).toEqual({ dhBits: 1024 })
    expect(parseKeyExchange(dhe, Buffer.from([...u16(p.length + 1), 0, ...p]))).toEqual({ dhBits: 1024 })
    expect(parseKeyExchange(dhe, Buffer.from([...u16(200), 1, 2]))).toBeUndefined()
    expect(parseKeyExchange(suiteNamed('TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256')!, Buffer.from([3, 0, 0x1d, 32]))).toEqual({ curve: 0x1d })
    expect(parseKeyExchange(suiteNamed('TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256')!, Buffer.from([1]))).toBeUndefined()
  })
})

describe('tls ciphers: enumeration against Node TLS servers', () => {
  it('finds the suites in the server order with n+1 hellos per version, the groups from HelloRetryRequests, and the rules', async () => {
    const port = await nodeServer({ ciphers: 'ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:AES128-SHA', honorCipherOrder: true, ecdhCurve: 'X25519:P-256' })
    const e = await enumerateSuites({ host: '127.0.0.1', port }, probeCtx())
    const by = Object.fromEntries(e.versions.map((v) => [v.version, { suites: v.suites.map((s) => s.name), order: v.order }]))
    expect(by).toEqual({
      SSLv3: { suites: [], order: undefined },
      TLSv1: { suites: [], order: undefined },
      'TLSv1.1': { suites: [], order: undefined },
      'TLSv1.2': { suites: names('TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'TLS_RSA_WITH_AES_128_CBC_SHA'), order: 'server' },
      'TLSv1.3': { suites: names('TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256', 'TLS_AES_128_GCM_SHA256'), order: 'server' },
    })
    expect(e.groups.map((g) => g.name)).toEqual(['x25519', 'secp256r1'])
    expect(e.groupsVia).toBe('TLSv1.3')
    expect(e.legacyGroups!.map((g) => g.name)).toEqual(['x25519', 'secp256r1'])
    expect(e.legacyGroupsVia).toBe('TLSv1.2')
    expect(e.inconclusive).toEqual([])
    // SSLv3, TLS 1.0, 1.1: one refused hello each. TLS 1.2 and 1.3: 3 picks + 1 refusal + 1 order probe. TLS 1.3 groups: 2 picks
    // + 1 refusal. TLS 1.2 curves: x25519 already seen in a ServerKeyExchange, then 1 pick + 1 refusal.
    expect(e.hellos).toBe(3 + 5 + 5 + 3 + 2)

    const r = await tester.run(target(port), { settings: trusted })
    expect(r.errors).toEqual([])
    expect(failedRuleIds(r)).toEqual(['tls-mozilla-profile', 'tls-no-forward-secrecy', 'tls-no-ocsp-stapling'])
    expect(passedRuleIds(r)).toEqual(['tls-cbc-only', 'tls-grade', 'tls-must-staple-without-staple', 'tls-server-order-not-enforced', 'tls-weak-cipher'])
    // ECDHE AEAD first (server order), TLS 1.3: an A; the RSA suite keeps it from A+. Without the lab root trusted: T.
    expect(findingOf(r, 'tls-grade').evidence).toMatchObject({ grade: 'A', gradeScore: 93, gradeCaps: [], detail: 'grade A (score 93.0)' })
    // The grade beside the score: terminal table, Markdown, SARIF run properties (escaped like every target string).
    expect(toTable(r)).toContain(`Grades:\n  tls://127.0.0.1:${port}: A (tls-grade)`)
    expect(toMarkdown(r)).toContain(`### Grades\n\n- tls://127.0.0.1:${port}: A (tls-grade)`)
    expect((toSarif(r).runs as { properties: Record<string, unknown> }[])[0]!.properties.grades).toEqual([{ target: `tls://127.0.0.1:${port}`, rule: 'tls-grade', grade: 'A', caps: [] }])
    const untrusted = findingOf(await tester.run(target(port)), 'tls-grade')
    expect(untrusted).toMatchObject({ status: 'fail', message: `tls://127.0.0.1:${port}: grade T (score 93.0; not trusted: incomplete chain (an issuer is neither served nor a trust anchor); ignoring trust: A) (minimum A-)` })
    expect(findingOf(r, 'tls-no-forward-secrecy').message).toBe(`tls://127.0.0.1:${port}: suites without forward secrecy accepted: TLS_RSA_WITH_AES_128_CBC_SHA (TLSv1.2)`)
    const moz = findingOf(r, 'tls-mozilla-profile')
    expect(moz.evidence).toMatchObject({ profile: 'intermediate', guideline: 'https://ssl-config.mozilla.org/guidelines/6.0.json', deviations: ['cipher suites outside intermediate (v6.0): TLS_RSA_WITH_AES_128_CBC_SHA'] })
    expect(moz.evidence).toMatchObject({ suites: { 'TLSv1.2': by['TLSv1.2']!.suites }, order: { 'TLSv1.2': 'server', 'TLSv1.3': 'server' }, groups: ['x25519', 'secp256r1'] })
  })

  it.skipIf(!HAVE_SSLSCAN)('lists the same suites and groups as sslscan on the same server', async () => {
    const port = await nodeServer({ ciphers: 'DEFAULT@SECLEVEL=0', minVersion: 'TLSv1', honorCipherOrder: false })
    const [e, out] = await Promise.all([
      enumerateSuites({ host: '127.0.0.1', port }, probeCtx()),
      promisify(execFile)('sslscan', ['--no-colour', '--no-check-certificate', '--no-heartbleed', '--no-fallback', '--no-renegotiation', '--show-cipher-ids', `127.0.0.1:${port}`]),
    ])
    const theirs = [...out.stdout.matchAll(/^(?:Preferred|Accepted)\s+(TLSv1\.[0-3]|SSLv3)\s+\d+ bits\s+0x([0-9A-F]{4}) /gm)].map(([, v, id]) => `${v!.replace('TLSv1.0', 'TLSv1')} ${suiteOf(Number.parseInt(id!, 16)).name}`).sort()
    const ours = e.versions.flatMap((v) => v.suites.map((s) => `${v.version} ${s.name}`)).sort()
    expect(ours.length).toBeGreaterThan(20)
    expect(ours).toEqual(theirs)
    const theirGroups = new Set([...out.stdout.matchAll(/^TLSv1\.3\s+\d+ bits\s+(\S+)/gm)].map(([, g]) => g))
    expect(new Set(e.groups.map((g) => g.name))).toEqual(theirGroups)
  })

  it.skipIf(!HAVE_OPENSSL)('TLS 1.2 curves behind an ECDSA certificate: the certificate curve is offered again once removed, so every curve is found (openssl s_server, client group order)', async () => {
    const key = privateKey('ec:prime256v1', 5)
    const ec = issue({ cn: 'localhost', key, issuer: labPki().intermediate, sans: ['127.0.0.1'], notBefore: new Date(Date.now() - 86_400_000), notAfter: new Date(Date.now() + 80 * 86_400_000) })
    const files = ['-cert', tmp.write('ec.pem', ec.pem), '-key', tmp.write('ec.key', key.export({ type: 'pkcs8', format: 'pem' }) as string)]
    const port = await sServer([...files, '-no_tls1_3', '-cipher', 'ECDHE-ECDSA-AES128-GCM-SHA256', '-groups', 'X25519:P-256:P-384:P-521'])
    const e = await enumerateSuites({ host: '127.0.0.1', port }, probeCtx())
    expect(e.groupsVia).toBe('TLSv1.2')
    expect(e.groups.map((g) => g.name).sort()).toEqual(['secp256r1', 'secp384r1', 'secp521r1', 'x25519'])
    expect(e.inconclusive).toEqual([])
  })

  it('a client-ordered server fails tls-server-order-not-enforced only where its suites differ in strength, unless the policy says otherwise', async () => {
    const port = await nodeServer({ ciphers: 'ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-SHA', honorCipherOrder: false })
    const r = await tester.run(target(port))
    expect(ofRule(r, 'tls-server-order-not-enforced').map((f) => [f.resource, f.status])).toEqual([
      ['protocol TLSv1.2', 'fail'],
      ['protocol TLSv1.3', 'pass'],
    ])
    expect(findingOf(r, 'tls-server-order-not-enforced', (f) => f.status === 'fail').evidence).toMatchObject({ detail: "TLSv1.2: the server picks the client's first acceptable suite, and its suites differ in strength" })
    const strict = await tester.run(target(port), { policy: policy({ 'tls-server-order-not-enforced': { parameters: { onlyWhenMixedStrength: false } } }) })
    expect(ofRule(strict, 'tls-server-order-not-enforced').map((f) => f.status)).toEqual(['fail', 'fail'])
  })

  it('NULL and anonymous suites fail tls-weak-cipher, each named with its versions', async () => {
    const port = await nodeServer({ ciphers: 'AES128-GCM-SHA256:NULL-SHA256:AECDH-AES128-SHA:@SECLEVEL=0', maxVersion: 'TLSv1.2', minVersion: 'TLSv1.1' })
    const r = await tester.run(target(port))
    expect(r.errors).toEqual([])
    const f = findingOf(r, 'tls-weak-cipher')
    expect(f.status).toBe('fail')
    expect(f.evidence!.weak).toEqual(['TLS_ECDH_anon_WITH_AES_128_CBC_SHA (TLSv1.1, TLSv1.2)', 'TLS_RSA_WITH_NULL_SHA256 (TLSv1.2)'])
    expect(f.message).toMatch(/: anonymous\/NULL suites accepted: /)
    expect(failedRuleIds(r)).toEqual(['tls-grade', 'tls-mozilla-profile', 'tls-no-forward-secrecy', 'tls-no-ocsp-stapling', 'tls-weak-cipher'])
    expect(findingOf(r, 'tls-grade').evidence!.grade).toBe('T')
    expect(toTable(r)).toContain(`tls://127.0.0.1:${port}: T (tls-grade: capped to F: NULL (unencrypted) suites accepted (TLS_RSA_WITH_NULL_SHA256); capped to F: anonymous`)
    expect(findingOf(r, 'tls-grade').evidence!.gradeCaps).toEqual([
      'capped to F: NULL (unencrypted) suites accepted (TLS_RSA_WITH_NULL_SHA256)',
      'capped to F: anonymous (unauthenticated) suites accepted (TLS_ECDH_anon_WITH_AES_128_CBC_SHA)',
      'capped to B: TLSv1.1 offered',
      'capped to B: no forward secrecy (no ECDHE or DHE suite)',
    ])
  })

  it('a TLS 1.2 server with CBC suites only fails tls-cbc-only', async () => {
    const port = await nodeServer({ ciphers: 'ECDHE-RSA-AES128-SHA256:ECDHE-RSA-AES256-SHA', maxVersion: 'TLSv1.2' })
    const r = await tester.run(target(port))
    expect(findingOf(r, 'tls-cbc-only')).toMatchObject({ status: 'fail', resource: 'protocol TLSv1.2' })
    expect(findingOf(r, 'tls-no-forward-secrecy').status).toBe('pass')
  })

  it.skipIf(!HAVE_OPENSSL)("Mozilla's intermediate configuration with an OCSP staple (openssl ocsp) passes every rule; judged against modern it names each deviation", async () => {
    const port = await nodeServer({ ciphers: INTERMEDIATE_OPENSSL, ecdhCurve: 'X25519:P-256:P-384', honorCipherOrder: false }, await ocspResponse(leaf, 'good'))
    const r = await tester.run(target(port), { settings: trusted })
    expect(r.errors).toEqual([])
    expect(failedRuleIds(r)).toEqual([])
    expect(findingOf(r, 'tls-grade').evidence).toMatchObject({ grade: 'A+', gradeCategories: { protocol: 100, keyExchange: 90, cipher: 90 } })
    expect(passedRuleIds(r)).toEqual(['tls-cbc-only', 'tls-grade', 'tls-mozilla-profile', 'tls-must-staple-without-staple', 'tls-no-forward-secrecy', 'tls-no-ocsp-stapling', 'tls-server-order-not-enforced', 'tls-weak-cipher'])
    expect(findingOf(r, 'tls-no-ocsp-stapling').evidence).toMatchObject({ stapled: true, ocspResponseStatus: 0, ocspCertStatus: 'good', detail: 'the server sends an OCSP staple (good, signature not verified) when asked (status_request)' })
    expect(findingOf(r, 'tls-mozilla-profile').evidence).toMatchObject({ detail: 'complies with Mozilla intermediate (guideline 6.0)', notJudged: ['HSTS'], notOffered: [] })
    const modern = await tester.run(target(port), { policy: policy({ 'tls-mozilla-profile': { parameters: { profile: 'modern' } } }) })
    expect(findingOf(modern, 'tls-mozilla-profile').evidence!.deviations).toEqual([
      'TLSv1.2 offered; modern (v6.0) allows TLSv1.3',
      'cipher suites outside modern (v6.0): TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256',
      'certificate key type rsa; modern (v6.0) allows ecdsa',
    ])
  })

  it.skipIf(!HAVE_OPENSSL)('reads the DH prime from the ServerKeyExchange: 1024 bits fails tls-weak-dh, 2048 passes (openssl s_server)', async () => {
    const weak = await sServer(['-dhparam', tmp.write('dh1024.pem', dhParams('modp2')), '-cipher', 'DHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0', '-no_tls1_3'])
    const strong = await sServer(['-dhparam', tmp.write('dh2048.pem', dhParams('modp14')), '-cipher', 'DHE-RSA-AES128-GCM-SHA256', '-no_tls1_3'])
    const [rw, rs] = await Promise.all([tester.run(target(weak)), tester.run(target(strong))])
    expect(rw.errors).toEqual([])
    expect(findingOf(rw, 'tls-weak-dh')).toMatchObject({ status: 'fail', message: `tls://127.0.0.1:${weak}: DH parameters of 1024 bits (minimum 2048)` })
    expect(findingOf(rw, 'tls-mozilla-profile').evidence!.deviations).toContain('DH parameters of 1024 bits; intermediate (v6.0) asks for 2048')
    expect(findingOf(rs, 'tls-weak-dh')).toMatchObject({ status: 'pass', evidence: expect.objectContaining({ dhBits: 2048, dh: ['TLS_DHE_RSA_WITH_AES_128_GCM_SHA256 (TLSv1.2): 2048 bits'] }) })
  })
})

describe('tls ciphers: OCSP stapling', () => {
  it.skipIf(!HAVE_OPENSSL)('a staple saying revoked is read (tls-revocation verifies it and fails tls-certificate-revoked); a must-staple leaf without a staple fails tls-must-staple-without-staple', async () => {
    const revoked = await nodeServer({}, await ocspResponse(leaf, 'revoked'))
    const r = await tester.run(target(revoked))
    expect(findingOf(r, 'tls-no-ocsp-stapling')).toMatchObject({ status: 'pass', evidence: expect.objectContaining({ ocspCertStatus: 'revoked' }) })
    const must = issue({ cn: 'localhost', key: leaf.key, issuer: labPki().intermediate, sans: ['127.0.0.1', 'localhost'], notBefore: new Date(Date.now() - 86_400_000), notAfter: new Date(Date.now() + 80 * 86_400_000), profile: { extra: [{ oid: '1.3.6.1.5.5.7.1.24', critical: false, value: Buffer.from([0x30, 0x03, 0x02, 0x01, 0x05]) }] } })
    const bare = await nodeServer({ cert: must.pem + labPki().intermediate.pem })
    const m = await tester.run(target(bare))
    expect(findingOf(m, 'tls-must-staple-without-staple')).toMatchObject({ status: 'fail', message: `tls://127.0.0.1:${bare}: the leaf requires stapling (TLS Feature status_request) and the server sends no OCSP staple` })
  })
})

describe('tls ciphers: scripted ServerHellos (suites and groups no local TLS stack serves)', () => {
  it('SSLv3 RC4, TLS 1.0 3DES and X25519MLKEM768 are found from the ServerHello and HelloRetryRequest alone', async () => {
    const port = await scripted({ legacy: { 0x0300: [0x0005], 0x0301: [0x000a, 0x0005, 0x002f] }, tls13: { suites: [0x1301], groups: [0x11ec, 0x001d] } })
    const e = await enumerateSuites({ host: '127.0.0.1', port }, probeCtx())
    expect(e.versions.filter((v) => v.accepted).map((v) => [v.version, v.suites.map((s) => s.name), v.order])).toEqual([
      ['SSLv3', ['TLS_RSA_WITH_RC4_128_SHA'], undefined],
      ['TLSv1', ['TLS_RSA_WITH_3DES_EDE_CBC_SHA', 'TLS_RSA_WITH_RC4_128_SHA', 'TLS_RSA_WITH_AES_128_CBC_SHA'], 'server'],
      ['TLSv1.3', ['TLS_AES_128_GCM_SHA256'], undefined],
    ])
    expect(e.groups.map((g) => g.name)).toEqual(['X25519MLKEM768', 'x25519'])
    const r = await tester.run(target(port))
    expect(findingOf(r, 'tls-weak-cipher').evidence!.weak).toEqual(['TLS_RSA_WITH_RC4_128_SHA (SSLv3, TLSv1)', 'TLS_RSA_WITH_3DES_EDE_CBC_SHA (TLSv1)'])
    // The groups are all within Mozilla's list; the versions and suites are not; no handshake completes, so the certificate is not judged.
    expect(findingOf(r, 'tls-mozilla-profile').evidence).toMatchObject({
      deviations: ['SSLv3, TLSv1 offered; intermediate (v6.0) allows TLSv1.2, TLSv1.3', 'cipher suites outside intermediate (v6.0): TLS_RSA_WITH_RC4_128_SHA, TLS_RSA_WITH_3DES_EDE_CBC_SHA, TLS_RSA_WITH_AES_128_CBC_SHA'],
      notOffered: ['protocol TLSv1.2'],
      notJudged: ['OCSP stapling', 'HSTS', 'the certificate (no TLS 1.0–1.3 handshake completed)'],
    })
  })

  it('TLS 1.2 curves are enumerated beside the TLS 1.3 key-share groups and reported apart', async () => {
    const port = await scripted({ legacy: { 0x0303: [0xc02f] }, tls13: { suites: [0x1301], groups: [0x11ec, 0x001d] }, curves12: [0x0018, 0x0017] })
    const e = await enumerateSuites({ host: '127.0.0.1', port }, probeCtx())
    expect(e.groups.map((g) => g.name)).toEqual(['X25519MLKEM768', 'x25519'])
    expect(e.legacyGroups!.map((g) => g.name)).toEqual(['secp384r1', 'secp256r1'])
    expect(e.legacyGroupsVia).toBe('TLSv1.2')
    const r = await tester.run(target(port))
    expect(findingOf(r, 'tls-weak-cipher').evidence).toMatchObject({ groups: ['X25519MLKEM768', 'x25519'], groupsSeenIn: 'TLSv1.3', groupsTls12: ['secp384r1', 'secp256r1'] })
  })

  it('fails closed: a server that stops answering mid-enumeration ends the attempt, with what was proven reported and no pass', async () => {
    const port = await scripted({ legacy: { 0x0301: [0x000a, 0x002f] }, answerFirst: 1 })
    const r = await tester.run(target(port), { connectTimeoutMs: 400 })
    expect(r.errors).toHaveLength(1)
    expect(r.errors[0]).toMatchObject({ reason: 'timeout', message: expect.stringMatching(/enumeration: .*timed out.*\(what was proven was reported\)/) })
    expect(r.findings.map((f) => [f.ruleId, f.status])).toEqual(expect.arrayContaining([['tls-weak-cipher', 'fail']]))
    expect(r.findings.filter((f) => f.status === 'pass')).toEqual([])
  })

  it('a service that is not TLS is an error, not a pass', async () => {
    const server = createNetServer((s) => s.once('data', () => s.end('HTTP/1.1 400 Bad Request\r\n\r\n')))
    const port = await listen(server)
    const r = await tester.run(target(port))
    expect(r.findings).toEqual([])
    expect(r.errors[0]).toMatchObject({ reason: 'protocol', message: expect.stringMatching(/not a TLS record/) })
  })
})
