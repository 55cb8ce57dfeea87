/**
 * @fileoverview The hostile-input zoo, across every check family, through the full engine with the built-in checks.
 * Each case scans one hostile target beside healthy ones and asserts: the scan finishes within its bound, an error entry
 * names the cause, no unhandled rejection happened, and the healthy targets' findings are all there.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tmpdir } from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseTarget, scan, toMarkdown, type ScanReport, type Target } from '../../src/index.ts'
import { startHostile, type HostileKind } from '../helpers/tls.ts'
import { startIssuer, unsignedToken } from '../helpers/oidc.ts'
import { endlessSshBanner, slowDrip } from './servers.ts'
import { assertValidReport } from '../helpers/schemas.ts'

const fixtures = fileURLToPath(new URL('../../fixtures/', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'ztscan-zoo-'))
const file = (name: string, data: string | Buffer): string => {
  const p = join(dir, name)
  writeFileSync(p, data)
  return p
}
const healthy = [`idp:okta:${fixtures}mfa/okta/users-factors.json`, `inventory:crowdstrike:${fixtures}endpoint-agent/crowdstrike-hosts.json`]
const TIMEOUT = 1500
const BOUND = 8000

const rejections: unknown[] = []
const onRejection = (r: unknown): void => void rejections.push(r)
beforeAll(() => process.on('unhandledRejection', onRejection))
afterAll(() => {
  process.off('unhandledRejection', onRejection)
  rmSync(dir, { recursive: true, force: true })
})
afterEach(() => expect(rejections).toEqual([]))

async function run(target: Target | string, settings: Record<string, unknown> = {}): Promise<{ report: ScanReport; ms: number }> {
  const t0 = performance.now()
  const report = await scan({ targets: [target, ...healthy], timeoutMs: TIMEOUT, connectTimeoutMs: 1000, settings: { ssh: { acceptUnknownHostKeys: true, username: 'zoo', password: 'zoo-password-not-used' }, ...settings } })
  const ms = performance.now() - t0
  assertValidReport(report)
  // The rest of the report is complete: every healthy target produced findings and no error.
  for (const h of healthy) {
    const id = parseTarget(h).id
    expect(report.targets.map((t) => t.id), `healthy target ${h} is in the report`).toContain(id)
    expect(report.findings.some((f) => f.target === id)).toBe(true)
    expect(report.errors.filter((e) => e.target === id)).toEqual([])
  }
  return { report, ms }
}

describe('hostile servers on loopback', () => {
  const servers: { kind: HostileKind; schemes: ('tls' | 'ssh' | 'agents')[]; reason: RegExp }[] = [
    { kind: 'tarpit', schemes: ['tls', 'ssh', 'agents'], reason: /timeout/ },
    { kind: 'garbage', schemes: ['tls', 'ssh', 'agents'], reason: /protocol|timeout|connectivity/ },
    { kind: 'mid-handshake-close', schemes: ['tls', 'ssh', 'agents'], reason: /protocol|connectivity/ },
    { kind: 'plain-http', schemes: ['tls', 'ssh'], reason: /protocol|timeout|connectivity/ },
  ]
  for (const s of servers)
    for (const scheme of s.schemes)
      it(`${s.kind} as ${scheme}://`, async () => {
        const h = await startHostile(s.kind)
        try {
          const target = `${scheme}://${scheme === 'agents' ? 'zoo@' : ''}127.0.0.1:${String(h.target.port)}`
          const { report, ms } = await run(target)
          expect(ms).toBeLessThan(BOUND)
          const errs = report.errors.filter((e) => e.target === target.replace('zoo@', ''))
          expect(errs.length, JSON.stringify(report.errors)).toBeGreaterThan(0)
          for (const e of errs) expect(e.reason).toMatch(s.reason)
          expect(errs[0]!.message.length).toBeGreaterThan(10)
        } finally {
          await h.close()
        }
      })

  it('slowloris (a byte every 200 ms) as tls:// and ssh://', async () => {
    const h = await slowDrip()
    try {
      for (const scheme of ['tls', 'ssh']) {
        const { report, ms } = await run(`${scheme}://127.0.0.1:${h.port}`)
        expect(ms).toBeLessThan(BOUND)
        expect(report.errors.find((e) => e.target === `${scheme}://127.0.0.1:${h.port}`)?.reason).toMatch(/timeout|protocol/)
      }
    } finally {
      await h.close()
    }
  })

  it('endless SSH banner as ssh:// and agents://', async () => {
    const h = await endlessSshBanner()
    try {
      for (const target of [`ssh://127.0.0.1:${h.port}`, `agents://zoo@127.0.0.1:${h.port}`]) {
        const { report, ms } = await run(target)
        expect(ms).toBeLessThan(BOUND)
        const e = report.errors.find((x) => x.target === target.replace('zoo@', ''))
        expect(e?.reason, JSON.stringify(report.errors)).toMatch(/protocol|timeout/)
      }
    } finally {
      await h.close()
    }
  })

  it('huge certificate chain (50 certificates)', async () => {
    const h = await startHostile('long-chain')
    try {
      const { report, ms } = await run(h.target)
      expect(ms).toBeLessThan(BOUND)
      expect(report.errors.find((e) => e.target === h.target.id)?.message).toMatch(/chain|certificates/i)
    } finally {
      await h.close()
    }
  })

  it('JWKS that redirects to another origin, and one of 100 MB', async () => {
    const redirect = await startIssuer({ routes: { '/jwks': (_q, res) => void res.writeHead(302, { location: 'http://127.0.0.2:9/jwks' }).end() } })
    const huge = await startIssuer({
      routes: {
        '/jwks': (_q, res) => {
          res.writeHead(200, { 'content-type': 'application/json' })
          const chunk = Buffer.alloc(64 * 1024, 0x20)
          let sent = 0
          const pump = (): void => {
            while (sent < 100 * 1024 * 1024) {
              sent += chunk.length
              if (!res.write(chunk)) return void res.once('drain', pump)
            }
            res.end()
          }
          res.on('error', () => {})
          res.write('{"keys":[')
          pump()
        },
      },
    })
    try {
      for (const [srv, cause] of [[redirect, /redirect/i], [huge, /larger than|bytes/i]] as const) {
        const { report, ms } = await run(`oidc:${srv.issuer}`)
        expect(ms).toBeLessThan(BOUND)
        const e = report.errors.find((x) => x.target === `oidc:${srv.issuer}`)
        expect(e?.message, JSON.stringify(report.errors)).toMatch(cause)
      }
    } finally {
      await Promise.all([redirect.stop(), huge.stop()])
    }
  })
})

describe('hostile files', () => {
  const nmapHead = '<?xml version="1.0"?>\n<nmaprun scanner="nmap" args="nmap -sT 127.0.0.1" start="1700000000" version="7.93" xmloutputversion="1.05">\n'
  const host = '<host><status state="up" reason="conn-refused"/><address addr="127.0.0.1" addrtype="ipv4"/><ports><port protocol="tcp" portid="23"><state state="open" reason="syn-ack"/><service name="telnet"/></port></ports></host>\n'
  const cases: { name: string; target: () => string; cause: RegExp }[] = [
    { name: 'truncated nmap XML', target: () => `nmap:${file('trunc.xml', nmapHead + host + '<host><status state="up"/><addr')}`, cause: /trunc\.xml:\d+:\d+/ },
    { name: 'XXE nmap XML', target: () => `nmap:${file('xxe.xml', '<?xml version="1.0"?>\n<!DOCTYPE nmaprun [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n<nmaprun>&xxe;</nmaprun>')}`, cause: /DOCTYPE|DTD|entit/i },
    {
      name: 'billion laughs nmap XML',
      target: () => `nmap:${file('lol.xml', '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>\n<nmaprun>&lol2;</nmaprun>')}`,
      cause: /DOCTYPE|DTD|entit/i,
    },
    { name: 'invalid UTF-8 nmap XML', target: () => `nmap:${file('utf8.xml', Buffer.concat([Buffer.from(nmapHead + '<host><hostnames><hostname name="'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"/></hostnames></host></nmaprun>')]))}`, cause: /UTF-8|utf-8|encoding|invalid/i },
    { name: 'invalid UTF-8 Okta export', target: () => `idp:okta:${file('okta-bad-utf8.json', Buffer.concat([Buffer.from('{"users":[{"id":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}]}')]))}`, cause: /okta-bad-utf8\.json/ },
    { name: 'Entra export with wrong types', target: () => `idp:entra:${file('entra-types.json', JSON.stringify({ value: [{ userPrincipalName: 42, isMfaRegistered: 'yes' }] }))}`, cause: /entra-types\.json.*\/value\/0\// },
    { name: 'CrowdStrike export with wrong types', target: () => `inventory:crowdstrike:${fixtures}endpoint-agent/bad-crowdstrike-types.json`, cause: /bad-crowdstrike-types\.json: \/resources/ },
    { name: 'certificate file with junk', target: () => `cert:${file('junk.pem', '-----BEGIN CERTIFICATE-----\nnot base64 at all!!\n-----END CERTIFICATE-----\n')}`, cause: /junk\.pem/ },
  ]
  it.each(cases)('$name', async ({ target, cause }) => {
    const t = target()
    const { report, ms } = await run(t)
    expect(ms).toBeLessThan(BOUND)
    const id = parseTarget(t).id
    const errs = report.errors.filter((e) => e.target === id)
    expect(errs.length, JSON.stringify(report.errors)).toBeGreaterThan(0)
    expect(errs.map((e) => e.message).join('\n')).toMatch(cause)
    expect(errs.every((e) => e.reason === 'input')).toBe(true)
  })

  it('truncated nmap XML keeps what was parsed before the error', async () => {
    const t = `nmap:${file('trunc2.xml', nmapHead + host + '<host><status state="up"/><addr')}`
    const { report } = await run(t)
    expect(report.findings.some((f) => f.family === 'open-port' && /23/.test(f.resource))).toBe(true)
  })

  it('CSV with formula injection is never reproduced unescaped in Markdown', async () => {
    const header = 'user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated'
    const row = (user: string, mfa: string) => `${user},arn:aws:iam::111122223333:user/x,2024-01-01T00:00:00+00:00,true,N/A,N/A,N/A,${mfa},false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A`
    const evil = `=cmd|' /C calc'!A0`
    const t = `idp:aws:${file('cred.csv', [header, `<root_account>,arn:aws:iam::111122223333:root,2024-01-01T00:00:00+00:00,not_supported,N/A,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A`, row(`"${evil}"`, 'false')].join('\n'))}`
    const { report } = await run(t)
    const f = report.findings.find((x) => x.status === 'fail' && x.message.includes('cmd|'))
    expect(f, JSON.stringify(report.errors)).toBeDefined()
    const md = toMarkdown(report)
    expect(md).not.toMatch(/\| =cmd/)
    expect(md).not.toContain(`${evil}`)
    expect(md).toContain("'=cmd\\|")
  })

  it('alg=none token and a 1 MB JWT', async () => {
    const issuer = await startIssuer({})
    try {
      const big = unsignedToken({ sub: 'x', pad: 'A'.repeat(1024 * 1024) })
      const tokens = file('tokens.json', JSON.stringify({ tokens: [{ label: 'none', token: unsignedToken({ iss: issuer.issuer, sub: 'u', amr: ['pwd'] }) }, { label: 'huge', token: big }] }))
      const { report, ms } = await run(`oidc:${issuer.issuer}#tokens=${tokens}`)
      expect(ms).toBeLessThan(BOUND)
      const id = `oidc:${issuer.issuer}`
      const forTarget = report.findings.filter((f) => f.target === id)
      const problems = [...forTarget.filter((f) => f.status === 'fail').map((f) => `${f.ruleId} ${f.resource}`), ...report.errors.filter((e) => e.target === id).map((e) => e.message)]
      expect(problems.join('\n')).toMatch(/mfa-token-unsigned token:none/)
      expect(problems.join('\n')).toMatch(/mfa-token-unverifiable token:huge/)
      expect(JSON.stringify(report)).not.toContain('A'.repeat(1000))
    } finally {
      await issuer.stop()
    }
  })
})
