/**
 * Issue 25: the host is never harmed. An existing directory keeps its mode (direct or through a
 * link) after plan and rotate; a stop during the login test ends at once (exit 130, SIGTERM and
 * SIGHUP alike); /dev/zero and a FIFO are refused at once as a journal or a report; an output
 * directory swapped for a link just as the run creates its files stops the run before any secret.
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { realFileSystem, setFileSystemForTests } from '../../src/files.js';
import { runRotation } from '../../src/rotation/run.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { daUrl, runCli } from './cli-runner.js';
import { silentContext, simConnection, whenStat } from './simulator-fixtures.js';

let root = '';
let sim: Simulator;
before(async () => {
  root = mkdtempSync(join(tmpdir(), 'da-rotate-host-'));
  sim = await startSimulator({ users: 4, resellers: 0, suspendedEvery: 0 });
});
after(async () => {
  await sim.close();
  rmSync(root, { recursive: true, force: true });
});

const modeOf = (p: string) => statSync(p).mode & 0o7777;

describe('existing directories are never changed', { timeout: 120_000 }, () => {
  for (const command of ['plan', 'rotate'] as const) {
    it(`${command}: a 0755 directory keeps its mode, as --output's directory, as the working directory and through a link`, async () => {
      const site = join(mkdtempSync(join(root, 'www-')), 'site');
      mkdirSync(site);
      chmodSync(site, 0o755);
      const link = join(root, `link-${command}`);
      symlinkSync(site, link);
      const env = { DA_URL: daUrl(sim), XDG_STATE_HOME: join(root, `state-${command}`) };
      const extra = command === 'rotate' ? ['--yes'] : [];
      const direct = await runCli([command, '--output', join(site, `${command}.csv`), ...extra], { env });
      assert.equal(direct.code, 0, direct.stderr);
      assert.equal(modeOf(site), 0o755);
      const linked = await runCli([command, '--output', join(link, `${command}-2.csv`), ...extra], { env });
      assert.equal(linked.code, 0, linked.stderr);
      assert.equal(modeOf(site), 0o755);
      // `cd /var/www/site && da-rotate plan --output p.csv`
      const cwd = await runCli([command, '--output', `${command}-3.csv`, ...extra], { env, cwd: link });
      assert.equal(cwd.code, 0, cwd.stderr);
      assert.equal(modeOf(site), 0o755);
      if (command === 'rotate') assert.equal(modeOf(join(root, `state-${command}`, 'da-rotate')), 0o700, 'the state directory the tool created is 0700');
    });
  }

  it('a directory the tool creates (and each missing parent) is 0700', async () => {
    const base = mkdtempSync(join(root, 'new-'));
    chmodSync(base, 0o755);
    const r = await runCli(['plan', '--output', join(base, 'a', 'b', 'plan.csv')], { env: { DA_URL: daUrl(sim), XDG_STATE_HOME: join(base, 'state') } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(modeOf(join(base, 'a')), 0o700);
    assert.equal(modeOf(join(base, 'a', 'b')), 0o700);
    assert.equal(modeOf(base), 0o755);
  });
});

describe('a stop during the preflight', { timeout: 120_000 }, () => {
  for (const signal of ['SIGTERM', 'SIGHUP'] as const) {
    it(`${signal} while the login test is stalled ends at once: exit 130, nothing changed`, async () => {
      const stalled = await startSimulator({ users: 2, resellers: 0, faults: { hang: { rate: 1, commands: ['*'] } } });
      try {
        const before = new Map(stalled.accounts().map((a) => [a.username, a.password]));
        let sent = 0;
        let child: import('node:child_process').ChildProcess | undefined;
        whenStat(stalled, 'totalRequests', 1, () => {
          sent = Date.now();
          child?.kill(signal);
        });
        const r = await runCli(['rotate', '--yes', '--timeout', '600', '--output', join(mkdtempSync(join(root, 'stall-')), 'r.csv')], {
          env: { DA_URL: daUrl(stalled), XDG_STATE_HOME: join(root, 'state-stall') },
          onSpawn: (c) => (child = c),
          // Generous: the stop must not wait out --timeout 600 (the harness would kill it at 60 s).
          timeoutMs: 60_000,
        });
        assert.ok(sent > 0, 'the login test was sent and stalled');
        assert.equal(r.timedOut, undefined, 'still running 60 s after the signal');
        assert.equal(r.code, 130, r.stderr);
        for (const a of stalled.accounts()) assert.equal(a.password, before.get(a.username));
      } finally {
        await stalled.close();
      }
    });
  }
});

describe('only regular files are read as journals and reports', { timeout: 60_000 }, () => {
  it('resume and verify refuse /dev/zero and a FIFO at once, exit 2', async () => {
    const fifo = join(mkdtempSync(join(root, 'fifo-')), 'r.journal.jsonl');
    execFileSync('mkfifo', [fifo]);
    const env = { DA_URL: daUrl(sim), XDG_STATE_HOME: join(root, 'state-fifo') };
    for (const path of ['/dev/zero', fifo]) {
      const resume = await runCli(['resume', path, '--yes'], { env, timeoutMs: 30_000 });
      assert.equal(resume.code, 2, `resume ${path}: ${resume.stderr}`);
      assert.match(resume.stderr, /is not a regular file/);
      const verify = await runCli(['verify', '--report', path], { env, timeoutMs: 30_000 });
      assert.equal(verify.code, 2, `verify ${path}: ${verify.stderr}`);
      assert.match(verify.stderr, /is not a regular file/);
    }
  });
});

describe('an output directory swapped for a link as the run creates its files', { timeout: 60_000 }, () => {
  afterEach(() => setFileSystemForTests(undefined));

  it('rotate stops (DIRECTORY_SWAPPED) before the first intent: no change sent, nothing left where the link points', async () => {
    const out = join(root, 'swapped-out');
    const elsewhere = join(root, 'elsewhere');
    mkdirSync(out, { mode: 0o700 });
    mkdirSync(elsewhere, { mode: 0o700 });
    let swapped = false;
    // The instant between the run's last check of its directory and the journal's creation.
    setFileSystemForTests({
      open: (path, flags, mode) => {
        if (!swapped && path.startsWith(out + '/') && path.includes('journal.jsonl')) {
          swapped = true;
          renameSync(out, `${out}.moved`);
          symlinkSync(elsewhere, out);
        }
        return realFileSystem.open(path, flags, mode);
      },
    });
    const before = sim.stats.requests['CMD_API_USER_PASSWD'] ?? 0;
    const run = runRotation(
      {
        mode: 'rotate',
        connection: simConnection(sim),
        selection: { scope: 'users', exclude: [], only: undefined, include: ['account'] },
        policy: { length: 22, symbols: false },
        work: { concurrency: 2, retries: 0, retryDelayMs: 1, maxFailures: 0, settle: 'verify' },
        output: join(out, 'r.csv'),
        yes: true,
        stateDir: join(root, 'swapped-state'),
      },
      silentContext(),
    );
    await assert.rejects(run, (e: Error & { code?: string }) => e.code === 'DIRECTORY_SWAPPED' && /was replaced while the run used it/.test(e.message));
    assert.ok(swapped, 'the run created its journal');
    assert.equal(sim.stats.requests['CMD_API_USER_PASSWD'] ?? 0, before, 'no change was sent');
    assert.deepEqual(readdirSync(elsewhere), [], 'nothing was left where the link points');
  });
});
