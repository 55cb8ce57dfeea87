/**
 * @fileoverview The cipher part of `npm run compare:tls` (`-- --suites` runs it alone): Node TLS servers on 127.0.0.1 in four
 * configurations, each enumerated by ztscan's `tls` family, by `sslscan` (default scan: suites and groups) and by
 * `testssl --json -E -f` (ciphers per protocol, forward secrecy and curves); accepted suites (IANA names, per version), groups and
 * grade side by side, every difference listed and, where expected, explained (`SUITES_KNOWN`, and the README).
 */
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createServer, type Server, type TlsOptions } from 'node:tls'
import pLimit from 'p-limit'
import { issue, labPki, privateKey } from '../../checks/certificate/lab.ts'
import tls from '../../checks/certificate/tls-check.ts'
import { suiteOf } from '../../checks/certificate/tls-suites.ts'
import { scan } from '../../src/engine/run.ts'

const TESTSSL = '/usr/bin/testssl'
const SSLSCAN = '/usr/bin/sslscan'

/** The servers compared (the bench's four configurations). */
const CONFIGS: readonly { name: string; opts: TlsOptions }[] = [
  { name: 'openssl-default', opts: { ciphers: 'DEFAULT@SECLEVEL=0', minVersion: 'TLSv1', honorCipherOrder: false } },
  { name: 'mozilla-intermediate', opts: { ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305', ecdhCurve: 'X25519:P-256:P-384' } },
  { name: 'null-anon-tls12', opts: { ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256:NULL-SHA256:AECDH-AES128-SHA:@SECLEVEL=0', maxVersion: 'TLSv1.2' } },
  { name: 'cbc-only-tls12', opts: { ciphers: 'ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES256-SHA', maxVersion: 'TLSv1.2', honorCipherOrder: true } },
]

/** Why a peer differs from ztscan, where that is expected (`tool server what`). */
const SUITES_KNOWN: Record<string, string> = {
  'testssl * grade': 'testssl 3.0.8 (Debian 12) has no rating (it came with testssl 3.1); sslscan does not grade.',
  'sslscan * grade': 'sslscan does not grade.',
  'sslscan * groups': "sslscan offers one group per handshake, with its OpenSSL's default (non-anonymous) suites; under TLS 1.2 a server with an ECDSA certificate refuses every group alone but its certificate's curve (RFC 8422 §5.1), so sslscan sees only secp256r1 (ztscan offers the rest with that curve last).",
  'testssl null-anon-tls12 groups': 'the other curves are accepted only with the anonymous ECDH suite (no certificate curve to match), which testssl -f does not offer (its OpenSSL builds no AECDH suites at the default security level).',
}

/** Runs a peer tool (sslscan, testssl) without a shell; stdout and stderr together, killed after `timeoutMs`. */
export function runTool(cmd: string, args: string[], timeoutMs: number): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    p.stdout.on('data', (d: Buffer) => (out += d.toString()))
    p.stderr.on('data', (d: Buffer) => (out += d.toString()))
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs)
    p.on('close', (code) => {
      clearTimeout(t)
      resolve({ code, out })
    })
  })
}

/** OpenSSL's curve names → IANA group names as ztscan prints them. */
const GROUP_ALIASES: Readonly<Record<string, string>> = { prime256v1: 'secp256r1', X25519: 'x25519', X448: 'x448' }
const group = (n: string): string => GROUP_ALIASES[n] ?? n

interface View {
  suites: string[]
  groups: string[]
  grade: string
}

/** sslscan's console (`--show-cipher-ids`): accepted suites by code point, groups from "Server Key Exchange Group(s)". */
function sslscanView(out: string): View {
  const suites = [...out.matchAll(/^(?:Preferred|Accepted)\s+(TLSv1\.[0-3]|SSLv3)\s+\d+ bits\s+0x([0-9A-F]{4}) /gm)].map(([, v, id]) => `${v!.replace('TLSv1.0', 'TLSv1')} ${suiteOf(Number.parseInt(id!, 16)).name}`)
  const groups = [...out.matchAll(/^TLSv1\.[0-3]\s+\d+ bits\s+(\S+)/gm)].map(([, g]) => group(g!))
  return { suites: [...new Set(suites)].sort(), groups: [...new Set(groups)].sort(), grade: 'n/a' }
}

interface TestsslItem { id: string; severity: string; finding: string }
/** testssl's flat JSON: `cipher-…` items (`TLSv1.2  xc02f  ECDHE-…`), the curves of `FS_ECDHE_curves`, and a rating if any. */
function testsslView(items: TestsslItem[]): View {
  const suites = items
    .filter((i) => /^cipher[-_]/.test(i.id))
    .map((i) => /^(SSLv3|TLS ?v?1(?:\.[123])?)\s+x([0-9a-f]+)\s/.exec(i.finding.trim()))
    .filter((m): m is RegExpExecArray => !!m)
    .map(([, v, hex]) => `${v!.replace(/^TLS ?v?/, 'TLSv')} ${suiteOf(Number.parseInt(hex!.length > 4 ? hex!.slice(-4) : hex!, 16)).name}`)
  const curves = items.filter((i) => /curves|groups/i.test(i.id)).flatMap((i) => i.finding.split(/\s+/).filter((x) => /^[A-Za-z][\w-]+$/.test(x)).map(group))
  const rating = items.find((i) => i.id === 'overall_grade')?.finding ?? 'n/a'
  return { suites: [...new Set(suites)].sort(), groups: [...new Set(curves)].sort(), grade: rating }
}

