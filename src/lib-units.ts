/**
 * @fileoverview Numbers in human messages: plurals and durations as people say them ("1 day", "13.5 hours", "548 days").
 */

/** `1 day`, `2 days`, `0 days`. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`
}

/** A duration in hours: up to 48 hours in hours (one decimal), past that in whole days; `never` for Infinity. */
export function humanHours(hours: number): string {
  if (!Number.isFinite(hours)) return 'never'
  return hours <= 48 ? plural(Math.round(hours * 10) / 10, 'hour') : plural(Math.floor(hours / 24), 'day')
}

/** A duration in milliseconds for progress lines: `850ms`, `12s`, `3m 05s`, `1h 02m`. */
export function humanMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`
  const s = Math.round(ms / 1000)
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(s / 3600)}h ${String(Math.floor(s / 60) % 60).padStart(2, '0')}m`
}
