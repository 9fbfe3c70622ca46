/**
 * The report of an encrypted run (--encrypt-to): rows are kept in memory and written once, whole,
 * as `<name>.csv.age` when the run closes. No plaintext report ever touches the disk; the journal
 * (with sealed secrets) stays the durability point, and a resume rebuilds this file from it.
 */
import { dirname } from 'node:path';
import type { AgeRecipient } from '../crypto/index.js';
import { replaceFile, writeNewFile } from '../files.js';
import { checkPrivateDir } from '../directories.js';
import { formatRows, type ReportRow } from './report.js';

/** The encrypted report's name for a report path: `<name>.csv` -> `<name>.csv.age`. */
export function encryptedReportPath(reportPath: string): string {
  return reportPath.endsWith('.age') ? reportPath : `${reportPath}.age`;
}

/** What the run writes rows to: a CSV file as it goes, or this. */
export interface ReportSink {
  readonly path: string;
  write(row: ReportRow): void;
  onFailure(listener: (e: unknown) => void): void;
  close(): Promise<void>;
  /** Closes and removes a report nothing was written to yet (the run stopped before its first change). */
  discard(): Promise<void>;
}

export class EncryptedReport implements ReportSink {
  private readonly rows: ReportRow[] = [];
  private closed = false;

  constructor(
    readonly path: string,
    private readonly recipients: readonly AgeRecipient[],
    /** Resume: the file exists and is replaced (written beside it, then renamed over it). */
    private readonly replace = false,
    initial: readonly ReportRow[] = [],
  ) {
    this.rows.push(...initial);
  }

  write(row: ReportRow): void {
    this.rows.push(row);
  }

  /** Nothing is written before close: there is nothing to fail early. */
  onFailure(): void {}

  /** Nothing is on disk before close: dropping the rows is all. */
  discard(): Promise<void> {
    this.closed = true;
    this.rows.length = 0;
    return Promise.resolve();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // age is loaded only by runs that encrypt.
    const { encryptToRecipients } = await import('../crypto/index.js');
    const bytes = await encryptToRecipients(formatRows(this.rows, true), this.recipients);
    await checkPrivateDir(dirname(this.path), { create: false });
    if (this.replace) await replaceFile(this.path, bytes);
    else await writeNewFile(this.path, bytes);
  }
}
