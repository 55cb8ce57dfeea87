import { describe, it, expect, onTestFinished } from 'vitest'
import { readFileSync } from 'node:fs'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import endpointAgent, { compareVersions } from '../../checks/endpoint-agent/index.ts'
import { builtinCatalogue, linearPattern, STATUS_LISTS, validateCatalogue } from '../../checks/endpoint-agent/catalogue.ts'
import { POSTURE_RULES } from '../../checks/endpoint-agent/posture/index.ts'
import { localRunner, observeHost, probeArgv, probeCommandString, type Probe } from '../../checks/endpoint-agent/probe.ts'
import { defaultTargetsContext } from '../../src/defaults.ts'
import { bindExec, realIo } from '../../src/net/io.ts'
import { parseTarget } from '../../src/targets/parse.ts'
import { AttemptFailure, TargetError } from '../../src/errors.ts'
import type { Policy } from '../../src/rules/policy.ts'
import type { ScanReport } from '../../src/types.ts'
import { checkTester, failedRuleIds, findingOf } from '../helpers/check-tester.ts'

const FIX = fileURLToPath(new URL('../../fixtures/endpoint-agent/', import.meta.url))
const NOW = new Date('2025-06-01T12:00:00Z')
/** Passes stored as findings where the engine counts them instead (an untyped record: ignored by an engine that stores them). */
const KEEP_PASSES: Record<string, unknown> = { includePassed: true }
const tester = checkTester(endpointAgent.checks, { now: () => NOW })
const policy = (rules: Policy['rules']): Policy => ({ source: 'test', rules })
const MIN = policy({ 'endpoint-agent-outdated': { parameters: { minVersions: { 'crowdstrike-falcon': '7.0', sentinelone: '23.0', osquery: '5.0.0', 'defender-endpoint/linux': '101.24000' } } } })

/** rule id → sorted hosts that failed it */
function failsByRule(r: ScanReport): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  for (const f of r.findings) if (f.status === 'fail') (out[f.ruleId] ??= []).push(String(f.evidence.host))
  for (const k of Object.keys(out)) out[k]!.sort()
  return out
}
function passHosts(r: ScanReport, rule: string): string[] {
  return r.findings.filter((f) => f.ruleId === rule && f.status === 'pass').map((f) => String(f.evidence.host)).sort()
}

