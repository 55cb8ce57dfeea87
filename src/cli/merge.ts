/**
 * @fileoverview `ztscan merge PART... [-o FILE]`: joins shard reports (all JSON or all SARIF) into one.
 */
import { parseArgs } from 'node:util'
import { readFile, writeFile } from 'node:fs/promises'
import { InputError } from '../errors.ts'
import { mergeReports, mergeSarif } from '../report/merge.ts'
import { stringifyJson } from '../report/json.ts'
import { toMarkdown, toTable } from '../report/text.ts'
import { toSarif } from '../report/sarif.ts'
import type { ScanReport } from '../types.ts'
import { EXIT, UsageError } from './help.ts'

export async function cmdMerge(argv: string[]): Promise<number> {
  const { values: v, positionals } = parseArgs({ args: argv, options: { output: { type: 'string', short: 'o' }, format: { type: 'string', short: 'f' }, category: { type: 'string' } }, allowPositionals: true, strict: true })
  if (!positionals.length) throw new UsageError('merge: give the part files (JSON reports or SARIF logs)')
  const parts: unknown[] = []
  for (const p of positionals) {
    try {
      parts.push(JSON.parse(await readFile(p, 'utf8')))
    } catch (err) {
      throw new InputError(p, `cannot read as JSON (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
    }
  }
  const isSarif = (x: unknown): boolean => (x as { version?: string })?.version === '2.1.0' && Array.isArray((x as { runs?: unknown }).runs)
  const kinds = new Set(parts.map(isSarif))
  if (kinds.size > 1) throw new UsageError('merge: parts must be all JSON reports or all SARIF logs')
  const format = v.format ?? (v.output?.match(/\.sarif$/i) ? 'sarif' : v.output?.match(/\.md$/i) ? 'markdown' : v.output ? 'json' : 'table')
  let text: string
  if (kinds.has(true)) {
    if (format !== 'sarif') throw new UsageError('merge: SARIF parts merge into SARIF only (SARIF holds no passing findings); use -o FILE.sarif')
    text = JSON.stringify(mergeSarif(parts), null, 2) + '\n'
  } else {
    for (const [i, p] of parts.entries())
      if ((p as { schemaVersion?: string }).schemaVersion !== '1.0') throw new InputError(positionals[i]!, 'not a ztscan JSON report (schemaVersion 1.0)')
    const merged = mergeReports(parts as ScanReport[])
    text =
      format === 'sarif' ? JSON.stringify(toSarif(merged, { category: v.category }), null, 2) + '\n'
      : format === 'json' ? stringifyJson(merged)
      : format === 'markdown' ? toMarkdown(merged)
      : toTable(merged)
  }
  if (v.output && v.output !== '-') await writeFile(v.output, text)
  else process.stdout.write(text)
  return EXIT.ok
}
