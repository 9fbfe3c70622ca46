import { accountCredentials, journalHeader } from './journal-fixture.js';
import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  lchownSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  lstatSync,
  existsSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../../src/errors.js';
import {
  checkNewFile,
  createExclusive,
  FileWriteFailed,
  openAppendNoFollow,
  realFileSystem,
  setFileSystemForTests,
  uniqueReportPath,
  writeAll,
} from '../../src/files.js';
import { checkPrivateDir } from '../../src/directories.js';
import { JournalWriter, parseJournal, readJournal, type JournalHeader } from '../../src/rotation/journal.js';
import { ReportWriter } from '../../src/rotation/report.js';
import { readReport } from '../../src/rotation/report-parse.js';
import { acquireLock, LockHeld } from '../../src/rotation/lock.js';

const T = { timeout: 10_000 };
const OTHER_UID = 12345;
let root = '';
let n = 0;
before(() => (root = mkdtempSync(join(tmpdir(), 'da-rotate-files-'))));
after(() => rmSync(root, { recursive: true, force: true }));
afterEach(() => setFileSystemForTests(undefined));

/** A fresh private directory per test. */
function freshDir(): string {
  const d = join(root, `t${++n}`);
  mkdirSync(d, { mode: 0o700 });
  return d;
}

function header(accounts: string[]): JournalHeader {
  return journalHeader(accountCredentials(accounts), { startedAt: '2025-01-01T00:00:00.000Z', report: 'r.csv' });
}

const intent = (u: string) => ({ t: 'intent' as const, c: `account:${u}:${u}`, pw: `Pw-${u}-0123456789`, at: 'x' });

describe('writeAll', T, () => {
  it('loops over short writes until every byte is written', async () => {
    const path = join(freshDir(), 'f');
    const file = await createExclusive(path);
    let calls = 0;
    setFileSystemForTests({ write: (p, h, data) => (calls++, realFileSystem.write(p, h, data.subarray(0, 3))) });
    await writeAll(file, 'abcdefghij');
    await file.close();
    assert.equal(readFileSync(path, 'utf8'), 'abcdefghij');
    assert.equal(calls, 4);
  });

  it('fails on a write that accepts 0 bytes, and on ENOSPC after a short write, naming the file', async () => {
    const path = join(freshDir(), 'f');
    const file = await createExclusive(path);
    setFileSystemForTests({ write: async () => 0 });
    await assert.rejects(writeAll(file, 'abc'), (e: unknown) => e instanceof FileWriteFailed && e.errno === 'ESHORT' && e.path === path);
    let first = true;
    setFileSystemForTests({
      write: async (p, h, data) => {
        if (first) return ((first = false), realFileSystem.write(p, h, data.subarray(0, 2)));
        throw Object.assign(new Error('no space'), { code: 'ENOSPC' });
      },
    });
    await assert.rejects(writeAll(file, 'abcdef'), (e: unknown) => {
      assert.ok(e instanceof FileWriteFailed);
      assert.equal(e.code, 'FILE_WRITE_FAILED');
      assert.equal(e.errno, 'ENOSPC');
      assert.equal(e.message, `no space left on device writing ${path}`);
      return true;
    });
    await file.close();
  });
});

