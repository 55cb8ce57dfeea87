/**
 * @fileoverview Certificate and TLS-server factory for the demo lab, the tests and the peer-tool comparison.
 * Certificates are encoded with node-forge's ASN.1 layer and signed with `node:crypto`, so any key type (RSA, EC, Ed25519)
 * can be subject or issuer — `forge.pki` itself can only encode RSA keys. Servers listen on loopback only.
 */
import { createHash, createPublicKey, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto'
import { isIP } from 'node:net'
import type { AddressInfo, Socket } from 'node:net'
import { createSecureContext, createServer, type SecureContext, type SecureVersion, type Server } from 'node:tls'
import forge from 'node-forge'
import { tlsEndpoint } from './targets.ts'
import { integer, oidDer, seq, tlv } from './revocation-data.ts'
import type { Target } from '../../src/types.ts'

const { asn1 } = forge

/** A private key a certificate is made for (`rsa:2048`, `ec:prime256v1`, `ed25519`). */
export type KeySpec = `rsa:${number}` | `ec:${string}` | 'ed25519'

const keyCache = new Map<string, KeyObject>()

/**
 * A private key, generated once per process for each `(spec, slot)`: RSA key generation is slow, so callers reuse keys
 * wherever the key is not what is being tested; a different `slot` gives a different key of the same kind.
 */
export function privateKey(spec: KeySpec, slot = 0): KeyObject {
  const id = `${spec}#${slot}`
  let k = keyCache.get(id)
  if (!k) {
    const [type, param] = spec.split(':') as [string, string | undefined]
    if (type === 'rsa') k = generateKeyPairSync('rsa', { modulusLength: Number(param) }).privateKey
    else if (type === 'ec') k = generateKeyPairSync('ec', { namedCurve: param! }).privateKey
    else k = generateKeyPairSync('ed25519').privateKey
    keyCache.set(id, k)
  }
  return k
}

/** Hash of a certificate signature. */
export type SignatureHash = 'md5' | 'sha1' | 'sha256' | 'sha384' | 'sha512'

const RSA_SIG: Record<SignatureHash, string> = {
  md5: '1.2.840.113549.1.1.4',
  sha1: '1.2.840.113549.1.1.5',
  sha256: '1.2.840.113549.1.1.11',
  sha384: '1.2.840.113549.1.1.12',
  sha512: '1.2.840.113549.1.1.13',
}
const EC_SIG: Partial<Record<SignatureHash, string>> = {
  sha1: '1.2.840.10045.4.1',
  sha256: '1.2.840.10045.4.3.2',
  sha384: '1.2.840.10045.4.3.3',
  sha512: '1.2.840.10045.4.3.4',
}

/** An issued certificate with its private key. */
export interface Issued {
  readonly der: Buffer
  readonly pem: string
  readonly key: KeyObject
  readonly x509: X509Certificate
  /** Subject key identifier (hex), used as the authority key identifier of what this certificate signs. */
  readonly ski: string
}

/** What to put in a certificate. */
export interface CertSpec {
  /** Subject common name. */
  readonly cn: string
  /** Subject private key (its public half goes in the certificate). */
  readonly key: KeyObject
  /** Issuer; absent for a self-signed certificate. */
  readonly issuer?: Issued
  /** SAN entries: names, or IP addresses (detected). An empty list omits the extension. */
  readonly sans?: readonly string[]
  readonly notBefore: Date
  readonly notAfter: Date
  readonly hash?: SignatureHash
  /** A CA certificate (basicConstraints CA:TRUE, keyCertSign). */
  readonly ca?: boolean
  readonly organization?: string
  /** Path validation corpus knobs (defaults: a conforming certificate). */
  readonly profile?: ProfileSpec
}

/** Deviations from a conforming certificate, for the path validation corpus and the fuzzers. */
export interface ProfileSpec {
  /** An empty subject name (no attribute at all). */
  readonly emptySubject?: boolean
  /** Extensions left out. */
  readonly omit?: readonly ('basicConstraints' | 'keyUsage' | 'subjectKeyIdentifier' | 'authorityKeyIdentifier' | 'extKeyUsage')[]
  /** basicConstraints: cA (default: `ca`), pathLenConstraint, criticality (default critical). */
  readonly basicConstraints?: { readonly ca?: boolean; readonly pathLen?: number; readonly critical?: boolean }
  /** keyUsage bits instead of the default ones. */
  readonly keyUsage?: readonly ('digitalSignature' | 'keyEncipherment' | 'keyCertSign' | 'cRLSign')[]
  /** extendedKeyUsage OIDs instead of serverAuth (leaves only by default). */
  readonly extKeyUsage?: readonly string[]
  /** nameConstraints (critical): DNS names, or IP CIDRs such as `10.0.0.0/8`. */
  readonly nameConstraints?: { readonly permitted?: readonly string[]; readonly excluded?: readonly string[] }
  /** More extensions, DER values as given. */
  readonly extra?: readonly { readonly oid: string; readonly critical: boolean; readonly value: Buffer }[]
  /** Serial number content octets. */
  readonly serial?: Buffer
  /** The subjectAltName extension's value as raw DER (e.g. malformed). */
  readonly rawSan?: Buffer
}

const ip4ToBytes = (ip: string): string => String.fromCharCode(...ip.split('.').map(Number))
function ip6ToBytes(ip: string): string {
  const [head, tail] = ip.includes('::') ? ip.split('::') as [string, string] : [ip, undefined]
  const h = head ? head.split(':') : []
  const t = tail ? tail.split(':') : []
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t]
  return groups.map((g) => { const n = parseInt(g || '0', 16); return String.fromCharCode(n >> 8, n & 255) }).join('')
}

