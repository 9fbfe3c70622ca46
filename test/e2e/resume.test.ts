/** Interruption (SIGINT, a second signal), the per-server lock, verify and resume's server check; resume's concurrency and prune. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { lockPathForServer, stateDirFor } from '../../src/rotation/lock.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { readReport } from '../../src/rotation/report-parse.js';
import { readJournal } from '../../src/rotation/journal.js';
import { daUrl, runCli, runUntil, summaryOf, tempDir, type CliResult } from './cli-runner.js';
import { assertNoLostCredential, countIntents, snapshot, withSim } from './simulator-fixtures.js';

describe('interruption, lock, verify', { timeout: 120_000 }, () => {
  it('SIGINT settles in-flight work, prints the resume command, exits 130; the command finishes the job', async () => {
    await withSim({ users: 300, resellers: 0, faults: { latencyMs: 20 } }, async (sim, out) => {
      const original = snapshot(sim);
      const env = { DA_URL: daUrl(sim) };
      const journal = join(out, 'int.journal.jsonl');
      const { result, signalled } = await runUntil(['rotate', '--log-format', 'text', '--yes', '--concurrency', '4', '--output', join(out, 'int.csv')], {
        env,
        signal: 'SIGINT',
        watch: out,
        when: () => countIntents(journal) >= 30,
      });
      assert.ok(signalled, 'the run was interrupted while working');
      assert.equal(result.code, 130, result.stderr);
      const m = /To finish: (da-rotate resume .*)$/m.exec(result.stderr);
      assert.ok(m, result.stderr);
      assert.ok(!m[1]!.includes(sim.adminPassword));
      const state = readJournal(journal);
      assert.ok(state.outcomes.size < 300, 'stopped early');
      for (const u of state.intents.keys()) assert.ok(state.outcomes.has(u), `${u}: in-flight request settled before exit`);
      sim.setOptions({ faults: {} });
      const args = m[1]!
        .split(' ')
        .slice(1)
        .map((a) => a.replace(/^'|'$/g, ''));
      const resumed = await runCli([...args, '--json'], { env });
      assert.equal(resumed.code, 0, resumed.stderr);
      const statuses = assertNoLostCredential(sim, join(out, 'int.csv'), original);
      assert.equal(statuses.size, 300);
      assert.deepEqual(new Set(statuses.values()), new Set(['rotated']));
    });
  });

  it('a second signal exits at once; the journal still holds every password sent', async () => {
    await withSim({ users: 200, resellers: 0, faults: { latencyMs: 200 } }, async (sim, out) => {
      const original = snapshot(sim);
      const journal = join(out, 'two.journal.jsonl');
      // The second SIGINT goes once the CLI says it is stopping (it got the first), not after a fixed delay.
      const { result: r, signalled } = await runUntil(['rotate', '--yes', '--concurrency', '8', '--output', join(out, 'two.csv')], {
        env: { DA_URL: daUrl(sim) },
        signal: 'SIGINT',
        watch: out,
        when: () => countIntents(journal) >= 16,
        second: { signal: 'SIGINT', after: /stopping:/ },
      });
      assert.ok(signalled, 'the run was interrupted while working');
      assert.equal(r.code, 130, r.stderr);
      assert.match(r.stderr, /second signal/);
      const state = readJournal(journal);
      for (const [user, live] of snapshot(sim)) {
        if (live !== original.get(user)) assert.equal(state.intents.get(`account:${user}:${user}`)?.pw, live, `${user}: changed but not journaled`);
      }
      sim.setOptions({ faults: {} });
      const resumed = await runCli(['resume', journal, '--yes'], { env: { DA_URL: daUrl(sim) } });
      assert.equal(resumed.code, 0, resumed.stderr);
      assertNoLostCredential(sim, join(out, 'two.csv'), original);
    });
  });

  it('refuses to start on top of a live run, takes over a stale lock', async () => {
    await withSim({ users: 5, resellers: 0 }, async (sim, out) => {
      // The lock is per server in the state directory, wherever the reports go.
      const lock = lockPathForServer(stateDirFor(process.env), sim.url);
      mkdirSync(stateDirFor(process.env), { recursive: true, mode: 0o700 });
      writeFileSync(lock, JSON.stringify({ pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), server: sim.url }), { mode: 0o600 });
      const held = await runCli(['rotate', '--yes', '--json', '--output', join(out, 'a.csv')], { env: { DA_URL: daUrl(sim) } });
      assert.equal(held.code, 3, held.stderr);
      assert.ok(held.stderr.includes(String(process.pid)), held.stderr);
      assert.deepEqual((JSON.parse(held.stdout) as Record<string, unknown>).code, 'LOCK_HELD');
      assert.equal(sim.stats.requests['CMD_API_USER_PASSWD'] ?? 0, 0);
      writeFileSync(lock, JSON.stringify({ pid: 2 ** 22 + 4321, host: hostname(), startedAt: new Date().toISOString(), server: sim.url }), { mode: 0o600 });
      const stale = await runCli(['rotate', '--yes', '--output', join(out, 'b.csv')], { env: { DA_URL: daUrl(sim) } });
      assert.equal(stale.code, 0, stale.stderr);
      assert.match(stale.stderr, /stale lock/);
      assert.equal(existsSync(lock), false, 'released at the end');
    });
  });

  it('verify lists drift and changes nothing; resume refuses another server', async () => {
    const other = await startSimulator({ users: 1, resellers: 0 });
    try {
      await withSim({ users: 20, resellers: 0 }, async (sim, out) => {
        const env = { DA_URL: daUrl(sim) };
        const r = await runCli(['rotate', '--yes', '--json', '--output', join(out, 'v.csv')], { env });
        assert.equal(r.code, 0, r.stderr);
        const s = summaryOf(r);
        const clean = await runCli(['verify', s.report, '--json'], { env });
        assert.equal(clean.code, 0, clean.stderr);
        const victim = readReport(s.report).find((x) => x.status === 'rotated')!.username;
        sim.setPassword(victim, 'ChangedBySomeone1');
        const writesBefore = sim.stats.requests['CMD_API_USER_PASSWD'] ?? 0;
        const drift = await runCli(['verify', s.report, '--json'], { env });
        assert.equal(drift.code, 1, drift.stderr);
        assert.deepEqual((JSON.parse(drift.stdout) as { drift: string[] }).drift, [victim]);
        assert.match(drift.stderr, new RegExp(victim));
        assert.equal(sim.stats.requests['CMD_API_USER_PASSWD'] ?? 0, writesBefore);
        const wrong = await runCli(['resume', s.journal!, '--yes'], { env: { DA_URL: daUrl(other) } });
        assert.equal(wrong.code, 2, wrong.stderr);
        assert.match(wrong.stderr, /belongs to/);
        assert.equal(other.stats.requests['CMD_API_USER_PASSWD'] ?? 0, 0);
      });
    } finally {
      await other.close();
    }
  });
});

/** Starts `rotate` with a --deadline that stops it part-way: a journal with unsettled credentials. */
async function stoppedRun(sim: Simulator, out: string, name: string, concurrency: string): Promise<CliResult> {
  return runCli(['rotate', '--yes', '--json', '--concurrency', concurrency, '--deadline', '2s', '--output', join(out, name)], { env: { DA_URL: daUrl(sim) } });
}

