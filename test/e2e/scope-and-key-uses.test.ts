// What a run covers and what it costs (issue 16): the default scope says what it leaves out, and
// key-scope's count of the requests a run sends matches what the simulator measured. Runs the built CLI.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Simulator } from '../../src/simulator/index.js';
import { daUrl, runCli, summaryOf } from './cli-runner.js';
import { withSim } from './simulator-fixtures.js';
import { readReport } from '../../src/rotation/report-parse.js';

describe('the default scope is not a silent blind spot', { timeout: 60_000 }, () => {
  // 40 users over the admin and 2 resellers: the admin owns 20; admins are admin and admin2.
  const sim40 = { users: 40, resellers: 2 };

  it('plan with the default scope says what it does not count, and --json says counted: false', async () => {
    await withSim(sim40, async (sim, out) => {
      const r = await runCli(['plan', '--json', '--output', join(out, 'p.csv')], { env: { DA_URL: daUrl(sim) } });
      assert.equal(r.code, 0, r.stderr);
      assert.ok(
        r.stderr.includes('scope users: the 20 account(s) admin owns; NOT COUNTED: users of resellers, resellers and admins (--scope users never lists them).'),
        r.stderr,
      );
      assert.ok(r.stderr.includes('--count-all counts them'), r.stderr);
      assert.deepEqual(summaryOf(r).coverage, { scope: 'users', listed: 20, counted: false });
      // It asked nothing an allow-list for --scope users lacks.
      assert.deepEqual(Object.keys(sim.stats.requests).sort(), ['CMD_API_LOGIN_TEST', 'CMD_API_SHOW_USERS']);
    });
  });

  it('--count-all states how many accounts of each type exist and how many the scope leaves out', async () => {
    await withSim(sim40, async (sim, out) => {
      const r = await runCli(['rotate', '--yes', '--count-all', '--json', '--output', join(out, 'r.csv')], { env: { DA_URL: daUrl(sim) } });
      assert.equal(r.code, 0, r.stderr);
      assert.ok(r.stderr.includes('scope users: the 20 account(s) admin owns; the server has 40 user(s), 2 reseller(s), 2 admin(s)'), r.stderr);
      assert.ok(r.stderr.includes('LEFT OUT by --scope users: 20 user(s), 2 reseller(s), 2 admin(s) (--scope all includes them)'), r.stderr);
      assert.deepEqual(summaryOf(r).coverage, {
        scope: 'users',
        listed: 20,
        counted: true,
        server: { user: 40, reseller: 2, admin: 2 },
        leftOut: { user: 20, reseller: 2, admin: 2 },
      });
      assert.equal(sim.stats.passwordChangesApplied, 20);
    });
  });

  it('--scope all counts every type and leaves none out', async () => {
    await withSim(sim40, async (sim, out) => {
      const r = await runCli(['plan', '--scope', 'all', '--json', '--output', join(out, 'p.csv')], { env: { DA_URL: daUrl(sim) } });
      assert.equal(r.code, 0, r.stderr);
      assert.ok(r.stderr.includes('scope all: every account on the server: 40 user(s), 2 reseller(s), 2 admin(s)'), r.stderr);
      assert.deepEqual(summaryOf(r).coverage, {
        scope: 'all',
        listed: 44,
        counted: true,
        server: { user: 40, reseller: 2, admin: 2 },
        leftOut: { user: 0, reseller: 0, admin: 0 },
      });
    });
  });

  it('--only an account outside the scope says which scope reaches it (and whose it is with --count-all)', async () => {
    await withSim(sim40, async (sim, out) => {
      const owner = sim.accounts().find((a) => a.type === 'user' && a.creator === 'reseller1')!.username;
      const plain = await runCli(['rotate', '--yes', '--only', owner, '--output', join(out, 'a.csv')], { env: { DA_URL: daUrl(sim) } });
      assert.equal(plain.code, 2, plain.stderr);
      assert.ok(
        plain.stderr.includes(`not among admin's own users (--scope users): ${owner}; an account of a reseller, a reseller or an admin needs --scope all`),
        plain.stderr,
      );
      const counted = await runCli(['rotate', '--yes', '--count-all', '--only', owner, '--output', join(out, 'b.csv')], { env: { DA_URL: daUrl(sim) } });
      assert.equal(counted.code, 2, counted.stderr);
      assert.ok(counted.stderr.includes(`${owner} (a user of reseller reseller1: --scope all reaches it)`), counted.stderr);
      const reseller = await runCli(['plan', '--count-all', '--only', 'reseller2', '--output', join(out, 'c.csv')], { env: { DA_URL: daUrl(sim) } });
      assert.equal(reseller.code, 2);
      assert.ok(reseller.stderr.includes('reseller2 (a reseller: --scope all reaches it)'), reseller.stderr);
      assert.equal(sim.stats.requests['CMD_API_USER_PASSWD'] ?? 0, 0);
    });
  });

  it('key-scope lists what --count-all asks, and how many uses a run of N accounts needs', async () => {
    const counted = await runCli(['key-scope', '--count-all', '--json']);
    assert.equal(counted.code, 0);
    const scope = JSON.parse(counted.stdout) as { commands: string[] };
    for (const c of ['CMD_API_SHOW_ALL_USERS', 'CMD_API_SHOW_RESELLERS', 'CMD_API_SHOW_ADMINS']) assert.ok(scope.commands.includes(c), c);
    const uses = await runCli(['key-scope', '--accounts', '2005']);
    assert.equal(uses.code, 0);
    assert.ok(uses.stdout.includes('a run of 2005 account(s) needs at least 2007 (2 to connect and list, 1 per account)'), uses.stdout);
    assert.ok(uses.stdout.includes('set "Max uses" to 4023'), uses.stdout);
    const formula = await runCli(['key-scope']);
    assert.equal(formula.code, 0);
    assert.ok(formula.stdout.includes('2 + accounts at least; 2 + 2 x accounts + 11 leaves room'), formula.stdout);
    const all = await runCli(['key-scope', '--scope', 'all', '--accounts', '40']);
    assert.ok(all.stdout.includes('needs at least 46 (6 to connect and list, with 2 reseller(s), 1 per account)'), all.stdout);
    assert.ok(all.stdout.includes('ASSUMED, not counted on any server: 2 resellers (one per 20 accounts)'), all.stdout);
    const bad = await runCli(['key-scope', '--accounts', '-3']);
    assert.equal(bad.code, 2);
    const badExpect = await runCli(['key-scope', '--accounts', '3', '--include', 'email', '--expect', 'ftp=2']);
    assert.equal(badExpect.code, 2);
    assert.ok(
      badExpect.stderr.includes('--expect takes NAME=N pairs separated by commas, NAME one of domains, resellers, email (got "ftp=2")'),
      badExpect.stderr,
    );
    const alone = await runCli(['key-scope', '--expect', 'domains=3']);
    assert.equal(alone.code, 2);
  });

  it('a run of N accounts uses exactly the minimum key-scope states when nothing goes wrong', async () => {
    await withSim({ users: 12, resellers: 0 }, async (sim, out) => {
      const r = await runCli(['rotate', '--yes', '--output', join(out, 'r.csv')], { env: { DA_URL: daUrl(sim) } });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(sim.stats.totalRequests, 2 + 12);
    });
  });
});

