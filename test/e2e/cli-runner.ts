/**
 * Running the built CLI in e2e tests: spawn it (bounded: a run that hangs is killed), point it at a
 * simulator (daUrl), read its JSON summary, wait on its journal (fs.watch with a slow polling
 * fallback, bounded) and signal it when the journal says so, or run it on a real terminal. Nothing
 * here sleeps for a fixed time. The simulator side (a simulator per test, its counters, what a run
 * left behind) is in simulator-fixtures.ts.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, watch, type FSWatcher } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StatusCounts } from '../../src/messages.js';
import type { Simulator } from '../../src/simulator/index.js';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
/** The built CLI: `npm test` builds first, so these tests run exactly what users run. */
export const CLI = join(ROOT, 'dist', 'cli.js');

/** A CLI run that outlives this is killed (SIGKILL), so its test fails on the exit code instead of hanging. */
export const CLI_TIMEOUT_MS = 120_000;

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** True when the harness killed the run at CLI_TIMEOUT_MS (or `timeoutMs`). */
  timedOut?: boolean;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  input?: string;
  cwd?: string;
  /** Called once the child is spawned (for tests that kill it). */
  onSpawn?: (child: ChildProcess) => void;
  /** Called with the whole stderr so far, each time more arrives. */
  onStderr?: (stderrSoFar: string, child: ChildProcess) => void;
  timeoutMs?: number;
}

export function runCli(args: string[], options: RunOptions = {}): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const merged: Record<string, string | undefined> = { ...process.env, DA_URL: undefined, DA_PASSWORD: undefined, DA_LOGIN_KEY: undefined, ...options.env };
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(merged)) if (v !== undefined) env[k] = v;
    const child = spawn(process.execPath, [CLI, ...args], { cwd: options.cwd ?? ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? CLI_TIMEOUT_MS);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      options.onStderr?.(stderr, child);
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr, ...(timedOut ? { timedOut } : {}) });
    });
    child.stdin.on('error', () => undefined);
    if (options.input !== undefined) child.stdin.end(options.input);
    else child.stdin.end();
    options.onSpawn?.(child);
  });
}

/** DA_URL the way `da api-url` prints it. */
export function daUrl(sim: Simulator, user = sim.adminUser, secret = sim.adminPassword): string {
  const u = new URL(sim.url);
  u.username = encodeURIComponent(user);
  u.password = encodeURIComponent(secret);
  return u.toString().replace(/\/$/, '');
}

export function tempDir(prefix = 'da-rotate-e2e-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface Summary {
  exitCode: number;
  report: string;
  journal?: string;
  counts: StatusCounts;
  [k: string]: unknown;
}

/** The JSON summary the CLI prints on stdout with --json (last line). */
export function summaryOf(r: CliResult): Summary {
  const line = r.stdout.trim().split('\n').at(-1);
  if (!line) throw new Error(`no JSON summary on stdout; stderr was:\n${r.stderr}`);
  return JSON.parse(line) as Summary;
}

export interface WaitOptions {
  /** A directory to watch (fs.watch): each change in it re-checks at once. */
  watch?: string;
  /** The polling fallback, for changes fs.watch misses (at least 20 ms). */
  intervalMs?: number;
  timeoutMs?: number;
  /** Stop waiting (resolving false) when this settles: the run under watch ended. */
  until?: Promise<unknown>;
}

/**
 * Resolves true once `check()` is true, re-checking on every change in `watch` and every
 * `intervalMs`; false when `until` settles first; rejects after `timeoutMs`.
 */
export function waitFor(check: () => boolean, options: WaitOptions = {}): Promise<boolean> {
  const intervalMs = Math.max(20, options.intervalMs ?? 25);
  const timeoutMs = options.timeoutMs ?? 60_000;
  return new Promise<boolean>((resolvePromise, reject) => {
    let watcher: FSWatcher | undefined;
    let done = false;
    const finish = (value: boolean | Error): void => {
      if (done) return;
      done = true;
      clearInterval(poll);
      clearTimeout(deadline);
      watcher?.close();
      if (value instanceof Error) reject(value);
      else resolvePromise(value);
    };
    const probe = (): void => {
      if (done) return;
      try {
        if (check()) finish(true);
      } catch (e) {
        finish(e instanceof Error ? e : new Error(String(e)));
      }
    };
    const poll = setInterval(probe, intervalMs);
    const deadline = setTimeout(() => finish(new Error(`waited ${timeoutMs} ms and the condition never held`)), timeoutMs);
    if (options.watch !== undefined && existsSync(options.watch)) {
      try {
        watcher = watch(options.watch, probe);
        watcher.on('error', () => undefined);
      } catch {
        /* no inotify here: the polling fallback does the work */
      }
    }
    options.until?.then(
      () => finish(false),
      () => finish(false),
    );
    probe();
  });
}

