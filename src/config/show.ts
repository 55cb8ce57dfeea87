/**
 * @fileoverview `ztscan config`: the effective configuration, one `key: value  # source` line each (the lines are a
 * valid config file), secrets in settings redacted.
 */
import { makeRedactor } from '../engine/redact.ts'
import type { Layered } from './layers.ts'
import { configKey } from './layers.ts'

/** Defaults `ztscan scan` applies when no layer sets a value (shown with the source `default`). */
export const DEFAULTS: Readonly<Record<string, unknown>> = {
  'fail-on': 'high',
  format: ['table'],
  concurrency: 32,
  'per-host': 4,
  timeout: '15s',
  'connect-timeout': '5s',
  'max-errors': 0,
}

/** The effective configuration as text: every value set by a layer, then the defaults left. */
export function showConfig(l: Layered): string {
  const out = [`# effective configuration: flags > ZTSCAN_* variables > ${l.file ?? 'config file (none found)'} > defaults`]
  const redact = makeRedactor(l.settings ?? {})
  const line = (key: string, value: unknown, source: string): void => {
    out.push(`${key}: ${JSON.stringify(redact.deep(value))}  # ${source}`)
  }
  for (const [name, value] of Object.entries(l.values)) if (value !== undefined && l.sources.has(name)) line(configKey(name), value, l.sources.get(name)!)
  if (l.targets) line('targets', l.targets, l.sources.get('targets')!)
  if (l.settings) line('settings', l.settings, l.sources.get('settings')!)
  if (l.policy) line('policy', l.policy, l.sources.get('policy')!)
  for (const [name, value] of Object.entries(DEFAULTS)) if (l.values[name] === undefined) line(name, value, 'default')
  return out.join('\n') + '\n'
}
