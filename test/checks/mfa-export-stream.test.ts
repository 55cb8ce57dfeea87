/**
 * @fileoverview Identity exports read as streams (checks/mfa/export-stream.ts: Entra registrations, Google, Okta and GitHub
 * users, AWS credential reports) against the whole-file reader (parseExport): the same users, coverage, incompleteness,
 * skips and errors for the fixtures and generated tenants in any chunking; shapes the stream leaves alone (policies,
 * bundles) go to the whole-file reader; a 300,000-user file is judged through the scan with the live heap far below the
 * file's size.
 */
import { describe, expect, it, onTestFinished } from 'vitest'
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import { IdMap, seededHash, streamAwsUsers, streamEntraUsers, streamGithubUsers, streamGoogleUsers, streamOktaUsers, type StreamedUsers } from '../../checks/mfa/export-stream.ts'
import { CsvReader, parseCsv, parseExport, type IdpModel, type IdpUser } from '../../checks/mfa/exports.ts'
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

type Streamer = (open: () => AsyncIterable<Buffer>, file: string, weak: readonly string[], pr: readonly string[]) => Promise<StreamedUsers | undefined>

/** A streamed read in chunks of `size`: what the judgement sees, an error message, or undefined (left to the whole-file reader). */
async function streamed(fn: Streamer, text: string, size: number): Promise<unknown> {
  try {
    const s = await fn(opener(text, size), 'f.json', WEAK, PR)
    if (!s) return undefined
    const users: IdpUser[] = []
    await s.each((u) => users.push(u))
    expect(users).toHaveLength(s.count)
    return { users, coverage: s.coverage, notJudged: s.notJudged, counts: Object.fromEntries(s.notJudgedCounts), parts: s.parts ?? {} }
  } catch (err) {
    if (!(err instanceof AttemptFailure)) throw err
    return err.message
  }
}

/** The whole-file reader's judgement in the same terms (what is not judged: the first six sentences per rule, and counts). */
function whole(provider: string, text: string): unknown {
  let m: IdpModel
  try {
    m = parseExport(provider, Buffer.from(text), 'f.json')
  } catch (err) {
    return (err as Error).message
  }
  const counts: Record<string, number> = {}
  for (const n of m.notJudged) counts[n.rule] = (counts[n.rule] ?? 0) + 1
  const kept = m.notJudged.filter((n, i) => m.notJudged.slice(0, i).filter((x) => x.rule === n.rule).length < 6)
  const parts = { ...(m.oktaPolicies ? { oktaPolicies: m.oktaPolicies } : {}), ...(m.awsRoot ? { awsRoot: m.awsRoot } : {}), ...(provider === 'github' ? { enforcement: m.enforcement } : {}) }
  return { users: [...m.users], coverage: mfaCoverage(m.users, WEAK, PR), notJudged: kept, counts, parts }
}

/** Streamed (in every chunk size given) and whole-file reads agree; returns the streamed result (undefined: left to the whole-file reader). */
async function same(provider: string, fn: Streamer, text: string, sizes = [1, 61, 4096]): Promise<unknown> {
  const w = whole(provider, text)
  let got: unknown
  for (const size of sizes) {
    got = await streamed(fn, text, size)
    if (got === undefined) return undefined
    expect(got, `chunks of ${size}`).toEqual(w)
  }
  return got
}

const oktaId = (i: number): string => `00u${String(i).padStart(17, '0')}`
const oktaFactorList = (i: number): unknown[] =>
  i % 7 === 0 ? [] : i % 5 === 0 ? [{ factorType: 'webauthn', provider: 'FIDO', status: 'ACTIVE' }] : [{ factorType: 'sms', provider: 'OKTA', status: 'ACTIVE' }, { factorType: 'push', provider: 'OKTA', status: i % 3 ? 'ACTIVE' : 'PENDING_ACTIVATION' }]
const oktaUserRecord = (i: number, embedded: boolean): Record<string, unknown> => ({
  id: oktaId(i), status: i % 13 === 0 ? 'SUSPENDED' : 'ACTIVE', profile: { login: `user${i}@example.com` },
  ...(embedded && i % 29 !== 0 ? { _embedded: { factors: oktaFactorList(i), ...(i % 11 === 0 ? { roles: [{ type: 'SUPER_ADMIN', status: 'ACTIVE' }] } : {}) } } : {}),
})
/** `{ users, factors, roles }` with the maps in reverse order of the users; every 29th user has no factor list. */
function oktaBundle(n: number): Record<string, unknown> {
  const ids = Array.from({ length: n }, (_, i) => n - 1 - i)
  return {
    users: Array.from({ length: n }, (_, i) => oktaUserRecord(i, false)),
    factors: Object.fromEntries(ids.filter((i) => i % 29 !== 0).map((i) => [oktaId(i), oktaFactorList(i)])),
    roles: Object.fromEntries(ids.filter((i) => i % 11 === 0).map((i) => [oktaId(i), [{ type: 'ORG_ADMIN', status: i % 2 ? 'ACTIVE' : 'INACTIVE' }]])),
  }
}

