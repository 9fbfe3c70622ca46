/**
 * DirectAdmin's JSON API (`/api/...`): answers mapped to the taxonomy. Errors are JSON objects with
 * a `type`, sent with unusual statuses (430, 490-492), so the verdict follows `type`, not status.
 */
import {
  AuthenticationFailed,
  CommandFailed,
  IpBlacklisted,
  PermissionDenied,
  RedirectRefused,
  UnexpectedAnswer,
  type DirectAdminError,
  type ErrorContext,
} from './errors.js';
import { say } from './messages.js';
import { classifyHttp, refusal, safeLocation, type RawAnswer } from './parse.js';

/** What a 2xx answer must carry: a JSON document, or nothing in particular (204 writes). */
export type ApiExpectation = 'json' | 'none';

const TYPE_WORDS: Record<string, string> = {
  NOT_FOUND: 'not found',
  ACCESS_DENIED: 'access denied',
  WEAK_PASSWORD: 'password refused by the server policy',
  PRE_HOOK_ERROR: 'refused by a pre-hook script on the server',
  BAD_REQUEST: 'bad request',
  LOGIN_KEY_READ_ONLY: 'the login key is read-only',
  LOGIN_KEY_ALREADY_EXISTS: 'a login key with that id already exists',
  LOGIN_KEY_DUPLICATE_PASSWORD: 'a login key with that value already exists',
  LOGIN_KEY_BAD_CURRENT_PASSWORD: 'the current password is wrong',
  LOGIN_KEY_API_ONLY: 'the login key is for the API only',
  LICENSE_OVERUSED: 'the DirectAdmin licence is overused',
  LICENSE_INVALID: 'the DirectAdmin licence is invalid',
};

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function header(h: RawAnswer['headers'], name: string): string {
  const v = h[name];
  return Array.isArray(v) ? v.join(',') : (v ?? '');
}

function tryJson(body: string): { ok: true; value: unknown } | { ok: false } {
  const t = body.trim();
  if (!t.startsWith('{') && !t.startsWith('[')) return { ok: false };
  try {
    return { ok: true, value: JSON.parse(t) as unknown };
  } catch {
    return { ok: false };
  }
}

/** The details of a JSON error object: its message-like fields, never the whole object. */
function errorDetails(o: Record<string, unknown>): string {
  const s = (k: string): string => (typeof o[k] === 'string' || typeof o[k] === 'number' ? String(o[k]) : '');
  if (o.type === 'PRE_HOOK_ERROR') {
    const output = s('output').trim().slice(0, 200);
    return `${s('path') || 'hook'} exited ${s('exitCode') || '?'}${output ? `: ${output}` : ''}`;
  }
  if (o.type === 'ACCOUNT_ROLE_MISMATCH') return `${s('account')} is ${s('actual')}, expected ${s('expected')}`;
  return s('message') || s('reason') || s('account') || s('id');
}

/** A JSON API error object to the taxonomy. */
export function apiError(label: string, status: number, o: Record<string, unknown> & { type: string }, ctx: ErrorContext): DirectAdminError {
  const type = o.type.toUpperCase();
  if (type === 'UNAUTHORIZED') return new AuthenticationFailed(label, 'json-unauthorized', ctx);
  const details = errorDetails(o);
  if (type === 'ACCESS_DENIED') return new PermissionDenied(label, TYPE_WORDS[type]!, details, 'access-denied', { ...ctx, apiType: type });
  if (type === 'INTERNAL_ERROR' || status >= 500) {
    return new UnexpectedAnswer(label, status, `server error ${type}${details ? `: ${details}` : ''}`, { ...ctx, apiType: type });
  }
  return new CommandFailed(label, TYPE_WORDS[type] ?? type, details, { ...ctx, apiType: type });
}

/** What the client knows of the server's JSON API when it judges an answer. */
export interface ApiContext {
  method: string;
  /** An earlier /api/ request got a JSON answer: this server has the JSON API. */
  jsonApiSeen: boolean;
}

const LOGIN_PAGE = [/<title>\s*DirectAdmin Login\s*<\/title>/i, /AUTH_METHOD["']?\s*:\s*["']CMD_LOGIN/i];

function noJsonApi(label: string, ctx: ErrorContext, how: string): CommandFailed {
  return new CommandFailed(label, 'no JSON API', say.noJsonApi(how), { ...ctx, apiType: 'NO_JSON_API' });
}

/**
 * Judges one JSON API answer. Returns the parsed JSON (or undefined for an empty 2xx when
 * `expect` is 'none'); throws a taxonomy error for everything else.
 *
 * A server without the JSON API (before DirectAdmin 1.6x) answers /api/ with what its skin makes
 * of an unknown page: an HTML 404, its login page, or a 200 page. Until this server has answered
 * an /api/ request with JSON, each of those on a read means "no JSON API" (NO_JSON_API: callers
 * fall back to the legacy command, or report the kind as not supported), never a failed login of
 * the whole server nor an answer to retry. On a write, a 200 page stays an unknown outcome.
 */
export function interpretApiAnswer(label: string, a: RawAnswer, expect: ApiExpectation, api: ApiContext = { method: 'GET', jsonApiSeen: false }): unknown {
  const ctx: ErrorContext = { endpoint: a.endpoint };
  if (a.status >= 300 && a.status < 400) throw new RedirectRefused(label, a.status, safeLocation(header(a.headers, 'location')), ctx);
  if (/your ip is blacklisted/i.test(a.body)) throw new IpBlacklisted(label, ctx);
  const json = tryJson(a.body);
  const ok = a.status >= 200 && a.status < 300;
  if (json.ok && isRecord(json.value)) {
    const v = json.value;
    if (!ok && typeof v.type === 'string') throw apiError(label, a.status, v as Record<string, unknown> & { type: string }, ctx);
    // The legacy API's JSON mode: {"error":"Not logged in"} is a failed login; {"error":"You cannot execute that command"} a refusal.
    if (typeof v.error === 'string' && v.type === undefined && v.error !== '0')
      throw refusal(label, v.error, typeof v.result === 'string' ? v.result : '', ctx);
  }
  const unauthorizedHeader = header(a.headers, 'x-directadmin').trim().toLowerCase() === 'unauthorized';
  if (a.status === 404 && !json.ok && !unauthorizedHeader) throw noJsonApi(label, ctx, 'answered 404 with a page');
  if (!api.jsonApiSeen && !json.ok && api.method === 'GET' && a.status !== 401) {
    if (LOGIN_PAGE.some((re) => re.test(a.body)) || unauthorizedHeader) throw noJsonApi(label, ctx, 'answered with its login page');
    if (ok && /^\s*</.test(a.body)) throw noJsonApi(label, ctx, 'answered with an HTML page');
  }
  const verdict = classifyHttp(label, a);
  if (verdict) throw verdict;
  if (json.ok) return json.value;
  if (a.body.trim() === '') {
    if (expect === 'none') return undefined;
    throw new UnexpectedAnswer(label, a.status, 'empty answer', ctx);
  }
  throw new UnexpectedAnswer(label, a.status, /^\s*</.test(a.body) ? 'an HTML page instead of an API answer' : 'not a JSON answer', ctx);
}
