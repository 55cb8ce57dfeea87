/**
 * Start-up of a scan (issue 14: the nmap back-end ≤ 1.1× nmap): what `ztscan scan host://…` loads before it starts nmap.
 * Every scan loads the families' light declarations (checks/<family>/family.ts); a check's code loads when it runs. Counted
 * in modules (a module trace and a PATH stub of nmap that writes a mark into the trace when it is started), not in time.
 */
import { spawn, spawnSync } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bin, cleanEnv, ensureBuilt, root } from './helpers/cli.ts'
import { findNmap } from '../checks/open-port/nmap-scan.ts'
import { labLeaf } from './helpers/tls.ts'
import { builtinFamilies, builtinChecks, parsePolicy, preflight, PolicyError } from '../src/index.ts'

const nmap = findNmap()
const NMAP_STARTED = 'NMAP STARTED'

/** The modules (`dist/…` paths and `require:` packages) a built-CLI `scan` loaded before it started nmap, and its exit code. */
function loadedBeforeNmap(dir: string, args: string[]): { code: number | null; before: string[]; all: string[] } {
  const trace = join(dir, `modules-${Math.random().toString(36).slice(2)}.txt`)
  const stubDir = join(dir, 'bin')
  const r = spawnSync(process.execPath, ['--import', join(root, 'test/helpers/trace-modules.mjs'), bin, 'scan', ...args], {
    encoding: 'utf8',
    env: cleanEnv({ ZTSCAN_TRACE_MODULES: trace, PATH: `${stubDir}${delimiter}${process.env.PATH ?? ''}` }),
    timeout: 120_000,
  })
  const lines = readFileSync(trace, 'utf8').split('\n').filter(Boolean)
  const mark = lines.indexOf(NMAP_STARTED)
  // Each import is a line (`MODULE <- IMPORTER`): the distinct modules, in the order first seen.
  const shown = (ls: string[]): string[] => [...new Set(ls.map((l) => l.split(' <- ')[0]!.replace(`file://${root}`, '').replace(/^\//, '')))]
  return { code: r.status, before: shown(mark < 0 ? [] : lines.slice(0, mark)), all: shown(lines.filter((l) => l !== NMAP_STARTED)) }
}

describe('start-up of a host:// scan', () => {
  let dir = ''
  beforeAll(() => {
    ensureBuilt()
    dir = mkdtempSync(join(tmpdir(), 'ztscan-startup-'))
    if (!nmap) return
    // A stub named nmap, first on the PATH: marks the trace when ztscan starts it, then runs the real nmap (no shell
    // between ztscan and it: the arguments pass through as given).
    const stub = join(dir, 'bin', 'nmap')
    mkdirSync(join(dir, 'bin'))
    writeFileSync(stub, `#!/bin/sh\necho '${NMAP_STARTED}' >> "$ZTSCAN_TRACE_MODULES"\nexec '${nmap}' "$@"\n`)
    chmodSync(stub, 0o755)
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it.skipIf(!nmap)('loads only the open-port code and no heavy dependency before nmap starts (nmap on the PATH; skipped without it)', () => {
    const r = loadedBeforeNmap(dir, ['host://127.0.0.1?ports=1-64', '--port-scanner', 'nmap', '-q', '-f', 'json', '-o', join(dir, 'r.json'), '--fail-on', 'none'])
    expect(r.code).toBe(0)
    // The trace saw the CLI and the families' declarations: an empty list below means something.
    expect(r.before).toContain('dist/src/cli/main.js')
    expect(r.before).toContain('dist/checks/open-port/family.js')
    expect(r.before).toContain('dist/checks/open-port/nmap-scan.js')
    // Other families: their declarations only (target forms, rule ids, settings schemas), none of their checks' code.
    const light = /^dist\/checks\/(index|preflight|[\w-]+\/(family|tls-family|ssh-family|targets|rules)|mfa\/live\/settings)\.js$/
    expect(r.before.filter((m) => /^dist\/checks\//.test(m) && !/^dist\/checks\/open-port\//.test(m) && !light.test(m))).toEqual([])
    expect(r.before.filter((m) => /(^require:|\/node_modules\/)(ssh2|node-forge|jose|yaml|re2js|ajv)(\/|$)/.test(m.replace(/^require:([^/]+).*/, 'require:$1')) && !/ajv\/dist\/runtime\//.test(m))).toEqual([])
    // The report writers load while nmap runs (the CLI asks for them at the nmap back-end's first step), HTTP when a check uses it.
    const late = /^(dist\/src\/report\/(formats|html|junit|trend|merge|text|json)\.js|node:https?|require:node:https?)$/
    expect(r.before.filter((m) => late.test(m))).toEqual([])
    expect(r.all).toEqual(expect.arrayContaining(['dist/src/report/formats.js', 'dist/src/report/html.js']))
    // A countable bound on ztscan's own modules (JSON data and validators included): 151 before the families were split,
    // 81 after (and the report writers loaded later).
    expect(r.before.filter((m) => m.startsWith('dist/')).length).toBeLessThan(95)
  })

  it("the connect scan's steps do not load the report writers: they load once the scan is over (after its open port's sniff)", async () => {
    // A listener in a child process (this one blocks in spawnSync): one open port, which the check sniffs after the scan.
    const server = spawn(process.execPath, ['-e', "const s = require('node:net').createServer(() => {}).listen(0, '127.0.0.1', () => console.log(s.address().port))"], { stdio: ['ignore', 'pipe', 'inherit'] })
    try {
      const port = await new Promise<number>((resolve, reject) => {
        server.stdout.once('data', (d: Buffer) => resolve(Number(d.toString())))
        server.once('exit', () => reject(new Error('listener exited')))
      })
      const r = loadedBeforeNmap(dir, [`host://127.0.0.1?ports=${port}`, '--port-scanner', 'builtin', '-q', '-f', 'json', '-o', join(dir, 'b.json'), '--fail-on', 'none'])
      expect(r.code).toBe(0)
      expect(JSON.parse(readFileSync(join(dir, 'b.json'), 'utf8')).passCounts.length).toBeGreaterThan(0)
      // The sniff's TLS handshake loads node:tls after the connect scan; the writers come after it, not at the scan's start.
      const tlsAt = r.all.indexOf('require:node:tls')
      expect(tlsAt).toBeGreaterThan(0)
      expect(r.all.indexOf('dist/src/report/formats.js')).toBeGreaterThan(tlsAt)
    } finally {
      server.kill()
    }
  })

  it("a certificate file's scan loads the certificate check's code, not the other families' (the split works both ways)", () => {
    const pem = join(dir, 'leaf.pem')
    writeFileSync(pem, labLeaf().pem)
    const r = loadedBeforeNmap(dir, [`cert:${pem}`, '-q', '-f', 'json', '-o', join(dir, 'c.json'), '--fail-on', 'none'])
    expect([0, 1]).toContain(r.code)
    expect(r.all).toContain('dist/checks/certificate/index.js')
    expect(r.all.filter((m) => /^dist\/checks\/(open-port|endpoint-agent|mfa)\/(index|idp|oidc|ssh|ssh-algorithms|coverage|nmap-xml)\.js$/.test(m))).toEqual([])
    // Nor the open-port family's catalogue (validated with ajv when it loads) or its evaluation: its declaration only.
    expect(r.all.filter((m) => /^dist\/checks\/open-port\//.test(m) && !/\/(family|targets|rules|ports)\.js$|\/top-ports\.json$/.test(m))).toEqual([])
  })
})

describe('fail closed with lazily loaded families', () => {
  it('the rules\' default agent requirements name agents of the built-in catalogue (the preflight reads it for them only with endpoint-agent targets)', async () => {
    await expect(preflight({ targets: ['local://'], families: builtinFamilies, checks: builtinChecks })).resolves.toBeUndefined()
  })

  it('a policy naming an unknown agent is refused before the first probe on a scan with no endpoint-agent target too', async () => {
    const policy = parsePolicy({ rules: { 'endpoint-agent-missing': { parameters: { required: ['no-such-agent'] } } } }, 'policy.yaml')
    const err = await preflight({ targets: ['host://127.0.0.1?ports=22'], policy }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PolicyError)
    expect((err as Error).message).toContain('/rules/endpoint-agent-missing/parameters/required/0: expected a catalogue agent id or category:NAME')
  })

  it('a policy minimum version for an unknown agent is refused before the first probe on a scan with no endpoint-agent target too', async () => {
    const policy = parsePolicy({ rules: { 'endpoint-agent-outdated': { parameters: { minVersions: { 'crowdstrike-falcon': '7.0', 'no-such-agent/linux': '1.0' } } } } }, 'policy.yaml')
    const err = await preflight({ targets: ['host://127.0.0.1?ports=22'], policy }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PolicyError)
    expect((err as Error).message).toContain('/rules/endpoint-agent-outdated/parameters/minVersions/no-such-agent/linux: expected a key naming a catalogue agent id')
    expect((err as Error).message).not.toContain('minVersions/crowdstrike-falcon')
  })
})
