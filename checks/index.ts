/**
 * @fileoverview The list of built-in check families. To add one: a folder (its `defineFamily`), an entry here, its rule files.
 * A plugin family needs no entry: it is passed to `scan({ families })` or loaded with `--plugin`.
 */
import type { CheckDefinition, Family } from '../src/engine/check.ts'
import certificate from './certificate/index.ts'
import tls from './certificate/tls-check.ts'
import ssh from './mfa/ssh-algorithms.ts'
import openPort from './open-port/index.ts'
import mfa from './mfa/index.ts'
import endpointAgent from './endpoint-agent/index.ts'
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
