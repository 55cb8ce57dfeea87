/**
 * @fileoverview Revocation data, read and verified without a new dependency: OCSP requests built (RFC 6960 §4.1, SHA-1 CertID
 * as RFC 5019 profiles it), OCSP responses and CRLs (RFC 5280 §5) parsed with the strict DER reader (`der.ts`) and their
 * signatures verified with `node:crypto` (RSA PKCS#1 v1.5, RSA-PSS, ECDSA, Ed25519/Ed448). Every length is checked against its
 * parent; a CRL's revoked list is walked once, element by element, whatever its size (the serial lookup is linear).
 */
import { createHash, randomBytes, verify as cryptoVerify, constants, X509Certificate, type KeyObject } from 'node:crypto'
import { CONTEXT, DerError, T, UNIVERSAL, is, kids, must, oid, parseDer, raw, readTlv, time, value, type Tlv } from './der.ts'
import { fieldsOf, OID, type Fields } from './fields.ts'

// ------------------------------------------------------------------------------------------------------------------------------
// A small DER writer (only what an OCSP request needs).

function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n])
  const bytes: number[] = []
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff)
  return Buffer.from([0x80 | bytes.length, ...bytes])
}
/** One element: identifier octet `id` and its content. */
export const tlv = (id: number, ...content: Buffer[]): Buffer => {
  const body = Buffer.concat(content)
  return Buffer.concat([Buffer.from([id]), len(body.length), body])
}
export const seq = (...c: Buffer[]): Buffer => tlv(0x30, ...c)
export const octets = (b: Buffer): Buffer => tlv(0x04, b)
/** An OBJECT IDENTIFIER from its dotted form. */
export function oidDer(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number)
  const out: number[] = [arcs[0]! * 40 + arcs[1]!]
  for (const a of arcs.slice(2)) {
    const b: number[] = [a & 0x7f]
    for (let v = Math.floor(a / 128); v > 0; v = Math.floor(v / 128)) b.unshift((v & 0x7f) | 0x80)
    out.push(...b)
  }
  return tlv(0x06, Buffer.from(out))
}
/** An INTEGER from its content octets (two's complement, as a certificate's serial is stored). */
export const integer = (content: Buffer): Buffer => tlv(0x02, content)

// ------------------------------------------------------------------------------------------------------------------------------
// Signatures

export const OCSP_OID = {
  basic: '1.3.6.1.5.5.7.48.1.1',
  nonce: '1.3.6.1.5.5.7.48.1.2',
  ocspSigning: '1.3.6.1.5.5.7.3.9',
  ocspNoCheck: '1.3.6.1.5.5.7.48.1.5',
  sha1: '1.3.14.3.2.26',
} as const

const HASHES: Readonly<Record<string, string>> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
  '2.16.840.1.101.3.4.2.4': 'sha224',
}
const SIGS: Readonly<Record<string, string | null>> = {
  '1.2.840.113549.1.1.5': 'sha1',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.113549.1.1.14': 'sha224',
  '1.2.840.10045.4.1': 'sha1',
  '1.2.840.10045.4.3.1': 'sha224',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.3.101.112': null,
  '1.3.101.113': null,
}
const RSA_PSS = '1.2.840.113549.1.1.10'

/** True when `key` verifies `sig` over `data` with the AlgorithmIdentifier `alg` (DER). Unknown algorithms (MD5 too) never verify. */
export function verifySignature(alg: Tlv, data: Buffer, sig: Buffer, key: KeyObject): boolean {
  try {
    const parts = kids(must(alg, T.SEQUENCE, 'AlgorithmIdentifier'), 2)
    const algo = oid(parts[0]!)
    if (algo === RSA_PSS) {
      // RSASSA-PSS-params (RFC 4055 §3.1): hash [0], maskGen [1] (MGF1 with the same hash assumed), saltLength [2].
      let hash = 'sha1'
      let saltLength = 20
      const params = parts[1] && parts[1].constructed ? kids(parts[1], 4) : []
      for (const p of params) {
        if (is(p, CONTEXT, 0)) hash = HASHES[oid(kids(kids(p, 1)[0]!, 2)[0]!)] ?? 'unknown'
        if (is(p, CONTEXT, 2)) saltLength = value(kids(p, 1)[0]!).reduce((n, b) => n * 256 + b, 0)
      }
      if (hash === 'unknown') return false
      return cryptoVerify(hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength }, sig)
    }
    if (!(algo in SIGS)) return false
    return cryptoVerify(SIGS[algo] ?? null, data, key, sig)
  } catch {
    return false
  }
}

