// The operator's experience (issue 16): what the scope leaves out, output a person can read,
// checks before requests, prune, password-file errors (issue 17 item 3). Runs the built CLI.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.js';
import { CLI, daUrl, hasScript, runCli, runOnTerminal, summaryOf, tempDir, type CliResult } from './helpers.js';
import { readReport } from '../../src/rotation/report-parse.js';

async function withSim(options: SimulatorOptions, fn: (sim: Simulator, out: string) => Promise<void>): Promise<void> {
  const sim = await startSimulator(options);
  const out = tempDir();
  try {
    await fn(sim, out);
  } finally {
    await sim.close();
    rmSync(out, { recursive: true, force: true });
  }
}

const noNaN = (r: CliResult) => assert.doesNotMatch(r.stderr, /NaN/);

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

/** Starts `rotate` with a --deadline that stops it part-way: a journal with unsettled credentials. */
async function stoppedRun(sim: Simulator, out: string, name: string, concurrency: string): Promise<CliResult> {
  return runCli(['rotate', '--yes', '--json', '--concurrency', concurrency, '--deadline', '2s', '--output', join(out, name)], { env: { DA_URL: daUrl(sim) } });
}

describe('resume and prune', { timeout: 90_000 }, () => {
  it("resume runs at the interrupted run's concurrency unless told, and says so; not-started is its own count", async () => {
    await withSim({ users: 40, resellers: 0, faults: { latencyMs: 250 } }, async (sim, out) => {
      const first = await stoppedRun(sim, out, 'r.csv', '3');
      assert.equal(first.code, 3, first.stderr);
      const s = summaryOf(first);
      assert.ok(s.counts['not-started'] > 0, JSON.stringify(s.counts));
      assert.match(first.stderr, /not started \d+/);
      sim.setFaults({});
      const resumed = await runCli(['resume', '--log-format', 'text', '--json', '--yes', s.journal!], { env: { DA_URL: daUrl(sim) } });
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.ok(resumed.stderr.includes("da-rotate: resuming at concurrency 3, the interrupted run's (--concurrency N to change it)"), resumed.stderr);
      assert.equal(summaryOf(resumed).concurrency, 3);
      assert.ok(sim.stats.maxProcessing <= 3, `at most 3 at once, saw ${sim.stats.maxProcessing}`);
    });
  });

  it('prune keeps the newest runs and every journal with unsettled credentials; without --yes it deletes nothing', async () => {
    await withSim({ users: 30, resellers: 0, faults: { latencyMs: 250 } }, async (sim) => {
      const cwd = tempDir();
      try {
        const stopped = await stoppedRun(sim, join(cwd, 'output'), 'x.csv', '2');
        assert.equal(stopped.code, 3, stopped.stderr);
        sim.setFaults({});
        // Default names: the stopped run above used --output, so prune never touches it either way.
        for (const cmd of [['plan'], ['plan'], ['rotate', '--yes', '--abandon-previous']]) {
          const r = await runCli(cmd, { cwd, env: { DA_URL: daUrl(sim) } });
          assert.equal(r.code, 0, r.stderr);
        }
        // An unsettled journal under a default name: copy the stopped run's files to one.
        const stem = join(cwd, 'output', 'rotation-127.0.0.1_1-20000101T000000.000Z');
        writeFileSync(stem + '.journal.jsonl', readFileSync(join(cwd, 'output', 'x.journal.jsonl')), { mode: 0o600 });
        writeFileSync(stem + '.csv', readFileSync(join(cwd, 'output', 'x.csv')), { mode: 0o600 });
        const before = readdirSync(join(cwd, 'output')).sort();
        const dry = await runCli(['prune', '--keep', '0'], { cwd });
        assert.equal(dry.code, 0, dry.stderr);
        assert.ok(dry.stderr.includes('(nothing deleted; pass --yes to delete): would delete 4 file(s)'), dry.stderr);
        assert.deepEqual(readdirSync(join(cwd, 'output')).sort(), before);
        const r = await runCli(['prune', '--keep', '0', '--yes', '--json'], { cwd });
        assert.equal(r.code, 0, r.stderr);
        assert.ok(r.stderr.includes(`KEPT ${stem}.journal.jsonl: `), r.stderr);
        assert.match(r.stderr, /credential\(s\) not settled: run `da-rotate resume /);
        const left = readdirSync(join(cwd, 'output')).sort();
        assert.deepEqual(left, [
          'rotation-127.0.0.1_1-20000101T000000.000Z.csv',
          'rotation-127.0.0.1_1-20000101T000000.000Z.journal.jsonl',
          'x.csv',
          'x.journal.jsonl',
        ]);
        const result = JSON.parse(r.stdout) as { removed: string[]; protected: unknown[] };
        assert.equal(result.removed.length, 4);
        assert.equal(result.protected.length, 1);
      } finally {
        rmSync(cwd, { recursive: true, force: true });
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

// On a real terminal (util-linux `script`): no JSON at the default level, the prompt's breakdown.
describe('on a terminal', { timeout: 60_000, skip: !hasScript && 'util-linux script is not installed' }, () => {
  it('shows human lines only, and a prompt with the breakdown and where the report goes', async () => {
    await withSim({ users: 10, resellers: 1 }, async (sim, out) => {
      const report = join(out, 'r.csv');
      const { code, text } = await runOnTerminal(['rotate', '--count-all', '--include', 'account,email', '--output', report], { DA_URL: daUrl(sim) }, 'yes');
      assert.equal(code, 0, text);
      assert.match(text, /About to change \d+ credential\(s\) of 5 account\(s\) on http:\/\/127\.0\.0\.1:\d+ \(logged in as admin\)\./);
      assert.match(text, /by kind: 5 account passwords, \d+ mailbox passwords/);
      assert.ok(text.includes('accounts: 5 user(s), 0 reseller(s), 0 admin(s)'), text);
      assert.ok(text.includes(`the report with the new secrets goes to ${report}`), text);
      assert.doesNotMatch(text, /\{"level"/);
      assert.match(text, /Rotation finished/);
      assert.ok(existsSync(report));
    });
  });
});
