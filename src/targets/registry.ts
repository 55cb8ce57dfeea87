/**
 * @fileoverview The registry of families a scan runs with: their target schemes (a dispatcher for target strings), target
 * kinds, checks and settings schemas, checked for clashes once when assembled. The built-in families are the default;
 * plugins add theirs the same way (`scan({ families: [...builtinFamilies, ...plugin.families] })`).
 */
import { builtinFamilies } from '../../checks/index.ts'
import { validateFamily, type CheckDefinition, type Family, type FamilyFlag, type SchemelessForm, type TargetScheme } from '../engine/check.ts'
import { OptionsError, TargetError, ZtscanError } from '../errors.ts'
import type { Target } from '../types.ts'
import { closest } from '../lib-suggest.ts'
import { isValidHost } from './host.ts'

/** A scheme as registered: its family and its form. */
export interface RegisteredScheme {
  readonly family: Family
  readonly scheme: TargetScheme
}

/** The families of one scan, validated together. */
export class Registry {
  readonly families: readonly Family[]
  /** Scheme name (and alias) → its registration. */
  readonly schemes: ReadonlyMap<string, RegisteredScheme>
  /** CLI flag name → the family flag. */
  readonly flags: ReadonlyMap<string, { readonly family: Family; readonly flag: FamilyFlag }>
  /** Target kind → the family that declares it. */
  readonly kinds: ReadonlyMap<string, Family>
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- checks declare different rule-id unions
  readonly checks: readonly CheckDefinition<any>[]

  constructor(families: readonly Family[]) {
    const names = new Set<string>()
    const schemes = new Map<string, RegisteredScheme>()
    const kinds = new Map<string, Family>()
    const flags = new Map<string, { family: Family; flag: FamilyFlag }>()
    for (const family of families) {
      try {
        validateFamily(family)
      } catch (err) {
        throw new OptionsError('families', (err as Error).message)
      }
      for (const flag of family.flags ?? []) {
        const other = flags.get(flag.name)
        if (other) throw new OptionsError('families', `flag --${flag.name} of family "${family.name}" is already taken by family "${other.family.name}"`)
        flags.set(flag.name, { family, flag })
      }
      if (names.has(family.name)) throw new OptionsError('families', `two families are named "${family.name}"`)
      names.add(family.name)
      for (const scheme of family.targets) {
        for (const name of [scheme.scheme, ...(scheme.aliases ?? [])]) {
          const other = schemes.get(name)
          if (other) throw new OptionsError('families', `scheme "${name}:" of family "${family.name}" is already registered by family "${other.family.name}"`)
          schemes.set(name, { family, scheme })
        }
        const owner = kinds.get(scheme.kind)
        if (owner && owner !== family) throw new OptionsError('families', `target kind "${scheme.kind}" of family "${family.name}" is already declared by family "${owner.name}"`)
        kinds.set(scheme.kind, family)
      }
    }
    this.families = families
    this.flags = flags
    this.schemes = schemes
    this.kinds = kinds
    this.checks = families.flatMap((f) => f.checks)
    this.assertKnownKinds(this.checks)
  }

  /**
   * The JSON Schema of the scan settings: the union of the families' settings keys. With `closed`, a key no family
   * declares is an error (a scan whose every check belongs to a registered family); otherwise such keys pass unchecked.
   */
  settingsSchema(closed: boolean): Record<string, unknown> {
    // One object per registry and mode: compiled validators are cached per schema object.
    const cached = closed ? this.#closedSchema : this.#openSchema
    if (cached) return cached
    const properties: Record<string, unknown> = {}
    const owner = new Map<string, Family>()
    for (const f of this.families)
      for (const [key, schema] of Object.entries((f.settings?.properties ?? {}) as Record<string, unknown>)) {
        const other = owner.get(key)
        if (other && JSON.stringify(properties[key]) !== JSON.stringify(schema))
          throw new OptionsError('families', `settings key "${key}" is declared by families "${other.name}" and "${f.name}" with different schemas`)
        owner.set(key, f)
        properties[key] = schema
      }
    const schema = { type: 'object', properties, ...(closed ? { additionalProperties: false } : {}) }
    if (closed) this.#closedSchema = schema
    else this.#openSchema = schema
    return schema
  }

  #closedSchema: Record<string, unknown> | undefined
  #openSchema: Record<string, unknown> | undefined

  /** Throws when a check targets a kind no family declares (nor `extra`, e.g. kinds of target objects given to the scan). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- checks declare different rule-id unions
  assertKnownKinds(checks: readonly CheckDefinition<any>[], extra: ReadonlySet<string> = new Set()): void {
    for (const c of checks)
      for (const k of c.targetKinds)
        if (!this.kinds.has(k) && !extra.has(k)) {
          const near = this.nearest(k, [...this.kinds.keys()])
          throw new OptionsError('checks', `check "${c.id}" targets kind "${k}" that no family declares${near ? `; did you mean "${near}"?` : ''} (known: ${[...this.kinds.keys()].join(', ')})`)
        }
  }

  /** The schemes in registration order, each once (aliases left out). */
  listed(): RegisteredScheme[] {
    return [...new Set(this.schemes.values())].filter((r, i, all) => all.findIndex((x) => x.scheme === r.scheme) === i)
  }