/** The bits of a BIT STRING with no unused bits (a signature). */
function bits(t: Tlv | undefined, what: string): Buffer {
  const v = value(must(t, T.BIT_STRING, what))
  if (!v.length || v[0] !== 0) throw new DerError(`${what}: unused bits`)
  return v.subarray(1)
}

/** The subjectPublicKey bits of a certificate (what an OCSP issuerKeyHash hashes). */
function publicKeyBits(cert: X509Certificate): Buffer {
  const spki = kids(parseDer(cert.publicKey.export({ type: 'spki', format: 'der' })), 2)
  return bits(spki[1], 'subjectPublicKey')
}

function readFieldsOf(cert: X509Certificate): Fields {
  const f = fieldsOf(cert.raw, cert.fingerprint256)
  if (f instanceof DerError) throw f
  return f
}

// ------------------------------------------------------------------------------------------------------------------------------
// OCSP

/** The CertID of `leaf` under `issuer` (RFC 6960 §4.1.1), with the given hash. */
function certIdParts(leaf: X509Certificate, issuer: X509Certificate, hash: string): { nameHash: Buffer; keyHash: Buffer; serial: Buffer } {
  const lf = readFieldsOf(leaf)
  return {
    nameHash: createHash(hash).update(lf.issuer.raw).digest(),
    keyHash: createHash(hash).update(publicKeyBits(issuer)).digest(),
    serial: lf.serial,
  }
}

/** A DER OCSPRequest for one certificate; with `nonce`, a 32-byte nonce extension (RFC 8954). */
export function ocspRequest(leaf: X509Certificate, issuer: X509Certificate, nonce?: Buffer): Buffer {
  const { nameHash, keyHash, serial } = certIdParts(leaf, issuer, 'sha1')
  const certId = seq(seq(oidDer(OCSP_OID.sha1), tlv(0x05)), octets(nameHash), octets(keyHash), integer(serial))
  const exts = nonce ? [tlv(0xa2, seq(seq(oidDer(OCSP_OID.nonce), octets(octets(nonce)))))] : []
  return seq(seq(seq(seq(certId)), ...exts))
}

/** A fresh nonce. */
export const newNonce = (): Buffer => randomBytes(32)

/** One SingleResponse. */
export interface SingleResponse {
  readonly hashAlgorithm: string
  readonly nameHash: Buffer
  readonly keyHash: Buffer
  readonly serial: Buffer
  readonly status: 'good' | 'revoked' | 'unknown'
  readonly revocationTime?: number
  readonly revocationReason?: number
  readonly thisUpdate: number
  readonly nextUpdate?: number
}

/** A parsed OCSPResponse. */
export interface OcspResponse {
  /** 0 successful, 1 malformedRequest, 2 internalError, 3 tryLater, 5 sigRequired, 6 unauthorized. */
  readonly responseStatus: number
  readonly basic?: {
    readonly tbs: Buffer
    readonly sigAlg: Tlv
    readonly signature: Buffer
    readonly certs: readonly Buffer[]
    readonly producedAt: number
    readonly responses: readonly SingleResponse[]
    readonly nonce?: Buffer
  }
}

const REASONS = ['unspecified', 'keyCompromise', 'cACompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation', 'certificateHold', 'unused', 'removeFromCRL', 'privilegeWithdrawn', 'aACompromise']
/** A CRLReason code's name. */
export const reasonName = (code: number | undefined): string | undefined => (code === undefined ? undefined : (REASONS[code] ?? `reason ${code}`))

function enumerated(t: Tlv | undefined, what: string): number {
  if (!t || t.cls !== UNIVERSAL || t.tag !== 10) throw new DerError(`${what}: expected ENUMERATED`)
  const v = value(t)
  if (v.length !== 1) throw new DerError(`${what}: bad ENUMERATED`)
  return v[0]!
}

