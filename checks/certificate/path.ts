/**
 * @fileoverview Certification path building and validation: RFC 5280 section 6 with the CA/Browser Forum Baseline Requirements
 * (the Web PKI profile) on top, for TLS server certificates.
 *
 * Building: from the leaf, every issuer candidate whose subject equals the certificate's issuer name (RFC 5280 7.1 comparison)
 * and whose key verifies its signature — served certificates, extra candidates (the AIA hook) and trust anchors — is tried,
 * depth first, AKI/SKI matches and anchors first, bounded in depth, paths and signature checks. Every path that reaches an
 * anchor is validated; the best one (fewest problems, then shortest) is the verdict. When no path reaches an anchor, the
 * longest dead end says why (incomplete, untrusted root, self-signed, bad signature) and is still judged.
 *
 * Validation returns problems, each naming the certificate (its index on the path), the rule, the RFC 5280 / BR section and
 * the field. Signatures come from `node:crypto` (`X509Certificate.verify`); everything else from `fields.ts`.
 */
import type { X509Certificate } from 'node:crypto'
import { DerError } from './der.ts'
import { describe, type CertInfo } from './describe.ts'
import { attrValues, dnText, extName, fieldsOf, ipText, KNOWN_EXTENSIONS, OID, validDnsName, type DistinguishedName, type Fields, type GeneralName } from './fields.ts'

/** Longest path built (leaf and anchor included). */
export const MAX_DEPTH = 12
/** Most complete paths validated, and most signature checks, per chain. */
export const MAX_PATHS = 32
const MAX_SIGNATURE_CHECKS = 256
/** Most name-against-constraint comparisons per certificate and constraining CA (OpenSSL's NAME_CHECK_MAX). */
const MAX_NAME_CHECKS = 1 << 20

/** A certificate that may be on a path. */
export interface Node {
  readonly x509: X509Certificate
  readonly info: CertInfo
  /** Fields, or why they could not be read. */
  readonly fields: Fields | DerError
  /** Index in the served list (or the file), when served. */
  readonly served?: number
  /** A trust anchor. */
  readonly anchor: boolean
  /** Came from the extra candidates (e.g. fetched through AIA). */
  readonly extra?: boolean
  /** A root of Node's bundled store (the Mozilla program's): vetted there, its encoding quirks are not profile findings. */
  readonly system?: boolean
}

/** Rules a path problem belongs to. */
export type PathRule =
  | 'certificate-expired'
  | 'certificate-not-yet-valid'
  | 'certificate-invalid-ca'
  | 'certificate-name-constraints'
  | 'certificate-wrong-purpose'
  | 'certificate-unknown-critical-extension'
  | 'certificate-profile-violation'
  | 'certificate-weak-key'
  | 'certificate-weak-signature'

/** One reason a path is not valid. */
export interface Problem {
  readonly rule: PathRule
  /** Index on the path (0 = leaf). */
  readonly at: number
  /** `RFC 5280 4.2.1.9`, `BR 7.1.2.7.10`, … */
  readonly section: string
  /** The certificate field or extension judged. */
  readonly field: string
  readonly detail: string
}

/** Why a path does not end at an anchor. */
export type TrustStatus = 'trusted' | 'self-signed' | 'untrusted-root' | 'incomplete' | 'bad-signature'

/** A built path, leaf first; when `status` is `trusted` its last node is the anchor. */
export interface Path {
  readonly nodes: readonly Node[]
  readonly status: TrustStatus
  /** Issuer name that could not be found or verified, for dead ends. */
  readonly missingIssuer?: string
  readonly problems: readonly Problem[]
}

/** Judgement parameters. */
export interface PathOptions {
  /** Validation time, ms. */
  readonly now: number
  readonly weakHashes: readonly string[]
  readonly minRsaBits: number
  readonly minEcBits: number
  /** The first certificate is a CA judged on its own (a CA file), not a server certificate. */
  readonly leafIsCa?: boolean
}

