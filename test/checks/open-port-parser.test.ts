import { describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import fc from 'fast-check'
import { SaxesParser } from 'saxes'
import { NmapXmlError, parseNmapXml, type NmapHost, type NmapLimits } from '../../checks/open-port/nmap-xml.ts'

const sV = readFileSync('fixtures/nmap/sV-scripts-loopback.xml')

async function* chunks(buf: Uint8Array, cuts: readonly number[]): AsyncGenerator<Uint8Array> {
  let at = 0
  for (const c of [...new Set(cuts.map((x) => x % (buf.length + 1)))].sort((a, b) => a - b)) {
    yield buf.subarray(at, c)
    at = c
  }
  yield buf.subarray(at)
}

async function parse(buf: Uint8Array, cuts: readonly number[] = [], limits?: NmapLimits): Promise<{ hosts: NmapHost[]; error?: NmapXmlError }> {
  const hosts: NmapHost[] = []
  try {
    await parseNmapXml(chunks(buf, cuts), 'f.xml', { host: (h) => hosts.push(h) }, limits)
    return { hosts }
  } catch (err) {
    if (!(err instanceof NmapXmlError)) throw err
    return { hosts, error: err }
  }
}

const hostXml = (i: number): string =>
  `<host><status state="up" reason="syn-ack"/><address addr="10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}" addrtype="ipv4"/><hostnames><hostname name="h${i}.example" type="PTR"/></hostnames><ports><port protocol="tcp" portid="22"><state state="open" reason="syn-ack"/><service name="ssh" method="table" conf="3"/></port><port protocol="tcp" portid="6379"><state state="open" reason="syn-ack"/><service name="redis" method="table" conf="3"/></port></ports></host>\n`

describe('open-port: nmap XML parser properties', () => {
  it('any chunking, including inside multi-byte characters, reads the same hosts', async () => {
    const doc = Buffer.from(sV.toString('utf8').replace('Linux telnetd', 'Linux telnetd — ünïcødé 🚀'))
    const whole = await parse(doc)
    expect(whole.error).toBeUndefined()
    expect(whole.hosts[0]!.ports.find((p) => p.portid === 54371)!.service!.product).toBe('Linux telnetd — ünïcødé 🚀')
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat(), { maxLength: 40 }), async (cuts) => {
        expect(await parse(doc, cuts)).toEqual(whole)
      }),
      { numRuns: 200 },
    )
  })

  it('truncation anywhere: an NmapXmlError with a location, never another error; completed ports kept', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: sV.lastIndexOf('</nmaprun>') + '</nmaprun'.length }), fc.array(fc.nat(), { maxLength: 5 }), async (cut, cuts) => {
        const r = await parse(sV.subarray(0, cut), cuts)
        expect(r.error?.message).toMatch(/^f\.xml:\d+:\d+: /)
        expect(r.hosts.length).toBeLessThanOrEqual(1)
        if (r.hosts[0]) expect(r.hosts[0].partial ?? false).toBe(cut < sV.indexOf('</host>') + '</host>'.length)
      }),
      { numRuns: 300 },
    )
  })

  it('random byte mutations: results or an NmapXmlError, nothing else', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 5 }),
        async (edits, cuts) => {
          let doc: Buffer = Buffer.from(sV)
          for (const e of edits) {
            const at = e.at % doc.length
            doc = Buffer.concat([doc.subarray(0, at), e.bytes, doc.subarray(at + e.bytes.length)])
          }
          const r = await parse(doc, cuts)
          if (r.error) expect(r.error.message).toMatch(/^f\.xml:\d+:\d+: /)
        },
      ),
      { numRuns: 300 },
    )
  })

  it('arbitrary text: results or an NmapXmlError, nothing else', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 300 }), async (s) => {
        const r = await parse(Buffer.from(`<?xml version="1.0"?><nmaprun>${s}`))
        expect(r.error?.message ?? '').toMatch(/^$|^f\.xml:\d+:\d+: /)
      }),
      { numRuns: 300 },
    )
  })

  it('streams: 20,000 hosts are handed over one by one', async () => {
    const n = 20_000
    async function* doc(): AsyncGenerator<string> {
      yield '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE nmaprun>\n<nmaprun scanner="nmap" version="7.93">\n'
      for (let i = 0; i < n; i += 500) yield Array.from({ length: 500 }, (_, k) => hostXml(i + k)).join('')
      yield '<runstats><finished exit="success"/><hosts up="20000" down="0" total="20000"/></runstats></nmaprun>\n'
    }
    let count = 0
    let open = 0
    const sum = await parseNmapXml(doc(), 'gen.xml', {
      host(h) {
        count++
        open += h.ports.length
      },
    })
    expect([count, open, sum.hosts, sum.runstats?.hostsUp]).toEqual([n, 2 * n, n, n])
  })

  it.each([
    { name: 'a huge attribute value', xml: `<nmaprun><host args="${'a'.repeat(300_000)}"/></nmaprun>`, error: /more than 100000 characters without completing/ },
    { name: 'a huge comment', xml: `<nmaprun><!--${'a'.repeat(300_000)}--></nmaprun>`, error: /more than 100000 characters without completing/ },
    { name: 'deep nesting', xml: `<nmaprun>${'<a>'.repeat(100)}`, error: /nested deeper than 64 levels/ },
    { name: 'a non-UTF-8 encoding', xml: `<?xml version="1.0" encoding="ISO-8859-1"?><nmaprun/>`, error: /encoding "ISO-8859-1" is not supported/ },
    { name: 'an input that ends inside a character', xml: Buffer.concat([Buffer.from('<nmaprun>é'), Buffer.from([0xe2, 0x82])]), error: /ends inside a multi-byte character/ },
  ])('bounds memory and refuses $name', async ({ xml, error }) => {
    const r = await parse(typeof xml === 'string' ? Buffer.from(xml) : xml, [65_536, 131_072], { maxMarkupChars: 100_000 })
    expect(r.error?.message).toMatch(error)
  })
  // The parser reads each tag's attributes from the list saxes collected (not saxes' per-tag dictionary): the duplicate
  // check saxes made there must stay, with saxes' own message and position, and values must read as before.
  it('duplicate attributes fail as saxes reports them (message, line, column), on read and unread tags, few or many attributes', async () => {
    const saxesError = (xml: string): string => {
      try {
        new SaxesParser({ xmlns: false, position: true }).write(xml).close()
      } catch (err) {
        return (err as Error).message
      }
      return 'no error'
    }
    const many = (dup: string) => Array.from({ length: 20 }, (_, k) => ` x${k}="${k}"`).join('') + dup
    const docs = [
      `<nmaprun>\n<host><status state="up" state="down"/></host></nmaprun>`,
      `<nmaprun><times a="1" b="2" a="3"/></nmaprun>`,
      `<nmaprun>\n<host>\n<ports><port protocol="tcp" portid="22" b="1" c="2" d="3" e="4" f="5" g="6" portid="23"/></ports></host></nmaprun>`,
      `<nmaprun><host><address addr="127.0.0.1"${many(' x7="again"')}/></host></nmaprun>`,
      `<nmaprun><hosthint${many(' x19="again" x19="twice"')}></hosthint></nmaprun>`,
      `<nmaprun scanner="nmap" scanner="other"></nmaprun>`,
    ]
    for (const xml of docs) {
      const r = await parse(Buffer.from(xml))
      expect(saxesError(xml)).toMatch(/^\d+:\d+: duplicate attribute: \w+\.$/)
      expect(`${r.error?.line}:${r.error?.column}: ${r.error?.detail}`).toBe(saxesError(xml))
    }
    // The same names without the duplicate: no error, and every value read is the tag's own.
    const ok = await parse(Buffer.from(`<nmaprun><host><address${many('')} addr="127.0.0.9" addrtype="ipv6" vendor="V"/><ports><port portid="7" protocol="udp"><service conf="9" method="table" name="echo" z="1"/></port></ports></host></nmaprun>`))
    expect(ok.error).toBeUndefined()
    expect(ok.hosts[0]!.addresses).toEqual([{ addr: '127.0.0.9', addrtype: 'ipv6', vendor: 'V' }])
    expect(ok.hosts[0]!.ports[0]).toMatchObject({ protocol: 'udp', portid: 7, service: { name: 'echo', method: 'table', conf: 9 } })
  })

  it('a tag with 200,000 attributes: read in linear time, a duplicate at the end still found', async () => {
    const attrs = Array.from({ length: 200_000 }, (_, k) => ` a${k}="v"`).join('')
    const ok = await parse(Buffer.from(`<nmaprun><host><address${attrs} addr="127.0.0.1"/></host></nmaprun>`))
    expect(ok.hosts[0]!.addresses[0]!.addr).toBe('127.0.0.1')
    const dup = await parse(Buffer.from(`<nmaprun><host><address${attrs} a0="again"/></host></nmaprun>`))
    expect(dup.error?.detail).toBe('duplicate attribute: a0.')
  })
  it('maxDepth counts open elements exactly: a self-closing one at the next level is accepted, an open one refused', async () => {
    const ok = await parse(Buffer.from('<nmaprun><host><ports><port protocol="tcp" portid="22"><state state="open"/></port></ports></host></nmaprun>'), [], { maxDepth: 4 })
    expect(ok.error).toBeUndefined()
    expect(ok.hosts[0]!.ports[0]).toMatchObject({ portid: 22, state: 'open' })
    const deep = await parse(Buffer.from('<nmaprun><host><ports><port protocol="tcp" portid="22"><state state="open"></state></port></ports></host></nmaprun>'), [], { maxDepth: 4 })
    expect(deep.error?.detail).toBe('elements nested deeper than 4 levels')
    expect([deep.error?.line, deep.error?.column]).toEqual([1, 75])
  })
})
