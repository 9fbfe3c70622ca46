/**
 * Issue 26, end to end: what a real DirectAdmin does where our simulator used to be kinder, each
 * made producible by a simulator switch and both sides tested. A login key missing a command, a
 * 403 for it, JSON mode's "Not logged in", a suspended account's answer, a server without the
 * JSON API, another FTP separator, and key-scope in DirectAdmin's names.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readReport } from '../../src/rotation/report-parse.js';
import type { Simulator } from '../../src/simulator/index.js';
import { daUrl, runCli, summaryOf } from './cli-runner.js';
import { withSim } from './simulator-fixtures.js';

const KEY = 'RestrictedKey0123456789abcdefghijklmnop';
/** Everything `--include account,email,ftp` needs but CMD_API_POP. */
const WITHOUT_POP = [
  'CMD_API_LOGIN_TEST',
  'CMD_API_SHOW_USERS',
  'CMD_API_USER_PASSWD',
  'CMD_API_VERIFY_PASSWORD',
  'CMD_API_SHOW_USER_DOMAINS',
  'CMD_API_FTP',
  'CMD_API_FTP_SHOW',
];

interface StoppedKind {
  kind: string;
  reason: string;
  missing?: string;
  accounts: number;
}

const stoppedOf = (r: Awaited<ReturnType<typeof runCli>>) => (summaryOf(r).stoppedKinds ?? []) as StoppedKind[];

