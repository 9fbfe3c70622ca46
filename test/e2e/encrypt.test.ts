/**
 * Encryption at rest, end to end with the built CLI and the simulator: `rotate --encrypt-to` leaves
 * no new secret in clear anywhere on disk (the output directory and the state directory are read
 * whole and searched for every new password), the report is a standard age file, an interrupted
 * encrypted run finishes with `resume --identity` losing nothing, and every door that needs the
 * identity (resume, verify) says so with exit 2. Needs dist/ (npm run build).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Decrypter } from 'age-encryption';
import { parse } from 'csv-parse/sync';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.js';
import { generateKeyPair, type AgeIdentity, type AgeRecipient } from '../../src/crypto/index.js';
import { daUrl, runCli, runOnTerminal, summaryOf, tempDir, type CliResult } from './cli-runner.js';

/** The `age` command-line tool (apt install age); without it reports are opened with the age-encryption library. */
const AGE_TOOL = spawnSync('sh', ['-c', 'command -v age'], { stdio: 'ignore' }).status === 0;
const hasScript = spawnSync('sh', ['-c', 'command -v script'], { stdio: 'ignore' }).status === 0;

interface Key {
  identity: AgeIdentity;
  recipient: AgeRecipient;
  /** The identity file, as age-keygen writes it, mode 0600. */
  file: string;
}

async function newKey(dir: string, name: string): Promise<Key> {
  const { identity, recipient } = await generateKeyPair();
  const file = join(dir, `${name}.txt`);
  writeFileSync(file, `# created: 2026-11-29T00:00:00Z\n# public key: ${recipient}\n${identity}\n`, { mode: 0o600 });
  return { identity, recipient, file };
}

/** Every regular file under the directories, recursively. */
function filesUnder(...dirs: string[]): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(p);
    }
  };
  for (const d of dirs) if (existsSync(d)) walk(d);
  return out.sort();
}

/** Every (file, secret) where the file holds the secret in clear (bytes compared, no decoding guessed). */
function clearHits(files: string[], secrets: Iterable<string>): string[] {
  const hits: string[] = [];
  const list = [...new Set(secrets)];
  for (const f of files) {
    const bytes = readFileSync(f);
    for (const s of list) if (bytes.includes(Buffer.from(s, 'utf8'))) hits.push(`${f}: ${s}`);
  }
  return hits;
}

/** The report's CSV: `age -d -i KEY` when the tool is installed, else the age-encryption library. */
async function decryptReport(path: string, key: Key, how: 'tool' | 'library' = AGE_TOOL ? 'tool' : 'library'): Promise<string> {
  if (how === 'tool') {
    const r = spawnSync('age', ['-d', '-i', key.file, path]);
    assert.equal(r.status, 0, `age -d failed: ${r.stderr?.toString()}`);
    return r.stdout.toString('utf8');
  }
  const d = new Decrypter();
  d.addIdentity(key.identity);
  return Buffer.from(await d.decrypt(readFileSync(path))).toString('utf8');
}

type Row = Record<'server' | 'username' | 'kind' | 'credential' | 'status' | 'password', string>;
function rowsOf(csv: string): Row[] {
  return parse<Row>(csv, { columns: true, skip_empty_lines: true });
}

function countIntents(path: string): number {
  if (!existsSync(path)) return 0;
  return readFileSync(path, 'utf8').split('"t":"intent"').length - 1;
}

/** Runs the CLI and sends `signal` once the journal holds `more` intents beyond what it held at the start. */
async function runAndSignal(
  args: string[],
  env: Record<string, string>,
  journal: string,
  more: number,
  signal: NodeJS.Signals,
  input?: string,
): Promise<{ signalled: boolean; result: CliResult }> {
  const base = countIntents(journal);
  let child: ChildProcess | undefined;
  let signalled = false;
  const timer = setInterval(() => {
    if (child && !signalled && countIntents(journal) >= base + more) signalled = child.kill(signal);
  }, 2);
  try {
    const result = await runCli(args, { env, input, onSpawn: (c) => (child = c) });
    return { signalled, result };
  } finally {
    clearInterval(timer);
  }
}

/**
 * Resolves once the simulator has finished every request it received: a killed client's last
 * requests may still be applied after the kill (they were journaled before they were sent).
 */
