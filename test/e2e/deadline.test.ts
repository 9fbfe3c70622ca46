/**
 * Issue 18, end to end: every request and every stop bounded in time against the simulator's
 * trickle mode (slow answers, answers stalled after their headers), --deadline, and the two minor
 * items (control characters in the report, a server URL path never rewritten).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Simulator } from '../../src/simulator/index.js';
import { readReport } from '../../src/rotation/report-parse.js';
import { daUrl, resumeArgsFrom, runCli, runCliAndSignal, summaryOf } from './cli-runner.js';
import { journalRecordCount, reportCells, withSim } from './simulator-fixtures.js';

const passwords = (sim: Simulator) => new Map(sim.accounts().map((a) => [a.username, a.password]));

/** Every account whose live password changed has it in its report row; every row marked rotated is live. */
function assertNothingLost(sim: Simulator, report: string, original: Map<string, string>): Map<string, { status: string; password: string }> {
  const rows = new Map(
    readReport(report)
      .filter((r) => r.kind === 'account' && r.status !== 'skipped')
      .map((r) => [r.username, r]),
  );
  for (const [name, old] of original) {
    const live = sim.password(name);
    const row = rows.get(name);
    if (live !== old) {
      assert.ok(row, `${name}: changed but in no report row`);
      assert.ok(row.status === 'rotated' || row.status === 'unknown', `${name}: live password changed, row ${row.status}`);
      assert.equal(row.password, live, `${name}: live password not in the report`);
    } else if (row) assert.notEqual(row.status, 'rotated', `${name}: reported rotated but untouched`);
  }
  return new Map([...rows].map(([u, r]) => [u, { status: r.status, password: r.password }]));
}

const user = (i: number) => `user${String(i).padStart(5, '0')}`;

