import { describe, expect, it } from 'vitest'
import type { CertInfo } from '../../checks/certificate/describe.ts'
import type { Enumeration, VersionSuites } from '../../checks/certificate/tls-ciphers.ts'
import { cipherBits, ecEquivalent, gradeEndpoint, gradeText, letterOf } from '../../checks/certificate/tls-grade.ts'
import { suiteNamed, type Suite } from '../../checks/certificate/tls-suites.ts'
import type { WireVersion } from '../../checks/certificate/hello.ts'

// The grade is a pure function of the enumeration and the leaf: each case below is a configuration and the grade SSL Labs'
// rating guide (with ztscan's documented A-/A+ rules) gives it, with the cap that binds named.

const s = (name: string): Suite => {
  const x = suiteNamed(name)
  if (!x) throw new Error(name)
  return x
}
const ALL: readonly WireVersion[] = ['SSLv3', 'TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3']
function enumeration(by: Partial<Record<WireVersion, string[]>>, o: { order?: VersionSuites['order']; groups?: string[]; dh?: number } = {}): Enumeration {
  const versions = ALL.map((v) => {
    const suites = (by[v] ?? []).map(s)
    return { version: v, accepted: suites.length > 0, suites, ...(suites.length > 1 ? { order: o.order ?? 'server' } : {}) }
  })
  return {
    versions,
    groups: (o.groups ?? ['x25519', 'secp256r1']).map((name, i) => ({ code: i, name })),
    dh: o.dh ? [{ version: 'TLSv1.2', suite: 'TLS_DHE_RSA_WITH_AES_128_GCM_SHA256', bits: o.dh }] : [],
    hellos: 10,
    inconclusive: [],
  }
}
const rsa = (bits: number): CertInfo => ({ keyType: 'rsa', keySize: bits }) as CertInfo
const ec = (bits: number): CertInfo => ({ keyType: 'ec', keySize: bits, curve: 'prime256v1' }) as CertInfo

const MODERN12 = ['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256']
const TLS13 = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256']

