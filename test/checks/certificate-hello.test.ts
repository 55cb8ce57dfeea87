import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import { connect as tlsConnect, type SecureVersion } from 'node:tls'
import fc from 'fast-check'
import pLimit from 'p-limit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import certificate from '../../checks/certificate/index.ts'
import { clientHello, HelloParseError, MAX_HELLO_BYTES, sendHello, ServerHelloReader, type HelloVersion, type ProbeContext } from '../../checks/certificate/hello.ts'
import { probeProtocols } from '../../checks/certificate/probe.ts'
import { AttemptFailure } from '../../src/errors.ts'
import { bindNet } from '../../src/net/index.ts'
import { tlsEndpoint } from '../../checks/certificate/targets.ts'
import { checkTester, failedRuleIds, findingOf } from '../helpers/check-tester.ts'
import { labLeaf, labPki, startTlsServer, tempDir, type LabServer } from '../helpers/tls.ts'

// ---------------------------------------------------------------------------------------------------------------------------------
// Wire helpers: build server messages and read our ClientHello back.

const u16 = (n: number): number[] => [n >> 8, n & 0xff]
const u24 = (n: number): number[] => [n >> 16, (n >> 8) & 0xff, n & 0xff]
const record = (type: number, version: number, body: Uint8Array): Buffer => Buffer.from([type, ...u16(version), ...u16(body.length), ...body])
const handshake = (type: number, body: Uint8Array): Buffer => Buffer.from([type, ...u24(body.length), ...body])
const ext = (type: number, data: number[]): number[] => [...u16(type), ...u16(data.length), ...data]

/** A ServerHello body: 32-byte session id, no compression, optional extensions. */
function serverHello(version: number, cipher: number, exts?: number[]): Buffer {
  const body = [...u16(version), ...Array.from({ length: 32 }, (_, i) => i), 32, ...Array.from({ length: 32 }, () => 0xab), ...u16(cipher), 0]
  return handshake(2, Buffer.from(exts ? [...body, ...u16(exts.length), ...exts] : body))
}
/** What a TLS 1.2 server sends first: ServerHello with renegotiation_info, ec_point_formats and extended_master_secret. */
const TLS12_HELLO = serverHello(0x0303, 0xc02f, [...ext(0xff01, [0]), ...ext(0x000b, [1, 0]), ...ext(0x0017, [])])
/** An SSLv3 server's first flight, in one record: ServerHello (DES-CBC3-SHA, no extensions), Certificate (the lab leaf), ServerHelloDone. */
function ssl3Flight(): Buffer {
  const der = labLeaf().x509.raw
  const cert = handshake(11, Buffer.from([...u24(der.length + 3), ...u24(der.length), ...der]))
  return record(0x16, 0x0300, Buffer.concat([serverHello(0x0300, 0x000a), cert, handshake(14, Buffer.alloc(0))]))
}
const alert = (level: number, description: number, version = 0x0301): Buffer => record(0x15, version, Buffer.from([level, description]))

interface ParsedHello {
  recordVersion: number
  clientVersion: number
  ciphers: number[]
  extensions: Map<number, Buffer> | undefined
  handshakeLength: number
}
/** Reads a ClientHello record as a server would (strict: every length must add up). */
function parseClientHello(b: Buffer): ParsedHello {
  expect(b[0]).toBe(0x16)
  expect(b.readUInt16BE(3)).toBe(b.length - 5)
  expect(b[5]).toBe(1)
  const handshakeLength = b.readUIntBE(6, 3)
  expect(handshakeLength).toBe(b.length - 9)
  let off = 9
  const clientVersion = b.readUInt16BE(off)
  off += 2 + 32
  off += 1 + b[off]!
  const nc = b.readUInt16BE(off)
  const ciphers = Array.from({ length: nc / 2 }, (_, i) => b.readUInt16BE(off + 2 + 2 * i))
  off += 2 + nc
  expect([...b.subarray(off, off + 2)]).toEqual([1, 0])
  off += 2
  if (off === b.length) return { recordVersion: b.readUInt16BE(1), clientVersion, ciphers, extensions: undefined, handshakeLength }
  expect(b.readUInt16BE(off)).toBe(b.length - off - 2)
  off += 2
  const extensions = new Map<number, Buffer>()
  while (off < b.length) {
    const len = b.readUInt16BE(off + 2)
    extensions.set(b.readUInt16BE(off), b.subarray(off + 4, off + 4 + len))
    off += 4 + len
  }
  expect(off).toBe(b.length)
  return { recordVersion: b.readUInt16BE(1), clientVersion, ciphers, extensions, handshakeLength }
}

