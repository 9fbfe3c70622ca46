/**
 * Turns one parsed command into a run: settings from flags and environment, a logger, signal
 * handling, the run itself, and what is printed at the end. Returns the exit code.
 */
import { createInterface } from 'node:readline/promises';
import { describeError, errorJson, ExitCode, RunAborted, UsageError } from './errors.js';
import { createLogger, SecretRegistry } from './log.js';
import { formatProgress, formatSummary, msg } from './messages.js';
import {
  resolveConnection,
  resolvePolicy,
  resolvePolicyOverride,
  resolveFiles,
  resolveSamePassword,
  resolveSelection,
  resolveWork,
  type Argv,
  type Env,
} from './options.js';
import { keyScope, keyScopeInstructions } from './rotation/key-scope.js';
import { runResume, runRotation, StopSignal, type RunContext, type RunSummary } from './rotation/run.js';
import { readJournal } from './rotation/journal.js';
import { runVerify } from './rotation/verify.js';
import { runNotify } from './notify/main.js';
import type { LevelWithSilent } from 'pino';
import { runFleetKeyScope } from './fleet/key-scope.js';
import { runFleet, wantsFleet } from './fleet/run.js';

export interface AppIo {
  env: Env;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  /** Install SIGINT/SIGTERM handlers (the real CLI does; library callers may not want it). */
  handleSignals: boolean;
}

export type AppCommand = 'rotate' | 'plan' | 'key-scope' | 'resume' | 'verify' | 'notify';

