/**
 * Issue 11, end to end: the incident sweep (mailboxes, extra FTP accounts, login keys, sessions)
 * against the simulator, with faults on every command, a kill -9 in the middle, and a sweep that
 * leaves the account passwords alone.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Simulator, SimulatorOptions } from '../../src/simulator/index.js';
import { readReport, type ParsedReportRow } from '../../src/rotation/report-parse.js';
import { daUrl, runCli, runCliAndSignal, summaryOf } from './cli-runner.js';
import { journalRecordCount, reportCells, withSim } from './simulator-fixtures.js';
import { testSeed } from '../seed.js';

/** What an intruder may hold, as the simulator has it now. */
interface Holdings {
  accounts: Map<string, string>;
  mailboxes: Map<string, { owner: string; password: string }>;
  ftp: Map<string, { owner: string; password: string; type: string; path: string }>;
  keys: Map<string, string>;
  sessions: Map<string, string>;
}

function holdings(sim: Simulator): Holdings {
  const h: Holdings = { accounts: new Map(), mailboxes: new Map(), ftp: new Map(), keys: new Map(), sessions: new Map() };
  for (const a of sim.accounts()) {
    h.accounts.set(a.username, a.password);
    for (const m of sim.mailboxes(a.username)) h.mailboxes.set(m.address, { owner: a.username, password: m.password });
    for (const f of sim.ftpAccounts(a.username)) h.ftp.set(f.fulluser, { owner: a.username, password: f.password, type: f.type, path: f.path });
    for (const k of sim.loginKeys(a.username)) h.keys.set(`${a.username}:${k.name}`, a.username);
    for (const s of sim.sessions(a.username)) h.sessions.set(`${a.username}:${s.publicID}`, a.username);
  }
  return h;
}

const rowsOf = (rows: ParsedReportRow[], kind: string) => rows.filter((r) => r.kind === kind);
const sorted = (xs: Iterable<string>) => [...xs].sort();

/**
 * Every selected credential ended as the report says: each mailbox and extra FTP account of a
 * selected account has its report row's new password (FTP type and home unchanged), no login key
 * of a selected account is alive and each is named `revoked`; every unselected credential is untouched.
 */
function assertSwept(sim: Simulator, before: Holdings, report: string, selected: Set<string>, kinds: Set<string>): void {
  const rows = readReport(report);
  const row = (kind: string, name: string) => rows.find((r) => r.kind === kind && r.credential === name);
  for (const [address, m] of before.mailboxes) {
    const live = sim.mailboxPassword(address);
    if (!kinds.has('email') || !selected.has(m.owner)) {
      assert.equal(live, m.password, `${address}: not selected, untouched`);
      continue;
    }
    const r = row('email', address);
    assert.ok(r, `${address}: no report row`);
    assert.equal(r.status, 'rotated', `${address}: ${r.status} ${r.error ?? ''}`);
    assert.equal(live, r.password, `${address}: live password is the report's`);
    assert.notEqual(live, m.password, `${address}: changed`);
  }
  for (const [user, f] of before.ftp) {
    const now = sim.ftpAccounts(f.owner).find((x) => x.fulluser === user)!;
    assert.equal(now.type, f.type, `${user}: FTP type kept`);
    assert.equal(now.path, f.path, `${user}: FTP home kept`);
    if (!kinds.has('ftp') || !selected.has(f.owner)) {
      assert.equal(now.password, f.password, `${user}: not selected, untouched`);
      continue;
    }
    const r = row('ftp', user);
    assert.ok(r, `${user}: no report row`);
    assert.equal(r.status, 'rotated', `${user}: ${r.status} ${r.error ?? ''}`);
    assert.equal(now.password, r.password, `${user}: live password is the report's`);
    assert.notEqual(now.password, f.password);
  }
  for (const [id, owner] of before.keys) {
    const name = id.slice(owner.length + 1);
    const alive = sim.loginKeys(owner).some((k) => k.name === name);
    if (!kinds.has('login-key') || !selected.has(owner)) {
      assert.ok(alive, `${id}: not selected, kept`);
      continue;
    }
    assert.equal(alive, false, `${id}: still alive`);
    const r = rows.find((x) => x.kind === 'login-key' && x.username === owner && x.credential === name);
    assert.equal(r?.status, 'revoked', `${id}: named revoked in the report`);
    assert.equal(r.password ?? '', '', 'a key row never carries a secret');
  }
  for (const [user, old] of before.accounts) {
    const live = sim.password(user);
    const r = row('account', user);
    if (!kinds.has('account') || !selected.has(user)) {
      assert.equal(live, old, `${user}: account password untouched`);
      continue;
    }
    assert.equal(r?.status, 'rotated', `${user}: ${r?.status} ${r?.error ?? ''}`);
    assert.equal(live, r.password, `${user}: live account password is the report's`);
  }
}

