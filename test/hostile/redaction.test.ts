/**
 * @fileoverview Secrets never appear in any report format, log line or error message: a scan with an SSH password, a
 * private key (inline and as a file), a passphrase and bearer tokens configured, against targets that fail in every way;
 * and the identity connectors' tokens, keys and assertions against an API that echoes them.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tmpdir } from 'node:os'
import { builtinChecks, defineCheck, scan, toJson, toMarkdown, toSarif, toTable, type RuleMeta } from '../../src/index.ts'
import { startHostile } from '../helpers/tls.ts'
import { hasSshd, startSshd } from '../helpers/sshd.ts'
import { startIssuer, makeKey, signToken } from '../helpers/oidc.ts'
import { endlessSshBanner } from './servers.ts'
import { startFake } from '../helpers/vendor-fakes/server.ts'

const dir = mkdtempSync(join(tmpdir(), 'ztscan-redact-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

// A careless third-party check that echoes every setting into its evidence, its log and its error: the engine must scrub it.
const carelessRule: RuleMeta = {
  id: 'careless-echo', family: 'careless', title: 'Echo', pillar: 'data', severity: 'low', message: 'settings: {{dump}}',
  description: 'Echoes settings.', remediation: 'Do not.', helpUri: 'https://example.invalid/careless',
}
const careless = defineCheck({
  id: 'careless-echo', family: 'careless', targetKinds: ['careless'], rules: ['careless-echo'],
  async run(t, ctx) {
    const dump = JSON.stringify(ctx.settings)
    ctx.log.warn(dump)
    ctx.report('careless-echo', 'fail', { resource: t.id, evidence: { dump, nested: { again: ctx.settings } } })
    throw new Error(`failed with ${dump}`)
  },
})

describe('redaction', () => {
  it('no secret in JSON, SARIF, Markdown, table, logs or errors', async () => {
    const password = 'Pa55word-for-redaction-test'
    const passphrase = 'passphrase-for-redaction-test'
    // A key format ssh2 reads (PKCS#1 RSA): the scan checks before any probe that the configured key file is usable.
    const privateKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs1' }).toString()
    const bearer = 'bearer-token-abcdef0123456789'
    const keyFile = join(dir, 'id_test')
    writeFileSync(keyFile, privateKey, { mode: 0o600 })
    const garbage = await startHostile('garbage')
    const banner = await endlessSshBanner()
    // A real sshd requiring a key then a password: the ssh:// probe offers the configured key (refused here) and never the password.
    const sshd = hasSshd() ? await startSshd({ config: 'PasswordAuthentication yes\nAuthenticationMethods publickey,password\nLogLevel VERBOSE' }) : undefined
    const issuer = await startIssuer({})
    const key = await makeKey('RS256')
    const token = await signToken(key, issuer.issuer, { sub: 'alice', amr: ['pwd'] })
    const tokens = join(dir, 'tokens.txt')
    writeFileSync(tokens, token + '\n')
    const logs: string[] = []
    const logger = { debug: (m: string) => logs.push(m), info: (m: string) => logs.push(m), warn: (m: string) => logs.push(m) }
    try {
      const report = await scan({
        targets: [
          `agents://root@127.0.0.1:${String(garbage.target.port)}`,
          `agents://root@127.0.0.1:${banner.port}`,
          `ssh://127.0.0.1:${banner.port}`,
          ...(sshd ? [`ssh://127.0.0.1:${sshd.port}`] : []),
          `oidc:${issuer.issuer}#tokens=${tokens}`,
          { kind: 'careless', id: 'careless://1' },
        ],
        checks: [...builtinChecks, careless],
        rules: [carelessRule],
        timeoutMs: 1500,
        connectTimeoutMs: 1000,
        logger,
        settings: {
          ssh: { username: 'root', password, privateKey, passphrase, privateKeyPath: keyFile, acceptUnknownHostKeys: true },
          http: { authorization: `Bearer ${bearer}`, token: bearer },
        },
      })
      expect(report.errors.length).toBeGreaterThan(0)
      expect(report.errors.find((e) => e.check === 'careless-echo')?.message).toContain('[REDACTED]')
      if (sshd) {
        // The key is not authorised there: refused (or, on a loaded machine, timed out) — an error either way, never a pass.
        expect(report.errors.find((e) => e.check === 'mfa-ssh' && e.target === `ssh://127.0.0.1:${sshd.port}`)?.message).toMatch(/the configured SSH key was refused|timed out/)
        expect(sshd.logs()).not.toMatch(/password for /)
      }
      expect(logs.some((l) => l.includes('[REDACTED]'))).toBe(true)
      const outputs = [
        JSON.stringify(toJson(report)),
        JSON.stringify(toSarif(report)),
        toMarkdown(report),
        toTable(report),
        logs.join('\n'),
        report.errors.map((e) => e.message).join('\n'),
      ]
      const keyLines = privateKey.split('\n').filter((l) => l && !l.startsWith('-----'))
      for (const out of outputs) {
        for (const secret of [password, passphrase, bearer, token, ...keyLines]) expect(out).not.toContain(secret)
        expect(out).not.toContain('PRIVATE KEY')
      }
      // The token file's token is evidence input, not output: the finding names it by label or hash only.
      expect(report.findings.some((f) => f.target === `oidc:${issuer.issuer}` && f.resource.startsWith('token:sha256:'))).toBe(true)
    } finally {
      await Promise.all([garbage.close(), banner.close(), issuer.stop(), sshd?.stop()])
    }
  })
  it('identity connectors: tokens, keys and assertions from settings and the environment reach no output, even when the API echoes them', async () => {
    // A hostile API: every answer is a 401 whose body and headers repeat the request's Authorization and body.
    const echo = await startFake((r) => ({ status: 401, headers: { 'x-echo': String(r.headers.authorization ?? '') }, json: { error: { code: 'InvalidAuthenticationToken', message: `${String(r.headers.authorization)} ${r.body}` }, error_description: r.body, errorSummary: String(r.headers.authorization) } }))
    const entraToken = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJub25lIn0.entra-access-token-for-redaction'
    const oktaToken = '00okta-api-token-for-redaction-test-0123'
    const ghEnvToken = 'ghp_envTokenForRedactionTest0123456789abc'
    const federated = 'federated-oidc-token-for-redaction-test.payload.signature'
    const fedFile = join(dir, 'federated.jwt')
    writeFileSync(fedFile, federated)
    const oktaKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()
    const oktaKeyFile = join(dir, 'okta.pem')
    writeFileSync(oktaKeyFile, oktaKey, { mode: 0o600 })
    const logs: string[] = []
    const logger = { debug: (m: string) => logs.push(m), info: (m: string) => logs.push(m), warn: (m: string) => logs.push(m) }
    const saved = process.env.GITHUB_TOKEN
    process.env.GITHUB_TOKEN = ghEnvToken
    try {
      const report = await scan({
        targets: ['entra://contoso.onmicrosoft.com', 'entra://fabrikam.onmicrosoft.com', 'okta://example.okta.com', 'okta://other.okta.com', 'github-org://acme'],
        checks: builtinChecks,
        logger,
        settings: {
          entra: { graphBaseUrl: `${echo.origin}/v1.0`, authorityHost: echo.origin, accessToken: entraToken },
          okta: { baseUrl: echo.origin, apiToken: oktaToken },
          github: { baseUrl: echo.origin },
        },
      })
      // The second Entra and Okta targets take the flows that send an assertion (settings are scan-wide: run them again).
      const second = await scan({
        targets: ['entra://contoso.onmicrosoft.com', 'okta://example.okta.com'],
        checks: builtinChecks,
        logger,
        settings: { entra: { graphBaseUrl: `${echo.origin}/v1.0`, authorityHost: echo.origin, clientId: 'app', federatedTokenFile: fedFile }, okta: { baseUrl: echo.origin, clientId: 'app', privateKeyPath: oktaKeyFile } },
      })
      expect(report.errors.filter((e) => e.check === 'mfa-idp-export')).toHaveLength(5)
      expect(second.errors.filter((e) => e.check === 'mfa-idp-export')).toHaveLength(2)
      const outputs = [report, second].flatMap((r) => [JSON.stringify(toJson(r)), JSON.stringify(toSarif(r)), toMarkdown(r), toTable(r)])
      outputs.push(logs.join('\n'))
      const keyLines = oktaKey.split('\n').filter((l) => l && !l.startsWith('-----'))
      for (const out of outputs) for (const secret of [entraToken, oktaToken, ghEnvToken, federated, 'client_assertion', 'eyJ', ...keyLines]) expect(out).not.toContain(secret)
    } finally {
      if (saved === undefined) delete process.env.GITHUB_TOKEN
      else process.env.GITHUB_TOKEN = saved
      await echo.stop()
    }
  })

  it('aws-iam://: the secret key, session token, web identity token and signatures reach no output, even when IAM and STS echo them', async () => {
    // Every answer is a 403 ErrorResponse whose Code and Message repeat the request's Authorization, security token and body.
    const x = (v: unknown): string => String(v ?? '').replace(/&/g, '&amp;').replace(/</g, '&lt;')
    const echo = await startFake((r) => ({
      status: 403,
      headers: { 'content-type': 'text/xml', 'x-echo': String(r.headers.authorization ?? '') },
      text: `<ErrorResponse><Error><Type>Sender</Type><Code>${x(r.headers['x-amz-security-token'])}</Code><Message>${x(r.headers.authorization)} ${x(r.body)}</Message></Error></ErrorResponse>`,
    }))
    const secret = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYredactionKEY'
    const session = 'FwoGZXIvYXdzEredactionSessionToken0123456789'
    const web = 'eyJhbGciOiJSUzI1NiJ9.aws-web-identity-token-for-redaction.sig'
    const webFile = join(dir, 'aws-web.jwt')
    writeFileSync(webFile, web)
    const logs: string[] = []
    const logger = { debug: (m: string) => logs.push(m), info: (m: string) => logs.push(m), warn: (m: string) => logs.push(m) }
    const vars = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_ROLE_ARN']
    const saved = Object.fromEntries(vars.map((v) => [v, process.env[v]]))
    const settings = { aws: { endpoint: echo.origin, stsEndpoint: `${echo.origin}/sts` } }
    try {
      Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIAREDACTIONTEST000', AWS_SECRET_ACCESS_KEY: secret, AWS_SESSION_TOKEN: session })
      const keys = await scan({ targets: ['aws-iam://123456789012'], checks: builtinChecks, logger, settings })
      for (const v of vars) delete process.env[v]
      Object.assign(process.env, { AWS_WEB_IDENTITY_TOKEN_FILE: webFile, AWS_ROLE_ARN: 'arn:aws:iam::123456789012:role/ci' })
      const federated = await scan({ targets: ['aws-iam://123456789012'], checks: builtinChecks, logger, settings })
      expect(keys.errors.filter((e) => e.check === 'mfa-idp-export')).toHaveLength(1)
      expect(keys.errors[0]!.message).toMatch(/AWS IAM: POST http:\/\/127\.0\.0\.1:\d+\/ GenerateCredentialReport: HTTP 403: the credential lacks a permission/)
      expect(federated.errors[0]!.message).toMatch(/AWS STS: POST http:\/\/127\.0\.0\.1:\d+\/sts\/ AssumeRoleWithWebIdentity: HTTP 403/)
      const outputs = [keys, federated].flatMap((r) => [JSON.stringify(toJson(r)), JSON.stringify(toSarif(r)), toMarkdown(r), toTable(r)])
      outputs.push(logs.join('\n'))
      for (const out of outputs) for (const s of [secret, session, web, 'Signature=', 'AWS4-HMAC-SHA256', 'WebIdentityToken']) expect(out).not.toContain(s)
    } finally {
      for (const v of vars) {
        if (saved[v] === undefined) delete process.env[v]
        else process.env[v] = saved[v]
      }
      await echo.stop()
    }
  })
})
