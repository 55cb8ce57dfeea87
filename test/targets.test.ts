import { describe, expect, it } from 'vitest'
import { parseTarget, TargetError } from '../src/index.ts'

describe('target strings', () => {
  it.each([
    ['tls://127.0.0.1:8443', { kind: 'tls-endpoint', id: 'tls://127.0.0.1:8443', host: '127.0.0.1', port: 8443 }],
    ['tls://[::1]:8443?sni=API.test', { kind: 'tls-endpoint', id: 'tls://[::1]:8443?sni=api.test', host: '::1', servername: 'api.test' }],
    ['tls://localhost', { id: 'tls://localhost:443', port: 443 }],
    ['ssh://admin@127.0.0.1:2222', { kind: 'ssh-endpoint', id: 'ssh://127.0.0.1:2222', username: 'admin' }],
    ['host://[::1]?ports=22,80,8000-8100', { kind: 'host', id: 'host://[::1]', ports: '22,80,8000-8100' }],
    ['host://127.0.0.1?ports=top100,9000-9100', { kind: 'host', ports: 'top100,9000-9100' }],
    ['agents://root@127.0.0.1:2222', { kind: 'agent-host', id: 'agents://127.0.0.1:2222', username: 'root' }],
    ['idp:Okta:fixtures/x.json', { kind: 'identity-export', provider: 'okta', id: 'idp:okta:fixtures/x.json' }],
    ['local', { kind: 'local', id: 'local://' }],
  ])('%s', (raw, want) => {
    expect(parseTarget(raw)).toMatchObject(want)
  })
  it.each([
    ['tls://a;rm -rf /:443', 'is not a valid host name'],
    ['agents://$(id)@127.0.0.1', 'is not a valid user name'],
    ['ssh://`id`', 'is not a valid host name'],
    ['tls://127.0.0.1:70000', 'port must be 1-65535'],
    ['tls://::1:443', 'IPv6 addresses need brackets'],
    ['host://127.0.0.1?ports=1;id', 'ports must be a list'],
    ['gopher://x', 'unknown scheme'],
    ['127.0.0.1', 'no scheme; give a scheme: host://127.0.0.1 (open ports), tls://127.0.0.1:443 (certificate, TLS) or ssh://127.0.0.1 (SSH)'],
    ['-', 'expected a scheme'],
  ])('%s is rejected before any I/O', (raw, msg) => {
    expect(() => parseTarget(raw)).toThrow(TargetError)
    expect(() => parseTarget(raw)).toThrow(msg)
  })
})
