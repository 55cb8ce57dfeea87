import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import certificate from '../../checks/certificate/index.ts'
import { parseSans, signatureAlgorithmOf } from '../../checks/certificate/describe.ts'
import { checkTester, failedRuleIds, findingOf } from '../helpers/check-tester.ts'
import { issue, labLeaf, labPki, privateKey, tempDir } from '../helpers/tls.ts'

const tester = checkTester(certificate.checks)
const tmp = tempDir('ztscan-certfiles-')
afterAll(() => tmp.cleanup())
const { root, intermediate } = labPki()
const settings = { tls: { caFile: tmp.write('ca.pem', root.pem) } }
const DAY = 86_400_000
const now = Date.now()
const v = { notBefore: new Date(now - DAY), notAfter: new Date(now + 60 * DAY) }
const hasOpenssl = existsSync('/usr/bin/openssl')
const HOST_RULES = ['certificate-hostname-mismatch', 'certificate-legacy-protocol', 'certificate-tls12-unsupported']

describe('certificate files', () => {
  it('a PEM bundle (leaf + intermediate) gets one result per rule per certificate; host and protocol rules do not apply', async () => {
    const leaf = labLeaf()
    const file = tmp.write('fullchain.pem', `${leaf.pem}\n${intermediate.pem}`)
    const r = await tester.run(`cert:${file}`, { settings })
    expect(r.errors).toEqual([])
    expect(failedRuleIds(r)).toEqual([])
    const expired = r.findings.filter((f) => f.ruleId === 'certificate-expired')
    expect(expired.map((f) => f.evidence.position)).toEqual(['anchor', 'intermediate[1]', 'leaf'])
    expect(r.findings.some((f) => HOST_RULES.includes(f.ruleId))).toBe(false)
    expect(findingOf(r, 'certificate-untrusted').evidence).toMatchObject({ trust: 'trusted', chainLength: 2 })
    expect(expired[2]!.evidence.protocol).toBeUndefined()
  })

  it('reads a DER certificate', async () => {
    const file = tmp.write('leaf.der', labLeaf().der)
    const r = await tester.run(`cert:${file}`, { settings })
    expect(r.errors).toEqual([])
    // Its intermediate is missing, but a file is offline input: AIA is not fetched, so it is untrusted only.
    expect(failedRuleIds(r)).toEqual(['certificate-untrusted'])
    expect(findingOf(r, 'certificate-untrusted').evidence.detail).toBe('an issuer is neither served nor a trust anchor: missing issuer "CN=ztscan lab issuing CA, O=ztscan lab" of leaf')
  })

  it('skips non-certificate PEM blocks such as a private key, never echoing them', async () => {
    const leaf = labLeaf()
    const keyPem = leaf.key.export({ type: 'pkcs8', format: 'pem' }) as string
    const file = tmp.write('with-key.pem', keyPem + leaf.pem + intermediate.pem)
    const r = await tester.run(`cert:${file}`, { settings })
    expect(failedRuleIds(r)).toEqual([])
    expect(JSON.stringify(r)).not.toContain(keyPem.split('\n')[1]!)
  })

  it.each([
    { name: 'junk', data: 'this is not a certificate\n\x00\x01', msg: /junk\.bin: neither PEM certificates nor a DER-encoded X\.509 certificate$/ },
    { name: 'empty PEM', data: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n', msg: /empty-pem\.bin: no CERTIFICATE block found in the PEM data$/ },
    { name: 'broken PEM block', data: `${labPki().root.pem}-----BEGIN CERTIFICATE-----\nMIIBroken\n-----END CERTIFICATE-----\n`, msg: /broken-pem-block\.bin: certificate #2 is not a valid X\.509 certificate/ },
  ])('$name → an input error naming the file', async ({ name, data, msg }) => {
    const file = tmp.write(`${name.replace(/ /g, '-').toLowerCase()}.bin`, Buffer.from(data, 'latin1'))
    const r = await tester.run(`cert:${file}`)
    expect(r.findings).toEqual([])
    expect(r.errors).toHaveLength(1)
    expect(r.errors[0]).toMatchObject({ check: 'certificate-inspect', reason: 'input' })
    expect(r.errors[0]!.message).toMatch(msg)
    expect(r.errors[0]!.message).toContain(file)
  })

  it('a missing file fails the scan before any check runs, naming it (fail closed)', async () => {
    await expect(tester.run(`cert:${tmp.dir}/nope.pem`)).rejects.toThrow(`${tmp.dir}/nope.pem: cannot read (ENOENT)`)
  })

  it('an unreadable CA file fails the scan before any check runs, naming the setting and the file', async () => {
    const file = tmp.write('ok.pem', labLeaf().pem)
    await expect(tester.run(`cert:${file}`, { settings: { tls: { caFile: `${tmp.dir}/missing-ca.pem` } } })).rejects.toThrow(`settings.tls.caFile: ${tmp.dir}/missing-ca.pem: cannot read (ENOENT)`)
  })

  it.each([
    { name: 'EC P-224 key', key: 'ec:secp224r1', fail: ['certificate-weak-key'], ev: { keyType: 'ec', keySize: 224, curve: 'secp224r1' } },
    { name: 'EC P-384 key', key: 'ec:secp384r1', fail: [], ev: { keyType: 'ec', keySize: 384, curve: 'secp384r1' } },
    { name: 'Ed25519 key', key: 'ed25519', fail: [], ev: { keyType: 'ed25519', keySize: 256 } },
    { name: 'RSA 1024 key', key: 'rsa:1024', fail: ['certificate-weak-key'], ev: { keyType: 'rsa', keySize: 1024 } },
  ] as const)('$name', async ({ key, fail, ev }) => {
    const leaf = issue({ cn: 'device.lab', key: privateKey(key), issuer: intermediate, sans: ['device.lab'], ...v })
    const r = await tester.run(`cert:${tmp.write(`${key.replace(':', '-')}.pem`, leaf.pem + intermediate.pem)}`, { settings })
    expect(failedRuleIds(r)).toEqual(fail)
    expect(findingOf(r, 'certificate-weak-key', (f) => f.evidence.position === 'leaf').evidence).toMatchObject(ev)
  })

  it.each([
    { hash: 'md5', alg: 'md5WithRSAEncryption', fail: ['certificate-weak-signature'] },
    { hash: 'sha1', alg: 'sha1WithRSAEncryption', fail: ['certificate-weak-signature'] },
    { hash: 'sha512', alg: 'sha512WithRSAEncryption', fail: [] },
  ] as const)('RSA issuer signing with $hash', async ({ hash, alg, fail }) => {
    const rsaCa = issue({ cn: 'RSA CA', key: privateKey('rsa:2048', 1), ca: true, ...v })
    const leaf = issue({ cn: 'old.lab', key: privateKey('rsa:2048'), issuer: rsaCa, hash, sans: ['old.lab'], ...v })
    const r = await tester.run(`cert:${tmp.write(`rsa-${hash}.pem`, leaf.pem + rsaCa.pem)}`, { settings: { tls: { caFile: tmp.write(`rsa-ca-${hash}.pem`, rsaCa.pem) } } })
    expect(failedRuleIds(r)).toEqual(fail)
    expect(findingOf(r, 'certificate-weak-signature', (f) => f.evidence.position === 'leaf').evidence.signatureAlgorithm).toBe(alg)
  })

  it('a served issuer by name whose key did not sign the leaf is a bad signature', async () => {
    const impostor = issue({ cn: 'ztscan lab issuing CA', organization: 'ztscan lab', key: privateKey('ec:prime256v1', 5), issuer: root, ca: true, ...v })
    const r = await tester.run(`cert:${tmp.write('impostor.pem', labLeaf().pem + impostor.pem)}`, { settings })
    expect(failedRuleIds(r)).toEqual(['certificate-untrusted'])
    expect(findingOf(r, 'certificate-untrusted').evidence).toMatchObject({ trust: 'bad-signature' })
  })

  it('a self-signed certificate that is itself a configured anchor is trusted but still self-signed', async () => {
    const pinned = issue({ cn: 'pinned.lab', key: privateKey('rsa:2048'), sans: ['pinned.lab'], ...v })
    const file = tmp.write('pinned.pem', pinned.pem)
    const r = await tester.run(`cert:${file}`, { settings: { tls: { caFile: file } } })
    expect(failedRuleIds(r)).toEqual(['certificate-self-signed'])
  })

  it.skipIf(!hasOpenssl)('reads the hash of an RSASSA-PSS signature from its parameters (openssl-made certificate)', () => {
    const dir = tempDir('ztscan-pss-')
    try {
      const out = `${dir.dir}/pss.pem`
      execFileSync('/usr/bin/openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${dir.dir}/k.pem`, '-out', out, '-days', '30', '-subj', '/CN=pss', '-sha384', '-sigopt', 'rsa_padding_mode:pss'], { stdio: 'ignore' })
      const der = execFileSync('/usr/bin/openssl', ['x509', '-in', out, '-outform', 'DER'])
      expect(signatureAlgorithmOf(der)).toEqual({ name: 'rsassa-pss (sha384)', hash: 'sha384' })
    } finally {
      dir.cleanup()
    }
  })

  it('signatureAlgorithmOf survives garbage; parseSans handles quoted values', () => {
    expect(signatureAlgorithmOf(Buffer.from('nope'))).toEqual({ name: 'unknown', hash: null })
    expect(parseSans('DNS:a.test, IP Address:127.0.0.1, DNS:"b,c.test", email:x@y')).toEqual(['DNS:a.test', 'IP:127.0.0.1', 'DNS:b,c.test', 'email:x@y'])
    expect(parseSans(undefined)).toEqual([])
  })
})
