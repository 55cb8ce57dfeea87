/**
 * @fileoverview The DER reader and the field/name helpers path validation relies on, exercised directly: canonical IP text
 * (RFC 5952), DNS-ID syntax, name-constraint matching per name type (RFC 5280 4.2.1.10), and what is read from a lab certificate.
 */
import { describe, expect, it } from 'vitest'
import { DerError, parseDer, time } from '../../checks/certificate/der.ts'
import { ipText, OID, readFields, validDnsName, type GeneralName } from '../../checks/certificate/fields.ts'
import { nameWithin } from '../../checks/certificate/path.ts'
import { labLeaf, labPki } from '../helpers/tls.ts'

const ip = (...b: number[]): Buffer => Buffer.from(b)
const v6 = (...groups: number[]): Buffer => Buffer.concat(groups.map((g) => Buffer.from([g >> 8, g & 255])))

describe('canonical IP text (RFC 5952 4, RFC 3986 3.2.2)', () => {
  it.each([
    [ip(192, 0, 2, 1), '192.0.2.1'],
    [v6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1), '2001:db8::1'],
    [v6(1, 0, 0, 1, 0, 0, 0, 1), '1:0:0:1::1'],
    [v6(0x2001, 0xdb8, 0, 1, 1, 1, 1, 1), '2001:db8:0:1:1:1:1:1'],
    [v6(0, 0, 0, 0, 0, 0, 0, 0), '::'],
    [v6(0xabcd, 0, 0, 0, 0, 0, 0, 0), 'abcd::'],
  ])('%o → %s', (b, s) => expect(ipText(b)).toBe(s))
  it('constraints as address/mask', () => expect(ipText(ip(10, 0, 0, 0, 255, 0, 0, 0), true)).toBe('10.0.0.0/255.0.0.0'))
})

describe('DNS-ID syntax (preferred name syntax, leftmost whole-label wildcard only)', () => {
  it.each([['api.example.com', true], ['*.example.com', true], ['xn--bcher-kva.example', true], ['ba*.example.com', false], ['foo.*.example.com', false], ['*', false], ['a_b.example.com', false], ['1.2.3.4', false], ['-a.example.com', false], ['', false], ['a..b', false]])('%s → %s', (n, ok) => expect(validDnsName(n, true)).toBe(ok))
})

describe('name constraint matching per type', () => {
  const g = (kind: GeneralName['kind'], text: string, bytes?: Buffer): GeneralName => ({ kind, text, ...(bytes ? { bytes } : {}) })
  it.each([
    [g('dns', 'api.example.com'), g('dns', 'example.com'), true],
    [g('dns', 'example.com'), g('dns', 'example.com'), true],
    [g('dns', 'notexample.com'), g('dns', 'example.com'), false],
    [g('dns', 'API.Example.COM'), g('dns', 'example.com'), true],
    [g('dns', '*.example.com'), g('dns', 'example.com'), true],
    [g('dns', 'anything.test'), g('dns', ''), true],
    [g('email', 'a@mail.example.com'), g('email', '.example.com'), true],
    [g('email', 'a@example.com'), g('email', '.example.com'), false],
    [g('email', 'a@example.com'), g('email', 'example.com'), true],
    [g('email', 'b@example.com'), g('email', 'a@example.com'), false],
    [g('uri', 'https://api.example.com/x'), g('uri', '.example.com'), true],
    [g('uri', 'https://example.com/x'), g('uri', '.example.com'), false],
    [g('ip', '10.1.2.3', ip(10, 1, 2, 3)), g('ip', '', ip(10, 0, 0, 0, 255, 0, 0, 0)), true],
    [g('ip', '11.1.2.3', ip(11, 1, 2, 3)), g('ip', '', ip(10, 0, 0, 0, 255, 0, 0, 0)), false],
    [g('ip', '::1', v6(0, 0, 0, 0, 0, 0, 0, 1)), g('ip', '', ip(10, 0, 0, 0, 255, 0, 0, 0)), false],
  ])('%o within %o → %s', (name, base, w) => expect(nameWithin(name, base)).toBe(w))
  it('otherName constraints cannot be evaluated (undefined: reject when such a name is present)', () => {
    expect(nameWithin(g('other', 'aa'), g('other', 'bb'))).toBeUndefined()
  })
  it('directoryName: the constraint is a prefix of the RDN sequence', () => {
    const leaf = readFields(labLeaf({ organization: 'ztscan lab' }).der)
    const issuer = readFields(labPki().intermediate.der)
    const dn = (f: typeof leaf, which: 'subject' | 'issuer'): GeneralName => ({ kind: 'dn', text: '', dn: f[which] })
    expect(nameWithin(dn(leaf, 'issuer'), dn(issuer, 'subject'))).toBe(true)
    expect(nameWithin(dn(leaf, 'subject'), dn(issuer, 'subject'))).toBe(false)
  })
})

