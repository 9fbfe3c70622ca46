/**
 * The error taxonomy of the protocol seam. Every failure a DirectAdmin call can end in is one of
 * these classes, and each says what a caller may do next:
 *
 * - `code`: a stable string a caller (or a scheduler reading `--json`) can branch on; it never
 *   changes with the wording of the message.
 * - `fatal`: stop all work against this server now (credentials, blacklist, TLS, wrong scheme,
 *   redirects). Retrying these makes DirectAdmin's brute-force counter worse or hides an attack.
 * - `retryable`: the same request may be sent again (after backoff).
 * - `mayHaveWritten`: for a write, the server may have applied it; the outcome is unknown and must
 *   be settled by reading (CMD_API_VERIFY_PASSWORD) or resending the same secret, never guessed.
 *
 * Messages never carry a secret: they are built only from command names, hosts, status codes,
 * header names and DirectAdmin's own `text`/`details` (which the caller redacts again anyway).
 * The sentences themselves live in messages.ts.
 */
import { say } from './messages.js';

export type DirectAdminErrorKind = 'authentication' | 'blacklisted' | 'needs-https' | 'redirect' | 'tls' | 'command' | 'unexpected-answer' | 'transport';

/** Stable codes, one per class. */
export type DirectAdminErrorCode =
  | 'DA_AUTH_FAILED'
  | 'DA_BLACKLISTED'
  | 'DA_NEEDS_HTTPS'
  | 'DA_REDIRECT'
  | 'DA_TLS'
  | 'DA_COMMAND_FAILED'
  | 'DA_PERMISSION_DENIED'
  | 'DA_UNEXPECTED_ANSWER'
  | 'DA_TRANSPORT';

export interface ErrorContext {
  /** host:port of the server (IPv6 in brackets), named in the message when known. */
  endpoint?: string;
  cause?: unknown;
}

export abstract class DirectAdminError extends Error {
  abstract readonly kind: DirectAdminErrorKind;
  abstract readonly code: DirectAdminErrorCode;
  /** Stop every request to this server; never retry. */
  abstract readonly fatal: boolean;
  /** Sending the same request again is safe and may succeed. */
  abstract readonly retryable: boolean;
  /** A write may have been applied although no success was seen. */
  abstract readonly mayHaveWritten: boolean;
  /** The DirectAdmin command the failure belongs to, e.g. CMD_API_USER_PASSWD or `DELETE /api/login-keys/keys/{id}`. */
  readonly command: string;
  /** host:port of the server, when the error came from a request. */
  readonly endpoint: string | undefined;

  constructor(command: string, message: string, context?: ErrorContext) {
    super(message, context?.cause === undefined ? undefined : { cause: context.cause });
    this.name = new.target.name;
    this.command = command;
    this.endpoint = context?.endpoint;
  }
}

/** Wrong username/secret, a login key that does not allow this command or IP, or an expired key. */
export class AuthenticationFailed extends DirectAdminError {
  readonly kind = 'authentication' as const;
  readonly code = 'DA_AUTH_FAILED' as const;
  readonly fatal = true;
  readonly retryable = false;
  readonly mayHaveWritten = false;
  constructor(
    command: string,
    /** How it was recognised: 'http-401', 'x-directadmin-header', 'login-page', 'json-unauthorized'. */
    readonly evidence: string,
    context?: ErrorContext,
  ) {
    super(command, say.authenticationFailed(command, evidence, context?.endpoint), context);
  }
}

export class IpBlacklisted extends DirectAdminError {
  readonly kind = 'blacklisted' as const;
  readonly code = 'DA_BLACKLISTED' as const;
  readonly fatal = true;
  readonly retryable = false;
  readonly mayHaveWritten = false;
  constructor(command: string, context?: ErrorContext) {
    super(command, say.blacklisted(command, context?.endpoint), context);
  }
}

