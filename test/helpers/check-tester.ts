/**
 * @fileoverview ztscan's RuleTester: runs one check (or family) through the real engine against a target and checks the
 * output is well-formed — only declared rule ids, no unfilled `{{placeholder}}`, every report valid against its schema.
 */
import { expect } from 'vitest'
import { scan, type ScanOptions } from '../../src/engine/run.ts'
import type { CheckDefinition } from '../../src/engine/check.ts'
import type { Finding, ScanReport, Target } from '../../src/types.ts'
import { assertValidReport } from './schemas.ts'

/** Runs checks against targets and validates the output. */
export function checkTester(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  checks: CheckDefinition<any> | readonly CheckDefinition<any>[],
  base: Partial<ScanOptions> = {},
) {
  const list = Array.isArray(checks) ? checks : [checks as CheckDefinition]
  const declared = new Set(list.flatMap((c) => c.rules as string[]))
  return {
    async run(targets: Target | string | readonly (Target | string)[], extra: Partial<ScanOptions> = {}): Promise<ScanReport> {
      // Passes stored individually: the tests look at each passing resource.
      const report = await scan({ includePassed: true, ...base, ...extra, checks: list, targets: Array.isArray(targets) ? targets : [targets as Target | string] })
      for (const f of report.findings) {
        expect(declared.has(f.ruleId), `undeclared rule ${f.ruleId}`).toBe(true)
        expect(f.message, `unfilled placeholder in ${f.ruleId}`).not.toMatch(/\{\{/)
      }
      assertValidReport(report)
      return report
    },
  }
}

/** Sorted unique ids of failed rules. */
export function failedRuleIds(report: ScanReport, filter?: (f: Finding) => boolean): string[] {
  return [...new Set(report.findings.filter((f) => f.status === 'fail' && (!filter || filter(f))).map((f) => f.ruleId))].sort()
}

/** Sorted unique ids of passed rules. */
export function passedRuleIds(report: ScanReport, filter?: (f: Finding) => boolean): string[] {
  return [...new Set(report.findings.filter((f) => f.status === 'pass' && (!filter || filter(f))).map((f) => f.ruleId))].sort()
}

/** The single finding of a rule (fails the test when there is not exactly one). */
export function findingOf(report: ScanReport, ruleId: string, filter?: (f: Finding) => boolean): Finding {
  const fs = report.findings.filter((f) => f.ruleId === ruleId && (!filter || filter(f)))
  expect(fs.length, `findings of ${ruleId}`).toBe(1)
  return fs[0]!
}
