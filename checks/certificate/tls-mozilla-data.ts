/**
 * @fileoverview Mozilla's server-side TLS guidelines, the parts `tls-mozilla-profile` judges, copied verbatim (IANA cipher names)
 * from mozilla/ssl-config-generator at commit 858f8f74a4fd1293a3a7f5ab0c16eb1eb891393a (2026-05-03), files
 * src/static/guidelines/6.0.json (modern, intermediate) and 5.8.json (old: guideline 6.0 no longer defines it), MPL-2.0.
 * Published at https://ssl-config.mozilla.org/guidelines/6.0.json; rationale at https://wiki.mozilla.org/Security/Server_Side_TLS.
 * To update: copy the same keys from the newer guideline file and bump `guideline`/`href`.
 */

/** One Mozilla configuration. */
export interface MozillaProfile {
  readonly guideline: number
  readonly href: string
  readonly tls_versions: readonly string[]
  /** TLS 1.2-and-older suites, IANA names. */
  readonly ciphers: readonly string[]
  /** TLS 1.3 suites. */
  readonly ciphersuites: readonly string[]
  /** Groups, OpenSSL names (`prime256v1` is secp256r1). */
  readonly tls_curves: readonly string[]
  readonly dh_param_size: number | null
  readonly ecdh_param_size: number | null
  readonly server_preferred_order: boolean
  readonly certificate_types: readonly string[]
  readonly certificate_curves: readonly string[]
  readonly certificate_signatures: readonly string[]
  readonly rsa_key_size: number | null
  readonly maximum_certificate_lifespan: number
  readonly ocsp_staple: boolean
  readonly oldest_clients: readonly string[]
}

export type MozillaProfileName = 'modern' | 'intermediate' | 'old'

export const MOZILLA_PROFILES: Readonly<Record<MozillaProfileName, MozillaProfile>> = {
  "modern": {
    "guideline": 6.0,
    "href": "https://ssl-config.mozilla.org/guidelines/6.0.json",
    "tls_versions": [
      "TLSv1.3"
    ],
    "ciphers": [],
    "ciphersuites": [
      "TLS_AES_128_GCM_SHA256",
      "TLS_AES_256_GCM_SHA384",
      "TLS_CHACHA20_POLY1305_SHA256"
    ],
    "tls_curves": [
      "X25519MLKEM768",
      "X25519",
      "prime256v1",
      "secp384r1"
    ],
    "dh_param_size": null,
    "ecdh_param_size": 256,
    "server_preferred_order": false,
    "certificate_types": [
      "ecdsa"
    ],
    "certificate_curves": [
      "prime256v1",
      "secp384r1"
    ],
    "certificate_signatures": [
      "ecdsa-with-SHA256",
      "ecdsa-with-SHA384",
      "ecdsa-with-SHA512"
    ],
    "rsa_key_size": null,
    "maximum_certificate_lifespan": 90,
    "ocsp_staple": true,
    "oldest_clients": [
      "Firefox 63",
      "Android 10.0",
      "Chrome 70",
      "Edge 75",
      "Java 11",
      "OpenSSL 1.1.1",
      "Opera 57",
      "Safari 12.1"
    ]
  },
  "intermediate": {
    "guideline": 6.0,
    "href": "https://ssl-config.mozilla.org/guidelines/6.0.json",
    "tls_versions": [
      "TLSv1.2",
      "TLSv1.3"
    ],
    "ciphers": [
      "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
      "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
      "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
      "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
      "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
      "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"
    ],
    "ciphersuites": [
      "TLS_AES_128_GCM_SHA256",
      "TLS_AES_256_GCM_SHA384",
      "TLS_CHACHA20_POLY1305_SHA256"
    ],
    "tls_curves": [
      "X25519MLKEM768",
      "X25519",
      "prime256v1",
      "secp384r1"
    ],
    "dh_param_size": 2048,
    "ecdh_param_size": 256,
    "server_preferred_order": false,
    "certificate_types": [
      "ecdsa",
      "rsa"
    ],
    "certificate_curves": [
      "prime256v1",
      "secp384r1"
    ],
    "certificate_signatures": [
      "sha256WithRSAEncryption",
      "ecdsa-with-SHA256",
      "ecdsa-with-SHA384",
      "ecdsa-with-SHA512"
    ],
    "rsa_key_size": 2048,
    "maximum_certificate_lifespan": 366,
    "ocsp_staple": true,
    "oldest_clients": [
      "Firefox 31.3.0",
      "Android 4.4.2",
      "Chrome 49",
      "Edge 15 on Windows 10",
      "IE 11 on Windows 10",
      "Java 8u161",
      "OpenSSL 1.0.1l",
      "Opera 20",
      "Safari 9"
    ]
  },
  "old": {
    "guideline": 5.8,
    "href": "https://ssl-config.mozilla.org/guidelines/5.8.json",
    "tls_versions": [
      "TLSv1",
      "TLSv1.1",
      "TLSv1.2",
      "TLSv1.3"
    ],
    "ciphers": [
      "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
      "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
      "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
      "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
      "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
      "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
      "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
      "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
      "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
      "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
      "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
      "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
      "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
      "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
      "TLS_RSA_WITH_AES_128_GCM_SHA256",
      "TLS_RSA_WITH_AES_256_GCM_SHA384",
      "TLS_RSA_WITH_AES_128_CBC_SHA256",
      "TLS_RSA_WITH_AES_256_CBC_SHA256",
      "TLS_RSA_WITH_AES_128_CBC_SHA",
      "TLS_RSA_WITH_AES_256_CBC_SHA",
      "TLS_RSA_WITH_3DES_EDE_CBC_SHA"
    ],
    "ciphersuites": [
      "TLS_AES_128_GCM_SHA256",
      "TLS_AES_256_GCM_SHA384",
      "TLS_CHACHA20_POLY1305_SHA256"
    ],
    "tls_curves": [
      "X25519MLKEM768",
      "X25519",
      "prime256v1",
      "secp384r1"
    ],
    "dh_param_size": 2048,
    "ecdh_param_size": 256,
    "server_preferred_order": true,
    "certificate_types": [
      "rsa"
    ],
    "certificate_curves": [
      "prime256v1",
      "secp384r1"
    ],
    "certificate_signatures": [
      "sha256WithRSAEncryption"
    ],
    "rsa_key_size": 2048,
    "maximum_certificate_lifespan": 366,
    "ocsp_staple": true,
    "oldest_clients": [
      "Firefox 1",
      "Android 2.3",
      "Chrome 1",
      "Edge 12",
      "IE8 on Windows XP",
      "Java 6",
      "OpenSSL 0.9.8",
      "Opera 5",
      "Safari 1"
    ]
  }
}
