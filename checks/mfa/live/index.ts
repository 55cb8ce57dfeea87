/**
 * @fileoverview Live identity connectors: `entra://TENANT`, `okta://ORG`, `github-org://ORG`, `google://CUSTOMER`, `aws-iam://ACCOUNT`. Each pulls its vendor's REST
 * API (the shared client in `client.ts`; AWS's Query API in `aws-query.ts`) into the model the export readers build (`exports.ts`), so the rules of
 * `mfa-idp-export` judge a pull exactly as they judge a file.
 */
import { AttemptFailure } from '../../../src/errors.ts'
import type { CheckContext } from '../../../src/engine/check.ts'
import type { Target } from '../../../src/types.ts'
import type { IdpModel } from '../exports.ts'
import { AWS_SETTINGS_SCHEMA, pullAws } from './aws.ts'
import { ENTRA_SETTINGS_SCHEMA, pullEntra } from './entra.ts'
import { GITHUB_SETTINGS_SCHEMA, pullGithub } from './github.ts'
import { GOOGLE_SETTINGS_SCHEMA, pullGoogle } from './google.ts'
import { OKTA_SETTINGS_SCHEMA, pullOkta } from './okta.ts'

/** Settings the connectors read (`settings.entra`, …), as JSON Schema `properties` of the family's settings. */
export const LIVE_SETTINGS_SCHEMAS = { entra: ENTRA_SETTINGS_SCHEMA, okta: OKTA_SETTINGS_SCHEMA, github: GITHUB_SETTINGS_SCHEMA, google: GOOGLE_SETTINGS_SCHEMA, aws: AWS_SETTINGS_SCHEMA } as const

/** Pulls a live identity target into the export model. */
export async function pullLive(target: Target, ctx: Pick<CheckContext, 'signal' | 'settings' | 'net' | 'log'>): Promise<IdpModel> {
  switch (target.provider) {
    case 'entra': return pullEntra(target, ctx)
    case 'okta': return pullOkta(target, ctx)
    case 'github': return pullGithub(target, ctx)
    case 'google': return pullGoogle(target, ctx)
    case 'aws': return pullAws(target, ctx)
    default: throw new AttemptFailure('input', `${target.id}: no live connector for "${String(target.provider)}"`)
  }
}