describe('IdMap (ids off the heap: the GitHub member logins)', () => {
  it('holds what a Map holds: any string keys, a later set replaces, a missing key is undefined, across growth', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('', '__proto__', 'a', 'A', '\ud800', '\udc00', '\ufffd', '\ud800x')), fc.nat()), { maxLength: 300 }), fc.array(fc.string(), { maxLength: 20 }), (pairs, probes) => {
        const m = new IdMap<number>()
        const ref = new Map<string, number>()
        for (const [k, v] of pairs) {
          m.set(k, v)
          ref.set(k, v)
        }
        expect(m.size).toBe(ref.size)
        for (const k of [...ref.keys(), ...probes]) {
          expect(m.get(k)).toBe(ref.get(k))
          expect(m.has(k)).toBe(ref.has(k))
        }
      }),
      { numRuns: 300 },
    )
    // Lone surrogates stay distinct (UTF-8 would make them all U+FFFD).
    const lone = new IdMap<number>()
    for (const [i, k] of ['\ud800', '\udc00', '\ufffd'].entries()) lone.set(k, i)
    expect([lone.size, lone.get('\ud800'), lone.get('\udc00'), lone.get('\ufffd')]).toEqual([3, 0, 1, 2])
    const big = new IdMap<number>()
    for (let i = 0; i < 50_000; i++) big.set(oktaId(i), i % 3)
    expect(big.size).toBe(50_000)
    expect([big.get(oktaId(49_999)), big.get(oktaId(7)), big.get(oktaId(50_000))]).toEqual([49_999 % 3, 1, undefined])
  })
  it('hashes under a seed of its own: ids that share a slot under unseeded FNV-1a spread out; two maps hash one id differently', () => {
    const fnv = (b: Buffer): number => {
      let h = 0x811c9dc5
      for (const c of b) h = Math.imul(h ^ c, 0x01000193)
      return h >>> 0
    }
    // The ids as the map keys them (a 0, then UTF-8), grouped by their slot in the first table (2048) under the old hash.
    const key = (id: string): Buffer => Buffer.concat([Buffer.from([0]), Buffer.from(id)])
    const bySlot = new Map<number, string[]>()
    for (let i = 0; i < 100_000; i++) {
      const id = oktaId(i)
      const s = fnv(key(id)) & 2047
      bySlot.set(s, [...(bySlot.get(s) ?? []), id])
    }
    const colliding = [...bySlot.values()].reduce((a, b) => (b.length > a.length ? b : a))
    expect(colliding.length).toBeGreaterThan(40)
    const m = new IdMap<number>()
    const slots = new Map<number, number>()
    for (const id of colliding) {
      const k = key(id)
      const s = seededHash(k, 0, k.length, m.seed[0], m.seed[1]) & 2047
      slots.set(s, (slots.get(s) ?? 0) + 1)
    }
    expect(Math.max(...slots.values())).toBeLessThan(8)
    const other = new IdMap<number>()
    expect(other.seed).not.toEqual(m.seed)
    const k = key(oktaId(1))
    expect(seededHash(k, 0, k.length, other.seed[0], other.seed[1])).not.toBe(seededHash(k, 0, k.length, m.seed[0], m.seed[1]))
  })
})