/** Trust anchors, looked up by normalised subject name. */
export interface AnchorIndex {
  byName(key: string): readonly Node[]
  has(fingerprint256: string): boolean
  /** True for a root of Node's bundled store. */
  system?(fingerprint256: string): boolean
}

export function nodeOf(x509: X509Certificate, extra: Partial<Pick<Node, 'served' | 'anchor' | 'extra' | 'system'>> = {}): Node {
  return { x509, info: describe(x509), fields: fieldsOf(x509.raw, x509.fingerprint256), anchor: false, ...extra }
}

const nameKey = (n: Node): string | undefined => (n.fields instanceof DerError ? undefined : n.fields.subject.key)
const issuerKey = (n: Node): string | undefined => (n.fields instanceof DerError ? undefined : n.fields.issuer.key)

// Many endpoints share intermediates and roots: remember signature checks (bounded).
const verified = new Map<string, boolean>()
function signs(parent: Node, child: Node): boolean {
  const key = `${child.x509.fingerprint256}>${parent.x509.fingerprint256}`
  let ok = verified.get(key)
  if (ok === undefined) {
    try {
      ok = child.x509.verify(parent.x509.publicKey)
    } catch {
      ok = false
    }
    if (verified.size >= 10_000) verified.clear()
    verified.set(key, ok)
  }
  return ok
}

const selfIssued = (n: Node): boolean => !(n.fields instanceof DerError) && n.fields.subject.key === n.fields.issuer.key
const akiMatches = (child: Node, parent: Node): boolean =>
  !(child.fields instanceof DerError) && !(parent.fields instanceof DerError) && !!child.fields.authorityKeyId?.keyId && !!parent.fields.subjectKeyId && child.fields.authorityKeyId.keyId.equals(parent.fields.subjectKeyId.id)

/**
 * Builds the candidate paths from `served[0]` (the leaf) and validates each. `extra` are more issuer candidates (the hook for
 * AIA-fetched certificates). Returns the best path first, then the others.
 */
export function buildPaths(served: readonly X509Certificate[], anchors: AnchorIndex, opts: PathOptions, extra: readonly X509Certificate[] = []): Path[] {
  const pool = [...served.map((x, i) => nodeOf(x, { served: i, anchor: anchors.has(x.fingerprint256), system: anchors.system?.(x.fingerprint256) ?? false })), ...extra.map((x) => nodeOf(x, { extra: true, anchor: anchors.has(x.fingerprint256) }))]
  const leaf = pool[0]!
  const complete: Node[][] = []
  let deadEnd: { nodes: Node[]; status: TrustStatus; missingIssuer?: string } | undefined
  let checks = 0
  const walk = (path: Node[]): void => {
    if (complete.length >= MAX_PATHS) return
    const cur = path.at(-1)!
    if (cur.anchor) {
      complete.push(path)
      return
    }
    const key = issuerKey(cur)
    const onPath = new Set(path.map((n) => n.x509.fingerprint256))
    const named = key === undefined ? [] : [...pool.filter((n) => nameKey(n) === key), ...anchors.byName(key)].filter((n) => !onPath.has(n.x509.fingerprint256))
    // Anchors first, then AKI/SKI matches; a served copy of an anchor (listed first, so kept) is the anchor.
    const seen = new Set<string>()
    const candidates = named
      .filter((n) => !seen.has(n.x509.fingerprint256) && !!seen.add(n.x509.fingerprint256))
      .sort((a, b) => Number(b.anchor) - Number(a.anchor) || Number(akiMatches(cur, b)) - Number(akiMatches(cur, a)))
    let found = false
    if (path.length < MAX_DEPTH) {
      for (const c of candidates) {
        if (complete.length >= MAX_PATHS || checks >= MAX_SIGNATURE_CHECKS) break
        checks++
        if (!signs(c, cur)) continue
        found = true
        walk([...path, c])
      }
    }
    if (!found) {
      const status: TrustStatus = cur.info.selfSigned ? (path.length === 1 ? 'self-signed' : 'untrusted-root') : candidates.length ? 'bad-signature' : 'incomplete'
      if (!deadEnd || path.length > deadEnd.nodes.length) deadEnd = { nodes: path, status, missingIssuer: cur.info.issuer }
    }
  }
  walk([leaf])
  const paths: Path[] = complete.map((nodes) => ({ nodes, status: 'trusted', problems: validatePath(nodes, true, opts) }))
  if (!paths.length) {
    const d = deadEnd ?? { nodes: [leaf], status: 'incomplete' as const, missingIssuer: leaf.info.issuer }
    paths.push({ nodes: d.nodes, status: d.status, ...(d.missingIssuer ? { missingIssuer: d.missingIssuer } : {}), problems: validatePath(d.nodes, false, opts) })
  }
  return paths.sort((a, b) => a.problems.length - b.problems.length || a.nodes.length - b.nodes.length)
}

