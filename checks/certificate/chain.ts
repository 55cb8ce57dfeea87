/**
 * @fileoverview Certificate parsing (PEM bundles, DER) and chain evaluation against trust anchors, done with `node:crypto`
 * (`checkIssued` + `verify`) rather than OpenSSL's verifier, so an incomplete chain, an unknown root, a self-signed leaf and
 * a bad signature can be told apart.
 */
import { X509Certificate } from 'node:crypto'
import { stat } from 'node:fs/promises'
import { rootCertificates } from 'node:tls'
import { AttemptFailure } from '../../src/errors.ts'
import { readBounded } from '../../src/lib-files.ts'
import { describe, type CertInfo } from './describe.ts'

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g

/**
 * Parses a PEM bundle (every `CERTIFICATE` block, other blocks such as keys are skipped unread) or a single DER certificate.
 * `name` names the source in errors. Throws `AttemptFailure('input')`.
 */
export function parseCertificates(data: Buffer, name: string): X509Certificate[] {
  const text = data.toString('latin1')
  if (text.includes('-----BEGIN ')) {
    const out: X509Certificate[] = []
    let blocks = 0
    for (const m of text.matchAll(PEM_BLOCK)) {
      if (m[1] !== 'CERTIFICATE' && m[1] !== 'TRUSTED CERTIFICATE' && m[1] !== 'X509 CERTIFICATE') continue
      blocks++
      const der = Buffer.from(m[2]!.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64')
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

/** A set of trust anchors indexed by subject. */
export interface AnchorStore {
  readonly size: number
  /** Anchors whose subject equals `name` (Node's multi-line DN form). */
  bySubject(name: string): readonly X509Certificate[]
  has(fingerprint256: string): boolean
  /** Where the anchors came from, for evidence. */
  readonly sources: readonly string[]
}

function store(certs: readonly X509Certificate[], sources: readonly string[]): AnchorStore {
  const subj = new Map<string, X509Certificate[]>()
  const fps = new Set<string>()
  for (const c of certs) {
    const list = subj.get(c.subject) ?? []
    list.push(c)
    subj.set(c.subject, list)
    fps.add(c.fingerprint256)
  }
  return { size: fps.size, bySubject: (n) => subj.get(n) ?? [], has: (fp) => fps.has(fp), sources }
}

let systemRoots: X509Certificate[] | undefined
function system(): X509Certificate[] {
  return (systemRoots ??= rootCertificates.map((pem) => new X509Certificate(pem)))
}

/** A CA bundle is read up to this size (the same cap as a certificate file). */
const MAX_CA_FILE_BYTES = 10 * 1024 * 1024

async function caFileCerts(path: string): Promise<X509Certificate[]> {
  let data: Buffer
  try {
    data = await readBounded(path, MAX_CA_FILE_BYTES)
  } catch (err) {
    throw new AttemptFailure('input', `${path}: cannot read the CA file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
  }
  return parseCertificates(data, `${path} (CA file)`)
}

/**
 * Builds the anchor store: Node's bundled root store (unless `useSystemRoots` is false) plus every certificate in the CA files.
 * Every certificate in a CA file is an anchor, even a non-self-signed one (explicit trust, like OpenSSL's partial-chain mode).
 */
export async function loadAnchors(caFiles: readonly string[], useSystemRoots: boolean): Promise<AnchorStore> {
  const key = JSON.stringify([caFiles, await Promise.all(caFiles.map(stampOf)), useSystemRoots])
  let p = storeCache.get(key)
  if (!p) {
    p = buildAnchors(caFiles, useSystemRoots)
    storeCache.set(key, p)
    p.catch(() => storeCache.delete(key))
  }
  return p
}

// Keyed by the files with their size and mtime, so an edited CA file is read again; the stamps themselves are reused for a
// second, as a scan asks for them once per target.
const stamps = new Map<string, { at: number; stamp: Promise<string> }>()
function stampOf(path: string): Promise<string> {
  const now = Date.now()
  const hit = stamps.get(path)
  if (hit && now - hit.at < 1000) return hit.stamp
  const stamp = stat(path).then((s) => `${s.size}:${s.mtimeMs}`, () => 'missing')
  stamps.set(path, { at: now, stamp })
  return stamp
}
const storeCache = new Map<string, Promise<AnchorStore>>()

async function buildAnchors(caFiles: readonly string[], useSystemRoots: boolean): Promise<AnchorStore> {
  const certs: X509Certificate[] = useSystemRoots ? [...system()] : []
  const sources = useSystemRoots ? ['node-root-store'] : []
  for (const f of caFiles) {
    certs.push(...(await caFileCerts(f)))
    sources.push(f)
  }
  return store(certs, sources)
}

/** The outcome of chain evaluation. */
export interface ChainVerdict {
  /**
   * `trusted`: a path from the leaf to an anchor with valid signatures. `self-signed`: the leaf is self-signed and not an anchor.
   * `untrusted-root`: the path ends at a self-signed certificate that is not an anchor. `incomplete`: a certificate's issuer is
   * neither served nor an anchor (an intermediate is missing — or the root is unknown; without fetching AIA URLs the two look the same).
   * `bad-signature`: an issuer by name was found but its key does not verify the signature.
   */
  readonly status: 'trusted' | 'self-signed' | 'untrusted-root' | 'incomplete' | 'bad-signature'
  /** Subject of the anchor reached, when trusted. */
  readonly anchor?: string
  /** Issuer name that could not be found or verified. */
  readonly missingIssuer?: string
  /** Position (index in the served list) of the certificate whose issuer is missing or bad. */
  readonly at?: number
}

// Many endpoints share intermediates and roots: remember signature checks (bounded).
const verified = new Map<string, boolean>()
function issues(child: X509Certificate, parent: X509Certificate): boolean {
  const key = `${child.fingerprint256}>${parent.fingerprint256}`
  let ok = verified.get(key)
  if (ok === undefined) {
    try {
      ok = child.checkIssued(parent) && child.verify(parent.publicKey)
    } catch {
      ok = false
    }
    if (verified.size >= 10_000) verified.clear()
    verified.set(key, ok)
  }
  return ok
}

/** Walks from the leaf (index 0) through the served certificates to an anchor. */
export function evaluateChain(served: readonly CertInfo[], anchors: AnchorStore): ChainVerdict {
  const used = new Set<number>([0])
  let cur = 0
  for (let depth = 0; depth <= served.length; depth++) {
    const c = served[cur]!.x509
    if (anchors.has(c.fingerprint256)) return { status: 'trusted', anchor: served[cur]!.subject }
    const byName = anchors.bySubject(c.issuer)
    const anchor = byName.find((a) => issues(c, a))
    if (anchor) return { status: 'trusted', anchor: describe(anchor).subject }
    if (served[cur]!.selfSigned) return { status: cur === 0 ? 'self-signed' : 'untrusted-root', at: cur }
    let next = -1
    let nameMatch = byName.length > 0
    for (let i = 0; i < served.length; i++) {
      if (used.has(i) || served[i]!.x509.subject !== c.issuer) continue
      nameMatch = true
      if (issues(c, served[i]!.x509)) {
        next = i
        break
      }
    }
    if (next < 0) return { status: nameMatch ? 'bad-signature' : 'incomplete', missingIssuer: served[cur]!.issuer, at: cur }
    used.add(next)
    cur = next
  }
  return { status: 'incomplete', at: cur }
}
