/**
 * @fileoverview "Did you mean": the nearest known word to a mistyped command, flag, scheme, rule id or family.
 *
 * Twenty lines instead of a package: the candidate lists are short (at most a few hundred rule ids) and the words are
 * bounded (64 characters), so an O(n·m) optimal-string-alignment distance costs microseconds; `fastest-levenshtein` and
 * `leven` compute plain Levenshtein, which counts a swap of two letters (`tsl` for `tls`) as two edits, the commonest typo.
 */

/** Optimal string alignment distance (insertions, deletions, substitutions, adjacent transpositions); Infinity past 64 chars. */
export function distance(a: string, b: string): number {
  if (a.length > 64 || b.length > 64) return Infinity
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)])
  for (let j = 1; j <= b.length; j++) d[0]![j] = j
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1)
      d[i]![j] = v
    }
  return d[a.length]![b.length]!
}

/**
 * The known word nearest to `word` (case-insensitive): within a third of its length in edits (at least 1), or one it
 * starts (`--sev` → `--severity`, from 3 characters on). Undefined when nothing is close: a wild guess misleads.
 */
export function closest(word: string, known: Iterable<string>): string | undefined {
  const w = word.toLowerCase()
  let best: { c: string; d: number } | undefined
  for (const c of known) {
    const lc = c.toLowerCase()
    const d = lc.startsWith(w) && w.replace(/^-+/, '').length >= 3 ? 0.5 : distance(w, lc)
    if (d <= Math.max(1, Math.floor(lc.length / 3)) && d < (best?.d ?? Infinity)) best = { c, d }
  }
  return best?.c
}

/** `; did you mean X?` or nothing. */
export function didYouMean(word: string, known: Iterable<string>, show: (s: string) => string = (s) => `"${s}"`): string {
  const c = closest(word, known)
  return c === undefined ? '' : `; did you mean ${show(c)}?`
}
