/**
 * One server's part of a fleet run: the core's runRotation / runResume / runVerify with that
 * server's settings, its own directory, and every way it can end turned into a status and an exit
 * code (never an exception: one server never stops the others).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeError, ExitCode, RunAborted, UsageError } from '../errors.js';
import type { SecretRegistry } from '../log.js';
import { parseInclude, type ConnectionSettings, type FileSettings, type SelectionSettings, type WorkSettings } from '../options.js';
import type { PasswordPolicy } from '../rotation/password.js';
import { journalPathFor, runResume, runRotation, type RotationRequest, type RunContext } from '../rotation/run.js';
import { readJournal, unsettled } from '../rotation/journal.js';
import { supersededBy } from '../rotation/last-run.js';
import { fleetMsg } from './messages.js';
import { rowsFromJournal } from '../rotation/report.js';
import { emptyCounts } from '../rotation/state.js';
import { runVerify } from '../rotation/verify.js';
import type { InventoryServer } from './inventory.js';
import type { FleetCommand, ManifestServer } from './manifest.js';
import { statusFor } from './summary.js';

export interface ServerJob {
  entry: InventoryServer;
  connection: ConnectionSettings;
  state: ManifestServer;
  /** Throws DirectorySwapped when the fleet's run directory is no longer the one it created. */
  stillOurs?: () => Promise<void>;
}

export interface FleetSettings {
  policy: PasswordPolicy;
  /** Command-line selection; the inventory's scope and exclusions add to it per server. */
  selection: SelectionSettings;
  include: string[] | undefined;
  work: WorkSettings;
  files: FileSettings;
}

function selectionFor(entry: InventoryServer, s: FleetSettings): SelectionSettings {
  return {
    scope: entry.scope ?? s.selection.scope,
    exclude: [...new Set([...s.selection.exclude, ...entry.exclude])],
    only: s.selection.only,
    // The inventory's own include wins for its server; then the command line's.
    include: parseInclude(entry.include ?? s.include ?? [], `--include for ${entry.name}`),
  };
}

function workFor(entry: InventoryServer, s: FleetSettings): WorkSettings {
  return { ...s.work, concurrency: entry.concurrency ?? s.work.concurrency };
}

/**
 * What a fleet resume does with a server's journal, read once: `settled` (the killed run had
 * finished it before its manifest said so: counted from the journal, the server not contacted),
 * `resume` (one the core can read, or one it cannot but that is not empty: runResume then says
 * why), `afresh` (missing, empty, or a cut header: a kill before the header was whole).
 */
type JournalVerdict =
  { action: 'settled'; counts: ReturnType<typeof emptyCounts> } | { action: 'void'; later: string } | { action: 'resume' } | { action: 'afresh' };

function journalVerdict(path: string | undefined, stateDir: string): JournalVerdict {
  if (!path || !existsSync(path)) return { action: 'afresh' };
  let state;
  try {
    state = readJournal(path);
  } catch {
    // Not one complete line: the header itself was cut short, so no intent can follow it.
    return readFileSync(path).includes(0x0a) ? { action: 'resume' } : { action: 'afresh' };
  }
  // Nothing was ever sent from it, and a later run of the server has since taken the server over
  // (`void`): this run's part there is void, and resuming it would replace the later run's passwords.
  const later = state.intents.size === 0 ? supersededBy(path, state, stateDir) : undefined;
  if (later) return { action: 'void', later };
  if (unsettled(state).length > 0) return { action: 'resume' };
  const counts = emptyCounts();
  for (const r of rowsFromJournal(state, { includePending: true, secretOf: () => undefined })) counts[r.status]++;
  return { action: 'settled', counts };
}

