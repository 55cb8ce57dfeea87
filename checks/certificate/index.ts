/**
 * @fileoverview The certificate family: live TLS endpoints (`tls-endpoint`) and certificate files (`cert-file`).
 * One result per rule per certificate of the served chain (or file), plus one per probed protocol version.
 */
import type { X509Certificate } from 'node:crypto'
import { isIP } from 'node:net'
import { defineCheck, defineFamily, type CheckContext } from '../../src/engine/check.ts'
import { AttemptFailure } from '../../src/errors.ts'
import type { Target } from '../../src/types.ts'
import { evaluateChain, loadAnchors, parseCertificates, type ChainVerdict } from './chain.ts'
import { describe, evidenceOf, positionOf, type CertInfo } from './describe.ts'
import { fetchServed, probeProtocols, type ProbeResult } from './probe.ts'

const RULES = [
  'certificate-expired',
  'certificate-expiring',
  'certificate-expiring-critical',
  'certificate-not-yet-valid',
  'certificate-self-signed',
  'certificate-untrusted',
  'certificate-incomplete-chain',
  'certificate-hostname-mismatch',
  'certificate-weak-key',
  'certificate-weak-signature',
  'certificate-validity-too-long',
  'certificate-no-san',
  'certificate-legacy-protocol',
  'certificate-tls12-unsupported',
] as const
type Rule = (typeof RULES)[number]
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
const trustWords: Record<ChainVerdict['status'], string> = {
  trusted: 'chains to a trusted root',
  'self-signed': 'self-signed and not a trust anchor',
  'untrusted-root': 'chains to a root that is not a trust anchor',
  incomplete: 'an issuer is neither served nor a trust anchor',
  'bad-signature': 'an issuer by name does not verify the signature',
}

/** Rules about each certificate on its own: validity, key, signature, and (leaf only) SAN, validity length. */
function perCertificate(certs: readonly Cert[], ctx: Ctx, anchorFp: (fp: string) => boolean, leafRules = true): void {
  const now = ctx.now().getTime()
  const { warnDays } = ctx.params<{ warnDays: number }>('certificate-expiring')
  const { criticalDays } = ctx.params<{ criticalDays: number }>('certificate-expiring-critical')
  const { minRsaBits, minEcBits } = ctx.params<{ minRsaBits: number; minEcBits: number }>('certificate-weak-key')
  const { weakHashes } = ctx.params<{ weakHashes: string[] }>('certificate-weak-signature')
  const { maxDays } = ctx.params<{ maxDays: number }>('certificate-validity-too-long')
  for (const [i, c] of certs.entries()) {
    const { info, resource, evidence } = c
    const at = (detail: string): { resource: string; evidence: Record<string, unknown> } => ({ resource, evidence: { ...evidence, detail } })
    const left = info.notAfter.getTime() - now
    const notYet = info.notBefore.getTime() > now
    ctx.report('certificate-expired', left < 0 ? 'fail' : 'pass', at(left < 0 ? `expired ${days(-left)} days ago` : `valid until ${evidence.notAfter}`))
    ctx.report('certificate-not-yet-valid', notYet ? 'fail' : 'pass', at(notYet ? `valid only from ${evidence.notBefore}` : `valid since ${evidence.notBefore}`))
    if (left >= 0) {
      // An expired certificate is reported by certificate-expired alone.
      const d = days(left)
      ctx.report('certificate-expiring', left < warnDays * DAY ? 'fail' : 'pass', at(`expires in ${d} days (threshold ${warnDays})`))
      ctx.report('certificate-expiring-critical', left < criticalDays * DAY ? 'fail' : 'pass', at(`expires in ${d} days (threshold ${criticalDays})`))
    }
    const isRsa = info.keyType === 'rsa' || info.keyType === 'rsa-pss' || info.keyType === 'dsa'
    const min = isRsa ? minRsaBits : info.keyType === 'ec' ? minEcBits : 0
    const weakKey = info.keySize === null ? info.keyType === 'ec' || isRsa : info.keySize < min
    ctx.report('certificate-weak-key', weakKey ? 'fail' : 'pass', at(`${info.keyType} ${info.keySize ?? 'unknown size'}${info.curve ? ` (${info.curve})` : ''}, minimum ${min || 'n/a'}`))
    // A trust anchor's self-signature is never checked by clients, so its algorithm does not matter.
    const anchorSelf = info.selfSigned && anchorFp(info.x509.fingerprint256)
    const weakSig = !anchorSelf && info.signatureHash !== null && weakHashes.includes(info.signatureHash)
    ctx.report('certificate-weak-signature', weakSig ? 'fail' : 'pass', at(anchorSelf ? `${info.signatureAlgorithm} (trust anchor self-signature, ignored)` : info.signatureAlgorithm))
    if (i === 0 && leafRules) {
      const validity = Math.round((info.notAfter.getTime() - info.notBefore.getTime()) / DAY)
      ctx.report('certificate-validity-too-long', info.notAfter.getTime() - info.notBefore.getTime() > maxDays * DAY ? 'fail' : 'pass', at(`${validity} days (maximum ${maxDays})`))
      ctx.report('certificate-no-san', info.hasSan ? 'pass' : 'fail', at(info.hasSan ? `${info.sans.length} SAN entries` : 'no subjectAltName extension'))
      ctx.report('certificate-self-signed', info.selfSigned ? 'fail' : 'pass', at(info.selfSigned ? 'issuer equals subject and the key verifies its own signature' : `issued by ${info.issuer}`))
    }
  }
}

