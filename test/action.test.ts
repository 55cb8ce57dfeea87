/**
 * The GitHub Action (action.yml at the repository root) run as a runner runs a composite action: each `run:` step with
 * `bash --noprofile --norc -eo pipefail`, its `env:` expressions evaluated from the inputs (defaults from action.yml) and
 * earlier steps' outputs, GITHUB_OUTPUT / GITHUB_STEP_SUMMARY / GITHUB_ACTION_PATH pointing at temp files and this
 * checkout. `uses:` steps (setup-node, upload-sarif) cannot run here: their wiring is checked instead. The target is a
 * real TLS server on loopback serving an expired certificate.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'
import { labLeaf, startTlsServer, type LabServer } from './helpers/tls.ts'
import { assertValidSarif } from './helpers/schemas.ts'

const root = fileURLToPath(new URL('..', import.meta.url))
const bin = join(root, 'dist/src/cli/main.js')

interface Step {
  name?: string
  id?: string
  if?: string
  uses?: string
  with?: Record<string, string>
  shell?: string
  env?: Record<string, string>
  run?: string
}
interface Action {
  inputs: Record<string, { default?: string }>
  outputs: Record<string, { value: string }>
  runs: { using: string; steps: Step[] }
}
const action = parse(readFileSync(join(root, 'action.yml'), 'utf8')) as Action

/** Evaluates the `${{ inputs.x }}` and `${{ steps.s.outputs.y }}` expressions a runner would substitute. */
function evaluate(v: string, inputs: Record<string, string>, outputs: Record<string, Record<string, string>>): string {
  return v.replace(/\$\{\{\s*([^}]+?)\s*\}\}/g, (_, expr: string) => {
    let m = /^inputs\.([\w-]+)$/.exec(expr)
    if (m) return inputs[m[1]!] ?? action.inputs[m[1]!]?.default ?? ''
    m = /^steps\.([\w-]+)\.outputs\.([\w-]+)$/.exec(expr)
    if (m) return outputs[m[1]!]?.[m[2]!] ?? ''
    throw new Error(`expression the test runner cannot evaluate: ${expr}`)
  })
}

interface Run {
  outputs: Record<string, string>
  summary: string
  exitCode: number
  stepCodes: Record<string, number>
  workspace: string
}

/** Runs a shell step without blocking this process (the TLS server under test lives in it). */
function bash(script: string, cwd: string, env: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script], { cwd, env, stdio: ['ignore', 'ignore', 'inherit'] })
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve(code ?? -1)
    })
  })
}

/** Runs the action's shell steps in order, as a runner would, until one fails. */
async function runAction(inputs: Record<string, string>): Promise<Run> {
  const workspace = mkdtempSync(join(tmpdir(), 'ztscan-action-'))
  const summary = join(workspace, 'step-summary.md')
  writeFileSync(summary, '')
  const outputs: Record<string, Record<string, string>> = {}
  const stepCodes: Record<string, number> = {}
  let exitCode = 0
  for (const [i, step] of action.runs.steps.entries()) {
    if (!step.run) continue
    const outFile = join(workspace, `output-${i}`)
    writeFileSync(outFile, '')
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? workspace,
      GITHUB_ACTION_PATH: root,
      GITHUB_WORKSPACE: workspace,
      GITHUB_OUTPUT: outFile,
      GITHUB_STEP_SUMMARY: summary,
      RUNNER_TEMP: workspace,
      CI: 'true',
    }
    for (const [k, v] of Object.entries(step.env ?? {})) env[k] = evaluate(String(v), inputs, outputs)
    expect(step.shell).toBe('bash')
    const status = await bash(step.run, workspace, env)
    const out: Record<string, string> = {}
    for (const line of readFileSync(outFile, 'utf8').split('\n')) {
      const eq = line.indexOf('=')
      if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1)
    }
    if (step.id) outputs[step.id] = out
    stepCodes[step.name ?? String(i)] = status
    if (status !== 0) {
      exitCode = status
      break
    }
  }
  const actionOutputs: Record<string, string> = {}
  for (const [k, o] of Object.entries(action.outputs)) actionOutputs[k] = evaluate(o.value, inputs, outputs)
  return { outputs: actionOutputs, summary: readFileSync(summary, 'utf8'), exitCode, stepCodes, workspace }
}

