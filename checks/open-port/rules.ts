/**
 * @fileoverview The rule ids of the open-port family's checks: read by their light declaration (checks/open-port/family.ts,
 * loaded by every scan) and by the checks' code (evaluate.ts, loaded when a check runs).
 */

/** Every rule of the family. */
export const RULES = ['open-port-critical-service', 'open-port-plaintext-admin', 'open-port-database-exposed', 'open-port-remote-admin', 'open-port-not-allowed'] as const
/** A rule id of the family. */
export type RuleId = (typeof RULES)[number]
