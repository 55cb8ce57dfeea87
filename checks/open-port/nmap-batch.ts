/**
 * @fileoverview The hand-over of parsed nmap hosts from the parsing worker to the main thread: a batch of hosts becomes an
 * Int32Array of numbers (transferred: no copy) and a table of the batch's distinct strings (a state, a service name or a
 * product is sent once per batch), instead of a structured clone of every object and every string. The main thread
 * rebuilds the same objects, with the same keys in the same order (including a port's `reason` key left undefined).
 * The decoder checks every count, index and string it reads: a malformed batch throws, it is never read past its end.
 */
import type { NmapHost, NmapPort, NmapService } from './nmap-xml.ts'

/** One encoded batch: what the worker posts (the words' buffer goes in the transfer list). */
export interface NmapBatch {
  readonly words: Int32Array<ArrayBuffer>
  readonly strings: readonly string[]
}

// Host flags.
const PARTIAL = 1
// Port flags: which optional keys the port has, and their order.
const HAS_REASON = 1
const HAS_SERVICE = 2
const SERVICE_FIRST = 4
// Service fields, in their key order; a mask says which are present.
const SERVICE_KEYS = ['name', 'product', 'version', 'extrainfo', 'tunnel', 'method'] as const
const CONF = 1 << SERVICE_KEYS.length
/** A string slot that holds `undefined`. */
const NONE = -1
const TWO32 = 4_294_967_296

/** Builds one batch at a time in the worker; {@link NmapBatchEncoder.take} hands it over and starts the next. */
export class NmapBatchEncoder {
  #words = new Int32Array(16 * 1024)
  #n = 1 // [0] = host count
  #strings: string[] = []
  #index = new Map<string, number>()
  /** Hosts in the batch being built. */
  hosts = 0

