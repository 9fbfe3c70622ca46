/** The simulator's public types (re-exported by ./index.js). */
import type { AccountType, SimAccount } from './accounts.js';
import type { FormatOptions } from './encode.js';

export type { AccountType, SimAccount, FormatOptions };

export interface FaultRate {
  /** 0..1 probability per eligible request. */
  rate?: number;
  /**
   * Always fires for these targets. The target of a command is the account it acts on
   * (`username` of CMD_API_USER_PASSWD, `user` of VERIFY_PASSWORD / SHOW_USER_CONFIG / USER_EXISTS /
   * SHOW_USER_DOMAINS, else the account logged in as, login-as target included) and, for a
   * credential, also its name: a mailbox or FTP address `local@domain`, a login key name, a
   * session id, a database user.
   */
  users?: string[];
  /** At most this many times in total. */
  limit?: number;
  /**
   * Which commands it may hit: legacy names ('CMD_API_SHOW_USERS') or JSON API paths, either as
   * sent ('/api/login-keys/keys/k1') or as their route ('/api/login-keys/keys/{id}'); a path
   * also matches the routes below it ('/api/login-keys/keys' matches '/api/login-keys/keys/{id}').
   * '*' = every command. Default: the write requests only (POST CMD_API_USER_PASSWD, POST
   * CMD_API_POP / CMD_API_FTP with action=modify, POST CMD_API_LOGIN_KEYS, and every JSON API
   * POST / DELETE).
   */
  commands?: string[];
}

export interface TrickleFault extends FaultRate {
  /** Body bytes per second once the headers are out (default 1). */
  bytesPerSecond?: number;
  /** Send the headers, then nothing until the client gives up or the simulator closes. */
  stallAfterHeaders?: boolean;
}

export interface DegradeMode {
  /** Requests processed at once before it slows down. */
  capacity: number;
  /** Latency at or below capacity (default: `latencyMs`, or 0). */
  baseMs?: number;
}

export interface Faults {
  /** An authenticated request is answered this long after it arrives (after its turn in the capacity queue): the simulator's own work is inside it, not added to it. */
  latencyMs?: number;
  /** Plus uniform random 0..jitterMs. */
  jitterMs?: number;
  /** At most N requests processed at once (after auth); the rest queue, first in first out. */
  capacity?: number;
  /**
   * A server that slows down past its capacity instead of queueing. When a request starts
   * processing (after auth and the `capacity` queue, if any), with n = requests being processed
   * then, itself included, and overload = max(0, n / capacity - 1), its latency is
   * `baseMs * (1 + overload^2)` plus the jitter. Computed once per request, at its start.
   * Example: capacity 24, baseMs 20: 24 in flight -> 20 ms, 48 -> 40 ms, 72 -> 100 ms.
   */
  degrade?: DegradeMode;
  /** HTTP 500 (text/html) without applying. */
  error500?: FaultRate;
  /** Destroy the socket, nothing applied. */
  resetBeforeApply?: FaultRate;
  /** Apply the change (or compute the answer of a read), then destroy the socket without answering. */
  resetAfterApply?: FaultRate;
  /** Apply (or compute), answer HTTP 200 with an empty body. */
  emptyAfterApply?: FaultRate;
  /** Never answer (until the client gives up or the simulator closes). */
  hang?: FaultRate;
  /** Apply (or compute), answer 200 text/html `<html>...</html>` (not a login page). */
  htmlAfterApply?: FaultRate;
  /** Apply (or compute), then send the answer slowly, or stall after its headers (refusals too). */
  trickle?: TrickleFault;
}

export type FaultName = 'error500' | 'resetBeforeApply' | 'resetAfterApply' | 'emptyAfterApply' | 'hang' | 'htmlAfterApply' | 'trickle';

/**
 * How a failed login is answered on the legacy API. 'not-logged-in': `{"error":"Not logged in"}`
 * to a request with json=yes (as the Clientexec module handles it), the login page otherwise.
 */
export type AuthFailureStyle = 'login-page' | 'evolution-page' | '401' | '401-json' | 'not-logged-in';

