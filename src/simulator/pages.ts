/** The HTML pages and fixed answers the simulator sends (DirectAdmin look-alikes). */
import type { AuthFailureStyle } from './types.js';

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

export function authFailureAnswer(style: AuthFailureStyle, jsonApi: boolean): Answer {
  if (jsonApi) return { status: 401, body: '{"type":"UNAUTHORIZED"}', type: 'application/json' };
  switch (style) {
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
