/**
 * @fileoverview A letter grade per TLS endpoint, after Qualys SSL Labs' SSL Server Rating Guide (version 2009q, January 2020, and
 * the grading changes it announced since: https://github.com/ssllabs/research/wiki/SSL-Server-Rating-Guide) — the scheme
 * testssl.sh 3.x also follows. Three category scores (protocol 30 %, key exchange 30 %, cipher strength 40 %) make a number
 * 0–100 and a letter (A ≥ 80, B ≥ 65, C ≥ 50, D ≥ 35, E ≥ 20, F); then caps, each naming its cause ("capped to B: TLSv1.1
 * offered"); then T (certificate not trusted) and M (name mismatch), which replace the letter and keep it as `ignoringTrust`.
 *
 * What ztscan cannot see is said, not guessed: SSLv2 is not probed, renegotiation, compression, Heartbleed, ROBOT and HSTS are not
 * tested, so none of them caps a grade here (`notJudged`). SSL Labs' A+ needs HSTS; ztscan's A+ is the transport half of it
 * (see `APLUS`). Pure: no I/O.
 */
import type { CertInfo } from './describe.ts'
import type { Enumeration } from './tls-ciphers.ts'
import type { Suite } from './tls-suites.ts'

/** Grades, best first; T and M are outside the scale (trust, name). */
export const GRADES = ['A+', 'A', 'A-', 'B', 'C', 'D', 'E', 'F'] as const
export type Letter = (typeof GRADES)[number]
export type Grade = Letter | 'T' | 'M'

/** One cap: the grade it allows at most, and why. */
export interface Cap {
  readonly grade: Letter
  readonly reason: string
}

export interface GradeVerdict {
  /** The grade shown: T or M when trust or the name fails, else the capped letter. */
  readonly grade: Grade
  /** The letter before T/M (what SSL Labs shows as "if trust issues are ignored"). */
  readonly ignoringTrust: Letter
  /** 0–100: 0.3 × protocol + 0.3 × key exchange + 0.4 × cipher (0 when a category is 0). */
  readonly score: number
  readonly categories: { readonly protocol: number; readonly keyExchange: number; readonly cipher: number }
  /** The letter of the score alone. */
  readonly uncapped: Letter
  /** Every cap that applied, most severe first; the binding ones are those equal to `ignoringTrust`. */
  readonly caps: readonly Cap[]
  /** Why T or M, when it is. */
  readonly trust: readonly string[]
  /** What the grade could not take into account. */
  readonly notJudged: readonly string[]
}

/** What the grade reads besides the enumeration. */
export interface GradeInput {
  readonly enumeration: Enumeration
  /** The served leaf; undefined when no TLS 1.0–1.3 handshake completed (the key exchange is then judged on DH/ECDHE alone). */
  readonly leaf?: CertInfo
  /** Trust problems of the served chain (empty when it chains to an anchor); undefined when unknown. */
  readonly trustProblems?: readonly string[]
  /** The name the client connects with does not match the leaf (undefined when unknown). */
  readonly nameMismatch?: string
  /** The stapled OCSP response says revoked. */
  readonly revoked?: boolean
}

/** SSL Labs' protocol table: SSLv2 0, SSLv3 80, TLS 1.0 90, TLS 1.1 95, TLS 1.2 and 1.3 100; the score is (best + worst) / 2. */
const PROTOCOL_SCORE: Readonly<Record<string, number>> = { SSLv3: 80, TLSv1: 90, 'TLSv1.1': 95, 'TLSv1.2': 100, 'TLSv1.3': 100 }

/** Key-exchange strength (bits of RSA-equivalent strength) → score: anonymous 0, < 512 20, export or < 1024 40, < 2048 80, < 4096 90, else 100. */
export function keyExchangeScore(bits: number): number {
  return bits < 512 ? 20 : bits < 1024 ? 40 : bits < 2048 ? 80 : bits < 4096 ? 90 : 100
}

