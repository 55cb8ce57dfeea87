/**
 * @fileoverview The mfa family's target schemes: `ssh://`, `idp:PROVIDER:FILE`, the live identity APIs (`entra://TENANT`,
 * `okta://ORG`, `github-org://ORG`, `google://CUSTOMER`, `aws-iam://ACCOUNT`)
 * and `oidc:https://ISSUER`.
 */
import { resolve } from 'node:path'
import { defineTargets } from '../../src/engine/check.ts'
import { TargetError } from '../../src/errors.ts'
import { bracket, checkHost, providerFileTarget, userHostPort } from '../../src/targets/host.ts'
import type { Target } from '../../src/types.ts'

/** Builds an SSH endpoint target (also what the open-port family chains an open SSH port to, through `ssh://`). */
export function sshEndpoint(host: string, port = 22, extra: Record<string, unknown> = {}): Target {
  return endpoint(checkHost(`${host}:${port}`, host), port, extra)
}

/** The endpoint of an already checked (lower-cased) host: `ssh://` parses check it once, not twice. */
function endpoint(h: string, port: number, extra: Record<string, unknown>): Target {
  return { kind: 'ssh-endpoint', id: `ssh://${bracket(h)}:${port}`, host: h, port, ...extra }
}

export const targets = defineTargets([
  {
    scheme: 'ssh',
    kind: 'ssh-endpoint',
    example: 'ssh://[USER@]HOST[:PORT]',
    parse(rest, raw) {
      const { user, host, port } = userHostPort(raw, rest, 22)
      return endpoint(host, port, user ? { username: user } : {})
    },
    suggest: (f) => (f.form === 'url' ? undefined : { target: f.form === 'host-port' ? `ssh://${f.host}:${f.port}` : `ssh://${f.host}`, what: 'SSH' }),
  },
  {
    scheme: 'idp',
    kind: 'identity-export',
    example: 'idp:okta|entra|google|aws|github:FILE',
    parse: (rest, raw) => providerFileTarget('identity-export', 'idp', rest, raw),
  },
  {
    scheme: 'entra',
    kind: 'identity-live',
    example: 'entra://TENANT',
    note: 'Microsoft Graph, live',
    parse(rest, raw) {
      const tenant = rest.replace(/\/+$/, '').toLowerCase()
      // A tenant id (GUID) or a verified domain (contoso.onmicrosoft.com).
      if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(tenant) && !/^[a-z0-9]([a-z0-9-]{0,62}\.)+[a-z]{2,63}$/.test(tenant))
        throw new TargetError(raw, 'expected entra://TENANT (a tenant id or a domain such as contoso.onmicrosoft.com)')
      return { kind: 'identity-live', id: `entra://${tenant}`, provider: 'entra', tenant }
    },
  },
  {
    scheme: 'okta',
    kind: 'identity-live',
    example: 'okta://ORG',
    note: 'Okta management API, live',
    parse(rest, raw) {
      const name = rest.replace(/\/+$/, '').toLowerCase()
      // The org's host (dev-123.okta.com, login.example.com); a bare name is NAME.okta.com.
      if (!/^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?)*$/.test(name) || name.length > 253)
        throw new TargetError(raw, 'expected okta://ORG (the org host, such as dev-123.okta.com, or its name)')
      const org = name.includes('.') ? name : `${name}.okta.com`
      return { kind: 'identity-live', id: `okta://${org}`, provider: 'okta', org }
    },
  },
  {
    scheme: 'github-org',
    kind: 'identity-live',
    example: 'github-org://ORG',
    note: 'GitHub REST API, live',
    parse(rest, raw) {
      const org = rest.replace(/\/+$/, '')
      // GitHub logins: letters, digits and single hyphens, at most 39 characters.
      if (!/^[A-Za-z0-9](-?[A-Za-z0-9]){0,38}$/.test(org)) throw new TargetError(raw, 'expected github-org://ORG (the organization login)')
      return { kind: 'identity-live', id: `github-org://${org}`, provider: 'github', org }
    },
  },
  {
    scheme: 'google',
    kind: 'identity-live',
    example: 'google://CUSTOMER',
    note: 'Google Admin SDK Directory API, live',
    parse(rest, raw) {
      const customer = rest.replace(/\/+$/, '')
      // A Workspace customer id (C01abc23d) or my_customer (the credential's own account).
      if (!/^(my_customer|C[0-9A-Za-z]{4,20})$/.test(customer)) throw new TargetError(raw, 'expected google://CUSTOMER (a customer id such as C01abc23d, or my_customer)')
      return { kind: 'identity-live', id: `google://${customer}`, provider: 'google', customer }
    },
  },
  {
    scheme: 'aws-iam',
    kind: 'identity-live',
    example: 'aws-iam://ACCOUNT',
    note: 'AWS IAM Query API, live',
    parse(rest, raw) {
      const account = rest.replace(/\/+$/, '')
      // The 12-digit account id the credential must belong to.
      if (!/^\d{12}$/.test(account)) throw new TargetError(raw, 'expected aws-iam://ACCOUNT (the 12-digit AWS account id)')
      return { kind: 'identity-live', id: `aws-iam://${account}`, provider: 'aws', account }
    },
  },
  {
    scheme: 'oidc',
    kind: 'oidc',
    example: 'oidc:https://ISSUER[#tokens=FILE]',
    parse(rest, raw) {
      const [issuer, frag] = rest.split('#', 2) as [string, string | undefined]
      let url: URL
      try {
        url = new URL(issuer)
      } catch {
        throw new TargetError(raw, 'expected oidc:https://ISSUER')
      }
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TargetError(raw, 'the issuer must be an http(s) URL')
      const host = url.hostname.replace(/^\[|\]$/g, '')
      checkHost(raw, host)
      const params = new URLSearchParams(frag ?? '')
      const tokens = params.get('tokens') ?? undefined
      const audience = params.get('audience') ?? undefined
      const href = url.href.replace(/\/$/, '')
      return { kind: 'oidc', id: `oidc:${href}`, host, issuer: href, tokensFile: tokens ? resolve(tokens) : undefined, ...(audience ? { audience } : {}) }
    },
    suggest: (f) => (f.form === 'url' && f.protocol === 'https' ? { target: `oidc:${f.raw}`, what: 'an OpenID issuer' } : undefined),
  },
])
