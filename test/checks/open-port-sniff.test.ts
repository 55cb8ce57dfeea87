import { describe, expect, it } from 'vitest'
import { createServer as createNetServer, type Server } from 'node:net'
import { createServer as createHttpServer } from 'node:http'
import { scan } from '../../src/index.ts'
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
