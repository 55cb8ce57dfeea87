/**
 * @fileoverview The built-in families' help data (`familyHelpOf`). Absent in the sources: `npm run build` replaces the
 * compiled file with the data of the built families (scripts/gen-start-data.mjs), so `ztscan --help` and `ztscan scan --help`
 * load no family module; without it the CLI loads the families to print their help.
 */
import type { FamilyHelp } from '../cli/help.ts'

export const FAMILY_HELP: readonly FamilyHelp[] | undefined = undefined
