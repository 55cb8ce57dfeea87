/**
 * @fileoverview The open-port family: exposure of risky services, read from nmap XML (streamed) or found by the
 * built-in TCP connect scan, judged against a catalogue of risky services and a per-target allow-list. Open TLS and SSH
 * ports chain to the certificate and MFA checks.
 */
import { statSync } from 'node:fs'
import { addAbortSignal } from 'node:stream'
import { defineCheck, defineFamily } from '../../src/engine/check.ts'
import { AttemptFailure } from '../../src/errors.ts'
import { FileError } from '../../src/lib-files.ts'
import type { Target } from '../../src/types.ts'
import { CATALOGUE } from './catalogue.ts'
import { evaluateHost, RULES } from './evaluate.ts'
import { NmapWorkerError, NmapXmlError, parseNmapFile, parseNmapXml, type NmapHandlers, type NmapHost } from './nmap-xml.ts'
import { expandPorts, PortSpecError, tableName } from './ports.ts'
import { connectScan } from './scan.ts'
import { findNmap, nmapScan, type PortScanner } from './nmap-scan.ts'
import { sniff, type Sniffed } from './sniff.ts'
import { hostTarget, targets } from './targets.ts'

const FAMILY = 'open-port'
/** Slowest nmap XML reading speed assumed when sizing the attempt's deadline (bytes per ms). */
const MIN_BYTES_PER_MS = 1_000
/** Extra deadline of `nmap:-` (standard input has no size to scale by): an hour beyond the base timeout. */
const STDIN_EXTRA_MS = 3_600_000
/** Per-connection timeout of the connect scan unless `settings.portScan.connectTimeoutMs` says otherwise. */
const PROBE_TIMEOUT_MS = 2_000
/** Probes assumed in flight when sizing the deadline (the engine's default socket limit). */
const ASSUMED_PARALLEL = 256
/** Budget of one service sniff (banner wait plus a TLS handshake) on an open port. */
const SNIFF_MS = 1_000

function addressOf(h: NmapHost): string | undefined {
  return (h.addresses.find((a) => a.addrtype === 'ipv4' || a.addrtype === 'ipv6') ?? h.addresses[0])?.addr ?? h.hostnames[0]?.name
}

/** Reads nmap `-oX` output as a stream and judges every host that is up. */
export const nmapCheck = defineCheck({
  id: 'open-port-nmap',
  family: FAMILY,
  targetKinds: ['nmap-xml'],
  rules: RULES,
  // A file handed in for offline analysis: its TLS and SSH ports are probed only with --chain.
  offline: true,
  timeout(target, baseMs) {
    if (target.stdin === true) return baseMs + STDIN_EXTRA_MS
    let size = 0
    try {
      size = statSync(String(target.path)).size
    } catch {
      // the attempt reports the unreadable file
    }
    return baseMs + size / MIN_BYTES_PER_MS
  },
  async run(target, ctx) {
    const shown = target.id.replace(/^nmap:/, '')
    let skipped = 0
    try {
      const handlers: NmapHandlers = {
        host(h) {
          const address = addressOf(h)
          if (h.state !== 'up' || !address) {
            skipped++
            return
          }
          evaluateHost(ctx, target, {
            address,
            hostnames: h.hostnames.map((n) => n.name),
            ports: h.ports.map((p) => ({
              protocol: p.protocol,
              port: p.portid,
              state: p.state,
              reason: p.reason,
              service: p.service?.name,
              product: p.service?.product,
              version: p.service?.version,
              extrainfo: p.service?.extrainfo,
              tunnel: p.service?.tunnel,
              method: p.service?.method,
              scripts: p.scripts,
            })),
          })
        },
      }
      // Standard input is read once, as a stream; the attempt's end (timeout, SIGINT) destroys it.
      const summary = target.stdin === true ? await parseNmapXml(addAbortSignal(ctx.signal, process.stdin), 'stdin', handlers) : await parseNmapFile(String(target.path), shown, handlers, ctx.signal)
      if (skipped) ctx.log.debug(`${skipped} host(s) down or without an address`)
      if (summary.runstats?.exit === 'error') throw new AttemptFailure('input', `${shown}: nmap reported an error: ${summary.runstats.errormsg ?? 'unknown'}`)
    } catch (err) {
      if (err instanceof NmapXmlError) throw new AttemptFailure('input', `${err.message} (${err.hostsBefore} host(s) reported before the error)`)
      if (err instanceof FileError) throw err.toAttemptFailure(shown)
      if (err instanceof NmapWorkerError) throw new AttemptFailure('input', err.message, { code: err.code })
      const code = (err as NodeJS.ErrnoException).code
      if (code && /^E[A-Z]+$/.test(code)) throw new AttemptFailure('input', `${shown}: cannot read (${code})`)
      throw err
    }
  },
})

