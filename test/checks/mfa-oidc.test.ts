import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { createServer, type Server } from 'node:net'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import oidc, { rsaModulusBits } from '../../checks/mfa/oidc.ts'
import { amrIsMultiFactor, parseTokensFile } from '../../checks/mfa/tokens.ts'
import { parseTarget } from '../../src/targets/parse.ts'
import type { ScanReport } from '../../src/types.ts'
import { checkTester, findingOf } from '../helpers/check-tester.ts'
import { discoveryDoc, makeKey, rsaJwk, signToken, startIssuer, unsignedToken, type TestKey } from '../helpers/oidc.ts'

const tester = checkTester(oidc)
const verdicts = (r: ScanReport): string[] => r.findings.map((f) => `${f.status} ${f.ruleId} ${f.resource}`).sort()

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ztscan-oidc-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function tokensFile(name: string, body: unknown): Promise<string> {
  const p = join(dir, name)
  await writeFile(p, typeof body === 'string' ? body : JSON.stringify(body))
  return p
}

const oidcTarget = (issuer: string, tokens?: string) => parseTarget(`oidc:${issuer}${tokens ? `#tokens=${encodeURIComponent(tokens)}` : ''}`)

describe('mfa-oidc: sample tokens verified with jose against the JWKS', () => {
  let rs: TestKey, es: TestKey, hs: TestKey, stranger: TestKey
  let issuer: string
  let stop: () => Promise<void>
  beforeAll(async () => {
    ;[rs, es, hs, stranger] = await Promise.all([makeKey('RS256', 'rs-1'), makeKey('ES256', 'es-1'), makeKey('HS256', 'hs-1'), makeKey('RS256', 'rs-1')])
    const server = await startIssuer({ discovery: (iss) => discoveryDoc(iss, { id_token_signing_alg_values_supported: ['RS256', 'ES256'] }), jwks: { keys: [rs.jwk, es.jwk] } })
    issuer = server.issuer
    stop = server.stop
  })
  afterAll(() => stop())

  const now = Math.floor(Date.now() / 1000)
  type Case = { label: string; make: () => Promise<string> | string; expect: string[]; reason?: string }
  const cases: Case[] = [
    { label: 'rs-pwd-otp', make: () => signToken(rs, issuer, { sub: 'alice', amr: ['pwd', 'otp'] }), expect: ['pass mfa-token-single-factor', 'pass mfa-token-unsigned', 'pass mfa-token-unverifiable'] },
    { label: 'es-hwk-pin', make: () => signToken(es, issuer, { sub: 'bob', amr: ['hwk', 'pin'] }), expect: ['pass mfa-token-single-factor', 'pass mfa-token-unsigned', 'pass mfa-token-unverifiable'] },
    { label: 'rs-mfa', make: () => signToken(rs, issuer, { sub: 'carol', amr: ['mfa'] }), expect: ['pass mfa-token-single-factor', 'pass mfa-token-unsigned', 'pass mfa-token-unverifiable'] },
    { label: 'rs-acr-phr', make: () => signToken(rs, issuer, { sub: 'dan', acr: 'phr' }), expect: ['pass mfa-token-single-factor', 'pass mfa-token-unsigned', 'pass mfa-token-unverifiable'] },
    { label: 'rs-no-kid', make: () => signToken(rs, issuer, { sub: 'erin', amr: ['face', 'swk'] }, { kid: null }), expect: ['pass mfa-token-single-factor', 'pass mfa-token-unsigned', 'pass mfa-token-unverifiable'] },
    { label: 'rs-pwd', make: () => signToken(rs, issuer, { sub: 'frank', amr: ['pwd'] }), expect: ['fail mfa-token-single-factor', 'pass mfa-token-unsigned', 'pass mfa-token-unverifiable'] },
    { label: 'rs-pwd-kba', make: () => signToken(rs, issuer, { sub: 'gina', amr: ['pwd', 'kba'] }), expect: ['fail mfa-token-single-factor', 'pass mfa-token-unsigned', 'pass mfa-token-unverifiable'] },
    { label: 'rs-no-amr', make: () => signToken(rs, issuer, { sub: 'hank' }), expect: ['fail mfa-token-single-factor', 'pass mfa-token-unsigned', 'pass mfa-token-unverifiable'] },
    { label: 'none', make: () => unsignedToken({ iss: issuer, sub: 'root', aud: 'api://ztscan-test', amr: ['mfa'], exp: now + 3600 }), expect: ['fail mfa-token-unsigned'] },
    { label: 'hs256', make: () => signToken(hs, issuer, { sub: 'ivy', amr: ['mfa'] }), expect: ['fail mfa-token-unverifiable', 'pass mfa-token-unsigned'], reason: 'signature algorithm not allowed' },
    { label: 'expired', make: () => signToken(rs, issuer, { sub: 'jay', amr: ['mfa'] }, { exp: now - 3600, iat: now - 7200 }), expect: ['fail mfa-token-unverifiable', 'pass mfa-token-unsigned'], reason: 'expired' },
    { label: 'wrong-iss', make: () => signToken(rs, issuer, { sub: 'kim', amr: ['mfa'], iss: 'https://evil.example' }), expect: ['fail mfa-token-unverifiable', 'pass mfa-token-unsigned'], reason: 'wrong issuer' },
    { label: 'wrong-aud', make: () => signToken(rs, issuer, { sub: 'lee', amr: ['mfa'] }, { aud: 'api://other' }), expect: ['fail mfa-token-unverifiable', 'pass mfa-token-unsigned'], reason: 'wrong audience' },
    { label: 'forged-same-kid', make: () => signToken(stranger, issuer, { sub: 'mo', amr: ['mfa'] }), expect: ['fail mfa-token-unverifiable', 'pass mfa-token-unsigned'], reason: 'signature does not verify' },
    { label: 'unknown-kid', make: () => signToken(stranger, issuer, { sub: 'ned', amr: ['mfa'] }, { kid: 'rotated-away' }), expect: ['fail mfa-token-unverifiable', 'pass mfa-token-unsigned'], reason: 'no key in the JWKS matches the token header' },
    { label: 'garbage', make: () => 'not.a.jwt', expect: ['fail mfa-token-unverifiable'], reason: 'malformed token (not a compact JWS)' },
  ]

  it.each(cases)('$label', async ({ label, make, expect: want, reason }) => {
    const token = await make()
    const file = await tokensFile(`${label}.json`, { audience: 'api://ztscan-test', tokens: [{ label, token }] })
    const report = await tester.run(oidcTarget(issuer, file))
    expect(report.errors).toEqual([])
    const tokenVerdicts = verdicts(report).filter((v) => v.endsWith(`token:${label}`)).map((v) => v.replace(` token:${label}`, ''))
    expect(tokenVerdicts).toEqual(want)
    if (reason) expect(findingOf(report, 'mfa-token-unverifiable').evidence.reason).toBe(reason)
    // The token itself never reaches the report.
    const part = token.split('.')[2] || token.split('.')[1]!
    if (part.length > 20) expect(JSON.stringify(report)).not.toContain(part)
  })

  it('single-factor evidence: sub, amr, acr, alg, kid, exp — and a fixed clock decides expiry', async () => {
    const exp = now + 600
    const token = await signToken(rs, issuer, { sub: 'frank', amr: ['pwd'], acr: '1' }, { exp })
    const file = await tokensFile('evidence.txt', `# one token a line\n\n${token}\n`)
    const report = await tester.run(oidcTarget(issuer, file), { policy: { rules: { 'mfa-token-unverifiable': { parameters: { audience: ['api://ztscan-test'] } } } } as never })
    const f = findingOf(report, 'mfa-token-single-factor')
    expect(f.resource).toMatch(/^token:sha256:[0-9a-f]{16}$/)
    expect(f.evidence).toEqual({ issuer, sub: 'frank', amr: ['pwd'], acr: '1', alg: 'RS256', kid: 'rs-1', exp: new Date(exp * 1000).toISOString() })
    expect(f.message).toBe(`Token ${f.resource} from ${issuer} shows single-factor authentication (amr: pwd; acr: 1)`)
    // The same token an hour after it expired is unverifiable.
    const later = await tester.run(oidcTarget(issuer, file), { now: () => new Date((exp + 3600) * 1000) })
    expect(findingOf(later, 'mfa-token-unverifiable').evidence.reason).toBe('expired')
    expect(later.findings.some((x) => x.ruleId === 'mfa-token-single-factor')).toBe(false)
  })

  it('the discovery document and JWKS keys pass when strong', async () => {
    const report = await tester.run(oidcTarget(issuer))
    expect(verdicts(report)).toEqual(['pass mfa-oidc-weak-jwks-key jwk:es-1', 'pass mfa-oidc-weak-jwks-key jwk:rs-1', 'pass mfa-oidc-weak-signing discovery'])
    expect(findingOf(report, 'mfa-oidc-weak-jwks-key', (f) => f.resource === 'jwk:rs-1').evidence).toMatchObject({ kty: 'RSA', bits: 2048, problem: 'none' })
    expect(findingOf(report, 'mfa-oidc-weak-jwks-key', (f) => f.resource === 'jwk:es-1').evidence).toMatchObject({ kty: 'EC', crv: 'P-256' })
  })
})

describe('mfa-oidc: weak issuers', () => {
  it('advertises none and HS256; JWKS holds a 1024-bit RSA key, a symmetric key and a private key', async () => {
    const small = rsaJwk(1024, 'legacy')
    const good = rsaJwk(2048, 'current')
    const priv = { ...(await makeKey('ES256')).jwk, kid: 'leaky', d: 'c2VjcmV0LXNjYWxhci12YWx1ZS1ub3QtcmVhbGx5LTMyYg' }
    const server = await startIssuer({
      discovery: (iss) => discoveryDoc(iss, { id_token_signing_alg_values_supported: ['RS256', 'HS256', 'none'] }),
      jwks: { keys: [small, good, { kty: 'oct', k: 'c2hhcmVkLXNlY3JldA', kid: 'shared' }, priv, { kty: 'RSA', n: good.n, e: good.e }] },
    })
    onTestFinished(() => server.stop())
    const report = await tester.run(oidcTarget(server.issuer))
    expect(report.errors).toEqual([])
    const signing = findingOf(report, 'mfa-oidc-weak-signing')
    expect(signing).toMatchObject({ status: 'fail', message: `${server.issuer} advertises weak ID token signing algorithms: HS256, none` })
    const keys = Object.fromEntries(report.findings.filter((f) => f.ruleId === 'mfa-oidc-weak-jwks-key').map((f) => [f.resource.replace(/sha256:.*/, 'sha256:…'), `${f.status}: ${String(f.evidence.problem)}`]))
    expect(keys).toEqual({
      'jwk:legacy': 'fail: RSA key of 1024 bits (minimum 2048)',
      'jwk:current': 'pass: none',
      'jwk:shared': 'fail: symmetric key (kty "oct") published: anyone can sign with it',
      'jwk:leaky': 'fail: private key material published (d)',
      'jwk:sha256:…': 'pass: none', // no kid: named by its RFC 7638 thumbprint
    })
    // Secret members never reach the report.
    expect(JSON.stringify(report)).not.toMatch(/c2hhcmVkLXNlY3JldA|c2VjcmV0LXNjYWxhci/)
  })

  it('minRsaBits is a parameter', async () => {
    const server = await startIssuer({ jwks: { keys: [rsaJwk(2048, 'k2048')] } })
    onTestFinished(() => server.stop())
    const report = await tester.run(oidcTarget(server.issuer), { policy: { rules: { 'mfa-oidc-weak-jwks-key': { parameters: { minRsaBits: 3072 } } } } as never })
    expect(findingOf(report, 'mfa-oidc-weak-jwks-key').evidence.problem).toBe('RSA key of 2048 bits (minimum 3072)')
  })

  it('works over IPv6 loopback', async () => {
    const server = await startIssuer({ host: '::1', jwks: { keys: [rsaJwk(2048, 'v6')] } })
    onTestFinished(() => server.stop())
    const report = await tester.run(oidcTarget(server.issuer))
    expect(report.errors).toEqual([])
    expect(verdicts(report)).toEqual(['pass mfa-oidc-weak-jwks-key jwk:v6', 'pass mfa-oidc-weak-signing discovery'])
  })
})

describe('mfa-oidc: hostile or broken issuers end as errors, within the timeout', () => {
  it('jwks_uri on another origin is refused unless allowed; the discovery verdict stays', async () => {
    const keys = await startIssuer({ jwks: { keys: [rsaJwk(2048, 'elsewhere')] } })
    const server = await startIssuer({ discovery: (iss) => discoveryDoc(iss, { jwks_uri: `${keys.issuer}/jwks` }) })
    onTestFinished(async () => {
      await server.stop()
      await keys.stop()
    })
    const refused = await tester.run(oidcTarget(server.issuer))
    expect(verdicts(refused)).toEqual(['pass mfa-oidc-weak-signing discovery'])
    expect(refused.errors).toHaveLength(1)
    expect(refused.errors[0]).toMatchObject({ reason: 'input' })
    expect(refused.errors[0]!.message).toMatch(/jwks_uri http:\/\/127\.0\.0\.1:\d+ is on another origin than the issuer .*allowedJwksOrigins/)
    const allowed = await tester.run(oidcTarget(server.issuer), { policy: { rules: { 'mfa-oidc-weak-jwks-key': { parameters: { allowedJwksOrigins: [keys.issuer] } } } } as never })
    expect(allowed.errors).toEqual([])
    expect(verdicts(allowed)).toContain('pass mfa-oidc-weak-jwks-key jwk:elsewhere')
  })

  const hostile: { name: string; routes: Parameters<typeof startIssuer>[0]['routes']; reason: string; message: RegExp }[] = [
    { name: 'discovery 404', routes: { '/.well-known/openid-configuration': (_q, res) => res.writeHead(404).end() }, reason: 'protocol', message: /discovery .*: HTTP 404/ },
    { name: 'discovery not JSON', routes: { '/.well-known/openid-configuration': (_q, res) => res.writeHead(200).end('<html>') }, reason: 'protocol', message: /not JSON/ },
    {
      name: 'discovery names another issuer',
      routes: { '/.well-known/openid-configuration': (_q, res) => res.writeHead(200).end(JSON.stringify(discoveryDoc('https://idp.example'))) },
      reason: 'protocol',
      message: /"issuer" is "https:\/\/idp\.example", not http/,
    },
    {
      name: 'redirect to another origin',
      routes: { '/.well-known/openid-configuration': (_q, res) => res.writeHead(302, { location: 'http://127.0.0.2:9/x' }).end() },
      reason: 'protocol',
      message: /refused redirect to another origin \(http:\/\/127\.0\.0\.2:9\)/,
    },
    {
      name: 'discovery larger than 512 KiB',
      routes: { '/.well-known/openid-configuration': (_q, res) => res.writeHead(200).end(JSON.stringify({ pad: 'x'.repeat(600_000) })) },
      reason: 'protocol',
      message: /larger than 524288 bytes/,
    },
    { name: 'JWKS without keys', routes: { '/jwks': (_q, res) => res.writeHead(200).end('{"keys": 5}') }, reason: 'protocol', message: /"keys" is not an array/ },
    { name: 'headers then silence', routes: { '/.well-known/openid-configuration': (_q, res) => res.writeHead(200, { 'content-length': '100' }).write('{') }, reason: 'timeout', message: /timed out/ },
  ]
  it.each(hostile)('$name', async ({ routes, reason, message }) => {
    const server = await startIssuer({ routes })
    onTestFinished(() => server.stop())
    const report = await tester.run(oidcTarget(server.issuer), { connectTimeoutMs: 400 })
    expect(report.errors).toHaveLength(1)
    expect(report.errors[0]).toMatchObject({ check: 'mfa-oidc', reason })
    expect(report.errors[0]!.message).toMatch(message)
  })

  it('same-origin redirects are followed', async () => {
    const server = await startIssuer({ routes: { '/.well-known/openid-configuration': (_q, res, iss) => res.writeHead(301, { location: `${iss}/real-config` }).end(), '/real-config': (_q, res, iss) => res.writeHead(200).end(JSON.stringify(discoveryDoc(iss))) } })
    onTestFinished(() => server.stop())
    const report = await tester.run(oidcTarget(server.issuer))
    expect(report.errors).toEqual([])
    expect(verdicts(report)).toEqual(['pass mfa-oidc-weak-signing discovery'])
  })

  it('a server that accepts and never answers ends as a timeout', async () => {
    const held: import('node:net').Socket[] = []
    const silent: Server = createServer((s) => held.push(s))
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r))
    onTestFinished(() => {
      for (const s of held) s.destroy()
      silent.close()
    })
    const report = await tester.run(oidcTarget(`http://127.0.0.1:${(silent.address() as { port: number }).port}`), { connectTimeoutMs: 300 })
    expect(report.errors).toEqual([expect.objectContaining({ reason: 'timeout' })])
  })

  it('nothing listening is a connectivity error', async () => {
    const probe = createServer()
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r))
    const port = (probe.address() as { port: number }).port
    await new Promise<void>((r) => probe.close(() => r()))
    const report = await tester.run(oidcTarget(`http://127.0.0.1:${port}`))
    expect(report.errors).toEqual([expect.objectContaining({ reason: 'connectivity' })])
  })

  it('a missing tokens file fails the scan before any probe; a malformed one is an input error after the issuer verdicts', async () => {
    const server = await startIssuer({ jwks: { keys: [] } })
    onTestFinished(() => server.stop())
    await expect(tester.run(oidcTarget(server.issuer, join(dir, 'nope.json')))).rejects.toThrow(/tokens file .*nope\.json: cannot read \(ENOENT\)/)
    const bad = await tester.run(oidcTarget(server.issuer, await tokensFile('bad.json', { tokens: [{ label: 'has spaces', token: 'a.b.c' }] })))
    expect(bad.errors[0]!.message).toMatch(/bad\.json: \/tokens\/0\/label: expected/)
  })
})

