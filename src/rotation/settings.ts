/** The validated settings a run is made of; options.ts builds them from flags and the environment. */
import type { TlsOptions } from '../directadmin/index.js';
import type { KindName } from '../kinds/kind.js';
export type { PasswordPolicy } from './password.js';

export interface ConnectionSettings {
  baseUrl: string;
  host: string;
  username: string;
  secret: string;
  /** Where the secret came from, for the audit trail (never the secret itself). */
  secretSource: string;
  tls: TlsOptions;
  allowHttp: boolean;
  /** Deadline of one whole request; also how long a stop waits for requests in flight. */
  timeoutMs: number;
  format: 'json' | 'urlencoded';
  /** Non-fatal remarks for the operator, e.g. credentials on the command line. */
  warnings: string[];
}

export interface SelectionSettings {
  scope: 'users' | 'all';
  exclude: string[];
  only: string[] | undefined;
  /** Credential kinds to change; ['account'] unless --include says more. */
  include: KindName[];
}

export interface WorkSettings {
  concurrency: number;
  retries: number;
  retryDelayMs: number;
  maxFailures: number;
  /** `verify`: prove unknown account outcomes with CMD_API_VERIFY_PASSWORD; `resend`: send the same password again. */
  settle: 'verify' | 'resend';
  /** Stop the whole run (like an interrupt) after this long; undefined: no deadline. */
  deadlineMs?: number;
}