/** The accounts a report's run selected (the login's own account is reported skipped). */
function selectedIn(report: string): string[] {
  return [
    ...new Set(
      readReport(report)
        .filter((row) => row.status !== 'skipped')
        .map((row) => row.username),
    ),
  ];
}

/** key-scope's answer for these options (--json). */
async function keyUsesOf(args: string[]): Promise<{ minimum: number; recommended: number; assumed: Array<{ name: string; assumed: boolean }> }> {
  const r = await runCli(['key-scope', '--json', ...args]);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { uses: { minimum: number; recommended: number; assumed: Array<{ name: string; assumed: boolean }> } }).uses;
}

/** What the selected accounts of a report hold on the simulator, as --expect gives it (counted before the run changes anything). */
function heldBy(sim: Simulator, owners: readonly string[], resellers: number): string {
  const sum = (f: (o: string) => number) => owners.reduce((n, o) => n + f(o), 0);
  return [
    `domains=${sum((o) => sim.domains(o).length)}`,
    `resellers=${resellers}`,
    `email=${sum((o) => sim.mailboxes(o).length)}`,
    `ftp=${sum((o) => sim.ftpAccounts(o).length)}`,
    `login-key=${sum((o) => sim.loginKeys(o).length)}`,
    `session=${sum((o) => sim.sessions(o).length)}`,
  ].join(',');
}