describe('endpoint-agent catalogue', () => {
  it('the built-in catalogue validates, names every issue agent and cites sources', () => {
    const ids = builtinCatalogue().map((a) => a.id)
    expect(ids).toEqual(['crowdstrike-falcon', 'sentinelone', 'defender-endpoint', 'elastic-endpoint', 'wazuh', 'osquery', 'tanium', 'carbon-black', 'sophos', 'jamf', 'clamav'])
    for (const a of builtinCatalogue()) expect(a.source.length).toBeGreaterThan(0)
    const falcon = builtinCatalogue()[0]!
    expect(falcon.platforms.linux?.processes).toContain('falcon-sensor')
    expect(falcon.platforms.windows?.services).toContain('CSFalconService')
    expect(falcon.platforms.darwin?.processes).toContain('com.crowdstrike.falcon.Agent')
  })

  it('every pattern of the built-in catalogue compiles as a linear-time pattern (they are compiled on first use, not at load)', () => {
    const shipped = JSON.parse(readFileSync(new URL('../../checks/endpoint-agent/catalogue.json', import.meta.url), 'utf8')) as unknown
    expect(validateCatalogue(shipped, 'catalogue.json').map((a) => a.id)).toEqual(builtinCatalogue().map((a) => a.id))
    let n = 0
    for (const a of builtinCatalogue())
      for (const os of ['linux', 'darwin'] as const)
        for (const list of STATUS_LISTS)
          for (const c of a.platforms[os]?.[list] ?? []) {
            expect(() => linearPattern(c.pattern)).not.toThrow()
            n++
          }
    expect(n).toBeGreaterThan(10)
  })

  it.each([
    { name: 'shell metacharacters in a process name', patch: { processes: ['falcon;id'] }, pointer: '/agents/0/platforms/linux/processes/0' },
    { name: 'command substitution in a path', patch: { paths: ['/opt/$(id)'] }, pointer: '/agents/0/platforms/linux/paths/0' },
    { name: 'dot-dot path', patch: { paths: ['/opt/../etc/shadow'] }, pointer: '/agents/0/platforms/linux/paths/0' },
    { name: 'relative version binary', patch: { version: [{ argv: ['falconctl', '-g'], pattern: 'x' }] }, pointer: '/agents/0/platforms/linux/version/0' },
    { name: 'quote in an argument', patch: { version: [{ argv: ['/opt/x', "a'b"], pattern: 'x' }] }, pointer: '/agents/0/platforms/linux/version/0' },
    { name: 'broken regex', patch: { version: [{ argv: ['/opt/x'], pattern: '(' }] }, pointer: '/agents/0/platforms/linux/version/0/pattern' },
  ])('rejects $name, naming file and pointer', ({ patch, pointer }) => {
    const data = { agents: [{ id: 'acme', name: 'Acme', vendor: 'Acme', categories: ['edr'], source: ['https://example.com'], platforms: { linux: patch } }] }
    let err: unknown
    try {
      validateCatalogue(data, 'my-catalogue.json')
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(AttemptFailure)
    expect((err as AttemptFailure).reason).toBe('input')
    expect((err as AttemptFailure).message).toContain(`my-catalogue.json: ${pointer}`)
  })
})

describe('endpoint-agent inventory exports', () => {
  const cases = [
    {
      provider: 'crowdstrike', file: 'crowdstrike-hosts.json',
      fail: { 'endpoint-agent-outdated': ['legacy-02'], 'endpoint-agent-releases-behind': ['legacy-02'], 'endpoint-agent-sensor-degraded': ['db-01'], 'endpoint-agent-stale-checkin': ['laptop-17'] },
      pass: { 'endpoint-agent-sensor-degraded': ['laptop-17', 'legacy-02', 'web-01'], 'endpoint-agent-stale-checkin': ['db-01', 'legacy-02', 'web-01'] },
    },
    {
      provider: 'defender', file: 'defender-machines.json',
      // app-03 reports ImpairedCommunication: the sensor runs, its link to the service does not (not connected, not degraded).
      fail: { 'endpoint-agent-missing': ['printer-4.corp.example'], 'endpoint-agent-not-connected': ['app-03.corp.example'], 'endpoint-agent-stale-checkin': ['kiosk-9.corp.example'] },
      pass: { 'endpoint-agent-missing': ['app-03.corp.example', 'kiosk-9.corp.example', 'web-02.corp.example'], 'endpoint-agent-sensor-degraded': ['web-02.corp.example'], 'endpoint-agent-not-connected': ['web-02.corp.example'] },
    },
    {
      provider: 'sentinelone', file: 'sentinelone-agents.json',
      fail: { 'endpoint-agent-outdated': ['build-03'], 'endpoint-agent-releases-behind': ['build-03'], 'endpoint-agent-sensor-degraded': ['build-02'], 'endpoint-agent-stale-checkin': ['hr-laptop-5'] },
      pass: { 'endpoint-agent-outdated': ['build-01', 'build-02', 'hr-laptop-5'], 'endpoint-agent-sensor-degraded': ['build-01', 'build-03', 'hr-laptop-5'] },
    },
    {
      provider: 'intune', file: 'intune-managed-devices.json',
      fail: { 'endpoint-agent-device-noncompliant': ['LT-GRACE-04', 'LT-NONC-02'], 'endpoint-agent-disk-unencrypted': ['MB-NOENC-03'], 'endpoint-agent-stale-checkin': ['LT-GRACE-04'] },
      pass: { 'endpoint-agent-device-noncompliant': ['LT-GOOD-01', 'MB-NOENC-03'], 'endpoint-agent-disk-unencrypted': ['LT-GOOD-01', 'LT-GRACE-04', 'LT-NONC-02'] },
    },
    {
      provider: 'osquery', file: 'fleet-hosts.json',
      fail: { 'endpoint-agent-outdated': ['mac-kiosk'], 'endpoint-agent-stale-checkin': ['ops-02'] },
      pass: { 'endpoint-agent-outdated': ['ops-01', 'ops-02'], 'endpoint-agent-stale-checkin': ['mac-kiosk', 'ops-01'] },
    },
  ]
  it.each(cases)('$provider: $file', async ({ provider, file, fail, pass }) => {
    const r = await tester.run(`inventory:${provider}:${join(FIX, file)}`, { policy: MIN })
    expect(r.errors).toEqual([])
    const want = Object.fromEntries(Object.entries(fail).filter(([, v]) => v.length))
    expect(failsByRule(r)).toEqual(want)
    for (const [rule, hosts] of Object.entries(pass)) expect(passHosts(r, rule), rule).toEqual(hosts)
  })

  it('Defender: the Linux-scoped minimum applies to Linux machines only', async () => {
    const r = await tester.run(`inventory:defender:${join(FIX, 'defender-machines.json')}`, { policy: policy({ 'endpoint-agent-outdated': { parameters: { minVersions: { 'defender-endpoint/linux': '101.26000' } } } }) })
    expect(failsByRule(r)['endpoint-agent-outdated']).toEqual(['app-03.corp.example', 'web-02.corp.example'])
    expect(passHosts(r, 'endpoint-agent-outdated')).toEqual([]) // the Windows kiosk has no Windows minimum
  })

  it('evidence names host, agent, state, version and last check-in; maxHours comes from the policy', async () => {
    const r = await tester.run(`inventory:crowdstrike:${join(FIX, 'crowdstrike-hosts.json')}`, { policy: policy({ 'endpoint-agent-stale-checkin': { parameters: { maxHours: 200 } } }) })
    expect(failsByRule(r)['endpoint-agent-stale-checkin']).toBeUndefined()
    const f = findingOf(r, 'endpoint-agent-sensor-degraded', (x) => x.status === 'fail')
    expect(f.resource).toBe('device:cs-rfm-0002')
    expect(f.evidence).toMatchObject({ host: 'db-01', agent: 'CrowdStrike Falcon sensor', version: '7.14.16703.0', lastSeen: '2025-06-01T10:30:00Z', state: 'reduced_functionality_mode=yes' })
    expect(f.message).toBe('CrowdStrike Falcon sensor on db-01: sensor state reduced_functionality_mode=yes')
    expect(f.pillar).toBe('devices')
  })

  it('`fleet` is an alias of `osquery`', async () => {
    const r = await tester.run(`inventory:fleet:${join(FIX, 'fleet-hosts.json')}`)
    expect(r.errors).toEqual([])
    expect(failsByRule(r)['endpoint-agent-stale-checkin']).toEqual(['ops-02'])
  })

  it.each([
    { provider: 'crowdstrike', file: 'bad-crowdstrike-types.json', messages: ['/resources/1/last_seen: expected a value of type string (got 1748772000)', '/resources/2/hostname: expected a value of type string (got 7)', '/resources/3/last_seen: expected an ISO 8601 date-time (got "yesterday")'] },
    { provider: 'defender', file: 'bad-defender-envelope.json', messages: ['/value: expected an array of defender entries'] },
    { provider: 'intune', file: 'bad-intune-types.json', messages: ['/value/0/isEncrypted: expected a value of type boolean (got "yes")', '/value/1/id: expected a value (required)'] },
    { provider: 'osquery', file: 'bad-not-json.json', messages: ['not JSON'] },
    { provider: 'kandji', file: 'fleet-hosts.json', messages: ['unknown inventory provider "kandji"'] },
    { provider: 'sentinelone', file: 'fleet-hosts.json', messages: ['/data: expected an array of sentinelone entries'] },
  ])('wrong input $file ($provider) → input error naming file and field', async ({ provider, file, messages }) => {
    const r = await tester.run(`inventory:${provider}:${join(FIX, file)}`)
    expect(r.findings).toEqual([])
    expect(r.errors).toHaveLength(1)
    expect(r.errors[0]!.reason).toBe('input')
    for (const m of messages) expect(r.errors[0]!.message).toContain(m)
    if (provider !== 'kandji') expect(r.errors[0]!.message).toContain(file)
  })

  it('a missing export fails the scan before any check runs (fail closed)', async () => {
    await expect(tester.run(`inventory:osquery:${join(FIX, 'does-not-exist.json')}`)).rejects.toThrow(/does-not-exist\.json: cannot read \(ENOENT\)/)
  })

  it('a bare array of entries is accepted as well as the API envelope', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ztscan-ea-'))
    onTestFinished(() => rm(dir, { recursive: true, force: true }))
    await writeFile(join(dir, 's1.json'), JSON.stringify([{ id: '1', computerName: 'x', agentVersion: '24.1', lastActiveDate: '2025-06-01T11:00:00Z', operationalState: 'fully_disabled' }]))
    const r = await tester.run(`inventory:sentinelone:${join(dir, 's1.json')}`)
    expect(failedRuleIds(r)).toEqual(['endpoint-agent-sensor-degraded'])
  })
})