describe('mfa-oidc helpers', () => {
  it('amr per RFC 8176: mfa, or two categories', () => {
    const table: [string[], boolean][] = [
      [['mfa'], true], [['pwd', 'otp'], true], [['hwk', 'pin'], true], [['swk', 'fpt'], true], [['sms', 'pwd'], true],
      [['pwd'], false], [['pwd', 'kba'], false], [['otp', 'hwk'], false], [['face', 'iris'], false], [['wia'], false], [['pwd', 'rba', 'geo', 'user', 'mca'], false], [[], false],
      [['ngcmfa'], true],
    ]
    for (const [amr, multi] of table) expect(amrIsMultiFactor(amr), amr.join(',')).toBe(multi)
  })

  it('RSA modulus size ignores leading zero bytes', () => {
    expect(rsaModulusBits(rsaJwk(1024, 'a').n!)).toBe(1024)
    expect(rsaModulusBits(Buffer.from([0, 0x01, 0xff]).toString('base64url'))).toBe(9)
  })

  it('tokens files: text lines, JSON arrays and duplicates', () => {
    expect(parseTokensFile(Buffer.from('# c\na.b.c\n\na.b.c\nd.e.f\n'), 'f').tokens).toHaveLength(2)
    expect(parseTokensFile(Buffer.from('["a.b.c", {"label":"x","token":"d.e.f"}]'), 'f').tokens.map((t) => t.resource)[1]).toBe('token:x')
    expect(parseTokensFile(Buffer.from('{"audience":["a","b"],"tokens":[]}'), 'f').audience).toEqual(['a', 'b'])
    expect(() => parseTokensFile(Buffer.from(JSON.stringify(Array(1001).fill('a.b.c'))), 'f')).toThrow(/more than the limit of 1000/)
  })
})