  private nearest(word: string, candidates: readonly string[]): string | undefined {
    return closest(word, candidates)
  }

  /** How a scheme is written: `tls://`, `cert:` or the bare word `local`. */
  private static form(s: TargetScheme, name = s.scheme): string {
    return /^[a-z0-9|+.-]+:\/\//.test(s.example) ? `${name}://` : s.example === s.scheme ? name : `${name}:`
  }

  private known(): string {
    return this.listed().map((r) => Registry.form(r.scheme)).join(', ')
  }

  /** The registered schemes' offers for a target string written without a scheme (`tls://h:443 (certificate, TLS), …`), or ''. */
  hint(s: string): string {
    const form = schemeless(s)
    if (!form) return ''
    const offers: string[] = []
    for (const { scheme } of this.listed()) {
      const o = scheme.suggest?.(form)
      if (o) offers.push(`${o.target} (${o.what})`)
    }
    return offers.length > 1 ? `${offers.slice(0, -1).join(', ')} or ${offers.at(-1)}` : (offers[0] ?? '')
  }

  /** Parses a target string through the scheme that claims it. */
  parse(raw: string): Target {
    const s = raw.trim()
    const m = /^([a-z][a-z0-9+.-]*)(?::(\/\/)?|$)/.exec(s)
    const name = m?.[1]
    const found = name === undefined ? undefined : this.schemes.get(name)
    const near = name === undefined || found ? undefined : this.nearest(name, [...this.schemes.keys()])
    if (!found && !near) {
      // A URL, a bare host:port or a bare host: every family offers the target it would make of it.
      const hint = this.hint(s)
      if (hint) throw new TargetError(raw, `no scheme; give a scheme: ${hint}`)
    }
    if (!m || (!found && !near && m[0] === name)) throw new TargetError(raw, `expected a scheme: ${this.known()}`)
    if (!found) {
      throw new TargetError(raw, `unknown scheme "${name}:"${near ? `; did you mean ${Registry.form(this.schemes.get(near)!.scheme, near)}?` : ''} (known: ${this.known()})`)
    }
    try {
      return found.scheme.parse(s.slice(m[0].length), raw, name!)
    } catch (err) {
      // A plugin's parser may throw a plain Error: it is still a target the user wrote wrong, not a crash.
      if (err instanceof ZtscanError) throw err
      throw new TargetError(raw, (err as Error)?.message ?? String(err))
    }
  }

  /** Normalises a target given as a string or an object (objects need `kind` and `id`). */
  normalize(t: Target | string): Target {
    if (typeof t === 'string') return this.parse(t)
    if (!t || typeof t !== 'object' || typeof t.kind !== 'string' || typeof t.id !== 'string' || !t.kind || !t.id)
      throw new TargetError(JSON.stringify(t)?.slice(0, 80) ?? String(t), 'a target object needs string `kind` and `id`')
    if (t.host !== undefined && (typeof t.host !== 'string' || !isValidHost(t.host))) throw new TargetError(t.id, `"${String(t.host)}" is not a valid host`)
    return t
  }
}

const cache = new WeakMap<readonly Family[], Registry>()

/** The registry of `families` (the built-in ones by default), built once per list. */
export function registryOf(families: readonly Family[] = builtinFamilies): Registry {
  let r = cache.get(families)
  if (!r) cache.set(families, (r = new Registry(families)))
  return r
}

const URL_FORM = /^(https?):\/\/(\[[0-9a-f:.]+\]|[^/?#:@\s]+)(?::(\d{1,5}))?(?:[/?#]|$)/i
const HOST_PORT = /^(\[[0-9a-f:.]+\]|[^/?#:@\s]+):(\d{1,5})$/i

/** What a target string without a ztscan scheme looks like: an http(s) URL, a bare `host:port`, a bare host, or neither. */
function schemeless(s: string): SchemelessForm | undefined {
  const url = URL_FORM.exec(s)
  if (url) {
    const [, protocol, host, port] = url as unknown as [string, string, string, string | undefined]
    return { form: 'url', protocol: protocol.toLowerCase() === 'https' ? 'https' : 'http', host, ...(port ? { port } : {}), raw: s }
  }
  const hp = HOST_PORT.exec(s)
  if (hp && isValidHost(hp[1]!.replace(/^\[|\]$/g, ''))) return { form: 'host-port', host: hp[1]!, port: hp[2]! }
  if (!s.includes(':') && isValidHost(s)) return { form: 'host', host: s }
  return undefined
}
