import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { parse } from 'csv-parse/sync';
import type { Simulator, SimulatorOptions } from '../../src/simulator/index.js';
import { readReport } from '../../src/rotation/report-parse.js';
import { daUrl, runCli, runUntil, summaryOf, type CliResult } from './cli-runner.js';
import { countIntents, whenStat, withSim } from './simulator-fixtures.js';

const HOSTILE = ['a&b', 'a=b', 'a%41b', 'a|b', 'a:b', 'a/b', '..', 'a b', 'a\nb', 'a\u0001b', 'ünï', '=cmd|x', '+SUM(1)', '-2+3', '@import', 'Upper'];

describe('hostile account names', { timeout: 120_000 }, () => {
  it('are never sent, are reported skipped, and keep the report valid CSV without formulas', async () => {
    const extraAccounts = HOSTILE.map((username) => ({ username, password: 'Untouched1234' }));
    await withSim({ users: 10, resellers: 1, extraAccounts }, async (sim, out) => {
      const r = await runCli(['rotate', '--yes', '--json', '--scope', 'all', '--output', join(out, 'h.csv')], { env: { DA_URL: daUrl(sim) } });
      assert.equal(r.code, 0, r.stderr);
      for (const name of HOSTILE) assert.equal(sim.password(name), 'Untouched1234', JSON.stringify(name));
      const text = readFileSync(summaryOf(r).report, 'utf8');
      const records = parse(text);
      for (const rec of records) {
        assert.equal(rec.length, 12);
        for (const cell of rec) assert.ok(!/^[=+\-@\t\r]/.test(cell), `cell ${JSON.stringify(cell)} could run as a formula`);
      }
      const rows = readReport(summaryOf(r).report);
      // Control characters, line breaks included, are written visibly escaped: one row stays one line.
      assert.equal(text.trimEnd().split('\n').length, records.length, 'no raw line break inside a cell');
      const written = ['a&b', 'a=b', 'a%41b', 'a|b', 'a:b', 'a/b', '..', 'a b', 'a\\x0ab', 'a\\x01b', 'ünï', '=cmd|x', '+SUM(1)', '-2+3', '@import', 'Upper'];
      for (const name of written) {
        const row = rows.find((x) => x.username === name);
        assert.equal(row?.status, 'skipped', JSON.stringify(name));
      }
      // 10 users, 1 reseller and admin2 rotated; the 16 hostile names skipped; the admin who runs it skipped.
      assert.equal(rows.filter((x) => x.status === 'rotated').length, 12);
    });
  });
});

/** Someone else changes the admin password the moment the `changes`-th password is applied. */
function rotateAdminAfter(sim: Simulator, changes: number): void {
  whenStat(sim, 'passwordChangesApplied', changes, () => sim.setPassword(sim.adminUser, 'SomeoneRotatedTheAdmin1'));
}

