/**
 * @fileoverview EDR/MDM inventory exports read as streams, in two passes, so a 1M-device export never sits in memory:
 * 1. validate every entry (the provider's schema and dates; the first 20 problems, each naming file and JSON pointer) and
 *    note, per device id, which entry wins (records judged once: of records sharing an id the latest check-in) — memory
 *    for the ids only (a Map of id strings: bounded by id size × count, ~100 bytes a device) plus a few typed arrays;
 * 2. read the file again and hand each winning device to `onDevice` as it is parsed: findings flow to the engine as they
 *    are produced. A file that changes between the passes is an input error, never a misjudged device.
 * Verdicts, skips and error messages are those of `parseInventory` + `judgedDevices` on the whole file (tests hold it).
 */
import { AttemptFailure, type FieldProblem } from '../../src/errors.ts'
import { JsonStreamError, readJsonEntries, type JsonEntriesSpec } from '../../src/lib-json-stream.ts'
import type { Provider } from './catalogue.ts'
import { deviceOf, entryProblems, envelopeError, envelopeOf, MAX_PROBLEMS, problemsError, type DeviceRecord } from './inventory.ts'

/** Problems listed for a bad export; validation stops there (as `parseInventory`). */

/** What the first pass learned, for the caller (the check's summary lines and release lines). */
export interface InventoryFacts {
  /** Devices judged (one per id). */
  readonly devices: number
  /** Records not judged as devices of their own, counted per reason. */
  readonly notJudged: ReadonlyMap<string, number>
  /** Records sharing an id with an earlier one. */
  readonly duplicates: number
  /** The distinct `group(d)` of the judged devices (see `InventoryOptions.group`), in the order devices first show them. */
  readonly groups: readonly string[]
}

/** Options of a streamed read. */
export interface InventoryOptions {
  /** A short string per judged device (its agent and release line), collected in the first pass: `InventoryFacts.groups`. */
  group?(d: DeviceRecord): string | undefined
  /** Called with the facts after the first pass, before the first device is handed over. */
  facts?(f: InventoryFacts): void
}

/** Thrown from the entry callback when validation has found enough problems. */
const STOP = Symbol('stop')

/** A growable Int32/Float64 column. */
class Column<T extends Int32Array | Float64Array> {
  data: T
  readonly #make: (n: number) => T
  constructor(data: T, make: (n: number) => T) {
    this.data = data
    this.#make = make
  }
  set(i: number, v: number): void {
    if (i >= this.data.length) {
      const next = this.#make(this.data.length * 2)
      next.set(this.data)
      this.data = next
    }
    this.data[i] = v
  }
}

const seenAt = (d: DeviceRecord): number => (d.lastSeen ? Date.parse(d.lastSeen) : -Infinity)
const reasonOf = (why: string): string => why.replace(/^merged into machine .*/, 'merged into another machine (mergedIntoMachineId)')

/**
 * Reads a `provider` export through `open` (called once per pass, each time from the start) and hands every judged device
 * to `onDevice`; `file` names the export in errors.
 * @throws AttemptFailure('input') for an export that is not JSON, exceeds a bound, holds no array of entries, has a bad
 * entry (the first 20 problems), or changed between the passes.
 */
export async function streamInventory(provider: Provider, open: () => AsyncIterable<Buffer>, file: string, onDevice: (d: DeviceRecord) => void, o: InventoryOptions = {}): Promise<InventoryFacts> {
  const envelope = envelopeOf(provider)
  const spec: JsonEntriesSpec = { arrays: [[envelope]], bare: true }
  const problems: FieldProblem[] = []
  const ids = new Map<string, number>()
  const winner = new Column(new Int32Array(1024), (n) => new Int32Array(n))
  const seen = new Column(new Float64Array(1024), (n) => new Float64Array(n))
  const group = new Column(new Int32Array(1024), (n) => new Int32Array(n))
  const groupIds = new Map<string, number>()
  const groupNames: string[] = []
  const notJudged = new Map<string, number>()
  let duplicates = 0
  let streamed: string | undefined
  // What stood where the entries should be (JSON.parse's `typeof data[envelope]`): the envelope's value, if any.
  let envelopeValue: { value: unknown } | undefined
  const read = async (onEntry: (e: unknown, i: number, ptr: string) => void): Promise<number> => {
    try {
      const summary = await readJsonEntries(open(), spec, onEntry, (pointer, value) => {
        if (pointer === `/${envelope}`) envelopeValue = { value }
      })
      streamed = summary.counts.has('') ? '' : summary.counts.has(`/${envelope}`) ? `/${envelope}` : undefined
      return summary.counts.get(streamed ?? '') ?? 0
    } catch (err) {
      if (err instanceof JsonStreamError) throw new AttemptFailure('input', err.describe(file))
      throw err
    }
  }

  // Pass 1: validate, and note the entry that wins for each id.
  let count: number
  try {
    count = await read((e, i, ptr) => {
      const p = entryProblems(provider, e, `${ptr}/${i}`)
      if (p.length) {
        problems.push(...p)
        if (problems.length >= MAX_PROBLEMS) throw STOP
        return
      }
      if (problems.length) return
      const d = deviceOf(provider, e as Record<string, unknown>)
      if (d.notJudged) {
        const why = reasonOf(d.notJudged)
        notJudged.set(why, (notJudged.get(why) ?? 0) + 1)
        return
      }
      let slot = ids.get(d.id)
      const at = seenAt(d)
      if (slot === undefined) {
        slot = ids.size
        ids.set(d.id, slot)
      } else {
        duplicates++
        if (at <= seen.data[slot]!) return
      }
      winner.set(slot, i)
      seen.set(slot, at)
      const g = o.group?.(d)
      let gi = -1
      if (g !== undefined) {
        gi = groupIds.get(g) ?? -1
        // Distinct groups are few (agents × platforms × release lines); a hostile export's flood of them is cut off.
        if (gi < 0 && groupNames.length < 100_000) groupIds.set(g, (gi = groupNames.push(g) - 1))
      }
      group.set(slot, gi)
    })
  } catch (err) {
    if (err !== STOP) throw err
    throw problemsError(file, problems)
  }
  if (streamed === undefined) {
    throw envelopeError(provider, file, false, typeof envelopeValue?.value)
  }
  if (problems.length) throw problemsError(file, problems)
  // Each distinct group once, in the order devices first show it: not a string per device.
  const groups: string[] = []
  const listed = new Uint8Array(groupNames.length)
  for (let slot = 0; slot < ids.size; slot++) {
    const g = group.data[slot]!
    if (g >= 0 && !listed[g]) {
      listed[g] = 1
      groups.push(groupNames[g]!)
    }
  }
  const facts: InventoryFacts = { devices: ids.size, notJudged, duplicates, groups }
  o.facts?.(facts)

  // Pass 2: the winners, as they are parsed.
  const changed = (): never => {
    throw new AttemptFailure('input', `${file}: changed while being read (read it from a file nothing else writes)`)
  }
  const again = await read((e, i, ptr) => {
    if (entryProblems(provider, e, `${ptr}/${i}`).length) changed()
    const d = deviceOf(provider, e as Record<string, unknown>)
    if (d.notJudged) return
    const slot = ids.get(d.id)
    if (slot === undefined) changed()
    if (winner.data[slot!] === i) onDevice(d)
  })
  if (again !== count) changed()
  return facts
}
