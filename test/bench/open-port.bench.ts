/**
 * @fileoverview open-port bench: streamed nmap XML parsing (200 MB file, beside python3-libnmap; 1 GB through a pipe)
 * and a connect scan of all 65,535 TCP ports of 127.0.0.1 beside `nmap -sT -p-`. Figures are printed, never asserted.
 * Parsing runs in child processes so each peak RSS is its own. Loopback only.
 *   npx tsx bench/index.ts open-port
 */
import { execFile, spawn } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { once } from 'node:events'
import { parseNmapFile, parseNmapXml } from '../../checks/open-port/nmap-xml.ts'
import openPort from '../../checks/open-port/index.ts'
import { scan } from '../../src/engine/run.ts'
import { nmapDocument, serviceHost, writeNmapFile } from '../helpers/nmap-gen.ts'

const self = fileURLToPath(import.meta.url)
const MB = 1024 * 1024

const generate = (bytes: number): Generator<string> => nmapDocument({ host: serviceHost, bytes })
const writeDoc = (file: string, bytes: number): Promise<void> => writeNmapFile(file, generate(bytes))

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

export async function libnmap(file: string): Promise<string> {
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

  for (const scanner of ['builtin', 'nmap'] as const) {
    if (scanner === 'nmap' && !existsSync('/usr/bin/nmap')) continue
    const t0 = performance.now()
    const report = await scan({ checks: openPort.checks, targets: ['host://127.0.0.1?ports=all'], settings: { portScan: { scanner } }, timeoutMs: 600_000, includePassed: true })
    const ours = performance.now() - t0
    const openPorts = report.findings.find((f) => f.resource === '127.0.0.1')?.evidence.openPorts
    console.log(`  ztscan host://127.0.0.1?ports=all, --port-scanner ${scanner}: ${(ours / 1000).toFixed(1)} s, ${String(openPorts)} open, ${report.errors.length} errors`)
  }
  if (existsSync('/usr/bin/nmap')) {
    const n0 = performance.now()
    const { stdout } = await promisify(execFile)('/usr/bin/nmap', ['-sT', '-n', '-Pn', '-p-', '127.0.0.1'], { maxBuffer: MB })
    console.log(`  nmap -sT -n -Pn -p- 127.0.0.1: ${((performance.now() - n0) / 1000).toFixed(1)} s, ${(stdout.match(/\/tcp\s+open/g) ?? []).length} open`)
  } else console.log('  nmap: skipped (/usr/bin/nmap missing)')
}

const at = process.argv.indexOf('--open-port-child')
if (at >= 0) await child(process.argv[at + 1]!, process.argv[at + 2])
