/**
 * The hand-over of nmap hosts from the parsing worker: the parser's events recorded as numbers and a string table decode
 * to the same objects the parser builds in one thread (same keys, same order, a port's `reason` left undefined kept as a
 * key), and a malformed batch throws instead of being read past its end.
 */
import { describe, expect, it } from 'vitest'
import { Readable } from 'node:stream'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { decodeNmapBatch, NmapBatchEncoder } from '../../checks/open-port/nmap-batch.ts'
import { NmapHostBuilder, parseNmapEvents, parseNmapXml, type NmapHost } from '../../checks/open-port/nmap-xml.ts'
import { shape } from '../helpers/shape.ts'

async function parse(xml: string): Promise<NmapHost[]> {
  const hosts: NmapHost[] = []
  await parseNmapXml(Readable.from([xml]), 'scan.xml', { host: (h) => hosts.push(h) }).catch(() => undefined)
  return hosts
}
/** The same document's events recorded by an encoder, as the worker does. */
async function record(xml: string, enc = new NmapBatchEncoder()): Promise<NmapBatchEncoder> {
  await parseNmapEvents(Readable.from([xml]), 'scan.xml', enc, {}).catch(() => undefined)
  return enc
}

const XML = `<?xml version="1.0"?><nmaprun scanner="nmap">
<host><status state="up" reason="syn-ack"/><address addr="127.0.0.1" addrtype="ipv4"/><address addr="00:11:22:33:44:55" addrtype="mac" vendor="Acme"/>
<hostnames><hostname name="a.example" type="PTR"/><hostname name="b.example"/></hostnames>
<ports><extraports state="closed" count="999999999999999"/><extraports state="filtered" count="3"/>
<port protocol="tcp" portid="22"><state state="open" reason="syn-ack"/><service name="ssh" product="OpenSSH" version="9.2p1" extrainfo="protocol 2.0" tunnel="ssl" method="probed" conf="10"/><script id="ssh-hostkey"/><script id="banner"/></port>
<port protocol="tcp" portid="80"><service name="http" conf="4294967297"/><state state="open"/></port>
<port protocol="udp" portid="0"><state state="open|filtered"/></port>
<port protocol="tcp" portid="65535"/>
<port protocol="tcp" portid="443"><service/></port>
</ports></host>
<host><address addr="127.0.0.2" addrtype="ipv4"/></host>
<host><status state="down"/><address addr="127.0.0.3" addrtype="ipv4"/><ports><port protocol="tcp" portid="25"><state state="open" reason="syn-ack"/></port><port protocol="tcp" portid="26"><state state="op`

const SESSION5_SHAPE =
  '[{state:"up",addresses:[{addr:"127.0.0.1",addrtype:"ipv4"},{addr:"00:11:22:33:44:55",addrtype:"mac",vendor:"Acme"}],hostnames:[{name:"a.example",type:"PTR"},{name:"b.example"}],ports:[{protocol:"tcp",portid:22,state:"open",scripts:["ssh-hostkey","banner"],reason:"syn-ack",service:{name:"ssh",product:"OpenSSH",version:"9.2p1",extrainfo:"protocol 2.0",tunnel:"ssl",method:"probed",conf:10}},{protocol:"tcp",portid:80,state:"open",scripts:[],service:{name:"http",conf:4294967297},reason:undefined},{protocol:"udp",portid:0,state:"open|filtered",scripts:[],reason:undefined},{protocol:"tcp",portid:65535,state:"unknown",scripts:[]},{protocol:"tcp",portid:443,state:"unknown",scripts:[],service:{}}],extraports:[{state:"closed",count:999999999999999},{state:"filtered",count:3}],reason:"syn-ack"},{state:"unknown",addresses:[{addr:"127.0.0.2",addrtype:"ipv4"}],hostnames:[],ports:[],extraports:[]},{state:"down",addresses:[{addr:"127.0.0.3",addrtype:"ipv4"}],hostnames:[],ports:[{protocol:"tcp",portid:25,state:"open",scripts:[],reason:"syn-ack"}],extraports:[],partial:true}]'

