/**
 * @fileoverview Judges the open ports of one host against the catalogue and the allow-list, reports the findings and
 * chains TLS and SSH ports to the certificate and MFA checks. Shared by the nmap and connect-scan checks.
 */
import type { CheckContext } from '../../src/engine/check.ts'
import { hostPort, isValidHost } from '../../src/targets/host.ts'
import { isIP } from 'node:net'
import type { Target } from '../../src/types.ts'
import { matchService, TIERS, type Tier } from './catalogue.ts'
import { speaksSsh, speaksStartTls, speaksTls } from './ports.ts'
import type { TargetScheme } from '../../src/engine/check.ts'
import { targets as certificateSchemes } from '../certificate/targets.ts'
import { targets as mfaSchemes } from '../mfa/targets.ts'

import type { RuleId } from './rules.ts'
export type { RuleId } from './rules.ts'

/** An open port as seen by nmap or the connect scan. */
export interface OpenPort {
  readonly protocol: string
  readonly port: number
  readonly state: string
  readonly reason?: string
  readonly service?: string
  readonly product?: string
  readonly version?: string
  readonly extrainfo?: string
  readonly tunnel?: string
  readonly method?: string
  readonly scripts?: readonly string[]
}

/** A host and its open ports. */
export interface ObservedHost {
  /** IP address (or MAC or name when nmap gave no IP). */
  readonly address: string
  readonly hostnames: readonly string[]
  readonly ports: readonly OpenPort[]
}

/** `allowed` parameter: selector → allowed ports. */
export type AllowList = Readonly<Record<string, readonly (number | string)[]>>

interface Allowed {
  readonly selectors: readonly string[]
  has(protocol: string, port: number): boolean
  readonly shown: string
}

/**
 * Resolves the allow-list for a host: the union of the entries whose key is `*`, `tag:<tag>` of the target, the target id,
 * the host's address or one of its names. Undefined when no key matches (the rule is then not evaluated for this host).
 */
export function allowedFor(list: AllowList, target: Target, host: Pick<ObservedHost, 'address' | 'hostnames'>): Allowed | undefined {
  // An empty list (the default) matches no host: nothing to build (this runs for every host of an nmap file).
  if (!hasKeys(list)) return undefined
  const keys = new Set(['*', target.id, host.address.toLowerCase(), ...host.hostnames.map((h) => h.toLowerCase()), ...(target.tags ?? []).map((t) => `tag:${t}`)])
  const selectors = Object.keys(list).filter((k) => keys.has(k.toLowerCase()) || keys.has(k))
  if (!selectors.length) return undefined
  const ranges: { protocol: string; lo: number; hi: number }[] = []
  const shown: string[] = []
  for (const k of selectors)
    for (const item of list[k]!) {
      const m = /^(?:(tcp|udp|sctp)\/)?(\d+)(?:-(\d+))?$/.exec(String(item).trim())
      if (!m) continue // the rule's parameter schema rejects such items before a scan starts
      const lo = Number(m[2])
      ranges.push({ protocol: m[1] ?? 'tcp', lo, hi: m[3] ? Number(m[3]) : lo })
      shown.push(String(item))
    }
  return {
    selectors,
    has: (protocol, port) => ranges.some((r) => r.protocol === protocol && port >= r.lo && port <= r.hi),
    shown: shown.length ? [...new Set(shown)].join(', ') : 'none',
  }
}

function hasKeys(o: object): boolean {
  for (const _ in o) return true
  return false
}

function compact(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(o)) if (v !== undefined && !(Array.isArray(v) && v.length === 0)) out[k] = v
  return out
}

/**
 * The evidence of one open port, only its defined fields (no empty script list), in a fixed key order that reports and
 * baselines depend on: built field by field, without an intermediate object (it runs for every offending port).
 */
function portEvidence(address: string, sni: string | undefined, p: OpenPort): Record<string, unknown> {
  const e: Record<string, unknown> = { address }
  if (sni !== undefined) e.hostname = sni
  e.protocol = p.protocol
  e.port = p.port
  e.state = p.state
  if (p.reason !== undefined) e.reason = p.reason
  e.service = p.service ?? 'unknown'
  if (p.product !== undefined) e.product = p.product
  if (p.version !== undefined) e.version = p.version
  if (p.extrainfo !== undefined) e.extrainfo = p.extrainfo
  if (p.tunnel !== undefined) e.tunnel = p.tunnel
  if (p.method !== undefined) e.detection = p.method
  if (p.scripts !== undefined && p.scripts.length > 0) e.scripts = p.scripts
  return e
}

/** The rule each catalogue tier reports (literal ids: grepping a rule id finds where it is reported). */
const TIER_RULE: Record<Tier, RuleId> = {
  'critical-service': 'open-port-critical-service',
  'plaintext-admin': 'open-port-plaintext-admin',
  'database-exposed': 'open-port-database-exposed',
  'remote-admin': 'open-port-remote-admin',
}

const TIER_TEXT: Record<Tier, string> = {
  'critical-service': 'no critical-risk service (unauthenticated data store or control plane)',
  'plaintext-admin': 'no clear-text administration or login protocol',
  'database-exposed': 'no database port',
  'remote-admin': 'no Windows or out-of-band remote-administration port',
}