async function serverIdle(sim: Simulator, deadlineMs = 20_000): Promise<void> {
  const giveUp = Date.now() + deadlineMs;
  while (sim.stats.inFlight > 0 || sim.stats.processing > 0) {
    if (Date.now() > giveUp) throw new Error(`the simulator still had ${sim.stats.inFlight} request(s) in flight after ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

interface World {
  sim: Simulator;
  out: string;
  state: string;
  env: Record<string, string>;
  original: Map<string, string>;
}

async function withWorld(options: SimulatorOptions, body: (w: World) => Promise<void>): Promise<void> {
  const sim = await startSimulator({ resellers: 0, extraAdmins: 0, ...options });
  const out = tempDir('da-rotate-enc-out-');
  const state = tempDir('da-rotate-enc-state-');
  try {
    const original = new Map(sim.accounts().map((a) => [a.username, a.password]));
    await body({ sim, out, state, env: { DA_URL: daUrl(sim), XDG_STATE_HOME: state }, original });
  } finally {
    await sim.close();
    rmSync(out, { recursive: true, force: true });
    rmSync(state, { recursive: true, force: true });
  }
}

/** The live account password of every user the runs rotate (all but the admin). */
function liveAccountPasswords(w: World): Map<string, string> {
  return new Map([...w.original.keys()].filter((u) => u !== w.sim.adminUser).map((u) => [u, w.sim.password(u)!]));
}

/** Nothing secret on stdout or stderr. */
function assertQuiet(r: CliResult, secrets: Iterable<string>, what: string): void {
  for (const s of secrets) {
    assert.ok(!r.stdout.includes(s), `${what}: a secret on stdout`);
    assert.ok(!r.stderr.includes(s), `${what}: a secret on stderr`);
  }
}

const WORK = ['--retry-delay', '0.01', '--log-level', 'info'];

describe('rotate --encrypt-to: no new secret in clear on disk', { timeout: 120_000 }, () => {
  it('accounts: 0 clear hits in the output and state directories; age opens the report to the live passwords; verify needs --identity', async () => {
    await withWorld({ users: 40 }, async (w) => {
      const a = await newKey(w.out, 'key-a');
      const b = await newKey(w.out, 'key-b');
      const report = join(w.out, 'r.csv');
      const r = await runCli(['rotate', '--yes', '--json', '--encrypt-to', a.recipient, '--encrypt-to', b.recipient, '--output', report, ...WORK], {
        env: w.env,
      });
      assert.equal(r.code, 0, r.stderr);
      const s = summaryOf(r);
      assert.equal(s.report, `${report}.age`);
      assert.equal(s.counts.rotated, 40);
      assert.ok(!existsSync(report), 'no plaintext report, not even an empty one');

      const live = liveAccountPasswords(w);
      assert.equal(live.size, 40);
      for (const [u, pw] of live) assert.notEqual(pw, w.original.get(u), `${u} was rotated`);
      const files = filesUnder(w.out, w.state);
      assert.ok(files.includes(`${report}.age`) && files.includes(join(w.out, 'r.journal.jsonl')), files.join('\n'));
      assert.ok(
        files.some((f) => f.startsWith(w.state)),
        'the state directory holds the last-run record',
      );
      assert.deepEqual(clearHits(files, live.values()), [], 'no new password in clear on disk');
      assertQuiet(r, live.values(), 'rotate');
      assert.doesNotMatch(r.stderr, /in clear text/, 'not a terminal, and encrypted anyway: no plaintext warning');
      for (const f of files.filter((x) => x.startsWith(w.out) && !x.endsWith('.txt'))) assert.equal(statSync(f).mode & 0o777, 0o600, f);

      // The journal: every intent sealed, none in clear; the header names both recipients.
      const lines = readFileSync(join(w.out, 'r.journal.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      const header = lines[0] as { encryption?: { recipients: string[] } };
      assert.deepEqual(header.encryption?.recipients, [a.recipient, b.recipient]);
      const intents = lines.filter((l) => l.t === 'intent');
      assert.equal(intents.length, 40);
      for (const i of intents) {
        assert.equal(i.pw, undefined);
        assert.match(String(i.spw), /^v1\.[A-Za-z0-9_-]+$/);
      }

      // The report is a standard age file: each recipient opens it, its passwords are the live ones.
      assert.equal(readFileSync(`${report}.age`).subarray(0, 22).toString('latin1'), 'age-encryption.org/v1\n');
      for (const [key, how] of [
        [a, AGE_TOOL ? 'tool' : 'library'],
        [b, 'library'],
      ] as const) {
        const rows = rowsOf(await decryptReport(`${report}.age`, key, how));
        assert.equal(rows.length, 40);
        for (const row of rows) {
          assert.equal(row.status, 'rotated');
          assert.equal(row.password, live.get(row.username), `${row.username}: the report's password is the live one (${how})`);
        }
      }

      // verify: with the identity it checks all 40; without it, exit 2 naming --identity, nothing sent.
      const verified = await runCli(['verify', `${report}.age`, '--identity', a.file, '--json'], { env: w.env });
      assert.equal(verified.code, 0, verified.stderr);
      assert.equal((JSON.parse(verified.stdout.trim().split('\n').at(-1)!) as { matching: number }).matching, 40);
      assertQuiet(verified, live.values(), 'verify');
      const before = w.sim.stats.requests['CMD_API_LOGIN_TEST'] ?? 0;
      const noKey = await runCli(['verify', `${report}.age`], { env: w.env });
      assert.equal(noKey.code, 2, noKey.stderr);
      assert.match(noKey.stderr, /is encrypted: pass --identity FILE/);
      assert.equal(w.sim.stats.requests['CMD_API_LOGIN_TEST'] ?? 0, before, 'nothing sent');
      chmodSync(a.file, 0o644);
      const loose = await runCli(['verify', `${report}.age`, '--identity', a.file], { env: w.env });
      assert.equal(loose.code, 2, loose.stderr);
      assert.match(loose.stderr, /accessible by group or others .*chmod 600/);
      assert.ok(!loose.stderr.includes(a.identity), 'the key never in a message');
      assert.deepEqual(clearHits(filesUnder(w.out, w.state), live.values()), [], 'verify wrote nothing in clear');
    });
  });

  // --include names every kind changed: an incident sweep changes the account password too (email,ftp alone leaves it).
  it('incident sweep (--include account,email,ftp): no account, mailbox or FTP password in clear; the report carries each one live', async () => {
    await withWorld({ users: 12 }, async (w) => {
      const key = await newKey(w.out, 'key');
      const report = join(w.out, 'sweep.csv');
      const r = await runCli(['rotate', '--yes', '--json', '--include', 'account,email,ftp', '--encrypt-to', key.recipient, '--output', report, ...WORK], {
        env: w.env,
      });
      assert.equal(r.code, 0, r.stderr);
      const rows = rowsOf(await decryptReport(`${report}.age`, key));
      const byKind = (k: string) => rows.filter((x) => x.kind === k);
      assert.equal(byKind('account').length, 12);
      assert.ok(byKind('email').length >= 12, 'every account has mailboxes');
      assert.ok(byKind('ftp').length >= 6, 'FTP accounts');
      assert.equal(summaryOf(r).counts.rotated, rows.length);
      const users = [...w.original.keys()].filter((u) => u !== w.sim.adminUser);
      // Each row's password is the live one, read from the simulator by kind.
      for (const row of rows) {
        assert.equal(row.status, 'rotated', `${row.kind} ${row.credential}`);
        const live =
          row.kind === 'account'
            ? w.sim.password(row.username)
            : row.kind === 'email'
              ? w.sim.mailboxPassword(row.credential)
              : w.sim.ftpAccounts(row.username).find((f) => f.fulluser === row.credential)?.password;
        assert.equal(row.password, live, `${row.kind} ${row.credential}: the report's password is live`);
      }
      // Every live secret of these accounts (the new ones, and any not rotated) is nowhere in clear.
      const secrets = users.flatMap((u) => [w.sim.password(u)!, ...w.sim.mailboxes(u).map((m) => m.password), ...w.sim.ftpAccounts(u).map((f) => f.password)]);
      const mailboxSecrets = users.flatMap((u) => w.sim.mailboxes(u).map((m) => m.password));
      assert.ok(mailboxSecrets.length >= 12);
      const files = filesUnder(w.out, w.state);
      assert.deepEqual(clearHits(files, secrets), [], 'no account, mailbox or FTP password in clear on disk');
      assertQuiet(r, secrets, 'rotate --include account,email,ftp');
      assert.ok(!existsSync(report));
    });
  });
});

