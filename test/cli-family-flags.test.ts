/**
 * A family's flags reach its settings through every configuration layer (built CLI, real sshd): the mfa family's
 * --known-hosts / --ssh-key / --ssh-user / --host-key set in a config file (paths relative to it) or as ZTSCAN_*
 * variables end up in settings.ssh, where the mfa-ssh probe reads them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tmpdir } from 'node:os'
import { ensureBuilt, runCli } from './helpers/cli.ts'
import { hasSshd, startSshd, type Sshd } from './helpers/sshd.ts'
import type { ScanReport } from '../src/types.ts'

const noSshd = !hasSshd()
const why = noSshd ? ' (skipped: /usr/sbin/sshd or ssh-keygen missing; CI installs openssh-server)' : ''
const base = mkdtempSync(join(tmpdir(), 'ztscan-famflags-'))
let sshd: Sshd

beforeAll(async () => {
  ensureBuilt()
  if (!noSshd) sshd = await startSshd({ config: 'PasswordAuthentication yes\nAuthenticationMethods publickey,password' })
}, 120_000)
afterAll(async () => {
  await sshd?.stop()
  rmSync(base, { recursive: true, force: true })
})

let n = 0
/** A repository folder with a config file in `ci/`, the known_hosts and key beside it. */
function repo(config: string): string {
  const d = join(base, `r${n++}`)
  mkdirSync(join(d, '.git'), { recursive: true })
  mkdirSync(join(d, 'ci'))
  copyFileSync(sshd.knownHostsPath, join(d, 'ci', 'known_hosts'))
  copyFileSync(sshd.clientKeyPath, join(d, 'ci', 'id_key'))
  writeFileSync(join(d, 'ci', 'zt.yaml'), config)
  return d
}

function evidenceOf(stdout: string): Record<string, unknown> {
  const report = JSON.parse(stdout) as ScanReport
  expect(report.errors).toEqual([])
  return report.findings.find((f) => f.ruleId === 'mfa-ssh-single-factor')!.evidence
}

describe('family flags through the configuration layers' + why, () => {
  const scan = (cwd: string, args: string[], env: Record<string, string> = {}) =>
    runCli(['scan', '-q', `ssh://127.0.0.1:${sshd.port}`, '--only', 'mfa-ssh-single-factor', '-f', 'json', '--include-passed', '--fail-on', 'none', ...args], { cwd, env })

  it.skipIf(noSshd)('config file: known-hosts and ssh-key (relative to the file) and ssh-user reach settings.ssh', () => {
    const d = repo(`known-hosts: known_hosts\nssh-key: id_key\nssh-user: ${sshd.user}\n`)
    const r = scan(d, ['--config', 'ci/zt.yaml'])
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(evidenceOf(r.stdout)).toMatchObject({ hostKeyVerified: 'known_hosts', user: sshd.user, secondFactor: 'required after the key: password' })
  })

  it.skipIf(noSshd)('ZTSCAN_* variables: the host key pin, the key and the user; a flag beats its variable', () => {
    const d = repo('{}\n')
    const env = { ZTSCAN_HOST_KEY: `127.0.0.1:${sshd.port}=${sshd.hostKeyFingerprint}`, ZTSCAN_SSH_KEY: join(d, 'ci', 'id_key'), ZTSCAN_SSH_USER: 'nobody-such' }
    const r = scan(d, ['--ssh-user', sshd.user], env)
    expect(r.code).toBe(0)
    expect(evidenceOf(r.stdout)).toMatchObject({ hostKeyVerified: 'pinned', user: sshd.user, secondFactor: 'required after the key: password' })
    // Without the flag the variable's user is used: the key is refused for it, an input error (exit 4), not a pass.
    const wrongUser = scan(d, [], env)
    expect(wrongUser.code).toBe(4)
    expect((JSON.parse(wrongUser.stdout) as ScanReport).errors).toEqual([expect.objectContaining({ reason: 'input', message: expect.stringContaining('was refused for nobody-such') })])
  })

  it.skipIf(noSshd)('a bad value in a variable is exit 2 naming the variable, before any probe; in a config file, naming the file', () => {
    const r = scan(repo('{}\n'), [], { ZTSCAN_HOST_KEY: 'MD5:nonsense' })
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('ZTSCAN_HOST_KEY: expected "SHA256:<base64>" or "HOST:PORT=SHA256:<base64>" (got "MD5:nonsense")')
    expect(r.stderr).not.toMatch(/\n\s+at /)
    const f = scan(repo('host-key: MD5:nonsense\n'), ['--config', 'ci/zt.yaml'])
    expect(f.code).toBe(2)
    expect(f.stderr).toContain(`${join('ci', 'zt.yaml')}: /host-key: expected "SHA256:<base64>"`)
    expect(f.stderr).not.toMatch(/\n\s+at /)
  })
})
