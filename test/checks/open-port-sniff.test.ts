import { describe, expect, it } from 'vitest'
import { createServer as createNetServer, type Server, type Socket } from 'node:net'
import type { ConnectionOptions, TLSSocket } from 'node:tls'
import { createServer as createHttpServer } from 'node:http'
import { realIo, scan } from '../../src/index.ts'
import { bindNet, type IoOptions } from '../../src/net/index.ts'
import type { CheckContext } from '../../src/engine/check.ts'
import { sniff } from '../../checks/open-port/sniff.ts'
import { startTlsServer, labLeaf } from '../helpers/tls.ts'

const listen = (server: Server): Promise<number> =>
  new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)))

describe('connect scan sniffs open ports and chains TLS and SSH on any port', () => {
  it('a TLS server and an SSH banner on high ports become tls:// and ssh:// targets; HTTP does not', async () => {
    const tls = await startTlsServer({ chain: [labLeaf()], host: '127.0.0.1' })
    const ssh = createNetServer((s) => {
      s.on('error', () => {})
      s.end('SSH-2.0-OpenSSH_9.2p1 sniff-test\r\n')
    })
    const http = createHttpServer((_q, r) => r.end('hi'))
    const sshPort = await listen(ssh)
    const httpPort = await listen(http)
    try {
      const tlsPort = tls.port
      const report = await scan({ targets: [`host://127.0.0.1?ports=${tlsPort},${sshPort},${httpPort}`], timeoutMs: 10_000, settings: { ssh: { acceptUnknownHostKeys: true } }, includePassed: true })
      const ids = report.targets.map((t) => t.id)
      expect(ids).toContain(`tls://127.0.0.1:${tlsPort}`)
      expect(ids).toContain(`ssh://127.0.0.1:${sshPort}`)
      expect(ids.filter((id) => id.endsWith(`:${httpPort}`))).toEqual([])
      // The chained TLS endpoint was certificate-checked in the same scan.
      expect(report.findings.some((f) => f.family === 'certificate' && f.target === `tls://127.0.0.1:${tlsPort}`)).toBe(true)
      const scanFindings = report.findings.filter((f) => f.family === 'open-port' && f.resource === '127.0.0.1')
      expect(scanFindings[0]?.evidence.openPorts).toBe(3)
    } finally {
      await tls.close()
      ssh.close()
      http.close()
    }
  })
  it('tries the TLS handshake beside the banner wait, and never sends a ClientHello to a server that spoke first', async () => {
    const tls = await startTlsServer({ chain: [labLeaf()], host: '127.0.0.1' })
    // Servers that speak first and keep the connection open, recording whatever they are sent.
    const heard: Buffer[] = []
    const speaker = (line: string): Server =>
      createNetServer((s) => {
        s.on('error', () => {})
        s.on('data', (d: Buffer) => heard.push(d))
        s.write(line)
      })
    const ssh = speaker('SSH-2.0-OpenSSH_9.2p1 sniff-test\r\n')
    const other = speaker('220 ready\r\n')
    const sshPort = await listen(ssh)
    const otherPort = await listen(other)
    // The real connections, watched: per port, the plain connections made, and for each handshake whether a plain
    // connection to its port was still open when it began (the banner wait not sat out first).
    const plain = new Map<number, Socket[]>()
    const handshakes: { port: number; beside: boolean }[] = []
    const io = {
      tcpConnect: async (host: string, port: number, o: IoOptions): Promise<Socket> => {
        const s = await realIo.tcpConnect(host, port, o)
        plain.set(port, [...(plain.get(port) ?? []), s])
        return s
      },
      tlsHandshake: (options: ConnectionOptions & { host: string; port: number }, o: IoOptions): Promise<TLSSocket> => {
        handshakes.push({ port: options.port, beside: (plain.get(options.port) ?? []).some((s) => !s.destroyed) })
        return realIo.tlsHandshake(options, o)
      },
    }
    try {
      // No chaining: nothing but the sniff connects to these servers after the port scan.
      const report = await scan({ targets: [`host://127.0.0.1?ports=${tls.port},${sshPort},${otherPort}`], timeoutMs: 10_000, chain: false, io })
      expect(report.errors).toEqual([])
      // The TLS port and the SSH port were recognised (and withheld from chaining); the other speaker was not.
      expect(report.chaining?.withheld).toEqual([{ from: 'host://127.0.0.1', targets: 2 }])
      expect(handshakes).toEqual([{ port: tls.port, beside: true }])
      expect(heard.map((d) => d.toString('latin1'))).toEqual([])
    } finally {
      await tls.close()
      ssh.close()
      other.close()
    }
  })

  it('a host whose connect takes round trips (remote) gets that much longer to speak before any ClientHello', async () => {
    // A remote SSH server as seen from here: the connect completes after CONNECT_MS, and its banner comes one round trip
    // after that. Loopback stands in for it: the connect is held back CONNECT_MS, the server writes BANNER_MS after accept.
    const CONNECT_MS = 100
    const BANNER_MS = CONNECT_MS + 100
    const heard: Buffer[] = []
    const timers: NodeJS.Timeout[] = []
    const ssh = createNetServer((s) => {
      s.on('error', () => {})
      s.on('data', (d: Buffer) => heard.push(d))
      timers.push(setTimeout(() => s.destroyed || s.write('SSH-2.0-OpenSSH_9.2p1 far-away\r\n'), BANNER_MS))
    })
    const sshPort = await listen(ssh)
    const io = {
      tcpConnect: async (host: string, port: number, o: IoOptions): Promise<Socket> => {
        const s = await realIo.tcpConnect(host, port, o)
        // Only the sniff's banner connections are held back (the port scan's own connects are not).
        if (port === sshPort && o.timeoutMs !== undefined) await new Promise((r) => setTimeout(r, CONNECT_MS))
        return s
      },
    }
    try {
      const report = await scan({ targets: [`host://127.0.0.1?ports=${sshPort}`], timeoutMs: 10_000, chain: false, io, settings: { portScan: { scanner: 'builtin' } } })
      expect(report.chaining?.withheld).toEqual([{ from: 'host://127.0.0.1', targets: 1 }])
      // With a fixed 50 ms the ClientHello went out ~50 ms before the banner came.
      expect(heard.map((d) => d.toString('latin1'))).toEqual([])
    } finally {
      timers.forEach(clearTimeout)
      ssh.close()
    }
  })

  it('a handshake under way when a banner decides is ended with the sniff, not left to its budget (server-side sockets)', async () => {
    // The first connection (the banner's) is spoken to only once a ClientHello came on another; that one is never answered.
    const open = new Set<Socket>()
    let hellos = 0
    let first: Socket | undefined
    const server = createNetServer((s) => {
      open.add(s)
      s.on('close', () => open.delete(s))
      s.on('error', () => {})
      if (!first) {
        first = s
        return
      }
      s.once('data', (d: Buffer) => {
        if (d[0] !== 0x16) return
        hellos++
        first!.write('220 ready\r\n')
      })
    })
    const port = await listen(server)
    const attempt = new AbortController()
    // The attempt goes on after the sniff (its signal never fires here): only the sniff can end the handshake early.
    const ctx = { sockets: <T>(fn: () => Promise<T>) => fn(), net: bindNet(attempt.signal, 30_000) } as unknown as CheckContext<string>
    try {
      expect(await sniff(ctx, '127.0.0.1', port, 30_000)).toBe('other')
      expect(hellos).toBe(1)
      // Both connections close once the sniff returned (before: the handshake's stayed open for its 30 s budget).
      for (let i = 0; i < 100 && open.size; i++) await new Promise((r) => setTimeout(r, 50))
      expect(open.size).toBe(0)
    } finally {
      attempt.abort()
      for (const s of open) s.destroy()
      server.close()
    }
  })

  it('settings.portScan.sniff=false keeps the port-number guess only', async () => {
    const tls = await startTlsServer({ chain: [labLeaf()], host: '127.0.0.1' })
    try {
      const report = await scan({ targets: [`host://127.0.0.1?ports=${tls.port}`], settings: { portScan: { sniff: false } } })
      expect(report.targets.map((t) => t.id)).toEqual(['host://127.0.0.1'])
    } finally {
      await tls.close()
    }
  })
})
