/**
 * da-rotate as a library: the same core the CLI drives. What is exported here (and only this) is
 * the public API (package.json `exports`): run a rotation, a resume or a verify; read reports and
 * journals; the error taxonomy (every error has a stable `code`); the credential kinds' names.
 */
export { ExitCode, RunAborted, UsageError } from './errors.js';
export { createLogger, SecretRegistry, type Logger, type LogOptions, type LevelWithSilent, type LogFormat } from './log.js';
export {
  runRotation,
  runResume,
  StopSignal,
  type RotationRequest,
  type ResumeRequest,
  type RunContext,
  type RunSummary,
  type ProgressEvent,
} from './rotation/run.js';
export { runVerify, type VerifyRequest, type VerifySummary } from './rotation/verify.js';
export type { ConnectionSettings, SelectionSettings, WorkSettings, FileSettings, PasswordPolicy } from './rotation/settings.js';
export { generatePassword, policyViolation } from './rotation/password.js';
export { readJournal, type JournalState } from './rotation/journal.js';
export { REPORT_COLUMNS, REPORT_STATUSES, type ReportRow, type ReportStatus } from './rotation/report.js';
export { readReport, parseReport, NotAReport, type ParsedReportRow } from './rotation/report-parse.js';
export { keyScope, type KeyScope, type KeyScopeOptions } from './rotation/key-scope.js';
export { KIND_NAMES, type KindName, type Credential } from './kinds/kind.js';
export {
  DirectAdminClient,
  DirectAdminError,
  AuthenticationFailed,
  IpBlacklisted,
  NeedsHttps,
  RedirectRefused,
  TlsFailure,
  CommandFailed,
  UnexpectedAnswer,
  TransportError,
  isDirectAdminError,
  parseServerUrl,
  type ClientOptions,
  type DirectAdminErrorCode,
  type TlsOptions,
  type ServerUrl,
} from './directadmin/index.js';