/**
 * What a valid login key that does not allow the command gets. 'login-page' (default): a failed
 * login (the login page; 401 {"type":"UNAUTHORIZED"} on the JSON API), counted toward the
 * blacklist. '403': HTTP 403 (JSON API: {"type":"ACCESS_DENIED"}; legacy: the refusal below as the
 * body). 'refusal': the legacy refusal `error=1&text=You cannot execute that command` with 200
 * (JSON API: 403 ACCESS_DENIED). Neither of the last two is a failed login.
 */
export type KeyRefusalStyle = 'login-page' | '403' | 'refusal';

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
  /** HTTPS with a self-signed certificate generated at start (needs the dev dependency `selfsigned`). */
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
  /** Default 'login-page'. JSON API paths (/api/...) always answer 401 {"type":"UNAUTHORIZED"}. */
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
  /** CMD_API_VERIFY_PASSWORD answers valid=0 for a suspended account even when the password matches (default false). */
  verifyInvalidForSuspended?: boolean;
  /**
   * Default false: a password change to the current password is refused with
   * `Cannot change password` / `New password isn't different` (account passwords only: DirectAdmin's
   * language files have that string among the account password strings alone; a mailbox or FTP
   * account set to its current password is changed again, a success).
   * true: accepted silently as a success.
   */
  acceptUnchangedPassword?: boolean;
  /**
   * Accounts with `api_with_password=no`: an API login with their password fails (as a wrong
   * password does); their login keys still work. Shown in CMD_API_SHOW_USER_CONFIG.
   */
  apiWithPasswordNo?: string[];
  /** The JSON API (/api/...). Default true; false = an old server: every /api/ path answers 404. */
  jsonApi?: boolean;
  /** A successful CMD_API_USER_PASSWD ends the account's panel sessions (default false: DirectAdmin's behaviour is not documented). */
  passwordChangeEndsSessions?: boolean;
  /**
   * POST /api/sessions/destroy-all-other and /destroy/{id} through login-as (`admin|user`):
   * default true (they work); false: 403 {"type":"ACCESS_DENIED"} (not documented either way).
   */
  sessionsDestroyViaLoginAs?: boolean;
  /** What a login key gets for a command its allow-list lacks (default 'login-page'). */
  keyRefusal?: KeyRefusalStyle;
  /**
   * CMD_API_USER_PASSWD of a suspended account: 'success' (default) answers error=0 with "User
   * password changed, however the account is still suspended"; 'error' applies the change and
   * answers the same text with error=1 (whether DirectAdmin sets error=1 is not on record).
   */
  suspendedPasswordAnswer?: 'success' | 'error';
  /**
   * Who owns a one-time login URL created through login-as (`admin|user`): 'customer' (default:
   * it opens the user's login, and the user's GET /api/login-keys/urls lists it) or 'admin' (it
   * opens the admin's login and is listed under the admin: one third-party report). Not on record.
   */
  loginUrlOwner?: 'customer' | 'admin';
  /** With `jsonApi: false`, what /api/ answers: an HTML 404 (default 'not-found'), the login page, or a 200 HTML page. */
  noJsonApiAnswer?: 'not-found' | 'login-page' | 'page';
  /** The FTP separator between an extra FTP account's name and its domain (default '@'; configurable on a real server). */
  ftpSeparator?: string;
  /** DELETE /api/login-keys/keys/{id} of a key that does not exist: 404 NOT_FOUND (default 'not-found') or 204 ('no-content'). */
  deleteUnknownKey?: 'not-found' | 'no-content';
  /** Mailboxes per domain (default 2). Every account owns 1 or 2 domains (seeded). */
  mailboxesPerDomain?: number;
  /** Extra FTP accounts per domain (default 1). */
  ftpPerDomain?: number;
  /** Extra database users per user and reseller account (default 0). */
  dbUsersPerUser?: number;
  /** Login keys seeded per user and reseller account (default 0). */
  loginKeysPerUser?: number;
  /** Open panel sessions seeded per user and reseller account (default 0). */
  sessionsPerUser?: number;
  /**
   * These accounts' listings also hold names no DirectAdmin allows, as a hostile or broken server
   * would send them (default none): mailboxes `=1+1` and `a\r\nb`, an FTP account `../../etc`, a
   * domain `../../etc`, a database user `../../etc`, a login key and a session with such ids.
   */
  hostileNames?: string[];
  faults?: Faults;
}

