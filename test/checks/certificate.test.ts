import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import certificate from '../../checks/certificate/index.ts'
import { defaultTargetsContext } from '../../src/defaults.ts'
import { parsePolicy } from '../../src/rules/policy.ts'
import type { ScanReport } from '../../src/types.ts'
import { checkTester, failedRuleIds, findingOf, passedRuleIds } from '../helpers/check-tester.ts'
import { issue, labLeaf, labPki, labScenarios, LAB_NAMES, privateKey, startTlsServer, tempDir, type LabServer } from '../helpers/tls.ts'

const ALL_RULES = [...certificate.checks[0]!.rules].sort()
const tester = checkTester(certificate.checks, { perHost: 16, connectTimeoutMs: 3000, timeoutMs: 8000 })
const tmp = tempDir()
const caFile = tmp.write('lab-root-ca.pem', labPki().root.pem)
const settings = { tls: { caFile } }
const FP = /^[0-9a-f]{64}$/

/** Expected failing rules per lab scenario (the table the issue asks for: one server per flaw, plus a clean one). */
const expected: Record<string, string[]> = {
  clean: [],
  expired: ['certificate-expired'],
  expiring: ['certificate-expiring', 'certificate-expiring-critical'],
  'not-yet-valid': ['certificate-not-yet-valid'],
  'self-signed': ['certificate-self-signed', 'certificate-untrusted'],
  'untrusted-root': ['certificate-untrusted'],
  // No AIA caIssuers in the lab leaf: the missing issuer cannot be found, so untrusted only (certificate-aia.test.ts fetches it).
  'incomplete-chain': ['certificate-untrusted'],
  'hostname-mismatch': ['certificate-hostname-mismatch'],
  'weak-key': ['certificate-weak-key'],
  'sha1-signature': ['certificate-weak-signature'],
  'long-validity': ['certificate-validity-too-long'],
  'no-san': ['certificate-hostname-mismatch', 'certificate-no-san'],
  'legacy-protocols': ['certificate-legacy-protocol'],
  'tls13-only': ['certificate-tls12-unsupported'],
}