function installSignals(stop: StopSignal, io: AppIo, onFirst: () => void): () => void {
  const handler = () => {
    if (stop.stopped) {
      io.stderr.write(`\n${msg.secondSignal}\n`);
      process.exit(ExitCode.Interrupted);
    }
    onFirst();
    stop.stop();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

function journalPolicyOf(path: string): { length: number; symbols: boolean } {
  try {
    const { options } = readJournal(path).header;
    return { length: options.length, symbols: options.symbols };
  } catch (e) {
    throw new UsageError(describeError(e));
  }
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The command that resumes a journal: connection flags that are not secrets, never the secret. */
function resumeCommandFor(argv: Argv): (journal: string) => string {
  return (journal) => {
    const parts = ['da-rotate', 'resume', shellQuote(journal)];
    for (const flag of ['server', 'user', 'password-file', 'ca', 'fingerprint']) {
      const v = argv[flag];
      if (typeof v === 'string' && v) {
        // A --server URL may hold credentials: keep only its origin.
        const value = flag === 'server' ? safeOrigin(v) : v;
        parts.push(`--${flag}`, shellQuote(value));
      }
    }
    for (const flag of ['password-stdin', 'insecure', 'allow-http']) if (argv[flag] === true) parts.push(`--${flag}`);
    parts.push('--yes');
    return parts.join(' ');
  };
}

function safeOrigin(url: string): string {
  try {
    const u = new URL(url.includes('://') ? url : `https://${url}`);
    return `${u.protocol}//${u.host}`;
  } catch {
    return '<server>';
  }
}

export async function runApp(command: AppCommand, argv: Argv, io: AppIo): Promise<number> {
  if (command === 'notify') return runNotify(argv, io);
  const secrets = new SecretRegistry();
  const json = argv.json === true;
  const say = (line: string) => io.stderr.write(`da-rotate: ${secrets.scrub(line)}\n`);
  try {
    if (command === 'key-scope') {
      if (argv.inventory !== undefined) return runFleetKeyScope(argv, io.stdout);
      const selection = resolveSelection(argv);
      const scope = keyScope({ scope: selection.scope, include: selection.include });
      if (json) io.stdout.write(JSON.stringify(scope) + '\n');
      else io.stdout.write(keyScopeInstructions(scope, { scope: selection.scope, include: selection.include }));
      return ExitCode.Ok;
    }
    const log = createLogger({ level: (argv['log-level'] as LevelWithSilent | undefined) ?? 'info', secrets, destination: io.stderr });
    const stop = new StopSignal();
    const interactive = io.stderr.isTTY === true && io.stdin.isTTY === true;
    const ctx: RunContext = {
      log,
      secrets,
      stderr: io.stderr,
      interactive,
      // The core reports progress; only a terminal gets the redrawn line.
      onProgress: io.stderr.isTTY === true ? (p) => io.stderr.write(`\r\x1b[K${formatProgress(p)}`) : undefined,
      stop,
      resumeCommand: resumeCommandFor(argv),
      confirm: async (question) => {
        const rl = createInterface({ input: io.stdin, output: io.stderr });
        try {
          return /^y(es)?$/i.test((await rl.question(question)).trim());
        } finally {
          rl.close();
        }
      },
    };
    const uninstall = io.handleSignals ? installSignals(stop, io, () => io.stderr.write('\nstopping: letting in-flight requests settle...\n')) : () => undefined;
    try {
      if (wantsFleet(command, argv)) return await runFleet(command, argv, io, ctx);
      const connection = await resolveConnection(argv, io);
      const work = resolveWork(argv);
      if (command === 'verify') {
        const v = await runVerify({ report: String(argv.report), connection, work, identities: (await resolveFiles(argv, io.env)).identities }, ctx);
        if (json) io.stdout.write(JSON.stringify(v) + '\n');
        io.stderr.write(
          `Verified ${v.checked} rotated account(s) of ${v.report} on ${v.server}: ${v.matching} match, ${v.drift.length} drifted, ${v.errors.length} not checkable\n` +
            (v.drift.length ? `  drift (password changed since the rotation): ${v.drift.join(', ')}\n` : '') +
            v.errors.map((e) => `  ${e.username}: ${e.error}\n`).join('') +
            (v.aborted ? `  ABORTED: ${v.aborted}\n` : ''),
        );
        return v.exitCode;
      }
      let summary: RunSummary;
      if (command === 'resume') {
        // A shared password given again must meet the policy the journal's run used.
        const journalPolicy = journalPolicyOf(String(argv.journal));
        const samePassword = await resolveSamePassword(argv, journalPolicy, io, argv['password-stdin'] === true);
        const files = await resolveFiles(argv, io.env);
        summary = await runResume({ journal: String(argv.journal), connection, work, samePassword, policy: resolvePolicyOverride(argv), stateDir: files.stateDir, identities: files.identities }, ctx);
      } else {
        const policy = resolvePolicy(argv);
        const samePassword = await resolveSamePassword(argv, policy, io, argv['password-stdin'] === true);
        summary = await runRotation(
          {
            mode: command,
            connection,
            selection: resolveSelection(argv),
            policy,
            samePassword,
            work,
            output: typeof argv.output === 'string' ? argv.output : undefined,
            yes: argv.yes === true,
            ...(await resolveFiles(argv, io.env)),
          },
          ctx,
        );
      }
      if (io.stderr.isTTY === true) io.stderr.write('\r\x1b[K');
      io.stderr.write(secrets.scrub(formatSummary(summary)));
      if (summary.interrupted && summary.resumeCommand) io.stderr.write(msg.interrupted(summary.resumeCommand) + '\n');
      if (json) io.stdout.write(JSON.stringify(summary) + '\n');
      return summary.exitCode;
    } finally {
      uninstall();
    }
  } catch (e) {
    if (e instanceof UsageError || e instanceof RunAborted) {
      say(e.message);
      if (json) io.stdout.write(errorJson(secrets.scrub(e.message), e.code, e.exitCode) + '\n');
      return e.exitCode;
    }
    say(`internal error (a bug, please report it): ${describeError(e)}`);
    if (json) io.stdout.write(errorJson(secrets.scrub(`internal error: ${describeError(e)}`), 'INTERNAL', ExitCode.Internal) + '\n');
    return ExitCode.Internal;
  }
}
