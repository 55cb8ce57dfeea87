/**
 * @fileoverview Hints for target strings people commonly write instead of ztscan's forms: a URL, a bare `host:port`,
 * a bare host name. Appended to the target error the parser raised (exit 2 either way).
 */
import { isValidHost } from '../targets/host.ts'

const URL_FORM = /^(https?):\/\/(\[[0-9a-f:.]+\]|[^/?#:@\s]+)(?::(\d{1,5}))?(?:[/?#]|$)/i
const HOST_PORT = /^(\[[0-9a-f:.]+\]|[^/?#:@\s]+):(\d{1,5})$/i

/** A sentence saying which ztscan target the user probably meant, or ''. */
export function targetHint(raw: string): string {
  const s = raw.trim()
  const url = URL_FORM.exec(s)
  if (url) {
    const [, scheme, host, port] = url as unknown as [string, string, string, string | undefined]
    if (scheme.toLowerCase() === 'https')
      return `; for the certificate and TLS of a web server write tls://${host}:${port ?? 443} (an OpenID issuer: oidc:${s})`
    return `; plain HTTP has no certificate: host://${host}?ports=${port ?? 80} checks the open port, tls://${host}:443 the HTTPS side`
  }
  const hp = HOST_PORT.exec(s)
  if (hp && isValidHost(hp[1]!.replace(/^\[|\]$/g, ''))) {
    const [, host, port] = hp as unknown as [string, string, string]
    return `; give a scheme: tls://${host}:${port} (certificate, TLS), ssh://${host}:${port} (SSH) or host://${host}?ports=${port} (open port)`
  }
  if (!s.includes(':') && isValidHost(s)) return `; give a scheme: host://${s} (open ports), tls://${s}:443 (certificate, TLS) or ssh://${s} (SSH)`
  return ''
}
