/**
 * @fileoverview A property over the configuration parser: a secret under a secret key stays out of every parse error,
 * whatever is broken around it. Documents are YAML or JSON, with the secret as a plain, quoted, tagged, anchored or aliased
 * value, then cut short or given a stray character anywhere outside the secret and its key.
 */
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { parseConfigText } from '../../src/engine/redact.ts'

const secretChar = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.+/=@%'.split(''))
const secret = fc.array(secretChar, { minLength: 8, maxLength: 40 }).map((a) => `S3${a.join('')}`)
const key = fc.constantFrom('password', 'passphrase', 'privateKey', 'token', 'apiKey', 'client_secret', 'Authorization')
const stray = fc.constantFrom(...'{}[]:,"\'!&*|>#-\t\n\u0001 '.split(''))

function yamlDoc(k: string, s: string, form: number): string {
  const value = [s, `"${s}"`, `'${s}'`, `!${s}`, `&${s} x`, `*${s}`, `|\n      ${s}`][form % 7]!
  return `targets:\n  - local\nsettings:\n  ssh:\n    username: audit\n    ${k}: ${value}\n  tls: { caFile: ca.pem }\n`
}
function jsonDoc(k: string, s: string, form: number): string {
  const value = [`"${s}"`, s, `"${s}`][form % 3]!
  return `{\n  "targets": ["local"],\n  "settings": { "ssh": { "username": "audit", "${k}": ${value} }, "tls": { "caFile": "ca.pem" } }\n}\n`
}

describe('parse errors never quote a secret', () => {
  it('YAML and JSON, every value form, cut or corrupted outside the secret', () => {
    fc.assert(
      fc.property(fc.boolean(), key, secret, fc.nat(20), fc.nat(10_000), fc.option(stray, { nil: undefined }), (json, k, s, form, at, ch) => {
        const doc = json ? jsonDoc(k, s, form) : yamlDoc(k, s, form)
        const start = doc.indexOf(s)
        const end = start + s.length
        // A position outside the secret: before it or after it.
        const span = doc.length - s.length
        let pos = at % (span + 1)
        if (pos > start) pos += s.length
        // A stray character inside the key makes it another key, no longer a secret one: not this property's case.
        const keyAt = doc.indexOf(json ? `"${k}"` : `${k}:`)
        fc.pre(ch === undefined || pos <= keyAt || pos > keyAt + k.length + 1)
        const text = ch === undefined ? doc.slice(0, Math.max(pos, end)) : doc.slice(0, pos) + ch + doc.slice(pos)
        let message = ''
        try {
          parseConfigText(text, json ? 'json' : 'yaml', (expected) => new Error(expected))
        } catch (err) {
          message = (err as Error).message
        }
        expect(message).not.toContain(s)
        // Nor a piece of it long enough to help a guess (V8 quotes ten characters of context).
        for (let i = 0; i + 8 <= s.length; i++) expect(message).not.toContain(s.slice(i, i + 8))
      }),
      { numRuns: 3000 },
    )
  })
})
