/**
 * `npm run package`: dist/da-rotate.mjs, copied alone into an empty directory and run with plain
 * `node` (no NODE_PATH, no node_modules anywhere above it), rotates every account of a simulator,
 * encrypted to an age recipient as a server run would be, and every report password is live.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Decrypter, generateIdentity, identityToRecipient } from 'age-encryption';
import { parse } from 'csv-parse/sync';
import { startSimulator } from '../../src/simulator/index.js';
import { daUrl, ROOT } from '../e2e/cli-runner.js';

const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `node da-rotate.mjs ARGS` in `cwd` with only the environment given (PATH and HOME aside). */
function runAlone(cwd: string, args: string[], env: Record<string, string> = {}): Promise<Ran> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['da-rotate.mjs', ...args], {
      cwd,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: cwd, XDG_STATE_HOME: join(cwd, 'state'), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
  });
}

/** True when some directory from `dir` up to / holds node_modules (node would resolve packages there). */
function nodeModulesAbove(dir: string): string | undefined {
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, 'node_modules'))) return d;
    if (dirname(d) === d) return undefined;
  }
}

type Row = Record<'username' | 'kind' | 'credential' | 'status' | 'password', string>;

describe('npm run package: the single file', { timeout: 180_000 }, () => {
  let dir = '';
  before(() => {
    const built = spawnSync(process.execPath, [join(ROOT, 'scripts', 'package.mjs')], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(built.status, 0, built.stderr);
    dir = mkdtempSync(join(tmpdir(), 'da-rotate-single-'));
    copyFileSync(join(ROOT, 'dist', 'da-rotate.mjs'), join(dir, 'da-rotate.mjs'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is alone in its directory, with no node_modules above it', () => {
    assert.deepEqual(readdirSync(dir), ['da-rotate.mjs']);
    assert.equal(nodeModulesAbove(dir), undefined, 'a node_modules above the temp dir would hide a missing dependency');
    assert.ok(statSync(join(dir, 'da-rotate.mjs')).mode & 0o100, 'executable');
    assert.match(readFileSync(join(dir, 'da-rotate.mjs'), 'utf8'), /^#!\/usr\/bin\/env node\n/);
  });

  it('says what it is: the version and that it is the single-file build', async () => {
    const r = await runAlone(dir, ['--version']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), `${PKG.version} (single-file build, node >= 20.19)`);
  });

  it('prints help and refuses a bad command line (yargs inside the file)', async () => {
    const help = await runAlone(dir, ['rotate', '--help']);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /--encrypt-to/);
    const bad = await runAlone(dir, ['rotate', '--concurency', '4']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /Unknown argument/);
  });

  it('leaves the simulator out and says so', async () => {
    const r = await runAlone(dir, ['simulate']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /not part of the single-file build/);
  });

  it('rotates every account of a simulator, report encrypted to an age recipient; every password in it is live', async () => {
    const sim = await startSimulator({ users: 30, resellers: 2 });
    try {
      const identity = await generateIdentity();
      const recipient = await identityToRecipient(identity);
      const before = new Map(sim.accounts().map((a) => [a.username, a.password]));
      const r = await runAlone(dir, ['rotate', '--scope', 'all', '--yes', '--json', '--encrypt-to', recipient, '--output', 'out/r.csv'], {
        DA_URL: daUrl(sim),
      });
      assert.equal(r.code, 0, r.stderr);
      const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { counts: Record<string, number>; report: string };
      const accounts = sim.accounts().filter((a) => a.username !== sim.adminUser);
      assert.equal(summary.counts.rotated, accounts.length);
      assert.equal(summary.report, join(dir, 'out', 'r.csv.age'));
      const d = new Decrypter();
      d.addIdentity(identity);
      const rows = parse<Row>(Buffer.from(await d.decrypt(readFileSync(summary.report))).toString('utf8'), { columns: true });
      const rotated = rows.filter((row) => row.status === 'rotated');
      assert.equal(rotated.length, accounts.length);
      for (const row of rotated) {
        assert.equal(sim.password(row.username), row.password, `${row.username}: the report's password is the live one`);
        assert.notEqual(row.password, before.get(row.username), `${row.username} changed`);
      }
      // With --encrypt-to, no new password in clear anywhere the file wrote.
      const journal = readFileSync(join(dir, 'out', 'r.journal.jsonl'), 'utf8');
      for (const row of rotated) assert.ok(!journal.includes(row.password), 'the journal holds sealed secrets only');
    } finally {
      await sim.close();
    }
  });

  it('resumes an interrupted run from its journal (journal, lock and last-run record all work from the file)', async () => {
    const sim = await startSimulator({ users: 12, resellers: 0 });
    try {
      const env = { DA_URL: daUrl(sim) };
      // Every change answered 500 and --max-failures 1: the run stops early; resume does the rest.
      sim.setFaults({ error500: { rate: 1, commands: ['CMD_API_USER_PASSWD'] } });
      const first = await runAlone(
        dir,
        ['rotate', '--yes', '--json', '--retries', '0', '--max-failures', '1', '--concurrency', '1', '--output', 'res/r.csv'],
        env,
      );
      assert.equal(first.code, 3, `--max-failures stops the run (exit 3): ${first.stderr}`);
      const stopped = JSON.parse(first.stdout.trim().split('\n').at(-1)!) as { counts: Record<string, number>; resumeCommand?: string };
      assert.ok(stopped.counts['not-started']! > 0 && stopped.resumeCommand, 'some accounts were left for resume');
      sim.setFaults({});
      const second = await runAlone(dir, ['resume', join('res', 'r.journal.jsonl'), '--yes', '--json'], env);
      assert.equal(second.code, 0, second.stderr);
      const rows = parse<Row>(readFileSync(join(dir, 'res', 'r.csv'), 'utf8'), { columns: true });
      const rotated = rows.filter((row) => row.status === 'rotated');
      assert.equal(rotated.length, 12);
      for (const row of rotated) assert.equal(sim.password(row.username), row.password, row.username);
    } finally {
      await sim.close();
    }
  });
});
