/**
 * Every sentence the protocol seam says, kept apart from the logic that decides to say it. Each
 * names where (host:port) and what to check; none may carry a secret (only command names, hosts,
 * codes and DirectAdmin's own refusal texts go in).
 */
import { unbracket } from './url.js';

const at = (endpoint: string | undefined): string => (endpoint ? ` at ${endpoint}` : '');
const secs = (ms: number): string => (ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`);

/** DirectAdmin's brute-force monitor, said once the same way everywhere. */
const BRUTE_FORCE =
  "DirectAdmin's brute-force monitor counts every failed login and blacklists the IP after a few " + '(about 10 by default; the server sets the number)';

const EVIDENCE_WORDS: Record<string, string> = {
  'http-401': 'it answered HTTP 401 Unauthorized',
  'x-directadmin-header': 'it answered with its login page, marked unauthorized',
  'login-page': 'it answered with its login page',
  'json-unauthorized': 'it answered that the request is unauthorized',
  'not-logged-in': 'it answered "Not logged in"',
};

const DENIAL_WORDS: Record<string, string> = {
  'http-403': 'HTTP 403 Forbidden',
  'access-denied': 'ACCESS_DENIED',
  'legacy-refusal': '"You cannot execute that command"',
};

/**
 * What each transport code means, and what to check. (http:// to a TLS port and https:// to a
 * plain port are recognised before this and get their own errors.)
 */
function transportWhy(code: string, endpoint: string | undefined, timeoutMs: number | undefined): string {
  const w = at(endpoint);
  const host = endpoint === undefined ? undefined : unbracket(endpoint.replace(/:\d+$/, ''));
  const limit = timeoutMs !== undefined ? ` of ${secs(timeoutMs)}` : '';
  switch (code) {
    case 'DEADLINE_EXCEEDED':
      return `no complete answer from the server${w} within the request deadline${limit} (--timeout): the server or a proxy in front of it is stalled or very slow`;
    case 'ABANDONED':
      return `abandoned because the run is stopping; the request to the server${w} may or may not have been applied`;
    case 'ECONNREFUSED':
      return `connection refused${w}: is DirectAdmin running, is the port right (DirectAdmin listens on 2222), does a firewall reject it?`;
    case 'ENOTFOUND':
      return `the host name ${host ?? ''} does not resolve (ENOTFOUND): check the host in the server URL`;
    case 'EAI_AGAIN':
      return `the host name ${host ?? ''} could not be resolved right now (EAI_AGAIN): check DNS on this machine`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `no route to the server${w} (${code}): check the address and this machine's network`;
    case 'EADDRNOTAVAIL':
      return `cannot connect to the server${w} (${code}): check the address`;
    case 'UND_ERR_CONNECT_TIMEOUT':
      return `no connection to the server${w} within the connect timeout${limit}: is the host up, and does a firewall let this machine reach the port?`;
    case 'UND_ERR_HEADERS_TIMEOUT':
      return `the server${w} sent no answer within${limit || ' the timeout'} (--timeout)`;
    case 'UND_ERR_BODY_TIMEOUT':
      return `the server${w} stopped sending its answer for${limit || ' the timeout'} (--timeout)`;
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
    case 'EPIPE':
      return `the connection to the server${w} was closed before a complete answer (${code}): the server or a proxy in front of it dropped it`;
    default:
      if (code.startsWith('HPE_')) {
        return `the server${w} answered something that is not HTTP (${code}): check that the port is DirectAdmin's (2222 by default)`;
      }
      return `connection problem with the server${w} (${code})`;
  }
}

