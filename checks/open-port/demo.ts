/**
 * @fileoverview The family's part of `ztscan demo`: look-alike Redis, telnet and HTTPS services on 127.0.0.1 high ports,
 * and the nmap XML that `nmap -sT -sV` writes for them (shaped on `fixtures/nmap/sV-scripts-loopback.xml`), so the
 * risky-service rules fire on the lab's real ports and the HTTPS port chains to the certificate checks.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileTarget } from '../../src/targets/host.ts'
import type { Target } from '../../src/types.ts'
import { startLab } from './lab.ts'

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

/** One port line of an nmap -sV report. */
export interface DemoPort {
  readonly port: number
  readonly service: Readonly<Record<string, string>>
}

/** Writes nmap -oX output for open TCP ports of `address`, as nmap 7.93 would after `-sT -sV`. */
export function nmapXml(address: string, ports: readonly DemoPort[], now = new Date()): string {
  const t = Math.floor(now.getTime() / 1000)
  const args = `nmap -sT -sV -n -Pn --reason -p ${ports.map((p) => p.port).join(',')} -oX lab-scan.xml ${address}`
  const lines = ports.map(
    ({ port, service }) =>
      `<port protocol="tcp" portid="${port}"><state state="open" reason="syn-ack" reason_ttl="0"/><service ${Object.entries(service)
        .map(([k, v]) => `${k}="${esc(v)}"`)
        .join(' ')}/></port>`,
  )
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE nmaprun>
<nmaprun scanner="nmap" args="${esc(args)}" start="${t}" startstr="${esc(now.toUTCString())}" version="7.93" xmloutputversion="1.05">
<scaninfo type="connect" protocol="tcp" numservices="${ports.length}" services="${ports.map((p) => p.port).join(',')}"/>
<verbose level="0"/>
<debugging level="0"/>
<host starttime="${t}" endtime="${t}"><status state="up" reason="user-set" reason_ttl="0"/>
<address addr="${esc(address)}" addrtype="${address.includes(':') ? 'ipv6' : 'ipv4'}"/>
<hostnames>
</hostnames>
<ports>${lines.join('\n')}
</ports>
<times srtt="100" rttvar="1000" to="100000"/>
</host>
<runstats><finished time="${t}" timestr="${esc(now.toUTCString())}" summary="Nmap done; 1 IP address (1 host up)" elapsed="1.00" exit="success"/><hosts up="1" down="0" total="1"/>
</runstats>
</nmaprun>
`
}

/** Starts the lab and writes `lab-scan.xml` into `dir`. */
export async function startDemo(dir: string): Promise<{ targets: readonly Target[]; stop(): Promise<void> }> {
  const lab = await startLab('127.0.0.1', { services: ['redis', 'telnet', 'https'] })
  try {
    await mkdir(dir, { recursive: true })
    const file = join(dir, 'lab-scan.xml')
    await writeFile(
      file,
      nmapXml('127.0.0.1', [
        { port: lab.ports.redis, service: { name: 'redis', product: 'Redis key-value store', version: '7.0.15', method: 'probed', conf: '10' } },
        { port: lab.ports.telnet, service: { name: 'telnet', product: 'Linux telnetd', ostype: 'Linux', method: 'probed', conf: '10' } },
        { port: lab.ports.https, service: { name: 'http', product: 'Node.js', tunnel: 'ssl', method: 'probed', conf: '10' } },
      ]),
    )
    return { targets: [fileTarget('nmap-xml', 'nmap', file)], stop: () => lab.stop() }
  } catch (err) {
    await lab.stop()
    throw err
  }
}
