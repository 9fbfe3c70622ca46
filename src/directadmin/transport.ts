/**
 * One server's HTTP transport: the keep-alive pool, the whole-request deadline, the run's abort
 * signal, the circuit breaker (first fatal error) and the request hook. A client and every
 * login-as context made from it share one Transport.
 */
import { connect as tlsConnect } from 'node:tls';
import { performance } from 'node:perf_hooks';
import { Pool, type Dispatcher } from 'undici';
import { NeedsHttps, TlsFailure, TransportError, UnexpectedAnswer, isDirectAdminError, type DirectAdminError } from './errors.js';
import type { RawAnswer } from './parse.js';
import { TlsVerificationError, tlsConnector, type TlsOptions } from './tls.js';
import { unbracket } from './url.js';

export interface RequestEvent {
  /** CMD_API_... or, for the JSON API, "METHOD /api/path/{param}" (a template: no ids, no secrets). */
  command: string;
  method: 'GET' | 'POST' | 'DELETE';
  /** Wall time from dispatch to a parsed answer or error, in ms. */
  durationMs: number;
  /** HTTP status, 0 when there was no answer. */
  status: number;
  error?: DirectAdminError;
}

export interface TransportOptions {
  tls?: TlsOptions | undefined;
  timeoutMs?: number | undefined;
  connections?: number | undefined;
  maxBodyBytes?: number | undefined;
  onRequest?: ((event: RequestEvent) => void) | undefined;
  signal?: AbortSignal | undefined;
}

export interface OutgoingRequest {
  /** Names the request in events and errors; never holds a secret. */
  label: string;
  method: 'GET' | 'POST' | 'DELETE';
  /** Path and query, prefix included. */
  path: string;
  headers: Record<string, string>;
  body?: string | undefined;
}

/** Codes that prove the request never left this machine. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT', 'EADDRNOTAVAIL']);
/** Codes after which, on http://, a TLS handshake probe tells whether the port wants https://. */
const MAYBE_TLS_PORT = /^(UND_ERR_SOCKET|ECONNRESET|EPIPE|HPE_.*)$/;

export class Transport {
  readonly host: string;
  readonly port: number;
  /** host:port, IPv6 in brackets: what messages name. */
  readonly endpoint: string;
  readonly origin: string;
  readonly prefix: string;
  readonly timeoutMs: number;
  readonly signal: AbortSignal | undefined;
  /** The first fatal error seen; once set, every call rejects with it without sending anything. */
  fatalError: DirectAdminError | undefined;

  readonly #pool: Pool;
  readonly #dispatcher: Dispatcher;
  readonly #isHttps: boolean;
  readonly #maxBodyBytes: number;
  readonly #onRequest: ((e: RequestEvent) => void) | undefined;
  readonly #sentMarks = new WeakMap<object, (stage: 'dispatched' | 'sent') => void>();
  #tlsPort: Promise<boolean> | undefined;

