/**
 * @fileoverview Keeps secrets out of reports, logs and errors: every string value under a secret-looking key in the
 * scan settings (password, passphrase, privateKey, token, secret, …) is replaced by `[REDACTED]` wherever it appears.
 */

import { lazyRequire } from '../lib-lazy.ts'

const yaml = lazyRequire<typeof import('yaml')>('yaml')

const SECRET_KEY = /pass(word|phrase)?|private.?key|secret|token|bearer|credential|api.?key|authorization/i
/** Keys that name where a secret is (`privateKeyPath`, `tokensFile`), not the secret: a path is shown so users can fix it. */
const LOCATION_KEY = /(path|file|dir)$/i

/** True for a settings key whose value is a secret (`password`, `privateKey`, `apiToken`), false for `privateKeyPath`. */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key) && !LOCATION_KEY.test(key)
}
export const REDACTED = '[REDACTED]'

/** A string scrubber that also scrubs nested values. */
export interface Redactor {
  (s: string): string
  deep(v: unknown): unknown
}

function collect(v: unknown, underSecret: boolean, out: Set<string>, depth = 0): void {
  if (depth > 8 || v == null) return
  if (typeof v === 'string' || Buffer.isBuffer(v)) {
    if (!underSecret) return
    const s = v.toString()
    if (s.length >= 4) {
      out.add(s)
      // The same secret as it appears inside JSON text (a check that stringifies its settings).
      const escaped = JSON.stringify(s).slice(1, -1)
      if (escaped !== s) out.add(escaped)
      // A PEM key also leaks through any of its base64 lines.
      for (const line of s.split(/\r?\n/)) if (line.length >= 16 && !line.startsWith('-----')) out.add(line.trim())
    }
    return
  }
  if (Array.isArray(v)) for (const x of v) collect(x, underSecret, out, depth + 1)
  else if (typeof v === 'object') for (const [k, x] of Object.entries(v)) collect(x, underSecret || isSecretKey(k), out, depth + 1)
}

/** Builds a redactor for the secrets found in `settings`. */
export function makeRedactor(settings: unknown, extra: readonly string[] = []): Redactor {
  const secrets = new Set<string>(extra.filter((s) => s.length >= 4))
  collect(settings, false, secrets)
  const list = [...secrets].sort((a, b) => b.length - a.length)
  const scrub = (s: string): string => {
    if (!list.length || typeof s !== 'string') return s
    let out = s
    for (const secret of list) if (out.includes(secret)) out = out.split(secret).join(REDACTED)
    return out
  }
  const deep = (v: unknown, depth = 0): unknown => {
    if (!list.length) return v
    if (typeof v === 'string') return scrub(v)
    if (depth > 10 || v == null || typeof v !== 'object') return v
    if (Array.isArray(v)) return v.map((x) => deep(x, depth + 1))
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, deep(x, depth + 1)]))
  }
  return Object.assign(scrub, { deep })
}

const KEY_AT = /["']?([A-Za-z0-9_.$-]{1,64})["']?[ \t]{0,16}:/g
const LITERALS = new Set(['true', 'false', 'null', '~'])

/** `s` without leading characters in `lead` and trailing ones in `trail` (a loop: no regex backtracking on long runs). */
function strip(s: string, lead: string, trail: string): string {
  let a = 0
  let b = s.length
  while (a < b && lead.includes(s[a]!)) a++
  while (b > a && trail.includes(s[b - 1]!)) b--
  return s.slice(a, b)
}

function addValue(raw: string, out: Set<string>): void {
  const v = strip(raw, ' \t', ',}] \t\r')
  if (v.length >= 4) out.add(v)
  const quoted = /^"((?:[^"\\]|\\.)*)"|^'([^']*)'/.exec(v)
  const inner = quoted?.[1] ?? quoted?.[2]
  if (inner && inner.length >= 4) out.add(inner)
  for (const tok of v.split(/[\s,{}[\]]+/)) {
    const t = strip(tok, '!&*"\'', '"\'')
    if (t.length >= 4 && !LITERALS.has(t)) out.add(t)
  }
}

