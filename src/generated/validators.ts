/**
 * @fileoverview Validators of ztscan's own schemas by schema key. Empty in the sources: `npm run build` replaces the
 * compiled file with ajv standalone code (scripts/gen-validators.mjs); without it `validatorFor` compiles on first use.
 */
export const PRECOMPILED: Readonly<Record<string, unknown>> = {}
