import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import {
  TlsFailure,
  TransportError,
  UnexpectedAnswer,
  isDirectAdminError,
  type DirectAdminError,
} from './errors.js';
import { classifyHttp, parseAction, parseFlag, parseKeyValues, parseList, type ActionResult } from './parse.js';
import { TlsVerificationError, tlsConnector, type TlsOptions } from './tls.js';
import { isLoopbackHost } from './url.js';

export type { ActionResult } from './parse.js';
export type { TlsOptions } from './tls.js';

export interface RequestEvent {
  command: string;
  method: 'GET' | 'POST';
  /** Wall time from dispatch to a parsed answer or error, in ms. */
  durationMs: number;
  /** HTTP status, 0 when there was no answer. */
  status: number;
  error?: DirectAdminError;
}

export interface ClientOptions {
  /** scheme://host[:port][/prefix] without credentials. */
  baseUrl: string;
  /** Account to authenticate as; may be login-as form "admin|fred". */
  username: string;
  /** Password or login key. Never logged, never put in a URL. */
  secret: string;
  tls?: TlsOptions;
  /** Permit http:// to a non-loopback host. */
  allowHttp?: boolean;
  /** Per request: connect, headers and body timeouts (default 30000). */
  timeoutMs?: number;
  /** Keep-alive connections in the pool (default 8). */
  connections?: number;
  /** Answer format requested (default 'json': sends json=yes). */
  format?: 'json' | 'urlencoded';
  /** Refuse answers larger than this without buffering them whole (default 64 MiB). */
  maxBodyBytes?: number;
  /** Observability hook, called once per request actually sent. */
  onRequest?: (event: RequestEvent) => void;
}

type Params = Record<string, string>;

/** Codes that prove the request never left this machine. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT', 'EADDRNOTAVAIL']);

/** The protocol seam: one keep-alive pool per server, typed commands, answers mapped to the taxonomy. */
export class DirectAdminClient {
  readonly host: string;
  /** scheme://host:port of the server, the identity reports and journals record. */
  readonly origin: string;
  /** The first fatal error seen; once set, every call rejects with it without sending anything. */
  fatalError: DirectAdminError | undefined;

  readonly #pool: Pool;
  readonly #prefix: string;
  readonly #authorization: string;
  readonly #format: 'json' | 'urlencoded';
  readonly #maxBodyBytes: number;
  readonly #onRequest: ((e: RequestEvent) => void) | undefined;

