/**
 * Side effects go through the context: checks import no socket, file, process or SSH client module of their own; the
 * scan's `io` option replaces each side effect (fakes in tests), bound to the attempt's signal and deadline.
 */
import { describe, expect, it } from 'vitest'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import mfaSsh from '../checks/mfa/ssh.ts'
import endpointAgent from '../checks/endpoint-agent/index.ts'
import { certificateCheck } from '../checks/certificate/index.ts'
import { OptionsError, scan } from '../src/index.ts'
import { assertArgv, execLocal } from '../src/net/exec.ts'
import { realIo, type ScanIoOverrides, type SshProbe } from '../src/net/io.ts'
import type { SshCallOptions } from '../src/net/ssh.ts'
import { readFileCapped, streamFileCapped } from '../src/lib-files.ts'
import mfaChecks from '../checks/mfa/index.ts'
import { labPki, tempDir } from './helpers/tls.ts'

const root = fileURLToPath(new URL('..', import.meta.url))

function walk(d: string): string[] {
  return readdirSync(d).flatMap((f) => (statSync(join(d, f)).isDirectory() ? walk(join(d, f)) : [join(d, f)]))
}

/**
 * Files of checks/ that may still do I/O themselves, and why. Demo labs (demo.ts, lab.ts) are servers and files for
 * `ztscan demo`, not checks; they are not in this list because they are excluded by name.
 */
const ALLOWED: Record<string, string> = {
  // Runs before the scan (no attempt, no context): reads SSH keys, CA bundles and the agent catalogue to fail with exit 2.
  'checks/preflight.ts': 'preflight input checks run before any attempt exists',
  // nmap runs for minutes and writes its XML to a temp file that is parsed as a stream; ctx.exec buffers bounded output.
  'checks/open-port/nmap-scan.ts': 'long-running nmap with streamed output (follow-up: a streaming ctx.spawn)',
  // An nmap XML file may be gigabytes: parsed as a stream from a regular-file handle, never read whole.
  'checks/open-port/nmap-xml.ts': 'streaming reader of large nmap XML files (follow-up: ctx.openFile)',
  // Its worker thread reads the descriptor nmap-xml.ts opened (and closes), chunk by chunk.
  'checks/open-port/nmap-worker.ts': 'worker thread of the streaming nmap XML reader (same file handle)',
  // The per-target timeout scales with the XML file's size, asked before the attempt (and its context) exists.
  'checks/open-port/family.ts': 'timeout() sizes the attempt from the file before a context exists',
  // loadAnchors' default reader serves the preflight (no context yet); the certificate, tls and revocation checks pass
  // ctx.readFile through anchorsOf (one store per scan, ctx.memo).
  'checks/certificate/chain.ts': 'default reader for the preflight, which runs before any context exists',
  // The catalogue's default reader serves the preflight (before any attempt); the check passes ctx.readFile.
  'checks/endpoint-agent/catalogue.ts': 'default reader for the preflight; checks pass ctx.readFile',
}

/** Import lines of a source file (multi-line imports joined). */
function imports(text: string): string[] {
  return [...text.matchAll(/^import\s[\s\S]*?from\s+'([^']+)'/gm)].map((m) => m[0].replace(/\s+/g, ' '))
}

function forbidden(line: string): string | undefined {
  const from = /from '([^']+)'$/.exec(line)![1]!
  const typeOnly = /^import type /.test(line)
  const names = (/\{([^}]*)\}/.exec(line)?.[1] ?? '').split(',').map((n) => n.trim()).filter(Boolean)
  const only = (allowed: string[]): boolean => typeOnly || (names.length > 0 && names.every((n) => n.startsWith('type ') || allowed.includes(n)))
  if (/^node:(child_process|fs|fs\/promises|dgram|http|https|http2)$/.test(from)) return `${from}: use ctx.exec / ctx.readFile / ctx.net`
  if (from === 'node:net' && !only(['isIP'])) return 'node:net: open sockets with ctx.net.tcpConnect'
  // The client's pure exports (settings schema and reader, fingerprints, shell quoting) are not side effects.
  if (/src\/net\/ssh\.ts$/.test(from) && !only(['SSH_SETTINGS_SCHEMA', 'sshSettings', 'fingerprintOf', 'shellQuote'])) return 'src/net/ssh.ts: use ctx.ssh'
  if (/src\/net\/exec\.ts$/.test(from) && !only(['assertArgv'])) return 'src/net/exec.ts: use ctx.exec'
  if (/src\/net\/index\.ts$/.test(from) && !only(['hostPort'])) return 'src/net/index.ts: use ctx.net'
  if (/src\/lib-files\.ts$/.test(from) && !only(['FileError'])) return 'src/lib-files.ts: use ctx.readFile'
  return undefined
}

