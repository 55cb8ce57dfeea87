/**
 * The HTML and GitLab writers bound what they build from a report's lists (issue 14, bounded memory): the HTML page holds
 * the first failed findings in its order (chosen in bounded memory) and says how many more are not shown; its errors and
 * skips tables read a list only as far as the rows they show; the GitLab DAST report lists the first scanned resources
 * and says how many more were not listed. Never silently.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FindingView, OptionsError, scan, toHtml, type AttemptError, type Finding, type ScanReport } from '../src/index.ts'
import { GITLAB_MAX_FINDINGS, GITLAB_MAX_SCANNED, toCodeQuality, toGitlabDast } from '../src/report/gitlab.ts'
import { stringifyJson } from '../src/report/json.ts'
import openPort from '../checks/open-port/index.ts'
import { nmapDocument, portsHost, writeNmapFile } from './helpers/nmap-gen.ts'

let template: ScanReport
beforeAll(async () => {
  const xml = join(mkdtempSync(join(tmpdir(), 'ztscan-report-bounds-')), 't.xml')
  await writeNmapFile(xml, nmapDocument({ host: (i) => portsHost(i, [23]), hosts: 2 }))
  template = JSON.parse(stringifyJson(await scan({ targets: [`nmap:${xml}`], families: [openPort], now: () => new Date('2026-12-01T00:00:00Z') }))) as ScanReport
})

/** The page's JSON data block. */
const dataOf = (html: string): { rows: unknown[][]; targets: string[] } => JSON.parse(/<script type="application\/json" id="zt-data">(.*?)<\/script>/s.exec(html)![1]!) as { rows: unknown[][]; targets: string[] }

/** `n` failed findings of mixed severities, targets and suppressions, in no particular order. */
function failed(n: number): Finding[] {
  const f = template.findings.find((x) => x.status === 'fail')!
  const sev = ['low', 'critical', 'medium', 'high'] as const
  return Array.from({ length: n }, (_, i) => ({
    ...f,
    severity: sev[i % 4]!,
    target: `host://h${(i * 31) % 97}.example.test`,
    resource: `tcp/${1000 + ((i * 7) % 50)}`,
    ...(i % 10 === 3 ? { suppression: { reason: 'accepted' } } : {}),
  }))
}

describe('HTML: bounded lists, said when cut', () => {
  it('holds the first maxFindings open failed findings in page order, the same open rows an uncut page starts with; says how many more', () => {
    const report = { ...template, findings: failed(300) }
    const whole = dataOf(toHtml(report))
    expect(whole.rows).toHaveLength(300)
    const html = toHtml(report, { maxFindings: 40 })
    const cut = dataOf(html)
    expect(cut.rows).toHaveLength(40)
    // The same first open rows (targets are indexes into the page's own list: compared by name; r[6] is the state, 4 suppressed).
    const named = (d: ReturnType<typeof dataOf>): unknown[][] => d.rows.map((r) => [r[0], d.targets[r[2] as number], ...r.slice(3)])
    expect(named(whole).slice(0, 40).some((r) => r[5] === 4)).toBe(true)
    expect(named(cut)).toEqual(named(whole).filter((r) => r[5] !== 4).slice(0, 40))
    expect(html).toContain('Failed findings (300, 30 suppressed)')
    expect(html).toContain('This page holds the first 40 of 300 failed findings (open before suppressed, highest severity first): 260 more not shown')
    expect(toHtml(report)).not.toContain('more not shown')
  })

  it('a cut page holds open findings before suppressed ones: 50 suppressed criticals do not push an open high off a page of 10', () => {
    const f = template.findings.find((x) => x.status === 'fail')!
    const suppressed = Array.from({ length: 50 }, (_, i): Finding => ({ ...f, severity: 'critical', resource: `tcp/${2000 + i}`, suppression: { reason: 'accepted' } }))
    const open: Finding = { ...f, severity: 'high', resource: 'tcp/9999' }
    for (const findings of [[...suppressed, open], [open, ...suppressed]]) {
      const page = dataOf(toHtml({ ...template, findings }, { maxFindings: 10 }))
      expect(page.rows).toHaveLength(10)
      // Shown in the page's order: the suppressed criticals first, then the open high.
      expect(page.rows.map((r) => [r[3], r[6]])).toEqual([...suppressed.slice(0, 9).map((s) => [s.resource, 4]), ['tcp/9999', 0]])
    }
    // Uncut, the page is in its order as before: every critical, then the high.
    const whole = dataOf(toHtml({ ...template, findings: [open, ...suppressed] }))
    expect(whole.rows.map((r) => r[3])).toEqual([...suppressed.map((s) => s.resource), 'tcp/9999'])
  })

  it('errors and skips tables read a long list only as far as the rows they show', () => {
    let read = 0
    const e: AttemptError = { check: 'open-port-nmap', family: 'open-port', target: 'host://x', reason: 'timeout', message: 'slow' }
    const errors = new FindingView<AttemptError>(
      function* () {
        for (let i = 0; i < 5_000; i++) {
          read++
          yield { ...e, target: `host://h${i}` }
        }
      },
      undefined,
      5_000,
    ) as unknown as readonly AttemptError[]
    const html = toHtml({ ...template, errors }, { tableLimit: 10 })
    expect(html).toContain('Errors: checks that could not complete (5000)')
    expect(html).toContain('… and 4990 more (see the JSON report).')
    expect(read).toBeLessThanOrEqual(11)
  })

  it('counts new findings for the baseline line in the one pass that picks the rows (a lazy view is not read again)', () => {
    const list = failed(300).map((f, i) => (i % 3 === 0 ? { ...f, baselineState: 'new' as const } : f))
    let passes = 0
    const view = (): readonly Finding[] =>
      new FindingView<Finding>(
        function* () {
          passes++
          yield* list
        },
        undefined,
        list.length,
      ) as unknown as readonly Finding[]
    passes = 0
    toHtml({ ...template, findings: view() })
    const without = passes
    passes = 0
    const html = toHtml({ ...template, findings: view(), baseline: { source: 'b.json', absent: [] } }, { maxFindings: 40 })
    expect(html).toContain('Compared with baseline b.json: 100 new.')
    expect(passes).toBe(without)
  })

  it('a count option that is not a finite number is an error naming it (NaN held every finding and showed none)', () => {
    const report = { ...template, findings: failed(30) }
    for (const name of ['maxFindings', 'pageSize', 'tableLimit'] as const) {
      expect(() => toHtml(report, { [name]: Number.NaN })).toThrow(expect.objectContaining({ code: 'ERR_OPTIONS_INVALID', message: `toHtml ${name}: expected a finite number (got NaN)` }))
      expect(() => toHtml(report, { [name]: Infinity })).toThrow(OptionsError)
    }
    expect(dataOf(toHtml(report, { maxFindings: 0.5 })).rows).toHaveLength(1)
  })
})