/** Cipher strength (symmetric key bits) → score: 0 → 0, < 128 → 20, < 256 → 80, else 100; the score is (strongest + weakest) / 2. */
export function cipherScore(bits: number): number {
  return bits === 0 ? 0 : bits < 128 ? 20 : bits < 256 ? 80 : 100
}

/** Symmetric key bits a suite's name gives (3DES counts 112, as SSL Labs does); undefined for an unknown code point. */
export function cipherBits(s: Suite): number | undefined {
  if (s.kx === 'unknown') return undefined
  if (s.weak.includes('NULL')) return 0
  const n = s.name
  if (/EXPORT1024|RC4_56|RC2_56|DES_CBC_56/.test(n)) return 56
  if (/_40(_|$)|DES40/.test(n)) return 40
  if (/3DES/.test(n)) return 112
  if (/(^|_)DES_CBC/.test(n)) return 56
  if (/_256|CHACHA20|28147/.test(n)) return 256
  if (/_128|SEED|IDEA/.test(n)) return 128
  return undefined
}

/** RSA-equivalent strength of an elliptic-curve or Edwards key or group of `bits` (NIST SP 800-57 part 1, table 2). */
export function ecEquivalent(bits: number): number {
  return bits >= 512 ? 15360 : bits >= 384 ? 7680 : bits >= 256 ? 3072 : bits >= 224 ? 2048 : bits >= 160 ? 1024 : 512
}

/** Curve size of a named group, for its RSA-equivalent strength (hybrid ML-KEM groups count their classical part). */
function groupBits(name: string): number | undefined {
  if (/^x25519|^X25519/.test(name)) return 256
  if (/^x448/.test(name)) return 448
  const m = /(?:secp|sect|brainpoolP|SecP)(\d+)/.exec(name)
  if (m) return Number(m[1])
  if (/^MLKEM/.test(name)) return 256 // ML-KEM-512 and up: at least AES-128 strength
  return undefined
}

const rank = (g: Letter): number => GRADES.indexOf(g)
const worse = (a: Letter, b: Letter): Letter => (rank(a) >= rank(b) ? a : b)
const round1 = (x: number): number => Math.round(x * 10) / 10

/** The letter of a numeric score (Table 1 of the guide). */
export function letterOf(score: number): Letter {
  return score >= 80 ? 'A' : score >= 65 ? 'B' : score >= 50 ? 'C' : score >= 35 ? 'D' : score >= 20 ? 'E' : 'F'
}

/**
 * Grades an endpoint. Caps (after the guide's changes 2009e–2009q and the 2017/2018/2020 grading updates):
 * F — EXPORT, NULL or anonymous suites accepted; a DH prime or certificate key under 1024 bits; a revoked certificate (staple).
 * C — SSLv3 with a CBC suite (POODLE); RC4 or a 64-bit block cipher (3DES, DES, IDEA) with TLS 1.1 or newer; no TLS 1.2.
 * B — SSLv3, TLS 1.0 or TLS 1.1 offered; RC4 accepted; no forward secrecy (no ECDHE/DHE suite, or the server's own first choice
 *     has none); no AEAD suite; DH primes or a certificate key under 2048 bits (RSA-equivalent).
 * A- — (ztscan) the server lets the client choose among suites of different strength (no enforced order).
 * A+ — (ztscan: SSL Labs also needs HSTS) A with no cap, TLS 1.3 offered, nothing below TLS 1.2, every suite forward-secret AEAD.
 */
