/**
 * A notify run killed mid-batch (the built CLI, SIGKILL, no chance to clean up) and run again:
 * nobody gets a second message, the one message caught in flight is named and held back until
 * --resend-uncertain. Needs dist/ (npx tsc -p tsconfig.json).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { runCli } from '../e2e/cli-runner.js';
import { startSmtp, writeReport, type Row, type TestSmtp } from './helpers.js';

const SMTP_PASS = 'Smtp-Secret-42';
let sim: Simulator;
let root = '';

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'da-rotate-notify-resume-'));
  sim = await startSimulator({ users: 5, suspendedEvery: 0, resellers: 0, extraAdmins: 0 });
});
after(async () => {
  await sim.close();
  rmSync(root, { recursive: true, force: true });
});

describe('notify, killed mid-batch and rerun', { timeout: 90_000 }, () => {
  it('sends nothing twice, and names the message that may have gone out', async () => {
    const users = ['user00001', 'user00002', 'user00003', 'user00004', 'user00005'];
    const rows: Row[] = users.map((u, i) => [u, 'account', u, 'rotated', `Pw-${u}-${i}-Zeta`]);
    const report = join(root, 'rotation.csv');
    writeReport(report, sim.url, rows);
    for (const [user, , , , pw] of rows) sim.setPassword(user, pw);
    let child: ChildProcess | undefined;
    // The third message arrives, is never answered, and the sender is killed while waiting.
    const smtp: TestSmtp = await startSmtp({
      pass: SMTP_PASS,
      beforeAccept: (_m, index) => {
        if (index === 2) {
          child?.kill('SIGKILL');
          return false;
        }
        return true;
      },
    });
    const ca = join(root, 'ca.pem');
    writeFileSync(ca, smtp.cert);
    const args = [
      'notify',
      '--report',
      report,
      '--server',
      sim.url,
      '--user',
      'admin',
      '--from',
      'ops@hoster.example',
      '--smtp-ca',
      ca,
      '--yes',
      '--rate',
      '0',
      '--json',
    ];
    const env = { DA_PASSWORD: sim.adminPassword, SMTP_URL: `smtp://mailer:${SMTP_PASS}@127.0.0.1:${smtp.port}` };
    try {
      const first = await runCli(args, { env, onSpawn: (c) => (child = c) });
      assert.equal(first.signal, 'SIGKILL', first.stderr);
      assert.equal(first.code, null);
      assert.deepEqual(
        smtp.received.map((m) => m.to[0]),
        ['user00001@example.net', 'user00002@example.net'],
      );

      const second = await runCli(args, { env });
      assert.equal(second.code, 1, second.stderr);
      assert.match(second.stderr, /1 account\(s\) may already have their message .*: user00003; .*--resend-uncertain/);
      assert.deepEqual(
        smtp.received.map((m) => m.to[0]),
        ['user00001@example.net', 'user00002@example.net', 'user00004@example.net', 'user00005@example.net'],
      );

      const third = await runCli([...args, '--resend-uncertain'], { env });
      assert.equal(third.code, 0, third.stderr);
      const counts = new Map<string, number>();
      for (const m of smtp.received) counts.set(m.to[0]!, (counts.get(m.to[0]!) ?? 0) + 1);
      assert.deepEqual(
        [...counts.entries()].sort(),
        users.map((u) => [`${u}@example.net`, 1]),
      );

      const fourth = await runCli(args, { env });
      assert.equal(fourth.code, 0, fourth.stderr);
      assert.equal(smtp.received.length, 5);
      const log = readFileSync(`${report}.sent.jsonl`, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { t: string; account?: string });
      assert.deepEqual(
        log
          .filter((r) => r.t === 'sent')
          .map((r) => r.account)
          .sort(),
        users,
      );
    } finally {
      await smtp.close();
    }
  });
});