describe('GitLab DAST: scanned resources bounded, said when cut', () => {
  it(`lists the first open failed findings (${GITLAB_MAX_FINDINGS.toLocaleString('en-US')} by default) as vulnerabilities and Code Quality issues, the same an uncut report starts with; says the rest`, () => {
    const report = { ...template, findings: failed(300).map((f, i) => ({ ...f, fingerprint: `fp${(i * 37) % 300}` })) }
    type Dast = { vulnerabilities: { id: string; severity: string }[]; scan: { messages: { level: string; value: string }[] } }
    const whole = toGitlabDast(report) as Dast
    expect(whole.vulnerabilities).toHaveLength(270)
    const notes: string[] = []
    const cut = toGitlabDast(report, { maxFindings: 40, note: (n) => notes.push(n) }) as Dast
    expect(cut.vulnerabilities).toEqual(whole.vulnerabilities.slice(0, 40))
    expect(cut.vulnerabilities[0]!.severity).toBe('Critical')
    const said = '40 of 270 open failed findings listed as vulnerabilities (highest severity first): 230 more not listed (see the JSON and SARIF reports)'
    expect(cut.scan.messages).toContainEqual({ level: 'warn', value: said })
    expect(cut.scan.messages).toContainEqual({ level: 'info', value: '30 suppressed findings left out' })
    expect(notes).toEqual([said])
    expect(whole.scan.messages.some((m) => m.value.includes('more not listed'))).toBe(false)
    const cq = toCodeQuality(report, { maxFindings: 40, note: (n) => notes.push(n) })
    expect(cq).toEqual(toCodeQuality(report).slice(0, 40))
    expect(notes[1]).toBe('40 of 270 open failed findings listed as issues (highest severity first): 230 more not listed (see the JSON and SARIF reports)')
    expect(() => toGitlabDast(report, { maxFindings: Number.NaN })).toThrow('toGitlabDast maxFindings: expected a finite number (got NaN)')
    expect(() => toCodeQuality(report, { maxFindings: Number.NaN })).toThrow('toCodeQuality maxFindings: expected a finite number (got NaN)')
  })


  it(`lists the first ${GITLAB_MAX_SCANNED.toLocaleString('en-US')} targets and a message for the rest`, () => {
    const targets = Array.from({ length: GITLAB_MAX_SCANNED + 25 }, (_, i) => ({ id: `host://h${i}.example.test`, kind: 'host' }))
    const dast = toGitlabDast({ ...template, targets }) as { scan: { scanned_resources: { url: string }[]; messages: { value: string }[] } }
    expect(dast.scan.scanned_resources).toHaveLength(GITLAB_MAX_SCANNED)
    expect(dast.scan.scanned_resources[0]!.url).toBe('host://h0.example.test')
    expect(dast.scan.messages.map((m) => m.value)).toContain(`${GITLAB_MAX_SCANNED} of ${GITLAB_MAX_SCANNED + 25} scanned resources listed: 25 more not listed (see the JSON report)`)
    const small = toGitlabDast(template) as { scan: { scanned_resources: unknown[]; messages: { value: string }[] } }
    expect(small.scan.scanned_resources).toHaveLength(template.targets.length)
    expect(small.scan.messages.some((m) => m.value.includes('not listed'))).toBe(false)
  })
})
