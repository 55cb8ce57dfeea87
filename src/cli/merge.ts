/**
 * @fileoverview `ztscan merge PART... [-o FILE]`: joins shard reports (all JSON or all SARIF) into one.
 */
import { stat, writeFile } from 'node:fs/promises'
import { InputError } from '../errors.ts'
import { MAX_REPORT_BYTES, readBounded } from '../lib-files.ts'
import { ReportMerge, isReportFile } from '../report/merge.ts'
import { releaseFindings } from '../engine/spill.ts'
import { escapeJsonText } from '../report/escape.ts'
import { FORMATS, gitlabSchemaVersion, mergeSarif, planOutputs, writeOutput, validateReportPart, validateSarifPart, VERSION } from '../index.ts'
import { outputProblem } from '../engine/preflight.ts'
import { parseConfigText } from '../engine/redact.ts'
import { EXIT, UsageError, commandHelp } from './help.ts'
import { oneOf, parseCommand, parseIntFlag } from './args.ts'
import { terminal } from '../lib-term.ts'

export async function cmdMerge(argv: string[]): Promise<number> {
  const { values: v, positionals } = parseCommand('merge', argv, { output: { type: 'string', short: 'o', multiple: true }, format: { type: 'string', short: 'f', multiple: true }, category: { type: 'string' }, 'gitlab-schema-version': { type: 'string' }, 'sarif-max-results': { type: 'string' } }, true)
  if (v.help || v.version) {
    process.stdout.write(v.help ? commandHelp('merge')! : `${VERSION}\n`)
    return EXIT.ok
  }
  if (!positionals.length) throw new UsageError('merge: give the part files (JSON reports or SARIF logs)')
  for (const file of v.output ?? []) {
    const problem = await outputProblem(file)
    if (problem) throw new UsageError(`-o ${file}: ${problem}`)
  }
  // A part that says it is a ztscan JSON report (its top-level schemaVersion "1.0") is streamed, any size; any other part
  // (a SARIF log, or no report at all) is read whole as before, within MAX_REPORT_BYTES, and refused or merged as SARIF.
  // Sniffed one at a time: one descriptor open at once, however many parts (EMFILE would make a report "not a report").
  const streamed: boolean[] = []
  for (const p of positionals) streamed.push(await isReportFile(p))
  // A part read whole (SARIF) over the cap is refused before any part is read: a regular file's size says so at once.
  for (const [i, p] of positionals.entries()) {
    if (streamed[i]) continue
    const st = await stat(p).catch(() => undefined)
    if (st?.isFile() && st.size > MAX_REPORT_BYTES) throw new InputError(p, `more than the ${MAX_REPORT_BYTES}-byte limit (a part that is not a ztscan JSON report is read whole)`)
  }
  const parts: unknown[] = []
  for (const [i, p] of positionals.entries()) {
    if (streamed[i]) {
      parts.push(undefined)
      continue
    }
    let text: string
    try {
      text = (await readBounded(p, MAX_REPORT_BYTES)).toString('utf8')
    } catch (err) {
      throw new InputError(p, (err as Error).message)
    }
    parts.push(parseConfigText(text, 'json', (expected) => new InputError(p, `/: expected ${expected}`)))
  }
  const isSarif = (x: unknown): boolean => (x as { version?: string })?.version === '2.1.0' && Array.isArray((x as { runs?: unknown }).runs)
  const kinds = new Set(parts.map((p, i) => !streamed[i] && isSarif(p)))
  if (kinds.size > 1) throw new UsageError('merge: parts must be all JSON reports or all SARIF logs')
  // The same output plan as `scan`: -o FILE picks the format by extension, --format otherwise; a table on stdout by default.
  // Every -o is written from the one merge (-o all.json -o all.sarif).
  const outs = planOutputs((v.format ?? []).map((f) => oneOf('--format', f, FORMATS.map((x) => x.name))), v.output ?? [])
  const write = async (file: string, w: () => Promise<void>): Promise<void> => {
    try {
      await w()
    } catch (err) {
      throw new UsageError(`-o ${file}: cannot write (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
    }
  }
  const gitlabVersion = gitlabSchemaVersion(v['gitlab-schema-version'])
  const maxResults = parseIntFlag('--sarif-max-results', v['sarif-max-results'])
  // Grouping is said on stderr as scan says it (and in the run's notifications), whichever parts were merged.
  const note = (n: string): void => void process.stderr.write(`ztscan: merge: ${n}\n`)
  if (kinds.has(true)) {
    parts.forEach((p, i) => validateSarifPart(p, positionals[i]!))
    if (outs.some((o) => o.format.name !== 'sarif')) throw new UsageError('merge: SARIF parts merge into SARIF only (SARIF holds no passing findings); use -o FILE.sarif')
    const merged = mergeSarif(parts, { note, ...(maxResults ? { maxResults } : {}) }) as { runs: { invocations: { executionSuccessful: boolean }[] }[] }
    if (!merged.runs[0]!.invocations[0]!.executionSuccessful) process.stderr.write('ztscan: merge: at least one part is from an incomplete scan (executionSuccessful false)\n')
    const text = escapeJsonText(JSON.stringify(merged, null, 2)) + '\n'
    for (const o of outs) {
      if (o.file === '-') process.stdout.write(text)
      else await write(o.file, () => writeFile(o.file, text))
    }
    return EXIT.ok
  }
  // Findings, pass counts, targets, errors, skips, expired suppressions and per-asset scores spill past the in-memory
  // budgets (spill.ts): the merged report's are then read back from disk.
  const merge = new ReportMerge()
  let merged
  try {
    for (const [i, p] of positionals.entries()) {
      if (streamed[i]) await merge.addFile(p)
      else merge.addReport(validateReportPart(parts[i], p), p)
    }
    merged = merge.finish()
  } catch (err) {
    merge.release()
    throw err
  }
  if (!merged.complete) process.stderr.write(`ztscan: merge: the merged scan is incomplete: ${merged.incomplete!.map((x) => x.message).join('; ')}\n`)
  // The table on a terminal fits its width and is coloured, as scan's is.
  try {
    for (const o of outs) await write(o.file, () => writeOutput(merged, o, { category: v.category, gitlabSchemaVersion: gitlabVersion, sarifMaxResults: maxResults, note, ...(o.file === '-' ? terminal(process.stdout) : {}) }))
  } finally {
    releaseFindings(merged)
  }
  return EXIT.ok
}
