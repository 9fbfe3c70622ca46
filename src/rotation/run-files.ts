/**
 * Where a run's files go: the output directory checked private and pinned before any request, the
 * journal (under its lock) and the report created together after the listing, and removed again if
 * the directory was swapped for a link in between.
 */
import { dirname, join, resolve } from 'node:path';
import { lstat, unlink } from 'node:fs/promises';
import { UsageError } from '../errors.js';
import { checkNewFile, fileTimestamp, uniqueReportPath } from '../files.js';
import { checkPrivateDir, PinnedDir } from '../directories.js';
import { EncryptedReport, encryptedReportPath, type ReportSink } from './encrypted-report.js';
import { JournalWriter, type JournalHeader } from './journal.js';
import type { AcquiredLock } from './lock.js';
import { ReportWriter } from './report.js';
import type { RotationRequest } from './run.js';
import { hostKey, journalPathFor, lockJournal, type RunContext } from './skeleton.js';

/** The output directory is private and an explicit --output (and its journal) is new: checked before any request. */
export async function checkOutput(req: RotationRequest, ctx: RunContext): Promise<{ dir: string; pin: PinnedDir }> {
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
export async function openReport(req: RotationRequest, dir: string, server: string): Promise<ReportSink & { csvPath: string }> {
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
export async function createRunFiles(
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

/**
 * A swap of the directory between its last check and the files' creation put them where the link
 * points. They hold no secret yet: removed there, and the run stops (DirectorySwapped) before any intent.
 */
export async function removedIfSwapped(pin: PinnedDir, files: Array<{ discard(): Promise<void> }>): Promise<void> {
  await pin.check().catch(async (e: unknown) => {
    await Promise.all(files.map((f) => f.discard().catch(() => undefined)));
    throw e;
  });
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
