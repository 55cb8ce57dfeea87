/**
 * @fileoverview The certificate family: live TLS endpoints (`tls-endpoint`) and certificate files (`cert-file`).
 * One result per rule per certificate of the served chain (or file), plus one per probed protocol version. This is the
 * check's code, loaded when it runs; the family and the check are declared in family.ts (loaded by every scan).
 */
import { plural } from '../../src/lib-units.ts'
import type { X509Certificate } from 'node:crypto'
import { isIP } from 'node:net'
import type { CheckContext } from '../../src/engine/check.ts'
import { AttemptFailure } from '../../src/errors.ts'
import type { Target } from '../../src/types.ts'
import { loadAnchors, parseCertificates } from './chain.ts'
import { chaseAia, fetchSettings, type AiaResult } from './aia.ts'
import { buildPaths, type AnchorIndex, type Path, type PathRule, type Problem, type TrustStatus } from './path.ts'
import { describe, evidenceOf, positionOf, type CertInfo } from './describe.ts'
import { StartTlsRefused, type StartTls } from './tls-starttls.ts'
import { fetchServed, probeProtocols, type ProbeResult } from './probe.ts'
import type { CERTIFICATE_RULES } from './family.ts'

type Rule = (typeof CERTIFICATE_RULES)[number]
type Ctx = CheckContext<Rule>

const DAY = 86_400_000
/** Cap on a certificate file (a CA bundle is a few hundred KB). */
const MAX_FILE_BYTES = 10 * 1024 * 1024
const NOT_PROBED = 'SSLv2: not probed (a different record format)'

interface Cert {
  readonly info: CertInfo
  readonly position: string
  readonly resource: string
  readonly evidence: Record<string, unknown>
}

const days = (ms: number): number => Math.floor(ms / DAY)
const trustWords: Record<TrustStatus, string> = {
  trusted: 'chains to a trusted root',
  'self-signed': 'self-signed and not a trust anchor',
  'untrusted-root': 'chains to a root that is not a trust anchor',
  incomplete: 'an issuer is neither served nor a trust anchor',
  'bad-signature': 'an issuer by name does not verify the signature',
}

/** Rules judged on every certificate of the path, with the pass detail when nothing is wrong. */
const PATH_RULES: readonly [PathRule, (c: Cert, anchor: boolean) => string][] = [
  ['certificate-weak-key', (c) => `${c.info.keyType} ${c.info.keySize ?? 'unknown size'}${c.info.curve ? ` (${c.info.curve})` : ''}`],
  ['certificate-weak-signature', (c, anchor) => (anchor && c.info.selfSigned ? `${c.info.signatureAlgorithm} (trust anchor self-signature, ignored)` : c.info.signatureAlgorithm)],
  ['certificate-invalid-ca', (c) => (c.position === 'leaf' ? 'end-entity certificate: no CA constraints to meet' : 'a CA allowed to issue what it issued on this path')],
  ['certificate-name-constraints', () => 'within the name constraints of the path'],
  ['certificate-wrong-purpose', (c) => (c.position === 'leaf' ? 'usable for TLS server authentication' : 'not restricted away from TLS server authentication')],
  ['certificate-unknown-critical-extension', () => 'no unrecognised critical extension'],
  ['certificate-profile-violation', () => 'conforms to the RFC 5280 and Baseline Requirements profile rules checked'],
]

interface Judged {
  readonly path: Path
  readonly certs: readonly Cert[]
  readonly leaf: Cert
}

/** Certificates of the chosen path, each with its position: served ones by place in the served list, an added anchor as `anchor`. */
function pathCerts(path: Path, protocol?: string): Cert[] {
  return path.nodes.map((n) => {
    const position = n.served !== undefined ? positionOf(n.served, n.info) : n.extra ? 'fetched' : 'anchor'
    return { info: n.info, position, resource: `${position} SHA256:${n.info.fingerprint256}`, evidence: evidenceOf(n.info, position, protocol) }
  })
}

