import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../../src/errors.js';
import {
  acquireLock,
  acquireServerLock,
  hostLockDir,
  hostLockPathForServer,
  LockHeld,
  lockPathForServer,
  normaliseServer,
  setBeforeTakeoverForTests,
  stateDirFor,
} from '../../src/rotation/lock.js';

const T = { timeout: 10_000 };
/** Above the largest pid Linux hands out (pid_max <= 2^22): surely dead. */
const DEAD_PID = 2 ** 22 + 12345;
let root = '';
let n = 0;
before(() => (root = mkdtempSync(join(tmpdir(), 'da-rotate-lock-'))));
after(() => rmSync(root, { recursive: true, force: true }));
const freshDir = () => {
  const d = join(root, `t${++n}`);
  mkdirSync(d, { mode: 0o700 });
  return d;
};
const stale = (server = 's') => JSON.stringify({ pid: DEAD_PID, host: hostname(), startedAt: '2025-01-01T00:00:00.000Z', server }) + '\n';

describe('where the lock lives', T, () => {
  it('state directory: --state-dir, else an absolute $XDG_STATE_HOME, else ~/.local/state', () => {
    assert.equal(stateDirFor({ XDG_STATE_HOME: '/x/state', HOME: '/home/op' }, '/flag/dir'), '/flag/dir');
    assert.equal(stateDirFor({ XDG_STATE_HOME: '/x/state', HOME: '/home/op' }), '/x/state/da-rotate');
    assert.equal(stateDirFor({ XDG_STATE_HOME: 'relative', HOME: '/home/op' }), '/home/op/.local/state/da-rotate');
    assert.equal(stateDirFor({ HOME: '/home/op' }), '/home/op/.local/state/da-rotate');
  });

  it('one lock per normalised server: scheme-less host:port, lower-case, IPv6 without brackets, default ports', () => {
    assert.equal(lockPathForServer('/s', 'https://Example.COM:2222'), '/s/example.com+2222.lock');
    assert.equal(lockPathForServer('/s', 'HTTPS://example.com:2222/'), '/s/example.com+2222.lock');
    assert.equal(lockPathForServer('/s', 'example.com:2222'), '/s/example.com+2222.lock');
    assert.equal(lockPathForServer('/s', 'http://example.com:2222'), '/s/example.com+2222.lock');
    assert.equal(lockPathForServer('/s', 'https://example.com'), '/s/example.com+443.lock');
    assert.equal(lockPathForServer('/s', 'http://example.com'), '/s/example.com+80.lock');
    assert.equal(lockPathForServer('/s', 'https://[::1]:2222'), '/s/_3a_3a1+2222.lock');
    assert.equal(lockPathForServer('/s', 'https://[FE80::1]:2222'), '/s/fe80_3a_3a1+2222.lock');
    assert.equal(lockPathForServer('/s', 'https://a_b.example:1'), '/s/a_5fb.example+1.lock');
    assert.deepEqual(normaliseServer('https://[::1]:2222'), { host: '::1', port: '2222' });
  });
});

describe('acquiring', T, () => {
  it('holds one run per server whatever the output directory, names the holder, is 0600 in a 0700 state dir', async () => {
    const state = join(freshDir(), 'state', 'da-rotate');
    // Two runs of one server writing their reports to different directories share the lock:
    // the report's directory is not an input to it at all.
    const first = await acquireServerLock(state, 'https://DA.example.com:2222');
    assert.equal(first.path, join(state, 'da.example.com+2222.lock'));
    assert.equal(statSync(state).mode & 0o777, 0o700);
    assert.equal(statSync(first.path).mode & 0o777, 0o600);
    await assert.rejects(acquireServerLock(state, 'da.example.com:2222'), (e: unknown) => {
      assert.ok(e instanceof LockHeld);
      // The host-wide lock refuses first, naming the run that holds it.
      assert.equal(
        e.message,
        `another da-rotate run holds ${hostLockPathForServer('https://DA.example.com:2222')}: rotate of https://DA.example.com:2222, pid ${process.pid} on ${hostname()}, started ${e.holder!.startedAt}, state directory ${state}; wait for it to finish`,
      );
      return true;
    });
    const other = await acquireServerLock(state, 'https://da.example.com:2223');
    await other.release();
    await first.release();
    assert.equal(existsSync(first.path), false);
    const again = await acquireServerLock(state, 'https://da.example.com:2222');
    await again.release();
    assert.deepEqual(readdirSync(state), [], 'no temp files left');
  });

  it('refuses a state directory others can write', async () => {
    const state = freshDir();
    chmodSync(state, 0o777);
    await assert.rejects(
      acquireServerLock(state, 'https://h:2222'),
      (e: unknown) => e instanceof UsageError && e.message.startsWith(`${state} is writable by group or others`),
    );
    assert.deepEqual(readdirSync(state), []);
  });

  it('release removes only its own lock, never one another run took after it was removed by hand', async () => {
    const path = join(freshDir(), 'h+1.lock');
    const a = await acquireLock(path, 's');
    unlinkSync(path);
    const b = await acquireLock(path, 's');
    await a.release();
    assert.equal(existsSync(path), true);
    await b.release();
    assert.equal(existsSync(path), false);
  });
});

