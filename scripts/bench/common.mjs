/**
 * What the parts of `npm run bench` share: where the CLI is, rounding and the load average for the
 * log, a child's output as lines, the simulator in its own process, and a whole CLI process run
 * with the probe (scripts/bench/probe.mjs) loaded.
 */
import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const cli = join(root, 'dist', 'cli.js');
const probe = join(root, 'scripts', 'bench', 'probe.mjs');

export const log = (s) => process.stderr.write(s + '\n');
export const r1 = (x) => Math.round(x * 10) / 10;
export const r3 = (x) => Math.round(x * 1000) / 1000;
/** The load average (1, 5, 15 min) as printed beside every figure: the machine is shared. */
export const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

/** The p-th percentile (nearest rank) of xs; NaN for none. */
export const pct = (xs, p) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

/** A readable stream as lines: each call resolves with the next one. */
export function lineReader(stream) {
  let buf = '';
  const lines = [];
  let waiter;
  stream.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      lines.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
      waiter?.();
    }
  });
  return () =>
    new Promise((res) => {
      const check = () => (lines.length ? res(lines.shift()) : (waiter = check));
      check();
    });
}

/** The simulator in its own process, so its CPU never counts as the client's. */
export async function startSim(args) {
  const child = spawn(process.execPath, [cli, 'simulate', '--json-status', ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise((res) => child.on('exit', res));
  const lines = lineReader(child.stdout);
  const nextLine = () =>
    Promise.race([
      lines(),
      exited.then((code) => {
        throw new Error(`the simulator exited (${code}) with ${args.join(' ')}`);
      }),
    ]);
  const status = JSON.parse(await nextLine());
  return {
    ...status,
    env: { DA_URL: status.url.replace('://', `://${status.adminUser}:${status.adminPassword}@`) },
    async stats() {
      child.stdin.write('{"stats":true}\n');
      return JSON.parse(await nextLine()).stats;
    },
    reset() {
      child.stdin.write('{"reset":true}\n');
    },
    stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** A whole CLI process with the probe loaded: wall time from spawn to exit, CPU, peak memory. The probe's file goes in `work`. */
export function runProbed(work, args, env) {
  const probeFile = join(work, `probe-${Date.now()}-${randomInt(1e9)}.json`);
  return new Promise((res, rej) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, ['--import', probe, cli, ...args], {
      env: { ...process.env, ...env, BENCH_PROBE_FILE: probeFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', rej);
    child.on('exit', (code) => {
      const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
      let p = { cpuMs: NaN, maxRssKb: NaN, latencies: [] };
      try {
        p = JSON.parse(readFileSync(probeFile, 'utf8'));
      } catch {
        /* the process died before writing */
      }
      let summary;
      try {
        summary = JSON.parse(stdout.trim().split('\n').at(-1));
      } catch {
        /* no --json summary */
      }
      res({ code, stdout, stderr, wallMs, summary, ...p });
    });
  });
}
