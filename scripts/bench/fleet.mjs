#!/usr/bin/env node
/**
 * Fleet benchmark: `servers` simulated DirectAdmin servers of `accounts` accounts each, every request
 * delayed `latencyMs`, rotated by one `da-rotate rotate --inventory` with every server at once and
 * `concurrency` requests in flight per server. Reports the wall time against the ideal (the slowest
 * server's N x L / c: a fleet costs its slowest server, not the sum) and the CLI's peak memory.
 *
 *   npm run build && node scripts/bench/fleet.mjs [--servers 50] [--accounts 500] [--latency 20] [--concurrency 8]
 *
 * Also part `fleet` of `npm run bench` (5 servers of 100 accounts with --quick, else 20 of 200).
 * The simulators run in their own process, so their CPU never counts as the client's. Targets are
 * reported, not asserted.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { cli, lineReader, load, log, r3, root } from './common.mjs';

const simIndex = pathToFileURL(join(root, 'dist', 'simulator', 'index.js')).href;

/** The child that hosts every simulator: prints their urls and secrets as one JSON line, then waits. */
const SIMS_CHILD = `
import { startSimulator } from ${JSON.stringify(simIndex)};
const [servers, users, latencyMs] = process.argv.slice(1).map(Number);
const sims = [];
for (let i = 0; i < servers; i++) sims.push(await startSimulator({ users, seed: i + 1, faults: { latencyMs } }));
process.stdout.write(JSON.stringify(sims.map((s) => ({ url: s.url, secret: s.adminPassword }))) + '\\n');
process.stdin.on('data', async () => {
  const applied = sims.map((s) => s.stats.passwordChangesApplied);
  process.stdout.write(JSON.stringify({ applied }) + '\\n');
});
process.stdin.on('end', async () => { await Promise.all(sims.map((s) => s.close())); process.exit(0); });
`;

/** Prints the process's peak RSS on exit (kB on Linux), for the CLI under test. */
const MAXRSS = `data:text/javascript,process.on('exit',()=>process.stderr.write('FLEET_BENCH_MAXRSS_KB '+process.resourceUsage().maxRSS+'\\n'))`;

export async function runFleet({ servers = 50, accounts = 500, latencyMs = 20, concurrency = 8 } = {}) {
  const work = mkdtempSync(join(tmpdir(), 'da-rotate-fleet-bench-'));
  // scope "all" selects the users plus 3 resellers and 1 extra admin the simulator adds.
  const users = accounts - 4;
  const simProc = spawn(process.execPath, ['--input-type=module', '-e', SIMS_CHILD, String(servers), String(users), String(latencyMs)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const next = lineReader(simProc.stdout);
  try {
    const sims = JSON.parse(await next());
    const env = { ...process.env };
    const toml = ['[defaults]', 'user = "admin"', 'scope = "all"', `concurrency = ${concurrency}`, ''];
    sims.forEach((s, i) => {
      env[`DA_KEY_${i}`] = s.secret;
      toml.push('[[server]]', `name = "s${String(i).padStart(3, '0')}"`, `url = "${s.url}"`, `secret_env = "DA_KEY_${i}"`, '');
    });
    const inventory = join(work, 'fleet.toml');
    writeFileSync(inventory, toml.join('\n'));
    const out = join(work, 'out');
    const t0 = process.hrtime.bigint();
    const cliProc = spawn(
      process.execPath,
      [
        '--import',
        MAXRSS,
        cli,
        'rotate',
        '--inventory',
        inventory,
        '--output-dir',
        out,
        '--parallel-servers',
        String(servers),
        '--yes',
        '--json',
        '--log-level',
        'warn',
      ],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    cliProc.stdout.on('data', (d) => (stdout += d));
    cliProc.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise((res) => cliProc.on('close', res));
    const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
    const maxRssKb = Number(/FLEET_BENCH_MAXRSS_KB (\d+)/.exec(stderr)?.[1] ?? NaN);
    simProc.stdin.write('stats\n');
    const { applied } = JSON.parse(await next());
    const result = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}');
    const slowest = Math.max(...(result.servers ?? []).map((s) => s.durationMs ?? 0)) / 1000;
    const idealS = (accounts * latencyMs) / 1000 / concurrency;
    const runDir = readdirSync(out)[0];
    const rotated = (result.servers ?? []).reduce((a, s) => a + s.rotated, 0);
    return {
      servers,
      accounts,
      latencyMs,
      concurrency,
      exitCode: code,
      rotated,
      applied: applied.reduce((a, b) => a + b, 0),
      wallS: +wallS.toFixed(2),
      slowestServerS: +slowest.toFixed(2),
      idealS: +idealS.toFixed(3),
      wallOverIdeal: +(wallS / idealS).toFixed(2),
      sumOfServersS: +((result.servers ?? []).reduce((a, s) => a + (s.durationMs ?? 0), 0) / 1000).toFixed(1),
      maxRssMb: +(maxRssKb / 1024).toFixed(1),
      summary: runDir ? join(out, runDir, 'summary.csv') : undefined,
      stderrTail: code === 0 ? undefined : stderr.slice(-2000),
    };
  } finally {
    simProc.stdin.end();
    await new Promise((res) => simProc.on('close', res));
    rmSync(work, { recursive: true, force: true });
  }
}

/** Part `fleet` of `npm run bench`: many small servers at once, c = 8 each. Fills results.fleet. */
export async function benchFleet(config, results) {
  const servers = config.quick ? 5 : 20;
  const accounts = config.quick ? 100 : 200;
  const LATENCY = config.latencyMs;
  log(`fleet: ${servers} servers of ${accounts} accounts, ${LATENCY} ms, c = 8 per server (load ${load()})`);
  const loadStart = load();
  const f = await runFleet({ servers, accounts, latencyMs: LATENCY, concurrency: 8 });
  results.fleet = {
    servers,
    accounts,
    concurrency: 8,
    exitCode: f.exitCode,
    rotated: f.rotated,
    wallS: f.wallS,
    idealS: f.idealS,
    ratioToIdeal: r3(f.idealS / f.wallS),
    peakRssMb: f.maxRssMb,
  };
  results.loads.fleet = `${loadStart} -> ${load()}`;
  log(`  ${f.rotated} rotated in ${f.wallS} s against an ideal of ${f.idealS} s, peak ${f.maxRssMb} MB`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: {
      servers: { type: 'string', default: '50' },
      accounts: { type: 'string', default: '500' },
      latency: { type: 'string', default: '20' },
      concurrency: { type: 'string', default: '8' },
    },
  });
  const r = await runFleet({
    servers: Number(values.servers),
    accounts: Number(values.accounts),
    latencyMs: Number(values.latency),
    concurrency: Number(values.concurrency),
  });
  process.stdout.write(JSON.stringify(r, null, 2) + '\n');
}
