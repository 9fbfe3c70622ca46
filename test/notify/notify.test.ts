import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { runNotify } from '../../src/notify/main.js';
import type { NotifyServer } from '../../src/notify/server.js';
import { generateKeyPair, writeEncryptedReport } from '../../src/crypto/index.js';
import { bodyOf, reportCsv, startSmtp, testIo, writeReport, type Row, type TestSmtp } from './helpers.js';

const SMTP_PASS = 'Smtp-Secret-42';
let sim: Simulator;
let smtp: TestSmtp;
let root = '';
let caFile = '';

// Simulator users user00001..user00006; every 3rd is suspended (user00003, user00006).
const ROWS: Row[] = [
  ['user00001', 'account', 'user00001', 'rotated', 'Acct1-Pw-Alpha-111'],
  ['user00001', 'email', 'info@user00001.example.net', 'rotated', 'Mail1-Pw-Bravo-112'],
  ['user00001', 'ftp', 'up@user00001.example.net', 'rotated', 'Ftp1-Pw-Charlie-113'],
  ['user00001', 'login-key', 'deploy', 'rotated', ''],
  ['user00001', 'db-user', 'user00001_wp', 'rotated', 'Db1-Pw-Delta-114'],
  ['user00002', 'account', 'user00002', 'rotated', 'Acct2-Pw-Echo-221'],
  ['user00002', 'email', 'sales@user00002.example.net', 'failed', ''],
  ['user00003', 'account', 'user00003', 'rotated', 'Acct3-Pw-Suspended-331'],
  ['user00004', 'account', 'user00004', 'failed', ''],
  ['user00005', 'account', 'user00005', 'unknown', 'Acct5-Pw-Unknown-551'],
];
const ALL_PASSWORDS = ROWS.map((r) => r[4]).filter(Boolean);

function env(extra: Record<string, string> = {}) {
  return { DA_PASSWORD: sim.adminPassword, SMTP_URL: `smtp://mailer:${SMTP_PASS}@127.0.0.1:${smtp.port}`, ...extra };
}

function argv(report: string, extra: Record<string, unknown> = {}) {
  return { report, server: sim.url, user: 'admin', yes: true, from: 'Hosting Ops <ops@hoster.example>', 'smtp-ca': caFile, json: true, rate: 0, ...extra };
}

function newReport(rows: Row[] = ROWS): string {
  const dir = mkdtempSync(join(root, 'r-'));
  const path = join(dir, 'rotation.csv');
  writeReport(path, sim.url, rows);
  // The report's account passwords are the live ones (notify sends none a server no longer has).
  for (const [user, kind, , , pw] of rows) if (kind === 'account' && pw) sim.setPassword(user, pw);
  return path;
}

async function run(a: Record<string, unknown>, e: Record<string, string> = env(), opts: { tty?: boolean; input?: string; server?: NotifyServer } = {}) {
  const t = testIo(e, opts);
  const code = await runNotify(a, t.io, { server: opts.server });
  const last = t.stdout().trim().split('\n').at(-1);
  return { code, stderr: t.stderr(), json: last ? (JSON.parse(last) as Record<string, unknown>) : {} };
}

function sinceCount(n: number) {
  return smtp.received.slice(n);
}

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'da-rotate-notify-'));
  sim = await startSimulator({ users: 6, suspendedEvery: 3, resellers: 0, extraAdmins: 0 });
  smtp = await startSmtp({ pass: SMTP_PASS });
  caFile = join(root, 'smtp-ca.pem');
  writeFileSync(caFile, smtp.cert);
});
after(async () => {
  await smtp.close();
  await sim.close();
  rmSync(root, { recursive: true, force: true });
});

