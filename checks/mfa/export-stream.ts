/**
 * @fileoverview Entra `userRegistrationDetails` exports read as streams, so a 1M-user tenant is never held whole: the file of
 * `GET /reports/authenticationMethods/userRegistrationDetails` (`{ "@odata.context", value: […], "@odata.nextLink"? }`) or
 * its bare array (PowerShell `ConvertTo-Json`, PascalCase keys) is read twice — first every record is checked (the same
 * errors as the whole-file reader, the first bad record ends it) and the coverage counted, then each user is handed over as
 * it is parsed. Any other shape (policies, a combined file, PascalCase envelope) returns `undefined`: the whole-file reader
 * (exports.ts) judges it, with its own errors.
 */
import { AttemptFailure } from '../../src/errors.ts'
import { JsonStreamError, readJsonEntries, type JsonEntriesSpec } from '../../src/lib-json-stream.ts'
import { CoverageCounter, type MfaCoverage } from './coverage.ts'
import { entraRegistration, lowerCamelKeys, nextLink, type IdpUser } from './exports.ts'

/** The users of a streamed export. */
export interface StreamedUsers {
  readonly count: number
  /** Coverage of all the users (as `mfaCoverage` of the list). */
  readonly coverage: MfaCoverage
  /** Set when the file is one Graph page of several (`@odata.nextLink`). */
  readonly incomplete?: string
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
