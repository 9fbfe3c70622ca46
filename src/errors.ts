/** Exit codes, documented in the README. */
export const ExitCode = {
  /** Every selected account rotated (or planned); verify: no drift. */
  Ok: 0,
  /** Some accounts failed or are unknown; verify: drift found. */
  Partial: 1,
  /** Usage or configuration error: nothing was changed. */
  Usage: 2,
  /** Run aborted: authentication, blacklist, TLS, lock, server refused enumeration, --max-failures. */
  Aborted: 3,
  /** An internal error: a bug in da-rotate. Nothing is left unjournaled. */
  Internal: 4,
  /** rotate refused: the server's previous run did not finish (resume it, or --abandon-previous). Nothing was sent. */
  Unfinished: 5,
  /** Interrupted by SIGINT/SIGTERM; the journal holds everything needed to resume. */
  Interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * Stable codes of the tool's own errors (as undici and Node do): `--json` prints `{ error, code,
 * exitCode }` for a failed run, so a scheduler branches on `code`, never on the wording. A run
 * aborted by a DirectAdmin error (DA_AUTH_FAILED, DA_BLACKLISTED, DA_TLS...), a failed write
 * (FILE_WRITE_FAILED) or a held lock (LOCK_HELD) carries that error's code.
 */
export type ToolErrorCode = 'USAGE' | 'ABORTED' | 'INTERNAL' | 'UNFINISHED_RUN';

/** Bad input from the operator: a one-line message saying what is wrong and how to fix it. */
export class UsageError extends Error {
  readonly code = 'USAGE' as const;
  readonly exitCode = ExitCode.Usage;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The run cannot go on (or start) against this server. `code`: its cause's stable code, else ABORTED. */
export class RunAborted extends Error {
  readonly exitCode: number = ExitCode.Aborted;
  readonly code: string;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RunAborted';
    this.code = stableCodeOf(options?.cause) ?? 'ABORTED';
  }
}

/** The server's last run did not finish: exit 5, code UNFINISHED_RUN (not a typo: resume it or abandon it). */
export class PreviousRunUnfinished extends RunAborted {
  override readonly exitCode: number = ExitCode.Unfinished;
  override readonly code: string = 'UNFINISHED_RUN';
  constructor(message: string) {
    super(message);
    this.name = 'PreviousRunUnfinished';
  }
}

/** A signal stopped the run before it changed anything: exit 130, nothing to resume. */
export class RunInterrupted extends RunAborted {
  override readonly exitCode: number = ExitCode.Interrupted;
  constructor(message: string) {
    super(message);
    this.name = 'RunInterrupted';
  }
}

/** The first stable code (UPPER_SNAKE string `code`) along an error's cause chain. */
function stableCodeOf(e: unknown, depth = 0): string | undefined {
  if (!(e instanceof Error) || depth > 5) return undefined;
  const code = (e as Error & { code?: unknown }).code;
  if (typeof code === 'string' && /^(DA_|FILE_|LOCK_)[A-Z_]+$/.test(code)) return code;
  return stableCodeOf(e.cause, depth + 1);
}

/** What `--json` prints for a run that failed before its summary. */
export function errorJson(message: string, code: string, exitCode: number): string {
  return JSON.stringify({ error: message, code, exitCode });
}

/** The message of anything thrown, for one-line reports. */
export function describeError(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
