/**
 * Part `sweep`: the incident sweep (issue 11), every mailbox of --sweep-accounts accounts, L ms a
 * request, c = 16. The ideal counts every request the run makes (listing reads and changes):
 * (reads + writes) x L / c.
 */
import { join } from 'node:path';
import { load, log, r3, runProbed, startSim } from './common.mjs';

/** Fills results.sweep. */
export async function benchSweep(config, results) {
  const { sweepAccounts: SWEEP_N, latencyMs: LATENCY, work } = config;
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
      work,
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
