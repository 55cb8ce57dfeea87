/**
 * @fileoverview TLS cipher bench: 512 loopback TLS endpoints (one child process) in four configurations, fully enumerated by the
 * `tls` family (suites per version, server order, groups, DH) through `scan()`; then sslscan's default scan (which also lists
 * suites and groups) of the same endpoints one after another, as users run it, within a time budget and extrapolated; and the
 * suites both found on the endpoints sslscan scanned; and the handshake floor: one complete TLS handshake per endpoint at the
 * scan's concurrency, the least any scanner that connects to every endpoint pays. Figures are printed, never asserted.
 * Run alone: `npm run bench -- tls-ciphers`. Child mode: `--serve N` prints `{"ports":[…]}` and serves until stdin closes.
 */
import { execFile, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { connect, createServer, type TlsOptions } from 'node:tls'
import pLimit from 'p-limit'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { issue, labPki, privateKey } from '../../checks/certificate/lab.ts'
import tls from '../../checks/certificate/tls-check.ts'
import { suiteOf } from '../../checks/certificate/tls-suites.ts'
import { scan } from '../../src/engine/run.ts'

const ENDPOINTS = 512
const SSLSCAN = '/usr/bin/sslscan'
const self = fileURLToPath(import.meta.url)

/** The four configurations, endpoint i uses CONFIGS[i % 4]. */
const CONFIGS: readonly { name: string; opts: TlsOptions }[] = [
  { name: 'OpenSSL DEFAULT, TLS 1.0–1.3, client order', opts: { ciphers: 'DEFAULT@SECLEVEL=0', minVersion: 'TLSv1', honorCipherOrder: false } },
  { name: 'Mozilla intermediate', opts: { ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305', ecdhCurve: 'X25519:P-256:P-384' } },
  { name: 'NULL and anonymous suites, TLS 1.2', opts: { ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256:NULL-SHA256:AECDH-AES128-SHA:@SECLEVEL=0', maxVersion: 'TLSv1.2' } },
  { name: 'CBC only, TLS 1.2', opts: { ciphers: 'ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES256-SHA', maxVersion: 'TLSv1.2', honorCipherOrder: true } },
]

async function serve(n: number): Promise<void> {
  const now = Date.now()
  const key = privateKey('ec:prime256v1', 7)
  const leaf = issue({ cn: 'localhost', key, issuer: labPki().intermediate, sans: ['localhost', '127.0.0.1'], notBefore: new Date(now - 86_400_000), notAfter: new Date(now + 89 * 86_400_000) })
  const base = { key: key.export({ type: 'pkcs8', format: 'pem' }) as string, cert: leaf.pem + labPki().intermediate.pem, minVersion: 'TLSv1.2' as const }
  const ports: number[] = []
  for (let i = 0; i < n; i++) {
    const server = createServer({ ...base, ...CONFIGS[i % CONFIGS.length]!.opts }, (s) => s.end())
    server.on('tlsClientError', () => {})
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
    ports.push((server.address() as { port: number }).port)
  }
  process.stdout.write(`${JSON.stringify({ ports })}\n`)
  process.stdin.resume()
  process.stdin.on('end', () => process.exit(0))
}

async function startChild(n: number): Promise<{ ports: number[]; stop(): void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', self, '--serve', String(n)], { stdio: ['pipe', 'pipe', 'inherit'] })
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! })
    rl.once('line', (l) => {
      rl.close()
      resolve(l)
    })
    child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)))
  })
  return { ports: (JSON.parse(line) as { ports: number[] }).ports, stop: () => child.stdin!.end() }
}

/** `TLSv1.2 TLS_…` lines from sslscan's console output (`--show-cipher-ids`). */
const sslscanSuites = (out: string): string[] =>
  [...out.matchAll(/^(?:Preferred|Accepted)\s+(TLSv1\.[0-3]|SSLv3)\s+\d+ bits\s+0x([0-9A-F]{4}) /gm)].map(([, v, id]) => `${v!.replace('TLSv1.0', 'TLSv1')} ${suiteOf(Number.parseInt(id!, 16)).name}`).sort()

