/**
 * @fileoverview Entra registration and Google user exports read as streams (checks/mfa/export-stream.ts) against the whole-file reader
 * (parseExport): the same users, coverage, incompleteness and errors for the fixtures and a generated tenant in any
 * chunking; shapes the stream leaves alone (policies, bundles) go to the whole-file reader; a 1M-user file is judged
 * through the scan with the live heap far below the file's size.
 */
import { describe, expect, it, onTestFinished } from 'vitest'
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { streamEntraUsers, streamGoogleUsers } from '../../checks/mfa/export-stream.ts'
import { parseExport, type IdpUser } from '../../checks/mfa/exports.ts'
import { mfaCoverage } from '../../checks/mfa/coverage.ts'
import { AttemptFailure } from '../../src/errors.ts'

const FIX = fileURLToPath(new URL('../../fixtures/mfa/entra/', import.meta.url))
const WEAK = ['sms', 'voice', 'email']
const PR = ['fido2', 'windows-hello', 'certificate', 'passkey']

const opener = (text: string | Buffer, size: number) =>
  async function* (): AsyncGenerator<Buffer> {
    const b = Buffer.isBuffer(text) ? text : Buffer.from(text)
    for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size)
  }

async function viaStream(text: string, size = 97): Promise<{ users: IdpUser[]; coverage: unknown; incomplete?: string } | undefined | string> {
  try {
    const s = await streamEntraUsers(opener(text, size), 'x.json', WEAK, PR)
    if (!s) return undefined
    const users: IdpUser[] = []
    await s.each((u) => users.push(u))
    expect(users).toHaveLength(s.count)
    return { users, coverage: s.coverage, ...(s.incomplete ? { incomplete: s.incomplete } : {}) }
  } catch (err) {
    if (!(err instanceof AttemptFailure)) throw err
    return err.message
  }
}

function viaWholeFile(text: string): { users: IdpUser[]; coverage: unknown; incomplete?: string; policies: number } | string {
  try {
    const m = parseExport('entra', Buffer.from(text), 'x.json')
    return { users: [...m.users], coverage: mfaCoverage(m.users, WEAK, PR), ...(m.incomplete ? { incomplete: m.incomplete } : {}), policies: m.entra?.policies.length ?? 0 }
  } catch (err) {
    return (err as Error).message
  }
}

/** A generated page of `n` userRegistrationDetails records (every 7th without MFA, every 11th an admin, every 5th a passkey). */
function tenant(n: number, extra: Record<string, unknown> = {}): string {
  const value = Array.from({ length: n }, (_, i) => ({
    id: `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`, userPrincipalName: `user${i}@contoso.example`, isAdmin: i % 11 === 0,
    isMfaRegistered: i % 7 !== 0, methodsRegistered: i % 7 === 0 ? [] : i % 5 === 0 ? ['passKeyDeviceBound', 'microsoftAuthenticatorPush'] : ['mobilePhone'],
  }))
  return JSON.stringify({ '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#reports/authenticationMethods/userRegistrationDetails', value, ...extra })
}

describe('streamed Entra registration exports judge what the whole-file reader judged', () => {
  it.each(readdirSync(FIX))('%s: the same users, coverage and incompleteness, or left to the whole-file reader', async (file) => {
    const text = readFileSync(join(FIX, file), 'utf8')
    const whole = viaWholeFile(text)
    const got = await viaStream(text)
    if (got === undefined) {
      // Left alone: a shape with policies or a bundle (the whole-file reader judges it).
      expect(typeof whole === 'string' || whole.policies > 0 || /"userRegistrationDetails"|"authenticationMethodsPolicy"/.test(text), file).toBe(true)
      return
    }
    expect(typeof whole).toBe('object')
    const { policies, ...w } = whole as Exclude<typeof whole, string>
    expect(policies).toBe(0)
    expect(got).toEqual(w)
  })

  it('registration-only fixtures are streamed (camelCase page, PowerShell bare array, a page with @odata.nextLink)', async () => {
    for (const f of ['user-registration-details.json', 'powershell-registration-details.json', 'registration-details-next-link.json']) expect(await viaStream(readFileSync(join(FIX, f), 'utf8')), f).toBeTypeOf('object')
  })

  it('a generated tenant in any chunking; a bad record is the same error; policies and bundles are left alone', async () => {
    const text = tenant(3000, { '@odata.nextLink': 'https://graph.microsoft.com/v1.0/reports/authenticationMethods/userRegistrationDetails?$skiptoken=abc' })
    const whole = viaWholeFile(text) as Exclude<ReturnType<typeof viaWholeFile>, string>
    const { policies: _, ...w } = whole
    for (const size of [1, 4096, 1 << 20]) expect(await viaStream(text, size)).toEqual(w)
    expect(w.incomplete).toMatch(/only its 3000 users and 0 policies were judged/)
    const bad = JSON.parse(text) as { value: Record<string, unknown>[] }
    bad.value[2500]!.isAdmin = 'yes'
    const badText = JSON.stringify(bad)
    expect(await viaStream(badText)).toBe(viaWholeFile(badText))
    expect(await viaStream(badText)).toBe('x.json: /value/2500/isAdmin: expected true or false (got "yes")')
    const ca = readFileSync(join(FIX, 'conditional-access-policies.json'), 'utf8')
    expect(await viaStream(ca)).toBeUndefined()
    expect(await viaStream(JSON.stringify({ userRegistrationDetails: JSON.parse(text) }))).toBeUndefined()
    expect(await viaStream('{"value": [1, 2')).toBeUndefined()
  })
})

