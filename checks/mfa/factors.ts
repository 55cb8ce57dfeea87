/**
 * @fileoverview Vendor factor names → ztscan's canonical factor names, and the strength tiers CISA ScubaGear uses
 * (`baselines/aad.md`): weak (SMS, voice, email OTP), stronger (push, OTP apps and tokens), phishing-resistant
 * (FIDO2/WebAuthn, Windows Hello for Business, certificate/PIV). Which canonical names fall in which tier is a rule
 * parameter (`mfa-weak-factors-only`: `weakFactors`, `phishingResistantFactors`), so a policy can move one.
 */

/** Canonical factor names as they appear in evidence and in the tier parameters. */
export type Factor =
  | 'sms' | 'voice' | 'email' | 'push' | 'totp' | 'hotp' | 'hardware-otp' | 'otp'
  | 'fido2' | 'webauthn' | 'u2f' | 'windows-hello' | 'certificate' | 'passkey' | 'platform-key' | 'okta-fastpass'
  | 'security-question' | 'temporary-access-pass' | 'other'

/** Factors that are not a second factor at all (knowledge like the password, or a bootstrap credential). */
export const NOT_A_SECOND_FACTOR: ReadonlySet<Factor> = new Set(['security-question', 'temporary-access-pass'])

/**
 * Okta `factorType` values (Factors API: call, sms, email, question, push, token, token:hardware, token:hotp,
 * token:software:totp, u2f, web, webauthn, signed_nonce).
 */
export function oktaFactor(factorType: string, provider?: string): Factor {
  switch (factorType) {
    case 'sms': return 'sms'
    case 'call': return 'voice'
    case 'email': return 'email'
    case 'question': return 'security-question'
    case 'push': return 'push'
    case 'token:software:totp': return 'totp'
    case 'token:hotp': return 'hotp'
    case 'token:hardware': return 'hardware-otp'
    case 'token': return provider === 'YUBICO' ? 'hardware-otp' : 'otp'
    case 'webauthn': return 'webauthn'
    case 'u2f': return 'u2f'
    case 'signed_nonce': return 'okta-fastpass'
    default: return 'other'
  }
}

/**
 * Entra `methodsRegistered` values of `userRegistrationDetails` (an evolvable enum: `mobilePhone`, `alternateMobilePhone`,
 * `officePhone`, `email`, `microsoftAuthenticatorPush`, `softwareOneTimePasscode`, `hardwareOneTimePasscode`,
 * `microsoftAuthenticatorPasswordless`, `windowsHelloForBusiness`, `fido2SecurityKey`, `passKeyDeviceBound*`, `passKeySynced`,
 * `macOsSecureEnclaveKey`, `temporaryAccessPass`, `securityQuestion`, …).
 */
export function entraMethod(method: string): Factor {
  switch (method) {
    case 'mobilePhone': case 'sms': case 'mobileSMS': return 'sms'
    case 'alternateMobilePhone': case 'officePhone': case 'voice': case 'mobileCall': case 'alternateMobileCall': return 'voice'
    case 'email': return 'email'
    case 'microsoftAuthenticatorPush': case 'appNotification': case 'deviceBasedPush': case 'microsoftAuthenticatorPasswordless': return 'push'
    case 'softwareOneTimePasscode': case 'appCode': case 'softwareOath': case 'oneTimePasscode': return 'totp'
    case 'hardwareOneTimePasscode': case 'hardwareOath': return 'hardware-otp'
    case 'windowsHelloForBusiness': case 'passKeyDeviceBoundWindowsHello': return 'windows-hello'
    case 'fido2SecurityKey': case 'fido2': case 'fido': case 'passKeyDeviceBound': case 'passKeyDeviceBoundAuthenticator': return 'fido2'
    case 'passKeySynced': return 'passkey'
    case 'macOsSecureEnclaveKey': return 'platform-key'
    case 'x509Certificate': case 'x509CertificateMultiFactor': case 'certificateBasedAuthentication': return 'certificate'
    case 'temporaryAccessPass': return 'temporary-access-pass'
    case 'securityQuestion': return 'security-question'
    default: return 'other'
  }
}

/** The strongest tier among a user's factors, given the tier lists in force. */
export function strongestTier(factors: readonly Factor[], weak: readonly string[], phishingResistant: readonly string[]): 'none' | 'weak' | 'stronger' | 'phishing-resistant' {
  const usable = factors.filter((f) => !NOT_A_SECOND_FACTOR.has(f))
  if (!usable.length) return 'none'
  if (usable.some((f) => phishingResistant.includes(f))) return 'phishing-resistant'
  if (usable.some((f) => !weak.includes(f))) return 'stronger'
  return 'weak'
}