describe('createExclusive and openAppendNoFollow', T, () => {
  it('creates 0600 whatever the umask, and refuses an existing file, a directory and a link with one line naming it', async () => {
    const dir = freshDir();
    const old = process.umask(0);
    try {
      const f = await createExclusive(join(dir, 'new'));
      await f.close();
    } finally {
      process.umask(old);
    }
    assert.equal(statSync(join(dir, 'new')).mode & 0o777, 0o600);
    await assert.rejects(
      createExclusive(join(dir, 'new')),
      (e: unknown) =>
        e instanceof UsageError && e.exitCode === 2 && e.message === `${join(dir, 'new')} exists: choose another --output or remove it (nothing was changed)`,
    );
    mkdirSync(join(dir, 'sub'));
    await assert.rejects(createExclusive(join(dir, 'sub')), /sub is a directory, not a file/);
    const outside = join(freshDir(), 'victim');
    writeFileSync(outside, 'precious\n');
    symlinkSync(outside, join(dir, 'link'));
    symlinkSync(join(dir, 'nowhere'), join(dir, 'dangling'));
    await assert.rejects(createExclusive(join(dir, 'link')), /link is a symbolic link/);
    await assert.rejects(createExclusive(join(dir, 'dangling')), /dangling is a symbolic link/);
    assert.equal(readFileSync(outside, 'utf8'), 'precious\n');
    assert.equal(existsSync(join(dir, 'nowhere')), false);
    await assert.rejects(checkNewFile(join(dir, 'new')), /exists: choose another --output/);
    await assert.rejects(checkNewFile(dir), /is a directory/);
    await checkNewFile(join(dir, 'absent'));
  });

  it('opens for append only our own regular file that others cannot write, never through a link', async () => {
    const dir = freshDir();
    const ok = join(dir, 'ok');
    writeFileSync(ok, 'a\n', { mode: 0o600 });
    const f = await openAppendNoFollow(ok);
    await f.writeAll('b\n');
    await f.close();
    assert.equal(readFileSync(ok, 'utf8'), 'a\nb\n');
    symlinkSync(ok, join(dir, 'link'));
    await assert.rejects(openAppendNoFollow(join(dir, 'link')), /is a symbolic link/);
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    await assert.rejects(openAppendNoFollow(join(dir, 'fifo')), /is not a regular file/);
    writeFileSync(join(dir, 'wide'), 'x', { mode: 0o600 });
    chmodSync(join(dir, 'wide'), 0o666);
    await assert.rejects(openAppendNoFollow(join(dir, 'wide')), /writable by group or others \(mode 666\)/);
    writeFileSync(join(dir, 'theirs'), 'x', { mode: 0o600 });
    chownSync(join(dir, 'theirs'), OTHER_UID, OTHER_UID);
    await assert.rejects(openAppendNoFollow(join(dir, 'theirs')), /belongs to uid 12345/);
    await assert.rejects(openAppendNoFollow(dir), /is a directory/);
    assert.equal(readFileSync(ok, 'utf8'), 'a\nb\n');
  });
});

describe('checkPrivateDir', T, () => {
  it('creates the directory and its parents 0700', async () => {
    const base = freshDir();
    const r = await checkPrivateDir(join(base, 'a', 'b'), { create: true });
    assert.equal(r.created, true);
    assert.equal(statSync(join(base, 'a')).mode & 0o777, 0o700);
    assert.equal(statSync(join(base, 'a', 'b')).mode & 0o777, 0o700);
  });

  it('refuses a group- or world-writable directory (exit 2) and leaves it as it is', async () => {
    for (const mode of [0o777, 0o770, 0o1777]) {
      const d = freshDir();
      chmodSync(d, mode);
      await assert.rejects(checkPrivateDir(d, { create: true }), (e: unknown) => {
        assert.ok(e instanceof UsageError);
        assert.equal(e.exitCode, 2);
        assert.ok(e.message.startsWith(`${d} is writable by group or others (mode ${(mode & 0o777).toString(8)})`), e.message);
        assert.ok(e.message.includes(`chmod 700 ${d}`));
        return true;
      });
      assert.equal(statSync(d).mode & 0o7777, mode);
    }
  });

  it('accepts a directory of ours that others can only read (0755, a web root) and never changes its mode', async () => {
    const d = freshDir();
    chmodSync(d, 0o755);
    const r = await checkPrivateDir(d, { create: true });
    assert.equal(r.created, false);
    assert.equal(statSync(d).mode & 0o777, 0o755);
    const link = join(freshDir(), 'link');
    symlinkSync(d, link);
    await checkPrivateDir(link, { create: true });
    assert.equal(statSync(d).mode & 0o777, 0o755);
  });

  it('creates each missing component 0700 whatever the umask, and leaves the existing parent alone', async () => {
    const parent = freshDir();
    chmodSync(parent, 0o755);
    const old = process.umask(0o002);
    try {
      const r = await checkPrivateDir(join(parent, 'a', 'b'), { create: true });
      assert.equal(r.created, true);
    } finally {
      process.umask(old);
    }
    assert.equal(statSync(join(parent, 'a')).mode & 0o7777, 0o700);
    assert.equal(statSync(join(parent, 'a', 'b')).mode & 0o7777, 0o700);
    assert.equal(statSync(parent).mode & 0o777, 0o755);
  });

  it('refuses a directory another user owns, and a symlink that is not ours or points to theirs', async () => {
    const theirs = freshDir();
    chownSync(theirs, OTHER_UID, OTHER_UID);
    await assert.rejects(checkPrivateDir(theirs, { create: true }), new RegExp(`${theirs} belongs to uid 12345, not to you`));
    const mine = freshDir();
    const base = freshDir();
    symlinkSync(mine, join(base, 'to-mine'));
    assert.equal((await checkPrivateDir(join(base, 'to-mine'), { create: false })).path, join(base, 'to-mine'));
    symlinkSync(theirs, join(base, 'to-theirs'));
    await assert.rejects(checkPrivateDir(join(base, 'to-theirs'), { create: false }), /belongs to uid 12345/);
    symlinkSync(mine, join(base, 'their-link'));
    lchownSync(join(base, 'their-link'), OTHER_UID, OTHER_UID);
    await assert.rejects(checkPrivateDir(join(base, 'their-link'), { create: false }), /is a symbolic link owned by uid 12345/);
    writeFileSync(join(base, 'file'), '');
    await assert.rejects(checkPrivateDir(join(base, 'file'), { create: true }), /file is not a directory/);
    await assert.rejects(checkPrivateDir(join(base, 'file', 'sub'), { create: true }), /is not a directory/);
  });
});

