import { describe, expect, it } from 'vitest'
import { createServer, type Socket } from 'node:net'
import { defineCheck, scan, type RuleMeta, type ScanEvent, type Target } from '../src/index.ts'
import { assertValidReport } from './helpers/schemas.ts'

const rule = (id: string, severity: RuleMeta['severity'] = 'high'): RuleMeta => ({
  id,
  family: 'testing',
  title: `Test rule ${id}`,
  pillar: 'networks',
  severity,
  message: '{{target}} has {{thing}}',
  description: 'A rule used by the engine tests.',
  remediation: 'None needed.',
  helpUri: 'https://example.invalid/rules/' + id,
})
const rules = [rule('testing-a'), rule('testing-b', 'low')]
const targets = (n: number, hosts = n): Target[] => Array.from({ length: n }, (_, i) => ({ kind: 'thing', id: `thing://h${i % hosts}/${i}`, host: `h${i % hosts}` }))
const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms)
    signal?.addEventListener('abort', () => (clearTimeout(t), reject(signal.reason)), { once: true })
  })

describe('engine', () => {
  it('honours the global and per-host limits (measured maximum in flight)', async () => {
    let inFlight = 0
    let max = 0
    const perHost = new Map<string, number>()
    let maxPerHost = 0
    const check = defineCheck({
      id: 'testing-slow', family: 'testing', targetKinds: ['thing'], rules: ['testing-a'],
      async run(t, ctx) {
        inFlight++
        max = Math.max(max, inFlight)
        const h = String(t.host)
        perHost.set(h, (perHost.get(h) ?? 0) + 1)
        maxPerHost = Math.max(maxPerHost, perHost.get(h)!)
        await sleep(5)
        perHost.set(h, perHost.get(h)! - 1)
        inFlight--
        ctx.report('testing-a', 'pass', { resource: t.id, evidence: { thing: 'x' } })
      },
    })
    const report = await scan({ targets: targets(120, 3), checks: [check], rules, concurrency: 7, perHost: 2, includePassed: true })
    expect(report.findings).toHaveLength(120)
    expect(max).toBeLessThanOrEqual(6) // 3 hosts × 2 per host < 7 global
    expect(maxPerHost).toBe(2)
    max = 0
    const r2 = await scan({ targets: targets(60, 60), checks: [check], rules, concurrency: 5, perHost: 4, includePassed: true })
    expect(r2.findings).toHaveLength(60)
    expect(max).toBe(5)
  })

  it('turns a timeout into an error result and keeps going', async () => {
    const check = defineCheck({
      id: 'testing-hang', family: 'testing', targetKinds: ['thing'], rules: ['testing-a'],
      async run(t, ctx) {
        if (t.id.endsWith('/0')) await new Promise(() => {}) // ignores its signal entirely
        ctx.report('testing-a', 'fail', { resource: t.id, evidence: { thing: 'y' } })
      },
    })
    const report = await scan({ targets: targets(3), checks: [check], rules, timeoutMs: 150 })
    expect(report.errors).toEqual([{ check: 'testing-hang', family: 'testing', target: 'thing://h0/0', reason: 'timeout', message: 'no result within 150 ms' }])
    expect(report.findings.map((f) => f.target)).toEqual(['thing://h1/1', 'thing://h2/2'])
    assertValidReport(report)
  })

  it("a check's load() is awaited once per scan before its attempts' timers start: loading does not eat a first attempt's budget", async () => {
    let loads = 0
    const check = defineCheck({
      id: 'testing-slow-load', family: 'testing', targetKinds: ['thing'], rules: ['testing-a'],
      async load() {
        loads++
        await sleep(1_500) // ten times the attempt's budget below
      },
      async run(t, ctx) {
        ctx.report('testing-a', 'fail', { resource: t.id, evidence: { thing: 'y' } })
      },
    })
    const report = await scan({ targets: targets(3), checks: [check], rules, timeoutMs: 150 })
    expect(report.errors).toEqual([])
    expect(report.findings).toHaveLength(3)
    expect(loads).toBe(1)
    // A load that fails is a bug error of each attempt, not a timeout.
    const broken = defineCheck({ ...check, id: 'testing-broken-load', load: () => Promise.reject(new Error('cannot load')) })
    const r2 = await scan({ targets: targets(2), checks: [broken], rules })
    expect(r2.errors.map((e) => [e.reason, e.message])).toEqual([['bug', 'testing-broken-load failed: cannot load'], ['bug', 'testing-broken-load failed: cannot load']])
  })

  it('abort stops a scan of slow checks within 1 s and closes in-flight sockets', async () => {
    const sockets = new Set<Socket>()
    let closed = 0
    const server = createServer((s) => {
      sockets.add(s)
      s.on('close', () => closed++)
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const port = (server.address() as { port: number }).port
    const check = defineCheck({
      id: 'testing-socket', family: 'testing', targetKinds: ['thing'], rules: ['testing-a'],
      async run(_t, ctx) {
        const s = await ctx.net.tcpConnect('127.0.0.1', port)
        ctx.signal.addEventListener('abort', () => s.destroy())
        await sleep(60_000, ctx.signal)
      },
    })
    const ac = new AbortController()
    const run = scan({ targets: targets(50), checks: [check], rules, concurrency: 10, perHost: 50, signal: ac.signal, timeoutMs: 120_000 })
    await sleep(300)
    const t0 = performance.now()
    ac.abort()
    const report = await run
    const elapsed = performance.now() - t0
    expect(elapsed).toBeLessThan(1000)
    expect(report.errors).toHaveLength(50)
    expect(new Set(report.errors.map((e) => e.reason))).toEqual(new Set(['aborted']))
    await sleep(100)
    expect(closed).toBe(10)
    server.close()
  })

  it('a throwing check does not disturb others; errors name the check', async () => {
    const bad = defineCheck({ id: 'testing-bad', family: 'testing', targetKinds: ['thing'], rules: ['testing-b'], async run() { throw new Error('boom') } })
    const good = defineCheck({
      id: 'testing-good', family: 'testing', targetKinds: ['thing'], rules: ['testing-a'],
      async run(t, ctx) { ctx.report('testing-a', 'pass', { resource: t.id, evidence: { thing: 'z' } }) },
    })
    const report = await scan({ targets: targets(4), checks: [bad, good], rules, includePassed: true })
    expect(report.findings).toHaveLength(4)
    expect(report.errors).toHaveLength(4)
    expect(report.errors[0]).toMatchObject({ check: 'testing-bad', reason: 'bug', message: 'testing-bad failed: boom' })
  })

  it('output order is deterministic whatever the completion order', async () => {
    const check = defineCheck({
      id: 'testing-jitter', family: 'testing', targetKinds: ['thing'], rules: ['testing-a', 'testing-b'],
      async run(t, ctx) {
        await sleep(Math.floor(Math.random() * 15))
        ctx.report('testing-b', 'fail', { resource: 'r2', evidence: { thing: 'b' } })
        ctx.report('testing-a', 'fail', { resource: 'r1', evidence: { thing: 'a' } })
        if (t.id.endsWith('3')) throw new Error('late failure')
      },
    })
    const a = await scan({ targets: targets(30), checks: [check], rules })
    const b = await scan({ targets: targets(30).reverse(), checks: [check], rules })
    const strip = (r: typeof a) => JSON.stringify({ f: r.findings, e: r.errors, t: r.targets, s: r.score })
    expect(strip(a)).toEqual(strip(b))
    expect(a.findings[0]!.target).toBe('thing://h0/0')
  })

  it('streams events and progress; chained targets are planned and deduplicated', async () => {
    const check = defineCheck({
      id: 'testing-chain', family: 'testing', targetKinds: ['thing'], rules: ['testing-a'],
      async run(t, ctx) {
        if (!t.id.includes('child')) {
          ctx.emit({ kind: 'thing', id: `thing://child/${t.id.length % 2}` })
        }
        ctx.report('testing-a', 'pass', { resource: t.id, evidence: { thing: 'c' } })
      },
    })
    const events: ScanEvent[] = []
    const run = scan({ targets: targets(4), checks: [check], rules, includePassed: true })
    for await (const e of run) events.push(e)
    const report = await run
    expect(report.targets.map((t) => t.id)).toContain('thing://child/0')
    expect(report.findings).toHaveLength(report.targets.length)
    const progress = events.filter((e) => e.type === 'progress')
    expect(progress.at(-1)).toEqual({ type: 'progress', done: report.summary.attempts, total: report.summary.attempts })
    expect(events.filter((e) => e.type === 'finding')).toHaveLength(report.findings.length)
  })

  it('redacts configured secrets from messages, evidence and errors', async () => {
    const secret = 'hunter2-very-secret'
    const check = defineCheck({
      id: 'testing-leaky', family: 'testing', targetKinds: ['thing'], rules: ['testing-a'],
      async run(t, ctx) {
        const pw = (ctx.settings.ssh as { password: string }).password
        ctx.report('testing-a', 'fail', { resource: t.id, evidence: { thing: `pw=${pw}` } })
        throw new Error(`login with ${pw} failed`)
      },
    })
    const report = await scan({ targets: targets(1), checks: [check], rules, settings: { ssh: { password: secret } } })
    expect(JSON.stringify(report)).not.toContain(secret)
    expect(report.errors[0]!.message).toContain('[REDACTED]')
  })

  it('a message given as a function is made only for a stored finding, never for a pass only counted', async () => {
    let made = 0
    const check = defineCheck({
      id: 'testing-lazy', family: 'testing', targetKinds: ['thing'], rules: ['testing-a'],
      async run(t, ctx) {
        ctx.report('testing-a', 'pass', { resource: t.id, message: () => (made++, `${t.id} is fine`) })
        if (t.id.endsWith('/0')) ctx.report('testing-a', 'fail', { resource: `${t.id}#x`, message: () => (made++, `${t.id} is not`) })
      },
    })
    const counted = await scan({ targets: targets(3), checks: [check], rules })
    expect(made).toBe(1)
    expect(counted.summary.passed).toBe(3)
    expect(counted.findings.map((f) => f.message)).toEqual(['thing://h0/0 is not'])
    made = 0
    const stored = await scan({ targets: targets(3), checks: [check], rules, includePassed: true })
    expect(made).toBe(4)
    expect(stored.findings.filter((f) => f.status === 'pass').map((f) => f.message).sort()).toEqual(['thing://h0/0 is fine', 'thing://h1/1 is fine', 'thing://h2/2 is fine'])
  })
})