describe('stale locks', T, () => {
  it('are taken over when their pid is dead on this host', async () => {
    const path = join(freshDir(), 'h+1.lock');
    writeFileSync(path, stale(), { mode: 0o600 });
    const lock = await acquireLock(path, 'https://h:1');
    assert.equal(lock.tookOver?.pid, DEAD_PID);
    assert.equal(JSON.parse(readFileSync(path, 'utf8')).pid, process.pid);
    await lock.release();
  });

  it('are not taken over from another host or a live pid', async () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'a.lock'), JSON.stringify({ pid: DEAD_PID, host: 'elsewhere', startedAt: 'x', server: 's' }), { mode: 0o600 });
    await assert.rejects(acquireLock(join(dir, 'a.lock'), 's'), LockHeld);
    writeFileSync(join(dir, 'b.lock'), JSON.stringify({ pid: process.ppid, host: hostname(), startedAt: 'x', server: 's' }), { mode: 0o600 });
    await assert.rejects(acquireLock(join(dir, 'b.lock'), 's'), LockHeld);
    assert.equal(JSON.parse(readFileSync(join(dir, 'b.lock'), 'utf8')).pid, process.ppid);
  });

  it('taken over by many at once: exactly one wins, the others see it held', async (t) => {
    t.after(() => setBeforeTakeoverForTests(undefined));
    for (let round = 0; round < 10; round++) {
      const path = join(freshDir(), 'h+1.lock');
      writeFileSync(path, stale(), { mode: 0o600 });
      // Every taker judges the lock stale first; then they act one after the other, each after the
      // previous one has won or lost: the late ones act on a judgement that is no longer true.
      const takers = 8;
      let arrived = 0;
      let settled = 0;
      const waiters: Array<{ turn: number; go: () => void }> = [];
      const wake = () => {
        for (const w of waiters.splice(0))
          if (arrived === takers && settled >= w.turn) w.go();
          else waiters.push(w);
      };
      setBeforeTakeoverForTests(() => {
        const turn = arrived++;
        return new Promise<void>((go) => {
          waiters.push({ turn, go });
          wake();
        });
      });
      const results = await Promise.allSettled(
        Array.from({ length: takers }, () =>
          acquireLock(path, 's').finally(() => {
            settled++;
            wake();
          }),
        ),
      );
      assert.equal(arrived, takers, 'every taker judged the lock stale');
      const won = results.filter((r) => r.status === 'fulfilled');
      assert.equal(won.length, 1, `round ${round}: ${won.length} winners`);
      for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof LockHeld, String(r.reason));
      assert.equal(JSON.parse(readFileSync(path, 'utf8')).pid, process.pid);
      await (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof acquireLock>>>).value.release();
      assert.deepEqual(readdirSync(join(path, '..')), [], 'no takeover or temp file left');
    }
  });

  it('a takeover marker left by a run that died mid-takeover is named, not broken', async () => {
    const path = join(freshDir(), 'h+1.lock');
    writeFileSync(path, stale(), { mode: 0o600 });
    writeFileSync(`${path}.takeover`, stale(), { mode: 0o600 });
    await assert.rejects(
      acquireLock(path, 's'),
      (e: unknown) =>
        e instanceof LockHeld &&
        e.message === `${path}.takeover is left over from a run that died while taking over a stale lock: remove it if no da-rotate run is going on`,
    );
    assert.equal(readFileSync(path, 'utf8'), stale());
  });

  it('a link planted at the lock is never followed nor removed', async () => {
    const dir = freshDir();
    const victim = join(freshDir(), 'victim');
    writeFileSync(victim, stale());
    symlinkSync(victim, join(dir, 'h+1.lock'));
    await assert.rejects(acquireLock(join(dir, 'h+1.lock'), 's'), (e: unknown) => e instanceof LockHeld && /is not a lock file/.test(e.message));
    assert.equal(readFileSync(victim, 'utf8'), stale());
    assert.deepEqual(readdirSync(dir), ['h+1.lock']);
  });
});

describe('the host-wide lock', T, () => {
  it('two runs of one server with different state directories: the second is refused, naming the first', async () => {
    const a = await acquireServerLock(join(freshDir(), 'a'), 'https://host-wide.example:2222', 'rotate');
    const otherState = join(freshDir(), 'b');
    await assert.rejects(acquireServerLock(otherState, 'https://host-wide.example:2222', 'resume'), (e: unknown) => {
      assert.ok(e instanceof LockHeld);
      assert.match(e.message, /da-rotate-host-wide\.example\+2222\.lock: rotate of https:\/\/host-wide\.example:2222, pid \d+/);
      assert.match(e.message, new RegExp(`state directory ${a.stateDir.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      return true;
    });
    // The refused run left nothing behind in its own state directory.
    assert.deepEqual(readdirSync(otherState), []);
    await a.release();
    const b = await acquireServerLock(otherState, 'https://host-wide.example:2222');
    await b.release();
  });

  it('lives under DA_ROTATE_LOCK_DIR, else /run/lock when writable, else the temp dir; refuses an unsafe directory', () => {
    const d = freshDir();
    assert.equal(hostLockDir({ DA_ROTATE_LOCK_DIR: d }), d);
    assert.ok(['/run/lock', tmpdir()].some((x) => hostLockDir({}).startsWith(x) || x.startsWith(hostLockDir({}))));
    assert.equal(hostLockPathForServer('https://Example.com:2222', { DA_ROTATE_LOCK_DIR: d }), join(d, 'da-rotate-example.com+2222.lock'));
    const open = freshDir();
    chmodSync(open, 0o777);
    assert.throws(() => hostLockDir({ DA_ROTATE_LOCK_DIR: open }), /is not safe .*mode 777.*sticky/);
    chmodSync(open, 0o1777);
    assert.equal(hostLockDir({ DA_ROTATE_LOCK_DIR: open }), open, 'a sticky world-writable directory (like /tmp) is fine');
    const link = join(freshDir(), 'link');
    symlinkSync(d, link);
    assert.equal(hostLockDir({ DA_ROTATE_LOCK_DIR: link }), d, 'a link is resolved: the lock lives in the real directory');
    assert.throws(() => hostLockDir({ DA_ROTATE_LOCK_DIR: join(d, 'missing') }), /missing or not writable/);
  });
});