describe('streamed Okta exports judge what the whole-file reader judged', () => {
  const OFIX = fileURLToPath(new URL('../../fixtures/mfa/okta/', import.meta.url))
  it.each(readdirSync(OFIX))('%s: streamed, the same users, coverage and skips', async (file) => {
    expect(await same('okta', streamOktaUsers, readFileSync(join(OFIX, file), 'utf8'))).toBeTypeOf('object')
  })
  it('a generated bundle (maps in another order than the users) and a bare embedded list, in any chunking', async () => {
    const bundle = oktaBundle(700)
    const got = (await same('okta', streamOktaUsers, JSON.stringify(bundle))) as { users: IdpUser[]; counts: Record<string, number> }
    expect(got.users.length).toBeGreaterThan(500)
    expect(got.users.some((u) => u.admin)).toBe(true)
    expect(got.counts['mfa-user-without-mfa']).toBeGreaterThan(6)
    await same('okta', streamOktaUsers, JSON.stringify(Array.from({ length: 700 }, (_, i) => oktaUserRecord(i, true))))
    // Policies beside the users are judged too; a later id given twice in a map wins, as in JSON.parse.
    const withPolicies = { ...bundle, authenticationPolicies: [{ id: 'rst1', name: 'P', status: 'ACTIVE', type: 'ACCESS_POLICY', rules: [] }] }
    expect(((await same('okta', streamOktaUsers, JSON.stringify(withPolicies), [4096])) as { parts: { oktaPolicies?: unknown[] } }).parts.oktaPolicies).toHaveLength(1)
    const twice = JSON.stringify(bundle).replace('"factors":{', `"factors":{"${oktaId(1)}":[{"factorType":"sms","status":"ACTIVE"}],`)
    expect(twice).not.toBe(JSON.stringify(bundle))
    await same('okta', streamOktaUsers, twice, [4096])
  })
  it('the maps and users joined by id past a tiny in-memory budget (sorted runs spilled to a file): the whole-file reader\'s result', async () => {
    const spilled: Streamer = (open, file, weak, pr) => streamOktaUsers(open, file, weak, pr, 5)
    const bundle = oktaBundle(700)
    const got = (await same('okta', spilled, JSON.stringify(bundle), [61, 4096])) as { users: IdpUser[] }
    expect(got.users.filter((u) => u.admin).length).toBeGreaterThan(20)
    // A later id given twice in a map wins; a user listed twice gets its lists both times; a user before or after its lists.
    const twice = JSON.stringify({ ...bundle, users: [...bundle.users as unknown[], (bundle.users as unknown[])[3]] }).replace('"factors":{', `"factors":{"${oktaId(3)}":[{"factorType":"sms","status":"ACTIVE"}],"${oktaId(1)}":[{"factorType":"webauthn","status":"ACTIVE"}],`)
    const maps = JSON.stringify({ factors: bundle.factors, roles: bundle.roles, users: bundle.users })
    for (const text of [twice, maps]) expect(await same('okta', spilled, text, [4096])).toEqual(await streamed(streamOktaUsers, text, 4096))
  })
  it('hostile ids (separators, quotes, escapes, lone surrogates, prototype names, prefixes of each other) join exactly, spilled or not', async () => {
    const ids = ['a', 'a\t', 'a\n', 'a\u0000', 'a"', 'a\\', 'a\\"', '\ud800', '\udc00', '\ud800\udc00', '__proto__', 'constructor', 'toString', 'a ', ' a']
    const user = (id: string) => ({ id, status: 'ACTIVE', profile: { login: `u${ids.indexOf(id)}@example.com` } })
    // Every other id has a phishing-resistant list, the rest SMS; every third is an admin; the maps in reverse order.
    const factors = Object.fromEntries([...ids].reverse().map((id) => [id, [{ factorType: ids.indexOf(id) % 2 ? 'webauthn' : 'sms', status: 'ACTIVE' }]]))
    const roles = Object.fromEntries(ids.filter((_, i) => i % 3 === 0).map((id) => [id, [{ type: 'ORG_ADMIN', status: 'ACTIVE' }]]))
    const text = JSON.stringify({ users: ids.map(user), factors, roles })
    for (const budget of [2, 1e9]) {
      const got = (await same('okta', (o, f, w, p) => streamOktaUsers(o, f, w, p, budget), text, [7, 4096])) as { users: IdpUser[] }
      expect(got.users.map((u) => [u.id, u.factors, u.admin])).toEqual(ids.map((id, i) => [id, [i % 2 ? 'webauthn' : 'sms'], i % 3 === 0]))
    }
  })
  it('a bundle whose users swap ids between the passes (same count) is a changed file, not users judged with another\'s factors', async () => {
    const bundle = oktaBundle(40)
    const users = bundle.users as { id: string }[]
    const swapped = structuredClone(bundle) as { users: { id: string }[] }
    ;[swapped.users[1]!.id, swapped.users[2]!.id] = [users[2]!.id, users[1]!.id]
    let reads = 0
    const texts = [JSON.stringify(bundle), JSON.stringify(swapped)]
    const open = () => opener(texts[Math.max(0, Math.min(1, reads++))]!, 4096)()
    await expect(streamOktaUsers(open, 'f.json', WEAK, PR)).rejects.toThrow('f.json: changed while being read')
    // The same swap between the count and the hand-over.
    reads = -1
    const s = (await streamOktaUsers(open, 'f.json', WEAK, PR))!
    await expect(s.each(() => {})).rejects.toThrow('f.json: changed while being read')
  })
  it('a bundle whose maps are rewritten between the passes (same ids, a factor or a role removed) is a changed file', async () => {
    const bundle = oktaBundle(40) as { users: { id: string }[]; factors: Record<string, { factorType: string; status: string }[]>; roles: Record<string, unknown[]> }
    // A user whose only factor is phishing-resistant loses it: judged on the first pass's lists, it would still pass.
    const strong = bundle.users.find((u) => bundle.factors[u.id]?.some((f) => f.factorType === 'webauthn'))!
    const lessFactors = structuredClone(bundle)
    lessFactors.factors[strong.id] = lessFactors.factors[strong.id]!.filter((f) => f.factorType !== 'webauthn')
    const admin = Object.keys(bundle.roles).find((id) => JSON.stringify(bundle.roles[id]).includes('"ACTIVE"'))!
    const lessRoles = structuredClone(bundle)
    lessRoles.roles[admin] = []
    for (const changedText of [JSON.stringify(lessFactors), JSON.stringify(lessRoles)]) {
      for (const budget of [5, 1e9]) {
        let reads = 0
        const texts = [JSON.stringify(bundle), changedText]
        const open = () => opener(texts[Math.max(0, Math.min(1, reads++))]!, 4096)()
        // Between the first pass and the count.
        await expect(streamOktaUsers(open, 'f.json', WEAK, PR, budget)).rejects.toThrow('f.json: changed while being read (read it from a file nothing else writes)')
        // Between the count and the hand-over.
        reads = -1
        const s = (await streamOktaUsers(open, 'f.json', WEAK, PR, budget))!
        await expect(s.each(() => {})).rejects.toThrow('f.json: changed while being read')
      }
    }
    // The same file read in each pass: no change seen (the maps given in another order than the users too).
    const reordered = JSON.stringify({ factors: bundle.factors, users: bundle.users, roles: bundle.roles })
    for (const text of [JSON.stringify(bundle), reordered]) {
      const s = (await streamOktaUsers(opener(text, 4096), 'f.json', WEAK, PR))!
      let n = 0
      await s.each(() => n++)
      expect(n).toBe(s.count)
    }
  })
  it('factor lists shared between users are keyed unambiguously: a provider holding the old separators makes no other list', async () => {
    // a: SMS (provider "") and WebAuthn, stored first; b: SMS alone, its provider "\nwebauthn\u0000" (once the same key as a's list).
    const a = [{ factorType: 'sms', provider: '', status: 'ACTIVE' }, { factorType: 'webauthn', status: 'ACTIVE' }]
    const b = [{ factorType: 'sms', provider: '\nwebauthn\u0000', status: 'ACTIVE' }]
    const user = (id: string) => ({ id, status: 'ACTIVE', profile: { login: `${id}@example.com` } })
    const text = JSON.stringify({ users: [user('a'), user('b')], factors: { a, b } })
    const got = (await same('okta', streamOktaUsers, text)) as { users: IdpUser[]; coverage: unknown }
    const ub = got.users.find((u) => u.id === 'b')!
    expect(ub.factors).toEqual(['sms'])
    expect(got.users.find((u) => u.id === 'a')!.factors).toEqual(['sms', 'webauthn'])
    // With WebAuthn counted as phishing-resistant, only a passes, streamed as whole.
    const s = (await streamOktaUsers(opener(text, 61), 'f.json', WEAK, ['webauthn']))!
    const wholeUsers = parseExport('okta', Buffer.from(text), 'f.json').users
    expect(s.coverage).toEqual(mfaCoverage(wholeUsers, WEAK, ['webauthn']))
    expect(s.coverage.users.phishingResistant).toBe(1)
  })
  it('errors: the first bad user or factor list a user needs, as the whole-file reader; odd shapes are left to it', async () => {
    const bundle = oktaBundle(60)
    const badFactor = structuredClone(bundle) as { factors: Record<string, unknown[]>; users: Record<string, unknown>[] }
    badFactor.factors[oktaId(40)] = [{ status: 'ACTIVE' }]
    badFactor.users[50]!.status = 7
    expect(await same('okta', streamOktaUsers, JSON.stringify(badFactor), [4096])).toBe(`f.json: /factors/${oktaId(40)}/0/factorType: expected a non-empty string`)
    // A bad list no user that can sign in needs (a suspended user's) is not read, by either reader.
    const unused = structuredClone(bundle) as typeof badFactor
    unused.factors[oktaId(26)] = 'none' as unknown as unknown[]
    expect(await same('okta', streamOktaUsers, JSON.stringify(unused), [4096])).toBeTypeOf('object')
    const badRoles = structuredClone(bundle) as typeof badFactor & { roles: Record<string, unknown> }
    badRoles.roles[oktaId(22)] = { type: 'x' }
    expect(await same('okta', streamOktaUsers, JSON.stringify(badRoles), [4096])).toBe(`f.json: /roles/${oktaId(22)}: expected an array (got {"type":"x"})`)
    for (const odd of ['{"users": 5}', '{"users": [], "factors": []}', '{"authenticationPolicies": []}', '"x"', '{"users": [1, 2'])
      expect(await streamed(streamOktaUsers, odd, 7), odd).toBeUndefined()
    // A bad user before a user that is not JSON: the whole-file reader's error (its parse comes first), in both shapes.
    const users = JSON.stringify(bundle.users).replace(`"status":"ACTIVE"`, `"status":7`)
    expect(users).not.toBe(JSON.stringify(bundle.users))
    for (const broken of [`{"users":${users.replace(/\}\]$/, ',}]')},"factors":{}}`, users.replace(/\}\]$/, ',}]')]) {
      expect(await streamed(streamOktaUsers, broken, 4096)).toBeUndefined()
      expect(whole('okta', broken)).toMatch(/^f.json: \/: expected valid JSON/)
    }
    // Bad policies and a bad user: the policies' error first, as the whole-file reader.
    const both = JSON.stringify({ ...bundle, users: JSON.parse(users) as unknown, authenticationPolicies: [{ id: 'p', rules: 5 }] })
    expect(await same('okta', streamOktaUsers, both, [4096])).toMatch(/\/authenticationPolicies\/0\/rules: expected an array/)
  })
})

