/**
 * @fileoverview Streaming reader of nmap XML output (`-oX`) on saxes. Memory stays bounded whatever the file size: only
 * the host being read is held, and each host is handed over as its `</host>` closes. DTDs and entities are never
 * expanded: a DOCTYPE with an internal subset is rejected, and saxes knows no entity beyond the five XML ones.
 * Invalid UTF-8, truncation and malformed XML end the stream with an `NmapXmlError` naming `<file>:<line>:<col>`, after
 * everything read before the error has been handed over (including the completed ports of a host cut short).
 */
import { createReadStream } from 'node:fs'
import { isUtf8 } from 'node:buffer'
import type { SaxesAttributePlain, SaxesParser, SaxesTagPlain } from 'saxes'
import { lazyRequire } from '../../src/lib-lazy.ts'
import { openRegularFile } from '../../src/lib-files.ts'
import type { NmapWorkerData, NmapWorkerMessage } from './nmap-worker.ts'
import { decodeNmapBatch } from './nmap-batch.ts'

/** The `<nmaprun>` element: how the scan was run. */
export interface NmapRun {
  readonly scanner?: string
  readonly args?: string
  /** Start time, Unix seconds. */
  readonly start?: number
  readonly startstr?: string
  readonly version?: string
  readonly xmloutputversion?: string
}

/** `<service>` of a port. `method` is `probed` when `-sV` identified it, `table` when nmap only named the port number. */
export interface NmapService {
  readonly name?: string
  readonly product?: string
  readonly version?: string
  readonly extrainfo?: string
  /** `ssl` when nmap found the service behind TLS. */
  readonly tunnel?: string
  readonly method?: string
  readonly conf?: number
}

/** One `<port>` of a host. */
export interface NmapPort {
  readonly protocol: string
  readonly portid: number
  /** open, closed, filtered, unfiltered, open|filtered, closed|filtered. */
  readonly state: string
  /** Why nmap chose the state: syn-ack, conn-refused, no-response… */
  readonly reason?: string
  readonly service?: NmapService
  /** Ids of the NSE scripts that wrote output for this port. */
  readonly scripts: readonly string[]
}

/** One `<host>`. */
export interface NmapHost {
  /** up, down, unknown, skipped. */
  readonly state: string
  readonly reason?: string
  readonly addresses: readonly { readonly addr: string; readonly addrtype: string; readonly vendor?: string }[]
  readonly hostnames: readonly { readonly name: string; readonly type?: string }[]
  readonly ports: readonly NmapPort[]
  /** Summaries of ports not listed one by one (`<extraports state="closed" count="995">`). */
  readonly extraports: readonly { readonly state: string; readonly count: number }[]
  /** True when the file ended or broke inside this host: only its completed ports are listed. */
  readonly partial?: boolean
}

/** `<runstats>`: how the scan ended. */
export interface NmapRunStats {
  readonly exit?: string
  readonly errormsg?: string
  readonly elapsed?: number
  readonly summary?: string
  readonly hostsUp?: number
  readonly hostsDown?: number
  readonly hostsTotal?: number
}

/** Receives the document piece by piece, as it is read. */
export interface NmapHandlers {
  run?(run: NmapRun): void
  host(host: NmapHost): void
  runstats?(stats: NmapRunStats): void
  /** nmap's `<taskprogress>` (with `--stats-every`): the running task and its percentage done. */
  taskprogress?(progress: { readonly task: string; readonly percent: number }): void
}

/** Limits that keep a hostile file from growing memory. */
export interface NmapLimits {
  /** Most characters the parser may buffer without completing a piece of markup (attribute value, comment, DOCTYPE). */
  readonly maxMarkupChars?: number
  /** Deepest element nesting accepted. */
  readonly maxDepth?: number
  /** Most ports kept for one host (nmap lists at most 65,535 per protocol). */
  readonly maxPortsPerHost?: number
}

/** What a complete read found. */
export interface NmapSummary {
  readonly run?: NmapRun
  readonly runstats?: NmapRunStats
  readonly hosts: number
}

