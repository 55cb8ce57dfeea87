/**
 * @fileoverview The mfa family (being built).
 */
import { defineFamily } from '../../src/engine/check.ts'

export default defineFamily({ name: 'mfa', checks: [] })
