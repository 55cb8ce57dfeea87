/**
 * @fileoverview Live identity pull figures: 100,000 Entra users with their methods, paged (999 a page) from the loopback
 * Graph stand-in — pulled into counts (the connector's own cost), then through a whole scan (every user judged and
 * reported); and 10,000 IAM users (authorization details 1,000 a page) from the loopback IAM stand-in through a scan.
 * Wall time and the process's peak RSS (the stand-in runs in the same process and is included).
 * `npm run bench -- mfa-live`
 */
import { bindNet } from '../../src/net/index.ts'
import { scan } from '../../src/engine/run.ts'
import { parseTarget } from '../../src/targets/parse.ts'
import mfa from '../../checks/mfa/index.ts'
import { pullEntra } from '../../checks/mfa/live/entra.ts'
import { startGraphFake } from '../helpers/vendor-fakes/graph.ts'
import { startAwsFake } from '../helpers/vendor-fakes/aws.ts'

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
  await awsIam()
}

/** `aws-iam://`: 10,000 IAM users, authorization details paged 1,000 at a time from the loopback IAM stand-in (SigV4 verified). */
async function awsIam(): Promise<void> {
  const n = 10_000
  const iam = await startAwsFake({ users: n, pageSize: 1000, reportPolls: 0 })
  const k = iam.keys()
  const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY }
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: k.accessKeyId, AWS_SECRET_ACCESS_KEY: k.secretAccessKey })
  try {
    const p = peak()
    const t0 = performance.now()
    const r = await scan({ targets: [parseTarget('aws-iam://123456789012')], checks: mfa.checks, settings: { aws: { endpoint: iam.iamEndpoint, stsEndpoint: iam.stsEndpoint } } })
    const ms = performance.now() - t0
    console.log(`  aws-iam pull through a scan, ${n} users: ${ms.toFixed(0)} ms, ${iam.calls.length} requests, ${r.findings.length} findings, ${r.errors.length} errors, peak RSS ${mb(p)} → ${mb(peak())}`)
  } finally {
    for (const [k2, v] of [['AWS_ACCESS_KEY_ID', saved.id], ['AWS_SECRET_ACCESS_KEY', saved.secret]] as const) {
      if (v === undefined) delete process.env[k2]
      else process.env[k2] = v
    }
    await iam.stop()
  }
}
