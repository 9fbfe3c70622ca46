/**
 * The CSV result file: created exclusively with mode 0600 before anything is written, one row per
 * credential appended as it finishes. It can always be rebuilt from the journal (rowsFromJournal).
 * Reading a report back is report-parse.ts: a run that only writes one never loads the CSV parser.
 */
import { stringify } from 'csv-stringify/sync';
import { promises as fsp } from 'node:fs';
import { dirname } from 'node:path';
import { createExclusive, createTempBeside, openAppendNoFollow, syncDir, uniqueReportPath, type PrivateFile } from '../files.js';
import { checkPrivateDir, type PrivateDirCheck } from '../directories.js';
import { credentialId, type Credential, type KindName } from '../kinds/kind.js';
import type { SkippedAccount } from './enumerate.js';
import type { IntentRecord, JournalListingFailure, JournalState } from './journal.js';

export const REPORT_COLUMNS = [
  'server',
  'username',
  'kind',
  'credential',
  'status',
  'password',
  'attempts',
  'verified',
  'error',
  'started_at',
  'finished_at',
  'details',
] as const;

/** `not-started`: the run stopped before this credential was sent; `resume` does it. */
export const REPORT_STATUSES = ['rotated', 'revoked', 'failed', 'unknown', 'skipped', 'not-started', 'planned'] as const;
export type ReportStatus = (typeof REPORT_STATUSES)[number];

export interface ReportRow {
  server: string;
  /** The account that owns the credential. */
  username: string;
  kind: KindName;
  /** The mailbox address, FTP login, key or session id; the username for `account`. */
  credential: string;
  status: ReportStatus;
  password?: string;
  attempts: number;
  verified: boolean;
  error?: string;
  startedAt?: string;
  finishedAt?: string;
  details?: string;
}

/** Spreadsheets run cells starting with these as formulas (CSV injection). */
const FORMULA_START = /^[=+\-@\t\r]/;

