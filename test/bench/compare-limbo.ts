/**
 * @fileoverview `npm run compare:limbo -- PATH/limbo.json [--files] [--all] [--verbose]`: measures ztscan's path validation on
 * the C2SP x509-limbo conformance suite (https://github.com/C2SP/x509-limbo), kept outside this project. Get `limbo.json` from
 * a checkout of that repository (it is committed at its root, or `python -m limbo compile -o limbo.json` regenerates it).
 *
 * Each server-authentication case of the RFC 5280 and Web PKI sets (`--all`: every server case) is served by a loopback TLS
 * server (127.0.0.1) with the case's leaf key and chain, and scanned through the library with the case's roots as the only
 * anchors (`useSystemRoots: false`), the case's validation time as `now` and its expected peer name as the name to verify.
 * A case the TLS server cannot serve (a key OpenSSL will not load) is scanned as a file (`cert:` with `?name=` semantics);
 * `--files` scans every case as files. ztscan "accepts" a chain when no path-validity rule fails and no error is reported.
 * The summary prints agreement, crashes (errors with reason `bug`) and OpenSSL's agreement from the same handshakes
 * (`authorizationError` with the same anchors; DNS-named cases only, as Node checks the connected IP, not the case's).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:tls'
import { isIP } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import certificate from '../../checks/certificate/index.ts'
import { tlsEndpoint } from '../../checks/certificate/targets.ts'
import { parsePolicy } from '../../src/rules/policy.ts'
import { scan } from '../../src/engine/run.ts'
import type { Target } from '../../src/types.ts'
import { listen, tracked } from '../helpers/tls.ts'

interface Case {
  id: string
  validation_kind: string
  trusted_certs: string[]
  untrusted_intermediates: string[]
  peer_certificate: string
  peer_certificate_key: string | null
  validation_time: string | null
  expected_result: 'SUCCESS' | 'FAILURE'
  expected_peer_name: { kind: string; value: string } | null
  extended_key_usage: string[]
}

/** Rules whose failure means "this chain is not valid for this name now". */
const VALIDITY_RULES = new Set([
  'certificate-untrusted', 'certificate-incomplete-chain', 'certificate-self-signed', 'certificate-expired', 'certificate-not-yet-valid',
  'certificate-hostname-mismatch', 'certificate-weak-key', 'certificate-weak-signature', 'certificate-no-san', 'certificate-invalid-ca',
  'certificate-name-constraints', 'certificate-wrong-purpose', 'certificate-unknown-critical-extension', 'certificate-profile-violation',
])

const args = process.argv.slice(2)
const path = args.find((a) => !a.startsWith('--'))
if (!path) {
  console.error('usage: npm run compare:limbo -- PATH/limbo.json [--files] [--all] [--verbose]\n  limbo.json: https://github.com/C2SP/x509-limbo (repository root)')
  process.exit(2)
}
const filesOnly = args.includes('--files')
const verbose = args.includes('--verbose')
const all = args.includes('--all')

async function serve(c: Case): Promise<{ server: Server; port: number; close(): Promise<void> } | undefined> {
  if (!c.peer_certificate_key) return undefined
  let server: Server
  try {
    server = createServer({ key: c.peer_certificate_key, cert: [c.peer_certificate, ...c.untrusted_intermediates].join('\n'), ciphers: 'DEFAULT@SECLEVEL=0', minVersion: 'TLSv1.2' }, (s) => s.end())
  } catch {
    return undefined
  }
  server.on('tlsClientError', () => {})
  const close = tracked(server)
  return { server, port: await listen(server, '127.0.0.1'), close }
}

