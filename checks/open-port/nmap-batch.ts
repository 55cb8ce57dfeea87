/**
 * @fileoverview The hand-over of parsed nmap hosts from the parsing worker to the main thread. The worker builds no host
 * objects: it records the parser's events ({@link NmapHostEvents}) as numbers in an Int32Array (transferred: no copy)
 * with a table of the batch's distinct strings (a state, a service name or a product is sent once per batch). The main
 * thread replays them into the same {@link NmapHostBuilder} the parser uses in one thread: the same hosts, keys in the
 * same order. The decoder checks every event, count, index and string it reads: a malformed batch throws, it is never
 * read past its end.
 */
import { NmapHostBuilder, own, type NmapHost, type NmapHostEvents } from './nmap-xml.ts'

/** One encoded batch: what the worker posts (the words' buffer goes in the transfer list). */
export interface NmapBatch {
  readonly words: Int32Array<ArrayBuffer>
  readonly strings: readonly string[]
}

// Events, then their operands: s = a string's index in the batch's table, o = the same or NONE for undefined.
const HOST_START = 1
const STATUS = 2 // s o
const ADDRESS = 3 // s s o
const HOSTNAME = 4 // s o
const EXTRAPORTS = 5 // s, count (two words)
const PORT_START = 6 // s, portid
const PORT_STATE = 7 // s o
const SERVICE = 8 // o o o o o o, conf: NONE or two words
const SCRIPT = 9 // s
const PORT_END = 10
const HOST_END = 11 // partial: 0 or 1
const HOST_DROP = 12
const NONE = -1
const TWO32 = 4_294_967_296
/** The words' buffer at the start (256 KiB), and the most it keeps after a take (1 MiB: a batch of full weight). */
const INITIAL_WORDS = 64 * 1024
const KEEP_WORDS = 256 * 1024
// Operand slots of the last-string cache.
const S_STATUS = 0
const S_STATUS_REASON = 1
const S_ADDRTYPE = 2
const S_VENDOR = 3
const S_HOSTNAME_TYPE = 4
const S_EXTRA_STATE = 5
const S_PROTOCOL = 6
const S_STATE = 7
const S_REASON = 8
const S_SERVICE = 9 // name, product, version, extrainfo, tunnel, method: S_SERVICE + 0..5
const S_SCRIPT = 15
const SLOTS = 16

/**
 * Records the parser's events into one batch at a time; {@link NmapBatchEncoder.take} hands the batch over and starts
 * the next. A batch is taken between hosts only.
 */
export class NmapBatchEncoder implements NmapHostEvents {
  #w = new Int32Array(INITIAL_WORDS)
  #n = 0
  #strings: string[] = []
  #index = new Map<string, number>()
  /** Hosts completed in the batch being built. */
  hosts = 0
  /** Their ports plus the ports' scripts. */
  weight = 0
  /** A host has started and not yet ended or been dropped: the batch cannot be taken now. */
  #inHost = false

