/**
 * The worker-thread path of parseNmapFile (large files, built JavaScript only): same hosts, summary and errors as the
 * in-thread parser, and an abort stops it. Runs against dist/ (the worker file exists only there); skipped before `npm run build`.
 */
import { describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { nmapDocument, portsHost, serviceHost, writeNmapFile } from '../helpers/nmap-gen.ts'
import { shape } from '../helpers/shape.ts'

const root = join(import.meta.dirname, '../..')
const built = join(root, 'dist/checks/open-port/nmap-xml.js')
type Parser = typeof import('../../checks/open-port/nmap-xml.ts')
type Host = import('../../checks/open-port/nmap-xml.ts').NmapHost

/**
 * A host too dense for a worker heap of 8 MB: 60,000 ports, each with a service product of its own (the worker keeps a
 * batch's distinct strings on its heap; it builds no host objects, and the batch's numbers live outside the heap).
 */
const denseHost = (i: number): string => {
  let j = 0
  return portsHost(i, Array.from({ length: 60_000 }, (_, k) => k + 1)).replaceAll(/reason_ttl="0"\/>/g, (m) => `${m}<service name="x" product="${'p'.repeat(120)}-${i}-${j++}"/>`)
}

/** A host's weight in a worker batch: its ports and their scripts. */
const weight = (h: Host): number => h.ports.reduce((n, p) => n + 1 + p.scripts.length, 0)

/** The same file parsed in a worker (with `opts`) and in this thread. */
async function both(mod: Parser, file: string, opts: Partial<import('../../checks/open-port/nmap-xml.ts').NmapWorkerOptions> = {}): Promise<{ worker: unknown; thread: unknown }> {
  const run = async (minBytes: number) => {
    const hosts: Host[] = []
    const stats: unknown[] = []
    try {
      const summary = await mod.parseNmapFile(file, 'scan.xml', { host: (h) => hosts.push(h), runstats: (s) => stats.push(s) }, undefined, undefined, { ...opts, minBytes })
      return { hosts, stats, summary }
    } catch (err) {
      const e = err as InstanceType<Parser['NmapXmlError']>
      return { hosts, stats, error: { isXml: e instanceof mod.NmapXmlError, message: e.message, line: e.line, column: e.column, hostsBefore: e.hostsBefore } }
    }
  }
  return { worker: await run(0), thread: await run(Infinity) }
}

describe.skipIf(!existsSync(built))('open-port: nmap XML parsed in a worker thread (dist/; skipped until `npm run build`)', () => {
  it('hands over the same hosts in the same order, the same summary and the same errors as the in-thread parser', async () => {
    const mod = (await import(pathToFileURL(built).href)) as Parser
    const dir = mkdtempSync(join(tmpdir(), 'ztscan-nmap-worker-'))
    try {
      const file = join(dir, 'scan.xml')
      await writeNmapFile(file, nmapDocument({ host: serviceHost, hosts: 3_000 }))
      const whole = await both(mod, file)
      expect((whole.worker as { hosts: Host[] }).hosts).toHaveLength(3_000)
      expect(whole.worker).toStrictEqual(whole.thread)
      expect(shape(whole.worker)).toBe(shape(whole.thread))
      expect((whole.worker as { stats: unknown[] }).stats).toHaveLength(1)
      // Cut inside a host: NmapXmlError with the same position; the hosts before it and the partial host are handed over.
      const text = readFileSync(file, 'utf8')
      writeFileSync(file, text.slice(0, Math.floor(text.length * 0.6)))
      const cut = await both(mod, file)
      expect(cut.worker).toStrictEqual(cut.thread)
      expect(shape(cut.worker)).toBe(shape(cut.thread))
      expect((cut.worker as { error: { isXml: boolean } }).error.isXml).toBe(true)
      expect((cut.worker as { hosts: Host[] }).hosts.at(-1)!.partial).toBe(true)
      // Invalid UTF-8 in the middle.
      const bytes = Buffer.from(text)
      bytes[Math.floor(bytes.length / 2)] = 0xff
      writeFileSync(file, bytes)
      const bad = await both(mod, file)
      expect(bad.worker).toStrictEqual(bad.thread)
      expect(shape(bad.worker)).toBe(shape(bad.thread))
      expect((bad.worker as { error: { message: string } }).error.message).toMatch(/^scan\.xml:\d+:\d+: invalid UTF-8 byte 0xff$/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('a <runstats> inside a <host> does not split the host across batches: the worker parses it as the thread does', async () => {
    const mod = (await import(pathToFileURL(built).href)) as Parser
    const dir = mkdtempSync(join(tmpdir(), 'ztscan-nmap-worker-'))
    try {
      const file = join(dir, 'scan.xml')
      const port = (n: number) => `<port protocol="tcp" portid="${n}"><state state="open" reason="syn-ack"/><service name="ssh" product="OpenSSH"/></port>`
      writeFileSync(
        file,
        `<?xml version="1.0"?><nmaprun scanner="nmap"><host><status state="up"/><address addr="127.0.0.1" addrtype="ipv4"/><ports>${port(22)}</ports></host>` +
          `<host><address addr="127.0.0.2" addrtype="ipv4"/><runstats><finished exit="success"/><hosts up="9"/></runstats><ports>${port(22)}${port(2222)}</ports></host>` +
          `<runstats><finished exit="success" elapsed="1.5"/><hosts up="2" down="0" total="2"/></runstats></nmaprun>`,
      )
      const { worker, thread } = await both(mod, file)
      expect(worker).toStrictEqual(thread)
      expect(shape(worker)).toBe(shape(thread))
      const w = worker as { hosts: Host[]; stats: unknown[]; summary: unknown }
      expect(w.hosts.map((h) => [h.addresses[0]!.addr, h.ports.length])).toEqual([
        ['127.0.0.1', 1],
        ['127.0.0.2', 2],
      ])
      // Only the run's own <runstats> counts: the one in the host is not the scan's end.
      expect(w.stats).toEqual([{ exit: 'success', elapsed: 1.5, hostsUp: 2, hostsDown: 0, hostsTotal: 2 }])
      expect(w.summary).toMatchObject({ hosts: 2, runstats: { exit: 'success', elapsed: 1.5, hostsUp: 2, hostsDown: 0, hostsTotal: 2 } })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('an abort stops the worker: the parse rejects with an AbortError and no host arrives after it', async () => {
    const mod = (await import(pathToFileURL(built).href)) as Parser
    const dir = mkdtempSync(join(tmpdir(), 'ztscan-nmap-worker-'))
    try {
      const file = join(dir, 'scan.xml')
      await writeNmapFile(file, nmapDocument({ host: serviceHost, hosts: 20_000 }))
      const ac = new AbortController()
      let seen = 0
      let afterAbort = 0
      const parsing = mod.parseNmapFile(file, 'scan.xml', { host: () => (ac.signal.aborted ? afterAbort++ : ++seen === 1_000 && ac.abort()) }, ac.signal, undefined, { minBytes: 0 })
      await expect(parsing).rejects.toMatchObject({ name: 'AbortError' })
      expect(seen).toBeGreaterThanOrEqual(1_000)
      expect(seen).toBeLessThan(20_000)
      // Not even the rest of the batch being handed over when the abort came.
      expect(afterAbort).toBe(0)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('batches are bounded by weight (ports + scripts), not only by host count; a heavy host is a batch of its own', async () => {
    const mod = (await import(pathToFileURL(built).href)) as Parser
    const dir = mkdtempSync(join(tmpdir(), 'ztscan-nmap-worker-'))
    try {
      const file = join(dir, 'scan.xml')
      // A few hosts with many ports each (3,000), the fifth with 20,000 (after two full batches), then light hosts.
      const ports = (n: number) => Array.from({ length: n }, (_, i) => i + 1)
      const host = (i: number) => (i === 4 ? portsHost(i, ports(20_000)) : i < 8 ? portsHost(i, ports(3_000)) : serviceHost(i))
      await writeNmapFile(file, nmapDocument({ host, hosts: 40 }))
      const batches: Host[][] = []
      const { worker, thread } = await both(mod, file, { onBatch: (hosts) => batches.push([...hosts]) })
      expect(worker).toStrictEqual(thread)
      expect(shape(worker)).toBe(shape(thread))
      expect((worker as { hosts: Host[] }).hosts).toHaveLength(40)
      expect(batches.flat()).toStrictEqual((worker as { hosts: Host[] }).hosts)
      const limit = mod.NMAP_WORKER.batchWeight
      expect(limit).toBe(4_096)
      for (const b of batches) {
        // Sent as soon as the weight reaches the limit: all but the last host weigh less than it.
        expect(b.slice(0, -1).reduce((n, h) => n + weight(h), 0)).toBeLessThan(limit)
      }
      const heavy = batches.find((b) => b.some((h) => h.ports.length === 20_000))!
      expect(heavy).toHaveLength(1)
      // 3,000-port hosts go two by two, not all in one 256-host batch.
      expect(batches.length).toBeGreaterThanOrEqual(5)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('a worker that runs out of memory is a NmapWorkerError naming the file, not an internal error', async () => {
    const mod = (await import(pathToFileURL(built).href)) as Parser
    const dir = mkdtempSync(join(tmpdir(), 'ztscan-nmap-worker-'))
    try {
      const file = join(dir, 'scan.xml')
      await writeNmapFile(file, nmapDocument({ host: denseHost, hosts: 2 }))
      const err = (await mod.parseNmapFile(file, 'scan.xml', { host: () => {} }, undefined, undefined, { minBytes: 0, heapMb: 8 }).then(
        () => undefined,
        (e: unknown) => e,
      )) as Error & { code?: string }
      expect(err).toBeInstanceOf(mod.NmapWorkerError)
      expect(err.code).toBe('ERR_WORKER_OUT_OF_MEMORY')
      expect(err.message).toMatch(/^scan\.xml: /)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('through the CLI: a worker out of memory is an input error of the open-port-nmap attempt naming the file, exit 4 (not exit 3)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ztscan-nmap-worker-'))
    try {
      const file = join(dir, 'dense.xml')
      // 28 MB: over the worker's 4 MiB threshold; two hosts of 60,000 ports each.
      await writeNmapFile(file, nmapDocument({ host: denseHost, hosts: 2 }))
      // The scan gives its worker no heap limit of its own: a preload caps every worker's heap at 8 MB, as a denser file
      // would exhaust a real one.
      const cap = `import wt from 'node:worker_threads'; const W = wt.Worker; wt.Worker = class extends W { constructor(u, o = {}) { super(u, { ...o, resourceLimits: { ...o.resourceLimits, maxOldGenerationSizeMb: 8 } }) } }`
      const out = join(dir, 'r.json')
      const r = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(cap)}`, join(root, 'dist/src/cli/main.js'), 'scan', '--nmap', file, '-o', out], { encoding: 'utf8', timeout: 120_000 })
      expect(r.status, r.stderr).toBe(4)
      expect(r.stderr).not.toMatch(/internal error|\n\s+at /)
      const report = JSON.parse(readFileSync(out, 'utf8')) as { errors: { check: string; reason: string; message: string }[] }
      expect(report.errors).toEqual([{ check: 'open-port-nmap', family: 'open-port', target: `nmap:${file}`, reason: 'input', message: expect.stringMatching(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: the XML parser thread failed \\(out of memory`)) }])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 120_000)
})
