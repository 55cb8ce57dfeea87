/**
 * @fileoverview The report formats' names and the file endings that select them, without their renderers: `ztscan scan
 * --help` lists them without loading every writer. `FORMATS` (formats.ts) pairs each with its renderer, in this order
 * (test/startup.test.ts keeps the two equal). The output plan is made here, over either list: the CLI checks it before a
 * scan without loading the writers.
 */
import { UsageError } from '../errors.ts'

/** A format's name and the file endings that select it. */
export interface FormatName {
  readonly name: string
  readonly extensions: readonly string[]
}

export const FORMAT_NAMES: readonly FormatName[] = [
  { name: 'json', extensions: ['.json'] },
  { name: 'sarif', extensions: ['.sarif', '.sarif.json'] },
  { name: 'table', extensions: [] },
  { name: 'markdown', extensions: ['.md', '.markdown'] },
  { name: 'html', extensions: ['.html', '.htm'] },
  { name: 'junit', extensions: ['.xml', '.junit.xml'] },
  { name: 'gitlab', extensions: ['.gitlab.json', 'gl-dast-report.json'] },
  { name: 'codequality', extensions: ['.codequality.json', 'gl-code-quality-report.json'] },
  { name: 'jsonl', extensions: ['.jsonl', '.ndjson'] },
]

/** The format of `list` named `name`, or a UsageError listing the names. */
export function formatNamed<F extends FormatName>(list: readonly F[], name: string): F {
  const f = list.find((x) => x.name === name)
  if (!f) throw new UsageError(`--format: expected one of ${list.map((x) => x.name).join(', ')} (got "${name}")`)
  return f
}

/** The format of `list` a file name selects by its extension (the longest matching one), if any. */
export function formatOfPath<F extends FormatName>(list: readonly F[], path: string): F | undefined {
  const p = path.toLowerCase()
  let best: { f: F; len: number } | undefined
  for (const f of list) for (const e of f.extensions) if (p.endsWith(e) && e.length > (best?.len ?? 0)) best = { f, len: e.length }
  return best?.f
}

/**
 * Output plan over `list`: each `-o FILE` takes its format from its extension; `--format` values go, in order, to the `-o`
 * files without a known extension, and the rest to stdout. Nothing given: `dflt` on stdout.
 */
export function planOutputsOf<F extends FormatName>(list: readonly F[], formats: readonly string[], files: readonly string[], dflt = 'table'): { readonly format: F; readonly file: string }[] {
  const left = formats.map((name) => formatNamed(list, name))
  const out: { format: F; file: string }[] = []
  for (const file of files) {
    const format = (file === '-' ? undefined : formatOfPath(list, file)) ?? left.shift()
    if (!format) throw new UsageError(`-o ${file}: cannot tell the format from the extension (${list.flatMap((f) => f.extensions).join(', ')}); add --format`)
    out.push({ format, file })
  }
  for (const format of left) out.push({ format, file: '-' })
  return out.length ? out : [{ format: formatNamed(list, dflt), file: '-' }]
}
