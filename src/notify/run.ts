/**
 * The notify run: report -> one message per account owner -> SMTP (or .eml files), checked whole
 * before the first message, confirmed, rate-limited, and recorded in the sent-log so that a rerun
 * sends nobody a second message.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import pLimit from 'p-limit';
import { ExitCode, RunAborted, UsageError } from '../errors.js';
import { readReportText } from '../crypto/report-file.js';
import { looksLikeAge } from '../crypto/age.js';
import { globToRegExp } from '../rotation/enumerate.js';
import { newerRunThanReport } from '../rotation/last-run.js';
import { truthMsg } from '../rotation/truth-messages.js';
import { groupForDelivery, parseReportCsv, type AccountBundle } from './credentials.js';
import { notifyMsg } from './messages.js';
import { parseSentLog, SentLog, sentLogPathFor, type AccountDelivery } from './sent-log.js';
import { abortReason, sendOne } from './send.js';
import { isFatalServerError, type NotifyServer } from './server.js';
import { classifySendError } from './smtp.js';
import type { NotifyDeps, NotifySettings, NotifySummary, Planned } from './types.js';

const ADDRESS = /^[^\s@<>(),;:"\\]+@[A-Za-z0-9.-]+\.[A-Za-z0-9-]+$/;
const LOOKUP_CONCURRENCY = 8;

/**
 * Drops every password the server no longer has (a later run changed it, or someone did by hand):
 * proved by the kinds' read (the account's password check); a credential no read can prove is kept.
 */
async function keepLive(todo: AccountBundle[], server: NotifyServer, summary: NotifySummary, say: (line: string) => void): Promise<AccountBundle[]> {
  const kept: AccountBundle[] = [];
  for (const b of todo) {
    const credentials = [];
    for (const c of b.credentials) {
      let live: boolean | undefined;
      try {
        live = await server.isLive!(b.username, c);
      } catch (e) {
        if (isFatalServerError(e)) throw e;
        live = false;
        summary.failed.push({
          account: b.username,
          error: `could not check that the ${c.kind} password of ${c.credential} is still live: ${(e as Error).message}`,
        });
        continue;
      }
      if (live === false) {
        summary.failed.push({ account: b.username, error: `the ${c.kind} password of ${c.credential} in the report is no longer live: not sent` });
        say(`${b.username}: the ${c.kind} password of ${c.credential} is no longer live on the server; it is not sent`);
      } else credentials.push(c);
    }
    if (credentials.length > 0) kept.push({ ...b, credentials });
  }
  return kept;
}

