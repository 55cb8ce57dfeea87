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

/** Counts over one population, a user at a time (a streamed export holds no user list). */
class Counts {
  total = 0
  anyMfa = 0
  phishingResistant: number | null = 0
  add(u: IdpUser, weak: readonly string[], pr: readonly string[], n = 1): void {
    if (n <= 0) return
    this.total += n
    if (u.mfa) this.anyMfa += n
    if (!u.factors) this.phishingResistant = null
    else if (this.phishingResistant !== null && u.mfa && strongestTier(u.factors, weak, pr) === 'phishing-resistant') this.phishingResistant += n
  }
  get counts(): CoverageCounts {
    return { total: this.total, phishingResistant: this.phishingResistant, anyMfa: this.anyMfa, none: this.total - this.anyMfa }
  }
}

/** Coverage counted user by user: `add` each user, then `result()` (the same figures as `mfaCoverage` of the list). */
export class CoverageCounter {
  readonly #all = new Counts()
  readonly #admins = new Counts()
  readonly #weak: readonly string[]
  readonly #pr: readonly string[]
  constructor(weak: readonly string[], pr: readonly string[]) {
    this.#weak = weak
    this.#pr = pr
  }
  add(u: IdpUser): void {
    this.addMany(u, 1)
  }
  /** `n` users like `u` (a reader that knows the counts without the users). */
  addMany(u: IdpUser, n: number): void {
    this.#all.add(u, this.#weak, this.#pr, n)
    if (u.admin) this.#admins.add(u, this.#weak, this.#pr, n)
  }
  get total(): number {
    return this.#all.total
  }
  result(): MfaCoverage {
    const all = this.#all.counts
    const admins = this.#admins.counts
    return { users: all, admins, summary: `${sentence(all, 'users')}; ${admins.total ? sentence(admins, 'administrators') : 'no administrators in the export'}` }
  }
}

function sentence(c: CoverageCounts, noun: string): string {
  const prText = c.phishingResistant === null ? 'phishing-resistant unknown (no factor types in the export)' : `${c.phishingResistant} phishing-resistant`
  return `${c.anyMfa} of ${c.total} ${noun} have MFA (${pct(c.anyMfa, c.total)}), ${prText}, ${c.none} none`
}

/** Coverage of `users`, with the factor tiers in force (the `mfa-weak-factors-only` parameters). */
export function mfaCoverage(users: readonly IdpUser[], weak: readonly string[], pr: readonly string[]): MfaCoverage {
  const c = new CoverageCounter(weak, pr)
  for (const u of users) c.add(u)
  return c.result()
}