describe('certificate: one server per flaw (127.0.0.1)', () => {
  const servers = new Map<string, LabServer>()
  let report: ScanReport
  beforeAll(async () => {
    for (const sc of labScenarios('127.0.0.1')) servers.set(sc.name, await startTlsServer(sc.spec))
    report = await tester.run([...servers.values()].map((s) => s.target), { settings })
  })
  afterAll(async () => {
    await Promise.all([...servers.values()].map((s) => s.close()))
  })
  const of = (name: string) => (f: { target: string }) => f.target === servers.get(name)!.target.id

  it('covers every scenario and completes without errors', () => {
    expect(Object.keys(expected).sort()).toEqual(labScenarios().map((s) => s.name).sort())
    expect(report.errors).toEqual([])
  })

  it.each(Object.entries(expected))('%s fails exactly %j', (name, fail) => {
    expect(failedRuleIds(report, of(name))).toEqual([...fail].sort())
  })

  it('the clean server passes every rule, with a result for each certificate of its chain', () => {
    expect(passedRuleIds(report, of('clean'))).toEqual(ALL_RULES)
    const expiry = report.findings.filter((f) => of('clean')(f) && f.ruleId === 'certificate-expired')
    // The anchor the path ends at is judged too (RFC 5280 6.1: validity of every certificate of the path).
    expect(expiry.map((f) => f.evidence.position)).toEqual(['anchor', 'intermediate[1]', 'leaf'])
    for (const f of expiry) expect(f.resource).toBe(`${f.evidence.position} SHA256:${f.evidence.fingerprint256}`)
  })

  it('evidence names the certificate, its key, signature, validity and the negotiated protocol', () => {
    const f = findingOf(report, 'certificate-expired', (x) => of('expired')(x) && x.status === 'fail')
    expect(f.resource).toMatch(/^leaf SHA256:[0-9a-f]{64}$/)
    expect(f.evidence).toMatchObject({
      position: 'leaf',
      subject: 'CN=localhost',
      issuer: 'CN=ztscan lab issuing CA, O=ztscan lab',
      sans: ['DNS:localhost', 'IP:127.0.0.1', 'IP:0:0:0:0:0:0:0:1'],
      keyType: 'rsa',
      keySize: 2048,
      signatureAlgorithm: 'ecdsa-with-SHA256',
      protocol: 'TLSv1.3',
    })
    expect(f.evidence.fingerprint256).toMatch(FP)
    expect(Date.parse(f.evidence.notAfter as string)).toBeLessThan(Date.now())
    expect(f.message).toMatch(/^Expiry of leaf certificate "CN=localhost" on tls:\/\/127\.0\.0\.1:\d+: expired 1 day ago$/)
  })

  it.each([
    ['weak-key', 'certificate-weak-key', { keyType: 'rsa', keySize: 1024 }],
    ['sha1-signature', 'certificate-weak-signature', { signatureAlgorithm: 'ecdsa-with-SHA1' }],
    ['hostname-mismatch', 'certificate-hostname-mismatch', { name: '127.0.0.1', sans: ['DNS:other.test'] }],
    ['no-san', 'certificate-no-san', { sans: [], detail: 'no subjectAltName extension' }],
    ['self-signed', 'certificate-untrusted', { trust: 'self-signed', issuer: 'CN=localhost' }],
    ['untrusted-root', 'certificate-untrusted', { trust: 'untrusted-root' }],
    ['incomplete-chain', 'certificate-untrusted', { trust: 'incomplete', chainLength: 1 }],
    ['long-validity', 'certificate-validity-too-long', { detail: '825 days (maximum 398)' }],
    ['expiring', 'certificate-expiring-critical', { detail: 'expires in 4 days (threshold 7)' }],
  ] as const)('%s: %s evidence', (name, rule, ev) => {
    const f = findingOf(report, rule, (x) => of(name)(x) && x.status === 'fail')
    expect(f.evidence).toMatchObject(ev)
    expect(f.evidence.position).toBe('leaf')
  })

  it('protocol findings name the probed version and list every probe', () => {
    const legacy = report.findings.filter((f) => of('legacy-protocols')(f) && f.ruleId === 'certificate-legacy-protocol')
    expect(legacy.map((f) => [f.resource, f.status])).toEqual([['protocol SSLv3', 'pass'], ['protocol TLSv1', 'fail'], ['protocol TLSv1.1', 'fail']])
    expect(legacy[1]!.evidence).toMatchObject({ probedProtocol: 'TLSv1', probe: 'accepted', protocols: { SSLv3: 'refused', TLSv1: 'accepted', 'TLSv1.1': 'accepted', 'TLSv1.2': 'accepted', 'TLSv1.3': 'accepted' } })
    expect(legacy[1]!.evidence.notProbed).toMatch(/SSLv2/)
    const clean = report.findings.filter((f) => of('clean')(f) && f.ruleId === 'certificate-legacy-protocol')
    expect(clean.map((f) => [f.resource, f.status, f.evidence.probe])).toEqual([['protocol SSLv3', 'pass', 'refused'], ['protocol TLSv1', 'pass', 'refused'], ['protocol TLSv1.1', 'pass', 'refused']])
    const t13 = findingOf(report, 'certificate-tls12-unsupported', of('tls13-only'))
    expect(t13).toMatchObject({ status: 'fail', resource: 'protocol TLSv1.2', message: `${servers.get('tls13-only')!.target.id}: TLSv1.2 refused` })
  })
})

