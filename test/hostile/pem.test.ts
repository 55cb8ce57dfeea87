/**
 * @fileoverview PEM scanning is linear: `-----BEGIN CERTIFICATE-----` repeated without END (quadratic with the former
 * lazy-regex-with-backreference scanner: 0.9 MB took 11 s) parses as an input error in well under a second, through the
 * parser and through a whole scan of the file; CA files use the same parser.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tmpdir } from 'node:os'
import { AttemptFailure, scan } from '../../src/index.ts'
import { parseCertificates, pemBlocks } from '../../checks/certificate/chain.ts'
import certificate from '../../checks/certificate/index.ts'
import { labLeaf, labPki } from '../helpers/tls.ts'

const dir = mkdtempSync(join(tmpdir(), 'ztscan-pem-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const BEGINS = '-----BEGIN CERTIFICATE-----\n'.repeat(64_000)
// Generous bounds: the machine is shared; the quadratic scanner needed ~40 s for this input.
const BOUND_MS = 3000

describe('PEM scanning is linear', () => {
  it('64,000 BEGIN lines without END: an input error, fast', () => {
    const t0 = performance.now()
    let err: unknown
    try {
      parseCertificates(Buffer.from(BEGINS), 'begins.pem')
    } catch (e) {
      err = e
    }
    expect(performance.now() - t0).toBeLessThan(BOUND_MS)
    expect(err).toBeInstanceOf(AttemptFailure)
    expect((err as AttemptFailure).reason).toBe('input')
    expect((err as AttemptFailure).message).toMatch(/begins\.pem: no CERTIFICATE block/)
  })

  it('near the 10 MiB file cap, with one END at the very end: still one pass', () => {
    const text = '-----BEGIN CERTIFICATE-----\nAAAA\n'.repeat(300_000) + '-----END CERTIFICATE-----\n'
    const t0 = performance.now()
    expect([...pemBlocks(text)]).toHaveLength(1)
    expect(performance.now() - t0).toBeLessThan(BOUND_MS)
  })

  it('valid blocks around unterminated ones are still read, in order', () => {
    const { root, intermediate } = labPki()
    const text = `-----BEGIN CERTIFICATE-----\nAAAA\n${root.pem}-----BEGIN PRIVATE KEY-----\nAAAA\n${intermediate.pem}-----BEGIN lower-----\n`
    const certs = parseCertificates(Buffer.from(text), 'mixed.pem')
    expect(certs.map((c) => c.fingerprint256)).toEqual([root.x509.fingerprint256, intermediate.x509.fingerprint256])
  })

  it('a scan of the file ends as an input error naming it; as a CA file it fails the scan before any probe (fail closed)', async () => {
    const bad = join(dir, 'begins.pem')
    writeFileSync(bad, BEGINS)
    const good = join(dir, 'leaf.pem')
    writeFileSync(good, labLeaf().pem + labPki().intermediate.pem)
    const t0 = performance.now()
    const r1 = await scan({ targets: [`cert:${bad}`], checks: certificate.checks })
    await expect(scan({ targets: [`cert:${good}`], checks: certificate.checks, settings: { tls: { caFile: bad } } })).rejects.toThrow(/settings\.tls\.caFile: .*begins\.pem \(CA file\)/)
    expect(performance.now() - t0).toBeLessThan(BOUND_MS * 2)
    expect(r1.errors).toHaveLength(1)
    expect(r1.errors[0]).toMatchObject({ reason: 'input' })
    expect(r1.errors[0]!.message).toContain('begins.pem')
  })
})
