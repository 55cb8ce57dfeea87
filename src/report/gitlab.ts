/**
 * @fileoverview GitLab reports.
 *
 * - `gitlab`: a security report of type DAST (`artifacts: reports: dast:`), the GitLab report type that fits network
 *   endpoints best. GitLab validates a report against the schema version it declares and ignores versions it does not
 *   support, and older GitLab rejects newer versions — so the version is pinned (GITLAB_SCHEMA_VERSION, the one the tests
 *   validate against, `fixtures/gitlab/`) and configurable (`--gitlab-schema-version`). Only open failed findings are
 *   written (suppressed ones do not count and are left out, with a scan message saying how many); attempt errors become
 *   scan messages and the scan's status is `failure` when the report says the scan was incomplete.
 * - `codequality`: GitLab's Code Quality report (`artifacts: reports: codequality:`), shown in merge requests: one issue
 *   per open failed finding, located at the same scheme-less path SARIF uses.
 */
import { createHash } from 'node:crypto'
import { UsageError } from '../errors.ts'
import type { EffectiveRule, Finding, ScanReport, Severity } from '../types.ts'
import { SEVERITY_RANK } from '../scoring/severity.ts'
import { FirstInOrder, countOption } from './first.ts'
import { targetUri } from './location.ts'

/** The DAST schema version written by default: the one vendored under fixtures/gitlab and validated in tests. */
export const GITLAB_SCHEMA_VERSION = '15.0.7'

/**
 * Open failed findings the DAST report lists as vulnerabilities and the Code Quality report as issues (the same cap as the
 * HTML page): the first ones, highest severity first, chosen in bounded memory; the rest are counted in a scan message
 * (DAST) and a note on stderr (both).
 */
export const GITLAB_MAX_FINDINGS = 50_000

/** Scanned resources (the scan's targets) a DAST report lists; the rest are counted in a scan message. */
export const GITLAB_MAX_SCANNED = 10_000

/** Checks a `--gitlab-schema-version` value: a 15.x schema version (GitLab 15.0 and later accept 15.x reports). */
export function gitlabSchemaVersion(v: string | undefined): string {
  if (v === undefined) return GITLAB_SCHEMA_VERSION
  if (!/^15\.\d{1,3}\.\d{1,3}$/.test(v)) throw new UsageError(`--gitlab-schema-version: expected a 15.x.y security report schema version such as ${GITLAB_SCHEMA_VERSION} (got "${v}")`)
  return v
}

const GL_SEVERITY: Readonly<Record<Severity, string>> = { critical: 'Critical', high: 'High', medium: 'Medium', low: 'Low', info: 'Info' }
const CQ_SEVERITY: Readonly<Record<Severity, string>> = { critical: 'blocker', high: 'critical', medium: 'major', low: 'minor', info: 'info' }

