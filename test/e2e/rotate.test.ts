import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Simulator } from '../../src/simulator/index.js';
import { readReport } from '../../src/rotation/report-parse.js';
import { daUrl, runCli, summaryOf } from './cli-runner.js';
import { snapshot, withSim } from './simulator-fixtures.js';

/** Every rotated row equals the live password; every other account kept its old one. */
function assertReportMatches(sim: Simulator, report: string, before: Map<string, string>): { rotated: string[] } {
  const rows = readReport(report);
  const rotated = rows.filter((r) => r.status === 'rotated');
  for (const r of rotated) {
    assert.equal(sim.password(r.username), r.password, `live password of ${r.username}`);
    assert.notEqual(r.password, before.get(r.username));
    assert.match(r.password, /^[A-Za-z0-9]{22}$/);
  }
  const touched = new Set(rotated.map((r) => r.username));
  for (const [name, old] of before) if (!touched.has(name)) assert.equal(sim.password(name), old, `${name} must be untouched`);
  return { rotated: rotated.map((r) => r.username) };
}

describe('rotate end to end', { timeout: 120_000 }, () => {
  it('rotates every selected account (JSON answers), skips the admin and excluded ones', async () => {
    await withSim({ users: 60, resellers: 2, seed: 7 }, async (sim, out) => {
      const before = snapshot(sim);
      const own = sim
        .accounts()
        .filter((a) => a.creator === sim.adminUser && a.type === 'user')
        .map((a) => a.username)
        .sort();
      const excluded = own[0]!;
      const r = await runCli(['rotate', '--yes', '--json', '--exclude', excluded, '--output', join(out, 'r.csv'), '--concurrency', '8'], {
        env: { DA_URL: daUrl(sim) },
      });
      assert.equal(r.code, 0, r.stderr);
      const s = summaryOf(r);
      // Seed 7 gives the admin 23 users of its own; one is excluded.
      assert.equal(own.length, 23);
      assert.equal(s.counts.rotated, 22);
      assert.equal(s.counts.failed + s.counts.unknown, 0);
      const { rotated } = assertReportMatches(sim, s.report, before);
      assert.deepEqual(
        rotated.sort(),
        own.filter((u) => u !== excluded),
      );
      assert.equal(sim.password(sim.adminUser), before.get(sim.adminUser));
      assert.equal(statSync(s.report).mode & 0o777, 0o600);
      assert.equal(statSync(s.journal!).mode & 0o777, 0o600);
      const rows = readReport(s.report);
      assert.equal(rows.find((x) => x.username === excluded)?.status, 'skipped');
      assert.match(r.stderr, /rotated \d+, failed 0, unknown 0/);
      assert.equal(sim.stats.failedLogins, 0);
    });
  });

  it('works with url-encoded answers in every quirk (plain brackets, entities)', async () => {
    await withSim({ users: 30, resellers: 1, format: { bracketStyle: 'plain', entities: true } }, async (sim, out) => {
      const before = snapshot(sim);
      const r = await runCli(['rotate', '--yes', '--json', '--format', 'urlencoded', '--output', join(out, 'r.csv')], { env: { DA_URL: daUrl(sim) } });
      assert.equal(r.code, 0, r.stderr);
      const s = summaryOf(r);
      assert.equal(s.counts.rotated, 16, "the admin's own 16 users (of 30; the rest belong to the reseller)");
      assertReportMatches(sim, s.report, before);
    });
  });

  it('rotates every account on the server with --scope all, except the one it runs as', async () => {
    await withSim({ users: 40, resellers: 3, extraAdmins: 1, format: { listStyle: 'object' } }, async (sim, out) => {
      const before = snapshot(sim);
      const r = await runCli(['rotate', '--yes', '--json', '--scope', 'all', '--output', join(out, 'r.csv')], { env: { DA_URL: daUrl(sim) } });
      assert.equal(r.code, 0, r.stderr);
      const { rotated } = assertReportMatches(sim, summaryOf(r).report, before);
      // 40 users, 3 resellers, 1 extra admin: all 44 but the admin who runs it.
      assert.equal(rotated.length, 44);
      const expected = sim
        .accounts()
        .map((a) => a.username)
        .filter((u) => u !== sim.adminUser)
        .sort();
      assert.deepEqual(rotated.sort(), expected);
    });
  });

  it('talks HTTPS to a self-signed server only with the pinned fingerprint', async () => {
    await withSim({ users: 10, resellers: 0, tls: true }, async (sim, out) => {
      const before = snapshot(sim);
      const refused = await runCli(['rotate', '--yes', '--output', join(out, 'a.csv')], { env: { DA_URL: daUrl(sim) } });
      assert.equal(refused.code, 3, refused.stderr);
      assert.ok(refused.stderr.includes(sim.fingerprint256!), 'shows the fingerprint to pin');
      assert.match(refused.stderr, /--fingerprint/);
      assert.equal(sim.stats.totalRequests, 0, 'nothing sent over an unverified connection');
      const ok = await runCli(['rotate', '--yes', '--json', '--fingerprint', sim.fingerprint256!, '--output', join(out, 'b.csv')], {
        env: { DA_URL: daUrl(sim) },
      });
      assert.equal(ok.code, 0, ok.stderr);
      assertReportMatches(sim, summaryOf(ok).report, before);
    });
  });

  it('plan changes nothing and writes no passwords', async () => {
    await withSim({ users: 25, resellers: 1 }, async (sim, out) => {
      const before = snapshot(sim);
      const r = await runCli(['plan', '--json', '--scope', 'all', '--output', join(out, 'plan.csv')], { env: { DA_URL: daUrl(sim) } });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(sim.stats.requests['CMD_API_USER_PASSWD'] ?? 0, 0);
      assert.equal(sim.stats.requests['CMD_API_VERIFY_PASSWORD'] ?? 0, 0);
      const rows = readReport(summaryOf(r).report);
      // 25 users, 1 reseller and the second admin (admin2); the admin who runs it is skipped.
      assert.equal(rows.filter((x) => x.status === 'planned').length, 27);
      assert.ok(rows.every((x) => x.password === ''));
      assert.deepEqual(snapshot(sim), before);
    });
  });

  it('a wrong admin secret ends with exit 3 after a single failed login', async () => {
    for (const authFailure of ['login-page', '401'] as const) {
      await withSim({ users: 10, resellers: 0, authFailure }, async (sim, out) => {
        const r = await runCli(['rotate', '--yes', '--output', join(out, 'r.csv')], { env: { DA_URL: daUrl(sim, sim.adminUser, 'WrongSecret123') } });
        assert.equal(r.code, 3, r.stderr);
        assert.match(r.stderr, /authentication failed/);
        assert.equal(sim.stats.failedLogins, 1);
        assert.equal(sim.stats.totalRequests, 1);
        assert.ok(!r.stderr.includes('WrongSecret123'));
      });
    }
  });

  it('settles every account correctly through empty answers, resets after apply and 500s', async () => {
    await withSim(
      {
        users: 120,
        resellers: 0,
        faults: { emptyAfterApply: { rate: 0.25 }, resetAfterApply: { rate: 0.15 }, resetBeforeApply: { rate: 0.1 }, error500: { rate: 0.15 } },
      },
      async (sim, out) => {
        const before = snapshot(sim);
        const r = await runCli(['rotate', '--yes', '--json', '--retry-delay', '0.01', '--retries', '8', '--output', join(out, 'r.csv')], {
          env: { DA_URL: daUrl(sim) },
        });
        const s = summaryOf(r);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(s.counts.rotated, 120);
        assertReportMatches(sim, s.report, before);
        assert.ok((sim.stats.requests['CMD_API_VERIFY_PASSWORD'] ?? 0) > 0, 'unknown outcomes were verified');
      },
    );
  });

  it('a failed run with --json prints { error, code, exitCode } with a stable code', async () => {
    await withSim({ users: 3, resellers: 0 }, async (sim, out) => {
      const wrong = await runCli(['rotate', '--yes', '--json', '--output', join(out, 'a.csv')], {
        env: { DA_URL: daUrl(sim, sim.adminUser, 'WrongSecret123') },
      });
      assert.equal(wrong.code, 3, wrong.stderr);
      const auth = JSON.parse(wrong.stdout) as Record<string, unknown>;
      assert.deepEqual([auth.code, auth.exitCode], ['DA_AUTH_FAILED', 3]);
      assert.match(String(auth.error), /authentication failed/);
      assert.ok(!wrong.stdout.includes('WrongSecret123'));
      const flag = await runCli(['rotate', '--yes', '--json', '--bogus-flag'], { env: { DA_URL: daUrl(sim) } });
      assert.equal(flag.code, 2, flag.stderr);
      assert.deepEqual(JSON.parse(flag.stdout), { error: 'Unknown arguments: bogus-flag, bogusFlag', code: 'USAGE', exitCode: 2 });
      const ghost = await runCli(['rotate', '--yes', '--json', '--only', 'ghost', '--output', join(out, 'b.csv')], { env: { DA_URL: daUrl(sim) } });
      assert.equal(ghost.code, 2, ghost.stderr);
      assert.deepEqual((JSON.parse(ghost.stdout) as Record<string, unknown>).code, 'USAGE');
      assert.equal(sim.stats.requests['CMD_API_USER_PASSWD'] ?? 0, 0);
    });
  });

  it('requires --yes when not on a terminal, and changes nothing without it', async () => {
    await withSim({ users: 5, resellers: 0 }, async (sim, out) => {
      const before = snapshot(sim);
      const r = await runCli(['rotate', '--output', join(out, 'r.csv')], { env: { DA_URL: daUrl(sim) } });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /--yes/);
      assert.deepEqual(snapshot(sim), before);
    });
  });

  it('refuses --only names the server does not have, with exit 2', async () => {
    await withSim({ users: 5, resellers: 0 }, async (sim, out) => {
      const r = await runCli(['rotate', '--yes', '--only', 'ghost', '--output', join(out, 'r.csv')], { env: { DA_URL: daUrl(sim) } });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /ghost/);
      assert.equal(sim.stats.requests['CMD_API_USER_PASSWD'] ?? 0, 0);
    });
  });

  it('gives the same password to all with --same-password from stdin', async () => {
    await withSim({ users: 8, resellers: 0 }, async (sim, out) => {
      const r = await runCli(['rotate', '--yes', '--json', '--same-password', '--output', join(out, 'r.csv')], {
        env: { DA_URL: daUrl(sim) },
        input: 'Temporary2026Pass\n',
      });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /same password/);
      const rows = readReport(summaryOf(r).report).filter((x) => x.status === 'rotated');
      assert.equal(rows.length, 8);
      for (const row of rows) assert.equal(sim.password(row.username), 'Temporary2026Pass');
    });
  });

  it('--users-file narrows the selection (comments and blank lines allowed)', async () => {
    await withSim({ users: 20, resellers: 0 }, async (sim, out) => {
      const before = snapshot(sim);
      const file = join(out, 'users.txt');
      writeFileSync(file, '# incident 42\nuser00003\n\nuser00007  # the one that leaked\n');
      const r = await runCli(['rotate', '--yes', '--json', '--users-file', file, '--output', join(out, 'r.csv')], { env: { DA_URL: daUrl(sim) } });
      assert.equal(r.code, 0, r.stderr);
      const { rotated } = assertReportMatches(sim, summaryOf(r).report, before);
      assert.deepEqual(rotated.sort(), ['user00003', 'user00007']);
    });
  });

  it('a difficult-password policy costs one refused change, names --symbols, and resume --symbols finishes', async () => {
    await withSim({ users: 6, resellers: 0, passwordPolicy: { difficult: true } }, async (sim, out) => {
      const before = snapshot(sim);
      const plain = await runCli(['rotate', '--yes', '--json', '--output', join(out, 'a.csv')], { env: { DA_URL: daUrl(sim) } });
      assert.equal(plain.code, 3, plain.stderr);
      assert.match(plain.stderr, /--symbols/);
      assert.equal(sim.stats.requests['CMD_API_USER_PASSWD'], 1, 'the canary alone was sent');
      const rows = readReport(summaryOf(plain).report).filter((x) => x.status !== 'skipped');
      assert.deepEqual(rows.map((x) => x.status).sort(), ['failed', 'not-started', 'not-started', 'not-started', 'not-started', 'not-started']);
      assert.ok(rows.every((x) => x.password === ''));
      assert.deepEqual(snapshot(sim), before, 'a refused change changes nothing');
      const journal = String(summaryOf(plain).journal);
      const resumed = await runCli(['resume', journal, '--yes', '--json', '--symbols', '--length', '16'], { env: { DA_URL: daUrl(sim) } });
      assert.equal(resumed.code, 0, resumed.stderr);
      const after = readReport(summaryOf(resumed).report).filter((x) => x.status !== 'skipped');
      assert.equal(after.length, 6);
      for (const row of after) {
        assert.equal(row.status, 'rotated');
        assert.equal(sim.password(row.username), row.password);
        assert.match(row.password, /^[A-Za-z0-9][A-Za-z0-9!@#%^*\-_.]{15}$/);
        assert.match(row.password, /[!@#%^*\-_.]/);
      }
    });
  });

  it('--max-failures stops a run that keeps failing, and says why', async () => {
    await withSim({ users: 60, resellers: 0, faults: { error500: { rate: 1 } } }, async (sim, out) => {
      const r = await runCli(['rotate', '--yes', '--json', '--retries', '0', '--max-failures', '3', '--concurrency', '1', '--output', join(out, 'r.csv')], {
        env: { DA_URL: daUrl(sim) },
      });
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, /--max-failures/);
      assert.equal(sim.stats.requests['CMD_API_USER_PASSWD'], 3);
      const s = summaryOf(r);
      assert.equal(s.counts.unknown, 3, 'a 500 may hide an applied change: unknown, not failed');
      assert.equal(s.counts['not-started'], 57);
    });
  });

  it('key-scope prints the smallest allow-list', async () => {
    const r = await runCli(['key-scope', '--scope', 'all']);
    assert.equal(r.code, 0, r.stderr);
    for (const c of [
      'CMD_API_LOGIN_TEST',
      'CMD_API_SHOW_USERS',
      'CMD_API_SHOW_ALL_USERS',
      'CMD_API_SHOW_RESELLERS',
      'CMD_API_SHOW_ADMINS',
      'CMD_API_USER_PASSWD',
      'CMD_API_VERIFY_PASSWORD',
    ]) {
      assert.ok(r.stdout.includes(c), c);
    }
    const users = await runCli(['key-scope', '--json']);
    assert.equal(users.code, 0, users.stderr);
    const scope = JSON.parse(users.stdout) as { commands: string[] };
    assert.ok(!scope.commands.includes('CMD_API_SHOW_ALL_USERS'));
    assert.ok(!scope.commands.some((c) => /LOGIN_KEYS|ALL_USER$/.test(c)));
  });

  it('documents every exit code in --help', async () => {
    const r = await runCli(['--help']);
    assert.equal(r.code, 0, r.stderr);
    // Each code with its meaning (the bare digits appear in any help text).
    const help = r.stdout.replace(/\s+/g, ' ');
    for (const documented of [
      /\b0 all done\b/,
      /\b1 some failed or unknown\b/,
      /\b2 usage error\b/,
      /\b3 aborted\b/,
      /\b4 internal error\b/,
      /\b5 previous run unfinished\b/,
      /\b130 interrupted\b/,
    ]) {
      assert.match(help, documented);
    }
    // rotate is the command that refuses over an unfinished run: its own help says so.
    const rotate = await runCli(['rotate', '--help']);
    assert.match(rotate.stdout.replace(/\s+/g, ' '), /\b5 the previous run of this server is unfinished\b/);
  });
});
