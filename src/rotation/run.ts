/**
 * A whole run against one server. One skeleton serves rotate, plan and resume:
 * open (connect, preflight, select) -> dispatch -> finish -> close.
 */
import { dirname, join, resolve } from 'node:path';
import type { DirectAdminClient } from '../directadmin/index.js';
import { describeError, ExitCode, RunAborted, RunInterrupted, UsageError } from '../errors.js';
import { credentialId, kindByName, type Credential } from '../kinds/index.js';
import type { Logger, SecretRegistry } from '../log.js';
import { msg, type StatusCounts, type SummaryView } from '../messages.js';
import { kindContext, makeClient, preflight, readRetryOptions } from './connection.js';
import { listCredentials, type ListingFailure } from './credentials.js';
import { dispatch, type DispatchResult, type WorkItem } from './dispatch.js';
import { enumerateAccounts, type DirectAdminReader, type Selection } from './enumerate.js';
import { hashCredentials, JournalWriter, readJournal, isSettled, type JournalHeader } from './journal.js';
import { acquireServerLock, LockHeld, type AcquiredLock } from './lock.js';
import { checkNewFile, checkPrivateDir, FileWriteFailed, uniqueReportPath } from '../files.js';
import { EncryptedReport, encryptedReportPath, type ReportSink } from './encrypted-report.js';
import { recordLastRun, unfinishedRun } from './last-run.js';
import type { AgeIdentity, AgeRecipient } from '../crypto/index.js';
import { unlink } from 'node:fs/promises';
import type { PasswordPolicy } from './password.js';
import { baseRow, ReportWriter, rowsFromJournal, skippedRow, type ReportRow } from './report.js';
import { withReadRetries, type ReadRetryOptions } from './retry.js';
import type { ConnectionSettings, SelectionSettings, WorkSettings } from './settings.js';
import { emptyCounts, RunState } from './state.js';
import { MAX_CONCURRENCY } from './adaptive-concurrency.js';

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

export interface RotationRequest {
  mode: 'rotate' | 'plan';
  connection: ConnectionSettings;
  selection: SelectionSettings;
  policy: PasswordPolicy;
  samePassword?: string;
  work: WorkSettings;
  output?: string;
  yes: boolean;
  /** Where per-server locks and last-run records live (stateDirFor). */
  stateDir: string;
  /** Start anew although the server's last run was interrupted; the new journal names the old one. */
  abandonPrevious?: boolean;
  /** age recipients: secrets sealed in the journal, the report written only encrypted. */
  encryptTo?: AgeRecipient[];
}

export interface ResumeRequest {
  journal: string;
  connection: ConnectionSettings;
  work: WorkSettings;
  /** --symbols/--length given to resume: replace the journal's policy (a run stopped by a password policy). */
  policy?: Partial<PasswordPolicy>;
  samePassword?: string;
  stateDir: string;
  /** Opens an encrypted journal's secrets (--identity). */
  identities?: AgeIdentity[];
}

export function hostKey(baseUrl: string): string {
  const u = new URL(baseUrl);
  return `${u.hostname}_${u.port || (u.protocol === 'https:' ? '443' : '80')}`.replace(/[^A-Za-z0-9.-]/g, '_');
}

export function journalPathFor(report: string): string {
  return report.replace(/\.csv$/i, '') + '.journal.jsonl';
}

/** The listing commands of enumeration, each retried on transport errors and 5xx. */
function retryingReader(client: DirectAdminClient, retry: ReadRetryOptions): DirectAdminReader {
  const r =
    <A extends unknown[], T>(f: (...a: A) => Promise<T>) =>
    (...a: A) =>
      withReadRetries(() => f.apply(client, a), retry);
  return {
    loginTest: r(client.loginTest),
    showUsers: r(client.showUsers),
    showAllUsers: r(client.showAllUsers),
    showResellers: r(client.showResellers),
    showAdmins: r(client.showAdmins),
    verifyPassword: r(client.verifyPassword),
  };
}

async function select(reader: DirectAdminReader, req: { connection: ConnectionSettings; selection: SelectionSettings }, ctx: RunContext): Promise<Selection> {
  let selection: Selection;
  try {
    selection = await enumerateAccounts(reader, {
      scope: req.selection.scope,
      self: req.connection.username,
      exclude: req.selection.exclude,
      only: req.selection.only,
      countAll: req.selection.countAll,
    });
  } catch (e) {
    throw new RunAborted(msg.enumerationFailed(ctx.secrets.scrub(describeError(e))), { cause: e });
  }
  if (selection.missing.length > 0)
    throw new UsageError(msg.onlyMissing(selection.missing, req.selection.scope, req.connection.username, selection.missingWhere));
  return selection;
}