/** NameConstraints DER: DNS names as dNSName subtrees, `a.b.c.d/len` (or IPv6) as iPAddress subtrees. */
function nameConstraintsAsn1(nc: { readonly permitted?: readonly string[]; readonly excluded?: readonly string[] }): forge.asn1.Asn1 {
  const base = (n: string): forge.asn1.Asn1 => {
    const [addr, len] = n.split('/') as [string, string | undefined]
    if (len === undefined || !isIP(addr)) return asn1.create(asn1.Class.CONTEXT_SPECIFIC, 2, false, n)
    const bytes = isIP(addr) === 4 ? ip4ToBytes(addr) : ip6ToBytes(addr)
    let mask = ''
    for (let i = 0; i < bytes.length; i++) mask += String.fromCharCode(Math.max(0, Math.min(8, Number(len) - 8 * i)) === 0 ? 0 : (0xff << (8 - Math.min(8, Number(len) - 8 * i))) & 0xff)
    return asn1.create(asn1.Class.CONTEXT_SPECIFIC, 7, false, bytes + mask)
  }
  const trees = (tag: number, names: readonly string[]): forge.asn1.Asn1 =>
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, tag, true, names.map((n) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [base(n)])))
  return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [...(nc.permitted ? [trees(0, nc.permitted)] : []), ...(nc.excluded ? [trees(1, nc.excluded)] : [])])
}

function sigAlgorithm(issuerKey: KeyObject, hash: SignatureHash): forge.asn1.Asn1 {
  const oid = (o: string): forge.asn1.Asn1 => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(o).getBytes())
  const type = issuerKey.asymmetricKeyType
  if (type === 'rsa') return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [oid(RSA_SIG[hash]), asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, '')])
  if (type === 'ec' && EC_SIG[hash]) return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [oid(EC_SIG[hash]!)])
  if (type === 'ed25519') return asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [oid('1.3.101.112')])
  throw new TypeError(`cannot sign with a ${type} key and ${hash}`)
}

const toBinary = (b: Buffer): string => b.toString('binary')
const fromBinary = (s: string): Buffer => Buffer.from(s, 'binary')

