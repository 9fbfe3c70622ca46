/**
 * Parsers for the answers about an account's other credentials (domains, mailboxes, FTP accounts,
 * login keys, sessions, database users, one-time login URLs). Every shape the shared protocol notes
 * mark as uncertain is accepted in its variants; nothing that is not clearly an answer passes.
 * A key or password value in an answer is never copied into a result.
 */
import { UnexpectedAnswer, type ErrorContext } from './errors.js';
import { decodeBody, parseUrlEncoded, refusal } from './parse.js';

export interface FtpAccount {
  /** The name FTP commands take (`user=`), the part before '@'. */
  user: string;
  /** name@domain, as the server lists it. */
  fullUser: string;
  path: string;
}

export interface FtpAccountDetails {
  fullUser: string;
  user: string;
  /** 'system' | 'ftp' | 'user' | 'domain' | 'custom' on servers on record; sent back unchanged. */
  type: string;
  path: string;
}

export interface LoginKeyInfo {
  /** JSON API: the key id; legacy: the key name. Never the key value. */
  id: string;
  api: 'json' | 'legacy';
  created?: string;
  createdBy?: string;
  expires?: string;
  lastUsed?: string;
  lastIp?: string;
  allowCommands?: string[];
  allowNetworks?: string[];
  readOnly?: boolean;
}

export interface SessionInfo {
  /** The session's publicID (what destroySession takes); not the session cookie. */
  id: string;
  ip: string;
  created: string;
  expires: string;
  loggedInAs?: string;
  loginKey?: string;
  host?: string;
  valid?: boolean;
  /** The session this request runs in (never destroyed by destroyOtherSessions). */
  current: boolean;
}

export interface DbUser {
  dbUser: string;
  hostPatterns: string[];
}

/** A one-time login URL. The URL is a secret: it is not enumerable, and inspect/JSON omit it. */
export class LoginUrl {
  readonly #url: string;
  readonly id: string | undefined;
  readonly expires: string | undefined;
  constructor(url: string, id: string | undefined, expires: string | undefined) {
    this.#url = url;
    this.id = id;
    this.expires = expires;
  }
  get url(): string {
    return this.#url;
  }
  toJSON(): { id?: string; expires?: string } {
    return { id: this.id, expires: this.expires };
  }
}

const STATUS_KEYS = new Set(['error', 'text', 'details']);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

/**
 * A "one key per item" answer (domain owners, user domains, FTP list, legacy login keys) as
 * [key, raw value] pairs. An empty body is an empty list; `error=1` is a refusal; `error=0`,
 * `text` and `details` beside the items are not items.
 */
export function parseKeyed(command: string, status: number, body: string, ctx?: ErrorContext): Array<[string, unknown]> {
  const d = decodeBody(command, status, body, ctx);
  if (d.format === 'empty') return [];
  if (d.format === 'json') {
    if (!isRecord(d.value)) {
      if (Array.isArray(d.value) && d.value.length === 0) return [];
      throw new UnexpectedAnswer(command, status, 'JSON answer is not an object of items', ctx);
    }
    const o = d.value;
    const e = o.error;
    if (e !== undefined && e !== 0 && e !== '0' && e !== false) {
      const isFlag = e === 1 || e === '1' || e === true;
      throw refusal(command, (isFlag ? str(o.text) : str(e)) ?? '', str(o.result ?? o.details) ?? '', ctx);
    }
    return Object.entries(o).filter(([k]) => !STATUS_KEYS.has(k) && k !== 'result' && k !== 'success');
  }
  const error = d.fields.get('error')?.[0];
  if (error !== undefined && error.trim() !== '0') {
    throw refusal(command, d.fields.get('text')?.[0] ?? '', d.fields.get('details')?.[0] ?? '', ctx);
  }
  return [...d.fields].filter(([k]) => !STATUS_KEYS.has(k)).map(([k, v]) => [k, v[0] ?? '']);
}

/** CMD_API_DOMAIN_OWNERS: domain (dots kept) => owner. */
export function parseDomainOwners(command: string, status: number, body: string, ctx?: ErrorContext): Map<string, string> {
  const out = new Map<string, string>();
  for (const [domain, owner] of parseKeyed(command, status, body, ctx)) {
    const name = str(owner);
    if (name === undefined || name === '') throw new UnexpectedAnswer(command, status, 'a domain without an owner', ctx);
    out.set(domain, name);
  }
  return out;
}

