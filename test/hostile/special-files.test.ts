/**
 * @fileoverview Special files where a file is expected, through the built CLI as a process: devices (`/dev/zero`,
 * `/dev/urandom`), FIFOs with no writer, directories. Each is an `input` error naming the file, the scan ends promptly with
 * a bounded peak RSS (measured in the child by a preloaded exit hook), and no libuv thread is left blocked. Also: a host
 * with more than ten open ports prints no Node warning on stderr.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { assertValidReport } from '../helpers/schemas.ts'
import type { ScanReport } from '../../src/types.ts'
import { ensureBuilt, root, runCli, type CliRun } from './cli.ts'

const fixtures = join(root, 'fixtures')
const dir = mkdtempSync(join(tmpdir(), 'ztscan-special-'))
/** Generous: a healthy run of these scans takes about a second and 80-100 MB. */
const WALL_MS = 30_000
const RSS_MB = 400
const ztscan = (args: string[]): Promise<CliRun> => runCli(args, { cwd: dir, killAfterMs: WALL_MS })

function fifo(name: string): string {
  const p = join(dir, name)
  execFileSync('mkfifo', [p])
  return p
}

beforeAll(ensureBuilt, 120_000)
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('special files are input errors, promptly and with bounded memory', () => {
  const healthy = `idp:okta:${fixtures}/mfa/okta/users-factors.json`
  const cases: { name: string; targets: () => string[]; expect: RegExp }[] = [
    { name: 'cert:/dev/zero', targets: () => ['cert:/dev/zero'], expect: /^\/dev\/zero: not a regular file \(a character device\)$/ },
    { name: 'cert:/dev/urandom', targets: () => ['cert:/dev/urandom'], expect: /^\/dev\/urandom: not a regular file \(a character device\)$/ },
    { name: 'idp:okta:/dev/zero', targets: () => ['idp:okta:/dev/zero'], expect: /^\/dev\/zero: not a regular file \(a character device\)$/ },
    { name: 'inventory of /dev/zero', targets: () => ['inventory:crowdstrike:/dev/zero'], expect: /^\/dev\/zero: not a regular file/ },
    { name: 'a FIFO as cert:', targets: () => [`cert:${fifo('cert.fifo')}`], expect: /cert\.fifo: not a regular file \(a FIFO\)$/ },
    { name: 'a FIFO as nmap:', targets: () => [`nmap:${fifo('scan.fifo')}`], expect: /scan\.fifo: not a regular file \(a FIFO\)$/ },
    { name: 'a directory as cert:', targets: () => [`cert:${dir}`], expect: /: not a regular file \(a directory\)$/ },
    {
      // More FIFOs than libuv has threads (4): a blocking open would starve every other file read of the scan.
      name: 'six FIFOs at once, beside a healthy export',
      targets: () => [...['a', 'b', 'c', 'd', 'e', 'f'].map((x) => `cert:${fifo(`${x}.fifo`)}`), `idp:okta:${fifo('idp.fifo')}`],
      expect: /\.fifo: not a regular file \(a FIFO\)$/,
    },
  ]
  it.each(cases)('$name', async ({ targets, expect: message }) => {
    const t = targets()
    const r = await ztscan(['scan', '-q', '--format', 'json', '--fail-on', 'none', '--timeout', '20s', ...t, healthy])
    expect(r.code, `exited by itself within ${WALL_MS} ms (stderr: ${r.stderr.slice(0, 300)})`).not.toBeNull()
    expect(r.rssMb, 'peak RSS (MB)').toBeLessThan(RSS_MB)
    expect(r.stderr).not.toMatch(/Warning|\n\s+at /)
    if (r.code === 2) {
      // Checked before the first probe: a usage/input error naming each file.
      for (const target of t) expect(r.stderr).toContain(target.slice(target.lastIndexOf(':') + 1))
      expect(r.stderr).toMatch(/not a regular file/)
      return
    }
    expect(r.code, 'not an internal error').not.toBe(3)
    const report = JSON.parse(r.stdout) as ScanReport
    assertValidReport(report)
    expect(report.errors).toHaveLength(t.length)
    for (const e of report.errors) {
      expect(e.reason).toBe('input')
      expect(e.message).toMatch(message)
    }
    // The healthy target beside it still got its verdicts.
    expect(report.findings.some((f) => f.target.startsWith('idp:okta:') && f.target.endsWith('users-factors.json'))).toBe(true)
  })

  it('configuration inputs: a FIFO or a device as the targets file or the policy is a usage error (exit 2)', async () => {
    const f = fifo('targets.fifo')
    const a = await ztscan(['scan', '-q', '-t', f])
    expect(a.code).toBe(2)
    expect(a.stderr).toContain(`${f}: /: expected a regular file (got a FIFO)`)
    const b = await ztscan(['scan', '-q', '--policy', '/dev/zero', healthy])
    expect(b.code).toBe(2)
    expect(b.stderr).toContain('/dev/zero: /: expected a regular file (got a character device)')
    for (const r of [a, b]) expect(r.rssMb).toBeLessThan(RSS_MB)
  })

  it('a file over the limit is cut off by bytes read, whatever its size claims', async () => {
    // A certificate file is read up to 10 MiB: one byte more is refused without reading the rest.
    const big = join(dir, 'big.pem')
    writeFileSync(big, Buffer.alloc(10 * 1024 * 1024 + 1, 0x41))
    const r = await ztscan(['scan', '-q', '--format', 'json', '--fail-on', 'none', `cert:${big}`])
    if (r.code === 2) return void expect(r.stderr).toContain(`${big}: more than the 10485760-byte limit`)
    const report = JSON.parse(r.stdout) as ScanReport
    expect(report.errors).toEqual([expect.objectContaining({ reason: 'input', message: `${big}: more than the 10485760-byte limit` })])
  })
})

describe('Node warnings never reach stderr', () => {
  const servers: Server[] = []
  const conns = new Set<Socket>()
  afterAll(async () => {
    for (const c of conns) c.destroy()
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))))
  })
  it('a host with more than ten open ports (one sniff per port in flight on the attempt signal)', async () => {
    const ports: number[] = []
    for (let i = 0; i < 16; i++) {
      const s = createServer((c) => {
        conns.add(c.on('close', () => conns.delete(c)).on('error', () => undefined))
        c.end()
      })
      servers.push(s)
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
      ports.push((s.address() as { port: number }).port)
    }
    const r = await ztscan(['scan', '--format', 'json', '--fail-on', 'none', '--include-passed', `host://127.0.0.1?ports=${ports.join(',')}`])
    expect(r.code).toBe(0)
    const report = JSON.parse(r.stdout) as ScanReport
    expect(report.errors).toEqual([])
    expect(report.findings.some((f) => f.ruleId === 'open-port-not-allowed' || f.family === 'open-port')).toBe(true)
    expect(r.stderr).not.toMatch(/Warning/)
  })
})
