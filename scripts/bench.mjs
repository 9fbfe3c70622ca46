#!/usr/bin/env node
/**
 * `npm run bench`: da-rotate's speed, measured as a user meets it (whole processes, start-up
 * included), against the simulator running in its own process. In one run, side by side:
 *
 *   1. start-up: bare `node -e 0`, `--version`, `--help`, a whole `plan` of 3 accounts (medians)
 *   2. throughput: `rotate` of N accounts at L ms a request, c = 4, 16, 64: whole-process wall time
 *      against the ideal N * L / c, the run's own duration, client CPU per account, peak memory,
 *      a bare undici loop beside each row (scripts/bench-floor.mjs), and the c = 16 case once more
 *      against a plain stand-in that shares no code with the simulator (scripts/bench-standin.mjs)
 *   2b. client CPU per account: `rotate` of 20 000 accounts at zero latency, whole process
 *   3. scale: peak memory and time of a `plan` of 100 000 accounts
 *   4. `--concurrency auto` against fixed concurrencies on a server that slows by the square of
 *      its overload past capacity C (reported "not available" until the CLI and the simulator
 *      both offer it: `auto` in `rotate --help` next to --concurrency, and the simulator's
 *      --degrade-capacity; the limit the run chose is read from the JSON summary's `concurrency`)
 *   5. optional baselines (--baselines yes): the seed's sequential loop and `xargs -P c curl`
 *
 *   node scripts/bench.mjs [--quick] [--accounts 4000] [--latency 20] [--concurrency 4,16,64]
 *                          [--startup-runs 21] [--scale 100000] [--degrade-capacity 24]
 *                          [--degrade-accounts 3000] [--baselines yes] [--runs 3] [--sweep-accounts 1000]
 *                          [--fleet no] [--svg docs/bench.svg] [--only startup,throughput,cpu,scale,auto,sweep,fleet]
 *
 * The machine is described in the output (CPUs, model, load average before and after each part):
 * on a shared machine, read the figures with the load beside them. Writes output/bench-<time>.json
 * and .md. Targets are reported, never asserted.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { packageCases, startupCases, timeCases } from './bench-startup.mjs';
import { benchFleet } from './fleet-bench.mjs';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const cli = join(root, 'dist', 'cli.js');
const probe = join(root, 'scripts', 'bench-probe.mjs');

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    accounts: { type: 'string' },
    latency: { type: 'string', default: '20' },
    concurrency: { type: 'string', default: '4,16,64' },
    'startup-runs': { type: 'string' },
    scale: { type: 'string' },
    'degrade-capacity': { type: 'string', default: '24' },
    'degrade-accounts': { type: 'string' },
    baselines: { type: 'string', default: 'no' },
    only: { type: 'string' },
    runs: { type: 'string' },
    'sweep-accounts': { type: 'string' },
    fleet: { type: 'string', default: 'yes' },
    svg: { type: 'string' },
  },
});
const QUICK = values.quick;
const N = Number(values.accounts ?? (QUICK ? 1000 : 4000));
const LATENCY = Number(values.latency);
const LEVELS = values.concurrency.split(',').map(Number);
const STARTUP_RUNS = Number(values['startup-runs'] ?? (QUICK ? 7 : 21));
const SCALE = Number(values.scale ?? (QUICK ? 20000 : 100000));
const DEGRADE_C = Number(values['degrade-capacity']);
const DEGRADE_N = Number(values['degrade-accounts'] ?? (QUICK ? 1000 : 3000));
const RUNS = Number(values.runs ?? (QUICK ? 1 : 3));
const SWEEP_N = Number(values['sweep-accounts'] ?? (QUICK ? 300 : 1000));
/** The concurrency of the throughput target, run again against the plain stand-in. */
const STANDIN_C = 16;
const DEGRADE_LEVELS = QUICK ? [16, 24, 32, 48] : [8, 16, 24, 32, 48];

/** --only startup,throughput,cpu,scale,auto,sweep,fleet: run only those parts (for tuning; a full run for figures). */
const ONLY = values.only ? new Set(values.only.split(',')) : undefined;
const part = (name) => !ONLY || ONLY.has(name);
const work = mkdtempSync(join(tmpdir(), 'da-rotate-bench-'));
const outDir = join(root, 'output');
mkdirSync(outDir, { recursive: true, mode: 0o700 });
const log = (s) => process.stderr.write(s + '\n');
const r1 = (x) => Math.round(x * 10) / 10;
const r3 = (x) => Math.round(x * 1000) / 1000;
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
function tmpdir() {
  return process.env.TMPDIR || '/tmp';
}

