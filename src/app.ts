/**
 * Turns one parsed command into a run: settings from flags and environment, a logger, signal
 * handling, the run itself, and what is printed at the end. Returns the exit code.
 */
import { createInterface } from 'node:readline/promises';
import { describeError, errorJson, ExitCode, RunAborted, UsageError } from './errors.js';
import { createLogger, SecretRegistry } from './log.js';
import { formatProgress, formatPrune, formatSummary, formatVerify, msg } from './messages.js';
import {
  concurrencyGiven,
  parseDuration,
  resolveConnection,
  resolvePolicy,
  resolvePolicyOverride,
  resolveFiles,
  resolveSamePassword,
  resolveSelection,
  resolveWork,
  type Argv,
} from './options.js';
import { keyScope, keyScopeInstructions, keyUses } from './rotation/key-scope.js';
import { runResume, runRotation, StopSignal, type RunContext, type RunSummary } from './rotation/run.js';
import { readJournal } from './rotation/journal.js';
import { runVerify } from './rotation/verify.js';
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

/**
 * Where log lines go and how they look: on a terminal, text and warnings only (a person reads the
 * summary); elsewhere JSON lines at info (a scheduler keeps them); --quiet: errors only.
 */
export function logSettings(argv: Argv, stderrIsTty: boolean): { level: LevelWithSilent; format: LogFormat } {
  const quiet = argv.quiet === true;
  const level = (argv['log-level'] as LevelWithSilent | undefined) ?? (quiet ? 'error' : stderrIsTty ? 'warn' : 'info');
  const format = (argv['log-format'] as LogFormat | undefined) ?? (stderrIsTty ? 'text' : 'json');
  return { level, format };
}

/** A login key's uses for a run of `accounts` account passwords (see keyUsesNote). */
function keyScopeAccounts(argv: Argv): number | undefined {
  if (argv.accounts === undefined) return undefined;
  const n = Number(argv.accounts);
  if (!Number.isInteger(n) || n < 0 || n > 10_000_000) throw new UsageError('--accounts must be a whole number of accounts (e.g. --accounts 2005)');
  return n;
}

async function runPrune(argv: Argv, io: AppIo): Promise<number> {
  const { prune } = await import('./rotation/prune.js');
  const keepGiven = argv.keep !== undefined;
  const olderThan = typeof argv['older-than'] === 'string' ? parseAge(argv['older-than']) : undefined;
  const keep = keepGiven ? Number(argv.keep) : olderThan !== undefined ? 0 : 10;
  if (!Number.isInteger(keep) || keep < 0) throw new UsageError('--keep must be a whole number of runs (e.g. --keep 30)');
  const dir = typeof argv.dir === 'string' && argv.dir ? argv.dir : 'output';
  let result;
  try {
    result = await prune({ dir, keep, olderThanMs: olderThan, delete: argv.yes === true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EACCES')
      throw new UsageError(`prune: cannot read the directory ${dir} (${code}): give the directory the reports are in with --dir`);
    throw e;
  }
  if (argv.json === true) io.stdout.write(JSON.stringify(result) + '\n');
  if (argv.quiet !== true || result.protected.length > 0) io.stderr.write(formatPrune(result));
  return ExitCode.Ok;
}

/** --older-than: 30d, 12h, 90m (days allowed, unlike --deadline). */
function parseAge(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*d$/.exec(text.trim());
  if (m) return Math.round(Number(m[1]) * 86_400_000);
  return parseDuration(text, '--older-than');
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
  if (argv['password-stdin'] !== true) await check(() => resolveConnection(argv, io));
  throw new UsageError(problems.length === 1 ? problems[0]! : `${problems.length} problems: ${problems.join('; ')}`);
}

export async function runApp(command: AppCommand, argv: Argv, io: AppIo): Promise<number> {
  // Commands load what they need when they run: start-up stays small for every other command.
  if (command === 'notify') return (await import('./notify/main.js')).runNotify(argv, io);
  const secrets = new SecretRegistry();
  const json = argv.json === true;
  const quiet = argv.quiet === true;
  const say = (line: string) => io.stderr.write(`da-rotate: ${secrets.scrub(line)}\n`);
  try {
    if (command === 'prune') return await runPrune(argv, io);
    if (command === 'key-scope') {
      if (argv.inventory !== undefined) return (await import('./fleet/key-scope.js')).runFleetKeyScope(argv, io.stdout);
      const selection = resolveSelection(argv);
      const options = { scope: selection.scope, include: selection.include, countAll: selection.countAll, accounts: keyScopeAccounts(argv) };
      const scope = keyScope(options);
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
        const v = await runVerify({ report: String(argv.report), connection, work, identities: (await resolveFiles(argv, io.env)).identities }, ctx);
        if (json) io.stdout.write(JSON.stringify(v) + '\n');
        if (!quiet || v.exitCode !== ExitCode.Ok)
          io.stderr.write(secrets.scrub(formatVerify(v, Math.min(110, (io.stderr as { columns?: number }).columns ?? 100))));
        return v.exitCode;
      }
      let summary: RunSummary;
      if (command === 'resume') {
        // A shared password given again must meet the policy the journal's run used.
        const journalPolicy = journalPolicyOf(String(argv.journal));
        // Unless told otherwise, a resume runs as hard as the run it finishes did, and says so.
        if (!concurrencyGiven(argv) && journalPolicy.concurrency !== undefined && !work.adaptive) work.concurrency = journalPolicy.concurrency;
        if (!quiet) say(msg.resumeConcurrency(work.concurrency, concurrencyGiven(argv) ? undefined : journalPolicy.concurrency));
        const samePassword = await resolveSamePassword(argv, journalPolicy, io, argv['password-stdin'] === true);
        const files = await resolveFiles(argv, io.env);
        summary = await runResume(
          {
            journal: String(argv.journal),
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
