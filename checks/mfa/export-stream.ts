/**
 * @fileoverview Identity exports read as streams, so a 1M-user tenant is never held whole. Entra `userRegistrationDetails`: the file of
 * `GET /reports/authenticationMethods/userRegistrationDetails` (`{ "@odata.context", value: […], "@odata.nextLink"? }`) or
 * its bare array (PowerShell `ConvertTo-Json`, PascalCase keys) is read twice — first every record is checked (the same
 * errors as the whole-file reader, the first bad record ends it) and the coverage counted, then each user is handed over as
 * it is parsed. Any other shape (policies, a combined file, PascalCase envelope) returns `undefined`: the whole-file reader
 * (exports.ts) judges it, with its own errors. Google `users.list` (`{ kind, users: […], nextPageToken? }` or the bare
 * array) the same way; what is not judged is kept as the first sentences per rule and a count. Okta users (with their
 * factor and role maps), GitHub organisation bundles and AWS credential reports (CSV, line by line) too: see each reader
 * for what it keeps between passes.
 */
import { StringDecoder } from 'node:string_decoder'
import { AttemptFailure } from '../../src/errors.ts'
import { JsonStreamError, readJsonEntries, type JsonEntriesSpec } from '../../src/lib-json-stream.ts'
import { SpillStore } from '../../src/engine/spill.ts'
import { Column, hashId } from '../endpoint-agent/id-slots.ts'
import { CoverageCounter, type MfaCoverage } from './coverage.ts'
import {
  CredentialReportRows,
  CSV_LIMITS,
  CsvReader,
  entraRegistration,
  githubLogin,
  githubNoList,
  githubNotJudged,
  githubOrg,
  googleUser,
  LISTED,
  listSome,
  lowerCamelKeys,
  nextLink,
  oktaFactors,
  oktaPolicyList,
  oktaRoles,
  oktaUserWith,
  type IdpModel,
  type IdpUser,
  type NotJudged,
  type OktaFactors,
  type OktaLookup,
  type OktaRoles,
} from './exports.ts'

/** The users of a streamed export. */
export interface StreamedUsers {
  readonly count: number
  /** Coverage of all the users (as `mfaCoverage` of the list). */
  readonly coverage: MfaCoverage
  /** Set when the file is one Graph page of several (`@odata.nextLink`). */
  readonly incomplete?: string
  /** What was not judged: the first sentences per rule (as many as a skip entry shows), and how many there were per rule. */
  readonly notJudged: readonly NotJudged[]
  readonly notJudgedCounts: ReadonlyMap<string, number>
  /** What else the file says besides its users (the Okta policies, the GitHub org setting, the AWS root account). */
  readonly parts?: Pick<IdpModel, 'oktaPolicies' | 'awsRoot'> & { readonly enforcement?: IdpModel['enforcement'] }
  /** One pass over the file: every user, in file order. */
  each(fn: (u: IdpUser) => void): Promise<void>
}

/** Thrown from a callback: the file has a shape this reader leaves to the whole-file reader. */
const OTHER = Symbol('other shape')
/** Envelope fields of a Graph page besides `value`. */
const ODATA = new Set(['/@odata.context', '/@odata.nextLink', '/@odata.count'])
const SPEC: JsonEntriesSpec = { arrays: [['value']], bare: true }

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * Streams an Entra registration export through `open` (called once per pass). `weak`/`pr`: the factor tiers of the policy.
 * @returns undefined when the file is not a registration list (the caller reads it whole).
 * @throws AttemptFailure('input') for a bad record (first one, as the whole-file reader) or a file changed between passes.
 */
