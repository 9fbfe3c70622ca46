/**
 * Part `cpu`: client CPU per account, `rotate` of 20 000 accounts (5 000 with --quick) at zero
 * latency, whole process. Requests cost the server nothing, so what is left is the client's own work.
 */
import { join } from 'node:path';
import { load, log, r1, r3, runProbed, startSim } from './common.mjs';

/** Fills results.zeroLatency. */
export async function benchClientCpu(config, results) {
  const n = config.quick ? 5000 : 20000;
  log(`client CPU: rotate ${n} accounts at zero latency, c = 16 (load ${load()})`);
  const sim = await startSim(['--users', String(n), '--resellers', '0', '--admins', '0']);
  const loadStart = load();
  try {
    const r = await runProbed(
      config.work,
      ['rotate', '--yes', '--json', '--log-level', 'warn', '--concurrency', '16', '--output', join(config.work, 'rot-zero.csv')],
      sim.env,
    );
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
