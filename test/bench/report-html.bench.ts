/**
 * @fileoverview HTML report of 100,000 failed findings: render time and file size, then in real Chromium (from file://,
 * network blocked): time to first contentful paint, time until the script has rendered the first page and the filters
 * work, how many finding rows are in the DOM (one page, not 100,000), and how long a severity filter and a text filter take.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tmpdir } from 'node:os'
import { pathToFileURL } from 'node:url'
import { buildReport, toHtml, type EffectiveRule, type Finding } from '../../src/index.ts'
import { fingerprintOf } from '../../src/engine/run.ts'
import { hasChromium, launch, openPage } from '../helpers/browser.ts'

const SEVS = ['critical', 'high', 'medium', 'low'] as const
const FAMS = [['certificate', 'networks'], ['mfa', 'identity'], ['endpoint-agent', 'devices'], ['open-port', 'networks']] as const

function bigReport(n: number) {
  const rules: EffectiveRule[] = []
  for (let r = 0; r < 20; r++) {
    const [family, pillar] = FAMS[r % 4]!
    rules.push({
      id: `${family}-bench-${r}`, family, title: `Bench rule ${r}`, pillar, severity: SEVS[r % 4]!, message: 'm', description: `What bench rule ${r} judges.`,
      remediation: `How to fix bench rule ${r}.`, helpUri: `https://example.invalid/${r}`, enabled: true, values: {},
    })
  }
  const findings: Finding[] = []
  for (let i = 0; i < n; i++) {
    const rule = rules[i % rules.length]!
    const target = `tls://10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:443`
    findings.push({
      ruleId: rule.id, status: 'fail', severity: rule.severity, pillar: rule.pillar, family: rule.family, target, resource: `leaf SHA256:${i.toString(16).padStart(8, '0')}`,
      message: `Certificate "CN=host-${i}.example" on ${target} failed ${rule.id}`,
      evidence: { subject: `CN=host-${i}.example`, issuer: 'CN=Bench CA', notAfter: '2026-01-01T00:00:00.000Z', keyType: 'rsa', keySize: 2048, sans: [`DNS:host-${i}.example`] },
      fingerprint: fingerprintOf(rule.id, target, String(i)),
    })
  }
  return buildReport({ startedAt: new Date(), targets: [], rules, findings, errors: [], skipped: [], attempts: n })
}

export async function run(): Promise<void> {
  const n = 100_000
  const report = bigReport(n)
  const t0 = performance.now()
  const html = toHtml(report)
  const renderMs = performance.now() - t0
  const dir = mkdtempSync(join(tmpdir(), 'ztscan-bench-html-'))
  try {
    const file = join(dir, 'report.html')
    writeFileSync(file, html)
    const mb = statSync(file).size / 1e6
    console.log(`  html: ${n.toLocaleString('en')} failed findings rendered in ${renderMs.toFixed(0)} ms, ${mb.toFixed(1)} MB`)
    if (!hasChromium) {
      console.log('  chromium: skipped (/usr/bin/chromium missing; set ZTSCAN_CHROMIUM)')
      return
    }
    const browser = await launch()
    try {
      const start = Date.now()
      const { page, log } = await openPage(browser, pathToFileURL(file).href)
      await page.waitForSelector('html[data-ready="1"]', { timeout: 120_000 })
      const wall = Date.now() - start
      const m = (await page.evaluate(`(() => {
        const nav = performance.getEntriesByType('navigation')[0]
        const fcp = performance.getEntriesByName('first-contentful-paint')[0]
        return { fcp: fcp ? fcp.startTime : -1, load: nav ? nav.loadEventEnd : -1, rows: document.querySelectorAll('#zt-findings td.msg').length, nodes: document.getElementsByTagName('*').length }
      })()`)) as { fcp: number; load: number; rows: number; nodes: number }
      console.log(`  chromium: first contentful paint ${m.fcp.toFixed(0)} ms, load event ${m.load.toFixed(0)} ms, script ready (filters live) after ${wall} ms wall from navigation`)
      console.log(`  chromium: ${m.rows} finding rows and ${m.nodes.toLocaleString('en')} elements in the DOM (one page of 200), console errors: ${log.errors.length}, requests: ${log.requests.length}`)
      const timeFilter = async (what: string, act: () => Promise<void>): Promise<void> => {
        const before = await page.locator('#zt-status').textContent()
        const t = Date.now()
        await act()
        await page.waitForFunction(`document.getElementById('zt-status').textContent !== ${JSON.stringify(before)}`, undefined, { timeout: 60_000 })
        console.log(`  chromium: ${what} in ${Date.now() - t} ms → ${await page.locator('#zt-status').textContent()}`)
      }
      await timeFilter('severity filter (critical)', async () => void (await page.locator('#f-severity').selectOption('critical')))
      await timeFilter('text filter (first use builds the search index)', () => page.locator('#f-text').fill('host-4240.'))
    } finally {
      await browser.close()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
