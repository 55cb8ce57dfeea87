/**
 * @fileoverview The endpoint-agent family's target schemes: `agents://USER@HOST[:PORT]`, `inventory:PROVIDER:FILE`,
 * `coverage:PROVIDER:FILE,PROVIDER:FILE[,…]`, `local`.
 */
import { defineTargets } from '../../src/engine/check.ts'
import { TargetError } from '../../src/errors.ts'
import { bracket, providerFileTarget, userHostPort } from '../../src/targets/host.ts'

export const targets = defineTargets([
  {
    scheme: 'agents',
    kind: 'agent-host',
    example: 'agents://USER@HOST[:PORT]',
    note: 'read-only SSH probes',
    parse(rest, raw) {
      const { user, host, port } = userHostPort(raw, rest, 22)
      return { kind: 'agent-host', id: `agents://${bracket(host)}:${port}`, host, port, username: user }
    },
  },
  {
    scheme: 'inventory',
    kind: 'inventory-export',
    example: 'inventory:crowdstrike|defender|sentinelone|intune|osquery|jamf:FILE',
    parse: (rest, raw) => providerFileTarget('inventory-export', 'inventory', rest, raw),
  },
  {
    scheme: 'coverage',
    kind: 'inventory-coverage',
    example: 'coverage:PROVIDER:FILE,PROVIDER:FILE[,…]',
    note: 'devices missing from one of the inventories',
    parse(rest, raw) {
      // Two or more inventories; a path holding a comma is not supported here (use a target object).
      const inventories = rest.split(',').map((part) => {
        const i = part.indexOf(':')
        if (i <= 0 || i === part.length - 1) throw new TargetError(raw, 'expected coverage:PROVIDER:FILE,PROVIDER:FILE[,…]')
        const t = providerFileTarget('inventory-export', 'inventory', part, raw)
        const provider = t.provider as string
        return { provider, path: t.path as string, shown: t.id.slice('inventory:'.length + provider.length + 1) }
      })
      if (inventories.length < 2) throw new TargetError(raw, 'coverage needs at least two inventories (coverage:PROVIDER:FILE,PROVIDER:FILE)')
      return {
        kind: 'inventory-coverage',
        id: `coverage:${inventories.map((x) => `${x.provider}:${x.shown}`).join(',')}`,
        inventories: inventories.map(({ provider, path }) => ({ provider, path })),
      }
    },
  },
  {
    scheme: 'local',
    kind: 'local',
    example: 'local',
    note: 'this machine',
    parse(rest, raw) {
      if (rest) throw new TargetError(raw, 'expected local (this machine) with nothing after it')
      return { kind: 'local', id: 'local://' }
    },
  },
])
