/**
 * @fileoverview Property-based fuzzing (fast-check) of the parsers the other test files do not fuzz: identity exports,
 * inventories, tokens files, certificates, known_hosts, suppressions and baselines. Each either returns a value or throws
 * its own input error — never a TypeError, never a hang. The shell quoting of remote probe arguments is checked against a
 * real shell: whatever the string, the shell gets it back as one literal word.
 */
import { describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import fc from 'fast-check'
import { AttemptFailure, InputError, PolicyError, baselineFrom, parseSuppressions } from '../../src/index.ts'
import { parseExport, parseCsv } from '../../checks/mfa/exports.ts'
import { parseTokensFile } from '../../checks/mfa/tokens.ts'
import { parseInventory } from '../../checks/endpoint-agent/inventory.ts'
import { parseCertificates } from '../../checks/certificate/chain.ts'
import { parseKnownHosts, hostFieldMatches, shellQuote } from '../../src/net/ssh.ts'

const onlyInputErrors = (f: () => unknown): void => {
  try {
    f()
  } catch (e) {
    if (!(e instanceof AttemptFailure && e.reason === 'input') && !(e instanceof InputError) && !(e instanceof PolicyError)) throw e
  }
}
// JSON documents shaped like the exports (right keys, wrong or random values), plus arbitrary JSON and bytes.
const exportLike = fc.oneof(
  fc.jsonValue(),
  fc.record({ users: fc.array(fc.jsonValue(), { maxLength: 4 }), factors: fc.dictionary(fc.string(), fc.jsonValue()) }),
  fc.record({ value: fc.array(fc.dictionary(fc.constantFrom('userPrincipalName', 'isAdmin', 'isMfaRegistered', 'methodsRegistered', 'state', 'conditions', 'grantControls', 'id'), fc.jsonValue()), { maxLength: 4 }) }),
  fc.record({ resources: fc.array(fc.dictionary(fc.constantFrom('device_id', 'hostname', 'last_seen', 'agent_version', 'reduced_functionality_mode'), fc.jsonValue()), { maxLength: 4 }) }),
  fc.record({ data: fc.array(fc.jsonValue(), { maxLength: 4 }) }),
  fc.record({ hosts: fc.array(fc.jsonValue(), { maxLength: 4 }) }),
  // Jamf: sections as objects of the right keys with random values (or null, as Jamf sends an unrequested section).
  fc.record({
    results: fc.array(fc.record({
      id: fc.jsonValue(),
      general: fc.oneof(fc.constant(null), fc.dictionary(fc.constantFrom('name', 'platform', 'lastContactTime', 'jamfBinaryVersion'), fc.jsonValue())),
      diskEncryption: fc.oneof(fc.constant(null), fc.record({ bootPartitionEncryptionDetails: fc.oneof(fc.constant(null), fc.dictionary(fc.constantFrom('partitionFileVault2State', 'partitionFileVault2Percent'), fc.jsonValue())) })),
      operatingSystem: fc.oneof(fc.constant(null), fc.dictionary(fc.constantFrom('name', 'version', 'fileVault2Status'), fc.jsonValue())),
      hardware: fc.oneof(fc.constant(null), fc.dictionary(fc.constantFrom('serialNumber', 'macAddress', 'altMacAddress'), fc.jsonValue())),
    }), { maxLength: 4 }),
  }),
)
const bytes = fc.oneof(exportLike.map((v) => Buffer.from(JSON.stringify(v) ?? 'null')), fc.uint8Array({ maxLength: 512 }).map((a) => Buffer.from(a)), fc.string().map((s) => Buffer.from(s)))

describe('parsers fail only with their own input errors', () => {
  it.each(['okta', 'entra', 'google', 'aws', 'github'])('identity export: %s', (provider) => {
    fc.assert(fc.property(bytes, (b) => onlyInputErrors(() => parseExport(provider, b, 'x.json'))), { numRuns: 400 })
  })
  it.each(['crowdstrike', 'defender', 'sentinelone', 'intune', 'osquery', 'jamf'] as const)('inventory: %s', (provider) => {
    fc.assert(fc.property(bytes, (b) => onlyInputErrors(() => parseInventory(provider, b.toString('utf8'), 'x.json'))), { numRuns: 400 })
  })
  it('CSV: any text parses into rows, and quoted fields round-trip', () => {
    fc.assert(fc.property(fc.string(), (s) => void expect(Array.isArray(parseCsv(s))).toBe(true)), { numRuns: 500 })
    fc.assert(
      fc.property(fc.array(fc.array(fc.string({ minLength: 1 }), { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 4 }), (rows) => {
        const text = rows.map((r) => r.map((c) => `"${c.replace(/"/g, '""')}"`).join(',')).join('\n')
        expect(parseCsv(text)).toEqual(rows)
      }),
      { numRuns: 300 },
    )
  })
  it('tokens file', () => {
    fc.assert(fc.property(bytes, (b) => onlyInputErrors(() => parseTokensFile(b, 'tokens.json'))), { numRuns: 400 })
  })
  it('certificates (PEM-looking and raw bytes)', () => {
    const pemish = fc.tuple(fc.constantFrom('CERTIFICATE', 'PRIVATE KEY', 'X509 CERTIFICATE'), fc.base64String({ maxLength: 400 })).map(([t, b]) => Buffer.from(`-----BEGIN ${t}-----\n${b}\n-----END ${t}-----\n`))
    fc.assert(fc.property(fc.oneof(bytes, pemish), (b) => onlyInputErrors(() => parseCertificates(b, 'c.pem'))), { numRuns: 400 })
  })
  it('known_hosts: any text parses (malformed lines skipped) and matching never throws', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (text, name) => {
        for (const l of parseKnownHosts(text)) hostFieldMatches(l.patterns, name)
      }),
      { numRuns: 500 },
    )
  })
  it('suppressions and baselines', () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => onlyInputErrors(() => parseSuppressions(v, 's.yaml'))), { numRuns: 400 })
    fc.assert(fc.property(exportLike, (v) => onlyInputErrors(() => baselineFrom(v, 'b.json'))), { numRuns: 400 })
  })
})

describe('remote probe arguments reach the shell as one literal word', () => {
  it('sh receives exactly the string, whatever it holds ($(id), ;, quotes, newlines)', () => {
    const hostile = fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.constantFrom('$(id)', '`id`', 'a;rm -rf /', "it's", '"x"', 'a\nb', '\\', '$HOME', '*', '-n'))
    fc.assert(
      fc.property(hostile.filter((s) => !s.includes('\0')), (s) => {
        const r = spawnSync('/bin/sh', ['-c', `printf '%s' ${shellQuote(s)}`], { encoding: 'utf8' })
        expect(r.stdout).toBe(s)
      }),
      { numRuns: 150 },
    )
  })
})
