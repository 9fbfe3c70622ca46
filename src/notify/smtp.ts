/**
 * Sending: SMTP through nodemailer, configured only from SMTP_URL in the environment (credentials
 * never in argv), TLS required unless --smtp-insecure; or, for --dry-run, .eml files on disk.
 * Errors are sorted into what they mean for the batch: stop now, this message was refused, or
 * this message may have gone out.
 */
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { UsageError } from '../errors.js';
import { writeNewFile } from '../files.js';
import { unbracket } from '../directadmin/url.js';

export interface SmtpSettings {
  host: string;
  port: number;
  /** TLS from the first byte (smtps://); else STARTTLS. */
  secure: boolean;
  user?: string;
  pass?: string;
  insecure: boolean;
  ca?: Buffer;
  /** smtp[s]://host:port, for messages (never the credentials). */
  display: string;
}

export function resolveSmtp(env: Record<string, string | undefined>, options: { insecure: boolean; ca?: Buffer }): SmtpSettings {
  const raw = env.SMTP_URL;
  if (!raw)
    throw new UsageError(
      'no SMTP server: set SMTP_URL in the environment, e.g. SMTP_URL=smtp://USER:PASSWORD@mail.example.com:587 (STARTTLS) or smtps://...:465 (TLS)',
    );
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new UsageError('SMTP_URL is not a URL: expected smtp://USER:PASSWORD@HOST:587 or smtps://USER:PASSWORD@HOST:465');
  }
  if (u.protocol !== 'smtp:' && u.protocol !== 'smtps:') throw new UsageError(`SMTP_URL must start with smtp:// or smtps:// (got ${u.protocol}//)`);
  if (!u.hostname) throw new UsageError('SMTP_URL names no host');
  if (u.search) throw new UsageError('SMTP_URL must not carry ?options (TLS is configured by da-rotate flags: --smtp-ca, --smtp-insecure)');
  const secure = u.protocol === 'smtps:';
  const port = u.port ? Number(u.port) : secure ? 465 : 587;
  const host = unbracket(u.hostname);
  return {
    host,
    port,
    secure,
    user: u.username ? decodeURIComponent(u.username) : undefined,
    pass: u.password ? decodeURIComponent(u.password) : undefined,
    insecure: options.insecure,
    ca: options.ca,
    display: `${u.protocol}//${u.host}`,
  };
}

export interface OutgoingMessage {
  account: string;
  from: string;
  to: string;
  subject: string;
  text: string;
  messageId: string;
}

export interface MailSender {
  /** Connects, negotiates TLS and authenticates once, before anything is sent. */
  verify(): Promise<void>;
  /** Resolves with the server's acceptance line once the message is accepted. */
  send(message: OutgoingMessage): Promise<{ response: string }>;
  /** Gives up on the message in flight: its connection is closed now (a stop's grace ran out). */
  abort?(): void;
  close(): void;
}

/** What a send error means for the batch. */
export type SendFailure =
  | { kind: 'auth'; reason: string }
  | { kind: 'tls'; reason: string }
  /** The server cannot be used at all (unreachable, protocol error): stop before the next message. */
  | { kind: 'unavailable'; reason: string; maybeSent: boolean }
  /** The server refused this message for sure: it was not delivered. */
  | { kind: 'rejected'; reason: string };

const BEFORE_DATA = /^(CONN|EHLO|HELO|LHLO|STARTTLS|AUTH|MAIL FROM|RCPT TO|API)/i;
const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL|EPROTO|HOSTNAME|ALTNAME/;

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim().slice(0, 300);
}

export function classifySendError(e: unknown, settings: Pick<SmtpSettings, 'pass'>): SendFailure {
  const err = e as { code?: string; command?: string; responseCode?: number; response?: string; message?: string; cause?: { code?: string } };
  let reason = oneLine(err.response ?? err.message ?? String(e));
  if (settings.pass) reason = reason.split(settings.pass).join('<password>');
  const code = err.code ?? '';
  const inner = `${err.cause?.code ?? ''} ${(e as Error).message ?? ''}`;
  if (code === 'EAUTH' || code === 'ENOAUTH') return { kind: 'auth', reason };
  if (code === 'ETLS' || TLS_CODES.test(inner) || /certificate|STARTTLS|TLS/i.test(reason)) return { kind: 'tls', reason };
  if (code === 'EENVELOPE' || (typeof err.responseCode === 'number' && err.responseCode >= 400 && code !== 'ECONNECTION')) {
    return { kind: 'rejected', reason };
  }
  // nodemailer names a lost connection `CONN` whatever the stage: the sender marks whether the
  // message, final dot included, had been handed over (afterFinalDot). Lost after that, the server
  // may have accepted it: uncertain, never taken for a refusal.
  const afterDot = (e as { afterFinalDot?: boolean } | undefined)?.afterFinalDot === true;
  const maybeSent = afterDot || (!BEFORE_DATA.test(err.command ?? '') && err.command !== undefined);
  return { kind: 'unavailable', reason, maybeSent };
}

