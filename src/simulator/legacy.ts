/**
 * The legacy account commands: login test, listings, account config, existence, password
 * verification and the account password change.
 *
 * DirectAdmin's own strings (shared notes, from its language files): command.txt "Cannot change
 * password", "You must enter the password in both fields", "Password is too short", "Password is
 * too long", "Invalid characters in password", "Passwords do not match", "That user does not
 * exist", "That user does not belong to you", "New password isn't different" (account passwords
 * only), "You cannot execute that command"; user.txt "Unable to satisfy difficult password
 * check.", "User password changed, however the account is still suspended" (with error=0, or
 * error=1: `suspendedPasswordAnswer`, not on record).
 *
 * Choices where DirectAdmin's behaviour is not documented:
 * - CMD_API_USER_PASSWD by GET: `error=1&text=Cannot change password&details=This command requires a POST request`.
 * - CMD_API_VERIFY_PASSWORD answers `valid=1`/`valid=0` (url-encoded) or `{"valid":"1"}` (JSON).
 * - CMD_API_USER_EXISTS answers `error=0&exists=%31` / `error=0&exists=%30`, or `{"exists":"1"}` (JSON).
 * - Errors of listing/config commands: `error=1&text=<reason>&details=` / `{"error":"<reason>","result":""}`.
 */
import type { SimAccount } from './accounts.js';
import { action, api, keyValues, list, mayManage, type Request, type Settings, type State } from './context.js';
import type { Answer } from './pages.js';

export const NOT_ALLOWED = 'You cannot execute that command';
export const NO_USER = 'That user does not exist';
export const NOT_YOURS = 'That user does not belong to you';
export const CANNOT_CHANGE = 'Cannot change password';
export const NOT_DIFFERENT = "New password isn't different";
export const STILL_SUSPENDED = 'User password changed, however the account is still suspended';

/** Checks a new password the way DirectAdmin does; returns [text, details] of the error, or undefined. */
export function passwordProblem(pw: string, policy: Settings['passwordPolicy']): [string, string] | undefined {
  if (pw.length < policy.minLength) return [CANNOT_CHANGE, 'Password is too short'];
  if (pw.length > policy.maxLength) return [CANNOT_CHANGE, 'Password is too long'];
  for (let i = 0; i < pw.length; i++) {
    const c = pw.charCodeAt(i);
    if (c <= 32 || c >= 127) return [CANNOT_CHANGE, 'Invalid characters in password'];
  }
  if (policy.difficult) {
    const headline = 'Unable to satisfy difficult password check.';
    if (!/[a-z]/.test(pw) || !/[A-Z]/.test(pw)) return [headline, 'Password must have both upper and lower case characters'];
    if (!/[0-9]/.test(pw)) return [headline, 'Password must have numbers'];
    if (!/[^A-Za-z0-9]/.test(pw)) return [headline, 'Password must have at least one special character such as !@#%$ etc..'];
  }
  return undefined;
}

/**
 * The checks every password change shares (accounts and mailboxes): both fields, equal, policy,
 * and "isn't different" unless the server accepts an unchanged password. [text, details] or undefined.
 */
export function newPasswordProblem(s: State, passwd: string, passwd2: string, current: string, refusesUnchanged = true): [string, string] | undefined {
  if (passwd === '' || passwd2 === '') return [CANNOT_CHANGE, 'You must enter the password in both fields'];
  if (passwd !== passwd2) return [CANNOT_CHANGE, 'Passwords do not match'];
  const problem = passwordProblem(passwd, s.settings.passwordPolicy);
  if (problem) return problem;
  // "isn't different" is among the account password strings only (command.txt).
  if (refusesUnchanged && passwd === current && !s.settings.acceptUnchangedPassword) return [CANNOT_CHANGE, NOT_DIFFERENT];
  return undefined;
}

/** The legacy answer cache: listings of 1 000 names or more are encoded once per format. */
export class ListCache {
  readonly #bodies = new Map<string, string>();
  clear(): void {
    this.#bodies.clear();
  }
  list(s: State, json: boolean, cacheKey: string, names: readonly string[]): Answer {
    const key = `${json ? 'j' : 'u'}|${cacheKey}`;
    const body = this.#bodies.get(key);
    if (body !== undefined) return api(json, body);
    const a = list(s, json, names);
    if (names.length >= 1000) this.#bodies.set(key, a.body);
    return a;
  }
}

export function accountConfig(s: State, a: SimAccount): Record<string, string> {
  const keys = s.creds.keyCount(a.username);
  return {
    username: a.username,
    usertype: a.type,
    creator: a.creator,
    suspended: a.suspended ? 'yes' : 'no',
    account: 'ON',
    api_with_password: s.settings.apiWithPasswordNo.has(a.username) ? 'no' : 'yes',
    bandwidth: 'unlimited',
    date_created: a.dateCreated,
    domain: a.domain,
    email: a.email,
    ip: '127.0.0.1',
    language: 'en',
    login_keys: keys > 0 ? 'ON' : 'OFF',
    name: a.username,
    package: a.type === 'user' ? 'default' : 'custom',
    quota: 'unlimited',
    skin: 'evolution',
  };
}

