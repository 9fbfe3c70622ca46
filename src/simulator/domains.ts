/**
 * The legacy domain-level commands: domain listings, mailboxes (CMD_API_POP), extra FTP accounts
 * (CMD_API_FTP, CMD_API_FTP_SHOW) and login keys (CMD_API_LOGIN_KEYS). They answer from the
 * point of view of the account logged in as: an admin reaches a customer's domain only through
 * login-as (`admin|user`), a reseller through its own users the same way.
 *
 * DirectAdmin's own strings, where its language files have them (shared notes, "DirectAdmin's own
 * strings and names"): ftp.txt "Ftp account changed", "That user doesn't exist", "Unknown ftp type",
 * "user, passwd, passwd2 and type are required"; email.txt "That email user does not exist";
 * command.txt "You do not own that domain", "Key(s) Deleted" / "Error Deleting Key(s)". "New
 * password isn't different" is among the account password strings only: a mailbox or FTP account
 * set to its current password is simply changed again (success).
 *
 * Choices where DirectAdmin's behaviour is not documented:
 * - Which string lands in text and which in details: the headline in text, the reason in details.
 * - POP modify success: `text=Password Changed`? Not on record either; `Email account modified`
 *   is kept (email.txt's wording is not on record), the client judges only error=0.
 * - CMD_API_SHOW_USER_DOMAINS values: `0.0000:unlimited:0.0000:unlimited:0:no:yes`.
 * - POP full_list and LOGIN_KEYS list values are url-encoded forms (DirectAdmin-encoded); with
 *   json=yes they are nested objects of strings instead.
 * - CMD_API_FTP modify without `type` sets the type to `user` (the form's default): like any type
 *   different from the stored one, it moves the account's home.
 * - The FTP separator (`ftpSeparator`, default `@`) joins name and domain in the FTP list and in
 *   `fulluser`; `user=` takes the name alone or the full name.
 */
import { action, keyValues, list, mayManage, api, type Request, type State } from './context.js';
import { ftpPath, type Domain, type StoredKey } from './credentials.js';
import { formBody } from './encode.js';
import { CANNOT_CHANGE, NOT_ALLOWED, NO_USER, NOT_YOURS, newPasswordProblem } from './legacy.js';
import type { Answer } from './pages.js';
import type { FtpType } from './types.js';

export const NOT_YOUR_DOMAIN = 'You do not own that domain';
/** ftp.txt */
export const FTP_CHANGED = 'Ftp account changed';
export const FTP_NO_USER = "That user doesn't exist";
export const FTP_UNKNOWN_TYPE = 'Unknown ftp type';
export const FTP_REQUIRED = 'user, passwd, passwd2 and type are required';
/** email.txt */
export const EMAIL_NO_USER = 'That email user does not exist';
/** command.txt (login keys) */
export const KEYS_DELETED = 'Key(s) Deleted';
export const KEYS_NOT_DELETED = 'Error Deleting Key(s)';
const NEEDS_POST = 'This command requires a POST request';
const FTP_TYPES = new Set<FtpType>(['ftp', 'user', 'domain', 'custom']);

const unix = (ms: number) => String(Math.floor(ms / 1000));

function nested(s: State, json: boolean, kv: Record<string, Record<string, string>>): Answer {
  if (json) return api(true, JSON.stringify(kv));
  const flat: Record<string, string> = {};
  for (const [k, v] of Object.entries(kv)) flat[k] = formBody(Object.entries(v), s.settings.format, new Set());
  return keyValues(s, false, flat);
}

/** The answer to a legacy domain-level command, or undefined when `command` is not one. */
export function domainCommand(s: State, r: Request): Answer | undefined {
  const me = r.caller.effective;
  const json = r.json;
  switch (r.command) {
    case 'CMD_API_DOMAIN_OWNERS': {
      if (me.type !== 'admin') return action(s, json, false, NOT_ALLOWED);
      const owners: Record<string, string> = {};
      for (const name of s.store.everyone) for (const d of s.creds.of(name)!.domains) owners[d.name] = name;
      return keyValues(s, json, owners);
    }
    case 'CMD_API_SHOW_DOMAINS':
      return list(
        s,
        json,
        s.creds.of(me.username)!.domains.map((d) => d.name),
      );
    case 'CMD_API_SHOW_USER_DOMAINS': {
      if (me.type === 'user') return action(s, json, false, NOT_ALLOWED);
      const a = s.store.get(r.param('user') ?? '');
      if (!a) return action(s, json, false, NO_USER);
      if (!mayManage(me, a)) return action(s, json, false, NOT_YOURS);
      return keyValues(s, json, Object.fromEntries(s.creds.of(a.username)!.domains.map((d) => [d.name, '0.0000:unlimited:0.0000:unlimited:0:no:yes'])));
    }
    case 'CMD_API_POP':
      return withDomain(s, r, (d) => pop(s, r, d));
    case 'CMD_API_FTP':
      return withDomain(s, r, (d) => ftp(s, r, d));
    case 'CMD_API_FTP_SHOW':
      return withDomain(s, r, (d) => {
        const sep = s.settings.ftpSeparator;
        const name = ftpName(r.param('user') ?? '', d.name, sep);
        const f = d.ftp.get(name);
        if (!f) return action(s, json, false, FTP_NO_USER);
        return keyValues(s, json, { fulluser: `${name}${sep}${d.name}`, user: name, domain: d.name, type: f.type, path: f.path });
      });
    case 'CMD_API_LOGIN_KEYS':
      return loginKeys(s, r);
    default:
      return undefined;
  }
}