/** The input is not well-formed nmap XML; `line` and `column` are 1-based. */
export class NmapXmlError extends Error {
  readonly file: string
  readonly line: number
  readonly column: number
  /** What is wrong, without the location. */
  readonly detail: string
  /** Hosts handed over before the error. */
  readonly hostsBefore: number
  constructor(file: string, line: number, column: number, detail: string, hostsBefore: number) {
    super(`${file}:${line}:${column}: ${detail}`)
    this.name = 'NmapXmlError'
    this.file = file
    this.line = line
    this.column = column
    this.detail = detail
    this.hostsBefore = hostsBefore
  }
}

/**
 * A host's pieces in the order the parser reads them (internal). In this thread {@link NmapHostBuilder} makes the hosts
 * of them; the parsing worker records them in a batch, and the main thread replays the batch into an `NmapHostBuilder`:
 * the same objects either way. The parser has checked them (nesting, counts, limits) before calling.
 */
export interface NmapHostEvents {
  hostStart(): void
  status(state: string, reason: string | undefined): void
  address(addr: string, addrtype: string, vendor: string | undefined): void
  hostname(name: string, type: string | undefined): void
  extraports(state: string, count: number): void
  portStart(protocol: string, portid: number): void
  portState(state: string, reason: string | undefined): void
  service(name: string | undefined, product: string | undefined, version: string | undefined, extrainfo: string | undefined, tunnel: string | undefined, method: string | undefined, conf: number | undefined): void
  script(id: string): void
  portEnd(): void
  /** The host is complete (or, `partial`, cut short by the end of the input): hand it over. */
  hostEnd(partial: boolean): void
  /** The host being read is dropped (the input broke before any of its ports completed). */
  hostDrop(): void
}

interface PortDraft {
  protocol: string
  portid: number
  state: string
  reason?: string
  service?: NmapService
  scripts: string[]
}
interface HostDraft {
  state: string
  reason?: string
  addresses: { addr: string; addrtype: string; vendor?: string }[]
  hostnames: { name: string; type?: string }[]
  ports: PortDraft[]
  extraports: { state: string; count: number }[]
}

/**
 * Makes {@link NmapHost} objects of the parser's events and hands each to `emit` as it completes. With `copy`, strings
 * are copied off the parser's input chunk (see `own`); strings rebuilt from a worker's batch are fresh already.
 */
export class NmapHostBuilder implements NmapHostEvents {
  #host: HostDraft | undefined
  #port: PortDraft | undefined
  readonly #emit: (host: NmapHost) => void
  readonly #own: <T extends string | undefined>(v: T) => T
  constructor(emit: (host: NmapHost) => void, copy: boolean) {
    this.#emit = emit
    this.#own = copy ? own : (v) => v
  }
  /** A host or a port is being built: the events that fill them may come. */
  get inHost(): boolean {
    return this.#host !== undefined
  }
  get inPort(): boolean {
    return this.#port !== undefined
  }
  hostStart(): void {
    this.#host = { state: 'unknown', addresses: [], hostnames: [], ports: [], extraports: [] }
    this.#port = undefined
  }
  status(state: string, reason: string | undefined): void {
    this.#host!.state = this.#own(state)
    this.#host!.reason = this.#own(reason)
  }
  // Objects are built with only their defined keys (as `defined` would, without its copy).
  address(addr: string, addrtype: string, vendor: string | undefined): void {
    const o = this.#own
    this.#host!.addresses.push(vendor === undefined ? { addr: o(addr), addrtype: o(addrtype) } : { addr: o(addr), addrtype: o(addrtype), vendor: o(vendor) })
  }
  hostname(name: string, type: string | undefined): void {
    this.#host!.hostnames.push(type === undefined ? { name: this.#own(name) } : { name: this.#own(name), type: this.#own(type) })
  }
  extraports(state: string, count: number): void {
    this.#host!.extraports.push({ state: this.#own(state), count })
  }
  portStart(protocol: string, portid: number): void {
    this.#port = { protocol: this.#own(protocol), portid, state: 'unknown', scripts: [] }
  }
  portState(state: string, reason: string | undefined): void {
    this.#port!.state = this.#own(state)
    this.#port!.reason = this.#own(reason)
  }
  service(name: string | undefined, product: string | undefined, version: string | undefined, extrainfo: string | undefined, tunnel: string | undefined, method: string | undefined, conf: number | undefined): void {
    const o = this.#own
    const s: { -readonly [K in keyof NmapService]: NmapService[K] } = {}
    if (name !== undefined) s.name = o(name)
    if (product !== undefined) s.product = o(product)
    if (version !== undefined) s.version = o(version)
    if (extrainfo !== undefined) s.extrainfo = o(extrainfo)
    if (tunnel !== undefined) s.tunnel = o(tunnel)
    if (method !== undefined) s.method = o(method)
    if (conf !== undefined) s.conf = conf
    this.#port!.service = s
  }
  script(id: string): void {
    this.#port!.scripts.push(this.#own(id))
  }
  portEnd(): void {
    const port = this.#port!
    this.#host!.ports.push(port.scripts.length ? port : { ...port, scripts: [] })
    this.#port = undefined
  }
  hostEnd(partial: boolean): void {
    const h = this.#host!
    this.hostDrop()
    const host: { -readonly [K in keyof NmapHost]: NmapHost[K] } = { state: h.state, addresses: h.addresses, hostnames: h.hostnames, ports: h.ports, extraports: h.extraports }
    if (h.reason !== undefined) host.reason = h.reason
    if (partial) host.partial = true
    this.#emit(host)
  }
  hostDrop(): void {
    this.#host = undefined
    this.#port = undefined
  }
}