/** Issues a certificate (self-signed when `spec.issuer` is absent). */
export function issue(spec: CertSpec): Issued {
  const pub = createPublicKey(spec.key)
  const spkiDer = pub.export({ type: 'spki', format: 'der' })
  const ski = createHash('sha1').update(spkiDer).digest('hex')
  const issuerKey = spec.issuer?.key ?? spec.key
  const hash = spec.hash ?? 'sha256'
  const holder = forge.pki.createCertificate()
  const p = spec.profile ?? {}
  const omit = new Set(p.omit ?? [])
  if (!p.emptySubject) holder.setSubject([{ name: 'commonName', value: spec.cn }, ...(spec.organization ? [{ name: 'organizationName', value: spec.organization }] : [])])
  // forge takes a string extension value as its DER as is (so malformed values can be made).
  const octets = (der: Buffer): string => toBinary(der)
  const bc = p.basicConstraints ?? {}
  const exts: Record<string, unknown>[] = []
  if (!omit.has('basicConstraints')) exts.push({ name: 'basicConstraints', cA: bc.ca ?? !!spec.ca, ...(bc.pathLen !== undefined ? { pathLenConstraint: bc.pathLen } : {}), critical: bc.critical ?? true })
  if (!omit.has('keyUsage')) {
    const ku = p.keyUsage ? Object.fromEntries(p.keyUsage.map((k) => [k, true])) : { digitalSignature: true, keyEncipherment: !spec.ca && pub.asymmetricKeyType === 'rsa', keyCertSign: !!spec.ca, cRLSign: !!spec.ca }
    exts.push({ name: 'keyUsage', critical: true, ...ku })
  }
  if (!omit.has('subjectKeyIdentifier')) exts.push({ id: '2.5.29.14', value: asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, forge.util.hexToBytes(ski)) })
  if (!omit.has('extKeyUsage') && (p.extKeyUsage || !spec.ca)) {
    const ekus = p.extKeyUsage ?? ['1.3.6.1.5.5.7.3.1']
    exts.push({ id: '2.5.29.37', value: asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, ekus.map((o) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(o).getBytes()))) })
  }
  const akid = spec.issuer?.ski ?? ski
  if (!omit.has('authorityKeyIdentifier'))
    exts.push({
      id: '2.5.29.35',
      value: asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, false, forge.util.hexToBytes(akid))]),
    })
  if (p.rawSan) exts.push({ id: '2.5.29.17', value: octets(p.rawSan) })
  else if (spec.sans?.length)
    exts.push({ name: 'subjectAltName', critical: !!p.emptySubject, altNames: spec.sans.map((n) => (isIP(n) ? { type: 7, value: isIP(n) === 4 ? ip4ToBytes(n) : ip6ToBytes(n) } : { type: 2, value: n })) })
  if (p.nameConstraints) exts.push({ id: '2.5.29.30', critical: true, value: nameConstraintsAsn1(p.nameConstraints) })
  for (const e of p.extra ?? []) exts.push({ id: e.oid, critical: e.critical, value: octets(e.value) })
  holder.setExtensions(exts)
  const subjectName = forge.pki.distinguishedNameToAsn1(holder.subject)
  // The issuer's subject exactly as encoded in the issuer (TBSCertificate field 5, after the explicit version).
  const issuerName = spec.issuer ? ((asn1.fromDer(toBinary(spec.issuer.der)).value[0] as forge.asn1.Asn1).value[5] as forge.asn1.Asn1) : subjectName
  const validity = (d: Date): forge.asn1.Asn1 =>
    d.getUTCFullYear() >= 1950 && d.getUTCFullYear() < 2050
      ? asn1.create(asn1.Class.UNIVERSAL, asn1.Type.UTCTIME, false, asn1.dateToUtcTime(d))
      : asn1.create(asn1.Class.UNIVERSAL, asn1.Type.GENERALIZEDTIME, false, asn1.dateToGeneralizedTime(d))
  const serial = p.serial ?? randomBytes(12)
  if (!p.serial) serial[0]! = (serial[0]! & 0x7f) | 0x01
  const algo = sigAlgorithm(issuerKey, hash)
  const tbs = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, asn1.integerToDer(2).getBytes())]),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, toBinary(serial)),
    algo,
    issuerName,
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [validity(spec.notBefore), validity(spec.notAfter)]),
    subjectName,
    asn1.fromDer(toBinary(spkiDer)),
    (forge.pki as unknown as { certificateExtensionsToAsn1(e: unknown[]): forge.asn1.Asn1 }).certificateExtensionsToAsn1(holder.extensions),
  ])
  const tbsDer = fromBinary(asn1.toDer(tbs).getBytes())
  const signature = sign(issuerKey.asymmetricKeyType === 'ed25519' ? null : hash, tbsDer, issuerKey)
  const cert = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    tbs,
    sigAlgorithm(issuerKey, hash),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BITSTRING, false, '\0' + toBinary(signature)),
  ])
  const der = fromBinary(asn1.toDer(cert).getBytes())
  const x509 = new X509Certificate(der)
  return { der, pem: x509.toString(), key: spec.key, x509, ski }
}

