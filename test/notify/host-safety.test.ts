/**
 * Issue 25, notify's side: a connection lost after the final dot is "maybe accepted" (uncertain,
 * named, never resent without --resend-uncertain), one lost before the message went out whole is
 * "surely not accepted"; a torn report, a FIFO or /dev/zero as --report sends nothing; the report's
 * directory (0755, direct or through a link) keeps its mode.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runNotify } from '../../src/notify/main.js';
import { runCli } from '../e2e/cli-runner.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { reportCsv, startSmtp, testIo, writeReport, type Row, type TestSmtp } from './helpers.js';

const SMTP_PASS = 'Smtp-Secret-42';
let sim: Simulator;
let smtp: TestSmtp;
let root = '';

const ROWS: Row[] = [
  ['user00001', 'account', 'user00001', 'rotated', 'Acct1-Pw-Alpha-111'],
  ['user00002', 'account', 'user00002', 'rotated', 'Acct2-Pw-Bravo-222'],
];

/**
 * A TCP relay in front of the SMTP server (plain SMTP, so it can see the commands). `drop`:
 * `after-dot` forwards the message with its final dot and then cuts the client off before the
 * server's answer reaches it; `at-data` cuts it off when it sends DATA (nothing of the message went out).
 */
async function relay(port: number, drop: 'after-dot' | 'at-data'): Promise<{ port: number; drops: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const state = { port: 0, drops: 0, close: () => new Promise<void>((r) => server.close(() => r())) };
  const server: Server = createServer((client) => {
    sockets.add(client);
    const upstream = connect(port, '127.0.0.1');
    let seen = '';
    let inData = false;
    let cut = false;
    upstream.on('data', (d) => {
      if (!cut) client.write(d);
    });
    upstream.on('error', () => undefined);
    client.on('error', () => undefined);
    client.on('close', () => upstream.end());
    upstream.on('close', () => client.destroy());
    client.on('data', (d: Buffer) => {
      if (cut) return;
      seen += d.toString('latin1');
      if (!inData && /\r\nDATA\r\n|^DATA\r\n/m.test(seen)) {
        inData = true;
        if (drop === 'at-data') {
          cut = true;
          state.drops++;
          client.destroy();
          upstream.end();
          return;
        }
        seen = seen.slice(seen.lastIndexOf('DATA\r\n') + 6);
      }
      upstream.write(d);
      if (inData && drop === 'after-dot' && seen.includes('\r\n.\r\n')) {
        cut = true;
        state.drops++;
        client.destroy();
        upstream.end();
      }
    });
  });
  server.on('close', () => sockets.forEach((s) => s.destroy()));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  state.port = (server.address() as { port: number }).port;
  return state;
}

function argv(report: string, extra: Record<string, unknown> = {}) {
  return { report, server: sim.url, user: 'admin', yes: true, from: 'ops@hoster.example', 'smtp-insecure': true, json: true, rate: 0, ...extra };
}

async function run(a: Record<string, unknown>, smtpPort: number) {
  const t = testIo({ DA_PASSWORD: sim.adminPassword, SMTP_URL: `smtp://mailer:${SMTP_PASS}@127.0.0.1:${smtpPort}` });
  const code = await runNotify(a, t.io);
  const last = t.stdout().trim().split('\n').at(-1);
  return { code, stderr: t.stderr(), json: last ? (JSON.parse(last) as Record<string, unknown>) : {} };
}

function sentLog(report: string): Array<{ t: string; account?: string }> {
  return readFileSync(`${report}.sent.jsonl`, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { t: string; account?: string });
}

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'da-rotate-notify-host-'));
  sim = await startSimulator({ users: 3, suspendedEvery: 0, resellers: 0, extraAdmins: 0 });
  // notify sends only passwords still live on the server: the report's are made the live ones.
  for (const [user, , , , pw] of ROWS) sim.setPassword(user, pw);
  smtp = await startSmtp({ pass: SMTP_PASS, hideStartTls: true });
});
after(async () => {
  await smtp.close();
  await sim.close();
  rmSync(root, { recursive: true, force: true });
});