/** Runs one server and records how it ended in job.state; resolves, never rejects. */
export async function runServer(
  command: FleetCommand,
  job: ServerJob,
  settings: FleetSettings,
  ctx: RunContext,
  secrets: SecretRegistry,
  changed: () => void,
): Promise<void> {
  const s = job.state;
  const started = Date.now();
  s.attempts++;
  s.status = 'running';
  s.startedAt = new Date(started).toISOString();
  delete s.error;
  delete s.finishedAt;
  delete s.exitCode;
  const work = workFor(job.entry, settings);
  try {
    if (command === 'verify') {
      if (!s.report || !existsSync(s.report)) throw new UsageError(`no report to verify for ${s.name}${s.report ? ` (${s.report} is missing)` : ''}`);
      changed();
      const v = await runVerify({ report: s.report, connection: job.connection, work, identities: settings.files.identities }, ctx);
      s.verify = { checked: v.checked, matching: v.matching, drift: v.drift.length, errors: v.errors.length };
      if (v.aborted) s.error = v.aborted;
      else if (v.drift.length) s.error = `drift: ${v.drift.slice(0, 10).join(', ')}${v.drift.length > 10 ? ', ...' : ''}`;
      s.exitCode = v.exitCode;
    } else {
      let summary;
      const verdict: JournalVerdict = command === 'resume' ? journalVerdict(s.journal, settings.files.stateDir) : { action: 'afresh' };
      if (verdict.action === 'settled') {
        // Nothing to resume, and the server is not contacted (a later run may since have superseded this journal).
        s.counts = verdict.counts;
        s.exitCode = verdict.counts.failed ? ExitCode.Partial : ExitCode.Ok;
        if (verdict.counts.failed) s.error = `failed ${verdict.counts.failed}`;
      } else if (verdict.action === 'void') {
        s.counts = emptyCounts();
        s.exitCode = ExitCode.Ok;
        s.error = fleetMsg.voidServer(verdict.later);
      } else if (verdict.action === 'resume') {
        changed();
        summary = await runResume(
          { journal: s.journal!, connection: job.connection, work, stateDir: settings.files.stateDir, identities: settings.files.identities },
          ctx,
        );
      } else {
        // First run, or a resume of a server whose journal never got going: a fresh rotation, in a
        // report of its own (an earlier attempt may have left one behind).
        const mode = command === 'plan' ? 'plan' : 'rotate';
        s.report = join(s.dir, `${mode === 'plan' ? 'plan' : 'rotation'}${s.attempts > 1 ? `-${s.attempts}` : ''}.csv`);
        if (mode === 'rotate') s.journal = journalPathFor(s.report);
        changed();
        const req: RotationRequest = {
          mode,
          connection: job.connection,
          selection: selectionFor(job.entry, settings),
          policy: settings.policy,
          work,
          output: s.report,
          // Confirmation was asked once for the whole fleet, before any server started.
          yes: true,
          ...settings.files,
        };
        summary = await runRotation(req, ctx);
      }
      if (summary) {
        s.counts = { ...summary.counts };
        s.report = summary.report;
        if (summary.journal) s.journal = summary.journal;
        const err = summary.aborted ?? summary.reportError ?? (summary.interrupted ? 'interrupted' : undefined);
        if (err) s.error = err;
        s.exitCode = summary.exitCode;
      }
    }
  } catch (failure) {
    // A run directory swapped for a link makes the server's own file calls fail (ENOENT, ELOOP): the
    // swap is the cause to name, not an internal error.
    const e: unknown = job.stillOurs
      ? await job.stillOurs().then(
          () => failure,
          (swap: unknown) => swap,
        )
      : failure;
    const message = secrets.scrub(describeError(e));
    s.exitCode = e instanceof UsageError || e instanceof RunAborted ? e.exitCode : ExitCode.Internal;
    s.error = s.exitCode === ExitCode.Internal ? `internal error (a bug, please report it): ${message}` : message;
  }
  // A server stopped before its files were created (preflight, lock) names none.
  if (s.report && !existsSync(s.report)) delete s.report;
  if (s.journal && !existsSync(s.journal)) delete s.journal;
  s.status = statusFor(s.exitCode ?? ExitCode.Internal);
  s.finishedAt = new Date().toISOString();
  s.durationMs = Date.now() - started;
  changed();
}
