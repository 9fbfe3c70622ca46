/** The validated settings a run is made of; options.ts builds them from flags and the environment. */
import type { TlsOptions } from '../directadmin/index.js';
import type { AgeIdentity, AgeRecipient } from '../crypto/index.js';
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
  /** --count-all: with scope users, also count the whole server (admin-only listing commands). */
  countAll?: boolean;
}

/** Where a run keeps its state, and how it protects the secrets it writes. */
export interface FileSettings {
  /** Per-server locks and last-run records (stateDirFor). */
  stateDir: string;
  abandonPrevious: boolean;
  /** --encrypt-to: age recipients (validated); secrets then never touch the disk in clear. */
  encryptTo?: AgeRecipient[];
  /** --identity: opens encrypted journals and reports. */
  identities?: AgeIdentity[];
}

export interface WorkSettings {
  /** Requests in flight at once; with `adaptive`, where the limit starts. */
  concurrency: number;
  /** --concurrency auto: the limit follows the server's latency and strain (AdaptiveConcurrency). */
  adaptive?: boolean;
  retries: number;
  retryDelayMs: number;
  maxFailures: number;
  /** `verify`: prove unknown account outcomes with CMD_API_VERIFY_PASSWORD; `resend`: send the same password again. */
  settle: 'verify' | 'resend';
  /** Stop the whole run (like an interrupt) after this long; undefined: no deadline. */
  deadlineMs?: number;
}
