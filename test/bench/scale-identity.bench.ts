/**
 * @fileoverview Identity-export scale (issue 14 item 2), `npm run bench -- identity`: generated Okta (the `{ users, factors,
 * roles }` bundle with the maps in reverse order, and a bare `_embedded` list), GitHub organisation and AWS credential-report
 * exports of 100,000 and 1,000,000 users, each read by the whole-file reader ztscan used before (readFile + parseExport, in a
 * child; a file over the 256 MiB it allowed is not tried) beside the streamed reader (in a child) and the built CLI end to
 * end (`scan idp:PROVIDER:FILE -o r.json`). Wall time and peak RSS side by side; figures are printed, never asserted.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ensureBuilt, runCli } from '../hostile/cli.ts'
import { root } from '../helpers/cli.ts'
import { writeChunks } from '../helpers/nmap-gen.ts'

const MB = 1024 * 1024


/** Lines of `n` items joined by commas, yielded a thousand at a time. */
function* joined(n: number, item: (i: number) => string): Generator<string> {
  for (let i = 0; i < n; i += 1000) {
    const batch: string[] = []
    for (let k = i; k < Math.min(n, i + 1000); k++) batch.push(item(k))
    yield (i ? ',\n' : '') + batch.join(',\n')
  }
}

const id = (i: number): string => `00u${String(i).padStart(17, '0')}`
const factors = (i: number): unknown[] =>
  i % 7 === 0 ? [] : i % 5 === 0 ? [{ id: `f${i}`, factorType: 'webauthn', provider: 'FIDO', status: 'ACTIVE' }] : [{ id: `f${i}`, factorType: 'sms', provider: 'OKTA', status: 'ACTIVE' }, { id: `g${i}`, factorType: 'push', provider: 'OKTA', status: 'ACTIVE' }]
const oktaUser = (i: number, embedded: boolean): string =>
  JSON.stringify({
    id: id(i), status: i % 13 === 0 ? 'SUSPENDED' : 'ACTIVE', created: '2024-01-10T17:00:00.000Z', lastLogin: '2025-05-02T08:12:44.000Z',
    profile: { firstName: 'U', lastName: `N${i}`, login: `user${i}@example.com`, email: `user${i}@example.com` },
    ...(embedded ? { _embedded: { factors: factors(i), ...(i % 11 === 0 ? { roles: [{ type: 'SUPER_ADMIN', status: 'ACTIVE' }] } : {}) } } : {}),
  })

function* oktaBundle(n: number): Generator<string> {
  yield '{"users":[\n'
  yield* joined(n, (i) => oktaUser(i, false))
  yield '],\n"factors":{\n'
  yield* joined(n, (k) => `${JSON.stringify(id(n - 1 - k))}:${JSON.stringify(factors(n - 1 - k))}`)
  yield '},\n"roles":{\n'
  yield* joined(Math.ceil(n / 11), (k) => `${JSON.stringify(id(k * 11))}:[{"type":"ORG_ADMIN","status":"ACTIVE"}]`)
  yield '}}\n'
}

function* oktaEmbedded(n: number): Generator<string> {
  yield '[\n'
  yield* joined(n, (i) => oktaUser(i, true))
  yield ']\n'
}

function* githubBundle(n: number): Generator<string> {
  const m = (i: number): string => JSON.stringify({ login: `dev${i}`, id: 1000 + i, node_id: `MDQ6VXNlcj${1000 + i}`, type: 'User', site_admin: false })
  yield '{"org":{"login":"acme-corp","id":9919,"two_factor_requirement_enabled":false},\n"members":[\n'
  yield* joined(n, m)
  yield '],\n"admins":['
  yield* joined(Math.ceil(n / 11), (k) => m(k * 11))
  yield '],\n"membersWith2faDisabled":['
  yield* joined(Math.ceil(n / 7), (k) => m(k * 7))
  yield ']}\n'
}

