import { CommandFailed, UnexpectedAnswer, type DirectAdminError } from './errors.js';
import {
  parseDbUsers,
  parseDomainOwners,
  parseFtpList,
  parseFtpShow,
  parseJsonLoginKeys,
  parseKeyed,
  parseLegacyLoginKeys,
  parseLoginUrl,
  parseLoginUrlList,
  parseSessions,
  type DbUser,
  type FtpAccountDetails,
  type FtpListing,
  type LoginKeyInfo,
  type LoginUrl,
  type SessionInfo,
} from './credentials.js';
import { interpretApiAnswer, type ApiExpectation } from './json-api.js';
import { classifyHttp, parseAction, parseAnyAnswer, parseFlag, parseKeyValues, parseList, type ActionResult, type RawAnswer } from './parse.js';
import type { TlsOptions } from './tls.js';
import { formEncode, segment } from './form.js';
import { Transport, type RequestEvent } from './transport.js';
import { isLoopbackHost, unbracket } from './url.js';

export { formEncode } from './form.js';
export type { ActionResult } from './parse.js';
export type { TlsOptions } from './tls.js';
export type { RequestEvent } from './transport.js';

export interface ClientOptions {
  /** scheme://host[:port][/prefix] without credentials. */
  baseUrl: string;
  /** Account to authenticate as; may be login-as form "admin|fred" (or use loginAs()). */
  username: string;
  /** Password or login key. Never logged, never put in a URL. */
  secret: string;
  tls?: TlsOptions;
  /** Permit http:// to a non-loopback host. */
  allowHttp?: boolean;
  /** Deadline for each whole request: connect, headers and the complete body (default 30000). */
  timeoutMs?: number;
  /** When it aborts, every in-flight and later request fails at once (TransportError ABANDONED). */
  signal?: AbortSignal;
  /** Keep-alive connections in the pool (default 8). */
  connections?: number;
  /** Answer format requested from CMD_API_* commands (default 'json': sends json=yes). */
  format?: 'json' | 'urlencoded';
  /** Refuse answers larger than this without buffering them whole (default 64 MiB). */
  maxBodyBytes?: number;
  /** Observability hook, called once per request tried (not for calls refused by the breaker). */
  onRequest?: (event: RequestEvent) => void;
}

type Params = Record<string, string>;

/** A DirectAdmin username, as login-as accepts it. */
const USERNAME = /^[a-z][a-z0-9]{0,31}$/;

/** The protocol seam: one keep-alive pool per server, typed commands, answers mapped to the taxonomy. */
export class DirectAdminClient {
  /** Host name or address (IPv6 without brackets). */
  readonly host: string;
  /** scheme://host:port of the server, the identity reports and journals record. */
  readonly origin: string;
  /** host:port, what error messages name. */
  readonly endpoint: string;
  /** The Basic-auth user: "admin", or "admin|fred" for a login-as context. */
  readonly username: string;
  /** The account acted for through login-as, if this is a login-as context. */
  readonly actingAs: string | undefined;

  readonly #transport: Transport;
  readonly #secret: string;
  readonly #authorization: string;
  readonly #format: 'json' | 'urlencoded';
  readonly #owner: boolean;

  constructor(options: ClientOptions);
  /** @internal loginAs() only. */
  constructor(options: ClientOptions, shared: { transport: Transport; actingAs: string });
  constructor(options: ClientOptions, shared?: { transport: Transport; actingAs: string }) {
    if (/[\r\n]/.test(options.username) || options.username.includes(':')) throw new Error('the user name must not contain ":" or line breaks');
    this.username = options.username;
    this.#secret = options.secret;
    this.#authorization = 'Basic ' + Buffer.from(`${options.username}:${options.secret}`, 'utf8').toString('base64');
    this.#format = options.format ?? 'json';
    this.actingAs = shared?.actingAs;
    this.#owner = !shared;
    if (shared) {
      this.#transport = shared.transport;
    } else {
      const url = new URL(options.baseUrl);
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('the server URL must use https:// or http://');
      if (url.username || url.password) throw new Error('the base URL must not carry credentials');
      const host = unbracket(url.hostname);
      if (url.protocol === 'http:' && !isLoopbackHost(host) && !options.allowHttp) {
        throw new Error(`plain http:// to ${host} would send credentials in clear: use https://, or --allow-http if you really mean it`);
      }
      this.#transport = new Transport(url, options);
    }
    this.host = this.#transport.host;
    this.origin = this.#transport.origin;
    this.endpoint = this.#transport.endpoint;
  }

  /** The first fatal error seen on this server (shared by every login-as context); once set, nothing more is sent. */
  get fatalError(): DirectAdminError | undefined {
    return this.#transport.fatalError;
  }

