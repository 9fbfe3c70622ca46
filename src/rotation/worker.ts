/**
 * Rotates one account: journal the new password durably, send it, and settle any unknown outcome
 * with CMD_API_VERIFY_PASSWORD. Every resend uses the same password.
 */
import { isDirectAdminError, type DirectAdminError } from '../directadmin/index.js';
import type { SecretRegistry } from '../log.js';
import type { JournalWriter, OutcomeStatus } from './journal.js';

/** The one seam through which a password is ever written. A plan never has one. */
export interface PasswordWriter {
  changePassword(username: string, password: string): Promise<unknown>;
}

export interface PasswordVerifier {
  verifyPassword(username: string, password: string): Promise<boolean>;
}

export interface AccountOutcome {
  username: string;
  status: OutcomeStatus;
  password: string;
  attempts: number;
  verified: boolean;
  error?: string;
  /** Set when the account ended on an error that must stop the whole run. */
  fatal?: DirectAdminError;
  startedAt: string;
  finishedAt: string;
}

export interface WorkerContext {
  writer: PasswordWriter;
  verifier: PasswordVerifier;
  journal: JournalWriter;
  secrets: SecretRegistry;
  retries: number;
  retryDelayMs: number;
  /** True once the run stops dispatching (signal, fatal error, --max-failures): no more resends. */
  stopping(): boolean;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Exponential backoff with full jitter, capped at 30 s. */
export function backoffDelay(baseMs: number, retry: number): number {
  const cap = Math.min(30_000, baseMs * 2 ** Math.max(0, retry - 1));
  return Math.round(cap / 2 + Math.random() * (cap / 2));
}

type Verification = { result: 'valid' } | { result: 'invalid' } | { result: 'unknown'; error: DirectAdminError | Error };

async function settle(ctx: WorkerContext, username: string, password: string): Promise<Verification> {
  const sleep = ctx.sleep ?? defaultSleep;
  let lastError: DirectAdminError | Error = new Error('not verified');
  for (let attempt = 0; attempt <= ctx.retries; attempt++) {
    if (attempt > 0) {
      if (ctx.stopping()) break;
      await sleep(backoffDelay(ctx.retryDelayMs, attempt));
    }
    try {
      return (await ctx.verifier.verifyPassword(username, password)) ? { result: 'valid' } : { result: 'invalid' };
    } catch (e) {
      if (!isDirectAdminError(e)) throw e;
      lastError = e;
      if (e.fatal || e.kind === 'command') break;
    }
  }
  return { result: 'unknown', error: lastError };
}

export interface RotateAccountOptions {
  /** The intent is already in the journal (resume): do not write it again. */
  journaled?: boolean;
  /** A previous run may have applied this password: verify before sending anything. */
  verifyFirst?: boolean;
}

export async function rotateAccount(
  ctx: WorkerContext,
  username: string,
  password: string,
  options: RotateAccountOptions = {},
): Promise<AccountOutcome> {
  const sleep = ctx.sleep ?? defaultSleep;
  const startedAt = new Date().toISOString();
  ctx.secrets.add(password);
  try {
    if (!options.journaled) {
      // The password is on disk before anything that could set it leaves this process.
      await ctx.journal.append({ t: 'intent', u: username, pw: password, at: startedAt });
    }
    const done = (status: OutcomeStatus, attempts: number, verified: boolean, error?: unknown): AccountOutcome => ({
      username,
      status,
      password,
      attempts,
      verified,
      error: error === undefined ? undefined : ctx.secrets.scrub(error instanceof Error ? error.message : String(error)),
      fatal: isDirectAdminError(error) && error.fatal ? error : undefined,
      startedAt,
      finishedAt: new Date().toISOString(),
    });

    let attempts = 0;
    /** Some attempt may have applied the password and nothing has proved otherwise since. */
    let maybeLive = options.verifyFirst === true;
    let needVerify = options.verifyFirst === true;
    let lastError: unknown;

    for (;;) {
      if (needVerify) {
        needVerify = false;
        const v = await settle(ctx, username, password);
        if (v.result === 'valid') return done('rotated', attempts, true);
        if (v.result === 'unknown') return done('unknown', attempts, false, v.error);
        maybeLive = false;
      }
      if (attempts > ctx.retries) break;
      // Interrupted: no resend; a resume settles this account from the journal.
      if (attempts > 0 && ctx.stopping()) return done(maybeLive ? 'unknown' : 'not-sent', attempts, false, lastError);
      if (attempts > 0) await sleep(backoffDelay(ctx.retryDelayMs, attempts));
      attempts++;
      try {
        await ctx.writer.changePassword(username, password);
        return done('rotated', attempts, false);
      } catch (e) {
        if (!isDirectAdminError(e)) throw e;
        lastError = e;
        if (e.fatal) return done(maybeLive || e.mayHaveWritten ? 'unknown' : 'not-sent', attempts, false, e);
        if (e.kind === 'command') return done('failed', attempts, false, e);
        if (e.mayHaveWritten) {
          maybeLive = true;
          needVerify = true;
        }
      }
    }
    return done(maybeLive ? 'unknown' : 'failed', attempts, false, lastError);
  } finally {
    ctx.secrets.delete(password);
  }
}
