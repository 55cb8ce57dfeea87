/**
 * Every object's keys in order, and the values (undefined ones included), as one comparable string: what `toEqual` and
 * `toStrictEqual` do not compare (key order; `toEqual` also ignores keys whose value is undefined).
 */
export function shape(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(shape).join(',')}]`
  if (v !== null && typeof v === 'object') return `{${Object.keys(v).map((k) => `${k}:${shape((v as Record<string, unknown>)[k])}`).join(',')}}`
  return v === undefined ? 'undefined' : JSON.stringify(v)
}