export class NeedsHttps extends DirectAdminError {
  readonly kind = 'needs-https' as const;
  readonly code = 'DA_NEEDS_HTTPS' as const;
  readonly fatal = true;
  readonly retryable = false;
  readonly mayHaveWritten = false;
  constructor(
    command: string,
    context?: ErrorContext & {
      /** 'use-https' (DirectAdmin said so over HTTP) or 'tls-port' (the port answered a TLS handshake). */
      evidence?: 'use-https' | 'tls-port';
    },
  ) {
    super(command, say.needsHttps(command, context?.evidence ?? 'use-https', context?.endpoint), context);
    this.evidence = context?.evidence ?? 'use-https';
  }
  readonly evidence: 'use-https' | 'tls-port';
}

export class RedirectRefused extends DirectAdminError {
  readonly kind = 'redirect' as const;
  readonly code = 'DA_REDIRECT' as const;
  readonly fatal = true;
  readonly retryable = false;
  readonly mayHaveWritten = false;
  constructor(
    command: string,
    readonly status: number,
    /** Scheme, host and path only: a Location's query string is dropped in case it carries a secret. */
    readonly location: string,
    context?: ErrorContext,
  ) {
    super(command, say.redirect(command, status, location, context?.endpoint), context);
  }
}

export class TlsFailure extends DirectAdminError {
  readonly kind = 'tls' as const;
  readonly code = 'DA_TLS' as const;
  readonly fatal = true;
  readonly retryable = false;
  readonly mayHaveWritten = false;
  constructor(
    command: string,
    /** Node's verification or OpenSSL code, e.g. DEPTH_ZERO_SELF_SIGNED_CERT, FINGERPRINT_MISMATCH, ERR_SSL_WRONG_VERSION_NUMBER. */
    readonly reason: string,
    /** SHA-256 fingerprint of the certificate the server presented (AA:BB:...), when one was seen. */
    readonly fingerprint: string | undefined,
    context?: ErrorContext,
  ) {
    super(command, say.tls(command, reason, fingerprint, context?.endpoint), context);
  }
}

/**
 * DirectAdmin understood the request and refused it (`error=1`, or a JSON API error object).
 * Nothing was written.
 */
export class CommandFailed extends DirectAdminError {
  readonly kind = 'command' as const;
  readonly code: 'DA_COMMAND_FAILED' | 'DA_PERMISSION_DENIED' = 'DA_COMMAND_FAILED';
  readonly fatal = false;
  readonly retryable = false;
  readonly mayHaveWritten = false;
  /**
   * The JSON API's error `type` (NOT_FOUND, ACCESS_DENIED, WEAK_PASSWORD, PRE_HOOK_ERROR,
   * LOGIN_KEY_READ_ONLY, ...), or 'NO_JSON_API' when the server has no /api/ at all (fall back to
   * the legacy command). Undefined for legacy CMD_API_* refusals.
   */
  readonly apiType: string | undefined;
  constructor(
    command: string,
    readonly text: string,
    readonly details: string,
    context?: ErrorContext & { apiType?: string },
  ) {
    super(command, say.commandFailed(command, text, details, context?.endpoint), context);
    this.apiType = context?.apiType;
  }
}

/**
 * The login may not use this command: HTTP 403 (a login key that does not allow a JSON API
 * feature, `{"type":"ACCESS_DENIED"}`), or the legacy refusal "You cannot execute that command".
 * Not a failed login and not fatal for the server: it will repeat for every request of the same
 * command, so the caller stops that command's kind at once and names `missing` (what a key's
 * allow-list must hold: a legacy command, or a JSON API feature such as `db-manage`).
 */
export class PermissionDenied extends CommandFailed {
  override readonly code = 'DA_PERMISSION_DENIED' as const;
  /** The allow-list entry that would let this request through: CMD_API_POP, sessions, db-manage, login-keys... */
  readonly missing: string;
  constructor(
    command: string,
    text: string,
    details: string,
    /** How it was recognised: 'http-403', 'access-denied', 'legacy-refusal'. */
    readonly evidence: string,
    context?: ErrorContext & { apiType?: string },
  ) {
    super(command, text, details, context);
    this.missing = allowListName(command);
    this.message = say.permissionDenied(command, this.missing, evidence, context?.endpoint);
  }
}

