/**
 * The credential model. A credential is (kind, owner account, name); each kind is one small module
 * that lists an account's credentials of that kind, applies a change (a new secret, or a
 * revocation) and, where the server offers a read that proves it, checks whether it took effect.
 * The run (src/rotation/) drives every kind through this interface and knows nothing else of them.
 */
import type { DirectAdminClient, DirectAdminError } from '../directadmin/index.js';

/** Every credential kind's name, the one list: help text, inventory and report validation derive from it. */
export const KIND_NAMES = ['account', 'email', 'ftp', 'login-key', 'session', 'db-user'] as const;
export type KindName = (typeof KIND_NAMES)[number];

export function isKindName(name: string): name is KindName {
  return (KIND_NAMES as readonly string[]).includes(name);
}

/** Every kind, in the order a sweep touches them per account: what lets an intruder act without a password goes first. */
export const KIND_ORDER: readonly KindName[] = ['login-key', 'session', 'account', 'email', 'ftp', 'db-user'];

/** Kinds never part of `--include all`: a changed database password breaks the site using it. */
export const OPT_IN_KINDS: readonly KindName[] = ['db-user'];

/** "account, email, ..., db-user": the kinds as help text and error messages name them. */
export const KIND_LIST_TEXT = KIND_NAMES.join(', ');

export interface Credential {
  kind: KindName;
  /** The DirectAdmin account that owns it. */
  owner: string;
  /** The mailbox address, FTP login, key id, session id, database user; the username for `account`. */
  name: string;
  /** What the server shows about it, never a secret (a key's expiry and last use, a session's IP). */
  details?: string;
  /** What the kind needs to change it exactly as it is (an FTP account's type and path). */
  data?: Record<string, string>;
  /** Set by names.ts when a name from the server may not go into a request: reported failed, never sent. */
  refused?: string;
}

/** Stable identity of a credential inside one run: journal records and report rows key on it. */
export function credentialId(c: Pick<Credential, 'kind' | 'owner' | 'name'>): string {
  return `${c.kind}:${c.owner}:${c.name}`;
}

/** What a kind's commands need from the run. */
export interface KindContext {
  /** The run's own client (the admin or reseller that logged in). */
  client: DirectAdminClient;
  /** The same connection acting as `owner` (login-as): domain-level commands answer only their owner. */
  as(owner: string): DirectAdminClient;
  /**
   * Sends one read (a list or show request): every read a kind's list() sends goes through this, so
   * the listing retries each on its own (one fault costs one resend, not the whole listing).
   */
  read<T>(request: () => Promise<T>): Promise<T>;
  /** The domains `owner` holds, asked once per run however many kinds need them. */
  domains(owner: string): Promise<string[]>;
  /** False once the server refused CMD_API_VERIFY_PASSWORD to this login (a reseller), or with --settle resend. */
  canVerifyAccounts(): boolean;
  /** The server said this login may not use CMD_API_VERIFY_PASSWORD: settle by resending from now on. */
  verifyUnavailable(): void;
  /**
   * A listing found a credential of a shape the kind cannot change safely (an FTP name that is
   * neither `name<sep>domain` nor the main login): reported as not rotated, never skipped in silence.
   */
  unrecognised?(owner: string, kind: KindName, name: string, why: string): void;
}

export interface SecretRules {
  minLength?: number;
  maxLength?: number;
}

/**
 * The requests a kind sends, so key-scope can count the login-key uses a run needs (every request
 * uses one). Stated next to the code that sends them; test/e2e/scope-and-key-uses.test.ts runs a sweep
 * against the simulator and checks key-scope's count against the requests it counted.
 */
export interface RequestCount {
  /** Reads list() sends once per account (a key list, a session list, a database-user list). */
  perAccount: number;
  /**
   * Reads list() sends per domain of the account (a mailbox list, an FTP list). A kind with any
   * also needs the account's domain list (CMD_API_SHOW_USER_DOMAINS), asked once per account.
   */
  perDomain: number;
  /** Reads list() sends per credential it finds (an FTP account's details). */
  perListed: number;
  /** Requests apply() sends per credential. */
  perChange: number;
  /** What key-scope assumes is there when not told (--expect KIND=N): so many per account or per domain. */
  typical: { count: number; per: 'account' | 'domain' };
}

export interface CredentialKind {
  readonly name: KindName;
  /** `change`: a new secret is set; `revoke`: the credential is deleted or ended, no secret. */
  readonly action: 'change' | 'revoke';
  /** Never part of `--include all` (a changed database password breaks the site using it). */
  readonly optIn?: boolean;
  /**
   * What a login key's allow-list must hold for this kind (key-scope), in DirectAdmin's names:
   * legacy commands (CMD_API_POP) and JSON API features (`sessions`, `db-show`, `login-keys`).
   */
  readonly commands: readonly string[];
  /** The requests list() and apply() send (key-scope's count of login-key uses). */
  readonly requests: RequestCount;
  /** Limits the server puts on this kind's secrets beyond the run's policy. */
  readonly secretRules?: SecretRules;
  /** The account's credentials of this kind; at once (no promise) when that needs no request. */
  list(ctx: KindContext, owner: string): Promise<Credential[]> | Credential[];
  /** The one write: set `secret` (change) or revoke. A plan never reaches it. Its answer is not used. */
  apply(ctx: KindContext, credential: Credential, secret: string | undefined): Promise<unknown>;
  /**
   * A read that proves the outcome: true when the change is in effect (the secret is live, the key
   * is gone), false when it is not, undefined when no such read is possible here. Without one, an
   * unknown outcome is settled by applying the same change again (every change is idempotent).
   */
  check?(ctx: KindContext, credential: Credential, secret: string | undefined): Promise<boolean | undefined>;
  /** A refusal that proves the change is already in effect ("New password isn't different", a key already gone). */
  provesDone(error: DirectAdminError): boolean;
  /** Plan-time advice for the operator about one credential (e.g. the site config a db user change breaks). */
  advice?(credential: Credential): string | undefined;
}
