/**
 * Part `throughput`: `rotate` of N accounts at L ms a request, c = 4, 16, 64: whole-process wall
 * time against the ideal N * L / c, the run's own duration, client CPU per account, peak memory, a
 * bare undici loop beside each row (scripts/bench/floor.mjs), and the c = 16 case once more against
 * a plain stand-in that shares no code with the simulator (scripts/bench/standin.mjs).
 */
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { lineReader, load, log, pct, r1, r3, root, runProbed, startSim } from './common.mjs';

/** The concurrency of the throughput target, run again against the plain stand-in. */
const STANDIN_C = 16;

/** scripts/bench/floor.mjs in its own process: a bare undici loop, the least any client can do. */
function runFloor(url, c, n) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'bench', 'floor.mjs'), url, String(c), String(n)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`the floor loop exited ${r.status}: ${r.stderr.slice(-500)}`);
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1));
  if (out.failed > 0) throw new Error(`the floor loop saw ${out.failed} failed changes`);
  // Its whole process as well (node, undici and p-limit loaded, the loop, exit), to set beside da-rotate's.
  return { ...out, wholeMs: Number(process.hrtime.bigint() - t0) / 1e6 };
}

/** scripts/bench/standin.mjs: the plain stand-in (no simulator code), for a second opinion on throughput. */
async function startStandin(users, latencyMs) {
  const child = spawn(process.execPath, [join(root, 'scripts', 'bench', 'standin.mjs'), String(users), String(latencyMs)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const line = lineReader(child.stdout);
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

/**
 * config.runs rotations of N accounts at concurrency c against `server` (the simulator or the plain
 * stand-in: {env, stats(), reset()}), each followed by the bare undici loop so both see the same
 * machine: the median run (by wall time) as a row.
 */
async function throughputRow(config, server, c, name) {
  const { accounts: N, latencyMs: LATENCY, runs: RUNS, work } = config;
  const runs = [];
  const floors = [];
  for (let k = 0; k < RUNS; k++) {
    server.reset();
    const r = await runProbed(
      work,
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

/** Fills results.throughput.rows and results.throughput.standin. */
export async function benchThroughput(config, results) {
  const { accounts: N, latencyMs: LATENCY, levels: LEVELS, runs: RUNS } = config;
  log(`throughput: ${N} accounts at ${LATENCY} ms a request, c = ${LEVELS.join(', ')} (load ${load()})`);
  const sim = await startSim(['--users', String(N), '--resellers', '0', '--admins', '0', '--latency', String(LATENCY)]);
  const loadStart = load();
  try {
    for (const c of LEVELS) {
      const row = await throughputRow(config, sim, c, 'simulator');
      results.throughput.rows.push(row);
      log(
        `  c=${c}: ${row.wallS} s whole process (median of ${RUNS}, ${row.wallRangeS.join(' to ')}), ${row.ratioToIdeal} of ideal (${row.runRatioToIdeal} for the run alone), ${row.cpuMsPerAccount} ms CPU/account, ${row.peakRssMb} MB; bare undici loop ${row.floorRatioToIdeal} of ideal; server answered in ${row.serverMeanMs} ms on average`,
      );
    }
  } finally {
    await sim.stop();
  }
  // The target's case once more against the plain stand-in (scripts/bench/standin.mjs): a server
  // that shares no code with the client's simulator and times its answers with a bare setTimeout.
  const standin = await startStandin(N, LATENCY);
  try {
    const x = await throughputRow(config, standin, STANDIN_C, 'plain stand-in');
    results.throughput.standin = x;
    log(
      `  plain stand-in, c=${x.concurrency}: ${x.wallS} s whole process (median of ${RUNS}, ${x.wallRangeS.join(' to ')}), ${x.ratioToIdeal} of ideal (${x.runRatioToIdeal} for the run alone); bare undici loop ${x.floorRatioToIdeal}; it answered in ${x.serverMeanMs} ms on average, so ${x.ratioToServerIdeal} of the ideal at that latency`,
    );
  } finally {
    await standin.stop();
  }
  results.loads.throughput = `${loadStart} -> ${load()}`;
}
