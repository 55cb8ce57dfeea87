/**
 * @fileoverview The `tls` family: which cipher suites, groups and DH sizes a TLS endpoint accepts (`tls-ciphers.ts`), judged by the
 * `tls-*` rules. It runs beside the certificate family on every `tls-endpoint` target. The family and its checks are declared
 * in tls-family.ts (loaded by every scan); this code loads when a check runs.
 *
 * Fail closed: a probe that gets no usable answer leaves the enumeration incomplete; what was proven (a weak suite accepted) is
 * still reported as a failure, no pass is reported, and the attempt ends with the probe's failure reason.
 */
import type { CheckContext } from '../../src/engine/check.ts'
import { AttemptFailure } from '../../src/errors.ts'
import type { Target } from '../../src/types.ts'
import { describe as describeCert, type CertInfo } from './describe.ts'
import { fetchServed } from './probe.ts'
import { connectStartTls, StartTlsError, StartTlsRefused, type StartTls } from './tls-starttls.ts'
import { readStaple } from './tls-ocsp.ts'
import { enumerateSuites, incompleteFailure, type Enumeration, type VersionSuites } from './tls-ciphers.ts'
import { judgeMozilla, type MozillaProfileName } from './tls-mozilla.ts'
import { GRADES, gradeEndpoint, gradeText, type Letter } from './tls-grade.ts'
import { chaseAia, fetchSettings } from './aia.ts'
import { buildPaths } from './path.ts'
import { anchorsOf, nameMatches } from './index.ts'
import type { X509Certificate } from 'node:crypto'
import type { Suite, WeakCategory } from './tls-suites.ts'
import type { TLS_CIPHER_RULES } from './tls-family.ts'

const STAPLE_RULES = ['tls-no-ocsp-stapling', 'tls-must-staple-without-staple', 'tls-mozilla-profile', 'tls-grade'] as const
type Rule = (typeof TLS_CIPHER_RULES)[number]
type Ctx = CheckContext<Rule>

/** A suite's strength tier: weak < no forward secrecy < CBC < AEAD with forward secrecy. Different tiers in one version = mixed. */
const tier = (s: Suite): number => (s.weak.length ? 0 : !s.forwardSecret ? 1 : !s.aead ? 2 : 3)

/** The enumeration as evidence: suites per version (IANA names, in the server's pick order), order, groups, DH sizes. */
function summary(e: Enumeration): Record<string, unknown> {
  const accepted = e.versions.filter((v) => v.accepted)
  return {
    protocols: Object.fromEntries(e.versions.map((v) => [v.version, v.accepted ? 'accepted' : 'refused'])),
    suites: Object.fromEntries(accepted.map((v) => [v.version, v.suites.map((s) => s.name)])),
    order: Object.fromEntries(accepted.filter((v) => v.order).map((v) => [v.version, v.order])),
    groups: e.groups.map((g) => g.name),
    ...(e.groupsVia ? { groupsSeenIn: e.groupsVia } : {}),
    ...(e.legacyGroups ? { [`groups${e.legacyGroupsVia!.replace(/^TLSv/, 'Tls').replace('.', '')}`]: e.legacyGroups.map((g) => g.name) } : {}),
    dh: e.dh.filter((d) => d.version !== 'TLSv1.3').map((d) => `${d.suite} (${d.version}): ${d.bits} bits`),
    hellos: e.hellos,
  }
}

/** Where a suite was accepted: `TLS_X (TLSv1, TLSv1.2)`. */
function withVersions(versions: readonly VersionSuites[], pick: (s: Suite) => boolean): string[] {
  const where = new Map<string, string[]>()
  for (const v of versions) for (const s of v.suites) if (pick(s)) where.set(s.name, [...(where.get(s.name) ?? []), v.version])
  return [...where].map(([name, vs]) => `${name} (${vs.join(', ')})`)
}

