// Build step (npm run build, after tsc): writes the built-in families' help data — names, target forms, flags, the target
// kinds of their checks (familyHelpOf in src/cli/help.ts) — into dist/src/generated/family-help.js, replacing the empty
// value tsc emitted there, so `ztscan --help` and `ztscan scan --help` load no family module (issue 14.6). Source runs
// (vitest, tsx) keep the empty value and load the families. test/startup.test.ts checks the data equals the families'.
import { writeFileSync } from 'node:fs'
import process from 'node:process'
import { URL } from 'node:url'

const dist = new URL('../dist/', import.meta.url)
const { builtinFamilies } = await import(new URL('checks/index.js', dist).href)
const { familyHelpOf } = await import(new URL('src/cli/help.js', dist).href)
const data = builtinFamilies.map(familyHelpOf)
writeFileSync(new URL('src/generated/family-help.js', dist), `// Generated at build time by scripts/gen-help.mjs from the built-in families (checks/index.ts).
/** The built-in families' help data (familyHelpOf in src/cli/help.ts). */
export const FAMILY_HELP = ${JSON.stringify(data, null, 1)}
`)
process.stdout.write(`gen-help: ${data.length} families' help data written into dist/src/generated/family-help.js\n`)
