/**
 * @fileoverview What ztscan reads from one certificate: names, validity, key, signature algorithm and fingerprint.
 * `node:crypto` `X509Certificate` does most of it; the signature algorithm (which Node does not expose) is read from the DER
 * with node-forge's ASN.1 parser only — `forge.pki` cannot parse certificates with EC keys.
 */
import type { KeyObject, X509Certificate } from 'node:crypto'
import type forge from 'node-forge'
import { lazyModule } from '../../src/lib-lazy.ts'

/** One certificate as the rules see it. */
export interface CertInfo {
  readonly x509: X509Certificate
  /** Subject as a one-line distinguished name (`CN=a, O=b`). */
  readonly subject: string
  readonly issuer: string
  /** SAN entries as `DNS:name` / `IP:address`; empty when the extension is absent. */
  readonly sans: readonly string[]
  readonly hasSan: boolean
  readonly notBefore: Date
  readonly notAfter: Date
  /** `rsa`, `rsa-pss`, `ec`, `ed25519`, `ed448`, `dsa`, … */
  readonly keyType: string
  /** RSA/DSA modulus bits, EC curve bits; null when unknown. */
  readonly keySize: number | null
  readonly curve?: string
  /** Signature algorithm name, e.g. `sha256WithRSAEncryption`, `ecdsa-with-SHA1`, or the OID when unknown. */
  readonly signatureAlgorithm: string
  /** Hash of the signature algorithm (`sha1`, `md5`, `sha256`, …), null for hash-free schemes (Ed25519) or unknown OIDs. */
  readonly signatureHash: string | null
  /** SHA-256 of the DER, lowercase hex without separators. */
  readonly fingerprint256: string
  /** Issuer name matches subject and the certificate verifies with its own key. */
  readonly selfSigned: boolean
  readonly isCa: boolean
}

/** Signature algorithm OIDs: name and hash (RFC 3279, RFC 4055, RFC 5758, RFC 8410). */
// Maps, not plain objects: the keys looked up come from the certificate (an OID such as `constructor` must not hit Object.prototype).
const SIG_ALGS: ReadonlyMap<string, readonly [string, string | null]> = new Map(Object.entries({
  '1.2.840.113549.1.1.2': ['md2WithRSAEncryption', 'md2'],
  '1.2.840.113549.1.1.3': ['md4WithRSAEncryption', 'md4'],
  '1.2.840.113549.1.1.4': ['md5WithRSAEncryption', 'md5'],
  '1.2.840.113549.1.1.5': ['sha1WithRSAEncryption', 'sha1'],
  '1.3.14.3.2.29': ['sha1WithRSASignature', 'sha1'],
  '1.2.840.113549.1.1.14': ['sha224WithRSAEncryption', 'sha224'],
  '1.2.840.113549.1.1.11': ['sha256WithRSAEncryption', 'sha256'],
  '1.2.840.113549.1.1.12': ['sha384WithRSAEncryption', 'sha384'],
  '1.2.840.113549.1.1.13': ['sha512WithRSAEncryption', 'sha512'],
  '1.2.840.10045.4.1': ['ecdsa-with-SHA1', 'sha1'],
  '1.2.840.10045.4.3.1': ['ecdsa-with-SHA224', 'sha224'],
  '1.2.840.10045.4.3.2': ['ecdsa-with-SHA256', 'sha256'],
  '1.2.840.10045.4.3.3': ['ecdsa-with-SHA384', 'sha384'],
  '1.2.840.10045.4.3.4': ['ecdsa-with-SHA512', 'sha512'],
  '1.2.840.10040.4.3': ['dsa-with-sha1', 'sha1'],
  '2.16.840.1.101.3.4.3.1': ['dsa-with-sha224', 'sha224'],
  '2.16.840.1.101.3.4.3.2': ['dsa-with-sha256', 'sha256'],
  '1.3.101.112': ['ed25519', null],
  '1.3.101.113': ['ed448', null],
} as Record<string, readonly [string, string | null]>))
const HASH_OIDS: ReadonlyMap<string, string> = new Map(Object.entries({
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.4': 'sha224',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
  '1.2.840.113549.2.5': 'md5',
}))
/** Bits of security-relevant size for named curves (OpenSSL names as Node reports them). */
const CURVE_BITS: ReadonlyMap<string, number> = new Map(Object.entries({
  prime192v1: 192, secp192k1: 192, secp224r1: 224, secp224k1: 224, prime256v1: 256, secp256k1: 256, secp384r1: 384, secp521r1: 521,
  brainpoolP160r1: 160, brainpoolP192r1: 192, brainpoolP224r1: 224, brainpoolP256r1: 256, brainpoolP320r1: 320, brainpoolP384r1: 384, brainpoolP512r1: 512,
  sect163k1: 163, sect163r2: 163, sect233k1: 233, sect233r1: 233, sect283k1: 283, sect283r1: 283, sect409k1: 409, sect409r1: 409, sect571k1: 571, sect571r1: 571,
}))

const forgeLib = lazyModule<typeof forge>('node-forge')
type Node = forge.asn1.Asn1
const children = (n: Node | undefined): Node[] => (n && Array.isArray(n.value) ? (n.value as Node[]) : [])
const oidOf = (n: Node | undefined): string | undefined =>
  n && n.type === forgeLib.asn1.Type.OID && typeof n.value === 'string' ? forgeLib.asn1.derToOid(n.value) : undefined

/**
 * Reads the outer signatureAlgorithm of a certificate. For RSASSA-PSS the hash comes from its parameters
 * (absent parameters mean SHA-1, RFC 4055 §3.1).
 */
