/**
 * Scrubbing of secrets, and the run's JSON-line logger. The logger writes the same lines pino did
 * ({"level":"info","time":"<ISO>","pid":N,...fields,"msg":"..."}) without loading pino: a run logs
 * a handful of lines at the default level, and pino's start-up cost (about 25 ms) was most of what
 * logging cost a small run. Methods of levels that are off are a shared no-op, so a disabled
 * trace/debug call costs a function call and nothing else (callers that build a record per request
 * should still guard with isLevelEnabled).
 */
import { writeSync } from 'node:fs';

export type LevelWithSilent = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
export type Level = Exclude<LevelWithSilent, 'silent'>;

/** A log call: `log.info('text')`, `log.info({ fields }, 'text')`, `log.error(err, 'text')`. */
export interface LogFn {
  (msg: string): void;
  (obj: object, msg?: string): void;
}

/** The subset of pino's Logger this project uses; a pino logger satisfies it too. */
export interface Logger {
  readonly level: LevelWithSilent;
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
function textLine(name: Level, text: string | undefined, fields: Record<string, unknown>): string {
  const parts = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${textValue(v)}`);
  const head = text ?? '';
  const tail = parts.length ? (head ? ` (${parts.join(', ')})` : parts.join(', ')) : '';
  return `${name}: ${head}${tail}\n`;
}

const LEVELS: Record<LevelWithSilent, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };
const noop: LogFn = () => undefined;

/** One line's fields: an Error (first argument or under `err`) becomes { type, message, code }. */
function fieldsOf(obj: object, secrets: SecretRegistry): Record<string, unknown> {
  if (obj instanceof Error) return { err: secrets.scrubDeep(obj) };
  return secrets.scrubDeep(obj) as Record<string, unknown>;
}

export function createLogger(options: LogOptions, bindings: Record<string, unknown> = {}): Logger {
  const { secrets, level } = options;
  if (!(level in LEVELS)) throw new Error(`unknown log level ${String(level)}`);
  const threshold = LEVELS[level];
  const dest = options.destination;
  const fd = typeof dest === 'number' ? dest : dest === undefined ? 2 : undefined;
  const write = fd !== undefined ? (line: string) => writeSync(fd, line) : (line: string) => void (dest as NodeJS.WritableStream).write(line);
  const base = JSON.stringify({ pid: process.pid, ...(secrets.scrubDeep(bindings) as object) }).slice(1, -1);

  const textMethodFor = (name: Level): LogFn => {
    if (LEVELS[name] < threshold) return noop;
    const bound = secrets.scrubDeep(bindings) as Record<string, unknown>;
    return (a: unknown, b?: unknown) => {
      let fields: Record<string, unknown> = {};
      let text: unknown;
      if (typeof a === 'string') text = a;
      else if (a !== null && typeof a === 'object') {
        fields = fieldsOf(a, secrets);
        text = b;
        if (text === undefined && a instanceof Error) {
          text = a.message;
          fields = {};
        }
      } else text = a === undefined ? b : String(a);
      // An error under `err` reads best as its message.
      const err = fields.err as { message?: unknown } | undefined;
      if (err && typeof err === 'object' && typeof err.message === 'string') fields = { ...fields, err: err.message };
      write(textLine(name, typeof text === 'string' ? secrets.scrub(text) : undefined, { ...bound, ...fields }));
    };
  };

  const methodFor = (name: Level): LogFn => {
    if (options.format === 'text') return textMethodFor(name);
    if (LEVELS[name] < threshold) return noop;
    const head = `{"level":"${name}","time":"`;
    return (a: unknown, b?: unknown) => {
      let fields = '';
      let text: unknown;
      if (typeof a === 'string') text = a;
      else if (a !== null && typeof a === 'object') {
        let f: string;
        try {
          f = JSON.stringify(fieldsOf(a, secrets)).slice(1, -1);
        } catch {
          // A cycle deeper than scrubDeep looks, or a BigInt: the line still goes out, without them.
          f = '"fields":"[unserializable]"';
        }
        if (f) fields = ',' + f;
        text = b;
        if (text === undefined && a instanceof Error) text = a.message;
      } else text = a === undefined ? b : String(a);
      const msgPart = typeof text === 'string' ? `,"msg":${JSON.stringify(secrets.scrub(text))}` : '';
      write(`${head}${new Date().toISOString()}",${base}${fields}${msgPart}}\n`);
    };
  };

  const logger: Logger = {
    level,
    isLevelEnabled: (l) => LEVELS[l] >= threshold,
    child: (more) => createLogger(options, { ...bindings, ...more }),
    trace: methodFor('trace'),
    debug: methodFor('debug'),
    info: methodFor('info'),
    warn: methodFor('warn'),
    error: methodFor('error'),
    fatal: methodFor('fatal'),
  };
  return logger;
}
