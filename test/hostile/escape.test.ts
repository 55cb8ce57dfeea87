/**
 * @fileoverview Terminal and viewer injection: strings chosen by a target (a JWKS `kid`, a file name) carrying ESC sequences,
 * the 8-bit CSI U+009B, bidi overrides and isolates, and other format characters reach every human format escaped: the
 * terminal table, Markdown, SARIF message text and stderr.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { scan, stringifyJson, toHtml, toMarkdown, toSarif, toTable, writeSarif, type ScanReport } from '../../src/index.ts'
import { PassThrough } from 'node:stream'
import { escapeControls, escapeJsonText, escapeLine } from '../../src/report/escape.ts'
import { startIssuer, type IssuerServer } from '../helpers/oidc.ts'
import { bin, ensureBuilt } from './cli.ts'

/** Everything that must never reach a human format raw. */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u
const UNSAFE_BUT_NEWLINE = /[^\n\t\P{Cc}]|[\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u
/** An OSC 8 hyperlink, a screen clear, an 8-bit CSI, RLO, LRI/PDI, LRM, zero-width space, BOM, a tag character, NUL, DEL. */
const EVIL = '\x1b]8;;http://127.0.0.1/\x07click\x1b]8;;\x07\x1b[2J\u009b31m\u202egnp.exe\u2066x\u2069\u200e\u200b\ufeff\u{e0041}\0\x7f\u2028end'

/** A file name with ESC, a screen clear and RLO (the file holds no certificate: its error message quotes the name). */
const FILE_EVIL = 'x\x1b[2J\u202egnp.pem'


describe('escapeControls / escapeLine', () => {
  it('shows each control or format character as a visible escape', () => {
    expect(escapeControls('a\x1bb')).toBe('a\\x1bb')
    expect(escapeControls('\u009b')).toBe('\\x9b')
    expect(escapeControls('\u202e\u2066\u2069\u200e\u200f')).toBe('\\u202e\\u2066\\u2069\\u200e\\u200f')
    expect(escapeControls('\u{e0041}')).toBe('\\u{e0041}')
    expect(escapeControls('a\nb', { multiline: true })).toBe('a\nb')
    expect(escapeControls('a\nb\rc\td', { multiline: true })).toBe('a\nb\\x0dc\td')
    expect(escapeLine('a\r\n\tb\x1b')).toBe('a b\\x1b')
    // Printable text, including non-ASCII letters and emoji, passes unchanged.
    expect(escapeControls('Zoë — 東京 🔐 <b>')).toBe('Zoë — 東京 🔐 <b>')
  })
  it('property: no unsafe character survives, and escaping is idempotent', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => {
        const once = escapeControls(s)
        expect(once).not.toMatch(UNSAFE)
        expect(escapeControls(once)).toBe(once)
        expect(escapeControls(s, { multiline: true })).not.toMatch(UNSAFE_BUT_NEWLINE)
      }),
      { numRuns: 2000 },
    )
  })
})

describe('escapeJsonText', () => {
  it('property: same data after parsing, and no C1, format or separator character left raw', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.string({ unit: 'binary', maxLength: 50 }), (v, s) => {
        const doc = { v, s }
        const text = escapeJsonText(JSON.stringify(doc))
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(doc)))
        expect(text).not.toMatch(UNSAFE)
      }),
      { numRuns: 1000 },
    )
  })
})

describe('a hostile JWKS kid in every human format', () => {
  let issuer: IssuerServer
  let report: ScanReport
  const dir = mkdtempSync(join(tmpdir(), 'ztscan-escape-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  beforeAll(async () => {
    writeFileSync(join(dir, FILE_EVIL), 'not a certificate\n')
    // A symmetric key in the JWKS fails mfa-oidc-weak-jwks-key, whose message quotes the kid.
    issuer = await startIssuer({ jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0LXNlY3JldC1zZWNyZXQ', kid: EVIL, alg: 'HS256' }] } })
    report = await scan({ targets: [`oidc:${issuer.issuer}`, `cert:${dir}/${FILE_EVIL}`], timeoutMs: 10_000 })
    expect(report.findings.some((f) => f.ruleId === 'mfa-oidc-weak-jwks-key' && f.status === 'fail' && f.message.includes(EVIL))).toBe(true)
    expect(report.errors.some((e) => e.message.includes(FILE_EVIL))).toBe(true)
  })
  afterAll(() => issuer?.stop())

  it('terminal table', () => {
    const t = toTable(report)
    expect(t).not.toMatch(UNSAFE_BUT_NEWLINE)
    expect(t).toContain('\\x1b]8;;http://127.0.0.1/\\x07click')
    expect(t).toContain('\\x9b31m\\u202egnp.exe\\u2066x\\u2069')
  })
  it('Markdown', () => {
    const md = toMarkdown(report)
    expect(md).not.toMatch(UNSAFE_BUT_NEWLINE)
    // The escape's backslash is itself escaped for Markdown, so it renders as \x1B.
    expect(md).toContain('\\\\x1b\\]8;;http://127.0.0.1/\\\\x07click')
    expect(md).toContain('\\\\u202egnp.exe')
  })
  it('HTML (server-rendered text and the JSON data its script shows)', () => {
    const html = toHtml(report)
    expect(html).not.toMatch(UNSAFE_BUT_NEWLINE)
    expect(html).toContain('\\u202egnp.exe')
  })
  it('JSON and SARIF files: the raw value survives parsing, but no control character is written raw', async () => {
    const json = stringifyJson(report)
    expect(json).not.toMatch(UNSAFE_BUT_NEWLINE)
    expect(JSON.stringify(JSON.parse(json))).toContain(JSON.stringify(EVIL).slice(1, -1))
    const out = new PassThrough()
    let sarif = ''
    out.on('data', (d: Buffer) => (sarif += d.toString('utf8')))
    await writeSarif(report, out)
    expect(sarif).not.toMatch(UNSAFE_BUT_NEWLINE)
    expect(sarif).toContain('\\u202egnp.exe')
  })
  it('SARIF message text (results and tool notifications); properties keep the raw value', () => {
    const sarif = toSarif(report) as { runs: { results: { message: { text: string } }[]; invocations: { toolExecutionNotifications: { message: { text: string } }[] }[] }[] }
    const texts = [...sarif.runs[0]!.results.map((r) => r.message.text), ...sarif.runs[0]!.invocations[0]!.toolExecutionNotifications.map((n) => n.message.text)]
    expect(texts.some((t) => t.includes('\\u202egnp.exe'))).toBe(true)
    expect(texts.some((t) => t.includes('x\\x1b[2J\\u202egnp.pem'))).toBe(true)
    for (const t of texts) expect(t).not.toMatch(UNSAFE_BUT_NEWLINE)
  })
})

describe('stderr of the built CLI', () => {
  beforeAll(ensureBuilt, 120_000)
  it('a usage error quoting a hostile target is escaped', () => {
    const r = spawnSync(process.execPath, [bin, 'scan', `tls://a${EVIL.replace('\0', '')}:443`], { encoding: 'utf8', timeout: 60_000 })
    expect(r.status).toBe(2)
    expect(r.stderr).toContain('\\x1b]8;;')
    expect(r.stderr).toContain('\\u202e')
    expect(r.stderr).not.toMatch(UNSAFE_BUT_NEWLINE)
  })
})