export interface SignalWhen {
  /** Sent once `when()` holds; re-checked on every change in `watch` (default: the journal's directory). */
  signal: NodeJS.Signals;
  when: () => boolean;
  watch?: string;
  /** A second signal, sent once stderr matches `after` (the CLI saying it got the first). */
  second?: { signal: NodeJS.Signals; after: RegExp };
}

/** Runs the CLI and signals it when the journal (or whatever `when` reads) says so. */
export async function runUntil(args: string[], options: RunOptions & SignalWhen): Promise<{ result: CliResult; signalled: boolean }> {
  let child: ChildProcess | undefined;
  let signalled = false;
  let secondSent = false;
  const { signal, when, watch: dir, second, ...run } = options;
  const running = runCli(args, {
    ...run,
    onSpawn: (c) => {
      child = c;
      run.onSpawn?.(c);
    },
    onStderr: (text, c) => {
      run.onStderr?.(text, c);
      if (second && signalled && !secondSent && second.after.test(text)) secondSent = c.kill(second.signal);
    },
  });
  const fired = await waitFor(when, { watch: dir, until: running, timeoutMs: options.timeoutMs ?? CLI_TIMEOUT_MS });
  if (fired && child && child.exitCode === null && child.signalCode === null) signalled = child.kill(signal);
  const result = await running;
  return { result, signalled: signalled && (result.signal === signal || signal !== 'SIGKILL') };
}

/** The exit code of a spawned process; past `timeoutMs` it is killed (SIGKILL) and this rejects. */
export function exitOf(child: ChildProcess, timeoutMs = CLI_TIMEOUT_MS): Promise<number | null> {
  return new Promise((resolvePromise, reject) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolvePromise(child.exitCode);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${child.spawnargs.slice(0, 3).join(' ')}... still running after ${timeoutMs} ms: killed`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolvePromise(code);
    });
  });
}

/**
 * Runs the CLI and sends `signal` once `when()` holds (checked every few ms); `sent` says whether
 * the signal went out before the run ended on its own.
 */
export async function runCliAndSignal(
  args: string[],
  env: Record<string, string>,
  when: () => boolean,
  signal: NodeJS.Signals,
): Promise<{ sent: boolean; result: CliResult }> {
  let child: ChildProcess | undefined;
  let sent = false;
  const timer = setInterval(() => {
    if (child && !sent && child.exitCode === null && when()) sent = child.kill(signal);
  }, 3);
  try {
    const result = await runCli(args, { env, onSpawn: (c) => (child = c) });
    return { sent, result };
  } finally {
    clearInterval(timer);
  }
}

/** The args of the resume line a stopped run prints ("To finish: ..." or "to settle the rest: ..."), quotes removed. */
export function resumeArgsFrom(stderr: string): string[] | undefined {
  const m = /(?:To finish|to settle the rest): da-rotate (resume .*)$/m.exec(stderr);
  return m?.[1]!.split(' ').map((a) => a.replace(/^'|'$/g, ''));
}

/** util-linux `script` gives a child a real terminal; without it the terminal tests are skipped. */
export const hasScript = spawnSync('sh', ['-c', 'command -v script'], { stdio: 'ignore' }).status === 0;

/** Runs the built CLI on a terminal (under `script`), answering the confirmation prompt with `answer`. */
export async function runOnTerminal(args: string[], env: Record<string, string>, answer: string): Promise<{ code: number | null; text: string }> {
  const quoted = args.map((x) => `'${x.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('script', ['-qec', `${process.execPath} ${CLI} ${quoted}`, '/dev/null'], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let text = '';
  let answered = false;
  child.stdout.on('data', (d: Buffer) => {
    text += d.toString();
    if (!answered && text.includes('Type "yes"')) {
      answered = true;
      child.stdin.write(answer + '\n');
    }
  });
  const code = await exitOf(child, CLI_TIMEOUT_MS);
  return { code, text };
}
