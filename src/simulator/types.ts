/** The simulator's public types (re-exported by ./index.js). */
import type { AccountType, SimAccount } from './accounts.js';
import type { FormatOptions } from './encode.js';

export type { AccountType, SimAccount, FormatOptions };

export interface FaultRate {
  /** 0..1 probability per eligible request. */
  rate?: number;
  /** Always fires for these usernames (the `username` of CMD_API_USER_PASSWD). */
  users?: string[];
  /** At most this many times in total. */
  limit?: number;
}

export interface Faults {
  /** Added to every authenticated request before answering. */
  latencyMs?: number;
  /** Plus uniform random 0..jitterMs. */
  jitterMs?: number;
  /** At most N requests processed at once (after auth); the rest queue, first in first out. */
  capacity?: number;
  /** CMD_API_USER_PASSWD answers HTTP 500 without applying. */
  error500?: FaultRate;
  /** CMD_API_USER_PASSWD: destroy the socket, change NOT applied. */
  resetBeforeApply?: FaultRate;
  /** CMD_API_USER_PASSWD: apply the change, then destroy the socket without answering. */
  resetAfterApply?: FaultRate;
  /** CMD_API_USER_PASSWD: apply, answer HTTP 200 with an empty body. */
  emptyAfterApply?: FaultRate;
  /** CMD_API_USER_PASSWD: never answer (until the client gives up or the simulator closes). */
  hang?: FaultRate;
  /** CMD_API_USER_PASSWD: apply, answer 200 text/html `<html>...</html>` (not a login page). */
  htmlAfterApply?: FaultRate;
}

export type FaultName = 'error500' | 'resetBeforeApply' | 'resetAfterApply' | 'emptyAfterApply' | 'hang' | 'htmlAfterApply';

export type AuthFailureStyle = 'login-page' | 'evolution-page' | '401' | '401-json';

export interface PasswordPolicy {
  /** Default 5. */
  minLength?: number;
  /** Default 256. */
  maxLength?: number;
  /** Require upper and lower case, a digit and a special character. */
  difficult?: boolean;
}

export interface ExtraAccountSpec {
  username: string;
  type?: AccountType;
  creator?: string;
  password?: string;
}

export interface SimulatorOptions {
  /** Default '127.0.0.1'. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
  /** HTTPS with a self-signed certificate generated at start. */
  tls?: boolean;
  /** Subject alternative names of that certificate (default 'localhost', '127.0.0.1', '::1'). */
  tlsAltNames?: string[];
  /** Default 'admin'. */
  adminUser?: string;
  /** Default: random, 24 letters and digits. */
  adminPassword?: string;
  /** Plain users (default 50, at most 100 000), spread over the admin and the resellers. */
  users?: number;
  /** Default 3. */
  resellers?: number;
  /** Default 1 (`admin2`). */
  extraAdmins?: number;
  /** Every Nth user is suspended (default 10; 0 = none). */
  suspendedEvery?: number;
  /** Default 1. */
  seed?: number;
  /** Stored verbatim, hostile names included. */
  extraAccounts?: ExtraAccountSpec[];
  format?: FormatOptions;
  /** Default 'login-page'. */
  authFailure?: AuthFailureStyle;
  /** Failed logins from one IP before it is blacklisted (default 5; 0 = never). */
  blacklistAfter?: number;
  /** Status of the blacklisted answer (default 403). */
  blacklistStatus?: number;
  /** Answer every request with `X-Use-Https: yes` and the body `use https`. */
  needsHttps?: boolean;
  /** Answer every request with 302 and this Location. */
  redirectTo?: string;
  /** Default false. */
  showAllUsersIncludesResellersAndAdmins?: boolean;
  passwordPolicy?: PasswordPolicy;
  faults?: Faults;
}

export interface SimulatorStats {
  /** Per command name (e.g. 'CMD_API_USER_PASSWD'), counted on arrival, failed logins included. */
  requests: Record<string, number>;
  totalRequests: number;
  /** Requests arrived and not yet answered (or dropped). */
  inFlight: number;
  maxInFlight: number;
  /** Requests past auth and the capacity queue, being processed (latency included). */
  processing: number;
  /** Most requests processed at once: never above `faults.capacity` when one is set. */
  maxProcessing: number;
  failedLogins: number;
  passwordChangesApplied: number;
  /** TCP connections accepted. */
  connections: number;
  /** How many times each fault fired. */
  faultsFired: Record<string, number>;
}

export interface LoginKeySpec {
  key: string;
  /** Allow-list of commands; undefined = all. */
  commands?: string[];
  /** Allowed client IPs; undefined = any. */
  ips?: string[];
  /** Number of uses; undefined = unlimited. */
  maxUses?: number;
  expiresAt?: Date;
}

export interface Simulator {
  /** e.g. 'http://127.0.0.1:41234' (no trailing slash, no credentials). */
  readonly url: string;
  readonly port: number;
  readonly host: string;
  readonly tls: boolean;
  /** 'AB:CD:...' uppercase colon form, like X509Certificate.fingerprint256. */
  readonly fingerprint256?: string;
  readonly certPem?: string;
  readonly adminUser: string;
  readonly adminPassword: string;
  /** Live object. */
  readonly stats: SimulatorStats;
  resetStats(): void;
  /** Replaces the faults. */
  setFaults(f: Faults): void;
  /** Changes run-time options (authFailure, format, needsHttps, redirectTo, passwordPolicy, blacklist..., faults). */
  setOptions(o: Partial<SimulatorOptions>): void;
  account(name: string): SimAccount | undefined;
  accounts(): SimAccount[];
  password(name: string): string | undefined;
  setPassword(name: string, pw: string): void;
  addLoginKey(owner: string, key: LoginKeySpec): void;
  unblacklist(ip?: string): void;
  /** Closes the server and destroys open (keep-alive or hanging) sockets promptly. */
  close(): Promise<void>;
}
