/**
 * @fileoverview Target strings and objects → normalised `Target`s with canonical ids. Hosts are checked before any I/O.
 *
 * String forms:
 *   tls://HOST:PORT[?sni=NAME]        tls-endpoint        ssh://[USER@]HOST[:PORT]     ssh-endpoint
 *   host://HOST[?ports=LIST|top100]   host (connect scan) cert:PATH[?name=HOST]        cert-file
 *   nmap:PATH                         nmap-xml            idp:PROVIDER:PATH            identity-export
 *   inventory:PROVIDER:PATH           inventory-export    oidc:https://ISSUER[#tokens=PATH] oidc
 *   agents://[USER@]HOST[:PORT]       agent-host (SSH)    local                        local machine
 *   coverage:PROVIDER:PATH,PROVIDER:PATH[,…]               inventory-coverage (devices missing from one of them)
 *   smtp|imap|pop3|ftp|ldap|postgres|xmpp://HOST[:PORT][?sni=NAME]   tls-endpoint reached through STARTTLS
 *   (oidc fragment: #tokens=FILE&audience=AUD)
 * HOST is a DNS name, an IPv4 address or a bracketed IPv6 address.
 */
import { isIP } from 'node:net'
import { relative, resolve, isAbsolute } from 'node:path'
import { TargetError } from '../errors.ts'
import type { Target } from '../types.ts'
import { didYouMean } from '../lib-suggest.ts'

const HOSTNAME = /^(?=.{1,253}$)([a-zA-Z0-9_]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9_]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9])?)*\.?$/

/** True for a syntactically valid host name or IP address (no shell metacharacters can pass). */
export function isValidHost(host: string): boolean {
  return isIP(host) !== 0 || HOSTNAME.test(host)
}

/** `[::1]` for IPv6, the host otherwise. */
export function bracket(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host
}

function checkHost(raw: string, host: string): string {
  if (!isValidHost(host)) throw new TargetError(raw, `"${host}" is not a valid host name or IP address`)
  return host.toLowerCase()
}

function checkPort(raw: string, p: string | number | undefined, dflt?: number): number {
  if (p === undefined || p === '') {
    if (dflt === undefined) throw new TargetError(raw, 'a port is required')
    return dflt
  }
  const n = typeof p === 'number' ? p : /^\d+$/.test(p) ? Number(p) : NaN
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new TargetError(raw, `port must be 1-65535 (got ${JSON.stringify(p)})`)
  return n
}

/** Parses `HOST[:PORT]` where HOST may be `[v6]`. */
function splitHostPort(raw: string, s: string): { host: string; port?: string } {
  const m = /^\[([^\]]+)\](?::(\d*))?$/.exec(s)
  if (m) return { host: m[1]!, port: m[2] }
  const parts = s.split(':')
  if (parts.length === 2) return { host: parts[0]!, port: parts[1] }
  if (parts.length === 1) return { host: parts[0]! }
  throw new TargetError(raw, 'IPv6 addresses need brackets: [::1]:443')
}

function displayPath(p: string): string {
  const rel = relative(process.cwd(), resolve(p))
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : resolve(p)
}

/** Builds a TLS endpoint target. */
export function tlsEndpoint(host: string, port: number, servername?: string, extra: Record<string, unknown> = {}): Target {
  const h = checkHost(`${host}:${port}`, host)
  const sni = servername ? checkHost(servername, servername) : undefined
  return { kind: 'tls-endpoint', id: `tls://${bracket(h)}:${port}${sni && sni !== h ? `?sni=${sni}` : ''}`, host: h, port, servername: sni, ...extra }
}

/**
 * STARTTLS schemes and their default ports (`smtp://host` is a `tls-endpoint` reached through SMTP's STARTTLS). Kept here until
 * target schemes register with their family.
 */
export const STARTTLS_SCHEMES: Readonly<Record<string, number>> = { smtp: 25, imap: 143, pop3: 110, ftp: 21, ldap: 389, postgres: 5432, xmpp: 5222 }

