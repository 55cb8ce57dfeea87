/**
 * @fileoverview The built-in rule catalogue. Absent in the sources: `npm run build` replaces the compiled file with the rules
 * read from rules/*.json and validated at build time (scripts/gen-start-data.mjs), so a start reads no rule file; without it
 * `builtinRules` reads and validates the files.
 */
import type { RuleMeta } from '../types.ts'

export const BUILTIN_RULES: readonly RuleMeta[] | undefined = undefined
