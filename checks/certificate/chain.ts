/**
 * @fileoverview Certificate parsing (PEM bundles, DER) and the trust anchor store (Node's bundled roots plus CA files), indexed
 * for path building (`path.ts`).
 */
import { X509Certificate } from 'node:crypto'
import { rootCertificates } from 'node:tls'
import { AttemptFailure } from '../../src/errors.ts'
import { readFileCapped } from '../../src/lib-files.ts'
import { DerError } from './der.ts'
import { nodeOf, type AnchorIndex, type Node } from './path.ts'

const CERT_LABELS = new Set(['CERTIFICATE', 'TRUSTED CERTIFICATE', 'X509 CERTIFICATE'])
const BEGIN = '-----BEGIN '
const DASHES = '-----'

/**
 * The PEM blocks of a text, in order, found with `indexOf` only: linear in the text length whatever it holds (a file of
 * `-----BEGIN CERTIFICATE-----` repeated without END is one scan, not one scan per BEGIN). A block without its END (before the next BEGIN) is
 * skipped. Labels are at most 64 characters of `A-Z0-9 `; anything else is not a PEM header and is skipped.
 */
export function* pemBlocks(text: string): Generator<{ label: string; body: string }> {
  let at = text.indexOf(BEGIN)
  while (at >= 0) {
    const labelStart = at + BEGIN.length
    const labelEnd = text.indexOf(DASHES, labelStart)
    if (labelEnd < 0) return
    const label = text.slice(labelStart, labelEnd)
    if (label.length === 0 || label.length > 64 || !/^[A-Z0-9 ]+$/.test(label)) {
      at = text.indexOf(BEGIN, labelStart)
      continue
    }
    const bodyStart = labelEnd + DASHES.length
    // A block ends before the next BEGIN: the END is looked for in that segment only, so every character is scanned a
    // bounded number of times (segments do not overlap). An unterminated block is skipped.
    const next = text.indexOf(BEGIN, bodyStart)
    const segment = text.slice(bodyStart, next < 0 ? undefined : next)
    const end = `-----END ${label}-----`
    const endAt = segment.indexOf(end)
    at = next
    if (endAt < 0) continue
    yield { label, body: segment.slice(0, endAt) }
  }
}

/**
 * Parses a PEM bundle (every `CERTIFICATE` block, other blocks such as keys are skipped unread) or a single DER certificate.
 * `name` names the source in errors. Throws `AttemptFailure('input')`.
 */
export function parseCertificates(data: Buffer, name: string): X509Certificate[] {
  const text = data.toString('latin1')
  if (text.includes(BEGIN)) {
    const out: X509Certificate[] = []
    let blocks = 0
    for (const { label, body } of pemBlocks(text)) {
      if (!CERT_LABELS.has(label)) continue
      blocks++
      const der = Buffer.from(body.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64')
      try {
        out.push(new X509Certificate(der))
      } catch (err) {
        throw new AttemptFailure('input', `${name}: certificate #${blocks} is not a valid X.509 certificate (${(err as Error).message})`)
      }
    }
    if (!out.length) throw new AttemptFailure('input', `${name}: no CERTIFICATE block found in the PEM data`)
    return out
  }
  try {
    return [new X509Certificate(data)]
  } catch {
    throw new AttemptFailure('input', `${name}: neither PEM certificates nor a DER-encoded X.509 certificate`)
  }
}

/** A set of trust anchors, indexed by normalised subject name for path building. */
export interface AnchorStore extends AnchorIndex {
  readonly size: number
  /** The anchors, as PEM (for the TLS client context that records OpenSSL's own verdict). */
  readonly pems: readonly string[]
  /** Where the anchors came from, for evidence. */
  readonly sources: readonly string[]
}

function store(certs: readonly X509Certificate[], sources: readonly string[], systemCount: number): AnchorStore {
  const byKey = new Map<string, Node[]>()
  const fps = new Set<string>()
  const systemFps = new Set<string>()
  const pems: string[] = []
  for (const [i, c] of certs.entries()) {
    if (fps.has(c.fingerprint256)) continue
    fps.add(c.fingerprint256)
    const system = i < systemCount
    if (system) systemFps.add(c.fingerprint256)
    pems.push(c.toString())
    const node = nodeOf(c, { anchor: true, system })
    // An anchor whose name cannot be read can anchor nothing.
    if (node.fields instanceof DerError) continue
    const list = byKey.get(node.fields.subject.key) ?? []
    list.push(node)
    byKey.set(node.fields.subject.key, list)
  }
  return { size: fps.size, byName: (k) => byKey.get(k) ?? [], has: (fp) => fps.has(fp), system: (fp) => systemFps.has(fp), sources, pems }
}

let systemRoots: X509Certificate[] | undefined
function system(): X509Certificate[] {
  return (systemRoots ??= rootCertificates.map((pem) => new X509Certificate(pem)))
}

/** A CA bundle is read up to this size (the same cap as a certificate file). */
const MAX_CA_FILE_BYTES = 10 * 1024 * 1024

/** How CA files are read: a check's `ctx.readFile` (bounded, regular files only); by default the same bounded reader. */
export type ReadFile = (path: string, maxBytes: number) => Promise<Buffer>

async function caFileCerts(path: string, read: ReadFile): Promise<X509Certificate[]> {
  let data: Buffer
  try {
    data = await read(path, MAX_CA_FILE_BYTES)
  } catch (err) {
    const code = (err as { code?: unknown }).code
    throw new AttemptFailure('input', `${path}: cannot read the CA file (${typeof code === 'string' ? code : (err as Error).message})`)
  }
  return parseCertificates(data, `${path} (CA file)`)
}

/**
 * Builds the anchor store: Node's bundled root store (unless `useSystemRoots` is false) plus every certificate in the CA files.
 * Every certificate in a CA file is an anchor, even a non-self-signed one (explicit trust, like OpenSSL's partial-chain mode).
 * Not cached here: a scan builds it once through `ctx.memo` (so an edited CA file is read again by the next scan).
 */
export async function loadAnchors(caFiles: readonly string[], useSystemRoots: boolean, read: ReadFile = readFileCapped): Promise<AnchorStore> {
  const certs: X509Certificate[] = useSystemRoots ? [...system()] : []
  const sources = useSystemRoots ? ['node-root-store'] : []
  for (const f of caFiles) {
    certs.push(...(await caFileCerts(f, read)))
    sources.push(f)
  }
  return store(certs, sources, useSystemRoots ? system().length : 0)
}
