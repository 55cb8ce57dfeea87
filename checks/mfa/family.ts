/**
 * @fileoverview The mfa family: is multi-factor authentication enforced, and is it phishing-resistant? Three kinds of
 * evidence: identity-provider exports (`mfa-idp-export`), an OIDC issuer with sample tokens (`mfa-oidc`), and the
 * authentication methods SSH servers offer (`mfa-ssh`).
 */
import { defineCheck, defineFamily } from '../../src/engine/check.ts'
import { streamedExportTimeout } from '../../src/lib-json-stream.ts'
import { IDP_RULES, OIDC_RULES, SSH_RULES, STREAMED_PROVIDERS } from './rules.ts'
import { sshEndpoint, targets } from './targets.ts'
import { SSH_SETTINGS_SCHEMA } from '../../src/net/ssh-settings.ts'
import { LIVE_SETTINGS_SCHEMAS } from './live/settings.ts'

// The checks are declared here; their code (and what it imports) loads when one runs: a scan that has no target of
// theirs does not load it (issue 14: start-up).
const streamed: ReadonlySet<string> = new Set(STREAMED_PROVIDERS)

/** `mfa-idp-export`: identity-provider exports and live pulls (idp.ts). */
export const idpExport = defineCheck({
  id: 'mfa-idp-export',
  family: 'mfa',
  targetKinds: ['identity-export', 'identity-live'],
  rules: IDP_RULES,
  // Local parsing, no network: a large tenant (about 25k users a second here) must not hit the network-sized deadline.
  // User lists are streamed at any size: their deadline grows with the file.
  timeout: (t, baseMs) => (t.kind === 'identity-live' ? Math.max(baseMs, 900_000) : typeof t.provider === 'string' && streamed.has(t.provider) ? streamedExportTimeout([t.path], baseMs) : Math.max(baseMs, 120_000)),
  load: () => import('./idp.ts'),
  run: async (target, ctx) => (await import('./idp.ts')).idpExportRun.run(target, ctx),
})

/** `mfa-oidc`: an issuer's discovery document, JWKS and sample tokens (oidc.ts). */
export const oidc = defineCheck({
  id: 'mfa-oidc',
  family: 'mfa',
  targetKinds: ['oidc'],
  rules: OIDC_RULES,
  load: () => import('./oidc.ts'),
  run: async (target, ctx) => (await import('./oidc.ts')).oidcRun.run(target, ctx),
})

/** `mfa-ssh`: the authentication methods an SSH server offers (ssh.ts). */
export const ssh = defineCheck({
  id: 'mfa-ssh',
  family: 'mfa',
  targetKinds: ['ssh-endpoint'],
  rules: SSH_RULES,
  load: () => import('./ssh.ts'),
  run: async (target, ctx) => (await import('./ssh.ts')).sshRun.run(target, ctx),
})

// Not `export default defineFamily(...)`: tsc 5.9 leaves a dynamic import's .ts path unrewritten inside an export-default expression.
const family = defineFamily({
  name: 'mfa',
  pillar: 'identity',
  targets,
  settings: { type: 'object', properties: { ssh: SSH_SETTINGS_SCHEMA, ...LIVE_SETTINGS_SCHEMAS } },
  flags: [
    { name: 'idp', arg: 'PROVIDER:FILE', multiple: true, target: 'idp', help: 'identity-provider export (repeatable)' },
    { name: 'ssh-user', arg: 'USER', setting: '/ssh/username', help: 'SSH login for agents:// targets and for the ssh:// key probe' },
    { name: 'ssh-key', arg: 'FILE', setting: '/ssh/privateKeyPath', help: 'SSH private key: logs in to agents:// targets; ssh:// probes offer it to confirm a second factor (no password is ever sent)' },
    { name: 'known-hosts', arg: 'FILE', setting: '/ssh/knownHostsPath', help: 'verify SSH host keys (ssh:// and agents://) against this file' },
    { name: 'host-key', arg: 'SHA256:...', multiple: true, setting: '/ssh/hostKeyFingerprints', help: 'pin an SSH host key fingerprint (repeatable; HOST:PORT=SHA256:... to scope)' },
    { name: 'insecure-accept-unknown-host-keys', setting: '/ssh/acceptUnknownHostKeys', help: 'do not verify SSH host keys (explicit opt-out)' },
  ],
  checks: [idpExport, oidc, ssh],
  /** This machine's sshd, when something answers on 127.0.0.1:22 within 300 ms (its host key is read from /etc/ssh). */
  async defaultTargets(ctx) {
    try {
      const s = await ctx.net.tcpConnect('127.0.0.1', 22)
      s.destroy()
      return [sshEndpoint('127.0.0.1', 22)]
    } catch {
      return []
    }
  },
  /** Flawed exports of every provider, and an issuer advertising HS256/none with a 1024-bit key and weak sample tokens. */
  async demo(dir) {
    return (await import('./demo.ts')).startDemo(dir)
  },
})
export default family
