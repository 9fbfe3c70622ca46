/**
 * Pure parsers for DirectAdmin's answers. They take what came over the wire (status, headers,
 * body) and return a typed result or throw an error of the taxonomy; they never return success
 * for something that is not clearly a success.
 */
import {
  AuthenticationFailed,
  CommandFailed,
  IpBlacklisted,
  NeedsHttps,
  NOT_ALLOWED_TEXT,
  PermissionDenied,
  RedirectRefused,
  UnexpectedAnswer,
  type DirectAdminError,
  type ErrorContext,
} from './errors.js';

export interface RawAnswer {
  status: number;
  /** Lower-case header names, as undici gives them. */
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** host:port, named in the error messages. */
  endpoint?: string;
}

export interface ActionResult {
  text: string;
  details: string;
}

/** A body decoded either as JSON or as DirectAdmin's url-encoded form. */
export type Decoded = { format: 'json'; value: unknown } | { format: 'urlencoded'; fields: Map<string, string[]> } | { format: 'empty' };

function header(h: RawAnswer['headers'], name: string): string {
  const v = h[name];
  return Array.isArray(v) ? v.join(',') : (v ?? '');
}

/** Scheme, host and path of a Location: its query may carry anything, so it is dropped. */
export function safeLocation(location: string): string {
  try {
    const u = new URL(location, 'http://relative.invalid');
    const origin = u.host === 'relative.invalid' ? '' : `${u.protocol}//${u.host}`;
    return `${origin}${u.pathname}`;
  } catch {
    return '(unparseable location)';
  }
}

