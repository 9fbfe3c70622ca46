/**
 * A fleet run: the servers of an inventory in parallel (--parallel-servers), each with its own
 * connection, client, concurrency, journal and report under output/<run id>/<server name>/, one
 * manifest and one summary for all. A server that fails is reported with its reason; the others go on.
 */
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { Writable } from 'node:stream';
import pLimit from 'p-limit';
import { describeError, ExitCode, RunAborted, UsageError } from '../errors.js';
import { checkPrivateDir, PinnedDir } from '../directories.js';
import { createLogger } from '../log.js';
import type { Argv, Env, OptionName } from '../options.js';
export { wantsFleet } from './wants.js';
import { optionGiven, resolveFiles, resolvePolicy, resolveSelection, resolveWork } from '../options.js';
import type { RunContext } from '../rotation/run.js';
import { checkMetricsFile, MetricsRecorder } from '../rotation/metrics.js';
import { confirmFleet } from './confirm.js';
import { resolveConnections, type CommonConnection } from './connect.js';
import { loadInventory, selectServers, type InventoryServer } from './inventory.js';
import {
  createRunDir,
  manifestPath,
  ManifestWriter,
  MANIFEST_VERSION,
  readManifest,
  writeFileAtomic,
  type FleetCommand,
  type FleetManifest,
  type ManifestServer,
} from './manifest.js';
import { fleetMsg } from './messages.js';
import { LineDisplay, QuietDisplay, TerminalDisplay, type FleetDisplay } from './progress.js';
import { runServer, type FleetSettings } from './server-run.js';
import { isFinished, summaryCsv, summaryRow, worstExitCode, type SummaryRow } from './summary.js';
import { packageVersion } from '../version.js';

export interface FleetIo {
  env: Env;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean; rows?: number; columns?: number };
}

export interface FleetResult {
  runId: string;
  command: FleetCommand;
  exitCode: number;
  manifest: string;
  summary: string;
  servers: SummaryRow[];
}

/** Flags that name one server's connection: an inventory names each server's own. */
const SINGLE_SERVER_FLAGS: readonly OptionName[] = [
  'server',
  'user',
  'password-file',
  'password-stdin',
  'ca',
  'fingerprint',
  'insecure',
  'allow-http',
  'output',
  'same-password',
  'same-password-file',
];

function checkFlags(command: FleetCommand, argv: Argv): void {
  if (command === 'resume' && argv.run === undefined) throw new UsageError(argv.inventory === undefined ? fleetMsg.resumeWhat : fleetMsg.resumeNeedsRun);
  if (command === 'verify' && argv.run === undefined) throw new UsageError(argv.inventory === undefined ? fleetMsg.verifyWhat : fleetMsg.verifyNeedsRun);
  if ((command === 'rotate' || command === 'plan') && argv.run !== undefined) throw new UsageError(fleetMsg.runOnlyResumeVerify);
  if (argv.journal !== undefined || argv.report !== undefined) throw new UsageError(fleetMsg.positionalWithRun(command));
  // As given, not as checked: a repeated --server is named here, not refused for being repeated.
  const given = SINGLE_SERVER_FLAGS.filter((f) => optionGiven(argv, f));
  if (given.length) throw new UsageError(fleetMsg.singleServerFlags(given));
}

function newServerState(entry: InventoryServer, runDir: string): ManifestServer {
  return { name: entry.name, url: entry.baseUrl, user: entry.user, dir: join(runDir, entry.name), status: 'pending', attempts: 0 };
}

/** A stream that hands each log line to the display, so drawn progress lines are never torn. */
function logSink(display: FleetDisplay): Writable {
  return new Writable({
    write(chunk: Buffer | string, _enc, done) {
      display.writeAbove(chunk.toString());
      done();
    },
  });
}

/**
 * Runs a fleet command. `base` is the single-server RunContext app.ts built (secrets, stop signal,
 * confirmation, whether a terminal is there); each server gets its own context from it.
 */
