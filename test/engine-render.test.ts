import { describe, expect, it } from 'vitest'
import { createHash } from 'node:crypto'
import { fingerprintOf, renderFinding, renderMessage } from '../src/engine/run.ts'

describe('per-finding helpers', () => {
  it('renderFinding fills a template exactly as renderMessage does over { target, resource, ...evidence }', () => {
    const templates = [
      '{{target}} has {{thing}}',
      'no placeholder at all',
      '{{ resource }}: {{list}} / {{missing}} / {{nothing}} / {{zero}} {{flag}}{{target}}',
      '{{target}}{{resource}}',
      '{{a.b}} {{ spaced  }} {{constructor}} {{ not closed',
      '',
    ]
    const evidences: Record<string, unknown>[] = [
      {},
      { thing: 'x', list: ['a', 'b'], nothing: null, zero: 0, flag: false },
      { target: 'evidence wins', resource: undefined, 'a.b': 'dotted', spaced: 's' },
    ]
    for (const t of templates)
      for (const e of evidences) {
        const want = renderMessage(t, { target: 'tls://h:443', resource: 'h 443/tcp', ...e })
        expect(renderFinding(t, 'tls://h:443', 'h 443/tcp', e)).toBe(want)
        expect(renderFinding(t, 'tls://h:443', 'h 443/tcp', e)).toBe(want) // second call: from the compiled cache
      }
    expect(renderFinding('{{target}} has {{thing}}', 't', 'r', { thing: 'x' })).toBe('t has x')
    expect(renderFinding('{{ missing }}', 't', 'r', {})).toBe('{{ missing }}')
  })

  it('fingerprintOf is the first 32 hex digits of SHA-256 over rule, target and resource', () => {
    const want = createHash('sha256').update('open-port-remote-admin\nnmap:scan.xml\n10.0.0.1 tcp/3389').digest('hex').slice(0, 32)
    expect(fingerprintOf('open-port-remote-admin', 'nmap:scan.xml', '10.0.0.1 tcp/3389')).toBe(want)
    expect(fingerprintOf('r', 't', 'é ✓')).toBe(createHash('sha256').update('r\nt\né ✓').digest('hex').slice(0, 32))
  })
})
