/** da-rotate as a library: the same core the CLI drives. */
export * from './directadmin/index.js';
export { ExitCode, RunAborted, UsageError } from './errors.js';
export { createLogger, SecretRegistry } from './log.js';
export { enumerateAccounts, selectAccounts, isValidUsername } from './rotation/enumerate.js';
export { generatePassword, policyViolation } from './rotation/password.js';
export { changeCredential } from './rotation/worker.js';
export * from './kinds/index.js';
export { runRotation, runResume, StopSignal } from './rotation/run.js';
export { runVerify } from './rotation/verify.js';
export { readJournal, parseJournal, unsettled } from './rotation/journal.js';
export { rowsFromJournal } from './rotation/report.js';
export { readReport, parseReport } from './rotation/report-parse.js';
export { keyScope } from './rotation/key-scope.js';
