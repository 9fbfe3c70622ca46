import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSimulator } from '../../src/simulator/index.js';
import { readReport } from '../../src/rotation/report-parse.js';
import { assertReportMatchesServer, passwords, readSummary, runInProcess, tempDir, writeInventory, type FleetSim } from './helpers.js';

// 20 users + 3 resellers + admin2 + admin: scope "all" selects 24 accounts (never the admin itself).
const USERS = 20;
const SELECTED = 24;

describe('fleet plan and rotate from one inventory', { timeout: 120_000 }, () => {
  let sims: FleetSim[];
  let original: Map<string, Map<string, string>>;
  let dir: string;
  let inv: { file: string; env: Record<string, string> };

  before(async () => {
    const good = await startSimulator({ users: USERS, seed: 11 });
    const wrong = await startSimulator({ users: USERS, seed: 12 });
    const tls = await startSimulator({ users: USERS, seed: 13, tls: true });
    // Applies the change, then answers an empty body: the worker must settle it by verifying.
    const faulty = await startSimulator({ users: USERS, seed: 14, faults: { emptyAfterApply: { rate: 0.2, users: ['user00003'] } } });
    sims = [
      { name: 'good', sim: good, secret: good.adminPassword, tags: ['eu'] },
      { name: 'wrong-secret', sim: wrong, secret: 'not-the-admin-password', tags: ['eu'] },
      { name: 'tls.pinned', sim: tls, secret: tls.adminPassword, tags: ['us'] },
      { name: 'faulty', sim: faulty, secret: faulty.adminPassword, tags: ['us'] },
    ];
    original = new Map(sims.map((s) => [s.name, passwords(s.sim)]));
    dir = tempDir();
    inv = writeInventory(dir, sims);
  });

  after(async () => {
    await Promise.all(sims.map((s) => s.sim.close()));
  });

  const out = () => join(dir, 'out');
  const byName = (rows: Array<Record<string, string>>) => new Map(rows.map((r) => [r.name, r]));

  it('plan: every reachable server planned, the wrong secret reported, nothing changed, exit 3', async () => {
    const r = await runInProcess('plan', { inventory: inv.file, 'output-dir': out(), json: true, 'log-level': 'silent' }, inv.env);
    assert.equal(r.code, 3, r.stderr);
    const result = JSON.parse(r.stdout.trim()) as {
      runId: string;
      exitCode: number;
      summary: string;
      servers: Array<{ name: string; status: string; planned: number; error: string | null }>;
    };
    assert.equal(result.exitCode, 3);
    assert.deepEqual(
      result.servers.map((s) => [s.name, s.status, s.planned]),
      [
        ['good', 'ok', SELECTED],
        ['wrong-secret', 'aborted', 0],
        ['tls.pinned', 'ok', SELECTED],
        ['faulty', 'ok', SELECTED],
      ],
    );
    assert.match(result.servers[1]!.error!, /authentication failed/);
    const csv = byName(readSummary(result.summary));
    assert.equal(csv.get('good')!.planned, String(SELECTED));
    assert.equal(csv.get('wrong-secret')!.status, 'aborted');
    for (const s of sims) {
      assert.equal(s.sim.stats.passwordChangesApplied, 0, `${s.name}: a plan changes nothing`);
      for (const [u, pw] of original.get(s.name)!) assert.equal(s.sim.password(u), pw);
    }
    const plan = readReport(join(out(), result.runId, 'good', 'plan.csv'));
    assert.equal(plan.filter((p) => p.status === 'planned').length, SELECTED);
  });

  it('rotate: each server finished with a right report, the bad one reported, summary and exit code right', async () => {
    for (const s of sims) s.sim.resetStats();
    const r = await runInProcess(
      'rotate',
      { inventory: inv.file, 'output-dir': out(), yes: true, json: true, 'retry-delay': 0.01, 'log-level': 'silent' },
      inv.env,
    );
    assert.equal(r.code, 3, r.stderr);
    const result = JSON.parse(r.stdout.trim()) as { runId: string; manifest: string; summary: string };
    const rows = byName(readSummary(result.summary));
    assert.deepEqual([...rows.keys()], ['good', 'wrong-secret', 'tls.pinned', 'faulty']);
    assert.deepEqual(
      [...rows.values()].map((x) => [x.status, x.exit_code, x.rotated, x.failed, x.unknown]),
      [
        ['ok', '0', String(SELECTED), '0', '0'],
        ['aborted', '3', '0', '0', '0'],
        ['ok', '0', String(SELECTED), '0', '0'],
        ['ok', '0', String(SELECTED), '0', '0'],
      ],
    );
    assert.match(rows.get('wrong-secret')!.error ?? '', /authentication failed/);
    assert.equal(rows.get('wrong-secret')!.report, '');
    for (const s of sims.filter((x) => x.name !== 'wrong-secret')) {
      const report = rows.get(s.name)!.report;
      assert.equal(report, join(out(), result.runId, s.name, 'rotation.csv'));
      assert.deepEqual(assertReportMatchesServer(s.sim, report, original.get(s.name)!, s.name), { rotated: SELECTED });
    }
    const wrong = sims.find((x) => x.name === 'wrong-secret')!.sim;
    assert.equal(wrong.stats.passwordChangesApplied, 0);
    assert.equal(wrong.stats.failedLogins, 1, 'an authentication failure stops that server at its first request');
    assert.ok((sims.find((x) => x.name === 'faulty')!.sim.stats.faultsFired.emptyAfterApply ?? 0) >= 1, 'the fault fired');
    assert.equal(statSync(result.manifest).mode & 0o777, 0o600);
    assert.equal(statSync(result.summary).mode & 0o777, 0o600);
    assert.equal(statSync(join(out(), result.runId)).mode & 0o777, 0o700);
    // Each server's directory is made (and checked private) before its first request; the bad one holds no report.
    assert.deepEqual(readdirSync(join(out(), result.runId)).sort(), ['faulty', 'fleet.json', 'good', 'summary.csv', 'tls.pinned', 'wrong-secret']);
    assert.deepEqual(readdirSync(join(out(), result.runId, 'wrong-secret')), []);
    for (const s of sims) assert.ok(!r.stderr.includes(s.secret), 'no secret on stderr');

    // verify --run checks the reports of the servers that rotated, and only those.
    const v = await runInProcess('verify', { run: result.runId, 'output-dir': out(), json: true, 'log-level': 'silent' }, inv.env);
    assert.equal(v.code, 0, v.stderr);
    const vr = JSON.parse(v.stdout.trim()) as { servers: Array<{ name: string; checked: number; matching: number; drift: number }> };
    assert.deepEqual(
      vr.servers.map((s) => [s.name, s.checked, s.matching, s.drift]),
      [
        ['good', SELECTED, SELECTED, 0],
        ['tls.pinned', SELECTED, SELECTED, 0],
        ['faulty', SELECTED, SELECTED, 0],
      ],
    );
  });

  it('--servers by tag runs only those servers', async () => {
    for (const s of sims) s.sim.resetStats();
    const r = await runInProcess('plan', { inventory: inv.file, servers: ['us'], 'output-dir': out(), json: true, 'log-level': 'silent' }, inv.env);
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout.trim()) as { servers: Array<{ name: string }> };
    assert.deepEqual(
      result.servers.map((s) => s.name),
      ['tls.pinned', 'faulty'],
    );
    assert.deepEqual(
      sims.map((s) => s.sim.stats.totalRequests > 0),
      [false, false, true, true],
    );
  });

  it('a malformed inventory stops before any request, naming the file, line and key', async () => {
    for (const s of sims) s.sim.resetStats();
    const bad = join(dir, 'bad.toml');
    const good = sims[0]!.sim;
    writeFileSync(
      bad,
      `[[server]]\nname = "good"\nurl = "${good.url}"\nuser = "admin"\nsecret_env = "DA_KEY_GOOD"\n\n[[server]]\nname = "x"\nurl = "${sims[2]!.sim.url}"\nuser = "admin"\nsecret_env = "DA_KEY_GOOD"\nconcurrency = "eight"\n`,
    );
    const r = await runInProcess('rotate', { inventory: bad, 'output-dir': out(), yes: true, 'log-level': 'silent' }, inv.env);
    assert.equal(r.code, 2, r.stderr);
    assert.ok(r.stderr.includes(`${bad}:12: server "x".concurrency: must be a whole number from 1 to 64`), r.stderr);
    // A missing secret variable is input too: also stopped before anything is sent.
    const r2 = await runInProcess('rotate', { inventory: inv.file, 'output-dir': out(), yes: true, 'log-level': 'silent' }, { ...inv.env, DA_KEY_FAULTY: '' });
    assert.equal(r2.code, 2, r2.stderr);
    assert.match(r2.stderr, /fleet\.toml:\d+: server "faulty"\.secret_env: the environment variable DA_KEY_FAULTY/);
    assert.deepEqual(
      sims.map((s) => s.sim.stats.totalRequests),
      [0, 0, 0, 0],
    );
  });

  it('rotate without --yes off a terminal is refused before any request', async () => {
    for (const s of sims) s.sim.resetStats();
    const r = await runInProcess('rotate', { inventory: inv.file, 'output-dir': out(), 'log-level': 'silent' }, inv.env);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /pass --yes/);
    assert.deepEqual(
      sims.map((s) => s.sim.stats.totalRequests),
      [0, 0, 0, 0],
    );
  });

  it('key-scope prints once when every server needs the same allow-list', async () => {
    const r = await runInProcess('key-scope', { inventory: inv.file, json: true }, inv.env);
    assert.equal(r.code, 0);
    const groups = JSON.parse(r.stdout) as Array<{ servers: string[]; scope: string }>;
    assert.deepEqual(
      groups.map((g) => [g.servers, g.scope]),
      [[['good', 'wrong-secret', 'tls.pinned', 'faulty'], 'all']],
    );
  });

  it('key-scope --accounts counts each server with its own kinds; --expect may name a kind only some include', async () => {
    const file = join(dir, 'kinds.toml');
    const [a, b] = [sims[0]!.sim, sims[1]!.sim];
    writeFileSync(
      file,
      `[defaults]\nuser = "admin"\nsecret_env = "DA_KEY_GOOD"\n\n[[server]]\nname = "mail"\nurl = "${a.url}"\ninclude = ["account", "email"]\n\n[[server]]\nname = "plain"\nurl = "${b.url}"\n`,
    );
    const r = await runInProcess('key-scope', { inventory: file, json: true, accounts: 10, expect: 'domains=12,email=30' }, inv.env);
    assert.equal(r.code, 0, r.stderr);
    const groups = JSON.parse(r.stdout) as Array<{ servers: string[]; uses: { minimum: number } }>;
    // mail: 2 to connect, 10 domain lists, 12 mailbox lists, 10 + 30 changes; plain: 2 + 10.
    assert.deepEqual(
      groups.map((g) => [g.servers, g.uses.minimum]),
      [
        [['mail'], 2 + 10 + 12 + 40],
        [['plain'], 12],
      ],
    );
    const alone = await runInProcess('key-scope', { inventory: file, expect: 'email=3' }, inv.env);
    assert.equal(alone.code, 2);
    assert.match(alone.stderr, /--expect needs --accounts N/);
  });
});
