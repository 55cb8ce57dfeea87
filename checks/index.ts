/**
 * @fileoverview The list of built-in check families. To add one: a folder (its `defineFamily`), an entry here, its rule files.
 * A plugin family needs no entry: it is passed to `scan({ families })` or loaded with `--plugin`.
 *
 * Every scan loads these families, so each is a light declaration (`family.ts`: target forms, settings schema, flags, and its
 * checks' ids, rules and deadlines); a check's `run` imports its code (and the heavy dependencies) the first time it runs,
 * so a scan loads only the code of the checks its targets need (issue 14: start-up before the first probe).
 */
import type { CheckDefinition, Family } from '../src/engine/check.ts'
import certificate from './certificate/family.ts'
import tls from './certificate/tls-family.ts'
import ssh from './mfa/ssh-family.ts'
import openPort from './open-port/family.ts'
import mfa from './mfa/family.ts'
import endpointAgent from './endpoint-agent/family.ts'
import type { targets as certificateTargets } from './certificate/targets.ts'
import type { targets as openPortTargets } from './open-port/targets.ts'
import type { targets as mfaTargets } from './mfa/targets.ts'
import type { targets as endpointAgentTargets } from './endpoint-agent/targets.ts'

/** Built-in families, in report order. */
export const builtinFamilies: readonly Family[] = [openPort, certificate, tls, mfa, ssh, endpointAgent]

/** Every built-in check. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- checks declare different rule-id unions
export const builtinChecks: readonly CheckDefinition<any>[] = builtinFamilies.flatMap((f) => f.checks)

type KindOf<T> = T extends readonly { readonly kind: infer K }[] ? K : never
/** The target kinds the built-in families declare. */
export type BuiltinTargetKind = KindOf<typeof certificateTargets> | KindOf<typeof openPortTargets> | KindOf<typeof mfaTargets> | KindOf<typeof endpointAgentTargets>