/**
 * Builds and validates the candidate paths of the served chain (or file), reports the chain rules on the leaf, the path rules
 * on every certificate of the best path (anchor included), and served certificates the path does not need.
 */
async function judgeChain(
  served: readonly X509Certificate[],
  ctx: Ctx,
  // `issuers`: more issuer candidates for path building; `fetchIssuers`: chase AIA caIssuers when an issuer is missing (live
  // endpoints only: a file is offline input). Fetched certificates are positioned as `fetched`.
  o: { protocol?: string; chainRules: boolean; leafIsCa?: boolean; openssl?: Record<string, unknown>; issuers?: readonly X509Certificate[]; fetchIssuers?: boolean },
): Promise<Judged> {
  const { useSystemRoots } = ctx.params<{ useSystemRoots: boolean }>('certificate-untrusted')
  const anchors = await anchorsOf(ctx, useSystemRoots)
  const { minRsaBits, minEcBits } = ctx.params<{ minRsaBits: number; minEcBits: number }>('certificate-weak-key')
  const { weakHashes } = ctx.params<{ weakHashes: string[] }>('certificate-weak-signature')
  const opts = { now: ctx.now().getTime(), minRsaBits, minEcBits, weakHashes, leafIsCa: o.leafIsCa ?? false }
  // A CA file's first certificate that is a self-signed root is its own anchor.
  const index = o.chainRules ? anchors : selfAnchored(served[0]!)
  let paths = buildPaths(served, index, opts, o.issuers)
  const before = paths[0]!
  const aiaOn = !!o.fetchIssuers && fetchSettings(ctx.settings).aia
  let aia: AiaResult | undefined
  if (o.chainRules && aiaOn && before.status === 'incomplete') {
    aia = await chaseAia(ctx, before.nodes.at(-1)!.x509, (c) => anchors.has(c.fingerprint256))
    if (aia.certs.length) paths = buildPaths(served, index, opts, [...(o.issuers ?? []), ...aia.certs])
  }
  const path = paths[0]!
  const certs = pathCerts(path, o.protocol)
  const leaf = certs[0]!
  if (o.chainRules) {
    const fetched = certs.filter((c) => c.position === 'fetched')
    const ev = {
      ...leaf.evidence,
      trust: path.status,
      detail: trustWords[path.status] + (path.status === 'trusted' ? ` (${certs.at(-1)!.info.subject})${fetched.length ? `, with ${plural(fetched.length, 'intermediate')} fetched from AIA caIssuers` : ''}` : path.missingIssuer ? `: missing issuer "${path.missingIssuer}" of ${certs.at(-1)!.position}` : ''),
      anchors: anchors.sources,
      chainLength: served.length,
      path: certs.map((c) => `${c.position}: ${c.info.subject}`),
      candidatePaths: paths.length,
      ...(aia ? { aia: aia.tried.map((t) => `${t.url}: ${t.result}`) } : {}),
      ...(o.openssl ? { openssl: o.openssl } : {}),
    }
    ctx.report('certificate-untrusted', path.status === 'trusted' ? 'pass' : 'fail', { resource: leaf.resource, evidence: ev })
    // A missing intermediate is proven only by finding it (AIA) and reaching an anchor through it; an issuer that cannot
    // be found, or that leads to no anchor, is certificate-untrusted alone.
    if (fetched.length && path.status === 'trusted')
      ctx.report('certificate-incomplete-chain', 'fail', { resource: leaf.resource, evidence: { ...ev, detail: `the server omits ${fetched.map((c) => `"${c.info.subject}"`).join(', ')}: fetched from AIA caIssuers to reach the trust anchor` } })
    else if (before.status === 'incomplete')
      ctx.skip(
        'certificate-incomplete-chain',
        aia
          ? `the missing issuer "${before.missingIssuer ?? '?'}" ${aia.tried.length ? `was not found through AIA caIssuers (${aia.tried.map((t) => `${t.url}: ${t.result}`).join('; ')})` : 'cannot be fetched: the certificate names no AIA caIssuers URL'}${path.status !== 'trusted' && aia.certs.length ? ', or leads to no trust anchor' : ''}; certificate-untrusted reports it`
          : `a missing intermediate cannot be told from an unknown root without fetching the issuer (${o.fetchIssuers ? 'AIA fetching is off: settings.tls.aia' : 'a certificate file is offline input: AIA is not fetched'}); certificate-untrusted reports it`,
      )
    else ctx.report('certificate-incomplete-chain', 'pass', { resource: leaf.resource, evidence: { ...ev, detail: path.status === 'trusted' ? 'the served chain reaches a trust anchor' : `no issuer is missing: ${trustWords[path.status]}` } })
  }
  const now = ctx.now().getTime()
  const { warnDays } = ctx.params<{ warnDays: number }>('certificate-expiring')
  const { criticalDays } = ctx.params<{ criticalDays: number }>('certificate-expiring-critical')
  for (const [i, c] of certs.entries()) {
    const mine = path.problems.filter((p) => p.at === i)
    const { info, resource, evidence } = c
    const report = (rule: Rule, fail: boolean, detail: string, extra: Record<string, unknown> = {}): void => ctx.report(rule, fail ? 'fail' : 'pass', { resource, evidence: { ...evidence, ...extra, detail } })
    const failing = (rule: PathRule): readonly Problem[] => mine.filter((p) => p.rule === rule)
    const explain = (ps: readonly Problem[]): Record<string, unknown> => ({ problems: ps.map(({ section, field, detail }) => ({ section, field, detail })) })
    const expired = failing('certificate-expired')
    const notYet = failing('certificate-not-yet-valid')
    report('certificate-expired', expired.length > 0, expired.length ? `expired ${plural(days(now - info.notAfter.getTime()), 'day')} ago` : `valid until ${evidence.notAfter}`, expired.length ? explain(expired) : {})
    report('certificate-not-yet-valid', notYet.length > 0, notYet.length ? `valid only from ${evidence.notBefore}` : `valid since ${evidence.notBefore}`, notYet.length ? explain(notYet) : {})
    const left = info.notAfter.getTime() - now
    if (!expired.length) {
      // An expired certificate is reported by certificate-expired alone.
      const d = days(left)
      report('certificate-expiring', left < warnDays * DAY, `expires in ${plural(d, 'day')} (threshold ${warnDays})`)
      report('certificate-expiring-critical', left < criticalDays * DAY, `expires in ${plural(d, 'day')} (threshold ${criticalDays})`)
    }
    for (const [rule, ok] of PATH_RULES) {
      const ps = failing(rule)
      report(rule, ps.length > 0, ps.length ? ps.map((p) => `${p.field}: ${p.detail} (${p.section})`).join('; ') : ok(c, path.status === 'trusted' && i === certs.length - 1), ps.length ? explain(ps) : {})
    }
  }
  // Served certificates a trusted path does not use: sent for nothing (or for another path), never judged as part of the
  // chain. Without a trusted path, what is missing is the finding (certificate-untrusted), not what is extra.
  if (path.status !== 'trusted') return { path, certs, leaf }
  const used = new Set(path.nodes.map((n) => n.x509.fingerprint256))
  for (const [i, x] of served.entries()) {
    if (i === 0) continue
    const info = describe(x)
    const position = positionOf(i, info)
    const unused = !used.has(x.fingerprint256)
    ctx.report('certificate-unneeded', unused ? 'fail' : 'pass', {
      resource: `${position} SHA256:${info.fingerprint256}`,
      evidence: { ...evidenceOf(info, position, o.protocol), detail: unused ? 'served but not on the validated path' : `on the validated path` },
    })
  }
  return { path, certs, leaf }
}

