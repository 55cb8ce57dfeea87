/**
 * @fileoverview Every side effect a check may cause, in one place: the network (`ctx.net`), SSH (`ctx.ssh`), local
 * commands (`ctx.exec`) and files (`ctx.readFile`). `ScanIo` holds the unbound implementations — the real ones by default,
 * any of them replaceable through `ScanOptions.io` (tests pass fakes: a hostile SSH server, a fixed `ps` output) — and
 * `bindIo` hands a check the versions bound to its attempt's signal, timeouts and settings. Checks import none of
 * node:net, node:fs, node:child_process or src/net/ssh.ts themselves (test/io.test.ts holds that).
 */
import { AttemptFailure, OptionsError } from '../errors.ts'
import { execLocal, type ExecOptions, type ExecResult } from './exec.ts'
import type { ConnectionOptions, TLSSocket } from 'node:tls'
import type { Socket } from 'node:net'
import { readFileCapped, streamFileCapped } from '../lib-files.ts'
import { bindNet, httpGet, tcpConnect, tlsHandshake, withStop, type HttpResult, type IoOptions, type NetHelpers } from './index.ts'
import { openSession, probeAuthMethods, sshSettings, type HostKeyInfo, type KeyAnswer, type SshProbeOptions, type SshSession, type SshSettings } from './ssh.ts'

/**
 * The network and file side effects a scan performs, unbound (each call gets its signal and deadline). `scan()` uses the
 * real ones unless `ScanOptions.io` replaces some (tests pass fakes); checks see them bound, as `ctx.net` and `ctx.readFile`.
 */
export interface NetIo {
  tcpConnect(host: string, port: number, o: IoOptions): Promise<Socket>
  tlsHandshake(options: ConnectionOptions & { host: string; port: number }, o: IoOptions): Promise<TLSSocket>
  httpGet(url: string, o: IoOptions & { maxBytes?: number; headers?: Record<string, string>; ca?: string | Buffer }): Promise<HttpResult>
  /** Reads at most `maxBytes` of a regular file (see `readFileCapped`): an `input` failure otherwise. */
  readFile(path: string, maxBytes: number): Promise<Buffer>
  /** Streams a regular file in chunks (see `streamFileCapped`): more than `maxBytes` read is an `input` failure; `o.signal` ends the read. */
  readStream(path: string, maxBytes: number, o: { readonly signal: AbortSignal }): AsyncIterable<Buffer>
}

/** Default cap of `readFile` when the caller names none. */
export const DEFAULT_READ_MAX = 64 * 1024 * 1024
/** Default cap of `readStream` when the caller names none (exports too large to hold whole). */
export const DEFAULT_STREAM_MAX = 16 * 1024 ** 3

/** What the SSH `none` probe learned: the banner, the verified host key, the methods offered, and whether `none` logged in. */
export interface SshProbe {
  readonly banner: string
  readonly hostKey: HostKeyInfo
  readonly methods: readonly string[]
  readonly noneAccepted: boolean
  /** With `withKey`: the server's answer to the configured key (one factor, a second one required, refused). */
  readonly key?: KeyAnswer
}

/** SSH, unbound: the real implementation is src/net/ssh.ts (host key verified before any authentication or command). */
export interface SshIo {
  /** Sends only the `none` authentication request, to learn the methods offered. */
  probe(host: string, port: number, o: SshProbeOptions): Promise<SshProbe>
  /** Opens an authenticated session (key or password from `o.settings`) for allowlisted commands. */
  session(host: string, port: number, o: SshProbeOptions): Promise<SshSession>
}

/** All of a scan's side effects, unbound. `ScanOptions.io` replaces any of them. */
export interface ScanIo extends NetIo {
  /** Runs an argv on this machine without a shell (see `execLocal`). */
  exec(argv: readonly string[], o: ExecOptions): Promise<ExecResult>
  readonly ssh: SshIo
}

/** The real implementations. */
export const realIo: ScanIo = Object.freeze({ tcpConnect, tlsHandshake, httpGet, readFile: readFileCapped, readStream: (path: string, max: number, o: { readonly signal: AbortSignal }) => streamFileCapped(path, max, o.signal), exec: execLocal, ssh: Object.freeze({ probe: probeAuthMethods, session: openSession }) })

/** `realIo` with the given parts replaced (`ssh` may be replaced in part). A part of the wrong type is an options error. */
export function ioWith(over: ScanIoOverrides | undefined): ScanIo {
  if (!over) return realIo
  const parts = realIo as unknown as Record<string, unknown>
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue
    if (!Object.hasOwn(parts, k)) throw new OptionsError(`io.${k}`, `expected one of ${Object.keys(parts).join(', ')}`)
    const want = typeof parts[k] === 'function' ? 'function' : 'object'
    if (typeof v !== want || v === null) throw new OptionsError(`io.${k}`, want === 'function' ? 'expected a function' : `expected an object with ${Object.keys(parts[k] as object).join(', ')}`)
  }
  return Object.freeze({ ...realIo, ...over, ssh: Object.freeze({ ...realIo.ssh, ...over.ssh }) }) as ScanIo
}

