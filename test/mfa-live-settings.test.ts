/**
 * The live connectors' settings interfaces (checks/mfa/live/{entra,okta,github,google,aws-credentials}.ts) against the
 * JSON Schemas the mfa family declares for them (checks/mfa/live/settings.ts): same keys, same value types. Checked by the
 * compiler (tsc runs over the tests): a setting added to one side only fails the typecheck.
 */
import { describe, expectTypeOf, it } from 'vitest'
import type { EntraSettings } from '../checks/mfa/live/entra.ts'
import type { OktaSettings } from '../checks/mfa/live/okta.ts'
import type { GithubSettings } from '../checks/mfa/live/github.ts'
import type { GoogleSettings } from '../checks/mfa/live/google.ts'
import type { AwsSettings } from '../checks/mfa/live/aws-credentials.ts'
import type { LIVE_SETTINGS_SCHEMAS } from '../checks/mfa/live/settings.ts'

/** The value type a property schema admits: string, integer/number, boolean or an enum of literals. */
type ValueOf<P> = P extends { readonly enum: readonly (infer E)[] } ? E : P extends { readonly type: 'string' } ? string : P extends { readonly type: 'integer' | 'number' } ? number : P extends { readonly type: 'boolean' } ? boolean : never
/** The settings object a schema describes, every property optional and read-only (as the interfaces declare them). */
type SettingsOf<S extends { readonly properties: object }> = { readonly [K in keyof S['properties']]?: ValueOf<S['properties'][K]> }
type Schemas = typeof LIVE_SETTINGS_SCHEMAS

describe('live connector settings: interfaces match their schemas', () => {
  it('entra, okta, github, google, aws', () => {
    expectTypeOf<EntraSettings>().toEqualTypeOf<SettingsOf<Schemas['entra']>>()
    expectTypeOf<OktaSettings>().toEqualTypeOf<SettingsOf<Schemas['okta']>>()
    expectTypeOf<GithubSettings>().toEqualTypeOf<SettingsOf<Schemas['github']>>()
    expectTypeOf<GoogleSettings>().toEqualTypeOf<SettingsOf<Schemas['google']>>()
    expectTypeOf<AwsSettings>().toEqualTypeOf<SettingsOf<Schemas['aws']>>()
  })
})