// ---------------------------------------------------------------------------------------------------------------------------
// Validation

const ALLOWED_CURVES = new Set(['prime256v1', 'secp384r1', 'secp521r1'])
const CA_POSITION = (i: number, n: number, complete: boolean): string => (i === 0 ? 'leaf' : complete && i === n - 1 ? 'trust anchor' : 'CA')

/** Validates one path (leaf first; the last node is the anchor when `complete`). */
export function validatePath(nodes: readonly Node[], complete: boolean, opts: PathOptions): Problem[] {
  const out: Problem[] = []
  const add = (rule: PathRule, at: number, section: string, field: string, detail: string): void => void out.push({ rule, at, section, field, detail })
  // RFC 5280 compares at second precision: a validation time of 00:00:00.999 is 00:00:00 (limbo's notafter-fractional).
  const now = Math.floor(opts.now / 1000) * 1000
  const n = nodes.length
  for (let i = 0; i < n; i++) {
    const node = nodes[i]!
    const f = node.fields
    const isAnchor = complete && i === n - 1
    const isCa = i > 0 || !!opts.leafIsCa
    keyRules(node, i, isAnchor, opts, add)
    if (f instanceof DerError) {
      add('certificate-profile-violation', i, 'RFC 5280 4.1', 'tbsCertificate', `not readable as DER: ${f.message}`)
      continue
    }
    if (now < f.notBefore) add('certificate-not-yet-valid', i, 'RFC 5280 6.1.3 (a)(2)', 'validity.notBefore', `valid only from ${new Date(f.notBefore).toISOString()}`)
    if (now > f.notAfter) add('certificate-expired', i, 'RFC 5280 6.1.3 (a)(2)', 'validity.notAfter', `expired at ${new Date(f.notAfter).toISOString()}`)
    for (const e of f.extensions) if (e.critical && !KNOWN_EXTENSIONS.has(e.oid)) add('certificate-unknown-critical-extension', i, 'RFC 5280 6.1.4 (o), 4.2', `extension ${e.oid}`, 'critical extension ztscan does not recognise: a validator must reject the certificate')
    for (const d of new Set(f.duplicates)) add('certificate-profile-violation', i, 'RFC 5280 4.2', `extension ${extName(d)}`, 'appears more than once')
    for (const m of f.malformed) {
      const rule: PathRule = m.field === 'nameConstraints' ? 'certificate-name-constraints' : m.field === 'basicConstraints' ? 'certificate-invalid-ca' : m.field === 'extKeyUsage' ? 'certificate-wrong-purpose' : 'certificate-profile-violation'
      add(rule, i, 'RFC 5280 4.2', m.field, `malformed: ${m.detail}`)
    }
    if (!f.sigInner.equals(f.sigOuter)) add('certificate-profile-violation', i, 'RFC 5280 4.1.1.2', 'signatureAlgorithm', 'differs from tbsCertificate.signature')
    serialRules(f, i, add)
    if (!f.issuer.rdns.length) add('certificate-profile-violation', i, 'RFC 5280 4.1.2.4', 'issuer', 'empty issuer name')
    if (f.authorityKeyId?.critical) add('certificate-profile-violation', i, 'RFC 5280 4.2.1.1', 'authorityKeyIdentifier', 'marked critical')
    if (!f.authorityKeyId && !(node.info.selfSigned && isAnchor) && !(isAnchor && selfIssued(node))) add('certificate-profile-violation', i, 'RFC 5280 4.2.1.1', 'authorityKeyIdentifier', 'absent (required except in self-signed roots)')
    if (f.subjectKeyId?.critical) add('certificate-profile-violation', i, 'RFC 5280 4.2.1.2', 'subjectKeyIdentifier', 'marked critical')
    if (f.extensions.some((e) => e.oid === OID.policyConstraints && !e.critical)) add('certificate-profile-violation', i, 'RFC 5280 4.2.1.11', 'policyConstraints', 'not marked critical')
    if (f.extensions.some((e) => e.oid === OID.authorityInfoAccess && e.critical)) add('certificate-profile-violation', i, 'RFC 5280 4.2.2.1', 'authorityInfoAccess', 'marked critical')
    if (isCa) caRules(nodes, i, isAnchor, add)
    else leafRules(node, f, n === 1 && complete, add)
  }
  nameConstraintRules(nodes, complete, add)
  // Six roots of the bundled Mozilla store have serial 0, three an AKI with issuer and serial, one no SKI, one a non-critical
  // basicConstraints: every browser trusts them, so these are not the served chain's faults. CA-file anchors are judged fully.
  const anchor = complete ? nodes[n - 1] : undefined
  if (anchor?.system) return out.filter((p) => !(p.at === n - 1 && p.rule === 'certificate-profile-violation'))
  return out
}