/** Reads one whole ClientHello record from a server-side socket, however it was chunked. */
function onClientHello(s: Socket, cb: (hello: Buffer) => void): void {
  let buf = Buffer.alloc(0)
  const onData = (d: Buffer): void => {
    buf = Buffer.concat([buf, d])
    if (buf.length < 5 || buf.length < 5 + buf.readUInt16BE(3)) return
    s.off('data', onData)
    cb(buf)
  }
  s.on('data', onData)
}

// ---------------------------------------------------------------------------------------------------------------------------------
// Servers: hand-written TCP servers on loopback, port 0.

interface Raw {
  readonly port: number
  readonly host: string
  close(): Promise<void>
}
async function rawServer(onConnection: (s: Socket) => void, host = '127.0.0.1'): Promise<Raw> {
  const sockets = new Set<Socket>()
  const server: Server = createServer((s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
    s.on('error', () => {})
    onConnection(s)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, host, () => resolve())
  })
  return {
    host,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}

/**
 * An SSLv3 server as far as the first flight goes: a ClientHello whose client_version is 3.0 gets an SSLv3 ServerHello flight;
 * any other hello is passed to the TLS server at `passTo` (so the same port is a whole TLS endpoint that also speaks SSLv3), or,
 * without one, refused with a handshake_failure alert. `ssl3` overrides the SSLv3 answer (hostile variants).
 */
function ssl3Server(opts: { passTo?: number; host?: string; ssl3?: (s: Socket) => void } = {}): Promise<Raw> {
  return rawServer((s) =>
    onClientHello(s, (hello) => {
      if (hello[5] === 1 && hello.readUInt16BE(9) === 0x0300) {
        if (opts.ssl3) opts.ssl3(s)
        else s.write(ssl3Flight())
      } else if (opts.passTo) {
        const up = createConnection({ port: opts.passTo, host: opts.host ?? '127.0.0.1' })
        up.on('error', () => s.destroy())
        s.on('close', () => up.destroy())
        up.write(hello)
        s.pipe(up).pipe(s)
      } else s.end(alert(2, 40, 0x0300))
    }),
  opts.host)
}

/** A probe context as the engine builds one: a real socket limit and the real net helpers, bound to a signal. */
function probeCtx(connectTimeoutMs = 2000, signal = new AbortController().signal): ProbeContext {
  return { signal, connectTimeoutMs, sockets: pLimit(16), net: bindNet(signal, connectTimeoutMs) }
}

/** What the old probe did: a full Node handshake pinned to one version, at security level 0. */
function nodePinned(host: string, port: number, v: SecureVersion): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tlsConnect({ host, port, minVersion: v, maxVersion: v, ciphers: 'DEFAULT@SECLEVEL=0', rejectUnauthorized: false })
    s.once('secureConnect', () => {
      resolve(s.getProtocol() === v)
      s.destroy()
    })
    s.once('error', () => resolve(false))
  })
}
/** The version a full Node handshake offering TLS 1.0–1.3 negotiates (what `fetchServed` sees), or '' when none. */
function nodeFirst(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = tlsConnect({ host, port, minVersion: 'TLSv1', maxVersion: 'TLSv1.3', ciphers: 'DEFAULT@SECLEVEL=0', rejectUnauthorized: false })
    s.once('secureConnect', () => {
      resolve(s.getProtocol() ?? '')
      s.destroy()
    })
    s.once('error', () => resolve(''))
  })
}