const DAY = 86_400_000

/** A TLS server the lab started. */
export interface LabServer {
  readonly host: string
  readonly port: number
  /** The `tls-endpoint` target that reaches it (with the SNI name, when one was given). */
  readonly target: Target
  readonly server: Server
  close(): Promise<void>
}

/** What a lab TLS server presents. */
export interface TlsServerSpec {
  /** Served chain, leaf first. */
  readonly chain: readonly Issued[]
  /** Loopback address to listen on (default 127.0.0.1; any of 127.0.0.0/8, or ::1). */
  readonly host?: `127.${number}.${number}.${number}` | '::1'
  readonly port?: number
  readonly minVersion?: SecureVersion
  readonly maxVersion?: SecureVersion
  /** SNI name the target uses. */
  readonly servername?: string
  /** Chains served for specific SNI names instead of `chain`. */
  readonly byName?: Readonly<Record<string, readonly Issued[]>>
}

function contextOptions(chain: readonly Issued[]): { key: string; cert: string } {
  return { key: chain[0]!.key.export({ type: 'pkcs8', format: 'pem' }) as string, cert: chain.map((c) => c.pem).join('') }
}

/**
 * Starts a TLS server on loopback (port 0 unless given) that completes handshakes and closes. Its security level is 0, so weak keys,
 * SHA-1/MD5 chains and TLS 1.0/1.1 (when `minVersion` allows them) are served as configured.
 */
export async function startTlsServer(spec: TlsServerSpec): Promise<LabServer> {
  const host = spec.host ?? '127.0.0.1'
  const ciphers = 'DEFAULT@SECLEVEL=0'
  const versions = { minVersion: spec.minVersion ?? 'TLSv1.2', maxVersion: spec.maxVersion ?? 'TLSv1.3' }
  const named = new Map(Object.entries(spec.byName ?? {}).map(([n, chain]) => [n, createSecureContext({ ...contextOptions(chain), ciphers, ...versions })]))
  const sockets = new Set<Socket>()
  const server = createServer(
    {
      ...contextOptions(spec.chain),
      ciphers,
      ...versions,
      ...(named.size ? { SNICallback: (name: string, cb: (err: Error | null, ctx?: SecureContext) => void) => cb(null, named.get(name)) } : {}),
    },
    (s) => s.end(),
  )
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  server.on('tlsClientError', () => {})
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(spec.port ?? 0, host, () => resolve())
  })
  const port = (server.address() as AddressInfo).port
  return {
    host,
    port,
    server,
    target: tlsEndpoint(host, port, spec.servername),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}

