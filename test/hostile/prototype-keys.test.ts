/**
 * @fileoverview Prototype keys in untrusted data: `amr` values and Okta user ids such as `toString`, `valueOf`, `__proto__`
 * and `constructor` must not be found in lookup tables through Object.prototype (a token that "shows MFA" without a factor,
 * an export that errors instead of being judged).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import oidc from '../../checks/mfa/oidc.ts'
import idpExport from '../../checks/mfa/idp.ts'
import { amrIsMultiFactor } from '../../checks/mfa/tokens.ts'
import { fileTarget } from '../../src/targets/host.ts'
import { parseTarget } from '../../src/targets/parse.ts'
import { checkTester } from '../helpers/check-tester.ts'
import { discoveryDoc, makeKey, signToken, startIssuer, type TestKey } from '../helpers/oidc.ts'

const PROTO_KEYS = ['toString', 'valueOf', '__proto__', 'constructor', 'hasOwnProperty', '__defineGetter__']

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ztscan-proto-'))
})
afterAll(() => rm(dir, { recursive: true, force: true }))

describe('amr prototype keys', () => {
  it('amrIsMultiFactor: prototype member names are no factor category', () => {
    expect(amrIsMultiFactor(['toString', 'valueOf'])).toBe(false)
    expect(amrIsMultiFactor(['__proto__', 'pwd'])).toBe(false)
    expect(amrIsMultiFactor(['constructor', 'hasOwnProperty'])).toBe(false)
    for (const k of PROTO_KEYS) expect(amrIsMultiFactor([k, 'otp']), k).toBe(false)
    // Still true for real pairs.
    expect(amrIsMultiFactor(['pwd', 'otp'])).toBe(true)
  })

  describe('verified tokens through the check (real issuer on loopback)', () => {
    let rs: TestKey
    let issuer: string
    let stop: () => Promise<void>
    beforeAll(async () => {
      rs = await makeKey('RS256', 'rs-1')
      const server = await startIssuer({ discovery: (iss) => discoveryDoc(iss, { id_token_signing_alg_values_supported: ['RS256'] }), jwks: { keys: [rs.jwk] } })
      issuer = server.issuer
      stop = server.stop
    })
    afterAll(() => stop())

    it.each([
      { label: 'tostring-valueof', amr: ['toString', 'valueOf'] },
      { label: 'proto-pwd', amr: ['__proto__', 'pwd'] },
      { label: 'constructor-otp', amr: ['constructor', 'hasOwnProperty'] },
    ])('amr $amr fails mfa-token-single-factor', async ({ label, amr }) => {
      const token = await signToken(rs, issuer, { sub: label, amr })
      const file = join(dir, `${label}.json`)
      await writeFile(file, JSON.stringify({ audience: 'api://ztscan-test', tokens: [{ label, token }] }))
      const report = await checkTester(oidc).run(parseTarget(`oidc:${issuer}#tokens=${encodeURIComponent(file)}`))
      expect(report.errors).toEqual([])
      const f = report.findings.find((x) => x.ruleId === 'mfa-token-single-factor' && x.resource === `token:${label}`)
      expect(f?.status, 'the token verified and was judged').toBe('fail')
      // It was verified (the signature is fine): the verdict is about the factors, not about trust.
      expect(report.findings.find((x) => x.ruleId === 'mfa-token-unverifiable' && x.resource === `token:${label}`)?.status).toBe('pass')
    })
  })
})

describe('Okta export: user ids that are prototype member names', () => {
  const user = (id: string, login: string, embedded?: unknown) => ({ id, status: 'ACTIVE', profile: { login }, ...(embedded ? { _embedded: embedded } : {}) })
  it('a user id like toString or constructor uses its own factor list, never Object.prototype', async () => {
    const file = join(dir, 'okta-proto.json')
    await writeFile(
      file,
      // A factors map for one user; the others carry their factors embedded, and must not pick up `factors.toString`.
      `{"users": [${JSON.stringify(user('00uREAL', 'real@example.com'))},${JSON.stringify(user('toString', 'ts@example.com', { factors: [] }))},` +
        `${JSON.stringify(user('constructor', 'ctor@example.com', { factors: [{ factorType: 'webauthn', status: 'ACTIVE' }] }))},` +
        `${JSON.stringify(user('__proto__', 'proto@example.com'))}],` +
        `"factors": {"00uREAL": [{"factorType": "push", "status": "ACTIVE"}], "__proto__": [{"factorType": "sms", "status": "ACTIVE"}]},` +
        `"roles": {}}`,
    )
    const report = await checkTester(idpExport).run(fileTarget('identity-export', 'idp', file, 'okta'))
    expect(report.errors).toEqual([])
    const v = report.findings.filter((f) => f.ruleId === 'mfa-user-without-mfa').map((f) => `${f.status} ${f.resource}`).sort()
    expect(v).toEqual(['fail user:ts@example.com', 'pass user:ctor@example.com', 'pass user:proto@example.com', 'pass user:real@example.com'])
  })
})
