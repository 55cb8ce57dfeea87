/**
 * The HTML report of the demo lab (plus a TLS server whose certificate CN is a <script>), opened from file:// in real
 * Chromium with the network blocked: no console error, no request, the score equal to the JSON's, filters and paging
 * that change the visible rows, an injected script that never runs, and a page readable without JavaScript.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { scan, startDemoLab, toHtml, type Finding, type ScanReport } from '../src/index.ts'
import { HTML_CSP, escHtml, jsonForScript, visible } from '../src/report/html.ts'
import { PILLARS } from '../src/types.ts'
import { labLeaf, startTlsServer, type LabServer } from './helpers/tls.ts'
import { hasChromium, launch, noChromiumWhy, openPage, type Browser } from './helpers/browser.ts'

const XSS_CN = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'
const XSS_BANNER = 'SSH-2.0-</td><script>window.__pwned=3</script>\u001b[31m\u2028'

const dir = mkdtempSync(join(tmpdir(), 'ztscan-html-'))
/** Screenshots stay after the run, for people to look at. */
const shots = join(tmpdir(), 'ztscan-report-screenshots')
mkdirSync(shots, { recursive: true })
let report: ScanReport
let hostile: LabServer

beforeAll(async () => {
  const lab = await startDemoLab()
  const DAY = 86_400_000
  hostile = await startTlsServer({ chain: [labLeaf({ cn: XSS_CN, notBefore: new Date(Date.now() - 90 * DAY), notAfter: new Date(Date.now() - DAY) })] })
  try {
    report = await scan({ targets: [...lab.targets, hostile.target], settings: lab.settings })
  } finally {
    await lab.stop()
    await hostile.close()
  }
  // A banner cannot reach a finding of the built-in checks as they are; a plugin's finding can carry one: add it as such.
  const banner: Finding = {
    ruleId: 'acme-banner', status: 'fail', severity: 'low', pillar: 'networks', family: 'acme', target: 'ssh://127.0.0.1:2222',
    resource: 'banner', message: `Banner ${XSS_BANNER}`, evidence: { banner: XSS_BANNER }, fingerprint: 'f'.repeat(32),
    suppression: { reason: 'lab <b>box</b>', expires: '2099-01-01' },
  }
  report = { ...report, findings: [...report.findings, banner] }
}, 120_000)
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('HTML report: escaping (no browser needed)', () => {
  it('escapes markup, makes control characters visible and keeps JSON data inert', () => {
    expect(escHtml(`<a href="x" onclick='y'>&`)).toBe('&#60;a href=&#34;x&#34; onclick=&#39;y&#39;&#62;&#38;')
    expect(visible('a\u001b[31mb\u2028c\td\ne\u0000\u202e')).toBe('a\\x1b[31mb\\u2028c\td\ne\\x00\\u202e')
    expect(jsonForScript({ s: '</script><!--' })).toBe('{"s":"\\u003c/script\\u003e\\u003c!--"}')
    const html = toHtml(report)
    expect(html).not.toContain('<script>window.__pwned')
    expect(html).not.toContain('<img src=x')
    expect(html).toMatch(/&#60;script\\?&#62;window\.__pwned=1/)
    expect(html).not.toContain('\u001b')
    // Exactly two script elements: the inert JSON data block and the report's own script, allowed by hash.
    expect(html.match(/<script/g)).toHaveLength(2)
    expect(html).toContain(`content="${HTML_CSP}"`)
    expect(HTML_CSP).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'; script-src 'sha256-[A-Za-z0-9+/=]+';/)
  })
})

describe('HTML report: score models with caps and coverage (read defensively)', () => {
  it('shows caps, coverage, targets and deltas when the score carries them, and summarises unknown fields', () => {
    const pillars = { ...report.score.pillars } as Record<string, unknown>
    pillars.identity = {
      ...report.score.pillars.identity, score: 39.9, uncapped: 61.2, caps: [{ stage: 'initial', kind: 'critical-failed', text: 'mfa-admin-without-mfa failed on <b>idp</b>', count: 3 }],
      coverage: { share: 0.5, functions: [{ id: 'a', status: 'judged' }, { id: 'b', status: 'not-judged' }], rulesInForce: ['x', 'y', 'z'], rulesJudged: ['x'], assetsScored: 4, assetsUnjudged: 1, errors: 0 },
      target: { stage: 'advanced', met: false, points: 30.1 }, futureField: ['a', 'b'],
    }
    const score = { ...report.score, pillars, uncapped: 70, caps: [{ stage: 'advanced', text: 'weakest pillar' }], assets: Array.from({ length: 50_000 }, () => ({})), delta: { source: 'base.json', overall: -2.5 } }
    const html = toHtml({ ...report, score } as unknown as ScanReport)
    expect(html).toContain('<summary>1 cap, the lowest at <strong>initial</strong></summary><ul><li>mfa-admin-without-mfa failed on &#60;b&#62;idp&#60;/b&#62; (3×)</li></ul>')
    expect(html).toContain('50 % of ZTMM functions judged (1 of 2); 1 of 3 rules judged; 4 assets scored, 1 not judged')
    expect(html).toContain('uncapped 61.2')
    expect(html).toContain('target advanced: not met (30.1 points short)')
    expect(html).toContain('futureField: 2 entries')
    expect(html).toContain('<summary>1 cap, the lowest at <strong>advanced</strong></summary><ul><li>weakest pillar</li></ul>')
    expect(html).toContain('change since base.json: -2.5')
    expect(html.length).toBeLessThan(toHtml(report).length + 5000)
  })
})

describe.skipIf(!hasChromium)(`HTML report in Chromium from file://${noChromiumWhy}`, () => {
  let browser: Browser
  let file: string
  beforeAll(async () => {
    file = join(dir, 'report.html')
    writeFileSync(file, toHtml(report, { pageSize: 25 }))
    browser = await launch()
  }, 60_000)
  afterAll(async () => browser?.close())

  const failed = (): Finding[] => report.findings.filter((f) => f.status === 'fail')

  it('loads with no console error, no request beyond the file, and no injected script run', async () => {
    const { page, log } = await openPage(browser, pathToFileURL(file).href)
    await page.waitForSelector('html[data-ready="1"]', { timeout: 10_000 }).catch(() => undefined)
    expect(log.errors).toEqual([])
    expect(await page.getAttribute('html', 'data-ready')).toBe('1')
    expect(log.requests).toEqual([pathToFileURL(file).href])
    expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined()
    await page.locator('#f-text').fill('__pwned')
    const n = failed().filter((f) => `${f.message}${JSON.stringify(f.evidence)}`.includes('__pwned')).length
    expect(n).toBeGreaterThanOrEqual(2)
    await page.waitForFunction(`document.querySelectorAll('#zt-findings td.msg').length === ${n}`)
    const texts = await page.locator('#zt-findings td.msg').allTextContents()
    expect(texts.some((x) => /<script\\?>window\.__pwned=1/.test(x))).toBe(true)
    expect(texts.some((x) => x.includes('</td><script>window.__pwned=3</script>\\x1b[31m\\u2028'))).toBe(true)
    expect(await page.locator('#zt-findings .note').allTextContents()).toContain('Suppressed: lab <b>box</b> (until 2099-01-01)')
    expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined()
    expect(log.errors).toEqual([])
    await page.locator('#f-text').fill('')
    await page.screenshot({ path: join(shots, 'report.png'), fullPage: true })
    await page.close()
  })

  it('shows the score and every pillar value of the JSON report', async () => {
    const { page } = await openPage(browser, pathToFileURL(file).href)
    expect(await page.locator('.overall .big').textContent()).toBe(report.score.overall!.toFixed(1))
    expect(await page.locator('.overall .stage').textContent()).toBe(report.score.stage)
    for (const p of PILLARS) {
      const row = page.locator('#h-score ~ table tbody tr', { has: page.locator(`th:text-is("${p}")`) })
      const x = report.score.pillars[p]
      expect(await row.locator('td').nth(0).textContent()).toBe(x.score === null ? 'n/a' : x.score.toFixed(1))
      expect(await row.locator('td').nth(2).textContent()).toBe(x.stage ?? 'not evaluated')
      expect(await row.locator('td').nth(4).textContent()).toBe(String(x.passed))
      expect(await row.locator('td').nth(5).textContent()).toBe(String(x.failed))
      expect(await row.locator('svg[role=img]').getAttribute('aria-label')).toContain(x.score === null ? 'not evaluated' : `${x.score.toFixed(1)} of 100`)
    }
    await page.close()
  })

  it('filters by severity, family, pillar, state and text, and pages 25 findings at a time', async () => {
    const { page, log } = await openPage(browser, pathToFileURL(file).href)
    await page.waitForSelector('html[data-ready="1"]')
    const rows = page.locator('#zt-findings td.msg')
    const status = page.locator('#zt-status')
    const all = failed()
    expect(all.length).toBeGreaterThan(25)
    expect(await rows.count()).toBe(25)
    expect(await status.textContent()).toBe(`Showing 1–25 of ${all.length} findings`)
    await page.locator('#zt-next').click()
    expect(await rows.count()).toBe(Math.min(25, all.length - 25))
    expect(await status.textContent()).toContain(`Showing 26–`)

    const expectCount = async (n: number): Promise<void> => {
      await page.waitForFunction(`document.querySelectorAll('#zt-findings td.msg').length === ${Math.min(n, 25)}`)
      expect(await status.textContent()).toContain(n ? `of ${n} findings` : 'No finding matches')
    }
    await page.locator('#f-severity').selectOption('critical')
    await expectCount(all.filter((f) => f.severity === 'critical').length)
    expect(await page.locator('#zt-findings h3').allTextContents()).toEqual(['critical'])
    await page.locator('#f-severity').selectOption('')
    await page.locator('#f-family').selectOption('endpoint-agent')
    await expectCount(all.filter((f) => f.family === 'endpoint-agent').length)
    await page.locator('#f-family').selectOption('')
    await page.locator('#f-pillar').selectOption('identity')
    await expectCount(all.filter((f) => f.pillar === 'identity').length)
    await page.locator('#f-pillar').selectOption('')
    await page.locator('#f-state').selectOption('suppressed')
    await expectCount(1)
    await page.locator('#f-state').selectOption('open')
    await expectCount(all.length - 1)
    await page.locator('#f-state').selectOption('')
    const target = hostile.target.id
    await page.locator('#f-text').fill(target)
    await expectCount(all.filter((f) => f.target.includes(target) || f.message.includes(target)).length)
    await page.locator('#f-text').fill('no such thing anywhere')
    await expectCount(0)
    expect(log.errors).toEqual([])
    await page.close()
  })

  it('on a cut page (maxFindings), the status line says the true total of failed findings', async () => {
    const cutFile = join(dir, 'report-cut.html')
    writeFileSync(cutFile, toHtml(report, { pageSize: 25, maxFindings: 10 }))
    const { page, log } = await openPage(browser, pathToFileURL(cutFile).href)
    await page.waitForSelector('html[data-ready="1"]')
    const n = failed().length
    expect(n).toBeGreaterThan(10)
    const status = page.locator('#zt-status')
    expect(await status.textContent()).toBe(`Showing 1–10 of 10 findings; this page holds the first 10 of ${n} failed findings`)
    await page.locator('#f-text').fill('no such thing anywhere')
    await page.waitForFunction(`document.querySelectorAll('#zt-findings td.msg').length === 0`)
    expect(await status.textContent()).toBe(`No finding matches the filters (the first 10 of ${n} failed findings searched).`)
    expect(log.errors).toEqual([])
    await page.close()
  })

  it('is readable without JavaScript: score, first page of findings, errors and skips; no dead controls', async () => {
    const nojs = await launch({ javaScriptEnabled: false })
    try {
      const { page, log } = await openPage(nojs, pathToFileURL(file).href)
      expect(await page.locator('.overall .big').textContent()).toBe(report.score.overall!.toFixed(1))
      expect(await page.locator('#zt-findings td.msg').count()).toBe(25)
      expect(await page.locator('#zt-filters').isVisible()).toBe(false)
      expect(await page.locator('#zt-more').textContent()).toContain(`first 25 of ${failed().length}`)
      expect(await page.locator('#h-errors').textContent()).toBe(`Errors: checks that could not complete (${report.errors.length})`)
      expect(await page.locator('#h-skipped').isVisible()).toBe(true)
      expect(log.requests).toHaveLength(1)
      await page.screenshot({ path: join(shots, 'report-nojs.png'), fullPage: true })
    } finally {
      await nojs.close()
    }
  })
})
