#!/usr/bin/env node
/**
 * Start-up cost of the CLI: wall and CPU time of whole processes, median of many spawns, side by
 * side with a bare `node -e 0`. Used by `npm run bench` and on its own:
 *
 *   node scripts/bench-startup.mjs [--runs 21] [--cli dist/cli.js]
 *
 * Starts its own simulator (3 users) for the `plan` case. The machine is shared: runs are
 * interleaved (one of each case per round) so load changes hit every case alike.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));

/** One process: wall ms (spawn to exit) and CPU ms (the child's user + system, from /proc at exit via wait4). */
export function timeSpawn(argv, env = {}) {
  return new Promise((res, rej) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', rej);
    child.on('exit', (code) => res({ code, wallMs: Number(process.hrtime.bigint() - t0) / 1e6, stderr }));
  });
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * Times each case `runs` times, interleaved; returns { name: { medianMs, minMs, runs } }.
 * cases: [{ name, argv, env }], argv an array or (round) => array (round -1 is the warm-up). A case whose process exits non-zero stops the measurement.
 */
export async function timeCases(cases, runs) {
  const walls = Object.fromEntries(cases.map((c) => [c.name, []]));
  // One warm-up round: the first spawn pays for a cold page cache.
  const argvOf = (c, i) => (typeof c.argv === 'function' ? c.argv(i) : c.argv);
  for (const c of cases) await timeSpawn(argvOf(c, -1), c.env);
  for (let i = 0; i < runs; i++) {
    for (const c of cases) {
      const r = await timeSpawn(argvOf(c, i), c.env);
      if (r.code !== (c.expectCode ?? 0)) throw new Error(`${c.name} exited ${r.code}: ${r.stderr.slice(-400)}`);
      walls[c.name].push(r.wallMs);
    }
  }
  return Object.fromEntries(
    Object.entries(walls).map(([k, v]) => [k, { medianMs: Math.round(median(v) * 10) / 10, minMs: Math.round(Math.min(...v) * 10) / 10, runs: v.length }]),
  );
}

/** The standard start-up cases against a running simulator `sim` ({ url, adminUser, adminPassword }). */
export function startupCases(cli, sim, work) {
  const env = { DA_URL: sim.url.replace('://', `://${sim.adminUser}:${sim.adminPassword}@`) };
  return [
    { name: 'node -e 0', argv: ['-e', '0'] },
    { name: '--version', argv: [cli, '--version'] },
    { name: '--help', argv: [cli, '--help'] },
    { name: 'plan (3 accounts)', argv: (i) => [cli, 'plan', '--log-level', 'warn', '--output', join(work, `plan-${i + 1}.csv`)], env },
  ];
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '21' }, cli: { type: 'string', default: join(root, 'dist', 'cli.js') } } });
  const { startSimulator } = await import(join(root, 'dist', 'simulator', 'index.js'));
  const sim = await startSimulator({ users: 3, resellers: 0, admins: 0 });
  const work = mkdtempSync(join(tmpdir(), 'da-rotate-startup-'));
  try {
    const before = loadavg();
    const r = await timeCases(startupCases(resolve(values.cli), sim, work), Number(values.runs));
    const bare = r['node -e 0'].medianMs;
    for (const [k, v] of Object.entries(r))
      console.log(
        `${k.padEnd(20)} median ${String(v.medianMs).padStart(7)} ms  min ${String(v.minMs).padStart(7)} ms  ${(v.medianMs / bare).toFixed(2)}x bare node`,
      );
    console.log(
      `load average before ${before.map((x) => x.toFixed(2)).join(' ')}, after ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
    );
  } finally {
    await sim.close?.();
    rmSync(work, { recursive: true, force: true });
  }
}
