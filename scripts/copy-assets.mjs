// Copies data files that checks read at run time (checks/**/*.json) next to the compiled modules in dist/checks.
import { cpSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) walk(p)
    else if (name.endsWith('.json')) {
      const out = join(root, 'dist', relative(root, p))
      if (!existsSync(dirname(out))) mkdirSync(dirname(out), { recursive: true })
      cpSync(p, out)
    }
  }
}
walk(join(root, 'checks'))