function withDomain(s: State, r: Request, fn: (d: Domain) => Answer): Answer {
  const d = s.creds.domain(r.caller.effective.username, r.param('domain') ?? '');
  if (!d) return { ...action(s, r.json, false, NOT_YOUR_DOMAIN), applied: false };
  return fn(d);
}

function pop(s: State, r: Request, d: Domain): Answer {
  const json = r.json;
  const act = r.param('action') ?? '';
  if (act === 'list') return list(s, json, [...d.mailboxes.keys()]);
  if (act === 'full_list') {
    const kv: Record<string, Record<string, string>> = {};
    for (const [local, m] of d.mailboxes) kv[local] = { quota: m.quota, usage: m.usage, sent: m.sent, limit: m.limit, suspended: m.suspended ? 'yes' : 'no' };
    return nested(s, json, kv);
  }
  const no = (text: string, details = ''): Answer => ({ ...action(s, json, false, text, details), applied: false });
  if (act !== 'modify') return no('Unknown action', act);
  if (r.method !== 'POST') return no(CANNOT_CHANGE, NEEDS_POST);
  const m = d.mailboxes.get(r.param('user') ?? '');
  if (!m) return no(CANNOT_CHANGE, EMAIL_NO_USER);
  const passwd = r.param('passwd') ?? '';
  const problem = newPasswordProblem(s, passwd, r.param('passwd2') ?? '', m.password, false);
  if (problem) return no(problem[0], problem[1]);
  if (m.password !== passwd) s.stats.credentialChangesApplied++;
  m.password = passwd;
  return { ...action(s, json, true, 'Email account modified', ''), applied: true };
}

/** `name` or `name<sep>domain` -> name. */
function ftpName(user: string, domain: string, sep: string): string {
  return user.endsWith(sep + domain) ? user.slice(0, -domain.length - sep.length) : user;
}

function ftp(s: State, r: Request, d: Domain): Answer {
  const json = r.json;
  const owner = r.caller.effective.username;
  const act = r.param('action') ?? '';
  if (act === 'list') {
    const kv: Record<string, string> = {};
    for (const [name, f] of d.ftp) kv[`${name}${s.settings.ftpSeparator}${d.name}`] = f.path;
    kv[owner] = `/home/${owner}`;
    return keyValues(s, json, kv);
  }
  const no = (text: string, details = ''): Answer => ({ ...action(s, json, false, text, details), applied: false });
  if (act !== 'modify') return no('Unknown action', act);
  if (r.method !== 'POST') return no(CANNOT_CHANGE, NEEDS_POST);
  const name = ftpName(r.param('user') ?? '', d.name, s.settings.ftpSeparator);
  const f = d.ftp.get(name);
  if (!f) return no(CANNOT_CHANGE, FTP_NO_USER);
  const type = (r.param('type') ?? 'user') as FtpType;
  if (!FTP_TYPES.has(type)) return no(CANNOT_CHANGE, FTP_UNKNOWN_TYPE);
  const custom = r.param('custom_val');
  if (type === 'custom' && !custom) return no(CANNOT_CHANGE, 'A custom path is required');
  const passwd = r.param('passwd') ?? '';
  const problem = newPasswordProblem(s, passwd, r.param('passwd2') ?? '', f.password, false);
  if (problem) return no(problem[0], problem[1]);
  if (f.password !== passwd) s.stats.credentialChangesApplied++;
  f.password = passwd;
  f.type = type;
  f.path = ftpPath(owner, d.name, name, type, custom);
  return { ...action(s, json, true, FTP_CHANGED, ''), applied: true };
}

export function legacyKeySettings(k: StoredKey): Record<string, string> {
  return {
    date_created: unix(k.created),
    created_by: k.createdBy,
    expiry: k.expiresAt === undefined ? 'never' : unix(k.expiresAt),
    last_used: k.lastUsed === undefined ? 'never' : unix(k.lastUsed),
    last_ip: k.lastIp ?? '',
    uses: String(k.uses),
    max_uses: String(k.maxUses ?? 0),
    commands: k.commands.join(','),
    ips: k.ips ? [...k.ips].join(',') : '',
  };
}

function loginKeys(s: State, r: Request): Answer {
  const json = r.json;
  const owner = r.caller.effective.username;
  const c = s.creds.of(owner)!;
  if (r.method !== 'POST') return nested(s, json, Object.fromEntries(c.keys.map((k) => [k.name, legacyKeySettings(k)])));
  const no = (text: string, details: string, applied: boolean): Answer => ({ ...action(s, json, false, text, details), applied });
  if (r.param('action') !== 'select' || r.param('delete') === undefined) return no('Unknown action', r.param('action') ?? '', false);
  const names: string[] = [];
  for (const [k, v] of r.params()) if (/^select\d+$/.test(k)) names.push(v);
  if (names.length === 0) return no(KEYS_NOT_DELETED, 'No login key selected', false);
  const missing: string[] = [];
  const readOnly: string[] = [];
  let removed = 0;
  for (const name of names) {
    const k = c.keys.find((x) => x.name === name);
    if (!k) missing.push(name);
    else if (k.readOnly) readOnly.push(name);
    else {
      s.creds.removeKey(owner, name);
      s.stats.loginKeysRevoked++;
      removed++;
    }
  }
  if (readOnly.length > 0) return no(KEYS_NOT_DELETED, `Login key ${readOnly.join(', ')} is read-only`, removed > 0);
  if (missing.length > 0) return no(KEYS_NOT_DELETED, `No such login key: ${missing.join(', ')}`, removed > 0);
  return { ...action(s, json, true, KEYS_DELETED, ''), applied: true };
}
