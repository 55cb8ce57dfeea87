/**
 * @fileoverview Terminal styling: colour through `node:util` styleText, on only when the stream is a TTY (or FORCE_COLOR
 * says so) and NO_COLOR is not set (https://no-color.org); TERM=dumb is no colour either.
 */
import * as util from 'node:util'

type Style = 'red' | 'yellow' | 'cyan' | 'gray' | 'green' | 'bold' | 'dim' | 'magenta'

/** True when text written to `stream` may carry colour codes. */
export function colorFor(stream: { isTTY?: boolean }, env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false'
  if (env.NO_COLOR) return false
  return !!stream.isTTY && env.TERM !== 'dumb'
}

/** A styler: `paint(['red', 'bold'], text)`; identity when colour is off (or styleText is missing: Node < 20.12). */
export function painter(color: boolean): (styles: Style | readonly Style[], text: string) => string {
  const styleText = (util as { styleText?: (f: Style | readonly Style[], t: string, o?: object) => string }).styleText
  if (!color || !styleText) return (_s, t) => t
  // validateStream: false — ztscan decided already (styleText alone would check stdout, not the stream written to).
  return (s, t) => (t ? styleText(s, t, { validateStream: false }) : t)
}

/** Width and colour of a table written to `stream`: a TTY's columns, colour as NO_COLOR / FORCE_COLOR / TTY say. */
export function terminal(stream: { isTTY?: boolean; columns?: number }): { width?: number; color: boolean } {
  return { ...(stream.isTTY && stream.columns ? { width: stream.columns } : {}), color: colorFor(stream) }
}
