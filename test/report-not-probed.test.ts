import { afterAll, describe, expect, it } from 'vitest'
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { scan, toMarkdown, toTable } from '../src/index.ts'
import { root } from './helpers/cli.ts'

/**
 * The human formats say what chaining left unprobed (the JSON's `chaining.withheld`), so a reader of the table or the
 * Markdown summary knows an nmap file's TLS/SSH ports were counted, not probed — and how to probe them.
 */
describe('table and Markdown: TLS/SSH targets not probed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ztscan-not-probed-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  // A file name holding an ANSI escape and a bidi override: shown escaped, never obeyed.
  const file = join(dir, 'scan\u001b[31m\u202e.xml')
  copyFileSync(join(root, 'fixtures/nmap/sV-scripts-loopback.xml'), file)

  it('an offline file: the count, the source and --chain', async () => {
    const report = await scan({ targets: [`nmap:${file}`] })
    expect(report.chaining?.withheld).toEqual([{ from: `nmap:${file}`, targets: 2 }])
    const shown = `nmap:${join(dir, 'scan')}\\x1b[31m\\u202e.xml`
    const table = toTable(report)
    expect(table).toContain(`Not probed: 2 TLS/SSH targets found in ${shown} (offline input; --chain probes them)`)
    expect(table).not.toContain('\u001b[31m')
    expect(table).not.toContain('\u202e')
    const md = toMarkdown(report)
    expect(md).toContain('Not probed: 2 TLS/SSH targets found in ')
    expect(md).toContain('(offline input; --chain probes them)')
    expect(md).not.toContain('\u001b')
  })

  it('--no-chain says so; nothing withheld, no line', async () => {
    const off = await scan({ targets: [`nmap:${file}`], chain: false })
    expect(toTable(off)).toContain('TLS/SSH targets found in')
    expect(toTable(off)).toContain('(--no-chain)')
    const none = await scan({ targets: [`nmap:${join(root, 'fixtures/nmap/hosts-down.xml')}`] })
    expect(none.chaining?.withheld).toEqual([])
    expect(toTable(none)).not.toContain('Not probed')
    expect(toMarkdown(none)).not.toContain('Not probed')
  })
})
