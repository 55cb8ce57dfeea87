/** `ztscan/errors`: the error classes alone. */
export { ZtscanError, RuleFileError, PolicyError, TargetError, OptionsError, InputError, UsageError, AttemptFailure, formatProblems } from './errors.ts'
export type { ZtscanErrorCode, FieldProblem } from './errors.ts'