  #grow(need: number): void {
    if (this.#n + need <= this.#words.length) return
    const next = new Int32Array(Math.max(this.#words.length * 2, this.#n + need))
    next.set(this.#words.subarray(0, this.#n))
    this.#words = next
  }
  #str(s: string): number {
    let i = this.#index.get(s)
    if (i === undefined) {
      i = this.#strings.push(s) - 1
      this.#index.set(s, i)
    }
    return i
  }
  #opt(s: string | undefined): number {
    return s === undefined ? NONE : this.#str(s)
  }
  /** A non-negative integer up to 2^53 as two words (high, low). */
  #num(v: number): void {
    const w = this.#words
    w[this.#n++] = Math.floor(v / TWO32)
    w[this.#n++] = v >>> 0
  }

  add(h: NmapHost): void {
    this.#grow(8 + 3 * h.addresses.length + 2 * h.hostnames.length + 4 * h.extraports.length)
    const w = this.#words
    w[this.#n++] = h.partial ? PARTIAL : 0
    w[this.#n++] = this.#str(h.state)
    w[this.#n++] = this.#opt(h.reason)
    w[this.#n++] = h.addresses.length
    for (const a of h.addresses) {
      w[this.#n++] = this.#str(a.addr)
      w[this.#n++] = this.#str(a.addrtype)
      w[this.#n++] = this.#opt(a.vendor)
    }
    w[this.#n++] = h.hostnames.length
    for (const n of h.hostnames) {
      w[this.#n++] = this.#str(n.name)
      w[this.#n++] = this.#opt(n.type)
    }
    w[this.#n++] = h.extraports.length
    for (const e of h.extraports) {
      w[this.#n++] = this.#str(e.state)
      this.#num(e.count)
    }
    w[this.#n++] = h.ports.length
    for (const p of h.ports) this.#port(p)
    this.#words[0] = ++this.hosts
  }

  #port(p: NmapPort): void {
    const s = p.service
    this.#grow(16 + p.scripts.length)
    const w = this.#words
    let flags = 0
    if ('reason' in p) flags |= HAS_REASON
    if (s !== undefined) {
      flags |= HAS_SERVICE
      if (flags & HAS_REASON)
        for (const k in p)
          if (k === 'service') {
            flags |= SERVICE_FIRST
            break
          } else if (k === 'reason') break
    }
    w[this.#n++] = flags
    w[this.#n++] = this.#str(p.protocol)
    w[this.#n++] = p.portid
    w[this.#n++] = this.#str(p.state)
    if (flags & HAS_REASON) w[this.#n++] = this.#opt(p.reason)
    if (s !== undefined) this.#service(s)
    w[this.#n++] = p.scripts.length
    for (const id of p.scripts) w[this.#n++] = this.#str(id)
  }

  #service(s: NmapService): void {
    const w = this.#words
    const at = this.#n++
    let mask = 0
    if (s.name !== undefined) {
      mask |= 1
      w[this.#n++] = this.#str(s.name)
    }
    if (s.product !== undefined) {
      mask |= 2
      w[this.#n++] = this.#str(s.product)
    }
    if (s.version !== undefined) {
      mask |= 4
      w[this.#n++] = this.#str(s.version)
    }
    if (s.extrainfo !== undefined) {
      mask |= 8
      w[this.#n++] = this.#str(s.extrainfo)
    }
    if (s.tunnel !== undefined) {
      mask |= 16
      w[this.#n++] = this.#str(s.tunnel)
    }
    if (s.method !== undefined) {
      mask |= 32
      w[this.#n++] = this.#str(s.method)
    }
    if (s.conf !== undefined) {
      mask |= CONF
      this.#num(s.conf)
    }
    w[at] = mask
  }

  /** The batch built so far (its words in a buffer of their own, to transfer), and an empty one started. */
  take(): NmapBatch {
    const batch: NmapBatch = { words: this.#words.slice(0, this.#n), strings: this.#strings }
    this.#n = 1
    this.#words[0] = 0
    this.hosts = 0
    this.#strings = []
    this.#index = new Map()
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
 * The hosts of a batch built by {@link NmapBatchEncoder}, as the parser built them.
 * @throws Error when the batch is malformed (a count, an index or a string out of range, or words left over).
 */
export function decodeNmapBatch(batch: NmapBatch): NmapHost[] {
  const { words, strings } = batch
  if (!(words instanceof Int32Array) || !Array.isArray(strings)) throw new BadBatch('not words and strings')
  const end = words.length
  let i = 0
  const word = (): number => {
    if (i >= end) throw new BadBatch(`read past its ${end} words`)
    return words[i++]!
  }
  const count = (): number => {
    const n = word()
    if (n < 0 || n > end - i) throw new BadBatch(`count ${n} at word ${i - 1}`)
    return n
  }
  const str = (): string => {
    const k = word()
    const s = strings[k] as unknown
    if (typeof s !== 'string' || k < 0) throw new BadBatch(`string index ${k} at word ${i - 1}`)
    return s
  }
  const opt = (): string | undefined => {
    if (i < end && words[i] === NONE) {
      i++
      return undefined
    }
    return str()
  }
  const num = (): number => {
    const hi = word()
    const lo = word()
    if (hi < 0 || hi >= 2 ** 21) throw new BadBatch(`number at word ${i - 2}`)
    return hi * TWO32 + (lo >>> 0)
  }
  const hosts: NmapHost[] = new Array<NmapHost>(count())
  for (let h = 0; h < hosts.length; h++) {
    const flags = word()
    const state = str()
    const reason = opt()
    const addresses = new Array<NmapHost['addresses'][number]>(count())
    for (let k = 0; k < addresses.length; k++) {
      const addr = str()
      const addrtype = str()
      const vendor = opt()
      addresses[k] = vendor === undefined ? { addr, addrtype } : { addr, addrtype, vendor }
    }
    const hostnames = new Array<NmapHost['hostnames'][number]>(count())
    for (let k = 0; k < hostnames.length; k++) {
      const name = str()
      const type = opt()
      hostnames[k] = type === undefined ? { name } : { name, type }
    }
    const extraports = new Array<NmapHost['extraports'][number]>(count())
    for (let k = 0; k < extraports.length; k++) extraports[k] = { state: str(), count: num() }
    const ports = new Array<NmapPort>(count())
    for (let k = 0; k < ports.length; k++) ports[k] = port()
    const host: { -readonly [K in keyof NmapHost]: NmapHost[K] } = { state, addresses, hostnames, ports, extraports }
    if (reason !== undefined) host.reason = reason
    if (flags & PARTIAL) host.partial = true
    hosts[h] = host
  }
  if (i !== end) throw new BadBatch(`${end - i} words left over`)
  return hosts

  function port(): NmapPort {
    const flags = word()
    const protocol = str()
    const portid = word()
    if (portid < 0 || portid > 65_535) throw new BadBatch(`port number ${portid} at word ${i - 1}`)
    const state = str()
    const reason = flags & HAS_REASON ? opt() : undefined
    const service = flags & HAS_SERVICE ? decodeService() : undefined
    const scripts = new Array<string>(count())
    for (let k = 0; k < scripts.length; k++) scripts[k] = str()
    const p: { -readonly [K in keyof NmapPort]: NmapPort[K] } = { protocol, portid, state, scripts }
    if (flags & SERVICE_FIRST) {
      p.service = service
      p.reason = reason
    } else {
      if (flags & HAS_REASON) p.reason = reason
      if (flags & HAS_SERVICE) p.service = service
    }
    return p
  }
  function decodeService(): NmapService {
    const mask = word()
    if (mask < 0 || mask >= CONF << 1) throw new BadBatch(`service mask ${mask} at word ${i - 1}`)
    const s: Record<string, string | number> = {}
    for (let k = 0; k < SERVICE_KEYS.length; k++) if (mask & (1 << k)) s[SERVICE_KEYS[k]!] = str()
    if (mask & CONF) s.conf = num()
    return s as NmapService
  }
}
