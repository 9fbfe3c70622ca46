/**
 * Turns one parsed command into a run: settings from flags and environment, a logger, signal
 * handling, the run itself, and what is printed at the end. Returns the exit code.
 */
import { describeError, errorJson, ExitCode, RunAborted, UsageError } from './errors.js';
import { createLogger, SecretRegistry } from './log.js';
import { formatProgress, formatPrune, formatSummary, formatVerify, msg } from './messages.js';
import {
  checkedArgv,
  concurrencyGiven,
  resolveConnection,
  resolvePolicy,
  resolvePolicyOverride,
  resolveFiles,
  resolveSamePassword,
  resolveSelection,
  resolveWork,
  type Argv,
  type ArgvInput,
  type ArgvOf,
} from './options.js';
import { keyScope, keyScopeInstructions, keyUses } from './rotation/key-scope.js';
import { runResume, runRotation, StopSignal, type RunContext, type RunSummary } from './rotation/run.js';
import { readJournal } from './rotation/journal.js';
import type { LevelWithSilent, LogFormat } from './log.js';
import { wantsFleet } from './fleet/wants.js';
import type { CommandIo } from './io.js';

/** The process a command runs in (src/io.ts). */
export type AppIo = CommandIo;

export type AppCommand = 'rotate' | 'plan' | 'key-scope' | 'resume' | 'verify' | 'notify' | 'prune';

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