describe('malformed Okta map entries and a changed user count', () => {
  /** A bundle of `n` users with `bad` malformed factor and role entries of ids no user has (distinct reasons, distinct ids). */
  const withBad = (n: number, bad: number): { users: Record<string, unknown>[]; factors: Record<string, unknown>; roles: Record<string, unknown> } => {
    const b = oktaBundle(n) as { users: Record<string, unknown>[]; factors: Record<string, unknown>; roles: Record<string, unknown> }
    for (let i = 0; i < bad; i++) {
      b.factors[`nobody${i}`] = i % 2 ? { n: i } : [{ status: 'ACTIVE', n: i }]
      b.roles[`nobody${i}`] = `r${i}`
    }
    return b
  }
  it('many malformed entries no user needs keep nothing per entry (the heap after the first passes stays flat)', async () => {
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as () => void
    const text = JSON.stringify(withBad(20, 60_000))
    gc()
    const before = process.memoryUsage().heapUsed
    const s = (await streamOktaUsers(opener(text, 65536), 'f.json', WEAK, PR))!
    gc()
    const grown = process.memoryUsage().heapUsed - before
    // One error per malformed entry (120,000, each a stack trace and a message with its id) is tens of MB; markers: none.
    expect(grown).toBeLessThan(8 * 1048576)
    expect(s.count).toBe(whole('okta', text) && (whole('okta', text) as { users: unknown[] }).users.length)
  })
  it('the first user needing a malformed list gets the whole-file reader\'s error (factors, roles, spilled or not); unused ones none', async () => {
    for (const budget of [5, 1e9]) {
      const fn: Streamer = (o, f, w, p) => streamOktaUsers(o, f, w, p, budget)
      const b = withBad(60, 50)
      expect(await same('okta', fn, JSON.stringify(b), [61, 4096])).toBeTypeOf('object')
      const f = structuredClone(b)
      f.factors[oktaId(40)] = [{ status: 'ACTIVE', factorType: 5 }]
      f.factors[oktaId(44)] = 'none'
      expect(await same('okta', fn, JSON.stringify(f), [61, 4096])).toBe(`f.json: /factors/${oktaId(40)}/0/factorType: expected a non-empty string (got 5)`)
      const r = structuredClone(b)
      r.roles[oktaId(22)] = { type: 'x' }
      expect(await same('okta', fn, JSON.stringify(r), [61, 4096])).toBe(`f.json: /roles/${oktaId(22)}: expected an array (got {"type":"x"})`)
      // A malformed entry given twice: the last one's reason; a later good one wins over it.
      const twice = JSON.stringify(b).replace('"factors":{', `"factors":{"${oktaId(1)}":"first",`).replace('"roles":{', `"roles":{"${oktaId(22)}":5,`)
      expect(await same('okta', fn, twice, [4096])).toBeTypeOf('object')
      const last = JSON.stringify(b).replace('"roles":{', `"roles":{"${oktaId(22)}":[],`).replace(/\}\}$/, `,"${oktaId(22)}":"last"}}`)
      expect(await same('okta', fn, last, [4096])).toBe(`f.json: /roles/${oktaId(22)}: expected an array (got "last")`)
    }
  })
  it('a bundle with fewer users in the counting pass than in the first (read through the same opener) is a changed file', async () => {
    const full = oktaBundle(30) as { users: unknown[] }
    for (const fewer of [{ ...full, users: full.users.slice(0, -1) }, { ...full, users: full.users.slice(0, 10) }]) {
      let reads = 0
      const texts = [JSON.stringify(full), JSON.stringify(fewer)]
      const open = () => opener(texts[Math.min(1, reads++)]!, 4096)()
      await expect(streamOktaUsers(open, 'f.json', WEAK, PR)).rejects.toThrow('f.json: changed while being read (read it from a file nothing else writes)')
      expect(reads).toBe(2)
    }
    // A malformed list a user needs, well-formed when read again: a changed file too.
    const bad = structuredClone(full) as unknown as { factors: Record<string, unknown> }
    bad.factors[oktaId(10)] = 'none'
    let reads = 0
    const texts = [JSON.stringify(bad), JSON.stringify(bad), JSON.stringify(full)]
    const open = () => opener(texts[Math.min(2, reads++)]!, 4096)()
    await expect(streamOktaUsers(open, 'f.json', WEAK, PR)).rejects.toThrow('f.json: changed while being read')
    expect(reads).toBe(3)
  })
})

