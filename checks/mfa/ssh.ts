/**
 * @fileoverview Check `mfa-ssh`: the authentication methods an SSH server offers to the `none` request (RFC 4252
 * section 5.2), read without logging in, after the host key was verified (src/net/ssh.ts).
 *
 * What the probe sees: the list the server sends when `none` fails — the methods that can START a login. What it cannot
 * see: a second method required after a partially successful first one. OpenSSH with
 * `AuthenticationMethods publickey,password` lists only `publickey` here; `password` appears only after a valid key.
 * nmap's `ssh-auth-methods` has the same limit. So `password` or `keyboard-interactive` in the list means it can begin
 * (and, in every OpenSSH configuration, complete) a login on its own — a single factor.
 */
import { readdir } from 'node:fs/promises'
import { isIP } from 'node:net'
import { join } from 'node:path'
import { defineCheck } from '../../src/engine/check.ts'
import { AttemptFailure } from '../../src/errors.ts'
import { readBounded } from '../../src/lib-files.ts'
import { fingerprintOf, probeAuthMethods, sshSettings, type SshSettings } from '../../src/net/ssh.ts'

/** Where the local sshd's public host keys live (Debian, RHEL, macOS, BSD). */
export const LOCAL_HOST_KEY_DIR = '/etc/ssh'

/** True for 127.0.0.0/8 and ::1. */
export function isLoopback(host: string): boolean {
  return (isIP(host) === 4 && host.startsWith('127.')) || host === '::1' || host === 'localhost'
}

/**
 * Pins (`HOST:PORT=SHA256:…`) for the public host keys in `dir` (`ssh_host_*_key.pub`). Used only for loopback
 * targets when no host-key trust is configured: the key files are this machine's own sshd's, and binding a port below
 * 1024 needs root, who can read those keys anyway — so a loopback listener presenting one of them is the local sshd.
 */
export async function localHostKeyPins(host: string, port: number, dir = LOCAL_HOST_KEY_DIR): Promise<string[]> {
  let names: string[]
  try {
    names = await readdir(dir)
  } catch {
    return []
  }
  const pins: string[] = []
  for (const name of names.filter((n) => /^ssh_host_[a-z0-9]+_key\.pub$/.test(n)).sort()) {
    try {
      const b64 = (await readBounded(join(dir, name), 64 * 1024)).toString('utf8').trim().split(/\s+/)[1]
      if (b64 && /^[A-Za-z0-9+/]+=*$/.test(b64)) pins.push(`${host}:${port}=${fingerprintOf(Buffer.from(b64, 'base64'))}`)
    } catch {
      // an unreadable key file pins nothing
    }
  }
  return pins
}

export default defineCheck({
  id: 'mfa-ssh',
  family: 'mfa',
  targetKinds: ['ssh-endpoint'],
  rules: ['mfa-ssh-single-factor', 'mfa-ssh-no-authentication'] as const,
  async run(target, ctx) {
    const host = target.host
    const port = target.port
    if (typeof host !== 'string' || typeof port !== 'number') throw new AttemptFailure('input', `${target.id}: an ssh-endpoint target needs "host" and "port"`)
    let settings: SshSettings = sshSettings(ctx.settings)
    const username = typeof target.username === 'string' ? target.username : settings.username
    if (isLoopback(host) && !settings.knownHostsPath && !settings.hostKeyFingerprints?.length && !settings.acceptUnknownHostKeys) {
      const dir = typeof target.localHostKeyDir === 'string' ? target.localHostKeyDir : LOCAL_HOST_KEY_DIR
      const pins = await localHostKeyPins(host, port, dir)
      if (pins.length) settings = { ...settings, hostKeyFingerprints: pins }
    }
    const probe = await ctx.sockets(() => probeAuthMethods(host, port, { signal: ctx.signal, timeoutMs: ctx.connectTimeoutMs, settings, username }))
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
    const methods = [...probe.methods]
    const single = methods.filter((m) => m === 'password' || (m === 'keyboard-interactive' && !keyboardInteractiveIsMfa))
    if (!single.length && !allowPublicKeyOnly && methods.includes('publickey')) single.push('publickey')
    const evidence = { ...base, methods: methods.length ? methods : ['(none offered)'], singleFactor: single }
    ctx.report('mfa-ssh-single-factor', single.length ? 'fail' : 'pass', {
      resource,
      evidence,
      ...(single.length
        ? {}
        : { message: `${target.id} offers no single-factor login method (offered: ${evidence.methods.join(', ')}; a second factor required after publickey is not visible to this probe)` }),
    })
  },
})
