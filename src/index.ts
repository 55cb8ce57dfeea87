/**
 * @fileoverview Public API of ztscan. Explicit re-exports only.
 */
export { scan, preflight, fingerprintOf, shardOf, parseErrorBudget, MAX_TIMER_MS } from './engine/run.ts'
export type { ScanOptions, ScanEvent, ScanRun } from './engine/run.ts'
export { buildReport, incompleteness } from './report/build.ts'
export type { ErrorBudget } from './report/build.ts'
export { releaseFindings, isFindingView, FindingView, DEFAULT_MEMORY_FINDINGS } from './engine/spill.ts'
export { verdict, EXIT_CODES } from './engine/verdict.ts'
export type { Verdict } from './engine/verdict.ts'
export { PreflightError, inputFileProblem } from './engine/preflight.ts'
export type { InputCheck, PreflightInput } from './engine/preflight.ts'
export { defineCheck, defineFamily, defineTargets } from './engine/check.ts'
export { realIo } from './net/io.ts'
export type { ScanIo, ScanIoOverrides, SshIo, SshProbe, SshHelpers, SshCall, ExecHelper, ExecResult, KeyAnswer, SshSession, SshSettings } from './net/io.ts'
export type { BuiltinTargetKind, CheckDefinition, CheckContext, DefaultTargetsContext, DemoPart, Family, FamilyFlag, Logger, ReportAt, TargetScheme } from './engine/check.ts'
export { builtinChecks, builtinFamilies } from '../checks/index.ts'
export { loadRules, builtinRules, validateRule, catalogueWith } from './rules/load.ts'
export { loadPolicy, parsePolicy, effectiveRules, selectRules } from './rules/policy.ts'
export type { Policy, RulePolicy, RuleSelection } from './rules/policy.ts'
export { parseTarget, normalizeTarget } from './targets/parse.ts'
export { Registry, registryOf } from './targets/registry.ts'
export { isValidHost, hostPort, checkHost, checkPort, splitHostPort, userHostPort, fileTarget, providerFileTarget, splitQuery } from './targets/host.ts'
export { toJson, stringifyJson, writeJson, writeJsonl, toJsonl } from './report/json.ts'
export { toSarif } from './report/sarif.ts'
export type { SarifOptions } from './report/sarif.ts'
export { toTable, toMarkdown } from './report/text.ts'
export { FORMATS, formatByName, formatForPath, planOutputs, writeOutput } from './report/formats.ts'
export type { ReportFormat, FormatOptions, PlannedOutput } from './report/formats.ts'
export { toHtml } from './report/html.ts'
export type { HtmlOptions } from './report/html.ts'
export { trendOf, trendMarkdown, readReport, readTrendReports, historyFiles, historyName } from './report/trend.ts'
export { toJunit } from './report/junit.ts'
export { toGitlabDast, toCodeQuality, gitlabSchemaVersion, GITLAB_SCHEMA_VERSION } from './report/gitlab.ts'
export type { GitlabOptions, CodeQualityOptions } from './report/gitlab.ts'
export type { Trend, TrendRun, TrendItem, TrendReport } from './report/trend.ts'
export { score, scoreReport, mergeScoreCards, stageOf, STAGE_THRESHOLDS, SCORE_VERSION } from './scoring/score.ts'
export type { ScoreInput, PassCount } from './scoring/score.ts'
export { ZTMM_FUNCTIONS } from './scoring/ztmm.ts'
export { SEVERITY_WEIGHT, SECURITY_SEVERITY, SARIF_LEVEL, atOrAbove } from './scoring/severity.ts'
export { defaultTargets, defaultTargetsContext, startDemoLab } from './defaults.ts'
export { loadBaseline, baselineFrom, applyBaseline } from './report/baseline.ts'
export type { Baseline } from './report/baseline.ts'
export { loadSuppressions, parseSuppressions, applySuppressions } from './report/suppress.ts'
export type { Suppression } from './report/suppress.ts'
export { mergeReports, mergeReportFiles, mergeSarif, validateReportPart, validateSarifPart, type MergeOptions } from './report/merge.ts'
export { writeSarif } from './report/sarif.ts'
export { loadPlugins, loadTargetsFile, gatingFindings } from './plugins.ts'
export type { DemoLab } from './defaults.ts'
export { ZtscanError, RuleFileError, PolicyError, TargetError, OptionsError, InputError, UsageError, AttemptFailure } from './errors.ts'
export type { ZtscanErrorCode, FieldProblem } from './errors.ts'
export { VERSION } from './version.ts'
export type {
  AbsentFinding,
  AcceptedRisk,
  AssetScore,
  PillarCoverage,
  ScoreCap,
  ScoreDelta,
  ScoreSettings,
  ExpiredSuppression,
  AttemptError,
  AttemptSkip,
  EffectiveRule,
  ErrorReason,
  Finding,
  Incompleteness,
  Pillar,
  PillarScore,
  ReportSummary,
  RuleMeta,
  RuleParameter,
  ScanReport,
  ScoreCard,
  Severity,
  Stage,
  Target,
} from './types.ts'
