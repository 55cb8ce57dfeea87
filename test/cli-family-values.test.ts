import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ensureBuilt, runCli } from './helpers/cli.ts'

/**
 * A wrong value of a family's flag (`--port-scanner`, `--revocation`, `--aia`) reads like one of scan's own: one line naming
 * the flag, the allowed values and the nearest one — not one line per schema branch, and no "scanning this machine"
 * notice before an exit 2 that scans nothing.
 */
const dir = mkdtempSync(join(tmpdir(), 'ztscan-family-values-'))
beforeAll(ensureBuilt, 120_000)
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('family flag values: exit 2 in one line with a suggestion', () => {
  it.each([
    [['--port-scanner', 'nmapp'], '--port-scanner: expected one of auto, nmap, builtin (got "nmapp"); did you mean "nmap"?'],
    [['--port-scanner', 'NMAP'], '--port-scanner: expected one of auto, nmap, builtin (got "NMAP"); did you mean "nmap"?'],
    [['--revocation', 'sof-fail'], '--revocation: expected one of fail-closed, soft-fail, off (got "sof-fail"); did you mean "soft-fail"?'],
    [['--aia', 'onn'], '--aia: expected one of on, off (got "onn"); did you mean "on"?'],
  ])('scan %j (the default targets)', (args, line) => {
    const r = runCli(['scan', ...args], { cwd: dir })
    expect(r.code).toBe(2)
    expect(r.stderr).toBe(`ztscan: ${line}\n`)
  })
  it('the same from a targets file names the file and pointer', () => {
    writeFileSync(join(dir, 'targets.yaml'), 'targets: ["host://127.0.0.1?ports=1"]\nsettings:\n  portScan: { scanner: biultin }\n')
    const r = runCli(['scan', '-t', 'targets.yaml'], { cwd: dir })
    expect(r.code).toBe(2)
    expect(r.stderr).toBe('ztscan: targets.yaml: /settings/portScan/scanner: expected one of auto, nmap, builtin (got "biultin"); did you mean "builtin"?\n')
  })
})
