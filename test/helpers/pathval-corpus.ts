/**
 * @fileoverview The path validation corpus: for each path rule, a valid and an invalid chain, generated with the lab's PKI
 * helpers (`checks/certificate/lab.ts`) at test time. Used by test/checks/certificate-pathval.test.ts (served over loopback
 * TLS and as files) and by `npm run compare:tls` (beside `openssl verify`).
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import { issue, privateKey, type CertSpec, type Issued, type ProfileSpec } from '../../checks/certificate/lab.ts'

const DAY = 86_400_000

/** One corpus case. */
export interface CorpusCase {
  readonly name: string
  /** What the case is about. */
  readonly about: string
  /** Served chain (or file content), leaf first. */
  readonly chain: readonly Issued[]
  /** Trust anchors (the CA file). */
  readonly anchors: readonly Issued[]
  /** Name the leaf must be valid for. */
  readonly host: string
  /** Rules expected to fail (sorted); empty for a valid chain. */
  readonly fail: readonly string[]
  /** Over TLS too (false when OpenSSL cannot serve the key, e.g. DSA or P-192). */
  readonly tls: boolean
}

let dsa: KeyObject | undefined
const dsaKey = (): KeyObject => (dsa ??= generateKeyPairSync('dsa', { modulusLength: 2048, divisorLength: 256 }).privateKey)

