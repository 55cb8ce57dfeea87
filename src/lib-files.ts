/**
 * @fileoverview Reading ztscan's own configuration files (policy, suppressions, targets): YAML or JSON, with an error
 * that names the file.
 */
import { readFile } from 'node:fs/promises'
import { parse as parseYaml } from 'yaml'

/**
 * Reads and parses a YAML or JSON file (JSON is YAML; `.json` files are parsed as strict JSON). `fail(expected)` builds
 * the error thrown when the file cannot be read or parsed. Aliases are capped (no billion-laughs expansion).
 */
export async function readConfigFile(path: string, fail: (expected: string) => Error): Promise<unknown> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw fail(`a readable file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
  }
  const json = /\.json$/i.test(path)
  try {
    return json ? JSON.parse(text) : parseYaml(text, { maxAliasCount: 100 })
  } catch (err) {
    throw fail(`valid ${json ? 'JSON' : 'YAML'} (${(err as Error).message.split('\n')[0]})`)
  }
}
