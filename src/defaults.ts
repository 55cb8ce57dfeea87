/**
 * @fileoverview The embedded default scan (this machine, loopback only) and the demo lab, gathered from the families.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { DefaultTargetsContext, Family } from './engine/check.ts'
import { bindNetIo, ioWith, type ScanIoOverrides } from './net/io.ts'
import { OptionsError } from './errors.ts'
import type { Target } from './types.ts'

async function families(given?: readonly Family[]): Promise<readonly Family[]> {
  return given ?? (await import('../checks/index.ts')).builtinFamilies
}

/** The context a family's `defaultTargets` gets: the (real or given) network helpers, 300 ms per connection. */
export function defaultTargetsContext(io?: ScanIoOverrides): DefaultTargetsContext {
  return { net: bindNetIo(ioWith(io), { signal: new AbortController().signal, connectTimeoutMs: 300 }) }
}

/** Targets of the no-config scan: what each family contributes for this machine (127.0.0.1, ::1, local). */
export async function defaultTargets(fams?: readonly Family[], io?: ScanIoOverrides): Promise<Target[]> {
  const out: Target[] = []
  const ctx = defaultTargetsContext(io)
  for (const f of await families(fams)) if (f.defaultTargets) out.push(...(await f.defaultTargets(ctx)))
  return out
}

/** A started demo lab: flawed servers and files on loopback / in a temp folder. */
export interface DemoLab {
  readonly targets: readonly Target[]
  readonly settings: Record<string, unknown>
  stop(): Promise<void>
}

/** Starts every family's part of the demo lab. `stop()` closes servers and removes files. */
export async function startDemoLab(fams?: readonly Family[]): Promise<DemoLab> {
  const dir = await mkdtemp(join(tmpdir(), 'ztscan-demo-'))
  const parts: { targets: readonly Target[]; settings?: Record<string, unknown>; stop(): Promise<void> }[] = []
  const stop = async (): Promise<void> => {
    await Promise.allSettled(parts.map((p) => p.stop()))
    await rm(dir, { recursive: true, force: true })
  }
  try {
    for (const f of await families(fams)) if (f.demo) parts.push(await f.demo(join(dir, f.name)))
  } catch (err) {
    await stop()
    // The lab code is left out of the npm package: the demo runs from a source checkout.
    if ((err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND')
      throw new OptionsError('demo', 'the demo lab is not part of the npm package; run `npx ztscan demo` in a checkout of the source repository')
    throw err
  }
  const settings: Record<string, unknown> = {}
  for (const p of parts) for (const [k, v] of Object.entries(p.settings ?? {})) settings[k] = { ...(settings[k] as object | undefined), ...(v as object) }
  return { targets: parts.flatMap((p) => p.targets), settings, stop }
}
