/**
 * @fileoverview The certificate family's declaration: live TLS endpoints (`tls-endpoint`) and certificate files
 * (`cert-file`). Its check's code (index.ts: path building, AIA, protocol probes) loads when it runs.
 */
import { defineCheck, defineFamily } from '../../src/engine/check.ts'
import { targets } from './targets.ts'

export const CERTIFICATE_RULES = [
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
  'certificate-invalid-ca',
  'certificate-name-constraints',
  'certificate-wrong-purpose',
  'certificate-unknown-critical-extension',
  'certificate-profile-violation',
  'certificate-unneeded',
  'certificate-legacy-protocol',
  'certificate-tls12-unsupported',
] as const

/** The certificate check: a TLS endpoint's served chain and protocol versions, or the certificates in a PEM/DER file. */
export const certificateCheck = defineCheck({
  id: 'certificate-inspect',
  family: 'certificate',
  targetKinds: ['tls-endpoint', 'cert-file'],
  rules: CERTIFICATE_RULES,
  load: () => import('./index.ts'),
  run: async (target, ctx) => (await import('./index.ts')).runCertificate(target, ctx),
})

// Not `export default defineFamily(...)`: tsc 5.9 leaves a dynamic import's .ts path unrewritten inside an export-default expression.
const family = defineFamily({
  name: 'certificate',
  pillar: 'networks',
  targets,
  settings: {
    type: 'object',
    properties: {
      tls: {
        type: 'object',
        additionalProperties: false,
        properties: {
          caFile: { anyOf: [{ type: 'string', minLength: 1 }, { type: 'array', items: { type: 'string', minLength: 1 } }] },
          // Read by the tls family's revocation check and by AIA chasing (aia.ts).
          revocation: { enum: ['fail-closed', 'soft-fail', 'off'] },
          aia: { anyOf: [{ type: 'boolean' }, { enum: ['on', 'off'] }] },
        },
      },
    },
  },
  flags: [
    { name: 'ca-file', arg: 'FILE', setting: '/tls/caFile', help: 'extra trust anchors for certificate chains' },
    { name: 'revocation', arg: 'MODE', setting: '/tls/revocation', help: 'fail-closed (default: an unanswered revocation check is an error), soft-fail, or off (no OCSP/CRL fetch)' },
    { name: 'aia', arg: 'on|off', setting: '/tls/aia', help: 'fetch missing intermediates from AIA caIssuers (default on)' },
  ],
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