function listingFailureRow(server: string, f: ListingFailure): ReportRow {
  return {
    server,
    username: f.owner,
    kind: f.kind,
    credential: '*',
    status: 'failed',
    attempts: 0,
    verified: false,
    error: msg.listingFailed(`${f.kind} credentials of ${f.owner}`, f.error),
  };
}

/** The client for the run, made without sending anything: its origin names the server for the checks that come first. */
function openClient(state: RunState, connection: ConnectionSettings, ctx: RunContext): void {
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
  state.kctx = kindContext(state.client, state.work, ctx.log);
}

/** The first request: the login test. */
async function connect(state: RunState, connection: ConnectionSettings, ctx: RunContext): Promise<ReadRetryOptions> {
  const retry = readRetryOptions(state.work, state.halt.signal, state.health);
  ctx.log.info({ server: state.server, user: connection.username, secretSource: connection.secretSource }, 'connecting');
  await preflight(state.client, retry, ctx.secrets);
  return retry;
}

/** One run per server at a time, wherever its reports go: the lock lives in the state directory. */
async function lockServer(stateDir: string, server: string, ctx: RunContext): Promise<AcquiredLock> {
  try {
    const lock = await acquireServerLock(stateDir, server);
    if (lock.stateDir.tightenedFrom !== undefined) ctx.log.warn(msg.dirTightened(lock.stateDir.path, lock.stateDir.tightenedFrom));
    if (lock.tookOver) ctx.log.warn(msg.lockTakenOver(lock.tookOver.pid, lock.tookOver.host));
    return lock;
  } catch (e) {
    if (e instanceof LockHeld) throw new RunAborted(e.message, { cause: e });
    throw e;
  }
}

/** The output directory is private and an explicit --output (and its journal) is new: checked before any request. */
async function checkOutput(req: RotationRequest, ctx: RunContext): Promise<string> {
  const dir = resolve(req.output ? dirname(req.output) : (ctx.outputDir ?? 'output'));
  if (req.output) {
    const report = resolve(req.output);
    await checkNewFile(req.encryptTo ? encryptedReportPath(report) : report);
    if (req.mode === 'rotate') await checkNewFile(journalPathFor(report));
  }
  const d = await checkPrivateDir(dir, { create: true });
  if (d.tightenedFrom !== undefined) ctx.log.warn(msg.dirTightened(d.path, d.tightenedFrom));
  return dir;
}

/** The report's sink: plain CSV as the run goes, or (encrypted) whole at the end; default names never collide. */
async function openReport(req: RotationRequest, dir: string, server: string): Promise<ReportSink & { csvPath: string }> {
  const prefix = req.mode === 'plan' ? 'plan' : 'rotation';
  if (!req.encryptTo) {
    const w = req.output ? await ReportWriter.create(resolve(req.output)) : await ReportWriter.createUnique(dir, prefix, hostKey(server));
    return Object.assign(w, { csvPath: w.path });
  }
  let csvPath = req.output ? resolve(req.output) : undefined;
  if (!csvPath) {
    // Reserve a unique name, then give up the empty placeholder: only the .age file is ever written.
    const { path, file } = await uniqueReportPath(dir, prefix, hostKey(server));
    await file.close();
    await unlink(path);
    csvPath = path;
  }
  return Object.assign(new EncryptedReport(encryptedReportPath(csvPath), req.encryptTo), { csvPath });
}

