/**
 * @fileoverview Terminal table layout: columns padded to fit a width. Flexible columns give way first — `middle`
 * columns (targets) are shortened from the middle, `wrap` columns (findings, details) wrap onto more lines and are never
 * cut — so the rule and the finding's key detail always show whole. Widths count UTF-16 units of escaped text.
 */

/** How a column gives way when the table is too wide. */
export interface ColumnFit {
  readonly fit?: 'middle' | 'wrap'
  /** Narrowest width it may be given (default 12). */
  readonly min?: number
}

/** Styles a padded cell (colour); gets the row (0 = header) and column. */
export type CellPaint = (text: string, row: number, col: number) => string

/** `abc…xyz` in `width` characters, keeping both ends (host and port, file name). */
export function shortenMiddle(s: string, width: number): string {
  if (s.length <= width) return s
  if (width <= 1) return s.slice(0, width)
  const tail = Math.floor((width - 1) / 2)
  return s.slice(0, width - 1 - tail) + '…' + s.slice(s.length - tail)
}

/** Wraps at spaces into lines of at most `width` (a longer word is split). */
export function wrap(s: string, width: number): string[] {
  if (s.length <= width) return [s]
  const out: string[] = []
  let line = ''
  for (const word of s.split(' ')) {
    let w = word
    while (w.length > width) {
      if (line) out.push(line)
      line = ''
      out.push(w.slice(0, width))
      w = w.slice(width)
    }
    if (!line) line = w
    else if (line.length + 1 + w.length <= width) line += ' ' + w
    else {
      out.push(line)
      line = w
    }
  }
  if (line || !out.length) out.push(line)
  return out
}

/** Lays `rows` (the first is the header) out in at most `width` columns when given; two spaces between columns (one when tight). */
export function layoutTable(rows: readonly (readonly string[])[], o: { width?: number; fits?: readonly ColumnFit[]; paint?: CellPaint } = {}): string {
  const n = rows[0]!.length
  const widths = Array.from({ length: n }, (_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  const fits = o.fits ?? []
  let gap = '  '
  if (o.width !== undefined) {
    let excess = widths.reduce((a, b) => a + b, 0) + 2 * (n - 1) - o.width
    // Take one column at a time from the widest flexible column still above its minimum: the cheapest loss.
    while (excess > 0) {
      let best = -1
      for (let i = 0; i < n; i++) if (fits[i]?.fit && widths[i]! > (fits[i]!.min ?? 12) && (best < 0 || widths[i]! > widths[best]!)) best = i
      if (best < 0) break
      widths[best]!--
      excess--
    }
    // Still too wide: one space between columns instead of two.
    if (excess > 0) gap = ' '
  }
  const paint = o.paint ?? ((t) => t)
  const lines: string[] = []
  rows.forEach((row, r) => {
    const cells = row.map((c, i) => (fits[i]?.fit === 'wrap' || (r === 0 && fits[i]?.fit) ? wrap(c, widths[i]!) : [fits[i]?.fit === 'middle' ? shortenMiddle(c, widths[i]!) : c]))
    const height = Math.max(...cells.map((c) => c.length))
    for (let k = 0; k < height; k++)
      lines.push(cells.map((c, i) => (i === n - 1 ? paint(c[k] ?? '', r, i) : paint((c[k] ?? '').padEnd(widths[i]!), r, i))).join(gap).trimEnd())
  })
  return lines.join('\n')
}