// ---------------------------------------------------------------------------------------------
/** A child's stdout as lines: each call resolves with the next one. */
function lineReader(child) {
  let buf = '';
  const lines = [];
  let waiter;
  child.stdout.on('data', (d) => {
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
async function startSim(args) {
  const child = spawn(process.execPath, [cli, 'simulate', '--json-status', ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise((res) => child.on('exit', res));
  const lines = lineReader(child);
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

/** scripts/bench-floor.mjs in its own process: a bare undici loop, the least any client can do. */
function runFloor(url, c, n) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'bench-floor.mjs'), url, String(c), String(n)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`the floor loop exited ${r.status}: ${r.stderr.slice(-500)}`);
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1));
  if (out.failed > 0) throw new Error(`the floor loop saw ${out.failed} failed changes`);
  // Its whole process as well (node, undici and p-limit loaded, the loop, exit), to set beside da-rotate's.
  return { ...out, wholeMs: Number(process.hrtime.bigint() - t0) / 1e6 };
}

/** scripts/bench-standin.mjs: the plain stand-in (no simulator code), for a second opinion on throughput. */
async function startStandin(users, latencyMs) {
  const child = spawn(process.execPath, [join(root, 'scripts', 'bench-standin.mjs'), String(users), String(latencyMs)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const line = lineReader(child);
  const status = JSON.parse(await line());
  const exited = new Promise((res) => child.on('exit', res));
  return {
    env: { DA_URL: status.url.replace('://', `://admin:${status.password}@`) },
    async stats() {
      child.stdin.write('stats\n');
      return JSON.parse(await line());
    },
    reset: () => child.stdin.write('reset\n'),
    stop() {
      child.stdin.end();
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** A whole CLI process with the probe loaded: wall time from spawn to exit, CPU, peak memory. */
function runProbed(args, env) {
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

const pct = (xs, p) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const newPassword = () => Array.from({ length: 22 }, () => ALNUM[randomInt(62)]).join('');
const userName = (i, total) => `user${String(i).padStart(Math.max(5, String(total).length), '0')}`;

const cpuModel = (() => {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.+)$/m)?.[1] ?? cpus()[0]?.model;
  } catch {
    return cpus()[0]?.model;
  }
})();
const results = {
  startedAt: new Date().toISOString(),
  quick: QUICK,
  machine: { nproc: cpus().length, model: cpuModel, memGb: r1(totalmem() / 2 ** 30), node: process.version, loadBefore: load() },
  startup: undefined,
  throughput: { accounts: N, latencyMs: LATENCY, rows: [] },
  zeroLatency: undefined,
  scale: undefined,
  auto: undefined,
  sweep: undefined,
  fleet: undefined,
  baselines: [],
  loads: {},
};

// ---------------------------------------------------------------------------------------------
// 1. Start-up
if (part('startup')) {
  log(`start-up: ${STARTUP_RUNS} runs of each case, interleaved (load ${load()})`);
  const sim = await startSim(['--users', '3', '--resellers', '0', '--admins', '0']);
  try {
    const loadStart = load();
    const t = await timeCases([...startupCases(cli, sim, work), ...packageCases(sim)], STARTUP_RUNS);
    const bare = t['node -e 0'].medianMs;
    results.startup = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, { ...v, xBare: r3(v.medianMs / bare) }]));
    results.loads.startup = `${loadStart} -> ${load()}`;
    for (const [k, v] of Object.entries(results.startup)) log(`  ${k}: median ${v.medianMs} ms (${v.xBare}x bare node)`);
  } finally {
    await sim.stop();
  }
}

// 2. Throughput at fixed concurrency, whole process

/**
 * RUNS rotations of N accounts at concurrency c against `server` (the simulator or the plain
 * stand-in: {env, stats(), reset()}), each followed by the bare undici loop so both see the same
 * machine: the median run (by wall time) as a row.
 */
async function throughputRow(server, c, name) {
  const runs = [];
  const floors = [];
  for (let k = 0; k < RUNS; k++) {
    server.reset();
    const r = await runProbed(
      ['rotate', '--yes', '--json', '--log-level', 'warn', '--concurrency', String(c), '--output', join(work, `${name}-${c}-${k}.csv`)],
      server.env,
    );
    if (r.code !== 0) throw new Error(`rotation against the ${name} at c=${c} exited ${r.code}: ${r.stderr.slice(-500)}`);
    const st = await server.stats();
    if (st.changes !== undefined && st.changes !== N) throw new Error(`the ${name} saw ${st.changes} password changes, not ${N}`);
    r.serverMeanMs = st.answerMsTotal / Math.max(1, st.answered);
    runs.push(r);
    server.reset();
    floors.push(await runFloor(server.env.DA_URL, c, N));
  }
  runs.sort((a, b) => a.wallMs - b.wallMs);
  const r = runs[runs.length >> 1];
  const floorMs = pct(
    floors.map((f) => f.wallMs),
    50,
  );
  const floorWholeMs = pct(
    floors.map((f) => f.wholeMs),
    50,
  );
  const idealMs = (N * LATENCY) / c;
  return {
    concurrency: c,
    runs: RUNS,
    accounts: r.summary.counts.rotated,
    wallS: r3(r.wallMs / 1000),
    wallRangeS: [r3(runs[0].wallMs / 1000), r3(runs.at(-1).wallMs / 1000)],
    idealS: r3(idealMs / 1000),
    ratioToIdeal: r3(idealMs / r.wallMs),
    runS: r3(r.summary.durationMs / 1000),
    runRatioToIdeal: r3(idealMs / r.summary.durationMs),
    p50Ms: r1(pct(r.latencies, 50)),
    p99Ms: r1(pct(r.latencies, 99)),
    cpuMsPerAccount: r3(
      pct(
        runs.map((x) => x.cpuMs / N),
        50,
      ),
    ),
    peakRssMb: r1(r.maxRssKb / 1024),
    floorS: r3(floorMs / 1000),
    floorRatioToIdeal: r3(idealMs / floorMs),
    floorWholeS: r3(floorWholeMs / 1000),
    // Throughput against the bare undici + p-limit loop (1.0: as fast): whole process against whole
    // process, and the run alone (login, listing, journal, changes, report) against the loop alone.
    vsFloorWhole: r3(floorWholeMs / r.wallMs),
    vsFloorRun: r3(floorMs / r.summary.durationMs),
    serverMeanMs: r1(r.serverMeanMs),
    // The ideal at the latency the server really had: a server whose "20 ms" answers take 20.35 ms
    // (a bare setTimeout fires late) allows no client more than N x 20.35 / c.
    ratioToServerIdeal: r3((N * r.serverMeanMs) / c / r.wallMs),
  };
}

if (part('throughput')) {
  log(`throughput: ${N} accounts at ${LATENCY} ms a request, c = ${LEVELS.join(', ')} (load ${load()})`);
  const sim = await startSim(['--users', String(N), '--resellers', '0', '--admins', '0', '--latency', String(LATENCY)]);
  const loadStart = load();
  try {
    for (const c of LEVELS) {
      const row = await throughputRow(sim, c, 'simulator');
      results.throughput.rows.push(row);
      log(
        `  c=${c}: ${row.wallS} s whole process (median of ${RUNS}, ${row.wallRangeS.join(' to ')}), ${row.ratioToIdeal} of ideal (${row.runRatioToIdeal} for the run alone), ${row.cpuMsPerAccount} ms CPU/account, ${row.peakRssMb} MB; bare undici loop ${row.floorRatioToIdeal} of ideal; server answered in ${row.serverMeanMs} ms on average`,
      );
    }
  } finally {
    await sim.stop();
  }
  // The target's case once more against the plain stand-in (scripts/bench-standin.mjs): a server
  // that shares no code with the client's simulator and times its answers with a bare setTimeout.
  const standin = await startStandin(N, LATENCY);
  try {
    const x = await throughputRow(standin, STANDIN_C, 'plain stand-in');
    results.throughput.standin = x;
    log(
      `  plain stand-in, c=${x.concurrency}: ${x.wallS} s whole process (median of ${RUNS}, ${x.wallRangeS.join(' to ')}), ${x.ratioToIdeal} of ideal (${x.runRatioToIdeal} for the run alone); bare undici loop ${x.floorRatioToIdeal}; it answered in ${x.serverMeanMs} ms on average, so ${x.ratioToServerIdeal} of the ideal at that latency`,
    );
  } finally {
    await standin.stop();
  }
  results.loads.throughput = `${loadStart} -> ${load()}`;
}

// 2b. Client CPU per account at zero latency (requests cost the server nothing: the client's own work)
if (part('cpu')) {
  const n = QUICK ? 5000 : 20000;
  log(`client CPU: rotate ${n} accounts at zero latency, c = 16 (load ${load()})`);
  const sim = await startSim(['--users', String(n), '--resellers', '0', '--admins', '0']);
  const loadStart = load();
  try {
    const r = await runProbed(['rotate', '--yes', '--json', '--log-level', 'warn', '--concurrency', '16', '--output', join(work, 'rot-zero.csv')], sim.env);
    if (r.code !== 0) throw new Error(`rotation at zero latency exited ${r.code}: ${r.stderr.slice(-500)}`);
    results.zeroLatency = {
      accounts: n,
      concurrency: 16,
      wallS: r3(r.wallMs / 1000),
      cpuMsPerAccount: r3(r.cpuMs / n),
      userMsPerAccount: r3(r.userMs / n),
      systemMsPerAccount: r3(r.systemMs / n),
      peakRssMb: r1(r.maxRssKb / 1024),
    };
    log(
      `  ${results.zeroLatency.wallS} s, ${results.zeroLatency.cpuMsPerAccount} ms CPU/account (${results.zeroLatency.userMsPerAccount} user, ${results.zeroLatency.systemMsPerAccount} system), ${results.zeroLatency.peakRssMb} MB`,
    );
  } finally {
    await sim.stop();
  }
  results.loads.zeroLatency = `${loadStart} -> ${load()}`;
}

// 3. Scale: plan of 100 000 accounts (no latency: this measures the client)
if (SCALE > 0 && part('scale')) {
  log(`scale: plan of ${SCALE} accounts (load ${load()})`);
  const big = await startSim(['--users', String(SCALE), '--resellers', '20', '--admins', '1']);
  const loadStart = load();
  try {
    const r = await runProbed(['plan', '--scope', 'all', '--json', '--log-level', 'warn', '--output', join(work, 'plan-big.csv')], big.env);
    if (r.code !== 0) throw new Error(`plan at scale exited ${r.code}: ${r.stderr.slice(-500)}`);
    results.scale = {
      accounts: SCALE,
      planned: r.summary?.counts?.planned,
      wallS: r3(r.wallMs / 1000),
      cpuMs: Math.round(r.cpuMs),
      peakRssMb: r1(r.maxRssKb / 1024),
    };
    log(`  ${results.scale.wallS} s, ${results.scale.cpuMs} ms CPU, peak ${results.scale.peakRssMb} MB`);
  } finally {
    await big.stop();
  }
  results.loads.scale = `${loadStart} -> ${load()}`;
}

// 4. --concurrency auto on a degrading server
if (part('auto')) {
  const rotateHelp = spawnSync(process.execPath, [cli, 'rotate', '--help'], { encoding: 'utf8' }).stdout ?? '';
  const simHelp = spawnSync(process.execPath, [cli, 'simulate', '--help'], { encoding: 'utf8' });
  const hasAuto = /--concurrency[^\n]*(\n\s{10,}[^\n]*)*auto/.test(rotateHelp);
  const hasDegrade = /--degrade-capacity/.test(`${simHelp.stdout}${simHelp.stderr}`);
  if (!hasAuto || !hasDegrade) {
    const missing = [!hasAuto && '`--concurrency auto` in the CLI', !hasDegrade && "the simulator's --degrade-capacity"].filter(Boolean).join(' and ');
    results.auto = { available: false, missing };
    log(`auto vs fixed: not available (missing ${missing})`);
  } else {
    log(`auto vs fixed: ${DEGRADE_N} accounts, degrading past ${DEGRADE_C} in flight, ${LATENCY} ms base (load ${load()})`);
    const loadStart = load();
    const rows = [];
    for (const c of [...DEGRADE_LEVELS, 'auto']) {
      // A fresh server each time: the maximum processed at once is per run.
      const sim = await startSim([
        '--users',
        String(DEGRADE_N),
        '--resellers',
        '0',
        '--admins',
        '0',
        '--latency',
        String(LATENCY),
        '--degrade-capacity',
        String(DEGRADE_C),
      ]);
      try {
        const r = await runProbed(
          ['rotate', '--yes', '--json', '--log-level', 'warn', '--concurrency', String(c), '--output', join(work, `deg-${c}.csv`)],
          sim.env,
        );
        if (r.code !== 0) throw new Error(`rotation at c=${c} on the degrading server exited ${r.code}: ${r.stderr.slice(-500)}`);
        const stats = await sim.stats();
        const chosen = r.summary?.concurrency ?? r.summary?.work?.concurrency;
        rows.push({
          concurrency: c,
          wallS: r3(r.wallMs / 1000),
          runS: r3(r.summary.durationMs / 1000),
          maxProcessing: stats.maxProcessing,
          chosen,
          p50Ms: r1(pct(r.latencies, 50)),
          p90Ms: r1(pct(r.latencies, 90)),
        });
        log(
          `  c=${c}: ${r3(r.wallMs / 1000)} s, at most ${stats.maxProcessing} processed at once${chosen !== undefined ? `, summary concurrency ${JSON.stringify(chosen)}` : ''}`,
        );
      } finally {
        await sim.stop();
      }
    }
    const fixed = rows.filter((r) => r.concurrency !== 'auto');
    const best = fixed.reduce((a, b) => (b.wallS < a.wallS ? b : a));
    const auto = rows.find((r) => r.concurrency === 'auto');
    results.auto = {
      available: true,
      accounts: DEGRADE_N,
      capacity: DEGRADE_C,
      baseMs: LATENCY,
      rows,
      best: best.concurrency,
      autoOverBest: r3(auto.wallS / best.wallS),
    };
    results.loads.auto = `${loadStart} -> ${load()}`;
  }
}

// 4b. Incident sweep (issue 11): every mailbox of SWEEP_N accounts, 20 ms a request, c = 16. The
// ideal counts every request the run makes (listing reads and changes): (reads + writes) x L / c.
if (part('sweep')) {
  const c = 16;
  log(`incident sweep: rotate --include email, ${SWEEP_N} accounts, --mailboxes-per-domain 2, ${LATENCY} ms, c = ${c} (load ${load()})`);
  const sim = await startSim([
    '--users',
    String(SWEEP_N),
    '--resellers',
    '0',
    '--admins',
    '0',
    '--latency',
    String(LATENCY),
    '--mailboxes-per-domain',
    '2',
    '--ftp-per-domain',
    '0',
  ]);
  const loadStart = load();
  try {
    const r = await runProbed(
      ['rotate', '--yes', '--json', '--log-level', 'warn', '--include', 'email', '--concurrency', String(c), '--output', join(work, 'sweep.csv')],
      sim.env,
    );
    if (r.code !== 0) throw new Error(`the sweep exited ${r.code}: ${r.stderr.slice(-500)}`);
    const stats = await sim.stats();
    const mailboxes = r.summary.counts.rotated;
    const writes = stats.credentialChangesApplied;
    const reads = stats.totalRequests - writes;
    const idealMs = ((reads + writes) * LATENCY) / c;
    results.sweep = {
      accounts: SWEEP_N,
      mailboxes,
      mailboxesPerAccount: r3(mailboxes / SWEEP_N),
      concurrency: c,
      reads,
      writes,
      wallS: r3(r.wallMs / 1000),
      idealS: r3(idealMs / 1000),
      ratioToIdeal: r3(idealMs / r.wallMs),
      cpuMsPerCredential: r3(r.cpuMs / mailboxes),
    };
    log(
      `  ${mailboxes} mailboxes (${results.sweep.mailboxesPerAccount} an account), ${reads} reads + ${writes} writes: ${results.sweep.wallS} s against an ideal of ${results.sweep.idealS} s (${results.sweep.ratioToIdeal})`,
    );
  } finally {
    await sim.stop();
  }
  results.loads.sweep = `${loadStart} -> ${load()}`;
}

// 4c. Fleet (scripts/fleet-bench.mjs): many small servers at once, c = 8 each.
if (part('fleet') && values.fleet !== 'no') {
  const servers = QUICK ? 5 : 20;
  const accounts = QUICK ? 100 : 200;
  log(`fleet: ${servers} servers of ${accounts} accounts, ${LATENCY} ms, c = 8 per server (load ${load()})`);
  const loadStart = load();
  const f = await benchFleet({ servers, accounts, latencyMs: LATENCY, concurrency: 8 });
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

// 5. Baselines (optional): the seed's sequential loop and xargs -P c curl
if (values.baselines === 'yes') {
  const count = Math.min(N, 400);
  const sim = await startSim(['--users', String(N), '--resellers', '0', '--admins', '0', '--latency', String(LATENCY)]);
  try {
    const users = Array.from({ length: count }, (_, i) => userName(i + 1, N));
    const auth = 'Basic ' + Buffer.from(`${sim.adminUser}:${sim.adminPassword}`).toString('base64');
    const url = new URL(sim.url);
    const t0 = performance.now();
    for (const u of users) {
      const pw = newPassword();
      const body = `username=${u}&passwd=${pw}&passwd2=${pw}`;
      await new Promise((res, rej) => {
        const req = request(
          {
            host: url.hostname,
            port: url.port,
            path: '/CMD_API_USER_PASSWD',
            method: 'POST',
            agent: false,
            headers: {
              authorization: auth,
              connection: 'close',
              'content-type': 'application/x-www-form-urlencoded',
              'content-length': Buffer.byteLength(body),
            },
          },
          (r) => {
            r.resume();
            r.on('end', res);
          },
        );
        req.on('error', rej);
        req.end(body);
      });
    }
    const seedS = (performance.now() - t0) / 1000;
    results.baselines.push({
      tool: 'seed loop (sequential, new connection each)',
      concurrency: 1,
      accounts: count,
      wallS: r3(seedS),
      ratioToIdeal: r3((count * LATENCY) / 1000 / seedS),
    });
    if (spawnSync('sh', ['-c', 'command -v curl && command -v xargs'], { stdio: 'ignore' }).status === 0) {
      const netrc = join(work, 'netrc');
      writeFileSync(netrc, `machine ${url.hostname} login ${sim.adminUser} password ${sim.adminPassword}\n`, { mode: 0o600 });
      for (const c of LEVELS) {
        const n = Math.min(N, c * 100);
        const list = join(work, `xargs-${c}.txt`);
        writeFileSync(list, Array.from({ length: n }, (_, i) => `${userName(i + 1, N)} ${newPassword()}`).join('\n') + '\n', { mode: 0o600 });
        const script = `curl -s -o /dev/null --netrc-file ${netrc} -d "username=$0&passwd=$1&passwd2=$1" ${sim.url}/CMD_API_USER_PASSWD`;
        const t1 = performance.now();
        spawnSync('sh', ['-c', `xargs -P ${c} -L 1 sh -c '${script}' < ${list}`], { stdio: 'ignore' });
        const s = (performance.now() - t1) / 1000;
        results.baselines.push({ tool: 'xargs -P c curl', concurrency: c, accounts: n, wallS: r3(s), ratioToIdeal: r3((n * LATENCY) / c / 1000 / s) });
      }
    }
  } finally {
    await sim.stop();
  }
}
results.machine.loadAfter = load();

// ---------------------------------------------------------------------------------------------
const su = results.startup;
const at16 = results.throughput.rows.find((r) => r.concurrency === 16);
const worstCpu = results.zeroLatency?.cpuMsPerAccount ?? NaN;
results.targets = {
  '`plan` of 3 accounts within 3.5x of bare node': su && { value: su['plan (3 accounts)'].xBare, met: su['plan (3 accounts)'].xBare <= 3.5 },
  '`--version` faster than `plan`': su && { value: su['--version'].xBare, met: su['--version'].medianMs < su['plan (3 accounts)'].medianMs },
  '`--help` faster than `plan`': su && { value: su['--help'].xBare, met: su['--help'].medianMs < su['plan (3 accounts)'].medianMs },
  [`c=16, ${N} accounts at ${LATENCY} ms: within 5% of the bare undici + p-limit loop, whole process against whole process`]: at16 && {
    value: at16.vsFloorWhole,
    met: at16.vsFloorWhole >= 0.95,
  },
  [`the same, the run alone against the loop alone`]: at16 && { value: at16.vsFloorRun, met: at16.vsFloorRun >= 0.95 },
  [`c=16, ${N} accounts at ${LATENCY} ms: at least 0.9 of ideal, whole process`]: at16 && { value: at16.ratioToIdeal, met: at16.ratioToIdeal >= 0.9 },
  [`the same against the plain stand-in`]: results.throughput.standin && {
    value: results.throughput.standin.ratioToIdeal,
    met: results.throughput.standin.ratioToIdeal >= 0.9,
  },
  [`the same, against the ideal at the stand-in's measured answer time`]: results.throughput.standin && {
    value: results.throughput.standin.ratioToServerIdeal,
    met: results.throughput.standin.ratioToServerIdeal >= 0.9,
  },
  'client CPU at most 0.5 ms per account (zero latency, whole process)': results.zeroLatency && { value: worstCpu, met: worstCpu <= 0.5 },
  [`plan of ${SCALE} accounts: peak memory (MB)`]: results.scale && { value: results.scale.peakRssMb, met: results.scale.peakRssMb <= 150 },
  [`auto within 15% of the best fixed concurrency (capacity ${DEGRADE_C})`]: results.auto?.available
    ? { value: results.auto.autoOverBest, met: results.auto.autoOverBest <= 1.15 }
    : undefined,
};

const fmt = (x) => (x === undefined || (typeof x === 'number' && !Number.isFinite(x)) ? '-' : String(x));
const m = results.machine;
const md = [
  `# da-rotate benchmark, ${results.startedAt}${QUICK ? ' (quick)' : ''}`,
  '',
  `Machine: ${m.nproc} CPU (${m.model}), ${m.memGb} GB, Node ${m.node}. Load average (1, 5, 15 min) before: ${m.loadBefore}; after: ${m.loadAfter}.`,
  `Simulator in its own process. Whole-process times run from spawn to exit.`,
  '',
  `## Start-up (median of ${STARTUP_RUNS}, load ${fmt(results.loads.startup)})`,
  '',
  '| command | median ms | min ms | x bare node |',
  '|---|---:|---:|---:|',
  ...Object.entries(su ?? {}).map(([k, v]) => `| ${k} | ${v.medianMs} | ${v.minMs} | ${v.xBare} |`),
  '',
  `## Throughput: ${N} accounts at ${LATENCY} ms a request, median of ${RUNS} runs (load ${fmt(results.loads.throughput)})`,
  '',
  '| c | whole process s | ideal s | ratio to ideal | run alone s | run ratio | bare loop whole process s | bare loop alone ratio | vs bare loop (whole) | vs bare loop (run) | server mean ms | p50 ms | p99 ms | CPU ms/account | peak MB |',
  '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...results.throughput.rows.map(
    (r) =>
      `| ${r.concurrency} | ${r.wallS} | ${r.idealS} | ${r.ratioToIdeal} | ${r.runS} | ${r.runRatioToIdeal} | ${fmt(r.floorWholeS)} | ${fmt(r.floorRatioToIdeal)} | ${fmt(r.vsFloorWhole)} | ${fmt(r.vsFloorRun)} | ${fmt(r.serverMeanMs)} | ${fmt(r.p50Ms)} | ${fmt(r.p99Ms)} | ${fmt(r.cpuMsPerAccount)} | ${fmt(r.peakRssMb)} |`,
  ),
  '',
  "The bare undici loop (scripts/bench-floor.mjs) keeps c changes in flight with undici and p-limit and nothing else: no login test, no listing, no journal, no report, no outcome rule. It is the most any client reaches on this machine against this simulator; da-rotate's gap to it is the client's own cost. \"vs bare loop\" is the loop's time over da-rotate's (1.0: as fast), whole process against whole process (start-up and exit included on both sides) and the run alone against the loop alone. \"server mean\" is the simulator's own time from a request's arrival to its answer, averaged over da-rotate's run.",
  '',
  results.throughput.standin
    ? `Against the plain stand-in (scripts/bench-standin.mjs: no simulator code, one bare setTimeout per answer), c = ${results.throughput.standin.concurrency}: ${results.throughput.standin.wallS} s whole process (${results.throughput.standin.wallRangeS.join(' to ')}), ${results.throughput.standin.ratioToIdeal} of ideal (run alone ${results.throughput.standin.runRatioToIdeal}); bare undici loop ${results.throughput.standin.floorRatioToIdeal}; the stand-in answered in ${results.throughput.standin.serverMeanMs} ms on average, so ${results.throughput.standin.ratioToServerIdeal} of the ideal at the latency it really had.\n`
    : '',
  results.zeroLatency
    ? `## Client CPU\n\n${results.zeroLatency.accounts} accounts at zero latency, c = 16, whole process: ${results.zeroLatency.wallS} s, ${results.zeroLatency.cpuMsPerAccount} ms CPU per account (${results.zeroLatency.userMsPerAccount} user, ${results.zeroLatency.systemMsPerAccount} system), peak ${results.zeroLatency.peakRssMb} MB (load ${results.loads.zeroLatency}). The CPU column above includes the cost of waking for every answer spread over time.\n`
    : '',
  results.scale
    ? `## Scale\n\nPlan of ${SCALE} accounts (--scope all): ${results.scale.wallS} s, ${results.scale.cpuMs} ms CPU, peak ${results.scale.peakRssMb} MB (load ${results.loads.scale}).\n`
    : '',
  `## --concurrency auto on a server degrading past ${DEGRADE_C} in flight`,
  '',
  results.auto?.available
    ? [
        `${results.auto.accounts} accounts, ${LATENCY} ms base latency; best fixed: c=${results.auto.best}; auto / best = ${results.auto.autoOverBest} (load ${results.loads.auto}).`,
        '',
        '| c | whole process s | run s | most processed at once | limit at the end | p50 ms | p90 ms |',
        '|---|---:|---:|---:|---:|---:|---:|',
        ...results.auto.rows.map(
          (r) =>
            `| ${r.concurrency} | ${r.wallS} | ${r.runS} | ${fmt(r.maxProcessing)} | ${r.chosen === undefined ? '-' : JSON.stringify(r.chosen)} | ${fmt(r.p50Ms)} | ${fmt(r.p90Ms)} |`,
        ),
      ].join('\n')
    : `Not available: missing ${results.auto?.missing}.`,
  '',
  results.sweep
    ? `## Incident sweep\n\n\`rotate --include email\`, ${results.sweep.accounts} accounts, ${results.sweep.mailboxes} mailboxes (${results.sweep.mailboxesPerAccount} an account: the simulator gives each account 1 or 2 domains, 2 mailboxes each), ${LATENCY} ms a request, c = ${results.sweep.concurrency}: ${results.sweep.reads} reads + ${results.sweep.writes} writes in ${results.sweep.wallS} s whole process, ideal (reads + writes) x L / c = ${results.sweep.idealS} s, ratio ${results.sweep.ratioToIdeal}; ${results.sweep.cpuMsPerCredential} ms CPU per mailbox (load ${results.loads.sweep}).\n`
    : '',
  results.fleet
    ? `## Fleet\n\n${results.fleet.servers} servers of ${results.fleet.accounts} accounts at once, ${LATENCY} ms, c = 8 each: ${results.fleet.rotated} rotated in ${results.fleet.wallS} s, ideal (the slowest server's N x L / c) ${results.fleet.idealS} s, ratio ${results.fleet.ratioToIdeal}, peak ${results.fleet.peakRssMb} MB (load ${results.loads.fleet}).\n`
    : '',
  results.baselines.length
    ? [
        '## Baselines',
        '',
        '| tool | c | accounts | s | ratio to ideal |',
        '|---|---:|---:|---:|---:|',
        ...results.baselines.map((b) => `| ${b.tool} | ${b.concurrency} | ${b.accounts} | ${b.wallS} | ${b.ratioToIdeal} |`),
        '',
      ].join('\n')
    : '',
  '## Targets',
  '',
  '| target | value | met |',
  '|---|---:|---|',
  ...Object.entries(results.targets)
    .filter(([, v]) => v)
    .map(([k, v]) => `| ${k} | ${v.value} | ${v.met ? 'yes' : 'NO'} |`),
  '',
].join('\n');

const stamp = results.startedAt.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
const base = join(outDir, `bench-${stamp}`);
writeFileSync(`${base}.json`, JSON.stringify(results, null, 2) + '\n');
writeFileSync(`${base}.md`, md);
rmSync(work, { recursive: true, force: true });
if (values.svg) writeFileSync(resolve(values.svg), svgOf(results));
process.stdout.write(md + `\nWrote ${base}.json and .md${values.svg ? ` and ${values.svg}` : ''}\n`);

/** docs/bench.svg: throughput against the ideal (left), auto against fixed limits on the degrading server (right). */
function svgOf(res) {
  const W = 760;
  const H = 400;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
  ];
  const text = (x, y, t, extra = '') => out.push(`<text x="${r1(x)}" y="${r1(y)}" ${extra}>${t}</text>`);
  const m = res.machine;
  text(
    W / 2,
    20,
    `da-rotate ${res.startedAt.slice(0, 10)}: ${m.nproc} CPU (${m.model}), Node ${m.node}, load ${m.loadBefore.split(' ')[0]} -> ${m.loadAfter.split(' ')[0]}`,
    'text-anchor="middle" font-size="13"',
  );
  // Left: accounts per second against c (whole process), with the ideal c / L.
  const rows = res.throughput.rows;
  if (rows.length) {
    const x0 = 60,
      x1 = 350,
      y0 = 340,
      y1 = 60;
    const perS = rows.map((r) => r.accounts / r.wallS);
    const ideal = rows.map((r) => (1000 * r.concurrency) / res.throughput.latencyMs);
    const top = Math.max(...ideal, ...perS) * 1.1;
    const xs = rows.map((_, i) => x0 + ((x1 - x0) * (i + 0.5)) / rows.length);
    const y = (v) => y0 - ((y0 - y1) * v) / top;
    out.push(`<line x1="${x0}" y1="${y0}" x2="${x1}" y2="${y0}" stroke="black"/><line x1="${x0}" y1="${y1}" x2="${x0}" y2="${y0}" stroke="black"/>`);
    for (let k = 0; k <= 4; k++) text(x0 - 6, y((top * k) / 4.4) + 4, Math.round((top * k) / 4.4), 'text-anchor="end"');
    rows.forEach((r, i) => {
      const bw = (x1 - x0) / rows.length / 3;
      out.push(`<rect x="${r1(xs[i] - bw)}" y="${r1(y(ideal[i]))}" width="${r1(bw)}" height="${r1(y0 - y(ideal[i]))}" fill="#ccc"/>`);
      out.push(`<rect x="${r1(xs[i])}" y="${r1(y(perS[i]))}" width="${r1(bw)}" height="${r1(y0 - y(perS[i]))}" fill="#1f77b4"/>`);
      text(xs[i], y0 + 16, `c=${r.concurrency}`, 'text-anchor="middle"');
      text(xs[i] + bw / 2, y(perS[i]) - 4, r.ratioToIdeal, 'text-anchor="middle" font-size="11"');
    });
    text((x0 + x1) / 2, y0 + 36, `${res.throughput.accounts} accounts at ${res.throughput.latencyMs} ms: accounts/s, whole process`, 'text-anchor="middle"');
    out.push(`<rect x="${x0 + 10}" y="${y1 - 12}" width="10" height="10" fill="#ccc"/>`);
    text(x0 + 24, y1 - 3, 'ideal c / L');
    out.push(`<rect x="${x0 + 110}" y="${y1 - 12}" width="10" height="10" fill="#1f77b4"/>`);
    text(x0 + 124, y1 - 3, 'da-rotate (label: ratio)');
  }
  // Right: wall time on the degrading server, fixed limits and auto.
  if (res.auto?.available) {
    const x0 = 440,
      x1 = 730,
      y0 = 340,
      y1 = 60;
    const ar = res.auto.rows;
    const top = Math.max(...ar.map((r) => r.wallS)) * 1.15;
    const y = (v) => y0 - ((y0 - y1) * v) / top;
    out.push(`<line x1="${x0}" y1="${y0}" x2="${x1}" y2="${y0}" stroke="black"/><line x1="${x0}" y1="${y1}" x2="${x0}" y2="${y0}" stroke="black"/>`);
    for (let k = 0; k <= 4; k++) text(x0 - 6, y((top * k) / 4.4) + 4, r1((top * k) / 4.4), 'text-anchor="end"');
    const bw = ((x1 - x0) / ar.length) * 0.6;
    ar.forEach((r, i) => {
      const cx = x0 + ((x1 - x0) * (i + 0.5)) / ar.length;
      const fill = r.concurrency === 'auto' ? '#d62728' : r.concurrency === res.auto.best ? '#2ca02c' : '#999';
      out.push(`<rect x="${r1(cx - bw / 2)}" y="${r1(y(r.wallS))}" width="${r1(bw)}" height="${r1(y0 - y(r.wallS))}" fill="${fill}"/>`);
      text(cx, y0 + 16, r.concurrency === 'auto' ? `auto` : `${r.concurrency}`, 'text-anchor="middle"');
      text(
        cx,
        y(r.wallS) - 4,
        r.concurrency === 'auto' ? `${r.wallS} s, limit ${r.chosen}, max ${r.maxProcessing}` : `${r.wallS}`,
        'text-anchor="middle" font-size="10"',
      );
    });
    text((x0 + x1) / 2, y0 + 36, `seconds for ${res.auto.accounts} accounts, server degrading past ${res.auto.capacity}`, 'text-anchor="middle"');
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}
