/**
 * @fileoverview Check `mfa-ssh`: the authentication methods an SSH server offers to the `none` request (RFC 4252
 * section 5.2), read without logging in, after the host key was verified (`ctx.ssh.probe`).
 *
 * What the probe sees: the list the server sends when `none` fails — the methods that can START a login. So `password` or
 * `keyboard-interactive` in the list means it can begin (and, in every OpenSSH configuration, complete) a login on its own
 * — a single factor. A second method required after a partially successful first one (OpenSSH
 * `AuthenticationMethods publickey,password`) is invisible to `none` alone (as to nmap's `ssh-auth-methods`): given a key
 * (`settings.ssh.privateKeyPath`, `--ssh-key`), the probe then offers it and reads the answer — success (the key alone
 * logs in: one factor) or partial success with methods remaining (a second factor required). It never sends a password
 * and closes the connection right after the answer, before any channel.
 */
import { isIP } from 'node:net'
import { join } from 'node:path'
import type { CheckDefinition } from '../../src/engine/check.ts'
import { AttemptFailure } from '../../src/errors.ts'
import { fingerprintOf } from '../../src/net/known-hosts.ts'
import type { SshSettings } from '../../src/net/ssh-settings.ts'
import { ssh } from './family.ts'
import type { SSH_RULES } from './rules.ts'

/** Where the local sshd's public host keys live (Debian, RHEL, macOS, BSD). */
export const LOCAL_HOST_KEY_DIR = '/etc/ssh'

/** True for 127.0.0.0/8 and ::1. */
export function isLoopback(host: string): boolean {
  return (isIP(host) === 4 && host.startsWith('127.')) || host === '::1' || host === 'localhost'
}

/** The host key types OpenSSH's sshd generates (`ssh-keygen -A`): their public halves are `ssh_host_<type>_key.pub`. */
const HOST_KEY_TYPES = ['dsa', 'ecdsa', 'ed25519', 'rsa'] as const

/**
 * Pins (`HOST:PORT=SHA256:…`) for the public host keys in `dir` (`ssh_host_<type>_key.pub`, read with `read`: a check's
 * `ctx.readFile`). Used only for loopback targets when no host-key trust is configured: the key files are this machine's
 * own sshd's, and binding a port below 1024 needs root, who can read those keys anyway — so a loopback listener presenting
 * one of them is the local sshd.
 */
export async function localHostKeyPins(read: (path: string, maxBytes: number) => Promise<Buffer>, host: string, port: number, dir = LOCAL_HOST_KEY_DIR): Promise<string[]> {
  const pins: string[] = []
  for (const type of HOST_KEY_TYPES) {
    try {
      const b64 = (await read(join(dir, `ssh_host_${type}_key.pub`), 64 * 1024)).toString('utf8').trim().split(/\s+/)[1]
      if (b64 && /^[A-Za-z0-9+/]+=*$/.test(b64)) pins.push(`${host}:${port}=${fingerprintOf(Buffer.from(b64, 'base64'))}`)
    } catch {
      // an absent or unreadable key file pins nothing
    }
  }
  return pins
}

/** The check's declaration (checks/mfa/family.ts: loaded by every scan); its code, loaded when it runs, is {@link sshRun}. */
export default ssh

export const sshRun: Pick<CheckDefinition<(typeof SSH_RULES)[number]>, 'run'> = {
  async run(target, ctx) {
    const host = target.host
    const port = target.port
    if (typeof host !== 'string' || typeof port !== 'number') throw new AttemptFailure('input', `${target.id}: an ssh-endpoint target needs "host" and "port"`)
    let settings: SshSettings = ctx.ssh.settings()
    const username = typeof target.username === 'string' ? target.username : settings.username
    if (isLoopback(host) && !settings.knownHostsPath && !settings.hostKeyFingerprints?.length && !settings.acceptUnknownHostKeys) {
      const dir = typeof target.localHostKeyDir === 'string' ? target.localHostKeyDir : LOCAL_HOST_KEY_DIR
      const pins = await localHostKeyPins((p, max) => ctx.readFile(p, max), host, port, dir)
      if (pins.length) settings = { ...settings, hostKeyFingerprints: pins }
    }
    // With a key (--ssh-key), the probe offers it after `none` and reads the answer: the second factor confirmed or not.
    const withKey = settings.privateKey !== undefined || settings.privateKeyPath !== undefined
    const probe = await ctx.sockets(() => ctx.ssh.probe(host, port, { settings, username, withKey }))
    const resource = username ? `user:${username}` : 'auth-methods'
    const shown = username ?? '(scanner user)'
    const base = {
      banner: probe.banner,
      hostKeyAlgorithm: probe.hostKey.algorithm,
      hostKeyFingerprint: probe.hostKey.fingerprint,
      hostKeyVerified: probe.hostKey.verified,
      user: shown,
    }
    ctx.report('mfa-ssh-no-authentication', probe.noneAccepted ? 'fail' : 'pass', {
      resource,
      evidence: { ...base, noneAccepted: probe.noneAccepted },
      ...(probe.noneAccepted ? {} : { message: `${target.id} refuses SSH "none" authentication for ${shown}` }),
    })
    if (probe.noneAccepted) return // logged in with no factor: the offered list is moot

    const { keyboardInteractiveIsMfa, allowPublicKeyOnly } = ctx.params<{ keyboardInteractiveIsMfa: boolean; allowPublicKeyOnly: boolean }>('mfa-ssh-single-factor')
    const key = probe.key
    if (withKey && (!key || key.result === 'refused'))
      throw new AttemptFailure('input', `${target.id}: the configured SSH key ${key ? `was refused for ${shown} (server still offers: ${key.remaining.join(', ') || 'nothing'})` : 'could not be offered'}; the second factor was not confirmed`)
    const methods = [...probe.methods]
    const single = methods.filter((m) => m === 'password' || (m === 'keyboard-interactive' && !keyboardInteractiveIsMfa))
    let secondFactor: string
    let passMessage: string
    if (key?.result === 'accepted') {
      // Confirmed: the key alone logged in (the connection was closed before any channel). One possession factor.
      secondFactor = 'not required: the key alone logged in'
      if (!allowPublicKeyOnly) single.push('publickey')
      passMessage = `${target.id} logs ${shown} in with the key alone (one possession factor, accepted by allowPublicKeyOnly)`
    } else if (key?.result === 'partial') {
      secondFactor = `required after the key: ${key.remaining.join(' or ')}`
      passMessage = `${target.id} requires a second factor after publickey for ${shown} (${key.remaining.join(' or ')}), confirmed with the configured key`
    } else {
      secondFactor = key?.result === 'not-offered' ? 'not confirmed: publickey not offered' : 'not confirmed (give a key, --ssh-key, to confirm it)'
      if (!single.length && !allowPublicKeyOnly && methods.includes('publickey')) single.push('publickey')
      passMessage = `${target.id} offers no single-factor login method (offered: ${methods.join(', ') || '(none offered)'}; a second factor required after publickey is not visible without a key)`
    }
    const evidence = { ...base, methods: methods.length ? methods : ['(none offered)'], singleFactor: single, secondFactor }
    ctx.report('mfa-ssh-single-factor', single.length ? 'fail' : 'pass', { resource, evidence, ...(single.length ? {} : { message: passMessage }) })
  },
}
