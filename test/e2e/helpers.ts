import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Simulator } from '../../src/simulator/index.js';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
/** The built CLI: `npm test` builds first, so these tests run exactly what users run. */
export const CLI = join(ROOT, 'dist', 'cli.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  input?: string;
  cwd?: string;
  /** Called once the child is spawned (for tests that kill it). */
  onSpawn?: (child: ChildProcess) => void;
}

export function runCli(args: string[], options: RunOptions = {}): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const env: Record<string, string | undefined> = { ...process.env, DA_URL: undefined, DA_PASSWORD: undefined, DA_LOGIN_KEY: undefined, ...options.env };
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: options.cwd ?? ROOT,
      env: Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) as NodeJS.ProcessEnv,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise({ code, signal, stdout, stderr }));
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

/** The JSON summary the CLI prints on stdout with --json (last line). */
export function summaryOf(r: CliResult): { exitCode: number; report: string; journal?: string; counts: Record<string, number>; [k: string]: unknown } {
  const line = r.stdout.trim().split('\n').at(-1);
  if (!line) throw new Error(`no JSON summary on stdout; stderr was:\n${r.stderr}`);
  return JSON.parse(line) as ReturnType<typeof summaryOf>;
}

// ---------------------------------------------------------------- sweep, outcomes and deadline helpers
// (imports are hoisted: kept here so this section appends without touching the lines above)
import { readFileSync as readFileText, rmSync as removeTree } from 'node:fs';
import { startSimulator as startSim, type SimulatorOptions as SimOptions } from '../../src/simulator/index.js';

/** Starts a simulator and a private output directory, both cleaned up however the test ends. */
export async function withSimulator<T>(options: SimOptions, fn: (sim: Simulator, out: string) => Promise<T>): Promise<T> {
  const sim = await startSim(options);
  const out = tempDir();
  try {
    return await fn(sim, out);
  } finally {
    await sim.close();
    removeTree(out, { recursive: true, force: true });
  }
}

/** How many records of type `t` ('intent', 'outcome', ...) a journal holds now (0 before it exists). */
export function journalRecordCount(path: string, t: string): number {
  let text: string;
  try {
    text = readFileText(path, 'utf8');
  } catch {
    return 0;
  }
  const needle = `"t":"${t}"`;
  let n = 0;
  for (let i = text.indexOf(needle); i !== -1; i = text.indexOf(needle, i + 1)) n++;
  return n;
}

/**
 * Runs the CLI and sends `signal` once `when()` holds (checked every few ms); `sent` says whether
 * the signal went out before the run ended on its own.
 */
export async function runCliAndSignal(args: string[], env: Record<string, string>, when: () => boolean, signal: NodeJS.Signals): Promise<{ sent: boolean; result: CliResult }> {
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

/** A test's random seed: DA_TEST_SEED when set, else fresh; printed so a failure can be replayed. */
export function testSeed(label: string): number {
  const fromEnv = process.env.DA_TEST_SEED;
  const seed = fromEnv ? Number(fromEnv) : 1 + Math.floor(Math.random() * 2 ** 31);
  console.log(`# ${label}: seed ${seed} (replay with DA_TEST_SEED=${seed})`);
  return seed;
}

/** The args of the resume line a stopped run prints ("To finish: ..." or "to settle the rest: ..."), quotes removed. */
export function resumeArgsFrom(stderr: string): string[] | undefined {
  const m = /(?:To finish|to settle the rest): da-rotate (resume .*)$/m.exec(stderr);
  return m?.[1]!.split(' ').map((a) => a.replace(/^'|'$/g, ''));
}

/** Every cell of a report by column name, as written (readReport keeps only what resume and verify need). */
export function reportCells(path: string): Array<Record<string, string>> {
  return parseCsv(readFileText(path, 'utf8'), { columns: true }) as Array<Record<string, string>>;
}
import { parse as parseCsv } from 'csv-parse/sync';
