/**
 * @fileoverview The connect scan behind `ctx.net.portScan`: many ports of one host, made for all 65,535. Open = connected
 * (not a loopback self-connect); closed = refused; filtered = no answer in time, unreachable or reset (nmap's vocabulary).
 *
 * Two engines give the same verdicts. A `net.Socket` costs more user CPU per port than the kernel's connect() itself: the
 * stream state, an Error object with a formatted stack for every refused port, and the destroy machinery — about 2 s of
 * CPU for 65,535 loopback ports, where `nmap -sT` spends 0.1 s of user time. So:
 * - `native`: libuv TCP handles through Node's `tcp_wrap` binding (the layer under `net.Socket`; `process.binding`, which
 *   is allowed for that binding and silent unless `--pending-deprecation` asks to hear about it, DEP0111): one handle and one
 *   connect request per port, a number for a status. Used when the binding is there and Node is not asked to warn.
 * - `socket`: public API only, one `net.Socket` per lane, reconnected after its `close` (as `socket.connect` documents),
 *   so a port costs no new socket object. The fallback whenever `native` is not available.
 * No promise, closure or timer per port in either: one sweep timer per scan ends probes past their deadline.
 */
import { lookup } from 'node:dns/promises'
import { isIP, Socket } from 'node:net'
import { getSystemErrorName } from 'node:util'

/** What one TCP connect says about a port (nmap's vocabulary), or the error code that says something about the host. */
export type ProbeResult = 'open' | 'closed' | 'filtered' | { readonly fatal: string }

/** Sockets of one attempt's probes: destroyed on abort, and remembered to tell simultaneous opens from listeners. */
export interface ProbePool {
  readonly live: Set<Socket>
  /** Local port -> probed port of probes that connected. */
  readonly opened: Map<number, number>
}

/** The verdict of a failed connect's error code. */
export function probeVerdict(code: string): ProbeResult {
  return code === 'ECONNREFUSED' ? 'closed' : code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'ECONNRESET' || code === 'ETIMEDOUT' ? 'filtered' : { fatal: code }
}

/**
 * True when a loopback connect from `local` reached one of our own sockets instead of a listener: a self-connect (the
 * kernel picked the probed port as the source port), or a TCP simultaneous open between two of our probes (A's source
 * port is the port B probes and the other way round): B is among `pool.live`, `peerOf` (another scan's lanes) or has
 * already counted itself open.
 */
export function selfConnectedAt(localAddress: string | undefined, localPort: number | undefined, remoteAddress: string | undefined, port: number, pool?: ProbePool, peerOf?: (port: number) => number | undefined): boolean {
  if (localAddress !== remoteAddress) return false
  if (localPort === port) return true
  if (!pool) return false
  // The peer probe is still in flight, or already counted itself open: either way neither port is open.
  for (const other of pool.live) if (other.localPort === port && other.remotePort === localPort) return true
  if (localPort !== undefined && peerOf?.(localPort) === port) return true
  return pool.opened.get(port) === localPort
}

/** `selfConnectedAt` for a connected socket. */
export function selfConnected(sock: Socket, port: number, pool?: ProbePool): boolean {
  // `sock` itself is in `pool.live` but matches there only as a self-connect, which is caught first.
  return selfConnectedAt(sock.localAddress, sock.localPort, sock.remoteAddress, port, pool)
}

/** A libuv TCP handle as `tcp_wrap` exposes it (status results are negative errno numbers, 0 = success). */
interface TcpHandle {
  connect(req: ConnectReq, address: string, port: number): number
  connect6(req: ConnectReq, address: string, port: number): number
  getsockname(out: { address?: string; port?: number }): number
  getpeername(out: { address?: string; port?: number }): number
  close(): void
}
interface ConnectReq {
  oncomplete: (status: number, handle: TcpHandle, req: ConnectReq) => void
  address: string
  port: number
  [LANE]?: Lane
}
interface TcpWrap {
  readonly TCP: new (type: number) => TcpHandle
  readonly TCPConnectWrap: new () => ConnectReq
  readonly constants: { readonly SOCKET: number }
}

