import { beforeAll, describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bin, cleanEnv, ensureBuilt, root, runCli } from './helpers/cli.ts'
import { layoutTable, shortenMiddle, wrap } from '../src/report/layout.ts'
import { humanHours, humanMs, plural } from '../src/lib-units.ts'
import { progressLine } from '../src/cli/progress.ts'

// A file target with failing findings whose messages are long (no network).
const okta = `idp:okta:${join(root, 'fixtures/mfa/okta/users-factors.json')}`
const E = String.fromCharCode(27)
const SGR = new RegExp(`${E}\\[[0-9;]*m`) // a colour code
const ESC = new RegExp(E)

/** `script` (util-linux) gives the command a pseudo-terminal of `cols` columns; returns what the terminal received. */
function onTty(args: string[], cols: number, env: Record<string, string | undefined> = {}, timeout = 60_000): string | undefined {
  const cmd = `stty cols ${cols} rows 50; exec ${[process.execPath, bin, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')}`
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', timeout, env: cleanEnv({ TERM: 'xterm-256color', ...env }) })
  if (r.error) return undefined
  return r.stdout
}
const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0
const visibleLines = (out: string): string[] => out.replace(new RegExp(`${E}\\[[0-9;]*[A-Za-z]`, 'g'), '').split(/\r?\n/).map((l) => l.replace(/^.*\r/, ''))

beforeAll(ensureBuilt, 120_000)

describe('units and layout', () => {
  it('plurals and human durations', () => {
    expect(plural(1, 'day')).toBe('1 day')
    expect(plural(2, 'day')).toBe('2 days')
    expect(humanHours(13151.5)).toBe('547 days')
    expect(humanHours(30)).toBe('30 hours')
    expect(humanHours(1)).toBe('1 hour')
    expect(humanHours(49)).toBe('2 days')
    expect(humanMs(65_000)).toBe('1m 05s')
  })
  it('targets shorten from the middle, findings wrap and are never cut', () => {
    expect(shortenMiddle('tls://very-long-host-name.example.test:8443', 20)).toBe('tls://very…test:8443')
    const msg = 'Key size of leaf certificate "CN=legacy-device.lab" is RSA 1024 bits; minimum 2048'
    expect(wrap(msg, 30).join(' ')).toBe(msg)
    const t = layoutTable([['SEVERITY', 'RULE', 'TARGET', 'FINDING'], ['HIGH', 'certificate-weak-key', 'cert:/a/very/long/path/to/the/legacy-device.pem', msg]], {
      width: 70,
      fits: [{}, {}, { fit: 'middle', min: 12 }, { fit: 'wrap', min: 20 }],
    })
    for (const line of t.split('\n')) expect(line.length).toBeLessThanOrEqual(70)
    expect(t.replace(/\s+/g, ' ')).toContain('minimum 2048')
    expect(t).toContain('certificate-weak-key')
  })
  it('the progress line says checks done of total, errors, elapsed and ETA', () => {
    expect(progressLine({ done: 10, total: 40, errors: 1, targets: 2, elapsedMs: 5000 })).toBe('checks 10/40 done, 2 targets, 1 error, 5s elapsed, ETA 15s')
  })
})