const TLS_VERSIONS: readonly SecureVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2']
const ALL: readonly HelloVersion[] = ['SSLv3', 'TLSv1', 'TLSv1.1', 'TLSv1.2']

// ---------------------------------------------------------------------------------------------------------------------------------

describe('certificate hello: the ClientHello', () => {
  it.each([
    ['SSLv3', 0x0300, 0x0300],
    ['TLSv1', 0x0301, 0x0301],
    ['TLSv1.1', 0x0301, 0x0302],
    ['TLSv1.2', 0x0301, 0x0303],
  ] as const)('%s: record version %i, client_version %i', (v, recordVersion, clientVersion) => {
    const h = parseClientHello(clientHello(v, 'api.example.test'))
    expect(h).toMatchObject({ recordVersion, clientVersion })
    expect(h.ciphers).toContain(0x00ff) // renegotiation SCSV
    expect(h.ciphers).toContain(0x000a) // 3DES
    expect(h.ciphers).toContain(0x002f) // RSA AES-CBC-SHA
    expect(h.ciphers).not.toContain(0x5600) // never the fallback SCSV: it would make servers refuse lower versions on purpose
    if (v === 'SSLv3') {
      expect(h.extensions).toBeUndefined()
      expect(h.ciphers).not.toContain(0xc02f)
      return
    }
    expect(h.ciphers).toEqual(expect.arrayContaining([0xc02b, 0xc02f, 0xc009, 0xc013, 0x0033]))
    const sni = h.extensions!.get(0x0000)!
    expect(sni.subarray(5).toString('ascii')).toBe('api.example.test')
    expect([...h.extensions!.get(0x000a)!.subarray(2)]).toEqual([0, 0x1d, 0, 0x17, 0, 0x18, 0, 0x19])
    expect([...h.extensions!.get(0x000b)!]).toEqual([1, 0])
    const sigalgs = h.extensions!.get(0x000d)
    if (v === 'TLSv1.2') expect([...sigalgs!]).toEqual(expect.arrayContaining([0x02, 0x01, 0x02, 0x03])) // rsa_pkcs1_sha1, ecdsa_sha1 bytes
    else expect(sigalgs).toBeUndefined()
  })

  it('puts the random at bytes 11–42 and nowhere else', () => {
    const a = clientHello('TLSv1.2', 'x.test', Buffer.alloc(32, 1))
    const b = clientHello('TLSv1.2', 'x.test', Buffer.alloc(32, 2))
    expect([...a.subarray(11, 43)]).toEqual(Array(32).fill(1))
    expect(Buffer.concat([a.subarray(0, 11), a.subarray(43)])).toEqual(Buffer.concat([b.subarray(0, 11), b.subarray(43)]))
  })

  it('sends no SNI for an IP address, and pads hellos of 256–511 bytes to 512', () => {
    for (const ip of ['127.0.0.1', '::1']) expect(parseClientHello(clientHello('TLSv1.2', ip)).extensions!.has(0)).toBe(false)
    for (let n = 1; n < 250; n += 7) {
      const h = parseClientHello(clientHello('TLSv1.2', `${'a'.repeat(n)}.test`))
      const payload = h.handshakeLength + 4 // the record's payload: what the buggy load balancers count
      expect(payload < 256 || payload >= 512).toBe(true)
      if (payload >= 512 && payload < 520) expect(h.extensions!.has(0x0015)).toBe(true)
    }
  })
})

