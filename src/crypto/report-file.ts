/**
 * The encrypted report: written once, whole, at the end of a run from the rows in memory, so no
 * plaintext report ever touches the disk; and read back (plain or encrypted) for verify and notify.
 */
import { dirname } from 'node:path';
import { UsageError } from '../errors.js';
import { readRegularFileSync, writeNewFile } from '../files.js';
import { checkPrivateDir } from '../directories.js';
import { decryptWithIdentities, encryptToRecipients, looksLikeAge, type AgeIdentity, type AgeRecipient } from './age.js';

/** Encrypts the whole report to the recipients and writes it as a new 0600 file, in a directory only its owner can write. */
export async function writeEncryptedReport(path: string, csvText: string, recipients: readonly AgeRecipient[]): Promise<void> {
  if (!path.endsWith('.age')) throw new Error(`writeEncryptedReport: ${path} must end in .age`);
  const bytes = await encryptToRecipients(csvText, recipients);
  await checkPrivateDir(dirname(path), { create: false });
  await writeNewFile(path, bytes);
}

/**
 * A report's CSV text, from a plain report or an age-encrypted one (recognized by its content, not
 * its name). An encrypted report without identities is a UsageError naming --identity.
 */
export async function readReportText(path: string, identities?: readonly AgeIdentity[]): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = readRegularFileSync(path); // a regular file of bounded size: a FIFO or /dev/zero is refused at once
  } catch (e) {
    if (e instanceof UsageError) throw e;
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