export async function runFleet(command: FleetCommand, argv: Argv, io: FleetIo, base: RunContext): Promise<number> {
  checkFlags(command, argv);
  const outputDir = resolve(argv.outputDir ?? base.outputDir ?? 'output');
  const json = argv.json;
  const parallel = argv.parallelServers;
  const work = resolveWork(argv);
  const common: CommonConnection = { timeoutMs: Math.round(argv.timeout * 1000), format: argv.format };

  // Everything that can be wrong with the input is found here, before any request.
  let runDir: string;
  let pin: PinnedDir;
  let manifest: FleetManifest;
  let states: ManifestServer[];
  const previous = argv.run !== undefined ? readManifest(outputDir, argv.run) : undefined;
  if (previous && command === 'resume' && previous.manifest.command !== 'rotate')
    throw new UsageError(fleetMsg.resumeNotRotate(previous.manifest.runId, previous.manifest.command));
  const inventory = loadInventory(argv.inventory ?? previous!.manifest.inventory);
  // --metrics-file wins over the inventory's metrics_file; either is checked before any request.
  if (base.metrics && base.metrics.path === undefined && inventory.metricsFile) {
    await checkMetricsFile(inventory.metricsFile);
    base.metrics.path = inventory.metricsFile;
  }
  const selectors = argv.servers;
  let selected = selectServers(inventory, selectors);
  const settings: FleetSettings = {
    policy: previous
      ? { length: previous.manifest.settings.length, symbols: previous.manifest.settings.symbols }
      : command === 'verify'
        ? { length: 12, symbols: false }
        : resolvePolicy(argv),
    selection: command === 'resume' || command === 'verify' ? { scope: 'users', exclude: [], only: undefined, include: ['account'] } : resolveSelection(argv),
    include: argv.include.length ? argv.include : undefined,
    work,
    files: await resolveFiles(argv, io.env),
  };
  if (previous && command === 'resume') {
    // Only the servers of that run that did not finish (and, with --servers, only those asked for).
    const byName = new Map(previous.manifest.servers.map((s) => [s.name, s]));
    const unfinished = previous.manifest.servers.filter((s) => !isFinished(s)).map((s) => s.name);
    const missing = unfinished.filter((n) => !inventory.servers.some((s) => s.name === n));
    if (missing.length) throw new UsageError(fleetMsg.resumeServersMissing(missing, inventory.file));
    selected = selected.filter((s) => unfinished.includes(s.name));
    const moved = selected.filter((s) => byName.get(s.name)!.url !== s.baseUrl);
    if (moved.length) throw new UsageError(fleetMsg.resumeUrlChanged(moved.map((s) => `${s.name}: ${byName.get(s.name)!.url} -> ${s.baseUrl}`)));
    const ps = previous.manifest.settings;
    settings.selection = { scope: 'users', exclude: ps.exclude, only: ps.only ?? undefined, include: ['account'] };
    settings.include = ps.include ?? undefined;
    if (selected.length === 0) throw new UsageError(fleetMsg.nothingToResume(previous.manifest.runId));
  }
  if (previous && command === 'verify') {
    const withReport = new Set(previous.manifest.servers.filter((s) => s.report && s.counts && s.counts.rotated > 0).map((s) => s.name));
    selected = selected.filter((s) => withReport.has(s.name));
    if (selected.length === 0) throw new UsageError(fleetMsg.nothingToVerify(previous.manifest.runId));
  }
  const jobs = resolveConnections(inventory, selected, io.env, common);
  if (command === 'rotate' && !argv.yes) {
    if (!base.interactive) throw new UsageError(fleetMsg.needsYes);
    if (!(await confirmFleet(jobs, settings, base, io.stderr))) throw new UsageError(fleetMsg.notConfirmed);
  }

  if (previous && command === 'resume') {
    runDir = previous.dir;
    await checkPrivateDir(outputDir, { create: false });
    await checkPrivateDir(runDir, { create: false });
    pin = await PinnedDir.pin(runDir);
    manifest = previous.manifest;
    states = jobs.map((j) => manifest.servers.find((s) => s.name === j.server.name)!);
  } else {
    const created = await createRunDir(outputDir);
    runDir = created.dir;
    pin = created.pin;
    manifest = {
      v: MANIFEST_VERSION,
      runId: created.runId,
      command,
      inventory: inventory.file,
      createdAt: new Date().toISOString(),
      settings: {
        length: settings.policy.length,
        symbols: settings.policy.symbols,
        only: settings.selection.only ?? null,
        exclude: settings.selection.exclude,
        // resume and verify take no --scope.
        scope: command === 'rotate' || command === 'plan' ? argv.scope : null,
        include: settings.include ?? null,
      },
      servers: jobs.map((j) => newServerState(j.server, created.dir)),
    };
    if (previous) {
      manifest.verifiedRun = previous.manifest.runId;
      for (const s of manifest.servers) s.report = previous.manifest.servers.find((p) => p.name === s.name)?.report;
    }
    states = manifest.servers;
  }

  // --quiet: nothing unless something went wrong (cron mails any output), as a single server run.
  const quiet = argv.quiet === true;
  const display: FleetDisplay = quiet
    ? new QuietDisplay(io.stderr)
    : io.stderr.isTTY
      ? new TerminalDisplay(
          io.stderr,
          states.map((s) => s.name),
        )
      : new LineDisplay(io.stderr);
  const writer = new ManifestWriter(
    manifestPath(runDir),
    manifest,
    () => base.stop.stop(),
    () => pin.check(),
  );
  const changed = (s: ManifestServer) => () => {
    display.update(s);
    void writer.save();
  };
  try {
    await writer.flush();
  } catch (e) {
    display.close();
    throw new RunAborted(fleetMsg.manifestNotWritten(writer.path, describeError(e)));
  }
  if (!quiet) display.writeAbove(fleetMsg.starting(command, manifest.runId, states.length, parallel, runDir));
  // As a single server's run: on a terminal text lines at warn (never JSON inside the drawn block), elsewhere JSON at info.
  const log = createLogger({
    level: argv.logLevel ?? (quiet ? 'error' : io.stderr.isTTY ? 'warn' : 'info'),
    format: argv.logFormat ?? (io.stderr.isTTY ? 'text' : 'json'),
    secrets: base.secrets,
    destination: logSink(display),
    runId: manifest.runId,
    version: packageVersion(),
  });
  const limit = pLimit(parallel);
  try {
    await Promise.all(
      jobs.map((job, i) =>
        limit(async () => {
          const state = states[i]!;
          if (base.stop.stopped) return;
          const metrics = base.metrics ? new MetricsRecorder() : undefined;
          // The run directory must still be the one created: a swap stops the fleet (the manifest write fails too).
          const swapped = await pin.check().then(
            () => false,
            () => true,
          );
          if (swapped || writer.failed) return base.stop.stop(); // said at the end (bookkeepingFailed)
          const ctx: RunContext = {
            metrics,
            log: log.child({ server: state.url, fleetServer: state.name }),
            secrets: base.secrets,
            stderr: io.stderr,
            interactive: false,
            onProgress: (p) => display.progress(state.name, p),
            confirm: async () => false,
            stop: base.stop,
            outputDir: state.dir,
            // The run that must be finished: the one whose directory holds the journal (an earlier fleet run, or this one).
            resumeCommand: (journal) => fleetResumeFor(journal, outputDir),
          };
          const started = Date.now();
          try {
            await runServer(
              command,
              { entry: job.server, connection: job.connection, state, stillOurs: () => pin.check() },
              settings,
              ctx,
              base.secrets,
              changed(state),
            );
          } finally {
            // One sample set per server, labelled with its inventory URL, whatever its run's origin.
            if (base.metrics) {
              const m = base.metrics.server(state.url);
              Object.assign(m, metrics!.all()[0] ?? { startedAt: started, endedAt: Date.now() }, { server: state.url });
            }
          }
        }),
      ),
    );
  } finally {
    for (const s of states) {
      if (s.status === 'pending') {
        // Never started: the fleet was stopped first. A resume runs it.
        s.status = 'interrupted';
        s.exitCode = ExitCode.Interrupted;
        s.error = writer.failed ? 'not started: the fleet manifest could not be written' : 'not started: the fleet run was interrupted';
        changed(s)();
      }
    }
    display.close();
  }
  for (const s of states) if (base.metrics) base.metrics.server(s.url).exitCode = s.exitCode ?? ExitCode.Internal;
  const rows = manifest.servers.map(summaryRow);
  const summaryPath = join(runDir, 'summary.csv');
  let exitCode = worstExitCode(states.map((s) => s.exitCode ?? ExitCode.Internal));
  try {
    await writer.flush();
    await writeFileAtomic(summaryPath, summaryCsv(rows), { stillOurs: () => pin.check() });
  } catch (e) {
    // Every server's journal and report are whole; only the fleet's own bookkeeping is missing.
    io.stderr.write(fleetMsg.bookkeepingFailed(runDir, describeError(e)));
    exitCode = worstExitCode([exitCode, ExitCode.Aborted]);
  }
  const all = manifest.servers.map((s) => s.exitCode ?? ExitCode.Internal);
  const result: FleetResult = { runId: manifest.runId, command, exitCode, manifest: manifestPath(runDir), summary: summaryPath, servers: rows };
  if (!quiet || worstExitCode(all) !== ExitCode.Ok)
    io.stderr.write(base.secrets.scrub(fleetMsg.finished(command, manifest, summaryPath, worstExitCode(all), outputDir)));
  if (json) io.stdout.write(JSON.stringify(result) + '\n');
  return exitCode;
}

/** `resume --run <id>` of the fleet run that owns `journal` (`<output dir>/<id>/<server>/...`); else the plain resume of the journal. */
function fleetResumeFor(journal: string, outputDir: string): string {
  const rel = relative(resolve(outputDir), resolve(journal));
  const parts = rel.split(sep);
  if (!rel.startsWith('..') && !isAbsolute(rel) && parts.length >= 3) return fleetMsg.resumeCommand(parts[0]!, outputDir);
  return `da-rotate resume ${journal}`;
}
