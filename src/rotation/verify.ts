/** Re-checks a report's rotated secrets against the server through each kind's check(), changing nothing. */
import { resolve } from 'node:path';
import pLimit from 'p-limit';
import { isDirectAdminError } from '../directadmin/errors.js';
import { isKindName, kindByName, type CredentialKind } from '../kinds/index.js';
import { describeError, ExitCode, UsageError } from '../errors.js';
import { msg } from '../messages.js';
import { kindContext, makeClient, preflight, readRetryOptions } from './connection.js';
import type { AgeIdentity } from '../crypto/index.js';
import { parseReport, type ParsedReportRow } from './report-parse.js';
import { newerRunThanReport } from './last-run.js';
import { withReadRetries } from './retry.js';
import { truthMsg } from './truth-messages.js';
import type { ConnectionSettings, WorkSettings } from './settings.js';
import type { RunContext } from './skeleton.js';
import { tallyRow, type KindCounts } from './tally.js';

/** Why a kind cannot be proved: DirectAdmin has no command that checks its secret (directadmin-api.md). */
const UNPROVABLE: Record<string, string> = {
  email: 'DirectAdmin has no command that checks a mailbox password (only a login by IMAP/POP3 would)',
  ftp: 'DirectAdmin has no command that checks an FTP password (only an FTP login would)',
  'db-user': 'DirectAdmin has no command that checks a database user password (only a MySQL login would)',
};

export interface VerifyRequest {
  report: string;
  connection: ConnectionSettings;
  work: WorkSettings;
  /** Opens an encrypted report (.csv.age). */
  identities?: AgeIdentity[];
  /** Where the server's last run is recorded: a report a later run superseded is refused. */
  stateDir?: string;
}

export interface VerifySummary {
  server: string;
  report: string;
  checked: number;
  matching: number;
  /** Accounts whose live password is no longer the report's. */
  drift: string[];
  /** Accounts that could not be checked, with why. */
  errors: Array<{ username: string; error: string }>;
  /** Rotated credentials of kinds the API cannot check (mailboxes, FTP accounts): counted, not checked. */
  notCheckable: number;
  /**
   * Kind × status: verified (the live secret is the report's), drifted, error (could not be checked),
   * unverifiable (no DirectAdmin command can prove that kind's secret without changing it).
   */
  byKind: KindCounts;
  /** The kinds that could not be proved, with why. */
  unverifiable?: Array<{ kind: string; count: number; why: string }>;
  aborted?: string;
  exitCode: number;
}

/** Reads and checks a report before anything is sent: a non-report, another server's or an empty one is a usage error. */
export async function loadReportForVerify(path: string, identities?: AgeIdentity[]): Promise<ParsedReportRow[]> {
  const { readReportText } = await import('../crypto/index.js');
  const text = await readReportText(path, identities);
  try {
    return parseReport(text, path);
  } catch (e) {
    throw new UsageError(msg.notAReport(path, describeError(e)));
  }
}

export async function runVerify(req: VerifyRequest, ctx: RunContext): Promise<VerifySummary> {
  const reportPath = resolve(req.report);
  const rows = await loadReportForVerify(reportPath, req.identities);
  const rotated = rows.filter((r) => r.status === 'rotated' && r.password);
  /** A kind whose check() proves a secret is live (today the account password); others are counted, not checked. */
  const checking = (r: ParsedReportRow): CredentialKind | undefined => {
    const kind = isKindName(r.kind) ? kindByName(r.kind) : undefined;
    return kind?.action === 'change' && kind.check ? kind : undefined;
  };
  const toCheck = rotated.filter((r) => checking(r) !== undefined);
  if (toCheck.length === 0) throw new UsageError(msg.nothingToVerify(reportPath));
  const c = req.connection;
  ctx.secrets.add(c.secret);
  const halt = new AbortController();
  ctx.stop.onStop(() => halt.abort());
  const client = makeClient(c, req.work.concurrency, { log: ctx.log });
  const kctx = kindContext(client, { settle: 'verify' }, ctx.log);
  const server = client.origin;
  try {
    const foreign = toCheck.find((r) => r.server !== server);
    if (foreign) throw new UsageError(msg.reportServerMismatch(foreign.server, server));
    // Only the newest report of a server says what is live: an older one is refused, not "drift".
    const later = newerRunThanReport(reportPath, server, req.stateDir);
    if (later) throw new UsageError(truthMsg.superseded(reportPath, later, 'verify the newest report instead'));
    const retry = readRetryOptions(req.work, halt.signal);
    await preflight(client, retry, ctx.secrets);
    const limit = pLimit(req.work.concurrency);
    const drift: string[] = [];
    const errors: Array<{ username: string; error: string }> = [];
    let matching = 0;
    let aborted: string | undefined;
    await Promise.all(
      toCheck.map((row) =>
        limit(async () => {
          // Queued checks see `aborted` and return; clearQueue would leave their promises pending.
          if (aborted || halt.signal.aborted) return;
          ctx.secrets.add(row.password);
          try {
            const kind = checking(row)!;
            const credential = { kind: kind.name, owner: row.username, name: row.credential || row.username };
            const live = await withReadRetries(() => kind.check!(kctx, credential, row.password), retry);
            if (live === undefined) errors.push({ username: row.username, error: msg.notCheckable(kind.name) });
            else if (live) matching++;
            else drift.push(row.username);
          } catch (e) {
            const text = ctx.secrets.scrub(describeError(e));
            if (isDirectAdminError(e) && e.fatal) aborted ??= text;
            else errors.push({ username: row.username, error: text });
          } finally {
            ctx.secrets.delete(row.password);
          }
        }),
      ),
    );
    drift.sort();
    const byKind: KindCounts = {};
    const drifted = new Set(drift);
    const failed = new Set(errors.map((e) => e.username));
    for (const r of toCheck) tallyRow(byKind, { kind: r.kind, status: drifted.has(r.username) ? 'drifted' : failed.has(r.username) ? 'error' : 'verified' });
    const others = new Map<string, number>();
    for (const r of rotated) if (r.kind !== 'account') others.set(r.kind, (others.get(r.kind) ?? 0) + 1);
    for (const [kind, n] of others) (byKind[kind] ??= {}).unverifiable = n;
    const unverifiable = [...others].map(([kind, count]) => ({ kind, count, why: UNPROVABLE[kind] ?? 'no DirectAdmin command checks it' }));
    return {
      byKind,
      ...(unverifiable.length ? { unverifiable } : {}),
      server,
      report: reportPath,
      checked: toCheck.length,
      matching,
      drift,
      errors,
      notCheckable: rotated.length - toCheck.length,
      aborted,
      exitCode: ctx.stop.stopped ? ExitCode.Interrupted : aborted ? ExitCode.Aborted : drift.length + errors.length > 0 ? ExitCode.Partial : ExitCode.Ok,
    };
  } finally {
    ctx.secrets.delete(c.secret);
    await client.close().catch(() => undefined);
  }
}
