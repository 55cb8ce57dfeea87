import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { realIo, scan, type ScanIo } from '../src/index.ts'
import { startChainLab, type ChainLab } from './helpers/chain-lab.ts'
import { spawn } from 'node:child_process'
import { bin, cleanEnv, ensureBuilt } from './helpers/cli.ts'

/** The built CLI, run asynchronously: the loopback servers of this process must keep answering while it scans. */
function runCli(args: string[], o: { cwd: string; env?: Record<string, string> }): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: o.cwd, env: cleanEnv(o.env), stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    child.once('error', reject)
    child.once('close', (code) => resolve({ code, stdout, stderr }))
  })
}

/**
 * Issue 14 item 4 as a user meets it: chaining is explicit. Counted twice — by the scan's own I/O (every connection a check
 * makes goes through `ctx.net` / `ctx.ssh`, i.e. the scan's `io`; a counting `io` sees each) and by the loopback servers
 * the nmap file points at — through the library and through the CLI's `--chain` / `--no-chain`.
 */
type Counted = { io: ScanIo; calls: () => number }
function countingIo(): Counted {
  let n = 0
  const count =
    <A extends unknown[], R>(f: (...a: A) => R) =>
    (...a: A): R => {
      n++
      return f(...a)
    }
  const io: ScanIo = {
    ...realIo,
    tcpConnect: count(realIo.tcpConnect),
    tlsHandshake: count(realIo.tlsHandshake),
    httpGet: count(realIo.httpGet),
    exec: count(realIo.exec),
    ssh: { probe: count(realIo.ssh.probe), session: count(realIo.ssh.session) },
  }
  return { io, calls: () => n }
}

describe('chaining is explicit (library I/O counter and CLI flags)', () => {
  let lab: ChainLab
  const dir = mkdtempSync(join(tmpdir(), 'ztscan-chain-cli-'))
  const file = join(dir, 'scan.xml')
  const accepted = (): number => lab.accepted.tls + lab.accepted.ssh

  beforeAll(async () => {
    ensureBuilt()
    lab = await startChainLab(file)
  })
  afterAll(async () => {
    await lab.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('library: an offline nmap file makes no connection through the scan I/O unless chain: true', async () => {
    const off = countingIo()
    const report = await scan({ targets: [`nmap:${file}`], io: off.io, timeoutMs: 10_000 })
    expect(off.calls()).toBe(0)
    expect(report.chaining?.withheld).toEqual([{ from: `nmap:${file}`, targets: 2 }])

    // The same counter does see a chained scan's connections (so a zero above means something).
    const on = countingIo()
    await scan({ targets: [`nmap:${file}`], chain: true, io: on.io, timeoutMs: 10_000, settings: { ssh: { acceptUnknownHostKeys: true } } })
    expect(on.calls()).toBeGreaterThan(0)
  })

  it('CLI: --nmap alone connects nowhere and says so; --chain probes and names the source', async () => {
    lab.reset()
    const r = await runCli(['scan', '--nmap', 'scan.xml', '-o', join(dir, 'off.json'), '--fail-on', 'none', '--progress', 'none'], { cwd: dir })
    expect(r.code).toBe(0)
    expect(accepted()).toBe(0)
    expect(r.stderr).toContain(`ztscan: 2 TLS/SSH target(s) found in nmap:scan.xml not probed (offline input; --chain probes them)`)
    const off = JSON.parse(readFileSync(join(dir, 'off.json'), 'utf8')) as { targets: { id: string }[]; chaining: unknown }
    expect(off.targets.map((t) => t.id)).toEqual([`nmap:scan.xml`])
    expect(off.chaining).toEqual({ mode: 'live', chained: 0, withheld: [{ from: `nmap:scan.xml`, targets: 2 }] })

    const on = await runCli(['scan', '--nmap', 'scan.xml', '--chain', '--insecure-accept-unknown-host-keys', '-o', join(dir, 'on.json'), '--fail-on', 'none', '--max-errors', '100%', '--progress', 'none'], { cwd: dir })
    expect(on.code).toBe(0)
    expect(accepted()).toBeGreaterThan(0)
    expect(on.stderr).not.toContain('not probed')
    const report = JSON.parse(readFileSync(join(dir, 'on.json'), 'utf8')) as { targets: { id: string; chainedFrom?: string }[]; chaining: unknown }
    expect(report.targets.filter((t) => t.chainedFrom).map((t) => [t.id, t.chainedFrom])).toEqual([
      [`ssh://127.0.0.77:${lab.sshPort}`, `nmap:scan.xml`],
      [`tls://127.0.0.77:${lab.tlsPort}`, `nmap:scan.xml`],
    ])
    expect(report.chaining).toEqual({ mode: 'all', chained: 2, withheld: [] })
  }, 60_000)

  it('CLI: host:// chains by default; --no-chain chains nothing and says so', async () => {
    const host = `host://127.0.0.77?ports=${lab.tlsPort},${lab.sshPort}`
    const live = await runCli(['scan', host, '--port-scanner', 'builtin', '--insecure-accept-unknown-host-keys', '-o', join(dir, 'live.json'), '--fail-on', 'none', '--max-errors', '100%', '--progress', 'none'], { cwd: dir })
    expect(live.code).toBe(0)
    const l = JSON.parse(readFileSync(join(dir, 'live.json'), 'utf8')) as { targets: { id: string; chainedFrom?: string }[] }
    expect(l.targets.filter((t) => t.chainedFrom).map((t) => t.id)).toEqual([`ssh://127.0.0.77:${lab.sshPort}`, `tls://127.0.0.77:${lab.tlsPort}`])

    const r = await runCli(['scan', host, '--port-scanner', 'builtin', '--no-chain', '-o', join(dir, 'nochain.json'), '--fail-on', 'none', '--progress', 'none'], { cwd: dir })
    expect(r.code).toBe(0)
    expect(r.stderr).toContain('ztscan: 2 TLS/SSH target(s) found in host://127.0.0.77 not probed (--no-chain)')
    const report = JSON.parse(readFileSync(join(dir, 'nochain.json'), 'utf8')) as { targets: { id: string }[]; chaining: unknown }
    expect(report.targets.map((t) => t.id)).toEqual(['host://127.0.0.77'])
    expect(report.chaining).toEqual({ mode: 'off', chained: 0, withheld: [{ from: 'host://127.0.0.77', targets: 2 }] })
  }, 60_000)

  it('CLI: --port-scanner nmap without nmap on the PATH is exit 2 naming the flag, before any probe', async () => {
    lab.reset()
    const r = await runCli(['scan', `host://127.0.0.77?ports=${lab.tlsPort}`, '--port-scanner', 'nmap', '--progress', 'none'], { cwd: dir, env: { PATH: dir } })
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('--port-scanner: nmap is not on the PATH')
    expect(accepted()).toBe(0)
  })
})