export async function streamEntraUsers(open: () => AsyncIterable<Buffer>, file: string, weak: readonly string[], pr: readonly string[]): Promise<StreamedUsers | undefined> {
  const counter = new CoverageCounter(weak, pr)
  let bare = false
  let page: Record<string, unknown> = {}
  const user = (e: unknown, i: number, ptr: string): IdpUser => entraRegistration(lowerCamelKeys(e, file), file, `${ptr}/${i}`)
  try {
    const summary = await readJsonEntries(
      open(),
      SPEC,
      (e, i, ptr) => {
        // A Conditional Access page (its own context, or policy fields) and anything but objects are the whole-file reader's.
        if (!isObj(e) || (i === 0 && ('grantControls' in e || 'conditions' in e || 'GrantControls' in e || 'Conditions' in e))) throw OTHER
        counter.add(user(e, i, ptr))
      },
      (pointer, value) => {
        if (!ODATA.has(pointer) || (pointer === '/@odata.context' && /conditionalAccess/i.test(String(value)))) throw OTHER
        page[pointer.slice(1)] = value
      },
    )
    bare = summary.counts.has('')
    if (!bare && !summary.counts.has('/value')) return undefined
  } catch (err) {
    if (err === OTHER || err instanceof JsonStreamError) return undefined
    throw err
  }
  if (bare) page = {}
  const count = counter.total
  const more = nextLink(page, '')
  const incomplete = more
    ? `${file}: a Graph page with more to come: only its ${count} users and 0 policies were judged; missing the pages after ${more} (export every page: follow @odata.nextLink, or Get-Mg… -All)`
    : undefined
  return {
    count,
    notJudged: [],
    notJudgedCounts: new Map(),
    coverage: counter.result(),
    ...(incomplete ? { incomplete } : {}),
    each: (fn) => secondPass(file, open(), SPEC, count, user, fn),
  }
}

/** Sentences kept per rule of what was not judged (the skip entry shows five and "and N more"). */
const KEPT_PER_RULE = 6
const GOOGLE: JsonEntriesSpec = { arrays: [['users']], bare: true }

/**
 * Streams a Google Directory `users.list` export through `open` (called once per pass).
 * @returns undefined when the file is not a user list (the whole-file reader says what is wrong).
 * @throws AttemptFailure('input') for a bad user (the first one, as the whole-file reader) or a file changed between passes.
 */
export async function streamGoogleUsers(open: () => AsyncIterable<Buffer>, file: string, weak: readonly string[], pr: readonly string[]): Promise<StreamedUsers | undefined> {
  const counter = new CoverageCounter(weak, pr)
  const kept = new KeptNotJudged()
  let entries = 0
  try {
    await readJsonEntries(
      open(),
      GOOGLE,
      (e, i, ptr) => {
        entries++
        const u = googleUser(e, file, `${ptr}/${i}`, (n) => kept.add(n))
        if (u) counter.add(u)
      },
      (pointer, value) => {
        // `users: null` is an empty page (as `data.users ?? []`); anything else but an array, or a top-level scalar, is the
        // whole-file reader's to refuse. Other fields (kind, etag, nextPageToken) are not read.
        if (pointer === '' || (pointer === '/users' && value !== null)) throw OTHER
      },
    )
  } catch (err) {
    if (err === OTHER || err instanceof JsonStreamError) return undefined
    throw err
  }
  const count = counter.total
  return {
    count,
    notJudged: kept.list,
    notJudgedCounts: kept.counts,
    coverage: counter.result(),
    each: (fn) => secondPass(file, open(), GOOGLE, entries, (e, i, ptr) => googleUser(e, file, `${ptr}/${i}`, () => {}), fn),
  }
}

/** The read failed in a later pass than the first: the file changed between passes. */
const changed = (file: string): AttemptFailure => new AttemptFailure('input', `${file}: changed while being read (read it from a file nothing else writes)`)

/**
 * A later pass over a JSON export the first pass read whole: each entry (of the `lists` pointers, when given) is judged
 * again and what `judge` returns handed to `fn` (undefined: not a user, nothing handed over). The first pass judged the same
 * entries, so an error judging one, a file no longer JSON or another number of entries than `entries` means the file
 * changed while being read (AttemptFailure 'input'). An error `fn` throws passes through. `others` sees the entries of
 * the other lists and maps the spec streams.
 */
async function secondPass<T>(
  file: string,
  chunks: AsyncIterable<Buffer>,
  spec: JsonEntriesSpec,
  entries: number,
  judge: (e: unknown, i: number, ptr: string) => T | undefined,
  fn: (t: T) => void,
  lists?: readonly string[],
  others?: (e: unknown, ptr: string, key: string | undefined) => void,
): Promise<void> {
  let n = 0
  try {
    await readJsonEntries(chunks, spec, (e, i, ptr, key) => {
      if (lists && !lists.includes(ptr)) return others?.(e, ptr, key)
      n++
      let t: T | undefined
      try {
        t = judge(e, i, ptr)
      } catch {
        throw changed(file)
      }
      if (t !== undefined) fn(t)
    })
  } catch (err) {
    throw err instanceof JsonStreamError ? changed(file) : err
  }
  if (n !== entries) throw changed(file)
}