/** An anchor index holding only `x509` (a self-signed CA file judged on its own). */
function selfAnchored(x509: X509Certificate): AnchorIndex {
  return { byName: () => [], has: (fp) => fp === x509.fingerprint256 }
}

/** Rules about the leaf alone: validity length, SAN presence, self-signature. */
function leafOnly(leaf: Cert, ctx: Ctx): void {
  const { info, resource, evidence } = leaf
  const at = (detail: string): { resource: string; evidence: Record<string, unknown> } => ({ resource, evidence: { ...evidence, detail } })
  const { maxDays } = ctx.params<{ maxDays: number }>('certificate-validity-too-long')
  const validity = Math.round((info.notAfter.getTime() - info.notBefore.getTime()) / DAY)
  ctx.report('certificate-validity-too-long', info.notAfter.getTime() - info.notBefore.getTime() > maxDays * DAY ? 'fail' : 'pass', at(`${validity} days (maximum ${maxDays})`))
  ctx.report('certificate-no-san', info.hasSan ? 'pass' : 'fail', at(info.hasSan ? `${info.sans.length} SAN entries` : 'no subjectAltName extension'))
  ctx.report('certificate-self-signed', info.selfSigned ? 'fail' : 'pass', at(info.selfSigned ? 'issuer equals subject and the key verifies its own signature' : `issued by ${info.issuer}`))
}

