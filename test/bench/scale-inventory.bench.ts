/**
 * @fileoverview Inventory scale (issue 14 item 2), `npm run bench -- scale`: generated CrowdStrike exports of 100,000 and
 * 1,000,000 devices read by the whole-file reader ztscan used before (readFile + JSON.parse + every record, in a child) beside
 * the streamed reader (in a child) and the built CLI end to end (`scan inventory:crowdstrike:FILE -o r.json`); then the
 * MDM × EDR coverage join of 100,000 and 1,000,000 devices a side through the CLI. Wall time and peak RSS of each, side by
 * side: the CLI's peak should not grow with the file (100k, 300k, 1M devices) beyond the id table. Figures are printed,
 * never asserted.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ensureBuilt, runCli } from '../hostile/cli.ts'
import { root } from '../helpers/cli.ts'
import { writeChunks } from '../helpers/nmap-gen.ts'
import { crowdStrikeExport, intuneExport } from '../helpers/device-fleet.ts'

const MB = 1024 * 1024


/** Runs `code` (an ES module, argv[1] = repo root, argv[2] = file) under tsx in a child; its JSON line plus wall time and peak RSS. */
function child(code: string, file: string): string {
  const t0 = performance.now()
  const wrapped = `${code}\nprocess.stdout.write(JSON.stringify({ ...out, rssMb: process.resourceUsage().maxRSS / 1024 }))`
  const r = spawnSync(process.execPath, ['--max-old-space-size=8192', '--import', 'tsx', '--input-type=module', '-e', wrapped, root, file], { encoding: 'utf8', timeout: 900_000, maxBuffer: 1 << 20 })
  const s = (performance.now() - t0) / 1000
  if (r.status !== 0) return `failed (exit ${r.status}${r.signal ? `, ${r.signal}` : ''}): ${r.stderr.trim().slice(0, 200)}`
  const o = JSON.parse(r.stdout) as { devices: number; rssMb: number }
  return `${o.devices} devices, ${s.toFixed(1)} s, peak RSS ${o.rssMb.toFixed(0)} MB`
}

const WHOLE = `
const { readFileSync } = await import('node:fs')
const { judgedDevices, parseInventory } = await import(process.argv[1] + '/checks/endpoint-agent/inventory.ts')
const out = { devices: judgedDevices(parseInventory('crowdstrike', readFileSync(process.argv[2], 'utf8'), 'cs.json')).devices.length }`

const STREAMED = `
const { streamInventory } = await import(process.argv[1] + '/checks/endpoint-agent/inventory-stream.ts')
const { streamFileCapped } = await import(process.argv[1] + '/src/lib-files.ts')
let n = 0
await streamInventory('crowdstrike', () => streamFileCapped(process.argv[2], 2 ** 40), 'cs.json', () => void n++)
const out = { devices: n }`

/** An Entra registration page of `n` users (every 7th without MFA, every 11th an administrator, every 5th with a passkey). */
function* entraExport(n: number): Generator<string> {
  yield '{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#reports/authenticationMethods/userRegistrationDetails","value":['
  for (let i = 0; i < n; i += 1000) {
    const batch: string[] = []
    for (let k = i; k < Math.min(n, i + 1000); k++)
      batch.push(JSON.stringify({
        id: `00000000-0000-0000-0000-${String(k).padStart(12, '0')}`, userPrincipalName: `user${k}@contoso.example`, isAdmin: k % 11 === 0,
        isMfaRegistered: k % 7 !== 0, methodsRegistered: k % 7 === 0 ? [] : k % 5 === 0 ? ['passKeyDeviceBound', 'microsoftAuthenticatorPush'] : ['microsoftAuthenticatorPush'],
      }))
    yield (i ? ',' : '') + batch.join(',')
  }
  yield ']}'
}

const ENTRA_WHOLE = `
const { readFileSync } = await import('node:fs')
const { parseExport } = await import(process.argv[1] + '/checks/mfa/exports.ts')
const out = { devices: parseExport('entra', readFileSync(process.argv[2]), 'e.json').users.length }`