/** A small server: two resellers, an extra admin, mailboxes, FTP accounts, keys and sessions on every user. */
const SERVER: SimulatorOptions = {
  users: 10,
  resellers: 2,
  extraAdmins: 1,
  mailboxesPerDomain: 2,
  ftpPerDomain: 1,
  loginKeysPerUser: 2,
  sessionsPerUser: 1,
  suspendedEvery: 4,
};
const everyoneButAdmin = (sim: Simulator) =>
  new Set(
    sim
      .accounts()
      .map((a) => a.username)
      .filter((u) => u !== sim.adminUser),
  );

describe('incident sweep (issue 11)', { timeout: 60_000 }, () => {
  it('plan --scope all --include email,ftp,login-key,session changes nothing and lists every mailbox, FTP account, key and session', async () => {
    await withSim({ ...SERVER, seed: 3 }, async (sim, out) => {
      const before = holdings(sim);
      const r = await runCli(['plan', '--json', '--scope', 'all', '--include', 'email,ftp,login-key,session', '--output', join(out, 'plan.csv')], {
        env: { DA_URL: daUrl(sim) },
      });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(sim.stats.passwordChangesApplied, 0);
      assert.equal(sim.stats.credentialChangesApplied, 0);
      assert.equal(sim.stats.loginKeysRevoked, 0);
      assert.deepEqual(holdings(sim), before, 'nothing changed on the server');
      const rows = readReport(summaryOf(r).report);
      const selected = everyoneButAdmin(sim);
      const own = <T extends { owner: string }>(m: Map<string, T | string>) =>
        sorted([...m].filter(([, v]) => selected.has(typeof v === 'string' ? v : v.owner)).map(([k]) => k));
      assert.deepEqual(sorted(rowsOf(rows, 'email').map((x) => x.credential)), own(before.mailboxes));
      assert.deepEqual(sorted(rowsOf(rows, 'ftp').map((x) => x.credential)), own(before.ftp));
      assert.deepEqual(sorted(rowsOf(rows, 'login-key').map((x) => `${x.username}:${x.credential}`)), own(before.keys));
      assert.deepEqual(sorted(rowsOf(rows, 'session').map((x) => `${x.username}:${x.credential}`)), own(before.sessions));
      // 13 selected accounts (10 users, 2 resellers, admin2); keys and sessions only on users and resellers.
      assert.equal(selected.size, 13);
      assert.equal(rowsOf(rows, 'login-key').length, 24);
      assert.equal(rowsOf(rows, 'session').length, 12);
      assert.equal(rowsOf(rows, 'account').filter((x) => x.status !== 'skipped').length, 0, '--include without account leaves account passwords out');
      for (const x of rows) {
        assert.ok(x.status === 'planned' || x.status === 'skipped', `${x.kind} ${x.credential}: ${x.status}`);
        assert.equal(x.password ?? '', '', 'a plan writes no secret');
      }
      const full = reportCells(summaryOf(r).report);
      for (const k of full.filter((x) => x.kind === 'login-key'))
        assert.match(k.details!, /^created \S+, by \S+, expires \S+, last used [^,]+, allows /, k.credential);
      for (const x of full.filter((x) => x.kind === 'session')) assert.match(x.details!, /^from \S+, started \S+/, x.credential);
      for (const f of full.filter((x) => x.kind === 'ftp')) {
        const live = before.ftp.get(f.credential!)!;
        assert.equal(f.details, `type ${live.type}, home ${live.path}`);
      }
    });
  });

  it('rotate --include email,ftp,login-key under faults on every command leaves every mailbox and FTP account with the report password and no key alive', async () => {
    const seed = testSeed();
    // 10% of each fault on every request: 27% of requests fault, and a request fails for good only
    // when all 11 of its attempts (--retries 10) fault: 0.27^11 = 6e-7 per request, about 2e-4 over the
    // run's ~340 requests. At 15% each and --retries 8 that was 2e-4 per request and 1 run in 30 failed
    // (measured: 5 of 181 seeds), an outcome the tool reports correctly but this test does not expect.
    const faults = {
      emptyAfterApply: { rate: 0.1, commands: ['*'] },
      resetAfterApply: { rate: 0.1, commands: ['*'] },
      error500: { rate: 0.1, commands: ['*'] },
    };
    await withSim({ ...SERVER, seed, faults }, async (sim, out) => {
      const before = holdings(sim);
      const r = await runCli(
        [
          'rotate',
          '--yes',
          '--json',
          '--scope',
          'all',
          '--include',
          'account,email,ftp,login-key,session',
          '--retries',
          '10',
          '--retry-delay',
          '0.01',
          '--output',
          join(out, 'sweep.csv'),
        ],
        { env: { DA_URL: daUrl(sim) } },
      );
      assert.equal(r.code, 0, r.stderr);
      const s = summaryOf(r);
      assert.equal(s.counts.failed, 0);
      assert.equal(s.counts.unknown, 0);
      assert.ok(Object.values(sim.stats.faultsFired).reduce((a, b) => a + b, 0) > 20, `faults fired: ${JSON.stringify(sim.stats.faultsFired)}`);
      assertSwept(sim, before, s.report, everyoneButAdmin(sim), new Set(['account', 'email', 'ftp', 'login-key']));
      const rows = readReport(s.report);
      for (const [id, owner] of before.sessions) {
        const publicID = id.slice(owner.length + 1);
        assert.equal(
          sim.sessions(owner).some((x) => x.publicID === publicID),
          false,
          `${id}: session still open`,
        );
        assert.equal(
          rows.find((x) => x.kind === 'session' && x.username === owner && x.credential === publicID)?.status,
          'revoked',
          `${id}: named ended in the report`,
        );
      }
      assert.equal(sim.stats.failedLogins, 0);
    });
  });

  it('kill -9 in the middle of a sweep, then resume: nothing lost', async () => {
    const seed = testSeed();
    const faults = { latencyMs: 5, emptyAfterApply: { rate: 0.1 }, resetAfterApply: { rate: 0.1 } };
    await withSim({ ...SERVER, users: 16, seed, faults }, async (sim, out) => {
      const before = holdings(sim);
      const env = { DA_URL: daUrl(sim) };
      const report = join(out, 'k.csv');
      const journal = join(out, 'k.journal.jsonl');
      const work = ['--yes', '--concurrency', '4', '--retries', '8', '--retry-delay', '0.01'];
      const { sent, result } = await runCliAndSignal(
        ['rotate', '--scope', 'all', '--include', 'account,email,ftp,login-key', '--output', report, ...work],
        env,
        () => journalRecordCount(journal, 'outcome') >= 20,
        'SIGKILL',
      );
      assert.ok(sent, `the run ended (exit ${result.code}) before it could be killed: ${result.stderr}`);
      assert.equal(result.signal, 'SIGKILL');
      const resumed = await runCli(['resume', journal, ...work, '--json'], { env });
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.equal(summaryOf(resumed).report, report);
      assertSwept(sim, before, report, everyoneButAdmin(sim), new Set(['account', 'email', 'ftp', 'login-key']));
    });
  });

  it('--include email only: new mailbox passwords, account passwords and FTP accounts untouched', async () => {
    await withSim({ ...SERVER, seed: 5, faults: { resetAfterApply: { rate: 0.2 } } }, async (sim, out) => {
      const before = holdings(sim);
      const r = await runCli(
        ['rotate', '--yes', '--json', '--include', 'email', '--retry-delay', '0.01', '--retries', '6', '--output', join(out, 'mail.csv')],
        { env: { DA_URL: daUrl(sim) } },
      );
      assert.equal(r.code, 0, r.stderr);
      const s = summaryOf(r);
      assert.equal(sim.stats.passwordChangesApplied, 0, 'no account password changed');
      assert.equal(sim.stats.loginKeysRevoked, 0);
      const rows = readReport(s.report);
      assert.deepEqual([...new Set(rows.filter((x) => x.status !== 'skipped').map((x) => x.kind))], ['email']);
      // --scope users: the admin's own users only.
      const mine = new Set(
        sim
          .accounts()
          .filter((a) => a.creator === sim.adminUser && a.type === 'user')
          .map((a) => a.username),
      );
      assert.equal(s.counts.rotated, [...before.mailboxes.values()].filter((m) => mine.has(m.owner)).length);
      assertSwept(sim, before, s.report, mine, new Set(['email']));
      for (const [user, f] of before.ftp)
        assert.equal(sim.ftpAccounts(f.owner).find((x) => x.fulluser === user)!.password, f.password, `${user}: FTP untouched`);
    });
  });
});
