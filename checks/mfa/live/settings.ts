/**
 * @fileoverview The settings the live identity connectors read (`settings.entra`, `settings.okta`, …), as JSON Schema: the
 * mfa family declares them (checks/mfa/family.ts, loaded by every scan) without loading the connectors.
 */

export const ENTRA_SETTINGS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    clientId: { type: 'string', minLength: 1 },
    authorityHost: { type: 'string', minLength: 1 },
    graphBaseUrl: { type: 'string', minLength: 1 },
    graphScope: { type: 'string', minLength: 1 },
    clientCertificatePath: { type: 'string', minLength: 1 },
    federatedTokenFile: { type: 'string', minLength: 1 },
    managedIdentity: { type: 'boolean' },
    managedIdentityEndpoint: { type: 'string', minLength: 1 },
    accessToken: { type: 'string', minLength: 1 },
  },
} as const

export const OKTA_SETTINGS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    baseUrl: { type: 'string', minLength: 1 },
    clientId: { type: 'string', minLength: 1 },
    privateKeyPath: { type: 'string', minLength: 1 },
    keyId: { type: 'string', minLength: 1 },
    scopes: { type: 'string', minLength: 1 },
    apiToken: { type: 'string', minLength: 1 },
  },
} as const

export const GITHUB_SETTINGS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    baseUrl: { type: 'string', minLength: 1 },
    graphqlUrl: { type: 'string', minLength: 1 },
    token: { type: 'string', minLength: 1 },
    appId: { type: 'string', minLength: 1 },
    installationId: { type: 'string', minLength: 1 },
    privateKeyPath: { type: 'string', minLength: 1 },
  },
} as const

export const GOOGLE_SETTINGS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    credentialsFile: { type: 'string', minLength: 1 },
    subject: { type: 'string', minLength: 3 },
    adminBaseUrl: { type: 'string', minLength: 1 },
    accessToken: { type: 'string', minLength: 1 },
  },
} as const

export const AWS_SETTINGS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    endpoint: { type: 'string', minLength: 1 },
    stsEndpoint: { type: 'string', minLength: 1 },
    partition: { enum: ['aws', 'aws-cn', 'aws-us-gov'] },
    region: { type: 'string', pattern: '^[a-z]{2}(-[a-z]+)+-\\d{1,2}$' },
    profile: { type: 'string', minLength: 1 },
    sharedCredentialsFile: { type: 'string', minLength: 1 },
    configFile: { type: 'string', minLength: 1 },
    imds: { type: 'boolean' },
    imdsEndpoint: { type: 'string', minLength: 1 },
    containerEndpoint: { type: 'string', minLength: 1 },
    roleSessionName: { type: 'string', pattern: '^[\\w+=,.@-]{2,64}$' },
    reportWaitSeconds: { type: 'integer', minimum: 1, maximum: 900 },
  },
} as const

/** Settings the connectors read (`settings.entra`, …), as JSON Schema `properties` of the family's settings. */
export const LIVE_SETTINGS_SCHEMAS = { entra: ENTRA_SETTINGS_SCHEMA, okta: OKTA_SETTINGS_SCHEMA, github: GITHUB_SETTINGS_SCHEMA, google: GOOGLE_SETTINGS_SCHEMA, aws: AWS_SETTINGS_SCHEMA } as const