/** The served chain, for the certificate parts of the Mozilla profile and the grade; undefined when no TLS 1.0–1.3 handshake completes. */
async function servedOf(target: Target, ctx: Ctx): Promise<{ leaf: CertInfo; certs: readonly X509Certificate[] } | undefined> {
  try {
    const served = await fetchServed(endpointOf(target), ctx)
    return served.certs[0] ? { leaf: describeCert(served.certs[0]), certs: served.certs } : undefined
  } catch (err) {
    if (err instanceof AttemptFailure && err.reason === 'aborted') throw err
    return undefined
  }
}

const TRUST_WORDS: Readonly<Record<string, string>> = {
  'self-signed': 'self-signed certificate',
  'untrusted-root': 'the chain ends at a root that is not a trust anchor',
  incomplete: 'incomplete chain (an issuer is neither served nor a trust anchor)',
  'bad-signature': 'an issuer does not verify the signature',
}

/** Why the served chain is not trusted (empty when it is), with the certificate family's anchors and path building. */
async function trustProblems(certs: readonly X509Certificate[], ctx: Ctx): Promise<string[]> {
  const { useSystemRoots = true } = ctx.params<{ useSystemRoots?: boolean }>('certificate-untrusted' as Rule)
  const { minRsaBits = 2048, minEcBits = 256 } = ctx.params<{ minRsaBits?: number; minEcBits?: number }>('certificate-weak-key' as Rule)
  const { weakHashes = ['md2', 'md4', 'md5', 'sha1'] } = ctx.params<{ weakHashes?: string[] }>('certificate-weak-signature' as Rule)
  const anchors = await anchorsOf(ctx, useSystemRoots)
  const opts = { now: ctx.now().getTime(), minRsaBits, minEcBits, weakHashes }
  let path = buildPaths(certs, anchors, opts)[0]!
  // As the certificate check does: a missing intermediate is looked for through AIA caIssuers (when enabled) before it counts.
  if (path.status === 'incomplete' && fetchSettings(ctx.settings).aia) {
    const aia = await chaseAia(ctx, path.nodes.at(-1)!.x509, (c) => anchors.has(c.fingerprint256))
    if (aia.certs.length) path = buildPaths(certs, anchors, opts, aia.certs)[0]!
  }
  const out = path.status === 'trusted' ? [] : [TRUST_WORDS[path.status] ?? path.status]
  for (const p of path.problems) if (p.rule === 'certificate-expired' || p.rule === 'certificate-not-yet-valid') out.push(`${p.rule === 'certificate-expired' ? 'expired' : 'not yet valid'} certificate on the path (${p.detail})`)
  return [...new Set(out)]
}

const endpointOf = (target: Target): { host: string; port: number; servername?: string; starttls?: StartTls } => ({
  host: String(target.host),
  port: Number(target.port),
  ...(typeof target.servername === 'string' ? { servername: target.servername } : {}),
  ...(typeof target.starttls === 'string' ? { starttls: target.starttls as StartTls } : {}),
})

