import { accountCredentials, journalHeader } from './journal-fixture.js';
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import * as nodeCrypto from 'node:crypto';
const require_crypto = () => nodeCrypto;
import { JournalWriter, parseJournal, readJournal, isSettled, type JournalHeader } from '../../src/rotation/journal.js';
import type { Credential } from '../../src/kinds/index.js';
import { REPORT_COLUMNS, ReportWriter, ensurePrivateDir, neutralizeCell, rowsFromJournal } from '../../src/rotation/report.js';
import { readReport } from '../../src/rotation/report-parse.js';
import { acquireLock, LockHeld } from '../../src/rotation/lock.js';

let dir = '';
before(() => (dir = mkdtempSync(join(tmpdir(), 'da-rotate-test-'))));
after(() => rmSync(dir, { recursive: true, force: true }));

function header(accounts: string[], extra: Credential[] = []): JournalHeader {
  return journalHeader(accountCredentials(accounts, extra), {
    startedAt: new Date().toISOString(),
    report: join(dir, 'r.csv'),
    skipped: [{ username: '=bad', reason: 'not a valid DirectAdmin username' }],
  });
}

const acc = (u: string) => `account:${u}:${u}`;
const plain = { secretOf: (i: { pw?: string }) => i.pw };

describe('journal', { timeout: 30_000 }, () => {
  it('is created 0600, exclusively, and read back with intents and outcomes', async () => {
    const path = join(dir, 'a.journal.jsonl');
    const j = await JournalWriter.create(path, header(['amy', 'bob', 'cat']));
    await Promise.all([
      j.append({ t: 'intent', c: acc('amy'), pw: 'PwAmy1234567890', at: 'x' }),
      j.append({ t: 'intent', c: acc('bob'), pw: 'PwBob1234567890', at: 'x' }),
    ]);
    await j.append({ t: 'outcome', c: acc('amy'), status: 'rotated', attempts: 1, verified: false, startedAt: 'a', finishedAt: 'b' }, false);
    await j.close();
    assert.equal(statSync(path).mode & 0o777, 0o600);
    await assert.rejects(JournalWriter.create(path, header(['amy'])), /exists: choose another --output/);
    const s = readJournal(path);
    assert.equal(s.intents.get(acc('bob'))?.pw, 'PwBob1234567890');
    assert.ok(isSettled(s.outcomes.get(acc('amy'))));
    assert.ok(!isSettled(s.outcomes.get(acc('bob'))));
    assert.equal(s.ended, false);
  });

  it('writes a batch of intents at once and still flushes lazy records on close', async () => {
    const path = join(dir, 'b.journal.jsonl');
    const j = await JournalWriter.create(path, header(['amy', 'bob']));
    await j.appendMany([
      { t: 'intent', c: acc('amy'), pw: 'PwAmy1234567890', at: 'x' },
      { t: 'intent', c: acc('bob'), pw: 'PwBob1234567890', at: 'x' },
    ]);
    assert.equal(readJournal(path).intents.size, 2, 'durable as soon as appendMany resolves');
    void j.append({ t: 'outcome', c: acc('amy'), status: 'rotated', attempts: 1, verified: false, startedAt: 'a', finishedAt: 'b' }, false);
    await j.close();
    assert.equal(readJournal(path).outcomes.get(acc('amy'))?.status, 'rotated');
  });

  it('ignores a last line cut short by a crash, refuses damage elsewhere and tampering', () => {
    const h = JSON.stringify(header(['amy']));
    const good = `${h}\n${JSON.stringify({ t: 'intent', c: acc('amy'), pw: 'x', at: 'x' })}\n`;
    const s = parseJournal(good + '{"t":"outc');
    assert.equal(s.truncatedTail, true);
    assert.equal(s.intents.size, 1);
    assert.throws(() => parseJournal(`${h}\n{broken\n${JSON.stringify({ t: 'end' })}\n`), /line 2/);
    const tampered = JSON.stringify({ ...header(['amy']), credentials: header(['amy', 'eve']).credentials });
    assert.throws(() => parseJournal(tampered + '\n'), /checksum/);
    assert.throws(() => parseJournal('{"t":"intent"}\n'), /not a da-rotate journal/);
  });
});

describe('journal version 1', { timeout: 30_000 }, () => {
  it('reads a journal of version 0.1 (account passwords only) as credentials', () => {
    const accounts = ['amy', 'bob'];
    const { createHash } = require_crypto();
    const v1 = {
      t: 'header',
      v: 1,
      server: 'https://h:2222',
      host: 'h:2222',
      user: 'admin',
      scope: 'users',
      startedAt: 'x',
      report: 'r.csv',
      options: { length: 22, symbols: false, samePassword: false, exclude: [], only: null },
      accounts,
      accountsSha256: createHash('sha256').update(accounts.join('\n')).digest('hex'),
      skipped: [],
    };
    const text =
      [
        v1,
        { t: 'intent', u: 'amy', pw: 'PwAmy1234567890', at: 'x' },
        { t: 'outcome', u: 'amy', status: 'rotated', attempts: 1, verified: true, startedAt: 'a', finishedAt: 'b' },
      ]
        .map((l) => JSON.stringify(l))
        .join('\n') + '\n';
    const s = parseJournal(text);
    assert.deepEqual(s.header.credentials, [
      { kind: 'account', owner: 'amy', name: 'amy' },
      { kind: 'account', owner: 'bob', name: 'bob' },
    ]);
    assert.equal(s.intents.get('account:amy:amy')?.pw, 'PwAmy1234567890');
    assert.equal(s.outcomes.get('account:amy:amy')?.status, 'rotated');
  });

  it('leaves a systematic refusal unsettled so a resume tries again', () => {
    assert.equal(isSettled({ t: 'outcome', c: 'x', status: 'failed', attempts: 1, verified: false, startedAt: 'a', finishedAt: 'b', systematic: true }), false);
    assert.equal(isSettled({ t: 'outcome', c: 'x', status: 'failed', attempts: 1, verified: false, startedAt: 'a', finishedAt: 'b' }), true);
    assert.equal(isSettled({ t: 'outcome', c: 'x', status: 'revoked', attempts: 1, verified: false, startedAt: 'a', finishedAt: 'b' }), true);
    assert.equal(isSettled({ t: 'outcome', c: 'x', status: 'unknown', attempts: 1, verified: false, startedAt: 'a', finishedAt: 'b' }), false);
  });
});