describe('key-scope --accounts counts the requests a run sends (measured on the simulator)', { timeout: 120_000 }, () => {
  // Every kind of --include all has something to list and change; 2 resellers own some of the users.
  const layout = { users: 14, resellers: 2, loginKeysPerUser: 2, sessionsPerUser: 2, mailboxesPerDomain: 5, ftpPerDomain: 1 };

  for (const scope of ['users', 'all'] as const) {
    it(`--include all --scope ${scope}: with the server's figures the minimum is exactly what the sweep sent`, async () => {
      await withSim(layout, async (sim, out) => {
        const plan = await runCli(['plan', '--scope', scope, '--output', join(out, 'p.csv')], { env: { DA_URL: daUrl(sim) } });
        assert.equal(plan.code, 0, plan.stderr);
        const owners = selectedIn(join(out, 'p.csv'));
        const expect = heldBy(sim, owners, sim.accounts().filter((a) => a.type === 'reseller').length);
        sim.resetStats();
        const r = await runCli(['rotate', '--yes', '--scope', scope, '--include', 'all', '--output', join(out, 'r.csv')], { env: { DA_URL: daUrl(sim) } });
        assert.equal(r.code, 0, r.stderr);
        const sent = sim.stats.totalRequests;
        const uses = await keyUsesOf(['--scope', scope, '--include', 'all', '--accounts', String(owners.length), '--expect', expect]);
        assert.ok(
          uses.assumed.every((a) => !a.assumed),
          JSON.stringify(uses.assumed),
        );
        assert.equal(uses.minimum, sent, `${JSON.stringify(sim.stats.requests)} for ${expect}`);
        assert.ok(uses.recommended >= sent);
      });
    });
  }

  it('--include all with assumed figures: the recommendation covers a like server, and the minimum is within 2x of what it sent', async () => {
    await withSim(layout, async (sim, out) => {
      const r = await runCli(['rotate', '--yes', '--include', 'all', '--output', join(out, 'r.csv')], { env: { DA_URL: daUrl(sim) } });
      assert.equal(r.code, 0, r.stderr);
      const owners = new Set(selectedIn(join(out, 'r.csv')));
      const sent = sim.stats.totalRequests;
      const uses = await keyUsesOf(['--include', 'all', '--accounts', String(owners.size)]);
      assert.ok(uses.assumed.some((a) => a.assumed));
      assert.ok(uses.recommended >= sent, `recommended ${uses.recommended} < sent ${sent}`);
      assert.ok(uses.minimum <= 2 * sent, `minimum ${uses.minimum} > 2 x sent ${sent}`);
      const text = await runCli(['key-scope', '--include', 'all', '--accounts', String(owners.size)]);
      assert.match(text.stdout, /ASSUMED, not counted on any server: \d+ domains \(2 per account\), /);
      assert.match(text.stdout, /give the real figures: --expect domains=N,login-key=N,session=N,email=N,ftp=N /);
    });
  });

  it('--include all on a server that fails: retries and proofs stay within the recommendation', async () => {
    const faults = { error500: { rate: 0.08, commands: ['*'] }, resetAfterApply: { rate: 0.05 } };
    await withSim(layout, async (sim, out) => {
      // The plan only names the accounts: run before the faults, it cannot fail on them (a plan has no --retries).
      const plan = await runCli(['plan', '--output', join(out, 'p.csv')], { env: { DA_URL: daUrl(sim) } });
      assert.equal(plan.code, 0, plan.stderr);
      const owners = selectedIn(join(out, 'p.csv'));
      const expect = heldBy(sim, owners, 0);
      sim.setFaults(faults);
      sim.resetStats();
      const r = await runCli(['rotate', '--yes', '--include', 'all', '--retry-delay', '1', '--output', join(out, 'r.csv')], { env: { DA_URL: daUrl(sim) } });
      assert.ok(r.code === 0 || r.code === 1, r.stderr);
      const sent = sim.stats.totalRequests;
      const uses = await keyUsesOf(['--include', 'all', '--accounts', String(owners.length), '--expect', expect]);
      assert.ok(sent > uses.minimum, `the faults cost requests: sent ${sent}, minimum ${uses.minimum}`);
      assert.ok(uses.recommended >= sent, `recommended ${uses.recommended} < sent ${sent} (${JSON.stringify(sim.stats.faultsFired)})`);
    });
  });

  it('--include db-user (opt-in, not in all): the minimum is exactly what the run sent', async () => {
    await withSim({ users: 8, resellers: 0, dbUsersPerUser: 3 }, async (sim, out) => {
      const r = await runCli(['rotate', '--yes', '--include', 'account,db-user', '--output', join(out, 'r.csv')], { env: { DA_URL: daUrl(sim) } });
      assert.equal(r.code, 0, r.stderr);
      const owners = selectedIn(join(out, 'r.csv'));
      const held = owners.reduce((n, o) => n + sim.dbUsers(o).length, 0);
      const uses = await keyUsesOf(['--include', 'account,db-user', '--accounts', String(owners.length), '--expect', `db-user=${held}`]);
      assert.equal(uses.minimum, sim.stats.totalRequests, JSON.stringify(sim.stats.requests));
    });
  });

  it('account passwords only (the default), both scopes: the minimum is exactly what the run sent', async () => {
    for (const scope of ['users', 'all'] as const) {
      await withSim({ users: 12, resellers: 2 }, async (sim, out) => {
        const r = await runCli(['rotate', '--yes', '--scope', scope, '--output', join(out, 'r.csv')], { env: { DA_URL: daUrl(sim) } });
        assert.equal(r.code, 0, r.stderr);
        const accounts = selectedIn(join(out, 'r.csv')).length;
        const uses = await keyUsesOf(['--scope', scope, '--accounts', String(accounts), ...(scope === 'all' ? ['--expect', 'resellers=2'] : [])]);
        assert.equal(uses.minimum, sim.stats.totalRequests, scope);
        assert.ok(uses.recommended >= sim.stats.totalRequests);
      });
    }
  });
});
