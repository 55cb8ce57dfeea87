/**
 * Trend across runs: the model (runs in time order, per-pillar scores, fixed/new/still open between the last two), the
 * `ztscan trend` command (Markdown table, HTML chart, JSON), `scan --history DIR` run twice, and the HTML chart in
 * real Chromium.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { buildReport, fingerprintOf, InputError, readReport, toHtml, trendMarkdown, trendOf, type EffectiveRule, type Finding } from '../src/index.ts'
import { main } from '../src/cli/main.ts'
import { hasChromium, launch, noChromiumWhy, openPage } from './helpers/browser.ts'

const dir = mkdtempSync(join(tmpdir(), 'ztscan-trend-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const rule = (id: string, pillar: EffectiveRule['pillar']): EffectiveRule => ({
  id, family: 'x', title: id, pillar, severity: 'high', message: id, description: id, remediation: 'fix', helpUri: 'https://example.invalid/', enabled: true, values: {},
})
const rules = [rule('r-id', 'identity'), rule('r-net', 'networks')]
const f = (ruleId: string, target: string, status: Finding['status']): Finding => ({
  ruleId, status, severity: 'high', pillar: ruleId === 'r-id' ? 'identity' : 'networks', family: 'x', target, resource: 'res', message: `${ruleId} on ${target}`,
  evidence: { banner: '<script>x</script>' }, fingerprint: fingerprintOf(ruleId, target, 'res'),
})
const run = (day: number, findings: Finding[]) =>
  buildReport({ startedAt: new Date(Date.UTC(2026, 0, day)), finishedAt: new Date(Date.UTC(2026, 0, day, 0, 1)), targets: [], rules, findings, errors: [], skipped: [], attempts: findings.length })

// Day 1: a and b fail. Day 2: a fixed, b still open, c new. Day 3 (given first): identity evaluated again.
const r1 = run(1, [f('r-net', 'a', 'fail'), f('r-net', 'b', 'fail'), f('r-id', 'u', 'pass')])
const r2 = run(2, [f('r-net', 'a', 'pass'), f('r-net', 'b', 'fail'), f('r-net', 'c', 'fail')])
const r3 = run(3, [f('r-net', 'a', 'pass'), f('r-net', 'b', 'pass'), f('r-net', 'c', 'fail'), f('r-id', 'u', 'fail')])

describe('trend model', () => {
  it('orders runs by start time and keeps each pillar score (null when not evaluated)', () => {
    const t = trendOf([r3, r1, r2])
    expect(t.runs.map((r) => r.startedAt)).toEqual([r1.startedAt, r2.startedAt, r3.startedAt])
    // Day 3: 2 of 3 assets pass (mean 66.7), but a pillar reaches a stage only when 90 % of its assets do (score 2.0): 39.9.
    expect(t.runs.map((r) => r.pillars.networks)).toEqual([0, 33.3, 39.9])
    expect(t.runs.map((r) => r.pillars.identity)).toEqual([100, null, 0])
    expect(t.runs.map((r) => r.overall)).toEqual([r1.score.overall, r2.score.overall, r3.score.overall])
    expect(t.runs.map((r) => r.open)).toEqual([2, 2, 2])
  })
  it('fixed, new and still open between the last two runs, by fingerprint', () => {
    const t = trendOf([r1, r2])
    expect(t.fixed.map((x) => x.target)).toEqual(['a'])
    expect(t.new.map((x) => x.target)).toEqual(['c'])
    expect(t.stillOpen.map((x) => x.target)).toEqual(['b'])
    const t3 = trendOf([r1, r2, r3])
    expect(t3.fixed.map((x) => x.target)).toEqual(['b'])
    expect(t3.new.map((x) => `${x.ruleId}/${x.target}`)).toEqual(['r-id/u'])
    expect(t3.stillOpen.map((x) => x.target)).toEqual(['c'])
    expect(trendOf([r1]).fixed).toEqual([])
  })
  it('Markdown: a row per run and the difference, values escaped', () => {
    const md = trendMarkdown(trendOf([r1, { ...r2, startedAt: '2026-01-02T00:00:00.000Z' }]))
    expect(md).toContain('| Run | Overall | Stage | identity | devices | networks | applications | data | Open |')
    expect(md).toContain('| 1: 2026-01-01T00:00:00.000Z | 50.0 | initial | 100.0 | n/a | 0.0 | n/a | n/a | 2 |')
    expect(md).toContain('| 2: 2026-01-02T00:00:00.000Z | 33.3 | traditional | n/a | n/a | 33.3 | n/a | n/a | 2 |')
    expect(md).toContain('**1 fixed**, **1 new**, 1 still open')
    expect(md).toContain('| high | r-net | c | r-net on c |')
    const hostile = trendMarkdown(trendOf([r1, run(5, [f('r-net', '=x|<b>', 'fail')])]))
    expect(hostile).toContain("| high | r-net | '=x\\|\\<b\\> | r-net on =x\\|\\<b\\> |")
  })
  it('reading: a file that is not a ztscan report is an input error naming it', async () => {
    const p = join(dir, 'not-a-report.json')
    writeFileSync(p, '{"version":"2.1.0","runs":[]}')
    await expect(readReport(p)).rejects.toThrow(InputError)
    await expect(readReport(p)).rejects.toThrow('not-a-report.json')
    await expect(readReport(dir)).rejects.toThrow('not a regular file')
  })
})

describe('CLI: ztscan trend and scan --history', () => {
  const files = [r1, r2, r3].map((r, i) => {
    const p = join(dir, `run-${i + 1}.json`)
    writeFileSync(p, JSON.stringify(r))
    return p
  })
  it('ztscan trend writes Markdown, HTML with the chart, or JSON', async () => {
    expect(await main(['trend', files[2]!, files[0]!, files[1]!, '-o', join(dir, 't.md')])).toBe(0)
    const md = readFileSync(join(dir, 't.md'), 'utf8')
    expect(md.match(/^\| \d: /gm)).toHaveLength(3)
    expect(await main(['trend', ...files, '-o', join(dir, 't.html')])).toBe(0)
    const html = readFileSync(join(dir, 't.html'), 'utf8')
    expect(html).toContain('<h2 id="h-trend">Trend (3 runs)</h2>')
    expect(html.match(/<polyline class="line l/g)!.length).toBeGreaterThanOrEqual(3)
    expect(await main(['trend', ...files, '-o', join(dir, 't.json')])).toBe(0)
    expect(JSON.parse(readFileSync(join(dir, 't.json'), 'utf8')).runs).toHaveLength(3)
    expect(await main(['trend'])).toBe(2)
    expect(await main(['trend', join(dir, 'missing.json')])).toBe(2)
  })
  it('scan --history DIR stores each run and shows the trend in HTML, Markdown and the step summary', async () => {
    const plugin = new URL('../fixtures/plugin/example-plugin.mjs', import.meta.url).pathname
    const hist = join(dir, 'history')
    const summary = join(dir, 'summary.md')
    writeFileSync(summary, '')
    const targets = (a: string, b: string): string => {
      const p = join(dir, `t-${a}-${b}.yaml`)
      writeFileSync(p, `targets:\n  - { kind: example, id: "example://a", state: ${a} }\n  - { kind: example, id: "example://b", state: ${b} }\n`)
      return p
    }
    const scanOnce = (a: string, b: string, out: string) => main(['scan', '-q', '-t', targets(a, b), '--plugin', plugin, '--fail-on', 'none', '--history', hist, '-o', join(dir, `${out}.html`), '-o', join(dir, `${out}.md`)])
    expect(await scanOnce('fail', 'pass', 'one')).toBe(0)
    await new Promise((r) => setTimeout(r, 5))
    process.env.GITHUB_STEP_SUMMARY = summary
    try {
      expect(await scanOnce('pass', 'fail', 'two')).toBe(0)
    } finally {
      delete process.env.GITHUB_STEP_SUMMARY
    }
    expect(readdirSync(hist).filter((n) => /^ztscan-.*\.json$/.test(n))).toHaveLength(2)
    const md = readFileSync(join(dir, 'two.md'), 'utf8')
    expect(md).toContain('## ztscan trend')
    expect(md).toContain('**1 fixed**, **1 new**, 0 still open')
    expect(readFileSync(summary, 'utf8')).toContain('**1 fixed**, **1 new**, 0 still open')
    expect(readFileSync(join(dir, 'two.html'), 'utf8')).toContain('Trend (2 runs)')
    // A folder holding something that is not a report: exit 2 before any probe.
    mkdirSync(join(dir, 'bad-history'))
    writeFileSync(join(dir, 'bad-history', 'ztscan-0.json'), '[]')
    expect(await main(['scan', '-q', '-t', targets('pass', 'pass'), '--plugin', plugin, '--history', join(dir, 'bad-history')])).toBe(2)
  })
})

describe.skipIf(!hasChromium)(`trend chart in Chromium${noChromiumWhy}`, () => {
  it('renders the chart and the table with no console error and no request', async () => {
    const file = join(dir, 'chart.html')
    writeFileSync(file, toHtml(r3, { trend: trendOf([r1, r2, r3]) }))
    const browser = await launch()
    try {
      const { page, log } = await openPage(browser, pathToFileURL(file).href)
      await page.waitForSelector('html[data-ready="1"]')
      const box = await page.locator('svg.chart').boundingBox()
      expect(box!.width).toBeGreaterThan(300)
      expect(await page.locator('svg.chart polyline').count()).toBeGreaterThanOrEqual(3)
      expect(await page.locator('table.trend-runs tbody tr').count()).toBe(3)
      expect(log.errors).toEqual([])
      expect(log.requests).toHaveLength(1)
      await page.locator('#h-trend').scrollIntoViewIfNeeded()
      await page.screenshot({ path: join(tmpdir(), 'ztscan-report-screenshots', 'trend.png') })
    } finally {
      await browser.close()
    }
  })
})
