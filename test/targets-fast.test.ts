/**
 * The tls://, STARTTLS and ssh:// parsers read the common shapes without a URLSearchParams and check each host once (every
 * open TLS or SSH port of an nmap file is parsed as a chained target); this pins them to the parsers they replaced.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { checkHost, checkPort, hostPort, parseTarget, splitHostPort, splitQuery, TargetError, userHostPort } from '../src/index.ts'
import type { Target } from '../src/index.ts'

const DEFAULTS: Record<string, number> = { tls: 443, smtp: 25, imap: 143, pop3: 110, ftp: 21, ldap: 389, postgres: 5432, mysql: 3306, xmpp: 5222 }

// The parsers as they were (certificate/targets.ts and mfa/targets.ts before the fast path), checks and all.
function tlsEndpoint(host: string, port: number, servername?: string, extra: Record<string, unknown> = {}): Target {
  const h = checkHost(`${host}:${port}`, host)
  const sni = servername ? checkHost(servername, servername) : undefined
  return { kind: 'tls-endpoint', id: `tls://${hostPort(h, port)}${sni && sni !== h ? `?sni=${sni}` : ''}`, host: h, port, servername: sni, ...extra }
}
function reference(scheme: string, rest: string, raw: string): Target {
  if (scheme === 'ssh') {
    const { user, host, port } = userHostPort(raw, rest, 22)
    const h = checkHost(`${host}:${port}`, host)
    return { kind: 'ssh-endpoint', id: `ssh://${hostPort(h, port)}`, host: h, port, ...(user ? { username: user } : {}) }
  }
  const [hp, query] = splitQuery(rest)
  const sni = query.get('sni') ?? undefined
  if (scheme === 'tls') {
    const { host, port } = splitHostPort(raw, hp)
    return tlsEndpoint(checkHost(raw, host), checkPort(raw, port, 443), sni === undefined ? undefined : checkHost(raw, sni))
  }
  const { host, port } = splitHostPort(raw, hp.replace(/\/$/, ''))
  const t = tlsEndpoint(checkHost(raw, host), checkPort(raw, port, DEFAULTS[scheme]), sni === undefined ? undefined : checkHost(raw, sni), { starttls: scheme })
  return { ...t, id: t.id.replace(/^tls:/, `${scheme}:`) }
}

function outcome(f: () => Target): string {
  try {
    return JSON.stringify(f()) // key order included
  } catch (err) {
    expect(err).toBeInstanceOf(TargetError)
    return `error: ${(err as Error).message}`
  }
}

const piece = (xs: readonly string[]) => fc.constantFrom(...xs)
const host = fc.oneof(
  piece(['127.0.0.1', '10.0.0.255', '256.1.1.1', 'Host.Example', 'a_b.test', '-x.test', 'x..y', '', 'a b', 'ü.test', 'LOCALHOST.']),
  piece(['[::1]', '[FE80::1]', '[::ffff:127.0.0.1]', '::1', '[::1', '[zz]', '[fe80::1%eth0]']),
  fc.stringMatching(/^[A-Za-z0-9._-]{1,12}$/),
)
const port = piece(['', ':', ':0', ':1', ':443', ':65535', ':65536', ':08443', ':-1', ':4a', ':22:22'])
const query = piece(['', '?', '?sni=', '?sni=API.Test', '?sni=api.test', '?sni=127.0.0.1', '?sni=a+b', '?sni=%41pi.test', '?sni=a&sni=b', '?x=1&sni=b.test', '?x=1', '?SNI=a', '?sni=a_b-c.d', '?sni=a;b', '?sni=[::1]'])

describe('fast tls://, STARTTLS and ssh:// parsing', () => {
  it('gives the old parsers\' targets and errors for every string', () => {
    fc.assert(
      fc.property(piece(['tls', 'smtp', 'imap', 'postgres', 'ssh']), piece(['', 'root@', 'Bad User@']), host, port, query, piece(['', '/']), (scheme, user, h, p, q, slash) => {
        const rest = `${scheme === 'ssh' ? user : ''}${h}${p}${scheme === 'ssh' ? '' : slash + q}`
        const raw = `${scheme}://${rest}`
        expect(outcome(() => parseTarget(raw))).toBe(outcome(() => reference(scheme, rest, raw)))
      }),
      { numRuns: 3000 },
    )
  })

  it('reads the chained shapes an nmap file gives', () => {
    expect(parseTarget('tls://10.1.2.3:8443?sni=Web.Example')).toEqual({ kind: 'tls-endpoint', id: 'tls://10.1.2.3:8443?sni=web.example', host: '10.1.2.3', port: 8443, servername: 'web.example' })
    expect(parseTarget('smtp://[::1]:2525')).toEqual({ kind: 'tls-endpoint', id: 'smtp://[::1]:2525', host: '::1', port: 2525, servername: undefined, starttls: 'smtp' })
    expect(parseTarget('ssh://10.1.2.3:2222')).toEqual({ kind: 'ssh-endpoint', id: 'ssh://10.1.2.3:2222', host: '10.1.2.3', port: 2222 })
  })
})