/** The lab's private PKI: a root CA (trusted through the lab's CA file) and an intermediate under it. */
export interface LabPki {
  readonly root: Issued
  readonly intermediate: Issued
  /** A root that no one trusts, with an intermediate-free leaf under it. */
  readonly rogueRoot: Issued
}

let pki: LabPki | undefined
/** The lab PKI, created once per process (EC P-256 CA keys; valid ten years around now). */
export function labPki(): LabPki {
  if (pki) return pki
  const now = Date.now()
  const long = { notBefore: new Date(now - 30 * DAY), notAfter: new Date(now + 3650 * DAY) }
  const root = issue({ cn: 'ztscan lab root CA', organization: 'ztscan lab', key: privateKey('ec:prime256v1', 0), ca: true, ...long })
  const intermediate = issue({ cn: 'ztscan lab issuing CA', organization: 'ztscan lab', key: privateKey('ec:prime256v1', 1), issuer: root, ca: true, ...long })
  const rogueRoot = issue({ cn: 'Rogue root CA', organization: 'nobody', key: privateKey('ec:prime256v1', 2), ca: true, ...long })
  return (pki = { root, intermediate, rogueRoot })
}

/** Names a lab leaf is valid for. */
export const LAB_NAMES: readonly string[] = ['localhost', '127.0.0.1', '::1']

/** A lab leaf under the lab intermediate: 90 days, RSA 2048, SHA-256, SANs for loopback; override what the scenario is about. */
export function labLeaf(over: Partial<CertSpec> = {}): Issued {
  const now = Date.now()
  return issue({
    cn: 'localhost',
    key: privateKey('rsa:2048'),
    issuer: labPki().intermediate,
    sans: LAB_NAMES,
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + 89 * DAY),
    ...over,
  })
}

/** A flawed (or clean) server of the lab. */
export interface Scenario {
  /** Short name, kebab-case. */
  readonly name: string
  /** What is wrong with it. */
  readonly flaw: string
  readonly spec: TlsServerSpec
}

/**
 * One server per certificate and protocol flaw, plus a clean one. Trust comes from `labPki().root` (write it to a CA file and pass
 * it as `settings.tls.caFile`). Weak-EC keys are not served over TLS — OpenSSL offers no group for curves below P-256 — so they
 * are covered by certificate files.
 */
export function labScenarios(host: '127.0.0.1' | '::1' = '127.0.0.1'): Scenario[] {
  const { intermediate, rogueRoot } = labPki()
  const now = Date.now()
  const withChain = (leaf: Issued): Issued[] => [leaf, intermediate]
  const s = (name: string, flaw: string, chain: Issued[], extra: Partial<TlsServerSpec> = {}): Scenario => ({ name, flaw, spec: { chain, host, ...extra } })
  return [
    s('clean', 'none: trusted chain, 90 days, RSA 2048, SHA-256, SANs, TLS 1.2–1.3', withChain(labLeaf())),
    s('expired', 'leaf expired yesterday', withChain(labLeaf({ notBefore: new Date(now - 90 * DAY), notAfter: new Date(now - DAY) }))),
    s('expiring', 'leaf expires in 5 days', withChain(labLeaf({ notBefore: new Date(now - 80 * DAY), notAfter: new Date(now + 5 * DAY) }))),
    s('not-yet-valid', 'leaf valid from tomorrow', withChain(labLeaf({ notBefore: new Date(now + DAY), notAfter: new Date(now + 60 * DAY) }))),
    s('self-signed', 'self-signed leaf', [issue({ cn: 'localhost', key: privateKey('rsa:2048'), sans: LAB_NAMES, notBefore: new Date(now - DAY), notAfter: new Date(now + 89 * DAY) })]),
    s('untrusted-root', 'chain to a root nobody trusts', [labLeaf({ issuer: rogueRoot }), rogueRoot]),
    s('incomplete-chain', 'intermediate not served', [labLeaf()]),
    s('hostname-mismatch', 'SAN names another host', withChain(labLeaf({ cn: 'other.test', sans: ['other.test'] }))),
    s('weak-key', 'RSA 1024-bit leaf key', withChain(labLeaf({ key: privateKey('rsa:1024') }))),
    s('sha1-signature', 'leaf signed with SHA-1', withChain(labLeaf({ hash: 'sha1' }))),
    s('long-validity', 'leaf valid for 825 days', withChain(labLeaf({ notAfter: new Date(now + 824 * DAY) }))),
    s('no-san', 'leaf without subjectAltName (CN only)', withChain(labLeaf({ sans: [] }))),
    s('legacy-protocols', 'TLS 1.0 and 1.1 accepted', withChain(labLeaf()), { minVersion: 'TLSv1' }),
    s('tls13-only', 'TLS 1.2 not offered', withChain(labLeaf()), { minVersion: 'TLSv1.3' }),
  ]
}

