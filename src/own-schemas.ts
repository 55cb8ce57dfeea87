/**
 * @fileoverview ztscan's own JSON Schemas: `npm run build` compiles them ahead into `dist/src/generated/validators.cjs`
 * (scripts/gen-validators.mjs, ajv standalone code), so no schema is compiled at start-up (issue 14.6). A schema missing
 * here still works: `validatorFor` compiles it at run time (slower; test/startup.test.ts lists what start-up compiles).
 */
import { builtinRules, ruleSchema } from './rules/load.ts'
import { policySchema } from './rules/policy.ts'
import { SUPPRESSIONS_SCHEMA } from './report/suppress.ts'
import { registryOf } from './targets/registry.ts'
import { builtinFamilies } from '../checks/index.ts'
import { CATALOGUE_SCHEMA as SERVICES_SCHEMA } from '../checks/open-port/catalogue.ts'
import { CATALOGUE_SCHEMA as AGENTS_SCHEMA } from '../checks/endpoint-agent/catalogue.ts'
import { inventoryProviders, itemSchema } from '../checks/endpoint-agent/inventory.ts'

/** Every schema ztscan validates with on its own (plugins' schemas are compiled when used). */
export function ownSchemas(): Record<string, unknown>[] {
  return [
    ruleSchema(),
    ...builtinRules().flatMap((r) => Object.values(r.parameters ?? {}).map((p) => p.schema as Record<string, unknown>)),
    policySchema(),
    SUPPRESSIONS_SCHEMA as unknown as Record<string, unknown>,
    registryOf(builtinFamilies).settingsSchema(false),
    SERVICES_SCHEMA as unknown as Record<string, unknown>,
    AGENTS_SCHEMA,
    ...inventoryProviders().map(itemSchema),
  ]
}
