/**
 * @fileoverview A small OpenID Provider stand-in on loopback (discovery document + JWKS over HTTP) for `ztscan demo` and
 * the tests, and the flawed identity-provider exports the demo writes.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { generateKeyPairSync } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose'

/** A route handler; `issuer` is the server's base URL. */
export type Route = (req: IncomingMessage, res: ServerResponse, issuer: string) => void

/** A running issuer. */
export interface IssuerServer {
  /** `http://127.0.0.1:PORT` (or `http://[::1]:PORT`), no trailing slash. */
  readonly issuer: string
  readonly port: number
  stop(): Promise<void>
}

/** The default discovery document of `issuer` (OpenID Connect Discovery 1.0 section 3 required members). */
export function discoveryDoc(issuer: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    jwks_uri: `${issuer}/jwks`,
    response_types_supported: ['code', 'id_token', 'code id_token'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    ...extra,
  }
}

/**
 * Starts an issuer on loopback port 0. `discovery` and `jwks` are served at `/.well-known/openid-configuration` and
 * `/jwks`; `routes` add or replace paths (tests use them for hostile answers).
 */
export async function startIssuer(o: {
  host?: '127.0.0.1' | '::1'
  discovery?: (issuer: string) => Record<string, unknown>
  jwks?: { keys: readonly JWK[] }
  routes?: Record<string, Route>
}): Promise<IssuerServer> {
  const host = o.host ?? '127.0.0.1'
  let issuer = ''
  const json = (res: ServerResponse, body: unknown): void => {
    const text = JSON.stringify(body)
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
    res.end(text)
  }
  const routes: Record<string, Route> = {
    '/.well-known/openid-configuration': (_q, res, iss) => json(res, o.discovery ? o.discovery(iss) : discoveryDoc(iss)),
    '/jwks': (_q, res) => json(res, o.jwks ?? { keys: [] }),
    ...o.routes,
  }
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    const route = Object.hasOwn(routes, path) ? routes[path] : undefined
    if (route) return route(req, res, issuer)
    res.writeHead(404, { 'content-type': 'text/plain' })
    res.end('not found')
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, host, () => resolve())
  })
  const port = (server.address() as { port: number }).port
  issuer = `http://${host === '::1' ? '[::1]' : host}:${port}`
  return {
    issuer,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** Writes the demo's flawed identity-provider exports into `dir`; returns `[provider, path]` pairs. */
export async function writeDemoExports(dir: string): Promise<[string, string][]> {
  await mkdir(dir, { recursive: true })
  const okta = {
    users: [
      { id: '00udemo000admin001', status: 'ACTIVE', profile: { login: 'it-admin@demo.example', email: 'it-admin@demo.example', firstName: 'It', lastName: 'Admin' } },
      { id: '00udemo000user0002', status: 'ACTIVE', profile: { login: 'sales@demo.example', email: 'sales@demo.example', firstName: 'Sam', lastName: 'Sales' } },
      { id: '00udemo000user0003', status: 'ACTIVE', profile: { login: 'dev@demo.example', email: 'dev@demo.example', firstName: 'Dee', lastName: 'Dev' } },
    ],
    factors: {
      '00udemo000admin001': [],
      '00udemo000user0002': [{ id: 'sms1demo', factorType: 'sms', provider: 'OKTA', status: 'ACTIVE' }],
      '00udemo000user0003': [{ id: 'wan1demo', factorType: 'webauthn', provider: 'FIDO', status: 'ACTIVE' }],
    },
    roles: { '00udemo000admin001': [{ id: 'ra1demo', type: 'SUPER_ADMIN', label: 'Super Organization Administrator', status: 'ACTIVE' }] },
  }
  const entra = {
    userRegistrationDetails: {
      value: [
        { id: 'demo-0001', userPrincipalName: 'globaladmin@demo.example', isAdmin: true, isMfaRegistered: true, methodsRegistered: ['mobilePhone'], userType: 'member' },
        { id: 'demo-0002', userPrincipalName: 'analyst@demo.example', isAdmin: false, isMfaRegistered: false, methodsRegistered: [], userType: 'member' },
      ],
    },
    conditionalAccessPolicies: {
      value: [
        { id: 'demo-ca-1', displayName: 'Require MFA (report-only)', state: 'enabledForReportingButNotEnforced', conditions: { users: { includeUsers: ['All'] }, applications: { includeApplications: ['All'] } }, grantControls: { operator: 'OR', builtInControls: ['mfa'] } },
      ],
    },
  }
  const aws = [
    'user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated',
    '<root_account>,arn:aws:iam::111122223333:root,2020-01-01T00:00:00+00:00,not_supported,2025-01-01T00:00:00+00:00,not_supported,not_supported,false,true,2021-01-01T00:00:00+00:00,2025-01-01T00:00:00+00:00,us-east-1,iam,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A',
    'console-user,arn:aws:iam::111122223333:user/console-user,2022-01-01T00:00:00+00:00,true,2025-01-01T00:00:00+00:00,2022-01-01T00:00:00+00:00,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A',
  ].join('\n') + '\n'
  const google = { kind: 'admin#directory#users', users: [{ id: '1001', primaryEmail: 'owner@demo.example', isAdmin: true, suspended: false, isEnrolledIn2Sv: false, isEnforcedIn2Sv: false }] }
  const github = { org: { login: 'demo-org', two_factor_requirement_enabled: false }, members: [{ login: 'demo-owner', id: 1 }, { login: 'demo-dev', id: 2 }], admins: [{ login: 'demo-owner', id: 1 }], membersWith2faDisabled: [{ login: 'demo-owner', id: 1 }] }
  const files: [string, string, string][] = [
    ['okta', 'okta-users.json', JSON.stringify(okta, null, 2)],
    ['entra', 'entra-bundle.json', JSON.stringify(entra, null, 2)],
    ['aws', 'aws-credential-report.csv', aws],
    ['google', 'google-users.json', JSON.stringify(google, null, 2)],
    ['github', 'github-org.json', JSON.stringify(github, null, 2)],
  ]
  for (const [, name, text] of files) await writeFile(join(dir, name), text)
  return files.map(([p, name]) => [p, join(dir, name)])
}

/** Starts the demo issuer: HS256 and `none` advertised, a 1024-bit RSA key in the JWKS; writes a tokens file. */
export async function startDemoIssuer(dir: string): Promise<{ server: IssuerServer; tokensFile: string }> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true })
  const good = { ...(await exportJWK(publicKey)), kid: 'demo-rs256', alg: 'RS256', use: 'sig' }
  const weak = { ...(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' }) as JWK), kid: 'legacy-rsa1024', alg: 'RS256', use: 'sig' }
  const server = await startIssuer({
    discovery: (iss) => discoveryDoc(iss, { id_token_signing_alg_values_supported: ['RS256', 'HS256', 'none'] }),
    jwks: { keys: [good, weak] },
  })
  const iss = server.issuer
  const now = Math.floor(Date.now() / 1000)
  const sign = (claims: Record<string, unknown>, exp = now + 365 * 86400): Promise<string> =>
    new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'demo-rs256' }).setIssuer(iss).setAudience('ztscan-demo').setIssuedAt(now - 60).setExpirationTime(exp).sign(privateKey)
  const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url')
  const tokens = [
    { label: 'password-only', token: await sign({ sub: 'sales@demo.example', amr: ['pwd'] }) },
    { label: 'password-and-otp', token: await sign({ sub: 'dev@demo.example', amr: ['pwd', 'otp'] }) },
    { label: 'expired', token: await sign({ sub: 'dev@demo.example', amr: ['hwk', 'pin'] }, now - 3600) },
    { label: 'unsigned', token: `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iss, sub: 'it-admin@demo.example', aud: 'ztscan-demo', amr: ['mfa'], exp: now + 3600 })}.` },
  ]
  await mkdir(dir, { recursive: true })
  const tokensFile = join(dir, 'oidc-tokens.json')
  await writeFile(tokensFile, JSON.stringify({ audience: 'ztscan-demo', tokens }, null, 2))
  return { server, tokensFile }
}
