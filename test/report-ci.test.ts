/**
 * Reports CI systems read: JUnit XML validated against the Jenkins xUnit JUnit schema (libxml2 via xmllint-wasm), the
 * GitLab DAST security report validated against GitLab's published schema 15.0.7, and the GitLab Code Quality report —
 * for the demo lab's scan and for the same scan run as two shards and merged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Ajv } from 'ajv'
import addFormats from 'ajv-formats'
import { validateXML } from 'xmllint-wasm'
import { GITLAB_SCHEMA_VERSION, mergeReports, scan, startDemoLab, toCodeQuality, toGitlabDast, toJunit, type Finding, type ScanReport } from '../src/index.ts'
import { escXml } from '../src/report/junit.ts'
import { uuidOf } from '../src/report/gitlab.ts'
import { main } from '../src/cli/main.ts'

const xsd = readFileSync(new URL('../fixtures/junit/junit-10.xsd', import.meta.url), 'utf8')
const dastSchema = JSON.parse(readFileSync(new URL('../fixtures/gitlab/dast-report-format-15.0.7.json', import.meta.url), 'utf8')) as { self: { version: string } }
const ajv = new Ajv({ allErrors: true, strict: false })
addFormats.default(ajv)
const validateDast = ajv.compile(dastSchema)

async function assertValidJunit(xml: string): Promise<void> {
  const r = await validateXML({ xml: [{ fileName: 'report.xml', contents: xml }], schema: [{ fileName: 'junit-10.xsd', contents: xsd }] })
  expect(r.errors.map((e) => e.message)).toEqual([])
  expect(r.valid).toBe(true)
}
function assertValidDast(doc: unknown): void {
  const ok = validateDast(JSON.parse(JSON.stringify(doc)))
  expect(ok ? [] : validateDast.errors).toEqual([])
}

const HOSTILE = 'evil\u0000\u001b[2J]]><x a="1"/>&amp;\ud800 <script>'
const dir = mkdtempSync(join(tmpdir(), 'ztscan-ci-'))
let demo: ScanReport
let merged: ScanReport

beforeAll(async () => {
  const lab = await startDemoLab()
  try {
    const opts = { targets: lab.targets, settings: lab.settings }
    demo = await scan(opts)
    const parts = [await scan({ ...opts, shard: { index: 1, count: 2 } }), await scan({ ...opts, shard: { index: 2, count: 2 } })]
    merged = mergeReports(parts)
  } finally {
    await lab.stop()
  }
  const extra = (status: Finding['status'], suppression?: Finding['suppression']): Finding => ({
    ruleId: 'acme-banner', status, severity: 'medium', pillar: 'networks', family: 'acme', target: `ssh://127.0.0.1:22${status}${suppression ? 's' : ''}`,
    resource: HOSTILE, message: `Banner ${HOSTILE}`, evidence: { banner: HOSTILE }, fingerprint: (status + (suppression ? 's' : '')).padEnd(32, '0').replace(/[^0-9a-f]/g, 'a'),
    ...(suppression ? { suppression } : {}),
  })
  demo = {
    ...demo,
    findings: [...demo.findings, extra('fail'), extra('fail', { reason: 'lab box', expires: '2099-01-01' })],
    errors: [...demo.errors, { check: 'acme-banner', family: 'acme', target: 'ssh://127.0.0.1:9', reason: 'connectivity', message: `refused ${HOSTILE}` }],
    skipped: [...demo.skipped, { check: 'acme-banner', family: 'acme', target: 'local', why: 'not an SSH target' }],
  }
}, 180_000)
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const open = (r: ScanReport): Finding[] => r.findings.filter((f) => f.status === 'fail' && !f.suppression)

describe('the validators themselves', () => {
  it('reject what GitLab and JUnit consumers would reject', async () => {
    const bad = await validateXML({ xml: [{ fileName: 'bad.xml', contents: '<testsuites><testsuite name="x"><testcase/></testsuite></testsuites>' }], schema: [{ fileName: 'junit-10.xsd', contents: xsd }] })
    expect(bad.valid).toBe(false)
    expect(bad.errors.map((e) => e.message).join('\n')).toMatch(/attribute 'tests' is required|attribute 'name' is required/)
    const doc = toGitlabDast(demo) as { scan: Record<string, unknown> }
    expect(validateDast({ ...doc, scan: { ...doc.scan, start_time: demo.startedAt } })).toBe(false)
    expect(validateDast({ ...doc, vulnerabilities: [{ id: 'x', identifiers: [], location: {} }] })).toBe(false)
  })
})

describe('JUnit XML', () => {
  it('is valid against the JUnit schema for the demo and for the merged sharded scan', async () => {
    await assertValidJunit(toJunit(demo))
    await assertValidJunit(toJunit(merged))
  })
  it('one testsuite per family, one testcase per rule × target, failures carrying the finding text', () => {
    const xml = toJunit(demo)
    const suites = [...xml.matchAll(/<testsuite name="ztscan\.([^"]+)" tests="(\d+)" failures="(\d+)" errors="(\d+)" skipped="(\d+)"/g)]
    expect(suites.map((m) => m[1]).sort()).toEqual([...new Set([...demo.findings.map((f) => f.family), ...demo.errors.map((e) => e.family)])].sort())
    const familyOf = new Map(demo.rules.map((r) => [r.id, r.family]))
    const pairs = new Set([...demo.findings.map((f) => `${f.family}\0${f.ruleId}\0${f.target}`), ...(demo.passCounts ?? []).map((c) => `${familyOf.get(c.ruleId)}\0${c.ruleId}\0${c.target}`)])
    const failing = new Set(open(demo).map((f) => `${f.ruleId}\0${f.target}`))
    const total = suites.reduce((n, m) => n + Number(m[2]), 0)
    expect(total).toBe(pairs.size + demo.errors.length + demo.skipped.length)
    expect(suites.reduce((n, m) => n + Number(m[3]), 0)).toBe(failing.size)
    expect(suites.reduce((n, m) => n + Number(m[4]), 0)).toBe(demo.errors.length)
    expect(xml).toMatch(new RegExp(`<testsuites name="ztscan" tests="${total}" failures="${failing.size}" errors="${demo.errors.length}"`))
    const f = open(demo).find((x) => x.ruleId === 'certificate-expired')!
    const tc = xml.split('\n').find((l) => l.includes(`classname="ztscan.certificate.certificate-expired" name="${escXml(f.target)}"`))!
    expect(tc).toContain('<failure type="critical"')
    expect(tc).toContain(escXml(f.message))
    // Suppressed: skipped with the reason; a check that did not apply: skipped with why; an attempt error: <error>.
    expect(xml).toContain('name="ssh://127.0.0.1:22fails" time="0"><skipped message="suppressed: lab box (until 2099-01-01)"/>')
    expect(xml).toContain('classname="ztscan.acme.acme-banner" name="local" time="0"><skipped message="not an SSH target"/>')
    expect(xml).toMatch(/classname="ztscan\.acme\.acme-banner" name="ssh:\/\/127\.0\.0\.1:9" time="0"><error type="connectivity"/)
  })
  it('escapes markup and writes characters XML cannot hold as \\x escapes', async () => {
    const xml = toJunit(demo)
    expect(xml).toContain('evil\\x00\\x1b[2J]]&gt;&lt;x a=&quot;1&quot;/&gt;&amp;amp;\\ud800 &lt;script&gt;')
    expect(xml).not.toContain('<script>')
    expect(xml).not.toContain('\u001b')
    await assertValidJunit(xml)
  })
})

describe('GitLab DAST security report', () => {
  it(`is valid against GitLab's schema ${dastSchema.self.version} for the demo and for the merged sharded scan`, () => {
    expect(GITLAB_SCHEMA_VERSION).toBe(dastSchema.self.version)
    assertValidDast(toGitlabDast(demo))
    assertValidDast(toGitlabDast(merged))
    // This machine's own reads (the demo's local:// target) depend on its load (apt's simulation may run out of time in
    // one of the three scans), so the sharded and unsharded lab are compared without them.
    const lab = (r: ScanReport, keep: (f: Finding) => boolean = () => true): ScanReport => ({ ...r, findings: r.findings.filter((f) => f.target !== 'local://' && keep(f)) })
    const ids = (r: ScanReport): string[] => (toGitlabDast(r).vulnerabilities as { id: string }[]).map((v) => v.id).sort()
    expect(ids(lab(merged))).toEqual(ids(lab(demo, (f) => f.family !== 'acme')))
  })
  it('one vulnerability per open failed finding, with a stable id, severity, solution, identifiers and location', () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- walking the report freely
    const doc = toGitlabDast(demo) as any
    expect(doc.version).toBe('15.0.7')
    expect(doc.scan).toMatchObject({ type: 'dast', status: 'success', analyzer: { id: 'ztscan' }, scanner: { id: 'ztscan' } })
    expect(doc.scan.start_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/)
    expect(doc.scan.scanned_resources).toHaveLength(demo.targets.length)
    expect(doc.scan.messages).toContainEqual({ level: 'info', value: '1 suppressed findings left out' })
    expect(doc.scan.messages).toContainEqual(expect.objectContaining({ level: 'warn', value: expect.stringContaining('acme-banner on ssh://127.0.0.1:9: connectivity') }))
    const o = open(demo)
    expect(doc.vulnerabilities).toHaveLength(o.length)
    expect(new Set(doc.vulnerabilities.map((v: { id: string }) => v.id)).size).toBe(o.length)
    const f = o.find((x) => x.ruleId === 'certificate-expired')!
    const v = doc.vulnerabilities.find((x: { id: string }) => x.id === uuidOf(f.fingerprint))
    expect(v).toMatchObject({ name: 'Certificate has expired', severity: 'Critical', location: { hostname: f.target, path: f.resource }, identifiers: [{ type: 'ztscan_rule', value: 'certificate-expired' }] })
    expect(v.solution).toMatch(/^Renew/)
    expect(v.description.startsWith(f.message)).toBe(true)
    expect(uuidOf(f.fingerprint)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  })
  it('the schema version is pinned and configurable; a malformed one is a usage error', () => {
    expect(toGitlabDast(demo, { schemaVersion: '15.2.1' }).version).toBe('15.2.1')
    expect(() => toGitlabDast(demo, { schemaVersion: '16' })).toThrow('--gitlab-schema-version: expected a 15.x.y')
    expect(() => toGitlabDast(demo, { schemaVersion: '14.1.0' })).toThrow('--gitlab-schema-version')
  })
})

describe('GitLab Code Quality report', () => {
  it('holds description, check_name, fingerprint, severity and location.path/lines.begin for each open failed finding', () => {
    const issues = toCodeQuality(demo) as { description: string; check_name: string; fingerprint: string; severity: string; location: { path: string; lines: { begin: number } } }[]
    expect(issues).toHaveLength(open(demo).length)
    expect(new Set(issues.map((i) => i.fingerprint)).size).toBe(issues.length)
    for (const i of issues) {
      expect(i.description.length).toBeGreaterThan(0)
      expect(i.check_name).toMatch(/^[a-z0-9-]+$/)
      expect(['info', 'minor', 'major', 'critical', 'blocker']).toContain(i.severity)
      expect(i.location.path).toMatch(/^ztscan\/[^:]+$/)
      expect(i.location.lines.begin).toBe(1)
    }
    expect(issues.find((i) => i.check_name === 'certificate-expired')!.severity).toBe('blocker')
  })
})

describe('CLI: the formats by extension, from scan and merge', () => {
  it('scan -o x.xml -o gl-dast-report.json -o x.codequality.json; merge -o y.gitlab.json --gitlab-schema-version', async () => {
    const plugin = new URL('../fixtures/plugin/example-plugin.mjs', import.meta.url).pathname
    const t = join(dir, 't.yaml')
    writeFileSync(t, 'targets:\n  - { kind: example, id: "example://a", state: fail }\n  - { kind: example, id: "example://b", state: pass }\n')
    const out = (n: string): string => join(dir, n)
    expect(await main(['scan', '-q', '-t', t, '--plugin', plugin, '--fail-on', 'none', '-o', out('r.xml'), '-o', out('gl-dast-report.json'), '-o', out('r.codequality.json'), '-o', out('r.json')])).toBe(0)
    await assertValidJunit(readFileSync(out('r.xml'), 'utf8'))
    expect(readFileSync(out('r.xml'), 'utf8')).toContain('<testsuite name="ztscan.example" tests="2" failures="1"')
    const dast = JSON.parse(readFileSync(out('gl-dast-report.json'), 'utf8'))
    assertValidDast(dast)
    expect(dast.vulnerabilities.map((v: { location: { hostname: string } }) => v.location.hostname)).toEqual(['example://a'])
    expect(JSON.parse(readFileSync(out('r.codequality.json'), 'utf8'))).toHaveLength(1)
    expect(await main(['merge', out('r.json'), '-o', out('m.gitlab.json'), '--gitlab-schema-version', '15.1.0'])).toBe(0)
    expect(JSON.parse(readFileSync(out('m.gitlab.json'), 'utf8')).version).toBe('15.1.0')
    expect(await main(['scan', '-q', '--gitlab-schema-version', 'latest', 'local'])).toBe(2)
  })
})
