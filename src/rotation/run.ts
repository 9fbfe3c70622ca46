/**
 * `rotate` and `plan` against one server: check what needs no server, connect, select the
 * accounts, list their credentials, then write the plan or dispatch the changes (skeleton.ts).
 */
import { dirname, join, resolve } from 'node:path';
import { lstat, unlink } from 'node:fs/promises';
import type { DirectAdminClient } from '../directadmin/index.js';
import type { AgeRecipient } from '../crypto/index.js';
import { describeError, ExitCode, PreviousRunUnfinished, RunAborted, RunInterrupted, UsageError } from '../errors.js';
import { checkNewFile, fileTimestamp, FileWriteFailed, uniqueReportPath } from '../files.js';
import { checkPrivateDir, PinnedDir } from '../directories.js';
import { credentialId, kindByName, type Credential } from '../kinds/index.js';
import { dbUserSites, msg } from '../messages.js';
import { tallyRow, type KindCounts } from './tally.js';
import { listCredentials, type ListingFailure } from './credentials.js';
import { dispatch, type WorkItem } from './dispatch.js';
import { EncryptedReport, encryptedReportPath, type ReportSink } from './encrypted-report.js';
import { enumerateAccounts, type DirectAdminReader, type Selection } from './enumerate.js';
import { hashCredentials, JournalWriter, type JournalHeader, type JournalListingFailure } from './journal.js';
import { lastRunJournal, markSuperseded, outcomeOf, recordLastRun, removeLeftovers, unfinishedRun, type UnfinishedRun } from './last-run.js';
import { truthMsg } from './truth-messages.js';
import type { AcquiredLock } from './lock.js';
import type { PasswordPolicy } from './password.js';
import { baseRow, listingFailureRow, ReportWriter, skippedRow, type ReportRow } from './report.js';
import { withReadRetries, type ReadRetryOptions } from './retry.js';
import type { ConnectionSettings, SelectionSettings, WorkSettings } from './settings.js';
import {
  closeFiles,
  connect,
  finish,
  hostKey,
  journalPathFor,
  lockJournal,
  lockServer,
  openClient,
  recordMetrics,
  recordLastRunOrStop,
  stoppableBeforeChanges,
  type RunContext,
  type RunSummary,
  type SummaryBase,
} from './skeleton.js';
import { emptyCounts, RunState } from './state.js';
import { PhaseProgress } from './phase-progress.js';

export { hostKey, journalPathFor, StopSignal, type ProgressEvent, type RunContext, type RunSummary } from './skeleton.js';
export { runResume, type ResumeRequest } from './resume.js';

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

/** A listing failure as the journal keeps it, its error worded as every report of the run shows it. */
function recordedFailure(f: ListingFailure): JournalListingFailure {
  return {
    owner: f.owner,
    kind: f.kind,
    error: f.name !== undefined ? f.error : msg.listingFailed(`${f.kind} credentials of ${f.owner}`, f.error),
    ...(f.name !== undefined ? { name: f.name } : {}),
    ...(f.status ? { status: f.status } : {}),
  };
}

