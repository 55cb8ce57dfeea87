/**
 * @fileoverview Shared pieces of target parsing: host names and addresses (IPv6 in brackets), ports, user names, file
 * paths. Every family's target schemes build on these, so a host is validated the same way, before any I/O, whatever the
 * scheme, and `host:port` is formatted in one place.
 */
import { isIP } from 'node:net'
import { isAbsolute, relative, resolve } from 'node:path'
import { TargetError } from '../errors.ts'
import type { Target } from '../types.ts'

const HOSTNAME = /^(?=.{1,253}$)([a-zA-Z0-9_]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9_]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9])?)*\.?$/

/** True for a syntactically valid host name or IP address (no shell metacharacters can pass). */
export function isValidHost(host: string): boolean {
  return isIP(host) !== 0 || HOSTNAME.test(host)
}

/** `[::1]` for IPv6, the host otherwise. */
export function bracket(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host
}

/** `host:port` with IPv6 in brackets: the one formatter for display, ids and messages. */
export function hostPort(host: string, port: number): string {
  return `${bracket(host)}:${port}`
}

/** A valid host, lower-cased; `raw` (the whole target string) names the error. */
export function checkHost(raw: string, host: string): string {
  if (!isValidHost(host)) throw new TargetError(raw, `"${host}" is not a valid host name or IP address`)
  return host.toLowerCase()
}

/** A port 1-65535 from text or a number; `dflt` when absent (an error when there is no default). */
export function checkPort(raw: string, p: string | number | undefined, dflt?: number): number {
  if (p === undefined || p === '') {
    if (dflt === undefined) throw new TargetError(raw, 'a port is required')
    return dflt
  }
  const n = typeof p === 'number' ? p : /^\d+$/.test(p) ? Number(p) : NaN
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new TargetError(raw, `port must be 1-65535 (got ${JSON.stringify(p)})`)
  return n
}

/** Splits `HOST[:PORT]` where HOST may be `[v6]`. */
export function splitHostPort(raw: string, s: string): { host: string; port?: string } {
  const m = /^\[([^\]]+)\](?::(\d*))?$/.exec(s)
  if (m) return { host: m[1]!, port: m[2] }
  const parts = s.split(':')
  if (parts.length === 2) return { host: parts[0]!, port: parts[1] }
  if (parts.length === 1) return { host: parts[0]! }
  throw new TargetError(raw, 'IPv6 addresses need brackets: [::1]:443')
}

const USER = /^[a-z_][a-z0-9_.-]{0,31}$/i

/** True for a plain POSIX-style user name. */
export function isValidUser(user: string): boolean {
  return USER.test(user)
}

/** Splits `[USER@]HOST[:PORT]`: a valid user name (when given), a valid host, a port (`dflt` when absent). */
export function userHostPort(raw: string, s: string, dflt: number): { user?: string; host: string; port: number } {
  const at = s.lastIndexOf('@')
  const user = at >= 0 ? s.slice(0, at) : undefined
  if (user !== undefined && !isValidUser(user)) throw new TargetError(raw, `"${user}" is not a valid user name`)
  const { host, port } = splitHostPort(raw, at >= 0 ? s.slice(at + 1) : s)
  return { user, host: checkHost(raw, host), port: checkPort(raw, port, dflt) }
}

function displayPath(p: string): string {
  const rel = relative(process.cwd(), resolve(p))
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : resolve(p)
}

/** A file-based target of a kind: id `PREFIX:[PROVIDER:]PATH` (the path shown relative to the working folder). */
export function fileTarget(kind: string, prefix: string, path: string, provider?: string): Target {
  if (!path) throw new TargetError(`${prefix}:`, 'a file path is required')
  const shown = displayPath(path)
  return { kind, id: provider ? `${prefix}:${provider}:${shown}` : `${prefix}:${shown}`, path: resolve(path), provider }
}

/** Parses `PROVIDER:PATH` (the rest of `SCHEME:PROVIDER:PATH`) into a file target with a lower-case provider. */
export function providerFileTarget(kind: string, scheme: string, rest: string, raw: string): Target {
  const i = rest.indexOf(':')
  if (i <= 0) throw new TargetError(raw, `expected ${scheme}:PROVIDER:PATH`)
  const provider = rest.slice(0, i).toLowerCase()
  if (!/^[a-z0-9-]+$/.test(provider)) throw new TargetError(raw, `"${provider}" is not a provider name`)
  return fileTarget(kind, scheme, rest.slice(i + 1), provider)
}

/** The `?query` of `HOST...?query` split off: the part before and the parameters. */
export function splitQuery(rest: string): [string, URLSearchParams] {
  const i = rest.indexOf('?')
  return i < 0 ? [rest, new URLSearchParams()] : [rest.slice(0, i), new URLSearchParams(rest.slice(i + 1))]
}