describe('checks do their I/O through the context', () => {
  it('no check imports node:child_process, node:fs, node:net sockets, src/net/ssh.ts or the raw readers (allow-list with reasons)', () => {
    const offenders: string[] = []
    for (const f of walk(join(root, 'checks'))) {
      const rel = f.slice(root.length)
      if (!/\.(ts|mjs)$/.test(f) || /\/(demo|lab)\.ts$/.test(f) || Object.hasOwn(ALLOWED, rel)) continue
      for (const line of imports(readFileSync(f, 'utf8'))) {
        const why = forbidden(line)
        if (why) offenders.push(`${rel}: ${why}`)
      }
    }
    expect(offenders).toEqual([])
    // The rule itself catches what it should (a check that spawns, reads or connects directly).
    expect(forbidden(`import { execFile } from 'node:child_process'`)).toBeDefined()
    expect(forbidden(`import { readFile } from 'node:fs/promises'`)).toBeDefined()
    expect(forbidden(`import { createConnection, isIP } from 'node:net'`)).toBeDefined()
    expect(forbidden(`import { openSession } from '../../src/net/ssh.ts'`)).toBeDefined()
    expect(forbidden(`import { SSH_SETTINGS_SCHEMA } from '../../src/net/ssh.ts'`)).toBeUndefined()
    expect(forbidden(`import { readBounded } from '../../src/lib-files.ts'`)).toBeDefined()
    expect(forbidden(`import { isIP } from 'node:net'`)).toBeUndefined()
    expect(forbidden(`import type { Socket } from 'node:net'`)).toBeUndefined()
    // Every allow-listed file that exists still needs its exception (a stale entry is an error; an entry may name a file
    // another branch in flight adds).
    for (const rel of Object.keys(ALLOWED).filter((r) => existsSync(join(root, r)))) expect(imports(readFileSync(join(root, rel), 'utf8')).some((l) => forbidden(l)), rel).toBe(true)
  })
})

const hostKey = { algorithm: 'ssh-ed25519', fingerprint: `SHA256:${'A'.repeat(43)}`, verified: 'pinned' as const }