type Add = (rule: PathRule, at: number, section: string, field: string, detail: string) => void

function keyRules(node: Node, i: number, isAnchor: boolean, opts: PathOptions, add: Add): void {
  const { info } = node
  const f = node.fields
  if (!(f instanceof DerError) && f.explicitCurve) add('certificate-weak-key', i, 'RFC 5480 2.1.1, BR 6.1.5', 'subjectPublicKeyInfo.algorithm', 'EC key with explicit curve parameters (only named curves are allowed)')
  else if (info.keyType === 'unknown') add('certificate-weak-key', i, 'RFC 5280 4.1.2.7', 'subjectPublicKeyInfo', 'key cannot be decoded')
  else if (info.keyType === 'dsa') add('certificate-weak-key', i, 'BR 6.1.5', 'subjectPublicKeyInfo', 'DSA keys are not allowed in the Web PKI')
  else if (info.keyType === 'ec' && (!info.curve || !ALLOWED_CURVES.has(info.curve))) add('certificate-weak-key', i, 'BR 6.1.5', 'subjectPublicKeyInfo', `curve ${info.curve ?? 'unknown'} is not allowed (P-256, P-384, P-521 only)`)
  else if ((info.keyType === 'rsa' || info.keyType === 'rsa-pss') && info.keySize !== null && info.keySize % 8 !== 0) add('certificate-weak-key', i, 'BR 6.1.5', 'subjectPublicKeyInfo', `RSA modulus of ${info.keySize} bits is not a multiple of 8`)
  else {
    const rsa = info.keyType === 'rsa' || info.keyType === 'rsa-pss'
    const min = rsa ? opts.minRsaBits : info.keyType === 'ec' ? opts.minEcBits : 0
    if (info.keySize !== null && info.keySize < min) add('certificate-weak-key', i, 'BR 6.1.5', 'subjectPublicKeyInfo', `${info.keyType} ${info.keySize} bits, minimum ${min}`)
  }
  // A trust anchor's own signature is never checked by clients, so its algorithm does not matter.
  if (!(isAnchor && info.selfSigned) && info.signatureHash !== null && opts.weakHashes.includes(info.signatureHash)) add('certificate-weak-signature', i, 'BR 7.1.3.2', 'signatureAlgorithm', `${info.signatureAlgorithm} is not allowed`)
}

