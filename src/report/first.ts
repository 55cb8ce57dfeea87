/**
 * @fileoverview The first `max` items of a long list in a given order, chosen in one pass in bounded memory: the HTML page's
 * failed findings and the GitLab reports' vulnerabilities and issues (issue 14: a report's lists may be spilled views of
 * any length, never to be gathered whole).
 */
import { OptionsError } from '../errors.ts'

/**
 * Gathers the first `max` items in `order` of those offered, holding at most 2 × `max` (sorted and cut back to `max`
 * whenever that many gathered; the sort is stable, so equal items keep the order they were offered in, as one sort of
 * them all would).
 */
export class FirstInOrder<T> {
  private kept: T[] = []
  private readonly max: number
  private readonly order: (a: T, b: T) => number
  constructor(max: number, order: (a: T, b: T) => number) {
    this.max = max
    this.order = order
  }

  offer(x: T): void {
    this.kept.push(x)
    if (this.kept.length >= 2 * this.max) this.kept = this.kept.sort(this.order).slice(0, this.max)
  }

  /** The first `max` items offered, in order. */
  take(): T[] {
    return this.kept.sort(this.order).slice(0, this.max)
  }
}

/**
 * A count option of a report writer (`option` names it, e.g. "toHtml maxFindings"): `dflt` when absent, at least 1; one
 * that is not a finite number (NaN, Infinity) is an OptionsError (NaN would hold every item and show none).
 */
export function countOption(option: string, v: unknown, dflt: number): number {
  if (v === undefined) return dflt
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new OptionsError(option, `expected a finite number (got ${String(v)})`)
  return Math.max(1, Math.floor(v))
}