describe('endpoint-agent health from inventories (not just presence)', () => {
  it('SentinelOne: infected / activeThreats, missingPermissions / userActionsNeeded fail; a decommissioned agent is not judged', async () => {
    const r = await tester.run(`inventory:sentinelone:${join(FIX, 'sentinelone-health.json')}`, { policy: MIN })
    expect(r.errors).toEqual([])
    expect(r.skipped).toEqual([])
    expect(failsByRule(r)).toEqual({
      'endpoint-agent-active-threat': ['fin-mac-02', 'fin-mac-06'],
      'endpoint-agent-action-needed': ['fin-mac-02', 'fin-mac-03', 'fin-mac-04'],
    })
    expect(passHosts(r, 'endpoint-agent-active-threat')).toEqual(['fin-mac-01', 'fin-mac-03', 'fin-mac-04'])
    // The decommissioned agent (last active seven months before the scan) has no finding at all, not a stale check-in.
    expect(r.findings.filter((f) => f.evidence.host === 'old-build-07')).toEqual([])
    expect(passHosts(r, 'endpoint-agent-stale-checkin')).toEqual(['fin-mac-01', 'fin-mac-02', 'fin-mac-03', 'fin-mac-04', 'fin-mac-06'])
    const infected = findingOf(r, 'endpoint-agent-active-threat', (f) => f.evidence.host === 'fin-mac-02')
    expect(infected.message).toBe('SentinelOne Singularity agent on fin-mac-02: infected, 7 active threats')
    expect(infected.severity).toBe('critical')
    const needs = findingOf(r, 'endpoint-agent-action-needed', (f) => f.evidence.host === 'fin-mac-02')
    expect(needs.evidence.actions).toEqual(['reboot_needed', 'missing permission user_action_needed_fda', 'missing permission user_action_needed_bluetooth_per'])
  })

  it('SentinelOne export without the health fields: each rule that needs one is a named skip, never a pass', async () => {
    const r = await tester.run(`inventory:sentinelone:${join(FIX, 'sentinelone-agents.json')}`, { policy: MIN })
    expect(r.findings.filter((f) => f.ruleId === 'endpoint-agent-action-needed')).toEqual([])
    expect(r.skipped.map((x) => [x.rule, x.why])).toEqual([
      ['endpoint-agent-action-needed', 'endpoint-agent-action-needed: userActionsNeeded not in this export (4 of 4 devices) — was the export trimmed to fewer columns?'],
    ])
    expect(r.complete).toBe(true) // a rule skipped inside an attempt that ran does not make the scan incomplete
  })

  it('Defender: duplicate ids judged once (latest check-in), merged and excluded records not judged as devices', async () => {
    const r = await tester.run(`inventory:defender:${join(FIX, 'defender-merged.json')}`)
    expect(r.errors).toEqual([])
    const stale = r.findings.filter((f) => f.ruleId === 'endpoint-agent-stale-checkin')
    expect(stale.map((f) => [f.evidence.host, f.status, f.evidence.lastSeen]).sort()).toEqual([
      ['ws-11.corp.example', 'pass', '2025-06-01T11:00:00Z'],
      ['ws-12.corp.example', 'pass', '2025-06-01T10:00:00Z'],
      ['ws-14.corp.example', 'pass', '2025-06-01T10:00:00Z'],
    ])
    expect(failsByRule(r)).toEqual({ 'endpoint-agent-sensor-degraded': ['ws-12.corp.example'], 'endpoint-agent-not-connected': ['ws-14.corp.example'] })
    // One finding per rule per device: the exact duplicate of ws-14 does not double it.
    const keys = r.findings.map((f) => `${f.ruleId} ${f.resource}`)
    expect(new Set(keys).size).toBe(keys.length)
    expect(r.findings.some((f) => String(f.evidence.host).startsWith('lab-vm-13'))).toBe(false)
  })

  it('Intune export made with $select lacks isEncrypted: the disk rule is a named skip saying so', async () => {
    const r = await tester.run(`inventory:intune:${join(FIX, 'intune-select.json')}`)
    expect(r.errors).toEqual([])
    expect(r.findings.filter((f) => f.ruleId === 'endpoint-agent-disk-unencrypted')).toEqual([])
    expect(failsByRule(r)['endpoint-agent-device-noncompliant']).toEqual(['LT-GRACE-04', 'LT-NONC-02'])
    expect(r.skipped).toEqual([
      {
        check: 'endpoint-agent-status', family: 'endpoint-agent', target: r.targets[0]!.id, rule: 'endpoint-agent-disk-unencrypted',
        why: 'endpoint-agent-disk-unencrypted: isEncrypted not in this export (4 of 4 devices) — was it made with $select?',
      },
      {
        check: 'endpoint-agent-status', family: 'endpoint-agent', target: r.targets[0]!.id, rule: 'endpoint-agent-os-unsupported',
        why: 'endpoint-agent-os-unsupported: osVersion not in this export (4 of 4 devices) — was it made with $select?',
      },
    ])
    // The skips count in the devices pillar's coverage as not judged.
    expect(r.score.pillars.devices.coverage.skipped).toBe(2)
  })

  it('CrowdStrike: contained and containment_pending fail; a record without reduced_functionality_mode is a named skip', async () => {
    const r = await tester.run(`inventory:crowdstrike:${join(FIX, 'crowdstrike-containment.json')}`)
    expect(failsByRule(r)['endpoint-agent-contained']).toEqual(['db-01', 'web-01'])
    expect(passHosts(r, 'endpoint-agent-contained')).toEqual(['laptop-17', 'legacy-02'])
    expect(findingOf(r, 'endpoint-agent-contained', (f) => f.evidence.host === 'db-01').message).toBe('CrowdStrike Falcon sensor on db-01: containment state containment_pending')
    expect(passHosts(r, 'endpoint-agent-sensor-degraded')).toEqual(['laptop-17', 'web-01'])
    expect(r.skipped.map((x) => x.why)).toEqual([
      'endpoint-agent-sensor-degraded: reduced_functionality_mode not in this export (1 of 4 devices) — was the device details call made with a field filter?',
      'endpoint-agent-tamper-protection-off: device_policies.sensor_update.uninstall_protection not in this export (the device details of GET /devices/entities/devices/v2 carry it) (4 of 4 devices)',
      'endpoint-agent-zta-score-low: zero_trust_assessment not in this export (PSFalcon: Get-FalconHost -Detailed -Include zero_trust_assessment; API: GET /zero-trust-assessment/entities/assessments/v1) (4 of 4 devices)',
    ])
  })

  it('CrowdStrike Zero Trust Assessment: each configured score below its threshold fails, a configured score the assessment lacks fails as unknown', async () => {
    const r = await tester.run(`inventory:crowdstrike:${join(FIX, 'crowdstrike-zta.json')}`, { policy: policy({ 'endpoint-agent-zta-score-low': { parameters: { minScores: { overall: 50, sensor_config: 40 } } } }) })
    expect(r.errors).toEqual([])
    expect(failsByRule(r)['endpoint-agent-zta-score-low']).toEqual(['zta-low', 'zta-partial'])
    expect(passHosts(r, 'endpoint-agent-zta-score-low')).toEqual(['zta-good', 'zta-odd-policy'])
    const low = findingOf(r, 'endpoint-agent-zta-score-low', (f) => f.evidence.host === 'zta-low')
    expect(low.message).toBe('CrowdStrike Falcon sensor on zta-low: Zero Trust Assessment score overall 38 < 50, sensor_config 30 < 40')
    expect(low.evidence).toMatchObject({ overall: 38, os: 45, sensorConfig: 30, assessedAt: '2025-06-01T09:12:44Z' })
    expect(findingOf(r, 'endpoint-agent-zta-score-low', (f) => f.evidence.host === 'zta-partial').evidence.state).toBe('score overall, sensor_config absent from the assessment')
    // The default threshold judges overall only: 51 passes at 50.
    const d = await tester.run(`inventory:crowdstrike:${join(FIX, 'crowdstrike-zta.json')}`)
    expect(failsByRule(d)['endpoint-agent-zta-score-low']).toEqual(['zta-low', 'zta-partial'])
    expect(r.skipped.map((x) => x.why)).toContain('endpoint-agent-zta-score-low: zero_trust_assessment not in this export (PSFalcon: Get-FalconHost -Detailed -Include zero_trust_assessment; API: GET /zero-trust-assessment/entities/assessments/v1) (1 of 5 devices)')
  })

  it('CrowdStrike uninstall protection: DISABLED and bulk MAINTENANCE_MODE fail, ENABLED passes, absent or unknown states are named skips', async () => {
    const r = await tester.run(`inventory:crowdstrike:${join(FIX, 'crowdstrike-zta.json')}`)
    expect(failsByRule(r)['endpoint-agent-tamper-protection-off']).toEqual(['zta-low', 'zta-partial'])
    expect(passHosts(r, 'endpoint-agent-tamper-protection-off')).toEqual(['zta-good'])
    expect(findingOf(r, 'endpoint-agent-tamper-protection-off', (f) => f.evidence.host === 'zta-partial').message).toBe('CrowdStrike Falcon sensor on zta-partial: uninstall protection MAINTENANCE_MODE')
    expect(r.skipped.map((x) => x.why).filter((w) => w.startsWith('endpoint-agent-tamper-protection-off')).sort()).toEqual([
      'endpoint-agent-tamper-protection-off: device_policies.sensor_update.uninstall_protection not in this export (the device details of GET /devices/entities/devices/v2 carry it) (1 of 5 devices)',
      'endpoint-agent-tamper-protection-off: uninstall_protection is none of ENABLED, DISABLED, MAINTENANCE_MODE: not judged (1 of 5 devices)',
    ])
  })

  it('SentinelOne: networkStatus other than connected is network quarantine (contained); isActive false is not connected unless the check-in is already stale; detect mode is degraded', async () => {
    const r = await tester.run(`inventory:sentinelone:${join(FIX, 'sentinelone-connection.json')}`)
    expect(r.errors).toEqual([])
    expect(failsByRule(r)).toEqual({
      'endpoint-agent-contained': ['s1-quarantined', 's1-releasing'],
      'endpoint-agent-not-connected': ['s1-offline-now'],
      'endpoint-agent-stale-checkin': ['s1-gone'],
      'endpoint-agent-sensor-degraded': ['s1-detect-only'],
    })
    expect(passHosts(r, 'endpoint-agent-not-connected')).toEqual(['s1-detect-only', 's1-ok', 's1-quarantined', 's1-releasing'])
    // A detect-mode policy stops no threat: protection reduced to visibility.
    expect(findingOf(r, 'endpoint-agent-sensor-degraded', (f) => f.evidence.host === 's1-detect-only').evidence.state).toBe('operationalState=na, mitigationMode=detect (threats detected, not mitigated)')
    // The stale device has no not-connected finding at all: one finding for one fact.
    expect(r.findings.filter((f) => f.ruleId === 'endpoint-agent-not-connected' && f.evidence.host === 's1-gone')).toEqual([])
    const off = findingOf(r, 'endpoint-agent-not-connected', (f) => f.evidence.host === 's1-offline-now')
    expect(off.message).toBe('SentinelOne Singularity agent on s1-offline-now is not connected: isActive=false (no contact with the management console)')
    expect(findingOf(r, 'endpoint-agent-contained', (f) => f.evidence.host === 's1-quarantined').evidence.state).toBe('networkStatus=disconnected (SentinelOne network quarantine)')
  })

  it('releases behind: counted per agent and platform among the lines the export runs; N-2 passes, N-3 and a major behind fail', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ztscan-ea-behind-'))
    onTestFinished(() => rm(dir, { recursive: true, force: true }))
    const dev = (id: string, v: string, platform = 'Linux') => ({ device_id: id, hostname: id, platform_name: platform, agent_version: v, last_seen: '2025-06-01T11:00:00Z', status: 'normal', reduced_functionality_mode: 'no' })
    await writeFile(join(dir, 'cs.json'), JSON.stringify({ resources: [
      dev('n0', '7.20.17308.0'), dev('n0b', '7.20.17001.0'), dev('n1', '7.19.16908.0'), dev('n2', '7.18.16800.0'), dev('n3', '7.17.16703.0'), dev('old', '6.58.16404.0'),
      dev('win-new', '7.30.19000.0', 'Windows'), dev('win-n1', '7.29.18900.0', 'Windows'),
    ] }))
    const r = await checkTester(endpointAgent.checks, { now: () => NOW, ...KEEP_PASSES }).run(`inventory:crowdstrike:${join(dir, 'cs.json')}`)
    const st = (id: string) => r.findings.find((f) => f.ruleId === 'endpoint-agent-releases-behind' && f.resource === `device:${id}`)
    expect(['n0', 'n0b', 'n1', 'n2', 'n3', 'old', 'win-new', 'win-n1'].map((id) => st(id)?.status)).toEqual(['pass', 'pass', 'pass', 'pass', 'fail', 'fail', 'pass', 'pass'])
    expect(st('n3')?.message).toBe('CrowdStrike Falcon sensor on n3 is version 7.17.16703.0: 3 release lines behind 7.20')
    expect(st('old')?.evidence.state).toBe('4 release lines behind 7.20 (a major version behind)')
  })

  it('catalogue minimumVersion per platform: an older sensor fails endpoint-agent-outdated; a policy minVersions entry wins', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ztscan-ea-min-'))
    onTestFinished(() => rm(dir, { recursive: true, force: true }))
    const falcon = structuredClone(builtinCatalogue().find((a) => a.id === 'crowdstrike-falcon')!) as unknown as { platforms: Record<string, Record<string, unknown>> }
    falcon.platforms.linux!.minimumVersion = '7.14.16703'
    falcon.platforms.windows!.minimumVersion = '7.14'
    await writeFile(join(dir, 'cat.json'), JSON.stringify({ agents: [falcon] }))
    const target = `inventory:crowdstrike:${join(FIX, 'crowdstrike-hosts.json')}`
    const r = await tester.run(target, { settings: { endpointAgent: { catalogue: join(dir, 'cat.json') } } })
    expect(r.errors).toEqual([])
    expect(failsByRule(r)['endpoint-agent-outdated']).toEqual(['laptop-17', 'legacy-02'])
    expect(passHosts(r, 'endpoint-agent-outdated')).toEqual(['db-01', 'web-01'])
    const laptop = findingOf(r, 'endpoint-agent-outdated', (f) => f.evidence.host === 'laptop-17')
    expect(laptop.message).toBe('CrowdStrike Falcon sensor on laptop-17 is version 7.13.18408.0 (minimum 7.14, from the catalogue (windows))')
    // The policy's agent/platform entry wins over the catalogue for Linux; Windows keeps the catalogue's.
    const p = await tester.run(target, { settings: { endpointAgent: { catalogue: join(dir, 'cat.json') } }, policy: policy({ 'endpoint-agent-outdated': { parameters: { minVersions: { 'crowdstrike-falcon/linux': '6.0' } } } }) })
    expect(failsByRule(p)['endpoint-agent-outdated']).toEqual(['laptop-17'])
    expect(findingOf(p, 'endpoint-agent-outdated', (f) => f.evidence.host === 'legacy-02').evidence).toMatchObject({ minVersion: '6.0', minimumFrom: 'policy minVersions' })
    // Without either minimum nothing is judged (the built-in catalogue sets none for CrowdStrike).
    expect((await tester.run(target)).findings.filter((f) => f.ruleId === 'endpoint-agent-outdated')).toEqual([])
  })

  it('compareVersions is numeric per part and linear on hostile text', () => {
    expect(compareVersions('7.10.2', '7.9')).toBe(1)
    expect(compareVersions('7.14', '7.14.0.0')).toBe(0)
    expect(compareVersions('6.50.16306.0', '7.0')).toBe(-1)
    expect(compareVersions('x', '0')).toBe(0)
    const hostile = '9.'.repeat(5 * 1024 * 1024) + '-'.repeat(1024 * 1024)
    const t0 = performance.now()
    for (let i = 0; i < 100; i++) compareVersions(hostile, '1.0')
    // Each call looks at the first 200 characters only: 100 calls on 11 MB strings stay far below a second even on a loaded CI box.
    expect(performance.now() - t0).toBeLessThan(5000)
    expect(compareVersions(hostile, '9.9.9.9.9.9.9.9.9.9.9.9')).toBe(0)
  })

  it('a rule disabled by the policy is neither reported nor skipped', async () => {
    const r = await tester.run(`inventory:intune:${join(FIX, 'intune-select.json')}`, { policy: policy({ 'endpoint-agent-disk-unencrypted': { enabled: false }, 'endpoint-agent-os-unsupported': { enabled: false } }) })
    expect(r.skipped).toEqual([])
  })
})

