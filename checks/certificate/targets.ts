/**
 * @fileoverview The certificate family's target schemes: `tls://HOST:PORT[?sni=NAME]`, `cert:FILE` and the STARTTLS
 * services (`smtp://`, `imap://`, … reached in plaintext, then upgraded).
 */
import { defineTargets } from '../../src/engine/check.ts'
import { TargetError } from '../../src/errors.ts'
import { bracket, checkHost, checkPort, fileTarget, splitHostPort } from '../../src/targets/host.ts'
import type { Target } from '../../src/types.ts'

/** Builds a TLS endpoint target (also what the open-port family chains an open TLS port to, through `tls://`). */
export function tlsEndpoint(host: string, port: number, servername?: string, extra: Record<string, unknown> = {}): Target {
  const h = checkHost(`${host}:${port}`, host)
  return endpoint('tls', h, port, servername ? checkHost(servername, servername) : undefined, extra)
}

/** The endpoint of an already checked (lower-cased) host, port and SNI name: the parsers check each once, not twice. */
function endpoint(scheme: string, h: string, port: number, sni: string | undefined, extra: Record<string, unknown>): Target {
  return { kind: 'tls-endpoint', id: `${scheme}://${bracket(h)}:${port}${sni && sni !== h ? `?sni=${sni}` : ''}`, host: h, port, servername: sni, ...extra }
}

const PLAIN_SNI = /^sni=[A-Za-z0-9_.-]*$/

/**
 * `HOST:PORT` and the `sni` parameter of `HOST:PORT[?QUERY]`. The common query, a lone `sni=` of host-name characters
 * (every open TLS port of an nmap file chains to one), is read without a URLSearchParams; any other goes through one.
 */
function splitSni(rest: string): [string, string | undefined] {
  const i = rest.indexOf('?')
  if (i < 0) return [rest, undefined]
  const q = rest.slice(i + 1)
  return [rest.slice(0, i), PLAIN_SNI.test(q) ? q.slice(4) : (new URLSearchParams(q).get('sni') ?? undefined)]
}

/** STARTTLS schemes and their default ports (`smtp://host` is a `tls-endpoint` reached through SMTP's STARTTLS). */
export const STARTTLS_SCHEMES: Readonly<Record<string, number>> = { smtp: 25, imap: 143, pop3: 110, ftp: 21, ldap: 389, postgres: 5432, mysql: 3306, xmpp: 5222 }

/** Builds a TLS endpoint reached through a protocol's STARTTLS (`smtp://127.0.0.1:2525`). */
export function startTlsEndpoint(scheme: string, host: string, port?: number, servername?: string, extra: Record<string, unknown> = {}): Target {
  const dflt = STARTTLS_SCHEMES[scheme]
  if (dflt === undefined) throw new TargetError(`${scheme}://${host}`, `unknown STARTTLS scheme "${scheme}"`)
  const h = checkHost(`${host}:${port ?? dflt}`, host)
  return endpoint(scheme, h, port ?? dflt, servername ? checkHost(servername, servername) : undefined, { ...extra, starttls: scheme })
}

export const targets = defineTargets([
  {
    scheme: 'tls',
    kind: 'tls-endpoint',
    example: 'tls://HOST:PORT[?sni=NAME]',
    parse(rest, raw) {
      const [hp, sni] = splitSni(rest)
      const { host, port } = splitHostPort(raw, hp)
      return endpoint('tls', checkHost(raw, host), checkPort(raw, port, 443), sni === undefined ? undefined : checkHost(raw, sni), {})
    },
    suggest: (f) =>
      f.form === 'url'
        ? { target: `tls://${f.host}:${f.protocol === 'https' ? (f.port ?? 443) : 443}`, what: f.protocol === 'https' ? 'certificate, TLS' : 'the HTTPS side' }
        : { target: `tls://${f.host}:${f.form === 'host-port' ? f.port : 443}`, what: 'certificate, TLS' },
  },
  {
    scheme: 'cert',
    kind: 'cert-file',
    example: 'cert:FILE[?name=HOST]',
    note: 'PEM bundle or DER',
    parse(rest, raw) {
      // cert:PATH?name=HOST: the name the leaf must be valid for (the hostname rule then applies to the file too).
      const q = rest.lastIndexOf('?name=')
      if (q < 0) return fileTarget('cert-file', 'cert', rest)
      const name = checkHost(raw, rest.slice(q + 6).replace(/^\[(.*)\]$/, '$1'))
      const t = fileTarget('cert-file', 'cert', rest.slice(0, q))
      return { ...t, id: `${t.id}?name=${name}`, name }
    },
  },
  {
    scheme: 'smtp',
    aliases: Object.keys(STARTTLS_SCHEMES).filter((x) => x !== 'smtp'),
    kind: 'tls-endpoint',
    example: `${Object.keys(STARTTLS_SCHEMES).join('|')}://HOST[:PORT][?sni=NAME]`,
    note: `STARTTLS; default ports ${Object.values(STARTTLS_SCHEMES).join(', ')}`,
    parse(rest, raw, scheme) {
      const [hp, sni] = splitSni(rest)
      const { host, port } = splitHostPort(raw, hp.endsWith('/') ? hp.slice(0, -1) : hp)
      const h = checkHost(raw, host)
      const p = checkPort(raw, port, STARTTLS_SCHEMES[scheme])
      return endpoint(scheme, h, p, sni === undefined ? undefined : checkHost(raw, sni), { starttls: scheme })
    },
  },
])
