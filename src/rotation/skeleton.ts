/**
 * The skeleton every run against one server shares (rotate, plan and resume): open (client,
 * preflight) -> dispatch -> finish -> close, and the context and summary they report through.
 */
import { describeError, ExitCode, RunAborted, RunInterrupted, UsageError } from '../errors.js';
import { FileWriteFailed } from '../files.js';
import { recordLastRun } from './last-run.js';
import type { Logger, SecretRegistry } from '../log.js';
import { dbUserSites, msg, type StatusCounts, type SummaryView } from '../messages.js';
import { MAX_CONCURRENCY } from './adaptive-concurrency.js';
import { kindContext, makeClient, preflight, readRetryOptions } from './connection.js';
import type { DispatchResult, WorkItem } from './dispatch.js';
import { acquireLock, acquireServerLock, LockHeld, type AcquiredLock } from './lock.js';
import { baseRow, type ReportRow } from './report.js';
import type { ReadRetryOptions } from './retry.js';
import type { ConnectionSettings } from './settings.js';
import type { RunState } from './state.js';
import type { MetricsRecorder } from './metrics.js';
import { setLogServer } from '../log.js';

/** Set by SIGINT/SIGTERM (or a test): stop dispatching, let in-flight work settle. */
export class StopSignal {
  stopped = false;
  private listeners: Array<() => void> = [];
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const l of this.listeners) l();
  }
  onStop(l: () => void): void {
    if (this.stopped) l();
    else this.listeners.push(l);
  }
}

export interface ProgressEvent {
  server: string;
  done: number;
  total: number;
  counts: StatusCounts;
  /** Requests allowed in flight now (changes under --concurrency auto). */
  concurrency: number;
  /** Credentials settled per second since dispatch began. */
  rate: number;
  /** Before the first change: logging in, or listing (then changes follow; absent while changing). */
  phase?: 'login' | 'listing';
  /** Listing: accounts selected (once known) and credentials found so far, and the share of the listing done (0..1). */
  accounts?: number;
  credentials?: number;
  fraction?: number;
}

export interface RunContext {
  log: Logger;
  secrets: SecretRegistry;
  stderr: NodeJS.WritableStream;
  /** stdin and stderr are a terminal: a confirmation prompt can be asked. */
  interactive: boolean;
  /** Called about every 250 ms while a run dispatches; app.ts draws the progress line from it. */
  onProgress?: (p: ProgressEvent) => void;
  confirm: (question: string) => Promise<boolean>;
  stop: StopSignal;
  /** Directory default reports go to. */
  outputDir?: string;
  /** The command line that resumes this run, for messages; built by the CLI. */
  resumeCommand?: (journal: string) => string;
  /** --metrics-file: each server's run records what it did here, whatever its end. */
  metrics?: MetricsRecorder;
}

export interface RunSummary extends SummaryView {
  exitCode: number;
  scope: string;
  secretSource: string;
  /** Credentials the run covers (accounts for account-only runs). */
  total: number;
  /** Plans only: the credentials that would be changed, as kind:owner:name. */
  planned?: string[];
  /** Failed and unknown credentials by id, for schedulers. */
  failedCredentials?: string[];
  unknownCredentials?: string[];
  health?: { requests: number; retries: number; serverErrors: number; transportErrors: number };
  /** The concurrency limit at the end (under --concurrency auto, the one it settled on). */
  concurrency?: number;
  concurrencyMode?: 'auto';
}

export type SummaryBase = Omit<RunSummary, 'counts' | 'durationMs' | 'exitCode'>;

export function hostKey(baseUrl: string): string {
  const u = new URL(baseUrl);
  return `${u.hostname}_${u.port || (u.protocol === 'https:' ? '443' : '80')}`.replace(/[^A-Za-z0-9.-]/g, '_');
}

export function journalPathFor(report: string): string {
  return report.replace(/\.csv$/i, '') + '.journal.jsonl';
}

/** The client for the run, made without sending anything: its origin names the server for the checks that come first. */
export function openClient(state: RunState, connection: ConnectionSettings, ctx: RunContext): void {
  for (const w of connection.warnings) ctx.log.warn(w);
  // Under --concurrency auto the pool is sized for the limit's ceiling, not its start.
  const connections = state.adaptive ? MAX_CONCURRENCY : state.work.concurrency;
  state.client = makeClient(connection, connections, {
    log: ctx.log,
    health: state.health,
    signal: state.abandon.signal,
    onSample: state.adaptive ? (e) => state.sample(e) : undefined,
  });
  state.server = state.client.origin;
  // Every later log line of this run names the server.
  setLogServer(ctx.log, state.server);
  state.kctx = kindContext(state.client, state.work, ctx.log);
}

