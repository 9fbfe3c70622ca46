/**
 * The error taxonomy of the protocol seam. Every failure a DirectAdmin call can end in is one of
 * these classes, and each says what a caller may do next:
 *
 * - `fatal`: stop all work against this server now (credentials, blacklist, TLS, wrong scheme,
 *   redirects). Retrying these makes DirectAdmin's brute-force counter worse or hides an attack.
 * - `retryable`: the same request may be sent again (after backoff).
 * - `mayHaveWritten`: for a write, the server may have applied it; the outcome is unknown and must
 *   be settled by reading (CMD_API_VERIFY_PASSWORD), never guessed.
 *
 * Messages never carry a secret: they are built only from command names, hosts, status codes,
 * header names and DirectAdmin's own `text`/`details` (which the caller redacts again anyway).
 */

export type DirectAdminErrorKind =
  | 'authentication'
  | 'blacklisted'
  | 'needs-https'
  | 'redirect'
  | 'tls'
  | 'command'
  | 'unexpected-answer'
  | 'transport';

export abstract class DirectAdminError extends Error {
  abstract readonly kind: DirectAdminErrorKind;
  /** Stop every request to this server; never retry. */
  abstract readonly fatal: boolean;
  /** Sending the same request again is safe and may succeed. */
  abstract readonly retryable: boolean;
  /** A write may have been applied although no success was seen. */
  abstract readonly mayHaveWritten: boolean;
  /** The DirectAdmin command the failure belongs to, e.g. CMD_API_USER_PASSWD. */
  readonly command: string;

  constructor(command: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.command = command;
  }
}

/** Wrong username/secret, a login key that does not allow this command or IP, or an expired key. */
export class AuthenticationFailed extends DirectAdminError {
  readonly kind = 'authentication' as const;
  readonly fatal = true;
  readonly retryable = false;
  readonly mayHaveWritten = false;
  constructor(
    command: string,
    /** How it was recognised: 'http-401', 'x-directadmin-header', 'login-page'. */
    readonly evidence: string,
  ) {
    super(
      command,
      `authentication failed on ${command} (${evidence}): check the user and the password or login key, ` +
        `and that the key allows this command and this IP`,
    );
  }
}

export class IpBlacklisted extends DirectAdminError {
  readonly kind = 'blacklisted' as const;
  readonly fatal = true;
  readonly retryable = false;
  readonly mayHaveWritten = false;
  constructor(command: string) {
    super(
      command,
      `DirectAdmin says this IP is blacklisted (${command}): too many failed logins; ` +
        `remove it from the blacklist on the server before trying again`,
    );
  }
}

export class NeedsHttps extends DirectAdminError {
  readonly kind = 'needs-https' as const;
  readonly fatal = true;
  readonly retryable = false;
  readonly mayHaveWritten = false;
  constructor(command: string) {
    super(command, `this server needs https:// (it answered ${command} over plain HTTP with "use https")`);
  }
}

export class RedirectRefused extends DirectAdminError {
  readonly kind = 'redirect' as const;
  readonly fatal = true;
  readonly retryable = false;
  readonly mayHaveWritten = false;
  constructor(
    command: string,
    readonly status: number,
    /** Scheme, host and path only: a Location's query string is dropped in case it carries a secret. */
    readonly location: string,
  ) {
    super(command, `the server redirected ${command} (HTTP ${status}) to ${location || '(no location)'}; redirects are never followed: point --server at the right URL`);
  }
}

export class TlsFailure extends DirectAdminError {
  readonly kind = 'tls' as const;
  readonly fatal = true;
  readonly retryable = false;
  readonly mayHaveWritten = false;
  constructor(
    command: string,
    /** Node's verification error code, e.g. DEPTH_ZERO_SELF_SIGNED_CERT, or FINGERPRINT_MISMATCH. */
    readonly reason: string,
    /** SHA-256 fingerprint of the certificate the server presented (AA:BB:...), when one was seen. */
    readonly fingerprint: string | undefined,
  ) {
    super(
      command,
      `TLS verification failed (${reason})` +
        (fingerprint
          ? `; the server's certificate has SHA-256 fingerprint ${fingerprint}. ` +
            `Check it out of band (on the server: openssl x509 -noout -fingerprint -sha256 -in /usr/local/directadmin/conf/cacert.pem), ` +
            `then pass --fingerprint ${fingerprint}, or --ca FILE to trust its CA`
          : ''),
    );
  }
}

/** DirectAdmin understood the request and refused it (`error=1`). Nothing was written. */
export class CommandFailed extends DirectAdminError {
  readonly kind = 'command' as const;
  readonly fatal = false;
  readonly retryable = false;
  readonly mayHaveWritten = false;
  constructor(
    command: string,
    readonly text: string,
    readonly details: string,
  ) {
    super(command, `${command} failed: ${[text, details].filter(Boolean).join(': ') || 'no reason given'}`);
  }
}

/**
 * The answer is not a DirectAdmin API answer: HTML, empty, truncated, garbled, too large, or an
 * HTTP 5xx from DirectAdmin or a proxy. For a write the outcome is unknown.
 */
export class UnexpectedAnswer extends DirectAdminError {
  readonly kind = 'unexpected-answer' as const;
  readonly fatal = false;
  readonly mayHaveWritten = true;
  readonly retryable: boolean;
  constructor(
    command: string,
    readonly status: number,
    readonly reason: string,
  ) {
    super(command, `unexpected answer to ${command} (HTTP ${status}): ${reason}`);
    // A 5xx is a server-side hiccup worth another try; a 2xx with garbage is settled by verification.
    this.retryable = status >= 500;
  }
}

/** The connection failed: refused, reset, timed out, closed mid-answer. */
export class TransportError extends DirectAdminError {
  readonly kind = 'transport' as const;
  readonly fatal = false;
  readonly retryable = true;
  readonly mayHaveWritten: boolean;
  constructor(
    command: string,
    /** Node/undici error code, e.g. ECONNRESET, UND_ERR_HEADERS_TIMEOUT. */
    readonly code: string,
    /** false when the request provably never reached the server (connection refused, connect timeout). */
    requestMayHaveBeenSent: boolean,
    options?: { cause?: unknown },
  ) {
    super(command, `transport error on ${command}: ${code}`, options);
    this.mayHaveWritten = requestMayHaveBeenSent;
  }
}

export function isDirectAdminError(e: unknown): e is DirectAdminError {
  return e instanceof DirectAdminError;
}