const LOGIN_PAGE = [/<title>\s*DirectAdmin Login\s*<\/title>/i, /AUTH_METHOD["']?\s*:\s*["']CMD_LOGIN/i];
const BLACKLISTED = /your ip is blacklisted/i;

function looksLikeUnauthorizedJson(body: string): boolean {
  if (!/unauthorized/i.test(body)) return false;
  const t = body.trim();
  if (!t.startsWith('{')) return false;
  try {
    const v = JSON.parse(t) as unknown;
    return typeof v === 'object' && v !== null && String((v as Record<string, unknown>).type).toUpperCase() === 'UNAUTHORIZED';
  } catch {
    return false;
  }
}

/**
 * HTTP-level verdict, before the body is read as data. Order matters: the most specific and
 * most dangerous signs first, so a blacklisted IP is never reported as a mere 5xx.
 */
export function classifyHttp(command: string, a: RawAnswer): DirectAdminError | undefined {
  const ctx: ErrorContext = { endpoint: a.endpoint };
  if (a.status >= 300 && a.status < 400) return new RedirectRefused(command, a.status, safeLocation(header(a.headers, 'location')), ctx);
  if (BLACKLISTED.test(a.body)) return new IpBlacklisted(command, ctx);
  if (a.status === 401) return new AuthenticationFailed(command, 'http-401', ctx);
  if (header(a.headers, 'x-directadmin').trim().toLowerCase() === 'unauthorized') return new AuthenticationFailed(command, 'x-directadmin-header', ctx);
  if (LOGIN_PAGE.some((re) => re.test(a.body))) return new AuthenticationFailed(command, 'login-page', ctx);
  if (looksLikeUnauthorizedJson(a.body)) return new AuthenticationFailed(command, 'json-unauthorized', ctx);
  if (header(a.headers, 'x-use-https').trim().toLowerCase() === 'yes' || /^\s*use https\b/i.test(a.body.slice(0, 200))) {
    return new NeedsHttps(command, ctx);
  }
  // A login key that does not allow the command (DirectAdmin's JSON API; uncertain for legacy commands): not a failed login.
  if (a.status === 403) return new PermissionDenied(command, 'Forbidden', '', 'http-403', ctx);
  if (a.status >= 500) return new UnexpectedAnswer(command, a.status, 'server error', ctx);
  if (a.status < 200 || a.status >= 300) return new UnexpectedAnswer(command, a.status, 'unexpected HTTP status', ctx);
  return undefined;
}

const ENTITY = /&#(?:(\d{1,7})|[xX]([0-9a-fA-F]{1,6}));/g;

/** `&#49;` / `&#x31;` -> the character. Invalid code points are left as they were. */
export function decodeNumericEntities(s: string): string {
  if (!s.includes('&#')) return s;
  return s.replace(ENTITY, (m, dec: string | undefined, hex: string | undefined) => {
    const cp = dec !== undefined ? Number.parseInt(dec, 10) : Number.parseInt(hex ?? '', 16);
    if (!Number.isFinite(cp) || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return m;
    return String.fromCodePoint(cp);
  });
}

/**
 * DirectAdmin's url-encoded form. Raw entities are undone first (their `&` would otherwise split
 * the form, as DirectAdmin's docs warn), by turning them into percent-escapes; entities that
 * arrived percent-encoded are undone after the form is decoded.
 */
export function parseUrlEncoded(body: string): Map<string, string[]> {
  const form = escapeRawEntities(body).trim();
  return splitForm(form) ?? parseFormReference(form);
}

/** Raw entities turned into percent-escapes, so that their `&` does not split the form. */
export function escapeRawEntities(body: string): string {
  return body.includes('&#') ? body.replace(ENTITY, (m) => encodeURIComponent(decodeNumericEntities(m))) : body;
}

/**
 * The form split by hand, as URLSearchParams splits it: `&`-separated, empty pieces skipped, the
 * first `=` ends the name, `+` is a space, percent-escapes decoded. About 3x faster on a listing of
 * thousands of names (4 000 names: 1.2 ms against 8 ms). A piece it cannot decode the way
 * URLSearchParams would (a stray `%`, bytes that are not UTF-8) hands the whole form to
 * parseFormReference instead, so both always agree (a property test holds them to it).
 */
function splitForm(form: string): Map<string, string[]> | undefined {
  // URLSearchParams drops one leading "?"; leave that rare form to it.
  if (form.startsWith('?')) return undefined;
  const fields = new Map<string, string[]>();
  let lastRawKey: string | undefined;
  let lastKey: string | undefined;
  let at = 0;
  while (at <= form.length) {
    let end = form.indexOf('&', at);
    if (end < 0) end = form.length;
    if (end > at) {
      const eq = form.indexOf('=', at);
      const split = eq >= 0 && eq < end;
      const rawKey = form.slice(at, split ? eq : end);
      // A listing repeats one name (list%5B%5D) thousands of times: decoded once.
      const key = rawKey === lastRawKey ? lastKey : formDecode(rawKey);
      lastRawKey = rawKey;
      lastKey = key;
      const value = split ? formDecode(form.slice(eq + 1, end)) : '';
      if (key === undefined || value === undefined) return undefined;
      const list = fields.get(key);
      if (list) list.push(value);
      else fields.set(key, [value]);
    }
    at = end + 1;
  }
  return fields;
}

/** `+` and percent-escapes undone, then entities that arrived percent-encoded; undefined when URLSearchParams would decode it differently. */
function formDecode(piece: string): string | undefined {
  let s = piece;
  if (s.includes('+')) s = s.replace(/\+/g, ' ');
  if (s.includes('%')) {
    try {
      s = decodeURIComponent(s);
    } catch {
      return undefined;
    }
  }
  return decodeNumericEntities(s);
}

/** The reference: URLSearchParams' own decoding (lenient with stray `%`, U+FFFD for bytes that are not UTF-8). */
export function parseFormReference(form: string): Map<string, string[]> {
  const fields = new Map<string, string[]>();
  for (const [k, v] of new URLSearchParams(form)) {
    const key = decodeNumericEntities(k);
    const value = decodeNumericEntities(v);
    const list = fields.get(key);
    if (list) list.push(value);
    else fields.set(key, [value]);
  }
  return fields;
}

const HTMLISH = /^\s*<|<html|<body|<!doctype/i;

/** Decides the format from the body itself: Content-Type is not reliable on DirectAdmin. */
export function decodeBody(command: string, status: number, body: string, ctx?: ErrorContext): Decoded {
  const t = body.trim();
  if (t === '') return { format: 'empty' };
  if (t.startsWith('{') || t.startsWith('[')) {
    try {
      return { format: 'json', value: JSON.parse(t) as unknown };
    } catch {
      throw new UnexpectedAnswer(command, status, 'truncated or invalid JSON', ctx);
    }
  }
  if (HTMLISH.test(t)) throw new UnexpectedAnswer(command, status, 'an HTML page instead of an API answer', ctx);
  // A form never holds raw control characters; binary garbage (or bytes that were not UTF-8) does.
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\ufffd]/.test(t)) throw new UnexpectedAnswer(command, status, 'not a DirectAdmin answer', ctx);
  return { format: 'urlencoded', fields: parseUrlEncoded(t) };
}

function first(fields: Map<string, string[]>, key: string): string | undefined {
  return fields.get(key)?.[0];
}

function str(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return '';
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** JSON mode's authentication failure (as the Clientexec module handles it): `{"error":"Not logged in"}`. */
const NOT_LOGGED_IN = /^\s*not logged in\s*$/i;

/**
 * An `error=1` refusal as the taxonomy has it: "You cannot execute that command" is a permission
 * refusal, "Not logged in" a failed login (fatal for the server), anything else a CommandFailed.
 */
export function refusal(command: string, text: string, details: string, ctx?: ErrorContext): DirectAdminError {
  if (NOT_LOGGED_IN.test(text) || (text === '' && NOT_LOGGED_IN.test(details))) return new AuthenticationFailed(command, 'not-logged-in', ctx);
  if (NOT_ALLOWED_TEXT.test(text) || NOT_ALLOWED_TEXT.test(details)) return new PermissionDenied(command, text, details, 'legacy-refusal', ctx);
  return new CommandFailed(command, text, details, ctx);
}

function jsonFailure(command: string, o: Record<string, unknown>, ctx?: ErrorContext): DirectAdminError | undefined {
  if (!('error' in o)) return undefined;
  const e = o.error;
  if (e === 0 || e === '0' || e === false) return undefined;
  // {"error":"1","text":...} and {"error":"<headline>","result":"<reason>"} both occur.
  const isFlag = e === 1 || e === '1' || e === true;
  const text = isFlag ? str(o.text) : str(e);
  const details = str(o.result ?? o.details);
  return refusal(command, text, details, ctx);
}

/** Action commands: `error=0&text=...` / `{"success":...}`. Anything else is not a success. */
export function parseAction(command: string, status: number, body: string, ctx?: ErrorContext): ActionResult {
  const d = decodeBody(command, status, body, ctx);
  if (d.format === 'empty') throw new UnexpectedAnswer(command, status, 'empty answer', ctx);
  if (d.format === 'json') {
    if (!isRecord(d.value)) throw new UnexpectedAnswer(command, status, 'JSON answer is not an object', ctx);
    const o = d.value;
    const failure = jsonFailure(command, o, ctx);
    if (failure) throw failure;
    if (typeof o.success === 'string') return { text: o.success, details: str(o.result ?? o.details) };
    if ((o.error === 0 || o.error === '0') && typeof o.text === 'string') return { text: o.text, details: str(o.details ?? o.result) };
    throw new UnexpectedAnswer(command, status, 'JSON answer has neither success nor error', ctx);
  }
  const error = first(d.fields, 'error');
  const text = first(d.fields, 'text') ?? '';
  const details = first(d.fields, 'details') ?? '';
  if (error === undefined) throw new UnexpectedAnswer(command, status, 'answer has no error field', ctx);
  if (error.trim() !== '0') throw refusal(command, text, details, ctx);
  return { text, details };
}

/** Lists: `list[]=a&list[]=b`, an empty body, `["a"]`, `{"0":"a"}` or `{"list":["a"]}`. */
export function parseList(command: string, status: number, body: string, ctx?: ErrorContext): string[] {
  const d = decodeBody(command, status, body, ctx);
  if (d.format === 'empty') return [];
  if (d.format === 'json') {
    const v = d.value;
    const strings = (arr: unknown[]): string[] => {
      if (!arr.every((x) => typeof x === 'string')) throw new UnexpectedAnswer(command, status, 'list holds something other than names', ctx);
      return arr;
    };
    if (Array.isArray(v)) return strings(v);
    if (!isRecord(v)) throw new UnexpectedAnswer(command, status, 'JSON answer is neither a list nor an object', ctx);
    const failure = jsonFailure(command, v, ctx);
    if (failure) throw failure;
    if (Array.isArray(v.list)) return strings(v.list);
    const keys = Object.keys(v).filter((k) => k !== 'error');
    if (keys.every((k) => /^\d+$/.test(k))) {
      return strings(keys.sort((a, b) => Number(a) - Number(b)).map((k) => v[k]));
    }
    throw new UnexpectedAnswer(command, status, 'JSON object is not a list', ctx);
  }
  const list = d.fields.get('list[]');
  if (list) return list;
  const error = first(d.fields, 'error');
  if (error !== undefined && error.trim() !== '0') throw refusal(command, first(d.fields, 'text') ?? '', first(d.fields, 'details') ?? '', ctx);
  // An empty list sometimes comes as a bare `error=0`; anything else unknown is not a list.
  const known = new Set(['error', 'text', 'details']);
  if (error !== undefined && [...d.fields.keys()].every((k) => known.has(k))) return [];
  throw new UnexpectedAnswer(command, status, 'answer is not a list', ctx);
}

/** Flat key/value objects such as CMD_API_SHOW_USER_CONFIG. */
export function parseKeyValues(command: string, status: number, body: string, ctx?: ErrorContext): Record<string, string> {
  const d = decodeBody(command, status, body, ctx);
  if (d.format === 'empty') throw new UnexpectedAnswer(command, status, 'empty answer', ctx);
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  if (d.format === 'json') {
    if (!isRecord(d.value)) throw new UnexpectedAnswer(command, status, 'JSON answer is not an object', ctx);
    const failure = jsonFailure(command, d.value, ctx);
    if (failure) throw failure;
    for (const [k, v] of Object.entries(d.value)) out[k] = typeof v === 'object' && v !== null ? JSON.stringify(v) : str(v);
    return out;
  }
  const error = first(d.fields, 'error');
  if (error !== undefined && error.trim() !== '0') throw refusal(command, first(d.fields, 'text') ?? '', first(d.fields, 'details') ?? '', ctx);
  for (const [k, v] of d.fields) out[k] = v[0] ?? '';
  return out;
}

/** A `key=1|0` answer such as CMD_API_VERIFY_PASSWORD (`valid`) or CMD_API_USER_EXISTS (`exists`). */
export function parseFlag(command: string, status: number, body: string, key: string, ctx?: ErrorContext): boolean {
  const kv = parseKeyValues(command, status, body, ctx);
  const v = kv[key];
  if (v === undefined) throw new UnexpectedAnswer(command, status, `answer has no ${key} field`, ctx);
  const t = v.trim().toLowerCase();
  if (t === '1' || t === 'true' || t === 'yes') return true;
  if (t === '0' || t === 'false' || t === 'no') return false;
  throw new UnexpectedAnswer(command, status, `${key} is neither 1 nor 0`, ctx);
}

/** Any answer of a CMD_API_* command, judged only as "answered" or "refused" (key-scope --check's dry requests). */
export function parseAnyAnswer(command: string, status: number, body: string, ctx?: ErrorContext): void {
  const d = decodeBody(command, status, body, ctx);
  if (d.format === 'json' && isRecord(d.value)) {
    const failure = jsonFailure(command, d.value, ctx);
    if (failure) throw failure;
  } else if (d.format === 'urlencoded') {
    const error = first(d.fields, 'error');
    if (error !== undefined && error.trim() !== '0') throw refusal(command, first(d.fields, 'text') ?? '', first(d.fields, 'details') ?? '', ctx);
  }
}
