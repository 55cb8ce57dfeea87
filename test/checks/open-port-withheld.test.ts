import { afterAll, describe, expect, it } from 'vitest'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { scan, type Family, type Logger, type ScanReport } from '../../src/index.ts'
import type { TargetScheme } from '../../src/engine/check.ts'
import { builtinFamilies } from '../../checks/index.ts'

/**
 * Withheld chains (an nmap file without --chain) are counted without building and parsing each tls://, STARTTLS or ssh://
 * target when the scan reads those schemes the built-in way: the report's counts and the warnings for targets that do
 * not parse are the ones the parsed way gives. The parsed way is forced by families whose scheme definitions are copies
 * (the same parsers, other objects). Nothing here opens a socket: the chains are withheld.
 */
describe('withheld chains counted without parsing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ztscan-withheld-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  const port = (n: number, service = '', extra = ''): string =>
    `<port protocol="tcp" portid="${n}"><state state="open" reason="syn-ack" reason_ttl="0"/>${service ? `<service name="${service}" ${extra} method="probed" conf="10"/>` : ''}</port>`
  const host = (addrs: string, names: string[], ports: string): string =>
    `<host><status state="up" reason="syn-ack" reason_ttl="0"/>${addrs}<hostnames>${names.map((n) => `<hostname name="${n}" type="PTR"/>`).join('')}</hostnames><ports>${ports}</ports></host>\n`
  const ip = (a: string, t = 'ipv4'): string => `<address addr="${a}" addrtype="${t}"/>`
  // TLS (by tunnel and by port), SSH, STARTTLS (smtp, imap), on IPv4, IPv6, a zone id, an IPv4-mapped address, a MAC
  // alone, a host name alone, port 0 (no target parses with it), names valid and not.
  const all = [port(443, 'http', 'tunnel="ssl"'), port(22, 'ssh'), port(25, 'smtp'), port(143, 'imap'), port(8443), port(0, 'ssh'), port(0, 'http', 'tunnel="ssl"')].join('')
  const xml = `<?xml version="1.0"?><nmaprun scanner="nmap" args="nmap -oX -" version="7.93" xmloutputversion="1.05">
${host(ip('127.0.0.7'), ['web.corp.example'], all)}${host(ip('::1', 'ipv6'), ['bad name!', '10.0.0.1'], all)}${host(ip('::1%lo', 'ipv6'), [], all)}${host(ip('::ffff:127.0.0.9', 'ipv6'), ['x.example.'], all)}${host(ip('00:11:22:33:44:55', 'mac'), [], all)}${host('', ['only-a-name.example'], all)}</nmaprun>
`
  const file = join(dir, 'scan.xml')
  writeFileSync(file, xml)

  /** The scan's report, its warnings, and how many target strings the families' tls:// scheme (if any) parsed. */
  async function run(families: readonly Family[]): Promise<{ report: ScanReport; warnings: string[]; parsed: number }> {
    const warnings: string[] = []
    const logger: Logger = { debug() {}, info() {}, warn: (m) => warnings.push(m) }
    const tls = families.flatMap((f) => f.targets).find((s) => s.scheme === 'tls') as { parse: TargetScheme['parse'] } | undefined
    const parse = tls?.parse
    let parsed = 0
    if (tls && parse) tls.parse = (...a) => (parsed++, parse(...a))
    try {
      const report = await scan({ targets: [`nmap:${file}`], families, logger, timeoutMs: 10_000 })
      return { report, warnings: warnings.sort(), parsed }
    } finally {
      if (tls && parse) tls.parse = parse
    }
  }
  const copied = (f: Family): Family => ({ ...f, targets: f.targets.map((s) => ({ ...s })) })

  it('the same counts and warnings as parsing each target', async () => {
    const fast = await run(builtinFamilies)
    const parsed = await run(builtinFamilies.map(copied))
    expect(fast.report.chaining).toEqual(parsed.report.chaining)
    expect(fast.warnings).toEqual(parsed.warnings)
    expect(fast.report.chaining?.withheld[0]?.targets).toBeGreaterThan(16)
    expect(fast.warnings.length).toBeGreaterThan(0)
    // The copies parse every tls:// target; the built-in scheme only those not known to parse (the MAC, the host name, port 0).
    expect(parsed.parsed).toBeGreaterThanOrEqual(6)
    expect(fast.parsed).toBeLessThan(parsed.parsed - 3)
    expect(fast.report.findings).toEqual(parsed.report.findings)
  })

  it('a scan without the certificate family still warns for each TLS and STARTTLS target (its schemes are unknown)', async () => {
    const some = builtinFamilies.filter((f) => f.name !== 'certificate' && f.name !== 'tls')
    const fast = await run(some)
    const parsed = await run(some.map(copied))
    expect(fast.report.chaining).toEqual(parsed.report.chaining)
    expect(fast.warnings).toEqual(parsed.warnings)
    expect(fast.warnings.filter((w) => w.includes('tls://')).length).toBeGreaterThanOrEqual(6)
  })
})
