import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/** Keys whose values are secrets wherever they appear in a log record. */
const SECRET_KEYS = ['password', 'passwd', 'passwd2', 'secret', 'key', 'loginKey', 'authorization', 'pw'];

const REDACTED = '[REDACTED]';

/**
 * Every secret the process currently holds (the admin secret, the passwords of accounts in flight).
 * Logs and error messages are scrubbed by value against this set, so a secret echoed back by a
 * server inside an error text still never reaches stderr or the report's error column.
 */
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
      if (out.includes(s)) out = out.split(s).join(REDACTED);
      // Servers and encoders may echo a secret percent-encoded.
      const enc = encodeURIComponent(s);
      if (enc !== s && out.includes(enc)) out = out.split(enc).join(REDACTED);
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
  /** Where JSON lines go; defaults to stderr (stdout is reserved for --json output). */
  destination?: NodeJS.WritableStream | number;
}

export function createLogger(options: LogOptions): Logger {
  const { secrets } = options;
  const destination =
    typeof options.destination === 'number' || options.destination === undefined
      ? pino.destination({ fd: (options.destination as number | undefined) ?? 2, sync: true })
      : options.destination;
  return pino(
    {
      level: options.level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: SECRET_KEYS.flatMap((k) => [k, `*.${k}`]),
        censor: REDACTED,
      },
      formatters: {
        level: (label) => ({ level: label }),
        log: (object) => secrets.scrubDeep(object) as Record<string, unknown>,
      },
      hooks: {
        // The message string is not passed through formatters.log: scrub it here.
        logMethod(args, method) {
          const scrubbed = args.map((a) => (typeof a === 'string' ? secrets.scrub(a) : a));
          return method.apply(this, scrubbed as Parameters<typeof method>);
        },
      },
      serializers: {
        err: (e: unknown) => secrets.scrubDeep(e),
      },
    },
    destination as NodeJS.WritableStream,
  );
}