const saxes = lazyRequire<typeof import('saxes')>('saxes')
const NO_ATTRIBUTES: readonly SaxesAttributePlain[] = Object.freeze([])

// The elements the parser reads, as numbers: a tag's name is tested once (a switch on its length, then at most three
// string tests), and parents are compared as numbers. T_NONE stands above the root.
const T_NONE = -1
const T_OTHER = 0
const T_NMAPRUN = 1
const T_HOST = 2
const T_STATUS = 3
const T_ADDRESS = 4
const T_HOSTNAMES = 5
const T_HOSTNAME = 6
const T_PORTS = 7
const T_EXTRAPORTS = 8
const T_PORT = 9
const T_STATE = 10
const T_SERVICE = 11
const T_SCRIPT = 12
const T_RUNSTATS = 13
const T_FINISHED = 14
const T_TASKPROGRESS = 15
const T_HOSTS = 16
function tagCode(name: string): number {
  switch (name.length) {
    case 4:
      return name === 'host' ? T_HOST : name === 'port' ? T_PORT : T_OTHER
    case 5:
      return name === 'state' ? T_STATE : name === 'ports' ? T_PORTS : name === 'hosts' ? T_HOSTS : T_OTHER
    case 6:
      return name === 'status' ? T_STATUS : name === 'script' ? T_SCRIPT : T_OTHER
    case 7:
      return name === 'service' ? T_SERVICE : name === 'address' ? T_ADDRESS : name === 'nmaprun' ? T_NMAPRUN : T_OTHER
    case 8:
      return name === 'hostname' ? T_HOSTNAME : name === 'runstats' ? T_RUNSTATS : name === 'finished' ? T_FINISHED : T_OTHER
    case 9:
      return name === 'hostnames' ? T_HOSTNAMES : T_OTHER
    case 10:
      return name === 'extraports' ? T_EXTRAPORTS : T_OTHER
    case 12:
      return name === 'taskprogress' ? T_TASKPROGRESS : T_OTHER
    default:
      return T_OTHER
  }
}
/** The part of saxes 6's non-namespace parser (its private members) that {@link readAttributesFromList} replaces. */
interface SaxesAttributeInternals {
  attribList: SaxesAttributePlain[]
  processAttribs: () => void
  processAttribsPlain: () => void
  fail(message: string): unknown
}

/**
 * Makes `parser` hand each open tag's attributes to `take` as the list it collected, instead of copying them into the
 * tag's `attributes` dictionary (saxes' `processAttribsPlain`: interning every attribute name of every tag, most of them
 * never read, was a sixth of the parse). The well-formedness check it made stays: a duplicate attribute fails with the
 * same message at the same position, in linear time (a set past a few attributes). `tag.attributes` stays empty.
 * @throws Error when saxes' internals are not the ones this relies on (a saxes upgrade: a defect, caught by the tests).
 */
