/**
 * @fileoverview The open-port family (being built).
 */
import { defineFamily } from '../../src/engine/check.ts'

export default defineFamily({ name: 'open-port', checks: [] })
