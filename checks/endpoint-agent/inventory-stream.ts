/**
 * @fileoverview EDR/MDM inventory exports read as streams, in two passes, so a 1M-device export never sits in memory:
 * 1. validate every entry (the provider's schema and dates; the first 20 problems, each naming file and JSON pointer) and
 *    note each device id by a 64-bit hash (`id-slots.ts`): typed arrays of about 25 bytes a device, no id string kept;
 * 1b. only when some hash was seen on more than one record (the same id listed twice, or, rarely, two ids of one hash):
 *    read the file again for those records alone and decide exactly, by their id strings, which ones are devices of
 *    their own and which record wins (records judged once: of records sharing an id the latest check-in);
 * 2. read the file again and hand each winning device to `onDevice` as it is parsed: findings flow to the engine as they
 *    are produced. A file that changes between the passes is an input error, never a misjudged device.
 * Verdicts, skips and error messages are those of `parseInventory` + `judgedDevices` on the whole file (tests hold it).
 */
import { AttemptFailure, type FieldProblem } from '../../src/errors.ts'
import { JsonStreamError, readJsonEntries, type JsonEntriesSpec } from '../../src/lib-json-stream.ts'
import type { Provider } from './catalogue.ts'
import { Column, IdSlots, type IdHash } from './id-slots.ts'
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
  /** The id hash (tests force collisions with it; default `hashId`). */
  idHash?: IdHash
}

/** One id of a slot that several records hashed to, decided exactly (pass 1b). */
interface ExactId {
  /** The id's first record and its winning record (entry indexes), the winner's check-in and group. */
  readonly first: number
  winner: number
  at: number
  group: number
}

/** Thrown from the entry callback when validation has found enough problems. */
const STOP = Symbol('stop')

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
  // Per slot (distinct id hash): its first record's entry index, that record's group, and whether more records hashed there.
  const slots = new IdSlots(o.idHash)
  const first = new Column((n) => new Int32Array(n))
  const group = new Column((n) => new Int32Array(n))
  const multi = new Column((n) => new Uint8Array(n))
  let repeated = 0
  const groupIds = new Map<string, number>()
  const groupNames: string[] = []
  const groupOf = (d: DeviceRecord): number => {
    const g = o.group?.(d)
    if (g === undefined) return -1
    let gi = groupIds.get(g) ?? -1
    // Distinct groups are few (agents × platforms × release lines); a hostile export's flood of them is cut off.
    if (gi < 0 && groupNames.length < 100_000) groupIds.set(g, (gi = groupNames.push(g) - 1))
    return gi
  }
  const notJudged = new Map<string, number>()
  let judged = 0
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
  const changed = (): never => {
    throw new AttemptFailure('input', `${file}: changed while being read (read it from a file nothing else writes)`)
  }
  /** The device of entry `e` when it is judged as one (a valid record that is not decommissioned, merged, …); else undefined. */
  const judgedAgain = (e: unknown, i: number, ptr: string): DeviceRecord | undefined => {
    if (entryProblems(provider, e, `${ptr}/${i}`).length) changed()
    const d = deviceOf(provider, e as Record<string, unknown>)
    return d.notJudged ? undefined : d
  }

  // Pass 1: validate, and note each id's hash.
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
      judged++
      const slot = slots.add(d.id)
      if (slots.added) {
        first.set(slot, i)
        group.set(slot, groupOf(d))
      } else if (!multi.get(slot)) {
        multi.set(slot, 1)
        repeated++
      }
    })
  } catch (err) {
    if (err !== STOP) throw err
    throw problemsError(file, problems)
  }
  if (streamed === undefined) {
    throw envelopeError(provider, file, false, typeof envelopeValue?.value)
  }
  if (problems.length) throw problemsError(file, problems)

  // Pass 1b, only when records shared a hash: their ids, exactly (memory for those records' ids alone).
  const exact = new Map<string, ExactId>()
  if (repeated) {
    const again = await read((e, i, ptr) => {
      const d = judgedAgain(e, i, ptr)
      if (!d) return
      const slot = slots.find(d.id)
      if (slot < 0) changed()
      if (!multi.get(slot)) return
      const at = seenAt(d)
      const x = exact.get(d.id)
      if (!x) exact.set(d.id, { first: i, winner: i, at, group: groupOf(d) })
      // A later record wins unless it checked in no later (the comparison `judgedDevices` makes).
      else if (!(at <= x.at)) Object.assign(x, { winner: i, at, group: groupOf(d) })
    })
    if (again !== count) changed()
  }
  const devices = slots.size - repeated + exact.size

  // Each distinct group once, in the order devices first show it (a device's group is its winning record's): the slots
  // of one record each, and the exact ids, both in the order of their first records, merged.
  const groups: string[] = []
  const listed = new Uint8Array(groupNames.length)
  const list = (g: number): void => {
    if (g >= 0 && !listed[g]) {
      listed[g] = 1
      groups.push(groupNames[g]!)
    }
  }
  const ids = exact.values()
  let next = ids.next()
  for (let slot = 0; slot < slots.size; slot++) {
    if (multi.get(slot)) continue
    for (; !next.done && next.value.first < first.data[slot]!; next = ids.next()) list(next.value.group)
    list(group.data[slot]!)
  }
  for (; !next.done; next = ids.next()) list(next.value.group)
  const facts: InventoryFacts = { devices, notJudged, duplicates: judged - devices, groups }
  o.facts?.(facts)

  // Pass 2: the winners, as they are parsed. Each device is handed over at one entry index at most (its slot's first record,
  // or its exact id's winner), so as many handed over as there are devices means every one was: records that swapped ids
  // between the passes (the count of entries unchanged) would otherwise lose devices without a word.
  let handed = 0
  const again = await read((e, i, ptr) => {
    const d = judgedAgain(e, i, ptr)
    if (!d) return
    const slot = slots.find(d.id)
    if (slot < 0) changed()
    if (multi.get(slot) ? (exact.get(d.id) ?? changed()).winner !== i : first.data[slot] !== i) return
    handed++
    onDevice(d)
  })
  if (again !== count || handed !== devices) changed()
  return facts
}