export async function runRotation(req: RotationRequest, ctx: RunContext): Promise<RunSummary> {
  const started = Date.now();
  const c = req.connection;
  const state = new RunState(ctx, req.work, req.policy, c.timeoutMs);
  if (req.samePassword) ctx.log.warn(msg.samePasswordWeak);
  ctx.secrets.add(c.secret);
  ctx.secrets.add(req.samePassword);
  state.samePassword = req.samePassword;
  const deadline = req.work.deadlineMs ? setTimeout(() => state.haltWith(msg.deadline(req.work.deadlineMs!), 'deadline'), req.work.deadlineMs) : undefined;
  deadline?.unref();
  let lock: AcquiredLock | undefined;
  try {
    // Everything that needs no server comes first: a bad directory, a taken file, another run or an
    // unfinished one stop here, before a single request (or login-key use) is spent.
    if (req.mode === 'rotate' && !req.yes && !ctx.interactive) throw new UsageError(msg.needsYes);
    // If the run's credential dies mid-run (changed elsewhere, key expired), every request in flight
    // fails its login: at or above DirectAdmin's default brute-force limit that is a blacklisting.
    if (req.mode === 'rotate' && !req.work.adaptive && req.work.concurrency >= BRUTE_FORCE_DEFAULT)
      ctx.log.warn(msg.concurrencyVsBruteForce(req.work.concurrency, BRUTE_FORCE_DEFAULT));
    openClient(state, c, ctx);
    const server = state.server;
    const outDir = await checkOutput(req, ctx);
    let supersedes: string | undefined;
    if (req.mode === 'rotate') {
      lock = await lockServer(req.stateDir, server, ctx);
      const previous = unfinishedRun(req.stateDir, server);
      if (previous && !req.abandonPrevious) {
        const resume = ctx.resumeCommand?.(previous.journal) ?? `da-rotate resume ${previous.journal}`;
        throw new UsageError(
          msg.unfinishedRun(server, previous.journal, previous.unsettled, previous.sealed ? `${resume} --identity AGE_IDENTITY_FILE` : resume),
        );
      }
      if (previous) ctx.log.warn(msg.abandoningPrevious(previous.journal, previous.unsettled));
      supersedes = previous?.journal;
    }
    const retry = await connect(state, c, ctx);
    const selection = await select(retryingReader(state.client, retry), req, ctx);
    const listed = await listCredentials(state.kctx, selection.selected, req.selection.include, {
      concurrency: req.work.concurrency,
      retry,
      secrets: ctx.secrets,
    });
    if (listed.fatal) throw new RunAborted(msg.enumerationFailed(ctx.secrets.scrub(describeError(listed.fatal))), { cause: listed.fatal });
    if (state.halt.signal.aborted) {
      if (state.haltKind === 'interrupt') throw new RunInterrupted(msg.interruptedBeforeChanges);
      throw new RunAborted(state.haltReason ?? 'stopped');
    }
    ctx.log.info({ accounts: selection.selected.length, credentials: listed.credentials.length, skipped: selection.skipped.length }, 'credentials listed');
    const headRows = [...selection.skipped.map((s) => skippedRow(server, s)), ...listed.failures.map((f) => listingFailureRow(server, f))];
    const baseOf = (report: string) => ({
      mode: req.mode,
      server,
      user: c.username,
      scope: req.selection.scope,
      secretSource: c.secretSource,
      total: listed.credentials.length,
      report,
      coverage: selection.coverage,
    });

    if (req.mode === 'plan') {
      const report = await openReport({ ...req, encryptTo: undefined }, outDir, server);
      return await writePlan(baseOf(report.path), report, headRows, listed.credentials, started);
    }

    if (listed.credentials.length === 0) ctx.log.warn(msg.nothingSelected);
    // An operator at a terminal learns, once, that the report will be plaintext and how to avoid it.
    if (ctx.interactive && !req.encryptTo && listed.credentials.length > 0) ctx.log.warn(msg.reportInClear);
    if (!req.yes && listed.credentials.length > 0) {
      const reportGoesTo = req.output ? resolve(req.output) : join(outDir, `rotation-${hostKey(server)}-<UTC time>.csv${req.encryptTo ? '.age' : ''}`);
      const question = msg.confirmRotate({
        server,
        user: c.username,
        credentials: listed.credentials,
        types: selection.types,
        report: reportGoesTo,
        encrypted: req.encryptTo !== undefined,
      });
      if (!(await ctx.confirm(question))) throw new UsageError(msg.notConfirmed);
    }
    const report = await openReport(req, outDir, server);
    state.report = report;
    state.journalPath = journalPathFor(report.csvPath);
    report.onFailure((e) => state.haltWith(state.fileFailure(e), 'file'));
    const journalPath = journalPathFor(report.csvPath);
    const base = baseOf(report.path);
    try {
      state.journal = await JournalWriter.create(journalPath);
      let encryption: JournalHeader['encryption'];
      if (req.encryptTo) {
        // age is loaded only by runs that encrypt.
        const { SecretSealer, SEALING_SCHEME } = await import('../crypto/index.js');
        const { sealer, wrappedKey } = await SecretSealer.create(req.encryptTo);
        state.sealing = sealer;
        encryption = { scheme: SEALING_SCHEME, recipients: req.encryptTo, wrappedKey };
      }
      const header: JournalHeader = {
        t: 'header',
        v: 2,
        server,
        host: new URL(server).host,
        user: c.username,
        scope: req.selection.scope,
        startedAt: new Date(started).toISOString(),
        report: report.path,
        options: {
          length: req.policy.length,
          symbols: req.policy.symbols,
          samePassword: req.samePassword !== undefined,
          exclude: req.selection.exclude,
          only: req.selection.only ?? null,
          include: req.selection.include,
          concurrency: req.work.concurrency,
        },
        credentials: listed.credentials,
        credentialsSha256: hashCredentials(listed.credentials),
        skipped: selection.skipped,
        ...(supersedes ? { supersedes } : {}),
        ...(encryption ? { encryption } : {}),
      };
      try {
        await state.journal.append(header);
      } catch (e) {
        // Nothing was sent yet: the run stops here, and there is nothing to resume.
        if (e instanceof FileWriteFailed) throw new RunAborted(msg.writeStoppedBeforeSending(e.path, e.errno), { cause: e });
        throw e;
      }
      await recordLastRun(req.stateDir, server, journalPath);
      for (const row of headRows) {
        state.counts[row.status]++;
        state.report.write(row);
      }
      const items: WorkItem[] = listed.credentials.map((credential) => ({ credential, secret: undefined, journaled: false }));
      const result = await dispatch(items, state);
      return await finish(state, base, items, result, journalPath, started);
    } finally {
      await closeFiles(state);
    }
  } finally {
    await lock?.release();
    if (deadline) clearTimeout(deadline);
    state.dispose();
    ctx.secrets.delete(c.secret);
    ctx.secrets.delete(req.samePassword);
    await state.client?.close().catch(() => undefined);
  }
}