describe.skipIf(!hasScript)('on a terminal (script(1) pseudo-TTY, built CLI)', () => {
  it.each([80, 200])('the table fits %i columns and is coloured', (cols) => {
    const out = onTty(['scan', okta, '--fail-on', 'none', '--progress', 'none'], cols)!
    expect(out).toMatch(SGR)
    const lines = visibleLines(out)
    expect(lines.some((l) => l.startsWith('SEVERITY'))).toBe(true)
    for (const l of lines) expect(l.length, l).toBeLessThanOrEqual(cols)
    // Every failed finding's message shows whole (wrapped, never cut): its last words are on screen.
    expect(lines.join(' ').replace(/\s+/g, ' ')).toContain('without a second factor')
  })
  it('NO_COLOR=1 prints no colour codes; FORCE_COLOR=1 colours a pipe', () => {
    const out = onTty(['scan', okta, '--fail-on', 'none', '--progress', 'none'], 120, { NO_COLOR: '1' })!
    expect(out).not.toMatch(SGR)
    expect(out).toContain('SEVERITY')
    expect(runCli(['scan', okta, '--fail-on', 'none', '-q'], { env: { FORCE_COLOR: '1' } }).stdout).toMatch(SGR)
    expect(runCli(['scan', okta, '--fail-on', 'none', '-q']).stdout).not.toMatch(ESC)
  })
  it('ztscan merge prints the table like scan: fitted to 80 and 200 columns, coloured; NO_COLOR=1 none', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ztscan-merge-tty-'))
    try {
      const part = join(dir, 'r.json')
      expect(runCli(['scan', okta, '--fail-on', 'none', '-q', '-o', part]).code).toBe(0)
      for (const cols of [80, 200]) {
        const out = onTty(['merge', part], cols)!
        expect(out).toMatch(SGR)
        const lines = visibleLines(out)
        expect(lines.some((l) => l.startsWith('SEVERITY'))).toBe(true)
        for (const l of lines) expect(l.length, l).toBeLessThanOrEqual(cols)
        expect(lines.join(' ').replace(/\s+/g, ' ')).toContain('without a second factor')
      }
      expect(onTty(['merge', part], 120, { NO_COLOR: '1' })).not.toMatch(SGR)
      expect(runCli(['merge', part]).stdout).not.toMatch(ESC)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
  it.each([80, 200])('progress advances during a full port scan of 127.0.0.1 at %i columns: ports probed of 65,535, one line redrawn within the width', (cols) => {
    const out = onTty(['scan', 'host://127.0.0.1?ports=all', '--port-scanner', 'builtin', '--fail-on', 'none', '-f', 'json', '-o', '/dev/null'], cols, {}, 120_000)!
    const frames = [...out.matchAll(new RegExp(`\r${E}\\[K([^\r\n]*)`, 'g'))].map((m) => m[1]!).filter(Boolean)
    const probed = frames.flatMap((f) => {
      const m = /^([\d,]+)\/65,535 ports probed; checks /.exec(f)
      return m ? [Number(m[1]!.replace(/,/g, ''))] : []
    })
    // The port-scan phase is on screen and moves forward (redrawn at most 10 times a second: never thousands of frames).
    expect(new Set(probed).size, frames.join('\n')).toBeGreaterThanOrEqual(2)
    for (let i = 1; i < probed.length; i++) expect(probed[i]).toBeGreaterThanOrEqual(probed[i - 1]!)
    expect(frames.length).toBeLessThan(1000)
    for (const f of frames) expect(f.length).toBeLessThanOrEqual(cols - 1)
    if (cols === 200) expect(frames.some((f) => /ports probed; checks 0 done, 1 target, 0 errors, .* elapsed, ETA /.test(f))).toBe(true)
  })
})

describe('without a terminal (pipes, built CLI)', () => {
  it('plain progress lines every --progress-interval on stderr, no escape codes, nothing on stdout', () => {
    const r = runCli(['scan', 'host://127.0.0.1?ports=all', '--port-scanner', 'builtin', '--fail-on', 'none', '--progress-interval', '300ms', '-f', 'json', '-o', '/dev/null'], { timeout: 120_000 })
    const lines = r.stderr.split('\n').filter((l) => /^ztscan: ([\d,]+\/65,535 ports probed; )?checks /.test(l))
    expect(lines.length).toBeGreaterThanOrEqual(2)
    // The port-scan phase shows in the plain lines too, moving forward.
    const probed = lines.flatMap((l) => /^ztscan: ([\d,]+)\/65,535 ports probed/.exec(l)?.[1]?.replace(/,/g, '') ?? []).map(Number)
    expect(new Set(probed).size).toBeGreaterThanOrEqual(2)
    expect(r.stderr).not.toMatch(ESC)
    expect(r.stdout).toBe('')
  })
  it('--progress none and -q print no progress; --verbose one verdict line per target', () => {
    expect(runCli(['scan', okta, '--fail-on', 'none', '--progress', 'none', '-f', 'json']).stderr).not.toContain('checks ')
    const v = runCli(['scan', okta, '--fail-on', 'none', '--verbose', '--progress', 'none', '-f', 'json'])
    expect(v.stderr).toMatch(/^ztscan: idp:okta:.*users-factors\.json: FAIL \(7 failed findings, worst critical\); \d+ passed, 0 errors$/m)
    expect(runCli(['scan', okta, '--progress', 'sometimes']).stderr).toContain('--progress: expected one of auto, tty, plain, none (got "sometimes")')
  })
})
