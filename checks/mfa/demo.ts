/**
 * @fileoverview The mfa family's part of `ztscan demo`: flawed exports of every provider, and an issuer advertising
 * HS256/none with a 1024-bit key and weak sample tokens. Not shipped in the npm package (loaded only by `ztscan demo`).
 */
import { fileTarget } from '../../src/targets/host.ts'
import { parseTarget } from '../../src/targets/parse.ts'
import type { Target } from '../../src/types.ts'
import { startDemoIssuer, writeDemoExports } from './lab.ts'

/** Writes the exports and starts the issuer in `dir`. */
export async function startDemo(dir: string): Promise<{ targets: Target[]; stop(): Promise<void> }> {
  const exports = await writeDemoExports(dir)
  const { server, tokensFile } = await startDemoIssuer(dir)
  const targets: Target[] = [
    ...exports.map(([provider, path]) => fileTarget('identity-export', 'idp', path, provider)),
    parseTarget(`oidc:${server.issuer}#tokens=${encodeURIComponent(tokensFile)}`),
  ]
  return { targets, stop: () => server.stop() }
}
