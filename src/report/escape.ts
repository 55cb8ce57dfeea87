/**
 * @fileoverview The one escape for text that reaches a human: a terminal, a Markdown page, a SARIF viewer, stderr.
 * Targets and exports choose their own strings (a JWKS `kid`, a banner, a user name), so every control or format
 * character is shown as a visible escape instead of being interpreted: C0 (ESC starts ANSI sequences), DEL, C1 (U+009B is an
 * 8-bit CSI), Unicode format characters (bidi embeddings/overrides U+202A–U+202E and isolates U+2066–U+2069, LRM/RLM,
 * zero-width characters, BOM, tag characters), line/paragraph separators and lone surrogates.
 */

// One character class, so matching is linear whatever the input.
const UNSAFE = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/gu
// eslint-disable-next-line no-control-regex
const UNSAFE_MULTILINE = /[\0-\x08\v-\x1f\x7f-\x9f\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/gu
const WHITESPACE_CONTROLS = /[\t\n\v\f\r]+/g

function visible(c: string): string {
  const cp = c.codePointAt(0)!
  const hex = cp.toString(16)
  return cp <= 0xff ? `\\x${hex.padStart(2, '0')}` : cp <= 0xffff ? `\\u${hex.padStart(4, '0')}` : `\\u{${hex}}`
}

/**
 * Escapes every control and format character as `\xhh` / `\uhhhh` (ESC → `\x1b`, U+202E → `\u202e`).
 * With `multiline`, `\n` and `\t` pass (multi-line messages on stderr, SARIF text, HTML).
 */
export function escapeControls(value: unknown, opts: { multiline?: boolean } = {}): string {
  return String(value ?? '').replace(opts.multiline ? UNSAFE_MULTILINE : UNSAFE, visible)
}

/** One line of text for a table cell or a one-line message: tabs and line breaks become one space, the rest is escaped. */
export function escapeLine(value: unknown): string {
  return escapeControls(String(value ?? '').replace(WHITESPACE_CONTROLS, ' '))
}

const JSON_UNSAFE = /[\x7f-\x9f\p{Cf}\u2028\u2029]/gu

/**
 * JSON text (from `JSON.stringify`) with the characters JSON allows raw but a terminal or viewer would interpret (DEL, C1,
 * bidi and other format characters, U+2028/U+2029) written as `\uhhhh` escapes: the parsed data is identical, and
 * `cat report.json` shows them instead of obeying them. (JSON.stringify already escapes C0 and lone surrogates; these
 * characters occur only inside strings, so a text-level replacement is exact.)
 */
export function escapeJsonText(json: string): string {
  // Plain ASCII without DEL (most JSON) has nothing to escape: checked natively (one UTF-8 byte per character), without
  // the Unicode scan.
  if (Buffer.byteLength(json) === json.length && !json.includes('\x7f')) return json
  return json.replace(JSON_UNSAFE, (c) => {
    const u = (n: number): string => `\\u${n.toString(16).padStart(4, '0')}`
    return c.length === 1 ? u(c.charCodeAt(0)) : u(c.charCodeAt(0)) + u(c.charCodeAt(1))
  })
}

/**
 * Writes `json` (text from `JSON.stringify`) into `buf` at `off` as UTF-8 when it needs no escaping for output (see
 * {@link escapeJsonText}); plain ASCII without DEL — most JSON — is checked by the write itself. Returns the bytes written,
 * or -1 when the text must be written escaped instead (what was written past `off` is then garbage to overwrite). The
 * caller makes room for 3 bytes a UTF-16 unit.
 */
export function writeJsonForOutput(buf: Buffer, off: number, json: string): number {
  const n = buf.write(json, off, 'utf8')
  return (n === json.length && !json.includes('\x7f')) || escapeJsonText(json) === json ? n : -1
}
