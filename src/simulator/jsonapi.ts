/**
 * DirectAdmin's JSON API (/api/...), the parts an incident sweep uses: login keys, one-time login
 * URLs, panel sessions and extra database users. Basic auth as for the legacy API (password or
 * key, `admin|user` login-as); errors are `{"type": ...}` objects with the Swagger's statuses.
 *
 * Choices where the Swagger is silent:
 * - An unknown /api path or method: 404 {"type":"NOT_FOUND"}.
 * - A body that is not the JSON asked for: 400 {"type":"BAD_REQUEST","message":...}.
 * - DB user password under 8 or over 128 characters: 400 {"type":"BAD_REQUEST","message":...}
 *   (the Swagger lists 400/404/409 for /api/db-manage/users/{u}/change-password, not 490).
 * - POST /api/sessions/destroy/{id} of an unknown session: 204 (the Swagger lists no 404).
 * - DELETE /api/login-keys/keys/{id} of an unknown key: 404 NOT_FOUND, or 204 (`deleteUnknownKey`).
 * - A one-time login URL defaults to 60 minutes (`login_hash_expiry_minutes`); opening it
 *   (GET /api/login/url?key=..., no auth) answers 303 (the Swagger's status) to its redirectURL
 *   (or /) and opens a session; a used, expired or unknown key answers 401 {"type":"UNAUTHORIZED"}.
 * - A URL created through login-as (`admin|user`) belongs to the user (`loginUrlOwner`
 *   'customer', default: it opens the user's login and the user's GET lists it) or to the admin
 *   ('admin': it opens the admin's login and only the admin's GET lists it). Not on record.
 * - GET /api/login-keys/commands needs no login: `{"commands":[...],"extended":[]}`, the legacy
 *   commands and the JSON features this simulator knows.
 * - A login key's allow-list reaches a JSON route by its feature (first segment after /api/,
 *   e.g. `login-keys`) or by its route (e.g. `/api/login-keys/keys`).
 */
import { randomBytes } from 'node:crypto';
import { jsonAnswer, type Request, type State } from './context.js';
import { normalizeIp, type StoredKey } from './credentials.js';
import type { Answer } from './pages.js';
import type { SimLoginUrl } from './types.js';

const ROUTES = [
  '/api/login-keys/keys',
  '/api/login-keys/keys/{id}',
  '/api/login-keys/keys/{id}/history',
  '/api/login-keys/urls',
  '/api/login-keys/urls/{id}',
  '/api/login-keys/commands',
  '/api/login/url',
  '/api/sessions',
  '/api/sessions/destroy/{public_id}',
  '/api/sessions/destroy-all-other',
  '/api/db-show/users',
  '/api/db-manage/users/{dbuser}/change-password',
];
const ROUTE_PARTS = ROUTES.map((r) => r.split('/'));
const URL_MINUTES = 60;
const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export interface Route {
  /** The route template, or the path itself when no route matches. */
  route: string;
  /** The value of the {param} segment, if any. */
  param?: string;
  known: boolean;
}

export function resolveRoute(path: string): Route {
  const parts = path.split('/');
  for (let i = 0; i < ROUTES.length; i++) {
    const tpl = ROUTE_PARTS[i]!;
    if (tpl.length !== parts.length) continue;
    let param: string | undefined;
    let ok = true;
    for (let j = 0; j < tpl.length && ok; j++) {
      if (tpl[j]!.startsWith('{')) {
        if (parts[j] === '') ok = false;
        else param = parts[j];
      } else if (tpl[j] !== parts[j]) ok = false;
    }
    if (ok) return param === undefined ? { route: ROUTES[i]!, known: true } : { route: ROUTES[i]!, param, known: true };
  }
  return { route: path, known: false };
}

/** The names a login key's allow-list may use for a JSON route (upper case). */
export function keyNamesFor(route: string): string[] {
  return [(route.split('/')[2] ?? '').toUpperCase(), route.toUpperCase()];
}

const NOT_FOUND = () => jsonAnswer(404, { type: 'NOT_FOUND' });
const badRequest = (message: string) => jsonAnswer(400, { type: 'BAD_REQUEST', message });
const iso = (ms: number | Date) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function randomText(n: number, alphabet = B32): string {
  const bytes = randomBytes(n);
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[bytes[i]! % alphabet.length];
  return s;
}

export function keyJson(k: StoredKey): Record<string, unknown> {
  const o: Record<string, unknown> = {
    id: k.name,
    created: iso(k.created),
    createdBy: k.createdBy,
    hasExpiry: k.expiresAt !== undefined,
    allowCommands: [...k.commands],
    denyCommands: [],
    allowNetworks: k.ips ? [...k.ips] : [],
    allowLogin: false,
    autoRemove: false,
    readOnly: k.readOnly,
  };
  if (k.expiresAt !== undefined) o.expires = iso(k.expiresAt);
  return o;
}

