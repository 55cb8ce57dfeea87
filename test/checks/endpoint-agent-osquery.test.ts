/**
 * osquery as a posture source: where the shell reads cannot tell (no lsblk, / not found in its tree; fdesetup unreadable),
 * the fixed SQL `osquery-root-encryption` asks osqueryi for the encryption of the device mounted on /. osqueryi is not
 * packaged in Debian: the outputs are fixtures written from osquery's documented --json form (every value a string), and
 * the run against a real osqueryi below is skipped, saying so, where it is not installed.
 */
import { describe, it, expect } from 'vitest'
import { execFile, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { POSTURE_COMMANDS, type PostureCommand } from '../../checks/endpoint-agent/posture/commands.ts'
import { observePosture, PostureReader, type Outcome } from '../../checks/endpoint-agent/posture/index.ts'
import { osqueryRootEncryption } from '../../checks/endpoint-agent/posture/osquery.ts'
import { probeArgv, probeCommandString, type Probe, type ProbeRunner } from '../../checks/endpoint-agent/probe.ts'

const FIX = join(import.meta.dirname, '..', '..', 'fixtures', 'endpoint-agent', 'posture')
const fx = (p: string): string => readFileSync(join(FIX, p), 'utf8')
const HAS_OSQUERYI = spawnSync('sh', ['-c', 'command -v osqueryi']).status === 0
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

  it.skipIf(!HAS_OSQUERYI)('a real osqueryi answers the fixed SQL in the form parsed (skipped: osqueryi is not installed; it is not packaged in Debian)', async () => {
    const [bin, ...args] = POSTURE_COMMANDS['osquery-root-encryption']
    const { stdout } = await promisify(execFile)(bin!, args, { timeout: 30_000 })
    expect(osqueryRootEncryption(stdout)).not.toBeUndefined()
  })
})
