/**
 * @fileoverview MFA coverage figures of one identity export (issue 17 item 4): of the users, and of the administrators, how
 * many have a phishing-resistant factor, any second factor, none — reported per target as the evidence of `mfa-coverage`
 * ("312 of 340 users have MFA"). Phishing-resistant is `null` (unknown, never zero) when the export lists no factor types
 * (Google, AWS, GitHub).
 */
import { strongestTier } from './factors.ts'
import type { IdpUser } from './exports.ts'

/** Counts over one population. */
export interface CoverageCounts {
  readonly total: number
  /** Users whose strongest factor is phishing-resistant; null when some user's factor types are unknown. */
  readonly phishingResistant: number | null
  readonly anyMfa: number
  readonly none: number
}

/** Coverage of users and of administrators, with one sentence for the finding. */
export interface MfaCoverage {
  readonly users: CoverageCounts
  readonly admins: CoverageCounts
  readonly summary: string
}

const pct = (a: number, b: number): string => `${b ? (Math.floor((1000 * a) / b) / 10).toString() : '0'} %`

function count(users: readonly IdpUser[], weak: readonly string[], pr: readonly string[]): CoverageCounts {
  let anyMfa = 0
  let phishingResistant: number | null = 0
  for (const u of users) {
    if (u.mfa) anyMfa++
    if (!u.factors) phishingResistant = null
    else if (phishingResistant !== null && u.mfa && strongestTier(u.factors, weak, pr) === 'phishing-resistant') phishingResistant++
  }
  return { total: users.length, phishingResistant, anyMfa, none: users.length - anyMfa }
}

function sentence(c: CoverageCounts, noun: string): string {
  const prText = c.phishingResistant === null ? 'phishing-resistant unknown (no factor types in the export)' : `${c.phishingResistant} phishing-resistant`
  return `${c.anyMfa} of ${c.total} ${noun} have MFA (${pct(c.anyMfa, c.total)}), ${prText}, ${c.none} none`
}

/** Coverage of `users`, with the factor tiers in force (the `mfa-weak-factors-only` parameters). */
export function mfaCoverage(users: readonly IdpUser[], weak: readonly string[], pr: readonly string[]): MfaCoverage {
  const all = count(users, weak, pr)
  const admins = count(users.filter((u) => u.admin), weak, pr)
  return { users: all, admins, summary: `${sentence(all, 'users')}; ${admins.total ? sentence(admins, 'administrators') : 'no administrators in the export'}` }
}