/** What `ScanOptions.io` may hold: any of the implementations, `ssh` in part. */
export type ScanIoOverrides = Partial<Omit<ScanIo, keyof SshPart>> & { readonly ssh?: Partial<SshIo> }
interface SshPart {
  readonly ssh: SshIo
}

/** Where and as whom one SSH call goes; settings default to the scan's `settings.ssh`. */
export interface SshCall {
  /** Login name (default: `settings.username`, else the local user). */
  readonly username?: string
  /** Overrides the scan's `settings.ssh` (e.g. with host-key pins the check derived). */
  readonly settings?: SshSettings
  /** Deadline for connect, banner, key exchange and authentication together (default: the attempt's connect timeout). */
  readonly timeoutMs?: number
  /** `probe` only: then offer the configured key and read the answer (`SshProbe.key`); no password, no channel. */
  readonly withKey?: boolean
}

/** SSH as a check sees it (`ctx.ssh`): bound to the attempt's signal and connect timeout and the scan's `settings.ssh`. */
export interface SshHelpers {
  /** The scan's `settings.ssh`, validated (an `input` failure naming the field otherwise). */
  settings(): SshSettings
  /**
   * Host key verified, then the `none` request: the methods offered. With `withKey`, then the configured private key (never
   * a password): its answer says whether the key alone logs in or a second method must follow; closed right after it.
   */
  probe(host: string, port: number, o?: SshCall): Promise<SshProbe>
  /**
   * An authenticated session; its `exec` runs ONE command string that the caller built from its own allowlist (target
   * data never enters it), output capped, killed at its deadline. The caller must `close()` it.
   */
  session(host: string, port: number, o?: SshCall): Promise<SshSession>
}

/** Local commands as a check sees them (`ctx.exec`): argv without a shell, bounded by bytes and time, killed on abort. */
export type ExecHelper = (argv: readonly string[], o?: { readonly maxBytes?: number; readonly timeoutMs?: number }) => Promise<ExecResult>

/** What the bound helpers need of an attempt. */
export interface IoAttempt {
  readonly signal: AbortSignal
  /** The attempt's whole budget: the default deadline of a command. */
  readonly timeoutMs: number
  readonly connectTimeoutMs: number
  readonly settings: Readonly<Record<string, unknown>>
}

/** Default cap of each of a command's stdout and stderr. */
export const DEFAULT_EXEC_MAX = 1024 * 1024

/**
 * `ctx.net`: the network helpers bound to the attempt, with the scan's implementations of `tcpConnect`, `tlsHandshake`,
 * `httpGet`, `readFile` and `readStream` (`tcpProbe`, made for tens of thousands of ports, is always the real one).
 */
export function bindNetIo(io: NetIo, a: Pick<IoAttempt, 'signal' | 'connectTimeoutMs'>): NetHelpers {
  const net = bindNet(a.signal, a.connectTimeoutMs)
  if (io === realIo) return net
  const { signal, connectTimeoutMs } = a
  return {
    ...net,
    tcpConnect: (host, port, t) => io.tcpConnect(host, port, { signal, timeoutMs: t ?? connectTimeoutMs }),
    tlsHandshake: (o, t, stop) => withStop(signal, stop, (s) => io.tlsHandshake(o, { signal: s, timeoutMs: t ?? connectTimeoutMs })),
    httpGet: (url, o) => io.httpGet(url, { ...o, signal, timeoutMs: o?.timeoutMs ?? connectTimeoutMs }),
    readFile: (path, max) => io.readFile(path, max ?? DEFAULT_READ_MAX),
    readStream: (path, max) => io.readStream(path, max ?? DEFAULT_STREAM_MAX, { signal }),
  }
}

export function bindSsh(io: ScanIo, a: IoAttempt): SshHelpers {
  const call = (o: SshCall | undefined): SshProbeOptions => ({
    signal: a.signal,
    timeoutMs: o?.timeoutMs ?? a.connectTimeoutMs,
    settings: o?.settings ?? sshSettings(a.settings),
    ...(o?.username !== undefined ? { username: o.username } : {}),
    ...(o?.withKey ? { withKey: true } : {}),
  })
  return {
    settings: () => sshSettings(a.settings),
    probe: (host, port, o) => io.ssh.probe(host, port, call(o)),
    session: (host, port, o) => io.ssh.session(host, port, call(o)),
  }
}

export function bindExec(io: ScanIo, a: Pick<IoAttempt, 'signal' | 'timeoutMs'>): ExecHelper {
  return (argv, o) => {
    if (a.signal.aborted) return Promise.reject(new AttemptFailure('aborted', `${argv[0] ?? 'command'}: aborted`))
    return io.exec(argv, { signal: a.signal, timeoutMs: o?.timeoutMs ?? a.timeoutMs, maxBytes: o?.maxBytes ?? DEFAULT_EXEC_MAX })
  }
}

export type { ExecResult, KeyAnswer, SshSession, SshSettings }
