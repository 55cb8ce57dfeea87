/**
 * @fileoverview The `tls` family's declaration: its checks, whose code (tls-check.ts, revocation.ts and the hand-written
 * ClientHellos, OCSP and CRL readers they use) loads when one runs.
 */
import { defineCheck, defineFamily } from '../../src/engine/check.ts'

export const TLS_CIPHER_RULES = [
  'tls-starttls-unavailable',
  'tls-weak-cipher',
  'tls-no-forward-secrecy',
  'tls-cbc-only',
  'tls-server-order-not-enforced',
  'tls-weak-dh',
  'tls-mozilla-profile',
  'tls-no-ocsp-stapling',
  'tls-must-staple-without-staple',
  'tls-grade',
] as const

export const TLS_REVOCATION_RULES = ['tls-certificate-revoked', 'tls-no-revocation-info'] as const

/** The cipher-suite check: enumerates suites, order, groups and DH sizes with hand-written ClientHellos. */
export const tlsCiphersCheck = defineCheck({
  id: 'tls-ciphers',
  family: 'tls',
  targetKinds: ['tls-endpoint'],
  rules: TLS_CIPHER_RULES,
  // About n+1 hellos per version for n accepted suites, one after another, plus the groups: twice a single probe's budget.
  timeout: (_t, base) => base * 2,
  load: () => import('./tls-check.ts'),
  run: async (target, ctx) => (await import('./tls-check.ts')).runTlsCiphers(target, ctx),
})

/** The revocation check: stapled OCSP, OCSP responders and CRLs of the served leaf, every answer's signature verified. */
export const tlsRevocationCheck = defineCheck({
  id: 'tls-revocation',
  family: 'tls',
  targetKinds: ['tls-endpoint'],
  rules: TLS_REVOCATION_RULES,
  // A handshake, AIA chasing, then responders and CRLs one after another.
  timeout: (_t, base) => base * 2,
  load: () => import('./revocation.ts'),
  run: async (target, ctx) => (await import('./revocation.ts')).runTlsRevocation(target, ctx),
})

// Its targets are the certificate family's tls:// and STARTTLS endpoints: it declares no scheme of its own.
// Declared before `export default`: tsc does not rewrite a `.ts` dynamic import inside an `export default` expression.
const family = defineFamily({
  name: 'tls',
  pillar: 'networks',
  targets: [],
  checks: [tlsCiphersCheck, tlsRevocationCheck],
  // Loaded only by `ztscan demo`: the lab is not shipped in the npm package.
  async demo() {
    return (await import('../tls/demo.ts')).startDemo()
  },
})
export default family