/** Which engine a scan uses (see the file overview). */
export type ScanEngine = 'native' | 'socket'

let tcpWrap: TcpWrap | null | undefined

/** True when Node was asked to warn about documentation-only deprecations (then `process.binding` would print one). */
function pendingDeprecation(): boolean {
  if (process.noDeprecation) return false
  const flag = (s: string | undefined): boolean => /(^|\s)--pending-deprecation(\s|$)/.test(s ?? '')
  return process.execArgv.some((a) => a === '--pending-deprecation') || flag(process.env.NODE_OPTIONS) || /^1/.test(process.env.NODE_PENDING_DEPRECATION ?? '')
}

/** The `tcp_wrap` binding, or null when it is missing, refused (`--permission`), or asking for it would print a warning. */
function nativeTcp(): TcpWrap | null {
  if (tcpWrap !== undefined) return tcpWrap
  tcpWrap = null
  const binding = (process as unknown as { binding?: (name: string) => unknown }).binding
  if (typeof binding !== 'function' || pendingDeprecation()) return tcpWrap
  try {
    const b = binding.call(process, 'tcp_wrap') as Partial<TcpWrap> | undefined
    if (typeof b?.TCP === 'function' && typeof b.TCPConnectWrap === 'function' && typeof b.constants?.SOCKET === 'number' && typeof b.TCP.prototype.connect === 'function' && typeof b.TCP.prototype.connect6 === 'function')
      tcpWrap = b as TcpWrap
  } catch {
    // not available here: the public-API engine
  }
  return tcpWrap
}

/** The engine a scan uses unless told otherwise: `native` where available. */
export function defaultScanEngine(): ScanEngine {
  return nativeTcp() ? 'native' : 'socket'
}

/** One lane of a `PortScan`: the probe in flight and its deadline. */
interface Lane {
  readonly scan: PortScan
  readonly done: () => void
  /** A probe is in flight. */
  busy: boolean
  port: number
  deadline: number
  /** `native`: the handle and request in flight. */
  handle: TcpHandle | undefined
  req: ConnectReq | undefined
  /** `socket`: the lane's socket (reused from port to port) and the verdict of the probe in flight. */
  sock: LaneSocket | undefined
  verdict: ProbeResult | undefined
}

const LANE = Symbol('ztscan.lane')
type LaneSocket = Socket & { [LANE]?: Lane }

// Shared callbacks (`this` is the socket; the request comes as an argument): a probe allocates nothing else of ours.
function nativeComplete(status: number, _handle: TcpHandle, req: ConnectReq): void {
  const lane = req[LANE]
  // A request whose probe was already settled (deadline, abort) completes with ECANCELED when its handle closes.
  if (lane && lane.req === req) lane.scan.nativeDone(lane, status)
}
function socketConnect(this: LaneSocket): void {
  const lane = this[LANE]
  if (lane?.busy && lane.verdict === undefined) lane.verdict = lane.scan.connected(this.localAddress, this.localPort, this.remoteAddress, lane.port)
  this.destroy()
}
function socketError(this: LaneSocket, e: NodeJS.ErrnoException): void {
  const lane = this[LANE]
  if (lane?.busy) lane.verdict ??= probeVerdict(e.code ?? 'EUNKNOWN')
}
function socketClose(this: LaneSocket): void {
  const lane = this[LANE]
  if (lane?.busy) lane.scan.socketDone(lane)
}

/**
 * A TCP connect scan of many ports of one host: each lane (`lane()`, run under the caller's socket limit) starts the next
 * port from the previous probe's completion; results are counted here; a fatal error code (one that says something about
 * the host or this machine, e.g. EMFILE, ENOTFOUND) stops every lane, as does an abort of `signal` (probes in flight then
 * count as filtered). A host name is resolved once, before the first probe; every probe then goes to that address.
 */
