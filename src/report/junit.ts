/**
 * @fileoverview JUnit XML (`-o ztscan.junit.xml`) for Jenkins, Azure DevOps and GitLab test reports: one testsuite per
 * check family, one testcase per rule × target (classname `ztscan.<family>.<rule>`, name = the target). A testcase
 * fails when the rule has an open failed finding on the target (the failure holds every such finding's text), is
 * skipped when all its failed findings are suppressed (with the reason), and passes otherwise. Attempts that could not
 * complete are testcases with an `<error>` (classname `ztscan.<family>.<check>`), checks that did not apply are skipped
 * testcases. Shape: the Jenkins xUnit plugin's JUnit schema (fixtures/junit/junit-10.xsd), validated in tests.
 */
import type { Finding, ScanReport } from '../types.ts'
import { SEVERITY_RANK } from '../scoring/severity.ts'
import { escapeControls } from './escape.ts'

/**
 * Escapes XML text and attribute values. Control and format characters are made visible first (`\x00`, `\x1b`; see
 * escape.ts) — which also removes every character XML 1.0 cannot hold but U+FFFE/U+FFFF, escaped here.
 */
export function escXml(v: unknown, max = 8000): string {
  let s = String(v ?? '')
  if (s.length > max) s = `${s.slice(0, max)}… (${s.length - max} more characters)`
  return escapeControls(s, { multiline: true })
    .replace(/[\ufffe\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`)
    .replace(/[&<>"]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&quot;'))
    .replace(/\t/g, '&#9;')
    .replace(/\n/g, '&#10;')
}

interface Case {
  classname: string
  name: string
  body: string
  failures: number
  errors: number
  skipped: number
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)
const seconds = (report: ScanReport): string => {
  const ms = Date.parse(report.finishedAt) - Date.parse(report.startedAt)
  return Number.isFinite(ms) && ms > 0 ? (ms / 1000).toFixed(3) : '0'
}

/** The JUnit XML document of a scan. */
export function toJunit(report: ScanReport): string {
  const suites = new Map<string, Map<string, Case>>()
  const suite = (family: string): Map<string, Case> => suites.get(family) ?? suites.set(family, new Map()).get(family)!
  const groups = new Map<string, Finding[]>()
  for (const f of report.findings) {
    const k = `${f.family}\0${f.ruleId}\0${f.target}`
    const g = groups.get(k)
    if (g) g.push(f)
    else groups.set(k, [f])
  }
  // Passes counted rather than stored: a passing case per rule and target (unless a finding already made one).
  const familyOf = new Map((report.rules ?? []).map((r) => [r.id, r.family]))
  for (const c of report.passCounts ?? []) {
    const k = `${familyOf.get(c.ruleId) ?? 'unknown'}\0${c.ruleId}\0${c.target}`
    if (!groups.has(k)) groups.set(k, [])
  }
  for (const [k, fs] of groups) {
    const [family, ruleId, target] = k.split('\0') as [string, string, string]
    const open = fs.filter((f) => f.status === 'fail' && !f.suppression).sort((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || cmp(a.resource, b.resource))
    const suppressed = fs.filter((f) => f.status === 'fail' && f.suppression)
    let body = ''
    const c: Case = { classname: `ztscan.${family}.${ruleId}`, name: target, body, failures: 0, errors: 0, skipped: 0 }
    if (open.length) {
      const text = open
        .slice(0, 200)
        .map((f) => `[${f.severity}] ${f.message} (resource: ${f.resource}; fingerprint: ${f.fingerprint}${f.baselineState ? `; ${f.baselineState}` : ''})`)
        .join('\n')
      const more = open.length > 200 ? `\n… and ${open.length - 200} more` : ''
      body = `<failure type="${escXml(open[0]!.severity)}" message="${escXml(open.length === 1 ? open[0]!.message : `${open.length} failed: ${open[0]!.message}`, 1000)}">${escXml(text + more, 100_000)}</failure>`
      c.failures = 1
    } else if (suppressed.length) {
      const s = suppressed[0]!.suppression!
      body = `<skipped message="${escXml(`suppressed: ${s.reason}${s.expires ? ` (until ${s.expires})` : ''}`, 1000)}"/>`
      c.skipped = 1
    }
    c.body = body
    suite(family).set(`${c.classname}\0${c.name}`, c)
  }
  for (const e of report.errors) {
    const c: Case = {
      classname: `ztscan.${e.family}.${e.check}`,
      name: e.target,
      body: `<error type="${escXml(e.reason)}" message="${escXml(e.message, 1000)}">${escXml(`${e.check} on ${e.target}: ${e.reason}: ${e.message}`)}</error>`,
      failures: 0,
      errors: 1,
      skipped: 0,
    }
    suite(e.family).set(`${c.classname}\0${c.name}\0error\0${e.message}`, c)
  }
  for (const s of report.skipped) {
    // A rule that could not be judged is a skipped testcase of that rule; a check that did not apply, of the check.
    const c: Case = { classname: `ztscan.${s.family}.${s.rule ?? s.check}`, name: s.target, body: `<skipped message="${escXml(s.why, 1000)}"/>`, failures: 0, errors: 0, skipped: 1 }
    suite(s.family).set(`${c.classname}\0${c.name}\0skip\0${s.why}`, c)
  }
  const score = report.score as { overall?: unknown; stage?: unknown } | undefined
  const ts = escXml(String(report.startedAt).replace(/Z$/, ''), 40)
  const time = seconds(report)
  const total = { tests: 0, failures: 0, errors: 0 }
  const out: string[] = []
  for (const family of [...suites.keys()].sort(cmp)) {
    const cases = [...suites.get(family)!.values()].sort((a, b) => cmp(a.classname, b.classname) || cmp(a.name, b.name))
    const n = { tests: cases.length, failures: 0, errors: 0, skipped: 0 }
    for (const c of cases) {
      n.failures += c.failures
      n.errors += c.errors
      n.skipped += c.skipped
    }
    total.tests += n.tests
    total.failures += n.failures
    total.errors += n.errors
    out.push(
      `  <testsuite name="ztscan.${escXml(family)}" tests="${n.tests}" failures="${n.failures}" errors="${n.errors}" skipped="${n.skipped}" time="0" timestamp="${ts}">`,
      `    <properties><property name="ztscan.version" value="${escXml(report.tool?.version)}"/><property name="ztscan.score" value="${typeof score?.overall === 'number' ? score.overall.toFixed(1) : 'n/a'}"/><property name="ztscan.stage" value="${escXml(typeof score?.stage === 'string' ? score.stage : 'not evaluated')}"/></properties>`,
      ...cases.map((c) => `    <testcase classname="${escXml(c.classname, 500)}" name="${escXml(c.name, 1000)}" time="0"${c.body ? `>${c.body}</testcase>` : '/>'}`),
      '  </testsuite>',
    )
  }
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="ztscan" tests="${total.tests}" failures="${total.failures}" errors="${total.errors}" time="${time}">\n${out.join('\n')}\n</testsuites>\n`
}