export const say = {
  authenticationFailed: (command: string, evidence: string, endpoint: string | undefined) =>
    `authentication failed on ${command}${at(endpoint)}: DirectAdmin refused the user name and password or login key ` +
    `(${EVIDENCE_WORDS[evidence] ?? evidence}). Check the user and the secret, and that a login key allows this command ` +
    `and this IP` +
    // DirectAdmin answers a command a key does not allow with its login page: after a login that worked, that is the likely cause.
    (/LOGIN_TEST/.test(command)
      ? ''
      : ` (a login key that passed earlier commands does not allow ${command}: \`da-rotate key-scope\` prints the allow-list a run needs)`) +
    `. Nothing more is sent to this server: ${BRUTE_FORCE}, so never retry a wrong secret in a loop`,

  blacklisted: (command: string, endpoint: string | undefined) =>
    `DirectAdmin${at(endpoint)} says this IP is blacklisted (answer to ${command}): ${BRUTE_FORCE}, and it has. ` +
    `Nothing more is sent. An admin clears it on the server in Admin Level -> Brute Force Monitor (remove this IP ` +
    `from the blacklist); fix the user or secret first, since each failed try counts again`,

  needsHttps: (command: string, evidence: 'use-https' | 'tls-port', endpoint: string | undefined) =>
    evidence === 'tls-port'
      ? `this server needs https:// (${command}): the server answers TLS on ${endpoint ?? 'that port'}, not plain HTTP: use https://${endpoint ?? 'HOST:2222'}`
      : `this server needs https:// (it answered ${command}${at(endpoint)} over plain HTTP with "use https"): use https://${endpoint ?? 'HOST:2222'}`,

  redirect: (command: string, status: number, location: string, endpoint: string | undefined) =>
    `the server${at(endpoint)} redirected ${command} (HTTP ${status}) to ${location || '(no location)'}; redirects are never followed: point --server at the right URL`,

  tls: (command: string, reason: string, fingerprint: string | undefined, endpoint: string | undefined) => {
    if (/WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|HTTP_REQUEST|UNKNOWN_PROTOCOL|^EPROTO$/i.test(reason)) {
      return (
        `TLS handshake failed${at(endpoint)} (${reason}) on ${command}: the server speaks plain HTTP on that port, not TLS: ` +
        `use http:// (loopback only) or fix the port`
      );
    }
    return (
      `TLS verification failed${at(endpoint)} (${reason}) on ${command}` +
      (fingerprint
        ? `; the server's certificate has SHA-256 fingerprint ${fingerprint}. ` +
          `Check it out of band (on the server: openssl x509 -noout -fingerprint -sha256 -in /usr/local/directadmin/conf/cacert.pem), ` +
          `then pass --fingerprint ${fingerprint}, or --ca FILE to trust its CA`
        : ': check the server certificate, --ca or --fingerprint')
    );
  },

  commandFailed: (command: string, text: string, details: string, endpoint: string | undefined) =>
    `${command} failed${at(endpoint)}: ${[text, details].filter(Boolean).join(': ') || 'no reason given'}`,

  permissionDenied: (command: string, missing: string, evidence: string, endpoint: string | undefined) =>
    `${command} is not allowed for this login${at(endpoint)} (${DENIAL_WORDS[evidence] ?? evidence}): ` +
    `its login key does not allow ${missing}, or the account may not use it (its type, or acting through login-as). ` +
    `Add the line \`${missing}\` to the key's allowed commands ` +
    `(\`da-rotate key-scope\` prints the whole list; \`key-scope --check\` asks the server); ` +
    `no other request of this kind is sent (this is not a failed login)`,

  unexpectedAnswer: (command: string, status: number, reason: string, endpoint: string | undefined) =>
    `unexpected answer to ${command}${at(endpoint)} (HTTP ${status}): ${reason}`,

  transport: (command: string, code: string, endpoint: string | undefined, timeoutMs: number | undefined) =>
    `transport error on ${command}: ${transportWhy(code, endpoint, timeoutMs)}`,

  noJsonApi: (how: string) =>
    `not supported by this server: it has no JSON API (/api/ ${how}; DirectAdmin added it in 1.6x). ` +
    `If it does have one, its login key does not allow this feature`,
};