describe('certificate: IPv6, SNI, chains and policy', () => {
  const started: LabServer[] = []
  const start = async (...a: Parameters<typeof startTlsServer>) => {
    const s = await startTlsServer(...a)
    started.push(s)
    return s
  }
  afterAll(async () => {
    await Promise.all(started.map((s) => s.close()))
    tmp.cleanup()
  })
  const { root, intermediate } = labPki()

  it('checks a clean server on ::1 (IP SAN) with every rule passing', async () => {
    const s = await start({ chain: [labLeaf(), intermediate], host: '::1' })
    expect(s.target.id).toBe(`tls://[::1]:${s.port}`)
    const r = await tester.run(s.target, { settings })
    expect(r.errors).toEqual([])
    expect(failedRuleIds(r)).toEqual([])
    expect(passedRuleIds(r)).toEqual(ALL_RULES)
    expect(findingOf(r, 'certificate-hostname-mismatch').evidence.name).toBe('::1')
  })

  it('sends the SNI name and checks the certificate against it, not the address', async () => {
    const api = labLeaf({ cn: 'api.test', sans: ['api.test'] })
    const s = await start({ chain: [labLeaf({ cn: 'default.test', sans: ['default.test'] }), intermediate], host: '::1', servername: 'api.test', byName: { 'api.test': [api, intermediate] } })
    expect(s.target.id).toBe(`tls://[::1]:${s.port}?sni=api.test`)
    const withSni = await tester.run(s.target, { settings })
    expect(failedRuleIds(withSni)).toEqual([])
    expect(findingOf(withSni, 'certificate-hostname-mismatch').evidence).toMatchObject({ name: 'api.test', subject: 'CN=api.test' })
    const bare = await tester.run(`tls://[::1]:${s.port}`, { settings })
    expect(failedRuleIds(bare)).toEqual(['certificate-hostname-mismatch'])
    expect(findingOf(bare, 'certificate-hostname-mismatch').evidence).toMatchObject({ name: '::1', subject: 'CN=default.test' })
  })

  it('ignores the CN: a CN equal to the host does not match without a SAN (and a CN missing from the SAN breaks BR 7.1.4.3)', async () => {
    const s = await start({ chain: [labLeaf({ cn: '127.0.0.1', sans: ['localhost'] }), intermediate] })
    const r = await tester.run(s.target, { settings })
    expect(failedRuleIds(r)).toEqual(['certificate-hostname-mismatch', 'certificate-profile-violation'])
    expect(findingOf(r, 'certificate-profile-violation', (f) => f.status === 'fail').evidence.problems).toEqual([
      { section: 'BR 7.1.4.3', field: 'subject.commonName', detail: '"127.0.0.1" is not among the subjectAltName entries (byte for byte, IP addresses in canonical form)' },
    ])
  })

  it('names an intermediate by its position; a trust anchor self-signature is exempt from the SHA-1 rule', async () => {
    const now = Date.now()
    const v = { notBefore: new Date(now - 86_400_000), notAfter: new Date(now + 3000 * 86_400_000) }
    const sha1Root = issue({ cn: 'SHA-1 root', key: privateKey('ec:prime256v1', 3), ca: true, hash: 'sha1', ...v })
    const sha1Inter = issue({ cn: 'SHA-1 intermediate', key: privateKey('ec:prime256v1', 4), issuer: sha1Root, ca: true, hash: 'sha1', ...v })
    const leaf = labLeaf({ issuer: sha1Inter })
    const s = await start({ chain: [leaf, sha1Inter, sha1Root] })
    const trusted = await tester.run(s.target, { settings: { tls: { caFile: tmp.write('sha1-root.pem', sha1Root.pem) } } })
    const weak = trusted.findings.filter((f) => f.ruleId === 'certificate-weak-signature')
    expect(weak.map((f) => [f.evidence.position, f.status])).toEqual([['intermediate[1]', 'fail'], ['leaf', 'pass'], ['root[2]', 'pass']])
    expect(weak[0]!.resource).toBe(`intermediate[1] SHA256:${sha1Inter.x509.fingerprint256.replace(/:/g, '').toLowerCase()}`)
    expect(weak[0]!.evidence.signatureAlgorithm).toBe('ecdsa-with-SHA1')
    expect(weak[2]!.evidence.detail).toMatch(/trust anchor self-signature, ignored/)
    expect(failedRuleIds(trusted)).toEqual(['certificate-weak-signature'])
    // Not an anchor: its self-signature counts, and the chain is untrusted.
    const untrusted = await tester.run(s.target, { settings })
    expect(untrusted.findings.filter((f) => f.ruleId === 'certificate-weak-signature' && f.status === 'fail').map((f) => f.evidence.position)).toEqual(['intermediate[1]', 'root[2]'])
    expect(findingOf(untrusted, 'certificate-untrusted').evidence.trust).toBe('untrusted-root')
  })

  it('untrusted without the lab CA; the rule parameter caFile trusts it too', async () => {
    const s = await start({ chain: [labLeaf(), intermediate] })
    expect(failedRuleIds(await tester.run(s.target))).toEqual(['certificate-untrusted'])
    const policy = parsePolicy({ rules: { 'certificate-untrusted': { parameters: { caFile } } } })
    const r = await tester.run(s.target, { policy })
    expect(failedRuleIds(r)).toEqual([])
    expect(findingOf(r, 'certificate-untrusted').evidence.anchors).toEqual(['node-root-store', caFile])
  })

  it('policy parameters move the thresholds', async () => {
    const s = await start({ chain: [labLeaf({ key: privateKey('ec:prime256v1', 6) }), intermediate] })
    const policy = parsePolicy({
      rules: {
        'certificate-expiring': { parameters: { warnDays: 120 } },
        'certificate-validity-too-long': { parameters: { maxDays: 60 } },
        'certificate-weak-key': { parameters: { minEcBits: 384 } },
        'certificate-legacy-protocol': { enabled: false },
      },
    })
    const r = await tester.run(s.target, { settings, policy })
    expect(failedRuleIds(r)).toEqual(['certificate-expiring', 'certificate-validity-too-long', 'certificate-weak-key'])
    expect(findingOf(r, 'certificate-expiring', (f) => f.evidence.position === 'leaf').evidence.detail).toBe('expires in 88 days (threshold 120)')
    expect(r.findings.some((f) => f.ruleId === 'certificate-legacy-protocol')).toBe(false)
  })

  it('a server offering only TLS 1.0 is judged on SSLv3, TLS 1.0, 1.1 and 1.2', async () => {
    const s = await start({ chain: [labLeaf(), intermediate], minVersion: 'TLSv1', maxVersion: 'TLSv1' })
    const r = await tester.run(s.target, { settings })
    expect(r.errors).toEqual([])
    expect(failedRuleIds(r)).toEqual(['certificate-legacy-protocol', 'certificate-tls12-unsupported'])
    const legacy = r.findings.filter((f) => f.ruleId === 'certificate-legacy-protocol')
    expect(legacy.map((f) => [f.resource, f.status])).toEqual([['protocol SSLv3', 'pass'], ['protocol TLSv1', 'fail'], ['protocol TLSv1.1', 'pass']])
    expect(legacy[1]!.evidence.protocol).toBe('TLSv1')
  })

  it('the SANs of the lab leaf are the loopback names', () => {
    expect(LAB_NAMES).toEqual(['localhost', '127.0.0.1', '::1'])
    expect(root.x509.ca).toBe(true)
  })
})