/** The output directory is private and an explicit --output (and its journal) is new: checked before any request. */
async function checkOutput(req: RotationRequest, ctx: RunContext): Promise<{ dir: string; pin: PinnedDir }> {
  const dir = resolve(req.output ? dirname(req.output) : (ctx.outputDir ?? 'output'));
  if (req.output) {
    const report = resolve(req.output);
    await checkNewFile(req.encryptTo ? encryptedReportPath(report) : report);
    if (req.mode === 'rotate') await checkNewFile(journalPathFor(report));
  }
  await checkPrivateDir(dir, { create: true });
  // Files are created in it later (after the listing): a directory swapped meanwhile is detected then.
  return { dir, pin: await PinnedDir.pin(dir) };
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

/**
 * The journal, created whole with its header (journal.ts), under its own lock, then the report
 * beside it. Default names: the first free `<prefix>-<host>-<time>[-n]` whose report and journal
 * are both free (link(2) decides a race). A crash before the link leaves nothing; after it, a
 * journal with its header (resume rebuilds a missing report).
 */
async function createRunFiles(
  req: RotationRequest,
  dir: string,
  server: string,
  header: (reportPath: string) => JournalHeader,
): Promise<{ report: ReportSink & { csvPath: string }; journal: JournalWriter; journalLock: AcquiredLock }> {
  const stems = req.output ? [resolve(req.output).replace(/\.csv$/i, '')] : candidateStems(dir, hostKey(server));
  for (const stem of stems) {
    const csvPath = req.output ? resolve(req.output) : `${stem}.csv`;
    const reportPath = req.encryptTo ? encryptedReportPath(csvPath) : csvPath;
    const journalPath = journalPathFor(csvPath);
    if (!req.output && (await exists(reportPath))) continue;
    const journalLock = await lockJournal(journalPath, server);
    let journal: JournalWriter;
    try {
      journal = await JournalWriter.create(journalPath, header(reportPath));
    } catch (e) {
      await journalLock.release();
      if (!req.output && e instanceof UsageError && (await exists(journalPath))) continue;
      throw e;
    }
    try {
      const report: ReportSink = req.encryptTo ? new EncryptedReport(reportPath, req.encryptTo) : await ReportWriter.create(csvPath);
      return { report: Object.assign(report, { csvPath }), journal, journalLock };
    } catch (e) {
      // Nothing was sent: the journal goes again with its lock.
      await journal.discard().catch(() => undefined);
      await journalLock.release();
      throw e;
    }
  }
  throw new UsageError(`no free report name in ${dir} for ${hostKey(server)}: prune old runs (da-rotate prune)`);
}

function* candidateStems(dir: string, key: string): Generator<string> {
  const base = join(resolve(dir), `rotation-${key}-${fileTimestamp(new Date())}`);
  for (let n = 1; n <= 1000; n++) yield n === 1 ? base : `${base}-${n}`;
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
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
  let journalLock: AcquiredLock | undefined;
  const phases = new PhaseProgress(ctx, () => state.server);
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
    let previous: UnfinishedRun | undefined;
    let lastJournal: string | undefined;
    if (req.mode === 'rotate') {
      lock = await lockServer(req.stateDir, server, ctx, 'rotate');
      // Under the lock: leftovers of an earlier run of this server that sent nothing (killed before
      // its first change) are removed, so the same command runs again.
      if (req.output) await removeLeftovers(resolve(req.output), req.encryptTo !== undefined, server, ctx);
    }
    const { dir: outDir, pin: outPin } = await checkOutput(req, ctx);
    if (req.mode === 'rotate') {
      previous = unfinishedRun(req.stateDir, server);
      if (previous && !req.abandonPrevious) {
        const resume = ctx.resumeCommand?.(previous.journal) ?? `da-rotate resume ${previous.journal}`;
        if (previous.damaged) throw new UsageError(truthMsg.previousDamaged(server, previous.journal, previous.damaged));
        throw new PreviousRunUnfinished(
          msg.unfinishedRun(server, previous.journal, previous.unsettled, previous.sealed ? `${resume} --identity AGE_IDENTITY_FILE` : resume),
        );
      }
      if (previous)
        ctx.log.warn(previous.damaged ? truthMsg.abandoningDamaged(previous.journal) : msg.abandoningPrevious(previous.journal, previous.unsettled));
      lastJournal = lastRunJournal(req.stateDir, server);
    }
    // A stop (SIGINT, SIGTERM, SIGHUP) while connecting or listing ends what was on the wire: an
    // interruption before any change (exit 130), not a listing failure.
    phases.set({ phase: 'login' });
    const retry = await stoppableBeforeChanges(state, () => connect(state, c, ctx));
    phases.set({ phase: 'listing', credentials: 0 });
    const selection = await stoppableBeforeChanges(state, () => select(retryingReader(state.client, retry), req, ctx));
    const accounts = selection.selected.length;
    phases.set({ phase: 'listing', accounts, credentials: 0, fraction: 0 });
    const listed = await stoppableBeforeChanges(state, () =>
      listCredentials(state.kctx, selection.selected, req.selection.include, {
        concurrency: req.work.concurrency,
        retry,
        secrets: ctx.secrets,
        onListed: (credentials, fraction) => phases.set({ phase: 'listing', accounts, credentials, fraction }),
      }),
    );
    for (const k of listed.stopped) state.stoppedKinds.set(k.kind, k);
    phases.stop();
    if (state.haltKind === 'interrupt') throw new RunInterrupted(msg.interruptedBeforeChanges);
    if (listed.fatal) throw new RunAborted(msg.enumerationFailed(ctx.secrets.scrub(describeError(listed.fatal))), { cause: listed.fatal });
    if (state.halt.signal.aborted) throw new RunAborted(state.haltReason ?? 'stopped');
    ctx.log.info({ accounts: selection.selected.length, credentials: listed.credentials.length, skipped: selection.skipped.length }, 'credentials listed');
    const listingFailures = listed.failures.map(recordedFailure);
    const headRows = [...selection.skipped.map((s) => skippedRow(server, s)), ...listingFailures.map((f) => listingFailureRow(server, f))];
    const baseOf = (report: string) => ({
      mode: req.mode,
      server,
      user: c.username,
      scope: req.selection.scope,
      secretSource: c.secretSource,
      total: listed.credentials.length,
      report,
      coverage: selection.coverage,
      ...(listed.stopped.length ? { stoppedKinds: listed.stopped } : {}),
    });

    if (req.mode === 'plan') {
      await outPin.check();
      const report = await openReport({ ...req, encryptTo: undefined }, outDir, server);
      const plan = await writePlan(baseOf(report.path), report, headRows, listed.credentials, started);
      Object.assign(state.byKind, plan.byKind);
      return plan;
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
    let encryption: JournalHeader['encryption'];
    if (req.encryptTo) {
      // age is loaded only by runs that encrypt.
      const { SecretSealer, SEALING_SCHEME } = await import('../crypto/index.js');
      const { sealer, wrappedKey } = await SecretSealer.create(req.encryptTo);
      state.sealing = sealer;
      encryption = { scheme: SEALING_SCHEME, recipients: req.encryptTo, wrappedKey };
    }
    const supersedes = previous?.journal;
    const header = (reportPath: string): JournalHeader => ({
      t: 'header',
      v: 2,
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
        include: req.selection.include,
        concurrency: req.work.concurrency,
      },
      credentials: listed.credentials,
      credentialsSha256: hashCredentials(listed.credentials),
      skipped: selection.skipped,
      ...(listingFailures.length > 0 ? { listingFailures } : {}),
      ...(supersedes ? { supersedes } : {}),
      ...(encryption ? { encryption } : {}),
    });
    if (state.halt.signal.aborted) throw new RunInterrupted(msg.interruptedBeforeChanges);
    state.preflight = false;
    await outPin.check();
    let files;
    try {
      files = await createRunFiles(req, outDir, server, header);
    } catch (e) {
      // Nothing was sent yet: the run stops here, and there is nothing to resume.
      if (e instanceof FileWriteFailed) throw new RunAborted(msg.writeStoppedBeforeSending(e.path, e.errno), { cause: e });
      throw e;
    }
    journalLock = files.journalLock;
    const { report, journal } = files;
    state.report = report;
    state.journal = journal;
    const journalPath = journal.path;
    state.journalPath = journalPath;
    report.onFailure((e) => state.haltWith(state.fileFailure(e), 'file'));
    const base = baseOf(report.path);
    try {
      await recordLastRunOrStop(state, req.stateDir, journalPath);
      // The run this one follows is never resumed or notified again: it says so itself, before anything is sent.
      if (lastJournal && lastJournal !== journalPath) await markSuperseded(lastJournal, journalPath, server, ctx);
      for (const row of headRows) {
        state.count(row);
        state.report.write(row);
      }
      const items: WorkItem[] = listed.credentials.map((credential) => ({ credential, id: credentialId(credential), secret: undefined, journaled: false }));
      const result = await dispatch(items, state);
      if (result.sent === 0 && listed.credentials.length > 0 && state.halt.signal.aborted) {
        // Stopped before a single intent: nothing was sent, so nothing stays.
        await closeFiles(state);
        await Promise.all([report.discard().catch(() => undefined), journal.discard().catch(() => undefined)]);
        ctx.log.warn(truthMsg.removedUnsent(report.path, journalPath));
        if ((state.haltKind as string | undefined) === 'interrupt') throw new RunInterrupted(truthMsg.interruptedNothingSent(report.path, journalPath));
        const why = state.fileError ? msg.writeStoppedBeforeSending(state.fileError.path, state.fileError.errno) : (state.haltReason ?? 'stopped');
        throw new RunAborted(`${why}; ${report.path} and ${journalPath} removed`);
      }
      const summary = await finish(state, base, items, result, journalPath, started);
      await recordLastRun(req.stateDir, server, journalPath, outcomeOf(summary)).catch((e: unknown) => ctx.log.warn(describeError(e)));
      return summary;
    } finally {
      await closeFiles(state);
    }
  } finally {
    phases.stop();
    recordMetrics(state, ctx, started);
    await journalLock?.release();
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

/** A plan: the report lists every credential that would change; nothing can write, there is no writer. */
async function writePlan(base: SummaryBase, report: ReportSink, headRows: ReportRow[], credentials: Credential[], started: number): Promise<RunSummary> {
  const counts = emptyCounts();
  const byKind: KindCounts = {};
  const now = new Date().toISOString();
  for (const row of headRows) {
    counts[row.status]++;
    tallyRow(byKind, row);
    report.write(row);
  }
  for (const cred of credentials) {
    counts.planned++;
    tallyRow(byKind, { kind: cred.kind, status: 'planned' });
    const advice = kindByName(cred.kind).advice?.(cred);
    const details = [cred.details, advice].filter(Boolean).join('; ') || undefined;
    report.write({ ...baseRow(base.server, cred), details, status: 'planned', attempts: 0, verified: false, startedAt: now, finishedAt: now });
  }
  await report.close();
  return {
    ...base,
    counts,
    byKind,
    ...(dbUserSites(credentials).length ? { dbSites: dbUserSites(credentials) } : {}),
    durationMs: Date.now() - started,
    exitCode: counts.failed > 0 ? ExitCode.Partial : ExitCode.Ok,
    planned: credentials.map(credentialId),
  };
}