function readAttributesFromList(parser: SaxesParser, take: (list: readonly SaxesAttributePlain[]) => void): void {
  const p = parser as unknown as SaxesAttributeInternals
  if (!Array.isArray(p.attribList) || typeof p.processAttribsPlain !== 'function' || p.processAttribs !== p.processAttribsPlain)
    throw new Error('saxes internals changed: attribList / processAttribsPlain not found (nmap-xml.ts relies on saxes 6)')
  p.processAttribs = function (this: SaxesAttributeInternals): void {
    const list = this.attribList
    const n = list.length
    if (n === 0) return take(NO_ATTRIBUTES)
    if (n > 1) {
      // The first attribute whose name an earlier one has (as saxes reports it).
      if (n <= 8) {
        for (let j = 1; j < n; j++) for (let k = 0; k < j; k++) if (list[k]!.name === list[j]!.name) this.fail(`duplicate attribute: ${list[j]!.name}.`)
      } else {
        const seen = new Set<string>()
        for (const { name } of list) {
          if (seen.has(name)) this.fail(`duplicate attribute: ${name}.`)
          seen.add(name)
        }
      }
    }
    take(list)
    this.attribList = []
  }
}
const workerThreads = lazyRequire<typeof import('node:worker_threads')>('node:worker_threads')
const MAX_NAMES = 64
const MAX_SCRIPTS = 64

/** A decimal integer of 1 to 15 digits, else undefined (`/^\d{1,15}$/`, by hand: it runs for every port). */
function int(v: string | undefined): number | undefined {
  if (v === undefined || v.length === 0 || v.length > 15) return undefined
  let n = 0
  for (let i = 0; i < v.length; i++) {
    const d = v.charCodeAt(i) - 48
    if (d < 0 || d > 9) return undefined
    n = n * 10 + d
  }
  return n
}
function num(v: string | undefined): number | undefined {
  if (v === undefined) return undefined
  const n = Number(v)
  return Number.isFinite(n) ? n : undefined
}
/**
 * A copy of an attribute value that does not keep the parser's input chunk alive: V8 makes a substring of 13 or more
 * characters a slice of its parent, so an address or a version kept in a finding or a pass count would pin its whole
 * 256 KiB chunk — memory growing with the input instead of staying flat. Flattening a short concatenation copies it. (Internal: the batch encoder copies its table strings with it.)
 */
export function own<T extends string | undefined>(v: T): T {
  return v === undefined || v.length < 13 ? v : ((' ' + v).slice(1) as T)
}
/**
 * Keeps only the defined fields, so evidence and JSON stay clean: a copy, since `delete` would turn every host's objects
 * into slow dictionary-mode ones.
 */
function defined<T extends object>(o: T): T {
  const out: Record<string, unknown> = {}
  for (const k in o) if (o[k] !== undefined) out[k] = o[k]
  return out as T
}

/** Index of the first byte that starts an invalid or incomplete UTF-8 sequence (or `buf.length`). Slow path only. */
function firstInvalidUtf8(buf: Uint8Array): number {
  let i = 0
  while (i < buf.length) {
    const b = buf[i]!
    const n = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0
    if (n === 0 || i + n > buf.length) return i
    for (let k = 1; k < n; k++) if ((buf[i + k]! & 0xc0) !== 0x80) return i
    const b1 = buf[i + 1]!
    if ((b === 0xe0 && b1 < 0xa0) || (b === 0xed && b1 > 0x9f) || (b === 0xf0 && b1 < 0x90) || (b === 0xf4 && b1 > 0x8f)) return i
    i += n
  }
  return i
}

/** Bytes at the end of `buf` that begin a multi-byte sequence not yet complete (0–3). */
function incompleteTail(buf: Uint8Array): number {
  for (let back = 1; back <= Math.min(3, buf.length); back++) {
    const b = buf[buf.length - back]!
    if ((b & 0xc0) === 0x80) continue // continuation byte: keep looking for the lead
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1
    return need > back ? back : 0
  }
  return 0
}

/**
 * Reads nmap XML from a byte stream, calling `handlers` as the run, each host and the run statistics complete.
 * Consumes the stream with `for await`, so a file stream is read no faster than it is parsed.
 * @throws NmapXmlError for malformed, truncated, non-UTF-8 or non-nmap input, after handing over what was read.
 * @example
 * await parseNmapXml(createReadStream('scan.xml'), 'scan.xml', { host: (h) => console.log(h.addresses[0]?.addr, h.ports.length) })
 */
export function parseNmapXml(source: AsyncIterable<Uint8Array | string>, file: string, handlers: NmapHandlers, limits: NmapLimits = {}): Promise<NmapSummary> {
  return parseNmapEvents(source, file, new NmapHostBuilder((h) => handlers.host(h), true), handlers, limits)
}

