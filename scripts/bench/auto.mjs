/**
 * Part `auto`: `--concurrency auto` against fixed concurrencies on a server that slows by the square
 * of its overload past capacity C (the simulator's --degrade-capacity). Reported "not available"
 * until the CLI and the simulator both offer it: `auto` in `rotate --help` next to --concurrency,
 * and --degrade-capacity in `simulate --help`. The limit the run chose is read from the JSON
 * summary's `concurrency`.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { cli, load, log, pct, r1, r3, runProbed, startSim } from './common.mjs';

/** Fills results.auto. */
export async function benchAuto(config, results) {
  const { degradeAccounts: DEGRADE_N, degradeCapacity: DEGRADE_C, degradeLevels: DEGRADE_LEVELS, latencyMs: LATENCY, work } = config;
  const rotateHelp = spawnSync(process.execPath, [cli, 'rotate', '--help'], { encoding: 'utf8' }).stdout ?? '';
  const simHelp = spawnSync(process.execPath, [cli, 'simulate', '--help'], { encoding: 'utf8' });
  const hasAuto = /--concurrency[^\n]*(\n\s{10,}[^\n]*)*auto/.test(rotateHelp);
  const hasDegrade = /--degrade-capacity/.test(`${simHelp.stdout}${simHelp.stderr}`);
  if (!hasAuto || !hasDegrade) {
    const missing = [!hasAuto && '`--concurrency auto` in the CLI', !hasDegrade && "the simulator's --degrade-capacity"].filter(Boolean).join(' and ');
    results.auto = { available: false, missing };
    log(`auto vs fixed: not available (missing ${missing})`);
    return;
  }
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
        work,
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
