/**
 * @fileoverview The open-port family's target schemes: `host://HOST[?ports=…]` (the built-in connect scan) and `nmap:FILE`.
 */
import { defineTargets } from '../../src/engine/check.ts'
import { TargetError } from '../../src/errors.ts'
import { bracket, checkHost, fileTarget, splitHostPort, splitQuery } from '../../src/targets/host.ts'
import type { Target } from '../../src/types.ts'

/** A `host` target from what follows `host://` (`HOST[?ports=LIST]`); `raw` names errors. */
export function hostTarget(rest: string, raw = `host://${rest}`): Target {
  const [hp, query] = splitQuery(rest)
  const { host } = splitHostPort(raw, hp.replace(/\/$/, ''))
  const h = checkHost(raw, host)
  const ports = query.get('ports') ?? undefined
  if (ports !== undefined && !/^(all|(top\d+|\d+(-\d+)?)(,\s*(top\d+|\d+(-\d+)?))*)$/.test(ports))
    throw new TargetError(raw, `ports must be a list such as 22,80,8000-8100, topN, top100,9000-9100 or all (got "${ports}")`)
  return { kind: 'host', id: `host://${bracket(h)}`, host: h, ports: ports ?? 'top100' }
}

export const targets = defineTargets([
  {
    scheme: 'host',
    aliases: ['tcp'],
    kind: 'host',
    example: 'host://HOST[?ports=22,80,8000-8100|top100|all]',
    note: 'nmap when on the PATH, else the built-in TCP connect scan',
    parse: (rest, raw) => hostTarget(rest, raw),
    suggest: (f) =>
      f.form === 'url'
        ? f.protocol === 'http' ? { target: `host://${f.host}?ports=${f.port ?? 80}`, what: 'the open port; plain HTTP has no certificate' } : undefined
        : f.form === 'host-port' ? { target: `host://${f.host}?ports=${f.port}`, what: 'open port' } : { target: `host://${f.host}`, what: 'open ports' },
  },
  // `nmap:-` reads standard input (`nmap -oX - … | ztscan scan --nmap -`): streamed like a file, never held whole.
  { scheme: 'nmap', kind: 'nmap-xml', example: 'nmap:FILE.xml', note: '`nmap -oX`; `nmap:-` reads standard input', parse: (rest) => (rest === '-' ? { kind: 'nmap-xml', id: 'nmap:-', stdin: true } : fileTarget('nmap-xml', 'nmap', rest)) },
])