/** Parses a DER OCSPResponse; throws `DerError` on anything malformed. */
export function parseOcspResponse(der: Buffer): OcspResponse {
  const top = kids(must(parseDer(der), T.SEQUENCE, 'OCSPResponse'), 2)
  const responseStatus = enumerated(top[0], 'responseStatus')
  if (!top[1]) return { responseStatus }
  const rb = kids(must(kids(top[1], 1)[0], T.SEQUENCE, 'ResponseBytes'), 2)
  if (oid(rb[0]!) !== OCSP_OID.basic) throw new DerError(`responseType ${oid(rb[0]!)} is not id-pkix-ocsp-basic`)
  const basicDer = value(must(rb[1], T.OCTET_STRING, 'response'))
  const basic = kids(must(parseDer(basicDer), T.SEQUENCE, 'BasicOCSPResponse'), 4)
  const tbs = must(basic[0], T.SEQUENCE, 'tbsResponseData')
  const sigAlg = must(basic[1], T.SEQUENCE, 'signatureAlgorithm')
  const signature = bits(basic[2], 'signature')
  const certs = is(basic[3], CONTEXT, 0) ? kids(must(kids(basic[3], 1)[0], T.SEQUENCE, 'certs'), 16).map((c) => Buffer.from(raw(c))) : []
  const f = kids(tbs, 8)
  let i = is(f[0], CONTEXT, 0) ? 1 : 0
  if (!f[i] || f[i]!.cls !== CONTEXT || (f[i]!.tag !== 1 && f[i]!.tag !== 2)) throw new DerError('responderID: expected byName [1] or byKey [2]')
  i++
  const producedAt = time(must(f[i++], T.GENERALIZED_TIME, 'producedAt'))
  const responses: SingleResponse[] = []
  for (const s of kids(must(f[i++], T.SEQUENCE, 'responses'), 64)) {
    const p = kids(must(s, T.SEQUENCE, 'SingleResponse'), 5)
    const id = kids(must(p[0], T.SEQUENCE, 'CertID'), 4)
    const hashAlgorithm = oid(kids(must(id[0], T.SEQUENCE, 'hashAlgorithm'), 2)[0]!)
    const st = p[1]
    if (!st || st.cls !== CONTEXT || st.tag > 2) throw new DerError('certStatus: expected good [0], revoked [1] or unknown [2]')
    let revocationTime: number | undefined
    let revocationReason: number | undefined
    if (st.tag === 1) {
      const ri = kids(st, 2)
      revocationTime = time(must(ri[0], T.GENERALIZED_TIME, 'revocationTime'))
      if (is(ri[1], CONTEXT, 0)) revocationReason = enumerated(kids(ri[1], 1)[0], 'revocationReason')
    }
    const thisUpdate = time(must(p[2], T.GENERALIZED_TIME, 'thisUpdate'))
    const nextUpdate = is(p[3], CONTEXT, 0) ? time(must(kids(p[3], 1)[0], T.GENERALIZED_TIME, 'nextUpdate')) : undefined
    responses.push({
      hashAlgorithm,
      nameHash: Buffer.from(value(must(id[1], T.OCTET_STRING, 'issuerNameHash'))),
      keyHash: Buffer.from(value(must(id[2], T.OCTET_STRING, 'issuerKeyHash'))),
      serial: Buffer.from(value(must(id[3], T.INTEGER, 'serialNumber'))),
      status: st.tag === 0 ? 'good' : st.tag === 1 ? 'revoked' : 'unknown',
      thisUpdate,
      ...(nextUpdate !== undefined ? { nextUpdate } : {}),
      ...(revocationTime !== undefined ? { revocationTime } : {}),
      ...(revocationReason !== undefined ? { revocationReason } : {}),
    })
  }
  let nonce: Buffer | undefined
  if (is(f[i], CONTEXT, 1)) {
    for (const e of kids(must(kids(f[i]!, 1)[0], T.SEQUENCE, 'responseExtensions'), 32)) {
      const parts = kids(must(e, T.SEQUENCE, 'Extension'), 3)
      if (oid(parts[0]!) !== OCSP_OID.nonce) continue
      const v = value(must(parts.at(-1), T.OCTET_STRING, 'nonce'))
      // RFC 8954: an OCTET STRING inside; some responders put the raw bytes.
      try {
        const inner = parseDer(Buffer.from(v))
        nonce = is(inner, UNIVERSAL, T.OCTET_STRING) ? Buffer.from(value(inner)) : Buffer.from(v)
      } catch {
        nonce = Buffer.from(v)
      }
    }
  }
  return { responseStatus, basic: { tbs: Buffer.from(raw(tbs)), sigAlg, signature, certs, producedAt, responses, ...(nonce ? { nonce } : {}) } }
}