describe('streamed GitHub bundles judge what the whole-file reader judged', () => {
  const GHFIX = fileURLToPath(new URL('../../fixtures/mfa/github/', import.meta.url))
  const member = (i: number): Record<string, unknown> => ({ login: `dev${i}`, id: 1000 + i, type: 'User' })
  const org = { login: 'acme', two_factor_requirement_enabled: false }
  it.each(readdirSync(GHFIX))('%s: the same users, coverage and enforcement (a bare array is left to the whole-file reader)', async (file) => {
    const text = readFileSync(join(GHFIX, file), 'utf8')
    const got = await same('github', streamGithubUsers, text)
    expect(got === undefined).toBe(text.trimStart().startsWith('['))
  })
  it('generated bundles, in any chunking: disabled members missing from the list come last; admins counted when listed', async () => {
    const members = Array.from({ length: 900 }, (_, i) => member(i))
    const disabled = [...Array.from({ length: 900 }, (_, i) => member(i)).filter((_, i) => i % 7 === 0), member(5000), member(5001)]
    const admins = [...members.filter((_, i) => i % 11 === 0), member(5001), member(6000)]
    const got = (await same('github', streamGithubUsers, JSON.stringify({ membersWith2faDisabled: disabled, org, admins, members }))) as { users: IdpUser[] }
    expect(got.users.slice(-2).map((u) => u.login)).toEqual(['dev5000', 'dev5001'])
    await same('github', streamGithubUsers, JSON.stringify({ org, members }))
    await same('github', streamGithubUsers, JSON.stringify({ org: { ...org, two_factor_requirement_enabled: true }, membersWith2faDisabled: disabled }))
  })
  it('errors in the whole-file reader order; a member listed twice and odd shapes are left to it', async () => {
    const members = Array.from({ length: 30 }, (_, i) => member(i))
    const bad = (list: string): unknown[] => [...members.slice(0, 3), list === 'x' ? 5 : { login: '' }]
    expect(await same('github', streamGithubUsers, JSON.stringify({ members: bad('x'), admins: bad('y'), membersWith2faDisabled: bad('z'), org }), [4096])).toBe('f.json: /membersWith2faDisabled/3/login: expected a non-empty string (got "")')
    expect(await same('github', streamGithubUsers, JSON.stringify({ admins: bad('y'), members: bad('x'), membersWith2faDisabled: [] }), [4096])).toBe('f.json: /members/3: expected a member object (got 5)')
    expect(await same('github', streamGithubUsers, JSON.stringify({ members, membersWith2faDisabled: [], org: { login: 'acme' } }), [4096])).toMatch(/\/org\/two_factor_requirement_enabled: expected true or false/)
    expect(await same('github', streamGithubUsers, JSON.stringify({ members }), [4096])).toMatch(/\/membersWith2faDisabled: expected the members array/)
    expect(await streamed(streamGithubUsers, JSON.stringify({ members: [...members, member(3)], membersWith2faDisabled: [] }), 4096)).toBeUndefined()
    for (const odd of ['[]', '{"members": null, "org": {}}', '5']) expect(await streamed(streamGithubUsers, odd, 3), odd).toBeUndefined()
  })
})