describe('a login key missing one command (issue 26)', { timeout: 120_000 }, () => {
  it('costs at most one failed login at any concurrency, and the next plan still gets in on a server blacklisting after 3', async () => {
    await withSim({ users: 40, resellers: 0, extraAdmins: 0, mailboxesPerDomain: 2, blacklistAfter: 3 }, async (sim, out) => {
      sim.addLoginKey(sim.adminUser, { key: KEY, commands: WITHOUT_POP });
      const env = { DA_URL: daUrl(sim, sim.adminUser, KEY) };
      for (const c of ['1', '8', '16', 'auto']) {
        sim.resetStats();
        const r = await runCli(['plan', '--json', '--include', 'email', '--concurrency', c, '--output', join(out, `email-${c}.csv`)], { env });
        // The classic answer to a command a key lacks is the login page: fatal for the server.
        assert.equal(r.code, 3, `c=${c}: ${r.stderr}`);
        assert.ok(sim.stats.failedLogins <= 1, `c=${c}: ${sim.stats.failedLogins} failed logins`);
        assert.equal(sim.stats.requests['CMD_API_POP'], 1, `c=${c}: one CMD_API_POP request, alone`);
        const next = await runCli(['plan', '--json', '--concurrency', c, '--output', join(out, `plain-${c}.csv`)], { env });
        assert.equal(next.code, 0, `c=${c}: the next plan gets in: ${next.stderr}`);
        sim.unblacklist();
      }
    });
  });

  for (const style of ['403', 'refusal'] as const) {
    it(`answered ${style === '403' ? 'HTTP 403' : '"You cannot execute that command"'}: that kind stops at once naming the line to add, the rest of the run finishes, no failed login`, async () => {
      await withSim(
        { users: 12, resellers: 0, extraAdmins: 0, suspendedEvery: 0, mailboxesPerDomain: 2, ftpPerDomain: 1, keyRefusal: style },
        async (sim, out) => {
          sim.addLoginKey(sim.adminUser, { key: KEY, commands: WITHOUT_POP });
          const before = new Map(sim.accounts().map((a) => [a.username, sim.mailboxes(a.username).map((m) => m.password)]));
          const r = await runCli(['rotate', '--yes', '--json', '--include', 'account,email,ftp', '--concurrency', '8', '--output', join(out, 'r.csv')], {
            env: { DA_URL: daUrl(sim, sim.adminUser, KEY) },
          });
          assert.equal(r.code, 1, r.stderr);
          assert.equal(sim.stats.failedLogins, 0);
          assert.equal(sim.stats.requests['CMD_API_POP'], 1, 'the first refusal stops the kind: no other CMD_API_POP is sent');
          const s = summaryOf(r);
          assert.deepEqual(
            stoppedOf(r).map((k) => [k.kind, k.reason, k.missing]),
            [['email', 'permission', 'CMD_API_POP']],
          );
          assert.match(r.stderr, /email: stopped, not allowed .* add `CMD_API_POP` to the login key's allowed commands/);
          const rows = readReport(s.report);
          const email = rows.filter((x) => x.kind === 'email');
          assert.ok(
            email.length > 0 && email.every((x) => x.status === 'failed' && /Add the line `CMD_API_POP`/.test(x.error ?? '')),
            JSON.stringify(email[0]),
          );
          // The rest: every account password and every extra FTP account rotated, live.
          for (const x of rows.filter((x) => x.kind === 'account')) {
            assert.equal(x.status, 'rotated', `${x.username}: ${x.error ?? ''}`);
            assert.equal(sim.password(x.username), x.password);
          }
          const ftp = rows.filter((x) => x.kind === 'ftp');
          assert.ok(ftp.length >= 12);
          for (const x of ftp) assert.equal(sim.ftpAccounts(x.username).find((f) => f.fulluser === x.credential)?.password, x.password);
          for (const [u, pws] of before)
            assert.deepEqual(
              sim.mailboxes(u).map((m) => m.password),
              pws,
              `${u}: mailboxes untouched`,
            );
        },
      );
    });
  }

  it('refused at the first change (403 on CMD_API_USER_PASSWD): that kind stops there, its other changes are not sent and left to a resume, the other kinds finish', async () => {
    await withSim({ users: 10, resellers: 0, extraAdmins: 0, suspendedEvery: 0, mailboxesPerDomain: 1, keyRefusal: '403' }, async (sim, out) => {
      sim.addLoginKey(sim.adminUser, {
        key: KEY,
        commands: ['CMD_API_LOGIN_TEST', 'CMD_API_SHOW_USERS', 'CMD_API_VERIFY_PASSWORD', 'CMD_API_SHOW_USER_DOMAINS', 'CMD_API_POP'],
      });
      const before = new Map(sim.accounts().map((a) => [a.username, a.password]));
      const r = await runCli(['rotate', '--yes', '--json', '--include', 'account,email', '--concurrency', '16', '--output', join(out, 'r.csv')], {
        env: { DA_URL: daUrl(sim, sim.adminUser, KEY) },
      });
      assert.equal(r.code, 1, r.stderr);
      assert.equal(sim.stats.failedLogins, 0);
      assert.equal(sim.stats.requests['CMD_API_USER_PASSWD'], 1, 'the canary alone, then nothing more of that kind');
      assert.deepEqual(
        stoppedOf(r).map((k) => [k.kind, k.missing, k.accounts]),
        [['account', 'CMD_API_USER_PASSWD', 10]],
      );
      const s = summaryOf(r);
      assert.ok(typeof s.resumeCommand === 'string', 'a resume finishes them once the key allows it');
      const rows = readReport(s.report);
      const accounts = rows.filter((x) => x.kind === 'account');
      assert.equal(accounts.filter((x) => x.status === 'failed').length, 1);
      assert.ok(
        accounts
          .filter((x) => x.status !== 'failed')
          .every((x) => x.status === 'not-started' && /does not allow CMD_API_USER_PASSWD: add it, then resume/.test(x.error ?? '')),
      );
      for (const [u, pw] of before) assert.equal(sim.password(u), pw, `${u}: unchanged`);
      const mail = rows.filter((x) => x.kind === 'email');
      assert.ok(mail.length >= 10 && mail.every((x) => x.status === 'rotated' && sim.mailboxPassword(x.credential) === x.password));

      // With a key that allows it, the resume sends what was held back.
      const full = 'FullKey0123456789abcdefghijklmnopq';
      sim.addLoginKey(sim.adminUser, { key: full });
      const resumed = await runCli(['resume', '--yes', '--json', s.journal!], { env: { DA_URL: daUrl(sim, sim.adminUser, full) } });
      const after = readReport(summaryOf(resumed).report).filter((x) => x.kind === 'account' && x.status === 'rotated');
      assert.ok(after.length >= 9, `${after.length} rotated by the resume: ${resumed.stderr}`);
      for (const x of after) assert.equal(sim.password(x.username), x.password);
    });
  });

  it('a JSON API feature missing from the key (403 ACCESS_DENIED) stops that kind only; with the login-page style it stays fatal after one failed login', async () => {
    await withSim({ users: 6, resellers: 0, extraAdmins: 0, suspendedEvery: 0, sessionsPerUser: 2, keyRefusal: '403' }, async (sim, out) => {
      sim.addLoginKey(sim.adminUser, { key: KEY, commands: ['CMD_API_LOGIN_TEST', 'CMD_API_SHOW_USERS', 'CMD_API_USER_PASSWD', 'CMD_API_VERIFY_PASSWORD'] });
      const env = { DA_URL: daUrl(sim, sim.adminUser, KEY) };
      const r = await runCli(['plan', '--json', '--include', 'account,session', '--output', join(out, 'p.csv')], { env });
      assert.equal(r.code, 1, r.stderr);
      assert.deepEqual(
        stoppedOf(r).map((k) => [k.kind, k.missing]),
        [['session', 'sessions']],
      );
      assert.equal(sim.stats.requests['/api/sessions'], 1);
      assert.equal(sim.stats.failedLogins, 0);
      assert.equal(summaryOf(r).counts.planned, 6, 'the account passwords are planned');

      sim.setOptions({ keyRefusal: 'login-page' });
      sim.resetStats();
      const fatal = await runCli(['plan', '--json', '--include', 'account,session', '--concurrency', '16', '--output', join(out, 'p2.csv')], { env });
      assert.equal(fatal.code, 3, fatal.stderr);
      assert.equal(sim.stats.failedLogins, 1);
    });
  });
});

describe('answers of real servers (issue 26)', { timeout: 120_000 }, () => {
  it('JSON mode\'s {"error":"Not logged in"} stops the server after one request', async () => {
    await withSim({ users: 5, authFailure: 'not-logged-in' }, async (sim, out) => {
      const r = await runCli(['rotate', '--yes', '--json', '--output', join(out, 'r.csv')], { env: { DA_URL: daUrl(sim, sim.adminUser, 'WrongPassword123') } });
      assert.equal(r.code, 3, r.stderr);
      assert.equal(sim.stats.totalRequests, 1);
      assert.equal(sim.stats.failedLogins, 1);
      assert.match(r.stderr, /Not logged in/);
    });
  });

  const suspendedCases: Array<[string, Parameters<Simulator['setOptions']>[0], string[], string]> = [
    ['answered as a success', { suspendedPasswordAnswer: 'success' }, [], 'rotated'],
    ['answered with error=1, proved by the verifying read', { suspendedPasswordAnswer: 'error' }, [], 'rotated'],
    [
      'answered with error=1, the read says invalid: the resend\'s "isn\'t different" proves it',
      { suspendedPasswordAnswer: 'error', verifyInvalidForSuspended: true },
      [],
      'rotated',
    ],
    ['answered with error=1, settled by resending', { suspendedPasswordAnswer: 'error' }, ['--settle', 'resend'], 'rotated'],
    [
      'answered with error=1 and nothing can prove it: unknown with its password',
      { suspendedPasswordAnswer: 'error', verifyInvalidForSuspended: true, acceptUnchangedPassword: true },
      [],
      'unknown',
    ],
  ];
  for (const [name, options, extra, expected] of suspendedCases) {
    it(`a suspended account's password change ${name}: never failed, never without its password`, async () => {
      await withSim({ users: 8, resellers: 0, extraAdmins: 0, suspendedEvery: 2, ...options }, async (sim, out) => {
        const suspended = sim
          .accounts()
          .filter((a) => a.suspended)
          .map((a) => a.username);
        assert.ok(suspended.length >= 3);
        const r = await runCli(['rotate', '--yes', '--json', '--retries', '1', '--retry-delay', '1', ...extra, '--output', join(out, 'r.csv')], {
          env: { DA_URL: daUrl(sim) },
        });
        const rows = readReport(summaryOf(r).report);
        for (const u of suspended) {
          const row = rows.find((x) => x.username === u)!;
          assert.equal(row.status, expected, `${u}: ${row.status} ${row.error ?? ''}`);
          assert.equal(row.password, sim.password(u), `${u}: the report holds the live password`);
        }
        assert.ok(rows.every((x) => x.status !== 'failed'));
      });
    });
  }

  for (const answer of ['not-found', 'login-page', 'page'] as const) {
    it(`a server without the JSON API answering /api/ with ${answer}: sessions and database users are "not supported", counted in the summary; login keys go through the legacy command`, async () => {
      await withSim(
        {
          users: 6,
          resellers: 0,
          extraAdmins: 0,
          suspendedEvery: 0,
          jsonApi: false,
          noJsonApiAnswer: answer,
          loginKeysPerUser: 1,
          sessionsPerUser: 1,
          dbUsersPerUser: 1,
        },
        async (sim, out) => {
          const r = await runCli(['rotate', '--yes', '--json', '--include', 'login-key,session,db-user', '--output', join(out, 'r.csv')], {
            env: { DA_URL: daUrl(sim) },
          });
          assert.equal(r.code, 0, r.stderr);
          assert.equal(sim.stats.failedLogins, 0);
          assert.deepEqual(
            stoppedOf(r)
              .map((k) => [k.kind, k.reason, k.accounts])
              .sort(),
            [
              ['db-user', 'unsupported', 6],
              ['session', 'unsupported', 6],
            ],
          );
          assert.match(r.stderr, /session: not supported by this server \(6 not done\)/);
          const apiRequests = Object.entries(sim.stats.requests).filter(([k]) => k.startsWith('/api/'));
          assert.deepEqual(
            apiRequests.map(([, n]) => n),
            [1],
            `one /api/ request in all, then no more: ${JSON.stringify(apiRequests)}`,
          );
          const rows = readReport(summaryOf(r).report);
          assert.equal(rows.filter((x) => x.kind === 'session' && x.status === 'skipped' && /not supported by this server/.test(x.error ?? '')).length, 6);
          for (const a of sim.accounts().filter((x) => x.type === 'user')) assert.deepEqual(sim.loginKeys(a.username), [], `${a.username}: keys revoked`);
        },
      );
    });
  }

  it('a server with "+" as its FTP separator has its extra FTP accounts rotated', async () => {
    await withSim({ users: 6, resellers: 0, extraAdmins: 0, suspendedEvery: 0, ftpPerDomain: 2, ftpSeparator: '+' }, async (sim, out) => {
      const users = sim.accounts().filter((a) => a.username !== sim.adminUser);
      const before = new Map(users.flatMap((a) => sim.ftpAccounts(a.username).map((f) => [`${a.username} ${f.user} ${f.domain}`, f.password] as const)));
      assert.ok(before.size >= 12);
      const r = await runCli(['rotate', '--yes', '--json', '--include', 'ftp', '--output', join(out, 'r.csv')], { env: { DA_URL: daUrl(sim) } });
      assert.equal(r.code, 0, r.stderr);
      const rows = readReport(summaryOf(r).report).filter((x) => x.kind === 'ftp');
      assert.equal(rows.length, before.size);
      for (const a of users) {
        for (const f of sim.ftpAccounts(a.username)) {
          const row = rows.find((x) => x.username === a.username && x.credential === `${f.user}+${f.domain}`);
          assert.equal(row?.status, 'rotated', `${f.user}+${f.domain}`);
          assert.equal(f.password, row.password);
          assert.notEqual(f.password, before.get(`${a.username} ${f.user} ${f.domain}`));
        }
      }
    });
  });
});

describe('key-scope in DirectAdmin names (issue 26)', { timeout: 60_000 }, () => {
  it('--include all prints legacy commands and JSON feature names, never an /api/ route; login-keys only where keys are revoked', async () => {
    const all = await runCli(['key-scope', '--include', 'all']);
    assert.equal(all.code, 0, all.stderr);
    assert.ok(!all.stdout.includes('/api/'), all.stdout);
    for (const name of ['CMD_API_POP', 'CMD_API_FTP', 'CMD_API_LOGIN_KEYS', 'sessions', 'login-keys'])
      assert.match(all.stdout, new RegExp(`^  ${name}$`, 'm'), name);
    assert.match(all.stdout, /WARNING: revoking login keys needs CMD_API_LOGIN_KEYS and login-keys/);
    const db = JSON.parse((await runCli(['key-scope', '--include', 'db-user', '--json'])).stdout) as { features: string[]; never: string[] };
    assert.deepEqual(db.features, ['db-show', 'db-manage']);
    const everyday = JSON.parse((await runCli(['key-scope', '--json'])).stdout) as { commands: string[]; features: string[]; never: string[] };
    assert.deepEqual(everyday.features, []);
    assert.ok(everyday.never.includes('login-keys') && everyday.never.includes('CMD_API_LOGIN_KEYS'), JSON.stringify(everyday.never));
  });

  it('--check asks the server whether the key allows each name, before a run: a missing one is named, at most one failed login', async () => {
    await withSim({ users: 3, resellers: 0, blacklistAfter: 3 }, async (sim) => {
      sim.addLoginKey(sim.adminUser, { key: KEY, commands: [...WITHOUT_POP, 'sessions'] });
      const env = { DA_URL: daUrl(sim, sim.adminUser, KEY) };
      const args = ['key-scope', '--check', '--include', 'account,email,ftp,session'];
      const good = await runCli([...args.slice(0, 3), 'account,ftp,session'], { env });
      assert.equal(good.code, 0, good.stdout + good.stderr);
      assert.match(good.stdout, /Everything this run needs is allowed/);
      for (const style of ['403', 'login-page'] as const) {
        sim.setOptions({ keyRefusal: style });
        sim.resetStats();
        const r = await runCli([...args, '--json'], { env });
        assert.equal(r.code, 1, r.stderr);
        const check = (JSON.parse(r.stdout) as { check: { items: Array<{ name: string; status: string }> } }).check;
        assert.equal(check.items.find((i) => i.name === 'CMD_API_POP')?.status, 'not-allowed', style);
        assert.ok(sim.stats.failedLogins <= 1, `${style}: ${sim.stats.failedLogins}`);
        assert.deepEqual(sim.stats.passwordChangesApplied + sim.stats.credentialChangesApplied, 0, 'nothing changed');
        if (style === '403')
          assert.ok(
            check.items.filter((i) => i.name !== 'CMD_API_POP').every((i) => i.status === 'allowed'),
            JSON.stringify(check.items),
          );
      }
    });
  });
});
