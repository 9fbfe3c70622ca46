/**
 * The confirmation a terminal gets before a fleet rotation: each server with how many accounts it
 * would rotate, counted read-only (login test and account lists, as `plan` does), then one question.
 */
import pLimit from 'p-limit';
import { enumerateAccounts } from '../rotation/enumerate.js';
import { makeClient, preflight, readRetryOptions } from '../rotation/connection.js';
import type { RunContext } from '../rotation/run.js';
import type { ServerConnection } from './connect.js';
import { fleetMsg } from './messages.js';
import type { FleetSettings } from './server-run.js';
import { describeError } from '../errors.js';

async function countFor(job: ServerConnection, settings: FleetSettings, ctx: RunContext): Promise<number | string> {
  const client = makeClient(job.connection, 2, { log: ctx.log });
  ctx.secrets.add(job.connection.secret);
  try {
    await preflight(client, readRetryOptions(settings.work, new AbortController().signal), ctx.secrets);
    const sel = await enumerateAccounts(client, {
      scope: job.server.scope ?? settings.selection.scope,
      self: job.connection.username,
      exclude: [...settings.selection.exclude, ...job.server.exclude],
      only: settings.selection.only,
    });
    return sel.selected.length;
  } catch (e) {
    return ctx.secrets.scrub(describeError(e));
  } finally {
    ctx.secrets.delete(job.connection.secret);
    await client.close().catch(() => undefined);
  }
}

export async function confirmFleet(jobs: ServerConnection[], settings: FleetSettings, ctx: RunContext, out: NodeJS.WritableStream): Promise<boolean> {
  const limit = pLimit(8);
  const counts = await Promise.all(jobs.map((j) => limit(() => countFor(j, settings, ctx))));
  const width = Math.max(...jobs.map((j) => j.server.name.length));
  out.write(fleetMsg.confirmHeader(jobs.length) + '\n');
  jobs.forEach((j, i) => {
    const c = counts[i];
    out.write(
      `  ${j.server.name.padEnd(width)}  ${j.server.baseUrl} as ${j.connection.username}: ${typeof c === 'number' ? `${c} account(s)` : `cannot count (${c}); it will fail the same way`}\n`,
    );
  });
  const total = counts.reduce<number>((a, c) => a + (typeof c === 'number' ? c : 0), 0);
  return ctx.confirm(fleetMsg.confirmQuestion(total, jobs.length));
}
