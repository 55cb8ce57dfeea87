/**
 * @fileoverview The list of check families. To add a family: a folder, an entry here, and its rule files.
 */
import type { CheckDefinition, Family } from '../src/engine/check.ts'
import certificate from './certificate/index.ts'
import tls from './certificate/tls-check.ts'
import ssh from './mfa/ssh-algorithms.ts'
import openPort from './open-port/index.ts'
import mfa from './mfa/index.ts'
import endpointAgent from './endpoint-agent/index.ts'

/** Built-in families, in report order. */
export const builtinFamilies: readonly Family[] = [openPort, certificate, tls, mfa, ssh, endpointAgent]

/** Every built-in check. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- checks declare different rule-id unions
export const builtinChecks: readonly CheckDefinition<any>[] = builtinFamilies.flatMap((f) => f.checks)
