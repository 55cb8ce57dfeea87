/**
 * The connect scan's two engines (src/net/port-scan.ts) against real loopback listeners: the same open / closed / filtered
 * counts, deadlines honoured, an abort stops every lane and leaves no handle behind, a host name resolved once.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createConnection, createServer, type Server, type Socket } from 'node:net'
import { lookup } from 'node:dns/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PortScan, defaultScanEngine, type ProbePool, type ScanEngine } from '../../src/net/port-scan.ts'
import { bin, cleanEnv, ensureBuilt } from '../helpers/cli.ts'
import openPort from '../../checks/open-port/index.ts'
import { scan } from '../../src/engine/run.ts'

const hasPython = spawnSync('python3', ['-c', '0']).status === 0

const pool = (): ProbePool => ({ live: new Set(), opened: new Map() })

async function listen(host = '127.0.0.1'): Promise<Server> {
  const s = createServer((c) => c.destroy()).listen(0, host)
  await once(s, 'listening')
  return s
}
const portOf = (s: Server): number => (s.address() as { port: number }).port

/** Runs a scan with `lanes` lanes; resolves to its counts. */
async function run(engine: ScanEngine, host: string, ports: readonly number[], o: { timeoutMs?: number; lanes?: number; signal?: AbortSignal } = {}): Promise<PortScan> {
  const scan = new PortScan(host, ports, o.timeoutMs ?? 2000, pool(), o.signal, undefined, engine)
  await Promise.all(Array.from({ length: Math.min(ports.length, o.lanes ?? 64) }, () => scan.lane()))
  return scan
}
const counts = (s: PortScan): unknown => ({ open: [...s.open].sort((a, b) => a - b), closed: s.closed, filtered: s.filtered, fatal: s.fatal })
/** TCP handles and connect requests this process holds. */
const tcpHandles = (): number => process.getActiveResourcesInfo().filter((r) => /^(TCP|ConnectWrap$)/.test(r)).length

/**
 * A listener whose accept queue is full: python3 listens with a backlog of 0 and never accepts; two connections fill
 * the queue, after which the kernel drops new SYNs — a port that neither accepts nor refuses (nmap's "filtered").
 */
async function blackhole(): Promise<{ port: number; stop(): void }> {
  const py = spawn('python3', ['-c', 'import socket,sys\ns=socket.socket()\ns.bind(("127.0.0.1",0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\nsys.stdin.read()'], { stdio: ['pipe', 'pipe', 'inherit'] })
  const [line] = (await once(py.stdout!, 'data')) as [Buffer]
  const port = Number(line.toString().trim())
  const fill: Socket[] = []
  // Connect until one hangs: the queue is full from then on.
  for (let i = 0; i < 8; i++) {
    const c = createConnection({ host: '127.0.0.1', port })
    c.on('error', () => {})
    fill.push(c)
    const hung = await Promise.race([once(c, 'connect').then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), 300))])
    if (hung) break
  }
  return {
    port,
    stop() {
      for (const c of fill) c.destroy()
      ;(py as ChildProcess).kill()
    },
  }
}

