/**
 * @fileoverview What `osqueryi --json` prints for the fixed posture SQL (posture/commands.ts `osquery-root-encryption`): a
 * JSON array of rows whose values are all strings. Parsed from a capped buffer; nothing in a row is trusted beyond its type.
 */

/** The root volume's encryption as osquery's disk_encryption joined to mounts sees it. */
export interface OsqueryRootEncryption {
  readonly device: string
  readonly encrypted: boolean
  readonly type: string
  readonly status: string
}

/** `osqueryi --json "SELECT m.path, m.device_alias, d.encrypted, d.type, d.encryption_status FROM mounts m JOIN disk_encryption d …"`. */
export function osqueryRootEncryption(text: string): OsqueryRootEncryption | undefined | 'no-row' {
  let rows: unknown
  try {
    rows = JSON.parse(text.trim())
  } catch {
    return undefined
  }
  if (!Array.isArray(rows)) return undefined
  if (!rows.length) return 'no-row'
  const r = rows.find((x): x is Record<string, unknown> => !!x && typeof x === 'object' && (x as Record<string, unknown>).path === '/')
  if (!r || (r.encrypted !== '1' && r.encrypted !== '0')) return undefined
  const str = (v: unknown, n: number): string => (typeof v === 'string' ? v.replace(/[^\x20-\x7e]/g, '?').slice(0, n) : '')
  return { device: str(r.device_alias, 120), encrypted: r.encrypted === '1', type: str(r.type, 60), status: str(r.encryption_status, 40) }
}