export class PortScan {
  readonly open: number[] = []
  closed = 0
  filtered = 0
  fatal: string | undefined
  readonly engine: ScanEngine
  #next = 0
  #lanes = new Set<Lane>()
  #sweep: ReturnType<typeof setInterval> | undefined
  readonly #sweepMs: number
  #address: string | undefined
  #v6 = false
  #resolving: Promise<void> | undefined
  #onAbort: (() => void) | undefined

  readonly host: string
  readonly ports: readonly number[]
  readonly timeoutMs: number
  readonly pool: ProbePool
  readonly signal: AbortSignal | undefined
  /** Called after every probe with the number probed so far. */
  readonly onProbed: ((probed: number) => void) | undefined

  constructor(host: string, ports: readonly number[], timeoutMs: number, pool: ProbePool, signal?: AbortSignal, onProbed?: (probed: number) => void, engine: ScanEngine = defaultScanEngine()) {
    this.host = host
    this.ports = ports
    this.timeoutMs = timeoutMs
    this.pool = pool
    this.signal = signal
    this.onProbed = onProbed
    this.engine = engine === 'native' && nativeTcp() ? 'native' : 'socket'
    this.#sweepMs = Math.max(10, Math.min(250, Math.floor(timeoutMs / 4)))
    if (isIP(host)) this.#setAddress(host)
  }

