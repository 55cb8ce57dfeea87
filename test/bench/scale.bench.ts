/**
 * @fileoverview Enterprise scale end to end (issue 14): a 200 MB generated nmap XML file (every address on loopback)
 * through the built CLI, `ztscan scan --nmap FILE -o r.json -o r.sarif`, beside a bare saxes pass and python3-libnmap on
 * the same file: wall time and peak RSS side by side, and the JSON's counts (hosts, open risky ports per service) checked
 * against the bare pass's; then 1 GB generated into `ztscan scan --nmap -` through a pipe, RSS sampled every second
 * (ZTSCAN_BENCH_PIPE_MB sets another size). Figures are printed, never asserted. `npm run bench -- scale`
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { JSONParser } from '@streamparser/json'
import { ensureBuilt, runCli } from '../hostile/cli.ts'
import { bin, root } from '../helpers/cli.ts'
import { nmapDocument, serviceHost, writeNmapFile } from '../helpers/nmap-gen.ts'
import { libnmap } from './open-port.bench.ts'

const MB = 1024 * 1024

/** A bare saxes pass (no model, no judging): hosts, open ports and open ports per service name. */
const SAXES = `
import { createReadStream } from 'node:fs'
import { SaxesParser } from 'saxes'
const t0 = performance.now()
const p = new SaxesParser()
let hosts = 0, open = 0, inOpen = false
const services = {}
p.on('opentag', (t) => {
  if (t.name === 'host') hosts++
  else if (t.name === 'state') { inOpen = t.attributes.state === 'open'; if (inOpen) open++ }
  else if (t.name === 'service' && inOpen) services[t.attributes.name] = (services[t.attributes.name] ?? 0) + 1
})
for await (const c of createReadStream(process.argv[1], { encoding: 'utf8', highWaterMark: 256 * 1024 })) p.write(c)
p.close()
process.stdout.write(JSON.stringify({ ms: performance.now() - t0, hosts, open, services, maxRssKb: process.resourceUsage().maxRSS }))`

function bare(file: string): Promise<{ ms: number; hosts: number; open: number; services: Record<string, number>; maxRssKb: number }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--input-type=module', '-e', SAXES, file], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    p.stdout.on('data', (d: Buffer) => (out += d.toString()))
    p.on('error', reject)
    p.on('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`saxes child exited ${code}`))))
  })
}

/** Hosts (assets) and failed findings per service, read back from the JSON report by a streaming parser. */
async function countsOf(json: string): Promise<{ hosts: number; failedByService: Record<string, number>; summary: Record<string, unknown> }> {
  const assets = new Set<string>()
  const failedByService: Record<string, number> = {}
  let summary: Record<string, unknown> = {}
  const parser = new JSONParser({ paths: ['$.findings.*', '$.passCounts.*', '$.summary'], keepStack: false })
  parser.onValue = ({ value, key, parent }) => {
    if (key === 'summary') summary = value as Record<string, unknown>
    else if (parent && Array.isArray(parent)) {
      const v = value as { asset?: string; status?: string; ruleId?: string; evidence?: { service?: string } }
      if (v.asset) assets.add(v.asset)
      if (v.status === 'fail' && v.ruleId !== 'open-port-not-allowed') failedByService[v.evidence?.service ?? '?'] = (failedByService[v.evidence?.service ?? '?'] ?? 0) + 1
    }
  }
  for await (const chunk of createReadStream(json)) parser.write(chunk as Buffer)
  return { hosts: assets.size, failedByService, summary }
}