/** The name against the leaf's SAN (DNS names without partial wildcards, or iPAddress entries); the CN is never used. */
export function nameMatches(info: CertInfo, name: string): boolean {
  try {
    return isIP(name) !== 0 ? info.x509.checkIP(name) !== undefined : info.x509.checkHost(name, { subject: 'never', partialWildcards: false, multiLabelWildcards: false, singleLabelSubdomains: false }) !== undefined
  } catch {
    return false
  }
}

/** The hostname rule (`nameMatches`). */
function hostnameRule(leaf: Cert, name: string, ctx: Ctx): void {
  const ip = isIP(name) !== 0
  const matched = nameMatches(leaf.info, name)
  ctx.report('certificate-hostname-mismatch', matched ? 'pass' : 'fail', {
    resource: leaf.resource,
    evidence: { ...leaf.evidence, name, detail: matched ? `${name} matches the SAN ${ip ? 'IP' : 'DNS'} entries` : `${name} is not among the SAN entries (${leaf.info.sans.join(', ') || 'none'}); the CN is not used, nor are partial wildcards (RFC 6125 6.4.3)` },
  })
}

/** CA files from the settings (`tls.caFile`, a string or a list) and the `caFile` parameter of certificate-untrusted. */
export function caFilesOf(ctx: CheckContext): string[] {
  const tls = (ctx.settings.tls ?? {}) as { caFile?: string | string[] }
  const { caFile } = ctx.params<{ caFile: string }>('certificate-untrusted')
  return [...new Set([...(Array.isArray(tls.caFile) ? tls.caFile : tls.caFile ? [tls.caFile] : []), ...(caFile ? [caFile] : [])])]
}

