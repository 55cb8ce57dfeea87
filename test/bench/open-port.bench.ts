/**
 * @fileoverview open-port bench: streamed nmap XML parsing (200 MB file, beside python3-libnmap; 1 GB through a pipe)
 * and a connect scan of all 65,535 TCP ports of 127.0.0.1 beside `nmap -sT -p-`. Figures are printed, never asserted.
 * Parsing runs in child processes so each peak RSS is its own. Loopback only.
 *   npx tsx bench/index.ts open-port
 */
import { execFile, spawn } from 'node:child_process'
import { createWriteStream, existsSync, statSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { once } from 'node:events'
import { parseNmapFile, parseNmapXml } from '../../checks/open-port/nmap-xml.ts'
import openPort from '../../checks/open-port/index.ts'
import { scan } from '../../src/engine/run.ts'

const self = fileURLToPath(import.meta.url)
const MB = 1024 * 1024

/** One nmap-shaped host (-sV, a script, closed extraports), about 1.3 KB. */
function hostXml(i: number): string {
  const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`
  return `<host starttime="1795767760" endtime="1795767790"><status state="up" reason="syn-ack" reason_ttl="0"/>
<address addr="${ip}" addrtype="ipv4"/>
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
const HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE nmaprun>\n<nmaprun scanner="nmap" args="nmap -sV -oX - 10.0.0.0/8" start="1795767759" version="7.93" xmloutputversion="1.05">\n'
const TAIL = '<runstats><finished time="1795768374" elapsed="614.72" exit="success"/><hosts up="1" down="0" total="1"/></runstats>\n</nmaprun>\n'

/** Yields the document in ~1 MB strings until `bytes` is reached. */
function* generate(bytes: number): Generator<string> {
  yield HEAD
  let written = HEAD.length
  let i = 0
  while (written < bytes) {
    let s = ''
    while (s.length < MB) s += hostXml(i++)
    written += s.length
    yield s
  }
  yield TAIL
}

async function writeDoc(file: string, bytes: number): Promise<void> {
  const out = createWriteStream(file)
  for (const s of generate(bytes)) if (!out.write(s)) await once(out, 'drain')
  out.end()
  await once(out, 'finish')
}

// ---- child modes: `node --import tsx bench/open-port.bench.ts --open-port-child file|stdin [path]` ----
async function child(mode: string, path?: string): Promise<void> {
  const t0 = performance.now()
  let hosts = 0
  let ports = 0
  const handlers = {
    host(h: { ports: readonly unknown[] }) {
      hosts++
      ports += h.ports.length
    },
  }
  if (mode === 'file') await parseNmapFile(path!, path!, handlers)
  else await parseNmapXml(process.stdin, 'stdin', handlers)
  const ms = performance.now() - t0
  process.stdout.write(JSON.stringify({ ms, hosts, ports, maxRssKb: process.resourceUsage().maxRSS }) + '\n')
}

// The shipped parser (dist/, plain node) when built: the tsx loader alone adds ~70 MB of RSS that users never pay.
const distParser = fileURLToPath(new URL('../../dist/checks/open-port/nmap-xml.js', import.meta.url))
const DIST_CHILD = `
const { parseNmapFile, parseNmapXml } = await import(process.argv[1])
const [mode, path] = process.argv.slice(2)
const t0 = performance.now(); let hosts = 0, ports = 0
const handlers = { host(h) { hosts++; ports += h.ports.length } }
if (mode === 'file') await parseNmapFile(path, path, handlers); else await parseNmapXml(process.stdin, 'stdin', handlers)
process.stdout.write(JSON.stringify({ ms: performance.now() - t0, hosts, ports, maxRssKb: process.resourceUsage().maxRSS }) + '\\n')`

/** Which code the parse figures measure. */
export const parserUnderTest = existsSync(distParser) ? 'dist (plain node)' : 'src through tsx (run `npm run build` to measure the shipped code)'

function runChild(args: string[], feed?: (stdin: NodeJS.WritableStream) => Promise<void>): Promise<{ ms: number; hosts: number; ports: number; maxRssKb: number }> {
  return new Promise((resolve, reject) => {
    const argv = existsSync(distParser) ? ['--input-type=module', '-e', DIST_CHILD, pathToFileURL(distParser).href, ...args] : ['--import', 'tsx', self, '--open-port-child', ...args]
    const p = spawn(process.execPath, argv, { stdio: ['pipe', 'pipe', 'inherit'] })
    let out = ''
    p.stdout.on('data', (d: Buffer) => (out += d.toString()))
    p.on('error', reject)
    p.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`child exited ${code}`))))
    if (feed) feed(p.stdin).catch(reject)
    else p.stdin.end()
  })
}