describe('certificate hello: parity with full Node handshakes on real TLS servers', () => {
  const specs: { name: string; min: SecureVersion; max: SecureVersion }[] = [
    { name: 'TLS 1.0 only', min: 'TLSv1', max: 'TLSv1' },
    { name: 'TLS 1.1 only', min: 'TLSv1.1', max: 'TLSv1.1' },
    { name: 'TLS 1.0–1.1', min: 'TLSv1', max: 'TLSv1.1' },
    { name: 'TLS 1.2 only', min: 'TLSv1.2', max: 'TLSv1.2' },
    { name: 'TLS 1.3 only', min: 'TLSv1.3', max: 'TLSv1.3' },
    { name: 'TLS 1.2–1.3', min: 'TLSv1.2', max: 'TLSv1.3' },
    { name: 'TLS 1.0–1.3', min: 'TLSv1', max: 'TLSv1.3' },
  ]
  const cases = (['127.0.0.1', '::1'] as const).flatMap((host) => specs.map((s) => ({ ...s, host, label: `${s.name} on ${host}` })))
  const servers = new Map<string, LabServer>()
  beforeAll(async () => {
    const chain = [labLeaf(), labPki().intermediate]
    for (const c of cases) servers.set(c.label, await startTlsServer({ chain, host: c.host, minVersion: c.min, maxVersion: c.max }))
  })
  afterAll(async () => {
    await Promise.all([...servers.values()].map((s) => s.close()))
  })

  it.each(cases)('$label: each version, alone, gets the verdict a pinned Node handshake gets', async ({ label, host }) => {
    const { port } = servers.get(label)!
    const ctx = probeCtx()
    for (const v of TLS_VERSIONS) {
      const node = await nodePinned(host, port, v)
      const raw = await sendHello({ host, port }, v as HelloVersion, ctx)
      const accepted = raw.state === 'answered' && raw.version === { TLSv1: 0x0301, 'TLSv1.1': 0x0302, 'TLSv1.2': 0x0303 }[v as 'TLSv1']
      expect({ v, accepted }).toEqual({ v, accepted: node })
      if (!accepted) expect(raw.state === 'refused' || (raw.state === 'answered' && raw.version < 0x0303)).toBe(true)
    }
    // OpenSSL 3 refuses SSLv3 outright.
    expect(await sendHello({ host, port }, 'SSLv3', ctx)).toMatchObject({ state: 'refused', detail: expect.stringMatching(/alert/) })
  })

  it.each(cases)('$label: probeProtocols gives the pinned verdict for every version', async ({ label, host, min, max }) => {
    const { port } = servers.get(label)!
    const first = await nodeFirst(host, port)
    const got = await probeProtocols({ host, port }, first, ALL, probeCtx())
    for (const v of ALL) {
      const node = v === 'SSLv3' ? false : await nodePinned(host, port, v)
      expect({ v, state: got.get(v)?.state }).toEqual({ v, state: node ? 'accepted' : 'refused' })
      const order = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3']
      expect(node).toBe(order.indexOf(v) >= order.indexOf(min) && order.indexOf(v) <= order.indexOf(max))
    }
  })
})

