/**
 * @fileoverview The certificate family's part of `ztscan demo`: flawed TLS servers on 127.0.0.1 (expired, self-signed, weak key,
 * SHA-1, hostname mismatch, a revoked leaf whose CRL is served on loopback, a chain missing its intermediate that AIA
 * caIssuers completes), one clean server trusted through a generated CA file, and a certificate file with a P-224 key.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileTarget } from '../../src/targets/host.ts'
import type { Target } from '../../src/types.ts'
import { issue, issueCrl, labLeaf, labPki, labScenarios, privateKey, revocationExtensions, startTlsServer, type LabServer } from './lab.ts'

const DEMO = new Set(['clean', 'expired', 'self-signed', 'weak-key', 'sha1-signature', 'hostname-mismatch'])

/** Starts the demo servers and files in `dir`; `settings.tls.caFile` makes the clean server trusted. */
export async function startDemo(dir: string): Promise<{ targets: Target[]; settings: Record<string, unknown>; stop(): Promise<void> }> {
  await mkdir(dir, { recursive: true })
  const { root, intermediate } = labPki()
  const caFile = join(dir, 'lab-root-ca.pem')
  await writeFile(caFile, root.pem)
  const now = Date.now()
  const weakEc = issue({ cn: 'legacy-device.lab', key: privateKey('ec:secp224r1'), issuer: intermediate, sans: ['legacy-device.lab'], hash: 'sha1', notBefore: new Date(now - 86_400_000), notAfter: new Date(now + 60 * 86_400_000) })
  const certFile = join(dir, 'legacy-device.pem')
  await writeFile(certFile, weakEc.pem + intermediate.pem)
  const servers: LabServer[] = []
  // The CA's loopback web server: its CRL and its intermediate (for AIA caIssuers).
  const files = new Map<string, Buffer>()
  const http = createServer((req, res) => {
    const f = files.get(req.url ?? '')
    res.writeHead(f ? 200 : 404).end(f)
  })
  const stop = async (): Promise<void> => {
    await Promise.all([...servers.map((s) => s.close()), new Promise<void>((resolve) => (http.closeAllConnections(), http.close(() => resolve())))])
  }
  try {
    await new Promise<void>((resolve, reject) => http.once('error', reject).listen(0, '127.0.0.1', () => resolve()))
    const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`
    const revoked = labLeaf({ profile: { extra: revocationExtensions({ crl: [`${base}/int.crl`] }) } })
    files.set('/int.crl', issueCrl(intermediate, [revoked.x509]))
    files.set('/int.der', intermediate.der)
    const aiaOnly = labLeaf({ profile: { extra: revocationExtensions({ caIssuers: [`${base}/int.der`] }) } })
    for (const sc of labScenarios('127.0.0.1')) if (DEMO.has(sc.name)) servers.push(await startTlsServer(sc.spec))
    servers.push(await startTlsServer({ chain: [revoked, intermediate] }), await startTlsServer({ chain: [aiaOnly] }))
  } catch (err) {
    await stop()
    throw err
  }
  return { targets: [...servers.map((s) => s.target), fileTarget('cert-file', 'cert', certFile)], settings: { tls: { caFile } }, stop }
}