describe('resume and prune', { timeout: 90_000 }, () => {
  it("resume runs at the interrupted run's concurrency unless told, and says so; not-started is its own count", async () => {
    await withSim({ users: 40, resellers: 0, faults: { latencyMs: 250 } }, async (sim, out) => {
      const first = await stoppedRun(sim, out, 'r.csv', '3');
      assert.equal(first.code, 3, first.stderr);
      const s = summaryOf(first);
      assert.ok(s.counts['not-started'] > 0, JSON.stringify(s.counts));
      assert.match(first.stderr, /not started \d+/);
      sim.setFaults({});
      const resumed = await runCli(['resume', '--log-format', 'text', '--json', '--yes', s.journal!], { env: { DA_URL: daUrl(sim) } });
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.ok(resumed.stderr.includes("da-rotate: resuming at concurrency 3, the interrupted run's (--concurrency N to change it)"), resumed.stderr);
      assert.equal(summaryOf(resumed).concurrency, 3);
      assert.ok(sim.stats.maxProcessing <= 3, `at most 3 at once, saw ${sim.stats.maxProcessing}`);
    });
  });

  it('prune keeps the newest runs and every journal with unsettled credentials; without --yes it deletes nothing', async () => {
    await withSim({ users: 30, resellers: 0, faults: { latencyMs: 250 } }, async (sim) => {
      const cwd = tempDir();
      try {
        const stopped = await stoppedRun(sim, join(cwd, 'output'), 'x.csv', '2');
        assert.equal(stopped.code, 3, stopped.stderr);
        sim.setFaults({});
        // Default names: the stopped run above used --output, so prune never touches it either way.
        for (const cmd of [['plan'], ['plan'], ['rotate', '--yes', '--abandon-previous']]) {
          const r = await runCli(cmd, { cwd, env: { DA_URL: daUrl(sim) } });
          assert.equal(r.code, 0, r.stderr);
        }
        // An unsettled journal under a default name: copy the stopped run's files to one.
        const stem = join(cwd, 'output', 'rotation-127.0.0.1_1-20000101T000000.000Z');
        writeFileSync(stem + '.journal.jsonl', readFileSync(join(cwd, 'output', 'x.journal.jsonl')), { mode: 0o600 });
        writeFileSync(stem + '.csv', readFileSync(join(cwd, 'output', 'x.csv')), { mode: 0o600 });
        const before = readdirSync(join(cwd, 'output')).sort();
        const dry = await runCli(['prune', '--keep', '0'], { cwd });
        assert.equal(dry.code, 0, dry.stderr);
        assert.ok(dry.stderr.includes('(nothing deleted; pass --yes to delete): would delete 4 file(s)'), dry.stderr);
        assert.deepEqual(readdirSync(join(cwd, 'output')).sort(), before);
        const r = await runCli(['prune', '--keep', '0', '--yes', '--json'], { cwd });
        assert.equal(r.code, 0, r.stderr);
        assert.ok(r.stderr.includes(`KEPT ${stem}.journal.jsonl: `), r.stderr);
        assert.match(r.stderr, /credential\(s\) not settled: run `da-rotate resume /);
        const left = readdirSync(join(cwd, 'output')).sort();
        assert.deepEqual(left, [
          'rotation-127.0.0.1_1-20000101T000000.000Z.csv',
          'rotation-127.0.0.1_1-20000101T000000.000Z.journal.jsonl',
          'x.csv',
          'x.journal.jsonl',
        ]);
        const result = JSON.parse(r.stdout) as { removed: string[]; protected: unknown[] };
        assert.equal(result.removed.length, 4);
        assert.equal(result.protected.length, 1);
      } finally {
        rmSync(cwd, { recursive: true, force: true });
      }
    });
  });
});