describe('fail closed', { timeout: 120_000 }, () => {
  const signs: Array<[string, SimulatorOptions, RegExp]> = [
    ['HTML login page', { authFailure: 'login-page' }, /authentication failed/],
    ['Evolution login page', { authFailure: 'evolution-page' }, /authentication failed/],
    ['HTTP 401', { authFailure: '401' }, /authentication failed/],
    ['HTTP 401 JSON', { authFailure: '401-json' }, /authentication failed/],
  ];
  for (const [name, options, re] of signs) {
    it(`stops at once on a wrong secret answered with ${name}`, async () => {
      await withSim({ users: 5, resellers: 0, ...options }, async (sim, out) => {
        const r = await runCli(['rotate', '--yes', '--output', join(out, 'r.csv')], { env: { DA_URL: daUrl(sim, sim.adminUser, 'NotTheSecret99') } });
        assert.equal(r.code, 3, r.stderr);
        assert.match(r.stderr, re);
        assert.equal(sim.stats.totalRequests, 1);
        assert.equal(sim.stats.failedLogins, 1);
        // The report and journal opened while the login test was on the wire are gone again: nothing was journaled.
        assert.deepEqual(
          readdirSync(out).filter((f) => f.startsWith('r.')),
          [],
        );
      });
    });
  }

  const servers: Array<[string, SimulatorOptions, RegExp]> = [
    ['a redirect', { redirectTo: 'https://elsewhere.example:2222/CMD_LOGIN?token=zzz' }, /redirect/],
    ['X-Use-Https', { needsHttps: true }, /needs https/],
  ];
  for (const [name, options, re] of servers) {
    it(`stops at once on ${name}`, async () => {
      await withSim({ users: 5, resellers: 0, ...options }, async (sim, out) => {
        const r = await runCli(['rotate', '--yes', '--output', join(out, 'r.csv')], { env: { DA_URL: daUrl(sim) } });
        assert.equal(r.code, 3, r.stderr);
        assert.match(r.stderr, re);
        assert.ok(!r.stderr.includes('zzz'));
        assert.equal(sim.stats.totalRequests, 1);
      });
    });
  }

  it('stops at once on a blacklisted IP and never adds a failed login', async () => {
    await withSim({ users: 5, resellers: 0, blacklistAfter: 1 }, async (sim, out) => {
      await fetch(`${sim.url}/CMD_API_LOGIN_TEST`, { headers: { authorization: 'Basic ' + Buffer.from('admin:bad').toString('base64') } }).then((x) =>
        x.text(),
      );
      const before = sim.stats.failedLogins;
      const r = await runCli(['rotate', '--yes', '--output', join(out, 'r.csv')], { env: { DA_URL: daUrl(sim) } });
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, /blacklisted/);
      assert.equal(sim.stats.failedLogins, before);
      assert.equal(sim.stats.totalRequests, 2);
    });
  });

  it('stops mid-run when the credentials stop working: one failed login, no request after it', async () => {
    await withSim({ users: 80, resellers: 0, faults: { latencyMs: 3 } }, async (sim, out) => {
      rotateAdminAfter(sim, 20);
      const r = await runCli(['rotate', '--yes', '--json', '--concurrency', '1', '--output', join(out, 'r.csv')], { env: { DA_URL: daUrl(sim) } });
      assert.equal(r.code, 3, r.stderr);
      assert.equal(sim.stats.failedLogins, 1);
      // The admin password changed the moment the 20th change applied: the 21st request was refused.
      assert.equal(sim.stats.passwordChangesApplied, 20);
      assert.equal(sim.stats.requests['CMD_API_USER_PASSWD'], 21);
      const s = summaryOf(r);
      assert.equal(s.counts.rotated, 20);
      const rows = readReport(s.report);
      assert.equal(rows.length, 80, 'every selected account has a row, the rest as not started');
    });
  });

  it('with concurrency, only requests already in flight can still fail', async () => {
    await withSim({ users: 200, resellers: 0, faults: { latencyMs: 5 } }, async (sim, out) => {
      rotateAdminAfter(sim, 40);
      const r = await runCli(['rotate', '--yes', '--concurrency', '8', '--output', join(out, 'r.csv')], { env: { DA_URL: daUrl(sim) } });
      assert.equal(r.code, 3, r.stderr);
      assert.ok(sim.stats.failedLogins >= 1 && sim.stats.failedLogins <= 8, String(sim.stats.failedLogins));
      assert.ok(sim.stats.passwordChangesApplied < 200);
    });
  });
});

describe('TLS', { timeout: 120_000 }, () => {
  it('refuses a wrong fingerprint and a wrong host name, showing the real fingerprint', async () => {
    await withSim({ users: 3, resellers: 0, tls: true, tlsAltNames: ['da.example.com'] }, async (sim, out) => {
      const wrongPin = await runCli(['plan', '--fingerprint', 'AB:'.repeat(31) + 'AB', '--output', join(out, 'a.csv')], { env: { DA_URL: daUrl(sim) } });
      assert.equal(wrongPin.code, 3, wrongPin.stderr);
      assert.ok(wrongPin.stderr.includes(sim.fingerprint256!));
      assert.match(wrongPin.stderr, /FINGERPRINT_MISMATCH/);
      const ca = join(out, 'ca.pem');
      writeFileSync(ca, sim.certPem!);
      const wrongHost = await runCli(['plan', '--ca', ca, '--output', join(out, 'b.csv')], { env: { DA_URL: daUrl(sim) } });
      assert.equal(wrongHost.code, 3, wrongHost.stderr);
      assert.ok(wrongHost.stderr.includes(sim.fingerprint256!));
      assert.match(wrongHost.stderr, /ALTNAME|host/i);
      assert.equal(sim.stats.totalRequests, 0);
    });
  });
});

/**
 * Runs the CLI while sampling the argv of its process and of any process it starts (Linux /proc:
 * each thread's `children` list): a secret must not show in any of them.
 */
