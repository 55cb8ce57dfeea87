/**
 * @fileoverview A chaining lab on loopback: a TLS server and an SSH-looking server (it sends an OpenSSH banner and closes),
 * each counting the TCP connections it accepts, and an nmap XML file listing both as open — what an offline nmap file
 * chains to when asked (`--chain`), and what it must never touch otherwise.
 */
import { createServer, type Server } from 'node:net'
import { writeFileSync } from 'node:fs'
import { nmapXml } from '../../checks/open-port/demo.ts'
import { labLeaf, startTlsServer } from './tls.ts'

/**
 * The lab's own loopback address: other test files scan every port of 127.0.0.1 (`host://127.0.0.1?ports=all`) at the same
 * time, and their connections would count as the lab's.
 */
export const CHAIN_LAB_HOST = '127.0.0.77'

export interface ChainLab {
  readonly tlsPort: number
  readonly sshPort: number
  /** Connections accepted so far by each server. */
  readonly accepted: { tls: number; ssh: number }
  reset(): void
  close(): Promise<void>
}

/** Starts both servers on {@link CHAIN_LAB_HOST} and writes the nmap file `file` naming them. */
export async function startChainLab(file: string): Promise<ChainLab> {
  const accepted = { tls: 0, ssh: 0 }
  const tls = await startTlsServer({ chain: [labLeaf()], host: CHAIN_LAB_HOST })
  tls.server.on('connection', () => accepted.tls++)
  const ssh: Server = createServer((s) => {
    accepted.ssh++
    s.on('error', () => {})
    s.end('SSH-2.0-OpenSSH_9.2p1 chain-test\r\n')
  })
  const sshPort = await new Promise<number>((resolve) => ssh.listen(0, CHAIN_LAB_HOST, () => resolve((ssh.address() as { port: number }).port)))
  writeFileSync(
    file,
    nmapXml(CHAIN_LAB_HOST, [
      { port: tls.port, service: { name: 'http', tunnel: 'ssl', method: 'probed', conf: '10' } },
      { port: sshPort, service: { name: 'ssh', product: 'OpenSSH', method: 'probed', conf: '10' } },
    ]),
  )
  return {
    tlsPort: tls.port,
    sshPort,
    accepted,
    reset: () => {
      accepted.tls = 0
      accepted.ssh = 0
    },
    close: async () => {
      await tls.close()
      ssh.close()
    },
  }
}