describe('certificate hello: an SSLv3 server and hostile answers', () => {
  const started: Raw[] = []
  const start = async (p: Promise<Raw>): Promise<Raw> => {
    const s = await p
    started.push(s)
    return s
  }
  afterAll(async () => {
    await Promise.all(started.map((s) => s.close()))
  })
  const ep = (s: Raw): { host: string; port: number } => ({ host: s.host, port: s.port })

  it.each(['127.0.0.1', '::1'])('an SSLv3 server on %s: SSLv3 accepted, TLS hellos refused with its alert', async (host) => {
    const s = await start(ssl3Server({ host }))
    const ctx = probeCtx()
    expect(await sendHello(ep(s), 'SSLv3', ctx)).toEqual({ state: 'answered', version: 0x0300, cipher: 0x000a })
    expect(await sendHello(ep(s), 'TLSv1', ctx)).toEqual({ state: 'refused', detail: 'fatal alert handshake_failure (40)' })
    const got = await probeProtocols(ep(s), 'unknown', ALL, ctx)
    expect(Object.fromEntries([...got].map(([v, r]) => [v, r.state]))).toEqual({ SSLv3: 'accepted', TLSv1: 'refused', 'TLSv1.1': 'refused', 'TLSv1.2': 'refused' })
    expect(got.get('SSLv3')!.detail).toBe('ServerHello SSLv3, cipher 0x000a')
  })

  const hostile: { name: string; serve: (s: Socket) => void; want: object; timeoutMs?: number }[] = [
    {
      name: 'a ServerHello split byte by byte across writes',
      serve: (s) => {
        s.setNoDelay(true)
        const bytes = [...record(0x16, 0x0303, TLS12_HELLO)]
        const next = (): void => {
          if (!bytes.length || s.destroyed) return
          s.write(Buffer.from([bytes.shift()!]))
          setTimeout(next, 1)
        }
        next()
      },
      want: { state: 'answered', version: 0x0303, cipher: 0xc02f },
    },
    {
      name: 'a ServerHello split over 1-byte records, after a HelloRequest and a warning alert, coalesced with the rest of the flight',
      serve: (s) => s.write(Buffer.concat([record(0x16, 0x0303, handshake(0, Buffer.alloc(0))), alert(1, 112), ...[...TLS12_HELLO].map((b) => record(0x16, 0x0303, Buffer.from([b]))), record(0x16, 0x0303, handshake(14, Buffer.alloc(0)))])),
      want: { state: 'answered', version: 0x0303, cipher: 0xc02f },
    },
    { name: 'a fatal alert', serve: (s) => s.write(alert(2, 70)), want: { state: 'refused', detail: 'fatal alert protocol_version (70)' } },
    { name: 'a close_notify warning', serve: (s) => s.write(alert(1, 0)), want: { state: 'refused', detail: 'warning alert close_notify (0)' } },
    { name: 'a reset', serve: (s) => s.resetAndDestroy(), want: { state: 'refused', detail: expect.stringMatching(/^ECONNRESET/) } },
    { name: 'a close without a word', serve: (s) => s.end(), want: { state: 'refused', detail: 'closed after 0 bytes' } },
    { name: 'half a record, then a close', serve: (s) => s.end(record(0x16, 0x0303, TLS12_HELLO).subarray(0, 20)), want: { state: 'refused', detail: 'closed after 20 bytes' } },
    {
      name: 'garbage (an HTTP error page)',
      serve: (s) => s.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n'),
      want: { state: 'inconclusive', reason: 'protocol', detail: expect.stringMatching(/not a TLS record \(first byte 0x48\)/) },
    },
    {
      name: 'a certificate before any ServerHello',
      serve: (s) => s.write(record(0x16, 0x0303, handshake(11, Buffer.from([0, 0, 0])))),
      want: { state: 'inconclusive', reason: 'protocol', detail: expect.stringMatching(/expected a ServerHello, got handshake message type 11/) },
    },
    {
      name: '1 MB of HelloRequests and no ServerHello (byte cap)',
      serve: (s) => s.write(Buffer.concat(Array.from({ length: 1024 * 1024 / 9 }, () => record(0x16, 0x0303, handshake(0, Buffer.alloc(0)))))),
      want: { state: 'inconclusive', reason: 'protocol', detail: expect.stringMatching(new RegExp(`no ServerHello in the first ${MAX_HELLO_BYTES} bytes`)) },
    },
    { name: 'a tarpit', serve: () => {}, timeoutMs: 300, want: { state: 'inconclusive', reason: 'timeout', detail: expect.stringMatching(/timed out/) } },
  ]
  it.each(hostile)('$name', async ({ serve, want, timeoutMs }) => {
    const s = await start(rawServer((sock) => onClientHello(sock, () => serve(sock))))
    expect(await sendHello(ep(s), 'TLSv1.2', probeCtx(timeoutMs))).toEqual(want)
  })

  it('a ServerHello choosing TLS 1.3 (never offered) or a version below the range refuses the range', async () => {
    const t13 = await start(rawServer((sock) => onClientHello(sock, () => sock.write(record(0x16, 0x0303, serverHello(0x0303, 0x1301, ext(0x002b, [3, 4])))))))
    const got = await probeProtocols(ep(t13), 'unknown', ['TLSv1', 'TLSv1.1', 'TLSv1.2'], probeCtx())
    expect(got.get('TLSv1.2')).toMatchObject({ state: 'refused', detail: 'server chose TLSv1.3 when offered TLSv1–TLSv1.2' })
    // A TLS hello answered with SSLv3: the TLS versions are refused and SSLv3 is proven.
    const low = await start(rawServer((sock) => onClientHello(sock, () => sock.write(ssl3Flight()))))
    const r = await probeProtocols(ep(low), 'unknown', ['TLSv1', 'TLSv1.1'], probeCtx())
    expect(Object.fromEntries([...r].map(([v, x]) => [v, x.state]))).toEqual({ SSLv3: 'accepted', TLSv1: 'refused', 'TLSv1.1': 'refused' })
  })

  it('a closed port is inconclusive (connectivity); an aborted scan throws aborted', async () => {
    const s = await start(rawServer(() => {}))
    await s.close()
    expect(await sendHello(ep(s), 'SSLv3', probeCtx())).toMatchObject({ state: 'inconclusive', reason: 'connectivity' })
    const tarpit = await start(rawServer(() => {}))
    const ac = new AbortController()
    const p = sendHello(ep(tarpit), 'TLSv1.2', probeCtx(5000, ac.signal))
    setTimeout(() => ac.abort(), 50)
    await expect(p).rejects.toSatisfy((e) => e instanceof AttemptFailure && e.reason === 'aborted')
  })
})

