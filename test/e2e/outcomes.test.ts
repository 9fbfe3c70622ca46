/**
 * Issue 10, end to end: every path an outcome can take against the simulator. No live password
 * without its report row, retries on every command, systematic refusals stop early, clear stops.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Simulator } from '../../src/simulator/index.js';
import { readReport } from '../../src/rotation/report-parse.js';
import { daUrl, runCli, runCliAndSignal, summaryOf } from './cli-runner.js';
import { journalRecordCount, reportCells, withSim } from './simulator-fixtures.js';

/**
 * Nothing lost: every account whose live password changed has exactly that password in its report
 * row, as `rotated` or `unknown` (never `failed`, never empty); every untouched one is not `rotated`.
 * Returns the statuses of the selected accounts.
 */
function assertNothingLost(sim: Simulator, report: string, original: Map<string, string>): Map<string, string> {
  const rows = readReport(report).filter((r) => r.kind === 'account' && r.status !== 'skipped');
  const byUser = new Map(rows.map((r) => [r.username, r]));
  const statuses = new Map<string, string>();
  for (const [name, old] of original) {
    const live = sim.password(name);
    const row = byUser.get(name);
    if (!row) {
      assert.equal(live, old, `${name}: in no report row, so it must be untouched`);
      continue;
    }
    statuses.set(name, row.status);
    if (live !== old) {
      assert.ok(row.status === 'rotated' || row.status === 'unknown', `${name}: live password changed but the row is ${row.status}`);
      assert.equal(row.password, live, `${name}: the live password must be in the report row`);
    } else {
      assert.notEqual(row.status, 'rotated', `${name}: reported rotated but untouched`);
    }
  }
  return statuses;
}

const passwords = (sim: Simulator) => new Map(sim.accounts().map((a) => [a.username, a.password]));
// --retries 10: at 25% 5xx on every request, a request fails for good only when all 11 attempts do:
// 0.25^11 = 2e-7, about 1e-4 over the ~480 requests of 6 runs (with 8 retries it was 2e-3).
const QUICK = ['--retry-delay', '0.01', '--retries', '10'];