/** Builds the corpus (keys are cached per process; certificates are new each call). */
export function pathCorpus(): CorpusCase[] {
  const now = Date.now()
  const v = { notBefore: new Date(now - DAY), notAfter: new Date(now + 365 * DAY) }
  const ec = (slot: number): KeyObject => privateKey('ec:prime256v1', 20 + slot)
  const root = issue({ cn: 'Corpus Root', organization: 'ztscan corpus', key: ec(0), ca: true, ...v })
  const ca = (cn: string, issuer: Issued, slot: number, profile?: ProfileSpec, extra: Partial<CertSpec> = {}): Issued => issue({ cn, organization: 'ztscan corpus', key: ec(slot), issuer, ca: true, ...v, ...(profile ? { profile } : {}), ...extra })
  const inter = ca('Corpus Issuing CA', root, 1)
  const leaf = (issuer: Issued, over: Partial<CertSpec> = {}): Issued => issue({ cn: 'api.example.com', key: privateKey('rsa:2048'), issuer, sans: ['api.example.com', '127.0.0.1'], notBefore: new Date(now - DAY), notAfter: new Date(now + 90 * DAY), ...over })
  const c = (name: string, about: string, chain: Issued[], fail: string[], extra: Partial<CorpusCase> = {}): CorpusCase => ({ name, about, chain, anchors: [root], host: 'api.example.com', fail: [...fail].sort(), tls: true, ...extra })
  const unknownExt = (critical: boolean): ProfileSpec => ({ extra: [{ oid: '1.3.6.1.4.1.55555.1', critical, value: Buffer.from([0x05, 0x00]) }] })

  const pathLen0 = ca('Corpus pathLen 0 CA', root, 2, { basicConstraints: { ca: true, pathLen: 0 } })
  const pathLen1 = ca('Corpus pathLen 1 CA', root, 3, { basicConstraints: { ca: true, pathLen: 1 } })
  const constrained = ca('Corpus constrained CA', root, 4, { nameConstraints: { permitted: ['example.com', '127.0.0.0/8'] } })
  const excluding = ca('Corpus excluding CA', root, 5, { nameConstraints: { excluded: ['example.com'] } })
  const ipOnly = ca('Corpus 10/8 CA', root, 6, { nameConstraints: { permitted: ['10.0.0.0/8'] } })
  const expiredRoot = issue({ cn: 'Corpus Expired Root', organization: 'ztscan corpus', key: ec(7), ca: true, notBefore: new Date(now - 400 * DAY), notAfter: new Date(now - DAY) })
  const underExpired = ca('Corpus CA under expired root', expiredRoot, 8)
  // A cross-sign of the issuing CA's key and name by another root, expired: served, but not needed by the valid path.
  const otherRoot = issue({ cn: 'Corpus Old Root', organization: 'ztscan corpus', key: ec(9), ca: true, ...v })
  const staleCross = issue({ cn: 'Corpus Issuing CA', organization: 'ztscan corpus', key: ec(1), issuer: otherRoot, ca: true, notBefore: new Date(now - 400 * DAY), notAfter: new Date(now - DAY) })
  const clientOnlyCa = ca('Corpus clientAuth CA', root, 10, { extKeyUsage: ['1.3.6.1.5.5.7.3.2'] })
  const notCa = ca('Corpus not-a-CA', root, 11, { basicConstraints: { ca: false } })
  const noKcs = ca('Corpus no-KCS CA', root, 12, { keyUsage: ['digitalSignature', 'cRLSign'] })
  const sub1 = ca('Corpus sub CA', pathLen1, 13)
  const sub0 = ca('Corpus sub CA 0', pathLen0, 14)
  const emptySubject = ca('x', root, 15, { emptySubject: true })

  return [
    c('valid', 'root -> issuing CA -> leaf, conforming', [leaf(inter), inter], []),
    c('ca-false', 'issuer has basicConstraints cA FALSE', [leaf(notCa), notCa], ['certificate-invalid-ca']),
    c('ca-no-keycertsign', 'issuer keyUsage lacks keyCertSign', [leaf(noKcs), noKcs], ['certificate-invalid-ca']),
    c('pathlen-ok', 'pathLen 1 with one CA below', [leaf(sub1), sub1, pathLen1], []),
    c('pathlen-exceeded', 'pathLen 0 with one CA below', [leaf(sub0), sub0, pathLen0], ['certificate-invalid-ca']),
    c('nc-permitted', 'leaf within permitted DNS and IP subtrees', [leaf(constrained), constrained], []),
    c('nc-outside-permitted', 'leaf DNS name outside the permitted subtree', [leaf(constrained, { cn: 'api.other.test', sans: ['api.other.test', '127.0.0.1'] }), constrained], ['certificate-name-constraints'], { host: 'api.other.test' }),
    c('nc-excluded', 'leaf DNS name inside the excluded subtree', [leaf(excluding), excluding], ['certificate-name-constraints']),
    c('nc-ip-outside', 'leaf IP address outside the permitted 10.0.0.0/8', [leaf(ipOnly, { cn: '127.0.0.1', sans: ['127.0.0.1'] }), ipOnly], ['certificate-name-constraints'], { host: '127.0.0.1' }),
    c('eku-client-only', 'leaf extendedKeyUsage clientAuth only', [leaf(inter, { profile: { extKeyUsage: ['1.3.6.1.5.5.7.3.2'] } }), inter], ['certificate-wrong-purpose']),
    c('eku-ca-restricted', 'issuing CA restricted to clientAuth', [leaf(clientOnlyCa), clientOnlyCa], ['certificate-wrong-purpose']),
    c('leaf-is-ca', 'a CA certificate served as the server certificate', [leaf(inter, { ca: true, profile: { extKeyUsage: ['1.3.6.1.5.5.7.3.1'] } }), inter], ['certificate-wrong-purpose']),
    c('critical-unknown', 'leaf with an unknown critical extension', [leaf(inter, { profile: unknownExt(true) }), inter], ['certificate-unknown-critical-extension']),
    c('noncritical-unknown', 'leaf with an unknown non-critical extension', [leaf(inter, { profile: unknownExt(false) }), inter], []),
    c('no-aki', 'leaf without authorityKeyIdentifier', [leaf(inter, { profile: { omit: ['authorityKeyIdentifier'] } }), inter], ['certificate-profile-violation']),
    c('serial-zero', 'leaf serial number 0', [leaf(inter, { profile: { serial: Buffer.from([0]) } }), inter], ['certificate-profile-violation']),
    c('expired-anchor', 'the trust anchor expired', [leaf(underExpired), underExpired], ['certificate-expired'], { anchors: [expiredRoot] }),
    c('unneeded-stale-cross', 'an expired cross-sign served beside the valid path', [leaf(inter), inter, staleCross], ['certificate-unneeded']),
    c('cross-sign-best-path', 'two anchored paths: through an expired cross-sign, and a valid one; the valid one wins', [leaf(inter), staleCross, inter], ['certificate-unneeded'], { anchors: [otherRoot, root] }),
    c('partial-wildcard', 'SAN ba*.example.com does not cover baz.example.com', [leaf(inter, { cn: 'ba*.example.com', sans: ['ba*.example.com'] }), inter], ['certificate-hostname-mismatch', 'certificate-profile-violation'], { host: 'baz.example.com' }),
    c('wildcard', 'SAN *.example.com covers api.example.com', [leaf(inter, { cn: '*.example.com', sans: ['*.example.com'] }), inter], []),
    c('dsa-leaf', 'DSA leaf key (forbidden in the Web PKI)', [leaf(inter, { key: dsaKey() }), inter], ['certificate-weak-key'], { tls: false }),
    c('p192-leaf', 'P-192 leaf key (forbidden)', [leaf(inter, { key: privateKey('ec:prime192v1') }), inter], ['certificate-weak-key'], { tls: false }),
    c('empty-subject-ca', 'issuing CA with an empty subject name', [leaf(emptySubject), emptySubject], ['certificate-profile-violation']),
  ]
}