/** Clock skew tolerated on thisUpdate/nextUpdate (both directions). */
export const SKEW_MS = 5 * 60_000

/** Why a revocation source gave no usable answer (the response is unusable, not the certificate revoked). */
export class RevocationDataError extends Error {}

/** The verified status of one certificate from an OCSP response. */
export interface OcspVerdict {
  readonly status: 'good' | 'revoked' | 'unknown'
  /** `issuer` (the CA itself) or `delegated` (a responder certificate the CA issued for OCSP signing). */
  readonly signer: 'issuer' | 'delegated'
  readonly signerSubject: string
  readonly thisUpdate: string
  readonly nextUpdate?: string
  readonly producedAt: string
  readonly revocationTime?: string
  readonly revocationReason?: string
  readonly nonce: 'matched' | 'absent' | 'not sent'
}

const iso = (ms: number): string => new Date(ms).toISOString()

/**
 * Verifies an OCSP response about `leaf` issued by `issuer` (RFC 6960 §3.2): successful status, a SingleResponse whose CertID
 * matches, a signature by the issuer or by a delegated responder (issued by the issuer, with id-kp-OCSPSigning, valid now),
 * thisUpdate not in the future and nextUpdate not past (with `SKEW_MS`), and the nonce echoed when one was sent and returned.
 * Throws `RevocationDataError` saying what is wrong.
 */
export function verifyOcsp(der: Buffer, leaf: X509Certificate, issuer: X509Certificate, now: number, sentNonce?: Buffer): OcspVerdict {
  let r: OcspResponse
  try {
    r = parseOcspResponse(der)
  } catch (err) {
    throw new RevocationDataError(`malformed OCSP response (${(err as Error).message})`)
  }
  if (r.responseStatus !== 0 || !r.basic) throw new RevocationDataError(`OCSP response status ${r.responseStatus} (${['successful', 'malformedRequest', 'internalError', 'tryLater', '4', 'sigRequired', 'unauthorized'][r.responseStatus] ?? 'unknown'})`)
  const b = r.basic
  const mine = b.responses.find((s) => {
    const hash = HASHES[s.hashAlgorithm]
    if (!hash) return false
    const id = certIdParts(leaf, issuer, hash)
    return s.serial.equals(id.serial) && s.nameHash.equals(id.nameHash) && s.keyHash.equals(id.keyHash)
  })
  if (!mine) throw new RevocationDataError(`the OCSP response holds no status for this certificate (${b.responses.length} responses, none with its CertID)`)
  let signer: OcspVerdict['signer'] | undefined
  let signerSubject = issuer.subject
  if (verifySignature(b.sigAlg, b.tbs, b.signature, issuer.publicKey)) signer = 'issuer'
  else {
    for (const certDer of b.certs) {
      let c: X509Certificate
      try {
        c = new X509Certificate(certDer)
      } catch {
        continue
      }
      if (!verifySignature(b.sigAlg, b.tbs, b.signature, c.publicKey)) continue
      // A delegated responder: issued by the CA that issued the certificate, for OCSP signing, valid now (RFC 6960 §4.2.2.2).
      let ok = false
      try {
        ok = c.verify(issuer.publicKey)
      } catch {
        ok = false
      }
      if (!ok) throw new RevocationDataError(`the OCSP response is signed by "${c.subject.replace(/\n/g, ', ')}", which the certificate's issuer did not issue`)
      const f = readFieldsOf(c)
      if (!f.extKeyUsage?.oids.includes(OCSP_OID.ocspSigning)) throw new RevocationDataError(`the OCSP responder certificate "${c.subject.replace(/\n/g, ', ')}" lacks id-kp-OCSPSigning`)
      if (now < f.notBefore - SKEW_MS || now > f.notAfter + SKEW_MS) throw new RevocationDataError(`the OCSP responder certificate "${c.subject.replace(/\n/g, ', ')}" is not valid now`)
      signer = 'delegated'
      signerSubject = c.subject
      break
    }
  }
  if (!signer) throw new RevocationDataError('the OCSP response signature does not verify with the issuer\'s key nor with a responder certificate it carries')
  if (mine.thisUpdate > now + SKEW_MS) throw new RevocationDataError(`OCSP thisUpdate ${iso(mine.thisUpdate)} is in the future`)
  if (mine.nextUpdate !== undefined && mine.nextUpdate < now - SKEW_MS) throw new RevocationDataError(`stale OCSP response: nextUpdate ${iso(mine.nextUpdate)} has passed`)
  if (mine.nextUpdate !== undefined && mine.nextUpdate < mine.thisUpdate) throw new RevocationDataError('OCSP nextUpdate precedes thisUpdate')
  if (sentNonce && b.nonce && !b.nonce.equals(sentNonce)) throw new RevocationDataError('the OCSP response carries a different nonce than the request (a replayed response?)')
  return {
    status: mine.status,
    signer,
    signerSubject: signerSubject.replace(/\n/g, ', '),
    thisUpdate: iso(mine.thisUpdate),
    ...(mine.nextUpdate !== undefined ? { nextUpdate: iso(mine.nextUpdate) } : {}),
    producedAt: iso(b.producedAt),
    ...(mine.revocationTime !== undefined ? { revocationTime: iso(mine.revocationTime) } : {}),
    ...(mine.revocationReason !== undefined ? { revocationReason: reasonName(mine.revocationReason)! } : {}),
    nonce: !sentNonce ? 'not sent' : b.nonce ? 'matched' : 'absent',
  }
}

