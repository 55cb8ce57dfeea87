/**
 * @fileoverview Redaction from the first byte, through the built CLI: a secret in a targets file must not leak through
 * the YAML or JSON parser's own messages (an unresolved tag or alias, a syntax error quoting the input, a warning), nor
 * through any report or log of a scan that uses it. Every output stream is searched: stdout, stderr and the report files.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ensureBuilt, runCli } from './cli.ts'

const dir = mkdtempSync(join(tmpdir(), 'ztscan-redact-parse-'))
beforeAll(ensureBuilt, 120_000)
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const SECRET = 'Qaz2wsx-Secret-7f3a'
/** Every piece of the secret long enough to identify it (a parser that quotes 10 characters of context leaks these). */
const pieces = [SECRET, SECRET.slice(0, 10), SECRET.slice(-10), 'Qaz2wsx']

let n = 0
async function scanWith(name: string, text: string, extra: string[] = []) {
  const file = join(dir, `${++n}-${name}`)
  writeFileSync(file, text)
  const out = join(dir, `${n}-report`)
  const r = await runCli(['scan', '-t', file, '-o', `${out}.json`, '-o', `${out}.sarif`, '-o', `${out}.md`, '--format', 'table', ...extra], { cwd: dir })
  const files = ['json', 'sarif', 'md'].map((x) => `${out}.${x}`).filter((f) => existsSync(f)).map((f) => readFileSync(f, 'utf8'))
  return { ...r, file, all: [r.stdout, r.stderr, ...files].join('\n'), files }
}
const noSecret = (all: string): void => {
  for (const p of pieces) expect(all).not.toContain(p)
}

describe('secrets in a targets file never reach any output stream', () => {
  const broken: { name: string; file: string; text: string; err: RegExp }[] = [
    { name: 'a YAML tag in place of the value', file: 't.yaml', text: `targets: [local]\nsettings:\n  ssh:\n    password: !${SECRET}\n`, err: /t\.yaml: \/: expected valid YAML \(Unresolved tag: \[REDACTED\] at line 4, column 15\)/ },
    { name: 'an unresolved YAML alias', file: 't.yaml', text: `targets: [local]\nsettings:\n  ssh:\n    password: *${SECRET}\n`, err: /expected valid YAML \(Unresolved alias \(the anchor must be set before the alias\): \[REDACTED\]\)/ },
    { name: 'a YAML anchor on a broken line', file: 't.yaml', text: `targets: [local]\nsettings:\n  ssh: { passphrase: &${SECRET} "x\n`, err: /expected valid YAML/ },
    { name: 'a YAML block scalar before a syntax error', file: 't.yaml', text: `settings:\n  ssh:\n    privateKey: |\n      ${SECRET}\n  bad: [\ntargets: []\n`, err: /expected valid YAML/ },
    { name: 'a YAML duplicate key (a warning in yaml, an error here)', file: 't.yaml', text: `targets: [local]\nsettings:\n  ssh:\n    password: first-value\n    password: ${SECRET}\n`, err: /Map keys must be unique/ },
    { name: 'an unquoted JSON value', file: 't.json', text: `{"targets":["local"],"settings":{"ssh":{"password": ${SECRET}}}}`, err: /t\.json: \/: expected valid JSON \(unexpected character at line 1, column 53\)/ },
    { name: 'a control character inside a JSON string', file: 't.json', text: `{"targets":["local"],\n"settings":{"ssh":{"password": "Qaz2wsx\u0001${SECRET.slice(7)}"}}}`, err: /expected valid JSON \(a control character inside a string at line 2, column 40\)/ },
    { name: 'a JSON string never closed', file: 't.json', text: `{"targets":["local"],"settings":{"ssh":{"token": "${SECRET}`, err: /expected valid JSON \((unterminated string|unexpected end of input)/ },
    { name: 'a JSON value cut short', file: 't.json', text: `{"targets":["local"],"settings":{"http":{"apiKey": "${SECRET}"`, err: /expected valid JSON/ },
  ]
  it.each(broken)('$name: exit 2 naming the file, the secret nowhere', async ({ name, file, text, err }) => {
    const r = await scanWith(file, text)
    expect(r.code, r.stderr).toBe(2)
    expect(r.stderr).toMatch(err)
    expect(r.stderr).toContain(r.file)
    expect(r.stderr).not.toMatch(/Warning|\n\s+at /)
    expect(r.files, `${name}: no report written`).toEqual([])
    noSecret(r.all)
  })

  it('a scan that uses the secrets and fails everywhere: reports, table and logs are clean', async () => {
    const text = `targets:\n  - agents://root@127.0.0.1:1\n  - ssh://127.0.0.1:1\n  - local\nsettings:\n  ssh:\n    password: ${SECRET}\n    acceptUnknownHostKeys: true\n  http:\n    authorization: "Bearer ${SECRET}"\n`
    const r = await scanWith('ok.yaml', text, ['--timeout', '5s', '--fail-on', 'none'])
    expect(r.code, r.stderr).toBe(4) // the unreachable targets make the scan incomplete
    expect(r.files).toHaveLength(3)
    expect(JSON.parse(r.files[0]!).errors.length).toBeGreaterThan(0)
    noSecret(r.all)
  })

  it('a path is not a secret: --ssh-key and settings paths are named in errors', async () => {
    const r = await scanWith('key.yaml', `targets: [local]\nsettings:\n  ssh: { privateKeyPath: nope_key_file, password: ${SECRET} }\n`)
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('/settings/ssh/privateKeyPath: nope_key_file: cannot read (ENOENT)')
    noSecret(r.all)
  })
})
