/**
 * The one place da-rotate creates and writes files. Every file is created exclusively, never
 * through a link, mode 0600 from its first instant, in a directory only we can write; every byte is
 * written or the write fails. The operator's own file problems are usage errors (exit 2) naming the
 * path and the fix; a write that fails mid-run is a FileWriteFailed the run maps to exit 3 with the
 * resume line. The directories they go in are checked by directories.ts.
 */
import { closeSync, constants, fstatSync, openSync, promises as fsp, readSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from './errors.js';
import { msg } from './messages.js';

export type { FileHandle };

/**
 * The system calls the writers go through, replaceable in tests to inject short writes, ENOSPC,
 * EIO or EDQUOT on one file's handle (match on `path`).
 */
export interface FileSystemOps {
  open(path: string, flags: number, mode: number): Promise<FileHandle>;
  /** Writes some of `data` at the end (files are O_APPEND); returns how many bytes went out. */
  write(path: string, handle: FileHandle, data: Uint8Array): Promise<number>;
  datasync(path: string, handle: FileHandle): Promise<void>;
  /** fsync of a directory, making a new or renamed entry in it durable. */
  syncDir(dir: string): Promise<void>;
}

const realOps: FileSystemOps = {
  open: (path, flags, mode) => fsp.open(path, flags, mode),
  write: async (_path, handle, data) => (await handle.write(data, 0, data.length)).bytesWritten,
  datasync: (_path, handle) => handle.datasync(),
  syncDir: async (dir) => {
    let h: FileHandle;
    try {
      h = await fsp.open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
    } catch {
      return; // Not every platform lets a directory be opened; Linux and macOS do.
    }
    try {
      await h.sync();
    } finally {
      await h.close();
    }
  },
};

let ops: FileSystemOps = realOps;

/** Tests only: replace some system calls (undefined restores the real ones). */
export function setFileSystemForTests(overrides: Partial<FileSystemOps> | undefined): void {
  ops = overrides ? { ...realOps, ...overrides } : realOps;
}

/** The real system calls, for a test double that fails only sometimes. */
export const realFileSystem: Readonly<FileSystemOps> = realOps;

/**
 * A write, fdatasync or fsync that failed: the bytes may not be on disk. `code` is the errno code
 * (ENOSPC, EIO, EDQUOT...) or ESHORT when the system accepted no bytes without an error.
 */
export class FileWriteFailed extends Error {
  readonly code = 'FILE_WRITE_FAILED';
  constructor(
    readonly path: string,
    readonly errno: string,
    options?: { cause?: unknown },
  ) {
    super(msg.fileWriteFailedShort(path, errno), options);
    this.name = 'FileWriteFailed';
  }
}

/** The errno code of a failed file operation (a FileWriteFailed, a fileUsageError or a system error). */
export function errnoOf(e: unknown): string {
  if (e instanceof FileWriteFailed) return e.errno;
  const withErrno = e as { errno?: unknown } | undefined;
  if (e instanceof UsageError && typeof withErrno?.errno === 'string') return withErrno.errno;
  return (e as NodeJS.ErrnoException | undefined)?.code ?? String(e);
}

// O_CLOEXEC: Node has no constant for it because libuv adds it to every open(2) on its own.
const NEW_FILE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW | constants.O_APPEND;

/** A file we created or checked, open for appending. */
export class PrivateFile {
  constructor(
    readonly path: string,
    readonly handle: FileHandle,
  ) {}

  /** Every byte of data, or FileWriteFailed. */
  writeAll(data: string | Uint8Array): Promise<void> {
    return writeAll(this, data);
  }

  async datasync(): Promise<void> {
    try {
      await ops.datasync(this.path, this.handle);
    } catch (e) {
      throw new FileWriteFailed(this.path, errnoOf(e), { cause: e });
    }
  }

  async sync(): Promise<void> {
    try {
      await this.handle.sync();
    } catch (e) {
      throw new FileWriteFailed(this.path, errnoOf(e), { cause: e });
    }
  }

  async size(): Promise<number> {
    return (await this.handle.stat()).size;
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

/**
 * Writes all of data, looping over short writes; a write that accepts 0 bytes or errors is a
 * failure. A short write is never taken for a durable one: on a nearly full disk write(2) returns a
 * short count first and ENOSPC only on the next call.
 */
export async function writeAll(file: { path: string; handle: FileHandle }, data: string | Uint8Array): Promise<void> {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let offset = 0;
  while (offset < bytes.length) {
    let n: number;
    try {
      n = await ops.write(file.path, file.handle, bytes.subarray(offset));
    } catch (e) {
      throw new FileWriteFailed(file.path, errnoOf(e), { cause: e });
    }
    if (!(n > 0)) throw new FileWriteFailed(file.path, 'ESHORT');
    offset += n;
  }
}

/** fsync of a directory after an entry was created or renamed in it. */
export async function syncDir(dir: string): Promise<void> {
  try {
    await ops.syncDir(dir);
  } catch (e) {
    throw new FileWriteFailed(dir, errnoOf(e), { cause: e });
  }
}

/** Turns an open/mkdir/link error on the operator's path into a one-line usage error. */
export function fileUsageError(path: string, e: unknown, what: 'file' | 'directory' = 'file'): Error {
  const code = errnoOf(e);
  const usage = fileUsageErrorOf(path, e, code, what);
  // The errno stays readable (a run past its first request turns it into a stop with the resume line).
  return usage instanceof UsageError ? Object.assign(usage, { errno: code }) : usage;
}

function fileUsageErrorOf(path: string, e: unknown, code: string, what: 'file' | 'directory'): Error {
  switch (code) {
    case 'EEXIST':
      return new UsageError(msg.fileExists(path));
    case 'EISDIR':
      return new UsageError(msg.isADirectory(path));
    case 'ELOOP':
    case 'EMLINK': // FreeBSD's answer to O_NOFOLLOW on a link
      return new UsageError(msg.isASymlink(path));
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new UsageError(msg.cannotWritePath(path, code, what));
    case 'ENOTDIR':
    case 'ENOENT':
      return new UsageError(msg.pathMissing(path, code));
    case 'ENOSPC':
    case 'EDQUOT':
    case 'EIO':
      return new UsageError(msg.cannotCreateNoSpace(path, code));
    default:
      return e instanceof Error ? e : new Error(String(e));
  }
}

async function openNew(path: string, mode: number): Promise<FileHandle> {
  return ops.open(path, NEW_FILE, mode);
}

/**
 * Creates a new file, 0600 from creation: O_CREAT|O_EXCL|O_NOFOLLOW|O_WRONLY|O_APPEND. An
 * existing file, a link or a directory at `path` is a UsageError naming it; the new directory
 * entry is fsync'd.
 */
export async function createExclusive(path: string, mode = 0o600): Promise<PrivateFile> {
  let handle: FileHandle;
  try {
    handle = await openNew(path, mode);
  } catch (e) {
    if (errnoOf(e) === 'EEXIST') {
      // O_EXCL answers EEXIST for a directory or a link too: say which it is.
      const st = await fsp.lstat(path).catch(() => undefined);
      if (st?.isDirectory()) throw new UsageError(msg.isADirectory(path));
      if (st?.isSymbolicLink()) throw new UsageError(msg.isASymlink(path));
    }
    throw fileUsageError(path, e);
  }
  const file = new PrivateFile(path, handle);
  try {
    // umask cannot widen a mode, but a mode given wider than 0600 is a caller's bug: enforce.
    await handle.chmod(mode & 0o600);
    await syncDir(dirname(path));
  } catch (e) {
    await handle.close().catch(() => undefined);
    throw e;
  }
  return file;
}

/**
 * Opens a file of ours to append to (resume): never through a link, only a regular file owned by
 * this user and not writable by group or others.
 */
export async function openAppendNoFollow(path: string): Promise<PrivateFile> {
  let handle: FileHandle;
  try {
    handle = await ops.open(path, constants.O_RDWR | constants.O_APPEND | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0);
  } catch (e) {
    throw fileUsageError(path, e);
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new UsageError(msg.notARegularFile(path));
    const uid = process.getuid?.();
    if (uid !== undefined && st.uid !== uid) throw new UsageError(msg.fileNotOurs(path, st.uid));
    if (st.mode & 0o022) throw new UsageError(msg.fileWritableByOthers(path, st.mode & 0o777));
  } catch (e) {
    await handle.close().catch(() => undefined);
    throw e;
  }
  return new PrivateFile(path, handle);
}

/** Says what is wrong with a path given as a file to read (a directory, missing...), or undefined. */
export async function describeNotAFile(path: string): Promise<string | undefined> {
  const st = await fsp.stat(path).catch(() => undefined);
  if (st?.isDirectory()) return msg.isADirectory(path);
  return undefined;
}

/** Largest journal or report read back (a journal of 100 000 credentials is ~40 MB). */
export const MAX_READ_BYTES = 256 * 1024 * 1024;

/**
 * Reads a journal or report: only a regular file (opened O_NONBLOCK so a FIFO cannot hang the open,
 * then fstat'd: a FIFO, a device such as /dev/zero or a directory is refused at once), at most
 * `maxBytes` (UsageErrors naming the path); open and read errors are thrown as they come (errno).
 */
export function readRegularFileSync(path: string, maxBytes = MAX_READ_BYTES): Buffer {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new UsageError(msg.isADirectory(path));
    if (!st.isFile()) throw new UsageError(msg.notARegularFileToRead(path));
    if (st.size > maxBytes) throw new UsageError(msg.fileTooLarge(path, st.size, maxBytes));
    const buf = Buffer.alloc(st.size);
    let off = 0;
    while (off < buf.length) {
      const n = readSync(fd, buf, off, buf.length - off, off);
      if (n === 0) break;
      off += n;
    }
    return buf.subarray(0, off);
  } finally {
    closeSync(fd);
  }
}

/** Refuses, before any request, a file the run would create that already exists (--output, its journal). */
export async function checkNewFile(path: string): Promise<void> {
  const st = await fsp.lstat(path).catch((e: unknown) => {
    if (errnoOf(e) === 'ENOENT') return undefined;
    throw fileUsageError(path, e);
  });
  if (!st) return;
  if (st.isDirectory()) throw new UsageError(msg.isADirectory(path));
  if (st.isSymbolicLink()) throw new UsageError(msg.isASymlink(path));
  throw new UsageError(msg.fileExists(path));
}

/** UTC time to the millisecond, for file names: 20250102T030405.678Z */
export function fileTimestamp(d = new Date()): string {
  return d.toISOString().replace(/[-:]/g, '');
}

/**
 * A default report, created at once so two runs in the same millisecond cannot both take the name:
 * `<dir>/<prefix>-<host>-<UTC time to ms>.csv`, then `-2`, `-3`... on EEXIST. A name whose journal
 * (`<name>.journal.jsonl`) already exists is skipped too.
 */
export async function uniqueReportPath(dir: string, prefix: string, hostKey: string, now = new Date()): Promise<{ path: string; file: PrivateFile }> {
  const base = join(resolve(dir), `${prefix}-${hostKey}-${fileTimestamp(now)}`);
  for (let n = 1; n <= 1000; n++) {
    const stem = n === 1 ? base : `${base}-${n}`;
    const path = `${stem}.csv`;
    const journalTaken = await fsp.lstat(`${stem}.journal.jsonl`).then(
      () => true,
      () => false,
    );
    if (journalTaken) continue;
    try {
      return { path, file: await createExclusive(path) };
    } catch (e) {
      const st = await fsp.lstat(path).catch(() => undefined);
      if (e instanceof UsageError && st && !st.isDirectory()) continue; // taken: a file or a planted link
      throw e;
    }
  }
  throw new UsageError(msg.noFreeReportName(base));
}

/** A name nobody can guess, for a temporary file beside `path`. */
export function tempNameBeside(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(8).toString('hex')}.tmp`);
}

/**
 * Creates a temporary file beside `path` under a random name, exclusively and never through a
 * link; a name already taken (by anything, planted or not) just means another random name.
 */
export async function createTempBeside(path: string): Promise<PrivateFile> {
  for (let i = 0; ; i++) {
    const tmp = tempNameBeside(path);
    try {
      return new PrivateFile(tmp, await openNew(tmp, 0o600));
    } catch (e) {
      if (errnoOf(e) !== 'EEXIST' || i >= 8) throw fileUsageError(tmp, e);
    }
  }
}

/**
 * A new file with exactly `data` in it, or none: created exclusively and never through a link (mode
 * 0600), written whole, fsync'd with its directory. On failure the partial file is removed.
 */
export async function writeNewFile(path: string, data: string | Uint8Array): Promise<void> {
  const file = await createExclusive(path);
  try {
    await file.writeAll(data);
    await file.sync();
  } catch (e) {
    await file.close().catch(() => undefined);
    await fsp.unlink(path).catch(() => undefined);
    throw e;
  }
  await file.close();
}

/**
 * Replaces `path` with exactly `data`, atomically: a random-named temporary file beside it is
 * written whole and fsync'd, renamed over it, and the directory fsync'd. Readers see the old file
 * or the new one, never a part. The file is 0600 unless `mode` says otherwise (metrics: 0644).
 */
export interface ReplaceOptions {
  /** The file's mode once written (created 0600). */
  mode?: number;
  /**
   * Throws when the directory is no longer the one the run checked (PinnedDir.check). Asked before
   * anything is created; again once the temporary file exists, so one created through a link swapped
   * in between is removed unwritten; and when a step fails, so a swap is named as the cause rather
   * than the ENOENT it causes.
   */
  stillOurs?: () => Promise<void>;
}

export async function replaceFile(path: string, data: string | Uint8Array, options: ReplaceOptions = {}): Promise<void> {
  const { mode, stillOurs } = options;
  await stillOurs?.();
  const tmp = await createTempBeside(path);
  try {
    await stillOurs?.();
    if (mode !== undefined) await tmp.handle.chmod(mode);
    await tmp.writeAll(data);
    await tmp.sync();
    await tmp.close();
    await fsp.rename(tmp.path, path);
  } catch (e) {
    await tmp.close().catch(() => undefined);
    await fsp.unlink(tmp.path).catch(() => undefined);
    await stillOurs?.();
    throw e;
  }
  await syncDir(dirname(path));
}