  /**
   * A context that acts for `user` through login-as (`loginUser|user` with this client's secret),
   * sharing the pool, the breaker, the deadline, the signal and the request hook. Its close() is a
   * no-op: close the client it came from.
   */
  loginAs(user: string): DirectAdminClient {
    if (this.username.includes('|')) throw new Error(`cannot log in as ${user}: this client already acts through login-as (${this.username})`);
    if (!USERNAME.test(user)) throw new Error('login-as needs a DirectAdmin username (a lower-case letter, then up to 31 lower-case letters or digits)');
    return new DirectAdminClient(
      { baseUrl: this.origin, username: `${this.username}|${user}`, secret: this.#secret, format: this.#format },
      { transport: this.#transport, actingAs: user },
    );
  }

  // ---- the account password (legacy API) ----

  async loginTest(): Promise<ActionResult> {
    const command = 'CMD_API_LOGIN_TEST';
    const result = await this.#legacy(command, 'GET', {}, (a) => parseAction(command, a.status, a.body, a));
    if (!/login ok/i.test(result.text)) throw new UnexpectedAnswer(command, 200, 'the answer is not "Login OK"', { endpoint: this.endpoint });
    return result;
  }

  showUsers(reseller?: string): Promise<string[]> {
    return this.#list('CMD_API_SHOW_USERS', reseller === undefined ? {} : { reseller });
  }

  showAllUsers(): Promise<string[]> {
    return this.#list('CMD_API_SHOW_ALL_USERS', {});
  }

  showResellers(): Promise<string[]> {
    return this.#list('CMD_API_SHOW_RESELLERS', {});
  }

  showAdmins(): Promise<string[]> {
    return this.#list('CMD_API_SHOW_ADMINS', {});
  }

  showUserConfig(user: string): Promise<Record<string, string>> {
    const c = 'CMD_API_SHOW_USER_CONFIG';
    return this.#legacy(c, 'GET', { user }, (a) => parseKeyValues(c, a.status, a.body, a));
  }

  userExists(user: string): Promise<boolean> {
    const c = 'CMD_API_USER_EXISTS';
    return this.#legacy(c, 'GET', { user }, (a) => parseFlag(c, a.status, a.body, 'exists', a));
  }

  /** POST so the password travels in the body, never in a URL or an access log. */
  verifyPassword(user: string, passwd: string): Promise<boolean> {
    const c = 'CMD_API_VERIFY_PASSWORD';
    return this.#legacy(c, 'POST', { user, passwd }, (a) => parseFlag(c, a.status, a.body, 'valid', a));
  }

  changePassword(user: string, passwd: string): Promise<ActionResult> {
    return this.#action('CMD_API_USER_PASSWD', { username: user, passwd, passwd2: passwd });
  }

  // ---- domains ----

  /** Admin: every domain (dots kept) => its owner. */
  domainOwners(): Promise<Map<string, string>> {
    const c = 'CMD_API_DOMAIN_OWNERS';
    return this.#legacy(c, 'GET', {}, (a) => parseDomainOwners(c, a.status, a.body, a));
  }

  /** As the user (login-as): the user's domains. */
  showDomains(): Promise<string[]> {
    return this.#list('CMD_API_SHOW_DOMAINS', {});
  }

  /** Admin or reseller: the domains of `user` (the keys of the answer; values are usage strings). */
  showUserDomains(user: string): Promise<string[]> {
    const c = 'CMD_API_SHOW_USER_DOMAINS';
    return this.#legacy(c, 'GET', { user }, (a) => parseKeyed(c, a.status, a.body, a).map(([domain]) => domain));
  }

  // ---- mailboxes (as the owner) ----

  listMailboxes(domain: string): Promise<string[]> {
    return this.#list('CMD_API_POP', { action: 'list', domain });
  }

  changeMailboxPassword(domain: string, localPart: string, password: string): Promise<ActionResult> {
    return this.#action('CMD_API_POP', { action: 'modify', domain, user: localPart, passwd: password, passwd2: password });
  }

  // ---- extra FTP accounts (as the owner) ----

  /** The domain's extra FTP accounts, whatever the server's FTP separator; names of no known shape in `unrecognised`. */
  listFtpAccounts(domain: string): Promise<FtpListing> {
    const c = 'CMD_API_FTP';
    return this.#legacy(c, 'GET', { action: 'list', domain }, (a) => parseFtpList(c, a.status, a.body, a, domain));
  }

  showFtpAccount(domain: string, user: string): Promise<FtpAccountDetails> {
    const c = 'CMD_API_FTP_SHOW';
    return this.#legacy(c, 'GET', { domain, user }, (a) => parseFtpShow(c, a.status, a.body, a));
  }

  /** Sends the account's type back unchanged (and its path as custom_val for 'custom'), so its home stays. */
  changeFtpPassword(domain: string, account: { user: string; type: string; path: string }, password: string): Promise<ActionResult> {
    const params: Params = { action: 'modify', domain, user: account.user, type: account.type, passwd: password, passwd2: password };
    if (account.type === 'custom') params.custom_val = account.path;
    return this.#action('CMD_API_FTP', params);
  }

  // ---- login keys (as the owner) ----

  async listLoginKeysJson(): Promise<LoginKeyInfo[]> {
    const label = 'GET /api/login-keys/keys';
    return this.#api(label, 'GET', '/api/login-keys/keys', undefined, 'json', (v, a) => parseJsonLoginKeys(label, a.status, v, a));
  }

  async deleteLoginKeyJson(id: string): Promise<void> {
    await this.#api('DELETE /api/login-keys/keys/{id}', 'DELETE', `/api/login-keys/keys/${segment('login key id', id)}`, undefined, 'none', () => undefined);
  }

  listLoginKeysLegacy(): Promise<LoginKeyInfo[]> {
    const c = 'CMD_API_LOGIN_KEYS';
    return this.#legacy(c, 'GET', {}, (a) => parseLegacyLoginKeys(c, a.status, a.body, a));
  }

  /** One POST revoking every named key; no request for an empty list. */
  async deleteLoginKeysLegacy(names: string[]): Promise<void> {
    if (names.length === 0) return;
    const params: Params = { action: 'select', delete: 'Delete' };
    names.forEach((n, i) => (params[`select${i}`] = n));
    await this.#action('CMD_API_LOGIN_KEYS', params);
  }

  // ---- sessions (JSON API, as the owner) ----

  listSessions(): Promise<SessionInfo[]> {
    const label = 'GET /api/sessions';
    return this.#api(label, 'GET', '/api/sessions', undefined, 'json', (v, a) => parseSessions(label, a.status, v, a));
  }

  async destroySession(id: string): Promise<void> {
    await this.#api('POST /api/sessions/destroy/{id}', 'POST', `/api/sessions/destroy/${segment('session id', id)}`, undefined, 'none', () => undefined);
  }

  async destroyOtherSessions(): Promise<void> {
    await this.#api('POST /api/sessions/destroy-all-other', 'POST', '/api/sessions/destroy-all-other', undefined, 'none', () => undefined);
  }

  // ---- database users (JSON API, as the owner) ----

  listDbUsers(): Promise<DbUser[]> {
    const label = 'GET /api/db-show/users';
    return this.#api(label, 'GET', '/api/db-show/users', undefined, 'json', (v, a) => parseDbUsers(label, a.status, v, a));
  }

  async changeDbUserPassword(dbUser: string, password: string): Promise<void> {
    const path = `/api/db-manage/users/${segment('database user', dbUser)}/change-password`;
    await this.#api('POST /api/db-manage/users/{dbuser}/change-password', 'POST', path, { newPassword: password }, 'none', () => undefined);
  }

  // ---- one-time login URL (JSON API, as the account it logs in) ----

  /** The returned URL is a secret: never log it. */
  createLoginUrl(options: { expires?: Date | string; allowNetworks?: string[]; redirectURL?: string } = {}): Promise<LoginUrl> {
    const label = 'POST /api/login-keys/urls';
    const body: Record<string, unknown> = { allowNetworks: options.allowNetworks ?? [] };
    if (options.expires !== undefined) body.expires = options.expires instanceof Date ? options.expires.toISOString() : options.expires;
    if (options.redirectURL !== undefined) body.redirectURL = options.redirectURL;
    return this.#api(label, 'POST', '/api/login-keys/urls', body, 'json', (v, a) => parseLoginUrl(label, a.status, v, a));
  }

  // ---- what a login key allows (key-scope --check) ----

  /** GET /api/login-keys/commands, sent without credentials (it needs none): the allow-list names this server knows. */
  loginKeyCommands(): Promise<string[]> {
    const label = 'GET /api/login-keys/commands';
    return this.#api(
      label,
      'GET',
      '/api/login-keys/commands',
      undefined,
      'json',
      (v, a) => {
        const o = v as { commands?: unknown } | null;
        if (!o || !Array.isArray(o.commands) || !o.commands.every((c) => typeof c === 'string'))
          throw new UnexpectedAnswer(label, a.status, 'the answer holds no list of commands', a);
        return o.commands;
      },
      false,
    );
  }

  /**
   * One request that changes nothing, to learn whether this login may use `name` (a legacy command
   * or a JSON API feature): a listing, or a write that cannot apply (no account named, an empty body).
   * Resolves when the server answered it as a command (even a refusal of its parameters); rejects
   * with PermissionDenied, AuthenticationFailed (the login page: a failed login), NO_JSON_API, ...
   */
  async dryRequest(name: string): Promise<void> {
    const none = () => undefined;
    switch (name) {
      case 'login-keys':
        await this.listLoginKeysJson();
        return;
      case 'sessions':
        await this.listSessions();
        return;
      case 'db-show':
        await this.listDbUsers();
        return;
      case 'db-manage':
        // No user of that name can exist (DirectAdmin's database users are owner_name), and no new password is sent.
        await this.#api(
          'POST /api/db-manage/users/{dbuser}/change-password',
          'POST',
          '/api/db-manage/users/da-rotate-key-check/change-password',
          {},
          'none',
          none,
        ).catch((e: unknown) => {
          if (e instanceof CommandFailed && e.code === 'DA_COMMAND_FAILED' && e.apiType !== 'NO_JSON_API') return;
          throw e;
        });
        return;
      default:
        if (!/^CMD_[A-Z0-9_]+$/.test(name)) throw new Error(`no dry request for ${name}`);
        // A GET without parameters: DirectAdmin lists, or refuses the missing parameters; nothing is changed.
        await this.#legacy(name, 'GET', {}, (a) => parseAnyAnswer(name, a.status, a.body, a)).catch((e: unknown) => {
          if (e instanceof CommandFailed && e.code === 'DA_COMMAND_FAILED') return;
          throw e;
        });
    }
  }

  /** GET /api/login-keys/urls: the one-time login URLs of the login asking (ids and expiry; never a URL). */
  listLoginUrls(): Promise<Array<{ id: string; expires?: string }>> {
    const label = 'GET /api/login-keys/urls';
    return this.#api(label, 'GET', '/api/login-keys/urls', undefined, 'json', (v, a) => parseLoginUrlList(label, a.status, v, a));
  }

  async deleteLoginUrl(id: string): Promise<void> {
    await this.#api('DELETE /api/login-keys/urls/{id}', 'DELETE', `/api/login-keys/urls/${segment('login URL id', id)}`, undefined, 'none', () => undefined);
  }

  /** Closes the pool (only the client that made it; a login-as context's close is a no-op). */
  async close(): Promise<void> {
    if (this.#owner) await this.#transport.close();
  }

  #list(command: string, params: Params): Promise<string[]> {
    return this.#legacy(command, 'GET', params, (a) => parseList(command, a.status, a.body, a));
  }

  #action(command: string, params: Params): Promise<ActionResult> {
    return this.#legacy(command, 'POST', params, (a) => parseAction(command, a.status, a.body, a));
  }

  /** A CMD_API_* request: GET with a query, or POST with a form (secrets only ever in a POST body). */
  #legacy<T>(command: string, method: 'GET' | 'POST', params: Params, parse: (a: RawAnswer) => T): Promise<T> {
    const encoded = formEncode(params, this.#format === 'json');
    const base = `${this.#transport.prefix}/${command}`;
    const headers: Record<string, string> = { authorization: this.#authorization, accept: '*/*' };
    if (method === 'POST') headers['content-type'] = 'application/x-www-form-urlencoded';
    const path = method === 'GET' && encoded ? `${base}?${encoded}` : base;
    return this.#transport.exchange({ label: command, method, path, headers, body: method === 'POST' ? encoded : undefined }, (a) => {
      const verdict = classifyHttp(command, a);
      if (verdict) throw verdict;
      // Asked for JSON, an empty body is no answer (a real server's lost answer), never an empty
      // list: read as one, a sweep would silently skip a domain's mailboxes or every account.
      if (this.#format === 'json' && a.body.trim() === '') throw new UnexpectedAnswer(command, a.status, 'empty answer', a);
      return parse(a);
    });
  }

  /** A JSON API request; a body is sent as JSON (secrets only ever in it, never in the path). */
  #api<T>(
    label: string,
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    body: unknown,
    expect: ApiExpectation,
    parse: (value: unknown, a: RawAnswer) => T,
    authenticate = true,
  ): Promise<T> {
    const headers: Record<string, string> = authenticate ? { authorization: this.#authorization, accept: 'application/json' } : { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const t = this.#transport;
    // A server that said it has no JSON API is not asked again (an old one may answer each with its login page).
    if (t.noJsonApi) return Promise.reject(t.noJsonApi);
    const request = {
      label,
      method,
      path: `${t.prefix}${path}`,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      precheck: () => t.noJsonApi,
    };
    return t.exchange(request, (a) => {
      let value: unknown;
      try {
        value = interpretApiAnswer(label, a, expect, { method, jsonApiSeen: t.jsonApiSeen });
      } catch (e) {
        if (e instanceof CommandFailed && e.apiType === 'NO_JSON_API') t.noJsonApi ??= e;
        else if (e instanceof CommandFailed) t.jsonApiSeen = true;
        throw e;
      }
      t.jsonApiSeen = true;
      return parse(value, a);
    });
  }
}
