import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tmpdir } from 'node:os'
import { fileURLToPath } from 'node:url'
import { builtinFamilies, defineCheck, defineFamily, OptionsError, parseTarget, Registry, scan, TargetError, ZtscanError, type Family } from '../src/index.ts'
import { targetTable } from '../src/cli/help.ts'

const root = fileURLToPath(new URL('..', import.meta.url))
const bin = join(root, 'dist/src/cli/main.js')
const toy = join(root, 'fixtures/toy-family/index.mjs')
const dir = mkdtempSync(join(tmpdir(), 'ztscan-registry-'))
const ztscan = (args: string[]) => spawnSync(process.execPath, [bin, ...args], { cwd: dir, encoding: 'utf8', timeout: 60_000 })

beforeAll(() => {
  if (!existsSync(bin)) execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' })
}, 120_000)

function walk(d: string): string[] {
  return readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? walk(join(d, f)) : [join(d, f)]))
}

describe('the family registry', () => {
  it('the README target table is the one generated from the registrations', () => {
    expect(readFileSync(join(root, 'README.md'), 'utf8')).toContain(targetTable(builtinFamilies))
  })
  it('unknown schemes get a "did you mean" from the registered ones', () => {
    expect(() => parseTarget('tsl://127.0.0.1:443')).toThrow('unknown scheme "tsl:"; did you mean tls://?')
    expect(() => parseTarget('locl')).toThrow('did you mean local?')
    expect(() => parseTarget('nmpa:scan.xml')).toThrow('did you mean nmap:?')
    expect(() => parseTarget('zzz://x')).toThrow(/unknown scheme "zzz:" \(known: .*tls:\/\/.*local/)
    expect(() => parseTarget('tcp://127.0.0.1')).not.toThrow() // an alias of host://
  })
  it('a check targeting a kind no family declares is an error at scan start (and a compile error in defineFamily)', async () => {
    const typo = defineCheck({ id: 'acme-x', family: 'acme', targetKinds: ['tls-endpiont'], rules: [], async run() {} })
    await expect(scan({ targets: ['tls://127.0.0.1:1'], checks: [typo] })).rejects.toThrow(/check "acme-x" targets kind "tls-endpiont" that no family declares; did you mean "tls-endpoint"\?/)
    await expect(scan({ targets: ['tls://127.0.0.1:1'], checks: [typo] })).rejects.toBeInstanceOf(OptionsError)
    const fam = (): Family =>
      defineFamily({
        name: 'acme',
        pillar: 'data',
        targets: [{ scheme: 'acme', kind: 'acme-thing', example: 'acme://X', parse: (rest) => ({ kind: 'acme-thing', id: `acme://${rest}` }) }],
        // @ts-expect-error -- 'tls-endpiont' is neither the family's kind nor a built-in one
        checks: [typo],
      })
    expect(() => new Registry([...builtinFamilies, fam()])).toThrow(OptionsError)
  })
  it('settings are validated once at scan start against the families\' schemas (every problem, before any probe)', async () => {
    const warnings: string[] = []
    const logger = { debug() {}, info() {}, warn: (m: string) => warnings.push(m) }
    const bad = scan({ targets: ['tls://127.0.0.1:1'], settings: { ssh: { username: 5, acceptUnknownHostKeys: 'yes', knownHostPath: 'x' }, tsl: {} }, logger })
    const err = await bad.then(() => undefined, (e: unknown) => e as Error)
    expect(err).toBeInstanceOf(ZtscanError)
    expect(err!.message).toContain('settings.ssh.username: expected a value of type string (got 5)')
    expect(err!.message).toContain('settings.ssh.acceptUnknownHostKeys: expected a value of type boolean (got "yes")')
    expect(err!.message).toContain('settings.ssh.knownHostPath: expected no such property (unknown field)')
    expect(warnings.join('\n')).toContain('settings: "tsl" not declared by any family')
    // A bare plugin check (no family) may read settings no family declares.
    const bare = defineCheck({ id: 'bare-x', family: 'bare', targetKinds: ['local'], rules: [], async run() {} })
    await expect(scan({ targets: [], checks: [bare], settings: { bareThing: 1 } })).resolves.toBeDefined()
  })
  it('two families cannot claim one scheme or one kind', () => {
    const clash = (scheme: string, kind: string): Family => ({ name: 'dup', pillar: 'data', targets: [{ scheme, kind, example: `${scheme}:X`, parse: () => ({ kind, id: 'x' }) }], checks: [] })
    expect(() => new Registry([...builtinFamilies, clash('tls', 'other')])).toThrow('scheme "tls:" of family "dup" is already registered by family "certificate"')
    expect(() => new Registry([...builtinFamilies, clash('other', 'tls-endpoint')])).toThrow('target kind "tls-endpoint" of family "dup" is already declared by family "certificate"')
  })
  it('a plugin scheme that throws a plain Error is a target error, not a crash', () => {
    const fam: Family = { name: 'odd', pillar: 'data', targets: [{ scheme: 'odd', kind: 'odd', example: 'odd:X', parse: () => { throw new Error('no') } }], checks: [] }
    expect(() => new Registry([fam]).parse('odd:x')).toThrow(TargetError)
  })
  it('family modules never import the registry (it imports them: each family loads first on its own)', () => {
    const offenders = walk(join(root, 'checks'))
      .filter((f) => f.endsWith('.ts') && !/\/(demo|lab)\.ts$/.test(f))
      .filter((f) => /from '[./]*src\/(targets\/(parse|registry)|index)\.ts'/.test(readFileSync(f, 'utf8')))
    expect(offenders).toEqual([])
  })
  it('no shared source file names a family, a scheme or a target kind (outside comments): they live in the registrations', () => {
    const names = builtinFamilies.map((f) => f.name)
    const schemes = builtinFamilies.flatMap((f) => f.targets.flatMap((t) => [t.scheme, ...(t.aliases ?? [])]))
    const kinds = builtinFamilies.flatMap((f) => f.targets.map((t) => t.kind))
    const esc = (s: string): string => s.replace(/[-]/g, '\\-')
    const patterns = [
      // a family name as a string, or a rule id of the family (`'certificate-expired'`)
      ...names.map((n) => new RegExp(`['"\`]${esc(n)}(['"\`]|-[a-z])`)),
      ...schemes.map((s) => new RegExp(`(?<![\\w.-])${s}:(?!\\s)`)),
      // compound kinds (`'tls-endpoint'`); `host` and `local` are ordinary words too (a SARIF grouping level, a command)
      ...kinds.filter((k) => k.includes('-')).map((k) => new RegExp(`['"\`]${esc(k)}['"\`]`)),
    ]
    const hits: string[] = []
    // No exception: even the hint for a target written without a scheme comes from the families' `suggest`.
    for (const file of walk(join(root, 'src')).filter((f) => f.endsWith('.ts')))
      readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
        const t = line.trim()
        if (t.startsWith('//') || t.startsWith('*') || t.startsWith('/*')) return
        const code = line.replace(/\s\/\/\s.*$/, '')
        for (const p of patterns) if (p.test(code)) hits.push(`${file.slice(root.length)}:${i + 1}: ${p.source}: ${t.slice(0, 100)}`)
      })
    expect(hits).toEqual([])
  })
})