function parseJson(r: Request): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: r.bodyText === '' ? {} : (JSON.parse(r.bodyText) as unknown) };
  } catch {
    return { ok: false };
  }
}

/** The answer to an authenticated JSON API request (`route` from resolveRoute). */
export function jsonApiRequest(s: State, r: Request, route: Route): Answer {
  const owner = r.caller.effective.username;
  const c = s.creds.of(owner)!;
  const m = r.method;
  const id = route.param ?? '';
  switch (`${m} ${route.route}`) {
    case 'GET /api/login-keys/keys':
      return jsonAnswer(200, [...c.keys].sort((a, b) => b.created - a.created).map(keyJson));
    case 'GET /api/login-keys/keys/{id}': {
      const k = c.keys.find((x) => x.name === id);
      return k ? jsonAnswer(200, keyJson(k)) : NOT_FOUND();
    }
    case 'GET /api/login-keys/keys/{id}/history': {
      const k = c.keys.find((x) => x.name === id);
      return k ? jsonAnswer(200, k.history) : NOT_FOUND();
    }
    case 'DELETE /api/login-keys/keys/{id}': {
      const k = c.keys.find((x) => x.name === id);
      if (!k) return { ...(s.settings.deleteUnknownKey === 'no-content' ? jsonAnswer(204) : NOT_FOUND()), applied: false };
      if (k.readOnly) return { ...jsonAnswer(409, { type: 'LOGIN_KEY_READ_ONLY', id }), applied: false };
      s.creds.removeKey(owner, id);
      s.stats.loginKeysRevoked++;
      return { ...jsonAnswer(204), applied: true };
    }
    case 'GET /api/login-keys/urls':
      return jsonAnswer(
        200,
        s.loginUrls
          .filter((u) => u.owner === owner)
          .reverse()
          .map(({ id: uid, created, createdBy, expires, allowNetworks, redirectURL }) => ({
            id: uid,
            created: iso(created),
            createdBy,
            expires: iso(expires),
            allowNetworks,
            ...(redirectURL ? { redirectURL } : {}),
          })),
      );
    case 'POST /api/login-keys/urls':
      return createLoginUrl(s, r, s.settings.loginUrlOwner === 'admin' ? r.caller.real.username : owner);
    case 'DELETE /api/login-keys/urls/{id}': {
      const i = s.loginUrls.findIndex((u) => u.id === id && u.owner === owner);
      if (i < 0) return { ...NOT_FOUND(), applied: false };
      s.loginUrls.splice(i, 1);
      return { ...jsonAnswer(204), applied: true };
    }
    case 'GET /api/sessions': {
      const now = Date.now();
      const u = new URL(s.baseUrl());
      return jsonAnswer(
        200,
        c.sessions.map((x) => ({
          publicID: x.publicID,
          ip: x.ip,
          created: iso(x.created),
          expires: iso(x.expires),
          host: u.host,
          loggedInAs: x.loggedInAs,
          loginKey: x.loginKey,
          current: false,
          valid: x.expires.getTime() > now,
        })),
      );
    }
    case 'POST /api/sessions/destroy/{public_id}': {
      if (!mayDestroy(s, r)) return { ...jsonAnswer(403, { type: 'ACCESS_DENIED' }), applied: false };
      const i = c.sessions.findIndex((x) => x.publicID === id);
      if (i >= 0) c.sessions.splice(i, 1);
      return { ...jsonAnswer(204), applied: i >= 0 };
    }
    case 'POST /api/sessions/destroy-all-other': {
      if (!mayDestroy(s, r)) return { ...jsonAnswer(403, { type: 'ACCESS_DENIED' }), applied: false };
      // Requests with Basic auth have no session of their own: every session ends.
      const n = c.sessions.length;
      c.sessions.length = 0;
      return { ...jsonAnswer(204), applied: n > 0 };
    }
    case 'GET /api/db-show/users':
      return jsonAnswer(
        200,
        [...c.dbUsers].map(([dbuser, d]) => ({ dbuser, hostPatterns: [...d.hostPatterns] })),
      );
    case 'POST /api/db-manage/users/{dbuser}/change-password': {
      const d = c.dbUsers.get(id);
      if (!d) return { ...NOT_FOUND(), applied: false };
      const body = parseJson(r);
      const pw = body.ok ? (body.value as { newPassword?: unknown } | null)?.newPassword : undefined;
      if (typeof pw !== 'string') return { ...badRequest('newPassword is required'), applied: false };
      if (pw.length < 8) return { ...badRequest('password must be at least 8 characters long'), applied: false };
      if (pw.length > 128) return { ...badRequest('password must be at most 128 characters long'), applied: false };
      if (d.password !== pw) s.stats.credentialChangesApplied++;
      d.password = pw;
      return { ...jsonAnswer(204), applied: true };
    }
    default:
      return NOT_FOUND();
  }
}