/** A credential report of `n` rows (the root account first; at most 100,000 rows are accepted). */
function* awsReport(n: number): Generator<string> {
  yield 'user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n'
  yield '<root_account>,arn:aws:iam::123456789012:root,2023-06-01T10:00:00+00:00,not_supported,N/A,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n'
  for (let i = 1; i < n; i += 1000) {
    let s = ''
    for (let k = i; k < Math.min(n, i + 1000); k++)
      s += `user${k},arn:aws:iam::123456789012:user/user${k},2023-06-01T10:00:00+00:00,${k % 5 ? 'true' : 'false'},N/A,N/A,N/A,${k % 7 ? 'true' : 'false'},false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n`
    yield s
  }
}

/** Runs `code` (argv[1] = repo root, argv[2] = provider, argv[3] = file) under tsx in a child: its user count, wall time and peak RSS. */
function child(code: string, provider: string, file: string): string {
  const t0 = performance.now()
  const wrapped = `${code}\nprocess.stdout.write(JSON.stringify({ users: n, rssMb: process.resourceUsage().maxRSS / 1024 }))`
  const r = spawnSync(process.execPath, ['--max-old-space-size=8192', '--import', 'tsx', '--input-type=module', '-e', wrapped, root, provider, file], { encoding: 'utf8', timeout: 900_000, maxBuffer: 1 << 20 })
  const s = (performance.now() - t0) / 1000
  if (r.status !== 0) return `failed (exit ${r.status}${r.signal ? `, ${r.signal}` : ''}): ${r.stderr.trim().slice(0, 200)}`
  const o = JSON.parse(r.stdout) as { users: number; rssMb: number }
  return `${o.users} users, ${s.toFixed(1)} s, peak RSS ${o.rssMb.toFixed(0)} MB`
}

const WHOLE = `
const { readFileSync } = await import('node:fs')
const { parseExport } = await import(process.argv[1] + '/checks/mfa/exports.ts')
const n = parseExport(process.argv[2], readFileSync(process.argv[3]), 'f').users.length`

const STREAMED = `
const s = await import(process.argv[1] + '/checks/mfa/export-stream.ts')
const { streamFileCapped } = await import(process.argv[1] + '/src/lib-files.ts')
const read = { okta: s.streamOktaUsers, github: s.streamGithubUsers, aws: s.streamAwsUsers }[process.argv[2]]
let n = 0
const users = await read(() => streamFileCapped(process.argv[3], 2 ** 40), 'f', ['sms', 'voice', 'email'], ['fido2', 'webauthn'])
await users.each(() => void n++)`

/** Prints the figures. */
export async function run(): Promise<void> {
  ensureBuilt()
  const dir = mkdtempSync(join(tmpdir(), 'ztscan-bench-idp-'))
  const exports: [string, string, string, (n: number) => Iterable<string>][] = [
    ['Okta bundle { users, factors, roles }', 'okta', 'okta.json', oktaBundle],
    ['Okta users with _embedded factors', 'okta', 'okta.json', oktaEmbedded],
    ['GitHub organisation bundle', 'github', 'github.json', githubBundle],
    ['AWS credential report (CSV)', 'aws', 'report.csv', awsReport],
  ]
  try {
    for (const [what, provider, name, gen] of exports)
      for (const n of [100_000, 1_000_000]) {
        const file = join(dir, name)
        const rows = provider === 'aws' ? Math.min(n, 99_999) : n
        const size = await writeChunks(file, gen(rows))
        console.log(`  ${what}, ${rows.toLocaleString('en')} ${provider === 'aws' ? 'rows' : 'users'} (${(size / MB).toFixed(0)} MB):`)
        console.log(`    whole-file reader (before):  ${size > 256 * MB ? 'not tried: over the 256 MiB the whole-file reader allowed' : child(WHOLE, provider, file)}`)
        console.log(`    streamed reader (now):       ${child(STREAMED, provider, file)}`)
        const r = await runCli(['scan', '-q', `idp:${provider}:${file}`, '-o', join(dir, 'r.json'), '--fail-on', 'none'], { cwd: dir, killAfterMs: 900_000 })
        console.log(`    ztscan scan -o r.json (CLI): ${(r.ms / 1000).toFixed(1)} s, peak RSS ${Math.round(r.rssMb)} MB, exit ${r.code}${r.stderr ? `, stderr: ${r.stderr.trim().slice(0, 200)}` : ''}`)
        rmSync(join(dir, 'r.json'), { force: true })
        // A credential report has at most 100,000 rows: one size is enough.
        if (provider === 'aws') break
      }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
