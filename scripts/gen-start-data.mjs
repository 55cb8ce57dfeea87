// Build step (npm run build, after tsc): writes what every start of the CLI would otherwise compute, as data, over the
// empty values tsc emitted (issue 14.6); source runs (vitest, tsx) keep the empty values and compute them:
// - dist/src/generated/family-help.js: the built-in families' help data (names, target forms, flags, the target kinds of
//   their checks: familyHelpOf in src/cli/help.ts), so `ztscan --help` and `ztscan scan --help` load no family module;
// - dist/src/generated/rules.js: the built-in rule catalogue, read from rules/*.json and validated here (loadRules), so a
//   start reads no rule file. test/startup.test.ts checks both equal what the sources compute.
import { writeFileSync } from 'node:fs'
import process from 'node:process'
import { URL } from 'node:url'

const dist = new URL('../dist/', import.meta.url)
const { builtinFamilies } = await import(new URL('checks/index.js', dist).href)
const { familyHelpOf } = await import(new URL('src/cli/help.js', dist).href)
const { loadRules } = await import(new URL('src/rules/load.js', dist).href)
const help = builtinFamilies.map(familyHelpOf)
writeFileSync(new URL('src/generated/family-help.js', dist), `// Generated at build time by scripts/gen-start-data.mjs from the built-in families (checks/index.ts).
/** The built-in families' help data (familyHelpOf in src/cli/help.ts). */
export const FAMILY_HELP = ${JSON.stringify(help, null, 1)}
`)
const rules = loadRules()
writeFileSync(new URL('src/generated/rules.js', dist), `// Generated at build time by scripts/gen-start-data.mjs from rules/*.json (validated by loadRules).
/** The built-in rules, in file-name order. */
export const BUILTIN_RULES = ${JSON.stringify(rules, null, 1)}
`)
process.stdout.write(`gen-start-data: ${help.length} families' help, ${rules.length} rules written into dist/src/generated/\n`)
