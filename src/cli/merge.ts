/**
 * @fileoverview `ztscan merge`: placeholder until shard merging lands (issue: CI stage and scale).
 */
import { UsageError } from './help.ts'

export async function cmdMerge(_argv: string[]): Promise<number> {
  throw new UsageError('merge: not available yet')
}