async function checkEndpoint(target: Target, ctx: Ctx): Promise<void> {
  const ep = { host: String(target.host), port: Number(target.port), servername: target.servername as string | undefined, starttls: target.starttls as StartTls | undefined }
  const { useSystemRoots } = ctx.params<{ useSystemRoots: boolean }>('certificate-untrusted')
  const anchors = await anchorsOf(ctx, useSystemRoots)
  const served = await fetchServed(ep, ctx, anchors).catch((err: unknown) => {
    if (err instanceof StartTlsRefused) return undefined // plaintext only: a finding of the tls family (tls-starttls-unavailable)
    throw err
  })
  if (!served) return
  const { leaf } = await judgeChain(served.certs, ctx, { protocol: served.protocol, chainRules: true, openssl: served.openssl, fetchIssuers: true })
  leafOnly(leaf, ctx)
  hostnameRule(leaf, typeof target.name === 'string' ? target.name : (ep.servername ?? ep.host), ctx)

  const wanted = [
    ...(ctx.enabled('certificate-legacy-protocol') ? (['SSLv3', 'TLSv1', 'TLSv1.1'] as const) : []),
    ...(ctx.enabled('certificate-tls12-unsupported') ? (['TLSv1.2'] as const) : []),
  ]
  const probes = await probeProtocols(ep, served.protocol, wanted, ctx)
  const protocols = Object.fromEntries([...probes].sort(([a], [b]) => a.localeCompare(b)).map(([v, r]) => [v, r.state]))
  const inconclusive: ProbeResult[] = []
  const protoEvidence = (r: ProbeResult): Record<string, unknown> => ({ ...leaf.evidence, cipher: served.cipher, probedProtocol: r.version, probe: r.state, protocols, notProbed: NOT_PROBED, ...(r.detail ? { probeDetail: r.detail } : {}) })
  for (const v of ['SSLv3', 'TLSv1', 'TLSv1.1', 'TLSv1.2'] as const) {
    const r = probes.get(v)
    if (!r || !wanted.includes(v)) continue
    const rule = v === 'TLSv1.2' ? 'certificate-tls12-unsupported' : 'certificate-legacy-protocol'
    if (r.state === 'inconclusive') {
      inconclusive.push(r)
      continue
    }
    const accepted = r.state === 'accepted'
    const fail = v === 'TLSv1.2' ? !accepted : accepted
    ctx.report(rule, fail ? 'fail' : 'pass', { resource: `protocol ${v}`, evidence: { ...protoEvidence(r), detail: `${v} ${accepted ? 'accepted' : 'refused'}` } })
  }
  if (inconclusive.length) {
    const reason = inconclusive.every((r) => r.reason === 'timeout') ? 'timeout' : inconclusive.some((r) => r.reason === 'protocol') ? 'protocol' : 'connectivity'
    throw new AttemptFailure(reason, `${inconclusive.map((r) => `${r.version} probe: ${r.detail}`).join('; ')} (the other results were reported)`)
  }
}

async function checkFile(target: Target, ctx: Ctx): Promise<void> {
  const path = String(target.path)
  const data = await ctx.net.readFile(path, MAX_FILE_BYTES)
  const x509s = parseCertificates(data, path)
  const first = describe(x509s[0]!)
  // A CA certificate file (a root or an intermediate to distribute) has no end-entity: SAN, the 398-day limit, "self-signed",
  // the hostname and the purpose of a server certificate are rules for leaves. A root is its own anchor, so no chain rule
  // applies to it either. With a name (`cert:FILE?name=HOST`) the file is a server's chain, whatever its first certificate.
  const name = typeof target.name === 'string' ? target.name : undefined
  if (first.isCa && name === undefined) {
    await judgeChain(x509s, ctx, { chainRules: !first.selfSigned, leafIsCa: true })
    return
  }
  const { leaf } = await judgeChain(x509s, ctx, { chainRules: true })
  leafOnly(leaf, ctx)
  if (name !== undefined) hostnameRule(leaf, name, ctx)
}

/** The `certificate-inspect` check's code (declared in family.ts, which every scan loads; this module loads when it runs). */
export async function runCertificate(target: Target, ctx: Ctx): Promise<void> {
  if (target.kind === 'cert-file') return checkFile(target, ctx)
  return checkEndpoint(target, ctx)
}

/** The scan's trust store: built once per scan (`ctx.memo`) from the CA files, read through `ctx.readFile`. */
export function anchorsOf(ctx: CheckContext, useSystemRoots: boolean): ReturnType<typeof loadAnchors> {
  const files = caFilesOf(ctx)
  return ctx.memo(`anchors\0${JSON.stringify([files, useSystemRoots])}`, () => loadAnchors(files, useSystemRoots, (p, max) => ctx.readFile(p, max)))
}

export { certificateCheck, default } from './family.ts'
