/**
 * @fileoverview The one severity table: rank, score weight, SARIF level and GitHub `security-severity`.
 */
import type { Severity } from '../types.ts'

/** Order, highest first: index 0 is the most severe. */
export const SEVERITY_RANK: Readonly<Record<Severity, number>> = { critical: 4, high: 3, medium: 2, low: 1, info: 0 }

/** Score weight of a finding of each severity (see README "Score"). `info` findings do not count. */
export const SEVERITY_WEIGHT: Readonly<Record<Severity, number>> = { critical: 10, high: 5, medium: 3, low: 1, info: 0 }

/** SARIF `level` for a failed finding of each severity. */
export const SARIF_LEVEL: Readonly<Record<Severity, 'error' | 'warning' | 'note'>> = {
  critical: 'error',
  high: 'error',
  medium: 'warning',
  low: 'note',
  info: 'note',
}

/** GitHub code scanning `security-severity` (a string, 0.0–10.0; >9 critical, 7–8.9 high, 4–6.9 medium, 0.1–3.9 low). */
export const SECURITY_SEVERITY: Readonly<Record<Severity, string>> = {
  critical: '9.5',
  high: '8.0',
  medium: '5.5',
  low: '2.0',
  info: '0.0',
}

/** True when `s` is at or above `threshold`. */
export function atOrAbove(s: Severity, threshold: Severity): boolean {
  return SEVERITY_RANK[s] >= SEVERITY_RANK[threshold]
}
