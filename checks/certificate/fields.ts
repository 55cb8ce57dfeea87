/**
 * @fileoverview The fields of a certificate that path validation judges (RFC 5280 section 4), read from the DER with `der.ts`:
 * version, serial, both signature algorithm fields, names (as encoded and normalised for comparison), validity to the
 * millisecond, the key's algorithm and curve encoding, and every extension — basicConstraints, keyUsage, extendedKeyUsage,
 * subjectAltName, nameConstraints, authority/subject key identifiers, AIA — each decoded defensively. `node:crypto` does the
 * signatures and key sizes; it exposes none of these.
 *
 * An unreadable certificate structure throws `DerError`; an extension that does not decode is recorded in `malformed` with its
 * field name, and judged by the rules (a malformed extension is a finding, not a crash).
 */
import { isIP } from 'node:net'
import { CONTEXT, DerError, T, UNIVERSAL, bool, is, kids, must, oid, parseDer, raw, smallInt, text, time, value, type Tlv } from './der.ts'

/** One attribute of a distinguished name. */
export interface NameAttr {
  readonly oid: string
  readonly value: string
}

/** A distinguished name as encoded and as compared. */
export interface DistinguishedName {
  readonly raw: Buffer
  readonly rdns: readonly (readonly NameAttr[])[]
  /** Comparison key (RFC 5280 7.1, simplified RFC 4518: case folded, inner whitespace collapsed, outer trimmed). */
  readonly key: string
}

export type GeneralNameKind = 'other' | 'email' | 'dns' | 'x400' | 'dn' | 'edi' | 'uri' | 'ip' | 'rid'
const GN_KINDS: readonly GeneralNameKind[] = ['other', 'email', 'dns', 'x400', 'dn', 'edi', 'uri', 'ip', 'rid']

/** One GeneralName (RFC 5280 4.2.1.6). */
export interface GeneralName {
  readonly kind: GeneralNameKind
  /** Text form: the IA5 string, the IP address (or address/mask in constraints), a one-line DN, or the hex of the rest. */
  readonly text: string
  /** iPAddress octets. */
  readonly bytes?: Buffer
  /** directoryName. */
  readonly dn?: DistinguishedName
}

export interface Extension {
  readonly oid: string
  readonly critical: boolean
  readonly value: Buffer
}

export type KeyUsageBit = 'digitalSignature' | 'nonRepudiation' | 'keyEncipherment' | 'dataEncipherment' | 'keyAgreement' | 'keyCertSign' | 'cRLSign' | 'encipherOnly' | 'decipherOnly'
const KU_BITS: readonly KeyUsageBit[] = ['digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement', 'keyCertSign', 'cRLSign', 'encipherOnly', 'decipherOnly']

export const OID = {
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  issuerAltName: '2.5.29.18',
  basicConstraints: '2.5.29.19',
  nameConstraints: '2.5.29.30',
  crlDistributionPoints: '2.5.29.31',
  certificatePolicies: '2.5.29.32',
  policyMappings: '2.5.29.33',
  authorityKeyIdentifier: '2.5.29.35',
  policyConstraints: '2.5.29.36',
  extKeyUsage: '2.5.29.37',
  freshestCrl: '2.5.29.46',
  inhibitAnyPolicy: '2.5.29.54',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  subjectInfoAccess: '1.3.6.1.5.5.7.1.11',
  tlsFeature: '1.3.6.1.5.5.7.1.24',
  sctList: '1.3.6.1.4.1.11129.2.4.2',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  anyExtendedKeyUsage: '2.5.29.37.0',
  commonName: '2.5.4.3',
  emailAddress: '1.2.840.113549.1.9.1',
  ecPublicKey: '1.2.840.10045.2.1',
  rsaEncryption: '1.2.840.113549.1.1.1',
  dsa: '1.2.840.10040.4.1',
} as const