// ------------------------------------------------------------------------------------------------------------------------------
// CRLs

/** What a verified CRL says about one serial. */
export interface CrlVerdict {
  readonly status: 'good' | 'revoked'
  readonly thisUpdate: string
  readonly nextUpdate?: string
  readonly entries: number
  readonly revocationTime?: string
  readonly revocationReason?: string
}

const CRL_REASON = '2.5.29.21'
const DELTA_CRL = '2.5.29.27'

/**
 * Verifies a DER CRL issued by `issuer` (RFC 5280 §6.3.3: issuer name, signature by the issuer's key — cRLSign when keyUsage
 * is present —, thisUpdate not in the future, nextUpdate not past; delta CRLs refused) and looks `serial` up in one linear
 * walk over the revoked entries. Throws `RevocationDataError`.
 */
export function verifyCrl(der: Buffer, issuer: X509Certificate, serial: Buffer, now: number): CrlVerdict {
  let tbs: Tlv, sigAlg: Tlv, signature: Buffer
  let f: Tlv[]
  try {
    const top = kids(must(parseDer(der), T.SEQUENCE, 'CertificateList'), 3)
    tbs = must(top[0], T.SEQUENCE, 'tbsCertList')
    sigAlg = must(top[1], T.SEQUENCE, 'signatureAlgorithm')
    signature = bits(top[2], 'signatureValue')
    f = kids(tbs, 8)
  } catch (err) {
    throw new RevocationDataError(`malformed CRL (${(err as Error).message})`)
  }
  const issuerFields = readFieldsOf(issuer)
  let i = is(f[0], UNIVERSAL, T.INTEGER) ? 1 : 0
  i++ // signature AlgorithmIdentifier
  const nameTlv = f[i++]
  if (!nameTlv || !raw(nameTlv).equals(issuerFields.subject.raw)) throw new RevocationDataError('the CRL is issued by another name than the certificate\'s issuer (indirect CRLs are not supported)')
  if (issuerFields.keyUsage && !issuerFields.keyUsage.has('cRLSign')) throw new RevocationDataError('the issuer\'s keyUsage does not allow cRLSign')
  if (!verifySignature(sigAlg, raw(tbs), signature, issuer.publicKey)) throw new RevocationDataError('the CRL signature does not verify with the issuer\'s key')
  let thisUpdate: number
  let nextUpdate: number | undefined
  let revoked: Tlv | undefined
  let exts: Tlv | undefined
  try {
    thisUpdate = time(f[i++]!)
    if (f[i] && (is(f[i], UNIVERSAL, T.UTC_TIME) || is(f[i], UNIVERSAL, T.GENERALIZED_TIME))) nextUpdate = time(f[i++]!)
    if (is(f[i], UNIVERSAL, T.SEQUENCE)) revoked = f[i++]
    if (is(f[i], CONTEXT, 0)) exts = f[i++]
  } catch (err) {
    throw new RevocationDataError(`malformed CRL (${(err as Error).message})`)
  }
  if (exts) {
    for (const e of kids(must(kids(exts, 1)[0], T.SEQUENCE, 'crlExtensions'), 64)) if (oid(kids(e, 3)[0]!) === DELTA_CRL) throw new RevocationDataError('a delta CRL, not a complete one')
  }
  if (thisUpdate > now + SKEW_MS) throw new RevocationDataError(`CRL thisUpdate ${iso(thisUpdate)} is in the future`)
  if (nextUpdate !== undefined && nextUpdate < now - SKEW_MS) throw new RevocationDataError(`stale CRL: nextUpdate ${iso(nextUpdate)} has passed`)
  const base = { thisUpdate: iso(thisUpdate), ...(nextUpdate !== undefined ? { nextUpdate: iso(nextUpdate) } : {}) }
  if (!revoked) return { status: 'good', entries: 0, ...base }
  // One pass over the entries, reading each element's header only: linear in the CRL's size.
  let entries = 0
  try {
    for (let p = revoked.valueStart; p < revoked.end; ) {
      const entry = readTlv(der, p, revoked.end)
      p = entry.end
      entries++
      const s = readTlv(der, entry.valueStart, entry.end)
      if (!is(s, UNIVERSAL, T.INTEGER)) throw new DerError('revoked entry without a serial')
      if (!value(s).equals(serial)) continue
      const rest = kids(entry, 3)
      let reason: number | undefined
      if (rest[2]) for (const e of kids(must(rest[2], T.SEQUENCE, 'crlEntryExtensions'), 32)) {
        const parts = kids(e, 3)
        if (oid(parts[0]!) === CRL_REASON) reason = enumerated(parseDer(Buffer.from(value(must(parts.at(-1), T.OCTET_STRING, 'reasonCode')))), 'reasonCode')
      }
      if (reason === 8) continue // removeFromCRL: a delta CRL's entry, not a revocation
      return { status: 'revoked', entries, revocationTime: iso(time(rest[1]!)), ...(reason !== undefined ? { revocationReason: reasonName(reason)! } : {}), ...base }
    }
  } catch (err) {
    throw new RevocationDataError(`malformed CRL entry ${entries} (${(err as Error).message})`)
  }
  return { status: 'good', entries, ...base }
}

