/**
 * @fileoverview Validators for every report the project writes: the JSON report schema and the official SARIF 2.1.0 schema.
 */
import { readFileSync } from 'node:fs'
import { expect } from 'vitest'
import Ajv04Module from 'ajv-draft-04'
import { Ajv } from 'ajv'
import addFormats from 'ajv-formats'
import { toSarif } from '../../src/report/sarif.ts'
import type { ScanReport } from '../../src/types.ts'

const sarifSchema = JSON.parse(readFileSync(new URL('../../fixtures/sarif-schema-2.1.0.json', import.meta.url), 'utf8')) as object
const reportSchema = JSON.parse(readFileSync(new URL('../../src/report/report.schema.json', import.meta.url), 'utf8')) as object

const Ajv04 = (Ajv04Module as unknown as { default: typeof Ajv04Module }).default ?? Ajv04Module
const ajv04 = new (Ajv04 as unknown as typeof Ajv)({ allErrors: true, strict: false })
addFormats.default(ajv04 as unknown as Ajv)
const validateSarifFn = ajv04.compile(sarifSchema)
const ajv = new Ajv({ allErrors: true, strict: false })
addFormats.default(ajv)
const validateReportFn = ajv.compile(reportSchema)

/** Asserts a SARIF log is valid against the official 2.1.0 schema. */
export function assertValidSarif(log: unknown): void {
  const ok = validateSarifFn(log)
  expect(ok ? [] : validateSarifFn.errors).toEqual([])
}

/** Asserts a report fits the JSON report schema, and that its SARIF rendering is valid SARIF 2.1.0. */
export function assertValidReport(report: ScanReport): void {
  const plain = JSON.parse(JSON.stringify(report)) as unknown
  const ok = validateReportFn(plain)
  expect(ok ? [] : validateReportFn.errors).toEqual([])
  assertValidSarif(JSON.parse(JSON.stringify(toSarif(report))))
}
