/**
 * @fileoverview The agent catalogue's patterns run on what a probed host prints. Properties: every built-in pattern matches
 * a hostile 256 KiB output in linear time (fast-check generates the outputs from the characters that make backtracking
 * engines quadratic: digits, dots, blanks, newlines, pattern keywords); the linear engine agrees with JavaScript's RegExp on
 * ordinary outputs (same version, same health verdict); patterns the linear engine cannot run are refused at load.
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { boundedLines, builtinCatalogue, linearPattern, MAX_LINE_CHARS, validateCatalogue } from '../../checks/endpoint-agent/catalogue.ts'
import { AttemptFailure } from '../../src/errors.ts'

const OUTPUT_BYTES = 256 * 1024
/** Per match, on 256 KiB. RE2JS needs a few ms; the backtracking RegExp needed minutes for `([0-9]+\.[0-9]+…)` on digits. */
const MATCH_BOUND_MS = 1500

const patterns = [...new Set(builtinCatalogue().flatMap((a) => (['linux', 'darwin'] as const).flatMap((os) => [...(a.platforms[os]?.version ?? []), ...(a.platforms[os]?.degraded ?? [])].map((c) => c.pattern))))]

/** Pieces a hostile host repeats: the quadratic shapes of the catalogue's patterns, and its keywords. */
const piece = fc.oneof(
  fc.constantFrom('7', '0', '.', '\n', ' ', '\t', '\r', '=', ':', 'v', 'version', 'version ', 'version:', 'Product version:', 'Binary:', 'ClamAV', 'PRODUCT_VERSION', 'false', 'rfm-state=', '1.2', '1.2.3'),
  fc.string({ maxLength: 8 }),
)
/** A 256 KiB output: a short random motif repeated (a long run of one shape is the worst case for backtracking). */
const hostileOutput = fc.array(piece, { minLength: 1, maxLength: 6 }).map((motif) => {
  const m = motif.join('') || '7'
  return m.repeat(Math.ceil(OUTPUT_BYTES / m.length)).slice(0, OUTPUT_BYTES)
})

describe('catalogue patterns on hostile probe output', () => {
  it(`has patterns to check (${patterns.length})`, () => {
    expect(patterns.length).toBeGreaterThan(5)
  })

  it('property: every built-in pattern matches a 256 KiB hostile output in bounded time', () => {
    let worst = 0
    let matches = 0
    fc.assert(
      fc.property(hostileOutput, (out) => {
        const text = boundedLines(out)
        for (const p of patterns) {
          const re = linearPattern(p)
          const t0 = performance.now()
          re.exec(text)
          re.test(text)
          const ms = performance.now() - t0
          worst = Math.max(worst, ms)
          matches += 2
          expect(ms, `${p} on ${JSON.stringify(out.slice(0, 40))}…`).toBeLessThan(MATCH_BOUND_MS)
        }
      }),
      { numRuns: 25, examples: [['7'.repeat(OUTPUT_BYTES)], ['\n'.repeat(OUTPUT_BYTES)], ['1.'.repeat(OUTPUT_BYTES / 2)], [' '.repeat(OUTPUT_BYTES)]] },
    )
    // 25 outputs (the 4 hand-picked worst cases first, then random ones), two matches per pattern each.
    expect(matches).toBe(patterns.length * 2 * 25)
    console.log(`catalogue patterns: ${matches} matches on 256 KiB outputs, worst ${worst.toFixed(1)} ms`)
  })

  it('property: the linear engine reads the same version and health verdict as RegExp on ordinary outputs', () => {
    const ordinary = fc.array(piece, { maxLength: 30 }).map((a) => a.join(''))
    fc.assert(
      fc.property(ordinary, (out) => {
        for (const p of patterns) {
          // Both on the text as the probe hands it over (line breaks normalised to \n, lines capped).
          const text = boundedLines(out)
          const native = new RegExp(p, 'm').exec(text)
          const linear = linearPattern(p).exec(text)
          expect(linear?.[0] ?? null, p).toBe(native?.[0] ?? null)
          expect(linear?.[1] ?? null, p).toBe(native?.[1] ?? null)
        }
      }),
      { numRuns: 500 },
    )
  })

  it('lines longer than the cap are cut before matching; short outputs pass unchanged', () => {
    const long = `${'x'.repeat(MAX_LINE_CHARS + 10)}\nversion = 1.2.3`
    expect(boundedLines(long)).toBe(`${'x'.repeat(MAX_LINE_CHARS)}\nversion = 1.2.3`)
    expect(boundedLines('version = 1.2.3\n')).toBe('version = 1.2.3\n')
    // \r, \r\n and U+2028/2029 end lines for RegExp's ^ but not for RE2's: they are made \n first.
    expect(boundedLines('a\r\nb\rc\u2028d\u2029e')).toBe('a\nb\nc\nd\ne')
  })

  it.each([
    { name: 'a backreference', pattern: '(\\d+)\\1' },
    { name: 'a lookahead', pattern: 'version(?=\\s)' },
    { name: 'a lookbehind', pattern: '(?<=v)([0-9.]+)' },
    { name: 'a repeat count over 1000', pattern: 'a{1001}' },
    { name: 'a nested repeat count', pattern: '(?:x{100}){100}' },
  ])('an operator catalogue with $name is refused at load, naming the pointer', ({ pattern }) => {
    const data = { agents: [{ id: 'acme', name: 'Acme', vendor: 'Acme', categories: ['edr'], source: ['https://example.com'], platforms: { linux: { paths: ['/opt/acme'], version: [{ argv: ['/opt/acme/ctl'], pattern }] } } }] }
    let err: unknown
    try {
      validateCatalogue(data, 'ops-catalogue.json')
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(AttemptFailure)
    expect((err as AttemptFailure).reason).toBe('input')
    expect((err as AttemptFailure).message).toContain('ops-catalogue.json: /agents/0/platforms/linux/version/0/pattern: expected a linear-time regular expression')
  })
})
