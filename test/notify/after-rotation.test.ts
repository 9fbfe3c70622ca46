/**
 * notify end to end after a real rotation: the built CLI rotates an incident sweep (account,
 * mailboxes, FTP) on the simulator, then `notify` hands each owner exactly their own new
 * credentials through a real SMTP server (STARTTLS + AUTH, in-process), from a plain report and
 * from an encrypted one with --identity; --deliver login-link carries a one-time link the
 * simulator created for that user and no password at all. Needs dist/ (npm run build).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { decryptWithIdentities, generateKeyPair } from '../../src/crypto/index.js';
import { daUrl, runCli, summaryOf, tempDir, type CliResult } from '../e2e/cli-runner.js';
import { bodyOf, startSmtp, type Received, type TestSmtp } from './helpers.js';

const SMTP_PASS = 'Smtp-Secret-42';
const USERS = ['user00001', 'user00002', 'user00003', 'user00004', 'user00005', 'user00006'];

let smtp: TestSmtp;
let ca = '';
let root = '';

before(async () => {
  root = tempDir('da-rotate-notify-e2e-');
  smtp = await startSmtp({ pass: SMTP_PASS });
  ca = join(root, 'smtp-ca.pem');
  writeFileSync(ca, smtp.cert);
});
after(async () => {
  await smtp.close();
  rmSync(root, { recursive: true, force: true });
});

type Row = Record<'username' | 'kind' | 'credential' | 'status' | 'password', string>;

/** Per owner, the new secrets the report gives them, each checked against the simulator's live one. */
function ownSecrets(sim: Simulator, csv: string): Map<string, string[]> {
  const rows = parse<Row>(csv, { columns: true, skip_empty_lines: true });
  const own = new Map<string, string[]>();
  for (const r of rows) {
    assert.equal(r.status, 'rotated', `${r.kind} ${r.credential}`);
    const live =
      r.kind === 'account'
        ? sim.password(r.username)
        : r.kind === 'email'
          ? sim.mailboxPassword(r.credential)
          : sim.ftpAccounts(r.username).find((f) => f.fulluser === r.credential)?.password;
    assert.equal(r.password, live, `${r.kind} ${r.credential}: live`);
    own.set(r.username, [...(own.get(r.username) ?? []), r.password]);
  }
  assert.deepEqual([...own.keys()].sort(), USERS);
  for (const u of USERS) assert.ok((own.get(u) ?? []).length >= 3, `${u}: account, mailboxes and FTP`);
  return own;
}

/** Each message goes to its owner's contact address and carries all of their secrets and none of anyone else's. */
function assertOwnCredentialsOnly(messages: Array<{ to: string; body: string }>, own: Map<string, string[]>): void {
  assert.deepEqual(
    messages.map((m) => m.to).sort(),
    USERS.map((u) => `${u}@example.net`),
  );
  const all = [...own.values()].flat();
  for (const m of messages) {
    const user = m.to.split('@')[0]!;
    const mine = own.get(user)!;
    for (const pw of mine) assert.ok(m.body.includes(pw), `${user} gets each of their passwords`);
    for (const pw of all.filter((p) => !mine.includes(p))) assert.ok(!m.body.includes(pw), `${user} gets no one else's password`);
    assert.match(m.body, /Mailbox: \S+@/);
    assert.match(m.body, /FTP account: \S+@/);
    assert.match(m.body, /brute-force/, 'mailboxes changed: the devices notice');
  }
}

function receivedSince(n: number): Array<{ to: string; body: string; raw: Received }> {
  return smtp.received.slice(n).map((m) => ({ to: m.to[0]!, body: bodyOf(m.raw), raw: m }));
}

function notifyArgs(report: string, extra: string[] = []): string[] {
  return ['notify', '--report', report, '--from', 'Hosting Ops <ops@hoster.example>', '--smtp-ca', ca, '--yes', '--rate', '0', '--json', ...extra];
}

function notifyJson(r: CliResult): { sent: unknown[]; alreadySent: number; exitCode: number } {
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { sent: unknown[]; alreadySent: number; exitCode: number };
}

async function sweep(sim: Simulator, out: string, env: Record<string, string>, extra: string[] = []): Promise<string> {
  const r = await runCli(['rotate', '--yes', '--json', '--include', 'account,email,ftp', '--output', join(out, 'sweep.csv'), '--log-level', 'warn', ...extra], {
    env,
  });
  assert.equal(r.code, 0, r.stderr);
  return summaryOf(r).report;
}