/** DirectAdmin's default number of failed logins from one IP before it is blacklisted. */
const BRUTE_FORCE_DEFAULT = 10;

type SummaryBase = Omit<RunSummary, 'counts' | 'durationMs' | 'exitCode'>;

/** A plan: the report lists every credential that would change; nothing can write, there is no writer. */
async function writePlan(base: SummaryBase, report: ReportSink, headRows: ReportRow[], credentials: Credential[], started: number): Promise<RunSummary> {
  const counts = emptyCounts();
  const now = new Date().toISOString();
  for (const row of headRows) {
    counts[row.status]++;
    report.write(row);
  }
  for (const cred of credentials) {
    counts.planned++;
    const advice = kindByName(cred.kind).advice?.(cred);
    const details = [cred.details, advice].filter(Boolean).join('; ') || undefined;
    report.write({ ...baseRow(base.server, cred), details, status: 'planned', attempts: 0, verified: false, startedAt: now, finishedAt: now });
  }
  await report.close();
  return {
    ...base,
    counts,
    durationMs: Date.now() - started,
    exitCode: counts.failed > 0 ? ExitCode.Partial : ExitCode.Ok,
    planned: credentials.map(credentialId),
  };
}

/** Closes what a run opened, however it ended (finish() has already flushed both files). */
async function closeFiles(state: RunState): Promise<void> {
  await state.journal?.close().catch(() => undefined);
  await state.report?.close().catch(() => undefined);
}

/** Rows for credentials the run stopped before settling; the journal leaves them to a resume. */
function unfinishedRows(state: RunState, items: WorkItem[], result: DispatchResult, reason: string): ReportRow[] {
  return items
    .filter((i) => !result.finished.has(credentialId(i.credential)))
    .map((i): ReportRow => {
      const maybeSent = i.journaled && !result.prefetchedNotSent.has(credentialId(i.credential));
      return maybeSent
        ? {
            ...baseRow(state.server, i.credential),
            status: 'unknown',
            password: i.secret,
            attempts: 0,
            verified: false,
            error: `${reason} before an earlier journaled change was settled: run \`da-rotate resume\``,
          }
        : { ...baseRow(state.server, i.credential), status: 'not-started', attempts: 0, verified: false, error: `not started: ${reason}` };
    });
}

function exitCodeFor(state: RunState, aborted: string | undefined): number {
  if (state.haltKind === 'interrupt') return ExitCode.Interrupted;
  if (aborted) return ExitCode.Aborted;
  return state.counts.failed + state.counts.unknown > 0 ? ExitCode.Partial : ExitCode.Ok;
}

async function finish(
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
    counts[row.status]++;
    if (row.status === 'unknown') state.unknownIds.push(`${row.kind}:${row.username}:${row.credential}`);
    state.report.write(row);
  }
  await state.journal
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
  const unsettled = counts.unknown + counts['not-started'] > 0;
  const resumeCommand = interrupted || aborted || unsettled || reportError ? state.resumeCommand(journalPath) : undefined;
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
    health: { ...state.health },
    concurrency: state.limiter?.concurrency ?? state.work.concurrency,
    ...(state.adaptive ? { concurrencyMode: 'auto' as const } : {}),
    failedCredentials: state.failedIds.length ? state.failedIds : undefined,
    unknownCredentials: state.unknownIds.length ? state.unknownIds : undefined,
    // A report that could not be written stops like a journal that could not: exit 3, the resume line rebuilds it.
    exitCode: reportError && !interrupted ? ExitCode.Aborted : exitCodeFor(state, aborted),
  };
}

