/**
 * One run at a time per server, wherever its reports go: a lock file per normalised server
 * (host:port) in a private state directory, holding pid and host. A lock whose pid is dead on this
 * host is stale and taken over.
 */
import { constants, promises as fsp, type Stats } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { homedir, hostname, tmpdir } from 'node:os';
import { accessSync, lstatSync, realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { msg } from '../messages.js';
import { createTempBeside, fileUsageError } from '../files.js';
import { checkPrivateDir, type PrivateDirCheck } from '../directories.js';

export interface LockInfo {
  pid: number;
  host: string;
  startedAt: string;
  server: string;
  /** Random, so a lock is told apart from a later one that happens to reuse its inode. */
  nonce?: string;
  /** What the holder is doing, for the message that refuses a second run. */
  command?: string;
  stateDir?: string;
}

export class LockHeld extends Error {
  readonly code = 'LOCK_HELD';
  constructor(
    readonly path: string,
    readonly holder: LockInfo | undefined,
    message?: string,
  ) {
    super(
      message ??
        (holder
          ? `another da-rotate run holds ${path}: ${holder.command ? `${holder.command} of ${holder.server}, ` : ''}pid ${holder.pid} on ${holder.host}, started ${holder.startedAt}${holder.stateDir ? `, state directory ${holder.stateDir}` : ''}; wait for it to finish`
          : `another da-rotate run holds ${path} (unreadable lock); remove it only if no run is going on`),
    );
    this.name = 'LockHeld';
  }
}

/**
 * The state directory: `--state-dir`, else $XDG_STATE_HOME/da-rotate (only an absolute one, as the
 * XDG spec says), else ~/.local/state/da-rotate. The caller checks it with checkPrivateDir.
 */
export function stateDirFor(env: NodeJS.ProcessEnv, flag?: string): string {
  if (flag) return resolve(flag);
  const xdg = env.XDG_STATE_HOME;
  if (xdg && isAbsolute(xdg)) return join(xdg, 'da-rotate');
  return join(env.HOME || homedir(), '.local', 'state', 'da-rotate');
}

/**
 * The server as a lock names it: scheme-less `host:port`, host lower-case (IDNA'd by URL), IPv6
 * brackets removed, the scheme's default port when none is given. `https://Example.COM:2222/`,
 * `example.com:2222` and `HTTPS://example.com:2222` are one server.
 */
export function normaliseServer(serverOrigin: string): { host: string; port: string } {
  const u = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(serverOrigin) ? serverOrigin : `https://${serverOrigin}`);
  const host = u.hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  const port = u.port || (u.protocol === 'http:' ? '80' : '443');
  return { host, port };
}

