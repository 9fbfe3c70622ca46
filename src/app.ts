/**
 * Turns one parsed command into a run: settings from flags and environment, a logger, signal
 * handling, the run itself, and what is printed at the end. Returns the exit code.
 */
import { describeError, errorJson, ExitCode, RunAborted, UsageError } from './errors.js';
import { createLogger, SecretRegistry, type Logger } from './log.js';
import { newRunId } from './run-id.js';
import { packageVersion } from './version.js';
import { FileWriteFailed } from './files.js';
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
import { keyScope, keyScopeInstructions, keyUses, parseExpect } from './rotation/key-scope.js';
import { runResume, runRotation, StopSignal, type RunContext, type RunSummary } from './rotation/run.js';
import { readJournal } from './rotation/journal.js';
import type { LevelWithSilent, LogFormat } from './log.js';
import { wantsFleet } from './fleet/wants.js';
import { checkMetricsFile, formatMetrics, MetricsRecorder, writeMetricsFile } from './rotation/metrics.js';
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
  // A closed SSH session: stopped like SIGTERM, never killed mid-write.
  process.on('SIGHUP', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
    process.off('SIGHUP', handler);
  };
}

const FILE_ERRNOS = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EACCES', 'EPERM', 'EROFS']);

/** A write of the tool's own files that failed: stops the run (exit 3), it is no internal error. */
function isFileFailure(e: unknown): boolean {
  if (e instanceof FileWriteFailed) return true;
  const err = e as NodeJS.ErrnoException | undefined;
  return err instanceof Error && typeof err.code === 'string' && FILE_ERRNOS.has(err.code) && typeof err.syscall === 'string';
}