async function main(): Promise<void> {
  const suite = JSON.parse(readFileSync(path!, 'utf8')) as { testcases: Case[] }
  const cases = suite.testcases.filter((c) => c.validation_kind === 'SERVER' && (all || /^(rfc5280|webpki)::/.test(c.id)))
  const dir = mkdtempSync(join(tmpdir(), 'ztscan-limbo-'))
  const rows: { id: string; expected: string; zt: string; ossl: string; mode: string; why: string }[] = []
  let bugs = 0
  try {
    for (const [i, c] of cases.entries()) {
      const caFile = join(dir, `${i}-roots.pem`)
      writeFileSync(caFile, c.trusted_certs.join('\n'))
      const chainFile = join(dir, `${i}-chain.pem`)
      writeFileSync(chainFile, [c.peer_certificate, ...c.untrusted_intermediates].join('\n'))
      const name = c.expected_peer_name?.value
      const now = c.validation_time ? new Date(c.validation_time) : new Date()
      const policy = parsePolicy({ rules: { 'certificate-untrusted': { parameters: { useSystemRoots: false } }, 'certificate-legacy-protocol': { enabled: false }, 'certificate-tls12-unsupported': { enabled: false } } })
      const srv = filesOnly ? undefined : await serve(c)
      let target: Target
      if (srv) target = tlsEndpoint('127.0.0.1', srv.port, name && isIP(name) === 0 ? name : undefined, name ? { name } : {})
      else target = { kind: 'cert-file', id: `cert:${chainFile}`, path: chainFile, ...(name ? { name } : {}) }
      try {
        const report = await scan({ targets: [target], checks: certificate.checks, settings: { tls: { caFile } }, policy, now: () => now, timeoutMs: 10_000 })
        // A case without an expected peer name does not judge the name (over TLS the host, 127.0.0.1, is checked anyway).
        const fails = [...new Set(report.findings.filter((f) => f.status === 'fail' && VALIDITY_RULES.has(f.ruleId) && (name || f.ruleId !== 'certificate-hostname-mismatch')).map((f) => f.ruleId))]
        bugs += report.errors.filter((e) => e.reason === 'bug').length
        const errs = report.errors.map((e) => `${e.reason}: ${e.message}`)
        const zt = fails.length || errs.length ? 'FAILURE' : 'SUCCESS'
        const untrusted = report.findings.find((f) => f.ruleId === 'certificate-untrusted')
        const o = untrusted?.evidence.openssl as { authorized: boolean; error?: string } | undefined
        // Node checks the handshake's host (127.0.0.1), not the case's IP name: OpenSSL is judged on DNS-named cases only.
        const ossl = o && !(name && isIP(name)) ? (o.authorized ? 'SUCCESS' : 'FAILURE') : 'n/a'
        rows.push({ id: c.id, expected: c.expected_result, zt, ossl, mode: srv ? 'tls' : 'file', why: [...fails.map((f) => f.replace('certificate-', '')), ...errs].join(', ') + (o?.error ? ` [openssl: ${o.error}]` : '') })
      } finally {
        await srv?.close()
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  const agree = rows.filter((r) => r.zt === r.expected)
  for (const r of rows) if (verbose || r.zt !== r.expected) console.log(`${r.zt === r.expected ? 'ok  ' : 'DIFF'} ${r.expected.padEnd(7)} ztscan ${r.zt.padEnd(7)} openssl ${r.ossl.padEnd(7)} ${r.mode.padEnd(4)} ${r.id}  ${r.why}`)
  const judged = rows.filter((r) => r.ossl !== 'n/a')
  const pct = (n: number, d: number): string => `${d ? ((100 * n) / d).toFixed(1) : '0'} %`
  const valid = rows.filter((r) => r.expected === 'SUCCESS')
  const invalid = rows.filter((r) => r.expected === 'FAILURE')
  console.log(`\n${rows.length} cases (${rows.filter((r) => r.mode === 'tls').length} over TLS, ${rows.filter((r) => r.mode === 'file').length} as files)`)
  console.log(`ztscan agrees with the expected verdict on ${agree.length}/${rows.length} = ${pct(agree.length, rows.length)}; valid chains accepted ${valid.filter((r) => r.zt === 'SUCCESS').length}/${valid.length}, invalid rejected ${invalid.filter((r) => r.zt === 'FAILURE').length}/${invalid.length}; bug errors: ${bugs}`)
  console.log(`OpenSSL (same handshakes, same anchors; DNS-named cases over TLS): ${judged.filter((r) => r.ossl === r.expected).length}/${judged.length} = ${pct(judged.filter((r) => r.ossl === r.expected).length, judged.length)}`)
}

await main()