/** Chain rules, reported once for the leaf. */
async function chainRules(certs: readonly Cert[], ctx: Ctx, caFiles: readonly string[], useSystemRoots: boolean): Promise<(fp: string) => boolean> {
  const anchors = await loadAnchors(caFiles, useSystemRoots)
  const verdict = evaluateChain(certs.map((c) => c.info), anchors)
  const leaf = certs[0]!
  const ev = {
    ...leaf.evidence,
    trust: verdict.status,
    detail: trustWords[verdict.status] + (verdict.anchor ? ` (${verdict.anchor})` : verdict.missingIssuer ? `: missing issuer "${verdict.missingIssuer}" of ${certs[verdict.at ?? 0]?.position}` : ''),
    anchors: anchors.sources,
    chainLength: certs.length,
  }
  ctx.report('certificate-untrusted', verdict.status === 'trusted' ? 'pass' : 'fail', { resource: leaf.resource, evidence: ev })
  ctx.report('certificate-incomplete-chain', verdict.status === 'incomplete' ? 'fail' : 'pass', { resource: leaf.resource, evidence: ev })
  return (fp) => anchors.has(fp)
}

function toCerts(x509s: readonly X509Certificate[], protocol?: string): Cert[] {
  return x509s.map((x, i) => {
    const info = describe(x)
    const position = positionOf(i, info)
    return { info, position, resource: `${position} SHA256:${info.fingerprint256}`, evidence: evidenceOf(info, position, protocol) }
  })
}

/** CA files from the settings (`tls.caFile`, a string or a list) and the `caFile` parameter of certificate-untrusted. */
function caFilesOf(ctx: Ctx): string[] {
  const tls = (ctx.settings.tls ?? {}) as { caFile?: string | string[] }
  const { caFile } = ctx.params<{ caFile: string }>('certificate-untrusted')
  return [...new Set([...(Array.isArray(tls.caFile) ? tls.caFile : tls.caFile ? [tls.caFile] : []), ...(caFile ? [caFile] : [])])]
}

async function checkEndpoint(target: Target, ctx: Ctx): Promise<void> {
  const ep = { host: String(target.host), port: Number(target.port), servername: target.servername as string | undefined }
  const served = await fetchServed(ep, ctx)
  const certs = toCerts(served.certs, served.protocol)
  const { useSystemRoots } = ctx.params<{ useSystemRoots: boolean }>('certificate-untrusted')
  const isAnchor = await chainRules(certs, ctx, caFilesOf(ctx), useSystemRoots)
  perCertificate(certs, ctx, isAnchor)

  const leaf = certs[0]!
  const name = ep.servername ?? ep.host
  const ip = isIP(name) !== 0
  const matched = ip ? leaf.info.x509.checkIP(name) : leaf.info.x509.checkHost(name, { subject: 'never' })
  ctx.report('certificate-hostname-mismatch', matched ? 'pass' : 'fail', {
    resource: leaf.resource,
    evidence: { ...leaf.evidence, name, detail: matched ? `${name} matches the SAN ${ip ? 'IP' : 'DNS'} entries` : `${name} is not among the SAN entries (${leaf.info.sans.join(', ') || 'none'}); the CN is not used` },
  })

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
  const certs = toCerts(parseCertificates(data, path))
  const first = certs[0]!.info
  // A CA certificate file (a root or an intermediate to distribute) has no end-entity: SAN, the 398-day limit and
  // "self-signed" are rules for leaves. A root is its own anchor, so no chain rule applies to it either.
  if (first.isCa && first.selfSigned) return perCertificate(certs, ctx, (fp) => fp === first.x509.fingerprint256, false)
  const { useSystemRoots } = ctx.params<{ useSystemRoots: boolean }>('certificate-untrusted')
  const isAnchor = await chainRules(certs, ctx, caFilesOf(ctx), useSystemRoots)
  perCertificate(certs, ctx, isAnchor, !first.isCa)
}

/** The certificate check: a TLS endpoint's served chain and protocol versions, or the certificates in a PEM/DER file. */
export const certificateCheck = defineCheck({
  id: 'certificate-inspect',
  family: 'certificate',
  targetKinds: ['tls-endpoint', 'cert-file'],
  rules: RULES,
  async run(target, ctx) {
    if (target.kind === 'cert-file') return checkFile(target, ctx)
    return checkEndpoint(target, ctx)
  },
})

// Not `export default defineFamily(...)`: tsc 5.9 leaves a dynamic import's .ts path unrewritten inside an export-default expression.
const family = defineFamily({
  name: 'certificate',
  checks: [certificateCheck],
  // The open-port family chains the TLS ports it finds on loopback as tls-endpoint targets; nothing to add on its own.
  async defaultTargets() {
    return []
  },
  // Loaded only by `ztscan demo`: the lab is not shipped in the npm package.
  async demo(dir) {
    return (await import('./demo.ts')).startDemo(dir)
  },
})
export default family