/**
 * {@link parseNmapXml} with each host's pieces handed to `events` as they are read, instead of built hosts (internal:
 * the parsing worker records them for the main thread). `handlers.host` is not called.
 */
export async function parseNmapEvents(
  source: AsyncIterable<Uint8Array | string>,
  file: string,
  events: NmapHostEvents,
  handlers: Omit<NmapHandlers, 'host'>,
  limits: NmapLimits = {},
): Promise<NmapSummary> {
  const maxMarkup = limits.maxMarkupChars ?? 16 * 1024 * 1024
  const maxDepth = limits.maxDepth ?? 64
  const maxPorts = limits.maxPortsPerHost ?? 3 * 65_536
  const parser = new (saxes().SaxesParser)({ xmlns: false, position: true })
  // The open tag's attributes, as saxes listed them (see `readAttributesFromList`).
  let attrs: readonly SaxesAttributePlain[] = NO_ATTRIBUTES
  readAttributesFromList(parser, (list) => (attrs = list))
  /** The open tag's attribute `name` (a linear scan: few attributes per tag, and only for the tags read). */
  const a = (name: string): string | undefined => {
    for (let k = 0; k < attrs.length; k++) if (attrs[k]!.name === name) return attrs[k]!.value
    return undefined
  }
  // The open elements' codes, under two T_NONE (a root's parent and grandparent); `selfClosing`: the code of the
  // self-closing tag just opened (saxes closes it right after opening it, and it is not on the stack).
  const stack: number[] = [T_NONE, T_NONE]
  let selfClosing = T_NONE
  let run: NmapRun | undefined
  let runstats: { -readonly [K in keyof NmapRunStats]: NmapRunStats[K] } | undefined
  // The host and the port being read, and what they hold so far (the limits are checked here, the objects built by `events`).
  let inHost = false
  let inPort = false
  let addresses = 0
  let hostnames = 0
  let ports = 0
  let scripts = 0
  let hosts = 0
  let sawRoot = false
  let lastEvent = 0

  const fail = (detail: string, column = parser.column): never => {
    throw new NmapXmlError(file, parser.line, column, detail, hosts)
  }
  const flush = (partial: boolean): void => {
    if (!inHost) return
    inHost = false
    inPort = false
    if (partial && ports === 0) return events.hostDrop()
    hosts++
    events.hostEnd(partial)
  }

  parser.on('xmldecl', (d) => {
    lastEvent = parser.position
    if (d.encoding !== undefined && !/^(utf-?8|us-ascii)$/i.test(d.encoding)) fail(`encoding "${d.encoding}" is not supported (nmap writes UTF-8)`)
  })
  parser.on('doctype', (text) => {
    // nmap writes `<!DOCTYPE nmaprun>` (older versions add a PUBLIC id, which is never fetched). An internal subset is
    // where entities are declared (XXE, billion laughs): refuse it rather than parse past it.
    if (text.includes('[')) fail('DOCTYPE with an internal subset (entity declarations) refused: entities are never expanded')
    if (!/^\s*nmaprun\b/.test(text)) fail(`DOCTYPE "${text.trim().slice(0, 40)}" is not nmap's`)
    lastEvent = parser.position
  })
  parser.on('comment', () => (lastEvent = parser.position))
  parser.on('processinginstruction', () => (lastEvent = parser.position))
  parser.on('cdata', () => (lastEvent = parser.position))
  parser.on('opentag', (tag: SaxesTagPlain) => {
    lastEvent = parser.position
    const name = tag.name
    const code = tagCode(name)
    const parent = stack[stack.length - 1]!
    const grandparent = stack[stack.length - 2]!
    if (!sawRoot) {
      sawRoot = true
      if (name !== 'nmaprun') fail(`not nmap XML output: the root element is <${name}>, expected <nmaprun>`)
      run = defined({ scanner: a('scanner'), args: a('args'), start: int(a('start')), startstr: a('startstr'), version: a('version'), xmloutputversion: a('xmloutputversion') })
      handlers.run?.(run)
    }
    if (!tag.isSelfClosing) {
      if (stack.length - 2 >= maxDepth) fail(`elements nested deeper than ${maxDepth} levels`)
      stack.push(code)
    } else selfClosing = code
    switch (code) {
      case T_HOST:
        if (parent === T_NMAPRUN) {
          inHost = true
          inPort = false
          addresses = hostnames = ports = 0
          events.hostStart()
        }
        break
      case T_STATUS:
        if (inHost && parent === T_HOST) events.status(a('state') ?? 'unknown', a('reason'))
        break
      case T_ADDRESS: {
        const addr = inHost && parent === T_HOST ? a('addr') : undefined
        if (addr && addresses < MAX_NAMES) {
          addresses++
          events.address(addr, a('addrtype') ?? 'ipv4', a('vendor'))
        }
        break
      }
      case T_HOSTNAME: {
        const hostname = inHost && parent === T_HOSTNAMES ? a('name') : undefined
        if (hostname && hostnames < MAX_NAMES) {
          hostnames++
          events.hostname(hostname, a('type'))
        }
        break
      }
      case T_EXTRAPORTS:
        if (inHost && parent === T_PORTS) events.extraports(a('state') ?? 'unknown', int(a('count')) ?? 0)
        break
      case T_PORT:
        if (inHost && parent === T_PORTS) {
          const portid = int(a('portid'))
          if (portid === undefined || portid > 65535) fail(`<port> has an invalid portid "${a('portid') ?? ''}"`)
          inPort = true
          scripts = 0
          events.portStart(a('protocol') ?? 'tcp', portid!)
          if (tag.isSelfClosing) closePort()
        }
        break
      case T_STATE:
        if (inPort && parent === T_PORT) events.portState(a('state') ?? 'unknown', a('reason'))
        break
      case T_SERVICE:
        if (inPort && parent === T_PORT) events.service(a('name'), a('product'), a('version'), a('extrainfo'), a('tunnel'), a('method'), int(a('conf')))
        break
      case T_SCRIPT: {
        const id = inPort && parent === T_PORT ? a('id') : undefined
        if (id && scripts < MAX_SCRIPTS) {
          scripts++
          events.script(id)
        }
        break
      }
      case T_FINISHED:
        if (parent === T_RUNSTATS && grandparent === T_NMAPRUN) runstats = { ...runstats, ...defined({ exit: a('exit'), errormsg: a('errormsg'), elapsed: num(a('elapsed')), summary: a('summary') }) }
        break
      case T_TASKPROGRESS: {
        const percent = num(a('percent'))
        if (parent === T_NMAPRUN && percent !== undefined && percent >= 0 && percent <= 100) handlers.taskprogress?.({ task: a('task') ?? '', percent })
        break
      }
      case T_HOSTS:
        if (parent === T_RUNSTATS && grandparent === T_NMAPRUN) runstats = { ...runstats, ...defined({ hostsUp: int(a('up')), hostsDown: int(a('down')), hostsTotal: int(a('total')) }) }
        break
    }
  })
  function closePort(): void {
    if (!inHost || !inPort) return
    if (ports >= maxPorts) fail(`more than ${maxPorts} ports in one host`)
    ports++
    inPort = false
    events.portEnd()
  }
  parser.on('closetag', (tag) => {
    lastEvent = parser.position
    // saxes closes the innermost open element (a mismatched close tag fails right after): the stack's top.
    const code = tag.isSelfClosing ? selfClosing : stack.pop()!
    switch (code) {
      case T_PORT:
        if (!tag.isSelfClosing) closePort()
        break
      case T_HOST:
        if (stack[stack.length - 1] === T_NMAPRUN) flush(false)
        break
      case T_RUNSTATS:
        // The run's own statistics only: a <runstats> anywhere else (inside a <host>) is not the scan's end, and the
        // handler (the worker sends its batch there) must never run in the middle of a host.
        if (runstats && stack[stack.length - 1] === T_NMAPRUN) handlers.runstats?.(runstats)
        break
    }
  })

  const feed = (text: string): void => {
    try {
      parser.write(text)
    } catch (err) {
      if (err instanceof NmapXmlError) throw err
      // saxes messages read "<line>:<col>: <what>"
      const m = /^(\d+):(\d+): ([\s\S]*)$/.exec((err as Error).message)
      if (m) throw new NmapXmlError(file, Number(m[1]), Number(m[2]), m[3]!.startsWith('undefined entity') ? 'undefined entity (only the five XML entities are known; DTD entities are never expanded)' : m[3]!, hosts)
      throw new NmapXmlError(file, parser.line, parser.column, (err as Error).message, hosts)
    }
    if (parser.position - lastEvent > maxMarkup) fail(`more than ${maxMarkup} characters without completing an element, attribute or comment`)
  }

  let carry: Uint8Array = new Uint8Array(0)
  let first = true
  try {
    for await (const chunk of source) {
      if (typeof chunk === 'string') {
        feed(chunk)
        continue
      }
      let buf: Uint8Array = carry.length ? Buffer.concat([carry, chunk]) : chunk
      if (first && buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) buf = buf.subarray(3)
      first = false
      const end = buf.length - incompleteTail(buf)
      const body = buf.subarray(0, end)
      if (!isUtf8(body)) {
        const bad = firstInvalidUtf8(body)
        feed(Buffer.from(body.buffer, body.byteOffset, bad).toString('utf8'))
        fail(`invalid UTF-8 byte 0x${body[bad]!.toString(16).padStart(2, '0')}`, parser.column + 1)
      }
      feed(Buffer.from(body.buffer, body.byteOffset, body.length).toString('utf8'))
      carry = buf.subarray(end)
    }
    if (carry.length) fail('invalid UTF-8: the input ends inside a multi-byte character', parser.column + 1)
    try {
      parser.close()
    } catch (err) {
      const m = /^(\d+):(\d+): ([\s\S]*)$/.exec((err as Error).message)
      throw m
        ? new NmapXmlError(file, Number(m[1]), Number(m[2]), `${m[3]!}${/unclosed tag|unexpected end/.test(m[3]!) ? ' (the file is truncated)' : ''}`, hosts)
        : new NmapXmlError(file, parser.line, parser.column, (err as Error).message, hosts)
    }
  } catch (err) {
    // Keep what was read: the completed ports of the host being read when the input broke.
    flush(true)
    if (err instanceof NmapXmlError) throw new NmapXmlError(err.file, err.line, err.column, err.detail, hosts)
    throw err
  }
  return { run, runstats, hosts }
}

