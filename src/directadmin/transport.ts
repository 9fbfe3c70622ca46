/**
 * One server's HTTP transport: the keep-alive pool, the whole-request deadline, the run's abort
 * signal, the circuit breaker (first fatal error) and the request hook. A client and every
 * login-as context made from it share one Transport.
 */
import { performance } from 'node:perf_hooks';
import { Pool, type Dispatcher } from 'undici';
import { NeedsHttps, TlsFailure, TransportError, UnexpectedAnswer, isDirectAdminError, type DirectAdminError } from './errors.js';
import type { RawAnswer } from './parse.js';
import { nodeTls, TlsVerificationError, tlsConnector, type TlsOptions } from './tls.js';
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
  /** Asked just before the request leaves (after any wait): an error here is thrown instead, nothing sent. */
  precheck?: () => DirectAdminError | undefined;
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
  /** An /api/ request got a JSON answer: the server has the JSON API. */
  jsonApiSeen = false;
  /** The server said it has no JSON API: every later /api/ request rejects with this, unsent. */
  noJsonApi: DirectAdminError | undefined;

  readonly #pool: Pool;
  readonly #isHttps: boolean;
  readonly #maxBodyBytes: number;
  readonly #onRequest: ((e: RequestEvent) => void) | undefined;
  /** Requests not yet settled: the run's stop abandons them all (one listener, not one per request). */
  readonly #inFlight = new Set<Exchange>();
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
      // Node's default, given here so the bundled undici never needs node:http (scripts/postbuild.mjs).
      maxHeaderSize: 16 * 1024,
      connectTimeout: timeout,
      headersTimeout: timeout,
      bodyTimeout: timeout,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 600_000,
      connect: this.#isHttps ? tlsConnector(options.tls ?? {}, timeout) : { timeout },
    });
    this.signal?.addEventListener(
      'abort',
      () => {
        for (const x of [...this.#inFlight]) x.stop('abandoned');
      },
      { once: true },
    );
  }

  /**
   * Sends one request and hands its answer to `interpret`, which classifies and parses it. Every
   * error leaves as a taxonomy error; a fatal one trips the breaker; one event per request tried.
   */
  exchange<T>(req: OutgoingRequest, interpret: (answer: RawAnswer) => T): Promise<T> {
    // Not async itself: a proven command goes straight to #send, no extra promise on the hot path.
    if (this.fatalError) return Promise.reject(this.fatalError);
    if (this.signal?.aborted) return Promise.reject(new TransportError(req.label, 'ABANDONED', false, { endpoint: this.endpoint }));
    // A command no answer has proved allowed yet goes alone (see #firstOfCommand).
    if (!this.#proven.has(req.label)) return this.#firstOfCommand(req, interpret);
    return this.#send(req, interpret);
  }

  /** Commands the server has answered as a command (not a login page, 401 or refusal of the login): allowed for this login. */
  readonly #proven = new Set<string>();
  /** Commands the server refused to this login (HTTP 403, ACCESS_DENIED, "You cannot execute that command"). */
  readonly #denied = new Map<string, DirectAdminError>();
  /** A request of a command not yet proven is on the wire. */
  #probing = false;
  #probeDone: Promise<void> = Promise.resolve();
  #probeRelease: () => void = () => undefined;

  /**
   * A login key that lacks one command makes the server answer that command with its login page
   * (a failed login, toward DirectAdmin's brute-force blacklist) or a refusal. So the first
   * request of each command waits until no other unproven command is on the wire and goes alone;
   * once an answer proves the command allowed, its other requests flow at full concurrency. At any
   * concurrency a key missing a command costs at most one failed login (the breaker stops the
   * rest), and a refusal is seen before a second request of that command is sent.
   */
  async #firstOfCommand<T>(req: OutgoingRequest, interpret: (answer: RawAnswer) => T): Promise<T> {
    for (;;) {
      // Refused once, refused every time: not sent again (the kind that uses it stops).
      const denied = this.#denied.get(req.label);
      if (denied) throw denied;
      if (!this.#probing) break;
      await this.#probeDone;
      if (this.#proven.has(req.label)) return this.exchange(req, interpret);
    }
    if (this.fatalError) throw this.fatalError;
    if (this.signal?.aborted) throw new TransportError(req.label, 'ABANDONED', false, { endpoint: this.endpoint });
    this.#probing = true;
    this.#probeDone = new Promise<void>((resolve) => (this.#probeRelease = resolve));
    try {
      const result = await this.#send(req, interpret);
      this.#proven.add(req.label);
      return result;
    } catch (e) {
      // Refused as a command (not a permission refusal, not a login failure): the login may use it.
      if (isDirectAdminError(e) && e.kind === 'command' && e.code === 'DA_COMMAND_FAILED') this.#proven.add(req.label);
      if (isDirectAdminError(e) && e.code === 'DA_PERMISSION_DENIED') this.#denied.set(req.label, e);
      throw e;
    } finally {
      this.#probing = false;
      this.#probeRelease();
    }
  }

  async #send<T>(req: OutgoingRequest, interpret: (answer: RawAnswer) => T): Promise<T> {
    const refused = req.precheck?.();
    if (refused) throw refused;
    const started = performance.now();
    let status = 0;
    try {
      const x = new Exchange(this.#maxBodyBytes);
      this.#inFlight.add(x);
      // One timer per request, cleared when it settles: the whole-request deadline (connect,
      // queueing, headers and the complete body).
      const timer = setTimeout(() => x.stop('deadline'), this.timeoutMs);
      let answer: { status: number; headers: RawAnswer['headers']; body: string };
      try {
        x.dispatching();
        this.#pool.dispatch({ path: req.path, method: req.method, headers: req.headers, body: req.body ?? null }, x);
        answer = await x.settled;
      } catch (e) {
        status = x.status;
        if (e instanceof BodyTooLarge)
          throw new UnexpectedAnswer(req.label, status, `answer larger than ${this.#maxBodyBytes} bytes`, { endpoint: this.endpoint, tooLarge: true });
        // Only the handler can say "not yet on a socket"; if undici never called it, nothing left.
        throw await this.#transportError(req.label, e, x.mayHaveBeenSent, x.stoppedBy === 'deadline');
      } finally {
        clearTimeout(timer);
        this.#inFlight.delete(x);
      }
      status = answer.status;
      const result = interpret({ status, headers: answer.headers, body: answer.body, endpoint: this.endpoint });
      this.#onRequest?.({ command: req.label, method: req.method, durationMs: performance.now() - started, status });
      return result;
    } catch (e) {
      const error = isDirectAdminError(e) ? e : new TransportError(req.label, 'UNKNOWN', true, { endpoint: this.endpoint, cause: e });
      if (error.fatal && !this.fatalError) this.fatalError = error;
      this.#onRequest?.({ command: req.label, method: req.method, durationMs: performance.now() - started, status, error });
      throw error;
    }
  }

  async close(): Promise<void> {
    // Nothing in flight: the keep-alive sockets are idle, so ending them at once loses nothing
    // (a graceful close waits for each socket to finish closing: about 3 ms at the end of every run).
    if (this.#inFlight.size === 0) await this.#pool.destroy().catch(() => undefined);
    else await this.#pool.close().catch(() => this.#pool.destroy());
  }

  async #transportError(label: string, e: unknown, sent: boolean, timedOut: boolean): Promise<DirectAdminError> {
    const context = { endpoint: this.endpoint, cause: e };
    // The run's stop comes first: whatever else happened, the caller asked to abandon.
    if (this.signal?.aborted) return new TransportError(label, 'ABANDONED', sent, context);
    if (timedOut) return new TransportError(label, 'DEADLINE_EXCEEDED', sent, { ...context, timeoutMs: this.timeoutMs });
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
      const socket = nodeTls().connect({ host: this.host, port: this.port, rejectUnauthorized: false, servername: isIp(this.host) ? undefined : this.host });
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

class BodyTooLarge extends Error {
  readonly code = 'BODY_TOO_LARGE';
}

/** The request was stopped here (its deadline, or the run abandoning it) before undici settled it. */
class StoppedLocally extends Error {
  readonly code = 'STOPPED_LOCALLY';
}

/**
 * One request's undici handler: collects the answer in memory (no stream, no async iterator) up
 * to a cap, and records whether the request reached a socket. undici calls onRequestStart as it
 * hands the request to a connected socket, just before writing it: a request stopped before then
 * is aborted there and never written, so it provably was not sent.
 */
class Exchange implements Dispatcher.DispatchHandler {
  readonly settled: Promise<{ status: number; headers: RawAnswer['headers']; body: string }>;
  status = 0;
  /** Handed to a socket while not stopped: from then on the server may have seen it. */
  #connected = false;
  /** Handed to undici (queued or sent); until then nothing can say it was not sent. */
  #dispatched = false;
  stoppedBy: 'deadline' | 'abandoned' | undefined;
  #controller: Dispatcher.DispatchController | undefined;
  #headers: RawAnswer['headers'] = {};
  #chunks: Buffer[] = [];
  #size = 0;
  #done = false;
  #resolve!: (a: { status: number; headers: RawAnswer['headers']; body: string }) => void;
  #reject!: (e: unknown) => void;

  constructor(private readonly maxBodyBytes: number) {
    this.settled = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  get mayHaveBeenSent(): boolean {
    return this.#connected || !this.#dispatched;
  }

  /** Ends the request here and now, without waiting for undici (a queued request is dropped when its turn comes). */
  stop(why: 'deadline' | 'abandoned'): void {
    if (this.#done) return;
    this.stoppedBy = why;
    this.#fail(new StoppedLocally(why));
    this.#controller?.abort(new StoppedLocally(why));
  }

  /** Called just before the request is handed to undici. */
  dispatching(): void {
    this.#dispatched = true;
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.stoppedBy) controller.abort(new StoppedLocally(this.stoppedBy));
    else this.#connected = true;
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    // An informational answer (100 Continue) is followed by the real one.
    if (statusCode < 200) return;
    this.status = statusCode;
    this.#headers = headers;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#done) return;
    this.#size += chunk.length;
    if (this.#size > this.maxBodyBytes) {
      this.#fail(new BodyTooLarge());
      controller.abort(new BodyTooLarge());
      return;
    }
    this.#chunks.push(chunk);
  }

  onResponseEnd(): void {
    if (this.#done) return;
    this.#done = true;
    const body = this.#chunks.length === 1 ? this.#chunks[0]!.toString('utf8') : Buffer.concat(this.#chunks, this.#size).toString('utf8');
    this.#chunks = [];
    this.#resolve({ status: this.status, headers: this.#headers, body });
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, err: Error): void {
    this.#fail(err);
  }

  #fail(e: unknown): void {
    if (this.#done) return;
    this.#done = true;
    this.#chunks = [];
    this.#reject(e);
  }
}
