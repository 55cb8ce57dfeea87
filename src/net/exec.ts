/**
 * @fileoverview Local commands for checks (`ctx.exec`): an argv run with `execFile` — never a shell — with `LC_ALL=C`,
 * output capped in bytes and the process killed (SIGKILL) at its deadline or when the attempt ends.
 */
import { execFile } from 'node:child_process'
import { AttemptFailure } from '../errors.ts'
import type { IoOptions } from './index.ts'
import type { ExecResult } from './ssh.ts'

/** Result of one command (local or over SSH): the same shape as an SSH session's `exec`. */
export type { ExecResult }

/** Options of one command: the attempt's signal and deadline, and the cap on each of stdout and stderr. */
export interface ExecOptions extends IoOptions {
  readonly maxBytes: number
}

/** A program name (`ps`) or an absolute path without `.`/`..` segments; nothing a shell would read. */
const BIN = /^([A-Za-z0-9_][A-Za-z0-9._+-]{0,63}|(\/[A-Za-z0-9_+@][A-Za-z0-9 ._+@-]{0,127})+)$/

/**
 * Checks an argv before it runs: a program name or absolute path first, then plain strings without NUL bytes. The words
 * themselves come from the caller's fixed allowlist (checks build them from templates, never from target data).
 */
export function assertArgv(argv: readonly string[]): void {
  const [bin, ...args] = argv
  if (typeof bin !== 'string' || !BIN.test(bin)) throw new AttemptFailure('input', `refusing to run ${JSON.stringify(bin)?.slice(0, 80)}: not a program name or absolute path`)
  for (const a of args) if (typeof a !== 'string' || a.includes('\0') || a.length > 4096) throw new AttemptFailure('input', `refusing to run ${bin}: an argument is not a plain string`)
}

/**
 * Runs `argv` on this machine without a shell. A missing or non-executable program is exit 127 (as a shell says), output
 * over the cap is `truncated` (the process is killed), the deadline or an abort is an `AttemptFailure`.
 */
export function execLocal(argv: readonly string[], o: ExecOptions): Promise<ExecResult> {
  assertArgv(argv)
  const [bin, ...args] = argv as [string, ...string[]]
  const signal = o.signal ?? new AbortController().signal
  const timeoutMs = o.timeoutMs ?? 10_000
  return new Promise<ExecResult>((resolve, reject) => {
    execFile(
      bin,
      args,
      { signal, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: o.maxBytes, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' }, windowsHide: true },
      (err, stdout, stderr) => {
        if (!err) return resolve({ code: 0, stdout, stderr, truncated: false })
        const e = err as NodeJS.ErrnoException & { code?: string | number; killed?: boolean; signal?: string | null }
        if (signal.aborted) return reject(new AttemptFailure((signal.reason as { name?: string })?.name === 'TimeoutError' ? 'timeout' : 'aborted', `${bin}: aborted`))
        if (e.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') return resolve({ code: null, stdout: String(stdout).slice(0, o.maxBytes), stderr: String(stderr).slice(0, o.maxBytes), truncated: true })
        if (e.code === 'ENOENT' || e.code === 'EACCES') return resolve({ code: 127, stdout: '', stderr: `${bin}: ${e.code}`, truncated: false })
        if (e.killed) return reject(new AttemptFailure('timeout', `${bin}: no result within ${timeoutMs} ms`))
        resolve({ code: typeof e.code === 'number' ? e.code : null, stdout: String(stdout), stderr: String(stderr), truncated: false })
      },
    )
  })
}
