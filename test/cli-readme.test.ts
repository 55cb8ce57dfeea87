/**
 * The README cannot drift from the code: every TypeScript block compiles against the built package (imported as
 * `ztscan`, the package's own name), every shell block parses (`bash -n`), every `ztscan` command in one parses its
 * flags, and every `npx ztscan …` line runs as written (bash, the built CLI) in a folder holding the files it names,
 * copied from the lab the demo code starts — loopback and temp files only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { bin, cleanEnv, ensureBuilt, root, runCli } from './helpers/cli.ts'
import { labLeaf, startTlsServer, type LabServer } from './helpers/tls.ts'
import type { DemoLab } from '../src/index.ts'

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

describe('README shell lines run as written against the demo lab', () => {
  const lines = sh.flatMap((code) => code.split('\n')).map((l) => l.trim()).filter((l) => /^npx (--yes )?ztscan /.test(l))
  let dir = ''
  let lab: DemoLab | undefined
  const servers: LabServer[] = []
  const notes: string[] = []

  beforeAll(async () => {
    ensureBuilt()
    // The lab the demo code starts (the built package, as `ztscan demo` runs it): TLS/SMTP/OIDC servers on loopback, files.
    const lib = (await import(pathToFileURL(join(root, 'dist/src/index.js')).href)) as typeof import('../src/index.ts')
    lab = await lib.startDemoLab(lib.builtinFamilies)
    dir = mkdtempSync(join(tmpdir(), 'ztscan-readme-'))
    const file = (prefix: string): string => {
      const id = lab!.targets.map((x) => (typeof x === 'string' ? x : x.id)).find((x) => x.startsWith(prefix))
      if (!id) throw new Error(`the demo lab has no ${prefix} target`)
      return id.slice(prefix.length)
    }
    // The files the README's lines name, from the lab.
    mkdirSync(join(dir, 'certs'))
    copyFileSync(file('cert:'), join(dir, 'certs/api.pem'))
    copyFileSync(file('nmap:'), join(dir, 'scan.xml'))
    copyFileSync(file('idp:okta:'), join(dir, 'okta-users.json'))
    copyFileSync(file('inventory:crowdstrike:'), join(dir, 'hosts.json'))
    writeFileSync(join(dir, 'targets.yaml'), JSON.stringify({ targets: lab.targets, settings: lab.settings }, null, 2))
    writeFileSync(join(dir, 'ztscan.policy.yaml'), 'rules:\n  certificate-expired:\n    severity: critical\n')
    // Three earlier runs for `ztscan trend monday.json …`.
    const r = runCli(['scan', `idp:okta:${join(dir, 'okta-users.json')}`, '-q', '--fail-on', 'none', '-o', join(dir, 'monday.json')])
    expect(r.code, r.stderr).toBe(0)
    for (const day of ['tuesday', 'wednesday']) copyFileSync(join(dir, 'monday.json'), join(dir, `${day}.json`))
    // tls://127.0.0.1:8443 and tls://[::1]:8443 as written: a lab TLS server on each when the port is free.
    for (const host of ['127.0.0.1', '::1'] as const)
      await startTlsServer({ chain: [labLeaf()], host, port: 8443 }).then(
        (s) => servers.push(s),
        (err: NodeJS.ErrnoException) => notes.push(`${host}:8443 not served here (${err.code ?? err.message}); the line still runs`),
      )
  }, 120_000)

  afterAll(async () => {
    for (const s of servers) await s.close()
    await lab?.stop()
    if (dir) rmSync(dir, { recursive: true, force: true })
    if (notes.length) console.log(notes.join('\n'))
  })

  it('the README has lines to run', () => expect(lines.length).toBeGreaterThanOrEqual(10))

  // In README order (a later line reads what an earlier one wrote: ztscan-history/).
  it.each(lines)('%s', async (line) => {
    const shim = 'npx() { [ "$1" = --yes ] && shift; [ "$1" = ztscan ] || return 127; shift; node "$ZTSCAN_BIN" "$@"; }'
    // Not spawnSync: the lab's servers live in this process and must keep answering.
    const r = await new Promise<{ status: number | null; stderr: string }>((resolve, reject) => {
      const p = spawn('bash', ['-c', `${shim}\n${line}`], { cwd: dir, env: cleanEnv({ ZTSCAN_BIN: bin }), stdio: ['ignore', 'ignore', 'pipe'], timeout: 170_000 })
      let stderr = ''
      p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
      p.on('error', reject)
      p.on('close', (status) => resolve({ status, stderr }))
    })
    // It ran: a verdict (0, 1 findings, 4 incomplete and saying so), never a usage (2) or internal (3) error.
    expect([0, 1, 4], `exit ${r.status}\n${r.stderr}`).toContain(r.status)
    if (r.status === 4) expect(r.stderr).toContain('scan incomplete')
    expect(r.stderr).not.toMatch(/internal error|Unknown option|unknown command|Warning:/)
    // Every report it names was written.
    for (const m of line.matchAll(/(?:^|\s)-o\s+(\S+)/g)) expect(existsSync(join(dir, m[1]!)), `${m[1]} written`).toBe(true)
  }, 180_000)
})
