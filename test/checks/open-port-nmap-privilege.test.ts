import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { findNmap, nmapArguments, rawScanAllowed } from '../../checks/open-port/nmap-scan.ts'
import { bin, cleanEnv, ensureBuilt, root, runCli } from '../helpers/cli.ts'

/**
 * How "privileged" is decided for the nmap back-end's `-sS`: effective uid 0 and, on Linux, CAP_NET_RAW in CapEff. Root
 * without CAP_NET_RAW (a container started with `--cap-drop NET_RAW`) cannot open a raw socket, so `-sS` would fail the
 * scan; it must get `-sT` and find the same ports.
 */
const FULL = 'Name:\tnode\nCapInh:\t0000000000000000\nCapPrm:\t000001ffffffffff\nCapEff:\t000001ffffffffff\nCapBnd:\t000001ffffffffff\n'
// Docker's default set (no CAP_NET_ADMIN, CAP_NET_RAW kept) and the same without CAP_NET_RAW (bit 13).
const DOCKER = 'CapPrm:\t00000000a80425fb\nCapEff:\t00000000a80425fb\n'
const NO_RAW = 'CapPrm:\t00000000a80405fb\nCapEff:\t00000000a80405fb\n'

describe('nmap back-end: -sS only when nmap may open a raw socket', () => {
  it('decides from the effective uid and, on Linux, CAP_NET_RAW in CapEff', () => {
    expect(rawScanAllowed(0, 'linux', FULL)).toBe(true)
    expect(rawScanAllowed(0, 'linux', DOCKER)).toBe(true)
    expect(rawScanAllowed(0, 'linux', NO_RAW)).toBe(false)
    // Not root: a connect scan, whatever the capabilities say (nmap itself would not use them without --privileged).
    expect(rawScanAllowed(1000, 'linux', FULL)).toBe(false)
    expect(rawScanAllowed(undefined, 'win32', undefined)).toBe(false)
    // Linux status unreadable or without CapEff: -sT, which works everywhere.
    expect(rawScanAllowed(0, 'linux', undefined)).toBe(false)
    expect(rawScanAllowed(0, 'linux', 'Name:\tnode\n')).toBe(false)
    // Other systems have no /proc status: root is enough.
    expect(rawScanAllowed(0, 'darwin', undefined)).toBe(true)
    expect(nmapArguments('127.0.0.1', [22], true, 1000)).toContain('-sS')
    expect(nmapArguments('127.0.0.1', [22], true, 1000)).not.toContain('-sT')
    expect(nmapArguments('127.0.0.1', [22], false, 1000)).toContain('-sT')
  })

  // setpriv (util-linux) drops CAP_NET_RAW from the bounding set, so the CLI it starts runs as root without it.
  const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p))
  const asRoot = process.geteuid?.() === 0
  const why = !findNmap() ? 'nmap is not on the PATH' : !asRoot ? 'not running as root' : !setpriv ? 'setpriv (util-linux) is missing' : ''
  if (why) console.log(`open-port nmap privilege: the root/CAP_NET_RAW CLI test skipped (${why})`)

  describe.skipIf(Boolean(why))('through the CLI, as root with and without CAP_NET_RAW (loopback listener)', () => {
    let server: Server
    let port = 0
    const dir = mkdtempSync(join(tmpdir(), 'ztscan-nmap-priv-'))
    const policy = join(dir, 'policy.yaml')
    beforeAll(async () => {
      ensureBuilt()
      // Every open port fails the allow-list, so the report names each one.
      writeFileSync(policy, "rules:\n  open-port-not-allowed: { parameters: { allowed: { '*': [1] } } }\n")
      server = createServer((c) => c.destroy())
      port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)))
    })
    afterAll(() => {
      server.close()
      rmSync(dir, { recursive: true, force: true })
    })
    const scanArgs = (): string[] => ['scan', `host://127.0.0.1?ports=${port}`, '--port-scanner', 'nmap', '--no-chain', '--policy', policy, '--debug', '-f', 'json', '--fail-on', 'none', '--progress', 'none']
    const openPorts = (stdout: string): string[] =>
      (JSON.parse(stdout) as { findings: { ruleId: string; resource: string }[] }).findings.filter((f) => f.ruleId === 'open-port-not-allowed').map((f) => f.resource)

    it('root with CAP_NET_RAW: nmap -sS', () => {
      const r = runCli(scanArgs(), { timeout: 90_000 })
      expect(r.stderr).toMatch(/port scanner: \S*nmap -sS /)
      expect(r.code).toBe(0)
      expect(openPorts(r.stdout)).toEqual([`127.0.0.1 tcp/${port}`])
    }, 120_000)

    it('root without CAP_NET_RAW: nmap -sT, the same port, no error', () => {
      const p = spawnSync(setpriv!, ['--bounding-set', '-net_raw', '--', process.execPath, bin, ...scanArgs()], { cwd: root, encoding: 'utf8', timeout: 90_000, env: cleanEnv() })
      const r = { code: p.status, stdout: p.stdout, stderr: p.stderr }
      expect(r.stderr).toMatch(/port scanner: \S*nmap -sT /)
      expect(r.stderr).not.toMatch(/raw socket/)
      expect(r.code).toBe(0)
      expect(openPorts(r.stdout)).toEqual([`127.0.0.1 tcp/${port}`])
    }, 120_000)
  })
})
