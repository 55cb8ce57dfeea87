/**
 * @fileoverview Identity exports read as streams, so a 1M-user tenant is never held whole. Entra `userRegistrationDetails`: the file of
 * `GET /reports/authenticationMethods/userRegistrationDetails` (`{ "@odata.context", value: […], "@odata.nextLink"? }`) or
 * its bare array (PowerShell `ConvertTo-Json`, PascalCase keys) is read twice — first every record is checked (the same
 * errors as the whole-file reader, the first bad record ends it) and the coverage counted, then each user is handed over as
 * it is parsed. Any other shape (policies, a combined file, PascalCase envelope) returns `undefined`: the whole-file reader
 * (exports.ts) judges it, with its own errors. Google `users.list` (`{ kind, users: […], nextPageToken? }` or the bare
 * array) the same way; what is not judged is kept as the first sentences per rule and a count.
 */
import { AttemptFailure } from '../../src/errors.ts'
import { JsonStreamError, readJsonEntries, type JsonEntriesSpec } from '../../src/lib-json-stream.ts'
import { CoverageCounter, type MfaCoverage } from './coverage.ts'
import { entraRegistration, googleUser, lowerCamelKeys, nextLink, type IdpUser, type NotJudged } from './exports.ts'

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
    async each(fn) {
      const changed = (): AttemptFailure => new AttemptFailure('input', `${file}: changed while being read (read it from a file nothing else writes)`)
      let n = 0
      try {
        await readJsonEntries(open(), SPEC, (e, i, ptr) => {
          n++
          let u: IdpUser
          try {
            u = user(e, i, ptr)
          } catch {
            throw changed()
          }
          fn(u)
        })
      } catch (err) {
        throw err instanceof JsonStreamError ? changed() : err
      }
      if (n !== count) throw changed()
    },
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
  const notJudged: NotJudged[] = []
  const notJudgedCounts = new Map<string, number>()
  const note = (n: NotJudged): void => {
    const c = (notJudgedCounts.get(n.rule) ?? 0) + 1
    notJudgedCounts.set(n.rule, c)
    if (c <= KEPT_PER_RULE) notJudged.push(n)
  }
  let entries = 0
  try {
    await readJsonEntries(
      open(),
      GOOGLE,
      (e, i, ptr) => {
        entries++
        const u = googleUser(e, file, `${ptr}/${i}`, note)
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
  const changed = (): AttemptFailure => new AttemptFailure('input', `${file}: changed while being read (read it from a file nothing else writes)`)
  return {
    count,
    notJudged,
    notJudgedCounts,
    coverage: counter.result(),
    async each(fn) {
      let n = 0
      try {
        await readJsonEntries(open(), GOOGLE, (e, i, ptr) => {
          n++
          let u: IdpUser | undefined
          try {
            u = googleUser(e, file, `${ptr}/${i}`, () => {})
          } catch {
            throw changed()
          }
          if (u) fn(u)
        })
      } catch (err) {
        throw err instanceof JsonStreamError ? changed() : err
      }
      if (n !== entries) throw changed()
    },
  }
}
