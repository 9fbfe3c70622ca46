/** How a run works (--concurrency, retries, --settle, --deadline) and the files it keeps (state, encryption). */
import { stateDirFor } from '../rotation/lock.js';
import type { FileSettings, WorkSettings } from '../rotation/settings.js';
import { DEFAULT_CONCURRENCY } from './table.js';
import type { Env } from './types.js';
import { checkedArgv, type ArgvInput } from './validate.js';

/** --concurrency N, or auto: the adaptive limit starts at 8, the fixed default (the pool is sized for its ceiling). */
function concurrencyOf(concurrency: number | 'auto' | undefined): { concurrency: number; adaptive: boolean } {
  if (concurrency === undefined) return { concurrency: DEFAULT_CONCURRENCY, adaptive: false };
  if (concurrency === 'auto') return { concurrency: DEFAULT_CONCURRENCY, adaptive: true };
  return { concurrency, adaptive: false };
}

/** Whether --concurrency was given (resume otherwise runs at the interrupted run's). */
export function concurrencyGiven(input: ArgvInput): boolean {
  return checkedArgv(input).concurrency !== undefined;
}

export function resolveWork(input: ArgvInput): WorkSettings {
  const argv = checkedArgv(input);
  return {
    ...concurrencyOf(argv.concurrency),
    retries: argv.retries,
    retryDelayMs: Math.round(argv.retryDelay * 1000),
    maxFailures: argv.maxFailures,
    settle: argv.settle,
    deadlineMs: argv.deadline,
  };
}

/** --state-dir, --abandon-previous, --encrypt-to and --identity, read and checked before any request. */
export async function resolveFiles(input: ArgvInput, env: Env): Promise<FileSettings> {
  const argv = checkedArgv(input);
  const recipients = argv.encryptTo;
  const identity = argv.identity;
  // age is loaded only when a run encrypts or reads an encrypted run.
  const crypto = recipients.length || identity ? await import('../crypto/index.js') : undefined;
  return {
    stateDir: stateDirFor(env, argv.stateDir),
    abandonPrevious: argv.abandonPrevious === true,
    ...(recipients.length ? { encryptTo: crypto!.parseRecipients(recipients) } : {}),
    ...(identity ? { identities: crypto!.readIdentityFile(identity) } : {}),
  };
}
