/**
 * A whole run against one server: connect and preflight, select accounts, then either plan
 * (nothing written) or rotate with a journal, a report, a lock and a concurrency limit.
 */
import { dirname, join, resolve } from 'node:path';
import pLimit from 'p-limit';
import { DirectAdminClient } from '../directadmin/index.js';
import { ExitCode, RunAborted, UsageError } from '../errors.js';
import type { Logger, SecretRegistry } from '../log.js';
import { formatProgress, msg, type StatusCounts, type SummaryView } from '../messages.js';
import type { ConnectionSettings, SelectionSettings, WorkSettings } from '../options.js';
import { enumerateAccounts, type DirectAdminReader, type Selection } from './enumerate.js';
import { hashAccounts, isSettled, JournalWriter, readJournal, type IntentRecord, type JournalHeader } from './journal.js';
import { acquireLock, LockHeld, lockPathFor, type AcquiredLock } from './lock.js';
import { generatePassword, type PasswordPolicy } from './password.js';
import { ensurePrivateDir, ReportWriter, rowsFromJournal, type ReportRow, type ReportStatus } from './report.js';
import { rotateAccount, type AccountOutcome, type PasswordWriter, type WorkerContext } from './worker.js';

/** Set by SIGINT/SIGTERM (or a test): stop dispatching, let in-flight work settle. */
export class StopSignal {
  stopped = false;
  reason: 'interrupt' | undefined;
  private listeners: Array<() => void> = [];
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.reason = 'interrupt';
    for (const l of this.listeners) l();
  }
  onStop(l: () => void): void {
    this.listeners.push(l);
  }
}

export interface RunContext {
  log: Logger;
  secrets: SecretRegistry;
  stderr: NodeJS.WritableStream;
  /** stdin and stderr are a terminal: a confirmation prompt can be asked. */
  interactive: boolean;
  /** stderr is a terminal: draw a progress line there. */
  progress: boolean;
  /** Called about every 250 ms while a rotation dispatches (fleet runs draw one line per server from it). */
  onProgress?: (p: ProgressEvent) => void;
  confirm: (question: string) => Promise<boolean>;
  stop: StopSignal;
  /** Directory default reports go to. */
  outputDir?: string;
  /** The command line that resumes this run, for messages; built by the CLI. */
  resumeCommand?: (journal: string) => string;
}

export interface ProgressEvent {
  server: string;
  done: number;
  total: number;
  counts: StatusCounts;
  /** Requests allowed in flight now (changes under --concurrency auto). */
  concurrency: number;
}

export interface RunSummary extends SummaryView {
  exitCode: number;
  scope: string;
  secretSource: string;
  total: number;
  /** Plans only: the accounts that would be rotated. */
  accounts?: string[];
}

export interface RotationRequest {
  mode: 'rotate' | 'plan';
  connection: ConnectionSettings;
  selection: SelectionSettings;
  policy: PasswordPolicy;
  samePassword?: string;
  work: WorkSettings;
  output?: string;
  yes: boolean;
}

export function hostKey(baseUrl: string): string {
  const u = new URL(baseUrl);
  return `${u.hostname}_${u.port || (u.protocol === 'https:' ? '443' : '80')}`.replace(/[^A-Za-z0-9.-]/g, '_');
}

function timestamp(d = new Date()): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

export function journalPathFor(report: string): string {
  return report.replace(/\.csv$/i, '') + '.journal.jsonl';
}

function emptyCounts(): StatusCounts {
  return { rotated: 0, failed: 0, unknown: 0, skipped: 0, planned: 0 };
}

/** The client for a run; a connection it refuses to make (plain http to a remote host) is a usage error. */
export function makeClient(c: ConnectionSettings, concurrency: number, log?: Logger): DirectAdminClient {
  try {
    return newClient(c, concurrency, log);
  } catch (e) {
    throw new UsageError(describe(e));
  }
}

