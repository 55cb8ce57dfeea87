/**
 * @fileoverview Judges an endpoint against one of Mozilla's server-side TLS configurations (`tls-mozilla-data.ts`): each thing the
 * server offers beyond the configuration is a named deviation. Offering less than the configuration (no TLS 1.2 on an
 * intermediate server, say) is stricter, not a deviation; it is listed as `notOffered` — so is a missing OCSP staple. HSTS is not
 * judged here.
 */
import type { CertInfo } from './describe.ts'
import { MOZILLA_PROFILES, type MozillaProfile, type MozillaProfileName } from './tls-mozilla-data.ts'
import type { Enumeration } from './tls-ciphers.ts'

export { MOZILLA_PROFILES, type MozillaProfileName }

/** Mozilla's (OpenSSL) group names → IANA names as `groupName` prints them. */
const GROUP_ALIASES: Readonly<Record<string, string>> = { X25519: 'x25519', X448: 'x448', prime256v1: 'secp256r1' }
/** Key types as `describe()` names them → Mozilla's certificate_types. */
const KEY_TYPES: Readonly<Record<string, string>> = { rsa: 'rsa', 'rsa-pss': 'rsa', ec: 'ecdsa' }
const DAY = 86_400_000

export interface MozillaVerdict {
  readonly profile: MozillaProfileName
  readonly guideline: number
  readonly href: string
  /** What the server offers or serves beyond the configuration, one sentence each. */
  readonly deviations: readonly string[]
  /** What the configuration has that the server does not offer (not a deviation). */
  readonly notOffered: readonly string[]
  /** Parts of the guideline this verdict does not cover. */
  readonly notJudged: readonly string[]
}

const list = (xs: readonly string[]): string => xs.join(', ')

/** The deviations of an enumeration (and the served leaf certificate, when known) from Mozilla's `name` configuration. */
export function judgeMozilla(name: MozillaProfileName, e: Enumeration, leaf?: CertInfo, stapled?: boolean): MozillaVerdict {
  const p: MozillaProfile = MOZILLA_PROFILES[name]
  const deviations: string[] = []
  const notOffered: string[] = []
  const accepted = e.versions.filter((v) => v.accepted)
  const label = `${name} (v${p.guideline.toFixed(1)})`

  const extraVersions = accepted.map((v) => v.version).filter((v) => !p.tls_versions.includes(v))
  if (extraVersions.length) deviations.push(`${list(extraVersions)} offered; ${label} allows ${list(p.tls_versions)}`)
  const missingVersions = p.tls_versions.filter((v) => !accepted.some((a) => a.version === v))
  if (missingVersions.length) notOffered.push(`protocol ${list(missingVersions)}`)

  const legacy = [...new Set(accepted.filter((v) => v.version !== 'TLSv1.3').flatMap((v) => v.suites.map((s) => s.name)))]
  const extraSuites = legacy.filter((s) => !p.ciphers.includes(s))
  if (extraSuites.length) deviations.push(`cipher suites outside ${label}: ${list(extraSuites)}`)
  const t13 = accepted.find((v) => v.version === 'TLSv1.3')?.suites.map((s) => s.name) ?? []
  const extra13 = t13.filter((s) => !p.ciphersuites.includes(s))
  if (extra13.length) deviations.push(`TLS 1.3 cipher suites outside ${label}: ${list(extra13)}`)

  const allowedGroups = p.tls_curves.map((c) => GROUP_ALIASES[c] ?? c)
  const extraGroups = [...new Set([...e.groups, ...(e.legacyGroups ?? [])].map((g) => g.name))].filter((g) => !allowedGroups.includes(g))
  if (extraGroups.length) deviations.push(`key-exchange groups outside ${label}: ${list(extraGroups)}`)

  const dh = e.dh.filter((d) => d.version !== 'TLSv1.3')
  if (p.dh_param_size !== null) {
    const small = dh.filter((d) => d.bits < p.dh_param_size!)
    if (small.length) deviations.push(`DH parameters of ${Math.min(...small.map((d) => d.bits))} bits; ${label} asks for ${p.dh_param_size}`)
  }

  if (p.server_preferred_order) {
    const clientOrder = accepted.filter((v) => v.order && v.order !== 'server').map((v) => v.version)
    if (clientOrder.length) deviations.push(`${list(clientOrder)}: the server does not enforce its cipher order; ${label} asks it to`)
  }

  const notJudged = ['HSTS']
  if (stapled === undefined) notJudged.unshift('OCSP stapling')
  else if (p.ocsp_staple && !stapled) notOffered.push('OCSP stapling')
  if (leaf) {
    const type = KEY_TYPES[leaf.keyType] ?? leaf.keyType
    if (!p.certificate_types.includes(type)) deviations.push(`certificate key type ${type}; ${label} allows ${list(p.certificate_types)}`)
    if (type === 'rsa' && p.rsa_key_size !== null && leaf.keySize !== null && leaf.keySize < p.rsa_key_size) deviations.push(`RSA key of ${leaf.keySize} bits; ${label} asks for ${p.rsa_key_size}`)
    if (type === 'ecdsa' && leaf.curve && !p.certificate_curves.includes(leaf.curve)) deviations.push(`certificate curve ${leaf.curve}; ${label} allows ${list(p.certificate_curves)}`)
    if (!p.certificate_signatures.includes(leaf.signatureAlgorithm))
      deviations.push(`certificate signature ${leaf.signatureAlgorithm}; ${label} allows ${list(p.certificate_signatures)}`)
    const lifespan = Math.round((leaf.notAfter.getTime() - leaf.notBefore.getTime()) / DAY)
    if (lifespan > p.maximum_certificate_lifespan) deviations.push(`certificate lifespan of ${lifespan} days; ${label} allows ${p.maximum_certificate_lifespan}`)
  } else notJudged.push('the certificate (no TLS 1.0–1.3 handshake completed)')

  return { profile: name, guideline: p.guideline, href: p.href, deviations, notOffered, notJudged }
}
