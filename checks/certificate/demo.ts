/**
 * @fileoverview The certificate family's part of `ztscan demo`: flawed TLS servers on 127.0.0.1 (expired, self-signed, weak key,
 * SHA-1, hostname mismatch), one clean server trusted through a generated CA file, and a certificate file with a P-224 key.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileTarget } from '../../src/targets/host.ts'
import type { Target } from '../../src/types.ts'
import { issue, labPki, labScenarios, privateKey, startTlsServer, type LabServer } from './lab.ts'

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
  const stop = async (): Promise<void> => {
    await Promise.all(servers.map((s) => s.close()))
  }
  try {
    for (const sc of labScenarios('127.0.0.1')) if (DEMO.has(sc.name)) servers.push(await startTlsServer(sc.spec))
  } catch (err) {
    await stop()
    throw err
  }
  return { targets: [...servers.map((s) => s.target), fileTarget('cert-file', 'cert', certFile)], settings: { tls: { caFile } }, stop }
}