let server: LabServer
const runs: Run[] = []
beforeAll(async () => {
  // `npm test` builds first; a bare `vitest run` builds here when dist is missing (the action's build step then skips).
  if (!existsSync(bin)) execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' })
  const DAY = 86_400_000
  server = await startTlsServer({ chain: [labLeaf({ notBefore: new Date(Date.now() - 90 * DAY), notAfter: new Date(Date.now() - DAY) })] })
}, 120_000)
afterAll(async () => {
  await server?.close()
  for (const r of runs) rmSync(r.workspace, { recursive: true, force: true })
})
const run = async (inputs: Record<string, string>): Promise<Run> => {
  const r = await runAction(inputs)
  runs.push(r)
  return r
}

describe('GitHub Action (composite, action.yml)', () => {
  it('is a composite action: set up Node, build, scan, upload SARIF with a category even when the scan failed, then fail', () => {
    expect(action.runs.using).toBe('composite')
    const [setup, , scanStep, upload, gate] = action.runs.steps
    expect(setup!.uses).toMatch(/^actions\/setup-node@v\d+$/)
    expect(setup!.with!['node-version']).toBe('${{ inputs.node-version }}')
    expect(scanStep!.id).toBe('scan')
    expect(upload!.uses).toMatch(/^github\/codeql-action\/upload-sarif@v\d+$/)
    expect(upload!.if).toContain('always()')
    expect(upload!.with).toEqual({ sarif_file: '${{ steps.scan.outputs.sarif }}', category: '${{ inputs.category }}' })
    expect(gate!.run).toContain('exit "${CODE:-3}"')
    // No input is pasted into a script: inputs reach the shell steps only through env.
    for (const s of action.runs.steps) expect(s.run ?? '').not.toMatch(/\$\{\{/)
  })

  it('a scan with findings at or above fail-on: outputs, step summary, reports, and a failing last step', async () => {
    const r = await run({ targets: `${server.target.id}\nlocal`, 'fail-on': 'critical', args: '--timeout 10s' })
    expect(r.stepCodes['Scan']).toBe(0)
    expect(r.outputs['exit-code']).toBe('1')
    expect(r.exitCode).toBe(1)
    expect(r.stepCodes['Fail on findings']).toBe(1)
    expect(r.outputs.score).toMatch(/^\d+\.\d$/)
    expect(r.outputs.stage).toMatch(/^(traditional|initial|advanced|optimal)$/)
    expect(Number(r.outputs.failed)).toBeGreaterThan(0)
    const json = JSON.parse(readFileSync(join(r.workspace, r.outputs.json!), 'utf8'))
    expect(json.score.overall.toFixed(1)).toBe(r.outputs.score)
    expect(json.findings.some((f: { ruleId: string; status: string }) => f.ruleId === 'certificate-expired' && f.status === 'fail')).toBe(true)
    assertValidSarif(JSON.parse(readFileSync(join(r.workspace, r.outputs.sarif!), 'utf8')))
    expect(readFileSync(join(r.workspace, r.outputs.html!), 'utf8')).toContain('<h1>ztscan report</h1>')
    expect(r.summary).toContain(`## ztscan: score ${r.outputs.score}`)
    expect(r.summary).toContain('certificate-expired')
  })

  it('fail-on none passes; inputs are never evaluated by a shell; a bad input is exit 2', async () => {
    const ok = await run({ targets: server.target.id, 'fail-on': 'none', 'output-dir': 'reports' })
    expect(ok.exitCode).toBe(0)
    expect(ok.outputs['exit-code']).toBe('0')
    expect(ok.outputs.sarif).toBe('reports/ztscan.sarif')
    const bad = await run({ targets: 'tls://x$(touch${IFS}pwned):443', args: '; touch pwned2' })
    expect(bad.outputs['exit-code']).toBe('2')
    expect(bad.exitCode).toBe(2)
    expect(existsSync(join(bad.workspace, 'pwned'))).toBe(false)
    expect(existsSync(join(bad.workspace, 'pwned2'))).toBe(false)
  })
})
