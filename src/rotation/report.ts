/**
 * The CSV result file: created exclusively with mode 0600 before anything is written, one row per
 * account appended as it finishes. It can always be rebuilt from the journal (rebuildReport).
 */
import { promises as fsp, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  checkPrivateDir,
  createExclusive,
  createTempBeside,
  openAppendNoFollow,
  syncDir,
  uniqueReportPath,
  type PrivateDirCheck,
  type PrivateFile,
} from './files.js';
import { stringify } from 'csv-stringify/sync';
import { parse } from 'csv-parse/sync';
import type { JournalState } from './journal.js';

export const REPORT_COLUMNS = [
  'server',
  'username',
  'status',
  'password',
  'attempts',
  'verified',
  'error',
  'started_at',
  'finished_at',
] as const;

export type ReportStatus = 'rotated' | 'failed' | 'unknown' | 'skipped' | 'planned';

export interface ReportRow {
  server: string;
  username: string;
  status: ReportStatus;
  password?: string;
  attempts: number;
  verified: boolean;
  error?: string;
  startedAt?: string;
  finishedAt?: string;
}

/** Spreadsheets run cells starting with these as formulas (CSV injection). */
const FORMULA_START = /^[=+\-@\t\r]/;

export function neutralizeCell(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

function printable(value: string): string {
  // Control characters from a hostile server would garble terminals and some CSV readers.
  return value.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

export function rowToCells(row: ReportRow): string[] {
  return [
    row.server,
    row.username,
    row.status,
    row.password ?? '',
    String(row.attempts),
    row.verified ? 'yes' : 'no',
    row.error ?? '',
    row.startedAt ?? '',
    row.finishedAt ?? '',
  ].map((c) => neutralizeCell(printable(c)));
}

export function formatRows(rows: readonly ReportRow[], header: boolean): string {
  return stringify(rows.map(rowToCells), {
    header,
    columns: header ? [...REPORT_COLUMNS] : undefined,
    quoted_match: /[\r\n]/,
  });
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
  private pending: ReportRow[] = [];
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
   * is what makes a password durable, and one write per row costs more CPU than the request.
   */
  write(row: ReportRow): void {
    this.pending.push(row);
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
    this.enqueue(formatRows(rows, false));
  }

  private enqueue(text: string): void {
    this.chain = this.chain.then(async () => {
      if (this.failed) return;
      try {
        await this.file.writeAll(text);
      } catch (e) {
        this.fail(e);
      }
    });
  }

  private fail(e: unknown): void {
    if (this.failed) return;
    this.failed = e;
    for (const l of this.failureListeners.splice(0)) l(e);
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
    if (this.failed) throw this.failed;
  }
}

/** Every row a journal implies, in account order: skipped, settled, and (for an unfinished run) pending. */
export function rowsFromJournal(state: JournalState, options: { includePending: boolean }): ReportRow[] {
  const { header } = state;
  const rows: ReportRow[] = header.skipped.map((s) => ({
    server: header.server,
    username: s.username,
    status: 'skipped',
    attempts: 0,
    verified: false,
    error: s.reason,
  }));
  for (const u of header.accounts) {
    const o = state.outcomes.get(u);
    const intent = state.intents.get(u);
    if (o && o.status !== 'not-sent') {
      rows.push({
        server: header.server,
        username: u,
        status: o.status,
        // A failed change never took effect; an unknown one may have: keep its password.
        password: o.status === 'failed' ? undefined : intent?.pw,
        attempts: o.attempts,
        verified: o.verified,
        error: o.error,
        startedAt: o.startedAt,
        finishedAt: o.finishedAt,
      });
    } else if (options.includePending) {
      rows.push({
        server: header.server,
        username: u,
        status: intent ? 'unknown' : 'skipped',
        password: intent?.pw,
        attempts: 0,
        verified: false,
        error: intent ? 'interrupted after the new password was journaled: run `da-rotate resume` to settle it' : 'not started: run interrupted; `da-rotate resume` rotates it',
        startedAt: intent?.at,
      });
    }
  }
  return rows;
}

export interface ParsedReportRow {
  server: string;
  username: string;
  status: string;
  password: string;
}

/** Reads a report back (for verify). Cells escaped against formula injection are un-escaped. */
export function readReport(path: string): ParsedReportRow[] {
  const text = readFileSync(path, 'utf8');
  const records = parse(text, { columns: true, skip_empty_lines: true, relax_column_count: true }) as Array<Record<string, string>>;
  const unescape = (v: string | undefined) => (v && /^'[=+\-@\t\r]/.test(v) ? v.slice(1) : (v ?? ''));
  return records.map((r) => ({
    server: unescape(r.server),
    username: unescape(r.username),
    status: unescape(r.status),
    password: unescape(r.password),
  }));
}