describe('outcomes (issue 10)', { timeout: 90_000 }, () => {
  it('25% 5xx on every command, reads included: 6 seeded runs settle every account, 0 lost', async () => {
    let lost = 0;
    let settled = 0;
    for (let seed = 1; seed <= 6; seed++) {
      await withSim({ users: 20, resellers: 1, seed, faults: { error500: { rate: 0.25, commands: ['*'] } } }, async (sim, out) => {
        const original = passwords(sim);
        const r = await runCli(['rotate', '--yes', '--json', '--scope', 'all', ...QUICK, '--output', join(out, 'r.csv')], { env: { DA_URL: daUrl(sim) } });
        assert.equal(r.code, 0, `seed ${seed}: ${r.stderr}`);
        assert.ok((sim.stats.faultsFired.error500 ?? 0) > 0, `seed ${seed}: no fault fired`);
        const statuses = assertNothingLost(sim, summaryOf(r).report, original);
        // 20 users, reseller1 and admin2: every account but the admin.
        assert.equal(statuses.size, 22, `seed ${seed}`);
        for (const [u, st] of statuses) assert.equal(st, 'rotated', `seed ${seed}: ${u}`);
        settled += statuses.size;
        lost += [...original].filter(([u, old]) => sim.password(u) !== old && statuses.get(u) !== 'rotated').length;
      });
    }
    console.log(`# 25% 5xx on every command: ${settled} accounts settled over 6 runs, ${lost} lost`);
    assert.equal(lost, 0);
  });

  for (const acceptUnchangedPassword of [false, true]) {
    it(`a lost answer on a suspended account (verify says valid=0${acceptUnchangedPassword ? ', unchanged password accepted' : ''}) loses nothing over 3 seeds`, async () => {
      for (let seed = 1; seed <= 3; seed++) {
        await withSim({ users: 24, resellers: 0, suspendedEvery: 3, seed, verifyInvalidForSuspended: true, acceptUnchangedPassword }, async (sim, out) => {
          const suspended = sim
            .accounts()
            .filter((a) => a.suspended)
            .map((a) => a.username);
          assert.equal(suspended.length, 8);
          // Every first change of a suspended account applies and loses its answer.
          sim.setFaults({ resetAfterApply: { users: suspended, limit: suspended.length, commands: ['CMD_API_USER_PASSWD'] } });
          const original = passwords(sim);
          const r = await runCli(['rotate', '--yes', '--json', ...QUICK, '--output', join(out, 'r.csv')], { env: { DA_URL: daUrl(sim) } });
          assert.ok(r.code === 0 || r.code === 1, `seed ${seed}: exit ${r.code}: ${r.stderr}`);
          assert.equal(sim.stats.faultsFired.resetAfterApply, 8, `seed ${seed}`);
          const statuses = assertNothingLost(sim, summaryOf(r).report, original);
          for (const u of suspended) {
            assert.notEqual(sim.password(u), original.get(u), `${u}: the change applied`);
            assert.notEqual(statuses.get(u), 'failed', `seed ${seed}: ${u} failed with its password live`);
          }
          // The resend settles it: refused as "isn't different" (proof) or accepted again.
          for (const u of suspended) assert.equal(statuses.get(u), 'rotated', `seed ${seed}: ${u}`);
          assert.equal(r.code, 0);
        });
      }
    });
  }

  it('a difficult-password server, logged in as a reseller: at most 2 refused changes, names --symbols', async () => {
    await withSim({ users: 12, resellers: 1, passwordPolicy: { difficult: true } }, async (sim, out) => {
      const original = passwords(sim);
      const reseller = 'reseller1';
      const r = await runCli(['rotate', '--yes', '--json', '--output', join(out, 'r.csv')], { env: { DA_URL: daUrl(sim, reseller, sim.password(reseller)) } });
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, /--symbols/);
      assert.ok((sim.stats.requests['CMD_API_USER_PASSWD'] ?? 0) <= 2, `${sim.stats.requests['CMD_API_USER_PASSWD']} refused changes`);
      assert.ok((sim.stats.requests['CMD_API_USER_PASSWD'] ?? 0) >= 1);
      assert.equal(sim.stats.passwordChangesApplied, 0);
      assert.deepEqual(passwords(sim), original);
      const rows = readReport(summaryOf(r).report).filter((x) => x.status !== 'skipped');
      assert.ok(rows.length > 0);
      assert.ok(
        rows.every((x) => x.status === 'failed' || x.status === 'not-started'),
        JSON.stringify(rows.map((x) => x.status)),
      );
    });
  });

  it('a login key without CMD_API_USER_PASSWD stops at the first change with 1 failed login, naming key-scope', async () => {
    await withSim({ users: 10, resellers: 0, blacklistAfter: 10 }, async (sim, out) => {
      const key = 'KeyWithoutPasswd0123456789abcdefghijkl';
      sim.addLoginKey(sim.adminUser, { key, commands: ['CMD_API_LOGIN_TEST', 'CMD_API_SHOW_USERS', 'CMD_API_VERIFY_PASSWORD'] });
      const original = passwords(sim);
      const r = await runCli(['rotate', '--yes', '--json', '--output', join(out, 'r.csv')], { env: { DA_URL: daUrl(sim, sim.adminUser, key) } });
      assert.equal(r.code, 3, r.stderr);
      assert.equal(sim.stats.failedLogins, 1, 'DirectAdmin answers a login page for a command the key does not allow: one failed login, then stop');
      assert.equal(sim.stats.requests['CMD_API_USER_PASSWD'], 1);
      assert.match(r.stderr, /key-scope/);
      assert.ok(!r.stderr.includes(key), 'the key never appears');
      assert.deepEqual(passwords(sim), original);
    });
  });

  it('http:// to a server that speaks only TLS exits 3 saying https', async () => {
    await withSim({ users: 3, resellers: 0, tls: true }, async (sim, out) => {
      const url = daUrl(sim).replace(/^https:/, 'http:');
      const r = await runCli(['plan', '--output', join(out, 'p.csv')], { env: { DA_URL: url } });
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, /https:\/\//);
      assert.match(r.stderr, /TLS/);
      assert.ok(!r.stderr.includes(sim.adminPassword));
    });
  });

  it('a reseller run (no CMD_API_VERIFY_PASSWORD) settles lost answers by resending: "isn\'t different" proves them', async () => {
    await withSim({ users: 30, resellers: 1, suspendedEvery: 0, seed: 4 }, async (sim, out) => {
      const reseller = 'reseller1';
      const own = sim
        .accounts()
        .filter((a) => a.creator === reseller)
        .map((a) => a.username);
      assert.ok(own.length >= 3, `reseller1 owns ${own.length}`);
      const lost = own.slice(0, 3);
      sim.setFaults({ resetAfterApply: { users: lost, limit: 3, commands: ['CMD_API_USER_PASSWD'] } });
      const original = passwords(sim);
      const r = await runCli(['rotate', '--yes', '--json', ...QUICK, '--output', join(out, 'r.csv')], {
        env: { DA_URL: daUrl(sim, reseller, sim.password(reseller)) },
      });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(sim.stats.faultsFired.resetAfterApply, 3);
      const statuses = assertNothingLost(sim, summaryOf(r).report, original);
      assert.deepEqual([...statuses.keys()].sort(), own.slice().sort());
      for (const st of statuses.values()) assert.equal(st, 'rotated');
      // Each lost answer was settled by one resend, refused as "isn't different": 3 extra writes.
      assert.equal(sim.stats.requests['CMD_API_USER_PASSWD'], own.length + 3);
      assert.equal(sim.stats.passwordChangesApplied, own.length);
      const rows = reportCells(summaryOf(r).report);
      for (const u of lost) {
        const row = rows.find((x) => x.username === u)!;
        assert.equal(row.verified, 'yes', `${u}: proved by the refusal`);
        assert.equal(row.attempts, '2', `${u}: the change, then one resend`);
      }
      assert.ok((sim.stats.requests['CMD_API_VERIFY_PASSWORD'] ?? 0) <= 1, 'verification asked at most once, then given up');
    });
  });

  it('rotate after an interrupted run exits 5 (UNFINISHED_RUN) naming its journal; --abandon-previous starts anew and records it', async () => {
    // Outcomes reach the journal in batches (within 200 ms): the run must last well past the first batch to be killed mid-way.
    await withSim({ users: 200, resellers: 0, faults: { latencyMs: 10 } }, async (sim, out) => {
      const env = { DA_URL: daUrl(sim), XDG_STATE_HOME: join(out, 'xdg') };
      const first = join(out, 'first.journal.jsonl');
      const { sent, result } = await runCliAndSignal(
        ['rotate', '--yes', '--concurrency', '2', '--output', join(out, 'first.csv')],
        env,
        () => journalRecordCount(first, 'outcome') >= 3,
        'SIGKILL',
      );
      assert.ok(sent, `ended before the kill: ${result.stderr}`);
      assert.equal(result.signal, 'SIGKILL');
      sim.resetStats();
      const refused = await runCli(['rotate', '--yes', '--json', '--output', join(out, 'second.csv')], { env });
      assert.equal(refused.code, 5, refused.stderr);
      // Its own code, not a typo's (USAGE): a scheduler can tell "resume me" from "fix the command line".
      assert.deepEqual(
        { code: (JSON.parse(refused.stdout) as { code: string }).code, exitCode: (JSON.parse(refused.stdout) as { exitCode: number }).exitCode },
        { code: 'UNFINISHED_RUN', exitCode: 5 },
      );
      assert.ok(refused.stderr.includes(first), refused.stderr);
      assert.match(refused.stderr, /resume/);
      assert.match(refused.stderr, /--abandon-previous/);
      assert.equal(sim.stats.totalRequests, 0, 'refused before any request');
      assert.equal(existsSync(join(out, 'second.csv')), false);
      const anew = await runCli(['rotate', '--yes', '--json', '--abandon-previous', '--output', join(out, 'third.csv')], { env });
      assert.equal(anew.code, 0, anew.stderr);
      const header = JSON.parse(readFileSync(summaryOf(anew).journal!, 'utf8').split('\n')[0]!) as { t: string; supersedes?: string };
      assert.equal(header.t, 'header');
      assert.equal(header.supersedes, first);
      // The last-run record carries how that run ended.
      const stateDir = join(out, 'xdg', 'da-rotate');
      const records = readdirSync(stateDir).filter((f) => f.endsWith('.last-run.json'));
      assert.equal(records.length, 1);
      const record = JSON.parse(readFileSync(join(stateDir, records[0]!), 'utf8')) as {
        journal: string;
        outcome?: { exitCode: number; counts: Record<string, number>; byKind: Record<string, Record<string, number>> };
      };
      assert.equal(record.journal, summaryOf(anew).journal);
      assert.equal(record.outcome?.exitCode, 0);
      assert.equal(record.outcome?.counts.rotated, summaryOf(anew).counts.rotated);
      assert.equal(record.outcome?.byKind.account?.rotated, summaryOf(anew).counts.rotated);
    });
  });

  for (const command of ['plan', 'rotate']) {
    it(`${command} with an existing --output exits 2 before any request`, async () => {
      await withSim({ users: 3, resellers: 0 }, async (sim, out) => {
        const file = join(out, 'taken.csv');
        writeFileSync(file, 'someone else\n', { mode: 0o600 });
        const r = await runCli([command, ...(command === 'rotate' ? ['--yes'] : []), '--output', file], { env: { DA_URL: daUrl(sim) } });
        assert.equal(r.code, 2, r.stderr);
        assert.ok(r.stderr.includes(file), r.stderr);
        assert.match(r.stderr, /exists/);
        assert.equal(sim.stats.totalRequests, 0);
        assert.equal(readFileSync(file, 'utf8'), 'someone else\n');
      });
    });
  }
});