/**
 * Secret-looking values in YAML or JSON text, found without parsing it (so they are known before any parser can quote
 * them in a warning or error): the text after every secret key (`password:`, `"token":`) on its line — whole, quoted
 * part, and each word with YAML tag/anchor/alias marks stripped — plus the more-indented lines of a block or nested
 * value under such a key. Linear in the text; over-redaction is preferred to a leak.
 */
export function secretsInText(text: string): string[] {
  const out = new Set<string>()
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    KEY_AT.lastIndex = 0
    for (let m = KEY_AT.exec(line); m; m = KEY_AT.exec(line)) {
      if (!isSecretKey(m[1]!)) continue
      const value = line.slice(m.index + m[0].length)
      addValue(value, out)
      // A block scalar (`|`, `>`) or a nested value: the following lines indented deeper than the key's line.
      if (/^([|>][-+0-9]*)?(#.*)?$/.test(strip(value, ' \t', ' \t\r').replace(/\s#.*$/, ''))) {
        const indent = /^\s*/.exec(line)![0].length
        for (let j = i + 1; j < lines.length; j++) {
          const next = lines[j]!
          if (next.trim() === '') continue
          if (/^\s*/.exec(next)![0].length <= indent) break
          addValue(next.replace(/^\s*(-\s+)?([A-Za-z0-9_.$-]{1,64}:\s)?/, ''), out)
        }
      }
    }
  }
  return [...out]
}

/** Where a JSON syntax error is, from V8's message (a position, or the context it quotes); -1 when unknown. */
function jsonErrorOffset(text: string, message: string): number {
  const at = /at position (\d+)/.exec(message)
  if (at) return Number(at[1])
  const ctx = /^Unexpected token '(.)', (\.\.\.)?"([\s\S]*)"(\.\.\.)? is not valid JSON$/.exec(message)
  if (!ctx) return -1
  const start = text.indexOf(ctx[3]!)
  if (start < 0) return -1
  // V8 quotes up to 10 characters either side of the error.
  return ctx[2] ? start + 10 : start + Math.max(0, ctx[3]!.indexOf(ctx[1]!))
}

function lineColumn(text: string, offset: number): string {
  let line = 1
  let last = -1
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++
    last = i
  }
  return `line ${line}, column ${offset - last}`
}

/**
 * Parses configuration text (JSON, or YAML with aliases capped) with secrets redacted from every message: the secrets
 * under secret keys are taken from the text itself before the parser runs; JSON messages never quote the input (only
 * the kind of error and a line and column); YAML warnings (an unresolved tag, a duplicate key) are errors too, since a
 * setting that parsed as something else than written must not pass silently. `fail(expected)` builds the error.
 */
export function parseConfigText(text: string, syntax: 'json' | 'yaml', fail: (expected: string) => Error): unknown {
  const redact = makeRedactor(undefined, secretsInText(text))
  if (syntax === 'json') {
    try {
      return JSON.parse(text)
    } catch (err) {
      const message = (err as Error).message
      const kind = /^Unexpected token/.test(message) ? 'unexpected character'
        : /^Unexpected end/.test(message) ? 'unexpected end of input'
        : /^Unterminated string/.test(message) ? 'unterminated string'
        : /^Bad control character/.test(message) ? 'a control character inside a string'
        : /^Bad (escaped|Unicode escape)/.test(message) ? 'a bad escape inside a string'
        : /^Expected /.test(message) && !message.includes('"') ? message.replace(/ in JSON at position \d+.*$/s, '') : 'syntax error'
      const offset = jsonErrorOffset(text, message)
      throw fail(redact(`valid JSON (${kind}${offset >= 0 ? ` at ${lineColumn(text, offset)}` : ''})`))
    }
  }
  const doc = yaml().parseDocument(text, { logLevel: 'silent', prettyErrors: true })
  const problem = doc.errors[0] ?? doc.warnings[0]
  if (problem) throw fail(redact(`valid YAML (${problem.message.split('\n')[0]!.replace(/:$/, '')})`))
  try {
    return doc.toJS({ maxAliasCount: 100 })
  } catch (err) {
    throw fail(redact(`valid YAML (${(err as Error).message.split('\n')[0]})`))
  }
}
