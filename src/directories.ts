/**
 * The directories da-rotate writes in: created 0700 component by component when missing, refused
 * when another user could write them, pinned so a swap mid-run is noticed, checked for free space.
 * Nothing that existed before the tool ran is ever changed (no chmod of an existing directory).
 */
import { constants, promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { RunAborted, UsageError } from './errors.js';
import { errnoOf, fileUsageError } from './files.js';
import { msg } from './messages.js';

export interface PrivateDirCheck {
  /** Absolute path checked. */
  path: string;
  /** True when this call created the directory (0700). */
  created: boolean;
}

/**
 * Creates each missing component of `path` (from the first that does not exist down), one mkdir
 * each, 0700: a component created here is opened O_DIRECTORY|O_NOFOLLOW and checked (a directory,
 * ours) before the next one goes in it, and only it gets a chmod (umask may have narrowed it).
 * Nothing that existed before is changed. Returns whether the last component was created here.
 */
async function createMissingDirs(path: string): Promise<boolean> {
  const missing: string[] = [];
  for (let p = path; ;) {
    const st = await fsp.lstat(p).catch((e: unknown) => {
      if (errnoOf(e) === 'ENOENT') return undefined;
      throw fileUsageError(p, e, 'directory');
    });
    if (st) break;
    missing.unshift(p);
    const parent = dirname(p);
    if (parent === p) break;
    p = parent;
  }
  let created = false;
  for (const p of missing) {
    let mine = true;
    try {
      await fsp.mkdir(p, { mode: 0o700 });
    } catch (e) {
      if (errnoOf(e) !== 'EEXIST') throw fileUsageError(p, e, 'directory');
      mine = false; // made by someone else meanwhile: checked as an existing directory, never changed
    }
    if (!mine) {
      created = false;
      continue;
    }
    let h: FileHandle;
    try {
      h = await fsp.open(p, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
    } catch (e) {
      throw fileUsageError(p, e, 'directory');
    }
    try {
      const st = await h.stat();
      const uid = process.getuid?.();
      if (!st.isDirectory()) throw new UsageError(msg.notADirectory(p));
      if (uid !== undefined && st.uid !== uid) throw new UsageError(msg.dirNotOurs(p, st.uid));
      if ((st.mode & 0o7777) !== 0o700) await h.chmod(0o700);
    } catch (e) {
      throw e instanceof UsageError ? e : fileUsageError(p, e, 'directory');
    } finally {
      await h.close().catch(() => undefined);
    }
    created = true;
  }
  return created;
}

/**
 * Makes sure `dir` is a directory no other user can write; missing components are created 0700
 * when asked. Never changes the mode or owner of anything that existed before this call.
 *
 * - Group- or world-writable (sticky or not): refused. Another user may already have planted
 *   links there.
 * - Owned by another user: refused (the owner can write it whatever its mode).
 * - Readable by others: fine (a web root, a git checkout's output/); the files in it are 0600.
 * - The last component a symlink: followed only when the link itself and the directory it points
 *   to are both ours (someone who owns the link can repoint it between our check and our writes);
 *   the target then passes the same checks. Ancestors that existed are not checked.
 */
export async function checkPrivateDir(dir: string, options: { create: boolean }): Promise<PrivateDirCheck> {
  const path = resolve(dir);
  const uid = process.getuid?.();
  const created = options.create ? await createMissingDirs(path) : false;
  let st;
  try {
    st = await fsp.lstat(path);
  } catch (e) {
    throw fileUsageError(path, e, 'directory');
  }
  if (st.isSymbolicLink()) {
    if (uid !== undefined && st.uid !== uid) throw new UsageError(msg.dirLinkNotOurs(path, st.uid));
    st = await fsp.stat(path).catch((e: unknown) => {
      throw fileUsageError(path, e, 'directory');
    });
  }
  if (!st.isDirectory()) throw new UsageError(msg.notADirectory(path));
  if (uid !== undefined && st.uid !== uid) throw new UsageError(msg.dirNotOurs(path, st.uid));
  const mode = st.mode & 0o7777;
  if (mode & 0o022) throw new UsageError(msg.dirWritableByOthers(path, mode & 0o777));
  return { path, created };
}

/**
 * A directory's identity when it was created or checked: `check()` says whether the path still
 * names the same one. A path that is a link (checkPrivateDir accepted: ours, to a directory of
 * ours) is pinned as that link to that directory.
 */
export class PinnedDir {
  private constructor(
    readonly path: string,
    private readonly entry: string,
    private readonly target: string,
  ) {}

  static async pin(path: string): Promise<PinnedDir> {
    const [entry, target] = await Promise.all([fsp.lstat(path), fsp.stat(path)]);
    if (!target.isDirectory()) throw new UsageError(msg.notADirectory(path));
    return new PinnedDir(path, `${entry.dev}:${entry.ino}`, `${target.dev}:${target.ino}`);
  }

  /** Throws DirectorySwapped unless `path` is still the entry (and the directory) pinned. */
  async check(): Promise<void> {
    const [entry, target] = await Promise.all([fsp.lstat(this.path).catch(() => undefined), fsp.stat(this.path).catch(() => undefined)]);
    if (!entry || !target?.isDirectory() || `${entry.dev}:${entry.ino}` !== this.entry || `${target.dev}:${target.ino}` !== this.target)
      throw new DirectorySwapped(this.path);
  }
}

/** A directory the run created was replaced (by a link or another directory) while the run used it. */
export class DirectorySwapped extends RunAborted {
  override readonly code = 'DIRECTORY_SWAPPED';
  constructor(readonly path: string) {
    super(msg.dirSwapped(path));
    this.name = 'DirectorySwapped';
  }
}

/**
 * Free space check before any request: a run needs about this many bytes for its journal and
 * report. Not a reservation (see JournalWriter): a guard against starting on a disk that is
 * already full.
 */
export function bytesNeededFor(accounts: number): number {
  // intent ~120 B + outcome ~200 B in the journal, a row ~150 B in the report, with slack.
  return 64 * 1024 + accounts * 1024;
}

export async function checkFreeSpace(dir: string, bytesNeeded: number): Promise<void> {
  const s = await fsp.statfs(dir).catch(() => undefined);
  if (!s) return;
  const free = Number(s.bavail) * Number(s.bsize);
  if (free < bytesNeeded) throw new UsageError(msg.notEnoughSpace(resolve(dir), bytesNeeded, free));
}