/** Builds a TLS endpoint reached through a protocol's STARTTLS (`smtp://127.0.0.1:2525`). */
export function startTlsEndpoint(scheme: string, host: string, port?: number, servername?: string, extra: Record<string, unknown> = {}): Target {
  const dflt = STARTTLS_SCHEMES[scheme]
  if (dflt === undefined) throw new TargetError(`${scheme}://${host}`, `unknown STARTTLS scheme "${scheme}"`)
  const t = tlsEndpoint(host, port ?? dflt, servername, { ...extra, starttls: scheme })
  return { ...t, id: t.id.replace(/^tls:/, `${scheme}:`) }
}

/** Builds an SSH endpoint target (MFA family). */
export function sshEndpoint(host: string, port = 22, extra: Record<string, unknown> = {}): Target {
  const h = checkHost(`${host}:${port}`, host)
  return { kind: 'ssh-endpoint', id: `ssh://${bracket(h)}:${port}`, host: h, port, ...extra }
}

/** Builds a file-based target of a kind (`cert-file`, `nmap-xml`, …); `provider` for exports. */
export function fileTarget(kind: string, prefix: string, path: string, provider?: string): Target {
  if (!path) throw new TargetError(`${prefix}:`, 'a file path is required')
  const shown = displayPath(path)
  return { kind, id: provider ? `${prefix}:${provider}:${shown}` : `${prefix}:${shown}`, path: resolve(path), provider }
}

/** The schemes this parser knows, as written. */
export const SCHEMES: readonly string[] = ['tls://', ...Object.keys(STARTTLS_SCHEMES).map((s) => `${s}://`), 'ssh://', 'host://', 'cert:', 'nmap:', 'idp:', 'inventory:', 'coverage:', 'oidc:', 'agents://', 'local']