/** The `tls-ciphers` check's code (declared in tls-family.ts, which every scan loads; this module loads when it runs). */
export async function runTlsCiphers(target: Target, ctx: Ctx): Promise<void> {
  const ep = endpointOf(target)
  if (ep.starttls) {
    // One plaintext exchange first: a service that offers no TLS is a finding (plaintext only), not an error.
    const starttls = ep.starttls
    const refused = await ctx.sockets(() =>
      connectStartTls({ ...ep, starttls }, ctx).then(
        (sock) => (sock.destroy(), undefined),
        (err: unknown) => {
          if (err instanceof StartTlsRefused) return err.message
          if (err instanceof StartTlsError) throw new AttemptFailure('protocol', `${target.id}: STARTTLS: ${err.message}`)
          throw err
        },
      ),
    )
    ctx.report('tls-starttls-unavailable', refused ? 'fail' : 'pass', { resource: `starttls ${starttls}`, evidence: { protocol: starttls, detail: refused ? `plaintext only: ${refused}` : `${starttls.toUpperCase()} STARTTLS accepted` } })
    if (refused) return
  }
  const [e, served, staple] = await Promise.all([
    enumerateSuites(ep, ctx),
    ctx.enabled('tls-mozilla-profile') || ctx.enabled('tls-grade') ? servedOf(target, ctx) : undefined,
    STAPLE_RULES.some((r) => ctx.enabled(r))
      ? readStaple(ep, ctx).catch((err: unknown) => {
          if (err instanceof AttemptFailure && err.reason !== 'aborted') return err
          throw err
        })
      : undefined,
  ])
  const leaf = served?.leaf
  const complete = e.inconclusive.length === 0
  const accepted = e.versions.filter((v) => v.accepted)
  if (!accepted.length) {
    if (!complete) throw incompleteFailure(e)
    throw new AttemptFailure('protocol', `${target.id}: no SSLv3–TLS 1.3 ClientHello was answered with a ServerHello (${e.hellos} sent)`)
  }
  const evidence = summary(e)
  const unknown: string[] = []
  /** Reports a failure always, a pass only when the enumeration is complete (unknown is not pass). */
  const report = (rule: Rule, fail: boolean, resource: string, detail: string, extra: Record<string, unknown> = {}): void => {
    if (fail || complete) ctx.report(rule, fail ? 'fail' : 'pass', { resource, evidence: { ...evidence, ...extra, detail } })
  }

  const { categories } = ctx.params<{ categories: WeakCategory[] }>('tls-weak-cipher')
  const weak = withVersions(accepted, (s) => s.weak.some((c) => categories.includes(c)))
  const weakCats = [...new Set(accepted.flatMap((v) => v.suites.flatMap((s) => s.weak.filter((c) => categories.includes(c)))))]
  report('tls-weak-cipher', weak.length > 0, 'cipher suites', weak.length ? `${weakCats.join('/')} suites accepted: ${weak.join('; ')}` : `no ${categories.join('/')} suite accepted`, { weak })

  const noFs = withVersions(accepted, (s) => !s.forwardSecret)
  const anyFs = accepted.some((v) => v.suites.some((s) => s.forwardSecret))
  report('tls-no-forward-secrecy', noFs.length > 0, 'cipher suites', noFs.length ? `suites without forward secrecy accepted${anyFs ? '' : ' (and none with it)'}: ${noFs.join('; ')}` : 'every accepted suite has forward secrecy', { noForwardSecrecy: noFs })

  const t12 = accepted.find((v) => v.version === 'TLSv1.2')
  if (t12) {
    const cbcOnly = !t12.suites.some((s) => s.aead)
    report('tls-cbc-only', cbcOnly, 'protocol TLSv1.2', cbcOnly ? `TLS 1.2 offers no AEAD suite (${t12.suites.length} suites, all CBC or stream)` : `TLS 1.2 offers ${t12.suites.filter((s) => s.aead).length} AEAD suites`)
  }

  const { onlyWhenMixedStrength } = ctx.params<{ onlyWhenMixedStrength: boolean }>('tls-server-order-not-enforced')
  for (const v of accepted) {
    if (v.suites.length < 2) continue
    if (!v.order) continue // the probe's failure is in e.inconclusive
    const mixed = new Set(v.suites.map(tier)).size > 1
    const fail = v.order !== 'server' && (mixed || !onlyWhenMixedStrength)
    const why = v.order === 'server' ? 'the server picks by its own order' : v.order === 'client' ? 'the server picks the client\'s first acceptable suite' : 'the server picks neither its own nor the client\'s first suite consistently'
    report('tls-server-order-not-enforced', fail, `protocol ${v.version}`, `${v.version}: ${why}${v.order !== 'server' ? (mixed ? ', and its suites differ in strength' : ', but all its suites are of one strength') : ''}`)
  }

  const { minBits } = ctx.params<{ minBits: number }>('tls-weak-dh')
  const dh = e.dh.filter((d) => d.version !== 'TLSv1.3')
  const usesDh = accepted.some((v) => v.version !== 'TLSv1.3' && v.suites.some((s) => s.ffdh))
  if (usesDh) {
    const small = dh.filter((d) => d.bits < minBits)
    const least = dh.length ? Math.min(...dh.map((d) => d.bits)) : undefined
    if (least === undefined) unknown.push('DHE suites accepted but no ServerKeyExchange with DH parameters was read')
    else report('tls-weak-dh', small.length > 0, 'dh parameters', small.length ? `DH parameters of ${least} bits (minimum ${minBits})` : `DH parameters of ${least} bits or more (minimum ${minBits})`, { dhBits: least })
  }

  if (staple instanceof AttemptFailure) unknown.push(`OCSP stapling: ${staple.message}`)
  else if (staple) {
    const ev = { stapled: staple.stapled, mustStaple: staple.mustStaple, ...(staple.responseStatus !== undefined ? { ocspResponseStatus: staple.responseStatus } : {}), ...(staple.certStatus ? { ocspCertStatus: staple.certStatus } : {}) }
    const said = staple.stapled ? `an OCSP staple${staple.certStatus ? ` (${staple.certStatus}, signature not verified)` : staple.responseStatus ? ` (response status ${staple.responseStatus})` : ''}` : 'no OCSP staple'
    report('tls-no-ocsp-stapling', !staple.stapled, 'ocsp stapling', `the server sends ${said} when asked (status_request)`, ev)
    report('tls-must-staple-without-staple', staple.mustStaple && !staple.stapled, 'ocsp stapling', staple.mustStaple ? `the leaf requires stapling (TLS Feature status_request) and the server sends ${said}` : 'the leaf does not require stapling (no TLS Feature extension)', ev)
  }

  if (ctx.enabled('tls-mozilla-profile')) {
    const { profile } = ctx.params<{ profile: MozillaProfileName }>('tls-mozilla-profile')
    const m = judgeMozilla(profile, e, leaf, staple instanceof AttemptFailure ? undefined : staple?.stapled)
    const label = `Mozilla ${profile} (guideline ${m.guideline.toFixed(1)})`
    report('tls-mozilla-profile', m.deviations.length > 0, `mozilla ${profile}`, m.deviations.length ? `deviates from ${label}: ${m.deviations.join('; ')}` : `complies with ${label}`, {
      profile,
      guideline: m.href,
      deviations: m.deviations,
      notOffered: m.notOffered,
      notJudged: m.notJudged,
    })
  }
  if (ctx.enabled('tls-grade')) {
    const { minGrade } = ctx.params<{ minGrade: Letter }>('tls-grade')
    const name = typeof target.name === 'string' ? target.name : (ep.servername ?? ep.host)
    const v = gradeEndpoint({
      enumeration: e,
      ...(leaf ? { leaf, trustProblems: await trustProblems(served.certs, ctx) } : {}),
      ...(leaf && !nameMatches(leaf, name) ? { nameMismatch: `${name} is not among the certificate's names` } : {}),
      revoked: !(staple instanceof AttemptFailure) && staple?.certStatus === 'revoked',
    })
    const fail = v.grade === 'T' || v.grade === 'M' || GRADES.indexOf(v.grade) > GRADES.indexOf(minGrade)
    report('tls-grade', fail, 'grade', `grade ${gradeText(v)}${fail ? ` (minimum ${minGrade})` : ''}`, {
      grade: v.grade,
      gradeIgnoringTrust: v.ignoringTrust,
      gradeScore: v.score,
      gradeCategories: v.categories,
      gradeCaps: v.caps.map((c) => `capped to ${c.grade}: ${c.reason}`),
      ...(v.trust.length ? { gradeTrust: v.trust } : {}),
      gradeNotJudged: v.notJudged,
    })
  }
  if (!complete) throw incompleteFailure(e)
  if (unknown.length) throw new AttemptFailure('protocol', `${target.id}: ${unknown.join('; ')} (the other results were reported)`)
}

export { tlsCiphersCheck, default } from './tls-family.ts'