describe('streamed Google user lists judge what the whole-file reader judged', () => {
  const GFIX = fileURLToPath(new URL('../../fixtures/mfa/google/', import.meta.url))
  async function google(text: string, size = 61): Promise<unknown> {
    try {
      const s = await streamGoogleUsers(opener(text, size), 'g.json', WEAK, PR)
      if (!s) return undefined
      const users: IdpUser[] = []
      await s.each((u) => users.push(u))
      return { users, coverage: s.coverage, notJudged: s.notJudged, counts: Object.fromEntries(s.notJudgedCounts) }
    } catch (err) {
      if (!(err instanceof AttemptFailure)) throw err
      return err.message
    }
  }
  function googleWhole(text: string): unknown {
    try {
      const m = parseExport('google', Buffer.from(text), 'g.json')
      const counts: Record<string, number> = {}
      for (const n of m.notJudged) counts[n.rule] = (counts[n.rule] ?? 0) + 1
      const kept = m.notJudged.filter((n, i) => m.notJudged.slice(0, i).filter((x) => x.rule === n.rule).length < 6)
      return { users: [...m.users], coverage: mfaCoverage(m.users, WEAK, PR), notJudged: kept, counts }
    } catch (err) {
      return (err as Error).message
    }
  }
  const gen = (n: number): Record<string, unknown>[] =>
    Array.from({ length: n }, (_, i) => ({
      primaryEmail: `u${i}@example.com`, id: String(i), isAdmin: i % 13 === 0, suspended: i % 17 === 0,
      ...(i % 19 === 0 ? {} : { isEnrolledIn2Sv: i % 3 !== 0 }), ...(i % 23 === 0 ? {} : { isEnforcedIn2Sv: i % 2 === 0 }),
    }))
  it.each(readdirSync(GFIX))('%s', async (file) => {
    const text = readFileSync(join(GFIX, file), 'utf8')
    expect(await google(text)).toEqual(googleWhole(text))
  })
  it('a generated list (suspended, without 2SV fields: more skips than a skip entry shows), bare or in the envelope, in any chunking; errors and odd shapes', async () => {
    const list = gen(2000)
    for (const text of [JSON.stringify({ kind: 'admin#directory#users', users: list, nextPageToken: 'x' }), JSON.stringify(list)])
      for (const size of [1, 4096]) expect(await google(text, size)).toEqual(googleWhole(text))
    const bad = gen(50)
    bad[40]!.isEnrolledIn2Sv = 'yes'
    expect(await google(JSON.stringify({ users: bad }))).toBe('g.json: /users/40/isEnrolledIn2Sv: expected true or false (got "yes")')
    expect(await google(JSON.stringify({ users: bad }))).toBe(googleWhole(JSON.stringify({ users: bad })))
    expect(await google('{"kind": "admin#directory#users", "users": null}')).toEqual(googleWhole('{"kind": "admin#directory#users", "users": null}'))
    expect(await google('{"kind": "admin#directory#users"}')).toEqual(googleWhole('{"kind": "admin#directory#users"}'))
    expect(await google('{"users": 5}')).toBeUndefined()
    expect(await google('"users"')).toBeUndefined()
  })
})

describe('a large Entra export through the scan', () => {
  it('300,000 users: every user judged, coverage counted, the live heap grown by far less than the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ztscan-entra-stream-'))
    onTestFinished(() => rm(dir, { recursive: true, force: true }))
    const file = join(dir, 'entra.json')
    await writeFile(file, tenant(300_000))
    const size = readFileSync(file).length
    // In a child with --expose-gc: the live heap before, and the largest live heap while users are reported.
    const child = `
const { scan } = await import(process.argv[1] + '/src/engine/run.ts')
const mfa = (await import(process.argv[1] + '/checks/mfa/index.ts')).default
globalThis.gc()
const before = process.memoryUsage().heapUsed
let peak = 0, n = 0
const timer = setInterval(() => { globalThis.gc(); peak = Math.max(peak, process.memoryUsage().heapUsed) }, 500)
const r = await scan({ targets: ['idp:entra:' + process.argv[2]], checks: mfa.checks, timeoutMs: 600_000 })
clearInterval(timer)
const cov = r.findings.find((f) => f.ruleId === 'mfa-coverage')
process.stdout.write(JSON.stringify({ errors: r.errors.length, failed: Object.values(r.summary.failed).reduce((a, b) => a + b, 0), passed: r.summary.passed, coverage: cov?.evidence.summary, grownMb: (peak - before) / 1048576 }))`
    const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', child, join(import.meta.dirname, '../..'), file], { encoding: 'utf8', timeout: 600_000 })
    expect(r.stderr).toBe('')
    const out = JSON.parse(r.stdout) as { errors: number; failed: number; passed: number; coverage: string; grownMb: number }
    expect(out.errors).toBe(0)
    // 42,858 users without MFA (every 7th): each a failed finding; the others pass (counted, not stored).
    expect(out.coverage).toMatch(/^257142 of 300000 users have MFA/)
    expect(out.failed).toBeGreaterThanOrEqual(42_858)
    expect(out.passed).toBeGreaterThanOrEqual(257_142)
    expect(out.grownMb).toBeLessThan(size / 2 / 1048576)
    console.log(`300k-user Entra export (${(size / 1048576).toFixed(0)} MB): live heap grew at most ${out.grownMb.toFixed(0)} MB; ${out.failed} failed, ${out.passed} passed`)
  }, 600_000)
})
