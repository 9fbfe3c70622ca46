/**
 * One truth per credential across runs (issue 24): a journal born whole, listing failures that
 * survive resume, one run per server per host whatever the state directory, one resume per journal,
 * supersession (resume, notify, verify), printed resume lines that work as printed, salvage of a
 * damaged journal; and after all of it, no live credential outside the newest report.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readJournal } from '../../src/rotation/journal.js';
import { readReport } from '../../src/rotation/report-parse.js';
import { startSmtp, type TestSmtp } from '../notify/helpers.js';
import { CLI, daUrl, exitOf, runCli, runUntil, summaryOf, waitFor } from './cli-runner.js';
import { assertNoLostCredential, countIntents, snapshot, whenCount, withSim } from './simulator-fixtures.js';

const T = { timeout: 120_000 };
const SMTP_PASS = 'Smtp-Secret-42';
let smtp: TestSmtp;
let smtpCa = '';

before(async () => {
  smtp = await startSmtp({ pass: SMTP_PASS });
});
after(async () => {
  await smtp.close();
});

/** The files a run left in `dir` (reports, journals, locks, temporaries). */
function runFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => /\.(csv|jsonl|lock|tmp|age)$/.test(f));
}

/** Splits a printed `da-rotate ...` line into arguments (the harness quotes nothing it prints here). */
function argsOf(line: string): string[] {
  return line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map((a) => a.replace(/^'|'$/g, ''));
}

describe('a journal comes into being whole', T, () => {
  it('kill -9 while listing (after the login test): nothing is left behind, and the same command then finishes', async () => {
    await withSim({ users: 30, resellers: 0, faults: { hang: { rate: 1, commands: ['CMD_API_SHOW_USERS'], limit: 1 } } }, async (sim, out) => {
      const original = snapshot(sim);
      const env = { DA_URL: daUrl(sim), XDG_STATE_HOME: join(out, 'state') };
      const args = ['rotate', '--yes', '--json', '--output', join(out, 'r.csv')];
      const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: 'ignore' });
      // Killed inside the simulator's own code, the moment the listing arrives (it never answers).
      whenCount(sim.stats.requests, 'CMD_API_SHOW_USERS', 1, () => child.kill('SIGKILL'));
      await exitOf(child);
      assert.equal(child.signalCode, 'SIGKILL');
      assert.deepEqual(runFiles(out), [], 'no report, no journal, no empty or headless file');
      const again = await runCli(args, { env });
      assert.equal(again.code, 0, again.stderr);
      const statuses = assertNoLostCredential(sim, join(out, 'r.csv'), original);
      assert.ok([...statuses.values()].includes('rotated'));
    });
  });

  it('SIGHUP while listing (a closed SSH session) stops like SIGTERM: exit 130, says nothing was changed, leaves nothing', async () => {
    await withSim({ users: 10, resellers: 0, faults: { hang: { rate: 1, commands: ['CMD_API_SHOW_USERS'], limit: 1 } } }, async (sim, out) => {
      const original = snapshot(sim);
      const env = { DA_URL: daUrl(sim), XDG_STATE_HOME: join(out, 'state') };
      let child: ReturnType<typeof spawn> | undefined;
      const running = runCli(['rotate', '--yes', '--timeout', '3', '--output', join(out, 'r.csv')], { env, onSpawn: (c) => (child = c) });
      whenCount(sim.stats.requests, 'CMD_API_SHOW_USERS', 1, () => child!.kill('SIGHUP'));
      const r = await running;
      assert.equal(r.code, 130, r.stderr);
      assert.match(r.stderr, /nothing was changed/);
      assert.deepEqual(runFiles(out), []);
      assert.deepEqual(snapshot(sim), original);
    });
  });

  it('a header-only journal left by a run killed before its first change is removed by the same command, which then finishes', async () => {
    await withSim({ users: 8, resellers: 0 }, async (sim, out) => {
      const original = snapshot(sim);
      const env = { DA_URL: daUrl(sim), XDG_STATE_HOME: join(out, 'state') };
      const args = ['rotate', '--yes', '--output', join(out, 'r.csv')];
      // A real run's journal and report, cut back to what a kill between the link and the first intent leaves.
      const first = await runCli(args, { env });
      assert.equal(first.code, 0, first.stderr);
      const journal = join(out, 'r.journal.jsonl');
      const header = readFileSync(journal, 'utf8').split('\n')[0]!;
      writeFileSync(journal, header + '\n', { mode: 0o600 });
      writeFileSync(join(out, 'r.csv'), 'server,username\n', { mode: 0o600 });
      const before = snapshot(sim);
      const again = await runCli(args, { env });
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stderr, /removed .*r\.journal\.jsonl.*stopped before it sent anything/);
      assert.notDeepEqual(snapshot(sim), before, 'the second run rotated');
      assertNoLostCredential(sim, join(out, 'r.csv'), original);
    });
  });
});

