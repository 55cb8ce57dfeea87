/**
 * @fileoverview `ztscan merge PART... [-o FILE]`: joins shard reports (all JSON or all SARIF) into one.
 */
import { parseArgs } from 'node:util'
import { writeFile } from 'node:fs/promises'
import { InputError } from '../errors.ts'
import { MAX_REPORT_BYTES, readBounded } from '../lib-files.ts'
import { escapeJsonText } from '../report/escape.ts'
import { mergeReports, mergeSarif, planOutputs, writeOutput, type ScanReport } from '../index.ts'
import { EXIT, UsageError } from './help.ts'

export async function cmdMerge(argv: string[]): Promise<number> {
  const { values: v, positionals } = parseArgs({ args: argv, options: { output: { type: 'string', short: 'o' }, format: { type: 'string', short: 'f' }, category: { type: 'string' } }, allowPositionals: true, strict: true })
  if (!positionals.length) throw new UsageError('merge: give the part files (JSON reports or SARIF logs)')
  const parts: unknown[] = []
  for (const p of positionals) {
    try {
      parts.push(JSON.parse((await readBounded(p, MAX_REPORT_BYTES)).toString('utf8')))
    } catch (err) {
      throw new InputError(p, `cannot read as JSON (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
    }
  }
  const isSarif = (x: unknown): boolean => (x as { version?: string })?.version === '2.1.0' && Array.isArray((x as { runs?: unknown }).runs)
  const kinds = new Set(parts.map(isSarif))
  if (kinds.size > 1) throw new UsageError('merge: parts must be all JSON reports or all SARIF logs')
  // The same output plan as `scan`: -o FILE picks the format by extension, --format otherwise; a table on stdout by default.
  const [out] = planOutputs(v.format === undefined ? [] : [v.format], v.output === undefined ? [] : [v.output])
  if (kinds.has(true)) {
    if (out!.format.name !== 'sarif') throw new UsageError('merge: SARIF parts merge into SARIF only (SARIF holds no passing findings); use -o FILE.sarif')
    const text = escapeJsonText(JSON.stringify(mergeSarif(parts), null, 2)) + '\n'
    if (out!.file === '-') process.stdout.write(text)
    else await writeFile(out!.file, text)
    return EXIT.ok
  }
  for (const [i, p] of parts.entries())
    if ((p as { schemaVersion?: string }).schemaVersion !== '1.0') throw new InputError(positionals[i]!, 'not a ztscan JSON report (schemaVersion 1.0)')
  await writeOutput(mergeReports(parts as ScanReport[]), out!, { category: v.category })
  return EXIT.ok
}
