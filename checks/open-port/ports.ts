/**
 * @fileoverview Port lists for the connect scan (`top100`, `topN`, `all`, `22,80,8000-8100`), port-number service names,
 * and which open ports chain to the certificate (TLS) and SSH checks.
 */
import { createRequire } from 'node:module'
import top from './top-ports.json' with { type: 'json' }

const require = createRequire(import.meta.url)
let catalogueTcp: readonly number[] | undefined
/**
 * TCP ports of the risky-service catalogue (a `topN` adds them), read from services.json on first use rather than through
 * catalogue.ts, which validates the whole catalogue with ajv when it loads: a scan that expands no `topN` (a certificate
 * file, an identity export) does not pay for it. catalogue.ts validates the same file when a check's code loads, before
 * it judges a port; test/checks/open-port.test.ts checks these ports against the validated catalogue's.
 */
function catalogueTcpPorts(): readonly number[] {
  if (catalogueTcp) return catalogueTcp
  const services = (require('./services.json') as { services: readonly { protocol: string; ports: readonly number[] }[] }).services
  const ports = new Set<number>()
  for (const s of services) if (s.protocol === 'tcp') for (const p of s.ports) if (Number.isInteger(p) && p >= 1 && p <= 65535) ports.add(p)
  return (catalogueTcp = [...ports])
}

/** nmap's most frequently open TCP ports, most frequent first, with their names (from nmap-services). */
const TOP: readonly (readonly [number, string])[] = (top as unknown as { ports: [number, string][] }).ports
/** Most ports a `topN` can name. */
export const MAX_TOP = TOP.length
const NAMES = new Map<number, string>(TOP)

/** nmap's table name of a TCP port (`6379` → `redis`), if it is among the top ports. */
export function tableName(port: number): string | undefined {
  return NAMES.get(port)
}

/** A port list that cannot be read; `message` says which item and why. */
export class PortSpecError extends Error {
  override readonly name = 'PortSpecError'
}

/**
 * Expands a port list into sorted, unique TCP port numbers. Items, comma-separated: `all` (1-65535), `topN` (nmap's N
 * most common ports, N ≤ 1000, plus every TCP port of the risky-service catalogue), `N` or `N-M`.
 * @example expandPorts('22,80,8000-8002') // [22, 80, 8000, 8001, 8002]
 */
export function expandPorts(spec: string): number[] {
  // A bitmap of the 65,535 ports rather than a Set, read out in order: `all` costs no hashing and no sort.
  const seen = new Uint8Array(65536)
  let count = 0
  const add = (p: number): void => {
    if (!seen[p]) {
      seen[p] = 1
      count++
    }
  }
  const items = spec.split(',').map((s) => s.trim())
  if (!items.some(Boolean)) throw new PortSpecError('the port list is empty')
  for (const item of items) {
    if (!item) continue
    let m: RegExpExecArray | null
    if (item === 'all') {
      seen.fill(1, 1)
      count = 65535
    } else if ((m = /^top(\d{1,5})$/.exec(item))) {
      const n = Number(m[1])
      if (n < 1 || n > MAX_TOP) throw new PortSpecError(`"${item}": N must be 1-${MAX_TOP}`)
      for (let i = 0; i < n; i++) add(TOP[i]![0])
      for (const p of catalogueTcpPorts()) add(p)
    } else if ((m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(item))) {
      const lo = Number(m[1])
      const hi = m[2] === undefined ? lo : Number(m[2])
      if (lo < 1 || hi > 65535 || lo > hi) throw new PortSpecError(`"${item}": ports must be 1-65535 and ranges low-high`)
      for (let p = lo; p <= hi; p++) add(p)
    } else throw new PortSpecError(`"${item}" is not a port, a range (8000-8100), topN or all`)
  }
  const out = new Array<number>(count)
  for (let p = 1, i = 0; i < count; p++) if (seen[p]) out[i++] = p
  return out
}

/** Ports where TLS is the norm (HTTPS, SMTPS, LDAPS, DNS over TLS, FTPS, IMAPS, POP3S, Docker TLS, WinRM HTTPS, Kubernetes API, kubelet…). */
export const TLS_PORTS: ReadonlySet<number> = new Set([443, 465, 636, 853, 989, 990, 992, 993, 994, 995, 2376, 3269, 5061, 5986, 6443, 8443, 9443, 10250])
/** nmap service names that are TLS by themselves. */
const TLS_NAMES = new Set(['https', 'ssl', 'https-alt', 'imaps', 'pop3s', 'smtps', 'ldapssl', 'ftps', 'ftps-data', 'telnets', 'ircs', 'domain-s', 'sip-tls', 'wsmans'])

/** What decides chaining: the port, and nmap's name, tunnel and detection method when known. */
export interface ChainFacts {
  readonly protocol: string
  readonly port: number
  readonly service?: string
  readonly tunnel?: string
  readonly method?: string
}

/**
 * True when the open port should be handed to the certificate checks. When nmap probed the port (-sV), its answer
 * decides (`tunnel="ssl"` or a TLS service name); otherwise a well-known TLS port does.
 */
export function speaksTls(f: ChainFacts): boolean {
  if (f.protocol !== 'tcp') return false
  if (f.tunnel === 'ssl') return true
  if (f.method === 'probed') return !!f.service && TLS_NAMES.has(f.service)
  return TLS_PORTS.has(f.port) || (!!f.service && TLS_NAMES.has(f.service))
}

/** Plaintext services with a STARTTLS step, by well-known port and by nmap service name → the target scheme. */
const STARTTLS_BY_PORT: ReadonlyMap<number, string> = new Map([[25, 'smtp'], [587, 'smtp'], [143, 'imap'], [110, 'pop3'], [21, 'ftp'], [389, 'ldap'], [5432, 'postgres'], [3306, 'mysql'], [5222, 'xmpp']])
const STARTTLS_BY_NAME: ReadonlyMap<string, string> = new Map([['smtp', 'smtp'], ['submission', 'smtp'], ['imap', 'imap'], ['pop3', 'pop3'], ['ftp', 'ftp'], ['ldap', 'ldap'], ['postgresql', 'postgres'], ['mysql', 'mysql'], ['xmpp-client', 'xmpp'], ['jabber', 'xmpp']])

/**
 * The STARTTLS scheme an open port should be chained as (`smtp`, `imap`, …), or undefined. Like `speaksTls`: when nmap
 * probed the port its service name decides; otherwise the well-known port or the name does.
 */
export function speaksStartTls(f: ChainFacts): string | undefined {
  if (f.protocol !== 'tcp' || f.tunnel === 'ssl') return undefined
  const byName = f.service ? STARTTLS_BY_NAME.get(f.service) : undefined
  if (f.method === 'probed') return byName
  return byName ?? STARTTLS_BY_PORT.get(f.port)
}

/** True when the open port should be handed to the SSH (MFA) checks: nmap named it `ssh`, or it is port 22 and not probed as something else. */
export function speaksSsh(f: ChainFacts): boolean {
  if (f.protocol !== 'tcp' || f.tunnel === 'ssl') return false
  if (f.method === 'probed') return f.service === 'ssh'
  return f.port === 22 || f.service === 'ssh'
}