function serialRules(f: Fields, i: number, add: Add): void {
  const s = f.serial
  if (s.length > 20) add('certificate-profile-violation', i, 'RFC 5280 4.1.2.2', 'serialNumber', `${s.length} octets (at most 20)`)
  if (s.length && s[0]! & 0x80) add('certificate-profile-violation', i, 'RFC 5280 4.1.2.2', 'serialNumber', 'negative')
  else if (s.every((b) => b === 0)) add('certificate-profile-violation', i, 'RFC 5280 4.1.2.2', 'serialNumber', 'zero')
}

function caRules(nodes: readonly Node[], i: number, isAnchor: boolean, add: Add): void {
  const node = nodes[i]!
  const f = node.fields as Fields
  const what = isAnchor ? 'trust anchor' : 'issuer'
  if (f.version < 3 && !isAnchor) add('certificate-invalid-ca', i, 'RFC 5280 6.1.4 (k)', 'version', `v${f.version} certificate used as a CA (no basicConstraints possible)`)
  if (!f.subject.rdns.length) add('certificate-profile-violation', i, 'RFC 5280 4.1.2.6', 'subject', `empty subject name on a CA certificate`)
  const bc = f.basicConstraints
  if (!bc) {
    if (!f.malformed.some((m) => m.field === 'basicConstraints')) add('certificate-invalid-ca', i, 'RFC 5280 6.1.4 (k), 4.2.1.9', 'basicConstraints', `absent: the ${what} is not marked as a CA`)
  } else {
    if (!bc.ca) add('certificate-invalid-ca', i, 'RFC 5280 6.1.4 (k), 4.2.1.9', 'basicConstraints.cA', `FALSE: the ${what} is not a CA and may not issue certificates`)
    if (!bc.critical) add('certificate-profile-violation', i, 'RFC 5280 4.2.1.9', 'basicConstraints', 'not marked critical in a CA certificate')
    if (bc.pathLen !== undefined) {
      // Non-self-issued intermediates below this CA (the leaf does not count), RFC 5280 6.1.4 (l), (m).
      let below = 0
      for (let j = 1; j < i; j++) if (!selfIssued(nodes[j]!)) below++
      if (below > bc.pathLen) add('certificate-invalid-ca', i, 'RFC 5280 6.1.4 (m), 4.2.1.9', 'basicConstraints.pathLenConstraint', `pathLenConstraint ${bc.pathLen}, but ${below} intermediate CA certificate${below === 1 ? '' : 's'} below it`)
    }
  }
  if (f.keyUsage && !f.keyUsage.has('keyCertSign')) add('certificate-invalid-ca', i, 'RFC 5280 6.1.4 (n), 4.2.1.3', 'keyUsage', `keyCertSign not asserted (${[...f.keyUsage].join(', ') || 'none'})`)
  if (!f.subjectKeyId) add('certificate-profile-violation', i, 'RFC 5280 4.2.1.2', 'subjectKeyIdentifier', 'absent in a CA certificate')
  if (f.extKeyUsage) {
    if (isAnchor) add('certificate-profile-violation', i, 'BR 7.1.2.1.2', 'extKeyUsage', 'a root CA certificate must not contain extKeyUsage')
    else if (!f.extKeyUsage.oids.includes(OID.serverAuth) && !f.extKeyUsage.oids.includes(OID.anyExtendedKeyUsage)) add('certificate-wrong-purpose', i, 'BR 7.1.2.2.4, RFC 5280 4.2.1.12', 'extKeyUsage', `the CA is restricted to ${f.extKeyUsage.oids.join(', ')}: not serverAuth`)
  }
  if (isAnchor && node.info.selfSigned && f.authorityKeyId) {
    const aki = f.authorityKeyId
    if (!aki.keyId) add('certificate-profile-violation', i, 'BR 7.1.2.1.3', 'authorityKeyIdentifier.keyIdentifier', 'absent')
    if (aki.issuer || aki.serial) add('certificate-profile-violation', i, 'BR 7.1.2.1.3', 'authorityKeyIdentifier', 'authorityCertIssuer / authorityCertSerialNumber must be absent')
    if (aki.keyId && f.subjectKeyId && !aki.keyId.equals(f.subjectKeyId.id)) add('certificate-profile-violation', i, 'BR 7.1.2.1.3', 'authorityKeyIdentifier.keyIdentifier', 'differs from the subjectKeyIdentifier of this self-signed root')
  }
  if (f.nameConstraints && !f.nameConstraints.permitted && !f.nameConstraints.excluded) add('certificate-name-constraints', i, 'RFC 5280 4.2.1.10', 'nameConstraints', 'empty')
}