/** What CMD_API_FTP action=list holds: the extra accounts, and the names of no shape this client knows (reported, never skipped silently). */
export interface FtpListing {
  accounts: FtpAccount[];
  unrecognised: string[];
}

/**
 * CMD_API_FTP action=list: `name@domain` => path, plus the account's main login (`owner`, no
 * domain: it follows the account password, and is left out). The separator between name and
 * domain is configurable on a server (ftp.txt: "contains the ftp separator (%c)"), so any single
 * character that is not a letter or digit is read as one (`name+domain`, `name%domain`). A name that
 * is neither the main login nor `name<sep>domain` is returned in `unrecognised`.
 */
export function parseFtpList(command: string, status: number, body: string, ctx?: ErrorContext, domain?: string): FtpListing {
  const accounts: FtpAccount[] = [];
  const unrecognised: string[] = [];
  for (const [fullUser, path] of parseKeyed(command, status, body, ctx)) {
    const sepAt = domain !== undefined && fullUser.endsWith(domain) ? fullUser.length - domain.length - 1 : fullUser.lastIndexOf('@');
    const sep = sepAt > 0 ? fullUser[sepAt]! : '';
    if (sep !== '' && !/[A-Za-z0-9]/.test(sep)) {
      accounts.push({ user: fullUser.slice(0, sepAt), fullUser, path: str(path) ?? '' });
    } else if (/^[a-z][a-z0-9]{0,31}$/.test(fullUser) && !fullUser.includes('@')) {
      // The account's own FTP login: a plain username.
    } else {
      unrecognised.push(fullUser);
    }
  }
  return { accounts, unrecognised };
}

/** CMD_API_FTP_SHOW: fulluser, user, type, path. The type is required: a change must send it back. */
export function parseFtpShow(command: string, status: number, body: string, ctx?: ErrorContext): FtpAccountDetails {
  const kv = new Map(parseKeyed(command, status, body, ctx).map(([k, v]) => [k.toLowerCase(), str(v) ?? '']));
  const type = kv.get('type')?.trim() ?? '';
  const user = kv.get('user') ?? '';
  if (!type || !user) throw new UnexpectedAnswer(command, status, 'FTP account details without user or type', ctx);
  return { fullUser: kv.get('fulluser') ?? kv.get('full_user') ?? user, user, type, path: kv.get('path') ?? '' };
}

const pick = (o: Record<string, unknown>, ...keys: string[]): string | undefined => {
  for (const k of keys) {
    const v = str(o[k]);
    if (v !== undefined && v !== '') return v;
  }
  return undefined;
};

function commandList(v: unknown): string[] | undefined {
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  const s = str(v);
  if (s === undefined || s.trim() === '') return undefined;
  return s.split(/[\s,:|]+/).filter(Boolean);
}

/** CMD_API_LOGIN_KEYS (GET): key name => url-encoded settings (or, in JSON, an object of them). */
export function parseLegacyLoginKeys(command: string, status: number, body: string, ctx?: ErrorContext): LoginKeyInfo[] {
  return parseKeyed(command, status, body, ctx).map(([name, raw]) => {
    let s: Record<string, unknown>;
    if (isRecord(raw)) s = raw;
    else s = Object.fromEntries([...parseUrlEncoded(str(raw) ?? '')].map(([k, v]) => [k, v.length > 1 ? v : v[0]]));
    const info: LoginKeyInfo = { id: name, api: 'legacy' };
    const set = <K extends keyof LoginKeyInfo>(k: K, v: LoginKeyInfo[K] | undefined): void => {
      if (v !== undefined) info[k] = v;
    };
    set('created', pick(s, 'date_created', 'created', 'created_on', 'date'));
    set('createdBy', pick(s, 'created_by', 'createdBy', 'creator_ip'));
    set('expires', pick(s, 'expiry', 'expires', 'expire', 'expiry_date'));
    set('lastUsed', pick(s, 'last_used', 'lastused', 'lastUsed', 'date_last_used'));
    set('lastIp', pick(s, 'last_ip', 'lastip', 'lastIp', 'last_used_ip'));
    set('allowCommands', commandList(s.commands ?? s.allow ?? s.allow_commands));
    set('allowNetworks', commandList(s.ips ?? s.allow_ips ?? s.allowed_ips));
    return info;
  });
}