/** The name a login key's allow-list uses for a request label: the legacy command, or the JSON API feature (`GET /api/db-show/users` -> `db-show`). */
export function allowListName(label: string): string {
  const m = /\/api\/([^/?\s]+)/.exec(label);
  return m ? m[1]! : label;
}

/** The legacy refusal of a command this login may not use (DirectAdmin's command.txt). */
export const NOT_ALLOWED_TEXT = /you cannot execute that command/i;

/**
 * The answer is not a DirectAdmin API answer: HTML, empty, truncated, garbled, too large, or an
 * HTTP 5xx from DirectAdmin or a proxy. For a write the outcome is unknown.
 */
export class UnexpectedAnswer extends DirectAdminError {
  readonly kind = 'unexpected-answer' as const;
  readonly code = 'DA_UNEXPECTED_ANSWER' as const;
  readonly fatal = false;
  readonly mayHaveWritten = true;
  readonly retryable: boolean;
  /** The JSON API's error `type` when the answer carried one (e.g. INTERNAL_ERROR). */
  readonly apiType: string | undefined;
  constructor(
    command: string,
    readonly status: number,
    readonly reason: string,
    context?: ErrorContext & { apiType?: string; tooLarge?: boolean },
  ) {
    super(command, say.unexpectedAnswer(command, status, reason, context?.endpoint), context);
    // A 5xx is a server-side hiccup worth another try. A 2xx with garbage (DirectAdmin's known empty
    // answer to a change that applied) may be sent again too: every request this tool sends is a read
    // or an idempotent write, so resending is how an unknown outcome is settled where no read proves it.
    // A 4xx is not sent again: something in front of the server refused it.
    // An answer over the size cap would be as large again: never downloaded twice.
    this.retryable = !context?.tooLarge && (status >= 500 || (status >= 200 && status < 300) || context?.apiType === 'INTERNAL_ERROR');
    this.apiType = context?.apiType;
  }
}

/** The connection failed: refused, reset, timed out, closed mid-answer, past its deadline, abandoned. */
export class TransportError extends DirectAdminError {
  readonly kind = 'transport' as const;
  readonly code = 'DA_TRANSPORT' as const;
  readonly fatal = false;
  readonly mayHaveWritten: boolean;
  /** false only for ABANDONED: the run is stopping and wants nothing more sent. */
  readonly retryable: boolean;
  constructor(
    command: string,
    /**
     * Node/undici code (ECONNRESET, ECONNREFUSED, ENOTFOUND, UND_ERR_SOCKET, UND_ERR_CONNECT_TIMEOUT,
     * HPE_...), or this client's own: DEADLINE_EXCEEDED (the whole-request deadline passed),
     * ABANDONED (ClientOptions.signal aborted), UNKNOWN.
     */
    readonly transportCode: string,
    /** false when the request provably never reached the server (connection refused, still queued). */
    requestMayHaveBeenSent: boolean,
    context?: ErrorContext & {
      /** The deadline that passed, in ms (DEADLINE_EXCEEDED and the inactivity timeouts). */
      timeoutMs?: number;
    },
  ) {
    super(command, say.transport(command, transportCode, context?.endpoint, context?.timeoutMs), context);
    this.mayHaveWritten = requestMayHaveBeenSent;
    this.retryable = transportCode !== 'ABANDONED';
  }
}

export function isDirectAdminError(e: unknown): e is DirectAdminError {
  return e instanceof DirectAdminError;
}

/**
 * "User password changed, however the account is still suspended" (user.txt): whether it comes as
 * a success or with error=1 is not on record. As an error it still says the change was applied,
 * so the caller must settle it (a proving read, or "isn't different" on a resend), never call it failed.
 */
export function saysAppliedAnyway(e: DirectAdminError): boolean {
  return e instanceof CommandFailed && /password changed,? however the account is still suspended/i.test(`${e.text} ${e.details}`);
}
