/**
 * @fileoverview The canonical JSON report. `toJson` returns the plain object; its schema is `report.schema.json`.
 */
import type { ScanReport } from '../types.ts'
import { escapeJsonText } from './escape.ts'

/** The JSON report object (the canonical model, stamped with `schemaVersion`). */
export function toJson(report: ScanReport): ScanReport {
  return report
}

/** Serialises a report (one line per finding would be JSON Lines; this is the plain document). */
export function stringifyJson(report: ScanReport): string {
  return escapeJsonText(JSON.stringify(toJson(report), null, 2)) + '\n'
}
