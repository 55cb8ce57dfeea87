/**
 * @fileoverview Cipher-suite, group and DH-size enumeration with hand-written ClientHellos (`sendCustomHello`): no handshake is ever
 * completed, so the runtime's OpenSSL needs none of the suites or groups it finds (SSLv3, EXPORT, RC4, X25519MLKEM768 …).
 *
 * Per version (SSLv3 … TLS 1.2): offer every known suite the version defines; the server picks one; offer the rest without it; …
 * until the server refuses. That is n+1 ServerHellos for n accepted suites (never one hello per known suite), and the picks come
 * in the server's order of preference when it enforces one. Whether it does: offer its accepted suites reversed — a server that
 * enforces its order still picks its first. A ServerHello for a DHE or ECDHE suite is followed by the ServerKeyExchange, which
 * carries the DH prime (its size) or the ECDHE curve; the reader reads on to it.
 *
 * TLS 1.3: the hello carries an empty key_share (RFC 8446 §4.2.8), so the server answers with a HelloRetryRequest that names its
 * suite and its group; suites are removed one by one as above, then groups likewise. TLS 1.2 (or older) groups come from the
 * curves its ECDHE ServerKeyExchanges name, offering the remaining curves the same way — also when TLS 1.3 is offered, since a
 * server may accept other groups for TLS 1.2 (supported_groups with ECDHE suites) than as TLS 1.3 key shares.
 */
import { AttemptFailure } from '../../src/errors.ts'
import { sendCustomHello, type HelloEndpoint, type HelloOutcome, type ProbeContext, type WireVersion } from './hello.ts'
import { ffdheBits, GROUPS, groupName, SUITES, suiteOf, type Suite } from './tls-suites.ts'

/** The versions enumerated, oldest first. */
export const ENUM_VERSIONS: readonly WireVersion[] = ['SSLv3', 'TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3']
const WIRE: Readonly<Record<WireVersion, number>> = { SSLv3: 0x0300, TLSv1: 0x0301, 'TLSv1.1': 0x0302, 'TLSv1.2': 0x0303, 'TLSv1.3': 0x0304 }

/** Whose order of preference decides the suite: the server's, the client's, or neither consistently. */
export type OrderKind = 'server' | 'client' | 'mixed'

/** What one version accepts. */
export interface VersionSuites {
  readonly version: WireVersion
  readonly accepted: boolean
  /** Accepted suites in the order the server picked them (its preference when `order` is `server`). */
  readonly suites: readonly Suite[]
  /** Known when two or more suites are accepted. */
  readonly order?: OrderKind
}

/** A finite-field DH prime a ServerKeyExchange (or a TLS 1.3 ffdhe group) used. */
export interface DhSeen {
  readonly version: WireVersion
  readonly suite: string
  readonly bits: number
}

/** Everything the enumeration found. */
export interface Enumeration {
  readonly versions: readonly VersionSuites[]
  /** Groups accepted, in the order the server picked them, with where they were seen. */
  readonly groups: readonly { readonly code: number; readonly name: string }[]
  readonly groupsVia?: 'TLSv1.3' | 'TLSv1.2' | 'TLSv1.1' | 'TLSv1' | 'SSLv3'
  /**
   * When TLS 1.3 is offered (`groups` are its key-share groups) and an older version accepts ECDHE suites: the curves accepted
   * in ECDHE ServerKeyExchanges of `legacyGroupsVia` (usually TLS 1.2), in the server's order.
   */
  readonly legacyGroups?: readonly { readonly code: number; readonly name: string }[]
  readonly legacyGroupsVia?: 'TLSv1.2' | 'TLSv1.1' | 'TLSv1' | 'SSLv3'
  readonly dh: readonly DhSeen[]
  /** ClientHellos sent. */
  readonly hellos: number
  /** Probes that got no usable answer (timeout, garbage): what they leave unknown. Empty when the enumeration is complete. */
  readonly inconclusive: readonly { readonly reason: 'timeout' | 'protocol' | 'connectivity'; readonly detail: string }[]
}

/** The suites offered in a `version` hello: TLS 1.3 suites only in TLS 1.3; suites defined for TLS 1.2 only in TLS 1.2. */
export function offerable(version: WireVersion): number[] {
  if (version === 'TLSv1.3') return SUITES.filter((s) => s.tls13).map((s) => s.code)
  return SUITES.filter((s) => !s.tls13 && (version === 'TLSv1.2' || !s.tls12Only)).map((s) => s.code)
}

