/**
 * @fileoverview SARIF 2.1.0 writer. Only `fail` findings become results; attempt errors go to
 * `invocations[0].toolExecutionNotifications`. Each target gets a relative, colon-free URI with `region.startLine: 1`,
 * the real target in `logicalLocations`, and a stable `partialFingerprints.primaryLocationLineHash`, which is what
 * GitHub code scanning needs for results that are not about a file.
 */
import { SARIF_LEVEL, SECURITY_SEVERITY } from '../scoring/severity.ts'
import { once } from 'node:events'
import { finished } from 'node:stream/promises'
import type { Writable } from 'node:stream'
import type { EffectiveRule, Finding, ScanReport, ScoreCard } from '../types.ts'
import { escapeControls, escapeJsonText } from './escape.ts'
import { targetUri } from './location.ts'

/** Options of the SARIF writer. */
export interface SarifOptions {
  /** `runs[0].automationDetails.id` prefix (GitHub's category), e.g. `ztscan/prod`. */
  readonly category?: string
}

const pascal = (id: string): string => id.replace(/(^|-)([a-z0-9])/g, (_, __, c: string) => c.toUpperCase())

function helpMarkdown(r: EffectiveRule): string {
  const params = Object.entries(r.values)
  return [
    `**${r.title}** (${r.severity}, ZTMM pillar: ${r.pillar})`,
    '',
    r.description,
    ...(r.risk ? ['', `**Risk.** ${r.risk}`] : []),
    '',
    `**Remediation.** ${r.remediation}`,
    ...(params.length ? ['', '**Parameters in force:** ' + params.map(([k, v]) => `\`${k}\` = \`${JSON.stringify(v)}\``).join(', ')] : []),
    ...(r.references?.length ? ['', '**References:**', ...r.references.map((u) => `- ${u}`)] : []),
  ].join('\n')
}

function helpText(r: EffectiveRule): string {
  return [r.description, r.risk ? `Risk: ${r.risk}` : '', `Remediation: ${r.remediation}`, ...(r.references ?? [])].filter(Boolean).join('\n\n')
}

/** Message text shown by SARIF viewers: control and bidi characters from targets are escaped (properties keep the raw values). */
const sarifText = (s: string): string => escapeControls(s, { multiline: true })

const cut = (s: string, n = 1024): string => (s.length > n ? s.slice(0, n - 1) + '…' : s)

/** Baseline findings that are gone: SARIF `baselineState: absent`, level none. */
function absentResults(report: ScanReport, ruleIndex: ReadonlyMap<string, number>): Record<string, unknown>[] {
  return (report.baseline?.absent ?? []).map((a) => ({
    ruleId: a.ruleId,
    ...(ruleIndex.has(a.ruleId) ? { ruleIndex: ruleIndex.get(a.ruleId) } : {}),
    kind: 'pass',
    level: 'none',
    baselineState: 'absent',
    message: { text: sarifText(`${a.message} [${a.target}]`) },
    locations: [
      {
        physicalLocation: { artifactLocation: { uri: targetUri(a.target || 'unknown') }, region: { startLine: 1 } },
        logicalLocations: [{ fullyQualifiedName: a.target || 'unknown', kind: 'resource' }],
      },
    ],
    partialFingerprints: { primaryLocationLineHash: a.fingerprint, 'ztscan/v1': a.fingerprint },
    properties: { target: a.target },
  }))
}

function sarifResult(f: Finding, idx: number | undefined): Record<string, unknown> {
  return {
    ruleId: f.ruleId,
    ...(idx === undefined ? {} : { ruleIndex: idx }),
    kind: 'fail',
    level: SARIF_LEVEL[f.severity],
    message: { text: sarifText(`${f.message} [${f.target}]`) },
    locations: [
      {
        physicalLocation: { artifactLocation: { uri: targetUri(f.target) }, region: { startLine: 1 } },
        logicalLocations: [{ fullyQualifiedName: f.target, name: f.resource.slice(0, 200), kind: 'resource' }],
      },
    ],
    partialFingerprints: { primaryLocationLineHash: f.fingerprint, 'ztscan/v1': f.fingerprint },
    ...(f.baselineState ? { baselineState: f.baselineState } : {}),
    ...(f.suppression
      ? { suppressions: [{ kind: 'external', status: 'accepted', justification: f.suppression.reason, ...(f.suppression.expires ? { properties: { expires: f.suppression.expires } } : {}) }] }
      : {}),
    properties: { severity: f.severity, pillar: f.pillar, family: f.family, target: f.target, resource: f.resource, evidence: f.evidence },
  }
}

/** Converts a report to a SARIF 2.1.0 log object. */
export function toSarif(report: ScanReport, opts: SarifOptions = {}): Record<string, unknown> {
  return sarifLog(report, opts, false)
}