describe('certificate hello: through the family', () => {
  const tmp = tempDir()
  const settings = { tls: { caFile: tmp.write('ca.pem', labPki().root.pem) } }
  const tester = checkTester(certificate.checks, { perHost: 16, connectTimeoutMs: 500, timeoutMs: 5000 })
  const started: { close(): Promise<void> }[] = []
  let backend: LabServer
  beforeAll(async () => {
    backend = await startTlsServer({ chain: [labLeaf(), labPki().intermediate] })
    started.push(backend)
  })
  afterAll(async () => {
    await Promise.all(started.map((s) => s.close()))
    tmp.cleanup()
  })
  const front = async (ssl3?: (s: Socket) => void): Promise<Raw> => {
    const s = await ssl3Server({ passTo: backend.port, ...(ssl3 ? { ssl3 } : {}) })
    started.push(s)
    return s
  }

  it('an endpoint that also speaks SSLv3 fails certificate-legacy-protocol for SSLv3 only', async () => {
    const s = await front()
    const r = await tester.run(tlsEndpoint('127.0.0.1', s.port), { settings })
    expect(r.errors).toEqual([])
    expect(failedRuleIds(r)).toEqual(['certificate-legacy-protocol'])
    const legacy = r.findings.filter((f) => f.ruleId === 'certificate-legacy-protocol')
    expect(legacy.map((f) => [f.resource, f.status])).toEqual([['protocol SSLv3', 'fail'], ['protocol TLSv1', 'pass'], ['protocol TLSv1.1', 'pass']])
    const f = findingOf(r, 'certificate-legacy-protocol', (x) => x.status === 'fail')
    expect(f.message).toBe(`tls://127.0.0.1:${s.port}: SSLv3 accepted`)
    expect(f.evidence).toMatchObject({ probedProtocol: 'SSLv3', probe: 'accepted', protocol: 'TLSv1.3', protocols: { SSLv3: 'accepted', TLSv1: 'refused', 'TLSv1.1': 'refused', 'TLSv1.2': 'accepted', 'TLSv1.3': 'accepted' } })
  })

  it.each([
    { name: 'garbage', ssl3: (s: Socket) => s.end('\x00\xffnot TLS'), reason: 'protocol', message: /SSLv3 probe: SSLv3 hello to 127\.0\.0\.1:\d+: not a TLS record/ },
    { name: 'a tarpit', ssl3: () => {}, reason: 'timeout', message: /SSLv3 probe: .*timed out/ },
  ])('an SSLv3 hello answered with $name ends the attempt as $reason, after the other results', async ({ ssl3, reason, message }) => {
    const s = await front(ssl3)
    const r = await tester.run(tlsEndpoint('127.0.0.1', s.port), { settings })
    expect(r.errors).toHaveLength(1)
    expect(r.errors[0]).toMatchObject({ reason, message: expect.stringMatching(message) })
    expect(r.findings.filter((f) => f.ruleId === 'certificate-legacy-protocol').map((f) => f.resource)).toEqual(['protocol TLSv1', 'protocol TLSv1.1'])
  })
})

