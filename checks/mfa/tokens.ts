/**
 * @fileoverview Sample-token files and RFC 8176 `amr` interpretation.
 *
 * A tokens file is one of:
 * - JSON `{ "audience"?: string | string[], "tokens": [ "eyJ…" | { "label"?: string, "token": "eyJ…" } ] }`
 * - JSON array of the same entries
 * - text: one compact JWT a line; empty lines and lines starting with `#` are ignored.
 */
import { createHash } from 'node:crypto'
import { AttemptFailure } from '../../src/errors.ts'

/** One token from the file: a stable resource key, never the token itself. */
export interface SampleToken {
  readonly resource: string
  readonly token: string
  /** Why this token cannot be examined (too large): reported as unverifiable, the other tokens still are. */
  readonly problem?: string
}

/** The parsed file. */
export interface TokensFile {
  readonly audience?: readonly string[]
  readonly tokens: readonly SampleToken[]
}

const MAX_TOKENS = 1000
const MAX_TOKEN_CHARS = 64 * 1024

/** Stable resource of a token: its label, or a short hash of it (a hash cannot be replayed). */
export function tokenResource(token: string, label?: string): string {
  return label ? `token:${label}` : `token:sha256:${createHash('sha256').update(token).digest('hex').slice(0, 16)}`
}

/** Parses a tokens file; `file` names it in errors. */
export function parseTokensFile(buf: Buffer, file: string): TokensFile {
  const text = buf.toString('utf8').replace(/^\uFEFF/, '')
  const trimmed = text.trimStart()
  let entries: unknown[]
  let audience: string[] | undefined
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    let data: unknown
    try {
      data = JSON.parse(text)
    } catch (err) {
      throw new AttemptFailure('input', `${file}: /: expected valid JSON (${(err as Error).message})`)
    }
    if (Array.isArray(data)) entries = data
    else {
      const o = data as Record<string, unknown>
      if (!Array.isArray(o.tokens)) throw new AttemptFailure('input', `${file}: /tokens: expected an array of tokens`)
      entries = o.tokens
      if (o.audience !== undefined) {
        const a = Array.isArray(o.audience) ? o.audience : [o.audience]
        if (!a.every((x): x is string => typeof x === 'string' && x.length > 0)) throw new AttemptFailure('input', `${file}: /audience: expected a string or an array of strings`)
        audience = a
      }
    }
  } else entries = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'))
  if (entries.length > MAX_TOKENS) throw new AttemptFailure('input', `${file}: ${entries.length} tokens, more than the limit of ${MAX_TOKENS}`)
  const seen = new Set<string>()
  const tokens: SampleToken[] = []
  entries.forEach((e, i) => {
    const o = typeof e === 'string' ? { token: e } : (e as { token?: unknown; label?: unknown } | null)
    if (!o || typeof o.token !== 'string' || !o.token) throw new AttemptFailure('input', `${file}: /tokens/${i}: expected a token string or { label, token }`)
    if (o.label !== undefined && (typeof o.label !== 'string' || !/^[\w.@:-]{1,100}$/.test(o.label))) throw new AttemptFailure('input', `${file}: /tokens/${i}/label: expected 1-100 characters of [A-Za-z0-9_.@:-]`)
    const resource = tokenResource(o.token, o.label as string | undefined)
    if (seen.has(resource)) return
    seen.add(resource)
    // One oversized token must not cost the others their verdicts: it is kept, unread, with its problem.
    if (o.token.length > MAX_TOKEN_CHARS) tokens.push({ resource, token: '', problem: `token of ${o.token.length} characters, more than the limit of ${MAX_TOKEN_CHARS}` })
    else tokens.push({ resource, token: o.token })
  })
  return { audience, tokens }
}

/** RFC 8176 section 2 methods by authentication factor category. */
/** A Map: `amr` values come from a token, and `toString`/`__proto__` must not look like factor categories. */
const CATEGORY: ReadonlyMap<string, 'knowledge' | 'possession' | 'inherence'> = new Map(Object.entries({
  pwd: 'knowledge', pin: 'knowledge', kba: 'knowledge',
  otp: 'possession', hwk: 'possession', swk: 'possession', sms: 'possession', tel: 'possession', sc: 'possession', pop: 'possession',
  fpt: 'inherence', face: 'inherence', iris: 'inherence', retina: 'inherence', vbm: 'inherence',
} as const))

/**
 * Whether an `amr` list shows multi-factor authentication: `mfa` itself, or methods of two different categories
 * (RFC 8176: e.g. `["hwk", "pin"]`, `["pwd", "otp"]`). `user`, `rba`, `geo`, `wia` and `mca` are not factors.
 * Microsoft's `ngcmfa` ("equivalent to mfa", Entra ID token reference) counts as `mfa`.
 */
export function amrIsMultiFactor(amr: readonly string[]): boolean {
  if (amr.includes('mfa') || amr.includes('ngcmfa')) return true
  return new Set(amr.map((m) => CATEGORY.get(m)).filter(Boolean)).size >= 2
}
