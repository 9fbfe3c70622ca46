/**
 * Authentication: HTTP Basic with the account password or a login key, `admin|user` login-as,
 * `api_with_password=no`, and the failed-login counter behind the IP blacklist.
 * A key lacking the command: by default it fails exactly like a wrong password (DirectAdmin's
 * login page, 401 on the JSON API); with `keyRefusal` '403' or 'refusal' it is told so instead
 * (KEY_DENIED: not a failed login), as one third-party connector recorded for the JSON API.
 */
import type { AccountStore } from './accounts.js';
import type { Caller, Settings } from './context.js';
import type { CredentialStore, StoredKey } from './credentials.js';

const HISTORY = 100;

/**
 * The caller, or undefined for a failed login. `commandNames` are the upper-case names a key's
 * allow-list may hold for this request (a legacy command; for the JSON API its route and its
 * feature, e.g. '/API/LOGIN-KEYS/KEYS' and 'LOGIN-KEYS').
 */
export function authenticate(
  header: string | undefined,
  commandNames: string[],
  ip: string,
  store: AccountStore,
  creds: CredentialStore,
  settings: Settings,
): Caller | typeof KEY_DENIED | undefined {
  if (!header) return undefined;
  const m = /^\s*basic\s+(\S+)\s*$/i.exec(header);
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const login = decoded.slice(0, colon);
  const secret = decoded.slice(colon + 1);
  const bar = login.indexOf('|');
  const realName = bar < 0 ? login : login.slice(0, bar);
  const real = store.get(realName);
  if (!real || real.suspended || secret === '') return undefined;
  let key: StoredKey | undefined;
  if (secret !== real.password || settings.apiWithPasswordNo.has(real.username)) {
    const used = useKey(creds, real.username, secret, commandNames, ip);
    if (used === KEY_DENIED) return settings.keyRefusal === 'login-page' ? undefined : KEY_DENIED;
    key = used;
    if (!key) return undefined;
  }
  if (bar < 0) return key ? { real, effective: real, key } : { real, effective: real };
  const target = store.get(login.slice(bar + 1));
  if (!target) return undefined;
  const allowed = real.type === 'admin' || (real.type === 'reseller' && target.creator === real.username);
  if (!allowed) return undefined;
  return key ? { real, effective: target, key } : { real, effective: target };
}

/** A valid key whose allow-list lacks the command. */
export const KEY_DENIED = Symbol('key-denied');

function useKey(creds: CredentialStore, owner: string, secret: string, commandNames: string[], ip: string): StoredKey | typeof KEY_DENIED | undefined {
  const keys = creds.of(owner)?.keys;
  const k = keys?.find((x) => x.key === secret);
  if (!k) return undefined;
  const now = Date.now();
  if (k.expiresAt !== undefined && now >= k.expiresAt) return undefined;
  if (k.maxUses !== undefined && k.uses >= k.maxUses) return undefined;
  if (k.ips && !k.ips.has(ip)) return undefined;
  if (k.commands.length > 0 && !commandNames.some((c) => k.commands.includes(c))) return KEY_DENIED;
  k.uses++;
  k.lastUsed = now;
  k.lastIp = ip;
  k.history.unshift({ command: commandNames[0] ?? '', ip, result: 'Valid Login', time: new Date(now).toISOString() });
  if (k.history.length > HISTORY) k.history.length = HISTORY;
  return k;
}

/** Failed logins per IP; past `blacklistAfter` the IP is blacklisted. */
export class Blacklist {
  readonly #failures = new Map<string, number>();

  isBlacklisted(ip: string, after: number): boolean {
    return after > 0 && (this.#failures.get(ip) ?? 0) >= after;
  }

  fail(ip: string): void {
    this.#failures.set(ip, (this.#failures.get(ip) ?? 0) + 1);
  }

  clear(ip?: string): void {
    if (ip === undefined) this.#failures.clear();
    else this.#failures.delete(ip);
  }
}