describe('default report names', T, () => {
  it('never collide: the same millisecond gets -2, -3, and a name whose journal exists is skipped', async () => {
    const dir = freshDir();
    const now = new Date('2025-01-02T03:04:05.678Z');
    const a = await uniqueReportPath(dir, 'rotation', 'h_2222', now);
    const b = await uniqueReportPath(dir, 'rotation', 'h_2222', now);
    writeFileSync(join(dir, 'rotation-h_2222-20250102T030405.678Z-3.journal.jsonl'), '');
    const c = await uniqueReportPath(dir, 'rotation', 'h_2222', now);
    for (const x of [a, b, c]) await x.file.close();
    assert.equal(a.path, join(dir, 'rotation-h_2222-20250102T030405.678Z.csv'));
    assert.equal(b.path, join(dir, 'rotation-h_2222-20250102T030405.678Z-2.csv'));
    assert.equal(c.path, join(dir, 'rotation-h_2222-20250102T030405.678Z-4.csv'));
    const w1 = await ReportWriter.createUnique(dir, 'plan', 'h_2222', now);
    const w2 = await ReportWriter.createUnique(dir, 'plan', 'h_2222', now);
    await w1.close();
    await w2.close();
    assert.equal(w2.path, join(dir, 'plan-h_2222-20250102T030405.678Z-2.csv'));
    assert.equal(statSync(w2.path).mode & 0o777, 0o600);
  });
});

/** Fails writes to `target` as `mode` says, from the `after`-th write on; counts writes to it. */
function faultOn(target: string, mode: 'ENOSPC' | 'EIO' | 'EDQUOT' | 'short-then-ENOSPC' | 'zero', after: number) {
  const state = { writes: 0 };
  setFileSystemForTests({
    write: async (p, h, data) => {
      if (p !== target) return realFileSystem.write(p, h, data);
      state.writes++;
      if (state.writes <= after) return realFileSystem.write(p, h, data);
      if (mode === 'zero') return 0;
      if (mode === 'short-then-ENOSPC' && state.writes === after + 1) return realFileSystem.write(p, h, data.subarray(0, Math.max(1, data.length >> 1)));
      throw Object.assign(new Error(mode), { code: mode === 'short-then-ENOSPC' ? 'ENOSPC' : mode });
    },
  });
  return state;
}