export interface SimulatorStats {
  /**
   * Per command name (e.g. 'CMD_API_USER_PASSWD') or JSON API route (e.g.
   * '/api/login-keys/keys/{id}'; an unknown /api path counts as sent), counted on arrival,
   * failed logins included.
   */
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
  /** Account password changes applied (CMD_API_USER_PASSWD only). */
  passwordChangesApplied: number;
  /** Mailbox, FTP and database user password changes applied. */
  credentialChangesApplied: number;
  /** Login keys deleted, through either API. */
  loginKeysRevoked: number;
  /** Requests answered normally (no fault, no trickle), and their summed time from arrival to answer: the server's own latency as a client far away would see it. */
  answered: number;
  answerMsTotal: number;
  /** TCP connections accepted. */
  connections: number;
  /** How many times each fault fired. */
  faultsFired: Record<string, number>;
}

export interface LoginKeySpec {
  /** The secret. */
  key: string;
  /** Its name / id (default `key1`, `key2`... per owner). */
  name?: string;
  /** Allow-list of commands; undefined or empty = all. */
  commands?: string[];
  /** Allowed client IPs; undefined = any. */
  ips?: string[];
  /** Number of uses; undefined = unlimited. */
  maxUses?: number;
  expiresAt?: Date;
  /** Default now. */
  createdAt?: Date;
  /** Shown as `createdBy` (default '127.0.0.1'). */
  createdBy?: string;
  /** Like the `rootauth` key: cannot be deleted (409 LOGIN_KEY_READ_ONLY). */
  readOnly?: boolean;
}

/** What the simulator holds about a login key (inspection; the key value included: test server). */
export interface SimLoginKey {
  name: string;
  key: string;
  owner: string;
  created: Date;
  createdBy: string;
  expires?: Date;
  commands: string[];
  ips: string[];
  maxUses?: number;
  uses: number;
  lastUsed?: Date;
  lastIp?: string;
  readOnly: boolean;
}

export interface SimMailbox {
  /** `local@domain`. */
  address: string;
  local: string;
  domain: string;
  password: string;
  suspended: boolean;
}

export type FtpType = 'system' | 'ftp' | 'user' | 'domain' | 'custom';

export interface SimFtpAccount {
  /** `name@domain`. */
  fulluser: string;
  user: string;
  domain: string;
  type: FtpType;
  path: string;
  password: string;
}

export interface SimSession {
  publicID: string;
  owner: string;
  ip: string;
  created: Date;
  expires: Date;
  loggedInAs: string;
  loginKey: string;
}

export interface SimDbUser {
  dbuser: string;
  owner: string;
  password: string;
  hostPatterns: string[];
}

export interface SimLoginUrl {
  id: string;
  owner: string;
  /** The full one-time URL (`<sim url>/api/login/url?key=KEY`). */
  url: string;
  key: string;
  created: Date;
  createdBy: string;
  expires: Date;
  allowNetworks: string[];
  redirectURL?: string;
  /** Set when it has been used (it works once). */
  usedAt?: Date;
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
  /**
   * Changes run-time options (authFailure, format, needsHttps, redirectTo, passwordPolicy,
   * blacklist..., verifyInvalidForSuspended, acceptUnchangedPassword, apiWithPasswordNo, jsonApi,
   * passwordChangeEndsSessions, sessionsDestroyViaLoginAs, faults).
   */
  setOptions(o: Partial<SimulatorOptions>): void;
  account(name: string): SimAccount | undefined;
  accounts(): SimAccount[];
  password(name: string): string | undefined;
  setPassword(name: string, pw: string): void;
  /** Adds a login key to an account; returns its name. */
  addLoginKey(owner: string, key: LoginKeySpec): string;
  unblacklist(ip?: string): void;
  /** The domains an account owns. */
  domains(user: string): string[];
  mailboxes(user: string): SimMailbox[];
  /** By address `local@domain`. */
  mailboxPassword(address: string): string | undefined;
  ftpAccounts(user: string): SimFtpAccount[];
  loginKeys(user: string): SimLoginKey[];
  sessions(user: string): SimSession[];
  dbUsers(user: string): SimDbUser[];
  /** One-time login URLs created through POST /api/login-keys/urls, oldest first. */
  loginUrls(): SimLoginUrl[];
  /** Closes the server and destroys open (keep-alive, hanging or trickling) sockets promptly. */
  close(): Promise<void>;
}