function leafRules(node: Node, f: Fields, leafIsAnchor: boolean, add: Add): void {
  if (f.version !== 3) add('certificate-profile-violation', 0, 'BR 7.1.1', 'version', `v${f.version} (Web PKI certificates must be X.509 v3)`)
  if (f.basicConstraints?.ca && !leafIsAnchor) add('certificate-wrong-purpose', 0, 'BR 7.1.2.7.8, RFC 5280 4.2.1.9', 'basicConstraints.cA', 'TRUE: a CA certificate served as the TLS server certificate')
  const ku = f.keyUsage
  if (ku?.has('keyCertSign') && !f.basicConstraints?.ca) add('certificate-wrong-purpose', 0, 'RFC 5280 4.2.1.3', 'keyUsage', 'keyCertSign asserted in a certificate that is not a CA')
  if (ku && !ku.has('digitalSignature') && !ku.has('keyEncipherment') && !ku.has('keyAgreement')) add('certificate-wrong-purpose', 0, 'RFC 5280 4.2.1.3, BR 7.1.2.7.11', 'keyUsage', `allows neither digitalSignature nor keyEncipherment (${[...ku].join(', ') || 'none'})`)
  const eku = f.extKeyUsage
  if (!eku) {
    if (!f.malformed.some((m) => m.field === 'extKeyUsage') && !leafIsAnchor) add('certificate-wrong-purpose', 0, 'BR 7.1.2.7.10', 'extKeyUsage', 'absent (a TLS server certificate must assert serverAuth)')
  } else {
    if (!eku.oids.includes(OID.serverAuth)) add('certificate-wrong-purpose', 0, 'RFC 5280 4.2.1.12, BR 7.1.2.7.10', 'extKeyUsage', `serverAuth not asserted (${eku.oids.join(', ')})`)
    else if (eku.oids.includes(OID.anyExtendedKeyUsage)) add('certificate-wrong-purpose', 0, 'BR 7.1.2.7.10', 'extKeyUsage', 'anyExtendedKeyUsage is not allowed in a TLS server certificate')
    if (eku.critical) add('certificate-profile-violation', 0, 'BR 7.1.2.7.10', 'extKeyUsage', 'marked critical')
  }
  if (f.nameConstraints) add('certificate-name-constraints', 0, 'RFC 5280 4.2.1.10', 'nameConstraints', 'present in an end-entity certificate (CA certificates only)')
  const san = f.subjectAltName
  if (san) {
    if (!f.subject.rdns.length && !san.critical) add('certificate-profile-violation', 0, 'RFC 5280 4.2.1.6', 'subjectAltName', 'not critical although the subject is empty')
    if (f.subject.rdns.length && san.critical) add('certificate-profile-violation', 0, 'BR 7.1.2.7.12', 'subjectAltName', 'critical although the subject is not empty')
    for (const g of san.names) {
      if (g.kind !== 'dns') continue
      const wild = g.text.startsWith('*.')
      if (!validDnsName(g.text, true)) add('certificate-profile-violation', 0, 'BR 7.1.2.7.12, RFC 5280 4.2.1.6', 'subjectAltName.dNSName', `"${g.text}" is not a valid DNS name${g.text.includes('*') ? ' (a wildcard is allowed only as the whole leftmost label)' : ''}`)
      else if (wild && g.text.split('.').length < 3) add('certificate-profile-violation', 0, 'BR 3.2.2.6', 'subjectAltName.dNSName', `"${g.text}": a wildcard directly under a top-level domain`)
    }
    // BR 7.1.4.3: each commonName is a byte-for-byte copy of a dNSName, or an iPAddress in its canonical text form.
    const forms = new Set(san.names.flatMap((g) => (g.kind === 'dns' ? [g.text] : g.kind === 'ip' && g.bytes ? [ipText(g.bytes)] : [])))
    for (const cn of attrValues(f.subject, OID.commonName)) if (!forms.has(cn)) add('certificate-profile-violation', 0, 'BR 7.1.4.3', 'subject.commonName', `"${cn}" is not among the subjectAltName entries (byte for byte, IP addresses in canonical form)`)
  }
  void node
}