/** One complete TLS handshake per port, `concurrency` at a time: the floor of any scan that connects to every endpoint. */
async function handshakeFloor(ports: readonly number[], concurrency: number): Promise<{ ms: number; failed: number }> {
  const limit = pLimit(concurrency)
  let failed = 0
  const t0 = performance.now()
  await Promise.all(
    ports.map((port) =>
      limit(
        () =>
          new Promise<void>((resolve) => {
            const s = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, servername: 'localhost' }, () => (s.destroy(), resolve()))
            s.on('error', () => (failed++, resolve()))
          }),
      ),
    ),
  )
  return { ms: performance.now() - t0, failed }
}

export async function run(): Promise<void> {
  const child = await startChild(ENDPOINTS)
  try {
    const targets = child.ports.map((p) => `tls://127.0.0.1:${p}`)
    await scan({ targets: targets.slice(0, 4), checks: tls.checks, perHost: 64 })
    const t0 = performance.now()
    const report = await scan({ targets, checks: tls.checks, concurrency: 128, perHost: 128, maxSockets: 512 })
    const ms = performance.now() - t0
    const hellos = report.findings.filter((f) => f.ruleId === 'tls-weak-cipher').reduce((n, f) => n + Number(f.evidence?.hellos ?? 0), 0)
    console.log(`  ztscan tls family: ${targets.length} endpoints fully enumerated in ${(ms / 1000).toFixed(2)} s (${(ms / targets.length).toFixed(1)} ms/endpoint wall), ${hellos} ClientHellos (${(hellos / targets.length).toFixed(1)}/endpoint), ${report.findings.length} results, ${report.errors.length} errors`)
    for (const [i, c] of CONFIGS.entries()) {
      const f = report.findings.find((x) => x.target === targets[i] && x.ruleId === 'tls-weak-cipher')
      const suites = Object.values((f?.evidence?.suites ?? {}) as Record<string, string[]>).flat().length
      console.log(`    ${c.name}: ${suites} suite×version pairs, groups ${JSON.stringify(f?.evidence?.groups ?? [])}, failed ${report.findings.filter((x) => x.target === targets[i] && x.status === 'fail').map((x) => x.ruleId).join(', ') || 'none'}`)
    }
    const floor = await handshakeFloor(child.ports, 128)
    console.log(`  handshake floor: ${child.ports.length} bare TLS handshakes (Node client, concurrency 128) in ${(floor.ms / 1000).toFixed(2)} s (${floor.failed} failed); full enumeration = ${(ms / floor.ms).toFixed(1)}x the floor for ${(hellos / targets.length).toFixed(1)} hellos/endpoint`)
    if (!existsSync(SSLSCAN)) return console.log(`  sslscan: not installed at ${SSLSCAN}; skipped`)
    const budgetMs = 60_000
    const s0 = performance.now()
    let done = 0
    let same = 0
    const differ: string[] = []
    for (const [i, p] of child.ports.entries()) {
      const { stdout } = await promisify(execFile)(SSLSCAN, ['--no-colour', '--show-cipher-ids', `127.0.0.1:${p}`], { timeout: 60_000 })
      done++
      const f = report.findings.find((x) => x.target === targets[i] && x.ruleId === 'tls-weak-cipher')
      const ours = Object.entries((f?.evidence?.suites ?? {}) as Record<string, string[]>).flatMap(([v, ns]) => ns.map((n) => `${v} ${n}`)).sort()
      if (JSON.stringify(ours) === JSON.stringify(sslscanSuites(stdout))) same++
      else differ.push(`${CONFIGS[i % CONFIGS.length]!.name}: ztscan ${ours.length}, sslscan ${sslscanSuites(stdout).length}`)
      if (performance.now() - s0 > budgetMs) break
    }
    const sms = performance.now() - s0
    const full = (sms / done) * targets.length
    const how = done === targets.length ? 'measured' : `extrapolated from ${done} endpoints`
    console.log(`  sslscan (default scan: suites and groups, sequential): ${targets.length} endpoints in ${(full / 1000).toFixed(1)} s (${how}; ${(sms / done).toFixed(0)} ms/endpoint)`)
    console.log(`  speed-up: ${(full / ms).toFixed(1)}x; same accepted suites on ${same} of ${done} endpoints${differ.length ? ` (differ: ${differ.slice(0, 4).join('; ')})` : ''}`)
  } finally {
    child.stop()
  }
}

if (process.argv[1] === self) {
  const i = process.argv.indexOf('--serve')
  if (i > 0) await serve(Number(process.argv[i + 1]))
  else await run()
}