// ------------------------------------------------------------------------------------------------------------------------------
// Where to ask

/** The URLs a certificate names: OCSP responders and CA issuers (AIA), CRL distribution points. */
export interface RevocationPointers {
  readonly ocsp: readonly string[]
  readonly caIssuers: readonly string[]
  readonly crl: readonly string[]
}

const AIA_OCSP = '1.3.6.1.5.5.7.48.1'
const AIA_CA_ISSUERS = '1.3.6.1.5.5.7.48.2'

/** Reads AIA and CRL DP URIs from a certificate (malformed extensions give nothing). At most 8 of each. */
export function pointersOf(cert: X509Certificate): RevocationPointers {
  const ocsp: string[] = []
  const caIssuers: string[] = []
  const crl: string[] = []
  const f = fieldsOf(cert.raw, cert.fingerprint256)
  if (f instanceof DerError) return { ocsp, caIssuers, crl }
  const uri = (t: Tlv | undefined): string | undefined => {
    if (!t || t.cls !== CONTEXT || t.tag !== 6 || t.constructed) return undefined
    const v = value(t)
    for (const b of v) if (b < 0x21 || b > 0x7e) return undefined
    return v.toString('latin1')
  }
  for (const e of f.extensions) {
    try {
      if (e.oid === OID.authorityInfoAccess) {
        for (const ad of kids(parseDer(e.value), 32)) {
          const [method, location] = kids(ad, 2)
          const u = uri(location)
          if (!u) continue
          const m = oid(method!)
          if (m === AIA_OCSP && ocsp.length < 8) ocsp.push(u)
          else if (m === AIA_CA_ISSUERS && caIssuers.length < 8) caIssuers.push(u)
        }
      } else if (e.oid === OID.crlDistributionPoints) {
        for (const dp of kids(parseDer(e.value), 32)) {
          const parts = kids(dp, 3)
          // distributionPoint [0] { fullName [0] GeneralNames }; a DP with reasons [1] only or cRLIssuer [2] (indirect) is not used.
          if (!is(parts[0], CONTEXT, 0) || parts.some((p) => is(p, CONTEXT, 1) || is(p, CONTEXT, 2))) continue
          const name = kids(parts[0]!, 1)[0]
          if (!is(name, CONTEXT, 0)) continue
          for (const g of kids(name, 32)) {
            const u = uri(g)
            if (u && crl.length < 8) crl.push(u)
          }
        }
      }
    } catch {
      // a malformed extension names nothing usable; path validation reports it
    }
  }
  return { ocsp, caIssuers, crl }
}