// ---------------------------------------------------------------------------------------------------------------------------
// Name constraints, RFC 5280 4.2.1.10 and 6.1.3 (b), (c)

function dnsWithin(name: string, base: string): boolean {
  const n = name.toLowerCase()
  const b = base.toLowerCase()
  return b === '' || n === b || n.endsWith(`.${b}`)
}

function emailWithin(name: string, base: string): boolean {
  const at = name.lastIndexOf('@')
  const domain = (at >= 0 ? name.slice(at + 1) : name).toLowerCase()
  const b = base.toLowerCase()
  if (b.includes('@')) return name.slice(0, at) === base.slice(0, base.lastIndexOf('@')) && domain === b.slice(b.lastIndexOf('@') + 1)
  if (b.startsWith('.')) return domain.endsWith(b)
  return domain === b
}

function uriWithin(name: string, base: string): boolean {
  let host: string
  try {
    host = new URL(name).hostname.toLowerCase()
  } catch {
    return false
  }
  const b = base.toLowerCase()
  return b.startsWith('.') ? host.endsWith(b) : host === b
}

function ipWithin(addr: Buffer, base: Buffer): boolean {
  if (base.length !== addr.length * 2) return false
  for (let i = 0; i < addr.length; i++) if ((addr[i]! & base[addr.length + i]!) !== (base[i]! & base[addr.length + i]!)) return false
  return true
}

function dnWithin(name: DistinguishedName, base: DistinguishedName): boolean {
  const nk = name.key.split(',')
  const bk = base.key ? base.key.split(',') : []
  return bk.length <= nk.length && bk.every((k, i) => k === nk[i])
}

/** True when `name` is within `base` (same kind); `undefined` when ztscan cannot evaluate that kind. */
export function nameWithin(name: GeneralName, base: GeneralName): boolean | undefined {
  switch (base.kind) {
    case 'dns':
      return dnsWithin(name.text, base.text)
    case 'email':
      return emailWithin(name.text, base.text)
    case 'uri':
      return uriWithin(name.text, base.text)
    case 'ip':
      return name.bytes && base.bytes ? ipWithin(name.bytes, base.bytes) : false
    case 'dn':
      return name.dn && base.dn ? dnWithin(name.dn, base.dn) : false
    default:
      return undefined
  }
}

/** Whether a constraint base is well-formed (RFC 5280 4.2.1.10 syntax; CIDR masks contiguous). */
function constraintProblem(base: GeneralName): string | undefined {
  if (base.kind === 'dns' && base.text !== '' && !validDnsName(base.text.replace(/^\./, 'x.'), false)) return `dNSName constraint "${base.text}" is not a domain name`
  if (base.kind === 'dns' && base.text.startsWith('.')) return `dNSName constraint "${base.text}" has a leading period`
  if (base.kind === 'ip' && base.bytes) {
    const half = base.bytes.length / 2
    const mask = base.bytes.subarray(half)
    let seenZero = false
    for (const b of mask)
      for (let bit = 7; bit >= 0; bit--) {
        const one = (b >> bit) & 1
        if (one && seenZero) return `iPAddress constraint ${base.text}: mask is not a CIDR prefix`
        if (!one) seenZero = true
      }
    for (let i = 0; i < half; i++) if (base.bytes[i]! & ~mask[i]!) return `iPAddress constraint ${base.text}: address has bits outside its mask`
  }
  return undefined
}