describe('a file that changes between passes (every JSON reader, through one second-pass helper)', () => {
  const ghMember = (i: number): Record<string, unknown> => ({ login: `dev${i}`, id: 1000 + i, type: 'User' })
  const gUser = (i: number): Record<string, unknown> => ({ primaryEmail: `u${i}@example.com`, id: String(i), isEnrolledIn2Sv: true, isEnforcedIn2Sv: true })
  const bundle = (n: number, bad?: boolean): string => {
    const b = oktaBundle(n) as { users: unknown[] }
    if (bad) b.users[3] = 5
    return JSON.stringify(b)
  }
  const cases: [string, Streamer, (n: number, bad?: boolean) => string][] = [
    ['entra', streamEntraUsers, (n, bad) => (bad ? tenant(n).replace('"isAdmin":false', '"isAdmin":"no"') : tenant(n))],
    ['google', streamGoogleUsers, (n, bad) => JSON.stringify({ users: Array.from({ length: n }, (_, i) => (bad && i === 3 ? { ...gUser(i), isEnrolledIn2Sv: 'yes' } : gUser(i))) })],
    ['okta bundle', streamOktaUsers, bundle],
    ['okta embedded', streamOktaUsers, (n, bad) => JSON.stringify(Array.from({ length: n }, (_, i) => (bad && i === 3 ? 5 : oktaUserRecord(i, true))))],
    ['github', streamGithubUsers, (n, bad) => JSON.stringify({ org: { login: 'acme', two_factor_requirement_enabled: false }, membersWith2faDisabled: [ghMember(1)], members: Array.from({ length: n }, (_, i) => (bad && i === 3 ? 5 : ghMember(i))) })],
  ]
  it.each(cases)('%s: another count, a bad entry or a cut file in the last pass is "changed while being read"; an error of the callback passes through', async (_, fn, make) => {
    const first = make(20)
    const after = async (text: string, each: (u: IdpUser) => void = () => {}): Promise<unknown> => {
      let now = first
      const s = (await fn(() => opener(now, 61)(), 'f.json', WEAK, PR))!
      now = text
      return s.each(each).then(() => 'read', (err: unknown) => err)
    }
    expect(await after(first)).toBe('read')
    for (const text of [make(21), make(19), make(20, true), first.slice(0, -3)]) {
      const err = await after(text)
      expect(err, text.slice(0, 80)).toBeInstanceOf(AttemptFailure)
      expect([(err as AttemptFailure).reason, (err as Error).message]).toEqual(['input', 'f.json: changed while being read (read it from a file nothing else writes)'])
    }
    const boom = new Error('boom')
    expect(await after(first, () => { throw boom })).toBe(boom)
  })
})

