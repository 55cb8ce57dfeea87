/**
 * @fileoverview Generated nmap `-oX` documents of any size for tests and benches, written as a stream. Every address is in
 * 127.0.0.0/8 (host i is 127.a.b.c with a.b.c = i + 1), so even a chained scan of one would stay on this machine.
 */
import { createWriteStream, statSync } from 'node:fs'
import { once } from 'node:events'

const MB = 1024 * 1024

/** The loopback address of generated host `i` (i < 2^24 - 1). */
export function hostAddress(i: number): string {
  const n = i + 1
  return `127.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`
}

/** A host as `nmap -sV` writes it (closed extraports, a script), about 1.3 KB: ssh, http, https, mysql, redis open. */
export function serviceHost(i: number): string {
  return `<host starttime="1795767760" endtime="1795767790"><status state="up" reason="syn-ack" reason_ttl="0"/>
<address addr="${hostAddress(i)}" addrtype="ipv4"/>
<hostnames>
<hostname name="host-${i}.corp.example" type="PTR"/>
</hostnames>
<ports><extraports state="closed" count="995">
<extrareasons reason="conn-refused" count="995" proto="tcp" ports="1-21,23-79,81-442,444-3305,3307-6378,6380-65535"/>
</extraports>
<port protocol="tcp" portid="22"><state state="open" reason="syn-ack" reason_ttl="0"/><service name="ssh" product="OpenSSH" version="9.2p1 Debian 2+deb12u3" extrainfo="protocol 2.0" ostype="Linux" method="probed" conf="10"><cpe>cpe:/a:openbsd:openssh:9.2p1</cpe></service></port>
<port protocol="tcp" portid="80"><state state="open" reason="syn-ack" reason_ttl="0"/><service name="http" product="nginx" version="1.22.1" method="probed" conf="10"/></port>
<port protocol="tcp" portid="443"><state state="open" reason="syn-ack" reason_ttl="0"/><service name="http" product="nginx" tunnel="ssl" method="probed" conf="10"/><script id="ssl-cert" output="Subject: commonName=host-${i}.corp.example&#xa;Not valid after:  2027-01-01T00:00:00"><table key="subject"><elem key="commonName">host-${i}.corp.example</elem></table></script></port>
<port protocol="tcp" portid="3306"><state state="open" reason="syn-ack" reason_ttl="0"/><service name="mysql" product="MySQL" version="8.0.36" method="probed" conf="10"/></port>
<port protocol="tcp" portid="6379"><state state="open" reason="syn-ack" reason_ttl="0"/><service name="redis" product="Redis key-value store" version="7.0.15" method="probed" conf="10"/></port>
</ports>
<times srtt="120" rttvar="80" to="100000"/>
</host>
`
}

/** A host with `ports` open TCP ports from 20000 up (no service names: judged on the port number). */
export function portsHost(i: number, ports: readonly number[]): string {
  return `<host><status state="up" reason="syn-ack" reason_ttl="0"/><address addr="${hostAddress(i)}" addrtype="ipv4"/><hostnames></hostnames><ports>${ports
    .map((p) => `<port protocol="tcp" portid="${p}"><state state="open" reason="syn-ack" reason_ttl="0"/></port>`)
    .join('')}</ports></host>\n`
}

const HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE nmaprun>\n<nmaprun scanner="nmap" args="nmap -sV -oX - 127.0.0.0/8" start="1795767759" version="7.93" xmloutputversion="1.05">\n'
const TAIL = '<runstats><finished time="1795768374" elapsed="614.72" exit="success"/><hosts up="1" down="0" total="1"/></runstats>\n</nmaprun>\n'

/** Yields the document in ~1 MB strings: hosts from `host(i)` until `hosts` hosts or `bytes` bytes are written. */
export function* nmapDocument(o: { host: (i: number) => string; hosts?: number; bytes?: number }): Generator<string> {
  yield HEAD
  let written = HEAD.length
  let i = 0
  const more = (): boolean => (o.hosts === undefined || i < o.hosts) && (o.bytes === undefined || written < o.bytes)
  while (more()) {
    let s = ''
    while (s.length < MB && more()) {
      const h = o.host(i++)
      s += h
      written += h.length
    }
    yield s
  }
  yield TAIL
}

/** Writes a generated document to `file`. */
export async function writeNmapFile(file: string, doc: Iterable<string>): Promise<void> {
  await writeChunks(file, doc)
}

/** Writes generated text to `file` as it is produced (backpressure respected); its size in bytes once closed. */
export async function writeChunks(file: string, chunks: Iterable<string>): Promise<number> {
  const out = createWriteStream(file)
  for (const c of chunks) if (!out.write(c)) await once(out, 'drain')
  out.end()
  await once(out, 'close')
  return statSync(file).size
}