describe('open-port: the nmap worker hand-over (NmapBatchEncoder / decodeNmapBatch)', () => {
  it('decodes to the parser’s own hosts: keys, key order, undefined keys, large numbers, a partial host', async () => {
    const hosts = await parse(XML)
    expect(hosts).toHaveLength(3)
    expect(hosts[2]!.partial).toBe(true)
    // The shapes this test relies on: a port whose <service> came before its <state>, and a `reason` key left undefined.
    expect(Object.keys(hosts[0]!.ports[1]!)).toEqual(['protocol', 'portid', 'state', 'scripts', 'service', 'reason'])
    expect('reason' in hosts[0]!.ports[2]!).toBe(true)
    expect('reason' in hosts[0]!.ports[3]!).toBe(false)
    // Exactly what the parser built before NmapHostBuilder (session 5's objects): keys, order, values.
    expect(shape(hosts)).toBe(SESSION5_SHAPE)
    const enc = await record(XML)
    expect(enc.hosts).toBe(3)
    // Weight: ports plus their scripts (5 + 2, then the partial host's one complete port).
    expect(enc.weight).toBe(8)
    const batch = enc.take()
    expect(enc.hosts).toBe(0)
    const back = decodeNmapBatch(batch)
    expect(back).toStrictEqual(hosts)
    expect(shape(back)).toBe(shape(hosts))
    // A string is sent once per batch.
    expect(batch.strings.filter((s) => s === 'open')).toHaveLength(1)
    // The encoder starts afresh: the next batch holds only its own hosts and strings.
    await record(XML.slice(0, XML.indexOf('<host><status state="down"/>')) + '</nmaprun>', enc)
    enc.take()
    await record('<nmaprun><host><address addr="127.0.0.2" addrtype="ipv4"/></host></nmaprun>', enc)
    const next = enc.take()
    expect(shape(decodeNmapBatch(next))).toBe(shape([hosts[1]]))
    expect(next.strings).toEqual(['127.0.0.2', 'ipv4'])
  })

  it('a batch is never taken in the middle of a host (it would be split across two batches)', () => {
    const enc = new NmapBatchEncoder()
    enc.hostStart()
    enc.address('127.0.0.1', 'ipv4', undefined)
    enc.hostEnd(false)
    enc.hostStart()
    enc.address('127.0.0.2', 'ipv4', undefined)
    expect(() => enc.take()).toThrow(/in the middle of a host/)
    enc.portStart('tcp', 22)
    enc.portEnd()
    enc.hostEnd(false)
    expect(decodeNmapBatch(enc.take()).map((h) => [h.addresses[0]!.addr, h.ports.length])).toEqual([
      ['127.0.0.1', 0],
      ['127.0.0.2', 1],
    ])
    enc.hostStart()
    enc.hostDrop()
    expect(decodeNmapBatch(enc.take())).toEqual([])
  })

  it('the batch keeps copies of its strings, not slices pinning the parser’s 256 KiB input chunks', async () => {
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as () => void
    // 250 hosts, each in a 256 KiB chunk of its own (as the worker reads them), each with names of 13+ characters (V8
    // slices such substrings off their parent): slices would keep all 64 MB of chunks alive until the batch is taken.
    const pad = ' '.repeat(256 * 1024)
    const chunk = (i: number) => Buffer.from(`<host><address addr="127.0.${i >> 8}.${i & 255}-long-enough" addrtype="ipv4"/><hostnames><hostname name="host-${i}.example.invalid" type="PTR"/></hostnames></host>${pad}`)
    async function* source(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('<nmaprun>')
      for (let i = 0; i < 250; i++) yield chunk(i)
      yield Buffer.from('</nmaprun>')
    }
    gc()
    const before = process.memoryUsage().heapUsed
    const enc = new NmapBatchEncoder()
    await parseNmapEvents(source(), 'scan.xml', enc, {})
    gc()
    const kept = process.memoryUsage().heapUsed - before
    expect(enc.hosts).toBe(250)
    // Copies: well under a megabyte (slices: over 64 MB).
    expect(kept).toBeLessThan(16 * 1024 * 1024)
    const hosts = decodeNmapBatch(enc.take())
    expect(hosts[249]!.hostnames[0]!.name).toBe('host-249.example.invalid')
  })

  it('after a dense host, the encoder does not keep its grown buffer: the next batch starts small again', async () => {
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as () => void
    gc()
    const before = process.memoryUsage().arrayBuffers
    const enc = new NmapBatchEncoder()
    // 500,000 ports of 7 words each: 14 MB of words (a 16 MB buffer after doubling).
    enc.hostStart()
    for (let p = 0; p < 500_000; p++) {
      enc.portStart('tcp', p % 65_536)
      enc.portState('open', undefined)
      enc.portEnd()
    }
    enc.hostEnd(false)
    let batch: ReturnType<NmapBatchEncoder['take']> | undefined = enc.take()
    expect(batch.words.length).toBe(1 + 500_000 * 7 + 2)
    expect(decodeNmapBatch(batch)[0]!.ports).toHaveLength(500_000)
    batch = undefined
    // The encoder alone: its initial 256 KiB, not the 16 MB it grew to. V8 frees array buffers' memory after a
    // collection, not always within it (later under load): collect a few times before judging.
    let kept = Infinity
    for (let k = 0; k < 20 && kept >= 2 * 1024 * 1024; k++) {
      gc()
      await new Promise((r) => setTimeout(r, 50))
      kept = process.memoryUsage().arrayBuffers - before
    }
    expect(kept).toBeLessThan(2 * 1024 * 1024)
    // And it still records a batch.
    enc.hostStart()
    enc.hostEnd(false)
    expect(decodeNmapBatch(enc.take())).toHaveLength(1)
  })

  it('keeps any string as it is, lone surrogates and control characters included', () => {
    const odd = 'a\ud800b\u0000\u2028é'
    const play = (e: NmapHostBuilder | NmapBatchEncoder) => {
      e.hostStart()
      e.status(odd, undefined)
      e.address(odd, 'x', odd)
      e.portStart(odd, 1)
      e.script(odd)
      e.portEnd()
      e.hostEnd(false)
    }
    const direct: NmapHost[] = []
    play(new NmapHostBuilder((h) => direct.push(h), true))
    const enc = new NmapBatchEncoder()
    play(enc)
    expect(shape(decodeNmapBatch(enc.take()))).toBe(shape(direct))
    expect(direct[0]!.addresses[0]!.vendor).toBe(odd)
  })

  it('a malformed batch throws (truncated, an event out of place, an index or a number out of range): never read past its end', async () => {
    const { words, strings } = (await record(XML)).take()
    const bad = (w: Int32Array<ArrayBuffer>, s: readonly string[] = strings) => () => decodeNmapBatch({ words: w, strings: s })
    expect(bad(words.slice(0, words.length - 1))).toThrow(/malformed nmap host batch/)
    // Cut anywhere: an error, or (cut between two hosts) the hosts before the cut.
    const all = shape(decodeNmapBatch({ words, strings }))
    let threw = 0
    for (let cut = 0; cut < words.length; cut++)
      try {
        const hosts = decodeNmapBatch({ words: words.slice(0, cut), strings })
        expect(all.startsWith(shape(hosts).slice(0, -1))).toBe(true)
      } catch (err) {
        expect((err as Error).message).toMatch(/^malformed nmap host batch from the parser thread: /)
        threw++
      }
    expect(threw).toBeGreaterThan(words.length - 5)
    expect(bad(Int32Array.of(...words, 0))).toThrow(/unknown event 0/)
    expect(bad(Int32Array.of(...words, 1))).toThrow(/ends inside a host/)
    expect(bad(Int32Array.of(7, 0, -1))).toThrow(/event 7 out of place/)
    // A host started inside a host, a port inside a port, a host dropped outside a host: the builder would carry on.
    const tcp = strings.indexOf('tcp')
    expect(bad(Int32Array.of(1, 1, 11, 0))).toThrow(/event 1 out of place at word 1/)
    expect(bad(Int32Array.of(1, 6, tcp, 22, 6, tcp, 23, 10, 11, 0))).toThrow(/event 6 out of place at word 4/)
    expect(bad(Int32Array.of(1, 6, tcp, 22, 10, 6, tcp, 23, 10, 11, 0))).not.toThrow()
    expect(bad(Int32Array.of(12))).toThrow(/event 12 out of place at word 0/)
    expect(bad(Int32Array.of(1, 11, 0, 12))).toThrow(/event 12 out of place at word 3/)
    expect(bad(Int32Array.of(1, 12, 1, 11, 0))).not.toThrow()
    expect(bad(words, strings.slice(0, -1))).toThrow(/string index/)
    // Every single word changed to a large or negative value: an error or other hosts, never an out-of-range read.
    for (let k = 0; k < words.length; k++)
      for (const v of [-5, 2 ** 31 - 1]) {
        const w = words.slice()
        w[k] = v
        try {
          const hosts = decodeNmapBatch({ words: w, strings })
          for (const h of hosts) for (const p of h.ports) expect(p.portid).toBeLessThanOrEqual(65_535)
        } catch (err) {
          expect((err as Error).message).toMatch(/^malformed nmap host batch from the parser thread: /)
        }
      }
    expect(() => decodeNmapBatch({ words: [1] as unknown as Int32Array<ArrayBuffer>, strings })).toThrow(/not words and strings/)
  })
})
