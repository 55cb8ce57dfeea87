import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { scan } from '../../src/index.ts'
import { startChainLab, type ChainLab } from '../helpers/chain-lab.ts'
import { assertValidReport } from '../helpers/schemas.ts'

/**
 * Chaining is explicit: an nmap file whose loopback addresses really have a TLS server and an SSH-looking server listening
 * causes no connection unless `chain: true`; `chain: false` keeps a live host:// scan from chaining. The servers count
 * every TCP connection they accept, which is what "no network traffic" means.
 */
describe('chaining: offline input never causes network traffic unless asked', () => {
  let lab: ChainLab
  const dir = mkdtempSync(join(tmpdir(), 'ztscan-chain-'))
  const file = join(dir, 'scan.xml')

  beforeAll(async () => {
    lab = await startChainLab(file)
  })
  afterAll(async () => {
    await lab.close()
    rmSync(dir, { recursive: true, force: true })
  })
  const reset = (): void => {
    lab.reset()
  }

  it('an nmap file alone opens no socket; the report says what was withheld and from where', async () => {
    reset()
    const report = await scan({ targets: [`nmap:${file}`], timeoutMs: 10_000, includePassed: true })
    assertValidReport(report)
    expect(lab.accepted.tls + lab.accepted.ssh).toBe(0)
    expect(report.targets.map((t) => t.id)).toEqual([`nmap:${file}`])
    expect(report.chaining).toEqual({ mode: 'live', chained: 0, withheld: [{ from: `nmap:${file}`, targets: 2 }] })
    // The file's own findings are all there.
    expect(report.findings.filter((f) => f.family === 'open-port').length).toBeGreaterThan(0)
  })

  it('chain: true probes them, and each chained target names the file it came from', async () => {
    reset()
    const report = await scan({ targets: [`nmap:${file}`], chain: true, timeoutMs: 10_000, settings: { ssh: { acceptUnknownHostKeys: true } } })
    assertValidReport(report)
    expect(lab.accepted.tls).toBeGreaterThan(0)
    expect(lab.accepted.ssh).toBeGreaterThan(0)
    const chained = report.targets.filter((t) => t.chainedFrom).map((t) => [t.id, t.chainedFrom])
    expect(chained).toEqual([
      [`ssh://127.0.0.77:${lab.sshPort}`, `nmap:${file}`],
      [`tls://127.0.0.77:${lab.tlsPort}`, `nmap:${file}`],
    ])
    expect(report.chaining).toMatchObject({ mode: 'all', chained: 2, withheld: [] })
    expect(report.findings.some((f) => f.family === 'certificate' && f.target === `tls://127.0.0.77:${lab.tlsPort}`)).toBe(true)
  })

  it('a live host:// scan chains by default; chain: false chains nothing', async () => {
    const host = `host://127.0.0.77?ports=${lab.tlsPort}`
    const live = await scan({ targets: [host], timeoutMs: 10_000 })
    expect(live.targets.find((t) => t.id === `tls://127.0.0.77:${lab.tlsPort}`)?.chainedFrom).toBe('host://127.0.0.77')
    expect(live.chaining).toMatchObject({ mode: 'live', chained: 1 })

    const off = await scan({ targets: [host], chain: false, timeoutMs: 10_000 })
    assertValidReport(off)
    expect(off.targets.map((t) => t.id)).toEqual(['host://127.0.0.77'])
    expect(off.findings.filter((f) => f.family !== 'open-port')).toEqual([])
    expect(off.chaining).toEqual({ mode: 'off', chained: 0, withheld: [{ from: 'host://127.0.0.77', targets: 1 }] })
  })
})