  constructor(url: URL, options: TransportOptions) {
    this.host = unbracket(url.hostname);
    this.#isHttps = url.protocol === 'https:';
    this.port = url.port ? Number(url.port) : this.#isHttps ? 443 : 80;
    this.endpoint = `${url.hostname}:${this.port}`;
    this.origin = url.origin;
    this.prefix = url.pathname.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.signal = options.signal;
    this.#maxBodyBytes = options.maxBodyBytes ?? 64 * 1024 * 1024;
    this.#onRequest = options.onRequest;
    const timeout = this.timeoutMs;
    this.#pool = new Pool(this.origin, {
      connections: Math.max(1, options.connections ?? 8),
      pipelining: 1,
      connectTimeout: timeout,
      headersTimeout: timeout,
      bodyTimeout: timeout,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 600_000,
      connect: this.#isHttps ? tlsConnector(options.tls ?? {}, timeout) : { timeout },
    });
    // Marks the moment undici hands a request to a connected socket: from then on it may have
    // been sent. Requests still queued or connecting when they fail provably were not.
    this.#dispatcher = this.#pool.compose((dispatch) => (opts, handler) => {
      const mark = this.#sentMarks.get(opts);
      if (!mark) return dispatch(opts, handler);
      mark('dispatched');
      return dispatch(opts, markingHandler(handler, () => mark('sent')));
    });
  }

  /**
   * Sends one request and hands its answer to `interpret`, which classifies and parses it. Every
   * error leaves as a taxonomy error; a fatal one trips the breaker; one event per request tried.
   */
  async exchange<T>(req: OutgoingRequest, interpret: (answer: RawAnswer) => T): Promise<T> {
    if (this.fatalError) throw this.fatalError;
    if (this.signal?.aborted) throw new TransportError(req.label, 'ABANDONED', false, { endpoint: this.endpoint });
    const started = performance.now();
    let status = 0;
    // Whether the request may have reached the server. Only the marking interceptor can say "not
    // yet"; if it never saw this request, assume the worst.
    let dispatched = false;
    let connected = false;
    const mayHaveBeenSent = (): boolean => connected || !dispatched;
    const deadline = AbortSignal.timeout(this.timeoutMs);
    const signal = this.signal ? AbortSignal.any([deadline, this.signal]) : deadline;
    const opts: Dispatcher.RequestOptions = { path: req.path, method: req.method, headers: req.headers, body: req.body, signal };
    // A request handed to a socket after its signal aborted is dropped by undici before any byte is written.
    this.#sentMarks.set(opts, (stage) => (stage === 'dispatched' ? (dispatched = true) : (connected ||= !signal.aborted)));
    // undici rejects a queued request only once a socket frees up; a stop or a deadline must not wait for that.
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(new AbortedLocally());
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      let res: Dispatcher.ResponseData;
      try {
        const pending = this.#dispatcher.request(opts);
        void pending.then((r) => (signal.aborted ? r.body.destroy() : undefined), () => undefined);
        res = await Promise.race([pending, aborted]);
      } catch (e) {
        throw await this.#transportError(req.label, e, mayHaveBeenSent(), deadline);
      }
      status = res.statusCode;
      let body: string;
      try {
        body = await readCapped(res.body, this.#maxBodyBytes, signal);
      } catch (e) {
        if (e instanceof BodyTooLarge) throw new UnexpectedAnswer(req.label, status, `answer larger than ${this.#maxBodyBytes} bytes`, { endpoint: this.endpoint });
        throw await this.#transportError(req.label, e, true, deadline);
      }
      const result = interpret({ status, headers: res.headers, body, endpoint: this.endpoint });
      this.#onRequest?.({ command: req.label, method: req.method, durationMs: performance.now() - started, status });
      return result;
    } catch (e) {
      const error = isDirectAdminError(e) ? e : new TransportError(req.label, 'UNKNOWN', true, { endpoint: this.endpoint, cause: e });
      if (error.fatal && !this.fatalError) this.fatalError = error;
      this.#onRequest?.({ command: req.label, method: req.method, durationMs: performance.now() - started, status, error });
      throw error;
    } finally {
      if (onAbort) signal.removeEventListener('abort', onAbort);
      aborted.catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await this.#pool.close().catch(() => this.#pool.destroy());
  }

  async #transportError(label: string, e: unknown, sent: boolean, deadline: AbortSignal): Promise<DirectAdminError> {
    const context = { endpoint: this.endpoint, cause: e };
    // The run's stop comes first: whatever else happened, the caller asked to abandon.
    if (this.signal?.aborted) return new TransportError(label, 'ABANDONED', sent, context);
    if (deadline.aborted) return new TransportError(label, 'DEADLINE_EXCEEDED', sent, { ...context, timeoutMs: this.timeoutMs });
    if (e instanceof TlsVerificationError) return new TlsFailure(label, e.reason, e.fingerprint, context);
    const err = e as NodeJS.ErrnoException & { cause?: unknown };
    if (err?.cause instanceof TlsVerificationError) return new TlsFailure(label, err.cause.reason, err.cause.fingerprint, context);
    const code = err?.code ?? (err?.name === 'HTTPParserError' ? 'HPE_INVALID_RESPONSE' : 'UNKNOWN');
    if (code.startsWith('ERR_SSL_') || code === 'EPROTO' || code.startsWith('ERR_TLS_')) return new TlsFailure(label, code, undefined, context);
    if (!this.#isHttps && MAYBE_TLS_PORT.test(code) && (await this.#answersTls())) {
      return new NeedsHttps(label, { ...context, evidence: 'tls-port' });
    }
    const timeoutMs = /TIMEOUT/.test(code) ? this.timeoutMs : undefined;
    return new TransportError(label, code, sent && !NOT_SENT.has(code), { ...context, timeoutMs });
  }

  /** Whether the port completes a TLS handshake: asked once, after a plain-HTTP request died oddly. */
  #answersTls(): Promise<boolean> {
    this.#tlsPort ??= new Promise<boolean>((resolve) => {
      const socket = tlsConnect({ host: this.host, port: this.port, rejectUnauthorized: false, servername: isIp(this.host) ? undefined : this.host });
      const done = (v: boolean): void => {
        socket.destroy();
        resolve(v);
      };
      socket.setTimeout(Math.min(this.timeoutMs, 5000), () => done(false));
      socket.once('secureConnect', () => done(true));
      socket.once('error', () => done(false));
      socket.once('close', () => done(false));
    });
    return this.#tlsPort;
  }
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}

/** Wraps an undici handler so `mark` runs when the request is handed to a connected socket. */
function markingHandler(handler: Dispatcher.DispatchHandler, mark: () => void): Dispatcher.DispatchHandler {
  return new Proxy(handler, {
    get(target, key) {
      const value = Reflect.get(target, key) as unknown;
      if (typeof value !== 'function') return value;
      const fn = value as (...args: unknown[]) => unknown;
      if (key === 'onRequestStart' || key === 'onConnect') {
        return (...args: unknown[]) => {
          mark();
          return fn.apply(target, args);
        };
      }
      return fn.bind(target);
    },
  });
}

class BodyTooLarge extends Error {}

/** The request's signal aborted before undici settled it. */
class AbortedLocally extends Error {}

/** Reads a body up to a cap, until the signal aborts; past the cap the stream is destroyed instead of buffered. */
async function readCapped(
  body: AsyncIterable<Buffer> & { destroy(err?: Error): unknown },
  max: number,
  signal: AbortSignal,
): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  // undici destroys the body when the request's signal aborts; this makes sure of it either way.
  const onAbort = (): void => void body.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const chunk of body) {
      size += chunk.length;
      if (size > max) {
        body.destroy();
        throw new BodyTooLarge();
      }
      chunks.push(chunk);
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}
