/** What a command is given of the process: its environment and streams, and whether it owns the signals. */
import type { Env } from './options.js';

export interface CommandIo {
  env: Env;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  /** Install SIGINT/SIGTERM handlers (the real CLI does; library callers may not want it). */
  handleSignals: boolean;
}
