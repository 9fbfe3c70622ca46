/** `resume`: finishes an interrupted run from its journal, through the same skeleton as `rotate`. */
import { resolve } from 'node:path';
import type { AgeIdentity } from '../crypto/index.js';
import { describeError, RunInterrupted, UsageError } from '../errors.js';
import { credentialId } from '../kinds/index.js';
import { msg } from '../messages.js';
import { dispatch, type WorkItem } from './dispatch.js';
import { EncryptedReport } from './encrypted-report.js';
import { isSettled, JournalWriter, readJournal, type JournalState } from './journal.js';
import { outcomeOf, recordLastRun, supersededBy } from './last-run.js';
import { truthMsg } from './truth-messages.js';
import type { AcquiredLock } from './lock.js';
import type { PasswordPolicy } from './password.js';
import { ReportWriter, rowsFromJournal } from './report.js';
import type { ConnectionSettings, WorkSettings } from './settings.js';
import { PhaseProgress } from './phase-progress.js';
import {
  closeFiles,
  connect,
  finish,
  lockJournal,
  lockServer,
  openClient,
  recordLastRunOrStop,
  recordMetrics,
  stoppableBeforeChanges,
  type RunContext,
  type RunSummary,
} from './skeleton.js';
import { RunState } from './state.js';

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
  /** Read a damaged journal record by record, keeping every whole record (--salvage). */
  salvage?: boolean;
}

function readForResume(journalPath: string, salvage: boolean | undefined): JournalState {
  try {
    return readJournal(journalPath, { salvage });
  } catch (e) {
    throw new UsageError(describeError(e));
  }
}

function describeDamage(state: JournalState): string {
  return state.damaged.map((d) => `line ${d.line} (${d.reason}${d.credential ? `, names ${d.credential}` : ''})`).join(', ');
}

/** Finishes an interrupted run from its journal: settled credentials untouched, intents proved or resent, the rest changed. */
export async function runResume(req: ResumeRequest, ctx: RunContext): Promise<RunSummary> {
  const started = Date.now();
  const journalPath = resolve(req.journal);
  let journalState = readForResume(journalPath, req.salvage);
  const { header } = journalState;
  const refuseIfSuperseded = (st: JournalState) => {
    const later = supersededBy(journalPath, st, req.stateDir);
    if (later) throw new UsageError(truthMsg.superseded(journalPath, later, "resuming it would replace the newer run's passwords, so nothing was sent"));
  };
  refuseIfSuperseded(journalState);
  const c = req.connection;
  const journaled = journalState.policy ?? header.options;
  const policy = { length: req.policy?.length ?? journaled.length, symbols: req.policy?.symbols ?? journaled.symbols };
  const policyChanged = policy.length !== journaled.length || policy.symbols !== journaled.symbols;
  const state = new RunState(ctx, req.work, policy, c.timeoutMs);
  ctx.secrets.add(c.secret);
  let lock: AcquiredLock | undefined;
  let journalLock: AcquiredLock | undefined;
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
    lock = await lockServer(req.stateDir, server, ctx, 'resume');
    journalLock = await lockJournal(journalPath, server, 'resume');
    // Read again under the locks: what another run wrote until now counts.
    journalState = readForResume(journalPath, req.salvage);
    refuseIfSuperseded(journalState);
    if (journalState.damaged.length > 0) ctx.log.warn(truthMsg.salvaged(journalPath, describeDamage(journalState)));
    else if (req.salvage) ctx.log.warn(truthMsg.salvageNothing(journalPath));
    const phases = new PhaseProgress(ctx, () => state.server);
    phases.set({ phase: 'login' });
    try {
      await stoppableBeforeChanges(state, () => connect(state, c, ctx));
    } finally {
      phases.stop();
    }
    if (state.halt.signal.aborted) throw new RunInterrupted(msg.interruptedBeforeChanges);
    state.preflight = false;
    try {
      state.journalPath = journalPath;
      state.journal = await JournalWriter.openAppend(journalPath);
      const fresh = journalState.damaged.filter((d) => !d.acknowledged).map((d) => d.line);
      // The salvage is journaled: later reads accept these lines as read past, and say so.
      if (fresh.length > 0) await state.journal.append({ t: 'salvaged', lines: fresh, at: new Date().toISOString() });
      // A new policy is journaled: a later resume, run as printed or not, keeps it.
      await state.journal.append({ t: 'resume', at: new Date().toISOString(), pid: process.pid, ...(policyChanged ? { policy } : {}) });
      await recordLastRunOrStop(state, req.stateDir, journalPath);
      const secretOf = (i: Parameters<RunState['secretOf']>[0]) => state.secretOf(i);
      // A credential a damaged line names is settled again: what the lost line said cannot be trusted.
      const damagedIds = new Set(journalState.damaged.filter((d) => !d.acknowledged && d.credential).map((d) => d.credential!));
      const settledHere = (id: string) => !damagedIds.has(id) && isSettled(journalState.outcomes.get(id));
      const settledRows = rowsFromJournal(journalState, { includePending: false, secretOf }).filter(
        (r) => r.status === 'skipped' || r.credential === '*' || settledHere(`${r.kind}:${r.username}:${r.credential}`),
      );
      state.report = recipients ? new EncryptedReport(reportPath, recipients, true, settledRows) : await ReportWriter.rebuild(reportPath, settledRows);
      state.report.onFailure((e) => state.haltWith(state.fileFailure(e), 'file'));
      for (const r of settledRows) state.count(r);
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
        if (settledHere(id)) continue;
        if (damagedIds.has(id)) {
          // Its last readable intent is proved (or resent); without one, a new secret settles it.
          const intent = journalState.intents.get(id);
          items.push({ credential: cred, id, secret: intent ? state.secretOf(intent) : undefined, journaled: intent !== undefined });
          continue;
        }
        // Never sent, or refused for the whole kind (a password policy): nothing applied, so a new
        // secret under the (possibly new) policy is safe. Anything else journaled may be live: prove or resend it.
        const nothingApplied = outcome?.status === 'not-sent' || outcome?.systematic === true;
        const intent = nothingApplied ? undefined : journalState.intents.get(id);
        items.push({
          credential: cred,
          id,
          secret: intent ? state.secretOf(intent) : undefined,
          journaled: intent !== undefined,
          ...(intent && outcome ? { earlierAttempts: outcome.attempts } : {}),
        });
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
      await recordLastRun(req.stateDir, server, journalPath, outcomeOf(summary)).catch((e: unknown) => ctx.log.warn(describeError(e)));
      ctx.secrets.delete(samePassword);
      return summary;
    } finally {
      await closeFiles(state);
    }
  } finally {
    recordMetrics(state, ctx, started);
    await journalLock?.release();
    await lock?.release();
    state.dispose();
    ctx.secrets.delete(c.secret);
    await state.client?.close().catch(() => undefined);
  }
}