describe('streamed AWS credential reports judge what the whole-file reader judged', () => {
  const AFIX = fileURLToPath(new URL('../../fixtures/mfa/aws/', import.meta.url))
  const header = readFileSync(join(AFIX, 'credential-report.csv'), 'utf8').split('\n')[0]!
  const row = (i: number, cells: Partial<Record<'user' | 'password' | 'mfa', string>> = {}): string =>
    `${cells.user ?? `user${i}`},arn:aws:iam::123456789012:user/user${i},2023-06-01T10:00:00+00:00,${cells.password ?? (i % 5 ? 'true' : 'false')},N/A,N/A,N/A,${cells.mfa ?? (i % 7 ? 'true' : 'false')},false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A`
  it.each(readdirSync(AFIX))('%s: the same users, root account and skips (the JSON form is left to the whole-file reader)', async (file) => {
    const text = readFileSync(join(AFIX, file), 'utf8')
    const got = await same('aws', streamAwsUsers, text)
    expect(got === undefined).toBe(file.endsWith('.json'))
  })
  it('a long blank prefix in many chunks is scanned once (it was rescanned whole each chunk): the same result as the whole-file reader', async () => {
    const t0 = performance.now()
    // 8 MiB of white space before JSON: left to the whole-file reader; before a report: its users (blank lines skipped).
    expect(await same('aws', streamAwsUsers, `\uFEFF${' \t'.repeat(4 * 1024 * 1024)}{"Content": "x"}`, [256])).toBeUndefined()
    const rows = Array.from({ length: 20 }, (_, i) => row(i))
    const got = await same('aws', streamAwsUsers, `\uFEFF${'\r\n'.repeat(50_000)}${header}\n${rows.join('\n')}\n`, [7])
    expect((got as { users: IdpUser[] }).users).toHaveLength(16)
    expect(performance.now() - t0).toBeLessThan(20_000)
  })
  it('a generated report with quoted names, CRLF, a BOM and blank lines, in any chunking; bounds and bad cells as the whole-file reader', async () => {
    const rows = Array.from({ length: 400 }, (_, i) => row(i, i % 9 === 0 ? { user: `"user""${i}"", x"` } : {}))
    const got = (await same('aws', streamAwsUsers, `\uFEFF${header}\r\n${rows.join('\r\n')}\r\n\r\n`, [1, 2, 3, 61, 4096])) as { users: IdpUser[] }
    expect(got.users.map((u) => u.login)).toContain('user"9", x')
    await same('aws', streamAwsUsers, `${header}\n${row(0, { user: '<root_account>', password: 'not_supported' })}\n${rows.join('\n')}`)
    expect(await same('aws', streamAwsUsers, `${header}\n${rows.slice(0, 30).join('\n')}\n${row(31, { mfa: 'maybe' })}\n${row(32, { user: '' })}`, [7, 4096])).toBe('f.json: line 32: column mfa_active: expected true or false (got "maybe")')
    // Past the row bound, the bound is the error, even after a bad row (as the whole-file reader: the CSV is read first).
    const many = `${header}\n${row(1, { mfa: 'maybe' })}\n${Array.from({ length: 100_000 }, (_, i) => row(i)).join('\n')}`
    expect(await same('aws', streamAwsUsers, many, [1 << 20])).toBe('f.json: not a credential report (more than 100000 rows)')
    for (const text of ['', '\n\n', `${header.replace('mfa_active', 'mfa')}\n${row(1)}`]) expect(await same('aws', streamAwsUsers, text, [3]), text).toMatch(/^f.json: line 1: expected/)
    expect(await streamed(streamAwsUsers, '  {"Content": 5}', 3)).toBeUndefined()
  })
  it('CsvReader: any text cut anywhere gives the rows of the whole text', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[ab",\r\n]{0,40}$/), fc.array(fc.nat(40), { maxLength: 6 }), (text, cuts) => {
        const rows: string[][] = []
        const r = new CsvReader((x) => rows.push(x))
        let at = 0
        for (const c of [...cuts].sort((a, b) => a - b)) {
          r.push(text.slice(at, Math.max(at, c)))
          at = Math.max(at, c)
        }
        r.push(text.slice(at))
        r.end()
        expect(rows).toEqual(parseCsv(text))
      }),
      { numRuns: 2000 },
    )
  })
})

