/**
 * @fileoverview Host-key trust: OpenSSH known_hosts (plain and hashed `|1|` entries, `@revoked`), pinned SHA-256
 * fingerprints, and the verdict the SSH client asks for BEFORE any authentication or command. No I/O.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import { hostPort } from './index.ts'
import { parsePin } from './ssh-settings.ts'

/** The server's host key as seen during the handshake. */
export interface HostKeyInfo {
  /** Key type, e.g. `ssh-ed25519`. */
  readonly algorithm: string
  /** OpenSSH-style fingerprint `SHA256:<base64 without padding>`. */
  readonly fingerprint: string
  /** How the key was trusted. */
  readonly verified: 'known_hosts' | 'pinned' | 'unverified'
}

/** OpenSSH-style SHA-256 fingerprint of a public key blob (wire format). */
export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`
}

/** Key type named inside a wire-format public key blob. */
export function blobAlgorithm(blob: Buffer): string {
  if (blob.length < 4) return 'unknown'
  const n = blob.readUInt32BE(0)
  return n > 0 && n < 64 && blob.length >= 4 + n ? blob.subarray(4, 4 + n).toString('latin1') : 'unknown'
}


/** The known_hosts name of an endpoint: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host.toLowerCase() : `[${host.toLowerCase()}]:${port}`
}

/** One usable line of a known_hosts file. */
export interface KnownHostLine {
  readonly marker?: '@revoked' | '@cert-authority'
  readonly patterns: string
  readonly blob: Buffer
}

/** Parses OpenSSH known_hosts text; malformed lines are skipped, as ssh does. */
export function parseKnownHosts(text: string): KnownHostLine[] {
  const out: KnownHostLine[] = []
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim()
    if (!line || line.startsWith('#')) continue
    const f = line.split(/\s+/)
    let marker: KnownHostLine['marker']
    if (f[0] === '@revoked' || f[0] === '@cert-authority') marker = f.shift() as KnownHostLine['marker']
    else if (f[0]!.startsWith('@')) continue
    const [patterns, , b64] = f
    if (!patterns || !b64 || !/^[A-Za-z0-9+/]+=*$/.test(b64)) continue
    out.push({ marker, patterns, blob: Buffer.from(b64, 'base64') })
  }
  return out
}

function globMatch(pattern: string, name: string): boolean {
  const re = new RegExp('^' + pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$', 'i')
  return re.test(name)
}

/** Whether a known_hosts host field (comma list, wildcards, `!negation`, or hashed `|1|salt|hash`) names `name`. */
export function hostFieldMatches(field: string, name: string): boolean {
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|')
    if (!salt || !hash) return false
    const want = Buffer.from(hash, 'base64')
    const got = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest()
    return want.length === got.length && timingSafeEqual(want, got)
  }
  let matched = false
  for (const p of field.split(',')) {
    if (p.startsWith('!')) {
      if (globMatch(p.slice(1), name)) return false
    } else if (globMatch(p, name)) matched = true
  }
  return matched
}

/** Outcome of checking a host key against the configured trust sources. */
export type Verdict = { ok: true; verified: HostKeyInfo['verified'] } | { ok: false; why: string }

/** Decides whether a host key is trusted (exported for tests). */
export function verifyHostKey(host: string, port: number, blob: Buffer, trust: { knownHosts?: KnownHostLine[]; pins?: readonly string[]; acceptUnknown?: boolean }): Verdict {
  const fp = fingerprintOf(blob)
  const names = [knownHostsName(host, port)]
  let known = false
  let knownOk = false
  for (const l of trust.knownHosts ?? []) {
    if (!names.some((n) => hostFieldMatches(l.patterns, n))) continue
    if (l.marker === '@revoked') {
      if (l.blob.equals(blob)) return { ok: false, why: `host key ${fp} is marked @revoked in known_hosts` }
      continue
    }
    if (l.marker === '@cert-authority') continue // host certificates are not supported: such lines vouch for nothing here
    known = true
    if (l.blob.equals(blob)) knownOk = true
  }
  if (knownOk) return { ok: true, verified: 'known_hosts' }
  const scope = `${host.toLowerCase()}:${port}`
  const pins = (trust.pins ?? []).map(parsePin).filter((p) => p && (!p.scope || p.scope === scope)) as { fingerprint: string }[]
  if (pins.some((p) => p.fingerprint === fp)) return { ok: true, verified: 'pinned' }
  if (known || pins.length) return { ok: false, why: `host key ${fp} does not match the ${known ? 'known_hosts entry' : 'pinned fingerprint'} for ${hostPort(host, port)}` }
  if (trust.acceptUnknown) return { ok: true, verified: 'unverified' }
  return { ok: false, why: `host key ${fp} of ${hostPort(host, port)} is unknown (add it to known_hosts, pin it, or opt out with acceptUnknownHostKeys)` }
}
