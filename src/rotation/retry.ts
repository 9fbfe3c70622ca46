/** Backoff and retries shared by every request the run sends, reads and writes alike. */
import { setTimeout as sleep } from 'node:timers/promises';
import { isDirectAdminError, type DirectAdminError } from '../directadmin/errors.js';

/** Exponential backoff with full jitter, capped at 30 s. */
export function backoffDelay(baseMs: number, retry: number): number {
  const cap = Math.min(30_000, baseMs * 2 ** Math.max(0, retry - 1));
  return Math.round(cap / 2 + Math.random() * (cap / 2));
}

/** Sleeps, or returns at once when the signal aborts (a stop must never wait out a backoff). */
export async function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted || ms <= 0) return;
  await sleep(ms, undefined, { signal }).catch(() => undefined);
}

export interface ReadRetryOptions {
  retries: number;
  retryDelayMs: number;
  signal: AbortSignal;
  onRetry?: (error: DirectAdminError, attempt: number) => void;
}

/**
 * Whether a failed read should be asked again: transport errors and 5xx, never authentication or a
 * refusal, and not a read that already used its whole --timeout (a server trickling its answer would
 * hold the run for retries x --timeout; writes still retry it, to settle what they may have applied).
 */
export function worthRetrying(e: unknown): e is DirectAdminError {
  if (!isDirectAdminError(e) || e.fatal || !e.retryable) return false;
  return (e as DirectAdminError & { transportCode?: string }).transportCode !== 'DEADLINE_EXCEEDED';
}

export class ReadRetriesSpent extends Error {
  readonly code = 'READ_RETRIES_SPENT';
  constructor(
    readonly command: string,
    readonly attempts: number,
    readonly last: DirectAdminError,
  ) {
    super(`${last.message} (${attempts} attempt${attempts === 1 ? '' : 's'})`, { cause: last });
    this.name = 'ReadRetriesSpent';
  }
}

/** Sends a read again after transport errors and 5xx, with the same budget as changes. */
export async function withReadRetries<T>(read: () => Promise<T>, o: ReadRetryOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (e) {
      if (!worthRetrying(e)) throw e;
      if (attempt > o.retries || o.signal.aborted) throw new ReadRetriesSpent(e.command, attempt, e);
      o.onRetry?.(e, attempt);
      await sleepUnlessAborted(backoffDelay(o.retryDelayMs, attempt), o.signal);
      if (o.signal.aborted) throw new ReadRetriesSpent(e.command, attempt, e);
    }
  }
}
