/**
 * @fileoverview Keeps secrets out of reports, logs and errors: every string value under a secret-looking key in the
 * scan settings (password, passphrase, privateKey, token, secret, …) is replaced by `[REDACTED]` wherever it appears.
 */

const SECRET_KEY = /pass(word|phrase)?|private.?key|secret|token|bearer|credential|api.?key|authorization/i
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
  else if (typeof v === 'object') for (const [k, x] of Object.entries(v)) collect(x, underSecret || SECRET_KEY.test(k), out, depth + 1)
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
