/**
 * Crash safety: SIGKILL at random points (seeded: the seed is in the title, DA_ROTATE_SEED replays it),
 * then resume until done: zero lost credentials.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import type { SimulatorOptions } from '../../src/simulator/index.js';
import { readReport } from '../../src/rotation/report-parse.js';
import { readJournal } from '../../src/rotation/journal.js';
import type { ChildProcess } from 'node:child_process';
import { daUrl, runCli, runUntil, summaryOf } from './cli-runner.js';
import { assertNoLostCredential, snapshot, whenCount, withSim } from './simulator-fixtures.js';
import { seededRandom, testSeed } from '../seed.js';

const SEED = testSeed();

/** Kills the run `kills` times, resumes until done; `rotated`: the accounts but the admin who runs it. */
async function crashAndResume(options: SimulatorOptions, kills: number, seed: number, rotated: number): Promise<void> {
  const random = seededRandom(seed);
  await withSim(options, async (sim, out) => {
    const original = snapshot(sim);
    const env = { DA_URL: daUrl(sim) };
    const report = join(out, 'crash.csv');
    const journal = join(out, 'crash.journal.jsonl');
    const work = ['--yes', '--concurrency', '16', '--retry-delay', '0.01', '--retries', '6', '--log-level', 'warn'];
    let done = 0;
    let first = true;
    let guard = 0;
    while (done < kills) {
      assert.ok(guard++ < kills * 3, 'the run kept finishing before it could be killed');
      // The kill lands inside the simulator, at the instant it applies the Nth change of this run
      // (before it answers): the exact point does not depend on how many intents a batch holds.
      const base = sim.stats.passwordChangesApplied;
      const after = random.int(5, 39);
      const args = first ? ['rotate', '--scope', 'all', '--output', report, ...work] : ['resume', journal, ...work];
      let child: ChildProcess | undefined;
      let killed = false;
      whenCount(sim.stats, 'passwordChangesApplied', base + after, () => {
        killed = child?.kill('SIGKILL') === true;
      });
      const { signalled, result } = await runUntil(args, {
        env,
        signal: 'SIGKILL',
        onSpawn: (c) => (child = c),
        watch: dirname(journal),
        when: () => killed,
      });
      const wasKilled = signalled || (killed && result.signal === 'SIGKILL');
      if (wasKilled) assert.equal(result.signal, 'SIGKILL');
      else assert.ok(result.code === 0 || result.code === 1, `run ended on its own with ${result.code}: ${result.stderr}`);
      first = false;
      if (wasKilled) done++;
      // Between kills the report may lag behind the journal, but the journal never loses an intent.
      // (Every changed account is looked up by its credential id: keyed by user name, this check
      // found no intent and passed without checking anything.)
      const state = readJournal(journal);
      let changed = 0;
      for (const [user, live] of snapshot(sim)) {
        if (live === original.get(user)) continue;
        changed++;
        assert.equal(state.intents.get(`account:${user}:${user}`)?.pw, live, `${user}: live password not in the journal`);
      }
      if (wasKilled) assert.ok(changed >= after, `the kill came after ${after} changes, but only ${changed} accounts changed`);
    }
    const final = await runCli(['resume', journal, ...work, '--json'], { env });
    assert.equal(final.code, 0, final.stderr);
    const s = summaryOf(final);
    assert.equal(s.report, report);
    const statuses = assertNoLostCredential(sim, report, original);
    assert.equal([...statuses.values()].filter((x) => x === 'rotated').length, rotated, 'every account but the admin ends rotated');
    assert.equal(readReport(report).length, rotated + 1, 'one row per account, the admin as skipped');
    assert.equal(statuses.size, rotated);
  });
}

describe(`crash safety (seed ${SEED}: DA_ROTATE_SEED=${SEED} replays the kill points)`, { timeout: 120_000, concurrency: true }, () => {
  // 300 users, 4 resellers, 1 extra admin and the admin who runs it: 306 accounts, 305 to rotate.
  it('loses no credential when killed with SIGKILL 6 times over 306 accounts', async () => {
    await crashAndResume({ users: 300, resellers: 4, extraAdmins: 1, faults: { latencyMs: 4, jitterMs: 6 } }, 6, SEED, 305);
  });

  it('loses no credential when killed 6 times with empty answers and resets after apply', async () => {
    await crashAndResume(
      { users: 300, resellers: 4, extraAdmins: 1, faults: { latencyMs: 4, jitterMs: 6, emptyAfterApply: { rate: 0.15 }, resetAfterApply: { rate: 0.1 } } },
      6,
      SEED + 1,
      305,
    );
  });
});
