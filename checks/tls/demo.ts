/**
 * @fileoverview The `tls` family's part of `ztscan demo` (loaded only by the demo; not shipped in the npm package): two SMTP
 * services on 127.0.0.1 — one that offers no STARTTLS (plaintext only), and one whose STARTTLS leads to a weak Node TLS server
 * (TLS 1.0–1.2, a NULL suite, static RSA, CBC only, the client's order). The certificate is the lab leaf, trusted through the
 * certificate family's demo CA file.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { createSecureContext, TLSSocket } from 'node:tls'
import { labLeaf, labPki } from '../certificate/lab.ts'
import { startTlsEndpoint } from '../certificate/targets.ts'
import type { Target } from '../../src/types.ts'

/** A minimal SMTP server: greeting, EHLO (with or without STARTTLS), STARTTLS → TLS with `ciphers`, QUIT. */
async function smtpServer(offerTls: boolean): Promise<{ port: number; close(): Promise<void> }> {
  const leaf = labLeaf()
  const secureContext = createSecureContext({
    key: leaf.key.export({ type: 'pkcs8', format: 'pem' }) as string,
    cert: leaf.pem + labPki().intermediate.pem,
    ciphers: 'ECDHE-RSA-AES128-SHA:AES128-SHA:NULL-SHA256:@SECLEVEL=0',
    minVersion: 'TLSv1',
    maxVersion: 'TLSv1.2',
  })
  const sockets = new Set<Socket>()
  const server: Server = createServer((s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
    s.on('error', () => {})
    s.write('220 mail.demo.lab ESMTP ztscan-demo\r\n')
    let buf = ''
    const onData = (d: Buffer): void => {
      buf = (buf + d.toString('latin1')).slice(-4096)
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i).trim().toUpperCase()
        buf = buf.slice(i + 1)
        if (line.startsWith('EHLO') || line.startsWith('HELO')) s.write(`250-mail.demo.lab\r\n${offerTls ? '250-STARTTLS\r\n' : ''}250 8BITMIME\r\n`)
        else if (line === 'STARTTLS' && offerTls) {
          s.off('data', onData)
          s.write('220 ready to start TLS\r\n')
          const t = new TLSSocket(s, { isServer: true, secureContext })
          t.on('error', () => {})
          t.on('secure', () => t.end())
          return
        } else if (line === 'QUIT') s.end('221 bye\r\n')
        else s.write('502 not implemented\r\n')
      }
    }
    s.on('data', onData)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((r) => (sockets.forEach((x) => x.destroy()), server.close(() => r()))),
  }
}

/** Starts the demo's SMTP services. */
export async function startDemo(): Promise<{ targets: Target[]; stop(): Promise<void> }> {
  const plain = await smtpServer(false)
  const weak = await smtpServer(true).catch(async (err: unknown) => {
    await plain.close()
    throw err
  })
  return {
    targets: [startTlsEndpoint('smtp', '127.0.0.1', plain.port), startTlsEndpoint('smtp', '127.0.0.1', weak.port)],
    stop: async () => {
      await Promise.all([plain.close(), weak.close()])
    },
  }
}