/** The answer to a legacy account command, or undefined when `command` is not one. */
export function accountCommand(s: State, cache: ListCache, r: Request): Answer | undefined {
  const { store } = s;
  const caller = r.caller.effective;
  const json = r.json;
  const isAdmin = caller.type === 'admin';
  switch (r.command) {
    case 'CMD_API_LOGIN_TEST':
      return action(s, json, true, 'Login OK', '');
    case 'CMD_API_SHOW_USERS': {
      if (caller.type === 'user') return action(s, json, false, NOT_ALLOWED);
      const reseller = r.param('reseller');
      if (reseller !== undefined && reseller !== '' && reseller !== caller.username) {
        if (!isAdmin) return action(s, json, false, NOT_ALLOWED);
        if (!store.get(reseller)) return action(s, json, false, NO_USER);
        return cache.list(s, json, `users:${reseller}`, store.usersOf(reseller));
      }
      return cache.list(s, json, `users:${caller.username}`, store.usersOf(caller.username));
    }
    case 'CMD_API_SHOW_ALL_USERS':
      if (!isAdmin) return action(s, json, false, NOT_ALLOWED);
      return s.settings.showAllUsersIncludesResellersAndAdmins ? cache.list(s, json, 'everyone', store.everyone) : cache.list(s, json, 'all', store.users);
    case 'CMD_API_SHOW_RESELLERS':
      if (!isAdmin) return action(s, json, false, NOT_ALLOWED);
      return cache.list(s, json, 'resellers', store.resellers);
    case 'CMD_API_SHOW_ADMINS':
      if (!isAdmin) return action(s, json, false, NOT_ALLOWED);
      return cache.list(s, json, 'admins', store.admins);
    case 'CMD_API_SHOW_USER_CONFIG': {
      const a = store.get(r.param('user') ?? '');
      if (!a) return action(s, json, false, NO_USER);
      if (!mayManage(caller, a)) return action(s, json, false, NOT_YOURS);
      return keyValues(s, json, accountConfig(s, a));
    }
    case 'CMD_API_USER_EXISTS': {
      if (!isAdmin) return action(s, json, false, NOT_ALLOWED);
      const exists = store.get(r.param('user') ?? '') ? '1' : '0';
      return api(json, json ? JSON.stringify({ exists }) : `error=0&exists=%3${exists}`);
    }
    case 'CMD_API_VERIFY_PASSWORD': {
      if (!isAdmin) return action(s, json, false, NOT_ALLOWED);
      const a = store.get(r.param('user') ?? '');
      const pw = r.param('passwd');
      const matches = a !== undefined && pw !== undefined && a.password === pw;
      const valid = matches && !(a.suspended && s.settings.verifyInvalidForSuspended) ? '1' : '0';
      return keyValues(s, json, { valid });
    }
    case 'CMD_API_USER_PASSWD':
      return userPasswd(s, r);
    default:
      return undefined;
  }
}

function userPasswd(s: State, r: Request): Answer {
  const no = (text: string, details: string): Answer => ({ ...action(s, r.json, false, text, details), applied: false });
  if (r.method !== 'POST') return no(CANNOT_CHANGE, 'This command requires a POST request');
  const caller = r.caller.effective;
  if (caller.type === 'user') return no(CANNOT_CHANGE, NOT_ALLOWED);
  const passwd = r.param('passwd') ?? '';
  const passwd2 = r.param('passwd2') ?? '';
  if (passwd === '' || passwd2 === '') return no(CANNOT_CHANGE, 'You must enter the password in both fields');
  if (passwd !== passwd2) return no(CANNOT_CHANGE, 'Passwords do not match');
  const target = s.store.get(r.param('username') ?? '');
  if (!target) return no(CANNOT_CHANGE, NO_USER);
  if (!mayManage(caller, target)) return no(CANNOT_CHANGE, NOT_YOURS);
  const problem = newPasswordProblem(s, passwd, passwd2, target.password);
  if (problem) return no(problem[0], problem[1]);
  const changed = target.password !== passwd;
  target.password = passwd;
  if (changed) s.stats.passwordChangesApplied++;
  if (changed && s.settings.passwordChangeEndsSessions) {
    const sessions = s.creds.of(target.username)?.sessions;
    if (sessions) sessions.length = 0;
  }
  if (target.suspended) {
    // user.txt; whether it comes with error=1 is not on record (suspendedPasswordAnswer).
    return { ...action(s, r.json, s.settings.suspendedPasswordAnswer === 'success', STILL_SUSPENDED, ''), applied: true };
  }
  return { ...action(s, r.json, true, 'Password Changed', ''), applied: true };
}
