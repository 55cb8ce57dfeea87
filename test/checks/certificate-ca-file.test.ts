import { describe, expect, it } from 'vitest'
import { certificateCheck } from '../../checks/certificate/index.ts'
import { checkTester, failedRuleIds, passedRuleIds } from '../helpers/check-tester.ts'
import { issue, labPki, privateKey, tempDir } from '../helpers/tls.ts'

describe('CA certificate files', () => {
  const t = checkTester(certificateCheck)
  it('a root CA file is judged as a CA (expiry, key, signature, CA profile), with no leaf or chain rules', async () => {
    const tmp = tempDir()
    try {
      const file = tmp.write('root.pem', labPki().root.pem)
      const report = await t.run(`cert:${file}`)
      expect(report.errors).toEqual([])
      expect(failedRuleIds(report)).toEqual([])
      expect(passedRuleIds(report)).toEqual([
        'certificate-expired', 'certificate-expiring', 'certificate-expiring-critical', 'certificate-invalid-ca', 'certificate-name-constraints', 'certificate-not-yet-valid',
        'certificate-profile-violation', 'certificate-unknown-critical-extension', 'certificate-weak-key', 'certificate-weak-signature', 'certificate-wrong-purpose',
      ])
    } finally {
      tmp.cleanup()
    }
  })
  it('a weak root CA file still fails on its key', async () => {
    const tmp = tempDir()
    try {
      const now = Date.now()
      const root = issue({ cn: 'Weak Root', key: privateKey('rsa:1024'), ca: true, notBefore: new Date(now - 86_400_000), notAfter: new Date(now + 3650 * 86_400_000) })
      const report = await t.run(`cert:${tmp.write('weak-root.pem', root.pem)}`)
      expect(failedRuleIds(report)).toEqual(['certificate-weak-key'])
    } finally {
      tmp.cleanup()
    }
  })
})
