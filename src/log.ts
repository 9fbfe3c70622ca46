/**
 * Scrubbing of secrets, and the run's logger: pino. Every line is JSON
 * ({"level":"info","time":"<ISO>","pid":N,"runId":...,"version":...,"server":...,...fields,"msg":"..."});
 * pino's redaction removes secret keys, and a formatter scrubs every value against the secrets the
 * process holds (SecretRegistry), so a secret a server echoes inside an error text never reaches a
 * log. On a terminal (--log-format text) the same records are written as `warn: text (k=v)` lines.
 */
import { pino, type DestinationStream } from 'pino';

export type LevelWithSilent = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
export type Level = Exclude<LevelWithSilent, 'silent'>;

/** A log call: `log.info('text')`, `log.info({ fields }, 'text')`, `log.error(err, 'text')`. */
export interface LogFn {
  (msg: string): void;
  (obj: object, msg?: string): void;
}

/** The subset of pino's Logger this project uses (a pino logger is one). */
export interface Logger {
  level: string;
  isLevelEnabled(level: Level): boolean;
  child(bindings: Record<string, unknown>): Logger;
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  fatal: LogFn;
}

/** Keys whose values are secrets wherever they appear in a log record. */
const SECRET_KEYS = ['password', 'passwd', 'passwd2', 'secret', 'key', 'loginKey', 'authorization', 'pw'];

const REDACTED = '[REDACTED]';

/**
 * Every secret the process currently holds (the admin secret, the passwords of accounts in flight).
 * Logs and error messages are scrubbed by value against this set, so a secret echoed back by a
 * server inside an error text still never reaches stderr or the report's error column.
 */
/**
 * A short secret (under 8 characters: a wrong one typed by hand can be an ordinary word) where a
 * value stands, never in prose: after = : / or a quote, or before @ (key=value, user:secret@host, "secret").
 */
function asValue(s: string): RegExp {
  const e = s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(?<=[=:/"'])${e}(?![\\p{L}\\p{N}])|(?<![\\p{L}\\p{N}])${e}(?=@)`, 'gu');
}

export class SecretRegistry {
  /** Secret -> how many holders; one password can be in flight for many accounts (--same-password). */
  private readonly secrets = new Map<string, number>();

  add(secret: string | undefined): void {
    // Very short strings would scrub innocent text; no secret this tool accepts is shorter than 5.
    if (secret && secret.length >= 5) this.secrets.set(secret, (this.secrets.get(secret) ?? 0) + 1);
  }

  delete(secret: string | undefined): void {
    if (!secret) return;
    const n = this.secrets.get(secret);
    if (n === undefined) return;
    if (n <= 1) this.secrets.delete(secret);
    else this.secrets.set(secret, n - 1);
  }

  get size(): number {
    return this.secrets.size;
  }

  scrub(text: string): string {
    if (this.secrets.size === 0 || text.length < 5) return text;
    let out = text;
    for (const s of this.secrets.keys()) {
      // Servers and encoders may echo a secret percent-encoded.
      const enc = encodeURIComponent(s);
      for (const form of enc === s ? [s] : [s, enc]) {
        if (!out.includes(form)) continue;
        // A secret of 8+ characters is redacted wherever it appears; a shorter one (a wrong secret
        // that happens to be an ordinary word) only where it stands as a value, never in a sentence.
        out = form.length >= 8 ? out.split(form).join(REDACTED) : out.replace(asValue(form), REDACTED);
      }
    }
    return out;
  }

  scrubDeep(value: unknown, depth = 0): unknown {
    if (typeof value === 'string') return this.scrub(value);
    if (depth > 6 || value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) return value.map((v) => this.scrubDeep(v, depth + 1));
    if (value instanceof Error) {
      return { type: value.name, message: this.scrub(value.message), code: (value as { code?: unknown }).code };
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = SECRET_KEYS.includes(k) ? REDACTED : this.scrubDeep(v, depth + 1);
    }
    return out;
  }
}

export interface LogOptions {
  level: LevelWithSilent;
  secrets: SecretRegistry;
  /** Where log lines go; defaults to stderr (stdout is reserved for --json output). */
  destination?: NodeJS.WritableStream | number;
  /** json (default): one JSON object a line, for machines; text: `warn: message (field=value)`, for a person at a terminal. */
  format?: LogFormat;
  /** This run's id, on every line. */
  runId?: string;
  /** da-rotate's version, on every line. */
  version?: string;
}

export type LogFormat = 'json' | 'text';

/** One field as a person reads it: plain words bare, anything else as JSON. */
function textValue(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=,()]+$/.test(v) ? v : JSON.stringify(v);
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return '[unserializable]';
  }
}

