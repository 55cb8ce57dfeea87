/**
 * @fileoverview The report formats' names and the file endings that select them, without their renderers: `ztscan scan
 * --help` lists them without loading every writer. `FORMATS` (formats.ts) pairs each with its renderer, in this order
 * (test/startup.test.ts keeps the two equal).
 */
export const FORMAT_NAMES: readonly { readonly name: string; readonly extensions: readonly string[] }[] = [
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