/** Finishes an interrupted run from its journal: settled credentials untouched, intents proved or resent, the rest changed. */
export async function runResume(req: ResumeRequest, ctx: RunContext): Promise<RunSummary> {
  const started = Date.now();
  const journalPath = resolve(req.journal);
  let journalState;
  try {
    journalState = readJournal(journalPath);
  } catch (e) {
    throw new UsageError(describeError(e));
  }
  const { header } = journalState;
  const c = req.connection;
  const policy = { length: req.policy?.length ?? header.options.length, symbols: req.policy?.symbols ?? header.options.symbols };
  const state = new RunState(ctx, req.work, policy, c.timeoutMs);
  ctx.secrets.add(c.secret);
  let lock: AcquiredLock | undefined;
  try {
    openClient(state, c, ctx);
    const server = state.server;
    if (server !== header.server) throw new UsageError(msg.journalServerMismatch(header.server, server));
    if (c.username !== header.user) ctx.log.warn(msg.journalUserMismatch(header.user, c.username));
    const crypto = header.encryption ? await import('../crypto/index.js') : undefined;
    const recipients = header.encryption ? crypto!.checkSealingHeader(header.encryption).recipients : undefined;
    if (header.encryption) {
      if (!req.identities?.length) throw new UsageError(msg.journalEncrypted(journalPath));
      state.sealing = await crypto!.SecretSealer.open(header.encryption.wrappedKey, req.identities);
    }
    const reportPath = header.report;
    lock = await lockServer(req.stateDir, server, ctx);
    await connect(state, c, ctx);
    try {
      state.journalPath = journalPath;
      state.journal = await JournalWriter.openAppend(journalPath);
      await state.journal.append({ t: 'resume', at: new Date().toISOString(), pid: process.pid });
      await recordLastRun(req.stateDir, server, journalPath);
      const secretOf = (i: Parameters<RunState['secretOf']>[0]) => state.secretOf(i);
      const settledRows = rowsFromJournal(journalState, { includePending: false, secretOf }).filter(
        (r) => r.status === 'skipped' || isSettled(journalState.outcomes.get(`${r.kind}:${r.username}:${r.credential}`)),
      );
      state.report = recipients ? new EncryptedReport(reportPath, recipients, true, settledRows) : await ReportWriter.rebuild(reportPath, settledRows);
      state.report.onFailure((e) => state.haltWith(state.fileFailure(e), 'file'));
      for (const r of settledRows) state.counts[r.status]++;
      let samePassword = req.samePassword;
      if (header.options.samePassword && !samePassword) {
        const first = journalState.intents.values().next().value;
        samePassword = first ? state.secretOf(first) : undefined;
        if (!samePassword && header.credentials.some((cr) => !isSettled(journalState.outcomes.get(credentialId(cr)))))
          throw new UsageError(msg.resumeNeedsSamePassword);
      }
      state.samePassword = samePassword;
      ctx.secrets.add(samePassword);
      const items: WorkItem[] = [];
      for (const cred of header.credentials) {
        const id = credentialId(cred);
        const outcome = journalState.outcomes.get(id);
        if (isSettled(outcome)) continue;
        // Never sent, or refused for the whole kind (a password policy): nothing applied, so a new
        // secret under the (possibly new) policy is safe. Anything else journaled may be live: prove or resend it.
        const nothingApplied = outcome?.status === 'not-sent' || outcome?.systematic === true;
        const intent = nothingApplied ? undefined : journalState.intents.get(id);
        items.push({ credential: cred, secret: intent ? state.secretOf(intent) : undefined, journaled: intent !== undefined });
      }
      ctx.log.info({ server, pending: items.length, settled: header.credentials.length - items.length }, 'resuming');
      const result = await dispatch(items, state);
      const base = {
        mode: 'resume' as const,
        server,
        user: c.username,
        scope: header.scope,
        secretSource: c.secretSource,
        total: header.credentials.length,
        report: reportPath,
      };
      const summary = await finish(state, base, items, result, journalPath, started);
      ctx.secrets.delete(samePassword);
      return summary;
    } finally {
      await closeFiles(state);
    }
  } finally {
    await lock?.release();
    state.dispose();
    ctx.secrets.delete(c.secret);
    await state.client?.close().catch(() => undefined);
  }
}