describe('notify after a real rotation', { timeout: 120_000 }, () => {
  it('plain report: the dry run and the SMTP run give each owner their own account, mailbox and FTP credentials; a rerun sends nothing', async () => {
    const sim = await startSimulator({ users: 6, suspendedEvery: 0, resellers: 0, extraAdmins: 0 });
    const out = tempDir('da-rotate-notify-plain-');
    try {
      const env = { DA_URL: daUrl(sim), XDG_STATE_HOME: join(out, 'state'), SMTP_URL: `smtp://mailer:${SMTP_PASS}@127.0.0.1:${smtp.port}` };
      const report = await sweep(sim, out, env);
      const own = ownSecrets(sim, readFileSync(report, 'utf8'));

      const emlDir = join(out, 'eml');
      const dry = await runCli(notifyArgs(report, ['--dry-run', '--eml-dir', emlDir]), { env });
      assert.equal(dry.code, 0, dry.stderr);
      assert.deepEqual(
        readdirSync(emlDir).sort(),
        USERS.map((u) => `${u}.eml`),
      );
      assertOwnCredentialsOnly(
        readdirSync(emlDir).map((f) => {
          const raw = readFileSync(join(emlDir, f), 'utf8');
          return { to: /^To: (\S+)$/m.exec(raw)![1]!, body: bodyOf(raw) };
        }),
        own,
      );
      assert.ok(!existsSync(`${report}.sent.jsonl`), 'a dry run records nothing as sent');

      const before = smtp.received.length;
      const sent = await runCli(notifyArgs(report), { env });
      assert.equal(sent.code, 0, sent.stderr);
      assert.equal(notifyJson(sent).sent.length, 6);
      assertOwnCredentialsOnly(receivedSince(before), own);
      for (const pw of [...own.values()].flat()) assert.ok(!sent.stderr.includes(pw) && !sent.stdout.includes(pw), 'no password on the terminal');
      const log = readFileSync(`${report}.sent.jsonl`, 'utf8');
      for (const pw of [...own.values()].flat()) assert.ok(!log.includes(pw), 'the sent-log holds no password');

      const again = await runCli(notifyArgs(report), { env });
      assert.equal(again.code, 0, again.stderr);
      assert.equal(notifyJson(again).alreadySent, 6);
      assert.equal(smtp.received.length, before + 6, 'a rerun sends nothing new');
    } finally {
      await sim.close();
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('encrypted report: notify needs --identity, delivers the same, and no password reaches the disk in clear (dry run included)', async () => {
    const sim = await startSimulator({ users: 6, suspendedEvery: 0, resellers: 0, extraAdmins: 0 });
    const out = tempDir('da-rotate-notify-enc-');
    try {
      const keys = await generateKeyPair();
      const keyFile = join(root, `key-${Date.now()}.txt`);
      writeFileSync(keyFile, `${keys.identity}\n`, { mode: 0o600 });
      const env = { DA_URL: daUrl(sim), XDG_STATE_HOME: join(out, 'state'), SMTP_URL: `smtp://mailer:${SMTP_PASS}@127.0.0.1:${smtp.port}` };
      const report = await sweep(sim, out, env, ['--encrypt-to', keys.recipient]);
      assert.match(report, /\.csv\.age$/);
      const csv = Buffer.from(await decryptWithIdentities(readFileSync(report), [keys.identity])).toString('utf8');
      const own = ownSecrets(sim, csv);
      const all = [...own.values()].flat();
      const onDisk = () => {
        const hits: string[] = [];
        const walk = (d: string) => {
          for (const e of readdirSync(d, { withFileTypes: true })) {
            const p = join(d, e.name);
            if (e.isDirectory()) walk(p);
            else for (const pw of all) if (readFileSync(p).includes(Buffer.from(pw))) hits.push(`${p}: ${pw}`);
          }
        };
        walk(out);
        return hits;
      };

      const before = smtp.received.length;
      const noKey = await runCli(notifyArgs(report), { env });
      assert.equal(noKey.code, 2, noKey.stderr);
      assert.match(noKey.stderr, /is encrypted: pass --identity FILE/);
      assert.equal(smtp.received.length, before);

      const emlDir = join(out, 'eml');
      const dry = await runCli(notifyArgs(report, ['--identity', keyFile, '--dry-run', '--eml-dir', emlDir]), { env });
      assert.equal(dry.code, 0, dry.stderr);
      assert.equal(readdirSync(emlDir).length, 6);
      assert.match(readFileSync(join(emlDir, 'user00001.eml'), 'utf8'), /hidden: dry run of an encrypted report/);

      const sent = await runCli(notifyArgs(report, ['--identity', keyFile]), { env });
      assert.equal(sent.code, 0, sent.stderr);
      assertOwnCredentialsOnly(receivedSince(before), own);
      assert.ok(existsSync(join(out, 'sweep.csv.sent.jsonl')));
      assert.deepEqual(onDisk(), [], `0 of ${all.length} new passwords in clear on disk after rotate, dry run and send`);

      const again = await runCli(notifyArgs(report, ['--identity', keyFile]), { env });
      assert.equal(again.code, 0, again.stderr);
      assert.equal(smtp.received.length, before + 6, 'a rerun sends nothing new');
    } finally {
      await sim.close();
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('--deliver login-link: each message carries the one-time link the simulator created for that user, and no password', async () => {
    const sim = await startSimulator({ users: 6, suspendedEvery: 0, resellers: 0, extraAdmins: 0 });
    const out = tempDir('da-rotate-notify-link-');
    try {
      const env = { DA_URL: daUrl(sim), XDG_STATE_HOME: join(out, 'state'), SMTP_URL: `smtp://mailer:${SMTP_PASS}@127.0.0.1:${smtp.port}` };
      const report = await sweep(sim, out, env);
      const own = ownSecrets(sim, readFileSync(report, 'utf8'));
      const all = [...own.values()].flat();
      const before = smtp.received.length;
      const r = await runCli(notifyArgs(report, ['--deliver', 'login-link']), { env });
      assert.equal(r.code, 0, r.stderr);
      const got = receivedSince(before);
      assert.deepEqual(
        got.map((m) => m.to).sort(),
        USERS.map((u) => `${u}@example.net`),
      );
      const links = sim.loginUrls();
      assert.deepEqual(links.map((l) => l.owner).sort(), USERS, 'one one-time URL per user, created as that user');
      for (const m of got) {
        const user = m.to.split('@')[0]!;
        const link = links.find((l) => l.owner === user)!;
        assert.ok(m.body.includes(link.url), `${user}: their own link`);
        for (const other of links.filter((l) => l.owner !== user)) assert.ok(!m.body.includes(other.key), `${user}: not another user's link`);
        for (const pw of all) assert.ok(!m.raw.raw.includes(pw) && !m.body.includes(pw), `${user}: no password in a login-link message`);
        assert.equal(link.usedAt, undefined, 'the link is not spent by sending it');
        assert.ok(
          link.expires.getTime() > link.created.getTime() && link.expires.getTime() - link.created.getTime() <= 25 * 3600_000,
          'it expires within a day',
        );
        assert.match(m.body, /Mailbox: \S+@/, 'the mailboxes that changed are named, without their passwords');
      }
      assert.ok(!r.stderr.includes('key='), 'the links are not printed');
    } finally {
      await sim.close();
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('--deliver login-link on a server whose links made as admin|user belong to the admin: no link is ever sent, the run stops non-zero saying why, the admin link is deleted (issue 26)', async () => {
    const sim = await startSimulator({ users: 6, suspendedEvery: 0, resellers: 0, extraAdmins: 0, loginUrlOwner: 'admin' });
    const out = tempDir('da-rotate-notify-adminlink-');
    try {
      const env = { DA_URL: daUrl(sim), XDG_STATE_HOME: join(out, 'state'), SMTP_URL: `smtp://mailer:${SMTP_PASS}@127.0.0.1:${smtp.port}` };
      const report = await sweep(sim, out, env);
      const before = smtp.received.length;
      const r = await runCli(notifyArgs(report, ['--deliver', 'login-link']), { env });
      assert.notEqual(r.code, 0, 'not a success');
      assert.equal(smtp.received.length, before, 'nothing sent');
      assert.match(r.stderr, /could not be proved to open user\d+'s own login .*under admin's own login/);
      assert.match(r.stderr, /--link-fallback password/);
      assert.deepEqual(sim.loginUrls(), [], 'the admin login link it made was deleted again');

      // Asked for: those accounts get their passwords instead, never a link.
      const fallback = await runCli(notifyArgs(report, ['--deliver', 'login-link', '--link-fallback', 'password']), { env });
      assert.equal(fallback.code, 0, fallback.stderr);
      const got = receivedSince(before);
      assert.equal(got.length, USERS.length);
      const own = ownSecrets(sim, readFileSync(report, 'utf8'));
      for (const m of got) {
        const user = m.to.split('@')[0]!;
        for (const pw of own.get(user)!) assert.ok(m.body.includes(pw), `${user}: their passwords instead`);
        assert.ok(!/api\/login\/url/.test(m.body), `${user}: no login link`);
      }
      assert.deepEqual(sim.loginUrls(), []);
    } finally {
      await sim.close();
      rmSync(out, { recursive: true, force: true });
    }
  });
});