  /** Room for `k` more words. */
  #room(k: number): Int32Array<ArrayBuffer> {
    if (this.#n + k > this.#w.length) {
      const next = new Int32Array(this.#w.length * 2)
      next.set(this.#w)
      this.#w = next
    }
    return this.#w
  }
  #s(s: string): number {
    let i = this.#index.get(s)
    if (i === undefined) {
      // A copy: the parser's string may be a slice pinning its whole 256 KiB input chunk until the batch is sent.
      const c = own(s)
      i = this.#strings.push(c) - 1
      this.#index.set(c, i)
    }
    return i
  }
  // The last string of each operand slot and its index (a state, a protocol, a reason or a method mostly repeats the
  // previous one): an equality test instead of hashing the parser's fresh string into the table. Emptied by take().
  #last: (string | undefined)[] = new Array<string | undefined>(SLOTS).fill(undefined)
  #lastI = new Int32Array(SLOTS)
  /** {@link NmapBatchEncoder.#s} through the slot's last string. */
  #c(slot: number, s: string): number {
    if (s === this.#last[slot]) return this.#lastI[slot]!
    const i = this.#s(s)
    this.#last[slot] = this.#strings[i] // the table's copy: the parser's string may pin its input chunk
    this.#lastI[slot] = i
    return i
  }
  #co(slot: number, s: string | undefined): number {
    return s === undefined ? NONE : this.#c(slot, s)
  }

  hostStart(): void {
    this.#inHost = true
    this.#room(1)[this.#n++] = HOST_START
  }
  status(state: string, reason: string | undefined): void {
    const w = this.#room(3)
    w[this.#n++] = STATUS
    w[this.#n++] = this.#c(S_STATUS, state)
    w[this.#n++] = this.#co(S_STATUS_REASON, reason)
  }
  address(addr: string, addrtype: string, vendor: string | undefined): void {
    const w = this.#room(4)
    w[this.#n++] = ADDRESS
    w[this.#n++] = this.#s(addr)
    w[this.#n++] = this.#c(S_ADDRTYPE, addrtype)
    w[this.#n++] = this.#co(S_VENDOR, vendor)
  }
  hostname(name: string, type: string | undefined): void {
    const w = this.#room(3)
    w[this.#n++] = HOSTNAME
    w[this.#n++] = this.#s(name)
    w[this.#n++] = this.#co(S_HOSTNAME_TYPE, type)
  }
  extraports(state: string, count: number): void {
    const w = this.#room(4)
    w[this.#n++] = EXTRAPORTS
    w[this.#n++] = this.#c(S_EXTRA_STATE, state)
    this.#num(w, count)
  }
  portStart(protocol: string, portid: number): void {
    const w = this.#room(3)
    w[this.#n++] = PORT_START
    w[this.#n++] = this.#c(S_PROTOCOL, protocol)
    w[this.#n++] = portid
  }
  portState(state: string, reason: string | undefined): void {
    const w = this.#room(3)
    w[this.#n++] = PORT_STATE
    w[this.#n++] = this.#c(S_STATE, state)
    w[this.#n++] = this.#co(S_REASON, reason)
  }
  service(name: string | undefined, product: string | undefined, version: string | undefined, extrainfo: string | undefined, tunnel: string | undefined, method: string | undefined, conf: number | undefined): void {
    const w = this.#room(9)
    w[this.#n++] = SERVICE
    w[this.#n++] = this.#co(S_SERVICE, name)
    w[this.#n++] = this.#co(S_SERVICE + 1, product)
    w[this.#n++] = this.#co(S_SERVICE + 2, version)
    w[this.#n++] = this.#co(S_SERVICE + 3, extrainfo)
    w[this.#n++] = this.#co(S_SERVICE + 4, tunnel)
    w[this.#n++] = this.#co(S_SERVICE + 5, method)
    if (conf === undefined) w[this.#n++] = NONE
    else this.#num(w, conf)
  }
  script(id: string): void {
    const w = this.#room(2)
    w[this.#n++] = SCRIPT
    w[this.#n++] = this.#c(S_SCRIPT, id)
    this.weight++
  }
  portEnd(): void {
    this.#room(1)[this.#n++] = PORT_END
    this.weight++
  }
  hostEnd(partial: boolean): void {
    const w = this.#room(2)
    w[this.#n++] = HOST_END
    w[this.#n++] = partial ? 1 : 0
    this.hosts++
    this.#inHost = false
  }
  hostDrop(): void {
    this.#inHost = false
    this.#room(1)[this.#n++] = HOST_DROP
  }
  /** A non-negative integer below 2^53 as two words (high, low). */
  #num(w: Int32Array, v: number): void {
    w[this.#n++] = Math.floor(v / TWO32)
    w[this.#n++] = v >>> 0
  }

  /**
   * The batch recorded so far (its words in a buffer of their own, to transfer), and an empty one started.
   * The words are copied out, so the buffer is reused; a buffer grown past {@link KEEP_WORDS} by a dense host (up to
   * ~128 MB, outside the worker's heap limit) is dropped and the next batch starts again at the initial size: the
   * trade-off is re-growing (doubling and copying) for the next such host, linear in its size like the first time.
   * @throws Error in the middle of a host (a defect of the caller: the host would be split across two batches).
   */
  take(): NmapBatch {
    if (this.#inHost) throw new Error('NmapBatchEncoder.take() in the middle of a host')
    const batch: NmapBatch = { words: this.#w.slice(0, this.#n), strings: this.#strings }
    if (this.#w.length > KEEP_WORDS) this.#w = new Int32Array(INITIAL_WORDS)
    this.#n = 0
    this.hosts = 0
    this.weight = 0
    this.#strings = []
    this.#index = new Map()
    this.#last.fill(undefined)
    return batch
  }
}

class BadBatch extends Error {
  constructor(detail: string) {
    super(`malformed nmap host batch from the parser thread: ${detail}`)
    this.name = 'BadBatch'
  }
}

/**
 * The hosts of a batch recorded by {@link NmapBatchEncoder}, as the parser builds them in one thread.
 * @throws Error when the batch is malformed: an unknown event or one out of place (a port outside a host, a host or a
 * port started inside another, a host dropped or ended outside one, a host left open at the end), an index or a number
 * out of range, or the batch ending inside an event.
 */
export function decodeNmapBatch(batch: NmapBatch): NmapHost[] {
  const { words, strings } = batch
  if (!(words instanceof Int32Array) || !Array.isArray(strings)) throw new BadBatch('not words and strings')
  const hosts: NmapHost[] = []
  const b = new NmapHostBuilder((h) => hosts.push(h), false)
  const end = words.length
  let i = 0
  const word = (): number => {
    if (i >= end) throw new BadBatch(`ends inside an event (${end} words)`)
    return words[i++]!
  }
  const s = (): string => {
    const k = word()
    const v = strings[k] as unknown
    if (typeof v !== 'string' || k < 0) throw new BadBatch(`string index ${k} at word ${i - 1}`)
    return v
  }
  const o = (): string | undefined => {
    if (i < end && words[i] === NONE) {
      i++
      return undefined
    }
    return s()
  }
  const num = (): number => {
    const hi = word()
    const lo = word()
    if (hi < 0 || hi >= 2 ** 21) throw new BadBatch(`number at word ${i - 2}`)
    return hi * TWO32 + (lo >>> 0)
  }
  const need = (ok: boolean, op: number): void => {
    if (!ok) throw new BadBatch(`event ${op} out of place at word ${i - 1}`)
  }
  while (i < end) {
    const op = word()
    switch (op) {
      case HOST_START:
        need(!b.inHost, op)
        b.hostStart()
        break
      case STATUS:
        need(b.inHost, op)
        b.status(s(), o())
        break
      case ADDRESS:
        need(b.inHost, op)
        b.address(s(), s(), o())
        break
      case HOSTNAME:
        need(b.inHost, op)
        b.hostname(s(), o())
        break
      case EXTRAPORTS:
        need(b.inHost, op)
        b.extraports(s(), num())
        break
      case PORT_START: {
        need(b.inHost && !b.inPort, op)
        const protocol = s()
        const portid = word()
        if (portid < 0 || portid > 65_535) throw new BadBatch(`port number ${portid} at word ${i - 1}`)
        b.portStart(protocol, portid)
        break
      }
      case PORT_STATE:
        need(b.inPort, op)
        b.portState(s(), o())
        break
      case SERVICE: {
        need(b.inPort, op)
        const name = o()
        const product = o()
        const version = o()
        const extrainfo = o()
        const tunnel = o()
        const method = o()
        let conf: number | undefined
        if (i < end && words[i] === NONE) i++
        else conf = num()
        b.service(name, product, version, extrainfo, tunnel, method, conf)
        break
      }
      case SCRIPT:
        need(b.inPort, op)
        b.script(s())
        break
      case PORT_END:
        need(b.inPort, op)
        b.portEnd()
        break
      case HOST_END: {
        need(b.inHost, op)
        const partial = word()
        if (partial !== 0 && partial !== 1) throw new BadBatch(`host end ${partial} at word ${i - 1}`)
        b.hostEnd(partial === 1)
        break
      }
      case HOST_DROP:
        need(b.inHost, op)
        b.hostDrop()
        break
      default:
        throw new BadBatch(`unknown event ${op} at word ${i - 1}`)
    }
  }
  if (b.inHost) throw new BadBatch('ends inside a host')
  return hosts
}
