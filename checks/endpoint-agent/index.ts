/**
 * @fileoverview The endpoint-agent family (being built).
 */
import { defineFamily } from '../../src/engine/check.ts'

export default defineFamily({ name: 'endpoint-agent', checks: [] })
