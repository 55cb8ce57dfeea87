/**
 * @fileoverview The open-port family: exposure of risky services, read from nmap XML (streamed) or found by the
 * built-in TCP connect scan, judged against a catalogue of risky services and a per-target allow-list. Open TLS and SSH
 * ports chain to the certificate and MFA checks. This is the checks' code, loaded when one runs; the family and its
 * checks are declared in family.ts (loaded by every scan).
 */
import { addAbortSignal } from 'node:stream'
import type { CheckDefinition } from '../../src/engine/check.ts'
import { AttemptFailure } from '../../src/errors.ts'
import { FileError } from '../../src/lib-files.ts'
import { CATALOGUE } from './catalogue.ts'
import { evaluateHost, type RuleId } from './evaluate.ts'
import { NmapWorkerError, NmapXmlError, parseNmapFile, parseNmapXml, type NmapHandlers, type NmapHost } from './nmap-xml.ts'
import { expandPorts, PortSpecError, tableName } from './ports.ts'
import { portSpec, PROBE_TIMEOUT_MS, SNIFF_MS } from './family.ts'
import { connectScan } from './scan.ts'
import { findNmap, nmapScan, type PortScanner } from './nmap-scan.ts'
import { sniff, type Sniffed } from './sniff.ts'

function addressOf(h: NmapHost): string | undefined {
  return (h.addresses.find((a) => a.addrtype === 'ipv4' || a.addrtype === 'ipv6') ?? h.addresses[0])?.addr ?? h.hostnames[0]?.name
}

/** The `open-port-nmap` check's code: reads nmap `-oX` output as a stream and judges every host that is up (declared in family.ts). */
export const nmapRun: Pick<CheckDefinition<RuleId>, 'run'> = {
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
}

/** The `open-port-connect` check's code: the port scan of a `host` target, nmap or the built-in connect scan (declared in family.ts). */
export const connectRun: Pick<CheckDefinition<RuleId>, 'run'> = {
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
}

export { nmapCheck, connectCheck, default } from './family.ts'