describe('connect scan engines', () => {
  let servers: Server[] = []
  let listening: number[] = []
  beforeAll(async () => {
    servers = await Promise.all([listen(), listen(), listen()])
    listening = servers.map(portOf)
  })
  afterAll(() => servers.forEach((s) => s.close()))

  it(`native is the default engine on this Node (${process.version})`, () => {
    expect(defaultScanEngine()).toBe('native')
  })

  it('both engines: the listeners open, the other ports of the band closed, the same counts', async () => {
    const lo = Math.max(1, Math.min(...listening) - 300)
    const ports = Array.from({ length: Math.max(...listening) + 300 - lo }, (_, i) => lo + i).filter((p) => p <= 65535)
    const native = await run('native', '127.0.0.1', ports)
    const socket = await run('socket', '127.0.0.1', ports)
    expect(native.engine).toBe('native')
    expect(socket.engine).toBe('socket')
    expect(native.open).toEqual(expect.arrayContaining(listening))
    expect(native.closed + native.open.length).toBe(ports.length)
    // Ports of other tests may open in between; the listeners and the totals must agree.
    expect(counts(socket)).toMatchObject({ filtered: 0, fatal: undefined })
    expect(socket.open).toEqual(expect.arrayContaining(listening))
    expect(Math.abs(socket.closed - native.closed)).toBeLessThanOrEqual(5)
  })

  it('both engines on ::1', async () => {
    const s = await listen('::1')
    try {
      const ports = [portOf(s), portOf(s) + 1]
      for (const engine of ['native', 'socket'] as const) expect(counts(await run(engine, '::1', ports)), engine).toMatchObject({ open: [portOf(s)], fatal: undefined })
    } finally {
      s.close()
    }
  })

  it('a host name is resolved once and scanned at its address', async () => {
    const { address } = await lookup('localhost')
    const s = await listen(address)
    try {
      for (const engine of ['native', 'socket'] as const) expect(counts(await run(engine, 'localhost', [portOf(s)])), engine).toEqual({ open: [portOf(s)], closed: 0, filtered: 0, fatal: undefined })
      for (const engine of ['native', 'socket'] as const) expect((await run(engine, 'no-such-host.invalid', [1, 2, 3])).fatal, engine).toMatch(/^E(NOTFOUND|AI_AGAIN)$/)
    } finally {
      s.close()
    }
  })

  describe.skipIf(!hasPython)('a port that never answers (python3 listener with a full accept queue)', () => {
    let hole: Awaited<ReturnType<typeof blackhole>>
    beforeAll(async () => {
      hole = await blackhole()
    })
    afterAll(() => hole.stop())

    it.each(['native', 'socket'] as const)('%s: filtered after its deadline, the open and closed ports still found', async (engine) => {
      const s = await listen()
      try {
        const t0 = Date.now()
        const scan = await run(engine, '127.0.0.1', [hole.port, portOf(s), portOf(s) + 1], { timeoutMs: 300 })
        expect(counts(scan)).toEqual({ open: [portOf(s)], closed: 1, filtered: 1, fatal: undefined })
        // The deadline (300 ms, swept every 75 ms) ended it, not the kernel's SYN retries (about a minute).
        expect(Date.now() - t0).toBeLessThan(20_000)
      } finally {
        s.close()
      }
    })

    it.each(['native', 'socket'] as const)('%s: an abort mid-scan stops every lane, counts what was in flight as filtered, leaves no handle', async (engine) => {
      const before = tcpHandles()
      const ac = new AbortController()
      const ports = Array.from({ length: 400 }, () => hole.port)
      const scan = new PortScan('127.0.0.1', ports, 60_000, pool(), ac.signal, undefined, engine)
      const lanes = Array.from({ length: 16 }, () => scan.lane())
      await new Promise((r) => setTimeout(r, 200))
      expect(scan.probed).toBe(0)
      // 16 connects in flight, each a TCP handle of this process.
      expect(tcpHandles()).toBeGreaterThanOrEqual(before + 16)
      ac.abort()
      await Promise.all(lanes)
      expect(scan.filtered).toBe(16)
      expect(scan.probed).toBe(16)
      await new Promise((r) => setTimeout(r, 50))
      expect(tcpHandles()).toBeLessThanOrEqual(before)
    })

    it('through scan(): cancelling the scan ends the connect scan at once (not at its 60 s deadlines), reported as aborted', async () => {
      const s = await listen()
      const before = tcpHandles()
      try {
        const ac = new AbortController()
        const t0 = Date.now()
        const running = scan({
          checks: openPort.checks,
          targets: [`host://127.0.0.1?ports=${hole.port},${portOf(s)}`],
          settings: { portScan: { scanner: 'builtin', sniff: false, connectTimeoutMs: 60_000 } },
          connectTimeoutMs: 60_000,
          timeoutMs: 120_000,
          chain: false,
          signal: ac.signal,
        })
        setTimeout(() => ac.abort(), 300)
        const report = await running
        expect(Date.now() - t0).toBeLessThan(20_000)
        expect(report.errors.map((e) => [e.check, e.reason])).toEqual([['open-port-connect', 'aborted']])
        await new Promise((r) => setTimeout(r, 50))
        expect(tcpHandles()).toBeLessThanOrEqual(before)
      } finally {
        s.close()
      }
    })
  })
})

describe('the built CLI scans without a warning on stderr', () => {
  beforeAll(ensureBuilt)
  it.each([
    ['default', {}],
    ['NODE_PENDING_DEPRECATION=1 (the public-API engine, no DEP0111 warning)', { NODE_PENDING_DEPRECATION: '1' }],
  ])('%s', async (_, env) => {
    const s = await listen()
    try {
      const r = spawn(process.execPath, [bin, 'scan', `host://127.0.0.1?ports=${portOf(s)}-${portOf(s) + 20}`, '--port-scanner', 'builtin', '--fail-on', 'none', '--debug', '-f', 'json', '-o', '/dev/null'], { env: cleanEnv(env) })
      let err = ''
      r.stderr.on('data', (d: Buffer) => (err += d))
      const [code] = (await once(r, 'close')) as [number]
      expect(code, err).toBe(0)
      expect(err).not.toMatch(/warning|deprecat/i)
      expect(err).toContain(`(${'NODE_PENDING_DEPRECATION' in env ? 'socket' : 'native'} engine)`)
      // The listener found (a neighbour port of another test may be open too).
      expect(Number(/21 port\(s\): (\d+) open, \d+ closed, 0 filtered/.exec(err)?.[1])).toBeGreaterThanOrEqual(1)
    } finally {
      s.close()
    }
  })
})
