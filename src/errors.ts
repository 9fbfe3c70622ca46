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
  /** Interrupted by SIGINT/SIGTERM; the journal holds everything needed to resume. */
  Interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Bad input from the operator: a one-line message saying what is wrong and how to fix it. */
export class UsageError extends Error {
  readonly exitCode = ExitCode.Usage;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The run cannot go on (or start) against this server. */
export class RunAborted extends Error {
  readonly exitCode: number = ExitCode.Aborted;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RunAborted';
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

/** The message of anything thrown, for one-line reports. */
export function describeError(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