describe('an interrupted encrypted run', { timeout: 180_000 }, () => {
  it('SIGKILL, then SIGINT during resume, then resume without and with --identity: nothing lost, nothing in clear at any point', async () => {
    await withWorld({ users: 200, faults: { latencyMs: 8, jitterMs: 4 } }, async (w) => {
      const key = await newKey(w.out, 'key');
      const report = join(w.out, 'int.csv');
      const journal = join(w.out, 'int.journal.jsonl');
      const work = ['--yes', '--concurrency', '4', ...WORK];
      const secretsNow = () =>
        [...w.original.keys()]
          .filter((u) => u !== w.sim.adminUser)
          .map((u) => w.sim.password(u)!)
          .filter((pw, i, all) => all.indexOf(pw) === i);
      const changed = () => [...w.original].filter(([u, pw]) => u !== w.sim.adminUser && w.sim.password(u) !== pw).length;

      const killed = await runAndSignal(['rotate', '--encrypt-to', key.recipient, '--output', report, ...work], w.env, journal, 40, 'SIGKILL');
      assert.ok(killed.signalled && killed.result.signal === 'SIGKILL', `the run ended before the kill: ${killed.result.code} ${killed.result.stderr}`);
      await serverIdle(w.sim);
      const afterKill = changed();
      assert.ok(afterKill > 0 && afterKill < 200, `killed mid-run (${afterKill} changed)`);
      assert.ok(!existsSync(report) && !existsSync(`${report}.age`), 'no report yet: it is written whole at the end');
      assert.deepEqual(clearHits(filesUnder(w.out, w.state), secretsNow()), [], 'after SIGKILL: nothing in clear');

      // Resume without the identity (or with another one) says what it needs and sends nothing.
      const noKey = await runCli(['resume', journal, ...work], { env: w.env });
      assert.equal(noKey.code, 2, noKey.stderr);
      assert.match(noKey.stderr, /holds sealed secrets: pass --identity FILE/);
      assert.equal(changed(), afterKill, 'nothing sent without the identity');
      const wrong = await newKey(w.out, 'other');
      const wrongKey = await runCli(['resume', journal, '--identity', wrong.file, ...work], { env: w.env });
      assert.equal(wrongKey.code, 2, wrongKey.stderr);
      assert.match(wrongKey.stderr, /none of the --identity keys can open it/);

      // Resume, interrupted by SIGINT: exit 130, the partial report is written encrypted, the resume line names --identity.
      const interrupted = await runAndSignal(['resume', journal, '--identity', key.file, ...work], w.env, journal, 40, 'SIGINT');
      assert.ok(interrupted.signalled, 'the resume ended before SIGINT');
      assert.equal(interrupted.result.code, 130, interrupted.result.stderr);
      // The printed line carries the identity file it was given: it works as printed.
      assert.ok(interrupted.result.stderr.includes(`--identity ${key.file}`), interrupted.result.stderr);
      assert.ok(existsSync(`${report}.age`) && !existsSync(report));
      await serverIdle(w.sim);
      const partial = rowsOf(await decryptReport(`${report}.age`, key));
      for (const row of partial.filter((x) => x.status === 'rotated')) assert.equal(row.password, w.sim.password(row.username));
      assert.ok(
        partial.some((x) => x.status === 'not-started'),
        'the SIGINT came mid-run',
      );
      assert.deepEqual(clearHits(filesUnder(w.out, w.state), secretsNow()), [], 'after SIGINT: nothing in clear');
      assertQuiet(interrupted.result, secretsNow(), 'interrupted resume');

      const done = await runCli(['resume', journal, '--identity', key.file, '--json', ...work], { env: w.env });
      assert.equal(done.code, 0, done.stderr);
      assert.equal(summaryOf(done).report, `${report}.age`);
      const live = liveAccountPasswords(w);
      const rows = rowsOf(await decryptReport(`${report}.age`, key));
      assert.equal(rows.length, 200, 'one row per account');
      for (const row of rows) {
        assert.equal(row.status, 'rotated', row.username);
        assert.equal(row.password, live.get(row.username), `${row.username}: live password in the report (none lost)`);
        assert.notEqual(row.password, w.original.get(row.username));
      }
      assert.equal(w.sim.password(w.sim.adminUser), w.original.get(w.sim.adminUser));
      const files = filesUnder(w.out, w.state);
      assert.deepEqual(clearHits(files, live.values()), [], `0 of ${live.size} passwords in clear in ${files.length} files`);
      assert.ok(!files.some((f) => f.endsWith('.tmp')), 'no temporary report left behind');
      assertQuiet(done, live.values(), 'final resume');

      const verified = await runCli(['verify', `${report}.age`, '--identity', key.file], { env: w.env });
      assert.equal(verified.code, 0, verified.stderr);
    });
  });

  it('--same-password: the shared password is sealed in the journal too, and a resume recovers it from the journal', async () => {
    const shared = 'Tango-Shared-Secret-7731';
    await withWorld({ users: 120, faults: { latencyMs: 8, jitterMs: 4 } }, async (w) => {
      const key = await newKey(w.out, 'key');
      const report = join(w.out, 'same.csv');
      const journal = join(w.out, 'same.journal.jsonl');
      const work = ['--yes', '--concurrency', '2', ...WORK];
      const first = await runAndSignal(
        ['rotate', '--same-password', '--encrypt-to', key.recipient, '--output', report, ...work],
        w.env,
        journal,
        20,
        'SIGKILL',
        `${shared}\n`,
      );
      assert.ok(first.signalled && first.result.signal === 'SIGKILL', `the run ended before the kill: ${first.result.stderr}`);
      await serverIdle(w.sim);
      assert.ok(countIntents(journal) >= 20);
      assert.deepEqual(clearHits(filesUnder(w.out, w.state), [shared]), [], 'the shared password is not in clear in the journal');

      // No --same-password on resume: the password comes out of the sealed journal.
      const done = await runCli(['resume', journal, '--identity', key.file, '--json', ...work], { env: w.env });
      assert.equal(done.code, 0, done.stderr);
      for (const u of w.original.keys()) if (u !== w.sim.adminUser) assert.equal(w.sim.password(u), shared, u);
      const rows = rowsOf(await decryptReport(`${report}.age`, key));
      assert.equal(rows.length, 120);
      assert.ok(rows.every((x) => x.status === 'rotated' && x.password === shared));
      assert.deepEqual(clearHits(filesUnder(w.out, w.state), [shared]), []);
      assertQuiet(first.result, [shared], 'rotate --same-password');
      assertQuiet(done, [shared], 'resume');
    });
  });
});

