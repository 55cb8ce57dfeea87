import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tmpdir } from 'node:os'
import { fileURLToPath } from 'node:url'
import { FORMATS, formatForPath, planOutputs, UsageError } from '../src/index.ts'

const root = fileURLToPath(new URL('..', import.meta.url))
const bin = join(root, 'dist/src/cli/main.js')
const plugin = join(root, 'fixtures/plugin/example-plugin.mjs')
const dir = mkdtempSync(join(tmpdir(), 'ztscan-formats-'))
const ztscan = (args: string[]) => spawnSync(process.execPath, [bin, ...args], { cwd: dir, encoding: 'utf8', timeout: 60_000 })

beforeAll(() => {
  if (!existsSync(bin)) execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' })
}, 120_000)

describe('report formats: one list', () => {
  it('the longest extension wins; unknown extensions select nothing', () => {
    expect(formatForPath('a.sarif.json')?.name).toBe('sarif')
    expect(formatForPath('A.SARIF')?.name).toBe('sarif')
    expect(formatForPath('a.json')?.name).toBe('json')
    expect(formatForPath('a.md')?.name).toBe('markdown')
    expect(formatForPath('a.txt')).toBeUndefined()
    expect(new Set(FORMATS.map((f) => f.name)).size).toBe(FORMATS.length)
  })
  it('plans outputs: extensions first, --format values to the rest, a table by default', () => {
    expect(planOutputs([], []).map((o) => [o.format.name, o.file])).toEqual([['table', '-']])
    expect(planOutputs(['json', 'markdown'], ['x.sarif', 'x.out']).map((o) => [o.format.name, o.file])).toEqual([['sarif', 'x.sarif'], ['json', 'x.out'], ['markdown', '-']])
    expect(() => planOutputs([], ['x.out'])).toThrow(UsageError)
    expect(() => planOutputs(['xml'], [])).toThrow('--format: expected one of')
  })
  it('scan and merge agree: -o x.sarif.json is SARIF from both', () => {
    writeFileSync(join(dir, 't.yaml'), 'targets:\n  - { kind: example, id: "example://a", state: fail }\n')
    expect(ztscan(['scan', '-q', '-t', 't.yaml', '--plugin', plugin, '--fail-on', 'none', '-o', 'scan.sarif.json', '-o', 'part.json']).status).toBe(0)
    expect(JSON.parse(readFileSync(join(dir, 'scan.sarif.json'), 'utf8')).version).toBe('2.1.0')
    const r = ztscan(['merge', 'part.json', '-o', 'merged.sarif.json'])
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    const merged = JSON.parse(readFileSync(join(dir, 'merged.sarif.json'), 'utf8'))
    expect(merged.version).toBe('2.1.0')
    expect(merged.runs[0].results[0].ruleId).toBe('example-state')
  })
})

afterAll(() => rmSync(dir, { recursive: true, force: true }))