function journalPolicyOf(path: string): { length: number; symbols: boolean; concurrency?: number } {
  try {
    const { options } = readJournal(path).header;
    return { length: options.length, symbols: options.symbols, concurrency: options.concurrency };
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
    // A --server URL may hold credentials: keep only its origin.
    const values = {
      server: argv.server && safeOrigin(argv.server),
      user: argv.user,
      'password-file': argv.passwordFile,
      ca: argv.ca,
      fingerprint: argv.fingerprint,
    };
    for (const [flag, v] of Object.entries(values)) if (v) parts.push(`--${flag}`, shellQuote(v));
    const switches = { 'password-stdin': argv.passwordStdin, insecure: argv.insecure, 'allow-http': argv.allowHttp };
    for (const [flag, on] of Object.entries(switches)) if (on === true) parts.push(`--${flag}`);
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

/**
 * Where log lines go and how they look: on a terminal, text and warnings only (a person reads the
 * summary); elsewhere JSON lines at info (a scheduler keeps them); --quiet: errors only.
 */
export function logSettings(input: ArgvInput, stderrIsTty: boolean): { level: LevelWithSilent; format: LogFormat } {
  const argv = checkedArgv(input);
  const quiet = argv.quiet === true;
  const level = argv.logLevel ?? (quiet ? 'error' : stderrIsTty ? 'warn' : 'info');
  const format = argv.logFormat ?? (stderrIsTty ? 'text' : 'json');
  return { level, format };
}

async function runPrune(argv: ArgvOf<'prune'>, io: AppIo): Promise<number> {
  const { prune } = await import('./rotation/prune.js');
  const olderThan = argv.olderThan;
  const keep = argv.keep ?? (olderThan !== undefined ? 0 : 10);
  const dir = argv.dir ?? 'output';
  let result;
  try {
    result = await prune({ dir, keep, olderThanMs: olderThan, delete: argv.yes });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EACCES')
      throw new UsageError(`prune: cannot read the directory ${dir} (${code}): give the directory the reports are in with --dir`);
    throw e;
  }
  if (argv.json) io.stdout.write(JSON.stringify(result) + '\n');
  if (argv.quiet !== true || result.protected.length > 0) io.stderr.write(formatPrune(result));
  return ExitCode.Ok;
}

/**
 * Every flag error at once, before any request and before anything is read from stdin: an operator
 * fixing `--concurrency 0` should not learn about the missing server only on the next try.
 */
async function checkFlagsTogether(command: AppCommand, argv: Argv, io: AppIo): Promise<void> {
  const problems: string[] = [];
  const check = async (resolve: () => unknown) => {
    try {
      await resolve();
    } catch (e) {
      if (!(e instanceof UsageError)) throw e;
      problems.push(e.message);
    }
  };
  await check(() => resolveWork(argv));
  if (command === 'rotate' || command === 'plan') {
    await check(() => resolveSelection(argv));
    await check(() => resolvePolicy(argv));
  }
  if (problems.length === 0) return;
  // The connection's own checks too, unless they would consume standard input.
  if (argv.passwordStdin !== true) await check(() => resolveConnection(argv, io));
  throw new UsageError(problems.length === 1 ? problems[0]! : `${problems.length} problems: ${problems.join('; ')}`);
}

/** Runs one parsed command line; its flags are checked as the run reads them (options/validate.ts). */
export async function runApp(command: AppCommand, input: ArgvInput, io: AppIo): Promise<number> {
  // Commands load what they need when they run: start-up stays small for every other command.
  if (command === 'notify') return (await import('./notify/main.js')).runNotify(input, io);
  const argv = checkedArgv(input);
  const secrets = new SecretRegistry();
  const json = argv.json;
  const quiet = argv.quiet === true;
  const say = (line: string) => io.stderr.write(`da-rotate: ${secrets.scrub(line)}\n`);
  try {
    if (command === 'prune') return await runPrune(argv, io);
    if (command === 'key-scope') {
      if (argv.inventory !== undefined) {
        if (argv.check === true) throw new UsageError("key-scope --check asks one server: run it with that server's connection options, once per server");
        return (await import('./fleet/key-scope.js')).runFleetKeyScope(argv, io.stdout);
      }
      const selection = resolveSelection(argv);
      const options = { scope: selection.scope, include: selection.include, countAll: selection.countAll, accounts: argv.accounts };
      const scope = keyScope(options);
      if (argv.check === true) {
        const connection = await resolveConnection(argv, io);
        const { checkKeyScope, formatKeyCheck } = await import('./rotation/key-check.js');
        const { makeClient } = await import('./rotation/connection.js');
        secrets.add(connection.secret);
        for (const w of connection.warnings) say(w);
        const client = makeClient(connection, 1);
        try {
          const result = await checkKeyScope(client, scope);
          if (json) io.stdout.write(JSON.stringify({ ...scope, check: result }) + '\n');
          else io.stdout.write(formatKeyCheck(result, client.origin));
          return result.ok ? ExitCode.Ok : ExitCode.Partial;
        } catch (e) {
          throw new RunAborted(secrets.scrub(describeError(e)), { cause: e });
        } finally {
          await client.close();
        }
      }
      if (json) io.stdout.write(JSON.stringify(options.accounts === undefined ? scope : { ...scope, uses: keyUses(options) }) + '\n');
      else io.stdout.write(keyScopeInstructions(scope, options));
      return ExitCode.Ok;
    }
    const logging = logSettings(argv, io.stderr.isTTY === true);
    const log = createLogger({ ...logging, secrets, destination: io.stderr });
    /** Time spent waiting at the confirmation prompt: not part of the run's duration. */
    let promptMs = 0;
    const stop = new StopSignal();
    const interactive = io.stderr.isTTY === true && io.stdin.isTTY === true;
    const ctx: RunContext = {
      log,
      secrets,
      stderr: io.stderr,
      interactive,
      // The core reports progress; only a terminal gets the redrawn line.
      onProgress: io.stderr.isTTY === true && !quiet ? (p) => io.stderr.write(`\r\x1b[K${formatProgress(p)}`) : undefined,
      stop,
      resumeCommand: resumeCommandFor(argv),
      confirm: async (question) => {
        const asked = Date.now();
        // node:readline is loaded only when a question is asked (most runs say --yes).
        const { createInterface } = await import('node:readline/promises');
        const rl = createInterface({ input: io.stdin, output: io.stderr });
        try {
          return /^y(es)?$/i.test((await rl.question(question)).trim());
        } finally {
          rl.close();
          promptMs += Date.now() - asked;
        }
      },
    };
    const uninstall = io.handleSignals
      ? installSignals(stop, io, () => io.stderr.write('\nstopping: letting in-flight requests settle...\n'))
      : () => undefined;
    try {
      if (wantsFleet(command, argv)) return await (await import('./fleet/run.js')).runFleet(command, argv, io, ctx);
      await checkFlagsTogether(command, argv, io);
      const connection = await resolveConnection(argv, io);
      const work = resolveWork(argv);
      if (command === 'verify') {
        // verify reads reports back: the CSV parser loads with it, not with every run.
        const { runVerify } = await import('./rotation/verify.js');
        const v = await runVerify({ report: argv.report!, connection, work, identities: (await resolveFiles(argv, io.env)).identities }, ctx);
        if (json) io.stdout.write(JSON.stringify(v) + '\n');
        if (!quiet || v.exitCode !== ExitCode.Ok)
          io.stderr.write(secrets.scrub(formatVerify(v, Math.min(110, (io.stderr as { columns?: number }).columns ?? 100))));
        return v.exitCode;
      }
      let summary: RunSummary;
      if (command === 'resume') {
        // A shared password given again must meet the policy the journal's run used.
        const journalPolicy = journalPolicyOf(argv.journal!);
        // Unless told otherwise, a resume runs as hard as the run it finishes did, and says so.
        if (!concurrencyGiven(argv) && journalPolicy.concurrency !== undefined && !work.adaptive) work.concurrency = journalPolicy.concurrency;
        if (!quiet) say(msg.resumeConcurrency(work.concurrency, concurrencyGiven(argv) ? undefined : journalPolicy.concurrency));
        const samePassword = await resolveSamePassword(argv, journalPolicy, io, argv.passwordStdin === true);
        const files = await resolveFiles(argv, io.env);
        summary = await runResume(
          {
            journal: argv.journal!,
            connection,
            work,
            samePassword,
            policy: resolvePolicyOverride(argv),
            stateDir: files.stateDir,
            identities: files.identities,
          },
          ctx,
        );
      } else {
        const policy = resolvePolicy(argv);
        const samePassword = await resolveSamePassword(argv, policy, io, argv.passwordStdin === true);
        summary = await runRotation(
          {
            mode: command,
            connection,
            selection: resolveSelection(argv),
            policy,
            samePassword,
            work,
            output: argv.output,
            yes: argv.yes,
            ...(await resolveFiles(argv, io.env)),
          },
          ctx,
        );
      }
      summary.durationMs = Math.max(0, summary.durationMs - promptMs);
      if (io.stderr.isTTY === true && !quiet) io.stderr.write('\r\x1b[K');
      // --quiet: a run that went well prints nothing (cron mails any output); anything else is said.
      if (!quiet || summary.exitCode !== ExitCode.Ok) {
        io.stderr.write(secrets.scrub(formatSummary(summary)));
        if (summary.interrupted && summary.resumeCommand) io.stderr.write(msg.interrupted(summary.resumeCommand) + '\n');
      }
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