interface ScanOut {
  errors: number
  failed: number
  passed: number
  coverage: string
  grownMb: number
}

/** Scans `target` in a child with --expose-gc: the live heap before, and the largest live heap while users are reported. */
function scanInChild(target: string): ScanOut {
  const child = `
const { scan } = await import(process.argv[1] + '/src/engine/run.ts')
const mfa = (await import(process.argv[1] + '/checks/mfa/index.ts')).default
globalThis.gc()
const before = process.memoryUsage().heapUsed
let peak = 0, n = 0
const timer = setInterval(() => { globalThis.gc(); peak = Math.max(peak, process.memoryUsage().heapUsed) }, 500)
const r = await scan({ targets: [process.argv[2]], checks: mfa.checks, timeoutMs: 600_000 })
clearInterval(timer)
const cov = r.findings.find((f) => f.ruleId === 'mfa-coverage')
process.stdout.write(JSON.stringify({ errors: r.errors.length, failed: Object.values(r.summary.failed).reduce((a, b) => a + b, 0), passed: r.summary.passed, coverage: cov?.evidence.summary, grownMb: (peak - before) / 1048576 }))`
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', child, join(import.meta.dirname, '../..'), target], { encoding: 'utf8', timeout: 600_000 })
  expect(r.stderr).toBe('')
  return JSON.parse(r.stdout) as ScanOut
}

describe('large identity exports through the scan', () => {
  it('300,000 Entra users: every user judged, coverage counted, the live heap grown by far less than the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ztscan-entra-stream-'))
    onTestFinished(() => rm(dir, { recursive: true, force: true }))
    const file = join(dir, 'entra.json')
    await writeFile(file, tenant(300_000))
    const size = readFileSync(file).length
    const out = scanInChild(`idp:entra:${file}`)
    expect(out.errors).toBe(0)
    // 42,858 users without MFA (every 7th): each a failed finding; the others pass (counted, not stored).
    expect(out.coverage).toMatch(/^257142 of 300000 users have MFA/)
    expect(out.failed).toBeGreaterThanOrEqual(42_858)
    expect(out.passed).toBeGreaterThanOrEqual(257_142)
    expect(out.grownMb).toBeLessThan(size / 2 / 1048576)
    console.log(`300k-user Entra export (${(size / 1048576).toFixed(0)} MB): live heap grew at most ${out.grownMb.toFixed(0)} MB; ${out.failed} failed, ${out.passed} passed`)
  }, 600_000)

  it('an Okta bundle of 150,000 users (factor and role maps in another order): judged, the live heap grown by far less than the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ztscan-okta-stream-'))
    onTestFinished(() => rm(dir, { recursive: true, force: true }))
    const file = join(dir, 'okta.json')
    const n = 150_000
    // With the fields GET /api/v1/users returns beside the judged ones (about 400 bytes a user, as a real export).
    const extra = (i: number) => ({ created: '2024-01-10T17:00:00.000Z', lastLogin: '2025-05-02T08:12:44.000Z', type: { id: 'oty1abcdEFGHijkl0h7' }, credentials: { provider: { type: 'OKTA', name: 'OKTA' } }, _links: { self: { href: `https://example.okta.com/api/v1/users/${oktaId(i)}` } } })
    const users = Array.from({ length: n }, (_, i) => JSON.stringify({ ...oktaUserRecord(i, false), ...extra(i) }))
    const factors = Array.from({ length: n }, (_, k) => n - 1 - k).map((i) => `${JSON.stringify(oktaId(i))}:${JSON.stringify(oktaFactorList(i))}`)
    await writeFile(file, `{"users":[${users.join(',\n')}],"factors":{${factors.join(',\n')}}}`)
    const size = readFileSync(file).length
    const out = scanInChild(`idp:okta:${file}`)
    expect(out.errors).toBe(0)
    // Every 13th user is suspended (not judged); of the others, every 7th has no factor.
    const live = Array.from({ length: n }, (_, i) => i).filter((i) => i % 13 !== 0)
    const withMfa = live.filter((i) => i % 7 !== 0).length
    expect(out.coverage).toMatch(new RegExp(`^${withMfa} of ${live.length} users have MFA`))
    expect(out.failed).toBeGreaterThanOrEqual(live.length - withMfa)
    expect(out.grownMb).toBeLessThan(size / 2 / 1048576)
    console.log(`150k-user Okta bundle (${(size / 1048576).toFixed(0)} MB): live heap grew at most ${out.grownMb.toFixed(0)} MB; ${out.failed} failed, ${out.passed} passed`)
  }, 600_000)
})