function newClient(c: ConnectionSettings, concurrency: number, log?: Logger): DirectAdminClient {
  return new DirectAdminClient({
    // Per-request trace: command, status and time only; the client never hands over a secret.
    onRequest: log?.isLevelEnabled('trace')
      ? (e) => log.trace({ command: e.command, method: e.method, status: e.status, ms: Math.round(e.durationMs), err: e.error?.message }, 'request')
      : undefined,
    baseUrl: c.baseUrl,
    username: c.username,
    secret: c.secret,
    tls: c.tls,
    allowHttp: c.allowHttp,
    timeoutMs: c.timeoutMs,
    connections: concurrency,
    format: c.format,
  });
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** CMD_API_LOGIN_TEST must say "Login OK" before anything else is asked. */
export async function preflight(client: DirectAdminReader, ctx: RunContext): Promise<void> {
  try {
    await client.loginTest();
  } catch (e) {
    throw new RunAborted(msg.loginTestFailed(ctx.secrets.scrub(describe(e))), { cause: e });
  }
}

async function select(client: DirectAdminReader, req: { connection: ConnectionSettings; selection: SelectionSettings }, ctx: RunContext): Promise<Selection> {
  let selection: Selection;
  try {
    selection = await enumerateAccounts(client, {
      scope: req.selection.scope,
      self: req.connection.username,
      exclude: req.selection.exclude,
      only: req.selection.only,
    });
  } catch (e) {
    throw new RunAborted(msg.enumerationFailed(ctx.secrets.scrub(describe(e))), { cause: e });
  }
  if (selection.missing.length > 0) throw new UsageError(msg.onlyMissing(selection.missing));
  return selection;
}

function skippedRows(server: string, selection: Pick<Selection, 'skipped'>): ReportRow[] {
  return selection.skipped.map((s) => ({ server, username: s.username, status: 'skipped' as const, attempts: 0, verified: false, error: s.reason }));
}

function outcomeRow(server: string, o: AccountOutcome): ReportRow {
  const status: ReportStatus = o.status === 'not-sent' ? 'skipped' : o.status;
  return {
    server,
    username: o.username,
    status,
    // A failed or never-sent change did not take effect; unknown may have: keep its password.
    password: o.status === 'rotated' || o.status === 'unknown' ? o.password : undefined,
    attempts: o.attempts,
    verified: o.verified,
    error: o.status === 'not-sent' ? `not sent: ${o.error ?? 'run stopped'}` : o.error,
    startedAt: o.startedAt,
    finishedAt: o.finishedAt,
  };
}

interface WorkItem {
  username: string;
  password: string | undefined;
  /** An earlier run journaled this password: it may have been sent, so verify before sending. */
  journaled: boolean;
}

interface DispatchResult {
  counts: StatusCounts;
  aborted?: string;
  /** Accounts whose outcome was recorded in this dispatch. */
  finished: Set<string>;
  /** Accounts whose intent this dispatch journaled ahead but never sent. */
  prefetchedNotSent: Set<string>;
}

/**
 * Journals intents ahead of the requests: a window of accounts gets its passwords in one
 * write + fdatasync, started while earlier requests are still in flight. The rule stays "on disk
 * before sent"; the fsync just stops sitting between one request and the next. An intent journaled
 * but never sent (crash, stop) is harmless: a resume verifies it before anything else.
 */
class IntentReadAhead {
  private next = 0;
  private readonly batches: Array<Promise<void>> = [];
  private readonly batchOf: number[] = [];
  readonly journaledHere = new Set<string>();

  constructor(
    private readonly items: WorkItem[],
    private readonly journal: JournalWriter,
    private readonly window: number,
    private readonly passwordFor: (item: WorkItem) => string,
  ) {}

  /** Resolves once items[index]'s password is durable; keeps the next window in flight. */
  ready(index: number): Promise<void> {
    while (this.next <= Math.min(index + Math.ceil(this.window / 2), this.items.length - 1)) this.startBatch();
    return this.batches[this.batchOf[index]!]!;
  }

  private startBatch(): void {
    const from = this.next;
    const to = Math.min(this.items.length, from + this.window);
    const batchIndex = this.batches.length;
    const records: IntentRecord[] = [];
    const at = new Date().toISOString();
    for (let i = from; i < to; i++) {
      const item = this.items[i]!;
      this.batchOf[i] = batchIndex;
      if (item.journaled) continue;
      item.password ??= this.passwordFor(item);
      records.push({ t: 'intent', u: item.username, pw: item.password, at });
      this.journaledHere.add(item.username);
    }
    this.next = to;
    this.batches.push(records.length ? this.journal.appendMany(records) : Promise.resolve());
  }
}

/** Runs the worker over the items with p-limit; stops dispatching on a fatal error, a signal or --max-failures. */
async function dispatch(
  items: WorkItem[],
  req: { work: WorkSettings; policy: PasswordPolicy; samePassword?: string },
  server: string,
  writer: PasswordWriter,
  client: DirectAdminClient,
  journal: JournalWriter,
  report: ReportWriter,
  counts: StatusCounts,
  ctx: RunContext,
): Promise<DispatchResult> {
  const limit = pLimit(req.work.concurrency);
  let aborted: string | undefined;
  let failures = 0;
  let done = 0;
  const finished = new Set<string>();
  const started = new Set<string>();
  // Queued jobs are not cleared (p-limit's clearQueue would leave their promises pending forever):
  // each one checks stopping() first and returns at once.
  const stopping = () => ctx.stop.stopped || aborted !== undefined;
  const stopAll = (reason: string) => {
    if (aborted === undefined) aborted = reason;
  };
  const readAhead = new IntentReadAhead(items, journal, Math.max(16, req.work.concurrency * 2), () => req.samePassword ?? generatePassword(req.policy));
  const wctx: WorkerContext = {
    writer,
    verifier: client,
    journal,
    secrets: ctx.secrets,
    retries: req.work.retries,
    retryDelayMs: req.work.retryDelayMs,
    stopping,
  };
  let progress: NodeJS.Timeout | undefined;
  if (ctx.progress || ctx.onProgress) {
    progress = setInterval(() => {
      if (ctx.progress) ctx.stderr.write(`\r\x1b[K${formatProgress(done, items.length, counts)}`);
      ctx.onProgress?.({ server, done, total: items.length, counts, concurrency: limit.concurrency });
    }, 250);
    progress.unref();
  }
  const job = async (item: WorkItem, index: number): Promise<void> => {
    if (stopping()) return;
    try {
      await readAhead.ready(index);
    } catch (e) {
      // Without a durable journal no password may be sent: stop everything.
      stopAll(describe(e));
      return;
    }
    if (stopping()) return;
    started.add(item.username);
    const outcome = await rotateAccount(wctx, item.username, item.password!, { journaled: true, verifyFirst: item.journaled });
    done++;
    finished.add(outcome.username);
    journal
      .append(
        {
          t: 'outcome',
          u: outcome.username,
          status: outcome.status,
          attempts: outcome.attempts,
          verified: outcome.verified,
          error: outcome.error,
          startedAt: outcome.startedAt,
          finishedAt: outcome.finishedAt,
        },
        false,
      )
      .catch((e: unknown) => stopAll(describe(e)));
    const row = outcomeRow(server, outcome);
    counts[row.status]++;
    report.write(row);
    if (ctx.log.isLevelEnabled('debug')) {
      ctx.log.debug({ user: outcome.username, status: outcome.status, attempts: outcome.attempts, verified: outcome.verified, err: outcome.error }, 'account settled');
    }
    if (outcome.fatal) stopAll(outcome.fatal.message);
    if (outcome.status === 'failed' || outcome.status === 'unknown') {
      failures++;
      if (req.work.maxFailures > 0 && failures >= req.work.maxFailures) stopAll(msg.maxFailures(failures));
    }
  };
  try {
    await Promise.all(items.map((item, index) => limit(() => job(item, index))));
  } finally {
    if (progress) {
      clearInterval(progress);
      if (ctx.progress) ctx.stderr.write('\r\x1b[K');
    }
  }
  const prefetchedNotSent = new Set([...readAhead.journaledHere].filter((u) => !started.has(u)));
  return { counts, aborted, finished, prefetchedNotSent };
}

/** Rows for accounts the run stopped before settling; the journal leaves them to a resume. */
function unfinishedRows(server: string, items: WorkItem[], result: DispatchResult, reason: string): ReportRow[] {
  return items
    .filter((i) => !result.finished.has(i.username))
    .map((i) =>
      i.journaled && !result.prefetchedNotSent.has(i.username)
        ? {
            server,
            username: i.username,
            status: 'unknown' as const,
            password: i.password,
            attempts: 0,
            verified: false,
            error: `${reason} before an earlier journaled change was verified: run \`da-rotate resume\``,
          }
        : { server, username: i.username, status: 'skipped' as const, attempts: 0, verified: false, error: `not started: ${reason}` },
    );
}

function exitCodeFor(counts: StatusCounts, aborted: string | undefined, interrupted: boolean): number {
  if (interrupted) return ExitCode.Interrupted;
  if (aborted) return ExitCode.Aborted;
  return counts.failed + counts.unknown > 0 ? ExitCode.Partial : ExitCode.Ok;
}

async function lockFor(report: string, server: string, ctx: RunContext): Promise<AcquiredLock> {
  try {
    const lock = await acquireLock(lockPathFor(dirname(report), hostKey(server)), server);
    if (lock.tookOver) ctx.log.warn(msg.lockTakenOver(lock.tookOver.pid, lock.tookOver.host));
    return lock;
  } catch (e) {
    if (e instanceof LockHeld) throw new RunAborted(e.message);
    throw e;
  }
}

export async function runRotation(req: RotationRequest, ctx: RunContext): Promise<RunSummary> {
  const started = Date.now();
  const c = req.connection;
  for (const w of c.warnings) ctx.log.warn(w);
  if (req.samePassword) ctx.log.warn(msg.samePasswordWeak);
  ctx.secrets.add(c.secret);
  if (req.samePassword) ctx.secrets.add(req.samePassword);
  const client = makeClient(c, req.work.concurrency, ctx.log);
  const server = client.origin;
  try {
    ctx.log.info({ server, user: c.username, secretSource: c.secretSource, scope: req.selection.scope, mode: req.mode }, 'connecting');
    await preflight(client, ctx);
    const selection = await select(client, req, ctx);
    ctx.log.info({ selected: selection.selected.length, skipped: selection.skipped.length }, 'accounts selected');

    const reportPath = resolve(req.output ?? join(ctx.outputDir ?? 'output', `${req.mode === 'plan' ? 'plan' : 'rotation'}-${hostKey(server)}-${timestamp()}.csv`));
    const base = {
      mode: req.mode,
      server,
      user: c.username,
      scope: req.selection.scope,
      secretSource: c.secretSource,
      total: selection.selected.length,
      report: reportPath,
    };

    if (req.mode === 'plan') {
      // A plan has no PasswordWriter at all: nothing below can change a password.
      const counts = emptyCounts();
      await ensurePrivateDir(dirname(reportPath));
      const report = await ReportWriter.create(reportPath);
      const now = new Date().toISOString();
      for (const row of skippedRows(server, selection)) {
        counts.skipped++;
        report.write(row);
      }
      for (const username of selection.selected) {
        counts.planned++;
        report.write({ server, username, status: 'planned', attempts: 0, verified: false, startedAt: now, finishedAt: now });
      }
      await report.close();
      return { ...base, counts, durationMs: Date.now() - started, exitCode: ExitCode.Ok, accounts: selection.selected };
    }

    if (selection.selected.length === 0) ctx.log.warn(msg.nothingSelected);
    if (!req.yes && selection.selected.length > 0) {
      if (!ctx.interactive) throw new UsageError(msg.needsYes);
      if (!(await ctx.confirm(msg.confirmRotate(selection.selected.length, server, c.username)))) throw new UsageError(msg.notConfirmed);
    }

    await ensurePrivateDir(dirname(reportPath));
    const lock = await lockFor(reportPath, server, ctx);
    const journalPath = journalPathFor(reportPath);
    let journal: JournalWriter | undefined;
    let report: ReportWriter | undefined;
    try {
      report = await ReportWriter.create(reportPath);
      journal = await JournalWriter.create(journalPath);
      const header: JournalHeader = {
        t: 'header',
        v: 1,
        server,
        host: new URL(server).host,
        user: c.username,
        scope: req.selection.scope,
        startedAt: new Date(started).toISOString(),
        report: reportPath,
        options: {
          length: req.policy.length,
          symbols: req.policy.symbols,
          samePassword: req.samePassword !== undefined,
          exclude: req.selection.exclude,
          only: req.selection.only ?? null,
        },
        accounts: selection.selected,
        accountsSha256: hashAccounts(selection.selected),
        skipped: selection.skipped,
      };
      await journal.append(header);
      const counts = emptyCounts();
      for (const row of skippedRows(server, selection)) {
        counts.skipped++;
        report.write(row);
      }
      const items: WorkItem[] = selection.selected.map((username) => ({ username, password: undefined, journaled: false }));
      const result = await dispatch(items, req, server, client, client, journal, report, counts, ctx);
      return await finish(base, items, result, journal, report, journalPath, started, client, ctx);
    } finally {
      await closeRun(journal, report, lock);
    }
  } finally {
    ctx.secrets.delete(c.secret);
    if (req.samePassword) ctx.secrets.delete(req.samePassword);
    await client.close().catch(() => undefined);
  }
}

/** Closes what a run opened, however it ended (finish() has already flushed both files). */
async function closeRun(journal: JournalWriter | undefined, report: ReportWriter | undefined, lock: AcquiredLock): Promise<void> {
  await journal?.close().catch(() => undefined);
  await report?.close().catch(() => undefined);
  await lock.release();
}

async function finish(
  base: Omit<RunSummary, 'counts' | 'durationMs' | 'exitCode'>,
  items: WorkItem[],
  result: DispatchResult,
  journal: JournalWriter,
  report: ReportWriter,
  journalPath: string,
  started: number,
  client: DirectAdminClient,
  ctx: RunContext,
): Promise<RunSummary> {
  const interrupted = ctx.stop.stopped;
  const aborted = result.aborted ?? client.fatalError?.message;
  const counts = result.counts;
  const now = new Date().toISOString();
  // Journaled ahead, never sent: say so, so nobody mistakes the intent for a change.
  if (result.prefetchedNotSent.size > 0) await journal.appendMany(
    [...result.prefetchedNotSent].map((u) => ({ t: 'outcome' as const, u, status: 'not-sent' as const, attempts: 0, verified: false, error: 'not started', startedAt: now, finishedAt: now })),
    false,
  );
  for (const row of unfinishedRows(base.server, items, result, interrupted ? 'run interrupted' : 'run aborted')) {
    counts[row.status]++;
    report.write(row);
  }
  await journal.append({ t: 'end', at: new Date().toISOString(), pid: process.pid, reason: interrupted ? 'interrupted' : aborted ? 'aborted' : 'complete' });
  let reportError: string | undefined;
  try {
    await report.close();
  } catch (e) {
    // The journal holds every password; the report can be rebuilt from it with `resume`.
    reportError = msg.reportNotWritten(base.report, journalPath, describe(e));
    ctx.log.error(reportError);
  }
  const resumeCommand =
    interrupted || aborted || counts.unknown > 0 ? (ctx.resumeCommand?.(journalPath) ?? `da-rotate resume ${journalPath}`) : undefined;
  ctx.log.info({ counts, aborted, interrupted }, 'run finished');
  return {
    ...base,
    counts,
    durationMs: Date.now() - started,
    journal: journalPath,
    aborted: aborted ? ctx.secrets.scrub(aborted) : undefined,
    interrupted,
    resumeCommand,
    reportError,
    exitCode: reportError && !interrupted && !aborted ? ExitCode.Partial : exitCodeFor(counts, aborted, interrupted),
  };
}

export interface ResumeRequest {
  journal: string;
  connection: ConnectionSettings;
  work: WorkSettings;
  samePassword?: string;
}

/** Finishes an interrupted run from its journal: settled accounts untouched, intents verified, the rest rotated. */
export async function runResume(req: ResumeRequest, ctx: RunContext): Promise<RunSummary> {
  const started = Date.now();
  const journalPath = resolve(req.journal);
  let state;
  try {
    state = readJournal(journalPath);
  } catch (e) {
    throw new UsageError(describe(e));
  }
  const { header } = state;
  const c = req.connection;
  for (const w of c.warnings) ctx.log.warn(w);
  ctx.secrets.add(c.secret);
  const client = makeClient(c, req.work.concurrency, ctx.log);
  const server = client.origin;
  try {
    if (server !== header.server) throw new UsageError(msg.journalServerMismatch(header.server, server));
    if (c.username !== header.user) ctx.log.warn(msg.journalUserMismatch(header.user, c.username));
    await preflight(client, ctx);
    const reportPath = header.report;
    const lock = await lockFor(reportPath, server, ctx);
    let journal: JournalWriter | undefined;
    let report: ReportWriter | undefined;
    try {
      journal = await JournalWriter.openAppend(journalPath);
      await journal.append({ t: 'resume', at: new Date().toISOString(), pid: process.pid });
      const settledRows = rowsFromJournal(state, { includePending: false }).filter(
        (r) => r.status === 'skipped' || isSettled(state.outcomes.get(r.username)),
      );
      report = await ReportWriter.rebuild(reportPath, settledRows);
      const counts = emptyCounts();
      for (const r of settledRows) counts[r.status]++;
      let samePassword = req.samePassword;
      if (header.options.samePassword && !samePassword) {
        samePassword = state.intents.values().next().value?.pw;
        if (!samePassword && header.accounts.some((u) => !isSettled(state.outcomes.get(u)))) throw new UsageError(msg.resumeNeedsSamePassword);
      }
      if (samePassword) ctx.secrets.add(samePassword);
      const items: WorkItem[] = [];
      for (const u of header.accounts) {
        if (isSettled(state.outcomes.get(u))) continue;
        const intent = state.intents.get(u);
        items.push({ username: u, password: intent?.pw, journaled: intent !== undefined });
      }
      ctx.log.info({ server, pending: items.length, settled: header.accounts.length - items.length }, 'resuming');
      const policy = { length: header.options.length, symbols: header.options.symbols };
      const result = await dispatch(items, { work: req.work, policy, samePassword }, server, client, client, journal, report, counts, ctx);
      const base = {
        mode: 'resume' as const,
        server,
        user: c.username,
        scope: header.scope,
        secretSource: c.secretSource,
        total: header.accounts.length,
        report: reportPath,
      };
      const summary = await finish(base, items, result, journal, report, journalPath, started, client, ctx);
      if (samePassword) ctx.secrets.delete(samePassword);
      return summary;
    } finally {
      await closeRun(journal, report, lock);
    }
  } finally {
    ctx.secrets.delete(c.secret);
    await client.close().catch(() => undefined);
  }
}
