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
