import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { JournalWriter, hashAccounts, parseJournal, readJournal, isSettled, type JournalHeader } from '../../src/rotation/journal.js';
import { REPORT_COLUMNS, ReportWriter, ensurePrivateDir, neutralizeCell, readReport, rowsFromJournal } from '../../src/rotation/report.js';
import { acquireLock, LockHeld } from '../../src/rotation/lock.js';

let dir = '';
before(() => (dir = mkdtempSync(join(tmpdir(), 'da-rotate-test-'))));
after(() => rmSync(dir, { recursive: true, force: true }));

function header(accounts: string[]): JournalHeader {
  return {
    t: 'header', v: 1, server: 'https://h:2222', host: 'h:2222', user: 'admin', scope: 'users',
    startedAt: new Date().toISOString(), report: join(dir, 'r.csv'),
    options: { length: 22, symbols: false, samePassword: false, exclude: [], only: null },
    accounts, accountsSha256: hashAccounts(accounts), skipped: [{ username: '=bad', reason: 'not a valid DirectAdmin username' }],
  };
}

describe('journal', () => {
  it('is created 0600, exclusively, and read back with intents and outcomes', async () => {
    const path = join(dir, 'a.journal.jsonl');
    const j = await JournalWriter.create(path);
    await j.append(header(['amy', 'bob', 'cat']));
    await Promise.all([
      j.append({ t: 'intent', u: 'amy', pw: 'PwAmy1234567890', at: 'x' }),
      j.append({ t: 'intent', u: 'bob', pw: 'PwBob1234567890', at: 'x' }),
    ]);
    await j.append({ t: 'outcome', u: 'amy', status: 'rotated', attempts: 1, verified: false, startedAt: 'a', finishedAt: 'b' }, false);
    await j.close();
    assert.equal(statSync(path).mode & 0o777, 0o600);
    await assert.rejects(JournalWriter.create(path), /exists: choose another --output/);
    const s = readJournal(path);
    assert.equal(s.intents.get('bob')?.pw, 'PwBob1234567890');
    assert.ok(isSettled(s.outcomes.get('amy')));
    assert.ok(!isSettled(s.outcomes.get('bob')));
    assert.equal(s.ended, false);
  });

  it('writes a batch of intents at once and still flushes lazy records on close', async () => {
    const path = join(dir, 'b.journal.jsonl');
    const j = await JournalWriter.create(path);
    await j.append(header(['amy', 'bob']));
    await j.appendMany([
      { t: 'intent', u: 'amy', pw: 'PwAmy1234567890', at: 'x' },
      { t: 'intent', u: 'bob', pw: 'PwBob1234567890', at: 'x' },
    ]);
    assert.equal(readJournal(path).intents.size, 2, 'durable as soon as appendMany resolves');
    void j.append({ t: 'outcome', u: 'amy', status: 'rotated', attempts: 1, verified: false, startedAt: 'a', finishedAt: 'b' }, false);
    await j.close();
    assert.equal(readJournal(path).outcomes.get('amy')?.status, 'rotated');
  });

  it('ignores a last line cut short by a crash, refuses damage elsewhere and tampering', () => {
    const h = JSON.stringify(header(['amy']));
    const good = `${h}\n${JSON.stringify({ t: 'intent', u: 'amy', pw: 'x', at: 'x' })}\n`;
    const s = parseJournal(good + '{"t":"outc');
    assert.equal(s.truncatedTail, true);
    assert.equal(s.intents.size, 1);
    assert.throws(() => parseJournal(`${h}\n{broken\n${JSON.stringify({ t: 'end' })}\n`), /line 2/);
    const tampered = JSON.stringify({ ...header(['amy']), accounts: ['amy', 'eve'] });
    assert.throws(() => parseJournal(tampered + '\n'), /checksum/);
    assert.throws(() => parseJournal('{"t":"intent"}\n'), /not a da-rotate journal/);
  });
});

describe('report', () => {
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
    for (const u of hostile) w.write({ server: 'https://h:2222', username: u, status: 'skipped', attempts: 0, verified: false, error: 'x' });
    w.write({ server: 'https://h:2222', username: 'fred', status: 'rotated', password: 'Abc123def456ghi789jkl0', attempts: 1, verified: true });
    await w.close();
    assert.equal(statSync(path).mode & 0o777, 0o600);
    await assert.rejects(ReportWriter.create(path), /exists: choose another --output/);
    const text = readFileSync(path, 'utf8');
    const records = parse(text) as string[][];
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
      { t: 'intent', u: 'amy', pw: 'PwAmy', at: 'x' },
      { t: 'outcome', u: 'amy', status: 'rotated', attempts: 1, verified: true },
      { t: 'intent', u: 'bob', pw: 'PwBob', at: 'x' },
      { t: 'outcome', u: 'bob', status: 'failed', attempts: 1, verified: false, error: 'Password is too short' },
      { t: 'intent', u: 'cat', pw: 'PwCat', at: 'x' },
    ];
    const state = parseJournal(lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const rows = rowsFromJournal(state, { includePending: true });
    const by = new Map(rows.map((r) => [r.username, r]));
    assert.equal(by.get('amy')!.password, 'PwAmy');
    assert.equal(by.get('bob')!.password, undefined);
    assert.equal(by.get('cat')!.status, 'unknown');
    assert.equal(by.get('cat')!.password, 'PwCat');
    assert.equal(by.get('dan')!.status, 'skipped');
    assert.equal(by.get('=bad')!.status, 'skipped');
    assert.equal(rowsFromJournal(state, { includePending: false }).some((r) => r.username === 'cat'), false);
  });
});

describe('lock', () => {
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