/**
 * When and how {@link parseNmapFile} hands the parsing to a worker thread: files of at least `minBytes` bytes, when the
 * module runs as built JavaScript (from TypeScript sources, as under the tests' loader, the worker file does not exist).
 */
export interface NmapWorkerOptions {
  /** Smallest file parsed in a worker (0: every file; Infinity: none). */
  readonly minBytes: number
  /** A batch is sent every `batchHosts` hosts, or sooner when its ports + scripts reach `batchWeight`. */
  readonly batchHosts: number
  readonly batchWeight: number
  /** Batches the worker may be ahead of this thread. */
  readonly window: number
  /** The worker's old-generation heap limit, MB (default: V8's). */
  readonly heapMb?: number
  /** Each batch of hosts as it arrives from the worker (tests). */
  readonly onBatch?: (hosts: readonly NmapHost[]) => void
}

/** The worker options of a scan (a caller's own are laid over them). */
export const NMAP_WORKER: NmapWorkerOptions = Object.freeze({ minBytes: 4 * 1024 * 1024, batchHosts: 256, batchWeight: 4_096, window: 4 })

/**
 * The worker thread died (out of memory, or stopped) before it finished the file: an input problem with this file, not
 * a defect of the scan. `code` is Node's (`ERR_WORKER_OUT_OF_MEMORY`) when there is one.
 */