/** The DH prime size or ECDHE curve of a ServerKeyExchange body (RFC 5246 §7.4.3, RFC 8422 §5.4, RFC 4279 §2 for PSK hints). */
export function parseKeyExchange(suite: Suite, body: Buffer): { dhBits?: number; curve?: number } | undefined {
  let off = 0
  if (/PSK/.test(suite.kx)) {
    if (body.length < 2) return undefined
    off += 2 + body.readUInt16BE(0) // psk_identity_hint
  }
  if (suite.ffdh) {
    if (body.length < off + 2) return undefined
    const len = body.readUInt16BE(off)
    const p = body.subarray(off + 2, off + 2 + len)
    if (p.length !== len) return undefined
    let i = 0
    while (i < p.length && p[i] === 0) i++
    if (i === p.length) return { dhBits: 0 }
    return { dhBits: (p.length - i - 1) * 8 + (32 - Math.clz32(p[i]!)) }
  }
  if (suite.ecdh) {
    if (body.length < off + 3 || body[off] !== 3) return undefined // named_curve only (RFC 8422 deprecates explicit curves)
    return { curve: body.readUInt16BE(off + 1) }
  }
  return undefined
}

class Run {
  hellos = 0
  readonly inconclusive: { reason: 'timeout' | 'protocol' | 'connectivity'; detail: string }[] = []
  readonly dh: DhSeen[] = []
  readonly curves = new Map<WireVersion, number[]>()

  readonly ep: HelloEndpoint
  readonly ctx: ProbeContext

  constructor(ep: HelloEndpoint, ctx: ProbeContext) {
    this.ep = ep
    this.ctx = ctx
  }

  async hello(version: WireVersion, suites: readonly number[], groups?: readonly number[], keyExchange = false): Promise<Extract<HelloOutcome, { state: 'answered' }> | undefined> {
    this.hellos++
    const r = await sendCustomHello(this.ep, { version, suites, ...(groups ? { groups } : {}) }, this.ctx, { keyExchange })
    if (r.state === 'inconclusive') {
      this.inconclusive.push({ reason: r.reason, detail: `${version} enumeration: ${r.detail}` })
      return undefined
    }
    if (r.state === 'refused') return undefined
    return r
  }

  /** Offers the remaining list until the server refuses; returns the picks in order. */
  async suites(version: WireVersion): Promise<VersionSuites> {
    let remaining = offerable(version)
    const picks: Suite[] = []
    const tls13 = version === 'TLSv1.3'
    const groups = tls13 ? GROUPS.filter((g) => g.tls13).map((g) => g.code) : undefined
    while (remaining.length) {
      const r = await this.hello(version, remaining, groups, !tls13)
      if (!r || r.version !== WIRE[version]) break
      if (!remaining.includes(r.cipher)) {
        this.inconclusive.push({ reason: 'protocol', detail: `${version} enumeration: the server chose ${suiteOf(r.cipher).name}, which was not offered` })
        break
      }
      const suite = suiteOf(r.cipher)
      picks.push(suite)
      remaining = remaining.filter((c) => c !== r.cipher)
      if (r.keyExchange) {
        const kx = parseKeyExchange(suite, r.keyExchange)
        if (kx?.dhBits !== undefined) this.dh.push({ version, suite: suite.name, bits: kx.dhBits })
        if (kx?.curve !== undefined) this.curves.set(version, [...new Set([...(this.curves.get(version) ?? []), kx.curve])])
      }
    }
    let order: OrderKind | undefined
    if (picks.length >= 2) {
      const before = this.inconclusive.length
      const r = await this.hello(version, picks.map((s) => s.code).reverse(), groups)
      if (r) order = r.cipher === picks[0]!.code ? 'server' : r.cipher === picks.at(-1)!.code ? 'client' : 'mixed'
      else if (this.inconclusive.length === before) this.inconclusive.push({ reason: 'protocol', detail: `${version} order probe: a hello offering only accepted suites was refused` })
    }
    return { version, accepted: picks.length > 0, suites: picks, ...(order ? { order } : {}) }
  }

  /** TLS 1.3 groups: every TLS 1.3 suite, the remaining groups, until refused (each answer a HelloRetryRequest naming one). */
  async groups13(suites: readonly Suite[]): Promise<number[]> {
    let remaining = GROUPS.filter((g) => g.tls13).map((g) => g.code)
    const picks: number[] = []
    while (remaining.length) {
      const r = await this.hello('TLSv1.3', suites.map((s) => s.code), remaining)
      if (!r || r.version !== WIRE['TLSv1.3'] || r.group === undefined || !remaining.includes(r.group)) break
      const group = r.group
      picks.push(group)
      remaining = remaining.filter((c) => c !== group)
    }
    return picks
  }

