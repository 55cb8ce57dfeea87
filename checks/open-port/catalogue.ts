/**
 * @fileoverview The catalogue of risky exposed services (`services.json`), validated with ajv when loaded, and the
 * matching of an open port against it.
 */
import { validatorFor } from '../../src/lib-ajv.ts'
import data from './services.json' with { type: 'json' }

/** The rule a catalogue entry reports under: `open-port-<tier>`. */
export type Tier = 'critical-service' | 'plaintext-admin' | 'database-exposed' | 'remote-admin'
/** The tiers, in rule order. */
export const TIERS: readonly Tier[] = ['critical-service', 'plaintext-admin', 'database-exposed', 'remote-admin']

/** One risky service. */
export interface RiskyService {
  readonly name: string
  readonly tier: Tier
  /** The service's own weight (shown in evidence; the finding's severity is the rule's). */
  readonly severity: 'critical' | 'high' | 'medium' | 'low'
  readonly protocol: 'tcp' | 'udp'
  readonly ports: readonly number[]
  /** nmap service names that identify it when `-sV` probed the port. */
  readonly names: readonly string[]
  /** Case-insensitive prefixes of nmap `product` strings that identify it. */
  readonly products: readonly string[]
  readonly why: string
}

/** The JSON Schema of `services.json`. */
export const CATALOGUE_SCHEMA = {
  type: 'object',
  required: ['services'],
  properties: {
    $comment: { type: 'string' },
    services: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'tier', 'severity', 'protocol', 'ports', 'names', 'products', 'why'],
        properties: {
          name: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]*$' },
          tier: { enum: TIERS },
          severity: { enum: ['critical', 'high', 'medium', 'low'] },
          protocol: { enum: ['tcp', 'udp'] },
          ports: { type: 'array', minItems: 1, items: { type: 'integer', minimum: 1, maximum: 65535 } },
          names: { type: 'array', items: { type: 'string', minLength: 1 } },
          products: { type: 'array', items: { type: 'string', minLength: 1 } },
          why: { type: 'string', minLength: 10, maxLength: 300 },
        },
      },
    },
  },
} as const

/**
 * Validates catalogue data; throws naming `services.json` and the JSON pointer of each problem.
 * Also refuses a port listed by two entries of the same protocol (the match would depend on order).
 */
export function validateCatalogue(input: unknown): readonly RiskyService[] {
  const validate = validatorFor(CATALOGUE_SCHEMA as unknown as Record<string, unknown>)
  if (!validate(input)) {
    const lines = (validate.errors ?? []).map((e) => `checks/open-port/services.json: ${e.instancePath || '/'}: ${e.message ?? 'invalid'}`)
    throw new Error(lines.join('\n'))
  }
  const services = (input as { services: RiskyService[] }).services
  const seen = new Map<string, string>()
  for (const s of services)
    for (const p of s.ports) {
      const key = `${s.protocol}/${p}`
      if (seen.has(key)) throw new Error(`checks/open-port/services.json: ${key} is listed by both "${seen.get(key)}" and "${s.name}"`)
      seen.set(key, s.name)
    }
  return Object.freeze(services)
}

/** The built-in catalogue. */
export const CATALOGUE: readonly RiskyService[] = validateCatalogue(data)

const byPort = new Map<string, RiskyService>()
for (const s of CATALOGUE) for (const p of s.ports) byPort.set(`${s.protocol}/${p}`, s)
/** The built-in catalogue per protocol, in catalogue order, with its product prefixes lower-cased once. */
const byProtocol = new Map<string, { readonly s: RiskyService; readonly products: readonly string[] }[]>()
/** `<protocol>\0<lower-case service name>` → position in `byProtocol` of the first entry listing that name. */
const byName = new Map<string, number>()
for (const s of CATALOGUE) {
  let list = byProtocol.get(s.protocol)
  if (!list) byProtocol.set(s.protocol, (list = []))
  for (const n of s.names) {
    const k = `${s.protocol}\0${n.toLowerCase()}`
    if (!byName.has(k)) byName.set(k, list.length)
  }
  list.push({ s, products: s.products.map((p) => p.toLowerCase()) })
}

/** `matchService` of an identified port against the built-in catalogue: the first entry by name or product prefix. */
function identifiedInCatalogue(protocol: string, name: string, product: string | undefined): RiskyService | undefined {
  const list = byProtocol.get(protocol)
  if (!list) return undefined
  const named = byName.get(`${protocol}\0${name}`) ?? list.length
  // An earlier entry matching by product comes first.
  if (product) for (let i = 0; i < named; i++) if (list[i]!.products.some((p) => product.startsWith(p))) return list[i]!.s
  return list[named]?.s
}

/** What is known about an open port. */
export interface PortFacts {
  readonly protocol: string
  readonly port: number
  readonly service?: string
  readonly product?: string
  readonly tunnel?: string
  /** `probed` when nmap -sV identified the service; anything else means the name only reflects the port number. */
  readonly method?: string
}

function identified(f: PortFacts): boolean {
  return f.method === 'probed' && !!f.service && f.service !== 'unknown' && f.service !== 'tcpwrapped'
}

/**
 * The catalogue entry an open port matches, if any. When nmap probed the service (`-sV`), its name or product decides,
 * on any port (Redis on 7000 matches; HTTP on 6379 does not); otherwise the port number and protocol decide.
 * A plaintext-admin service found behind TLS (`tunnel="ssl"`, e.g. implicit FTPS) does not match.
 */
export function matchService(f: PortFacts, catalogue: readonly RiskyService[] = CATALOGUE): RiskyService | undefined {
  let hit: RiskyService | undefined
  if (identified(f)) {
    const name = f.service!.toLowerCase()
    const product = f.product?.toLowerCase()
    hit = catalogue === CATALOGUE ? identifiedInCatalogue(f.protocol, name, product) : catalogue.find(
      (s) => s.protocol === f.protocol && (s.names.some((n) => n.toLowerCase() === name) || (!!product && s.products.some((p) => product.startsWith(p.toLowerCase())))),
    )
  } else if (catalogue === CATALOGUE) hit = byPort.get(`${f.protocol}/${f.port}`)
  else hit = catalogue.find((s) => s.protocol === f.protocol && s.ports.includes(f.port))
  if (hit?.tier === 'plaintext-admin' && f.tunnel === 'ssl') return undefined
  return hit
}
