import { afterAll, describe, expect, it } from 'vitest'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { resolveLayers, type FlagSpec } from '../src/config/layers.ts'

/**
 * `--chain` and `--no-chain` contradict each other. Across layers the higher one wins, as for every other flag (a CI
 * config file with `no-chain: true` and a one-off `--chain` on the command line chains); within one layer both stay, and
 * the CLI refuses them ("give one of them").
 */
const flags: Record<string, FlagSpec> = { chain: { type: 'boolean' }, 'no-chain': { type: 'boolean' }, 'fail-on': { type: 'string' } }
const base = mkdtempSync(join(tmpdir(), 'ztscan-opposites-'))
afterAll(() => rmSync(base, { recursive: true, force: true }))
let n = 0
function repo(config: string): string {
  const d = join(base, `r${n++}`)
  mkdirSync(join(d, '.git'), { recursive: true })
  writeFileSync(join(d, 'ztscan.config.yaml'), config)
  return d
}
const layers = (cwd: string, given: Record<string, unknown>, env: Record<string, string> = {}) => resolveLayers({ flags, given, env, cwd })

describe('opposite switches across configuration layers', () => {
  it('a flag drops the opposite set by the config file or the environment', async () => {
    const fromFile = await layers(repo('no-chain: true\nfail-on: none\n'), { chain: true })
    expect(fromFile.values).toEqual({ chain: true, 'fail-on': 'none' })
    expect(fromFile.sources.get('chain')).toBe('--chain')
    expect(fromFile.sources.has('no-chain')).toBe(false)
    const fromEnv = await layers(repo('fail-on: none\n'), { 'no-chain': true }, { ZTSCAN_CHAIN: '1' })
    expect(fromEnv.values).toEqual({ 'no-chain': true, 'fail-on': 'none' })
  })
  it('the environment drops the config file\'s opposite; a false value drops nothing', async () => {
    expect((await layers(repo('chain: true\n'), {}, { ZTSCAN_NO_CHAIN: 'yes' })).values).toEqual({ 'no-chain': true })
    expect((await layers(repo('no-chain: true\n'), {}, { ZTSCAN_CHAIN: '0' })).values).toEqual({ chain: false, 'no-chain': true })
  })
  it('both in one layer stay (the CLI says "give one of them")', async () => {
    expect((await layers(repo('chain: true\nno-chain: true\n'), {})).values).toEqual({ chain: true, 'no-chain': true })
    expect((await layers(repo(''), {}, { ZTSCAN_CHAIN: '1', ZTSCAN_NO_CHAIN: '1' })).values).toEqual({ chain: true, 'no-chain': true })
    expect((await layers(repo(''), { chain: true, 'no-chain': true })).values).toEqual({ chain: true, 'no-chain': true })
  })
})
