/**
 * @fileoverview The shared SSH layer (ssh2): settings, host-key verification (OpenSSH known_hosts or pinned SHA-256
 * fingerprints) BEFORE any authentication or command, the `none`-auth probe of offered methods, and capped `exec` sessions.
 * Every call honours an AbortSignal and a timeout and destroys its socket when either fires. Errors never hold secrets.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import type { Socket } from 'node:net'
import { homedir, userInfo } from 'node:os'
import { join } from 'node:path'
import type { Client, ClientChannel, ConnectConfig } from 'ssh2'
import { lazyRequire } from '../lib-lazy.ts'
import { AttemptFailure } from '../errors.ts'
import { FileError, readBounded } from '../lib-files.ts'
import { deadline, hostPort, tcpConnect } from './index.ts'

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

/** The server's host key as seen during the handshake. */
export interface HostKeyInfo {
  /** Key type, e.g. `ssh-ed25519`. */
  readonly algorithm: string
  /** OpenSSH-style fingerprint `SHA256:<base64 without padding>`. */
  readonly fingerprint: string
  /** How the key was trusted. */
  readonly verified: 'known_hosts' | 'pinned' | 'unverified'
}

/** Options of every SSH call. */
export interface SshCallOptions {
  readonly signal: AbortSignal
  /** Deadline for connection, banner, key exchange and authentication together. */
  readonly timeoutMs: number
  readonly settings: SshSettings
  /** Login name (overrides `settings.username`). */
  readonly username?: string
}

const ssh2 = lazyRequire<typeof import('ssh2')>('ssh2')
const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}=?$/
const STRING_KEYS = ['username', 'privateKeyPath', 'privateKey', 'passphrase', 'password', 'knownHostsPath'] as const

/**
 * Reads and validates `settings.ssh`. Throws `AttemptFailure('input')` naming the field on a bad shape.
 * @example
 * const ssh = sshSettings(ctx.settings) // { knownHostsPath: '/home/me/.ssh/known_hosts', privateKeyPath: '…' }
 */
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

// ---------------------------------------------------------------------------------------------------------------------
// Host keys
// ---------------------------------------------------------------------------------------------------------------------