/** The first request: the login test. */
export async function connect(state: RunState, connection: ConnectionSettings, ctx: RunContext): Promise<ReadRetryOptions> {
  const retry = readRetryOptions(state.work, state.halt.signal, state.health);
  ctx.log.info({ user: connection.username, secretSource: connection.secretSource }, 'connecting');
  await preflight(state.client, retry, ctx.secrets);
  return retry;
}

/**
 * The login test and the listing: a stop (SIGINT, SIGTERM, SIGHUP) abandons them at once (RunState
 * preflight) and the run ends interrupted, exit 130; nothing was changed.
 */
export async function stoppableBeforeChanges<T>(state: RunState, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    if (state.haltKind === 'interrupt') throw new RunInterrupted(msg.interruptedBeforeChanges);
    throw e;
  }
}

/**
 * The last-run record (state directory) could not be written after the journal was created: a
 * clean stop, exit 3, with the resume line (whatever the errno: ENOSPC, EIO, EACCES...).
 */
export async function recordLastRunOrStop(state: RunState, stateDir: string, journalPath: string): Promise<void> {
  try {
    await recordLastRun(stateDir, state.server, journalPath);
  } catch (e) {
    const f = e instanceof FileWriteFailed ? e : new FileWriteFailed(journalPath, describeError(e));
    throw new RunAborted(msg.writeStopped(f.path, f.errno, state.resumeCommand(journalPath)), { cause: f });
  }
}

/** One run per server at a time, wherever its reports go: the lock lives in the state directory. */
export async function lockServer(stateDir: string, server: string, ctx: RunContext, command = 'rotate'): Promise<AcquiredLock> {
  try {
    const lock = await acquireServerLock(stateDir, server, command);
    if (lock.tookOver) ctx.log.warn(msg.lockTakenOver(lock.tookOver.pid, lock.tookOver.host));
    return lock;
  } catch (e) {
    if (e instanceof LockHeld) throw new RunAborted(e.message, { cause: e });
    // A full or failing state directory, before any request: a usage error naming it, never a bug.
    if (e instanceof FileWriteFailed) throw new UsageError(msg.cannotCreateNoSpace(e.path, e.errno));
    throw e;
  }
}

/**
 * The journal's own lock, `<journal>.lock` beside it (Node has no flock(2)): created exclusively by
 * link(2), holding pid, host and start time; a lock whose pid is dead on this host is taken over
 * (lock.ts). `rotate` and `resume` hold it while they write the journal, so two resumes of one
 * journal never both run, even from two hosts sharing the directory.
 */
export async function lockJournal(journal: string, server: string, command = 'rotate'): Promise<AcquiredLock> {
  try {
    return await acquireLock(`${journal}.lock`, server, { command });
  } catch (e) {
    if (e instanceof LockHeld) throw new RunAborted(e.message, { cause: e });
    throw e;
  }
}

/** Closes what a run opened, however it ended (finish() has already flushed both files). */
export async function closeFiles(state: RunState): Promise<void> {
  await state.journal?.close().catch(() => undefined);
  await state.report?.close().catch(() => undefined);
}

/** Rows for credentials the run stopped before settling; the journal leaves them to a resume. */
export function unfinishedRows(state: RunState, items: WorkItem[], result: DispatchResult, reason: string): ReportRow[] {
  return items
    .filter((i) => !result.finished.has(i.id))
    .map((i): ReportRow => {
      const maybeSent = i.journaled && !result.prefetchedNotSent.has(i.id);
      return maybeSent
        ? {
            ...baseRow(state.server, i.credential),
            status: 'unknown',
            password: i.secret,
            // What earlier runs sent (0 only when the run that sent it was killed before its outcome was written).
            attempts: i.earlierAttempts ?? 0,
            verified: false,
            error: `${reason} before an earlier journaled change was settled: run \`da-rotate resume\``,
          }
        : { ...baseRow(state.server, i.credential), status: 'not-started', attempts: 0, verified: false, error: `not started: ${reason}` };
    });
}