export function signatureAlgorithmOf(der: Buffer): { name: string; hash: string | null } {
  let root: Node
  try {
    root = forgeLib.asn1.fromDer(der.toString('binary'), { strict: false, decodeBitStrings: false } as unknown as boolean)
  } catch {
    return { name: 'unknown', hash: null }
  }
  const algId = children(root)[1]
  const oid = oidOf(children(algId)[0])
  if (!oid) return { name: 'unknown', hash: null }
  if (oid === '1.2.840.113549.1.1.10') {
    // RSASSA-PSS-params ::= SEQUENCE { hashAlgorithm [0] HashAlgorithm DEFAULT sha1, … }
    const params = children(algId)[1]
    const hashField = children(params).find((n) => n.tagClass === forgeLib.asn1.Class.CONTEXT_SPECIFIC && n.type === 0)
    const hashOid = oidOf(children(children(hashField)[0])[0])
    const hash = hashOid ? (HASH_OIDS.get(hashOid) ?? hashOid) : 'sha1'
    return { name: `rsassa-pss (${hash})`, hash }
  }
  const known = SIG_ALGS.get(oid)
  return known ? { name: known[0], hash: known[1] } : { name: oid, hash: null }
}

/** Splits Node's SAN string (`DNS:a, IP Address:1.2.3.4`, values with separators quoted) into `DNS:a` / `IP:1.2.3.4` entries. */
export function parseSans(s: string | undefined): string[] {
  if (!s) return []
  const out: string[] = []
  const re = /\s*([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)\s*(?:,|$)/g
  for (let m = re.exec(s); m && m[0] !== ''; m = re.exec(s)) {
    const kind = m[1]!.trim() === 'IP Address' ? 'IP' : m[1]!.trim()
    let value = m[2]!.trim()
    if (value.startsWith('"')) {
      try {
        value = JSON.parse(value) as string
      } catch {
        // keep the quoted form
      }
    }
    out.push(`${kind}:${value}`)
  }
  return out
}

/** Node renders names one attribute per line; an empty name (no attribute at all) is `undefined` there and `(empty)` here. */
export const oneLine = (dn: string | undefined): string => (dn ? dn.split('\n').filter(Boolean).join(', ') : '') || '(empty)'

/** A getter of a hostile certificate may throw or return nothing: `fallback` then. */
function safe<T>(get: () => T | undefined, fallback: T): T {
  try {
    return get() ?? fallback
  } catch {
    return fallback
  }
}

// Endpoints share intermediates and roots: describe each certificate once (bounded).
const described = new Map<string, CertInfo>()

/** Describes a parsed certificate. */
export function describe(x509: X509Certificate): CertInfo {
  const fp = x509.fingerprint256
  let info = described.get(fp)
  if (!info) {
    info = describeUncached(x509)
    if (described.size >= 5_000) described.clear()
    described.set(fp, info)
  }
  return info
}

function describeUncached(x509: X509Certificate): CertInfo {
  // Every field tolerates absence and malformation: an undecodable key is `unknown` (and a weak key), an empty name `(empty)`.
  const key = safe<KeyObject | null>(() => x509.publicKey, null)
  const details = safe(() => key?.asymmetricKeyDetails, {})
  const keyType = safe(() => key?.asymmetricKeyType, 'unknown')
  const curve = details.namedCurve
  const keySize =
    details.modulusLength ?? (curve ? (CURVE_BITS.get(curve) ?? null) : keyType === 'ed25519' ? 256 : keyType === 'ed448' ? 456 : null)
  const sig = signatureAlgorithmOf(x509.raw)
  const subjectDn = safe(() => x509.subject, '')
  const issuerDn = safe(() => x509.issuer, '')
  // Names plus own-key signature; not checkIssued(), which also demands keyCertSign and so misses self-signed leaves.
  const selfSigned = key !== null && subjectDn === issuerDn && safe(() => x509.verify(key), false)
  const san = safe<string | undefined>(() => x509.subjectAltName, undefined)
  const date = (get: () => string): Date => {
    const d = new Date(safe(get, ''))
    return Number.isNaN(d.getTime()) ? new Date(0) : d
  }
  return {
    x509,
    subject: oneLine(subjectDn),
    issuer: oneLine(issuerDn),
    sans: parseSans(san),
    hasSan: san !== undefined,
    notBefore: date(() => x509.validFrom),
    notAfter: date(() => x509.validTo),
    keyType,
    keySize,
    ...(curve ? { curve } : {}),
    signatureAlgorithm: sig.name,
    signatureHash: sig.hash,
    fingerprint256: x509.fingerprint256.replace(/:/g, '').toLowerCase(),
    selfSigned,
    isCa: safe(() => x509.ca, false),
  }
}

/** Label of a certificate's place in the served chain: `leaf`, `intermediate[i]`, `root[i]`. */
export function positionOf(index: number, info: CertInfo): string {
  return index === 0 ? 'leaf' : info.selfSigned ? `root[${index}]` : `intermediate[${index}]`
}

/** The evidence every certificate finding carries. */
export function evidenceOf(info: CertInfo, position: string, protocol?: string): Record<string, unknown> {
  return {
    position,
    subject: info.subject,
    issuer: info.issuer,
    sans: info.sans,
    notBefore: info.notBefore.toISOString(),
    notAfter: info.notAfter.toISOString(),
    keyType: info.keyType,
    keySize: info.keySize,
    ...(info.curve ? { curve: info.curve } : {}),
    signatureAlgorithm: info.signatureAlgorithm,
    fingerprint256: info.fingerprint256,
    ...(protocol ? { protocol } : {}),
  }
}