describe('a fifth family from fixtures/toy-family (a plugin: nothing outside its folder names it)', () => {
  it('no file outside its folder mentions it', () => {
    const files = [...walk(join(root, 'src')), ...walk(join(root, 'checks')), ...walk(join(root, 'rules'))]
    expect(files.filter((f) => /\btoy\b/.test(readFileSync(f, 'utf8')))).toEqual([])
  })
  it('its targets parse through the built CLI, its flag sets its setting, its check reports', () => {
    const r = ztscan(['scan', '-q', '--plugin', toy, 'toy://a?state=fail', 'toy://b', '--toy-greeting', 'hi', '-o', 'toy.json', '--fail-on', 'none', '--include-passed'])
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    const report = JSON.parse(readFileSync(join(dir, 'toy.json'), 'utf8'))
    expect(report.targets).toEqual([{ id: 'toy://a', kind: 'toy-thing' }, { id: 'toy://b', kind: 'toy-thing' }])
    expect(report.findings.map((f: { target: string; status: string; message: string }) => [f.target, f.status, f.message])).toEqual([
      ['toy://a', 'fail', 'toy://a is in state fail (hi)'],
      ['toy://b', 'pass', 'toy://b is in state pass (hi)'],
    ])
    expect(report.score.pillars.data.score).not.toBeNull() // the toy's pillar is scored
  })
  it('a bad toy target exits 2 before any probe, naming it; a typo in its scheme gets a hint', () => {
    const bad = ztscan(['scan', '-q', '--plugin', toy, 'toy://NOT_OK'])
    expect(bad.status).toBe(2)
    expect(bad.stderr).toContain('toy://NOT_OK: "NOT_OK" is not a toy name')
    expect(ztscan(['scan', '-q', '--plugin', toy, 'toi://x']).stderr).toContain('did you mean toy://?')
    // its `suggest` joins the built-in families' offers for a target written without a scheme
    expect(ztscan(['scan', '-q', '--plugin', toy, 'example.test']).stderr).toContain('or toy://example.test (a toy)')
  })
  it('its settings are validated once against its schema: a bad one exits 2 before any probe, naming the flag or the file', () => {
    const flag = ztscan(['scan', '-q', '--plugin', toy, 'toy://a', '--toy-greeting', 'x'.repeat(30)])
    expect(flag.status).toBe(2)
    expect(flag.stderr).toMatch(/--toy-greeting: expected a value that must NOT have more than 20 characters \(got "x{30}"\)/)
    writeFileSync(join(dir, 'bad-toy.yaml'), 'targets: [ "toy://a" ]\nsettings:\n  toy: { greting: hi }\n')
    const file = ztscan(['scan', '-q', '--plugin', toy, '-t', 'bad-toy.yaml'])
    expect(file.status).toBe(2)
    expect(file.stderr).toContain('bad-toy.yaml: /settings/toy/greting: expected no such property (unknown field)')
  })
  it('it appears in --help (its scheme and flag) and in `ztscan rules`', () => {
    const help = ztscan(['scan', '--plugin', toy, '--help']).stdout
    expect(help).toMatch(/toy:\/\/NAME\[\?state=pass\|fail\]\s+toy-thing \(a toy\); toy/)
    expect(help).toMatch(/--toy-greeting TEXT\s+what the toy check says/)
    expect(ztscan(['rules', '--plugin', toy]).stdout).toMatch(/^toy-state\s+high\s+data\s+Toy is in a good state$/m)
  })
  it('its demo part runs with `ztscan demo --plugin`', () => {
    const r = ztscan(['demo', '-q', '--plugin', toy, '-o', 'demo.json', '--fail-on', 'none'])
    expect(r.status).toBe(0)
    const report = JSON.parse(readFileSync(join(dir, 'demo.json'), 'utf8'))
    expect(report.findings.find((f: { target: string }) => f.target === 'toy://demo')).toMatchObject({ status: 'fail', message: 'toy://demo is in state fail (demo)' })
  }, 120_000)
})

afterAll(() => rmSync(dir, { recursive: true, force: true }))