describe('listing failures go through the journal', T, () => {
  it('a mailbox listing that fails is in the report of rotate and of every resume, with exit 1 while it remains', async () => {
    const faults = { error500: { commands: ['CMD_API_POP'], users: ['user00002'] } };
    await withSim({ users: 6, resellers: 0, suspendedEvery: 0, faults }, async (sim, out) => {
      const env = { DA_URL: daUrl(sim), XDG_STATE_HOME: join(out, 'state') };
      const report = join(out, 'r.csv');
      const r = await runCli(['rotate', '--yes', '--json', '--retries', '1', '--retry-delay', '0.01', '--include', 'account,email', '--output', report], {
        env,
      });
      assert.equal(r.code, 1, r.stderr);
      const failedRow = (rows: ReturnType<typeof readReport>) => rows.filter((x) => x.username === 'user00002' && x.kind === 'email' && x.credential === '*');
      assert.equal(failedRow(readReport(report)).length, 1);
      assert.equal(failedRow(readReport(report))[0]!.status, 'failed');
      const journal = join(out, 'r.journal.jsonl');
      assert.deepEqual(
        readJournal(journal).header.listingFailures?.map((f) => [f.owner, f.kind]),
        [['user00002', 'email']],
      );
      const resumed = await runCli(['resume', journal, '--yes', '--json'], { env });
      assert.equal(resumed.code, 1, `resume reproduces the failure: ${resumed.stderr}`);
      assert.equal(summaryOf(resumed).counts.failed, summaryOf(r).counts.failed);
      const rows = readReport(report);
      assert.equal(failedRow(rows).length, 1, 'the rebuilt report still names the failed listing');
      assert.deepEqual(
        rows.filter((x) => x.status !== 'skipped').map((x) => x.status === 'rotated' || x.credential === '*'),
        rows.filter((x) => x.status !== 'skipped').map(() => true),
      );
    });
  });
});

describe('one run per server per host, one resume per journal', T, () => {
  it('two rotations of one server with different state directories: the second is refused, naming the first', async () => {
    await withSim({ users: 200, resellers: 0, faults: { latencyMs: 15 } }, async (sim, out) => {
      const original = snapshot(sim);
      const journal = join(out, 'a.journal.jsonl');
      let first: ReturnType<typeof spawn> | undefined;
      const a = runCli(['rotate', '--yes', '--concurrency', '2', '--output', join(out, 'a.csv')], {
        env: { DA_URL: daUrl(sim), XDG_STATE_HOME: join(out, 'state-a') },
        onSpawn: (c) => (first = c),
      });
      await waitFor(() => countIntents(journal) >= 10, { watch: out });
      const b = await runCli(['rotate', '--yes', '--state-dir', join(out, 'state-b'), '--output', join(out, 'b.csv')], {
        env: { DA_URL: daUrl(sim), HOME: join(out, 'home-b') },
      });
      assert.equal(b.code, 3, b.stderr);
      assert.match(b.stderr, new RegExp(`another da-rotate run holds \\S+da-rotate-127\\.0\\.0\\.1\\+\\d+\\.lock: rotate of ${sim.url}, pid ${first!.pid} `));
      assert.match(b.stderr, /state-a/, 'names the other run by its state directory');
      assert.ok(!existsSync(join(out, 'b.csv')) && !existsSync(join(out, 'b.journal.jsonl')));
      const done = await a;
      assert.equal(done.code, 0, done.stderr);
      assertNoLostCredential(sim, join(out, 'a.csv'), original);
    });
  });

  it('two resumes of one journal (as from two hosts: separate lock directories and state): one is refused', async () => {
    await withSim({ users: 200, resellers: 0, faults: { latencyMs: 15 } }, async (sim, out) => {
      const original = snapshot(sim);
      const env = { DA_URL: daUrl(sim), XDG_STATE_HOME: join(out, 'state') };
      const journal = join(out, 'r.journal.jsonl');
      const { result } = await runUntil(['rotate', '--yes', '--concurrency', '2', '--output', join(out, 'r.csv')], {
        env,
        signal: 'SIGINT',
        watch: out,
        when: () => countIntents(journal) >= 10,
      });
      assert.equal(result.code, 130, result.stderr);
      let firstResume: ReturnType<typeof spawn> | undefined;
      const one = runCli(['resume', journal, '--yes', '--concurrency', '2'], { env, onSpawn: (c) => (firstResume = c) });
      await waitFor(() => readFileSync(journal, 'utf8').includes('"t":"resume"'), { watch: out });
      const otherLocks = join(out, 'other-host-locks');
      mkdirSync(otherLocks, { mode: 0o700 });
      const two = await runCli(['resume', journal, '--yes', '--state-dir', join(out, 'other-state')], {
        env: { ...env, DA_ROTATE_LOCK_DIR: otherLocks },
      });
      assert.equal(two.code, 3, two.stderr);
      assert.ok(two.stderr.includes(`${journal}.lock: resume of ${sim.url}, pid ${firstResume!.pid} `), two.stderr);
      const done = await one;
      assert.equal(done.code, 0, done.stderr);
      assertNoLostCredential(sim, join(out, 'r.csv'), original);
    });
  });
});