describe('ScanOptions.io replaces the side effects, bound to the attempt', () => {
  it('ctx.ssh.probe gets the attempt signal, the connect timeout and the scan settings; its answer is judged', async () => {
    const calls: { host: string; port: number; o: SshCallOptions }[] = []
    const io: ScanIoOverrides = {
      ssh: {
        async probe(host, port, o): Promise<SshProbe> {
          calls.push({ host, port, o })
          return { banner: 'SSH-2.0-Fake', hostKey, methods: ['publickey', 'password'], noneAccepted: false }
        },
      },
    }
    const pins = [`127.0.0.1:2222=${hostKey.fingerprint}`]
    const r = await scan({ targets: ['ssh://alice@127.0.0.1:2222'], checks: [mfaSsh], io, includePassed: true, connectTimeoutMs: 1234, settings: { ssh: { hostKeyFingerprints: pins } } })
    expect(r.errors).toEqual([])
    expect(calls).toHaveLength(1)
    expect(calls[0]).toMatchObject({ host: '127.0.0.1', port: 2222, o: { timeoutMs: 1234, username: 'alice', settings: { hostKeyFingerprints: pins } } })
    expect(calls[0]!.o.signal).toBeInstanceOf(AbortSignal)
    // The attempt ended: its signal is aborted (anything the fake left running is told to stop).
    expect(calls[0]!.o.signal.aborted).toBe(true)
    const f = r.findings.find((x) => x.ruleId === 'mfa-ssh-single-factor')!
    expect(f).toMatchObject({ status: 'fail', evidence: { singleFactor: ['password'], hostKeyFingerprint: hostKey.fingerprint } })
  })

  it('ctx.exec runs the endpoint-agent local probes: only allowlisted argv, each bounded', async () => {
    const seen: { argv: readonly string[]; maxBytes: number; timeoutMs?: number }[] = []
    const out: Record<string, string> = { uname: 'Linux\n', ps: 'bash\nfalcon-sensor\n', ls: '/opt/CrowdStrike\n' }
    const io: ScanIoOverrides = {
      async exec(argv, o) {
        seen.push({ argv, maxBytes: o.maxBytes, timeoutMs: o.timeoutMs })
        return argv[0] === '/usr/sbin/sshd' ? { code: 1, stdout: '', stderr: 'no', truncated: false } : { code: 0, stdout: out[argv[0]!] ?? '', stderr: '', truncated: false }
      },
    }
    const r = await scan({ targets: ['local'], checks: [...endpointAgent.checks], io, includePassed: true })
    expect(r.errors).toEqual([])
    expect(seen.length).toBeGreaterThan(2)
    for (const s of seen) {
      expect(() => assertArgv(s.argv)).not.toThrow()
      expect(s.maxBytes).toBeGreaterThan(0)
      expect(s.maxBytes).toBeLessThanOrEqual(4 * 1024 * 1024)
      expect(s.timeoutMs).toBeGreaterThan(0)
    }
    expect([...new Set(seen.map((s) => s.argv[0]))]).toEqual(expect.arrayContaining(['uname', 'ps', 'systemctl', 'ls']))
    expect(r.findings.find((f) => f.ruleId === 'endpoint-agent-missing')).toMatchObject({ status: 'pass', evidence: { agent: 'CrowdStrike Falcon sensor' } })
    expect(r.findings.find((f) => f.ruleId === 'endpoint-agent-not-running' && f.resource === 'agent:crowdstrike-falcon')).toMatchObject({ status: 'pass' })
  })

  it('ctx.memo: a CA file is read once per scan, whatever the number of targets, and again by the next scan', async () => {
    const tmp = tempDir()
    try {
      const ca = tmp.write('ca.pem', labPki().root.pem)
      const files = [1, 2, 3].map((i) => tmp.write(`leaf${i}.pem`, labPki().root.pem))
      const reads: string[] = []
      const io: ScanIoOverrides = { readFile: (p, max) => (reads.push(p), readFileCapped(p, max)) }
      const run = () => scan({ targets: files.map((f) => `cert:${f}`), checks: [certificateCheck], io, settings: { tls: { caFile: ca } } })
      expect((await run()).errors).toEqual([])
      expect(reads.filter((p) => p === ca)).toHaveLength(1)
      expect(reads.filter((p) => files.includes(p))).toHaveLength(3)
      await run()
      expect(reads.filter((p) => p === ca)).toHaveLength(2)
    } finally {
      tmp.cleanup()
    }
  })

  it('ctx.net.readStream: a streamed identity export is read through io.readStream, with the attempt signal and a cap', async () => {
    const tmp = tempDir()
    try {
      const users = [0, 1, 2].map((i) => ({ userPrincipalName: `u${i}@contoso.example`, isMfaRegistered: i !== 1, methodsRegistered: i === 1 ? [] : ['mobilePhone'] }))
      const file = tmp.write('entra.json', JSON.stringify({ value: users }))
      const calls: { path: string; max: number; signal: AbortSignal }[] = []
      const io: ScanIoOverrides = {
        readStream: (path, max, o) => (calls.push({ path, max, signal: o.signal }), streamFileCapped(path, max, o.signal)),
        readFile: () => Promise.reject(new Error('read whole')),
      }
      const r = await scan({ targets: [`idp:entra:${file}`], checks: [...mfaChecks.checks], io })
      expect(r.errors).toEqual([])
      // Two passes (check, then judge), each through the replacement.
      expect(calls.map((c) => c.path)).toEqual([file, file])
      for (const c of calls) {
        expect(c.max).toBeGreaterThan(1024 ** 3)
        expect(c.signal.aborted).toBe(true)
      }
      expect(r.findings.filter((f) => f.ruleId === 'mfa-user-without-mfa').map((f) => f.resource)).toEqual(['user:u1@contoso.example'])
    } finally {
      tmp.cleanup()
    }
  })

  it('a bad io part is an options error before anything runs', async () => {
    await expect(scan({ targets: [], io: { exec: 5 } as unknown as ScanIoOverrides })).rejects.toThrow(OptionsError)
    await expect(scan({ targets: [], io: { spawn: () => 1 } as unknown as ScanIoOverrides })).rejects.toThrow(/io\.spawn: expected one of .*exec/)
    expect(Object.keys(realIo).sort()).toEqual(['exec', 'httpGet', 'readFile', 'readStream', 'ssh', 'tcpConnect', 'tlsHandshake'])
  })
})

describe('the real ctx.exec (execFile, no shell)', () => {
  const signal = new AbortController().signal
  it('refuses a program that is not a plain name or absolute path', () => {
    for (const bad of ['a;b', '../bin/sh', 'sh -c', '', '-rf', '$(id)']) expect(() => assertArgv([bad]), bad).toThrow(/refusing to run/)
    expect(() => assertArgv(['ls', 'a\0b'])).toThrow(/not a plain string/)
  })
  it('caps output (truncated), kills at the deadline, says 127 for a missing program, passes words through unexpanded', async () => {
    const big = await execLocal(['yes'], { signal, timeoutMs: 20_000, maxBytes: 4096 })
    expect(big).toMatchObject({ code: null, truncated: true })
    expect(big.stdout.length).toBeLessThanOrEqual(4096)
    await expect(execLocal(['sleep', '30'], { signal, timeoutMs: 200, maxBytes: 1024 })).rejects.toMatchObject({ reason: 'timeout' })
    expect(await execLocal(['/nonexistent/ztscan-nothing'], { signal, maxBytes: 1024 })).toMatchObject({ code: 127 })
    expect((await execLocal(['printf', '%s', '$(id);`id`'], { signal, maxBytes: 1024 })).stdout).toBe('$(id);`id`')
    const ac = new AbortController()
    const p = execLocal(['sleep', '30'], { signal: ac.signal, timeoutMs: 60_000, maxBytes: 1024 })
    ac.abort()
    await expect(p).rejects.toMatchObject({ reason: 'aborted' })
  })
})
