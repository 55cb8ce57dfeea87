/**
 * @fileoverview The certificate family (being built).
 */
import { defineFamily } from '../../src/engine/check.ts'

export default defineFamily({ name: 'certificate', checks: [] })