const RESULTS_SLOT = '\u0000ztscan-results\u0000'

/**
 * Streams the SARIF log to a writable (results one at a time, with backpressure), so 100,000 results never exist as one
 * string. Resolves when the stream has finished.
 */
export async function writeSarif(report: ScanReport, out: Writable, opts: SarifOptions = {}): Promise<void> {
  const ruleIndex = new Map(report.rules.map((r, i) => [r.id, i]))
  const skeleton = JSON.stringify(sarifLog(report, opts, true), null, 2)
  const at = skeleton.indexOf(JSON.stringify(RESULTS_SLOT))
  const write = (s: string): Promise<void> | void => {
    if (!out.write(escapeJsonText(s))) return once(out, 'drain').then(() => undefined)
  }
  await write(skeleton.slice(0, at) + '[')
  let first = true
  let buf = ''
  for (const f of report.findings) {
    if (f.status !== 'fail') continue
    buf += (first ? '\n' : ',\n') + JSON.stringify(sarifResult(f, ruleIndex.get(f.ruleId)))
    first = false
    if (buf.length > 1 << 16) {
      await write(buf)
      buf = ''
    }
  }
  for (const r of absentResults(report, ruleIndex)) {
    buf += (first ? '\n' : ',\n') + JSON.stringify(r)
    first = false
  }
  await write(buf + '\n]' + skeleton.slice(at + JSON.stringify(RESULTS_SLOT).length) + '\n')
  out.end()
  await finished(out)
}

function sarifLog(report: ScanReport, opts: SarifOptions, slot: boolean): Record<string, unknown> {
  const ruleIndex = new Map<string, number>()
  const rules = report.rules.map((r, i) => {
    ruleIndex.set(r.id, i)
    return {
      id: r.id,
      name: pascal(r.id),
      shortDescription: { text: cut(r.title) },
      fullDescription: { text: cut(r.description) },
      help: { text: helpText(r), markdown: helpMarkdown(r) },
      helpUri: r.helpUri,
      defaultConfiguration: { level: SARIF_LEVEL[r.severity], enabled: r.enabled },
      properties: {
        'security-severity': SECURITY_SEVERITY[r.severity],
        tags: [...new Set(['security', 'zero-trust', r.family, `ztmm-${r.pillar}`, ...(r.tags ?? [])])].slice(0, 20),
        precision: 'high',
        'problem.severity': SARIF_LEVEL[r.severity] === 'note' ? 'recommendation' : SARIF_LEVEL[r.severity],
      },
    }
  })
  const results: unknown = slot ? RESULTS_SLOT : [...report.findings.filter((f) => f.status === 'fail').map((f) => sarifResult(f, ruleIndex.get(f.ruleId))), ...absentResults(report, ruleIndex)]
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'ztscan',
            version: report.tool.version,
            semanticVersion: report.tool.version,
            informationUri: 'https://github.com/ztscan/ztscan',
            rules,
          },
        },
        automationDetails: { id: `${opts.category ?? 'ztscan'}/${report.shard ? `shard-${report.shard.replace('/', '-of-')}/` : ''}` },
        invocations: [
          {
            // False when the scan did not check what it was asked to (aborted, errors over the budget, nothing checked).
            executionSuccessful: report.complete !== false,
            startTimeUtc: report.startedAt,
            endTimeUtc: report.finishedAt,
            toolExecutionNotifications: [
              ...report.errors.map((e) => ({
                level: 'error',
                message: { text: sarifText(`${e.target}: ${e.check}: ${e.message}`) },
                descriptor: { id: `attempt-${e.reason}` },
                properties: { target: e.target, check: e.check, family: e.family, reason: e.reason },
              })),
              ...(report.incomplete ?? []).map((x) => ({
                level: 'error',
                message: { text: `scan incomplete: ${x.message}` },
                descriptor: { id: `scan-incomplete-${x.reason}` },
              })),
              ...(report.expiredSuppressions ?? []).map((x) => ({
                level: 'warning',
                message: { text: sarifText(`suppression for ${x.rule} on ${x.target} expired on ${x.expires} ("${x.reason}"); ${x.matched} finding(s) no longer suppressed`) },
                descriptor: { id: 'suppression-expired' },
              })),
            ],
          },
        ],
        results,
        properties: { score: sarifScore(report.score), summary: report.summary },
      },
    ],
  }
}

/** The score card for SARIF run properties: pillars, caps, coverage, settings, delta; per-asset scores stay in the JSON. */
function sarifScore(card: ScoreCard): Omit<ScoreCard, 'assets'> {
  const { assets: _assets, ...rest } = card
  return rest
}