export class NmapWorkerError extends Error {
  readonly code?: string
  constructor(message: string, code?: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'NmapWorkerError'
    if (code) this.code = code
  }
}
const WORKER_URL = import.meta.url.endsWith('.js') ? new URL('./nmap-worker.js', import.meta.url) : undefined

/**
 * Reads an nmap XML file as a stream (256 KiB chunks, paused while parsing). A large file is read and parsed in a worker
 * thread while this thread runs `handlers` (hosts arrive in batches, in file order; the worker stays a few batches ahead
 * at most): the same calls, summary and errors as in this thread.
 * @throws NmapXmlError for a bad document; FileError when the path is not a readable regular file; the stream's own error
 * (AbortError) when the read is aborted.
 */
export async function parseNmapFile(path: string, display: string, handlers: NmapHandlers, signal?: AbortSignal, limits?: NmapLimits, worker: Partial<NmapWorkerOptions> = {}): Promise<NmapSummary> {
  const w: NmapWorkerOptions = { ...NMAP_WORKER, ...worker }
  // Only a regular file, opened without blocking: a FIFO or a device is an input error, not a stuck libuv thread.
  const fh = await openRegularFile(path)
  if (WORKER_URL && w.minBytes >= 0) {
    let size = 0
    try {
      size = (await fh.stat()).size
    } catch {
      // read in this thread: the stream reports the problem
    }
    if (size >= w.minBytes)
      try {
        return await parseInWorker(WORKER_URL, fh.fd, display, handlers, signal, limits, w)
      } finally {
        await fh.close()
      }
  }
  return parseNmapXml(createReadStream(path, { fd: fh, highWaterMark: 256 * 1024, signal }), display, handlers, limits)
}