function mayDestroy(s: State, r: Request): boolean {
  return s.settings.sessionsDestroyViaLoginAs || r.caller.real.username === r.caller.effective.username;
}

function createLoginUrl(s: State, r: Request, owner: string): Answer {
  const body = parseJson(r);
  if (!body.ok || typeof body.value !== 'object' || body.value === null || Array.isArray(body.value))
    return { ...badRequest('invalid JSON body'), applied: false };
  const v = body.value as { allowNetworks?: unknown; expires?: unknown; redirectURL?: unknown };
  const nets = v.allowNetworks === undefined ? [] : v.allowNetworks;
  if (!Array.isArray(nets) || !nets.every((x) => typeof x === 'string')) return { ...badRequest('allowNetworks must be an array of strings'), applied: false };
  const now = Date.now();
  let expires = now + URL_MINUTES * 60_000;
  if (v.expires !== undefined) {
    const t = typeof v.expires === 'string' ? Date.parse(v.expires) : NaN;
    if (!Number.isFinite(t) || t <= now) return { ...badRequest('expires must be a date-time in the future'), applied: false };
    expires = t;
  }
  if (v.redirectURL !== undefined && typeof v.redirectURL !== 'string') return { ...badRequest('redirectURL must be a string'), applied: false };
  const key = randomText(96);
  const u: SimLoginUrl = {
    id: 'HASHURL' + randomText(25),
    owner,
    url: `${s.baseUrl()}/api/login/url?key=${key}`,
    key,
    created: new Date(now),
    createdBy: `api:${r.caller.real.username},${r.ip}`,
    expires: new Date(expires),
    allowNetworks: [...nets],
  };
  if (typeof v.redirectURL === 'string') u.redirectURL = v.redirectURL;
  s.loginUrls.push(u);
  const out: Record<string, unknown> = {
    id: u.id,
    url: u.url,
    created: iso(u.created),
    createdBy: u.createdBy,
    expires: iso(u.expires),
    allowNetworks: u.allowNetworks,
  };
  if (u.redirectURL) out.redirectURL = u.redirectURL;
  return { ...jsonAnswer(200, out), applied: true };
}

/** GET /api/login/url?key=K: a one-time login (no Basic auth). */
export function openLoginUrl(s: State, key: string, ip: string): Answer {
  const now = Date.now();
  const u = s.loginUrls.find((x) => x.key === key);
  const netOk = (x: SimLoginUrl) => x.allowNetworks.length === 0 || x.allowNetworks.some((n) => n === ip || n === `${ip}/32` || n === `${ip}/128`);
  if (!u || u.usedAt || u.expires.getTime() <= now || !netOk(u)) return jsonAnswer(401, { type: 'UNAUTHORIZED' });
  u.usedAt = new Date(now);
  const publicID = randomBytes(8).toString('hex');
  const session = {
    publicID,
    owner: u.owner,
    ip: normalizeIp(ip),
    created: new Date(now),
    expires: new Date(now + 24 * 3600_000),
    loggedInAs: u.owner,
    loginKey: '',
  };
  s.creds.of(u.owner)?.sessions.push(session);
  return { status: 303, body: '', type: 'text/html', headers: { Location: u.redirectURL ?? '/', 'Set-Cookie': `session=${randomText(32)}; Path=/; HttpOnly` } };
}

/** GET /api/login-keys/commands (no login): the names a key's allow-list may hold on this server. */
export function loginKeyCommands(): Answer {
  const legacy = [
    'CMD_API_LOGIN_TEST',
    'CMD_API_SHOW_USERS',
    'CMD_API_SHOW_ALL_USERS',
    'CMD_API_SHOW_RESELLERS',
    'CMD_API_SHOW_ADMINS',
    'CMD_API_SHOW_USER_CONFIG',
    'CMD_API_USER_EXISTS',
    'CMD_API_VERIFY_PASSWORD',
    'CMD_API_USER_PASSWD',
    'CMD_API_DOMAIN_OWNERS',
    'CMD_API_SHOW_DOMAINS',
    'CMD_API_SHOW_USER_DOMAINS',
    'CMD_API_POP',
    'CMD_API_FTP',
    'CMD_API_FTP_SHOW',
    'CMD_API_LOGIN_KEYS',
    'CMD_LOGIN_KEYS',
  ];
  return jsonAnswer(200, { commands: [...legacy, ...FEATURES], extended: [] });
}

/** The JSON API features (first segment after /api/) a key's allow-list names. */
export const FEATURES = ['login-keys', 'login', 'sessions', 'db-show', 'db-manage'];
