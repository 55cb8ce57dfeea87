/**
 * @fileoverview The rule ids of the mfa family's checks: read by their light declarations (checks/mfa/family.ts, loaded
 * by every scan) and by the checks' code (loaded when a check runs).
 */

/** Rules policy-entra.ts judges (besides `mfa-not-enforced`, which it feeds through its `entraEnforcement`). */
export const ENTRA_POLICY_RULES = [
  'mfa-entra-exclusion-without-fallback',
  'mfa-entra-break-glass',
  'mfa-entra-admin-phishing-resistant',
  'mfa-entra-legacy-auth-allowed',
  'mfa-entra-device-code-allowed',
  'mfa-entra-weak-methods-enabled',
] as const

/** Rules policy-okta.ts judges. */
export const OKTA_POLICY_RULES = ['mfa-okta-policy-single-factor', 'mfa-okta-admin-console-phishable'] as const

/** `mfa-idp-export`. */
export const IDP_RULES = ['mfa-user-without-mfa', 'mfa-admin-without-mfa', 'mfa-weak-factors-only', 'mfa-not-enforced', 'mfa-aws-root-without-mfa', 'mfa-aws-root-access-keys', ...ENTRA_POLICY_RULES, ...OKTA_POLICY_RULES, 'mfa-aws-policy-without-mfa-condition', 'mfa-coverage'] as const

/** `mfa-oidc`. */
export const OIDC_RULES = ['mfa-oidc-weak-signing', 'mfa-oidc-weak-jwks-key', 'mfa-token-unsigned', 'mfa-token-unverifiable', 'mfa-token-single-factor'] as const

/** `mfa-ssh`. */
export const SSH_RULES = ['mfa-ssh-single-factor', 'mfa-ssh-no-authentication'] as const

/** Identity-provider exports read as a stream (export-stream.ts); the others are read whole. */
export const STREAMED_PROVIDERS = ['entra', 'google', 'okta', 'github', 'aws'] as const
