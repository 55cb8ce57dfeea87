/**
 * @fileoverview The endpoint-agent family's declaration: its target forms, settings, flags and checks. The checks' code
 * (index.ts: SSH probes, inventory readers, posture; coverage.ts) loads when one runs.
 */
import { defineCheck, defineFamily } from '../../src/engine/check.ts'
import { SSH_SETTINGS_SCHEMA } from '../../src/net/ssh-settings.ts'
import { streamedExportTimeout } from '../../src/lib-json-stream.ts'
import { targets } from './targets.ts'

const FAMILY = 'endpoint-agent'
export const ENDPOINT_AGENT_RULES = [
  'endpoint-agent-missing',
  'endpoint-agent-not-running',
  'endpoint-agent-outdated',
  'endpoint-agent-stale-checkin',
  'endpoint-agent-sensor-degraded',
  'endpoint-agent-device-noncompliant',
  'endpoint-agent-disk-unencrypted',
  'endpoint-agent-active-threat',
  'endpoint-agent-action-needed',
  'endpoint-agent-contained',
  'endpoint-agent-sshd-root-login',
  'endpoint-agent-sshd-password-login',
  'endpoint-agent-os-unsupported',
  'endpoint-agent-releases-behind',
  'endpoint-agent-not-connected',
  'endpoint-agent-tamper-protection-off',
  'endpoint-agent-zta-score-low',
] as const

/** Device posture rules (posture/index.ts judges them). */
export const POSTURE_RULES = [
  'endpoint-agent-disk-unencrypted',
  'endpoint-agent-firewall-off',
  'endpoint-agent-os-unsupported',
  'endpoint-agent-updates-pending',
  'endpoint-agent-auto-updates-off',
  'endpoint-agent-screen-lock-off',
  'endpoint-agent-time-unsynced',
] as const

/** The family's one check: hosts over SSH, this machine, and inventory exports report against the same rules. */
const statusCheck = defineCheck({
  id: 'endpoint-agent-status',
  family: FAMILY,
  targetKinds: ['agent-host', 'local', 'inventory-export'],
  rules: ENDPOINT_AGENT_RULES,
  // Exports are streamed at any size: the deadline grows with the file.
  timeout: (target, baseMs) => (target.kind === 'inventory-export' ? streamedExportTimeout([target.path], baseMs) : baseMs),
  load: () => import('./index.ts'),
  run: async (target, ctx) => (await import('./index.ts')).runStatus(target, ctx),
})

/** Coverage across inventories: a device listed by one (MDM, EDR) and missing from another is a finding. */
export const coverageCheck = defineCheck({
  id: 'endpoint-agent-coverage',
  family: FAMILY,
  targetKinds: ['inventory-coverage'],
  rules: ['endpoint-agent-coverage-gap'] as const,
  offline: true,
  timeout: (target, baseMs) => streamedExportTimeout(Array.isArray(target.inventories) ? (target.inventories as { path?: unknown }[]).map((i) => i?.path) : [], baseMs),
  load: () => import('./coverage.ts'),
  run: async (target, ctx) => (await import('./coverage.ts')).runCoverage(target, ctx),
})

/**
 * Device posture of this machine and of `agents://` hosts (disk encryption, firewall, OS support, updates, screen lock, time):
 * its own attempt, since apt's upgrade simulation or `softwareupdate -l` may take tens of seconds.
 */
const postureCheck = defineCheck({
  id: 'endpoint-agent-posture',
  family: FAMILY,
  targetKinds: ['agent-host', 'local'],
  rules: POSTURE_RULES,
  timeout: (_target, baseMs) => Math.max(baseMs, 60_000),
  load: () => import('./index.ts'),
  run: async (target, ctx) => (await import('./index.ts')).runPosture(target, ctx),
})

// Not `export default defineFamily(...)`: tsc 5.9 leaves a dynamic import's .ts path unrewritten inside an export-default expression.
const family = defineFamily({
  name: FAMILY,
  pillar: 'devices',
  targets,
  settings: {
    type: 'object',
    properties: {
      ssh: SSH_SETTINGS_SCHEMA,
      endpointAgent: {
        type: 'object',
        additionalProperties: false,
        // sshdConfig's path rule (absolute, no shell metacharacters) is checked by familySettings() in index.ts, an input error of the attempt.
        properties: { catalogue: { type: 'string', minLength: 1 }, sshdConfig: { type: 'string' } },
      },
    },
  },
  flags: [
    { name: 'inventory', arg: 'PROVIDER:FILE', multiple: true, target: 'inventory', help: 'EDR/MDM inventory export (repeatable)' },
    // --ssh-user and --ssh-key (settings.ssh, shared with ssh:// probes) are the mfa family's flags.
    { name: 'agent-catalogue', arg: 'FILE', setting: '/endpointAgent/catalogue', help: 'extra/overriding endpoint agents (same schema as checks/endpoint-agent/catalogue.json)' },
  ],
  checks: [statusCheck, coverageCheck, postureCheck],
  async defaultTargets() {
    return [{ kind: 'local', id: 'local://' }]
  },
  // Loaded only by `ztscan demo`: the lab is not shipped in the npm package.
  async demo(dir) {
    return (await import('./demo.ts')).startDemo(dir)
  },
})
export default family