/** `warn: the message (server=https://h:2222, accounts=3)`: bindings and fields after the text. */
function textLine(name: string, text: string | undefined, fields: Record<string, unknown>): string {
  const parts = Object.entries(fields)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => `${k}=${textValue(v)}`);
  const head = text ?? '';
  const tail = parts.length ? (head ? ` (${parts.join(', ')})` : parts.join(', ')) : '';
  return `${name}: ${head}${tail}\n`;
}

/** Fields a person at a terminal does not need on every line. */
const MACHINE_FIELDS = new Set(['level', 'time', 'pid', 'runId', 'version', 'msg']);

/** A pino destination that writes each JSON record as a text line to `out` (--log-format text). */
function textDestination(out: (line: string) => void): DestinationStream {
  return {
    write(record: string) {
      for (const line of record.split('\n')) {
        if (!line) continue;
        const o = JSON.parse(line) as Record<string, unknown>;
        const fields: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(o)) if (!MACHINE_FIELDS.has(k)) fields[k] = v;
        // An error under `err` reads best as its message.
        const err = fields.err as { message?: unknown } | undefined;
        if (err && typeof err === 'object' && typeof err.message === 'string') {
          if (o.msg === undefined || o.msg === err.message) delete fields.err;
          else fields.err = err.message;
        }
        out(textLine(String(o.level), typeof o.msg === 'string' ? o.msg : typeof err?.message === 'string' ? err.message : undefined, fields));
      }
    },
  };
}

/** Where a logger's server comes from once the run knows it (setLogServer): one per root logger. */
const serverOf = new WeakMap<object, { server?: string }>();

/** Names the server on every later line of this logger and its children (a root logger from createLogger). */
export function setLogServer(log: Logger, server: string): void {
  const holder = serverOf.get(log);
  if (holder) holder.server = server;
}

export function createLogger(options: LogOptions, bindings: Record<string, unknown> = {}): Logger {
  const { secrets, level } = options;
  const dest = options.destination ?? 2;
  const raw: DestinationStream = typeof dest === 'number' ? pino.destination({ dest, sync: true }) : { write: (line: string) => void dest.write(line) };
  const destination = options.format === 'text' ? textDestination((line) => raw.write(line)) : raw;
  const holder: { server?: string } = {};
  const logger = pino(
    {
      level,
      // Every line: when (ISO), which process, which run, which version; the server once known.
      timestamp: pino.stdTimeFunctions.isoTime,
      base: {
        pid: process.pid,
        ...(options.runId !== undefined ? { runId: options.runId } : {}),
        ...(options.version !== undefined ? { version: options.version } : {}),
        ...(secrets.scrubDeep(bindings) as object),
      },
      mixin: () => (holder.server !== undefined ? { server: holder.server } : {}),
      formatters: {
        level: (label) => ({ level: label }),
        // Our value scrubbing: secrets by value anywhere in a record, secret keys at any depth, errors as { type, message, code }.
        log: (record) => secrets.scrubDeep(record) as Record<string, unknown>,
        bindings: (b) => secrets.scrubDeep(b) as Record<string, unknown>,
      },
      // pino's own redaction: the secret keys where records put them.
      redact: { paths: [...SECRET_KEYS, ...SECRET_KEYS.map((k) => `*.${k}`)], censor: REDACTED },
      serializers: { err: (e: unknown) => secrets.scrubDeep(e) },
      hooks: {
        // The message text is scrubbed by value as well.
        logMethod(args, method) {
          const scrubbed = args.map((a) => (typeof a === 'string' ? secrets.scrub(a) : a)) as Parameters<typeof method>;
          const first = scrubbed[0];
          // log.error(err) or log.warn({ err }) with no text: pino would take the error's message as the line's; scrub it first.
          const err = first instanceof Error ? first : (first as { err?: unknown } | null)?.err;
          if (scrubbed.length === 1 && err instanceof Error) return method.apply(this, [first, secrets.scrub(err.message)] as Parameters<typeof method>);
          return method.apply(this, scrubbed);
        },
      },
    },
    destination,
  );
  serverOf.set(logger, holder);
  return logger;
}