async function libnmap(file: string): Promise<string> {
  const py = '/usr/bin/python3'
  if (!existsSync(py)) return 'skipped (/usr/bin/python3 missing)'
  const code = 'import resource,sys,time\nfrom libnmap.parser import NmapParser\nt=time.time()\nr=NmapParser.parse_fromfile(sys.argv[1])\nprint(time.time()-t, len(r.hosts), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)'
  try {
    const { stdout } = await promisify(execFile)(py, ['-c', code, file], { timeout: 180_000, maxBuffer: MB })
    const [s, hosts, rss] = stdout.trim().split(' ').map(Number) as [number, number, number]
    const size = statSync(file).size / MB
    return `${(size / s).toFixed(1)} MB/s (${s.toFixed(1)} s, ${hosts} hosts), peak RSS ${(rss / 1024).toFixed(0)} MB`
  } catch (err) {
    return `failed or over 180 s: ${(err as Error).message.split('\n')[0]}`
  }
}


/** Prints the figures. */
export async function run(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'ztscan-bench-op-'))
  try {
    const file = join(dir, 'scan-200mb.xml')
    await writeDoc(file, 200 * MB)
    const size = statSync(file).size / MB
    console.log(`  parser measured: ${parserUnderTest}`)
    const r = await runChild(['file', file])
    console.log(`  parse ${size.toFixed(0)} MB nmap XML (file): ${(size / (r.ms / 1000)).toFixed(1)} MB/s (${(r.ms / 1000).toFixed(1)} s, ${r.hosts} hosts, ${r.ports} ports), peak RSS ${(r.maxRssKb / 1024).toFixed(0)} MB`)
    console.log(`  python3-libnmap NmapParser.parse_fromfile, same file: ${await libnmap(file)}`)
    await rm(file)

    const gb = 1024 * MB
    let fed = 0
    const s = await runChild(['stdin'], async (stdin) => {
      for (const chunk of generate(gb)) {
        fed += chunk.length
        if (!stdin.write(chunk)) await once(stdin, 'drain')
      }
      stdin.end()
    })
    console.log(`  parse ${(fed / MB).toFixed(0)} MB streamed through a pipe: ${(fed / MB / (s.ms / 1000)).toFixed(1)} MB/s (${(s.ms / 1000).toFixed(1)} s, ${s.hosts} hosts), peak RSS ${(s.maxRssKb / 1024).toFixed(0)} MB`)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }

  const t0 = performance.now()
  const report = await scan({ checks: openPort.checks, targets: ['host://127.0.0.1?ports=all'], timeoutMs: 600_000 })
  const ours = performance.now() - t0
  const openPorts = report.findings.find((f) => f.resource === '127.0.0.1')?.evidence.openPorts
  console.log(`  connect scan 127.0.0.1 ports 1-65535 (engine: ctx.net.tcpProbe worker pool): ${(ours / 1000).toFixed(1)} s, ${String(openPorts)} open, ${report.errors.length} errors`)
  if (existsSync('/usr/bin/nmap')) {
    const n0 = performance.now()
    const { stdout } = await promisify(execFile)('/usr/bin/nmap', ['-sT', '-n', '-Pn', '-p-', '127.0.0.1'], { maxBuffer: MB })
    console.log(`  nmap -sT -n -Pn -p- 127.0.0.1: ${((performance.now() - n0) / 1000).toFixed(1)} s, ${(stdout.match(/\/tcp\s+open/g) ?? []).length} open`)
  } else console.log('  nmap: skipped (/usr/bin/nmap missing)')
}

const at = process.argv.indexOf('--open-port-child')
if (at >= 0) await child(process.argv[at + 1]!, process.argv[at + 2])
