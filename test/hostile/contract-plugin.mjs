// A plugin whose targets say how their check behaves, for the exit-code contract tests (test/hostile/contract.test.ts):
//   { kind: contract, id: "contract://NAME", state: pass | fail | error | slow | timeout, marker?: FILE }
// pass/fail report one finding; error ends the attempt with an error; slow writes `marker` when it starts and then waits for
// its signal (a scan interrupted mid-way); timeout reports the attempt's timeoutMs as evidence (duration parsing); any check
// that runs appends its target id to `marker` when one is given (so a test can prove that no check ran at all).
import { appendFileSync } from 'node:fs'

const rule = {
  id: 'contract-state',
  family: 'contract',
  title: 'Contract state is good',
  pillar: 'applications',
  severity: 'high',
  message: '{{target}} is in state {{state}}',
  description: 'Test rule: fails when the target says state=fail.',
  remediation: 'Set the state to pass.',
  helpUri: 'https://example.invalid/contract-state',
}

export const rules = [rule]
export const checks = [
  {
    id: 'contract-state',
    family: 'contract',
    targetKinds: ['contract'],
    rules: ['contract-state'],
    async run(target, ctx) {
      if (typeof target.marker === 'string') appendFileSync(target.marker, `${target.id}\n`)
      const state = String(target.state ?? 'pass')
      if (state === 'error') throw Object.assign(new Error('the contract target refused to answer'), { name: 'ContractError' })
      if (state === 'slow') {
        await new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true }))
        return
      }
      const evidence = state === 'timeout' ? { state, timeoutMs: ctx.timeoutMs } : { state }
      ctx.report('contract-state', state === 'fail' ? 'fail' : 'pass', { resource: target.id, evidence })
    },
  },
]
