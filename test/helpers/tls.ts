/**
 * @fileoverview TLS test servers and certificate generation for tests, the demo and the benches. Certificate and well-behaved
 * server factories live in `checks/certificate/lab.ts` (the demo ships them); this file re-exports them and adds the hostile
 * servers and file writers only tests need. Everything listens on 127.0.0.1 or ::1, port 0.
 */
import { createServer as createHttpServer } from 'node:http'
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { tlsEndpoint } from '../../checks/certificate/targets.ts'
import type { Target } from '../../src/types.ts'
import { issue, labPki, privateKey, startTlsServer, type Issued, type LabServer } from '../../checks/certificate/lab.ts'

export { issue, labLeaf, labPki, labScenarios, LAB_NAMES, privateKey, startTlsServer } from '../../checks/certificate/lab.ts'
export type { CertSpec, Issued, KeySpec, LabServer, Scenario, SignatureHash, TlsServerSpec } from '../../checks/certificate/lab.ts'

/** A misbehaving service on a loopback port. */
export type HostileKind = 'tarpit' | 'garbage' | 'mid-handshake-close' | 'plain-http' | 'long-chain'

/** Listens on port 0 of `host` (loopback) and returns the port. */
export async function listen(server: Server, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, host, () => resolve())
  })
  return (server.address() as AddressInfo).port
}

/** A closer that destroys the server's open sockets, then closes it. */
export function tracked(server: Server): () => Promise<void> {
  const sockets = new Set<Socket>()
  server.on('connection', (s: Socket) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
    s.on('error', () => {})
  })
  return () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy()
      server.close(() => resolve())
    })
}

/** A chain of `n` certificates, each issued by the next (EC P-256, one key). */
export function longChain(n: number): Issued[] {
  const now = Date.now()
  const key = privateKey('ec:prime256v1', 9)
  const v = { notBefore: new Date(now - 86_400_000), notAfter: new Date(now + 30 * 86_400_000) }
  let issuer = issue({ cn: `chain CA ${n - 1}`, key, ca: true, ...v })
  const chain = [issuer]
  for (let i = n - 2; i >= 1; i--) chain.unshift((issuer = issue({ cn: `chain CA ${i}`, key, ca: true, issuer, ...v })))
  chain.unshift(issue({ cn: 'localhost', key, issuer, sans: ['127.0.0.1'], ...v }))
  return chain
}

/**
 * Starts a hostile service: `tarpit` accepts and never answers; `garbage` answers any bytes with random bytes; `mid-handshake-close`
 * reads the ClientHello, sends half a ServerHello record and closes; `plain-http` is an HTTP server; `long-chain` is a TLS server
 * serving a 50-certificate chain.
 */
export async function startHostile(kind: HostileKind, host = '127.0.0.1'): Promise<{ target: Target; close(): Promise<void> }> {
  if (kind === 'long-chain') {
    const s: LabServer = await startTlsServer({ chain: longChain(50), host: host as '127.0.0.1' })
    return { target: s.target, close: s.close }
  }
  let server: Server
  if (kind === 'plain-http') server = createHttpServer((_req, res) => res.end('hello, this is not TLS\n'))
  else
    server = createNetServer((s) => {
      if (kind === 'garbage') s.once('data', () => s.write(Buffer.from('\x00\xffthis is no TLS server\r\n'.repeat(64), 'latin1')))
      // A handshake record announcing 64 bytes of ServerHello, of which only 6 arrive before the close.
      if (kind === 'mid-handshake-close') s.once('data', () => s.end(Buffer.from([0x16, 0x03, 0x03, 0x00, 0x40, 0x02, 0x00, 0x00, 0x3c, 0x03, 0x03])))
    })
  const close = tracked(server)
  const port = await listen(server, host)
  return { target: tlsEndpoint(host, port), close }
}

/** A temporary folder removed by the returned `cleanup`. */
export function tempDir(prefix = 'ztscan-tls-'): { dir: string; write(name: string, data: string | Buffer): string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return {
    dir,
    write(name, data) {
      const p = join(dir, name)
      writeFileSync(p, data)
      return p
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  }
}

/** Writes the lab root CA to `dir` and returns the settings that trust it. */
export function labTrust(write: (name: string, data: string) => string): { tls: { caFile: string } } {
  return { tls: { caFile: write('lab-root-ca.pem', labPki().root.pem) } }
}
