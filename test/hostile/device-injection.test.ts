/**
 * @fileoverview Injection through the device pipeline (issue 18 proof): hostile host names, serials, MACs and catalogue
 * entries — `;`, `$()`, backticks, newlines, NUL, ESC, a 3 MB host name (a 10 MB one is refused) — go through inventory exports, the coverage join,
 * this machine's probes and the SSH probe of a real loopback sshd in one scan. Every command that runs is recorded (local
 * argv through `io.exec`, SSH command strings through `io.ssh.session`): none carries a byte of the hostile data, and every
 * human format shows the control characters escaped. Hostile catalogue command fields are refused before the first probe.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { scan, toMarkdown, toTable, type ScanReport } from '../../src/index.ts'
import { ZtscanError } from '../../src/errors.ts'
import { realIo } from '../../src/net/io.ts'
import { hasSshd, startSshd, type Sshd } from '../helpers/sshd.ts'
import { bin, ensureBuilt } from './cli.ts'

/** Every hostile string carries this marker: a command containing it would be data reaching a command line. */
const MARK = 'ztinj'
const HOSTILE = [
  `${MARK}-a;rm -rf /`, `${MARK}-$(id)`, `${MARK}-\`id\``, `${MARK}-a\nb`, `${MARK}-nul\0x`, `${MARK}-\x1b[2J\u202egnp`, `${MARK}-'q'"dq"|nc 127.0.0.1 9`,
]
/** 3 MB: within the streamed reader's 8 MiB per entry; the 10 MB one below is refused by it. */
const BIG = `${MARK}-big-` + 'A;$(id)`\n'.repeat(300 * 1024)
const HUGE = `${MARK}-huge-` + 'A;$(id)`\n'.repeat(1024 * 1024) // 10 MB
/** Raw control and format characters a human format must never print (newline and tab aside). */
const UNSAFE_BUT_NEWLINE = /[^\n\t\P{Cc}]|[\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u

describe('hostile device data never reaches a command line, and is escaped in human formats', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ztscan-dev-inj-'))
  let sshd: Sshd | undefined
  let report: ScanReport
  const argvs: string[][] = []
  const commands: string[] = []
  afterAll(async () => {
    await sshd?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  beforeAll(async () => {
    const values = [...HOSTILE, BIG]
    // EDR export: hostile host names, serials and MACs (the 10 MB string as one host name).
    writeFileSync(join(dir, 'edr.json'), JSON.stringify({
      resources: values.map((v, i) => {
        const w = v === BIG ? `${MARK}-big;$(id)` : v // the big string as a host name only
        return {
          device_id: `cs-${i}`, hostname: v, serial_number: w, mac_address: `${w}-08-00-27-00-00-0${i}`, agent_version: w,
          platform_name: 'Linux', last_seen: '2025-06-01T11:00:00Z', status: w, reduced_functionality_mode: w,
        }
      }),
    }))
    // MDM export: the same hostile names; every other record the same hostile serial (a coverage match on it), the others a
    // different one (a name match refused: the serials disagree); hostile MACs.
    writeFileSync(join(dir, 'mdm.json'), JSON.stringify({
      value: values.map((v, i) => {
        const w = v === BIG ? `${MARK}-big;$(id)` : v
        return {
          id: `in-${i}`, deviceName: v, serialNumber: i % 2 ? `${w}-other` : w, wiFiMacAddress: w, ethernetMacAddress: `${MARK}$(id)`, complianceState: w,
          isEncrypted: false, lastSyncDateTime: '2025-06-01T11:00:00Z', operatingSystem: w, osVersion: w,
        }
      }),
    }))
    // An operator catalogue whose free-text fields are hostile (they are shown, never run): accepted.
    writeFileSync(join(dir, 'catalogue.json'), JSON.stringify({
      agents: [{ id: 'acme-edr', name: `Acme ${HOSTILE[4]} ${HOSTILE[5]}`, vendor: HOSTILE[1], notes: HOSTILE[0], categories: ['edr'], source: [`https://example.com/${MARK}$(id)`], platforms: { linux: { processes: ['acme-edrd'], paths: ['/opt/acme-ztscan-test'] } } }],
    }))
    // A 10 MB host name: one entry over the reader's limit, refused as an input error naming the file.
    writeFileSync(join(dir, 'huge.json'), JSON.stringify({ resources: [{ device_id: 'cs-huge', hostname: HUGE, last_seen: '2025-06-01T11:00:00Z' }] }))
    const targets = [`inventory:crowdstrike:${join(dir, 'huge.json')}`, `inventory:crowdstrike:${join(dir, 'edr.json')}`, `inventory:intune:${join(dir, 'mdm.json')}`, `coverage:intune:${join(dir, 'mdm.json')},crowdstrike:${join(dir, 'edr.json')}`, 'local']
    const settings: Record<string, unknown> = { endpointAgent: { catalogue: join(dir, 'catalogue.json') } }
    if (hasSshd()) {
      sshd = await startSshd()
      targets.push(`agents://${sshd.user}@127.0.0.1:${sshd.port}`)
      settings.ssh = { knownHostsPath: sshd.knownHostsPath, privateKeyPath: sshd.clientKeyPath }
    }
    report = await scan({
      targets, settings, families: undefined, timeoutMs: 60_000, includePassed: true,
      policy: { source: 'test', rules: { 'endpoint-agent-missing': { parameters: { required: ['acme-edr'] } } } },
      io: {
        exec: (argv, o) => {
          argvs.push([...argv])
          return realIo.exec(argv, o)
        },
        ssh: {
          session: async (host, port, o) => {
            const s = await realIo.ssh.session(host, port, o)
            return { ...s, exec: (cmd: string, eo: Parameters<typeof s.exec>[1]) => (commands.push(cmd), s.exec(cmd, eo)), close: () => s.close() }
          },
        },
      },
    })
  }, 180_000)

  it('the hostile records were read and judged (the data did flow through inventory and coverage)', () => {
    expect(report.errors.filter((e) => e.check !== 'endpoint-agent-posture').map((e) => [e.reason, e.message])).toEqual([['input', `${join(dir, 'huge.json')}: /resources/0: an entry larger than the 8 MiB limit`]])
    const hosts = new Set(report.findings.map((f) => String(f.evidence.host)))
    for (const v of HOSTILE) expect(hosts.has(v), JSON.stringify(v)).toBe(true)
    expect(hosts.has(BIG)).toBe(true)
    const gap = (host: string) => report.findings.find((f) => f.ruleId === 'endpoint-agent-coverage-gap' && f.evidence.source === 'intune' && f.evidence.host === host)
    expect(gap(HOSTILE[0]!)).toMatchObject({ status: 'pass', evidence: { matchedOn: 'serial' } })
    expect(gap(HOSTILE[1]!)?.status).toBe('fail')
    expect(report.findings.some((f) => f.ruleId === 'endpoint-agent-missing' && f.target === 'local://')).toBe(true)
  })

  it('no local argv and no SSH command string holds any of it', () => {
    expect(argvs.length).toBeGreaterThan(5)
    for (const a of argvs) for (const w of a) expect(w.includes(MARK), JSON.stringify(a)).toBe(false)
    if (sshd) {
      expect(commands.length).toBeGreaterThan(5)
      for (const c of commands) {
        expect(c.includes(MARK), c).toBe(false)
        // Fixed prefix and single-quoted words only: nothing a shell would expand.
        expect(c.replace(/'[^']*'/g, '').trim()).toBe('LC_ALL=C')
      }
    }
  })

  it('terminal table and Markdown show control characters escaped', () => {
    for (const [text, esc] of [[toTable(report, 1000), '\\x1b[2J\\u202egnp'], [toMarkdown(report, 1000), '\\\\x1b\\[2J\\\\u202egnp']] as const) {
      expect(text).not.toMatch(UNSAFE_BUT_NEWLINE)
      expect(text).toContain(esc)
      // A host name's newline never starts a new line of output: the escaped form stays on the finding's line.
      expect(text.split('\n').some((l) => l.startsWith('b'))).toBe(false)
    }
  })
})

describe('hostile catalogue command fields are refused before the first probe (exit 2 naming file and pointer)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ztscan-dev-cat-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const agent = (linux: Record<string, unknown>) => ({ agents: [{ id: 'acme', name: 'Acme', vendor: 'Acme', categories: ['edr'], source: ['https://example.com'], platforms: { linux } }] })
  const cases = [
    { name: 'a path with ;', linux: { paths: ['/opt/a;id'] }, pointer: '/agents/0/platforms/linux/paths/0' },
    { name: 'a binary with $()', linux: { version: [{ argv: ['/opt/$(id)'], pattern: 'x' }] }, pointer: '/agents/0/platforms/linux/version/0' },
    { name: 'an argument with backticks', linux: { disconnected: [{ argv: ['/opt/acme/ctl', '`id`'], pattern: 'x' }] }, pointer: '/agents/0/platforms/linux/disconnected/0/argv/1' },
    { name: 'a unit with a newline', linux: { services: ['a\nb'] }, pointer: '/agents/0/platforms/linux/services/0' },
    { name: 'a process name with NUL', linux: { processes: ['a\0b'] }, pointer: '/agents/0/platforms/linux/processes/0' },
    { name: 'a 3 MB minimumVersion', linux: { minimumVersion: '1.'.repeat(1536 * 1024) + '1' }, pointer: '/agents/0/platforms/linux/minimumVersion' },
    // A catalogue file over 4 MiB is not parsed at all.
    { name: 'a 10 MB argument', linux: { version: [{ argv: ['/opt/acme/ctl', 'a'.repeat(10 * 1024 * 1024)], pattern: 'x' }] }, pointer: 'cannot read a JSON catalogue (more than the 4194304-byte limit)' },
    { name: 'a minimumVersion with a shell word', linux: { minimumVersion: '1.0;id' }, pointer: '/agents/0/platforms/linux/minimumVersion' },
  ]
  it.each(cases)('$name', async ({ linux, pointer }) => {
    // `pointer`: the JSON pointer the refusal names (or, for an oversized file, the reason).
    const file = join(dir, 'cat.json')
    writeFileSync(file, JSON.stringify(agent(linux)))
    let ran = 0
    let err: unknown
    try {
      await scan({ targets: ['local'], settings: { endpointAgent: { catalogue: file } }, io: { exec: (argv, o) => (ran++, realIo.exec(argv, o)) } })
    } catch (e) {
      err = e
    }
    // Refused up front: one problem is an options error, several a preflight error; both are exit 2 in the CLI.
    expect(err).toBeInstanceOf(ZtscanError)
    expect((err as Error).message).toContain(file)
    expect((err as Error).message).toContain(pointer)
    expect(ran).toBe(0)
  })
  it('the CLI exits 2 naming the file and pointer, without a stack trace', () => {
    ensureBuilt()
    const file = join(dir, 'cli-cat.json')
    writeFileSync(file, JSON.stringify(agent({ minimumVersion: '$(id)' })))
    const r = spawnSync(process.execPath, [bin, 'scan', 'local', '--agent-catalogue', file], { encoding: 'utf8', timeout: 60_000 })
    expect(r.status).toBe(2)
    expect(r.stderr).toContain(`${file}: /agents/0/platforms/linux/minimumVersion`)
    expect(r.stderr).not.toMatch(/\n\s+at /)
  }, 120_000)
})
