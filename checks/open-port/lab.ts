/**
 * @fileoverview Look-alike risky services on loopback, for the demo lab, the fixture generator and the tests: a Redis
 * that answers INFO without authentication, a Linux telnetd greeting, a Memcached, an OpenSSH banner, an HTTPS server
 * with a throwaway self-signed certificate and a silent listener. They speak just enough of each protocol for nmap -sV.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { createServer as createHttpsServer } from 'node:https'
import { issue, privateKey } from '../certificate/lab.ts'

/** The look-alike services a lab can run. */
export type LabService = 'redis' | 'telnet' | 'memcached' | 'ssh' | 'https' | 'silent'

/** A started lab: the port of each service, and a stopper. */
export interface Lab {
  readonly host: string
  readonly ports: Readonly<Record<LabService, number>>
  stop(): Promise<void>
}

const REDIS_INFO = '# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\nos:Linux\r\n\r\n'
// Linux netkit telnetd opens with DO TERMINAL-TYPE, DO TERMINAL-SPEED, DO X-DISPLAY-LOCATION, DO NEW-ENVIRON.
const TELNET_GREETING = Buffer.from([0xff, 0xfd, 0x18, 0xff, 0xfd, 0x20, 0xff, 0xfd, 0x23, 0xff, 0xfd, 0x27])

function lineServer(answer: (input: string) => string | undefined): (s: Socket) => void {
  return (s) => {
    let input = ''
    s.on('data', (d: Buffer) => {
      input = (input + d.toString('latin1')).slice(-4096)
      if (!/\n/.test(input)) return
      const out = answer(input)
      input = ''
      if (out !== undefined) s.write(out)
    })
  }
}

const handlers: Record<Exclude<LabService, 'https'>, (s: Socket) => void> = {
  redis: lineServer((i) => (/\binfo\b/i.test(i) ? `$${Buffer.byteLength(REDIS_INFO)}\r\n${REDIS_INFO}\r\n` : /\bping\b/i.test(i) ? '+PONG\r\n' : "-ERR unknown command\r\n")),
  telnet: (s) => s.write(TELNET_GREETING),
  memcached: lineServer((i) =>
    /^stats/m.test(i) ? `STAT pid 4242\r\nSTAT uptime 3600\r\nSTAT time ${Math.floor(Date.now() / 1000)}\r\nSTAT version 1.6.18\r\nEND\r\n` : /^version/m.test(i) ? 'VERSION 1.6.18\r\n' : 'ERROR\r\n',
  ),
  ssh: (s) => s.write('SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n'),
  silent: () => {},
}

/** A self-signed certificate for the look-alike HTTPS service (the certificate family's lab makes it, keys cached). */
export function selfSignedCert(commonName = 'localhost'): { key: string; cert: string } {
  const now = Date.now()
  const c = issue({ cn: commonName, key: privateKey('rsa:2048'), sans: [commonName, '127.0.0.1'], notBefore: new Date(now - 60_000), notAfter: new Date(now + 86_400_000) })
  return { key: c.key.export({ type: 'pkcs8', format: 'pem' }).toString(), cert: c.pem }
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve((server.address() as AddressInfo).port)
    })
  })
}

/**
 * Starts the look-alike services on `host` (127.0.0.1 or ::1). With `basePort`, service i listens on `basePort + i`
 * (in the order of `services`), otherwise on ports the kernel picks.
 */
export async function startLab(host = '127.0.0.1', opts: { basePort?: number; services?: readonly LabService[] } = {}): Promise<Lab> {
  const services = opts.services ?? (['redis', 'telnet', 'memcached', 'ssh', 'https', 'silent'] as const)
  const servers: Server[] = []
  const sockets = new Set<Socket>()
  const ports: Partial<Record<LabService, number>> = {}
  const stop = async (): Promise<void> => {
    for (const s of sockets) s.destroy()
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))))
  }
  try {
    for (const [i, name] of services.entries()) {
      let server: Server
      if (name === 'https') {
        const tls = selfSignedCert('localhost')
        server = createHttpsServer({ ...tls }, (_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n'))
      } else server = createServer(handlers[name])
      server.on('connection', (s: Socket) => {
        sockets.add(s)
        s.on('error', () => {})
        s.on('close', () => sockets.delete(s))
      })
      servers.push(server)
      ports[name] = await listen(server, host, opts.basePort ? opts.basePort + i : 0)
    }
  } catch (err) {
    await stop()
    throw err
  }
  return { host, ports: ports as Record<LabService, number>, stop }
}
