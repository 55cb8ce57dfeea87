/**
 * Progress phases (issue 15.5): a check's long step (`ctx.progress`) reaches the scan's events throttled, and the CLI's
 * progress line shows it — ports probed of total — before checks done, errors, elapsed and ETA.
 */
import { describe, expect, it } from 'vitest'
import { createServer } from 'node:net'
import { once } from 'node:events'
import { defineCheck, scan, type RuleMeta, type ScanEvent, type Target } from '../src/index.ts'
import { progressLine, startProgress } from '../src/cli/progress.ts'
import { findNmap } from '../checks/open-port/nmap-scan.ts'
import { NMAP_STEP_LABEL } from '../checks/open-port/family.ts'

const rule: RuleMeta = {
  id: 'testing-a',
  family: 'testing',
  title: 'Test rule',
  pillar: 'networks',
  severity: 'high',
  message: '{{target}}',
  description: 'A rule used by the progress tests.',
  remediation: 'None needed.',
  helpUri: 'https://example.invalid/rules/testing-a',
}
const target: Target = { kind: 'thing', id: 'thing://h/1', host: 'h' }

describe('ctx.progress → step events', () => {
  it('a step reported 20,000 times reaches the events at most 10 times a second, always with its last value', async () => {
    const check = defineCheck({
      id: 'testing-steps',
      family: 'testing',
      targetKinds: ['thing'],
      rules: ['testing-a'],
      async run(_t, ctx) {
        for (let i = 0; i <= 20_000; i++) {
          ctx.progress(i, 20_000, 'units done')
          if (i % 1000 === 0) await new Promise((r) => setTimeout(r, 5))
        }
        ctx.report('testing-a', 'pass', { resource: 'x' })
      },
    })
    const t0 = Date.now()
    const steps: Extract<ScanEvent, { type: 'step' }>[] = []
    await scan({ targets: [target], checks: [check], rules: [rule], onEvent: (e) => (e.type === 'step' ? steps.push(e) : undefined) })
    const seconds = (Date.now() - t0) / 1000
    expect(steps.length).toBeGreaterThanOrEqual(2) // the first and the last
    expect(steps.length).toBeLessThanOrEqual(Math.ceil(seconds * 10) + 2)
    expect(steps.at(-1)).toEqual({ type: 'step', check: 'testing-steps', target: 'thing://h/1', label: 'units done', done: 20_000, total: 20_000 })
    for (let i = 1; i < steps.length; i++) expect(steps[i]!.done).toBeGreaterThan(steps[i - 1]!.done)
  })
})

describe('the progress line', () => {
  it('shows a step in flight first, with an ETA from its rate', () => {
    const line = progressLine({ done: 0, total: 2, errors: 1, targets: 1, elapsedMs: 2000, steps: [{ label: 'ports probed', done: 16_384, total: 65_536, elapsedMs: 2000 }] })
    expect(line).toBe('16,384/65,536 ports probed; checks 0/2 done, 1 target, 1 error, 2s elapsed, ETA 6s')
  })
  it('plain mode: lines advance with step events, the step leaves the line when done; no escape codes', async () => {
    let t = 0
    const out: string[] = []
    const p = startProgress('plain', { write: (s: string) => out.push(s) }, { intervalMs: 20, now: () => t })
    const step = (done: number): ScanEvent => ({ type: 'step', check: 'open-port-connect', target: 'host://127.0.0.1', label: 'ports probed', done, total: 1000 })
    p.onEvent({ type: 'target', target })
    p.onEvent(step(0))
    t = 1000
    p.onEvent(step(250))
    await new Promise((r) => setTimeout(r, 60))
    t = 3000
    p.onEvent(step(1000))
    p.onEvent({ type: 'progress', done: 1, total: 1 })
    await new Promise((r) => setTimeout(r, 60))
    p.end()
    expect(out.some((l) => l.startsWith('ztscan: 250/1,000 ports probed; checks 0 done, 1 target, 0 errors, 1s elapsed, ETA 3s'))).toBe(true)
    expect(out.at(-1)).toBe('ztscan: checks 1/1 done, 1 target, 0 errors, 3s elapsed\n')
    expect(out.join('')).not.toContain(String.fromCharCode(27))
  })
  it('tty mode: one line redrawn at most 10 times a second however many events arrive, cut to the width', () => {
    let t = 0
    const out: string[] = []
    const p = startProgress('tty', { write: (s: string) => out.push(s), isTTY: true, columns: 40 }, { now: () => t })
    for (let i = 0; i < 5000; i++) {
      t = i // 5 seconds of events, one every millisecond
      p.onEvent({ type: 'step', check: 'c', target: 'x', label: 'ports probed', done: i, total: 5000 })
    }
    p.end()
    const frames = out.filter((s) => s.startsWith('\r\x1b[K') && s.length > 3)
    expect(frames.length).toBeGreaterThanOrEqual(40)
    expect(frames.length).toBeLessThanOrEqual(51)
    for (const f of frames) expect(f.slice(4).length).toBeLessThanOrEqual(39)
  })
})

describe('the open-port scan reports ports probed', () => {
  it('a built-in connect scan of 2,000 loopback ports emits step events up to 2,000/2,000', async () => {
    const server = createServer((s) => s.destroy()).listen(0, '127.0.0.1')
    await once(server, 'listening')
    const { port } = server.address() as { port: number }
    const { builtinFamilies } = await import('../checks/index.ts')
    const lo = Math.max(1024, port - 1000)
    const steps: Extract<ScanEvent, { type: 'step' }>[] = []
    try {
      const report = await scan({
        targets: [`host://127.0.0.1?ports=${lo}-${lo + 1999}`],
        families: builtinFamilies,
        settings: { portScan: { scanner: 'builtin', sniff: false } },
        chain: false,
        onEvent: (e) => (e.type === 'step' ? steps.push(e) : undefined),
      })
      expect(report.errors.filter((e) => e.check === 'open-port-connect')).toEqual([])
      expect(steps[0]).toMatchObject({ check: 'open-port-connect', label: 'ports probed', done: 0, total: 2000 })
      expect(steps.at(-1)).toMatchObject({ done: 2000, total: 2000 })
    } finally {
      server.close()
    }
  })
})

describe.skipIf(!findNmap())('the nmap back-end reports ports scanned (nmap --stats-every)', () => {
  it('a full scan of 127.0.0.1 with nmap: steps from 0 to 65,535/65,535, in between while nmap runs', async () => {
    const { builtinFamilies } = await import('../checks/index.ts')
    const steps: Extract<ScanEvent, { type: 'step' }>[] = []
    const t0 = Date.now()
    const report = await scan({
      targets: ['host://127.0.0.1?ports=all'],
      families: builtinFamilies,
      settings: { portScan: { scanner: 'nmap', sniff: false } },
      chain: false,
      onEvent: (e) => (e.type === 'step' ? steps.push(e) : undefined),
    })
    expect(report.errors.filter((e) => e.check === 'open-port-connect')).toEqual([])
    expect(steps[0]).toMatchObject({ check: 'open-port-connect', label: NMAP_STEP_LABEL, done: 0, total: 65_535 })
    expect(steps.at(-1)).toMatchObject({ done: 65_535, total: 65_535 })
    // nmap writes <taskprogress> once a second: a scan that ran over 2 s showed figures in between.
    if (Date.now() - t0 > 2500) expect(steps.some((s) => s.done > 0 && s.done < 65_535)).toBe(true)
  }, 120_000)
})
