/**
 * @fileoverview Live identity pull figures: 100,000 Entra users with their methods, paged (999 a page) from the loopback
 * Graph stand-in — pulled into counts (the connector's own cost), then through a whole scan (every user judged and
 * reported). Wall time and the process's peak RSS (the stand-in runs in the same process and is included).
 * `npm run bench -- mfa-live`
 */
import { bindNet } from '../../src/net/index.ts'
import { scan } from '../../src/engine/run.ts'
import { parseTarget } from '../../src/targets/parse.ts'
import mfa from '../../checks/mfa/index.ts'
import { pullEntra } from '../../checks/mfa/live/entra.ts'
import { startGraphFake } from '../helpers/vendor-fakes/graph.ts'

const mb = (kb: number): string => `${(kb / 1024).toFixed(0)} MB`
const peak = (): number => process.resourceUsage().maxRSS

export async function run(): Promise<void> {
  const n = 100_000
  const graph = await startGraphFake({ tenant: 'bench.onmicrosoft.com', clientId: 'bench', users: n, pageSize: 999, assertion: () => false })
  try {
    const settings = { entra: { graphBaseUrl: graph.graphBaseUrl, authorityHost: graph.authorityHost, accessToken: graph.issue() } }
    const target = parseTarget('entra://bench.onmicrosoft.com')
    const ac = new AbortController()
    const log = { debug() {}, info() {}, warn() {} }
    let users = 0
    let noMfa = 0
    const p0 = peak()
    let t0 = performance.now()
    const model = await pullEntra(target, { signal: ac.signal, settings, net: bindNet(ac.signal, 30_000), log }, (u) => {
      users++
      if (!u.mfa) noMfa++
    })
    let ms = performance.now() - t0
    console.log(`  entra pull into counts, ${n} users: ${ms.toFixed(0)} ms, ${model.stats.pages} pages, ${model.stats.requests} requests, ${users} users (${noMfa} without MFA), peak RSS ${mb(p0)} → ${mb(peak())}`)

    const p1 = peak()
    t0 = performance.now()
    const r = await scan({ targets: [target], checks: mfa.checks, settings })
    ms = performance.now() - t0
    console.log(`  entra pull through a scan, ${n} users: ${ms.toFixed(0)} ms, ${r.findings.length} findings, ${r.errors.length} errors, peak RSS ${mb(p1)} → ${mb(peak())}`)
  } finally {
    await graph.stop()
  }
}
