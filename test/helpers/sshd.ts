/**
 * @fileoverview Test helper: a real OpenSSH `sshd` on a free high port of 127.0.0.1, with a fresh host key, a fresh client
 * key and an AuthorizedKeysFile in a temp dir. The login user is the current user (root in CI).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile, chmod } from 'node:fs/promises'
import { createConnection, createServer } from 'node:net'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { fingerprintOf } from '../../src/net/ssh.ts'

const run = promisify(execFile)
const SSHD = '/usr/sbin/sshd'

/** True when `/usr/sbin/sshd` and `ssh-keygen` exist (CI installs openssh-server). */
export function hasSshd(): boolean {
  return existsSync(SSHD) && ['/usr/bin/ssh-keygen', '/bin/ssh-keygen', '/usr/local/bin/ssh-keygen'].some((p) => existsSync(p))
}

/** A running sshd. */
export interface Sshd {
  readonly host: '127.0.0.1'
  readonly port: number
  /** `SHA256:…` of the server's ed25519 host key. */
  readonly hostKeyFingerprint: string
  /** A known_hosts file holding `[127.0.0.1]:PORT ssh-ed25519 …`. */
  readonly knownHostsPath: string
  /** Unencrypted ed25519 private key authorised for `user`. */
  readonly clientKeyPath: string
  readonly user: string
  readonly dir: string
  /** sshd's log so far (stderr; add `LogLevel VERBOSE` in `config` to see authentication events). */
  logs(): string
  stop(): Promise<void>
}

async function freePort(): Promise<number> {
  const srv = createServer()
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  const port = (srv.address() as { port: number }).port
  await new Promise<void>((r) => srv.close(() => r()))
  return port
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port })
    s.once('connect', () => (s.destroy(), resolve(true)))
    s.once('error', () => resolve(false))
  })
}

async function keygen(path: string, comment: string): Promise<string> {
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path])
  return (await readFile(`${path}.pub`, 'utf8')).trim()
}

/**
 * Starts sshd. `config` lines are placed before the defaults (sshd keeps the FIRST value of a keyword, so they override),
 * except a trailing `Match` block, which goes last.
 * @example
 * const sshd = await startSshd({ config: 'PasswordAuthentication no' }); onTestFinished(() => sshd.stop())
 */
export async function startSshd(o: { config?: string; authorizedKeys?: string } = {}): Promise<Sshd> {
  const dir = await mkdtemp(join(tmpdir(), 'ztscan-sshd-'))
  await chmod(dir, 0o755)
  try {
    if (process.getuid?.() === 0) await mkdir('/run/sshd', { recursive: true, mode: 0o755 })
    const hostKey = join(dir, 'ssh_host_ed25519_key')
    const clientKey = join(dir, 'client_ed25519')
    const hostPub = await keygen(hostKey, 'ztscan-test-host')
    const clientPub = await keygen(clientKey, 'ztscan-test-client')
    const authorized = join(dir, 'authorized_keys')
    await writeFile(authorized, `${clientPub}\n${o.authorizedKeys ?? ''}`, { mode: 0o600 })
    const blob = Buffer.from(hostPub.split(/\s+/)[1]!, 'base64')
    const extra = o.config ?? ''
    const m = /^\s*Match\s/im.exec(extra)
    const head = m ? extra.slice(0, m.index) : extra
    const tail = m ? extra.slice(m.index) : ''
    const user = userInfo().username

    for (let attempt = 0; ; attempt++) {
      const port = await freePort()
      const cfg = join(dir, 'sshd_config')
      await writeFile(
        cfg,
        [
          head,
          `Port ${port}`,
          'ListenAddress 127.0.0.1',
          `HostKey ${hostKey}`,
          `PidFile ${join(dir, 'sshd.pid')}`,
          `AuthorizedKeysFile ${authorized}`,
          'StrictModes no',
          'UsePAM no',
          'PermitRootLogin prohibit-password',
          'PubkeyAuthentication yes',
          'PasswordAuthentication no',
          'KbdInteractiveAuthentication no',
          'LoginGraceTime 30',
          'MaxStartups 100',
          'MaxSessions 20',
          'LogLevel ERROR',
          // sshd runs every command through the login shell (`bash -c`), and bash built for Debian sources ~/.bashrc when
          // run by sshd as a top-level shell: the runner's own rc file (pyenv init here: ~0.6 s) then ran before every
          // command the tests send. SHLVL=1 makes bash a nested shell, which skips it: the tests time ztscan, not the rc file.
          'SetEnv SHLVL=1',
          tail,
        ].join('\n') + '\n',
      )
      const child: ChildProcess = spawn(SSHD, ['-D', '-e', '-f', cfg], { stdio: ['ignore', 'ignore', 'pipe'], detached: true })
      let stderr = ''
      child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-64_000)))
      let exited = false
      child.once('exit', () => (exited = true))
      const stopChild = async (): Promise<void> => {
        if (!exited) {
          const gone = new Promise<void>((r) => child.once('exit', () => r()))
          try {
            process.kill(-child.pid!, 'SIGTERM')
          } catch {
            child.kill('SIGTERM')
          }
          const t = setTimeout(() => {
            try {
              process.kill(-child.pid!, 'SIGKILL')
            } catch {
              /* already gone */
            }
          }, 2000)
          await gone
          clearTimeout(t)
        }
      }
      let up = false
      for (let i = 0; i < 200 && !exited; i++) {
        if (await canConnect(port)) {
          up = true
          break
        }
        await new Promise((r) => setTimeout(r, 25))
      }
      if (!up) {
        await stopChild()
        if (attempt < 3 && /Address already in use|Bind to port/i.test(stderr)) continue
        throw new Error(`sshd did not start: ${stderr.trim() || 'no output'}`)
      }
      const knownHostsPath = join(dir, 'known_hosts')
      await writeFile(knownHostsPath, `[127.0.0.1]:${port} ${hostPub.split(/\s+/).slice(0, 2).join(' ')}\n`)
      return {
        host: '127.0.0.1',
        port,
        hostKeyFingerprint: fingerprintOf(blob),
        knownHostsPath,
        clientKeyPath: clientKey,
        user,
        dir,
        logs: () => stderr,
        async stop() {
          await stopChild()
          await rm(dir, { recursive: true, force: true })
        },
      }
    }
  } catch (err) {
    await rm(dir, { recursive: true, force: true })
    throw err
  }
}