const ENTRA_STREAMED = `
const { streamEntraUsers } = await import(process.argv[1] + '/checks/mfa/export-stream.ts')
const { streamFileCapped } = await import(process.argv[1] + '/src/lib-files.ts')
let n = 0
const s = await streamEntraUsers(() => streamFileCapped(process.argv[2], 2 ** 40), 'e.json', ['sms', 'voice', 'email'], ['fido2'])
await s.each(() => void n++)
const out = { devices: n }`

/** Prints the figures. */
export async function run(): Promise<void> {
  ensureBuilt()
  const dir = mkdtempSync(join(tmpdir(), 'ztscan-bench-inv-'))
  const now = Date.now()
  try {
    // 100k, 300k and 1M devices through the CLI: peak RSS should stay level (the id table is ~25 bytes a device); the
    // 1,000 repeated records of the last run make the reader re-read the file once for them (exact duplicate ids).
    for (const [n, dups] of [[100_000, 0], [300_000, 0], [1_000_000, 0], [1_000_000, 1000]] as const) {
      const file = join(dir, 'cs.json')
      const size = await writeChunks(file, crowdStrikeExport(n, now, dups))
      console.log(`  CrowdStrike export, ${n.toLocaleString('en')} devices${dups ? ` and ${dups} repeated records` : ''} (${(size / MB).toFixed(0)} MB):`)
      if (n !== 300_000 && !dups) {
        console.log(`    whole-file reader (before):  ${child(WHOLE, file)}`)
        console.log(`    streamed reader (now):       ${child(STREAMED, file)}`)
      }
      const r = await runCli(['scan', '-q', `inventory:crowdstrike:${file}`, '-o', join(dir, 'r.json'), '--fail-on', 'none'], { cwd: dir, killAfterMs: 900_000 })
      console.log(`    ztscan scan -o r.json (CLI): ${(r.ms / 1000).toFixed(1)} s, peak RSS ${Math.round(r.rssMb)} MB, exit ${r.code}${r.stderr ? `, stderr: ${r.stderr.trim().slice(0, 200)}` : ''}`)
      rmSync(join(dir, 'r.json'), { force: true })
    }
    for (const n of [100_000, 1_000_000]) {
      const mdm = join(dir, 'mdm.json')
      const edr = join(dir, 'edr.json')
      // Every EDR device is one of the MDM's (same serial, host name, MAC); the last 25 MDM devices are not in the EDR.
      const bytes = (await writeChunks(mdm, intuneExport(n, now))) + (await writeChunks(edr, crowdStrikeExport(n - 25, now)))
      const r = await runCli(['scan', '-q', `coverage:intune:${mdm},crowdstrike:${edr}`, '-o', join(dir, 'r.json'), '--fail-on', 'none'], { cwd: dir, killAfterMs: 900_000 })
      console.log(`  coverage join ${n.toLocaleString('en')} MDM × ${(n - 25).toLocaleString('en')} EDR (${(bytes / MB).toFixed(0)} MB), CLI: ${(r.ms / 1000).toFixed(1)} s, peak RSS ${Math.round(r.rssMb)} MB, exit ${r.code}${r.stderr ? `, stderr: ${r.stderr.trim().slice(0, 200)}` : ''}`)
      rmSync(join(dir, 'r.json'), { force: true })
    }
    for (const n of [100_000, 1_000_000]) {
      const file = join(dir, 'entra.json')
      const size = await writeChunks(file, entraExport(n))
      console.log(`  Entra userRegistrationDetails export, ${n.toLocaleString('en')} users (${(size / MB).toFixed(0)} MB):`)
      console.log(`    whole-file reader (before):  ${child(ENTRA_WHOLE, file).replace('devices', 'users')}`)
      console.log(`    streamed reader (now):       ${child(ENTRA_STREAMED, file).replace('devices', 'users')}`)
      const r = await runCli(['scan', '-q', `idp:entra:${file}`, '-o', join(dir, 'r.json'), '--fail-on', 'none'], { cwd: dir, killAfterMs: 900_000 })
      console.log(`    ztscan scan -o r.json (CLI): ${(r.ms / 1000).toFixed(1)} s, peak RSS ${Math.round(r.rssMb)} MB, exit ${r.code}${r.stderr ? `, stderr: ${r.stderr.trim().slice(0, 200)}` : ''}`)
      rmSync(join(dir, 'r.json'), { force: true })
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