export async function notify(settings: NotifySettings, deps: NotifyDeps): Promise<NotifySummary> {
  const { server, say } = deps;
  const now = deps.now ?? (() => new Date());
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));

  // 1. The report: readable, one server, the one we are connected to.
  const text = await readReportText(settings.report, settings.identities);
  const encryptedReport = looksLikeAge(readFileSync(settings.report).subarray(0, 32));
  const lines = parseReportCsv(text, `the report ${settings.report}`);
  const servers = new Set(lines.map((l) => l.server));
  if (servers.size > 1) throw new UsageError(notifyMsg.reportMixedServers(settings.report));
  const reportServer = lines[0]?.server ?? server.origin;
  if (reportServer !== server.origin) throw new UsageError(notifyMsg.reportServerMismatch(reportServer, server.origin));
  if (settings.deliver === 'login-link' && !server.loginLinks && !settings.dryRun) throw new UsageError(notifyMsg.loginLinksUnavailable);
  // Only the newest report of its server holds live passwords: an older one sends nothing.
  const later = newerRunThanReport(resolve(settings.report), reportServer, settings.stateDir);
  if (later) throw new UsageError(truthMsg.superseded(settings.report, later, 'notify sends nothing from it; notify the newest report'));

  const grouping = groupForDelivery(lines, { includeUnknown: settings.includeUnknown });
  if (grouping.heldUnknown) say(notifyMsg.heldUnknown(grouping.heldUnknown));
  if (grouping.includedUnknown) say(notifyMsg.includedUnknown(grouping.includedUnknown));

  // 2. Selection.
  const excludes = settings.exclude.map(globToRegExp);
  const onlyPatterns = settings.only?.map(globToRegExp);
  if (settings.only) {
    const names = new Set(grouping.bundles.map((b) => b.username));
    const missing = settings.only.filter((o) => !/[*?]/.test(o) && !names.has(o));
    if (missing.length) throw new UsageError(notifyMsg.onlyMissing(missing));
  }
  const selected = grouping.bundles.filter((b) => !excludes.some((r) => r.test(b.username)) && (!onlyPatterns || onlyPatterns.some((r) => r.test(b.username))));

  const summary: NotifySummary = {
    command: 'notify',
    report: settings.report,
    server: server.origin,
    deliver: settings.deliver,
    dryRun: settings.dryRun,
    emlDir: settings.emlDir,
    planned: 0,
    sent: [],
    failed: [],
    alreadySent: 0,
    uncertain: [],
    suspended: [],
    notSelected: grouping.bundles.length - selected.length,
    heldUnknown: grouping.heldUnknown,
    interrupted: false,
    exitCode: ExitCode.Ok,
  };

  // 3. What went out before. A dry run only reads the log; a real run opens (or creates) it.
  const logPath = sentLogPathFor(settings.report);
  let log: SentLog | undefined;
  let deliveries: Map<string, AccountDelivery>;
  if (settings.dryRun) {
    let logText = '';
    try {
      logText = readFileSync(logPath, 'utf8');
    } catch {
      /* no log yet: nothing was sent */
    }
    deliveries = parseSentLog(logText.slice(0, logText.lastIndexOf('\n') + 1), logPath, server.origin);
  } else {
    log = await SentLog.open(logPath, server.origin, settings.report);
    deliveries = log.deliveries;
    summary.sentLog = logPath;
  }
  try {
    const todo: AccountBundle[] = [];
    for (const b of selected) {
      const d = deliveries.get(b.username);
      if (d?.state === 'sent') summary.alreadySent++;
      else if (d?.state === 'uncertain' && !settings.resendUncertain) summary.uncertain.push(b.username);
      else todo.push(b);
    }
    if (summary.uncertain.length) say(notifyMsg.uncertainHeld(summary.uncertain));

    // 4. Every password still live (the kinds' proving read), contact addresses and suspension,
    // all looked up before anything is sent.
    const live = server.isLive ? await keepLive(todo, server, summary, say) : todo;
    const planned = await lookUp(live, settings, server, summary);
    summary.planned = planned.length;
    if (planned.length === 0) return finish(summary);

    // 5. The SMTP server works (TLS, authentication) and the operator agrees.
    if (!settings.dryRun) {
      try {
        await deps.sender.verify();
      } catch (e) {
        return finish(summary, abortReason(classifySendError(e, {}), deps.via));
      }
      if (!settings.yes) {
        if (!deps.interactive) throw new UsageError(notifyMsg.needsYes);
        const sample = planned.slice(0, 10).map((p) => `${p.bundle.username} -> ${p.to}`);
        if (!(await deps.confirm(notifyMsg.confirm(planned.length, settings.deliver, deps.via, sample, planned.length - sample.length)))) {
          throw new UsageError(notifyMsg.notConfirmed);
        }
      }
    } else if (encryptedReport && settings.deliver === 'password') {
      say(notifyMsg.dryRunEncrypted);
    }

    // 6. Send, one at a time, each recorded before and after.
    const interval = settings.rate > 0 ? 1000 / settings.rate : 0;
    let nextAt = Date.now();
    for (const p of planned) {
      if (deps.stop.stopped) {
        summary.interrupted = true;
        break;
      }
      const wait = nextAt - Date.now();
      if (wait > 0) await sleep(wait);
      nextAt = Math.max(nextAt, Date.now()) + interval;
      const aborted = await sendOne(p, settings, deps, log, summary, { encryptedReport, now: now() });
      if (aborted) return finish(summary, aborted);
    }
    return finish(summary);
  } finally {
    await log?.close();
  }
}

async function lookUp(todo: AccountBundle[], settings: NotifySettings, server: NotifyServer, summary: NotifySummary): Promise<Planned[]> {
  const limit = pLimit(LOOKUP_CONCURRENCY);
  let fatal: unknown;
  const results = await Promise.all(
    todo.map((b) =>
      limit(async (): Promise<Planned | undefined> => {
        if (fatal) return undefined;
        let config: Record<string, string>;
        try {
          config = await server.userConfig(b.username);
        } catch (e) {
          if (isFatalServerError(e)) fatal ??= e;
          else summary.failed.push({ account: b.username, error: `could not read the account's contact address: ${(e as Error).message}` });
          return undefined;
        }
        if (config.suspended === 'yes' && !settings.includeSuspended) {
          summary.suspended.push(b.username);
          return undefined;
        }
        const to = settings.toOverride ?? (config.email ?? '').trim();
        if (!ADDRESS.test(to)) {
          summary.failed.push({
            account: b.username,
            error: to ? 'the account has an invalid contact address' : 'the account has no contact address (email) on the server',
          });
          return undefined;
        }
        return { bundle: b, to };
      }),
    ),
  );
  if (fatal) throw new RunAborted(notifyMsg.serverFatal((fatal as Error).message), { cause: fatal });
  summary.suspended.sort();
  return results.filter((p): p is Planned => p !== undefined);
}

function finish(summary: NotifySummary, aborted?: string): NotifySummary {
  if (aborted) summary.aborted = aborted;
  summary.exitCode = aborted
    ? ExitCode.Aborted
    : summary.interrupted
      ? ExitCode.Interrupted
      : summary.failed.length || summary.uncertain.length
        ? ExitCode.Partial
        : ExitCode.Ok;
  return summary;
}