describe('journal writer under write faults', T, () => {
  for (const mode of ['ENOSPC', 'EIO', 'EDQUOT', 'short-then-ENOSPC', 'zero'] as const) {
    it(`${mode}: the batch rejects, every later append rejects at once, and the file keeps only whole durable batches`, async () => {
      const path = join(freshDir(), 'r.journal.jsonl');
      const j = await JournalWriter.create(path, header(['amy', 'bob', 'cat', 'dan']));
      await j.appendMany([intent('amy'), intent('bob')]);
      const faults = faultOn(path, mode, 0);
      const err = await j.appendMany([intent('cat'), intent('dan')]).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(err instanceof FileWriteFailed, String(err));
      assert.equal(err.path, path);
      assert.equal(err.errno, mode === 'short-then-ENOSPC' ? 'ENOSPC' : mode === 'zero' ? 'ESHORT' : mode);
      assert.equal(j.failure, err);
      const writesAtFailure = faults.writes;
      await assert.rejects(j.append(intent('eve')), (e: unknown) => e === err);
      await assert.rejects(
        j.append({ t: 'outcome', c: 'account:amy:amy', status: 'rotated', attempts: 1, verified: true, startedAt: 'a', finishedAt: 'b' }, false),
        (e: unknown) => e === err,
      );
      assert.equal(faults.writes, writesAtFailure, 'nothing more was written after the failure');
      await assert.rejects(j.close(), (e: unknown) => e === err);
      setFileSystemForTests(undefined);
      const text = readFileSync(path, 'utf8');
      assert.ok(text.endsWith('\n'), 'the torn batch was cut off');
      const s = readJournal(path);
      assert.deepEqual([...s.intents.keys()], ['account:amy:amy', 'account:bob:bob']);
      assert.equal(s.truncatedTail, false);
    });
  }

  it('EIO on fdatasync rejects the batch and latches', async () => {
    const path = join(freshDir(), 'r.journal.jsonl');
    const j = await JournalWriter.create(path, header(['amy']));
    setFileSystemForTests({ datasync: async () => Promise.reject(Object.assign(new Error('EIO'), { code: 'EIO' })) });
    await assert.rejects(j.appendMany([intent('amy')]), (e: unknown) => e instanceof FileWriteFailed && e.errno === 'EIO');
    setFileSystemForTests(undefined);
    await assert.rejects(j.append(intent('amy')), FileWriteFailed);
    await assert.rejects(j.close(), FileWriteFailed);
    assert.equal(readJournal(path).intents.size, 0);
  });

  it('short writes that complete are whole and durable; only the journal is faulted, the report is not', async () => {
    const dir = freshDir();
    const path = join(dir, 'r.journal.jsonl');
    const j = await JournalWriter.create(path, header(['amy', 'bob']));
    const r = await ReportWriter.create(join(dir, 'r.csv'));
    setFileSystemForTests({ write: (p, h, data) => realFileSystem.write(p, h, p === path ? data.subarray(0, 7) : data) });
    await j.appendMany([intent('amy'), intent('bob')]);
    r.write({
      server: 's',
      username: 'amy',
      kind: 'account',
      credential: 'amy',
      status: 'rotated',
      password: 'Pw-amy-0123456789',
      attempts: 1,
      verified: true,
    });
    await j.close();
    await r.close();
    assert.deepEqual([...readJournal(path).intents.keys()], ['account:amy:amy', 'account:bob:bob']);
    assert.equal(readReport(join(dir, 'r.csv'))[0]!.password, 'Pw-amy-0123456789');
  });

  it('a resume cuts a torn last line before appending, so the journal stays readable', async () => {
    const path = join(freshDir(), 'r.journal.jsonl');
    const good = `${JSON.stringify(header(['amy', 'bob']))}\n${JSON.stringify(intent('amy'))}\n`;
    writeFileSync(path, good + '{"t":"intent","c":"account:bob:bob","pw":"Pw-b', { mode: 0o600 });
    assert.equal(readJournal(path).truncatedTail, true);
    const j = await JournalWriter.openAppend(path);
    await j.append({ t: 'resume', at: 'x', pid: 1 });
    await j.close();
    const s = parseJournal(readFileSync(path, 'utf8'));
    assert.equal(readFileSync(path, 'utf8'), `${good}{"t":"resume","at":"x","pid":1}\n`);
    assert.deepEqual([...s.intents.keys()], ['account:amy:amy']);
  });
});

