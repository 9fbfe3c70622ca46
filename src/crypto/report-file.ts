/**
 * The encrypted report: written once, whole, at the end of a run from the rows in memory, so no
 * plaintext report ever touches the disk; and read back (plain or encrypted) for verify and notify.
 */
import { constants, promises as fsp, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { UsageError } from '../errors.js';
import { decryptWithIdentities, encryptToRecipients, looksLikeAge, type AgeIdentity, type AgeRecipient } from './age.js';

/** The encrypted report's name for a report path: `<name>.csv` -> `<name>.csv.age`. */
export function encryptedReportPath(reportPath: string): string {
  return reportPath.endsWith('.age') ? reportPath : `${reportPath}.age`;
}

/** A file da-rotate could not write whole; the partial file (if any) was removed. */
export class SecretFileWriteError extends Error {
  constructor(
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SecretFileWriteError';
  }
}

/** Refuses a directory that another user could write into (they could plant or swap files). */
export function checkPrivateDirectory(dir: string): void {
  let st;
  try {
    st = statSync(dir);
  } catch (e) {
    throw new SecretFileWriteError(dir, `cannot use directory ${dir}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  if (!st.isDirectory()) throw new SecretFileWriteError(dir, `${dir} is not a directory`);
  const uid = process.getuid?.();
  if ((st.mode & 0o022) !== 0 || (uid !== undefined && st.uid !== uid && st.uid !== 0)) {
    throw new SecretFileWriteError(dir, `${dir} can be written by another user (mode ${(st.mode & 0o777).toString(8)}, owner uid ${st.uid}): use a directory only you can write, e.g. chmod 700 ${dir}`);
  }
}

/**
 * Writes bytes to a new file: created exclusively (never overwrites), mode 0600, never through a
 * symbolic link, every byte written (a short write is continued, no progress is a failure), then
 * the file and its directory fsync'd. On any failure the partial file is removed and the error thrown.
 */
export async function writeNewPrivateFile(path: string, bytes: Uint8Array): Promise<void> {
  const dir = dirname(path);
  checkPrivateDirectory(dir);
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'EEXIST' ? 'it already exists (never overwritten)' : code === 'ELOOP' ? 'it is a symbolic link' : (code ?? 'error');
    throw new SecretFileWriteError(path, `cannot create ${path}: ${why}`, { cause: e });
  }
  try {
    let offset = 0;
    while (offset < bytes.length) {
      const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset);
      if (bytesWritten <= 0) throw new Error('the write made no progress');
      offset += bytesWritten;
    }
    await handle.sync();
    await handle.close();
  } catch (e) {
    await handle.close().catch(() => undefined);
    await fsp.unlink(path).catch(() => undefined);
    throw new SecretFileWriteError(path, `could not write ${path} whole: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
  await syncDirectory(dir, path);
}

/** fsyncs a directory so a new entry in it survives a crash. */
export async function syncDirectory(dir: string, forPath = dir): Promise<void> {
  let d: fsp.FileHandle | undefined;
  try {
    d = await fsp.open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
    await d.sync();
  } catch (e) {
    throw new SecretFileWriteError(forPath, `could not make ${forPath} durable (fsync of ${dir}): ${(e as NodeJS.ErrnoException).code ?? 'error'}`, { cause: e });
  } finally {
    await d?.close().catch(() => undefined);
  }
}

/** Encrypts the whole report to the recipients and writes it as a new 0600 file (see writeNewPrivateFile). */
export async function writeEncryptedReport(path: string, csvText: string, recipients: readonly AgeRecipient[]): Promise<void> {
  if (!path.endsWith('.age')) throw new Error(`writeEncryptedReport: ${path} must end in .age`);
  const bytes = await encryptToRecipients(csvText, recipients);
  await writeNewPrivateFile(path, bytes);
}

/**
 * A report's CSV text, from a plain report or an age-encrypted one (recognized by its content, not
 * its name). An encrypted report without identities is a UsageError naming --identity.
 */
export async function readReportText(path: string, identities?: readonly AgeIdentity[]): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read the report ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (code ?? 'error')}`);
  }
  if (looksLikeAge(bytes)) {
    if (!identities || identities.length === 0) {
      throw new UsageError(`the report ${path} is encrypted: pass --identity FILE (the age identity for one of its recipients, mode 0600)`);
    }
    const plain = await decryptWithIdentities(bytes, identities, `the report ${path}`);
    return Buffer.from(plain).toString('utf8');
  }
  if (path.endsWith('.age')) throw new UsageError(`the report ${path} is named .age but is not an age file: it is damaged or not a da-rotate report`);
  return bytes.toString('utf8');
}
