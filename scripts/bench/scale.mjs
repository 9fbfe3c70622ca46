/**
 * Part `scale`: peak memory and time of a `plan --scope all` of 100 000 accounts (--scale; 20 000
 * with --quick), at no latency so that it measures the client.
 */
import { join } from 'node:path';
import { load, log, r1, r3, runProbed, startSim } from './common.mjs';

/** Fills results.scale. */
export async function benchScale(config, results) {
  const SCALE = config.scale;
  log(`scale: plan of ${SCALE} accounts (load ${load()})`);
  const big = await startSim(['--users', String(SCALE), '--resellers', '20', '--admins', '1']);
  const loadStart = load();
  try {
    const r = await runProbed(config.work, ['plan', '--scope', 'all', '--json', '--log-level', 'warn', '--output', join(config.work, 'plan-big.csv')], big.env);
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