describe('certificate hello: the reader on arbitrary input (property)', () => {
  /** Cuts `b` into chunks of the given sizes (cycled). */
  const chunked = (b: Buffer, sizes: number[]): Buffer[] => {
    const out: Buffer[] = []
    for (let i = 0, k = 0; i < b.length; k++) {
      const n = sizes.length ? sizes[k % sizes.length]! : b.length
      out.push(b.subarray(i, i + n))
      i += n
    }
    return out
  }
  const feed = (chunks: Buffer[], max?: number): unknown => {
    const r = new ServerHelloReader(max)
    for (const c of chunks) {
      const a = r.push(c)
      if (a) return a
    }
    return undefined
  }
  /** A valid first flight with the ServerHello split over records of the given sizes, after skippable messages. */
  const flight = (recordSizes: number[], preamble: boolean): Buffer => {
    const hs = Buffer.concat([TLS12_HELLO, handshake(14, Buffer.alloc(0))])
    const records = chunked(hs, recordSizes).map((c) => record(0x16, 0x0303, c))
    return Buffer.concat([...(preamble ? [record(0x16, 0x0303, handshake(0, Buffer.alloc(0))), alert(1, 112)] : []), ...records])
  }
  const sizes = fc.array(fc.integer({ min: 1, max: 64 }), { maxLength: 12 })

  it('any chunking of a valid flight, over any record split, yields the same ServerHello', () => {
    fc.assert(
      fc.property(sizes, sizes, fc.boolean(), (recordSizes, chunkSizes, preamble) => {
        expect(feed(chunked(flight(recordSizes, preamble), chunkSizes))).toEqual({ kind: 'server-hello', version: 0x0303, cipher: 0xc02f })
      }),
      { numRuns: 300 },
    )
  })

  it('arbitrary bytes, or a mutated flight, never make it throw anything but HelloParseError', () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 600 }).map((b) => Buffer.from(b)),
      // Bytes that start like TLS records, to get past the first check.
      fc.array(fc.tuple(fc.integer({ min: 20, max: 23 }), fc.integer({ min: 0, max: 5 }), fc.uint8Array({ maxLength: 80 })), { maxLength: 6 }).map((rs) => Buffer.concat(rs.map(([t, minor, body]) => record(t, 0x0300 + minor, body)))),
      // A valid flight with a few bytes overwritten.
      fc.tuple(sizes, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 })).map(([rs, edits]) => {
        const b = Buffer.from(flight(rs, false))
        for (const [at, v] of edits) b[at % b.length] = v
        return b
      }),
    )
    fc.assert(
      fc.property(bytes, sizes, fc.integer({ min: 16, max: 2048 }), (b, chunkSizes, max) => {
        try {
          feed(chunked(b, chunkSizes), max)
        } catch (err) {
          expect(err).toBeInstanceOf(HelloParseError)
        }
      }),
      { numRuns: 1000 },
    )
  })
})
