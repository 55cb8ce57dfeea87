/**
 * osquery as a posture source: where the shell reads cannot tell (no lsblk, / not found in its tree; fdesetup unreadable),
 * the fixed SQL `osquery-root-encryption` asks osqueryi for the encryption of the device mounted on /. osqueryi is not
 * packaged in Debian (nor installable in CI, which has only Debian's mirror): the outputs are fixtures written from
 * osquery's documented --json form (every value a string), and the local-runner test puts a stand-in osqueryi on PATH that
 * answers only the exact fixed argv.
 */
import { describe, it, expect } from 'vitest'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { POSTURE_COMMANDS, type PostureCommand } from '../../checks/endpoint-agent/posture/commands.ts'
import { observePosture, PostureReader, type Outcome } from '../../checks/endpoint-agent/posture/index.ts'
import { osqueryRootEncryption } from '../../checks/endpoint-agent/posture/osquery.ts'
import { localRunner, probeArgv, probeCommandString, type Probe, type ProbeRunner } from '../../checks/endpoint-agent/probe.ts'
import { bindExec, realIo } from '../../src/net/io.ts'

const FIX = join(import.meta.dirname, '..', '..', 'fixtures', 'endpoint-agent', 'posture')
const fx = (p: string): string => readFileSync(join(FIX, p), 'utf8')
type Answer = { stdout?: string; code?: number }

function host(os: 'Linux' | 'Darwin', answers: Partial<Record<PostureCommand, Answer>>, files: Record<string, string> = {}): ProbeRunner {
  return {
    where: 'osq.test',
    async run(p: Probe) {
      probeArgv(p)
      if (p.kind === 'uname') return { code: 0, stdout: `${os}\n`, stderr: '', truncated: false }
      if (p.kind === 'read-file' && files[p.path] !== undefined) return { code: 0, stdout: files[p.path]!, stderr: '', truncated: false }
      const r = p.kind === 'posture' ? answers[p.command] : undefined
      return r ? { code: r.code ?? 0, stdout: r.stdout ?? '', stderr: '', truncated: false } : { code: 127, stdout: '', stderr: 'sh: 1: not found', truncated: false }
    },
  }
}

async function disk(os: 'linux' | 'darwin', answers: Partial<Record<PostureCommand, Answer>>): Promise<Outcome | undefined> {
  const files = { '/proc/mounts': '/dev/mapper/vg0-root / ext4 rw,relatime 0 0\n' }
  const reader = new PostureReader(host(os === 'linux' ? 'Linux' : 'Darwin', answers, files), 1000, new AbortController().signal)
  return (await observePosture(reader, os, { now: new Date(), enabled: (r) => r === 'endpoint-agent-disk-unencrypted', params: <T,>() => ({}) as T })).get('endpoint-agent-disk-unencrypted')
}

describe('osquery disk encryption', () => {
  it('parses the --json rows (values are strings); an empty result and other text are told apart', () => {
    expect(osqueryRootEncryption(fx('linux/osquery-root-encryption-luks.json'))).toEqual({ device: '/dev/dm-1', encrypted: true, type: 'aes-xts-plain64', status: 'encrypted' })
    expect(osqueryRootEncryption(fx('linux/osquery-root-encryption-plain.json'))).toMatchObject({ encrypted: false })
    expect(osqueryRootEncryption('[]')).toBe('no-row')
    expect(osqueryRootEncryption('[{"path":"/","encrypted":1}]')).toBeUndefined() // not osquery's string form
    expect(osqueryRootEncryption('Error: no such table: disk_encryption')).toBeUndefined()
  })

  it('Linux without lsblk: osquery decides; without osqueryi too the skip stays, never a pass', async () => {
    expect(await disk('linux', { 'osquery-root-encryption': { stdout: fx('linux/osquery-root-encryption-luks.json') } })).toMatchObject({
      pass: true, state: '/ is encrypted (osquery disk_encryption: /dev/dm-1, aes-xts-plain64, encrypted)', evidence: { source: 'osquery disk_encryption' },
    })
    expect(await disk('linux', { 'osquery-root-encryption': { stdout: fx('linux/osquery-root-encryption-plain.json') } })).toMatchObject({ pass: false, state: '/ is not encrypted (osquery disk_encryption: /dev/sda2, not encrypted)' })
    expect(await disk('linux', { 'osquery-root-encryption': { stdout: '[]' } })).toEqual({ skip: 'not determinable: lsblk not found; osquery: disk_encryption has no row for the device mounted on /' })
    expect(await disk('linux', {})).toEqual({ skip: 'not determinable: lsblk not found' })
  })

  it('macOS with fdesetup unreadable: osquery reads FileVault of /', async () => {
    expect(await disk('darwin', { fdesetup: { code: 1 }, 'osquery-root-encryption': { stdout: fx('darwin/osquery-root-encryption-filevault.json') } })).toMatchObject({ pass: true, state: expect.stringContaining('APFS Encryption') })
  })

  it('the SQL is fixed: one argv word, single-quoted over SSH with its quotes escaped', () => {
    const argv = POSTURE_COMMANDS['osquery-root-encryption']
    expect(argv.slice(0, 2)).toEqual(['osqueryi', '--json'])
    // What a remote sh makes of the quoted words: exactly the argv, the SQL one word with its quotes.
    const words = probeCommandString({ kind: 'posture', command: 'osquery-root-encryption' }).replace(/^LC_ALL=C /, '')
    expect(spawnSync('sh', ['-c', `printf '%s\\n' ${words}`], { encoding: 'utf8' }).stdout).toBe(`${argv.join('\n')}\n`)
  })

  it('through the local runner, osqueryi receives exactly the fixed argv and its answer is parsed (a stand-in osqueryi on PATH: osquery is not packaged in Debian)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ztscan-osq-'))
    const log = join(dir, 'argv')
    const [, ...args] = POSTURE_COMMANDS['osquery-root-encryption']
    // Answers only the exact argv (each word as one argument, the SQL unsplit); anything else is an error.
    writeFileSync(join(dir, 'osqueryi'), `#!/bin/sh\nprintf '%s\\n' "$@" > '${log}'\n[ "$#" = ${args.length} ] && [ "$1" = '--json' ] && [ "$2" = "$OSQ_SQL" ] || exit 2\ncat '${join(FIX, 'linux/osquery-root-encryption-luks.json')}'\n`, { mode: 0o755 })
    const saved = { PATH: process.env.PATH, OSQ_SQL: process.env.OSQ_SQL }
    process.env.PATH = `${dir}:${process.env.PATH ?? ''}`
    process.env.OSQ_SQL = args[1]
    try {
      const runner = localRunner(bindExec(realIo, { signal: new AbortController().signal, timeoutMs: 10_000 }))
      const r = await runner.run({ kind: 'posture', command: 'osquery-root-encryption' }, { maxBytes: 1 << 20, timeoutMs: 10_000 })
      expect(r.code).toBe(0)
      expect(readFileSync(log, 'utf8')).toBe(`${args.join('\n')}\n`)
      expect(osqueryRootEncryption(r.stdout)).toEqual({ device: '/dev/dm-1', encrypted: true, type: 'aes-xts-plain64', status: 'encrypted' })
    } finally {
      process.env.PATH = saved.PATH
      if (saved.OSQ_SQL === undefined) delete process.env.OSQ_SQL
      else process.env.OSQ_SQL = saved.OSQ_SQL
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