export function smtpSender(settings: SmtpSettings): MailSender {
  /**
   * Whether the message in flight was handed over whole, final dot included: nodemailer logs one
   * `tnx: message` info line when the message's data stream ends (byte counts only, no content).
   */
  let finalDotSent = false;
  const quiet = () => undefined;
  const logger = {
    trace: quiet,
    debug: quiet,
    info: (entry: unknown) => {
      if ((entry as { tnx?: string } | undefined)?.tnx === 'message') finalDotSent = true;
    },
    warn: quiet,
    error: quiet,
    fatal: quiet,
  };
  const transport = nodemailer.createTransport({
    logger,
    pool: true,
    maxConnections: 1,
    host: settings.host,
    port: settings.port,
    secure: settings.secure,
    requireTLS: !settings.secure && !settings.insecure,
    auth: settings.user ? { user: settings.user, pass: settings.pass ?? '' } : undefined,
    tls: {
      rejectUnauthorized: !settings.insecure,
      ...(settings.ca ? { ca: settings.ca } : {}),
      minVersion: 'TLSv1.2',
    },
    connectionTimeout: 30_000,
    greetingTimeout: 30_000,
    socketTimeout: 60_000,
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  // The SMTP password must not reach a message, even if a server echoes it.
  const scrub = (e: unknown): unknown => {
    if (settings.pass && e instanceof Error) {
      const withCode = e as Error & { response?: string };
      e.message = e.message.split(settings.pass).join('<password>');
      if (typeof withCode.response === 'string') withCode.response = withCode.response.split(settings.pass).join('<password>');
    }
    return e;
  };
  return {
    verify: async () => {
      await transport.verify().catch((e: unknown) => Promise.reject(scrub(e)));
    },
    send: async (m) => {
      finalDotSent = false;
      const info = await transport
        .sendMail(mailOf(m))
        .catch((e: unknown) => Promise.reject(e instanceof Error ? Object.assign(scrub(e) as Error, { afterFinalDot: finalDotSent }) : e));
      if (!info.accepted?.length || (info.rejected?.length ?? 0) > 0) {
        throw Object.assign(new Error(`the server refused the recipient: ${oneLine(String(info.response))}`), { code: 'EENVELOPE' });
      }
      return { response: oneLine(String(info.response ?? '')) };
    },
    // nodemailer's pool: `force` closes a connection in the middle of a delivery too.
    abort: () => transport.close({ force: true }),
    close: () => transport.close(),
  };
}

function mailOf(m: OutgoingMessage) {
  return {
    from: m.from,
    to: m.to,
    subject: m.subject,
    text: m.text,
    messageId: m.messageId,
    headers: { 'Auto-Submitted': 'auto-generated', 'X-Auto-Response-Suppress': 'All' },
    disableFileAccess: true,
    disableUrlAccess: true,
  };
}

/** A file name for an account's .eml: DirectAdmin names are [a-z0-9], anything else is encoded. */
export function emlFileName(account: string): string {
  return `${/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(account) ? account : encodeURIComponent(account).replace(/\./g, '%2E')}.eml`;
}

/** --dry-run: every message rendered exactly as it would be sent, written to DIR/<account>.eml (0600). */
export function emlWriter(dir: string): MailSender & { files: string[] } {
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  const files: string[] = [];
  return {
    files,
    verify: async () => undefined,
    send: async (m) => {
      const info = await transport.sendMail(mailOf(m));
      const path = join(dir, emlFileName(m.account));
      await writeNewFile(path, info.message as Buffer);
      files.push(path);
      return { response: `written to ${path}` };
    },
    close: () => transport.close(),
  };
}