describe('tls grade: scores and letters (SSL Labs rating guide)', () => {
  it('Mozilla intermediate with TLS 1.3 and a 2048-bit RSA key: 93.0, A+ (TLS 1.2/1.3 only, every suite forward-secret AEAD)', () => {
    const v = gradeEndpoint({ enumeration: enumeration({ 'TLSv1.2': MODERN12, 'TLSv1.3': TLS13 }), leaf: rsa(2048), trustProblems: [] })
    // protocol (100 + 100) / 2; key exchange: the weakest is the 2048-bit key (90); cipher (80 + 100) / 2.
    expect(v).toMatchObject({ grade: 'A+', score: 93, categories: { protocol: 100, keyExchange: 90, cipher: 90 }, uncapped: 'A', caps: [] })
    expect(gradeText(v)).toBe('A+ (score 93.0; A+: TLS 1.2/1.3 only with TLS 1.3, every suite forward-secret AEAD)')
  })

  it('the same suites without TLS 1.3: A (no A+)', () => {
    expect(gradeEndpoint({ enumeration: enumeration({ 'TLSv1.2': MODERN12 }), leaf: ec(256), trustProblems: [] }).grade).toBe('A')
  })

  it('TLS 1.0 and 1.1 offered: capped to B, each version named', () => {
    const v = gradeEndpoint({ enumeration: enumeration({ TLSv1: ['TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA'], 'TLSv1.1': ['TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA'], 'TLSv1.2': MODERN12 }), leaf: rsa(2048), trustProblems: [] })
    expect(v.grade).toBe('B')
    expect(v.uncapped).toBe('A')
    expect(v.categories.protocol).toBe(95)
    expect(gradeText(v)).toBe('B (score 91.5; capped to B: TLSv1 offered; capped to B: TLSv1.1 offered)')
  })

  it('RSA key exchange only: capped to B (no forward secrecy); CBC only as well: also no AEAD', () => {
    const v = gradeEndpoint({ enumeration: enumeration({ 'TLSv1.2': ['TLS_RSA_WITH_AES_128_CBC_SHA', 'TLS_RSA_WITH_AES_256_CBC_SHA'] }), leaf: rsa(2048), trustProblems: [] })
    expect(v.grade).toBe('B')
    expect(v.caps.map((c) => c.reason)).toEqual(['no forward secrecy (no ECDHE or DHE suite)', 'no AEAD suite (only CBC or stream ciphers)'])
  })

  it("a server whose own first choice is RSA key exchange: capped to B although it has ECDHE suites", () => {
    const v = gradeEndpoint({ enumeration: enumeration({ 'TLSv1.2': ['TLS_RSA_WITH_AES_128_GCM_SHA256', ...MODERN12] }), leaf: rsa(2048), trustProblems: [] })
    expect(v.caps).toEqual([{ grade: 'B', reason: "no forward secrecy: the server's first choice in TLSv1.2 is TLS_RSA_WITH_AES_128_GCM_SHA256" }])
  })

  it('3DES with TLS 1.2 (SWEET32) and RC4: capped to C; no TLS 1.2 at all: C', () => {
    const v = gradeEndpoint({ enumeration: enumeration({ 'TLSv1.2': [...MODERN12, 'TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA', 'TLS_RSA_WITH_RC4_128_SHA'] }), leaf: rsa(2048), trustProblems: [] })
    expect(v.grade).toBe('C')
    expect(v.caps.filter((c) => c.grade === 'C').map((c) => c.reason)).toEqual(['RC4 with TLS 1.1 or newer (TLS_RSA_WITH_RC4_128_SHA)', '64-bit block ciphers with TLS 1.1 or newer (SWEET32: TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA)'])
    const old = gradeEndpoint({ enumeration: enumeration({ TLSv1: ['TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA'] }), leaf: rsa(2048), trustProblems: [] })
    expect(old.grade).toBe('C')
    expect(old.caps.map((c) => `${c.grade}: ${c.reason}`)).toContain('C: TLS 1.2 not supported')
  })

  it('SSLv3 with CBC (POODLE): C; EXPORT or NULL suites: F, named', () => {
    expect(gradeEndpoint({ enumeration: enumeration({ SSLv3: ['TLS_RSA_WITH_AES_128_CBC_SHA'], 'TLSv1.2': MODERN12 }), leaf: rsa(2048), trustProblems: [] }).caps[0]).toEqual({ grade: 'C', reason: 'SSLv3 with CBC suites offered (POODLE)' })
    const exp = gradeEndpoint({ enumeration: enumeration({ 'TLSv1.2': [...MODERN12, 'TLS_RSA_EXPORT_WITH_RC4_40_MD5'] }), leaf: rsa(2048), trustProblems: [] })
    expect(exp.grade).toBe('F')
    expect(exp.caps[0]).toEqual({ grade: 'F', reason: 'EXPORT suites accepted (TLS_RSA_EXPORT_WITH_RC4_40_MD5)' })
    const nul = gradeEndpoint({ enumeration: enumeration({ 'TLSv1.2': ['TLS_RSA_WITH_NULL_SHA256'] }), leaf: rsa(2048), trustProblems: [] })
    expect(nul).toMatchObject({ grade: 'F', score: 0, categories: { cipher: 0 } })
  })

  it('DH parameters: 1024 bits cap to B, 512 to F; a 1024-bit RSA key caps to B', () => {
    const dhe = ['TLS_DHE_RSA_WITH_AES_128_GCM_SHA256']
    expect(gradeEndpoint({ enumeration: enumeration({ 'TLSv1.2': dhe }, { dh: 1024, groups: [] }), leaf: rsa(2048), trustProblems: [] }).caps).toEqual([{ grade: 'B', reason: 'DH parameters of 1024 bits (under 2048)' }])
    const weak = gradeEndpoint({ enumeration: enumeration({ 'TLSv1.2': dhe }, { dh: 512, groups: [] }), leaf: rsa(2048), trustProblems: [] })
    expect(weak).toMatchObject({ grade: 'F', categories: { keyExchange: 40 } })
    expect(gradeEndpoint({ enumeration: enumeration({ 'TLSv1.2': MODERN12 }), leaf: rsa(1024), trustProblems: [] }).caps).toEqual([{ grade: 'B', reason: 'certificate key of 1024 bits (under 2048)' }])
  })

  it('a client-chosen order among suites of different strength: A-', () => {
    const v = gradeEndpoint({ enumeration: enumeration({ 'TLSv1.2': ['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA'] }, { order: 'client' }), leaf: rsa(2048), trustProblems: [] })
    expect(v.grade).toBe('A-')
  })

  it('T replaces the letter when the chain is not trusted, M when the name does not match; the letter stays as ignoringTrust', () => {
    const e = enumeration({ 'TLSv1.2': MODERN12 })
    const t = gradeEndpoint({ enumeration: e, leaf: rsa(2048), trustProblems: ['self-signed certificate'] })
    expect(t).toMatchObject({ grade: 'T', ignoringTrust: 'A', trust: ['self-signed certificate'] })
    expect(gradeText(t)).toBe('T (score 93.0; not trusted: self-signed certificate; ignoring trust: A)')
    expect(gradeEndpoint({ enumeration: e, leaf: rsa(2048), trustProblems: [], nameMismatch: 'example.org is not among the certificate\'s names' })).toMatchObject({ grade: 'M', ignoringTrust: 'A' })
    expect(gradeEndpoint({ enumeration: e, leaf: rsa(2048), trustProblems: [], revoked: true })).toMatchObject({ grade: 'F' })
  })

  it('says what it could not judge: no certificate read (SSLv3/TLS 1.0-only stacks Node cannot handshake)', () => {
    const v = gradeEndpoint({ enumeration: enumeration({ TLSv1: ['TLS_RSA_WITH_AES_128_CBC_SHA'] }, { groups: [] }) })
    expect(v.notJudged).toEqual(expect.arrayContaining(['the certificate key (no TLS 1.0–1.3 handshake completed)', 'certificate trust (no certificate read)']))
    expect(v.grade).toBe('C')
  })

  it('helpers: cipher bits from names, EC strength, letters', () => {
    expect(cipherBits(s('TLS_RSA_WITH_3DES_EDE_CBC_SHA'))).toBe(112)
    expect(cipherBits(s('TLS_RSA_EXPORT_WITH_DES40_CBC_SHA'))).toBe(40)
    expect(cipherBits(s('TLS_RSA_WITH_DES_CBC_SHA'))).toBe(56)
    expect(cipherBits(s('TLS_CHACHA20_POLY1305_SHA256'))).toBe(256)
    expect(cipherBits(s('TLS_RSA_WITH_SEED_CBC_SHA'))).toBe(128)
    expect(ecEquivalent(256)).toBe(3072)
    expect([80, 79.9, 65, 50, 35, 20, 19.9].map(letterOf)).toEqual(['A', 'B', 'B', 'C', 'D', 'E', 'F'])
  })
})