function runWatchingArgv(
  args: string[],
  env: Record<string, string>,
  input?: string,
): Promise<{ result: CliResult; argvSeen: string[]; childrenSeen: Set<string> }> {
  const argvSeen: string[] = [];
  const childrenSeen = new Set<string>();
  let child: ChildProcess | undefined;
  const timer = setInterval(() => {
    try {
      if (!child?.pid) return;
      argvSeen.push(readFileSync(`/proc/${child.pid}/cmdline`, 'utf8'));
      for (const task of readdirSync(`/proc/${child.pid}/task`)) {
        for (const pid of readFileSync(`/proc/${child.pid}/task/${task}/children`, 'utf8').split(' ').filter(Boolean)) {
          childrenSeen.add(pid);
          argvSeen.push(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
        }
      }
    } catch {
      /* gone */
    }
  }, 5);
  return runCli(args, { env, input, onSpawn: (c) => (child = c) }).then((result) => {
    clearInterval(timer);
    return { result, argvSeen, childrenSeen };
  });
}

const FAULTS = { emptyAfterApply: { rate: 0.2 }, resetAfterApply: { rate: 0.1 }, error500: { rate: 0.1 } };

describe('secret hygiene', { timeout: 120_000 }, () => {
  it('no secret reaches stdout, stderr or argv on any path, even at trace level', async () => {
    await withSim({ users: 40, resellers: 1, passwordPolicy: { difficult: false }, faults: FAULTS }, async (sim, out) => {
      const outputs: string[] = [];
      const argvs: string[] = [];
      const deliberateArgv: string[] = [];
      const children = new Set<string>();
      const env = { DA_URL: daUrl(sim) };
      const T = ['--log-level', 'trace'];
      const W = ['--retry-delay', '0.01'];
      const go = async (code: number, args: string[], e: Record<string, string> = env, input?: string, secretInArgvOnPurpose = false) => {
        const { result, argvSeen, childrenSeen } = await runWatchingArgv(args, e, input);
        outputs.push(result.stdout, result.stderr);
        assert.equal(result.code, code, `${args.join(' ')}\n${result.stderr.slice(-2000)}`);
        (secretInArgvOnPurpose ? deliberateArgv : argvs).push(...argvSeen);
        for (const c of childrenSeen) children.add(c);
        return result;
      };
      const urlNoCreds = sim.url;
      const pwFile = join(out, 'secret');
      writeFileSync(pwFile, sim.adminPassword + '\n', { mode: 0o600 });

      // Every run's exit code is asserted: a run that fails early must not pass for a clean one.
      await go(0, ['plan', ...T, '--json', '--output', join(out, 'p.csv')]);
      await go(0, ['rotate', ...T, ...W, '--yes', '--json', '--scope', 'all', '--exclude', 'user00003', '--output', join(out, 'r.csv')]);
      // The user in DA_URL, the secret in DA_LOGIN_KEY (this run went unchecked before, and failed on a missing server).
      const userOnly = new URL(sim.url);
      userOnly.username = sim.adminUser;
      await go(0, ['verify', join(out, 'r.csv'), ...T, '--json'], { DA_URL: userOnly.toString(), DA_LOGIN_KEY: sim.adminPassword }, undefined);
      await go(0, ['verify', join(out, 'r.csv'), ...T, '--server', urlNoCreds, '--user', sim.adminUser, '--password-file', pwFile]);
      await go(0, ['verify', join(out, 'r.csv'), ...T, '--server', urlNoCreds, '--user', sim.adminUser, '--password-stdin'], {}, sim.adminPassword + '\n');
      // An interrupted run (slowed down so that it is still working when the signal comes) and its resume.
      sim.setOptions({ faults: { ...FAULTS, latencyMs: 20 } });
      const journal = join(out, 'k.journal.jsonl');
      const { result: interrupted, signalled } = await runUntil(['rotate', ...T, '--yes', '--scope', 'all', '--output', join(out, 'k.csv')], {
        env,
        signal: 'SIGINT',
        watch: out,
        when: () => countIntents(journal) >= 3,
      });
      outputs.push(interrupted.stdout, interrupted.stderr);
      assert.ok(signalled, 'the run was still working when interrupted');
      assert.equal(interrupted.code, 130, interrupted.stderr);
      sim.setOptions({ faults: FAULTS });
      await go(0, ['resume', journal, ...T, ...W, '--yes']);
      // Failure paths: same password (rejected and accepted), wrong secret, policy failures, TLS.
      await go(2, ['rotate', ...T, '--yes', '--same-password', '--only', 'user00001', '--output', join(out, 's.csv')], env, 'short\n');
      await go(0, ['rotate', ...T, '--yes', '--same-password', '--only', 'user00002', '--output', join(out, 's2.csv')], env, 'SharedTemp2026Pw\n');
      await go(3, ['rotate', ...T, '--yes', '--output', join(out, 'w.csv')], { DA_URL: daUrl(sim, sim.adminUser, sim.adminPassword + 'x') });
      sim.setOptions({ passwordPolicy: { difficult: true }, faults: {} });
      await go(3, ['rotate', ...T, '--yes', '--only', 'user00004', '--output', join(out, 'd.csv')]);
      sim.setOptions({ passwordPolicy: {} });
      // The refused run above counts as unfinished for this server: --abandon-previous lets this one reach TLS.
      await go(3, ['rotate', ...T, '--yes', '--abandon-previous', '--output', join(out, 'x.csv')], { DA_URL: daUrl(sim).replace('http:', 'https:') });
      await go(0, ['plan', ...T, '--server', daUrl(sim), '--output', join(out, 'argv.csv')], {}, undefined, true);

      const secrets = new Set<string>([sim.adminPassword, sim.adminPassword + 'x', 'SharedTemp2026Pw']);
      for (const f of readdirSync(out).filter((x) => x.endsWith('.csv'))) {
        for (const row of readReport(join(out, f))) if (row.password) secrets.add(row.password);
      }
      for (const f of readdirSync(out).filter((x) => x.endsWith('.jsonl'))) {
        for (const line of readFileSync(join(out, f), 'utf8').split('\n')) {
          if (line.includes('"t":"intent"')) secrets.add((JSON.parse(line) as { pw: string }).pw);
        }
      }
      assert.ok(secrets.size > 60, `collected ${secrets.size} secrets`);
      const all = outputs.join('\n');
      assert.match(all, /"level":"trace"|"level":"debug"/, 'the most verbose logs were on');
      for (const s of secrets) {
        assert.ok(!all.includes(s), `a secret leaked into the output`);
        assert.ok(!all.includes(encodeURIComponent(s)), `a secret leaked percent-encoded`);
      }
      // argv: secrets passed by environment, file or stdin never show; the deliberate --server URL case warns.
      assert.ok(argvs.length > 10, 'argv was sampled while the runs were alive');
      // The sampler sees a secret when one is there: the deliberate --server URL run shows the admin password.
      assert.ok(deliberateArgv.join('\n').includes(sim.adminPassword), 'the sampler would have seen a secret in argv');
      const argvText = argvs.join('\n');
      for (const s of secrets) assert.ok(!argvText.includes(s), 'a secret showed in argv');
      // No process of the tool's (a child would be one more argv) ever ran: the CLI's own argv is all there is.
      assert.deepEqual([...children], [], 'the CLI started child processes');
      assert.match(all, /visible to other users in `ps`/);
      for (const f of readdirSync(out).filter((x) => x.endsWith('.csv') || x.endsWith('.jsonl'))) {
        assert.equal(statSync(join(out, f)).mode & 0o777, 0o600, f);
      }
    });
  });

  it('refuses a password file readable by group or others', async () => {
    await withSim({ users: 2, resellers: 0 }, async (sim, out) => {
      const f = join(out, 'pw');
      writeFileSync(f, sim.adminPassword);
      chmodSync(f, 0o644);
      const r = await runCli(['plan', '--server', sim.url, '--user', 'admin', '--password-file', f, '--output', join(out, 'p.csv')]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /chmod 600|readable by/);
      assert.equal(sim.stats.totalRequests, 0);
      chmodSync(f, 0o600);
      const ok = await runCli(['plan', '--server', sim.url, '--user', 'admin', '--password-file', f, '--output', join(out, 'q.csv')]);
      assert.equal(ok.code, 0, ok.stderr);
    });
  });

  it('creates the output directory 0700 and report, journal 0600', async () => {
    await withSim({ users: 3, resellers: 0 }, async (sim, out) => {
      const dir = join(out, 'fresh', 'reports');
      const r = await runCli(['rotate', '--yes', '--json', '--output', join(dir, 'r.csv')], { env: { DA_URL: daUrl(sim) } });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(statSync(dir).mode & 0o777, 0o700);
      const s = summaryOf(r);
      assert.equal(statSync(s.report).mode & 0o777, 0o600);
      assert.equal(statSync(s.journal!).mode & 0o777, 0o600);
    });
  });
});
