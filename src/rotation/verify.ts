/** Re-checks a report's rotated rows against the server, changing nothing. */
import { resolve } from 'node:path';
import pLimit from 'p-limit';
import { isDirectAdminError } from '../directadmin/index.js';
import { ExitCode, RunAborted, UsageError } from '../errors.js';
import { msg } from '../messages.js';
import type { ConnectionSettings, WorkSettings } from '../options.js';
import { readReport } from './report.js';
import { makeClient, preflight, type RunContext } from './run.js';

export interface VerifyRequest {
  report: string;
  connection: ConnectionSettings;
  work: WorkSettings;
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
  aborted?: string;
  exitCode: number;
}

export async function runVerify(req: VerifyRequest, ctx: RunContext): Promise<VerifySummary> {
  const reportPath = resolve(req.report);
  let rows;
  try {
    rows = readReport(reportPath);
  } catch (e) {
    throw new UsageError(`cannot read the report ${reportPath}: ${(e as Error).message}`);
  }
  const toCheck = rows.filter((r) => r.status === 'rotated' && r.password);
  const c = req.connection;
  ctx.secrets.add(c.secret);
  const client = makeClient(c, req.work.concurrency, ctx.log);
  const server = client.origin;
  try {
    const foreign = toCheck.find((r) => r.server !== server);
    if (foreign) throw new UsageError(msg.reportServerMismatch(foreign.server, server));
    await preflight(client, ctx);
    const limit = pLimit(req.work.concurrency);
    const drift: string[] = [];
    const errors: Array<{ username: string; error: string }> = [];
    let matching = 0;
    let aborted: string | undefined;
    await Promise.all(
      toCheck.map((row) =>
        limit(async () => {
          if (aborted || ctx.stop.stopped) return;
          ctx.secrets.add(row.password);
          try {
            if (await client.verifyPassword(row.username, row.password)) matching++;
            else drift.push(row.username);
          } catch (e) {
            const text = ctx.secrets.scrub(e instanceof Error ? e.message : String(e));
            // Queued checks see `aborted` and return; clearQueue would leave their promises pending.
            if (isDirectAdminError(e) && e.fatal) aborted ??= text;
            else errors.push({ username: row.username, error: text });
          } finally {
            ctx.secrets.delete(row.password);
          }
        }),
      ),
    );
    drift.sort();
    return {
      server,
      report: reportPath,
      checked: toCheck.length,
      matching,
      drift,
      errors,
      aborted,
      exitCode: ctx.stop.stopped
        ? ExitCode.Interrupted
        : aborted
          ? ExitCode.Aborted
          : drift.length + errors.length > 0
            ? ExitCode.Partial
            : ExitCode.Ok,
    };
  } catch (e) {
    if (e instanceof UsageError || e instanceof RunAborted) throw e;
    throw e;
  } finally {
    ctx.secrets.delete(c.secret);
    await client.close().catch(() => undefined);
  }
}