function parseInWorker(url: URL, fd: number, display: string, handlers: NmapHandlers, signal: AbortSignal | undefined, limits: NmapLimits | undefined, w: NmapWorkerOptions): Promise<NmapSummary> {
  const aborted = (): Error => Object.assign(new Error('The operation was aborted'), { name: 'AbortError', cause: signal?.reason })
  if (signal?.aborted) return Promise.reject(aborted())
  const taken = new Int32Array(new SharedArrayBuffer(4))
  const data: NmapWorkerData = { fd, display, limits, taken, batchHosts: w.batchHosts, batchWeight: w.batchWeight, window: w.window }
  const onBatch = w.onBatch
  // A bounded young generation: the worker's heap adds to the scan's peak RSS. The parser's garbage (saxes' tag and
  // attribute objects) is short-lived and a scavenge costs about the same whatever the size, so 16 MB halves their number
  // against 8 MB (the 200 MB file: ~335 instead of ~665; ~0.5 s less GC) for ~10 MB more peak RSS (263 MB median).
  const resourceLimits = { maxYoungGenerationSizeMb: 16, ...(w.heapMb === undefined ? {} : { maxOldGenerationSizeMb: w.heapMb }) }
  const worker = new (workerThreads().Worker)(url, { workerData: data, resourceLimits })
  return new Promise<NmapSummary>((resolve, reject) => {
    let settled = false
    // The worker is stopped before the caller closes the file it reads.
    const finish = (err: unknown, summary?: NmapSummary): void => {
      if (settled) return
      settled = true
      signal?.removeEventListener('abort', onAbort)
      void worker.terminate().then(() => (err === undefined ? resolve(summary!) : reject(err as Error)), () => reject(err as Error))
    }
    const onAbort = (): void => finish(aborted())
    signal?.addEventListener('abort', onAbort, { once: true })
    worker.on('message', (m: NmapWorkerMessage) => {
      if (settled) return
      try {
        switch (m.type) {
          case 'hosts': {
            const hosts = decodeNmapBatch(m)
            onBatch?.(hosts)
            for (const h of hosts) {
              if (settled) break // an abort in a handler: nothing more after it
              handlers.host(h)
            }
            Atomics.add(taken, 0, 1)
            Atomics.notify(taken, 0)
            break
          }
          case 'run':
            handlers.run?.(m.run)
            break
          case 'runstats':
            handlers.runstats?.(m.stats)
            break
          case 'taskprogress':
            handlers.taskprogress?.(m.progress)
            break
          case 'done':
            finish(undefined, m.summary)
            break
          case 'xml-error':
            finish(new NmapXmlError(m.file, m.line, m.column, m.detail, m.hostsBefore))
            break
          case 'error':
            finish(Object.assign(new Error(m.message), { name: m.name, ...(m.code === undefined ? {} : { code: m.code }) }))
            break
        }
      } catch (err) {
        finish(err)
      }
    })
    // The worker catches its own errors: an 'error' event or an early exit is the thread dying (out of memory).
    worker.on('error', (err) => {
      const code = (err as NodeJS.ErrnoException).code
      finish(new NmapWorkerError(`${display}: the XML parser thread failed${code === 'ERR_WORKER_OUT_OF_MEMORY' ? ' (out of memory: the file is too large or too dense)' : ''}: ${err.message}`, code, { cause: err }))
    })
    worker.on('exit', (code) => finish(new NmapWorkerError(`${display}: the XML parser thread stopped (exit code ${code})`)))
  })
}