/** Port list of a host target; `top100` when absent. */
function portSpec(target: Target): string {
  return typeof target.ports === 'string' ? target.ports : Array.isArray(target.ports) ? target.ports.join(',') : 'top100'
}

/** TCP connect scan of a `host` target. */
export const connectCheck = defineCheck({
  id: 'open-port-connect',
  family: FAMILY,
  targetKinds: ['host'],
  rules: RULES,
  timeout(target, baseMs) {
    let n = 1
    try {
      n = expandPorts(portSpec(target)).length
    } catch {
      // the attempt reports the bad list
    }
    return baseMs + Math.ceil(n / ASSUMED_PARALLEL) * PROBE_TIMEOUT_MS + 2 * SNIFF_MS
  },
  async run(target, ctx) {
    const host = String(target.host)
    let ports: number[]
    try {
      ports = expandPorts(portSpec(target))
    } catch (err) {
      if (err instanceof PortSpecError) throw new AttemptFailure('input', `${target.id}: ports: ${err.message}`)
      throw err
    }
    const scanSettings = (ctx.settings.portScan ?? {}) as { connectTimeoutMs?: unknown; sniff?: unknown; scanner?: unknown }
    const configured = scanSettings.connectTimeoutMs
    const perConnection = Math.min(ctx.connectTimeoutMs, typeof configured === 'number' && configured > 0 ? configured : PROBE_TIMEOUT_MS)
    const scanner = (scanSettings.scanner ?? 'auto') as PortScanner
    if (scanner !== 'auto' && scanner !== 'nmap' && scanner !== 'builtin') throw new AttemptFailure('input', `settings.portScan.scanner: expected auto, nmap or builtin (got ${JSON.stringify(scanner)})`)
    const nmap = scanner === 'builtin' ? undefined : findNmap()
    if (scanner === 'nmap' && !nmap) throw new AttemptFailure('input', 'port scanner nmap: nmap is not on the PATH')
    // Open ports are few: sniff each (SSH banner, TLS handshake) unless settings.portScan.sniff is false — with nmap, as
    // soon as its output names the port open, while nmap is still finishing.
    const sniffing = new Map<number, Promise<Sniffed>>()
    const sniffPort = (port: number): Promise<Sniffed> => {
      let s = sniffing.get(port)
      if (!s) sniffing.set(port, (s = sniff(ctx, host, port, Math.min(perConnection, SNIFF_MS))))
      return s
    }
    const onOpen = scanSettings.sniff === false ? undefined : sniffPort
    const result = nmap ? await nmapScan(ctx, nmap, host, ports, perConnection, onOpen) : await connectScan(ctx, host, ports, perConnection)
    ctx.log.debug(`${ports.length} port(s): ${result.open.length} open, ${result.closed} closed, ${result.filtered} filtered`)
    const sniffed = onOpen ? await Promise.all(result.open.map(onOpen)) : []
    evaluateHost(ctx, target, {
      address: host,
      hostnames: [],
      ports: result.open.map((port, i) => {
        const guess = tableName(port) ?? CATALOGUE.find((s) => s.protocol === 'tcp' && s.ports.includes(port))?.name
        const found = sniffed[i]
        const base = { protocol: 'tcp', port, state: 'open', reason: 'syn-ack' }
        if (found === 'ssh') return { ...base, service: 'ssh', method: 'probed' }
        if (found === 'tls') return { ...base, service: guess, tunnel: 'ssl', method: 'sniffed' }
        return { ...base, service: guess, method: 'table' }
      }),
    })
  },
})

// Not `export default defineFamily(...)`: tsc 5.9 leaves a dynamic import's .ts path unrewritten inside an export-default expression.
const family = defineFamily({
  name: FAMILY,
  pillar: 'networks',
  targets,
  settings: {
    type: 'object',
    properties: {
      portScan: {
        type: 'object',
        additionalProperties: false,
        properties: { connectTimeoutMs: { type: 'integer', minimum: 1 }, sniff: { type: 'boolean' }, scanner: { enum: ['auto', 'nmap', 'builtin'] } },
      },
    },
  },
  flags: [
    { name: 'nmap', arg: 'FILE', multiple: true, target: 'nmap', help: 'nmap -oX output (repeatable; same as nmap:FILE)' },
    { name: 'port-scanner', arg: 'NAME', setting: '/portScan/scanner', help: 'auto (default: nmap when on the PATH) | nmap | builtin (TCP connect scan) for host://' },
  ],
  checks: [nmapCheck, connectCheck],
  // nmap's 1,000 most common ports plus the catalogue's, on both loopback addresses: about 2,100 connects, well under
  // a second when the ports refuse quickly as loopback ports do.
  async defaultTargets() {
    return [hostTarget('127.0.0.1?ports=top1000'), hostTarget('[::1]?ports=top1000')]
  },
  // Loaded only by `ztscan demo`: the lab is not shipped in the npm package.
  async demo(dir) {
    return (await import('./demo.ts')).startDemo(dir)
  },
})
export default family