describe('deadlines (issue 18)', { timeout: 60_000, concurrency: 3 }, () => {
  it('plan --timeout 3 against a trickling CMD_API_LOGIN_TEST ends with exit 3 naming the command and the host', async () => {
    await withSim({ users: 3, resellers: 0, faults: { trickle: { rate: 1, commands: ['CMD_API_LOGIN_TEST'] } } }, async (sim, out) => {
      // A read that used its whole --timeout is not asked again: the run ends after one deadline, not four.
      const r = await runCli(['plan', '--timeout', '3', '--output', join(out, 'p.csv')], { env: { DA_URL: daUrl(sim) } });
      assert.equal(r.code, 3, r.stderr);
      const host = new URL(sim.url).host;
      const line = r.stderr.split('\n').find((l) => l.includes('CMD_API_LOGIN_TEST'));
      assert.ok(line, r.stderr);
      assert.ok(line.includes(host), line);
      assert.match(line, /--timeout/);
      assert.equal(sim.stats.faultsFired.trickle, 1);
      assert.equal(sim.stats.requests['CMD_API_LOGIN_TEST'], 1);
    });
  });

  it('one trickling password change: every other account finishes, that one is unknown with its password', async () => {
    await withSim({ users: 8, resellers: 0, suspendedEvery: 0 }, async (sim, out) => {
      const slow = user(4);
      // Its change applies, then every answer about it (the change, the verification) comes one byte a second.
      sim.setFaults({ trickle: { users: [slow], commands: ['*'] } });
      const original = passwords(sim);
      const r = await runCli(['rotate', '--yes', '--json', '--timeout', '2', '--retries', '0', '--output', join(out, 'r.csv')], {
        env: { DA_URL: daUrl(sim) },
      });
      assert.equal(r.code, 1, r.stderr);
      const rows = assertNothingLost(sim, summaryOf(r).report, original);
      assert.equal(rows.size, 8);
      for (const [u, row] of rows) assert.equal(row.status, u === slow ? 'unknown' : 'rotated', u);
      assert.notEqual(sim.password(slow), original.get(slow), 'the trickled change applied');
      assert.equal(rows.get(slow)!.password, sim.password(slow));
      assert.deepEqual(summaryOf(r).unknownCredentials, [`account:${slow}:${slow}`]);
    });
  });

  it('SIGTERM to a run stuck on a stalled request ends it (exit 130) with the resume line; resume finishes, losing nothing', async () => {
    await withSim({ users: 10, resellers: 0, suspendedEvery: 0 }, async (sim, out) => {
      const stuck = user(10);
      sim.setFaults({ trickle: { users: [stuck], stallAfterHeaders: true } });
      const original = passwords(sim);
      const env = { DA_URL: daUrl(sim) };
      const journal = join(out, 's.journal.jsonl');
      // 9 outcomes journaled: only the stalled change is left in flight.
      const { sent, result } = await runCliAndSignal(
        ['rotate', '--log-format', 'text', '--yes', '--timeout', '8', '--concurrency', '2', '--output', join(out, 's.csv')],
        env,
        () => journalRecordCount(journal, 'outcome') >= 9,
        'SIGTERM',
      );
      assert.ok(sent, `ended before SIGTERM: ${result.stderr}`);
      assert.equal(result.code, 130, result.stderr);
      assert.equal(sim.stats.faultsFired.trickle, 1);
      const args = resumeArgsFrom(result.stderr);
      assert.ok(args, result.stderr);
      assert.ok(!args.join(' ').includes(sim.adminPassword));
      assertNothingLost(sim, join(out, 's.csv'), original);
      sim.setFaults({});
      const resumed = await runCli([...args, '--json'], { env });
      assert.equal(resumed.code, 0, resumed.stderr);
      const rows = assertNothingLost(sim, join(out, 's.csv'), original);
      assert.equal(rows.size, 10);
      for (const [u, row] of rows) assert.equal(row.status, 'rotated', u);
    });
  });

  it('--deadline 2s stops a slow run like an interrupt: exit 3, the resume line, and resume finishes', async () => {
    await withSim({ users: 40, resellers: 0, suspendedEvery: 0, faults: { latencyMs: 150 } }, async (sim, out) => {
      const original = passwords(sim);
      const env = { DA_URL: daUrl(sim) };
      const r = await runCli(['rotate', '--log-format', 'text', '--yes', '--json', '--deadline', '2s', '--concurrency', '1', '--output', join(out, 'd.csv')], {
        env,
      });
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, /--deadline of 2\.0 s was reached/);
      const s = summaryOf(r);
      assert.ok(s.counts['not-started'] > 0, 'stopped before the end');
      const args = resumeArgsFrom(r.stderr);
      assert.ok(args, r.stderr);
      assertNothingLost(sim, s.report, original);
      sim.setFaults({});
      const resumed = await runCli([...args, '--json'], { env });
      assert.equal(resumed.code, 0, resumed.stderr);
      const rows = assertNothingLost(sim, s.report, original);
      assert.equal(rows.size, 40);
      for (const [u, row] of rows) assert.equal(row.status, 'rotated', u);
    });
  });

  it('control characters in names are written as \\xNN in the report', async () => {
    const names = ['tab\there', 'cr\rhere', 'del\u007fhere', 'esc\u001b[31mred'];
    await withSim({ users: 2, resellers: 0, extraAccounts: names.map((username) => ({ username })) }, async (sim, out) => {
      const r = await runCli(['plan', '--json', '--scope', 'all', '--output', join(out, 'p.csv')], { env: { DA_URL: daUrl(sim) } });
      assert.equal(r.code, 0, r.stderr);
      const text = readFileSync(summaryOf(r).report, 'utf8');
      assert.ok(!/[\u0000-\u0009\u000b-\u001f\u007f]/.test(text), 'no raw control character in the file');
      const written = reportCells(summaryOf(r).report).map((x) => x.username);
      for (const w of ['tab\\x09here', 'cr\\x0dhere', 'del\\x7fhere', 'esc\\x1b[31mred']) assert.ok(written.includes(w), `${w} in ${JSON.stringify(written)}`);
    });
  });

  it('a server URL path with ".." is refused before any request, never rewritten', async () => {
    await withSim({ users: 2, resellers: 0 }, async (sim, out) => {
      for (const path of ['/../x', '/a/./b', '/%2e%2e/x']) {
        const r = await runCli(['plan', '--server', `${sim.url}${path}`, '--user', sim.adminUser, '--output', join(out, `p${path.length}.csv`)], {
          env: { DA_PASSWORD: sim.adminPassword },
        });
        assert.equal(r.code, 2, `${path}: ${r.stderr}`);
        assert.match(r.stderr, /path/);
        assert.ok(!r.stderr.includes(sim.adminPassword));
      }
      assert.equal(sim.stats.totalRequests, 0);
      // A plain prefix is kept exactly: the request goes to /da/CMD_API_LOGIN_TEST, which this server does not serve.
      const kept = await runCli(['plan', '--server', `${sim.url}/da`, '--user', sim.adminUser, '--output', join(out, 'kept.csv')], {
        env: { DA_PASSWORD: sim.adminPassword },
      });
      assert.equal(kept.code, 3, kept.stderr);
      assert.deepEqual(Object.keys(sim.stats.requests), ['da/CMD_API_LOGIN_TEST']);
    });
  });
});
