/**
 * @fileoverview Real Chromium for the HTML report tests: Debian's `chromium` (CI installs it with apt) driven by
 * playwright-core through its executable path — no browser download. A fresh profile per launch, no background
 * networking; every request the page makes is recorded so tests can assert that none leaves the file.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext, type Page } from 'playwright-core'

export const CHROMIUM = process.env.ZTSCAN_CHROMIUM ?? '/usr/bin/chromium'
export const hasChromium = existsSync(CHROMIUM)
export const noChromiumWhy = hasChromium ? '' : ` (skipped: ${CHROMIUM} missing; CI installs Debian's chromium, or set ZTSCAN_CHROMIUM)`

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
]

export interface Browser {
  readonly context: BrowserContext
  close(): Promise<void>
}

/** Launches Chromium with a fresh profile; `javaScriptEnabled: false` shows the page as a reader without JS sees it. */
export async function launch(options: { javaScriptEnabled?: boolean } = {}): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'ztscan-chromium-'))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    javaScriptEnabled: options.javaScriptEnabled ?? true,
    viewport: { width: 1280, height: 900 },
    offline: true,
  })
  return {
    context,
    async close() {
      await context.close().catch(() => undefined)
      rmSync(profile, { recursive: true, force: true })
    },
  }
}

/** What a page did while it loaded: console errors, page errors, every request URL. */
export interface PageLog {
  readonly errors: string[]
  readonly requests: string[]
}

/** Opens a URL in a new page and records its console errors and requests (requests other than file:// are aborted). */
export async function openPage(browser: Browser, url: string): Promise<{ page: Page; log: PageLog }> {
  const page = await browser.context.newPage()
  page.setDefaultTimeout(15_000)
  const log: PageLog = { errors: [], requests: [] }
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') log.errors.push(`${m.type()}: ${m.text()}`)
  })
  page.on('pageerror', (e) => log.errors.push(`pageerror: ${e.message}`))
  page.on('request', (r) => log.requests.push(r.url()))
  await page.route(/^(?!file:)/, (route) => route.abort())
  await page.goto(url, { waitUntil: 'load' })
  return { page, log }
}