describe('notify: a lost SMTP connection, torn or special reports, the report directory', { timeout: 60_000 }, () => {
  it('a drop after the final dot is uncertain (named, recorded), and a rerun sends nothing', async () => {
    const report = join(mkdtempSync(join(root, 'dot-')), 'rotation.csv');
    writeReport(report, sim.url, ROWS);
    const r = await relay(smtp.port, 'after-dot');
    try {
      const first = await run(argv(report), r.port);
      assert.equal(r.drops, 1);
      assert.equal(first.code, 3, first.stderr);
      assert.deepEqual(first.json.uncertain, ['user00001']);
      assert.deepEqual(first.json.failed, []);
      assert.deepEqual(
        sentLog(report).map((x) => `${x.t}:${x.account ?? ''}`),
        ['header:', 'attempt:user00001', 'uncertain:user00001'],
      );
    } finally {
      await r.close();
    }
    const before = smtp.arrived;
    const second = await run(argv(report, { only: ['user00001'] }), smtp.port);
    assert.equal(smtp.arrived, before, 'the rerun sent nothing');
    assert.deepEqual(second.json.uncertain, ['user00001']);
    assert.match(second.stderr, /may already have their message .*user00001.*--resend-uncertain/);
  });

  it('a drop before the message went out whole is surely not accepted: recorded failed, and a rerun sends it', async () => {
    const report = join(mkdtempSync(join(root, 'data-')), 'rotation.csv');
    writeReport(report, sim.url, ROWS);
    const r = await relay(smtp.port, 'at-data');
    try {
      const first = await run(argv(report), r.port);
      assert.equal(r.drops, 1);
      assert.equal(first.code, 3, first.stderr);
      assert.deepEqual(first.json.uncertain, []);
      assert.deepEqual(
        (first.json.failed as Array<{ account: string }>).map((f) => f.account),
        ['user00001'],
      );
    } finally {
      await r.close();
    }
    const before = smtp.received.length;
    const second = await run(argv(report), smtp.port);
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(
      smtp.received.slice(before).map((m) => m.to[0]),
      ['user00001@example.net', 'user00002@example.net'],
    );
  });

  it('a torn report (disk full mid-row) sends nothing and names the line', async () => {
    const dir = mkdtempSync(join(root, 'torn-'));
    const report = join(dir, 'rotation.csv');
    const whole = reportCsv(sim.url, ROWS);
    // Cut inside the last row's password: "...,rotated,Ac"
    writeFileSync(report, whole.slice(0, whole.lastIndexOf('Acct2-Pw') + 2), { mode: 0o600 });
    const before = smtp.arrived;
    const r = await run(argv(report), smtp.port);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /line 3 has 6 cells, the header 12/);
    assert.equal(smtp.arrived, before, 'nothing was sent');
    // Cut at the very end of the last cell: every cell there, but no line end.
    writeFileSync(report, whole.trimEnd(), { mode: 0o600 });
    const r2 = await run(argv(report), smtp.port);
    assert.equal(r2.code, 2, r2.stderr);
    assert.match(r2.stderr, /line 3 has no line end/);
    assert.equal(smtp.arrived, before, 'nothing was sent');
  });

  it('a FIFO or /dev/zero as --report is refused at once (exit 2), nothing sent', async () => {
    const fifo = join(mkdtempSync(join(root, 'fifo-')), 'rotation.csv');
    execFileSync('mkfifo', [fifo]);
    const before = smtp.arrived;
    for (const report of [fifo, '/dev/zero']) {
      const r = await run(argv(report), smtp.port);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /is not a regular file/);
    }
    assert.equal(smtp.arrived, before);
  });

  it("the report's 0755 directory keeps its mode, given directly or through a link", async () => {
    const dir = join(mkdtempSync(join(root, 'www-')), 'site');
    mkdirSync(dir);
    chmodSync(dir, 0o755);
    const link = join(root, `site-link-${Date.now()}`);
    symlinkSync(dir, link);
    writeReport(join(dir, 'a.csv'), sim.url, ROWS);
    writeReport(join(dir, 'b.csv'), sim.url, ROWS);
    const direct = await run(argv(join(dir, 'a.csv')), smtp.port);
    assert.equal(direct.code, 0, direct.stderr);
    assert.equal(statSync(dir).mode & 0o7777, 0o755);
    const linked = await run(argv(join(link, 'b.csv')), smtp.port);
    assert.equal(linked.code, 0, linked.stderr);
    assert.equal(statSync(dir).mode & 0o7777, 0o755);
    // --dry-run's .eml directory too, when it exists.
    const eml = await run(argv(join(dir, 'a.csv'), { 'dry-run': true, 'eml-dir': dir }), smtp.port);
    assert.equal(eml.code, 0, eml.stderr);
    assert.equal(statSync(dir).mode & 0o7777, 0o755);
  });

  it('SIGTERM while the server sits on the message after the dot: stops within the grace, exit 130, the message uncertain', async () => {
    const report = join(mkdtempSync(join(root, 'stall-')), 'rotation.csv');
    writeReport(report, sim.url, ROWS);
    let child: import('node:child_process').ChildProcess | undefined;
    // The message arrives whole and is never answered (a server stalling after the final dot).
    const stalled = await startSmtp({
      pass: SMTP_PASS,
      hideStartTls: true,
      beforeAccept: () => {
        child?.kill('SIGTERM');
        return false;
      },
    });
    try {
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
        '--smtp-insecure',
        '--yes',
        '--rate',
        '0',
        '--json',
      ];
      const env = { DA_PASSWORD: sim.adminPassword, SMTP_URL: `smtp://mailer:${SMTP_PASS}@127.0.0.1:${stalled.port}` };
      // Generous bound: nodemailer's own socket timeout (60 s) must not be what ends it.
      const r = await runCli(args, { env, onSpawn: (c) => (child = c), timeoutMs: 45_000 });
      assert.equal(r.timedOut, undefined, `still waiting 45 s after SIGTERM: ${r.stderr}`);
      assert.equal(r.code, 130, r.stderr);
      assert.equal(stalled.arrived, 1);
      assert.deepEqual(
        sentLog(report).map((x) => `${x.t}:${x.account ?? ''}`),
        ['header:', 'attempt:user00001', 'uncertain:user00001'],
      );
    } finally {
      await stalled.close().catch(() => undefined);
    }
  });
});
