/**
 * @fileoverview The `ssh` family's declaration: its check, whose code (ssh-algorithms.ts, with ssh2) loads when it runs.
 */
import { defineCheck, defineFamily } from '../../src/engine/check.ts'

export const SSH_ALGORITHM_RULES = ['ssh-weak-kex', 'ssh-weak-host-key', 'ssh-weak-cipher', 'ssh-weak-mac', 'ssh-terrapin'] as const

/** The SSH algorithms check. */
export const sshAlgorithmsCheck = defineCheck({
  id: 'ssh-algorithms',
  family: 'ssh',
  targetKinds: ['ssh-endpoint'],
  rules: SSH_ALGORITHM_RULES,
  load: () => import('./ssh-algorithms.ts'),
  run: async (target, ctx) => (await import('./ssh-algorithms.ts')).runSshAlgorithms(target, ctx),
})

// Its targets are the mfa family's ssh:// endpoints: it declares no scheme of its own.
const family = defineFamily({ name: 'ssh', pillar: 'networks', targets: [], checks: [sshAlgorithmsCheck] })
export default family