/** The names of a certificate that constraints apply to: SAN entries, the subject DN (when not empty) and subject email addresses. */
function constrainedNames(f: Fields): GeneralName[] {
  const out: GeneralName[] = [...(f.subjectAltName?.names ?? [])]
  if (f.subject.rdns.length) out.push({ kind: 'dn', text: dnText(f.subject), dn: f.subject })
  for (const e of attrValues(f.subject, OID.emailAddress)) out.push({ kind: 'email', text: e })
  return out
}

function nameConstraintRules(nodes: readonly Node[], complete: boolean, add: Add): void {
  const n = nodes.length
  for (let k = n - 1; k >= 1; k--) {
    const ca = nodes[k]!.fields
    if (ca instanceof DerError || !ca.nameConstraints) continue
    const { permitted = [], excluded = [] } = ca.nameConstraints
    const bad = [...permitted, ...excluded].map(constraintProblem).find((p) => p !== undefined)
    if (bad) {
      add('certificate-name-constraints', k, 'RFC 5280 4.2.1.10', 'nameConstraints', bad)
      continue
    }
    const permittedKinds = new Set(permitted.map((p) => p.kind))
    for (let i = k - 1; i >= 0; i--) {
      const node = nodes[i]!
      const f = node.fields
      if (f instanceof DerError) continue
      // Not applied to self-issued intermediates, only to the final certificate (RFC 5280 6.1.3 (b), (c)).
      if (i > 0 && selfIssued(node)) continue
      const names = constrainedNames(f)
      // Names × constraints is quadratic in what the certificates carry: above OpenSSL's own limit the path is rejected
      // unevaluated rather than spending the CPU (a DoS shape, not a real PKI).
      const work = names.length * (permitted.length + excluded.length)
      if (work > MAX_NAME_CHECKS) {
        add('certificate-name-constraints', i, 'RFC 5280 4.2.1.10', 'subjectAltName', `${names.length} names against ${permitted.length + excluded.length} constraints of certificate ${k} on the path: more than ${MAX_NAME_CHECKS} comparisons, not evaluated`)
        continue
      }
      for (const name of names) {
        const label = `${name.kind === 'dn' ? 'directoryName' : name.kind === 'dns' ? 'dNSName' : name.kind === 'ip' ? 'iPAddress' : name.kind === 'email' ? 'rfc822Name' : name.kind} ${name.text}`
        const field = name.kind === 'dn' && !f.subjectAltName?.names.includes(name) ? 'subject' : 'subjectAltName'
        if (name.kind === 'dns' && !validDnsName(name.text, true)) {
          if (permittedKinds.has('dns') || excluded.some((e) => e.kind === 'dns')) add('certificate-name-constraints', i, 'RFC 5280 4.2.1.10', field, `${label}: not a valid DNS name, cannot be checked against the constraints of ${CA_POSITION(k, n, complete)} ${k}`)
          continue
        }
        for (const e of excluded) {
          if (e.kind !== name.kind) continue
          const w = nameWithin(name, e)
          if (w !== false) add('certificate-name-constraints', i, 'RFC 5280 6.1.3 (b)', field, `${label} ${w === undefined ? 'cannot be evaluated against' : 'is within'} the excluded subtree ${e.text || '(all)'} of certificate ${k} on the path`)
        }
        if (permittedKinds.has(name.kind)) {
          const results = permitted.filter((p) => p.kind === name.kind).map((p) => nameWithin(name, p))
          if (!results.includes(true)) add('certificate-name-constraints', i, 'RFC 5280 6.1.3 (b)', field, `${label} is outside the permitted subtrees (${permitted.filter((p) => p.kind === name.kind).map((p) => p.text || '(all)').join(', ')}) of certificate ${k} on the path`)
        }
      }
    }
  }
}