describe('fields of a lab certificate', () => {
  it('reads version, serial, names, key identifiers and extensions', () => {
    const leaf = labLeaf()
    const f = readFields(leaf.der)
    expect(f).toMatchObject({ version: 3, basicConstraints: { ca: false, critical: true }, extKeyUsage: { oids: [OID.serverAuth], critical: false }, duplicates: [], malformed: [] })
    expect(f.subjectAltName!.names.map((n) => `${n.kind}:${n.text}`)).toEqual(['dns:localhost', 'ip:127.0.0.1', 'ip:::1'])
    expect(f.authorityKeyId!.keyId!.toString('hex')).toBe(labPki().intermediate.ski)
    expect(f.subjectKeyId!.id.toString('hex')).toBe(leaf.ski)
    expect(f.serial[0]! & 0x80).toBe(0)
    expect(f.sigInner.equals(f.sigOuter)).toBe(true)
    expect(f.notAfter).toBe(new Date(leaf.x509.validTo).getTime())
  })
  it('truncated or trailing bytes are DerError, not a crash', () => {
    const der = labLeaf().der
    expect(() => readFields(der.subarray(0, der.length - 1))).toThrow(DerError)
    expect(() => readFields(Buffer.concat([der, Buffer.from([0])]))).toThrow(DerError)
    expect(() => parseDer(Buffer.from([0x30, 0x80, 0, 0]))).toThrow(/indefinite length/)
    expect(() => parseDer(Buffer.from([0x30, 0x81, 0x01, 0x00]))).toThrow(/non-minimal length/)
  })
  it('GeneralizedTime keeps fractions; UTCTime years 50–99 are 19xx', () => {
    expect(time(parseDer(Buffer.from('\x18\x1320240301000000.999Z', 'latin1')))).toBe(Date.UTC(2024, 2, 1) + 999)
    expect(time(parseDer(Buffer.from('\x17\x0d990101000000Z', 'latin1')))).toBe(Date.UTC(1999, 0, 1))
  })
})

describe('roots of the bundled store', () => {
  it('are not profile findings when they anchor a path; the same roots from a CA file are judged fully', async () => {
    const { X509Certificate } = await import('node:crypto')
    const { rootCertificates } = await import('node:tls')
    const { nodeOf, validatePath } = await import('../../checks/certificate/path.ts')
    const opts = { now: Date.parse('2026-01-01T00:00:00Z'), weakHashes: ['md5', 'sha1'], minRsaBits: 2048, minEcBits: 256, leafIsCa: true }
    const judged = (system: boolean): number =>
      rootCertificates.filter((pem) => validatePath([nodeOf(new X509Certificate(pem), { anchor: true, system })], true, opts).some((p) => p.rule === 'certificate-profile-violation')).length
    expect(judged(true)).toBe(0)
    // Serial 0, AKI with issuer/serial, no SKI, non-critical basicConstraints: grandfathered roots.
    expect(judged(false)).toBeGreaterThan(0)
  })
})
