/**
 * @fileoverview Test helper: runs the built CLI as a child process and measures it: wall time, exit code, output, and the
 * peak RSS of the child itself (a preloaded module writes `process.resourceUsage().maxRSS` when it exits).
 */
import { execFileSync, spawn } from 'node:child_process'
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const root = fileURLToPath(new URL('../..', import.meta.url))
export const bin = join(root, 'dist/src/cli/main.js')

/** Builds dist/ when missing (`npm test` builds first; a bare `vitest run` may not have). */
export function ensureBuilt(): void {
  if (!existsSync(bin)) execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' })
}

/** What one CLI run did. */
export interface CliRun {
  /** Exit code; null when it had to be killed after `killAfterMs`. */
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
  readonly ms: number
  /** Peak resident set size of the CLI process, in MB (NaN if it was killed). */
  readonly rssMb: number
}

/** Runs `ztscan ARGS…` (the built CLI) in `cwd`; kills it with SIGKILL after `killAfterMs`. */
export function runCli(args: readonly string[], o: { cwd?: string; killAfterMs?: number } = {}): Promise<CliRun> {
  const tmp = mkdtempSync(join(tmpdir(), 'ztscan-cli-rss-'))
  const rssFile = join(tmp, 'rss')
  const hook = `data:text/javascript,${encodeURIComponent(`import { writeFileSync } from 'node:fs'; process.on('exit', () => writeFileSync(${JSON.stringify(rssFile)}, String(process.resourceUsage().maxRSS)))`)}`
  const t0 = performance.now()
  return new Promise<CliRun>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', hook, bin, ...args], { cwd: o.cwd ?? tmp, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const killer = setTimeout(() => child.kill('SIGKILL'), o.killAfterMs ?? 60_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(killer)
      const rssMb = existsSync(rssFile) ? Number(readFileSync(rssFile, 'utf8')) / 1024 : NaN
      rmSync(tmp, { recursive: true, force: true })
      resolve({ code, stdout, stderr, ms: performance.now() - t0, rssMb })
    })
  })
}

/** Writes `{"resources":[…]}` of about `mb` MB whose every entry has seven fields of the wrong type. */
export function writeBadCrowdStrike(file: string, mb: number): void {
  const entry = (i: number): string => `{"device_id":${i},"hostname":${i},"agent_version":7,"last_seen":false,"platform_name":[],"reduced_functionality_mode":{},"status":1}`
  const chunk = Array.from({ length: 1000 }, (_, i) => entry(i)).join(',')
  const fd = openSync(file, 'w')
  try {
    writeSync(fd, '{"resources":[')
    for (let n = 0; n < mb * 1024 * 1024; n += chunk.length + 1) writeSync(fd, n ? `,${chunk}` : chunk)
    writeSync(fd, ']}')
  } finally {
    closeSync(fd)
  }
}
