/**
 * Changes one credential: apply, retry with the same secret, settle any unknown outcome. The caller
 * journals the secret durably before calling (dispatch does it a window ahead).
 *
 * The outcome rule, the one this whole tool keeps: once any attempt may have applied the change,
 * the credential ends `rotated`/`revoked` (proved or answered) or `unknown`, and the secret stays
 * with it. `failed` and `not-sent` are only for changes that cannot have applied.
 */
import { isDirectAdminError, saysAppliedAnyway, type DirectAdminError } from '../directadmin/errors.js';
import type { Credential, CredentialKind, KindContext } from '../kinds/kind.js';
import type { SecretRegistry } from '../log.js';
import { describeError } from '../errors.js';
import type { OutcomeStatus } from './journal.js';
import { kindStop, type StoppedKind } from './credentials.js';
import { systematicRefusal, type SystematicRefusal } from './refusals.js';
import { backoffDelay, sleepUnlessAborted } from './retry.js';

export interface CredentialOutcome {
  credential: Credential;
  status: OutcomeStatus;
  /** The secret sent (change kinds); kept for rotated and unknown outcomes. */
  secret: string | undefined;
  attempts: number;
  /** A read (or a refusal that proves it) confirmed the change. */
  verified: boolean;
  error?: string;
  /** Set when the credential ended on an error that must stop the whole server. */
  fatal?: DirectAdminError;
  /** Set when a refusal will repeat for every credential of this kind. */
  refusal?: SystematicRefusal;
  /** Refused with the whole run (a failed login, a blacklist): nothing applied, and a resume does it again with a new secret. */
  wholeRun?: boolean;
  /** Set when the login may not use this kind at all (a permission refusal): the kind stops, the run goes on. */
  stop?: Omit<StoppedKind, 'accounts'>;
  startedAt: string;
  finishedAt: string;
}