describe('supersession, printed resume lines, salvage', T, () => {
  it('a superseded run is never resumed, verified or notified; a report without its journal sends no dead password; the newest report holds every live one', async () => {
    await withSim({ users: 120, resellers: 0, suspendedEvery: 0, faults: { latencyMs: 10 } }, async (sim, out) => {
      const original = snapshot(sim);
      smtpCa = join(out, 'smtp-ca.pem');
      writeFileSync(smtpCa, smtp.cert);
      const env = { DA_URL: daUrl(sim), XDG_STATE_HOME: join(out, 'state'), SMTP_URL: `smtp://mailer:${SMTP_PASS}@127.0.0.1:${smtp.port}` };
      const journalA = join(out, 'a.journal.jsonl');
      const { result: a } = await runUntil(['rotate', '--yes', '--concurrency', '2', '--output', join(out, 'a.csv')], {
        env,
        signal: 'SIGINT',
        watch: out,
        when: () => countIntents(journalA) >= 20,
      });
      assert.equal(a.code, 130, a.stderr);
      // A new run refuses to leave A behind silently; told to, it finishes and supersedes A.
      const refused = await runCli(['rotate', '--yes', '--output', join(out, 'b.csv')], { env });
      assert.equal(refused.code, 5, refused.stderr);
      assert.match(refused.stderr, /did not finish/);
      const b = await runCli(['rotate', '--yes', '--abandon-previous', '--output', join(out, 'b.csv')], { env });
      assert.equal(b.code, 0, b.stderr);
      const newest = snapshot(sim);
      sim.resetStats();

      const resumeA = await runCli(['resume', journalA, '--yes'], { env });
      assert.equal(resumeA.code, 2, resumeA.stderr);
      assert.ok(resumeA.stderr.includes(`superseded by a later run of its server (${join(out, 'b.journal.jsonl')})`), resumeA.stderr);
      assert.equal(sim.stats.totalRequests, 0, 'refused before a single request');
      assert.deepEqual(snapshot(sim), newest, 'the server is unchanged');

      const verifyA = await runCli(['verify', join(out, 'a.csv')], { env });
      assert.equal(verifyA.code, 2, verifyA.stderr);
      assert.match(verifyA.stderr, /superseded/);

      const received = smtp.received.length;
      const notifyArgs = (report: string) => [
        'notify',
        '--report',
        report,
        '--from',
        'ops@hoster.example',
        '--smtp-ca',
        smtpCa,
        '--yes',
        '--rate',
        '0',
        '--json',
      ];
      const notifyA = await runCli(notifyArgs(join(out, 'a.csv')), { env });
      assert.equal(notifyA.code, 2, notifyA.stderr);
      assert.match(notifyA.stderr, /superseded/);
      assert.equal(smtp.received.length, received, 'notify on a superseded report sent nothing');

      // The same report copied away from its journal, with a state directory that knows nothing:
      // every password in it is checked on the server, and none of A's is live any more.
      const away = join(out, 'away');
      mkdirSync(away, { mode: 0o700 });
      copyFileSync(join(out, 'a.csv'), join(away, 'a.csv'));
      const notifyCopy = await runCli(notifyArgs(join(away, 'a.csv')), { env: { ...env, XDG_STATE_HOME: join(out, 'empty-state') } });
      assert.equal(smtp.received.length, received, `a dead password was sent: ${notifyCopy.stderr}`);
      assert.match(notifyCopy.stderr, /no longer live/);
      assert.notEqual(notifyCopy.code, 0);

      // 0 live credentials outside the newest report.
      const statuses = assertNoLostCredential(sim, join(out, 'b.csv'), original);
      assert.deepEqual(new Set(statuses.values()), new Set(['rotated']));
      assert.equal(statuses.size, 120, 'every user is in the newest report');
    });
  });

  it('the resume line printed by an interrupted `resume --symbols` carries --symbols and works as printed', async () => {
    await withSim({ users: 150, resellers: 0, suspendedEvery: 0, passwordPolicy: { difficult: true } }, async (sim, out) => {
      const original = snapshot(sim);
      const env = { DA_URL: daUrl(sim), XDG_STATE_HOME: join(out, 'state') };
      const journal = join(out, 'r.journal.jsonl');
      // Without --symbols the server's policy refuses the first change: the run stops.
      const first = await runCli(['rotate', '--yes', '--output', join(out, 'r.csv')], { env });
      assert.equal(first.code, 3, first.stderr);
      assert.equal(sim.stats.passwordChangesApplied, 0);
      sim.setOptions({ faults: { latencyMs: 15 } });
      const { result } = await runUntil(['resume', journal, '--log-format', 'text', '--yes', '--symbols', '--concurrency', '2'], {
        env,
        signal: 'SIGINT',
        watch: out,
        when: () => (readFileSync(journal, 'utf8').match(/"status":"rotated"/g)?.length ?? 0) >= 10,
      });
      assert.equal(result.code, 130, result.stderr);
      const printed = /To finish: (da-rotate resume .*)$/m.exec(result.stderr);
      assert.ok(printed, result.stderr);
      assert.match(printed[1]!, / --symbols( |$)/);
      sim.setOptions({ faults: {} });
      const refusedBefore = sim.stats.requests['CMD_API_USER_PASSWD'] ?? 0;
      const applied = sim.stats.passwordChangesApplied;
      const resumed = await runCli(argsOf(printed[1]!), { env });
      assert.equal(resumed.code, 0, resumed.stderr);
      const sent = (sim.stats.requests['CMD_API_USER_PASSWD'] ?? 0) - refusedBefore;
      assert.equal(sent, sim.stats.passwordChangesApplied - applied, 'no refused change: every change sent applied');
      const statuses = assertNoLostCredential(sim, join(out, 'r.csv'), original);
      assert.deepEqual(new Set(statuses.values()), new Set(['rotated']));
    });
  });

  it('a flipped byte: resume and rotate refuse and name --salvage; resume --salvage names the line, keeps every whole record and loses nothing', async () => {
    await withSim({ users: 150, resellers: 0, faults: { latencyMs: 10 } }, async (sim, out) => {
      const original = snapshot(sim);
      const env = { DA_URL: daUrl(sim), XDG_STATE_HOME: join(out, 'state') };
      const journal = join(out, 'r.journal.jsonl');
      const { result } = await runUntil(['rotate', '--yes', '--concurrency', '2', '--output', join(out, 'r.csv')], {
        env,
        signal: 'SIGINT',
        watch: out,
        when: () => existsSync(journal) && (readFileSync(journal, 'utf8').match(/"status":"rotated"/g)?.length ?? 0) >= 20,
      });
      assert.equal(result.code, 130, result.stderr);
      // Flip one byte of an intent whose change was applied (its outcome follows): the line's opening brace.
      const lines = readFileSync(journal, 'utf8').split('\n');
      const victim = lines.findIndex(
        (l, i) =>
          i > 0 && l.startsWith('{"t":"intent"') && lines.some((o) => o.includes('"t":"outcome"') && o.includes(JSON.parse(l).c) && o.includes('rotated')),
      );
      assert.ok(victim > 0);
      const victimId = (JSON.parse(lines[victim]!) as { c: string }).c;
      const bytes = readFileSync(journal);
      const offset = lines.slice(0, victim).reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
      bytes[offset] = bytes[offset]! ^ 0x01;
      writeFileSync(journal, bytes);

      const plain = await runCli(['resume', journal, '--yes'], { env });
      assert.equal(plain.code, 2, plain.stderr);
      assert.match(plain.stderr, new RegExp(`line ${victim + 1} is not valid JSON.*--salvage`));
      const rotate = await runCli(['rotate', '--yes', '--output', join(out, 'new.csv')], { env });
      assert.equal(rotate.code, 2, 'rotate never silently abandons a run it could not read');
      assert.match(rotate.stderr, /cannot be read whole.*--salvage/);

      const salvaged = await runCli(['resume', journal, '--yes', '--salvage'], { env });
      assert.equal(salvaged.code, 0, salvaged.stderr);
      assert.ok(salvaged.stderr.includes(`line ${victim + 1} (not valid JSON, names ${victimId})`), salvaged.stderr);
      // The journal reads whole again (the salvage is journaled), and nothing is lost.
      const state = readJournal(journal);
      assert.equal(state.damaged.length, 1);
      const statuses = assertNoLostCredential(sim, join(out, 'r.csv'), original);
      assert.deepEqual(new Set(statuses.values()), new Set(['rotated']));
    });
  });
});