export function exitCodeFor(state: RunState, aborted: string | undefined): number {
  if (state.haltKind === 'interrupt') return ExitCode.Interrupted;
  if (aborted) return ExitCode.Aborted;
  return state.counts.failed + state.counts.unknown > 0 ? ExitCode.Partial : ExitCode.Ok;
}

export async function finish(
  state: RunState,
  base: SummaryBase,
  items: WorkItem[],
  result: DispatchResult,
  journalPath: string,
  started: number,
): Promise<RunSummary> {
  const { ctx, counts } = state;
  const interrupted = state.haltKind === 'interrupt';
  const aborted = interrupted ? undefined : (state.haltReason ?? state.client.fatalError?.message);
  const now = new Date().toISOString();
  // Journaled ahead, never sent: say so, so nobody mistakes the intent for a change.
  if (result.prefetchedNotSent.size > 0) {
    await state.journal
      .appendMany(
        [...result.prefetchedNotSent].map((c) => ({
          t: 'outcome' as const,
          c,
          status: 'not-sent' as const,
          attempts: 0,
          verified: false,
          error: 'not started',
          startedAt: now,
          finishedAt: now,
        })),
        false,
      )
      .catch((e: unknown) => ctx.log.error(state.fileFailure(e)));
  }
  for (const row of unfinishedRows(state, items, result, interrupted ? 'run interrupted' : 'run stopped')) {
    state.count(row);
    if (row.status === 'unknown') state.unknownIds.push(`${row.kind}:${row.username}:${row.credential}`);
    state.report.write(row);
  }
  // The end mark and the report's last write and fsync go to disk side by side (neither needs the other).
  const ended = state.journal
    .append({ t: 'end', at: new Date().toISOString(), pid: process.pid, reason: interrupted ? 'interrupted' : aborted ? 'aborted' : 'complete' })
    .catch((e: unknown) => ctx.log.error(state.fileFailure(e)));
  let reportError: string | undefined;
  try {
    await state.report.close();
  } catch (e) {
    // The journal holds every secret; the report can be rebuilt from it with `resume`.
    reportError = msg.reportNotWritten(base.report, journalPath, describeError(e));
    ctx.log.error(reportError);
  }
  await ended;
  const unsettled = counts.unknown + counts['not-started'] > 0;
  const resumeCommand = interrupted || aborted || unsettled || reportError ? state.resumeCommand(journalPath) : undefined;
  ctx.log.info({ counts, aborted, interrupted }, 'run finished');
  // Database users that changed or may have: their sites break until their configuration is edited.
  const failed = new Set(state.failedIds);
  const dbSites = dbUserSites(
    items
      .filter((i) => i.credential.kind === 'db-user' && ((result.finished.has(i.id) && !failed.has(i.id)) || state.unknownIds.includes(i.id)))
      .map((i) => i.credential),
  );
  return {
    ...base,
    counts,
    byKind: state.byKind,
    ...(dbSites.length ? { dbSites } : {}),
    durationMs: Date.now() - started,
    journal: journalPath,
    aborted: aborted ? ctx.secrets.scrub(aborted) : undefined,
    interrupted,
    resumeCommand,
    reportError,
    health: { ...state.health },
    // Under auto, the limit it settled on (a run that ends during a baseline probe is not reported at half).
    concurrency: state.adaptive?.settled ?? state.limiter?.concurrency ?? state.work.concurrency,
    ...(state.adaptive ? { concurrencyMode: 'auto' as const } : {}),
    ...(state.stoppedKinds.size ? { stoppedKinds: [...state.stoppedKinds.values()] } : {}),
    failedCredentials: state.failedIds.length ? state.failedIds : undefined,
    unknownCredentials: state.unknownIds.length ? state.unknownIds : undefined,
    // A report that could not be written stops like a journal that could not: exit 3, the resume line rebuilds it.
    exitCode: reportError && !interrupted ? ExitCode.Aborted : exitCodeFor(state, aborted),
  };
}

/** What a run against one server did, for --metrics-file (called however the run ended). */
export function recordMetrics(state: RunState, ctx: RunContext, started: number): void {
  if (!ctx.metrics || !state.server) return;
  const m = ctx.metrics.server(state.server);
  m.startedAt = started;
  m.endedAt = Date.now();
  m.byKind = state.byKind;
  m.requests = state.health.requests;
  m.retries = state.health.retries;
  m.failedLogins = state.health.failedLogins;
}