export interface WorkerContext {
  kind: CredentialKind;
  kctx: KindContext;
  secrets: SecretRegistry;
  retries: number;
  retryDelayMs: number;
  /** Aborted when the run stops dispatching (signal, fatal error, --max-failures, deadline): nothing new is sent. */
  signal: AbortSignal;
  /** Counts each resend, for the summary (a server that needs many is unhealthy). */
  onRetry?: () => void;
  /** Set once the server refused this kind's proving read to this login: from then on unknown outcomes are settled by resending. */
  checkDenied?: boolean;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

export interface ChangeOptions {
  /** An earlier run may have applied this secret: prove or resend before anything else. */
  verifyFirst?: boolean;
}

type CheckResult = { proved: true } | { proved: false } | { proved: undefined; error?: DirectAdminError };

/** Runs the kind's proving read, retrying transport errors and 5xx within the budget. */
async function runCheck(ctx: WorkerContext, credential: Credential, secret: string | undefined): Promise<CheckResult> {
  const check = ctx.kind.check;
  if (!check || ctx.checkDenied) return { proved: undefined };
  const sleep = ctx.sleep ?? sleepUnlessAborted;
  let lastError: DirectAdminError | undefined;
  for (let attempt = 0; attempt <= ctx.retries; attempt++) {
    if (attempt > 0) {
      if (ctx.signal.aborted) break;
      await sleep(backoffDelay(ctx.retryDelayMs, attempt), ctx.signal);
      if (ctx.signal.aborted) break;
    }
    try {
      const r = await check.call(ctx.kind, ctx.kctx, credential, secret);
      return r === undefined && lastError === undefined ? { proved: undefined } : { proved: r };
    } catch (e) {
      if (!isDirectAdminError(e)) throw e;
      if (e.code === 'DA_PERMISSION_DENIED') {
        // Not allowed to read: no other proving read of this kind is sent; resending settles it.
        ctx.checkDenied = true;
        return { proved: undefined };
      }
      lastError = e;
      if (e.fatal || !e.retryable) break;
    }
  }
  return { proved: undefined, error: lastError };
}

export async function changeCredential(
  ctx: WorkerContext,
  credential: Credential,
  secret: string | undefined,
  options: ChangeOptions = {},
): Promise<CredentialOutcome> {
  const startedAt = new Date().toISOString();
  ctx.secrets.add(secret);
  try {
    if (options.verifyFirst !== true && !ctx.signal.aborted) {
      // The usual case, kept to one short frame (it runs once per credential, on the hot path):
      // the first attempt of a change nobody sent before. Anything but success goes on in settle().
      try {
        await ctx.kind.apply(ctx.kctx, credential, secret);
      } catch (e) {
        if (!isDirectAdminError(e)) throw e;
        return await settle(ctx, credential, secret, startedAt, options, { error: e });
      }
      return {
        credential,
        status: ctx.kind.action === 'revoke' ? 'revoked' : 'rotated',
        secret,
        attempts: 1,
        verified: false,
        startedAt,
        finishedAt: new Date().toISOString(),
      };
    }
    return await settle(ctx, credential, secret, startedAt, options, undefined);
  } finally {
    ctx.secrets.delete(secret);
  }
}

/**
 * The outcome rule, attempt by attempt. `firstAttempt` is the answer of an attempt already made
 * (changeCredential's first): it is judged here exactly as one made in the loop would be.
 */
async function settle(
  ctx: WorkerContext,
  credential: Credential,
  secret: string | undefined,
  startedAt: string,
  options: ChangeOptions,
  firstAttempt: { error: DirectAdminError } | undefined,
): Promise<CredentialOutcome> {
  const sleep = ctx.sleep ?? sleepUnlessAborted;
  const success: OutcomeStatus = ctx.kind.action === 'revoke' ? 'revoked' : 'rotated';
  let attempts = 0;
  const done = (status: OutcomeStatus, verified: boolean, error?: unknown): CredentialOutcome => {
    const stop = isDirectAdminError(error) ? kindStop(credential.kind, error) : undefined;
    return {
      credential,
      status,
      secret: status === 'failed' || status === 'not-sent' ? undefined : secret,
      attempts,
      verified,
      error: error === undefined ? undefined : ctx.secrets.scrub(describeError(error)),
      fatal: isDirectAdminError(error) && error.fatal ? error : undefined,
      refusal: status === 'failed' && !stop && isDirectAdminError(error) ? systematicRefusal(error) : undefined,
      ...(stop ? { stop } : {}),
      startedAt,
      finishedAt: new Date().toISOString(),
    };
  };
  /** Some attempt may have applied the change. Sticky: a read saying "not live" is no proof (servers lie for suspended accounts). */
  let maybeLive = options.verifyFirst === true;
  let needCheck = maybeLive;
  let lastError: unknown;
  let made = firstAttempt;
  for (;;) {
    if (needCheck) {
      needCheck = false;
      const r = await runCheck(ctx, credential, secret);
      if (r.proved === true) return done(success, true);
      if (r.proved === undefined && r.error) return done('unknown', false, r.error);
    }
    let e: DirectAdminError;
    if (made) {
      // The attempt changeCredential already made: counted, and judged below like any other.
      attempts++;
      e = made.error;
      made = undefined;
    } else {
      if (attempts > ctx.retries) break;
      // Stopping: nothing new leaves; a resume settles this credential from the journal.
      if (ctx.signal.aborted) return done(maybeLive ? 'unknown' : 'not-sent', false, lastError ?? 'run stopped');
      if (attempts > 0) {
        ctx.onRetry?.();
        await sleep(backoffDelay(ctx.retryDelayMs, attempts), ctx.signal);
        if (ctx.signal.aborted) return done(maybeLive ? 'unknown' : 'not-sent', false, lastError ?? 'run stopped');
      }
      attempts++;
      try {
        await ctx.kind.apply(ctx.kctx, credential, secret);
        return done(success, false);
      } catch (x) {
        if (!isDirectAdminError(x)) throw x;
        e = x;
      }
    }
    lastError = e;
    if (e.fatal) {
      if (maybeLive || e.mayHaveWritten) return done('unknown', false, e);
      // The server answered and refused it with everything else (a failed login, a blacklist): sent,
      // so not `not-started`, and nothing applied: failed, for the whole run (a resume sends it again).
      // A TLS failure never let the request leave.
      if (e.kind === 'tls') return done('not-sent', false, e);
      return { ...done('failed', false, e), wholeRun: true };
    }
    if (e.kind === 'command') {
      // "isn't different" / "already gone": the change is in effect, whoever applied it.
      if (ctx.kind.provesDone(e)) return done(success, true);
      if (!saysAppliedAnyway(e)) return done(maybeLive ? 'unknown' : 'failed', false, e);
      // "changed, however the account is still suspended" with error=1: applied by its own words,
      // settled like any answer that may have applied (a proving read, or a resend's "isn't different").
      maybeLive = true;
      needCheck = ctx.kind.check !== undefined;
      continue;
    }
    if (e.mayHaveWritten) {
      maybeLive = true;
      needCheck = ctx.kind.check !== undefined;
    }
    // Not safe to send again (a 4xx from a proxy): settle by reading only.
    if (!e.retryable) {
      if (needCheck) {
        needCheck = false;
        const r = await runCheck(ctx, credential, secret);
        if (r.proved === true) return done(success, true);
      }
      break;
    }
  }
  return done(maybeLive ? 'unknown' : 'failed', false, lastError);
}