export function gradeEndpoint(input: GradeInput): GradeVerdict {
  const e = input.enumeration
  const accepted = e.versions.filter((v) => v.accepted)
  const caps: Cap[] = []
  const cap = (grade: Letter, reason: string): void => void caps.push({ grade, reason })
  const notJudged = ['SSLv2 (not probed)', 'renegotiation, compression, Heartbleed, ROBOT (not tested)', 'HSTS (not read)']
  const has = (v: string): boolean => accepted.some((a) => a.version === v)
  const suites = accepted.flatMap((v) => v.suites.map((s) => ({ v: v.version, s })))
  const modern = (v: string): boolean => v === 'TLSv1.1' || v === 'TLSv1.2' || v === 'TLSv1.3'
  const names = (pick: (x: { v: string; s: Suite }) => boolean): string => [...new Set(suites.filter(pick).map((x) => x.s.name))].join(', ')

  // Protocol support.
  const pScores = accepted.map((v) => PROTOCOL_SCORE[v.version] ?? 0)
  const protocol = pScores.length ? (Math.max(...pScores) + Math.min(...pScores)) / 2 : 0

  // Key exchange: the weakest of the certificate key (RSA key exchange and authentication), DH primes and ECDHE groups.
  const strengths: { bits: number; what: string }[] = []
  const leaf = input.leaf
  if (leaf?.keySize) {
    const rsaLike = leaf.keyType === 'rsa' || leaf.keyType === 'rsa-pss' || leaf.keyType === 'dsa'
    const bits = rsaLike ? leaf.keySize : ecEquivalent(leaf.keyType === 'ed25519' ? 256 : leaf.keyType === 'ed448' ? 448 : leaf.keySize)
    strengths.push({ bits, what: `certificate ${leaf.keyType} ${leaf.keySize} bits` })
  } else if (!leaf) notJudged.push('the certificate key (no TLS 1.0–1.3 handshake completed)')
  for (const d of e.dh) strengths.push({ bits: d.bits, what: `DH ${d.bits} bits (${d.suite})` })
  for (const g of [...e.groups, ...(e.legacyGroups ?? [])]) {
    const b = groupBits(g.name)
    if (b) strengths.push({ bits: ecEquivalent(b), what: g.name })
  }
  const anonymous = names((x) => x.s.weak.includes('anonymous'))
  const exportKx = names((x) => x.s.weak.includes('EXPORT'))
  const weakest = strengths.length ? Math.min(...strengths.map((s) => s.bits)) : undefined
  let keyExchange = weakest === undefined ? 90 : keyExchangeScore(weakest)
  if (weakest === undefined) notJudged.push('the key-exchange strength (no key, DH prime or group read): scored as 2048-bit')
  if (exportKx) keyExchange = Math.min(keyExchange, 40)
  if (anonymous) keyExchange = 0

  // Cipher strength.
  const bits = suites.map((x) => cipherBits(x.s)).filter((b): b is number => b !== undefined)
  const cScores = bits.map(cipherScore)
  const cipher = cScores.length ? (Math.max(...cScores) + Math.min(...cScores)) / 2 : 0

  const score = protocol && keyExchange && cipher ? round1(0.3 * protocol + 0.3 * keyExchange + 0.4 * cipher) : 0
  const uncapped = letterOf(score)

  // F
  if (exportKx) cap('F', `EXPORT suites accepted (${exportKx})`)
  const nulls = names((x) => x.s.weak.includes('NULL'))
  if (nulls) cap('F', `NULL (unencrypted) suites accepted (${nulls})`)
  if (anonymous) cap('F', `anonymous (unauthenticated) suites accepted (${anonymous})`)
  const dh12 = e.dh.filter((d) => d.version !== 'TLSv1.3')
  const leastDh = dh12.length ? Math.min(...dh12.map((d) => d.bits)) : undefined
  if (leastDh !== undefined && leastDh < 1024) cap('F', `DH parameters of ${leastDh} bits (Logjam)`)
  const rsaKey = leaf && (leaf.keyType === 'rsa' || leaf.keyType === 'rsa-pss' || leaf.keyType === 'dsa') ? leaf.keySize : null
  if (rsaKey !== null && rsaKey !== undefined && rsaKey < 1024) cap('F', `certificate key of ${rsaKey} bits`)
  if (input.revoked) cap('F', 'the stapled OCSP response says the certificate is revoked')
  // C
  if (has('SSLv3') && suites.some((x) => x.v === 'SSLv3' && x.s.cbc)) cap('C', 'SSLv3 with CBC suites offered (POODLE)')
  const rc4Modern = names((x) => modern(x.v) && x.s.weak.includes('RC4'))
  if (rc4Modern) cap('C', `RC4 with TLS 1.1 or newer (${rc4Modern})`)
  const block64 = names((x) => modern(x.v) && (x.s.weak.includes('3DES') || x.s.weak.includes('DES') || x.s.weak.includes('IDEA')))
  if (block64) cap('C', `64-bit block ciphers with TLS 1.1 or newer (SWEET32: ${block64})`)
  if (!has('TLSv1.2') && !has('TLSv1.3')) cap('C', 'TLS 1.2 not supported')
  // B
  for (const v of ['SSLv3', 'TLSv1', 'TLSv1.1'] as const) if (has(v)) cap('B', `${v} offered`)
  const rc4 = names((x) => x.s.weak.includes('RC4'))
  if (rc4 && !rc4Modern) cap('B', `RC4 accepted (${rc4})`)
  const best = [...accepted].reverse()[0]
  if (!suites.some((x) => x.s.forwardSecret)) cap('B', 'no forward secrecy (no ECDHE or DHE suite)')
  else if (best && best.order === 'server' && best.suites[0] && !best.suites[0].forwardSecret) cap('B', `no forward secrecy: the server's first choice in ${best.version} is ${best.suites[0].name}`)
  if (!suites.some((x) => x.s.aead)) cap('B', 'no AEAD suite (only CBC or stream ciphers)')
  if (leastDh !== undefined && leastDh >= 1024 && leastDh < 2048) cap('B', `DH parameters of ${leastDh} bits (under 2048)`)
  if (rsaKey && rsaKey >= 1024 && rsaKey < 2048) cap('B', `certificate key of ${rsaKey} bits (under 2048)`)
  // A-
  const tier = (s: Suite): number => (s.weak.length ? 0 : !s.forwardSecret ? 1 : !s.aead ? 2 : 3)
  const loose = accepted.filter((v) => v.order && v.order !== 'server' && new Set(v.suites.map(tier)).size > 1).map((v) => v.version)
  if (loose.length) cap('A-', `the client chooses among suites of different strength (${loose.join(', ')}: no server order)`)

  caps.sort((a, b) => rank(b.grade) - rank(a.grade))
  let letter: Letter = caps.reduce<Letter>((g, c) => worse(g, c.grade), uncapped)
  const aPlus =
    letter === 'A' &&
    has('TLSv1.3') &&
    accepted.every((v) => v.version === 'TLSv1.2' || v.version === 'TLSv1.3') &&
    suites.every((x) => x.s.forwardSecret && x.s.aead)
  if (aPlus) letter = 'A+'

  const trust: string[] = [...(input.trustProblems ?? [])]
  if (input.trustProblems === undefined) notJudged.push('certificate trust (no certificate read)')
  const grade: Grade = trust.length ? 'T' : input.nameMismatch ? 'M' : letter
  if (input.nameMismatch) trust.push(input.nameMismatch)
  return { grade, ignoringTrust: letter, score, categories: { protocol, keyExchange, cipher }, uncapped, caps, trust, notJudged }
}

/** One line: `B (score 88.5; capped to B: TLSv1.1 offered; …)`, `T (trust: self-signed; ignoring trust: A)`. */
export function gradeText(v: GradeVerdict): string {
  const binding = v.caps.filter((c) => c.grade === v.ignoringTrust)
  const parts = [`score ${v.score.toFixed(1)}`, ...binding.map((c) => `capped to ${c.grade}: ${c.reason}`)]
  if (v.ignoringTrust === 'A+') parts.push('A+: TLS 1.2/1.3 only with TLS 1.3, every suite forward-secret AEAD')
  if (v.grade === 'T' || v.grade === 'M') parts.push(`${v.grade === 'T' ? 'not trusted' : 'name mismatch'}: ${v.trust.join('; ')}`, `ignoring trust: ${v.ignoringTrust}`)
  return `${v.grade} (${parts.join('; ')})`
}