describe('report', { timeout: 30_000 }, () => {
  it('escapes spreadsheet formulas and control characters', () => {
    assert.equal(neutralizeCell('=1+1'), "'=1+1");
    assert.equal(neutralizeCell('+x'), "'+x");
    assert.equal(neutralizeCell('-x'), "'-x");
    assert.equal(neutralizeCell('@x'), "'@x");
    assert.ok(neutralizeCell('\tx').startsWith("'"));
    assert.ok(neutralizeCell('\rx').startsWith("'"));
    assert.equal(neutralizeCell('plain'), 'plain');
  });

  it('is created 0600 in a 0700 directory, never overwrites, and stays valid CSV with hostile cells', async () => {
    const sub = join(dir, 'out', 'nested');
    await ensurePrivateDir(sub);
    assert.equal(statSync(sub).mode & 0o777, 0o700);
    const path = join(sub, 'r.csv');
    const w = await ReportWriter.create(path);
    const hostile = ['=HYPERLINK("http://x")', 'a,b"c', 'line\nbreak', '@SUM(A1)', 'ünï'];
    for (const u of hostile)
      w.write({ server: 'https://h:2222', username: u, kind: 'account', credential: u, status: 'skipped', attempts: 0, verified: false, error: 'x' });
    w.write({
      server: 'https://h:2222',
      username: 'fred',
      kind: 'account',
      credential: 'fred',
      status: 'rotated',
      password: 'Abc123def456ghi789jkl0',
      attempts: 1,
      verified: true,
    });
    await w.close();
    assert.equal(statSync(path).mode & 0o777, 0o600);
    await assert.rejects(ReportWriter.create(path), /exists: choose another --output/);
    const text = readFileSync(path, 'utf8');
    const records = parse(text);
    assert.deepEqual(records[0], [...REPORT_COLUMNS]);
    for (const r of records) assert.equal(r.length, REPORT_COLUMNS.length);
    for (const r of records.slice(1)) assert.ok(!/^[=+\-@\t\r]/.test(r[1]!), r[1]);
    const back = readReport(path);
    assert.deepEqual(back.map((r) => r.username).slice(0, 2), ['=HYPERLINK("http://x")', 'a,b"c']);
    assert.equal(back.at(-1)!.password, 'Abc123def456ghi789jkl0');
  });

  it('is rebuilt from the journal: settled rows keep passwords, failed ones do not', () => {
    const h = header(['amy', 'bob', 'cat', 'dan']);
    const lines = [
      h,
      { t: 'intent', c: acc('amy'), pw: 'PwAmy', at: 'x' },
      { t: 'outcome', c: acc('amy'), status: 'rotated', attempts: 1, verified: true },
      { t: 'intent', c: acc('bob'), pw: 'PwBob', at: 'x' },
      { t: 'outcome', c: acc('bob'), status: 'failed', attempts: 1, verified: false, error: 'Password is too short' },
      { t: 'intent', c: acc('cat'), pw: 'PwCat', at: 'x' },
    ];
    const state = parseJournal(lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const rows = rowsFromJournal(state, { includePending: true, ...plain });
    const by = new Map(rows.map((r) => [r.username, r]));
    assert.equal(by.get('amy')!.password, 'PwAmy');
    assert.equal(by.get('bob')!.password, undefined);
    assert.equal(by.get('cat')!.status, 'unknown');
    assert.equal(by.get('cat')!.password, 'PwCat');
    assert.equal(by.get('dan')!.status, 'not-started');
    assert.equal(by.get('=bad')!.status, 'skipped');
    assert.equal(
      rowsFromJournal(state, { includePending: false, ...plain }).some((r) => r.username === 'cat'),
      false,
    );
  });
});

describe('lock', { timeout: 30_000 }, () => {
  it('holds one run per server, names the holder, and is 0600', async () => {
    const path = join(dir, '.da-rotate-h.lock');
    const lock = await acquireLock(path, 'https://h:2222');
    assert.equal(statSync(path).mode & 0o777, 0o600);
    await assert.rejects(acquireLock(path, 'https://h:2222'), (e: unknown) => e instanceof LockHeld && e.message.includes(String(process.pid)));
    await lock.release();
    const again = await acquireLock(path, 'https://h:2222');
    await again.release();
  });

  it('takes over a stale lock left by a dead process on this host', async () => {
    const path = join(dir, '.da-rotate-stale.lock');
    const { hostname } = await import('node:os');
    writeFileSync(path, JSON.stringify({ pid: 2 ** 22 + 12345, host: hostname(), startedAt: 'x', server: 's' }), { mode: 0o600 });
    const lock = await acquireLock(path, 's');
    assert.equal(lock.tookOver?.pid, 2 ** 22 + 12345);
    await lock.release();
  });

  it('does not take over a lock from another host', async () => {
    const path = join(dir, '.da-rotate-other.lock');
    writeFileSync(path, JSON.stringify({ pid: 1, host: 'elsewhere', startedAt: 'x', server: 's' }), { mode: 0o600 });
    appendFileSync(path, '');
    await assert.rejects(acquireLock(path, 's'), LockHeld);
  });
});
