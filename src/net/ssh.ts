/**
 * @fileoverview The SSH client (ssh2): host-key verification (known-hosts.ts) BEFORE any authentication or command, the `none`-auth probe of offered methods, and capped `exec` sessions.
 * Every call honours an AbortSignal and a timeout and destroys its socket when either fires. Errors never hold secrets.
 */
import type { Socket } from 'node:net'
import { userInfo } from 'node:os'
import type { Client, ClientChannel, ConnectConfig } from 'ssh2'
import { lazyRequire } from '../lib-lazy.ts'
import { AttemptFailure } from '../errors.ts'
import { FileError, readBounded } from '../lib-files.ts'
import { deadline, hostPort, tcpConnect } from './index.ts'
import { blobAlgorithm, fingerprintOf, parseKnownHosts, verifyHostKey, type HostKeyInfo } from './known-hosts.ts'
import type { SshSettings } from './ssh-settings.ts'

// The split modules' names stay importable from here (the SSH layer's one entry point for callers outside checks/).
export { SSH_SETTINGS_SCHEMA, sshSettings, type SshSettings } from './ssh-settings.ts'
export { fingerprintOf, hostFieldMatches, knownHostsName, parseKnownHosts, verifyHostKey, type HostKeyInfo } from './known-hosts.ts'

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
  // Channels of this connection. A server refuses a channel beyond its own cap (OpenSSH: MaxSessions, default 10, lower
  // on some hardened hosts) with a channel-open failure; one refused while other channels are open sets `cap` below the
  // count open, and the command waits for a free channel (FIFO) instead of failing. Refused with no other channel open,
  // it fails as before. A slot is held from the channel-open request until the channel closes.
  let channels = 0
  let cap = Number.POSITIVE_INFINITY
  const waiting: { go: () => void; fail: (e: AttemptFailure) => void }[] = []
  const pump = (): void => {
    while (channels < cap && waiting.length) {
      channels++
      waiting.shift()!.go()
    }
  }
  const release = (): void => {
    channels--
    pump()
  }
  const sessionClosed = (): AttemptFailure => new AttemptFailure('connectivity', `${what}: session closed`)
  const onClosed = (): void => {
    closed = true
    // Commands still waiting for a channel fail as a running one does when the attempt ends (aborted or timed out).
    const r = o.signal.aborted ? ((o.signal.reason as { name?: string } | undefined)?.name === 'TimeoutError' ? 'timeout' : 'aborted') : undefined
    for (const w of waiting.splice(0)) w.fail(r ? new AttemptFailure(r, `${what}: command ${r === 'timeout' ? 'timed out' : 'aborted'} waiting for a channel`) : sessionClosed())
  }
  const close = (): void => {
    if (closed) return
    onClosed()
    o.signal.removeEventListener('abort', close)
    c.client.end()
    c.sock.destroy()
  }
  c.client.on('error', () => {})
  c.client.on('close', onClosed)
  o.signal.addEventListener('abort', close, { once: true })
  /** Resolves when this command may open a channel (the slot is then counted); rejects when the session closes first. */
  const slot = (): Promise<void> => {
    if (closed) return Promise.reject(sessionClosed())
    if (channels < cap) {
      channels++
      return Promise.resolve()
    }
    return new Promise<void>((go, fail) => waiting.push({ go, fail }))
  }
  /** What `once` answers when the server refused the channel while others were open: wait for one and try again. */
  const REFUSED = Symbol('refused')

  const exec = async (command: string, e: { maxBytes?: number; timeoutMs?: number } = {}): Promise<ExecResult> => {
    for (;;) {
      await slot()
      const r = await once(command, e)
      if (r !== REFUSED) return r
    }
  }
  /** Runs the command on one channel (its slot already counted; released when the channel closes or is refused). */
  const once = (command: string, e: { maxBytes?: number; timeoutMs?: number }): Promise<ExecResult | typeof REFUSED> => {
    const maxBytes = e.maxBytes ?? 1_000_000
    const timeoutMs = e.timeoutMs ?? o.timeoutMs
    return new Promise<ExecResult | typeof REFUSED>((resolve, reject) => {
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
      if (signal.aborted) {
        release() // no channel was asked for
        return onAbort()
      }
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
        if (e2) {
          const others = channels - 1
          release()
          // A channel-open failure (it has a reason code) while other channels are open: the server's channel cap.
          if (typeof (e2 as { reason?: unknown }).reason === 'number' && others > 0 && !settled) {
            cap = Math.min(cap, others)
            settled = true
            signal.removeEventListener('abort', onAbort)
            limit.clear()
            return resolve(REFUSED)
          }
          return end(null, new AttemptFailure('protocol', `${what}: exec refused (${e2.message.slice(0, 120)})`))
        }
        channel = ch
        ch.once('close', release)
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
