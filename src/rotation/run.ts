/**
 * `rotate` and `plan` against one server: check what needs no server, connect, select the
 * accounts, list their credentials, then write the plan or dispatch the changes (skeleton.ts).
 */
import { dirname, join, resolve } from 'node:path';
import { unlink } from 'node:fs/promises';
import type { DirectAdminClient } from '../directadmin/index.js';
import type { AgeRecipient } from '../crypto/index.js';
import { describeError, ExitCode, RunAborted, RunInterrupted, UsageError } from '../errors.js';
import { checkNewFile, checkPrivateDir, FileWriteFailed, uniqueReportPath } from '../files.js';
import { credentialId, kindByName, type Credential } from '../kinds/index.js';
import { msg } from '../messages.js';
import { listCredentials, type ListingFailure } from './credentials.js';
import { dispatch, type WorkItem } from './dispatch.js';
import { EncryptedReport, encryptedReportPath, type ReportSink } from './encrypted-report.js';
import { enumerateAccounts, type DirectAdminReader, type Selection } from './enumerate.js';
import { hashCredentials, JournalWriter, type JournalHeader } from './journal.js';
import { recordLastRun, unfinishedRun } from './last-run.js';
import type { AcquiredLock } from './lock.js';
import type { PasswordPolicy } from './password.js';
import { baseRow, ReportWriter, skippedRow, type ReportRow } from './report.js';
import { withReadRetries, type ReadRetryOptions } from './retry.js';
import type { ConnectionSettings, SelectionSettings, WorkSettings } from './settings.js';
import {
  closeFiles,
  connect,
  finish,
  hostKey,
  journalPathFor,
  lockServer,
  openClient,
  type RunContext,
  type RunSummary,
  type SummaryBase,
} from './skeleton.js';
import { emptyCounts, RunState } from './state.js';

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

function listingFailureRow(server: string, f: ListingFailure): ReportRow {
  return {
    server,
    username: f.owner,
    kind: f.kind,
    credential: f.name ?? '*',
    status: f.status ?? 'failed',
    attempts: 0,
    verified: false,
    error: f.name ? f.error : msg.listingFailed(`${f.kind} credentials of ${f.owner}`, f.error),
  };
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

interface RunFiles {
  report: ReportSink & { csvPath: string };
  journal: JournalWriter;
}

/** The report, then its journal beside it; if the journal cannot be created, the report is removed again. */
async function openRunFiles(req: RotationRequest, dir: string, server: string): Promise<RunFiles> {
  const report = await openReport(req, dir, server);
  try {
    return { report, journal: await JournalWriter.create(journalPathFor(report.csvPath)) };
  } catch (e) {
    await report.discard().catch(() => undefined);
    throw e;
  }
}

/** Closes and removes files a run opened ahead and never used (one that failed to open left nothing). */
async function discardRunFiles(files: Promise<RunFiles>): Promise<void> {
  let f: RunFiles;
  try {
    f = await files;
  } catch {
    return;
  }
  await Promise.all([f.report.discard().catch(() => undefined), f.journal.discard().catch(() => undefined)]);
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
  /** The run's files, opened ahead (--yes); set until the run takes them over. */
  let early: Promise<RunFiles> | undefined;
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
    // With --yes nothing waits between the listing and the first change: the report and the
    // journal are created while the login test and the listing are on the wire (about 8 ms less
    // before the first change), and removed again if the run stops before it journals anything.
    early = req.mode === 'rotate' && req.yes ? openRunFiles(req, outDir, server) : undefined;
    early?.catch(() => undefined);
    const retry = await connect(state, c, ctx);
    const selection = await select(retryingReader(state.client, retry), req, ctx);
    const listed = await listCredentials(state.kctx, selection.selected, req.selection.include, {
      concurrency: req.work.concurrency,
      retry,
      secrets: ctx.secrets,
    });
    for (const k of listed.stopped) state.stoppedKinds.set(k.kind, k);
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
      ...(listed.stopped.length ? { stoppedKinds: listed.stopped } : {}),
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
    const files = early ?? openRunFiles(req, outDir, server);
    early = undefined;
    const { report, journal } = await files;
    state.report = report;
    state.journalPath = journalPathFor(report.csvPath);
    report.onFailure((e) => state.haltWith(state.fileFailure(e), 'file'));
    const journalPath = journalPathFor(report.csvPath);
    const base = baseOf(report.path);
    try {
      state.journal = journal;
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
      const items: WorkItem[] = listed.credentials.map((credential) => ({ credential, id: credentialId(credential), secret: undefined, journaled: false }));
      const result = await dispatch(items, state);
      return await finish(state, base, items, result, journalPath, started);
    } finally {
      await closeFiles(state);
    }
  } finally {
    // Stopped before the files were taken over (a failed login, an empty selection refused...): nothing was journaled, so nothing stays.
    if (early) await discardRunFiles(early);
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