describe('report writer under write faults', T, () => {
  for (const mode of ['ENOSPC', 'EIO', 'zero'] as const) {
    it(`${mode}: the run is told at once, later rows are dropped, close rejects`, async () => {
      const path = join(freshDir(), 'r.csv');
      const w = await ReportWriter.create(path);
      const failed = new Promise<unknown>((res) => w.onFailure(res));
      faultOn(path, mode, 0);
      w.write({
        server: 's',
        username: 'amy',
        kind: 'account',
        credential: 'amy',
        status: 'rotated',
        password: 'Pw-amy-0123456789',
        attempts: 1,
        verified: true,
      });
      const e = await failed;
      assert.ok(e instanceof FileWriteFailed);
      assert.equal(e.path, path);
      assert.equal(w.failure, e);
      await assert.rejects(w.close(), (x: unknown) => x === e);
    });
  }

  it('rebuild writes a random-named temp file beside it, renames, and fsyncs the directory after the rename', async () => {
    const dir = freshDir();
    const path = join(dir, 'r.csv');
    const w = await ReportWriter.create(path);
    await w.close();
    const outside = join(freshDir(), 'victim');
    writeFileSync(outside, 'precious\n');
    symlinkSync(outside, join(dir, `.r.csv.${process.pid}.tmp`)); // yesterday's predictable name
    const events: string[] = [];
    setFileSystemForTests({
      open: (p, flags, mode) => (events.push(`open ${p.startsWith(join(dir, '.r.csv.')) ? 'tmp' : p}`), realFileSystem.open(p, flags, mode)),
      syncDir: (d) => (events.push(`syncDir ${d}`), realFileSystem.syncDir(d)),
    });
    const r = await ReportWriter.rebuild(path, [
      { server: 's', username: 'amy', kind: 'account', credential: 'amy', status: 'rotated', password: 'Pw-amy-0123456789', attempts: 1, verified: true },
    ]);
    await r.close();
    assert.deepEqual(events, ['open tmp', `syncDir ${dir}`, `open ${path}`]);
    assert.equal(readReport(path)[0]!.password, 'Pw-amy-0123456789');
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(readFileSync(outside, 'utf8'), 'precious\n');
    assert.deepEqual(readdirSync(dir).sort(), [`.r.csv.${process.pid}.tmp`, 'r.csv']);
  });
});

describe('planted symlinks', T, () => {
  it('at every name the tool creates, in a world-writable directory: the directory is refused and nothing outside is touched', async () => {
    const shared = freshDir();
    chmodSync(shared, 0o777);
    const victims = freshDir();
    const names = ['r.csv', 'r.journal.jsonl', 'h+2222.lock', `h+2222.lock.${process.pid}.tmp`, 'h+2222.lock.takeover', `.r.csv.${process.pid}.tmp`];
    for (const name of names) {
      writeFileSync(join(victims, name), `precious ${name}\n`);
      symlinkSync(join(victims, name), join(shared, name));
    }
    const before = names.map((name) => lstatSync(join(victims, name)).mtimeMs);
    await assert.rejects(checkPrivateDir(shared, { create: true }), /writable by group or others \(mode 777\)/);
    await assert.rejects(ReportWriter.create(join(shared, 'r.csv')), /writable by group or others/);
    await assert.rejects(ReportWriter.rebuild(join(shared, 'r.csv'), []), /writable by group or others/);
    await assert.rejects(ReportWriter.createUnique(shared, 'rotation', 'h_2222'), /writable by group or others/);
    // Below the directory check too, no write ever goes through a link.
    await assert.rejects(JournalWriter.create(join(shared, 'r.journal.jsonl'), header(['amy'])), /is a symbolic link/);
    await assert.rejects(JournalWriter.openAppend(join(shared, 'r.journal.jsonl')), /is a symbolic link/);
    await assert.rejects(createExclusive(join(shared, 'r.csv')), /is a symbolic link/);
    await assert.rejects(
      acquireLock(join(shared, 'h+2222.lock'), 'https://h:2222'),
      (e: unknown) => e instanceof LockHeld && /not a lock file/.test(e.message),
    );
    names.forEach((name, i) => {
      assert.equal(readFileSync(join(victims, name), 'utf8'), `precious ${name}\n`);
      assert.equal(lstatSync(join(victims, name)).mtimeMs, before[i]);
    });
    assert.deepEqual(readdirSync(victims).sort(), [...names].sort());
    assert.deepEqual(readdirSync(shared).sort(), [...names].sort(), 'no temp file left behind');
  });
});