describe('the plaintext-report warning', { timeout: 60_000, skip: !hasScript && 'util-linux script is not installed (no terminal to test on)' }, () => {
  it('on a terminal without --encrypt-to: said once, before the confirmation; with it, or off a terminal: not said', async () => {
    await withWorld({ users: 5 }, async (w) => {
      const key = await newKey(w.out, 'key');
      const WARNING = /the report will hold every new password in clear text.*--encrypt-to age1\.\.\..*--identity key\.txt/;
      const plain = await runOnTerminal(['rotate', '--log-level', 'warn', '--output', join(w.out, 'a.csv')], w.env, 'no');
      assert.equal(plain.code, 2, plain.text);
      assert.match(plain.text, WARNING);
      assert.equal(plain.text.split('in clear text').length - 1, 1, 'said once');
      assert.ok(plain.text.search(WARNING) < plain.text.indexOf('Type "yes"'), 'before the question');

      const sealed = await runOnTerminal(['rotate', '--log-level', 'warn', '--encrypt-to', key.recipient, '--output', join(w.out, 'b.csv')], w.env, 'no');
      assert.equal(sealed.code, 2, sealed.text);
      assert.match(sealed.text, /Type "yes"/);
      assert.doesNotMatch(sealed.text, /in clear text/);

      const piped = await runCli(['rotate', '--yes', '--output', join(w.out, 'c.csv')], { env: w.env });
      assert.equal(piped.code, 0, piped.stderr);
      assert.doesNotMatch(piped.stderr, /in clear text/, 'a scheduled run is not nagged');
      assert.equal(w.sim.stats.passwordChangesApplied, 5, 'only the piped run changed anything');
    });
  });
});