/** `<stateDir>/<host>+<port>.lock`; characters outside [a-z0-9.-] (IPv6 colons...) as _XX, so the name is unique to the server. */
export function lockPathForServer(stateDir: string, serverOrigin: string): string {
  const { host, port } = normaliseServer(serverOrigin);
  const safe = host.replace(/[^a-z0-9.-]/g, (c) => `_${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return join(stateDir, `${safe}+${port}.lock`);
}

/** @deprecated the lock is per server in the state directory now: lockPathForServer. */
export function lockPathFor(dir: string, hostKey: string): string {
  return join(dir, `.da-rotate-${hostKey}.lock`);
}

let beforeTakeover: (() => Promise<void>) | undefined;

/** Tests only: runs between judging a lock stale and taking it over, to line racing takers up. */
export function setBeforeTakeoverForTests(hook: (() => Promise<void>) | undefined): void {
  beforeTakeover = hook;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface AcquiredLock {
  path: string;
  /** Set when a stale lock was taken over, for a warning (msg.lockTakenOver). */
  tookOver?: LockInfo;
  release(): Promise<void>;
}

/**
 * The host-wide lock directory: $DA_ROTATE_LOCK_DIR, else /run/lock when this user can write it,
 * else the system temp directory. Whatever the state directory (another HOME, --state-dir,
 * XDG_STATE_HOME), two runs of one server on one host meet here. The directory must not be a link
 * (its real path is used), must belong to root or this user, and if others can write it it must
 * be sticky (/tmp, /run/lock): nobody else can then remove or replace our 0600 entries.
 */
export function hostLockDir(env: NodeJS.ProcessEnv = process.env): string {
  const given = env.DA_ROTATE_LOCK_DIR;
  const candidates = given ? [given] : ['/run/lock', tmpdir()];
  for (const c of candidates) {
    let dir: string;
    try {
      dir = realpathSync(c);
      accessSync(dir, constants.W_OK | constants.X_OK);
    } catch {
      if (given) throw new LockHeld(c, undefined, `the lock directory ${c} (DA_ROTATE_LOCK_DIR) is missing or not writable: create it (mode 0700) or unset it`);
      continue;
    }
    const st = lstatSync(dir);
    const uid = process.getuid?.();
    const othersWrite = (st.mode & 0o022) !== 0;
    const sticky = (st.mode & 0o1000) !== 0;
    if (!st.isDirectory() || (uid !== undefined && st.uid !== 0 && st.uid !== uid) || (othersWrite && !sticky))
      throw new LockHeld(
        dir,
        undefined,
        `the lock directory ${dir} is not safe (owner uid ${st.uid}, mode ${(st.mode & 0o7777).toString(8)}): it must belong to root or you and, if others can write it, be sticky; set DA_ROTATE_LOCK_DIR to a private directory`,
      );
    return dir;
  }
  return tmpdir();
}

/** `<lock dir>/da-rotate-<host>+<port>.lock`: one fixed name per server, documented. */
export function hostLockPathForServer(serverOrigin: string, env: NodeJS.ProcessEnv = process.env): string {
  const perDir = lockPathForServer(hostLockDir(env), serverOrigin);
  return join(dirname(perDir), `da-rotate-${basename(perDir)}`);
}

/**
 * Checks (creates 0700) the state directory and takes the server's locks: the host-wide one first
 * (one run per server per host, whatever the state directory), then the one in the state directory.
 */
export async function acquireServerLock(stateDir: string, serverOrigin: string, command = 'rotate'): Promise<AcquiredLock & { stateDir: PrivateDirCheck }> {
  const dir = await checkPrivateDir(stateDir, { create: true });
  const extra = { command, stateDir: dir.path };
  const host = await acquireLock(hostLockPathForServer(serverOrigin), serverOrigin, extra);
  let lock: AcquiredLock;
  try {
    lock = await acquireLock(lockPathForServer(dir.path, serverOrigin), serverOrigin, extra);
  } catch (e) {
    await host.release();
    throw e;
  }
  return {
    path: lock.path,
    ...(lock.tookOver || host.tookOver ? { tookOver: (lock.tookOver ?? host.tookOver)! } : {}),
    release: async () => {
      await lock.release();
      await host.release();
    },
    stateDir: dir,
  };
}

/** Reads a lock without following a link; undefined when it is not a regular file or not JSON. */
async function readLock(path: string): Promise<{ info: LockInfo | undefined; text: string; st: Stats } | undefined> {
  let h;
  try {
    h = await fsp.open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP' || code === 'EMLINK') throw new LockHeld(path, undefined, msg.lockNotAFile(path));
    if (code === 'EACCES') {
      const st = await fsp.lstat(path).catch(() => undefined);
      throw new LockHeld(
        path,
        undefined,
        `another user (uid ${st?.uid ?? '?'}) holds ${path}${st ? ` since ${st.mtime.toISOString()}` : ''}: a da-rotate run of this server is going on as that user; if none is, that user or root removes the file`,
      );
    }
    throw e;
  }
  try {
    const st = await h.stat();
    if (!st.isFile()) throw new LockHeld(path, undefined, msg.lockNotAFile(path));
    const uid = process.getuid?.();
    if (uid !== undefined && st.uid !== uid)
      throw new LockHeld(
        path,
        undefined,
        `another user (uid ${st.uid}) holds ${path} since ${st.mtime.toISOString()}: a da-rotate run of this server is going on as that user; if none is, that user or root removes the file`,
      );
    let info: LockInfo | undefined;
    const text = await h.readFile('utf8');
    try {
      const parsed = JSON.parse(text) as Partial<LockInfo>;
      if (typeof parsed.pid === 'number' && typeof parsed.host === 'string') info = parsed as LockInfo;
    } catch {
      info = undefined;
    }
    return { info, text, st };
  } finally {
    await h.close();
  }
}

/** The same lock: same inode (a removed file's inode can be reused at once) and same content. */
async function stillTheSame(path: string, st: Stats, text: string): Promise<boolean> {
  const now = await readLock(path).catch(() => undefined);
  return now !== undefined && now.st.dev === st.dev && now.st.ino === st.ino && now.text === text;
}

/** Publishes `content` at `path` with link(2): all or nothing, EEXIST if anything (even a link) is there. */
async function publish(path: string, content: string): Promise<boolean> {
  // The lock appears with its content already in it (write a private file under a random name,
  // then link it into place), so a crash never leaves an empty lock.
  const tmp = await createTempBeside(path);
  try {
    try {
      await tmp.writeAll(content);
      await tmp.sync();
    } finally {
      await tmp.close();
    }
    try {
      await fsp.link(tmp.path, path);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw fileUsageError(path, e);
    }
  } finally {
    await fsp.unlink(tmp.path).catch(() => undefined);
  }
}

/**
 * Takes the lock at `path`. A lock left by a dead process on this host is taken over, race-safe:
 * the taker first publishes `<lock>.takeover` (link(2), so only one process at a time), then
 * checks the lock is still the very file it judged stale (same inode, pid still dead) before
 * removing it, and then competes for the lock like anyone else. A normal acquirer never removes a
 * lock, so two takers can never remove each other's fresh lock. A `.takeover` file left by a run
 * that died in those few system calls is not broken automatically: LockHeld names it.
 */
export async function acquireLock(path: string, server: string, extra: Pick<LockInfo, 'command' | 'stateDir'> = {}): Promise<AcquiredLock> {
  const me: LockInfo = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), server, nonce: randomBytes(8).toString('hex'), ...extra };
  const content = JSON.stringify(me) + '\n';
  let tookOver: LockInfo | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    if (await publish(path, content)) {
      const mine = await fsp.lstat(path);
      let released = false;
      return {
        path,
        ...(tookOver ? { tookOver } : {}),
        release: async () => {
          if (released) return;
          released = true;
          // Only our own lock: never one another run put there after ours was removed by hand.
          if (await stillTheSame(path, mine, content)) await fsp.unlink(path).catch(() => undefined);
        },
      };
    }
    const seen = await readLock(path);
    if (!seen) continue; // released in between: try again
    const holder = seen.info;
    if (!holder || holder.host !== me.host || isAlive(holder.pid)) throw new LockHeld(path, holder);
    await beforeTakeover?.();
    await takeOverStale(path, seen, me);
    tookOver = holder;
  }
  throw new LockHeld(path, undefined);
}

async function takeOverStale(path: string, seen: { st: Stats; text: string }, me: LockInfo): Promise<void> {
  const breaker = `${path}.takeover`;
  const breakerText = JSON.stringify(me) + '\n';
  if (!(await publish(breaker, breakerText))) {
    const other = await readLock(breaker).catch(() => undefined);
    const info = other?.info;
    if (info && info.host === me.host && !isAlive(info.pid)) throw new LockHeld(breaker, info, msg.lockTakeoverStuck(breaker));
    throw new LockHeld(path, info); // another run is taking it over right now
  }
  const breakerStat = await fsp.lstat(breaker);
  try {
    // Still the very file judged stale? Otherwise it is someone else's business now: compete again.
    if (await stillTheSame(path, seen.st, seen.text)) await fsp.unlink(path);
  } finally {
    if (await stillTheSame(breaker, breakerStat, breakerText)) await fsp.unlink(breaker).catch(() => undefined);
  }
}