export function neutralizeCell(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

/** Control characters from a hostile server (line breaks and tabs too) become \xNN: one row stays one line. */
export function printable(value: string): string {
  return value.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

export type ReportColumn = (typeof REPORT_COLUMNS)[number];

/** Each column's cell of a row: keyed by REPORT_COLUMNS, so a column added there must say its cell here. */
const CELL: Record<ReportColumn, (row: ReportRow) => string> = {
  server: (r) => r.server,
  username: (r) => r.username,
  kind: (r) => r.kind,
  credential: (r) => r.credential,
  status: (r) => r.status,
  password: (r) => r.password ?? '',
  attempts: (r) => String(r.attempts),
  verified: (r) => (r.verified ? 'yes' : 'no'),
  error: (r) => r.error ?? '',
  started_at: (r) => r.startedAt ?? '',
  finished_at: (r) => r.finishedAt ?? '',
  details: (r) => r.details ?? '',
};

/** A row's cells in REPORT_COLUMNS order, made safe for a spreadsheet and one line each. */
export function rowToCells(row: ReportRow): string[] {
  return REPORT_COLUMNS.map((c) => neutralizeCell(printable(CELL[c](row))));
}

/**
 * Whole CSV lines (RFC 4180, \n line ends) of rows given as cells, written by csv-stringify: one call
 * for many rows (each call parses its options again: about 9 us a row one by one, 3 us in a batch).
 */
function formatCells(cells: string[][]): string {
  return cells.length === 0 ? '' : stringify(cells, { record_delimiter: 'unix' });
}

/** CSV lines of rows, after the header when asked. */
export function formatRows(rows: readonly ReportRow[], header: boolean): string {
  return formatCells([...(header ? [[...REPORT_COLUMNS]] : []), ...rows.map(rowToCells)]);
}

/**
 * Creates a directory (and parents) with mode 0700, or checks an existing one is private (see
 * checkPrivateDir: refused when others can write it, narrowed to 0700 when only readable).
 */
export async function ensurePrivateDir(dir: string): Promise<PrivateDirCheck> {
  return checkPrivateDir(dir, { create: true });
}

/**
 * Rows are written through writeAll (every byte or a FileWriteFailed). The first failure latches:
 * later rows are dropped (the journal holds every password; a resume rebuilds the report), the
 * listeners given to onFailure are told at once so the run can stop, and close() rejects with it.
 */
export class ReportWriter {
  private chain: Promise<void> = Promise.resolve();
  private failed: unknown;
  /** Rows (as cells) not written yet. */
  private pending: string[][] = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly failureListeners: Array<(e: unknown) => void> = [];

  private constructor(private readonly file: PrivateFile) {}

  get path(): string {
    return this.file.path;
  }

  /** The error that stopped this report (a FileWriteFailed for a write), if any. */
  get failure(): unknown {
    return this.failed;
  }

  /** Calls `listener` once, at the first failed write (at once if one already failed). */
  onFailure(listener: (e: unknown) => void): void {
    if (this.failed) listener(this.failed);
    else this.failureListeners.push(listener);
  }

  /**
   * Creates a new report at the path given (--output): its directory private (created 0700), the
   * file 0600 exclusively, never through a link; an existing file is a UsageError naming it.
   */
  static async create(path: string): Promise<ReportWriter> {
    await checkPrivateDir(dirname(path), { create: true });
    return ReportWriter.start(await createExclusive(path));
  }

  /**
   * Creates a default-named report, `<dir>/<prefix>-<hostKey>-<UTC time to ms>.csv` (then -2,
   * -3... if taken): two runs in the same instant never collide. Its path is `.path`.
   */
  static async createUnique(dir: string, prefix: string, hostKey: string, now?: Date): Promise<ReportWriter> {
    await checkPrivateDir(dir, { create: true });
    const { file } = await uniqueReportPath(dir, prefix, hostKey, now);
    return ReportWriter.start(file);
  }

  private static start(file: PrivateFile): ReportWriter {
    const w = new ReportWriter(file);
    w.enqueue(formatRows([], true));
    return w;
  }

  /**
   * Replaces a report with rows rebuilt from its journal (resume), atomically: a new 0600 file is
   * written under a random name beside it (exclusive, never through a link) and fsync'd, renamed
   * over it (rename replaces a link, never writes through it), and the directory fsync'd. Rows for
   * the rest are appended after.
   */
  static async rebuild(path: string, rows: readonly ReportRow[]): Promise<ReportWriter> {
    const dir = dirname(path);
    await checkPrivateDir(dir, { create: true });
    const tmp = await createTempBeside(path);
    try {
      try {
        await tmp.writeAll(formatRows(rows, true));
        await tmp.sync();
      } finally {
        await tmp.close();
      }
      await fsp.rename(tmp.path, path);
    } catch (e) {
      await fsp.unlink(tmp.path).catch(() => undefined);
      throw e;
    }
    await syncDir(dir);
    return new ReportWriter(await openAppendNoFollow(path));
  }

  /**
   * Rows are gathered and written together (every 250 ms or 512 rows): the journal, not the report,
   * is what makes a password durable, and one write per row costs more CPU than the request. A row is
   * kept as its cells (not the row object) and the batch is formatted in one csv-stringify call at
   * the flush (512 rows: about 1.5 ms).
   */
  write(row: ReportRow): void {
    this.pending.push(rowToCells(row));
    if (this.pending.length >= 512) this.flushPending();
    else this.timer ??= setTimeout(() => this.flushPending(), 250);
  }

  private flushPending(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.pending.length === 0) return;
    const rows = this.pending;
    this.pending = [];
    this.enqueue(formatCells(rows));
  }

  /** Bytes of the file that are whole rows (set at the first write). */
  private wholeBytes: number | undefined;

  /**
   * Writes whole lines; a write that fails cuts the file back to its last whole row, so a reader
   * never meets a torn one (the journal has every row; a resume rebuilds the rest).
   */
  private enqueue(text: string): void {
    this.chain = this.chain.then(async () => {
      if (this.failed) return;
      try {
        this.wholeBytes ??= await this.file.size();
        await this.file.writeAll(text);
        this.wholeBytes += Buffer.byteLength(text);
      } catch (e) {
        if (this.wholeBytes !== undefined) await this.file.handle.truncate(this.wholeBytes).catch(() => undefined);
        this.fail(e);
      }
    });
  }

  private fail(e: unknown): void {
    if (this.failed) return;
    this.failed = e;
    for (const l of this.failureListeners.splice(0)) l(e);
  }

  /** Closes and removes a report the run never used (it stopped before its first change). */
  async discard(): Promise<void> {
    await this.close().catch(() => undefined);
    await fsp.unlink(this.path);
  }

  /** Writes what is pending, fsyncs and closes; rejects with the failure if any write failed. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.flushPending();
    await this.chain;
    try {
      if (!this.failed) await this.file.sync();
    } catch (e) {
      this.fail(e);
    } finally {
      await this.file.close().catch(() => undefined);
    }
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- the error latched by a failed write, rethrown as caught
    if (this.failed) throw this.failed;
  }
}

/** A skipped account's row: deliberately not touched, with why. */
export function skippedRow(server: string, s: SkippedAccount): ReportRow {
  return { server, username: s.username, kind: 'account', credential: s.username, status: 'skipped', attempts: 0, verified: false, error: s.reason };
}

/** The row of a credential, before or without an outcome. */
export function baseRow(server: string, c: Credential): Pick<ReportRow, 'server' | 'username' | 'kind' | 'credential' | 'details'> {
  return { server, username: c.owner, kind: c.kind, credential: c.name, details: c.details };
}

/** The row of a listing that failed (the run's own report and every resume's show the same one). */
export function listingFailureRow(server: string, f: JournalListingFailure): ReportRow {
  return {
    server,
    username: f.owner,
    kind: f.kind,
    credential: f.name ?? '*',
    status: f.status ?? 'failed',
    attempts: 0,
    verified: false,
    error: f.error,
  };
}

/**
 * Every row a journal implies, in dispatch order: skipped, settled, and (for an unfinished run)
 * pending. `secretOf` reads an intent's secret (it unseals it when the journal is encrypted).
 */
export function rowsFromJournal(state: JournalState, options: { includePending: boolean; secretOf: (i: IntentRecord) => string | undefined }): ReportRow[] {
  const { header } = state;
  const rows: ReportRow[] = header.skipped.map((s) => skippedRow(header.server, s));
  // A listing that failed is a failed row in every report of the run, resumes included.
  for (const f of header.listingFailures ?? []) rows.push(listingFailureRow(header.server, f));
  for (const c of header.credentials) {
    const id = credentialId(c);
    const o = state.outcomes.get(id);
    const intent = state.intents.get(id);
    if (o && o.status !== 'not-sent') {
      rows.push({
        ...baseRow(header.server, c),
        status: o.status,
        // A failed change never took effect; an unknown one may have: keep its secret.
        password: o.status === 'failed' || !intent ? undefined : options.secretOf(intent),
        attempts: o.attempts,
        verified: o.verified,
        error: o.error,
        startedAt: o.startedAt,
        finishedAt: o.finishedAt,
      });
    } else if (options.includePending) {
      const sentMaybe = intent !== undefined && !o;
      rows.push({
        ...baseRow(header.server, c),
        status: sentMaybe ? 'unknown' : 'not-started',
        password: sentMaybe ? options.secretOf(intent) : undefined,
        attempts: 0,
        verified: false,
        error: sentMaybe ? 'interrupted after the change was journaled: run `da-rotate resume` to settle it' : 'not started: `da-rotate resume` does it',
        startedAt: intent?.at,
      });
    }
  }
  return rows;
}