  constructor(options: ClientOptions) {
    const url = new URL(options.baseUrl);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('the server URL must use https:// or http://');
    if (url.username || url.password) throw new Error('the base URL must not carry credentials');
    this.host = url.hostname.replace(/^\[|\]$/g, '');
    if (url.protocol === 'http:' && !isLoopbackHost(this.host) && !options.allowHttp) {
      throw new Error(`plain http:// to ${this.host} would send credentials in clear: use https://, or --allow-http if you really mean it`);
    }
    this.origin = url.origin;
    this.#prefix = url.pathname.replace(/\/+$/, '');
    if (/[\r\n]/.test(options.username) || options.username.includes(':')) throw new Error('the user name must not contain ":" or line breaks');
    this.#authorization = 'Basic ' + Buffer.from(`${options.username}:${options.secret}`, 'utf8').toString('base64');
    this.#format = options.format ?? 'json';
    this.#maxBodyBytes = options.maxBodyBytes ?? 64 * 1024 * 1024;
    this.#onRequest = options.onRequest;
    const timeout = options.timeoutMs ?? 30_000;
    this.#pool = new Pool(this.origin, {
      connections: Math.max(1, options.connections ?? 8),
      pipelining: 1,
      connectTimeout: timeout,
      headersTimeout: timeout,
      bodyTimeout: timeout,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 600_000,
      connect: url.protocol === 'https:' ? tlsConnector(options.tls ?? {}, timeout) : { timeout },
    });
  }

  async loginTest(): Promise<ActionResult> {
    const body = await this.#call('CMD_API_LOGIN_TEST', 'GET', {});
    const result = parseAction('CMD_API_LOGIN_TEST', 200, body);
    if (!/login ok/i.test(result.text)) throw new UnexpectedAnswer('CMD_API_LOGIN_TEST', 200, 'the answer is not "Login OK"');
    return result;
  }

  async showUsers(reseller?: string): Promise<string[]> {
    const body = await this.#call('CMD_API_SHOW_USERS', 'GET', reseller === undefined ? {} : { reseller });
    return parseList('CMD_API_SHOW_USERS', 200, body);
  }

  async showAllUsers(): Promise<string[]> {
    return parseList('CMD_API_SHOW_ALL_USERS', 200, await this.#call('CMD_API_SHOW_ALL_USERS', 'GET', {}));
  }

  async showResellers(): Promise<string[]> {
    return parseList('CMD_API_SHOW_RESELLERS', 200, await this.#call('CMD_API_SHOW_RESELLERS', 'GET', {}));
  }

  async showAdmins(): Promise<string[]> {
    return parseList('CMD_API_SHOW_ADMINS', 200, await this.#call('CMD_API_SHOW_ADMINS', 'GET', {}));
  }

  async showUserConfig(user: string): Promise<Record<string, string>> {
    return parseKeyValues('CMD_API_SHOW_USER_CONFIG', 200, await this.#call('CMD_API_SHOW_USER_CONFIG', 'GET', { user }));
  }

  async userExists(user: string): Promise<boolean> {
    return parseFlag('CMD_API_USER_EXISTS', 200, await this.#call('CMD_API_USER_EXISTS', 'GET', { user }), 'exists');
  }

  /** POST so the password travels in the body, never in a URL or an access log. */
  async verifyPassword(user: string, passwd: string): Promise<boolean> {
    return parseFlag('CMD_API_VERIFY_PASSWORD', 200, await this.#call('CMD_API_VERIFY_PASSWORD', 'POST', { user, passwd }), 'valid');
  }

  async changePassword(user: string, passwd: string): Promise<ActionResult> {
    const body = await this.#call('CMD_API_USER_PASSWD', 'POST', { username: user, passwd, passwd2: passwd });
    return parseAction('CMD_API_USER_PASSWD', 200, body);
  }

  async close(): Promise<void> {
    await this.#pool.close().catch(() => this.#pool.destroy());
  }

  /** Sends one request and returns the body of a 2xx answer that passed the HTTP-level checks. */
  async #call(command: string, method: 'GET' | 'POST', params: Params): Promise<string> {
    if (this.fatalError) throw this.fatalError;
    const started = performance.now();
    let status = 0;
    try {
      const form = new URLSearchParams(params);
      if (this.#format === 'json') form.set('json', 'yes');
      const encoded = form.toString();
      const path = method === 'GET' && encoded ? `${this.#prefix}/${command}?${encoded}` : `${this.#prefix}/${command}`;
      const headers: Record<string, string> = { authorization: this.#authorization, accept: '*/*' };
      if (method === 'POST') headers['content-type'] = 'application/x-www-form-urlencoded';
      let res;
      try {
        res = await this.#pool.request({ path, method, headers, body: method === 'POST' ? encoded : undefined });
      } catch (e) {
        throw this.#transportError(command, e);
      }
      status = res.statusCode;
      let body: string;
      try {
        // A declared length within the cap is read in one go; anything else streams against the cap.
        const declared = Number(res.headers['content-length'] ?? NaN);
        body = declared <= this.#maxBodyBytes ? await res.body.text() : await readCapped(res.body, this.#maxBodyBytes);
      } catch (e) {
        if (e instanceof BodyTooLarge) throw new UnexpectedAnswer(command, status, `answer larger than ${this.#maxBodyBytes} bytes`);
        throw this.#transportError(command, e);
      }
      const verdict = classifyHttp(command, { status, headers: res.headers, body });
      if (verdict) throw verdict;
      this.#onRequest?.({ command, method, durationMs: performance.now() - started, status });
      return body;
    } catch (e) {
      const error = isDirectAdminError(e) ? e : new TransportError(command, 'UNKNOWN', true, { cause: e });
      if (error.fatal && !this.fatalError) this.fatalError = error;
      this.#onRequest?.({ command, method, durationMs: performance.now() - started, status, error });
      throw error;
    }
  }

  #transportError(command: string, e: unknown): DirectAdminError {
    if (e instanceof TlsVerificationError) return new TlsFailure(command, e.reason, e.fingerprint);
    const err = e as NodeJS.ErrnoException & { cause?: unknown };
    if (err?.cause instanceof TlsVerificationError) return new TlsFailure(command, err.cause.reason, err.cause.fingerprint);
    const code = err?.code ?? 'UNKNOWN';
    if (code.startsWith('ERR_SSL_') || code === 'EPROTO' || code.startsWith('ERR_TLS_')) return new TlsFailure(command, code, undefined);
    return new TransportError(command, code, !NOT_SENT.has(code), { cause: e });
  }
}

class BodyTooLarge extends Error {}

/** Reads a body up to a cap; past it the stream is destroyed instead of being buffered whole. */
async function readCapped(body: AsyncIterable<Buffer> & { destroy(err?: Error): unknown }, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > max) {
      body.destroy();
      throw new BodyTooLarge();
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}
