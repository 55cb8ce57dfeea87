/**
 * The built CLI as a process (what a CI job runs): `npm test` builds first; a bare `vitest run` builds when dist is missing.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const root = fileURLToPath(new URL('../..', import.meta.url))
export const bin = join(root, 'dist/src/cli/main.js')

/** Builds dist when it is missing (call from beforeAll). */
export function ensureBuilt(): void {
  if (existsSync(bin)) return
  // npm run build: tsc, then the schemas compiled ahead (scripts/gen-validators.mjs).
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' })
  execFileSync(process.execPath, [join(root, 'scripts/gen-validators.mjs')], { stdio: 'inherit' })
}

/** Environment without the ZTSCAN_* variables and colour switches of the outer shell, so tests see only their own. */
export function cleanEnv(env: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) if (!/^(ZTSCAN_|NO_COLOR$|FORCE_COLOR$|GITHUB_STEP_SUMMARY$|CI$)/.test(k)) out[k] = v
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete out[k]
  else out[k] = v
  return out
}

/** Runs `ztscan ARGS` in `cwd`; returns exit code, stdout and stderr. */
export function runCli(args: string[], o: { cwd?: string; env?: Record<string, string | undefined>; timeout?: number } = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: o.cwd ?? root, encoding: 'utf8', timeout: o.timeout ?? 60_000, env: cleanEnv(o.env) })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}
