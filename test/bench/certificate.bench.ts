/**
 * @fileoverview Certificate bench: 500 loopback TLS endpoints (one child process listening on 500 ports) through `scan()`, then the
 * same endpoints through sslscan's fast mode, one endpoint after another as users run it. Figures are printed, never asserted.
 * Run alone: `npx tsx bench/certificate.bench.ts` or `npm run bench -- certificate`.
 * The child server: `node --import tsx bench/certificate.bench.ts --serve N` prints `{"ports":[…]}` and serves until stdin closes.
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import certificate from '../../checks/certificate/index.ts'
import { issue, labPki, privateKey, startTlsServer } from '../../checks/certificate/lab.ts'
import { scan } from '../../src/engine/run.ts'

const ENDPOINTS = 500
const SSLSCAN = '/usr/bin/sslscan'
/** sslscan's fast mode (REFERENCE.md): protocols and certificate only. */
export const SSLSCAN_FAST = ['--no-colour', '--no-ciphersuites', '--no-groups', '--no-fallback', '--no-renegotiation', '--no-compression', '--no-heartbleed']
const self = fileURLToPath(import.meta.url)

/**
 * Child mode: one process, `n` TLS servers on 127.0.0.1, each with its own leaf certificate (one shared EC P-256 key, so that
 * start-up stays fast) served with the lab intermediate.
 */
async function serve(n: number): Promise<void> {
  const { intermediate } = labPki()
  const now = Date.now()
  const key = privateKey('ec:prime256v1', 7)
  const servers = []
  for (let i = 0; i < n; i++) {
    const leaf = issue({ cn: `endpoint-${i}.localhost`, key, issuer: intermediate, sans: [`endpoint-${i}.localhost`, 'localhost', '127.0.0.1'], notBefore: new Date(now - 86_400_000), notAfter: new Date(now + 89 * 86_400_000) })
    servers.push(await startTlsServer({ chain: [leaf, intermediate] }))
  }
  process.stdout.write(`${JSON.stringify({ ports: servers.map((s) => s.port), ca: labPki().root.pem })}\n`)
  process.stdin.resume()
  process.stdin.on('end', () => process.exit(0))
}

/** Starts the child server; its lab CA (generated in the child) comes back with the ports. */
export async function startChild(n: number): Promise<{ ports: number[]; ca: string; stop(): void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', self, '--serve', String(n)], { stdio: ['pipe', 'pipe', 'inherit'] })
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! })
    rl.once('line', (l) => {
      rl.close()
      resolve(l)
    })
    child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)))
  })
  const { ports, ca } = JSON.parse(line) as { ports: number[]; ca: string }
  return { ports, ca, stop: () => child.stdin!.end() }
}

/** Runs the bench and prints its figures. */
export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ztscan-bench-cert-'))
  const caFile = join(dir, 'ca.pem')
  const child = await startChild(ENDPOINTS)
  writeFileSync(caFile, child.ca)
  try {
    const targets = child.ports.map((p) => `tls://127.0.0.1:${p}`)
    // Warm-up (module loading, root store parsing) on a few endpoints, then the measured run.
    await scan({ targets: targets.slice(0, 4), checks: certificate.checks, settings: { tls: { caFile } } })
    const t0 = performance.now()
    const report = await scan({ targets, checks: certificate.checks, settings: { tls: { caFile } }, concurrency: 128, perHost: 128, maxSockets: 512 })
    const ms = performance.now() - t0
    const failed = report.findings.filter((f) => f.status === 'fail').length
    console.log(`  ztscan: ${targets.length} TLS endpoints in ${(ms / 1000).toFixed(2)} s (${(ms / targets.length).toFixed(1)} ms/endpoint wall), ${report.findings.length} results, ${failed} fail, ${report.errors.length} errors`)
    console.log(`          concurrency 128, perHost 128 (all endpoints share 127.0.0.1; the default perHost of 4 would serialise them)`)

    if (!existsSync(SSLSCAN)) {
      console.log(`  sslscan: not installed at ${SSLSCAN}; skipped`)
      return
    }
    const budgetMs = 60_000
    const s0 = performance.now()
    let done = 0
    for (const p of child.ports) {
      spawnSync(SSLSCAN, [...SSLSCAN_FAST, `127.0.0.1:${p}`], { stdio: 'ignore', timeout: 30_000 })
      done++
      if (performance.now() - s0 > budgetMs) break
    }
    const sms = performance.now() - s0
    const full = (sms / done) * targets.length
    const how = done === targets.length ? 'measured' : `extrapolated from ${done} endpoints`
    console.log(`  sslscan (fast mode, sequential): ${targets.length} endpoints in ${(full / 1000).toFixed(2)} s (${how}; ${(sms / done).toFixed(1)} ms/endpoint)`)
    console.log(`  speed-up: ${(full / ms).toFixed(1)}x`)
  } finally {
    child.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

if (process.argv[1] === self) {
  const i = process.argv.indexOf('--serve')
  if (i > 0) await serve(Number(process.argv[i + 1]))
  else await run()
}
