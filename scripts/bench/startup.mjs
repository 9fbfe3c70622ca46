#!/usr/bin/env node
/**
 * Start-up cost of the CLI: wall and CPU time of whole processes, median of many spawns, side by
 * side with a bare `node -e 0`. Part `startup` of `npm run bench` (with what each package of the
 * stack costs on its own), and on its own:
 *
 *   node scripts/bench/startup.mjs [--runs 21] [--cli dist/cli.js] [--packages]
 *
 * Starts its own simulator (3 users) for the `plan` case. The machine is shared: runs are
 * interleaved (one of each case per round) so load changes hit every case alike.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cli, load, log, r3, root, startSim } from './common.mjs';

/** One process: wall ms (spawn to exit) and CPU ms (the child's user + system, from /proc at exit via wait4). */
export function timeSpawn(argv, env = {}) {
  return new Promise((res, rej) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, argv, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
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

/**
 * What each package of the stack costs a process on its own, used as da-rotate uses it: bare node
 * plus one import and one typical call (ESM, unbundled, from the project's node_modules). The
 * `plan` case above is set beside these: its floor is node + undici's one request.
 */
export function packageCases(sim) {
  const auth = Buffer.from(`${sim.adminUser}:${sim.adminPassword}`).toString('base64');
  const esm = (code) => ['--input-type=module', '-e', code];
  return [
    {
      // undici's HTTP parser is WebAssembly: V8 optimizes it in the background after the first
      // answer, and the process waits for that compile at exit.
      name: 'node + undici, 3 requests',
      argv: esm(
        `import { Pool } from 'undici'; const p = new Pool(${JSON.stringify(sim.url)}); for (let i = 0; i < 3; i++) { const r = await p.request({ path: '/CMD_API_SHOW_USERS', method: 'GET', headers: { authorization: 'Basic ${auth}' } }); await r.body.text(); } await p.close();`,
      ),
    },
    {
      name: 'node + yargs, one line',
      argv: esm(
        `import yargs from 'yargs'; await yargs(['plan', '--scope', 'all']).command('plan', 'x', (y) => y.option('scope', { type: 'string', describe: 'which accounts' })).strict().parseAsync();`,
      ),
    },
    { name: 'node + pino, one line', argv: esm(`import pino from 'pino'; pino(pino.destination({ dest: 2, sync: true })).warn('x');`) },
    { name: 'node + csv-stringify', argv: esm(`import { stringify } from 'csv-stringify/sync'; stringify([['a', 'b']]);`) },
    { name: 'node + p-limit', argv: esm(`import pLimit from 'p-limit'; await pLimit(2)(async () => 1);`) },
  ];
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

/** Part `startup`: the standard cases and the packages' own, interleaved; fills results.startup. */
export async function benchStartup(config, results) {
  log(`start-up: ${config.startupRuns} runs of each case, interleaved (load ${load()})`);
  const sim = await startSim(['--users', '3', '--resellers', '0', '--admins', '0']);
  try {
    const loadStart = load();
    const t = await timeCases([...startupCases(cli, sim, config.work), ...packageCases(sim)], config.startupRuns);
    const bare = t['node -e 0'].medianMs;
    results.startup = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, { ...v, xBare: r3(v.medianMs / bare) }]));
    results.loads.startup = `${loadStart} -> ${load()}`;
    for (const [k, v] of Object.entries(results.startup)) log(`  ${k}: median ${v.medianMs} ms (${v.xBare}x bare node)`);
  } finally {
    await sim.stop();
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '21' },
      cli: { type: 'string', default: cli },
      packages: { type: 'boolean', default: false },
    },
  });
  const { startSimulator } = await import(join(root, 'dist', 'simulator', 'index.js'));
  const sim = await startSimulator({ users: 3, resellers: 0, admins: 0 });
  const work = mkdtempSync(join(tmpdir(), 'da-rotate-startup-'));
  try {
    const before = load();
    const cases = [...startupCases(resolve(values.cli), sim, work), ...(values.packages ? packageCases(sim) : [])];
    const r = await timeCases(cases, Number(values.runs));
    const bare = r['node -e 0'].medianMs;
    for (const [k, v] of Object.entries(r))
      console.log(
        `${k.padEnd(20)} median ${String(v.medianMs).padStart(7)} ms  min ${String(v.minMs).padStart(7)} ms  ${(v.medianMs / bare).toFixed(2)}x bare node`,
      );
    console.log(`load average before ${before}, after ${load()}`);
  } finally {
    await sim.close?.();
    rmSync(work, { recursive: true, force: true });
  }
}
