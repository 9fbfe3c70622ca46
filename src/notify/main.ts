/**
 * `da-rotate notify`: settings, the DirectAdmin connection, the sender (SMTP or .eml files),
 * signals, the run, and what is printed at the end. Returns the exit code.
 */
import { createInterface } from 'node:readline/promises';
import { DirectAdminClient } from '../directadmin/index.js';
import { describeError, ExitCode, RunAborted, UsageError } from '../errors.js';
import { FileWriteFailed } from '../files.js';
import { checkPrivateDir } from '../directories.js';
import { checkedArgv, resolveConnection, type ArgvInput } from '../options.js';
import type { CommandIo } from '../io.js';
import { formatNotifySummary, notifyMsg } from './messages.js';
import { notify } from './run.js';
import { notifyServerFromClient, type NotifyServer } from './server.js';
import { resolveNotifySettings } from './settings.js';
import { emlWriter, resolveSmtp, smtpSender, type MailSender } from './smtp.js';

export type NotifyIo = CommandIo;

/** Test seam: a stand-in for the DirectAdmin side (otherwise built from the connection flags). */
export interface NotifyOverrides {
  server?: NotifyServer;
}

export async function runNotify(input: ArgvInput, io: NotifyIo, overrides: NotifyOverrides = {}): Promise<number> {
  const argv = checkedArgv(input);
  const json = argv.json;
  const say = (line: string) => io.stderr.write(`da-rotate: ${line}\n`);
  let server: NotifyServer | undefined;
  let sender: MailSender | undefined;
  let uninstall = () => undefined as void;
  try {
    const settings = resolveNotifySettings(argv, io.env);
    const smtp = settings.dryRun ? undefined : resolveSmtp(io.env, { insecure: settings.smtpInsecure, ca: settings.smtpCa });
    if (smtp?.insecure)
      say('--smtp-insecure: messages may travel without TLS and the certificate is not checked; the passwords in them can be read on the way');
    if (overrides.server) server = overrides.server;
    else {
      const c = await resolveConnection(argv, io);
      for (const w of c.warnings) say(w);
      server = notifyServerFromClient(
        new DirectAdminClient({
          baseUrl: c.baseUrl,
          username: c.username,
          secret: c.secret,
          tls: c.tls,
          allowHttp: c.allowHttp,
          timeoutMs: c.timeoutMs,
          format: c.format,
        }),
      );
    }
    let via: string;
    if (settings.dryRun) {
      const dir = settings.emlDir!;
      await checkPrivateDir(dir, { create: true });
      sender = emlWriter(dir);
      via = dir;
    } else {
      sender = smtpSender(smtp!);
      via = smtp!.display;
    }
    const listeners: Array<() => void> = [];
    const stop = {
      stopped: false,
      onStop: (l: () => void) => (stop.stopped ? l() : listeners.push(l)),
    };
    if (io.handleSignals) {
      const handler = () => {
        if (stop.stopped) process.exit(ExitCode.Interrupted);
        io.stderr.write('\nstopping after the message in flight...\n');
        stop.stopped = true;
        for (const l of listeners.splice(0)) l();
      };
      const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
      for (const sig of signals) process.on(sig, handler);
      uninstall = () => {
        for (const sig of signals) process.off(sig, handler);
      };
    }
    const summary = await notify(settings, {
      server,
      sender,
      via,
      interactive: io.stderr.isTTY === true && io.stdin.isTTY === true,
      confirm: async (question) => {
        const rl = createInterface({ input: io.stdin, output: io.stderr });
        try {
          return /^y(es)?$/i.test((await rl.question(question)).trim());
        } finally {
          rl.close();
        }
      },
      say,
      stop,
    });
    io.stderr.write(formatNotifySummary(summary));
    if (summary.interrupted) say(notifyMsg.interrupted);
    if (json) io.stdout.write(JSON.stringify(summary) + '\n');
    return summary.exitCode;
  } catch (e) {
    if (e instanceof FileWriteFailed) e = new RunAborted(`${e.message}: nothing more is sent`, { cause: e });
    if (e instanceof UsageError || e instanceof RunAborted) {
      say(e.message);
      if (json) io.stdout.write(JSON.stringify({ command: 'notify', error: e.message, exitCode: e.exitCode }) + '\n');
      return e.exitCode;
    }
    say(`internal error (a bug, please report it): ${describeError(e)}`);
    return ExitCode.Internal;
  } finally {
    uninstall();
    sender?.close();
    await server?.close().catch(() => undefined);
  }
}
