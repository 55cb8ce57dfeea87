/**
 * @fileoverview `npm run bench`: runs every bench/*.bench.ts in turn and prints its figures. Figures are never asserted.
 * Run one: `npm run bench -- engine` (substring of the file name).
 */
import { readdirSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { dirname, join } from 'node:path'

const dir = dirname(fileURLToPath(import.meta.url))
const filter = process.argv.slice(2)
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => !filter.length || filter.some((x) => f.includes(x)))
  .sort()
for (const f of files) {
  console.log(`\n=== ${f.replace('.bench.ts', '')} ===`)
  const mod = (await import(pathToFileURL(join(dir, f)).href)) as { run(): Promise<void> }
  try {
    await mod.run()
  } catch (err) {
    console.log(`  bench failed: ${(err as Error).stack ?? String(err)}`)
    process.exitCode = 1
  }
}