/** What was not judged, kept as the first sentences per rule (as many as a skip entry shows) and counted per rule. */
class KeptNotJudged {
  readonly list: NotJudged[] = []
  readonly counts = new Map<string, number>()
  add(n: NotJudged): void {
    const c = (this.counts.get(n.rule) ?? 0) + 1
    this.counts.set(n.rule, c)
    if (c <= KEPT_PER_RULE) this.list.push(n)
  }
}

// ---------------------------------------------------------------------------------------------------------------- Okta

/**
 * Id → value (the GitHub reader's member logins), for a million ids without a million heap strings: the ids' UTF-8 bytes in one growing buffer and an
 * open-addressing table of their entries, both off the V8 heap (the collector neither scans them nor grows its heap with
 * them: about 50 bytes per 20-character id, 8 of them a heap reference to the value). The values are the caller's (few distinct ones, shared). A later `set` of an id replaces it.
 */
export class IdMap<V> {
  #bytes = Buffer.allocUnsafe(1 << 16)
  #used = 0
  readonly #start = new Column((n) => new Uint32Array(n))
  readonly #len = new Column((n) => new Uint32Array(n))
  #values: V[] = []
  /** Entry index + 1 per slot; 0: empty. */
  #slots = new Int32Array(2048)
  #key = Buffer.allocUnsafe(1024)
  #keyLen = 0
  /** This map's hash seed (random: see seededHash). */
  readonly seed: readonly [number, number] = [(Math.random() * 2 ** 32) | 0, (Math.random() * 2 ** 32) | 0]

  get size(): number {
    return this.#values.length
  }