/** A stable UUID (version-5 layout) from a finding fingerprint, so a vulnerability keeps its id across runs. */
export function uuidOf(key: string): string {
  const h = createHash('sha256').update(`ztscan:${key}`).digest('hex')
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`
}

const cap = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s)
const httpUrl = (u: string | undefined): string | undefined => (u && /^https?:\/\/\S+$/i.test(u) ? u : undefined)
/** GitLab's time format: yyyy-mm-ddThh:mm:ss (UTC, no fraction, no zone). */
const glTime = (iso: string): string => {
  const d = new Date(iso)
  return (Number.isNaN(d.getTime()) ? new Date(0) : d).toISOString().slice(0, 19)
}

/** The GitLab reports' order of open failed findings: severity (highest first), then fingerprint. */
const byGitlabOrder = (a: Finding, b: Finding): number => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] || (a.fingerprint < b.fingerprint ? -1 : a.fingerprint > b.fingerprint ? 1 : 0)

interface Open {
  /** The first `max` open failed findings in order. */
  kept: Finding[]
  /** Open failed findings in all, and the suppressed failed ones (left out). */
  open: number
  suppressed: number
  /** What was cut, said ("N of M open failed findings listed as …"), or undefined when nothing was. */
  cut: (what: string) => string | undefined
}

/** The first `max` open failed findings in order, with the counts: one pass, at most 2 × `max` held. */
function open(report: ScanReport, max: number): Open {
  const first = new FirstInOrder<Finding>(max, byGitlabOrder)
  let n = 0
  let suppressed = 0
  for (const f of report.findings) {
    if (f.status !== 'fail') continue
    if (f.suppression) suppressed++
    else {
      n++
      first.offer(f)
    }
  }
  const kept = first.take()
  const cut = (what: string): string | undefined =>
    kept.length < n ? `${kept.length} of ${n} open failed findings listed as ${what} (highest severity first): ${n - kept.length} more not listed (see the JSON and SARIF reports)` : undefined
  return { kept, open: n, suppressed, cut }
}

function evidenceValue(v: unknown): string {
  try {
    return cap(typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v)), 2000)
  } catch {
    return cap(String(v), 2000)
  }
}

/** Options of the GitLab security report. */
export interface GitlabOptions {
  /** Schema version declared (default GITLAB_SCHEMA_VERSION). */
  readonly schemaVersion?: string
  /** Open failed findings listed (default {@link GITLAB_MAX_FINDINGS}); not a finite number is an OptionsError. */
  readonly maxFindings?: number
  /** Told what was left out (the CLI writes it on stderr). */
  readonly note?: (message: string) => void
}

/** The GitLab DAST security report of a scan. */
export function toGitlabDast(report: ScanReport, options: GitlabOptions = {}): Record<string, unknown> {
  const version = gitlabSchemaVersion(options.schemaVersion)
  const rules = new Map<string, EffectiveRule>((report.rules ?? []).map((r) => [r.id, r]))
  const { kept, suppressed, cut } = open(report, countOption('toGitlabDast maxFindings', options.maxFindings, GITLAB_MAX_FINDINGS))
  const vulnerabilities = kept.map((f) => {
    const r = rules.get(f.ruleId)
    const details: Record<string, { name: string; type: 'text'; value: string }> = {
      target: { name: 'Target', type: 'text', value: f.target },
      resource: { name: 'Resource', type: 'text', value: f.resource },
      pillar: { name: 'ZTMM pillar', type: 'text', value: f.pillar },
      family: { name: 'Check family', type: 'text', value: f.family },
      fingerprint: { name: 'ztscan fingerprint', type: 'text', value: f.fingerprint },
      ...(f.baselineState ? { baseline: { name: 'Baseline state', type: 'text' as const, value: f.baselineState } } : {}),
    }
    for (const [k, v] of Object.entries(f.evidence ?? {}).slice(0, 40)) details[`evidence.${k}`] = { name: `Evidence: ${cap(k, 100)}`, type: 'text', value: evidenceValue(v) }
    const help = httpUrl(r?.helpUri)
    return {
      id: uuidOf(f.fingerprint),
      name: cap(r?.title ?? f.ruleId, 255),
      description: cap(`${f.message}\n\nTarget: ${f.target}\nResource: ${f.resource}${r?.description ? `\n\n${r.description}` : ''}${r?.risk ? `\n\nRisk: ${r.risk}` : ''}`, 1_000_000),
      severity: GL_SEVERITY[f.severity] ?? 'Unknown',
      ...(r?.remediation ? { solution: cap(r.remediation, 7000) } : {}),
      identifiers: [{ type: 'ztscan_rule', name: `ztscan ${f.ruleId}`, value: f.ruleId, ...(help ? { url: help } : {}) }],
      links: [help, ...(r?.references ?? [])].filter((u): u is string => !!httpUrl(u)).map((url) => ({ url })),
      // DAST locations are HTTP-shaped; a posture finding's target is its "hostname" and its resource the "path", so two
      // resources of one target stay two vulnerabilities.
      location: { hostname: f.target, path: f.resource, method: '', param: '' },
      evidence: { summary: cap(f.message, 10_000) },
      details,
    }
  })
  const messages: { level: 'info' | 'warn' | 'fatal'; value: string }[] = []
  for (const e of report.errors.slice(0, 1000)) messages.push({ level: 'warn', value: cap(`${e.check} on ${e.target}: ${e.reason}: ${e.message}`, 2000) })
  if (report.errors.length > 1000) messages.push({ level: 'warn', value: `… and ${report.errors.length - 1000} more errors (see the JSON report)` })
  if (suppressed) messages.push({ level: 'info', value: `${suppressed} suppressed findings left out` })
  const left = cut('vulnerabilities')
  if (left) {
    messages.push({ level: 'warn', value: left })
    options.note?.(left)
  }
  const score = report.score as { overall?: unknown; stage?: unknown } | undefined
  messages.push({ level: 'info', value: `ztscan score ${typeof score?.overall === 'number' ? score.overall.toFixed(1) : 'n/a'} (${typeof score?.stage === 'string' ? score.stage : 'not evaluated'})` })
  // The first targets only (a lazy view is read that far): the rest are said, never silently left out.
  const targets = report.targets ?? []
  const scanned = targets.slice(0, GITLAB_MAX_SCANNED).map((t) => ({ method: cap(t.kind || 'target', 100), url: t.id, type: 'url' }))
  if (targets.length > GITLAB_MAX_SCANNED) messages.push({ level: 'info', value: `${GITLAB_MAX_SCANNED} of ${targets.length} scanned resources listed: ${targets.length - GITLAB_MAX_SCANNED} more not listed (see the JSON report)` })
  const incomplete = (report as { complete?: unknown }).complete === false
  const tool = { id: 'ztscan', name: 'ztscan', version: report.tool?.version || '0.0.0', vendor: { name: 'ztscan' } }
  return {
    version,
    scan: {
      analyzer: tool,
      scanner: tool,
      type: 'dast',
      start_time: glTime(report.startedAt),
      end_time: glTime(report.finishedAt),
      status: incomplete ? 'failure' : 'success',
      messages,
      scanned_resources: scanned,
    },
    vulnerabilities,
    remediations: [],
  }
}

/** Options of the GitLab Code Quality report. */
export interface CodeQualityOptions {
  /** Open failed findings listed (default {@link GITLAB_MAX_FINDINGS}); not a finite number is an OptionsError. */
  readonly maxFindings?: number
  /** Told what was left out (the format has no place for it; the CLI writes it on stderr). */
  readonly note?: (message: string) => void
}

/** The GitLab Code Quality report of a scan: one issue per open failed finding (the first GITLAB_MAX_FINDINGS). */
export function toCodeQuality(report: ScanReport, options: CodeQualityOptions = {}): Record<string, unknown>[] {
  const { kept, cut } = open(report, countOption('toCodeQuality maxFindings', options.maxFindings, GITLAB_MAX_FINDINGS))
  const left = cut('issues')
  if (left) options.note?.(left)
  return kept.map((f) => ({
    type: 'issue',
    check_name: f.ruleId,
    description: cap(`${f.message} [${f.target}]`, 2000),
    categories: ['Security'],
    severity: CQ_SEVERITY[f.severity] ?? 'info',
    fingerprint: f.fingerprint,
    location: { path: targetUri(f.target), lines: { begin: 1 } },
  }))
}