/** Parses one target string. */
export function parseTarget(raw: string): Target {
  const s = raw.trim()
  if (s === 'local' || s === 'local://') return { kind: 'local', id: 'local://' }
  const scheme = /^([a-z][a-z0-9+-]*):(\/\/)?/.exec(s)
  if (!scheme) throw new TargetError(raw, `expected a scheme: ${SCHEMES.join(', ')}`)
  const rest = s.slice(scheme[0].length)
  switch (scheme[1]) {
    case 'tls': {
      const [hp, query] = rest.split('?', 2) as [string, string | undefined]
      const { host, port } = splitHostPort(raw, hp)
      const sni = query ? new URLSearchParams(query).get('sni') ?? undefined : undefined
      return tlsEndpoint(checkHost(raw, host), checkPort(raw, port, 443), sni === undefined ? undefined : checkHost(raw, sni))
    }
    case 'smtp':
    case 'imap':
    case 'pop3':
    case 'ftp':
    case 'ldap':
    case 'postgres':
    case 'xmpp': {
      const [hp, query] = rest.split('?', 2) as [string, string | undefined]
      const { host, port } = splitHostPort(raw, hp.replace(/\/$/, ''))
      const sni = query ? new URLSearchParams(query).get('sni') ?? undefined : undefined
      return startTlsEndpoint(scheme[1], checkHost(raw, host), checkPort(raw, port, STARTTLS_SCHEMES[scheme[1]]), sni === undefined ? undefined : checkHost(raw, sni))
    }
    case 'ssh':
    case 'agents': {
      const at = rest.lastIndexOf('@')
      const user = at >= 0 ? rest.slice(0, at) : undefined
      if (user !== undefined && !/^[a-z_][a-z0-9_.-]{0,31}$/i.test(user)) throw new TargetError(raw, `"${user}" is not a valid user name`)
      const { host, port } = splitHostPort(raw, at >= 0 ? rest.slice(at + 1) : rest)
      const p = checkPort(raw, port, 22)
      if (scheme[1] === 'ssh') return sshEndpoint(host, p, user ? { username: user } : {})
      const h = checkHost(raw, host)
      return { kind: 'agent-host', id: `agents://${bracket(h)}:${p}`, host: h, port: p, username: user }
    }
    case 'host':
    case 'tcp': {
      const [hp, query] = rest.split('?', 2) as [string, string | undefined]
      const { host } = splitHostPort(raw, hp.replace(/\/$/, ''))
      const h = checkHost(raw, host)
      const ports = query ? new URLSearchParams(query).get('ports') ?? undefined : undefined
      if (ports !== undefined && !/^(all|(top\d+|\d+(-\d+)?)(,\s*(top\d+|\d+(-\d+)?))*)$/.test(ports))
        throw new TargetError(raw, `ports must be a list such as 22,80,8000-8100, topN, top100,9000-9100 or all (got "${ports}")`)
      return { kind: 'host', id: `host://${bracket(h)}`, host: h, ports: ports ?? 'top100' }
    }
    case 'cert': {
      // cert:PATH?name=HOST: the name the leaf must be valid for (the hostname rule then applies to the file too).
      const q = rest.lastIndexOf('?name=')
      if (q < 0) return fileTarget('cert-file', 'cert', rest)
      const name = checkHost(raw, rest.slice(q + 6).replace(/^\[(.*)\]$/, '$1'))
      const t = fileTarget('cert-file', 'cert', rest.slice(0, q))
      return { ...t, id: `${t.id}?name=${name}`, name }
    }
    case 'nmap':
      return fileTarget('nmap-xml', 'nmap', rest)
    case 'idp':
    case 'inventory': {
      const i = rest.indexOf(':')
      if (i <= 0) throw new TargetError(raw, `expected ${scheme[1]}:PROVIDER:PATH`)
      const provider = rest.slice(0, i).toLowerCase()
      if (!/^[a-z0-9-]+$/.test(provider)) throw new TargetError(raw, `"${provider}" is not a provider name`)
      return fileTarget(scheme[1] === 'idp' ? 'identity-export' : 'inventory-export', scheme[1], rest.slice(i + 1), provider)
    }
    case 'coverage': {
      // Two or more inventories; a path holding a comma is not supported here (use a target object).
      const inventories = rest.split(',').map((part) => {
        const i = part.indexOf(':')
        if (i <= 0 || i === part.length - 1) throw new TargetError(raw, 'expected coverage:PROVIDER:FILE,PROVIDER:FILE[,…]')
        const provider = part.slice(0, i).toLowerCase()
        if (!/^[a-z0-9-]+$/.test(provider)) throw new TargetError(raw, `"${provider}" is not a provider name`)
        const t = fileTarget('inventory-export', 'inventory', part.slice(i + 1), provider)
        return { provider, path: t.path as string, shown: t.id.slice('inventory:'.length + provider.length + 1) }
      })
      if (inventories.length < 2) throw new TargetError(raw, 'coverage needs at least two inventories (coverage:PROVIDER:FILE,PROVIDER:FILE)')
      return {
        kind: 'inventory-coverage',
        id: `coverage:${inventories.map((x) => `${x.provider}:${x.shown}`).join(',')}`,
        inventories: inventories.map(({ provider, path }) => ({ provider, path })),
      }
    }
    case 'oidc': {
      const [issuer, frag] = rest.split('#', 2) as [string, string | undefined]
      let url: URL
      try {
        url = new URL(issuer)
      } catch {
        throw new TargetError(raw, 'expected oidc:https://ISSUER')
      }
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TargetError(raw, 'the issuer must be an http(s) URL')
      checkHost(raw, url.hostname.replace(/^\[|\]$/g, ''))
      const params = new URLSearchParams(frag ?? '')
      const tokens = params.get('tokens') ?? undefined
      const audience = params.get('audience') ?? undefined
      return {
        kind: 'oidc',
        id: `oidc:${url.href.replace(/\/$/, '')}`,
        host: url.hostname.replace(/^\[|\]$/g, ''),
        issuer: url.href.replace(/\/$/, ''),
        tokensFile: tokens ? resolve(tokens) : undefined,
        ...(audience ? { audience } : {}),
      }
    }
    default:
      throw new TargetError(raw, `unknown scheme "${scheme[1]}:"${didYouMean(scheme[1]!, SCHEMES.map((x) => x.replace(/:.*$/, '')), (x) => SCHEMES.find((y) => y.replace(/:.*$/, '') === x)!)}`)
  }
}

/** Normalises a target given as a string or an object (objects need `kind` and `id`). */
export function normalizeTarget(t: Target | string): Target {
  if (typeof t === 'string') return parseTarget(t)
  if (!t || typeof t !== 'object' || typeof t.kind !== 'string' || typeof t.id !== 'string' || !t.kind || !t.id)
    throw new TargetError(JSON.stringify(t)?.slice(0, 80) ?? String(t), 'a target object needs string `kind` and `id`')
  if (t.host !== undefined && (typeof t.host !== 'string' || !isValidHost(t.host))) throw new TargetError(t.id, `"${String(t.host)}" is not a valid host`)
  return t
}
