/**
 * The README cannot drift from the code: every TypeScript block compiles against the built package (imported as
 * `ztscan`, the package's own name), every shell block parses (`bash -n`) and every `ztscan` command in one parses its
 * flags (`--help` appended: the command's options are checked, nothing is scanned).
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ensureBuilt, root, runCli } from './helpers/cli.ts'

const readme = readFileSync(join(root, 'README.md'), 'utf8')
const blocks = (lang: RegExp): string[] => [...readme.matchAll(/^```(\w+)\n([\s\S]*?)^```$/gm)].filter((m) => lang.test(m[1]!)).map((m) => m[2]!)
const ts = blocks(/^(ts|typescript)$/)
const sh = blocks(/^(sh|bash|shell)$/)

beforeAll(ensureBuilt, 120_000)

describe('README code blocks', () => {
  it('every TypeScript block compiles (strict, NodeNext) against the package', () => {
    expect(ts.length).toBeGreaterThanOrEqual(2)
    // Inside the package folder, so `import … from 'ztscan'` resolves through package.json "exports" to dist's types.
    const dir = join(root, 'test', '.readme-blocks')
    rmSync(dir, { recursive: true, force: true })
    mkdirSync(dir, { recursive: true })
    try {
      const files = ts.map((code, i) => {
        const f = join(dir, `block-${i + 1}.ts`)
        writeFileSync(f, code.includes('export ') || code.includes('import ') ? code : `${code}\nexport {}\n`)
        return f
      })
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true, skipLibCheck: true, types: ['node'] }, files }))
      const r = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.json')], { encoding: 'utf8', timeout: 120_000 })
      expect(r.stdout + r.stderr).toBe('')
      expect(r.status).toBe(0)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 120_000)
  it('every shell block is valid shell', () => {
    expect(sh.length).toBeGreaterThanOrEqual(2)
    for (const code of sh) execFileSync('bash', ['-n'], { input: code })
  })
  // `npx ztscan CMD ARGS…`, up to a shell operator or comment; the arguments as the shell would split them (quotes kept simple).
  const commands = sh
    .flatMap((code) => code.split('\n'))
    .flatMap((line) => [...line.matchAll(/npx (?:--yes )?ztscan ([^#&|;]*)/g)].map((m) => m[1]!.trim()))
    .filter((c) => c.length > 0)
  it.each(commands)('ztscan %s: the command and its flags exist', (cmd) => {
    const args = [...cmd.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!)
    // Appending --help makes every command print its help after parsing all flags: an unknown flag is exit 2.
    const r = runCli([...args, '--help'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
  })
})
