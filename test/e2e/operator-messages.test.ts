// What the operator is told (issue 16): output a person can read, checks before any request, flags
// and refusals that say what is wrong and how to fix it, password-file errors (issue 17 item 3). Runs the built CLI.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { startSimulator } from '../../src/simulator/index.js';
import { CLI, daUrl, runCli, summaryOf, tempDir, type CliResult } from './cli-runner.js';
import { withSim } from './simulator-fixtures.js';
import { readReport } from '../../src/rotation/report-parse.js';

const noNaN = (r: CliResult) => assert.doesNotMatch(r.stderr, /NaN/);

describe('output a person can read', { timeout: 60_000 }, () => {
  it('off a terminal: JSON log lines at info; --log-format text: "level: message (fields)"', async () => {
    await withSim({ users: 3, resellers: 0 }, async (sim, out) => {
      const json = await runCli(['plan', '--output', join(out, 'a.csv')], { env: { DA_URL: daUrl(sim) } });
      assert.equal(json.code, 0);
      assert.match(
        json.stderr,
        /^\{"level":"info","time":"[^"]+","pid":\d+,"runId":"\d{8}T\d{6}Z-[0-9a-z]{6}","version":"\d+\.\d+\.\d+","server":"http:\/\/127\.0\.0\.1:\d+","user":"admin","secretSource":"DA_URL","msg":"connecting"\}$/m,
      );
      // JSON logs and human text never share a stream: off a terminal every stderr line is a JSON record, the summary included.
      const records = json.stderr
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { msg?: string; text?: string });
      assert.ok(
        records.some((r) => r.msg === 'summary' && /3 account/.test(r.text ?? '')),
        json.stderr,
      );
      const refused = await runCli(['plan', '--concurrency', 'abc', '--output', join(out, 'c.csv')], { env: { DA_URL: daUrl(sim) } });
      assert.equal(refused.code, 2);
      assert.match(refused.stderr, /^\{"level":"error".*"msg":"--concurrency must be a whole number/m);
      assert.doesNotMatch(refused.stderr, /^da-rotate:/m);
      const text = await runCli(['plan', '--log-format', 'text', '--output', join(out, 'b.csv')], { env: { DA_URL: daUrl(sim) } });
      assert.equal(text.code, 0);
      assert.match(text.stderr, /^info: connecting \(server=http:\/\/127\.0\.0\.1:\d+, user=admin, secretSource=DA_URL\)$/m);
      assert.doesNotMatch(text.stderr, /^\{/m);
    });
  });

  it('--quiet prints nothing when all went well, and the error when not', async () => {
    await withSim({ users: 3, resellers: 0 }, async (sim, out) => {
      const ok = await runCli(['rotate', '--yes', '--quiet', '--output', join(out, 'a.csv')], { env: { DA_URL: daUrl(sim) } });
      assert.equal(ok.code, 0);
      assert.equal(ok.stderr, '');
      assert.equal(ok.stdout, '');
      const wrong = await runCli(['rotate', '--log-format', 'text', '--yes', '--quiet', '--output', join(out, 'b.csv')], {
        env: { DA_URL: daUrl(sim, 'admin', 'not-the-password') },
      });
      assert.equal(wrong.code, 3);
      assert.match(
        wrong.stderr,
        /^da-rotate: preflight failed: authentication failed on CMD_API_LOGIN_TEST at 127\.0\.0\.1:\d+: .*brute-force monitor counts every failed login/m,
      );
      assert.doesNotMatch(wrong.stderr, /^\{/m);
    });
  });

  it('verify wraps a long drift list and counts the rest instead of one endless line', async () => {
    await withSim({ users: 120, resellers: 0 }, async (sim, out) => {
      const r = await runCli(['rotate', '--yes', '--json', '--output', join(out, 'r.csv')], { env: { DA_URL: daUrl(sim) } });
      assert.equal(r.code, 0, r.stderr);
      for (const a of sim.accounts()) if (a.type === 'user') sim.setPassword(a.username, 'Changed-since-0');
      const v = await runCli(['verify', '--log-format', 'text', join(out, 'r.csv')], { env: { DA_URL: daUrl(sim) } });
      assert.equal(v.code, 1, v.stderr);
      assert.ok(v.stderr.includes('drifted'), v.stderr);
      assert.ok(v.stderr.includes('  drift (password changed since the rotation), 120 account(s):'), v.stderr);
      assert.ok(v.stderr.includes('    ... and 80 more (--json lists them all)'), v.stderr);
      for (const line of v.stderr.split('\n').filter((l) => !l.startsWith('  report: '))) assert.ok(line.length <= 100, `line of ${line.length}: ${line}`);
    });
  });
});

describe('checks before requests, and flags that say what is wrong', { timeout: 60_000 }, () => {
  it('--concurrency abc, --timeout abc, plan --exclude with no value, --insecure with --fingerprint: exit 2, no request', async () => {
    await withSim({ users: 3, resellers: 0 }, async (sim, out) => {
      const env = { DA_URL: daUrl(sim) };
      const c = await runCli(['plan', '--log-format', 'text', '--concurrency', 'abc', '--output', join(out, 'a.csv')], { env });
      assert.equal(c.code, 2);
      assert.ok(c.stderr.includes('da-rotate: --concurrency must be a whole number from 1 to 64, or auto (got "abc")'), c.stderr);
      const t = await runCli(['plan', '--log-format', 'text', '--timeout', 'abc', '--output', join(out, 'b.csv')], { env });
      assert.equal(t.code, 2);
      assert.ok(t.stderr.includes('--timeout must be a number from 1 to 600'), t.stderr);
      noNaN(c);
      noNaN(t);
      const e = await runCli(['plan', '--log-format', 'text', '--exclude', '--output', join(out, 'c.csv')], { env });
      assert.equal(e.code, 2);
      assert.ok(e.stderr.includes('--exclude needs a value'), e.stderr);
      const i = await runCli(['plan', '--log-format', 'text', '--insecure', '--fingerprint', 'AB'.repeat(32), '--output', join(out, 'd.csv')], { env });
      assert.equal(i.code, 2);
      assert.ok(i.stderr.includes('--insecure turns certificate checks off and --fingerprint pins the certificate: give only --fingerprint'), i.stderr);
      assert.equal(sim.stats.totalRequests, 0);
    });
  });

  it('every flag error at once: --concurrency 0 and --length 5 without a server name all three, exit 2', async () => {
    const r = await runCli(['rotate', '--log-format', 'text', '--yes', '--concurrency', '0', '--length', '5']);
    assert.equal(r.code, 2, r.stderr);
    const line = r.stderr.split('\n').find((l) => l.startsWith('da-rotate: 3 problems:'));
    assert.ok(line, r.stderr);
    assert.match(line, /--concurrency/);
    assert.match(line, /--length/);
    assert.match(line, /no server given/);
  });

  it("plan --help shows plan's default file name, rotate --help rotate's", async () => {
    const plan = await runCli(['plan', '--help']);
    assert.equal(plan.code, 0);
    // yargs wraps help to the width: compare with the line breaks folded.
    const folded = (t: string) => t.replace(/\s+/g, ' ');
    assert.ok(folded(plan.stdout).includes('Default: output/plan-<host>_<port>-<UTC time>.csv'), plan.stdout);
    assert.ok(!plan.stdout.includes('output/rotation-'), plan.stdout);
    const rotate = await runCli(['rotate', '--help']);
    assert.equal(rotate.code, 0);
    assert.ok(folded(rotate.stdout).includes('Default: output/rotation-<host>_<port>-<UTC time>.csv'), rotate.stdout);
  });

  it('a directory given as --password-file is a usage error naming it, before any request', async () => {
    await withSim({ users: 3, resellers: 0 }, async (sim, out) => {
      const dir = join(out, 'secrets');
      mkdirSync(dir, { mode: 0o700 });
      const r = await runCli(['plan', '--log-format', 'text', '--server', sim.url, '--user', 'admin', '--password-file', dir, '--output', join(out, 'a.csv')]);
      assert.equal(r.code, 2);
      assert.ok(r.stderr.includes(`da-rotate: --password-file: ${dir} is a directory: give the file that holds the secret (nothing was sent)`), r.stderr);
      const missing = await runCli([
        'plan',
        '--log-format',
        'text',
        '--server',
        sim.url,
        '--user',
        'admin',
        '--password-file',
        join(out, 'nope'),
        '--output',
        join(out, 'b.csv'),
      ]);
      assert.equal(missing.code, 2);
      assert.ok(missing.stderr.includes(`--password-file: ${join(out, 'nope')} does not exist: check the path`), missing.stderr);
      assert.equal(sim.stats.totalRequests, 0);
    });
  });

  // root reads any file: the unreadable case runs the CLI as nobody (uid 65534) when the test is root.
  const asOther = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : undefined;
  it('an unreadable password file (EACCES) is a usage error naming it and the fix, before any request', async () => {
    await withSim({ users: 3, resellers: 0 }, async (sim, out) => {
      chmodSync(out, 0o755);
      const file = join(out, 'key');
      writeFileSync(file, sim.adminPassword + '\n', { mode: 0o600 });
      if (!asOther) chmodSync(file, 0o000);
      const child = spawn(
        process.execPath,
        [CLI, 'plan', '--log-format', 'text', '--server', sim.url, '--user', 'admin', '--password-file', file, '--output', join(out, 'p.csv')],
        {
          ...(asOther ?? {}),
          cwd: out,
          env: { PATH: process.env.PATH, XDG_STATE_HOME: join(out, 'state') },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      assert.equal(code, 2, stderr);
      assert.ok(stderr.includes(`da-rotate: --password-file: cannot read ${file}: permission denied; run da-rotate as the file's owner`), stderr);
      assert.doesNotMatch(stderr, /internal error/);
      assert.equal(sim.stats.totalRequests, 0);
    });
  });

  it('--symbols passwords use only - _ . besides letters and digits', async () => {
    await withSim({ users: 20, resellers: 0, passwordPolicy: { difficult: true } }, async (sim, out) => {
      const r = await runCli(['rotate', '--yes', '--symbols', '--length', '14', '--output', join(out, 'r.csv')], { env: { DA_URL: daUrl(sim) } });
      assert.equal(r.code, 0, r.stderr);
      const rows = readReport(join(out, 'r.csv')).filter((row) => row.status === 'rotated');
      assert.equal(rows.length, 20);
      for (const row of rows) {
        assert.match(row.password, /^[A-Za-z0-9][A-Za-z0-9._-]{13}$/);
        assert.match(row.password, /[._-]/);
        assert.equal(sim.password(row.username), row.password);
      }
    });
  });
});

describe('already done on main, shown here', { timeout: 90_000 }, () => {
  it('a second rotation of the same server exits 3 whatever its output directory', async () => {
    await withSim({ users: 20, resellers: 0, faults: { latencyMs: 100 } }, async (sim, out) => {
      const env = { DA_URL: daUrl(sim) };
      let listed!: () => void;
      const started = new Promise<void>((resolve) => (listed = resolve));
      const firstRun = runCli(['rotate', '--yes', '--concurrency', '1', '--output', join(out, 'a', 'r.csv')], {
        env,
        onSpawn: (child) => {
          let text = '';
          child.stderr!.on('data', (d: Buffer) => {
            text += d.toString();
            if (text.includes('"msg":"credentials listed"')) listed();
          });
        },
      });
      await started;
      const second = await runCli(['rotate', '--yes', '--output', join(out, 'b', 'r.csv')], { env });
      assert.equal(second.code, 3, second.stderr);
      const first = await firstRun;
      assert.equal(first.code, 0, first.stderr);
      assert.equal(sim.stats.passwordChangesApplied, 20);
    });
  });

  it('two default-named plans started at once both succeed with different reports', async () => {
    await withSim({ users: 5, resellers: 0 }, async (sim) => {
      const cwd = tempDir();
      try {
        const runs = await Promise.all([1, 2, 3].map(() => runCli(['plan', '--json'], { cwd, env: { DA_URL: daUrl(sim) } })));
        for (const r of runs) assert.equal(r.code, 0, r.stderr);
        assert.equal(new Set(runs.map((r) => summaryOf(r).report)).size, 3);
        assert.equal((statSync(join(cwd, 'output')).mode & 0o777).toString(8), '700');
      } finally {
        rmSync(cwd, { recursive: true, force: true });
      }
    });
  });

  it('an existing output directory readable by others is used as it is: never chmod-ed (issue 25)', async () => {
    await withSim({ users: 2, resellers: 0 }, async (sim, out) => {
      const dir = join(out, 'reports');
      mkdirSync(dir);
      chmodSync(dir, 0o755);
      const r = await runCli(['plan', '--output', join(dir, 'p.csv')], { env: { DA_URL: daUrl(sim) } });
      assert.equal(r.code, 0, r.stderr);
      assert.equal((statSync(dir).mode & 0o777).toString(8), '755');
      assert.equal((statSync(join(dir, 'p.csv')).mode & 0o777).toString(8), '600');
    });
  });

  it('verify refuses a file that is not a report, and a report of another server (exit 2)', async () => {
    await withSim({ users: 3, resellers: 0 }, async (sim, out) => {
      const notReport = await runCli(['verify', '/etc/passwd'], { env: { DA_URL: daUrl(sim) } });
      assert.equal(notReport.code, 2, notReport.stderr);
      assert.ok(notReport.stderr.includes('cannot verify /etc/passwd'), notReport.stderr);
      const r = await runCli(['rotate', '--yes', '--output', join(out, 'r.csv')], { env: { DA_URL: daUrl(sim) } });
      assert.equal(r.code, 0, r.stderr);
      const other = await startSimulator({ users: 3, resellers: 0 });
      try {
        const v = await runCli(['verify', join(out, 'r.csv')], { env: { DA_URL: daUrl(other) } });
        assert.equal(v.code, 2, v.stderr);
        assert.ok(v.stderr.includes(`this report is for ${sim.url}`), v.stderr);
        assert.equal(other.stats.totalRequests, 0);
      } finally {
        await other.close();
      }
    });
  });

  it('rotate off a terminal without --yes exits 2 before any request', async () => {
    await withSim({ users: 3, resellers: 0 }, async (sim, out) => {
      const r = await runCli(['rotate', '--output', join(out, 'r.csv')], { env: { DA_URL: daUrl(sim) } });
      assert.equal(r.code, 2);
      assert.ok(r.stderr.includes('pass --yes'), r.stderr);
      assert.equal(sim.stats.totalRequests, 0);
    });
  });

  it('a transport error names host and port; a blacklist says where it is cleared', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const refused = await runCli(['plan', '--output', join(tempDir(), 'p.csv')], { env: { DA_URL: `http://admin:secret12345@127.0.0.1:${port}` } });
    assert.equal(refused.code, 3, refused.stderr);
    assert.ok(refused.stderr.includes(`127.0.0.1:${port}`), refused.stderr);
    await withSim({ users: 2, resellers: 0 }, async (sim, out) => {
      sim.setOptions({ blacklistAfter: 1 });
      const r = await runCli(['plan', '--output', join(out, 'p.csv')], { env: { DA_URL: daUrl(sim, 'admin', 'wrong-password') } });
      assert.equal(r.code, 3);
      assert.match(r.stderr, /brute-force monitor counts every failed login/);
      const blocked = await runCli(['plan', '--output', join(out, 'q.csv')], { env: { DA_URL: daUrl(sim) } });
      assert.equal(blocked.code, 3);
      assert.match(blocked.stderr, /Admin Level -> Brute Force Monitor/);
      assert.equal(sim.stats.failedLogins, 1);
    });
  });

  it('a mistyped command gets a "did you mean"', async () => {
    const r = await runCli(['rotat']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Did you mean rotate\?/);
  });
});