/**
 * Reports the findings of one host: a `fail` per offending open port (resource `<address> <proto>/<port>`), and a
 * `pass` per rule with no offending port (resource `<address>`), so the score counts hosts that comply.
 */
export function evaluateHost(ctx: CheckContext<RuleId>, target: Target, host: ObservedHost): void {
  const failed = new Set<RuleId>()
  const allowList = ctx.enabled('open-port-not-allowed') ? allowedFor(ctx.params<{ allowed: AllowList }>('open-port-not-allowed').allowed ?? {}, target, host) : undefined
  const sni = host.hostnames.find((n) => isIP(n) === 0 && isValidHost(n))
  const address = host.address
  let extra: Record<string, unknown> | undefined
  let ip: boolean | undefined
  let open = 0
  for (const p of host.ports) {
    if (p.state !== 'open') continue
    open++
    const risky = matchService(p)
    const notAllowed = allowList !== undefined && !allowList.has(p.protocol, p.port)
    if (risky || notAllowed) {
      const resource = `${address} ${p.protocol}/${p.port}`
      if (risky) {
        const rule = TIER_RULE[risky.tier]
        failed.add(rule)
        const evidence = portEvidence(address, sni, p)
        evidence.riskService = risky.name
        evidence.riskSeverity = risky.severity
        evidence.why = risky.why
        ctx.report(rule, 'fail', { resource, asset: address, evidence })
      }
      if (notAllowed) {
        failed.add('open-port-not-allowed')
        const evidence = portEvidence(address, sni, p)
        evidence.allowed = allowList.shown
        evidence.policyKeys = allowList.selectors
        ctx.report('open-port-not-allowed', 'fail', { resource, asset: address, evidence })
      }
    }
    const to = chainTo(p)
    if (to && !withheld(ctx, to, (ip ??= isIP(address) !== 0), p.port)) chain(ctx, to, address, sni, p.port, (extra ??= compact({ tags: target.tags, via: target.id })))
  }
  // Object literals, not `{ ...at, … }`: in V8 a spread followed by more fields costs microseconds per object, and a large
  // scan reports a pass per rule and host (counted, the objects then dropped at once).
  for (const tier of TIERS) {
    const rule = TIER_RULE[tier]
    // The message is made only if the pass is stored (a large scan counts its passes instead).
    if (!failed.has(rule))
      ctx.report(rule, 'pass', { resource: address, asset: address, evidence: { address, openPorts: open }, message: () => `${address} (${target.id}): ${open} open port(s), ${TIER_TEXT[tier]}` })
  }
  if (allowList && !failed.has('open-port-not-allowed'))
    ctx.report('open-port-not-allowed', 'pass', {
      resource: address,
      asset: address,
      evidence: { address, openPorts: open, allowed: allowList.shown, policyKeys: allowList.selectors },
      message: () => `${address} (${target.id}): every open port is in the allowed list (${allowList.shown})`,
    })
}

/** The scheme an open port chains to (`tls`, `ssh`, a STARTTLS scheme such as `smtp`), or undefined. */
function chainTo(p: OpenPort): string | undefined {
  if (speaksTls(p)) return 'tls'
  if (speaksSsh(p)) return 'ssh'
  return speaksStartTls(p)
}

/**
 * The built-in definitions of the schemes a port chains to, by scheme (STARTTLS ones: `smtp://` and its aliases): each
 * accepts any IP address with a port from 1 to 65535 and a valid host name as `sni`.
 */
const CHAIN_SCHEMES: ReadonlyMap<string, TargetScheme> = new Map(
  [...certificateSchemes, ...mfaSchemes].flatMap((s) => (['tls', 'smtp', 'ssh'].includes(s.scheme) ? [s.scheme, ...(s.aliases ?? [])].map((n) => [n, s] as const) : [])),
)

/**
 * True when the port's target was counted as withheld (an offline file without --chain) without being built: the scheme
 * is the built-in one and the target one it accepts — the address an IP address, the port 1-65535 (the SNI name of
 * `evaluateHost` is a valid host name or absent) — as emitting it would count it.
 */
function withheld(ctx: CheckContext<RuleId>, scheme: string, ip: boolean, port: number): boolean {
  const as = CHAIN_SCHEMES.get(scheme)
  return as !== undefined && ip && Number.isInteger(port) && port >= 1 && port <= 65535 && ctx.withhold(scheme, as)
}

function chain(ctx: CheckContext<RuleId>, scheme: string, address: string, sni: string | undefined, port: number, extra: Record<string, unknown>): void {
  try {
    // Through the registry: the family that owns the scheme (tls://, smtp://…, ssh://) builds the target.
    const at = hostPort(address, port)
    ctx.emit(scheme === 'ssh' ? `ssh://${at}` : `${scheme}://${at}${sni ? `?sni=${sni}` : ''}`, extra)
  } catch (err) {
    // An address nmap reported that is not a plain IP or host name (e.g. a link-local address with a zone id).
    ctx.log.debug(`not chained: ${address}:${port}: ${(err as Error).message}`)
  }
}