/** `ztscan scan --nmap -` fed `mb` MB of generated XML through a pipe; RSS sampled from /proc every second. */
async function throughPipe(dir: string, mb: number): Promise<string> {
  const rssFile = join(dir, 'rss')
  const hook = `data:text/javascript,${encodeURIComponent(`import { writeFileSync } from 'node:fs'; process.on('exit', () => writeFileSync(${JSON.stringify(rssFile)}, String(process.resourceUsage().maxRSS)))`)}`
  const t0 = performance.now()
  const child = spawn(process.execPath, ['--import', hook, bin, 'scan', '-q', '--nmap', '-', '-o', join(dir, 'pipe.json'), '-o', join(dir, 'pipe.sarif'), '--fail-on', 'none'], { cwd: dir, stdio: ['pipe', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const curve: number[] = []
  const sampler = setInterval(() => {
    const m = existsSync(`/proc/${child.pid}/status`) ? /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8')) : null
    if (m) curve.push(Number(m[1]) / 1024)
  }, 1000)
  const closed = once(child, 'close')
  let fed = 0
  let fedAt = 0
  for (const chunk of nmapDocument({ host: serviceHost, bytes: mb * MB })) {
    fed += chunk.length
    if (!child.stdin.write(chunk)) await once(child.stdin, 'drain')
  }
  child.stdin.end()
  fedAt = curve.length
  const [code] = (await closed) as [number]
  clearInterval(sampler)
  const peak = existsSync(rssFile) ? Number(readFileSync(rssFile, 'utf8')) / 1024 : NaN
  const reading = curve.slice(0, fedAt)
  const q = (xs: number[], f: number): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) * f)] ?? NaN
  return `${(fed / MB).toFixed(0)} MB in ${((performance.now() - t0) / 1000).toFixed(1)} s, exit ${code}; RSS while reading (${reading.length} samples): median ${q(reading, 0.5).toFixed(0)} MB, max ${Math.max(...reading).toFixed(0)} MB; peak of the whole run ${peak.toFixed(0)} MB (score and reports at the end)${stderr ? `; stderr: ${stderr.trim().slice(0, 200)}` : ''}`
}

/** Prints the figures. */
export async function run(): Promise<void> {
  ensureBuilt()
  const dir = mkdtempSync(join(tmpdir(), 'ztscan-bench-scale-'))
  try {
    const file = join(dir, 'scan-200mb.xml')
    await writeNmapFile(file, nmapDocument({ host: serviceHost, bytes: 200 * MB }))
    const size = statSync(file).size / MB
    const b = await bare(file)
    console.log(`  ${size.toFixed(0)} MB nmap XML, ${b.hosts} hosts, ${b.open} open ports (${Object.entries(b.services).map(([k, v]) => `${k} ${v}`).join(', ')})`)
    console.log(`  bare saxes pass:            ${(b.ms / 1000).toFixed(1)} s, peak RSS ${(b.maxRssKb / 1024).toFixed(0)} MB`)
    const r = await runCli(['scan', '-q', '--nmap', file, '-o', join(dir, 'r.json'), '-o', join(dir, 'r.sarif'), '--fail-on', 'none'], { cwd: dir, killAfterMs: 600_000 })
    console.log(`  ztscan scan -o r.json -o r.sarif (built CLI): ${(r.ms / 1000).toFixed(1)} s (${(r.ms / b.ms).toFixed(1)}× the bare pass; goal ≤ 3×), peak RSS ${Math.round(r.rssMb)} MB (goal ≤ 300 MB), exit ${r.code}${r.stderr ? `, stderr: ${r.stderr.trim().slice(0, 300)}` : ''}`)
    console.log(`  python3-libnmap:            ${await libnmap(file)}`)
    if (r.code !== 0) return
    const c = await countsOf(join(dir, 'r.json'))
    const exact = c.hosts === b.hosts && Object.entries(c.failedByService).every(([k, v]) => b.services[k] === v)
    console.log(`  JSON (${(statSync(join(dir, 'r.json')).size / MB).toFixed(0)} MB): ${c.hosts} hosts, failed findings per service ${JSON.stringify(c.failedByService)}; passed ${String(c.summary.passed)}; counts equal the bare pass's: ${exact}`)
    const sarif = readFileSync(join(dir, 'r.sarif'))
    const results = (JSON.parse(sarif.toString('utf8')) as { runs: { results: unknown[] }[] }).runs[0]!.results.length
    console.log(`  SARIF: ${results} results (≤ 25,000), ${(gzipSync(sarif).length / MB).toFixed(1)} MB gzip (≤ 10 MB)`)
    rmSync(file)
    rmSync(join(dir, 'r.json'))
    console.log(`  ztscan scan --nmap - through a pipe: ${await throughPipe(dir, Number(process.env.ZTSCAN_BENCH_PIPE_MB ?? 1024))}`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