  set(id: string, value: V): void {
    const slot = this.#find(id)
    const e = this.#slots[slot]!
    if (e) {
      this.#values[e - 1] = value
      return
    }
    const n = this.#values.length
    if (this.#used + this.#keyLen > this.#bytes.length) {
      const b = Buffer.allocUnsafe(Math.max(this.#bytes.length * 2, this.#used + this.#keyLen))
      this.#bytes.copy(b, 0, 0, this.#used)
      this.#bytes = b
    }
    this.#key.copy(this.#bytes, this.#used, 0, this.#keyLen)
    this.#start.set(n, this.#used)
    this.#len.set(n, this.#keyLen)
    this.#used += this.#keyLen
    this.#values.push(value)
    this.#slots[slot] = n + 1
    if (2 * (n + 1) > this.#slots.length) this.#rehash()
  }

  get(id: string): V | undefined {
    const e = this.#slots[this.#find(id)]!
    return e ? this.#values[e - 1] : undefined
  }

  has(id: string): boolean {
    return this.#slots[this.#find(id)] !== 0
  }

  /**
   * The slot holding `id`, or the empty one where it would go; its bytes are left in #key: UTF-8 after a 0, or UTF-16 after
   * a 1 for a string with a lone surrogate (which UTF-8 would turn into U+FFFD, making two ids one).
   */
  #find(id: string): number {
    if (this.#key.length < id.length * 3 + 1) this.#key = Buffer.allocUnsafe(id.length * 3 + 1)
    const wide = LONE_SURROGATE.test(id)
    this.#key[0] = wide ? 1 : 0
    const len = (this.#keyLen = 1 + this.#key.write(id, 1, wide ? 'utf16le' : 'utf8'))
    const mask = this.#slots.length - 1
    for (let i = seededHash(this.#key, 0, len, this.seed[0], this.seed[1]) & mask; ; i = (i + 1) & mask) {
      const e = this.#slots[i]!
      if (!e) return i
      const at = this.#start.data[e - 1]!
      if (this.#len.data[e - 1] === len && this.#bytes.compare(this.#key, 0, len, at, at + len) === 0) return i
    }
  }

  #rehash(): void {
    const slots = new Int32Array(this.#slots.length * 2)
    const mask = slots.length - 1
    for (let e = 0; e < this.#values.length; e++) {
      const at = this.#start.data[e]!
      let i = seededHash(this.#bytes, at, at + this.#len.data[e]!, this.seed[0], this.seed[1]) & mask
      while (slots[i]) i = (i + 1) & mask
      slots[i] = e + 1
    }
    this.#slots = slots
  }
}

/** A UTF-16 surrogate without its other half (code units: no `u` flag). */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

/**
 * Bytes `from`…`to` of `b` hashed under a seed (the two-lane mixing of id-slots.ts' hashId, over bytes: the map rehashes
 * from its stored bytes). Each map draws its own seed, so ids made to share a slot (an unseeded hash would let a hostile
 * export pile them all into one probe run, every insert walking it) spread over the table.
 */
export function seededHash(b: Uint8Array, from: number, to: number, seedA: number, seedB: number): number {
  let h1 = 0xdeadbeef ^ seedA
  let h2 = 0x41c6ce57 ^ seedB
  for (let i = from; i < to; i++) {
    const c = b[i]!
    h1 = Math.imul(h1 ^ c, 2654435761)
    h2 = Math.imul(h2 ^ c, 1597334677)
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909)
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909)
  return (h1 ^ h2) >>> 0
}

const OKTA: JsonEntriesSpec = { arrays: [['users']], maps: [['factors'], ['roles']], bare: true }

/**
 * The Okta maps as one pass read them, in file order: each entry's map and id, and of each list item what the judgement
 * reads (factorType, status, provider; a role's type and status; anything else as JSON) — 64 bits in two seeded lanes,
 * and a count. A later pass compares its own with the first pass's, so maps rewritten between passes are seen without
 * keeping anything per entry, and without judging the entries again.
 */
class MapsDigest {
  #a: number
  #b: number
  #n = 0
  readonly #seed: readonly [number, number]
  readonly #h = new Int32Array(2)
  constructor(seed: readonly [number, number]) {
    this.#seed = seed
    this.#a = seed[0]
    this.#b = seed[1]
  }
  /** Mixes two 32-bit words into the lanes (order matters). */
  #mix(x: number, y: number): void {
    this.#a = Math.imul(this.#a ^ x, 0x9e3779b1) ^ (this.#a >>> 15)
    this.#b = (Math.imul(this.#b ^ y, 0xc2b2ae35) + Math.imul(this.#a, 0x27d4eb2f)) | 0
  }
  /** A string; another value as its JSON (undefined: a word of its own). */
  #value(v: unknown): void {
    const s = typeof v === 'string' ? v : v === undefined ? undefined : `\0${JSON.stringify(v)}`
    if (s === undefined) return this.#mix(1, 1)
    hashId(s, this.#seed[0], this.#seed[1], this.#h)
    this.#mix(this.#h[0]!, this.#h[1]!)
  }
  add(map: '/factors' | '/roles', key: string, e: unknown): void {
    this.#n++
    this.#value(key)
    if (!Array.isArray(e)) return this.#value(e)
    this.#mix(map === '/roles' ? 3 : 2, e.length)
    for (const x of e as unknown[]) {
      if (!isObj(x)) {
        this.#mix(4, 4)
        this.#value(x)
      } else if (map === '/factors') {
        this.#value(x.factorType)
        this.#value(x.status)
        this.#value(x.provider)
      } else {
        this.#value(x.type)
        this.#value(x.status)
      }
    }
  }
  same(o: MapsDigest): boolean {
    return this.#a === o.#a && this.#b === o.#b && this.#n === o.#n
  }
}

/** Map and user records of an Okta bundle kept in memory before the rest spill to a temporary file (sorted runs). */
export const OKTA_JOIN_RECORDS = 50_000

/**
 * Streams an Okta export through `open`: a bare array of users carrying `_embedded.factors` in two passes (check and count,
 * then hand over); the bundle `{ users, factors: { <id>: […] }, roles?: { <id>: […] }, authenticationPolicies? }` in
 * three. The first reads the factor and role maps — each entry reduced to its active factors (shared between users with
 * the same ones) or its admin flag (a malformed one to a shared marker: its error is read again for the first user needing it) — and each user's id, and joins them by id through a sorted spill (`SpillStore`: an
 * exact join, in whatever order the file has them, with memory bounded whatever the number of ids): what remains is, per
 * user in file order, the index of its factor list and of its role flag (typed arrays, about 12 bytes a user, with a hash of
 * its id that the later passes check; the maps as read are digested, and each later pass digests them again: lists
 * rewritten between passes are a changed file). Then the users are checked and counted, then handed over. A user's own
 * record is never kept, nor any id.
 * @returns undefined for another shape (the whole-file reader says what is wrong).
 * @throws AttemptFailure('input') for a bad user or factor list (the first one, as the whole-file reader) or a file changed between passes.
 */
export async function streamOktaUsers(open: () => AsyncIterable<Buffer>, file: string, weak: readonly string[], pr: readonly string[], budget = OKTA_JOIN_RECORDS): Promise<StreamedUsers | undefined> {
  // The factor lists and role flags, each distinct one once: 0 and 1 are the role flags, then the two markers of a malformed
  // list (its reason is not kept: see mapFailure).
  const values: (OktaFactors | OktaRoles)[] = [false, true, BAD_FACTORS, BAD_ROLES]
  const seed = [(Math.random() * 2 ** 32) | 0, (Math.random() * 2 ** 32) | 0] as const
  const shared = new Map<string, number>()
  const intern = (f: OktaFactors): number => {
    if (f instanceof AttemptFailure) return BAD_FACTORS_AT
    // JSON: unambiguous whatever the strings hold (a type or provider may contain any character, a separator too).
    const key = JSON.stringify(f.map((x) => [x.type, x.provider ?? null]))
    let v = shared.get(key)
    if (v === undefined) shared.set(key, (v = values.push(f) - 1))
    return v
  }
  // The maps as the first pass read them: a later pass that reads other maps (a file rewritten between passes, the same
  // ids) is a changed file.
  const joined = new MapsDigest(seed)
  /** A later pass's digest of the maps, to compare with the joined one when the pass ends. */
  const again = (): { entry: (e: unknown, ptr: string, key: string | undefined) => void; check: () => void } => {
    const d = new MapsDigest(seed)
    return {
      entry: (e, ptr, key) => {
        if (ptr === '/factors' || ptr === '/roles') d.add(ptr, key!, e)
      },
      check: () => {
        if (!d.same(joined)) throw changed(file)
      },
    }
  }
  // By user id: [FACTORS | ROLES, value index] for a map entry, [USER, entry index] for a user.
  const join = new SpillStore<[number, number]>(budget)
  // Per user (entry index): its factor list's and role flag's value index + 1 (0: none), and a hash of its id.
  const factorOf = new Column((n) => new Int32Array(n))
  const roleOf = new Column((n) => new Int32Array(n))
  const idCheck = new Column((n) => new Int32Array(n))
  const h = new Int32Array(2)
  const idHash = (e: unknown): number => {
    if (!isObj(e) || typeof e.id !== 'string') return 0
    hashId(e.id, seed[0], seed[1], h)
    return h[0]! | 1
  }
  /** The user being judged: its lists are looked up by its entry index (its id checked against the first pass's). */
  let user = -1
  const lookup: OktaLookup = {
    factors: () => (user < 0 ? undefined : values[factorOf.get(user) - 1] as OktaFactors | undefined),
    roles: () => (user < 0 ? undefined : values[roleOf.get(user) - 1] as OktaRoles | undefined),
  }
  const counter = new CoverageCounter(weak, pr)
  const kept = new KeptNotJudged()
  const judge = (e: unknown, i: number, ptr: string, fn: (u: IdpUser) => void, note: (n: NotJudged) => void): void => {
    const r = oktaUserWith(e, file, `${ptr}/${i}`, lookup)
    if (r && 'rule' in r) note(r)
    else if (r) fn(r)
  }
  /** Bundle users in a later pass: the id the first pass saw at that index, else the file changed. */
  const bundleUser = (e: unknown, i: number): void => {
    if (idHash(e) !== idCheck.get(i)) throw changed(file)
    user = i
  }
  let policies: unknown
  let entries = 0
  let failure: AttemptFailure | undefined
  /** The map entry behind a marker the first bad user met (its reason is read again: mapFailure). */
  let needs: { map: '/factors' | '/roles'; id: string } | undefined
  // Counts a user; the first bad one is kept while the rest is read (a file that is not JSON further on is the whole-file
  // reader's to report, as its parse comes first).
  const count = (e: unknown, i: number, ptr: string): void => {
    entries++
    if (failure) return
    try {
      judge(e, i, ptr, (u) => counter.add(u), (n) => kept.add(n))
    } catch (err) {
      if (!(err instanceof AttemptFailure)) throw err
      failure = err
      if (err === BAD_FACTORS || err === BAD_ROLES) needs = { map: err === BAD_FACTORS ? '/factors' : '/roles', id: (e as { id: string }).id }
    }
  }
  let counts: ReadonlyMap<string, number>
  try {
    ;({ counts } = await readJsonEntries(
      open(),
      OKTA,
      (e, i, ptr, key) => {
        if (ptr === '/factors' || ptr === '/roles') joined.add(ptr, key!, e)
        if (ptr === '/factors') join.add([FACTORS, intern(oktaFactors(e, file, `/factors/${key!}`))], key!)
        else if (ptr === '/roles') {
          const r = oktaRoles(e, file, `/roles/${key!}`)
          join.add([ROLES, r instanceof AttemptFailure ? BAD_ROLES_AT : Number(r)], key!)
        } else if (ptr === '/users') {
          const c = idHash(e)
          idCheck.set(i, c)
          if (c) join.add([USER, i], (e as { id: string }).id)
        }
        // A bare array has no maps: its users are counted in this pass.
        else if (ptr === '') count(e, i, ptr)
      },
      (pointer, value) => {
        // The lists and maps in another shape, or a top-level scalar, are the whole-file reader's to judge or refuse.
        if (pointer === '/authenticationPolicies') policies = value
        else if (pointer === '' || pointer === '/users' || pointer === '/factors' || pointer === '/roles') throw OTHER
      },
    ))
    if (!counts.has('') && counts.has('/users')) {
      joinById(join, factorOf, roleOf)
      let users = 0
      const maps = again()
      await readJsonEntries(open(), OKTA, (e, i, ptr, key) => {
        if (ptr !== '/users') return maps.entry(e, ptr, key)
        users++
        bundleUser(e, i)
        count(e, i, ptr)
      })
      if (users !== counts.get('/users')) throw changed(file)
      maps.check()
    }
  } catch (err) {
    if (err === OTHER || err instanceof JsonStreamError) return undefined
    throw err
  } finally {
    join.release()
  }
  if (!counts.has('') && !counts.has('/users')) return undefined
  // The whole-file reader's order: the policies, then the users.
  const oktaPolicies = policies === undefined ? undefined : oktaPolicyList(file, policies)
  if (needs) throw await mapFailure(open, file, needs.map, needs.id)
  if (failure) throw failure
  return {
    count: counter.total,
    notJudged: kept.list,
    notJudgedCounts: kept.counts,
    coverage: counter.result(),
    parts: oktaPolicies ? { oktaPolicies } : {},
    each: async (fn) => {
      const maps = again()
      await secondPass(
        file,
        open(),
        OKTA,
        entries,
        (e, i, ptr) => {
          if (ptr === '/users') bundleUser(e, i)
          let u: IdpUser | undefined
          judge(e, i, ptr, (x) => (u = x), () => {})
          return u
        },
        fn,
        ['', '/users'],
        maps.entry,
      )
      maps.check()
    },
  }
}

/**
 * A malformed factor or role list of the maps: one shared marker each, in place of its error (an error per entry, its id in
 * the message, would keep every malformed entry of the file in memory, whether a user needs it or not). The first user that
 * needs one has its error built again by mapFailure.
 */
const BAD_FACTORS = new AttemptFailure('input', 'a malformed factor list')
const BAD_ROLES = new AttemptFailure('input', 'a malformed role list')
const BAD_FACTORS_AT = 2
const BAD_ROLES_AT = 3
/** The maps alone (a later pass after a bad list). */
const OKTA_MAPS: JsonEntriesSpec = { ...OKTA, skip: [['users']] }

/**
 * The error of the map entry `map`/`id` a user needed (the last entry of that id, as the join): the whole-file reader's, read
 * again from the file. An entry no longer malformed, or a file no longer JSON, is a file changed between passes.
 */
async function mapFailure(open: () => AsyncIterable<Buffer>, file: string, map: '/factors' | '/roles', id: string): Promise<AttemptFailure> {
  let last: OktaFactors | OktaRoles | undefined
  try {
    await readJsonEntries(open(), OKTA_MAPS, (e, _i, ptr, key) => {
      if (ptr === map && key === id) last = map === '/factors' ? oktaFactors(e, file, `/factors/${id}`) : oktaRoles(e, file, `/roles/${id}`)
    })
  } catch (err) {
    throw err instanceof JsonStreamError ? changed(file) : err
  }
  return last instanceof AttemptFailure ? last : changed(file)
}

/** Kinds of an Okta join record. */
const FACTORS = 0
const ROLES = 1
const USER = 2

/**
 * Reads the join's records in id order: each id's last factor list and role flag (a later map entry of an id replaces an
 * earlier one, as in the whole-file reader's object) go to every user of that id.
 */
function joinById(join: SpillStore<[number, number]>, factorOf: Column<Int32Array>, roleOf: Column<Int32Array>): void {
  let id: string | undefined
  let factors = 0
  let roles = 0
  const users: number[] = []
  const close = (): void => {
    for (const u of users) {
      factorOf.set(u, factors)
      roleOf.set(u, roles)
    }
    users.length = 0
    factors = roles = 0
  }
  for (const r of join.sorted()) {
    if (r.key !== id) {
      close()
      id = r.key
    }
    const [kind, v] = r.value
    if (kind === USER) users.push(v)
    else if (kind === FACTORS) factors = v + 1
    else roles = v + 1
  }
  close()
}

// -------------------------------------------------------------------------------------------------------------- GitHub

const GITHUB: JsonEntriesSpec = { arrays: [['members'], ['admins'], ['membersWith2faDisabled']], bare: true }
const GH_LISTS = ['/membersWith2faDisabled', '/members', '/admins'] as const
const GITHUB_MEMBERS: JsonEntriesSpec = { ...GITHUB, skip: [['admins'], ['membersWith2faDisabled']] }

/**
 * Streams a GitHub organisation bundle (`{ org, members, admins, membersWith2faDisabled }`) through `open`, in two passes:
 * first the lists are checked (the first bad member of each, reported in the whole-file reader's order), the admins and the
 * members without 2FA kept (the judgement looks every member up in them), the member logins held (in an IdMap) only to find duplicates;
 * then each member is handed over as it is read, followed by the members without 2FA that `members` does not list.
 * @returns undefined for another shape, or a member listed twice (the whole-file reader judges those).
 * @throws AttemptFailure('input') for a bad member or org (as the whole-file reader) or a file changed between passes.
 */
export async function streamGithubUsers(open: () => AsyncIterable<Buffer>, file: string, weak: readonly string[], pr: readonly string[]): Promise<StreamedUsers | undefined> {
  let seen: IdMap<true> | undefined = new IdMap<true>()
  const firstMembers: string[] = []
  /** Members without 2FA: login → id (the last entry of a login, as the whole-file reader's map). */
  const disabled = new Map<string, string>()
  const admins = new Set<string>()
  const failures = new Map<string, AttemptFailure>()
  let org: { value: unknown } | undefined
  let twice = false
  let counts: ReadonlyMap<string, number>
  try {
    ;({ counts } = await readJsonEntries(
      open(),
      GITHUB,
      (e, i, ptr) => {
        if (ptr === '' || twice) throw OTHER
        if (failures.has(ptr)) return
        let login: string
        try {
          login = githubLogin(file, e, `${ptr}/${i}`)
        } catch (err) {
          if (!(err instanceof AttemptFailure)) throw err
          failures.set(ptr, err)
          return
        }
        if (ptr === '/members') {
          if (seen!.has(login)) twice = true
          seen!.set(login, true)
          if (firstMembers.length <= LISTED) firstMembers.push(login)
        } else if (ptr === '/admins') admins.add(login)
        else disabled.set(login, String((e as Record<string, unknown>).id ?? login))
      },
      (pointer, value) => {
        if (pointer === '/org') org = { value }
        else if (pointer === '' || (GH_LISTS as readonly string[]).includes(pointer)) throw OTHER
      },
    ))
  } catch (err) {
    if (err === OTHER || err instanceof JsonStreamError) return undefined
    throw err
  }
  if (twice || counts.has('')) return undefined
  const judged = counts.has('/membersWith2faDisabled')
  if (!judged && !org) throw githubNoList(file)
  for (const ptr of GH_LISTS) {
    const f = failures.get(ptr)
    if (f) throw f
  }
  const members = seen.size
  const extra = judged ? [...disabled].filter(([login]) => !seen!.has(login)) : []
  const enforcement = org ? [githubOrg(file, org.value)] : []
  const notJudged = judged ? [] : [githubNotJudged(members ? listSome(firstMembers, LISTED, members) : undefined, members)]
  // Coverage from the counts: every listed login is a user; those without 2FA have none; admins count when listed.
  const counter = new CoverageCounter(weak, pr)
  if (judged) {
    const total = members + extra.length
    let adminsListed = 0
    let adminsWithout = 0
    for (const a of admins) {
      if (!seen.has(a) && !disabled.has(a)) continue
      adminsListed++
      if (disabled.has(a)) adminsWithout++
    }
    counter.addMany({ login: '', id: '', admin: true, mfa: true }, adminsListed - adminsWithout)
    counter.addMany({ login: '', id: '', admin: true, mfa: false }, adminsWithout)
    counter.addMany({ login: '', id: '', admin: false, mfa: false }, disabled.size - adminsWithout)
    counter.addMany({ login: '', id: '', admin: false, mfa: true }, total - disabled.size - (adminsListed - adminsWithout))
  }
  seen = undefined
  const listed = counts.get('/members') ?? 0
  return {
    count: counter.total,
    notJudged,
    notJudgedCounts: new Map(notJudged.map((n) => [n.rule, 1])),
    coverage: counter.result(),
    parts: { enforcement },
    async each(fn) {
      if (!judged) return
      const user = (login: string, id: string): IdpUser => ({ login, id, admin: admins.has(login), mfa: !disabled.has(login) })
      const member = (e: unknown, i: number, ptr: string): IdpUser => {
        const login = githubLogin(file, e, `${ptr}/${i}`)
        return user(login, disabled.get(login) ?? String((e as Record<string, unknown>).id ?? login))
      }
      await secondPass(file, open(), GITHUB_MEMBERS, listed, member, fn, ['/members'])
      for (const [login, id] of extra) fn(user(login, id))
    },
  }
}

// ----------------------------------------------------------------------------------------------------------------- AWS

/** Longest credential-report row read as a stream (AWS rows are about 300 characters; a hostile one is refused past this). */
const MAX_CSV_ROW = 64 * 1024 * 1024

/**
 * Streams an AWS IAM credential report (the CSV text) through `open`, line by line with a bounded row, in two passes:
 * every row checked and counted, then each user handed over. Only the root row, a count and the first names of users
 * without a console password are kept.
 * @returns undefined for a JSON file (the CLI's `{ Content }`, a bundle: the whole-file reader reads those).
 * @throws AttemptFailure('input') for a bad report (the first problem, as the whole-file reader) or a file changed between passes.
 */
export async function streamAwsUsers(open: () => AsyncIterable<Buffer>, file: string, weak: readonly string[], pr: readonly string[]): Promise<StreamedUsers | undefined> {
  /** Reads the CSV rows into `onRow`; false when the file is JSON. */
  const read = async (onRow: (row: string[]) => void): Promise<boolean> => {
    const decoder = new StringDecoder('utf8')
    const csv = new CsvReader(onRow, { ...CSV_LIMITS, maxRowChars: MAX_CSV_ROW })
    // Text before its first non-blank character, until it says CSV or JSON (a BOM is no part of it).
    let head: string | undefined = ''
    const feed = (text: string): boolean => {
      if (head === undefined) {
        csv.push(text)
        return true
      }
      head += text
      // Only the new text is looked at: what came before it is blank (a BOM is white space to trimStart), so a long blank
      // prefix in many chunks is scanned once, not once a chunk.
      const start = text.trimStart()
      if (!start) return head.length <= MAX_CSV_ROW
      if (start.startsWith('{')) return false
      const all = head.replace(/^\uFEFF/, '')
      head = undefined
      csv.push(all)
      return true
    }
    try {
      for await (const chunk of open()) if (!feed(decoder.write(chunk))) return false
      if (!feed(decoder.end())) return false
      if (head !== undefined) csv.push(head.replace(/^\uFEFF/, ''))
      csv.end()
    } catch (err) {
      if (!(err instanceof RangeError)) throw err
      throw new AttemptFailure('input', `${file}: not a credential report (${err.message})`)
    }
    return true
  }
  const counter = new CoverageCounter(weak, pr)
  const report = new CredentialReportRows(file)
  let failure: unknown
  // The first bad row is kept while the rest is read: a CSV beyond its bounds is that error, as for the whole file.
  const csv = await read((row) => {
    if (failure) return
    try {
      const u = report.add(row)
      if (u) counter.add(u)
    } catch (err) {
      failure = err
    }
  })
  if (!csv) return undefined
  if (failure) throw failure
  const notJudged = report.finish()
  const counts = new Map<string, number>()
  for (const n of notJudged) counts.set(n.rule, (counts.get(n.rule) ?? 0) + 1)
  const count = counter.total
  return {
    count,
    notJudged,
    notJudgedCounts: counts,
    coverage: counter.result(),
    parts: report.awsRoot ? { awsRoot: report.awsRoot } : {},
    async each(fn) {
      const again = new CredentialReportRows(file)
      let n = 0
      try {
        await read((row) => {
          const u = again.add(row)
          if (u) {
            n++
            fn(u)
          }
        })
      } catch (err) {
        throw err instanceof AttemptFailure ? changed(file) : err
      }
      if (n !== count) throw changed(file)
    },
  }
}