const diff = (a: readonly string[], b: readonly string[]): { only: string[]; missing: string[] } => ({ only: b.filter((x) => !a.includes(x)), missing: a.filter((x) => !b.includes(x)) })

/** Starts the servers, runs the three tools, prints the side-by-side table and every difference. */
export async function compareSuites(dir: string): Promise<void> {
  const now = Date.now()
  const key = privateKey('ec:prime256v1', 7)
  const leaf = issue({ cn: 'localhost', key, issuer: labPki().intermediate, sans: ['localhost', '127.0.0.1'], notBefore: new Date(now - 86_400_000), notAfter: new Date(now + 89 * 86_400_000) })
  const base = { key: key.export({ type: 'pkcs8', format: 'pem' }) as string, cert: leaf.pem + labPki().intermediate.pem, minVersion: 'TLSv1.2' as const }
  const servers: Server[] = []
  const ports: number[] = []
  try {
    for (const c of CONFIGS) {
      const server = createServer({ ...base, ...c.opts }, (s) => s.end())
      server.on('tlsClientError', () => {})
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
      servers.push(server)
      ports.push((server.address() as { port: number }).port)
    }
    const caFile = join(dir, 'lab-root-ca.pem')
    const report = await scan({ targets: ports.map((p) => `tls://127.0.0.1:${p}`), checks: tls.checks, settings: { tls: { caFile } }, perHost: 16 })
    const ours: View[] = ports.map((p) => {
      const f = report.findings.find((x) => x.target === `tls://127.0.0.1:${p}` && x.ruleId === 'tls-grade')
      const ev = (f?.evidence ?? {}) as { suites?: Record<string, string[]>; groups?: string[]; groupsTls12?: string[]; grade?: string }
      return { suites: Object.entries(ev.suites ?? {}).flatMap(([v, ns]) => ns.map((n) => `${v} ${n}`)).sort(), groups: [...new Set([...(ev.groups ?? []), ...(ev.groupsTls12 ?? [])])].sort(), grade: ev.grade ?? 'error' }
    })
    const limit = pLimit(2)
    const t0 = performance.now()
    const peers = await Promise.all(
      CONFIGS.map((c, i) =>
        limit(async () => {
          const hp = `127.0.0.1:${ports[i]}`
          let ss: View | undefined
          let ts: View | undefined
          if (existsSync(SSLSCAN)) ss = sslscanView((await runTool(SSLSCAN, ['--no-colour', '--show-cipher-ids', hp], 120_000)).out)
          if (existsSync(TESTSSL)) {
            const out = join(dir, `suites-${c.name}.json`)
            await runTool(TESTSSL, ['--quiet', '--color', '0', '--warnings', 'batch', '-E', '-f', '-oj', out, hp], 300_000)
            try {
              ts = testsslView(JSON.parse(readFileSync(out, 'utf8')) as TestsslItem[])
            } catch {
              ts = undefined
            }
          }
          return { ss, ts }
        }),
      ),
    )
    console.log(`\naccepted suites, groups and grade: ztscan beside sslscan (default scan) and testssl -E -f (${((performance.now() - t0) / 1000).toFixed(0)} s for the peers)`)
    const w = [22, 16, 16, 16, 12]
    const line = (cells: string[]): string => cells.map((x, i) => x.padEnd(w[i] ?? 0)).join(' ')
    console.log(line(['server', 'suites z/ss/ts', 'groups z/ss/ts', 'same suites', 'grade z/ss/ts']))
    console.log(line(w.map((n) => '-'.repeat(n))))
    const notes: string[] = []
    for (const [i, c] of CONFIGS.entries()) {
      const z = ours[i]!
      const { ss, ts } = peers[i]!
      const n = (v: View | undefined, k: 'suites' | 'groups'): string => (v ? String(v[k].length) : '-')
      const same = [ss ? (diff(z.suites, ss.suites).only.length + diff(z.suites, ss.suites).missing.length === 0 ? 'ss=' : 'ss≠') : 'ss-', ts ? (diff(z.suites, ts.suites).only.length + diff(z.suites, ts.suites).missing.length === 0 ? 'ts=' : 'ts≠') : 'ts-'].join(' ')
      console.log(line([c.name, `${z.suites.length}/${n(ss, 'suites')}/${n(ts, 'suites')}`, `${z.groups.length}/${n(ss, 'groups')}/${n(ts, 'groups')}`, same, `${z.grade}/${ss?.grade ?? '-'}/${ts?.grade ?? '-'}`]))
      for (const [tool, v] of [['sslscan', ss], ['testssl', ts]] as const) {
        if (!v) continue
        for (const k of ['suites', 'groups'] as const) {
          const d = diff(z[k], v[k])
          if (!d.only.length && !d.missing.length) continue
          const why = SUITES_KNOWN[`${tool} ${c.name} ${k}`] ?? SUITES_KNOWN[`${tool} * ${k}`] ?? 'unexplained: investigate'
          notes.push(`  ${tool} ${c.name} ${k}: ${d.only.length ? `only ${tool}: ${d.only.join(', ')}` : ''}${d.only.length && d.missing.length ? '; ' : ''}${d.missing.length ? `only ztscan: ${d.missing.join(', ')}` : ''} — ${why}`)
        }
      }
    }
    console.log(`\ngrades: ${SUITES_KNOWN['testssl * grade']}`)
    if (notes.length) console.log(`differences:\n${notes.join('\n')}`)
    else console.log('no differences in suites or groups')
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))))
  }
}
