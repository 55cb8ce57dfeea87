/**
 * @fileoverview Live identity connectors: `entra://TENANT`, `okta://ORG`, `github-org://ORG`, `google://CUSTOMER`, `aws-iam://ACCOUNT`. Each pulls its vendor's REST
 * API (the shared client in `client.ts`; AWS's Query API in `aws-query.ts`) into the model the export readers build (`exports.ts`), so the rules of
 * `mfa-idp-export` judge a pull exactly as they judge a file.
 */
import { AttemptFailure } from '../../../src/errors.ts'
import type { CheckContext } from '../../../src/engine/check.ts'
import type { Target } from '../../../src/types.ts'
import type { IdpModel } from '../exports.ts'
import { pullAws } from './aws.ts'
import { pullEntra } from './entra.ts'
import { pullGithub } from './github.ts'
import { pullGoogle } from './google.ts'
import { pullOkta } from './okta.ts'


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
