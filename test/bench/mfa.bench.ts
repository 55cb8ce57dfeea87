/**
 * @fileoverview mfa family figures: export sizes the parser handles per second, token verifications per second, SSH
 * none-probes per second against a local sshd. Loopback and temp files only. `npx tsx bench/index.ts mfa`
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mfa from '../../checks/mfa/index.ts'
import { scan } from '../../src/engine/run.ts'
import { fileTarget } from '../../src/targets/host.ts'
import { parseTarget } from '../../src/targets/parse.ts'
import { sshEndpoint } from '../../checks/mfa/targets.ts'
import { discoveryDoc, makeKey, signToken, startIssuer } from '../helpers/oidc.ts'
import { hasSshd, startSshd } from '../helpers/sshd.ts'

const mb = (n: number): string => `${(n / 1048576).toFixed(1)} MB`

async function timed(label: string, bytes: number, run: () => Promise<{ findings: number; errors: number }>): Promise<void> {
  const rss0 = process.memoryUsage().rss
  const t0 = performance.now()
  const r = await run()
  const ms = performance.now() - t0
  console.log(`  ${label.padEnd(44)} ${ms.toFixed(0).padStart(6)} ms  ${String(r.findings).padStart(7)} findings  ${r.errors} errors  file ${mb(bytes)}  rss +${mb(Math.max(0, process.memoryUsage().rss - rss0))}`)
}

export async function run(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'ztscan-bench-mfa-'))
  try {
    // Okta bundle: 20 000 users, two factors each, every 50th an admin.
    const n = 20_000
    const users = Array.from({ length: n }, (_, i) => ({ id: `00u${i}`, status: 'ACTIVE', profile: { login: `user${i}@example.com`, email: `user${i}@example.com` } }))
    const types = ['sms', 'push', 'webauthn', 'token:software:totp', 'email']
    const factors = Object.fromEntries(users.map((u, i) => [u.id, i % 7 === 0 ? [] : [{ id: `f${i}a`, factorType: types[i % 5], provider: 'OKTA', status: 'ACTIVE' }, { id: `f${i}b`, factorType: types[(i + 2) % 5], provider: 'OKTA', status: 'ACTIVE' }]]))
    const roles = Object.fromEntries(users.filter((_, i) => i % 50 === 0).map((u) => [u.id, [{ type: 'ORG_ADMIN', status: 'ACTIVE' }]]))
    const okta = JSON.stringify({ users, factors, roles })
    await writeFile(join(dir, 'okta.json'), okta)
    const summary = (r: Awaited<ReturnType<typeof scan>>) => ({ findings: r.findings.length, errors: r.errors.length })
    await timed(`okta export, ${n} users`, okta.length, async () => summary(await scan({ targets: [fileTarget('identity-export', 'idp', join(dir, 'okta.json'), 'okta')], checks: mfa.checks })))

    // AWS credential report: 10 000 rows.
    const header = 'user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated'
    const rows = Array.from({ length: 10_000 }, (_, i) => `u${i},arn:aws:iam::1:user/u${i},2024-01-01T00:00:00+00:00,true,N/A,N/A,N/A,${i % 3 === 0},false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A`)
    const csv = [header, '<root_account>,arn:aws:iam::1:root,2020-01-01T00:00:00+00:00,not_supported,N/A,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A', ...rows].join('\n')
    await writeFile(join(dir, 'aws.csv'), csv)
    await timed('aws credential report, 10000 rows', csv.length, async () => summary(await scan({ targets: [fileTarget('identity-export', 'idp', join(dir, 'aws.csv'), 'aws')], checks: mfa.checks })))

    // OIDC: 500 RS256 + 500 ES256 tokens verified against a loopback issuer.
    const [rs, es] = await Promise.all([makeKey('RS256', 'rs'), makeKey('ES256', 'es')])
    const issuer = await startIssuer({ discovery: (iss) => discoveryDoc(iss, { id_token_signing_alg_values_supported: ['RS256', 'ES256'] }), jwks: { keys: [rs.jwk, es.jwk] } })
    try {
      const tokens = await Promise.all(Array.from({ length: 1000 }, (_, i) => signToken(i % 2 ? es : rs, issuer.issuer, { sub: `u${i}`, amr: i % 3 ? ['pwd', 'otp'] : ['pwd'] })))
      const tf = join(dir, 'tokens.txt')
      await writeFile(tf, tokens.join('\n'))
      await timed('oidc: discovery + JWKS + 1000 tokens', tokens.join('\n').length, async () => summary(await scan({ targets: [parseTarget(`oidc:${issuer.issuer}#tokens=${encodeURIComponent(tf)}`)], checks: mfa.checks })))
    } finally {
      await issuer.stop()
    }

    // SSH: 40 none-probes of one sshd (40 targets differing by user), 8 at a time.
    if (!hasSshd()) console.log('  ssh: skipped (no /usr/sbin/sshd)')
    else {
      const sshd = await startSshd({ config: 'PasswordAuthentication yes' })
      try {
        const targets = Array.from({ length: 40 }, (_, i) => ({ ...sshEndpoint(sshd.host, sshd.port, { username: `u${i}` }), id: `ssh://u${i}@127.0.0.1:${sshd.port}` }))
        await timed('ssh: 40 none-probes, perHost 8', 0, async () => summary(await scan({ targets, checks: mfa.checks, perHost: 8, settings: { ssh: { knownHostsPath: sshd.knownHostsPath } } })))
      } finally {
        await sshd.stop()
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
