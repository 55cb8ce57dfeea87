/**
 * The built-in input checks load a family's code only when they need it (checks/preflight.ts): a failure to load it is
 * reported as that, never as a problem of the file or setting being checked, and never thrown past the input check. The
 * module is made to fail with a mock: a broken install cannot be produced otherwise.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import { labLeaf } from './helpers/tls.ts'

const dir = mkdtempSync(join(tmpdir(), 'ztscan-preflight-load-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
afterEach(() => {
  vi.doUnmock('../checks/certificate/chain.ts')
  vi.doUnmock('../checks/endpoint-agent/catalogue.ts')
  vi.resetModules()
})

/** The library loaded afresh after `module` was made to fail on import. */
async function withBroken(module: string): Promise<typeof import('../src/index.ts')> {
  vi.resetModules()
  vi.doMock(module, () => {
    throw new Error('simulated broken install')
  })
  return import('../src/index.ts')
}

describe('an input check whose code fails to load', () => {
  it('the certificate reader: a "preflight: cannot load" problem, not one of settings.tls.caFile', async () => {
    const pem = join(dir, 'ca.pem')
    writeFileSync(pem, labLeaf().pem)
    // The same CA file passes with the reader loading (the problem below is the load's, not the file's).
    const ok = await import('../src/index.ts')
    await expect(ok.preflight({ targets: ['host://127.0.0.1?ports=22'], settings: { tls: { caFile: pem } } })).resolves.toBeUndefined()
    const lib = await withBroken('../checks/certificate/chain.ts')
    const err = await lib.preflight({ targets: ['host://127.0.0.1?ports=22'], settings: { tls: { caFile: pem } } }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(lib.OptionsError)
    expect((err as Error).message).toMatch(/^preflight: cannot load the certificate reader \(/)
    expect((err as Error).message).not.toContain('caFile')
  })

  it('the agent catalogue reader: an OptionsError from the input check, not a throw', async () => {
    const lib = await withBroken('../checks/endpoint-agent/catalogue.ts')
    const { builtinInputChecks } = await import('../checks/preflight.ts')
    const policy = lib.parsePolicy({ rules: { 'endpoint-agent-missing': { parameters: { required: ['crowdstrike-falcon'] } } } }, 'policy.yaml')
    const rules = new Map([['endpoint-agent-missing', { values: { required: ['crowdstrike-falcon'] } }]])
    const input = { targets: [], settings: {}, policy, rules, checks: [] } as unknown as Parameters<(typeof builtinInputChecks)[number]>[0]
    const problems = (await Promise.all(builtinInputChecks.map((c) => c(input)))).flat()
    expect(problems.map((p) => p.message)).toEqual([expect.stringMatching(/^preflight: cannot load the endpoint-agent catalogue reader \(/)])
  })
})