  /**
   * TLS 1.2-and-older ECDHE curves: the accepted ECDHE suites, the remaining curves, until refused or a non-ECDHE pick. Before
   * TLS 1.3 an ECDSA certificate's own curve must be among the client's groups (RFC 8422 §5.1; OpenSSL refuses otherwise), so
   * once that curve has been picked and removed an ECDSA-only server refuses: the curve picked last is then offered again, at the
   * end of the list, and the enumeration goes on until the server refuses or picks it (it ranks it first: curves it ranks lower
   * stay unfound, as with a Node server, which picks groups by its own order).
   */
  async curves12(version: WireVersion, ecdhe: readonly Suite[]): Promise<number[]> {
    const picks = [...(this.curves.get(version) ?? [])].slice(0, 1)
    let remaining = GROUPS.filter((g) => g.tls12 && !picks.includes(g.code)).map((g) => g.code)
    let keep: number | undefined
    while (remaining.length) {
      const before = this.inconclusive.length
      const r = await this.hello(version, ecdhe.map((s) => s.code), keep === undefined ? remaining : [...remaining, keep], true)
      if (!r) {
        const refused = this.inconclusive.length === before
        if (refused && keep === undefined && picks.length && ecdhe.some((s) => /ECDSA/.test(s.kx))) {
          keep = picks.at(-1)
          continue
        }
        break
      }
      if (r.version !== WIRE[version] || !r.keyExchange) break
      const curve = parseKeyExchange(suiteOf(r.cipher), r.keyExchange)?.curve
      if (curve === undefined || !remaining.includes(curve)) break
      picks.push(curve)
      remaining = remaining.filter((c) => c !== curve)
    }
    return picks
  }
}

/**
 * Enumerates the suites of every version in `versions` (in parallel, each version's hellos one after another), the server's
 * order, the groups and the DH sizes. Throws only `AttemptFailure('aborted')`; a probe that gets no usable answer is listed in
 * `inconclusive` and ends that version's enumeration.
 * @example
 * const e = await enumerateSuites({ host: '127.0.0.1', port: 8443 }, ctx)
 * for (const v of e.versions) if (v.accepted) console.log(v.version, v.suites.map((s) => s.name))
 */
export async function enumerateSuites(ep: HelloEndpoint, ctx: ProbeContext, versions: readonly WireVersion[] = ENUM_VERSIONS): Promise<Enumeration> {
  const run = new Run(ep, ctx)
  const found = await Promise.all(versions.map((v) => run.suites(v)))
  const t13 = found.find((v) => v.version === 'TLSv1.3' && v.accepted)
  let groups: number[] = []
  let groupsVia: Enumeration['groupsVia']
  // The newest pre-1.3 version with ECDHE suites: its curves (run alongside the TLS 1.3 groups).
  const withEcdhe = found.filter((v) => v.version !== 'TLSv1.3').reverse().find((v) => v.suites.some((s) => s.ecdh))
  const legacy = withEcdhe ? run.curves12(withEcdhe.version, withEcdhe.suites.filter((s) => s.ecdh)) : Promise.resolve([])
  if (t13) {
    groups = await run.groups13(t13.suites)
    groupsVia = 'TLSv1.3'
    for (const code of groups) {
      const bits = ffdheBits(code)
      if (bits) run.dh.push({ version: 'TLSv1.3', suite: groupName(code), bits })
    }
  }
  const curves = await legacy
  if (!t13 && withEcdhe) {
    groups = curves
    groupsVia = withEcdhe.version as Enumeration['groupsVia']
  }
  const named = (codes: readonly number[]): { code: number; name: string }[] => codes.map((code) => ({ code, name: groupName(code) }))
  return {
    versions: found,
    groups: named(groups),
    ...(groupsVia ? { groupsVia } : {}),
    ...(t13 && withEcdhe ? { legacyGroups: named(curves), legacyGroupsVia: withEcdhe.version as Enumeration['legacyGroupsVia'] } : {}),
    dh: run.dh,
    hellos: run.hellos,
    inconclusive: run.inconclusive,
  }
}

/** `TLSv1.2: TLS_A, TLS_B; TLSv1.3: …` — a short listing for messages. */
export function listing(e: Enumeration): string {
  return e.versions
    .filter((v) => v.accepted)
    .map((v) => `${v.version}: ${v.suites.map((s) => s.name).join(', ')}`)
    .join('; ')
}

/** The failure an incomplete enumeration ends its attempt with (the proven results are reported first). */
export function incompleteFailure(e: Enumeration): AttemptFailure {
  const reasons = e.inconclusive.map((i) => i.reason)
  const reason = reasons.every((r) => r === 'timeout') ? 'timeout' : reasons.includes('protocol') ? 'protocol' : 'connectivity'
  return new AttemptFailure(reason, `${e.inconclusive.map((i) => i.detail).join('; ')} (what was proven was reported)`)
}