/** Extensions ztscan processes or that are safe to ignore when critical (RFC 5280 4.2: "MUST recognize"). */
export const KNOWN_EXTENSIONS: ReadonlySet<string> = new Set([
  OID.subjectKeyIdentifier, OID.keyUsage, OID.subjectAltName, OID.issuerAltName, OID.basicConstraints, OID.nameConstraints,
  OID.crlDistributionPoints, OID.certificatePolicies, OID.policyMappings, OID.authorityKeyIdentifier, OID.policyConstraints,
  OID.extKeyUsage, OID.freshestCrl, OID.inhibitAnyPolicy, OID.authorityInfoAccess, OID.subjectInfoAccess, OID.sctList,
])

/** Extension names for evidence. */
export const EXT_NAMES: Readonly<Record<string, string>> = Object.fromEntries(Object.entries(OID).map(([k, v]) => [v, k]))
export const extName = (o: string): string => EXT_NAMES[o] ?? o

/** What path validation reads from one certificate. */
export interface Fields {
  /** 1, 2 or 3. */
  readonly version: number
  /** Serial number content octets (two's complement). */
  readonly serial: Buffer
  /** TBSCertificate.signature and Certificate.signatureAlgorithm, as encoded. */
  readonly sigInner: Buffer
  readonly sigOuter: Buffer
  readonly issuer: DistinguishedName
  readonly subject: DistinguishedName
  readonly notBefore: number
  readonly notAfter: number
  readonly keyAlgorithm: string
  /** EC key with explicit curve parameters instead of a named curve (RFC 5480 2.1.1: MUST NOT). */
  readonly explicitCurve: boolean
  readonly extensions: readonly Extension[]
  /** Extension OIDs that occur more than once (RFC 5280 4.2: MUST NOT). */
  readonly duplicates: readonly string[]
  readonly basicConstraints?: { readonly ca: boolean; readonly pathLen?: number; readonly critical: boolean }
  readonly keyUsage?: ReadonlySet<KeyUsageBit>
  readonly extKeyUsage?: { readonly oids: readonly string[]; readonly critical: boolean }
  readonly subjectAltName?: { readonly names: readonly GeneralName[]; readonly critical: boolean }
  readonly nameConstraints?: { readonly permitted?: readonly GeneralName[]; readonly excluded?: readonly GeneralName[]; readonly critical: boolean }
  readonly authorityKeyId?: { readonly keyId?: Buffer; readonly issuer: boolean; readonly serial: boolean; readonly critical: boolean }
  readonly subjectKeyId?: { readonly id: Buffer; readonly critical: boolean }
  /** Extensions that did not decode: field name and why. */
  readonly malformed: readonly { readonly field: string; readonly detail: string }[]
}

const STRING_TAGS: ReadonlySet<number> = new Set([T.UTF8, T.PRINTABLE, T.T61, T.IA5, T.VISIBLE, T.UNIVERSAL_STRING, T.BMP])