// ---------------------------------------------------------------------------------------------------------------------------------
// Revocation material: AIA / CRL distribution point extensions and signed CRLs (for the revocation tests and the demo).

/** `profile.extra` entries naming OCSP responders and caIssuers (AIA) and CRL distribution points (full names, URIs). */
export function revocationExtensions(p: { readonly ocsp?: readonly string[]; readonly caIssuers?: readonly string[]; readonly crl?: readonly string[] }): NonNullable<ProfileSpec['extra']> {
  const uri = (u: string): Buffer => tlv(0x86, Buffer.from(u, 'latin1'))
  const out: { oid: string; critical: boolean; value: Buffer }[] = []
  const ads = [...(p.ocsp ?? []).map((u) => seq(oidDer('1.3.6.1.5.5.7.48.1'), uri(u))), ...(p.caIssuers ?? []).map((u) => seq(oidDer('1.3.6.1.5.5.7.48.2'), uri(u)))]
  if (ads.length) out.push({ oid: '1.3.6.1.5.5.7.1.1', critical: false, value: seq(...ads) })
  if (p.crl?.length) out.push({ oid: '2.5.29.31', critical: false, value: seq(...p.crl.map((u) => seq(tlv(0xa0, tlv(0xa0, uri(u)))))) })
  return out
}

/** A DER CRL (v2) signed by `issuer` listing `revoked` serials (certificates), valid from an hour ago for `days`. */
export function issueCrl(issuer: Issued, revoked: readonly X509Certificate[], o: { readonly days?: number; readonly signer?: KeyObject; readonly thisUpdate?: Date } = {}): Buffer {
  const key = o.signer ?? issuer.key
  const hash = 'sha256'
  const utc = (d: Date): Buffer => tlv(0x17, Buffer.from(asn1.dateToUtcTime(d), 'latin1'))
  const algo = Buffer.from(asn1.toDer(sigAlgorithm(key, hash)).getBytes(), 'binary')
  const issuerName = Buffer.from(asn1.toDer((asn1.fromDer(toBinary(issuer.der)).value[0] as forge.asn1.Asn1).value[5] as forge.asn1.Asn1).getBytes(), 'binary')
  const thisUpdate = o.thisUpdate ?? new Date(Date.now() - 3_600_000)
  const nextUpdate = new Date(thisUpdate.getTime() + (o.days ?? 7) * DAY)
  const entries = revoked.map((c) => seq(integer(Buffer.from(c.serialNumber.length % 2 ? `0${c.serialNumber}` : c.serialNumber, 'hex')), utc(new Date(Date.now() - 2 * 3_600_000))))
  const tbs = seq(integer(Buffer.from([1])), algo, issuerName, utc(thisUpdate), utc(nextUpdate), ...(entries.length ? [seq(Buffer.concat(entries))] : []))
  const signature = sign(key.asymmetricKeyType === 'ed25519' ? null : hash, tbs, key)
  return seq(tbs, algo, tlv(0x03, Buffer.from([0]), signature))
}