describe('notify over real SMTP (STARTTLS + AUTH)', { timeout: 60_000 }, () => {
  it('sends one message per account with exactly its own credentials, and a rerun sends nothing', async () => {
    const report = newReport();
    const before = smtp.received.length;
    const r = await run(argv(report));
    assert.equal(r.code, 0, r.stderr);
    const got = sinceCount(before);
    assert.deepEqual(got.map((m) => m.to).sort(), [['user00001@example.net'], ['user00002@example.net']]);
    const own: Record<string, string[]> = {
      'user00001@example.net': ['Acct1-Pw-Alpha-111', 'Mail1-Pw-Bravo-112', 'Ftp1-Pw-Charlie-113', 'Db1-Pw-Delta-114'],
      'user00002@example.net': ['Acct2-Pw-Echo-221'],
    };
    for (const m of got) {
      const body = bodyOf(m.raw);
      const mine = own[m.to[0]!]!;
      for (const pw of mine) assert.ok(body.includes(pw), `${m.to[0]} gets ${pw}`);
      for (const pw of ALL_PASSWORDS.filter((p) => !mine.includes(p))) assert.ok(!body.includes(pw), `${m.to[0]} must not get ${pw}`);
      assert.equal(m.from, 'ops@hoster.example');
    }
    const b1 = bodyOf(got.find((m) => m.to[0] === 'user00001@example.net')!.raw);
    assert.match(b1, /info@user00001\.example\.net/);
    assert.match(b1, /phone/);
    assert.match(b1, /brute-force/);
    // The database user's customer learns that the site needs its configuration edited.
    assert.match(
      b1,
      /Database user: user00001_wp\r?\n {2}new password: Db1-Pw-Delta-114\r?\n {2}IMPORTANT: your website uses this database user: .*wp-config\.php/,
    );
    assert.doesNotMatch(bodyOf(got.find((m) => m.to[0] === 'user00002@example.net')!.raw), /brute-force/, 'no mailbox changed: no device notice');
    assert.match(r.stderr, /1 credential\(s\) have status unknown/);
    assert.deepEqual(r.json.suspended, ['user00003']);

    const log = `${report}.sent.jsonl`;
    assert.equal(statSync(log).mode & 0o777, 0o600);
    const sentLines = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { t: string; account?: string });
    assert.deepEqual(
      sentLines
        .filter((l) => l.t === 'sent')
        .map((l) => l.account)
        .sort(),
      ['user00001', 'user00002'],
    );
    assert.ok(!readFileSync(log, 'utf8').includes('Pw-'), 'the sent-log holds no password');

    const again = await run(argv(report));
    assert.equal(again.code, 0, again.stderr);
    assert.equal(smtp.received.length, before + 2, 'nothing sent twice');
    assert.equal(again.json.alreadySent, 2);
  });

  it('suspended and unknown accounts only when asked, unknown ones marked', async () => {
    const report = newReport();
    const before = smtp.received.length;
    const r = await run(argv(report, { only: ['user00003', 'user00005'], 'include-suspended': true, 'include-unknown': true }));
    assert.equal(r.code, 0, r.stderr);
    const got = sinceCount(before);
    assert.deepEqual(got.map((m) => m.to[0]).sort(), ['user00003@example.net', 'user00005@example.net']);
    assert.match(bodyOf(got.find((m) => m.to[0] === 'user00005@example.net')!.raw), /Acct5-Pw-Unknown-551 {2}\(may not be active yet/);
    assert.match(r.stderr, /--include-unknown: 1 credential/);
  });

  it('asks for --yes when not on a terminal, and for confirmation on one; sends nothing otherwise', async () => {
    const report = newReport();
    const before = smtp.received.length;
    const noYes = await run(argv(report, { yes: false }));
    assert.equal(noYes.code, 2);
    assert.match(noYes.stderr, /pass --yes/);
    const refused = await run(argv(report, { yes: false }), env(), { tty: true, input: 'no\n' });
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /About to send 2 message\(s\).*\n {2}user00001 -> user00001@example.net\n/);
    assert.equal(smtp.received.length, before);
  });

  it('login-link mode carries the link and no password at all', async () => {
    const report = newReport();
    const links: string[] = [];
    const stub: NotifyServer = {
      origin: sim.url,
      loginLinks: true,
      userConfig: async (u) => ({ email: `${u}@example.net`, suspended: u === 'user00003' ? 'yes' : 'no' }),
      createLoginLink: async (u) => {
        const link = `https://da.example.net:2222/api/login/url?key=ONE-TIME-${u}`;
        links.push(link);
        return link;
      },
      close: async () => undefined,
    };
    const before = smtp.received.length;
    const r = await run(argv(report, { deliver: 'login-link' }), env(), { server: stub });
    assert.equal(r.code, 0, r.stderr);
    const got = sinceCount(before);
    assert.equal(got.length, 2);
    for (const m of got) {
      const body = bodyOf(m.raw);
      const user = m.to[0]!.split('@')[0]!;
      assert.ok(body.includes(`ONE-TIME-${user}`), body);
      for (const pw of ALL_PASSWORDS) assert.ok(!body.includes(pw), `login-link message must not carry ${pw}`);
    }
    assert.match(bodyOf(got.find((m) => m.to[0] === 'user00001@example.net')!.raw), /Mailbox: info@user00001\.example\.net/);

    // Against the real client and the simulator: each link is a one-time URL created as that user.
    const urlsBefore = sim.loginUrls().length;
    const real = await run(argv(newReport(), { deliver: 'login-link' }));
    assert.equal(real.code, 0, real.stderr);
    const sent = sinceCount(before + 2);
    assert.equal(sent.length, 2);
    const created = sim.loginUrls().slice(urlsBefore);
    assert.deepEqual(created.map((u) => u.owner).sort(), ['user00001', 'user00002']);
    for (const m of sent) {
      const user = m.to[0]!.split('@')[0]!;
      const mine = created.find((u) => u.owner === user)!;
      assert.ok(bodyOf(m.raw).includes(mine.url), 'the message carries its own one-time link');
      for (const pw of ALL_PASSWORDS) assert.ok(!bodyOf(m.raw).includes(pw));
    }
  });

  it('an SMTP authentication failure stops at once with exit 3 and sends nothing', async () => {
    const report = newReport();
    const before = smtp.received.length;
    const r = await run(argv(report), env({ SMTP_URL: `smtp://mailer:wrong-Pass-9@127.0.0.1:${smtp.port}` }));
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /SMTP authentication to smtp:\/\/127\.0\.0\.1:\d+ failed/);
    assert.ok(!r.stderr.includes('wrong-Pass-9'));
    assert.equal(smtp.received.length, before);
  });

  it('refuses to send without TLS: no STARTTLS offered, or an untrusted certificate, is exit 3', async () => {
    const clear = await startSmtp({ pass: SMTP_PASS, hideStartTls: true });
    try {
      const r = await run(argv(newReport()), env({ SMTP_URL: `smtp://mailer:${SMTP_PASS}@127.0.0.1:${clear.port}` }));
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, /TLS with the SMTP server/);
      assert.equal(clear.received.length, 0);
    } finally {
      await clear.close();
    }
    const before = smtp.received.length;
    const untrusted = await run(argv(newReport(), { 'smtp-ca': undefined }));
    assert.equal(untrusted.code, 3, untrusted.stderr);
    assert.match(untrusted.stderr, /TLS with the SMTP server/);
    assert.equal(smtp.received.length, before);
  });

  it('--dry-run writes one 0600 .eml per message and sends nothing', async () => {
    const report = newReport();
    const emlDir = join(mkdtempSync(join(root, 'eml-')), 'out');
    const before = smtp.received.length;
    const r = await run(argv(report, { 'dry-run': true, 'eml-dir': emlDir, yes: false }), { DA_PASSWORD: sim.adminPassword });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readdirSync(emlDir).sort(), ['user00001.eml', 'user00002.eml']);
    for (const f of readdirSync(emlDir)) assert.equal(statSync(join(emlDir, f)).mode & 0o777, 0o600);
    const eml = readFileSync(join(emlDir, 'user00002.eml'), 'utf8');
    assert.match(eml, /^To: user00002@example\.net$/m);
    assert.ok(bodyOf(eml).includes('Acct2-Pw-Echo-221'));
    assert.equal(smtp.received.length, before);
    assert.ok(!existsSync(`${report}.sent.jsonl`), 'a dry run records nothing as sent');
  });

  it('reads an encrypted report only with --identity', async () => {
    const keys = await generateKeyPair();
    const dir = mkdtempSync(join(root, 'enc-'));
    const report = join(dir, 'rotation.csv.age');
    await writeEncryptedReport(report, reportCsv(sim.url, ROWS), [keys.recipient]);
    const idFile = join(dir, 'key.txt');
    writeFileSync(idFile, `# test key\n${keys.identity}\n`, { mode: 0o600 });

    const before = smtp.received.length;
    const missing = await run(argv(report));
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /is encrypted: pass --identity FILE/);
    const r = await run(argv(report, { identity: idFile }));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(smtp.received.length, before + 2);
    assert.ok(existsSync(join(dir, 'rotation.csv.sent.jsonl')));
  });

  it('refuses a report of another server before sending anything', async () => {
    const dir = mkdtempSync(join(root, 'other-'));
    const report = join(dir, 'r.csv');
    writeReport(report, 'https://elsewhere.example:2222', ROWS);
    const r = await run(argv(report));
    assert.equal(r.code, 2);
    assert.match(r.stderr, /this report is for https:\/\/elsewhere\.example:2222/);
  });
});