function dnOf(t: Tlv): DistinguishedName {
  must(t, T.SEQUENCE, 'Name')
  const rdns: NameAttr[][] = []
  const keys: string[] = []
  for (const rdn of kids(t, 256)) {
    must(rdn, T.SET, 'RelativeDistinguishedName')
    const attrs: NameAttr[] = []
    const akeys: string[] = []
    for (const atv of kids(rdn, 64)) {
      const [type, val] = kids(must(atv, T.SEQUENCE, 'AttributeTypeAndValue'), 2)
      if (!type || !val) throw new DerError('AttributeTypeAndValue without type or value')
      const o = oid(type)
      const isString = val.cls === UNIVERSAL && STRING_TAGS.has(val.tag)
      const v = isString ? text(val) : value(val).toString('hex')
      attrs.push({ oid: o, value: v })
      akeys.push(`${o}=${isString ? v.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim() : `#${raw(val).toString('hex')}`}`)
    }
    rdns.push(attrs)
    keys.push(akeys.sort().join('+'))
  }
  return { raw: raw(t), rdns, key: keys.join(',') }
}

/** One-line form of a DN for evidence (`CN=a, O=b`; OIDs for unnamed attributes). */
const ATTR_NAMES: Readonly<Record<string, string>> = { '2.5.4.3': 'CN', '2.5.4.6': 'C', '2.5.4.7': 'L', '2.5.4.8': 'ST', '2.5.4.10': 'O', '2.5.4.11': 'OU', '2.5.4.5': 'serialNumber', '1.2.840.113549.1.9.1': 'emailAddress', '0.9.2342.19200300.100.1.25': 'DC' }
export const dnText = (dn: DistinguishedName): string => dn.rdns.map((r) => r.map((a) => `${ATTR_NAMES[a.oid] ?? a.oid}=${a.value}`).join('+')).join(', ') || '(empty)'

/** Values of one attribute type in a DN. */
export const attrValues = (dn: DistinguishedName, o: string): string[] => dn.rdns.flatMap((r) => r.filter((a) => a.oid === o).map((a) => a.value))

/** Reads one GeneralName; `constraint` reads iPAddress as address+mask (RFC 5280 4.2.1.10). */
export function generalName(t: Tlv, constraint = false): GeneralName {
  if (t.cls !== CONTEXT || t.tag > 8) throw new DerError('GeneralName: unknown choice')
  const kind = GN_KINDS[t.tag]!
  switch (kind) {
    case 'email':
    case 'dns':
    case 'uri': {
      if (t.constructed) throw new DerError(`GeneralName ${kind}: constructed`)
      const v = value(t)
      for (const b of v) if (b > 0x7e || b < 0x20) throw new DerError(`GeneralName ${kind}: not a printable IA5String`)
      return { kind, text: v.toString('latin1') }
    }
    case 'ip': {
      const v = value(t)
      const ok = constraint ? v.length === 8 || v.length === 32 : v.length === 4 || v.length === 16
      if (!ok) throw new DerError(`GeneralName iPAddress: ${v.length} octets`)
      return { kind, text: ipText(v, constraint), bytes: Buffer.from(v) }
    }
    case 'dn': {
      const inner = kids(t, 1)[0]
      if (!inner) throw new DerError('GeneralName directoryName: empty')
      const dn = dnOf(inner)
      return { kind, text: dnText(dn), dn }
    }
    default:
      return { kind, text: value(t).toString('hex').slice(0, 64) }
  }
}

/** Canonical text of an address (dotted quad; RFC 5952 for IPv6), or address/mask for constraints. */
export function ipText(v: Buffer, constraint = false): string {
  const half = constraint ? v.length / 2 : v.length
  const one = (b: Buffer): string => {
    if (b.length === 4) return [...b].join('.')
    const groups: string[] = []
    for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16))
    // RFC 5952 4.2: the longest run (≥ 2) of zero groups becomes "::", the first when tied.
    let best = -1
    let bestLen = 1
    for (let i = 0; i < 8; ) {
      if (groups[i] !== '0') {
        i++
        continue
      }
      let j = i
      while (j < 8 && groups[j] === '0') j++
      if (j - i > bestLen) [best, bestLen] = [i, j - i]
      i = j
    }
    if (best < 0) return groups.join(':')
    return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`
  }
  return constraint ? `${one(v.subarray(0, half))}/${one(v.subarray(half))}` : one(v)
}

function generalNames(t: Tlv, constraint = false): GeneralName[] {
  return kids(must(t, T.SEQUENCE, 'GeneralNames'), 4096).map((n) => generalName(n, constraint))
}

function bits(t: Tlv): Set<KeyUsageBit> {
  const v = value(must(t, T.BIT_STRING, 'keyUsage'))
  if (!v.length || v[0]! > 7 || (v.length === 1 && v[0] !== 0)) throw new DerError('keyUsage: malformed BIT STRING')
  const out = new Set<KeyUsageBit>()
  for (let i = 0; i < KU_BITS.length; i++) {
    const byte = v[1 + (i >> 3)]
    if (byte !== undefined && byte & (0x80 >> (i & 7))) out.add(KU_BITS[i]!)
  }
  return out
}

function subtrees(t: Tlv): GeneralName[] {
  // GeneralSubtrees ::= SEQUENCE SIZE (1..MAX) OF GeneralSubtree (the [n] tag is IMPLICIT on the SEQUENCE).
  const list = kids(t, 4096)
  if (!list.length) throw new DerError('nameConstraints: empty GeneralSubtrees')
  return list.map((s) => {
    const [base, ...rest] = kids(must(s, T.SEQUENCE, 'GeneralSubtree'), 3)
    if (!base) throw new DerError('nameConstraints: GeneralSubtree without base')
    for (const r of rest) if (is(r, CONTEXT, 0) && smallInt({ ...r, cls: UNIVERSAL, tag: T.INTEGER }) !== 0) throw new DerError('nameConstraints: minimum must be 0')
    if (rest.some((r) => is(r, CONTEXT, 1))) throw new DerError('nameConstraints: maximum must be absent')
    return generalName(base, true)
  })
}

type Decoded = Partial<Pick<Fields, 'basicConstraints' | 'keyUsage' | 'extKeyUsage' | 'subjectAltName' | 'nameConstraints' | 'authorityKeyId' | 'subjectKeyId'>>

function decodeExtension(e: Extension, out: { -readonly [K in keyof Decoded]: Decoded[K] }): void {
  const t = parseDer(e.value)
  switch (e.oid) {
    case OID.basicConstraints: {
      const k = kids(must(t, T.SEQUENCE, 'basicConstraints'), 2)
      let ca = false
      let pathLen: number | undefined
      for (const c of k) {
        if (is(c, UNIVERSAL, T.BOOLEAN)) ca = bool(c)
        else pathLen = smallInt(c)
      }
      out.basicConstraints = { ca, ...(pathLen !== undefined ? { pathLen } : {}), critical: e.critical }
      return
    }
    case OID.keyUsage:
      out.keyUsage = bits(t)
      return
    case OID.extKeyUsage: {
      const oids = kids(must(t, T.SEQUENCE, 'extKeyUsage'), 256).map(oid)
      if (!oids.length) throw new DerError('extKeyUsage: empty (SIZE 1..MAX)')
      out.extKeyUsage = { oids, critical: e.critical }
      return
    }
    case OID.subjectAltName: {
      const names = generalNames(t)
      if (!names.length) throw new DerError('subjectAltName: empty (SIZE 1..MAX)')
      out.subjectAltName = { names, critical: e.critical }
      return
    }
    case OID.nameConstraints: {
      const k = kids(must(t, T.SEQUENCE, 'nameConstraints'), 2)
      const permitted = k.find((c) => is(c, CONTEXT, 0))
      const excluded = k.find((c) => is(c, CONTEXT, 1))
      if (!permitted && !excluded) throw new DerError('nameConstraints: neither permittedSubtrees nor excludedSubtrees (RFC 5280 4.2.1.10)')
      out.nameConstraints = { ...(permitted ? { permitted: subtrees(permitted) } : {}), ...(excluded ? { excluded: subtrees(excluded) } : {}), critical: e.critical }
      return
    }
    case OID.authorityKeyIdentifier: {
      const k = kids(must(t, T.SEQUENCE, 'authorityKeyIdentifier'), 3)
      const id = k.find((c) => is(c, CONTEXT, 0))
      out.authorityKeyId = { ...(id ? { keyId: Buffer.from(value(id)) } : {}), issuer: k.some((c) => is(c, CONTEXT, 1)), serial: k.some((c) => is(c, CONTEXT, 2)), critical: e.critical }
      return
    }
    case OID.subjectKeyIdentifier:
      out.subjectKeyId = { id: Buffer.from(value(must(t, T.OCTET_STRING, 'subjectKeyIdentifier'))), critical: e.critical }
      return
    case OID.authorityInfoAccess:
    case OID.subjectInfoAccess: {
      const list = kids(must(t, T.SEQUENCE, extName(e.oid)), 256)
      if (!list.length) throw new DerError(`${extName(e.oid)}: empty`)
      for (const ad of list) {
        const [method, location] = kids(must(ad, T.SEQUENCE, 'AccessDescription'), 2)
        if (!method || !location) throw new DerError('AccessDescription: incomplete')
        oid(method)
        generalName(location)
      }
      return
    }
    case OID.certificatePolicies:
    case OID.crlDistributionPoints:
    case OID.policyConstraints:
      must(t, T.SEQUENCE, extName(e.oid))
      kids(t)
      return
    default:
  }
}

/** Reads the fields of a DER certificate. Throws `DerError` when the certificate structure itself is unreadable. */
export function readFields(der: Buffer): Fields {
  const cert = parseDer(der)
  const [tbs, sigAlg, sigVal] = kids(must(cert, T.SEQUENCE, 'Certificate'), 3)
  if (!tbs || !sigAlg || !sigVal) throw new DerError('Certificate: expected tbsCertificate, signatureAlgorithm, signatureValue')
  const f = kids(must(tbs, T.SEQUENCE, 'TBSCertificate'), 16)
  let i = 0
  let version = 1
  if (is(f[0], CONTEXT, 0)) {
    version = smallInt(kids(f[0]!, 1)[0]!) + 1
    i++
  }
  const serial = value(must(f[i++], T.INTEGER, 'serialNumber'))
  const sigInner = raw(must(f[i++], T.SEQUENCE, 'signature'))
  const issuer = dnOf(f[i++]!)
  const validity = kids(must(f[i++], T.SEQUENCE, 'validity'), 2)
  if (validity.length !== 2) throw new DerError('validity: expected notBefore and notAfter')
  const subject = dnOf(f[i++]!)
  const spki = kids(must(f[i++], T.SEQUENCE, 'subjectPublicKeyInfo'), 2)
  const alg = kids(must(spki[0], T.SEQUENCE, 'subjectPublicKeyInfo.algorithm'), 2)
  const keyAlgorithm = oid(alg[0]!)
  const explicitCurve = keyAlgorithm === OID.ecPublicKey && !is(alg[1], UNIVERSAL, T.OID)
  const extensions: Extension[] = []
  for (; i < f.length; i++) {
    if (!is(f[i], CONTEXT, 3)) continue
    for (const e of kids(must(kids(f[i]!, 1)[0], T.SEQUENCE, 'extensions'), 512)) {
      const parts = kids(must(e, T.SEQUENCE, 'Extension'), 3)
      const critical = parts.length === 3 ? bool(parts[1]!) : false
      const val = parts.at(-1)
      extensions.push({ oid: oid(parts[0]!), critical, value: Buffer.from(value(must(val, T.OCTET_STRING, 'extnValue'))) })
    }
  }
  const seen = new Set<string>()
  const duplicates: string[] = []
  const decoded: { -readonly [K in keyof Decoded]: Decoded[K] } = {}
  const malformed: { field: string; detail: string }[] = []
  for (const e of extensions) {
    if (seen.has(e.oid)) {
      duplicates.push(e.oid)
      continue
    }
    seen.add(e.oid)
    try {
      decodeExtension(e, decoded)
    } catch (err) {
      malformed.push({ field: extName(e.oid), detail: err instanceof DerError ? err.message : 'undecodable' })
    }
  }
  return {
    version,
    serial: Buffer.from(serial),
    sigInner: Buffer.from(sigInner),
    sigOuter: Buffer.from(raw(sigAlg)),
    issuer,
    subject,
    notBefore: time(validity[0]!),
    notAfter: time(validity[1]!),
    keyAlgorithm,
    explicitCurve,
    extensions,
    duplicates,
    ...decoded,
    malformed,
  }
}

// Endpoints share intermediates and roots: read each certificate once (bounded).
const cache = new Map<string, Fields | DerError>()
/** `readFields` with a cache by fingerprint; returns the `DerError` instead of throwing. */
export function fieldsOf(der: Buffer, fingerprint: string): Fields | DerError {
  let f = cache.get(fingerprint)
  if (!f) {
    try {
      f = readFields(der)
    } catch (err) {
      f = err instanceof DerError ? err : new DerError(`unreadable (${(err as Error).message})`)
    }
    if (cache.size >= 5_000) cache.clear()
    cache.set(fingerprint, f)
  }
  return f
}

/** True when a DNS-ID is a syntactically valid (optionally leftmost-wildcard) preferred name syntax, ASCII (A-labels) only. */
export function validDnsName(name: string, wildcardOk: boolean): boolean {
  if (!name || name.length > 253 || isIP(name)) return false
  const labels = name.split('.')
  return labels.every((l, i) => (i === 0 && wildcardOk && l === '*' && labels.length > 1) || /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(l))
}