describe('endpoint-agent local probes', () => {
  it('default target is this machine; with no agent installed the default policy reports the missing EDR', async () => {
    expect(await endpointAgent.defaultTargets!(defaultTargetsContext())).toEqual([{ kind: 'local', id: 'local://' }])
    // This CI machine has no EDR; a developer machine with one installed passes instead. Read before and after the scan:
    // endpoint-agent-ssh.test.ts runs a process named falcon-sensor on this same machine, possibly while this test runs.
    const edrs = async (): Promise<number> => (await observeHost(localRunner(bindExec(realIo, { signal: new AbortController().signal, timeoutMs: 10_000 })), builtinCatalogue(), 5000)).agents.filter((a) => a.installed && a.agent.categories.includes('edr')).length
    const before = await edrs()
    const r = await tester.run('local')
    const after = await edrs()
    expect(r.errors).toEqual([])
    const f = findingOf(r, 'endpoint-agent-missing')
    expect(f.resource).toBe('require:category:edr')
    if (before && after) expect(f.status).toBe('pass') // an EDR installed throughout
    if (f.status === 'fail') expect(f.message).toMatch(/^Required agent category:edr on local: missing \(none of: CrowdStrike Falcon sensor, /)
    // A pass names the EDR the scan saw (possibly that other test's falcon-sensor, come and gone between the two reads).
    else expect(builtinCatalogue().filter((a) => a.categories.includes('edr')).map((a) => a.name)).toContain(f.evidence.agent)
  }, 90_000) // the posture attempt's apt simulation takes tens of seconds on a loaded machine

  it('an unknown requirement fails the scan before any probe, naming the policy field, not a silent pass', async () => {
    await expect(tester.run('local', { policy: policy({ 'endpoint-agent-missing': { parameters: { required: ['no-such-agent'] } } }) })).rejects.toThrow(
      '/rules/endpoint-agent-missing/parameters/required/0: expected a catalogue agent id or category:NAME',
    )
  })

  it('local probes run through execFile with argv from the allowlist only', async () => {
    const seen: (readonly string[])[] = []
    await observeHost(localRunner(bindExec(realIo, { signal: new AbortController().signal, timeoutMs: 10_000 }), (a) => seen.push(a)), builtinCatalogue(), 5000)
    expect(new Set(seen.map((a) => a[0]))).toEqual(new Set(['uname', 'ps', 'systemctl', 'ls', ...seen.filter((a) => a[0]!.startsWith('/')).map((a) => a[0])]))
  })
})

describe('endpoint-agent: target strings never reach a shell', () => {
  const hostile = ['a;rm -rf /', '$(id)', '`id`', "a'b", 'a b', 'x|nc 1.2.3.4', '--oProxyCommand=id', 'a\nb']

  it.each(hostile)('parseTarget rejects agents://%s', (h) => {
    expect(() => parseTarget(`agents://${h}`)).toThrow(TargetError)
    expect(() => parseTarget(`agents://${h}@127.0.0.1`)).toThrow(TargetError)
  })

  it.each(hostile)('a target object with host %j is an input error before any I/O', async (h) => {
    // The engine refuses it (normalizeTarget), and the check itself refuses it too (defence in depth).
    const r = await tester.run({ kind: 'agent-host', id: 'agents://evil', host: h, port: 22 } as never).catch((e: unknown) => e)
    expect(r).toBeInstanceOf(TargetError)
    const ctxLike = endpointAgent.checks[0]!
    const err = await ctxLike.run({ kind: 'agent-host', id: 'agents://evil', host: h, port: 22 }, {
      settings: {}, signal: new AbortController().signal, timeoutMs: 1000, connectTimeoutMs: 1000,
      sockets: (() => { throw new Error('no I/O may happen') }) as never, net: {} as never, log: { debug() {}, info() {}, warn() {} },
      now: () => NOW, params: () => ({}), enabled: () => true, report: () => { throw new Error('no report') }, emit: () => {},
    } as never).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(AttemptFailure)
    expect((err as AttemptFailure).reason).toBe('input')
  })

  it('every probe command string is built from fixed words and catalogue values only, each single-quoted', () => {
    const probes: Probe[] = [{ kind: 'uname' }, { kind: 'processes' }, { kind: 'launchd-labels' }, { kind: 'sshd-effective' }, { kind: 'sshd-effective', config: '/etc/ssh/sshd_config' }]
    for (const a of builtinCatalogue())
      for (const os of ['linux', 'darwin'] as const) {
        const p = a.platforms[os]
        if (!p) continue
        probes.push({ kind: 'systemd-units', units: p.services ?? [] }, { kind: 'paths-exist', paths: p.paths ?? [] })
        for (const v of [...(p.version ?? []), ...(p.degraded ?? [])]) probes.push('argv' in v ? { kind: 'catalogue-command', argv: v.argv } : { kind: 'read-file', path: v.file })
      }
    for (const p of probes) {
      const cmd = probeCommandString(p)
      // After removing the single-quoted words, only the fixed prefix and spaces remain: nothing the shell could expand.
      expect(cmd.replace(/'[^']*'/g, '').replace(/\s+/g, ' ').trim()).toBe('LC_ALL=C')
      for (const h of hostile) expect(cmd).not.toContain(h)
    }
  })

  it.each([
    { kind: 'paths-exist', paths: ['/opt/x; id'] },
    { kind: 'paths-exist', paths: ['/opt/$(id)'] },
    { kind: 'systemd-units', units: ['a`id`'] },
    { kind: 'catalogue-command', argv: ['/bin/sh', '-c', 'id;id'] },
    { kind: 'catalogue-command', argv: ['sh'] },
    { kind: 'read-file', path: '/etc/../etc/shadow' },
    { kind: 'sshd-effective', config: '/etc/ssh/$(id)' },
    { kind: 'sshd-effective', config: '-oProxyCommand=id' },
  ] as Probe[])('probe %j is refused before anything runs', (p) => {
    expect(() => probeArgv(p)).toThrow(AttemptFailure)
  })
})

describe('endpoint-agent demo', () => {
  it('writes flawed inventory exports and returns them as inventory targets, plus this machine for its posture', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ztscan-ea-demo-'))
    onTestFinished(() => rm(dir, { recursive: true, force: true }))
    const lab = await endpointAgent.demo!(dir)
    onTestFinished(() => lab.stop())
    expect((await readdir(dir)).sort()).toEqual(['crowdstrike-hosts.json', 'intune-managed-devices.json'])
    expect(lab.targets.map((t) => t.kind)).toEqual(['inventory-export', 'inventory-export', 'local'])
    const r = await checkTester(endpointAgent.checks, KEEP_PASSES).run(lab.targets)
    expect(r.errors).toEqual([])
    expect(failedRuleIds(r, (f) => f.target.startsWith('inventory:'))).toEqual([
      'endpoint-agent-device-noncompliant', 'endpoint-agent-disk-unencrypted', 'endpoint-agent-os-unsupported', 'endpoint-agent-sensor-degraded', 'endpoint-agent-stale-checkin',
    ])
    expect(findingOf(r, 'endpoint-agent-os-unsupported', (f) => f.resource === 'device:demo-intune-1').evidence.state).toBe('Windows 10.0.19045.4170: security support ended 2025-10-14')
    // This machine's posture: each control a finding or a named skip (whatever this machine is).
    for (const rule of POSTURE_RULES)
      expect(r.findings.some((f) => f.target === 'local://' && f.ruleId === rule) || r.skipped.some((s) => s.target === 'local://' && s.rule === rule), rule).toBe(true)
  }, 120_000)
})