/** OpenSSH-style SHA-256 fingerprint of a public key blob (wire format). */
export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`
}

/** Key type named inside a wire-format public key blob. */
function blobAlgorithm(blob: Buffer): string {
  if (blob.length < 4) return 'unknown'
  const n = blob.readUInt32BE(0)
  return n > 0 && n < 64 && blob.length >= 4 + n ? blob.subarray(4, 4 + n).toString('latin1') : 'unknown'
}

function parsePin(s: string): { scope?: string; fingerprint: string } | undefined {
  const at = s.indexOf('=SHA256:')
  if (at > 0) {
    const scope = s.slice(0, at).toLowerCase()
    const fp = s.slice(at + 1)
    return FINGERPRINT.test(fp) && /^(\[[0-9a-f:.]+\]|[a-z0-9_.-]+|[0-9a-f:]+):\d{1,5}$/i.test(scope) ? { scope: scope.replace(/^\[(.*)\]:/, '$1:'), fingerprint: fp.replace(/=$/, '') } : undefined
  }
  return FINGERPRINT.test(s) ? { fingerprint: s.replace(/=$/, '') } : undefined
}

/** The known_hosts name of an endpoint: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host.toLowerCase() : `[${host.toLowerCase()}]:${port}`
}

/** One usable line of a known_hosts file. */
interface KnownHostLine {
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
type Verdict = { ok: true; verified: HostKeyInfo['verified'] } | { ok: false; why: string }

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


// ---------------------------------------------------------------------------------------------------------------------
// Connection
// ---------------------------------------------------------------------------------------------------------------------

const MAX_KEY_FILE = 64 * 1024
const MAX_KNOWN_HOSTS = 16 * 1024 * 1024

async function readSmall(path: string, max: number, what: string): Promise<string> {
  try {
    return (await readBounded(path, max)).toString('utf8')
  } catch (err) {
    throw new AttemptFailure('input', `${what} ${path}: ${err instanceof FileError ? err.message : `cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`}`)
  }
}

/** Options of the probe: with `withKey`, after `none` it authenticates with the configured key and reads the answer. */
export interface SshProbeOptions extends SshCallOptions {
  /** Never a password, never a channel: closed right after the server's answer to the key. */
  readonly withKey?: boolean
}

/**
 * The server's answer to the probe's publickey request: `accepted` (the key alone logged in: one factor), `partial`
 * (RFC 4252 partial success: the key counted and `remaining` methods must follow — a second factor), `refused` (the key
 * does not log this user in), `not-offered` (publickey is not among the methods offered).
 */
export type KeyAnswer =
  | { readonly result: 'accepted' }
  | { readonly result: 'partial' | 'refused'; readonly remaining: readonly string[] }
  | { readonly result: 'not-offered' }

interface Connected {
  readonly client: Client
  readonly banner: string
  readonly hostKey: HostKeyInfo
  readonly methods: string[]
  readonly noneAccepted: boolean
  readonly key?: KeyAnswer
  readonly sock: Socket
}

/**
 * Connects, reads the banner, verifies the host key, then authenticates: `none` only (probe), `none` then the configured
 * key only (probe `withKey`), or with the configured key/password (session). Rejects with `AttemptFailure`; the socket is
 * destroyed on every failure.
 */
async function connect(host: string, port: number, o: SshProbeOptions, mode: 'probe' | 'session'): Promise<Connected> {
  const keyProbe = mode === 'probe' && o.withKey === true
  const what = `ssh ${hostPort(host, port)}`
  const s = o.settings
  const username = o.username ?? s.username ?? userInfo().username
  const knownHosts = s.knownHostsPath ? parseKnownHosts(await readSmall(s.knownHostsPath, MAX_KNOWN_HOSTS, 'known_hosts')) : undefined
  let privateKey: string | undefined
  if (mode === 'session' || keyProbe) {
    privateKey = s.privateKey ?? (s.privateKeyPath ? await readSmall(s.privateKeyPath, MAX_KEY_FILE, 'private key') : undefined)
    if (keyProbe && privateKey === undefined) throw new AttemptFailure('input', `${what}: no SSH key to confirm a second factor with (set ssh.privateKeyPath or ssh.privateKey)`)
    if (privateKey === undefined && s.password === undefined)
      throw new AttemptFailure('input', `${what}: no SSH credentials (set ssh.privateKeyPath, ssh.privateKey or ssh.password)`)
  }
  const limit = deadline(o.signal, o.timeoutMs)
  let sock: Socket
  try {
    sock = await tcpConnect(host, port, { signal: limit.signal })
  } catch (err) {
    limit.clear()
    throw err
  }

  return new Promise<Connected>((resolve, reject) => {
    const client = new (ssh2().Client)()
    let banner = ''
    let head = ''
    let hostKey: HostKeyInfo | undefined
    let hostKeyError: string | undefined
    let methods: string[] = []
    let noneAccepted = false
    let key: KeyAnswer | undefined
    let done = false

    const onData = (d: Buffer): void => {
      head += d.toString('latin1', 0, Math.min(d.length, 8192))
      const m = /^(SSH-[^\r\n]*)\r?\n/m.exec(head)
      if (m) banner = m[1]!.slice(0, 255)
      if (m || head.length > 65_536) sock.off('data', onData)
    }
    sock.on('data', onData)

    const finish = (err?: AttemptFailure): void => {
      if (done) return
      done = true
      limit.signal.removeEventListener('abort', onAbort)
      limit.clear()
      if (err) {
        client.removeAllListeners('ready')
        client.on('error', () => {})
        client.end()
        sock.destroy()
        reject(err)
        return
      }
      resolve({ client, banner, hostKey: hostKey!, methods, noneAccepted, key, sock })
    }
    const onAbort = (): void => {
      const r = o.signal.aborted ? (o.signal.reason as { name?: string } | undefined) : { name: 'TimeoutError' }
      finish(r?.name === 'TimeoutError' ? new AttemptFailure('timeout', `${what}: timed out after ${o.timeoutMs} ms (${hostKey ? 'authentication' : banner ? 'key exchange' : 'banner'})`) : new AttemptFailure('aborted', `${what}: aborted`))
    }
    if (limit.signal.aborted) return onAbort()
    limit.signal.addEventListener('abort', onAbort, { once: true })

    client.on('error', (err: Error & { level?: string }) => {
      if (hostKeyError) return finish(new AttemptFailure('host-key', `${what}: ${hostKeyError}`))
      if (mode === 'probe' && err.level === 'client-authentication' && hostKey) return finish() // none refused: methods known
      if (err.level === 'client-authentication') return finish(new AttemptFailure('input', `${what}: authentication as "${username}" failed (server offers: ${methods.join(', ') || 'none'})`))
      if (err.level === 'client-timeout') return onAbort()
      const code = (err as NodeJS.ErrnoException).code
      if (code && /ECONNRESET|EPIPE|ECONNREFUSED/.test(code)) return finish(new AttemptFailure('connectivity', `${what}: ${code}`))
      finish(new AttemptFailure('protocol', `${what}: ${err.message.replace(/[\r\n]+/g, ' ').slice(0, 200)}`))
    })
    client.on('close', () => finish(new AttemptFailure(hostKeyError ? 'host-key' : 'protocol', `${what}: ${hostKeyError ?? `connection closed ${banner ? 'during the handshake' : 'before an SSH banner'}`}`)))
    client.on('ready', () => {
      // Logged in: by `none`, or (key probe) by the key alone. The caller closes at once: no channel is ever opened.
      if (mode === 'probe' && !triedKey) noneAccepted = true
      else if (keyProbe) key = { result: 'accepted' }
      finish()
    })

    let triedNone = false
    let triedKey = false
    let triedPassword = false
    const config: ConnectConfig = {
      sock,
      username,
      readyTimeout: 0, // our own deadline covers banner, kex and auth together
      keepaliveInterval: 0,
      hostVerifier: (key: Buffer): boolean => {
        const v = verifyHostKey(host, port, key, { knownHosts, pins: s.hostKeyFingerprints, acceptUnknown: s.acceptUnknownHostKeys })
        if (!v.ok) {
          hostKeyError = v.why
          return false
        }
        hostKey = { algorithm: blobAlgorithm(key), fingerprint: fingerprintOf(key), verified: v.verified }
        return true
      },
      authHandler: (left, partial, next) => {
        if (keyProbe && triedKey) {
          // The answer to the key. OpenSSH drops a completed method from the list, so a list that no longer offers
          // publickey also means partial success: ssh2 retries a key with its next signature algorithm on any failure
          // message, a partial success included (an RSA key to a server without server-sig-algs), and the answer to
          // that retry has the flag cleared.
          const remaining = [...(left ?? [])]
          key = partial || (remaining.length > 0 && !remaining.includes('publickey')) ? { result: 'partial', remaining } : { result: 'refused', remaining }
          return next(false as never)
        }
        if (left) methods = [...left]
        if (!triedNone) {
          triedNone = true
          return next({ type: 'none', username })
        }
        if (keyProbe) {
          if (!left || !left.includes('publickey')) {
            key = { result: 'not-offered' }
            return next(false as never)
          }
          // Only the key: never a password, never keyboard-interactive.
          triedKey = true
          return next({ type: 'publickey', username, key: privateKey!, passphrase: s.passphrase } as never)
        }
        if (mode === 'probe') return next(false as never)
        if (privateKey !== undefined && !triedKey && (!left || left.includes('publickey'))) {
          triedKey = true
          return next({ type: 'publickey', username, key: privateKey, passphrase: s.passphrase } as never)
        }
        if (s.password !== undefined && !triedPassword && (!left || left.includes('password'))) {
          triedPassword = true
          return next({ type: 'password', username, password: s.password })
        }
        return next(false as never)
      },
    }
    try {
      client.connect(config)
    } catch (err) {
      // ssh2 throws synchronously on an unparsable private key
      finish(new AttemptFailure('input', `${what}: ${/privateKey|key/i.test((err as Error).message) ? 'cannot parse the private key (wrong format or passphrase)' : 'invalid SSH configuration'}`))
    }
  })
}

/**
 * Connects, verifies the host key BEFORE any auth or command (mismatch/unknown → `AttemptFailure('host-key')`), and sends
 * the `none` authentication request only, to learn the methods the server offers.
 * @example
 * const { methods } = await probeAuthMethods('127.0.0.1', 22, { signal: ctx.signal, timeoutMs: 5000, settings: sshSettings(ctx.settings) })
 */
export async function probeAuthMethods(
  host: string,
  port: number,
  o: SshProbeOptions,
): Promise<{ banner: string; hostKey: HostKeyInfo; methods: string[]; noneAccepted: boolean; key?: KeyAnswer }> {
  const c = await connect(host, port, o, 'probe')
  c.client.on('error', () => {})
  c.client.end()
  c.sock.destroy()
  return { banner: c.banner, hostKey: c.hostKey, methods: c.methods, noneAccepted: c.noneAccepted, ...(c.key ? { key: c.key } : {}) }
}

/** Result of one remote command. */
export interface ExecResult {
  /** Exit status, or null when the command was killed (timeout, output cap) or died by a signal. */
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
  /** True when output beyond `maxBytes` was dropped (the command was then stopped). */
  readonly truncated: boolean
}

/** An authenticated SSH connection. */
export interface SshSession {
  readonly banner: string
  readonly hostKey: HostKeyInfo
  /** Runs one command string (built ONLY by the caller's allowlist), stdout/stderr capped at maxBytes each (excess dropped, truncated=true), killed at timeoutMs. */
  exec(command: string, o?: { maxBytes?: number; timeoutMs?: number }): Promise<ExecResult>
  close(): void
}

/**
 * Opens an authenticated session (key or password from the settings) after the host key was verified.
 * @example
 * const ssh = await openSession(host, port, { signal: ctx.signal, timeoutMs: ctx.connectTimeoutMs, settings })
 * try { const { stdout } = await ssh.exec('uname -s') } finally { ssh.close() }
 */
export async function openSession(host: string, port: number, o: SshCallOptions): Promise<SshSession> {
  const c = await connect(host, port, o, 'session')
  const what = `ssh ${hostPort(host, port)}`
  let closed = false
  const close = (): void => {
    if (closed) return
    closed = true
    o.signal.removeEventListener('abort', close)
    c.client.end()
    c.sock.destroy()
  }
  c.client.on('error', () => {})
  c.client.on('close', () => (closed = true))
  o.signal.addEventListener('abort', close, { once: true })

  const exec = (command: string, e: { maxBytes?: number; timeoutMs?: number } = {}): Promise<ExecResult> => {
    const maxBytes = e.maxBytes ?? 1_000_000
    const timeoutMs = e.timeoutMs ?? o.timeoutMs
    if (closed) return Promise.reject(new AttemptFailure('connectivity', `${what}: session closed`))
    return new Promise<ExecResult>((resolve, reject) => {
      const out: Buffer[] = []
      const err: Buffer[] = []
      let outN = 0
      let errN = 0
      let truncated = false
      let settled = false
      let channel: ClientChannel | undefined
      const limit = deadline(o.signal, timeoutMs)
      const signal = limit.signal
      const end = (code: number | null, failure?: AttemptFailure): void => {
        if (settled) return
        settled = true
        signal.removeEventListener('abort', onAbort)
        limit.clear()
        if (failure) return reject(failure)
        resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), truncated })
      }
      const stop = (): void => {
        if (!channel) return
        try {
          channel.signal('KILL')
        } catch {
          // the server may not support signals; closing the channel ends the command's pipes
        }
        channel.close()
      }
      const onAbort = (): void => {
        stop()
        const aborted = o.signal.aborted && (o.signal.reason as { name?: string } | undefined)?.name !== 'TimeoutError'
        end(null, new AttemptFailure(aborted ? 'aborted' : 'timeout', `${what}: command ${aborted ? 'aborted' : `timed out after ${timeoutMs} ms`}`))
      }
      if (signal.aborted) return onAbort()
      signal.addEventListener('abort', onAbort, { once: true })
      const take = (chunks: Buffer[], n: number, d: Buffer): number => {
        const room = maxBytes - n
        if (d.length > room) {
          if (room > 0) chunks.push(d.subarray(0, room))
          truncated = true
          stop()
          end(null)
          return maxBytes
        }
        chunks.push(d)
        return n + d.length
      }
      c.client.exec(command, (e2, ch) => {
        if (e2) return end(null, new AttemptFailure('protocol', `${what}: exec refused (${e2.message.slice(0, 120)})`))
        channel = ch
        if (settled) return stop()
        ch.on('data', (d: Buffer) => (outN = take(out, outN, d)))
        ch.stderr.on('data', (d: Buffer) => (errN = take(err, errN, d)))
        ch.on('exit', (code: number | null) => {
          // Output may still be in flight after 'exit'; 'close' follows it.
          ch.once('close', () => end(typeof code === 'number' ? code : null))
        })
        ch.on('close', () => setImmediate(() => end(null)))
      })
    })
  }
  return { banner: c.banner, hostKey: c.hostKey, exec, close }
}

/** Quotes one argument for a POSIX shell: `'…'` with embedded `'` as `'\''`. */
export function shellQuote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`
}
