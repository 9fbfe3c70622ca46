/**
 * One message out: a login link or the passwords rendered into the template, an attempt line in
 * the sent-log before it is handed to SMTP, then sent, failed or uncertain (maybe accepted) after.
 * A stop gives the message in flight a grace period, then abandons it as uncertain.
 */
import { randomUUID } from 'node:crypto';
import { UsageError } from '../errors.js';
import { unbracket } from '../directadmin/url.js';
import { notifyMsg } from './messages.js';
import type { SentLog } from './sent-log.js';
import { isFatalServerError, LoginLinkUnproven } from './server.js';
import { classifySendError } from './smtp.js';
import { DEFAULT_TEMPLATES, renderMessage, type DeliveryMode } from './template.js';
import type { NotifyDeps, NotifySettings, NotifySummary, Planned } from './types.js';

function hostOf(origin: string): string {
  try {
    return unbracket(new URL(origin).hostname);
  } catch {
    return origin;
  }
}

export function abortReason(f: ReturnType<typeof classifySendError>, via: string): string {
  if (f.kind === 'auth') return notifyMsg.smtpAuth(via, f.reason);
  if (f.kind === 'tls') return notifyMsg.smtpTls(via, f.reason);
  return notifyMsg.smtpUnavailable(via, f.reason);
}

/** Sends one message; returns an abort reason when the batch must stop. */
export async function sendOne(
  p: Planned,
  settings: NotifySettings,
  deps: NotifyDeps,
  log: SentLog | undefined,
  summary: NotifySummary,
  ctx: { encryptedReport: boolean; now: Date },
): Promise<string | undefined> {
  const account = p.bundle.username;
  let bundle = p.bundle;
  if (settings.dryRun && ctx.encryptedReport) {
    bundle = { ...bundle, credentials: bundle.credentials.map((c) => ({ ...c, password: '<hidden: dry run of an encrypted report>' })) };
  }
  let loginLink: string | undefined;
  let mode: DeliveryMode = settings.deliver;
  if (settings.deliver === 'login-link') {
    if (settings.dryRun) loginLink = '<one-time login link, created when the message is sent>';
    else {
      try {
        loginLink = await deps.server.createLoginLink(account);
      } catch (e) {
        if (isFatalServerError(e) || e instanceof UsageError) return notifyMsg.serverFatal((e as Error).message);
        if (e instanceof LoginLinkUnproven) {
          // The server's behaviour, not this account's: it would repeat for everyone. Nothing is sent with it.
          if (settings.linkFallback !== 'password') {
            summary.failed.push({ account, error: e.message });
            return notifyMsg.loginLinkUnproven(e.message);
          }
          mode = 'password';
        } else {
          summary.failed.push({ account, error: `could not create a login link: ${(e as Error).message}` });
          return undefined;
        }
      }
    }
  }
  const server = deps.server.origin;
  const rendered = renderMessage(mode === settings.deliver ? settings.template : DEFAULT_TEMPLATES[mode], {
    bundle,
    mode,
    to: p.to,
    serverHost: hostOf(server),
    panelUrl: server,
    loginLink,
    now: ctx.now,
  });
  const messageId = `<${randomUUID()}@da-rotate.${hostOf(server)}>`;
  const at = () => new Date().toISOString();
  try {
    await log?.append({ t: 'attempt', account, to: p.to, messageId, deliver: mode, at: at() });
  } catch (e) {
    return notifyMsg.logWriteFailed(log!.path, (e as Error).message);
  }
  let response: string;
  try {
    const sending = deps.sender.send({ account, from: settings.from, to: p.to, subject: rendered.subject, text: rendered.text, messageId });
    ({ response } = await boundedByStop(sending, deps));
  } catch (e) {
    if (e instanceof AbandonedOnStop) {
      // Handed over, no answer within the grace: it may have been accepted. The attempt line stays; name it.
      summary.uncertain.push(account);
      summary.interrupted = true;
      await log?.append({ t: 'uncertain', account, messageId, error: e.message, at: at() }).catch(() => undefined);
      return undefined;
    }
    const f = classifySendError(e, {});
    if (settings.dryRun) {
      summary.failed.push({ account, error: (e as Error).message });
      return `could not write the message file: ${(e as Error).message}`;
    }
    const definite = f.kind !== 'unavailable' || !f.maybeSent;
    if (definite) {
      try {
        await log?.append({ t: 'failed', account, messageId, error: f.reason, at: at() });
      } catch (le) {
        return notifyMsg.logWriteFailed(log!.path, (le as Error).message);
      }
      summary.failed.push({ account, error: f.reason });
    } else {
      summary.uncertain.push(account);
      try {
        await log?.append({ t: 'uncertain', account, messageId, error: `maybe accepted: ${f.reason}`, at: at() });
      } catch (le) {
        return notifyMsg.logWriteFailed(log!.path, (le as Error).message);
      }
    }
    return f.kind === 'rejected' ? undefined : abortReason(f, deps.via);
  }
  try {
    await log?.append({ t: 'sent', account, to: p.to, messageId, response, at: at() });
  } catch (e) {
    summary.uncertain.push(account);
    return notifyMsg.logWriteFailed(log!.path, (e as Error).message);
  }
  summary.sent.push({ account, to: p.to, messageId });
  return undefined;
}

/** The message in flight was abandoned a grace period after a stop. */
class AbandonedOnStop extends Error {
  readonly code = 'NOTIFY_ABANDONED_ON_STOP';
}

/** `sending`, unless a stop comes and it is still pending stopGraceMs later (default 5 s). */
function boundedByStop<T>(sending: Promise<T>, deps: NotifyDeps): Promise<T> {
  const onStop = deps.stop.onStop;
  if (!onStop) return sending;
  const grace = deps.stopGraceMs ?? 5000;
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    onStop(() => {
      if (done) return;
      timer = setTimeout(() => {
        if (done) return;
        deps.sender.abort?.();
        reject(new AbandonedOnStop(`no answer ${grace / 1000} s after the stop: abandoned, it may have been accepted`));
      }, grace);
    });
    sending.then(
      (v) => {
        done = true;
        if (timer) clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        done = true;
        if (timer) clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