describe('certificate: demo lab and default targets', () => {
  it('the demo starts flawed servers and a clean one trusted through the returned CA file, and stops them', async () => {
    const dir = tempDir('ztscan-cert-demo-')
    const lab = await certificate.demo!(`${dir.dir}/certificate`)
    try {
      expect(lab.targets.map((t) => t.kind)).toEqual([...Array(8).fill('tls-endpoint'), 'cert-file'])
      const r = await tester.run(lab.targets, { settings: lab.settings })
      expect(r.errors).toEqual([])
      const fails = lab.targets.map((t) => failedRuleIds(r, (f) => f.target === t.id))
      expect(fails).toEqual([
        [],
        ['certificate-expired'],
        ['certificate-self-signed', 'certificate-untrusted'],
        ['certificate-hostname-mismatch'],
        ['certificate-weak-key'],
        ['certificate-weak-signature'],
        [], // revoked: the tls family's tls-revocation reports it (its CRL is served on loopback)
        ['certificate-incomplete-chain'], // its intermediate is fetched from the lab CA's AIA URL on loopback
        ['certificate-weak-key', 'certificate-weak-signature'],
      ])
    } finally {
      await lab.stop()
      dir.cleanup()
    }
  })

  it('adds no default targets of its own (the open-port family chains loopback TLS ports)', async () => {
    expect(await certificate.defaultTargets!(defaultTargetsContext())).toEqual([])
  })
})
