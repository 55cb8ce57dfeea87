/**
 * @fileoverview SSH settings (`settings.ssh`): their JSON Schema, declared by every family that opens SSH connections,
 * and the reader that checks them. No I/O: the client (src/net/ssh.ts) and the host-key checks (known-hosts.ts) use them.
 */
import { homedir } from 'node:os'
import { join } from 'node:path'
import { AttemptFailure } from '../errors.ts'

/** SSH settings as found in scan settings `settings.ssh` (CLI: --ssh-user, --ssh-key, --known-hosts, --host-key, --insecure-accept-unknown-host-keys). */
export interface SshSettings {
  /** Login name; default: the target's user, else the local user name. */
  readonly username?: string
  /** Path of a private key file (OpenSSH or PEM format). */
  readonly privateKeyPath?: string
  /** A private key's text (instead of a path). */
  readonly privateKey?: string
  readonly passphrase?: string
  readonly password?: string
  /** OpenSSH known_hosts file (plain and hashed `|1|` entries, `[host]:port` form for non-22 ports). */
  readonly knownHostsPath?: string
  /** Pinned host keys: `SHA256:base64` (any host) or `HOST:PORT=SHA256:base64` (scoped to one endpoint). */
  readonly hostKeyFingerprints?: readonly string[]
  /** Explicit opt-out of host-key verification: an unknown key is accepted (a mismatching one never is). */
  readonly acceptUnknownHostKeys?: boolean
}

const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}=?$/
const STRING_KEYS = ['username', 'privateKeyPath', 'privateKey', 'passphrase', 'password', 'knownHostsPath'] as const

/**
 * JSON Schema of `settings.ssh` (declared by every family that opens SSH connections, validated once at scan start; the
 * same object, so two families may share the key).
 */
export const SSH_SETTINGS_SCHEMA: Readonly<Record<string, unknown>> = Object.freeze({
  type: 'object',
  additionalProperties: false,
  properties: {
    // The user name's syntax is checked by sshSettings (a message naming what a user name is).
    username: { type: 'string', minLength: 1 },
    privateKeyPath: { type: 'string', minLength: 1 },
    privateKey: { type: 'string', minLength: 1 },
    passphrase: { type: 'string', minLength: 1 },
    password: { type: 'string', minLength: 1 },
    knownHostsPath: { type: 'string', minLength: 1 },
    hostKeyFingerprints: { type: 'array', items: { type: 'string', minLength: 1 } },
    acceptUnknownHostKeys: { type: 'boolean' },
  },
})

/**
 * Reads and validates `settings.ssh`. Throws `AttemptFailure('input')` naming the field on a bad shape.
 * @example
 * const ssh = sshSettings(ctx.settings) // { knownHostsPath: '/home/me/.ssh/known_hosts', privateKeyPath: '…' }
 */
export function sshSettings(settings: Readonly<Record<string, unknown>>): SshSettings {
  const raw = settings.ssh
  if (raw === undefined || raw === null) return {}
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new AttemptFailure('input', 'settings.ssh: expected an object')
  const o = raw as Record<string, unknown>
  const out: Record<string, unknown> = {}
  for (const k of STRING_KEYS) {
    if (o[k] === undefined) continue
    if (typeof o[k] !== 'string' || o[k] === '') throw new AttemptFailure('input', `settings.ssh.${k}: expected a non-empty string`)
    // `~/` as a shell would expand it, since settings files are written by hand (`~/.ssh/known_hosts`).
    out[k] = /Path$/.test(k) && (o[k] as string).startsWith('~/') ? join(homedir(), (o[k] as string).slice(2)) : o[k]
  }
  if (out.username !== undefined && !/^[a-z_][a-z0-9_.-]{0,31}$/i.test(out.username as string))
    throw new AttemptFailure('input', 'settings.ssh.username: expected a user name ([a-z_][a-z0-9_.-]*)')
  if (o.hostKeyFingerprints !== undefined) {
    const list = o.hostKeyFingerprints
    if (!Array.isArray(list)) throw new AttemptFailure('input', 'settings.ssh.hostKeyFingerprints: expected an array of strings')
    list.forEach((f, i) => {
      if (typeof f !== 'string' || !parsePin(f))
        throw new AttemptFailure('input', `settings.ssh.hostKeyFingerprints[${i}]: expected "SHA256:<base64>" or "HOST:PORT=SHA256:<base64>" (got ${JSON.stringify(f)?.slice(0, 80)})`)
    })
    out.hostKeyFingerprints = [...list]
  }
  if (o.acceptUnknownHostKeys !== undefined) {
    if (typeof o.acceptUnknownHostKeys !== 'boolean') throw new AttemptFailure('input', 'settings.ssh.acceptUnknownHostKeys: expected a boolean')
    out.acceptUnknownHostKeys = o.acceptUnknownHostKeys
  }
  return out as SshSettings
}

/** A pin: `SHA256:base64` (any host) or `HOST:PORT=SHA256:base64` (one endpoint); undefined when malformed. */
export function parsePin(s: string): { scope?: string; fingerprint: string } | undefined {
  const at = s.indexOf('=SHA256:')
  if (at > 0) {
    const scope = s.slice(0, at).toLowerCase()
    const fp = s.slice(at + 1)
    return FINGERPRINT.test(fp) && /^(\[[0-9a-f:.]+\]|[a-z0-9_.-]+|[0-9a-f:]+):\d{1,5}$/i.test(scope) ? { scope: scope.replace(/^\[(.*)\]:/, '$1:'), fingerprint: fp.replace(/=$/, '') } : undefined
  }
  return FINGERPRINT.test(s) ? { fingerprint: s.replace(/=$/, '') } : undefined
}