function journalPolicyOf(path: string, salvage: boolean): { length: number; symbols: boolean; concurrency?: number } {
  try {
    const j = readJournal(path, { salvage });
    const { options } = j.header;
    return { length: j.policy?.length ?? options.length, symbols: j.policy?.symbols ?? options.symbols, concurrency: options.concurrency };
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
    // Every option that changes what a resume sends or which run it may finish (the journal keeps the rest: --include, --exclude, --only).
    const carried = { length: argv.length, 'state-dir': argv.stateDir, identity: argv.identity, format: argv.format };
    for (const [flag, v] of Object.entries(carried)) if (v !== undefined && v !== '') parts.push(`--${flag}`, shellQuote(String(v)));
    if (argv.symbols === true) parts.push('--symbols');
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
  if (command === 'prune' || command === 'key-scope') return runCommand(command, input, io, undefined);
  const started = Date.now();
  const metrics = new MetricsRecorder();
  const code = await runCommand(command, input, io, metrics);
  return writeMetrics(command, input, io, metrics, started, code);
}

/** --metrics-file (or the inventory's metrics_file): written after every run, whatever its exit code. */
async function writeMetrics(command: AppCommand, input: ArgvInput, io: AppIo, metrics: MetricsRecorder, started: number, code: number): Promise<number> {
  if (!metrics.path) return code;
  const runs = metrics.all();
  if (runs.length === 0) {
    // Stopped before it knew its server (a usage error): the run is still reported, under the server asked for.
    let asked = '';
    try {
      const argv = checkedArgv(input);
      asked = argv.inventory !== undefined ? '' : safeOrigin(argv.server ?? io.env.DA_URL ?? '');
    } catch {
      // The flags themselves were wrong: no server to name.
    }
    const m = metrics.server(asked === '<server>' ? '' : asked);
    m.startedAt = started;
    m.endedAt = Date.now();
  }
  for (const m of metrics.all()) if (m.exitCode < 0) m.exitCode = code;
  try {
    await writeMetricsFile(metrics.path, formatMetrics(command, metrics.all()));
    return code;
  } catch (e) {
    io.stderr.write(`da-rotate: could not write the metrics file ${metrics.path}: ${describeError(e)}\n`);
    return code === ExitCode.Ok ? ExitCode.Aborted : code;
  }
}

async function runCommand(command: Exclude<AppCommand, 'notify'>, input: ArgvInput, io: AppIo, metrics: MetricsRecorder | undefined): Promise<number> {
  const argv = checkedArgv(input);
  const secrets = new SecretRegistry();
  const json = argv.json;
  const quiet = argv.quiet === true;
  /**
   * JSON log lines and human text never share a stream: with JSON logs (the default off a terminal,
   * or --log-format json) what a person would read goes out as a log record; with text logs (a
   * terminal, or --log-format text) as text.
   */
  let log: Logger | undefined;
  let asText = true;
  // --log-level silent writes no JSON at all: what must still be said (an error) goes out as text.
  const jsonLogs = (l: Logger | undefined): l is Logger => l !== undefined && !asText && l.level !== 'silent';
  const say = (line: string, level: 'info' | 'error' = 'error') => {
    if (jsonLogs(log)) log[level](line);
    else io.stderr.write(`da-rotate: ${secrets.scrub(line)}\n`);
  };
  const human = (text: string, failed: boolean) => {
    if (jsonLogs(log)) log[failed ? 'error' : 'info']({ text: text.trimEnd() }, 'summary');
    else io.stderr.write(secrets.scrub(text));
  };
  try {
    if (metrics && argv.metricsFile !== undefined) {
      await checkMetricsFile(argv.metricsFile);
      metrics.path = argv.metricsFile;
    }
    if (command === 'prune') return await runPrune(argv, io);
    if (command === 'key-scope') {
      if (argv.expect !== undefined && argv.accounts === undefined)
        throw new UsageError('--expect needs --accounts N: it gives the figures key-scope counts a run of N accounts with');
      if (argv.inventory !== undefined) {
        if (argv.check === true) throw new UsageError("key-scope --check asks one server: run it with that server's connection options, once per server");
        return (await import('./fleet/key-scope.js')).runFleetKeyScope(argv, io.stdout);
      }
      const selection = resolveSelection(argv);
      const expect = parseExpect(argv.expect, selection.include);
      const options = { scope: selection.scope, include: selection.include, countAll: selection.countAll, accounts: argv.accounts, expect };
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
    asText = logging.format === 'text';
    log = createLogger({ ...logging, secrets, destination: io.stderr, runId: newRunId(), version: packageVersion() });
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
      metrics,
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
        const files = await resolveFiles(argv, io.env);
        const v = await runVerify({ report: argv.report!, connection, work, identities: files.identities, stateDir: files.stateDir }, ctx);
        if (metrics) {
          const m = metrics.server(v.server);
          m.endedAt = Date.now();
          m.byKind = v.byKind;
        }
        if (json) io.stdout.write(JSON.stringify({ command, ...v }) + '\n');
        if (!quiet || v.exitCode !== ExitCode.Ok)
          human(formatVerify(v, Math.min(110, (io.stderr as { columns?: number }).columns ?? 100)), v.exitCode !== ExitCode.Ok);
        return v.exitCode;
      }
      let summary: RunSummary;
      if (command === 'resume') {
        // A shared password given again must meet the policy the journal's run used.
        const journalPolicy = journalPolicyOf(argv.journal!, argv.salvage === true);
        // Unless told otherwise, a resume runs as hard as the run it finishes did, and says so.
        if (!concurrencyGiven(argv) && journalPolicy.concurrency !== undefined && !work.adaptive) work.concurrency = journalPolicy.concurrency;
        if (!quiet) say(msg.resumeConcurrency(work.concurrency, concurrencyGiven(argv) ? undefined : journalPolicy.concurrency), 'info');
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
            salvage: argv.salvage === true,
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
        const interrupted = summary.interrupted && summary.resumeCommand ? msg.interrupted(summary.resumeCommand) + '\n' : '';
        human(formatSummary(summary) + interrupted, summary.exitCode !== ExitCode.Ok);
      }
      if (json) {
        // One field name for what ran, as notify and the fleet say it: `command`.
        const { mode, ...rest } = summary;
        io.stdout.write(JSON.stringify({ command: mode, ...rest }) + '\n');
      }
      return summary.exitCode;
    } finally {
      uninstall();
    }
  } catch (caught) {
    // A file the tool writes failing (ENOSPC, EIO, EACCES...) is a clean stop, never "a bug".
    const e = isFileFailure(caught) ? new RunAborted(describeError(caught), { cause: caught }) : caught;
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
