/** `resume`: finishes an interrupted run from its journal, through the same skeleton as `rotate`. */
import { resolve } from 'node:path';
import type { AgeIdentity } from '../crypto/index.js';
import { describeError, RunInterrupted, UsageError } from '../errors.js';
import { credentialId } from '../kinds/index.js';
import { msg } from '../messages.js';
import { dispatch, type WorkItem } from './dispatch.js';
import { EncryptedReport } from './encrypted-report.js';
import { isSettled, JournalWriter, readJournal } from './journal.js';
import type { AcquiredLock } from './lock.js';
import type { PasswordPolicy } from './password.js';
import { ReportWriter, rowsFromJournal } from './report.js';
import type { ConnectionSettings, WorkSettings } from './settings.js';
import {
  closeFiles,
  connect,
  finish,
  lockServer,
  openClient,
  recordLastRunOrStop,
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
    await stoppableBeforeChanges(state, () => connect(state, c, ctx));
    if (state.halt.signal.aborted) throw new RunInterrupted(msg.interruptedBeforeChanges);
    state.preflight = false;
    try {
      state.journalPath = journalPath;
      state.journal = await JournalWriter.openAppend(journalPath);
      await state.journal.append({ t: 'resume', at: new Date().toISOString(), pid: process.pid });
      await recordLastRunOrStop(state, req.stateDir, journalPath);
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
        items.push({ credential: cred, id, secret: intent ? state.secretOf(intent) : undefined, journaled: intent !== undefined });
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
