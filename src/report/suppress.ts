/**
 * @fileoverview Suppressions: rule id + target pattern + reason + expiry. A suppressed finding stays in the report (and in
 * SARIF as `suppressions` with the justification) but does not count toward the score or `--fail-on`. An expired
 * suppression stops suppressing and is listed in the report.
 */
import { readConfigFile } from '../lib-files.ts'
import { PolicyError } from '../errors.ts'
import { toProblems, validatorFor } from '../lib-ajv.ts'
import type { ExpiredSuppression, Finding } from '../types.ts'

/** One suppression entry. Patterns: `*` matches any run of characters; otherwise the text must match exactly. */
export interface Suppression {
  /** Rule id or pattern, e.g. `certificate-expiring` or `open-port-*`. */
  readonly rule: string
  /** Target id pattern, e.g. `tls://127.0.0.1:*` (default `*`). */
  readonly target?: string
  /** Resource pattern within the target (default `*`). */
  readonly resource?: string
  /** Why the finding is accepted; required. */
  readonly reason: string
  /** Last day (YYYY-MM-DD, inclusive, UTC) the suppression applies. Required: risk acceptance expires. */
  readonly expires: string
}

/** The suppressions file's JSON Schema. */
export const SUPPRESSIONS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['suppressions'],
  properties: {
    suppressions: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['rule', 'reason', 'expires'],
        properties: {
          rule: { type: 'string', minLength: 1 },
          target: { type: 'string', minLength: 1 },
          resource: { type: 'string', minLength: 1 },
          reason: { type: 'string', minLength: 3 },
          expires: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' },
        },
      },
    },
  },
} as const

/** Validates a suppressions document (`{ suppressions: [...] }`). */
export function parseSuppressions(data: unknown, source = '<inline>'): Suppression[] {
  const v = validatorFor(SUPPRESSIONS_SCHEMA as unknown as Record<string, unknown>)
  if (!v(data)) throw new PolicyError(source, toProblems(v.errors, data))
  const list = (data as { suppressions: Suppression[] }).suppressions
  list.forEach((s, i) => {
    if (Number.isNaN(Date.parse(`${s.expires}T00:00:00Z`))) throw new PolicyError(source, [{ pointer: `/suppressions/${i}/expires`, expected: 'a real date YYYY-MM-DD', actual: s.expires }])
  })
  return list
}

/** Reads a suppressions file (JSON or YAML). */
export async function loadSuppressions(path: string): Promise<Suppression[]> {
  return parseSuppressions(await readConfigFile(path, (expected) => new PolicyError(path, [{ pointer: '', expected }])), path)
}

const cache = new Map<string, RegExp>()
function glob(pattern: string): RegExp {
  let re = cache.get(pattern)
  if (!re) cache.set(pattern, (re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 's')))
  return re
}

/**
 * Applies suppressions one finding at a time (a scan applies them as findings arrive); `expired()` lists the expired
 * suppressions that matched something, in the list's order.
 */
export function suppressor(list: readonly Suppression[], now: Date): { apply(f: Finding): Finding; expired(): ExpiredSuppression[] } {
  const today = now.toISOString().slice(0, 10)
  const expired = new Map<Suppression, number>()
  return {
    apply(f) {
      if (f.status !== 'fail') return f
      for (const s of list) {
        if (!glob(s.rule).test(f.ruleId) || !glob(s.target ?? '*').test(f.target) || !glob(s.resource ?? '*').test(f.resource)) continue
        if (s.expires < today) {
          expired.set(s, (expired.get(s) ?? 0) + 1)
          continue
        }
        return { ...f, suppression: { reason: s.reason, expires: s.expires } }
      }
      return f
    },
    expired: () => list.filter((s) => expired.has(s)).map((s) => ({ rule: s.rule, target: s.target ?? '*', reason: s.reason, expires: s.expires, matched: expired.get(s)! })),
  }
}

/** Applies suppressions to findings; returns the new findings and the expired suppressions that matched something. */
export function applySuppressions(findings: readonly Finding[], list: readonly Suppression[], now: Date): { findings: Finding[]; expired: ExpiredSuppression[] } {
  const s = suppressor(list, now)
  return { findings: findings.map((f) => s.apply(f)), expired: s.expired() }
}
