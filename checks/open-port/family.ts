/**
 * @fileoverview The open-port family's declaration: its target forms, settings, flags and checks. The checks' code
 * (index.ts: the nmap XML reader, nmap as the back-end, the connect scan, the sniff) loads when one runs.
 */
import { statSync } from 'node:fs'
import { defineCheck, defineFamily } from '../../src/engine/check.ts'
import type { Target } from '../../src/types.ts'
import { RULES } from './rules.ts'
import { expandPorts } from './ports.ts'
import { hostTarget, targets } from './targets.ts'

const FAMILY = 'open-port'
/** Slowest nmap XML reading speed assumed when sizing the attempt's deadline (bytes per ms). */
const MIN_BYTES_PER_MS = 1_000
/** Extra deadline of `nmap:-` (standard input has no size to scale by): an hour beyond the base timeout. */
const STDIN_EXTRA_MS = 3_600_000
/** Per-connection timeout of the connect scan unless `settings.portScan.connectTimeoutMs` says otherwise. */
export const PROBE_TIMEOUT_MS = 2_000
/** Probes assumed in flight when sizing the deadline (the engine's default socket limit). */
const ASSUMED_PARALLEL = 256
/** Budget of one service sniff (banner wait plus a TLS handshake) on an open port. */
export const SNIFF_MS = 1_000
/**
 * Label of the nmap back-end's progress steps (the connect scan's are `ports probed`): the CLI loads the report writers
 * on it, while nmap probes in its own process; on the connect scan's steps that work would delay its connects' timers.
 */
export const NMAP_STEP_LABEL = 'ports scanned by nmap'

/** Port list of a host target; `top100` when absent. */
export function portSpec(target: Target): string {
  return typeof target.ports === 'string' ? target.ports : Array.isArray(target.ports) ? target.ports.join(',') : 'top100'
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
  load: () => import('./index.ts'),
  run: async (target, ctx) => (await import('./index.ts')).nmapRun.run(target, ctx),
})

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
  load: () => import('./index.ts'),
  run: async (target, ctx) => (await import('./index.ts')).connectRun.run(target, ctx),
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