function expectArray(label: string, status: number, v: unknown, ctx: ErrorContext | undefined): Record<string, unknown>[] {
  if (!Array.isArray(v) || !v.every(isRecord)) throw new UnexpectedAnswer(label, status, 'JSON answer is not a list of objects', ctx);
  return v;
}

/** GET /api/login-keys/keys. */
export function parseJsonLoginKeys(label: string, status: number, v: unknown, ctx?: ErrorContext): LoginKeyInfo[] {
  return expectArray(label, status, v, ctx).map((o) => {
    const id = str(o.id);
    if (!id) throw new UnexpectedAnswer(label, status, 'a login key without an id', ctx);
    const info: LoginKeyInfo = { id, api: 'json' };
    const created = pick(o, 'created');
    if (created) info.created = created;
    const createdBy = pick(o, 'createdBy');
    if (createdBy) info.createdBy = createdBy;
    const expires = o.hasExpiry === false ? undefined : pick(o, 'expires');
    if (expires) info.expires = expires;
    const lastUsed = pick(o, 'lastUsed', 'lastUse');
    if (lastUsed) info.lastUsed = lastUsed;
    const lastIp = pick(o, 'lastIP', 'lastIp');
    if (lastIp) info.lastIp = lastIp;
    if (Array.isArray(o.allowCommands)) info.allowCommands = commandList(o.allowCommands) ?? [];
    if (Array.isArray(o.allowNetworks)) info.allowNetworks = commandList(o.allowNetworks) ?? [];
    if (typeof o.readOnly === 'boolean') info.readOnly = o.readOnly;
    return info;
  });
}

/** GET /api/sessions. */
export function parseSessions(label: string, status: number, v: unknown, ctx?: ErrorContext): SessionInfo[] {
  return expectArray(label, status, v, ctx).map((o) => {
    const id = str(o.publicID ?? o.publicId);
    if (!id) throw new UnexpectedAnswer(label, status, 'a session without a publicID', ctx);
    const s: SessionInfo = { id, ip: str(o.ip) ?? '', created: str(o.created) ?? '', expires: str(o.expires) ?? '', current: o.current === true };
    const loggedInAs = pick(o, 'loggedInAs');
    if (loggedInAs) s.loggedInAs = loggedInAs;
    const loginKey = pick(o, 'loginKey');
    if (loginKey) s.loginKey = loginKey;
    const host = pick(o, 'host');
    if (host) s.host = host;
    if (typeof o.valid === 'boolean') s.valid = o.valid;
    return s;
  });
}

/** GET /api/db-show/users. */
export function parseDbUsers(label: string, status: number, v: unknown, ctx?: ErrorContext): DbUser[] {
  return expectArray(label, status, v, ctx).map((o) => {
    const dbUser = str(o.dbuser ?? o.dbUser);
    if (!dbUser) throw new UnexpectedAnswer(label, status, 'a database user without a name', ctx);
    const hostPatterns = Array.isArray(o.hostPatterns) ? o.hostPatterns.filter((x): x is string => typeof x === 'string') : [];
    return { dbUser, hostPatterns };
  });
}

/** POST /api/login-keys/urls. */
export function parseLoginUrl(label: string, status: number, v: unknown, ctx?: ErrorContext): LoginUrl {
  if (!isRecord(v)) throw new UnexpectedAnswer(label, status, 'JSON answer is not an object', ctx);
  const url = str(v.url);
  if (!url || !/^https?:\/\//i.test(url)) throw new UnexpectedAnswer(label, status, 'the answer holds no login URL', ctx);
  return new LoginUrl(url, pick(v, 'id'), pick(v, 'expires'));
}

/** GET /api/login-keys/urls: `[{id, created, createdBy, expires, allowNetworks, redirectURL?}]`, newest first. */
export function parseLoginUrlList(label: string, status: number, v: unknown, ctx?: ErrorContext): Array<{ id: string; expires?: string }> {
  return expectArray(label, status, v, ctx).map((o) => {
    const id = str(o.id);
    if (!id) throw new UnexpectedAnswer(label, status, 'a login URL without an id', ctx);
    const expires = pick(o, 'expires');
    return expires ? { id, expires } : { id };
  });
}
