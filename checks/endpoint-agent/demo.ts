/**
 * @fileoverview The family's part of `ztscan demo`: small inventory exports, dated relative to now, with flawed devices.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileTarget } from '../../src/targets/host.ts'
import type { Target } from '../../src/types.ts'
import type { Provider } from './catalogue.ts'

const hoursAgo = (now: Date, h: number): string => new Date(now.getTime() - h * 3_600_000).toISOString().replace(/\.\d{3}Z$/, 'Z')

/** Writes demo exports into `dir` and returns them. */
export async function demoExports(dir: string, now: Date): Promise<{ provider: Provider; path: string }[]> {
  const crowdstrike = {
    meta: { query_time: 0.01, powered_by: 'device-api', trace_id: 'demo' },
    resources: [
      { device_id: 'demo0001', hostname: 'demo-web-01', platform_name: 'Linux', agent_version: '7.14.16703.0', last_seen: hoursAgo(now, 1), status: 'normal', reduced_functionality_mode: 'no' },
      { device_id: 'demo0002', hostname: 'demo-db-01', platform_name: 'Linux', agent_version: '7.14.16703.0', last_seen: hoursAgo(now, 2), status: 'normal', reduced_functionality_mode: 'yes' },
      { device_id: 'demo0003', hostname: 'demo-laptop-07', platform_name: 'Windows', agent_version: '7.14.18408.0', last_seen: hoursAgo(now, 24 * 9), status: 'normal', reduced_functionality_mode: 'no' },
    ],
    errors: [],
  }
  const intune = {
    '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#deviceManagement/managedDevices',
    value: [
      { id: 'demo-intune-1', deviceName: 'DEMO-LT-001', operatingSystem: 'Windows', osVersion: '10.0.19045.4170', complianceState: 'compliant', isEncrypted: true, lastSyncDateTime: hoursAgo(now, 3) },
      { id: 'demo-intune-2', deviceName: 'DEMO-LT-002', operatingSystem: 'macOS', osVersion: '26.1', complianceState: 'noncompliant', isEncrypted: false, lastSyncDateTime: hoursAgo(now, 50) },
    ],
  }
  const files: { provider: Provider; path: string; body: unknown }[] = [
    { provider: 'crowdstrike', path: join(dir, 'crowdstrike-hosts.json'), body: crowdstrike },
    { provider: 'intune', path: join(dir, 'intune-managed-devices.json'), body: intune },
  ]
  for (const f of files) await writeFile(f.path, JSON.stringify(f.body, null, 2))
  return files.map(({ provider, path }) => ({ provider, path }))
}

/** The family's part of the demo lab: the exports, as `inventory:` targets, and this machine (`local`). */
export async function startDemo(dir: string): Promise<{ targets: Target[]; stop(): Promise<void> }> {
  await mkdir(dir, { recursive: true })
  const files = await demoExports(dir, new Date())
  // This machine too: its device posture is read for real (on a bare CI container: findings or named skips, never passes by default).
  return { targets: [...files.map(({ provider, path }) => fileTarget('inventory-export', 'inventory', path, provider)), { kind: 'local', id: 'local://' }], async stop() {} }
}
