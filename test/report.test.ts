import { describe, expect, it } from 'vitest'
import { buildReport, toMarkdown, toSarif, toTable, type EffectiveRule, type Finding } from '../src/index.ts'
import { targetUri } from '../src/report/location.ts'
import { writeSarif } from '../src/report/sarif.ts'
import { Writable } from 'node:stream'
import { fingerprintOf } from '../src/engine/run.ts'
import { assertValidReport, assertValidSarif } from './helpers/schemas.ts'

const rule: EffectiveRule = {
  id: 'certificate-expired', family: 'certificate', title: 'Certificate expired', pillar: 'applications', severity: 'critical',
  message: 'Certificate {{subject}} expired', description: 'The certificate is past its notAfter date.', remediation: 'Renew it.',
  helpUri: 'https://example.invalid/certificate-expired', references: ['https://www.rfc-editor.org/rfc/rfc5280'], tags: ['tls'], enabled: true, values: { warnDays: 30 },
}
const finding = (target: string, status: Finding['status'], message = 'Certificate CN=a expired', extra: Partial<Finding> = {}): Finding => ({
  ruleId: rule.id, status, severity: 'critical', pillar: 'applications', family: 'certificate', target, resource: 'leaf SHA256:AA', message,
  evidence: { subject: 'CN=a' }, fingerprint: fingerprintOf(rule.id, target, 'leaf SHA256:AA'), ...extra,
})
const report = buildReport({
  startedAt: new Date('2026-01-01T00:00:00Z'), finishedAt: new Date('2026-01-01T00:00:01Z'),
  targets: [{ id: 'tls://[::1]:8443?sni=api.test', kind: 'tls-endpoint' }, { id: 'tls://127.0.0.1:443', kind: 'tls-endpoint' }],
  rules: [rule],
  findings: [
    finding('tls://[::1]:8443?sni=api.test', 'fail'),
    finding('tls://127.0.0.1:443', 'pass'),
    finding('tls://127.0.0.1:444', 'fail', '=HYPERLINK("http://evil")|<script>', { suppression: { reason: 'lab box', expires: '2027-01-01' } }),
  ],
  errors: [{ check: 'certificate-tls', family: 'certificate', target: 'tls://127.0.0.1:9', reason: 'connectivity', message: 'tls 127.0.0.1:9: ECONNREFUSED' }],
  skipped: [],
  attempts: 3,
})

describe('SARIF writer', () => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- walking the SARIF log freely in assertions
  const sarif = toSarif(report, { category: 'ztscan/ci' }) as any
  it('is valid SARIF 2.1.0 and valid against the report schema', () => {
    assertValidSarif(JSON.parse(JSON.stringify(sarif)))
    assertValidReport(report)
  })
  it('has rules with help, helpUri, security-severity and tags', () => {
    const r = sarif.runs[0].tool.driver.rules[0]
    expect(r).toMatchObject({ id: 'certificate-expired', name: 'CertificateExpired', helpUri: rule.helpUri, shortDescription: { text: 'Certificate expired' } })
    expect(r.help.text).toContain('Remediation: Renew it.')
    expect(r.help.markdown).toContain('`warnDays` = `30`')
    expect(r.properties['security-severity']).toBe('9.5')
    expect(r.properties.tags).toEqual(['security', 'zero-trust', 'certificate', 'ztmm-applications', 'tls'])
  })
  it('emits only failed findings, with GitHub-acceptable locations and stable fingerprints', () => {
    const results = sarif.runs[0].results
    expect(results).toHaveLength(2)
    const [a] = results
    expect(a.level).toBe('error')
    expect(a.ruleIndex).toBe(0)
    const loc = a.locations[0]
    expect(loc.physicalLocation.artifactLocation.uri).toBe('ztscan/tls/--1/8443/sni-api.test')
    expect(loc.physicalLocation.artifactLocation.uri).not.toMatch(/:/)
    expect(loc.physicalLocation.region.startLine).toBe(1)
    expect(loc.logicalLocations[0]).toMatchObject({ fullyQualifiedName: 'tls://[::1]:8443?sni=api.test', kind: 'resource' })
    expect(a.partialFingerprints.primaryLocationLineHash).toBe(fingerprintOf('certificate-expired', 'tls://[::1]:8443?sni=api.test', 'leaf SHA256:AA'))
    expect(results[1].suppressions[0]).toMatchObject({ kind: 'external', justification: 'lab box' })
  })
  it('puts attempt errors in toolExecutionNotifications, not results', () => {
    const n = sarif.runs[0].invocations[0].toolExecutionNotifications
    expect(n).toHaveLength(1)
    expect(n[0].message.text).toContain('ECONNREFUSED')
    expect(sarif.runs[0].automationDetails.id).toBe('ztscan/ci/')
  })
})

describe('streaming SARIF writer', () => {
  it('writes the same log as toSarif', async () => {
    const chunks: Buffer[] = []
    const sink = new Writable({ write(c, _e, cb) { chunks.push(Buffer.from(c)); cb() } })
    await writeSarif(report, sink, { category: 'x' })
    const streamed = JSON.parse(Buffer.concat(chunks).toString('utf8'))
    expect(streamed).toEqual(JSON.parse(JSON.stringify(toSarif(report, { category: 'x' }))))
    assertValidSarif(streamed)
  })
})

describe('target URIs', () => {
  it.each([
    ['tls://127.0.0.1:8443', 'ztscan/tls/127.0.0.1/8443'],
    ['tls://[::1]:8443?sni=api.test', 'ztscan/tls/--1/8443/sni-api.test'],
    ['idp:okta:fixtures/mfa/okta users.json', 'ztscan/idp/okta/fixtures/mfa/okta_users.json'],
    ['cert:../../etc/passwd', 'ztscan/cert/__/__/etc/passwd'],
    ['local://', 'ztscan/local/'],
  ])('%s -> %s', (id, uri) => {
    expect(targetUri(id)).toBe(uri)
    expect(targetUri(id)).not.toMatch(/[:\s]/)
  })
})

describe('human summaries', () => {
  it('Markdown escapes hostile values and neutralises formulas', () => {
    const md = toMarkdown({ ...report, findings: report.findings.map((f) => ({ ...f, suppression: undefined })) })
    expect(md).toContain("'=HYPERLINK(\"http://evil\")\\|\\<script\\>")
    expect(md).not.toContain('<script>')
    expect(md).toMatch(/\| critical \| `certificate-expired` \|/)
  })
  it('table shows score, pillars, failures and errors', () => {
    const t = toTable(report)
    expect(t).toMatch(/applications +39\.9 +traditional +- +2 \(1\/0\/0\/1\)/)
    expect(t).toContain("capped to initial: critical certificate-expired failed on tls://[::1]:8443?sni=api.test")
    expect(t).toContain('CRITICAL  certificate-expired')
    expect(t).toContain('connectivity')
  })
})
