/**
 * One run at a time per server and output directory: a lock file holding pid and host, created
 * exclusively. A lock whose pid is dead on this host is stale and taken over.
 */
import { constants, promises as fsp } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

export interface LockInfo {
  pid: number;
  host: string;
  startedAt: string;
  server: string;
}

export class LockHeld extends Error {
  constructor(
    readonly path: string,
    readonly holder: LockInfo | undefined,
  ) {
    super(
      holder
        ? `another da-rotate run holds ${path}: pid ${holder.pid} on ${holder.host}, started ${holder.startedAt}; wait for it to finish`
        : `another da-rotate run holds ${path} (unreadable lock); remove it only if no run is going on`,
    );
    this.name = 'LockHeld';
  }
}

export function lockPathFor(dir: string, hostKey: string): string {
  return join(dir, `.da-rotate-${hostKey}.lock`);
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
  /** Set when a stale lock was taken over, for a warning. */
  tookOver?: LockInfo;
  release(): Promise<void>;
}

export async function acquireLock(path: string, server: string): Promise<AcquiredLock> {
  const me: LockInfo = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), server };
  let tookOver: LockInfo | undefined;
  for (let attempt = 0; attempt < 2; attempt++) {
    // The lock appears with its content already in it (write a private file, then link it into
    // place, which fails atomically if a lock exists), so a crash never leaves an empty lock.
    const tmp = `${path}.${process.pid}.tmp`;
    const h = await fsp.open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o600);
    try {
      await h.write(JSON.stringify(me) + '\n');
      await h.sync();
    } finally {
      await h.close();
    }
    let linked = true;
    try {
      await fsp.link(tmp, path);
    } catch (e) {
      linked = false;
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
        await fsp.unlink(tmp).catch(() => undefined);
        throw e;
      }
    }
    await fsp.unlink(tmp).catch(() => undefined);
    if (linked) {
      let released = false;
      return {
        path,
        tookOver,
        release: async () => {
          if (released) return;
          released = true;
          await fsp.unlink(path).catch(() => undefined);
        },
      };
    }
    let holder: LockInfo | undefined;
    try {
      holder = JSON.parse(await fsp.readFile(path, 'utf8')) as LockInfo;
    } catch {
      holder = undefined;
    }
    if (!holder || holder.host !== me.host || isAlive(holder.pid)) throw new LockHeld(path, holder);
    tookOver = holder;
    await fsp.unlink(path).catch(() => undefined);
  }
  throw new LockHeld(path, undefined);
}