  #setAddress(address: string): void {
    this.#address = address
    this.#v6 = isIP(address) === 6
  }

  /** Ports probed so far. */
  get probed(): number {
    return this.open.length + this.closed + this.filtered
  }

  /** Runs one lane until no port is left, a fatal error or an abort. */
  lane(): Promise<void> {
    return new Promise<void>((done) => {
      const lane: Lane = { scan: this, done, busy: false, port: 0, deadline: 0, handle: undefined, req: undefined, sock: undefined, verdict: undefined }
      this.#lanes.add(lane)
      this.#sweep ??= setInterval(() => this.#expire(), this.#sweepMs)
      if (this.signal && !this.#onAbort) {
        this.#onAbort = () => {
          for (const l of this.#lanes) this.#end(l)
        }
        this.signal.addEventListener('abort', this.#onAbort, { once: true })
      }
      if (this.#address !== undefined) return this.#start(lane)
      this.#resolving ??= lookup(this.host).then(
        (a) => this.#setAddress(a.address),
        (e: NodeJS.ErrnoException) => void (this.fatal ??= e.code ?? 'ENOTFOUND'),
      )
      void this.#resolving.then(() => this.#start(lane))
    })
  }

  /** The verdict of a connect that succeeded from `localPort` (a loopback self-connect or simultaneous open is closed). */
  connected(localAddress: string | undefined, localPort: number | undefined, remoteAddress: string | undefined, port: number): ProbeResult {
    if (selfConnectedAt(localAddress, localPort, remoteAddress, port, this.pool, (p) => this.#peerOf(p))) return 'closed'
    this.pool.opened.set(localPort ?? 0, port)
    return 'open'
  }

  /** `native`: a connect request completed with `status`. */
  nativeDone(lane: Lane, status: number): void {
    const handle = lane.handle!
    let r: ProbeResult
    if (status === 0) {
      const local: { address?: string; port?: number } = {}
      const peer: { address?: string; port?: number } = {}
      handle.getsockname(local)
      handle.getpeername(peer)
      r = this.connected(local.address, local.port, peer.address, lane.port)
    } else r = probeVerdict(getSystemErrorName(status))
    this.#settleNative(lane, r)
    this.#start(lane)
  }

  /** `socket`: the lane's socket closed; its verdict (filtered when none: destroyed at its deadline or on abort) counts. */
  socketDone(lane: Lane): void {
    const r = lane.verdict ?? 'filtered'
    lane.busy = false
    lane.verdict = undefined
    this.#record(lane.port, r)
    this.#start(lane)
  }

  /** Another lane's source port when it probes `port` (the other half of a simultaneous open), if in flight. */
  #peerOf(port: number): number | undefined {
    for (const l of this.#lanes) {
      if (!l.busy || l.port !== port) continue
      if (l.handle) {
        const local: { port?: number } = {}
        l.handle.getsockname(local)
        return local.port
      }
      return l.sock?.localPort
    }
    return undefined
  }

  #record(port: number, r: ProbeResult): void {
    if (r === 'open') this.open.push(port)
    else if (r === 'closed') this.closed++
    else if (r === 'filtered') this.filtered++
    else this.fatal ??= r.fatal
    this.onProbed?.(this.probed)
  }

  #settleNative(lane: Lane, r: ProbeResult): void {
    const { handle, req } = lane
    lane.busy = false
    lane.handle = lane.req = undefined
    if (req) req[LANE] = undefined
    handle?.close()
    this.#record(lane.port, r)
  }

  #finished(): boolean {
    return this.#next >= this.ports.length || this.fatal !== undefined || this.signal?.aborted === true || this.#address === undefined
  }

  /** Starts the lane's next port, or retires the lane. */
  #start(lane: Lane): void {
    if (lane.busy || !this.#lanes.has(lane)) return
    if (this.engine === 'socket') {
      if (this.#finished()) return this.#retire(lane)
      this.#probeSocket(lane)
      return
    }
    const tcp = tcpWrap!
    // A connect can fail at once (no route, out of descriptors): then the next port, in this loop rather than recursion.
    while (!this.#finished()) {
      const port = this.ports[this.#next++]!
      const handle = new tcp.TCP(tcp.constants.SOCKET)
      const req = new tcp.TCPConnectWrap()
      req.oncomplete = nativeComplete
      req.address = this.#address!
      req.port = port
      req[LANE] = lane
      lane.busy = true
      lane.port = port
      lane.deadline = Date.now() + this.timeoutMs
      lane.handle = handle
      lane.req = req
      const err = this.#v6 ? handle.connect6(req, this.#address!, port) : handle.connect(req, this.#address!, port)
      if (err === 0) return
      this.#settleNative(lane, probeVerdict(getSystemErrorName(err)))
    }
    this.#retire(lane)
  }

  #probeSocket(lane: Lane): void {
    let sock = lane.sock
    if (!sock) {
      sock = lane.sock = new Socket() as LaneSocket
      sock[LANE] = lane
      sock.on('connect', socketConnect)
      sock.on('error', socketError)
      sock.on('close', socketClose)
      this.pool.live.add(sock)
    }
    lane.port = this.ports[this.#next++]!
    lane.deadline = Date.now() + this.timeoutMs
    lane.busy = true
    lane.verdict = undefined
    sock.connect({ host: this.#address!, port: lane.port })
  }

  /** Ends the lane's probe in flight as filtered (deadline passed, abort); the lane goes on or retires. */
  #end(lane: Lane): void {
    if (!lane.busy) {
      // Waiting for the host name to resolve: an abort retires it.
      if (this.signal?.aborted) this.#retire(lane)
      return
    }
    if (this.engine === 'socket') {
      lane.verdict ??= 'filtered'
      lane.sock?.destroy()
      return
    }
    this.#settleNative(lane, 'filtered')
    this.#start(lane)
  }

  #retire(lane: Lane): void {
    if (!this.#lanes.delete(lane)) return
    if (lane.sock) {
      this.pool.live.delete(lane.sock)
      lane.sock[LANE] = undefined
      lane.sock.destroy()
    }
    if (!this.#lanes.size) {
      clearInterval(this.#sweep)
      this.#sweep = undefined
      if (this.#onAbort) this.signal?.removeEventListener('abort', this.#onAbort)
      this.#onAbort = undefined
    }
    lane.done()
  }

  #expire(): void {
    const now = Date.now()
    for (const lane of this.#lanes) if (lane.busy && now >= lane.deadline) this.#end(lane)
  }
}
