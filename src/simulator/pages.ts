/** The HTML pages and fixed answers the simulator sends (DirectAdmin look-alikes). */
import { actionBody, type FormatOptions } from './encode.js';
import type { AuthFailureStyle, KeyRefusalStyle } from './types.js';

export interface Answer {
  status: number;
  body: string;
  type: string;
  headers?: Record<string, string>;
  /** Write requests say whether they changed anything: "after apply" faults fire only then. */
  applied?: boolean;
}

export const LOGIN_PAGE =
  '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>DirectAdmin Login</title></head>\n' +
  '<body><form action="/CMD_LOGIN" method="post" name="form"><input type="hidden" name="referer" value="/">' +
  '<input type="text" name="username"><input type="password" name="password"><input type="submit" value="Login"></form></body></html>\n';
export const EVOLUTION_PAGE =
  '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>DirectAdmin</title>\n' +
  '<script>window.__DA_CONFIG__ = { AUTH_METHOD: "CMD_LOGIN", SKIN: "evolution" };</script></head>\n' +
  '<body><div id="app"></div></body></html>\n';
export const BLACKLISTED_PAGE = '<html><head><title>DirectAdmin</title></head><body>Your IP is blacklisted</body></html>\n';
export const NOT_FOUND_PAGE =
  '<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1>The requested command was not found on this server.</body></html>\n';
export const ERROR500_PAGE = '<html><head><title>500 Internal Server Error</title></head><body><h1>Internal Server Error</h1></body></html>\n';
export const HTML_AFTER_APPLY = '<html><head><title>DirectAdmin</title></head><body><p>Your request has been processed.</p></body></html>\n';

export const notFound = (): Answer => ({ status: 404, body: NOT_FOUND_PAGE, type: 'text/html' });
export const error500 = (): Answer => ({ status: 500, body: ERROR500_PAGE, type: 'text/html' });

export function authFailureAnswer(style: AuthFailureStyle, jsonApi: boolean, jsonMode = false): Answer {
  if (jsonApi) return { status: 401, body: '{"type":"UNAUTHORIZED"}', type: 'application/json' };
  switch (style) {
    case 'not-logged-in':
      if (jsonMode) return { status: 200, body: '{"error":"Not logged in"}', type: 'application/json' };
      return { status: 200, body: LOGIN_PAGE, type: 'text/html; charset=utf-8', headers: { 'X-DirectAdmin': 'unauthorized' } };
    case 'evolution-page':
      return { status: 200, body: EVOLUTION_PAGE, type: 'text/html; charset=utf-8', headers: { 'X-DirectAdmin': 'unauthorized' } };
    case '401':
      return { status: 401, body: 'Unauthorized\n', type: 'text/plain', headers: { 'WWW-Authenticate': 'Basic realm="DirectAdmin"' } };
    case '401-json':
      return { status: 401, body: '{"type":"UNAUTHORIZED"}', type: 'application/json' };
    default:
      return { status: 200, body: LOGIN_PAGE, type: 'text/html; charset=utf-8', headers: { 'X-DirectAdmin': 'unauthorized' } };
  }
}

/** command.txt: what a login may not use. */
export const NOT_ALLOWED_TEXT = 'You cannot execute that command';

/** A valid login key that does not allow the command (keyRefusal '403' or 'refusal'): not a failed login. */
export function keyDeniedAnswer(style: KeyRefusalStyle, jsonApi: boolean, jsonMode: boolean, format: FormatOptions): Answer {
  if (jsonApi) return { status: 403, body: '{"type":"ACCESS_DENIED"}', type: 'application/json' };
  const body = actionBody(jsonMode, false, NOT_ALLOWED_TEXT, '', format);
  return { status: style === '403' ? 403 : 200, body, type: jsonMode ? 'application/json' : 'text/plain; charset=utf-8' };
}

/** A DirectAdmin without the JSON API, asked for /api/...: an HTML 404, its login page, or a 200 page (noJsonApiAnswer). */
export function noJsonApiAnswer(style: 'not-found' | 'login-page' | 'page'): Answer {
  if (style === 'login-page') return { status: 200, body: EVOLUTION_PAGE, type: 'text/html; charset=utf-8' };
  if (style === 'page') return { status: 200, body: HTML_AFTER_APPLY, type: 'text/html; charset=utf-8' };
  return notFound();
}
