/**
 * The CSV result file: created exclusively with mode 0600 before anything is written, one row per
 * credential appended as it finishes. It can always be rebuilt from the journal (rowsFromJournal).
 */
import { constants, promises as fsp, readFileSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { parse } from 'csv-parse/sync';
import { credentialId, type Credential, type KindName } from '../kinds/kind.js';
import type { SkippedAccount } from './enumerate.js';
import type { IntentRecord, JournalState } from './journal.js';

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
export type ReportStatus = 'rotated' | 'revoked' | 'failed' | 'unknown' | 'skipped' | 'not-started' | 'planned';

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

export function rowToCells(row: ReportRow): string[] {
  return [
    row.server,
    row.username,
    row.kind,
    row.credential,
    row.status,
    row.password ?? '',
    String(row.attempts),
    row.verified ? 'yes' : 'no',
    row.error ?? '',
    row.startedAt ?? '',
    row.finishedAt ?? '',
    row.details ?? '',
  ].map((c) => neutralizeCell(printable(c)));
}

export function formatRows(rows: readonly ReportRow[], header: boolean): string {
  return stringify(rows.map(rowToCells), { header, columns: header ? [...REPORT_COLUMNS] : undefined });
}

/** Creates a directory (and parents) with mode 0700. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
}

export class ReportWriter {
  private chain: Promise<void> = Promise.resolve();
  private failed: unknown;
  private pending: ReportRow[] = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly handle: fsp.FileHandle,
  ) {}

  /** Creates a new report (never overwrites) and writes the header line. */
  static async create(path: string): Promise<ReportWriter> {
    await ensurePrivateDir(dirname(path));
    const handle = await fsp.open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_APPEND, 0o600);
    const w = new ReportWriter(path, handle);
    w.enqueue(formatRows([], true));
    return w;
  }

  /**
   * Replaces a report with rows rebuilt from its journal (resume), atomically: a new 0600 file is
   * written and fsync'd beside it, then renamed over it. Rows for the rest are appended after.
   */
  static async rebuild(path: string, rows: readonly ReportRow[]): Promise<ReportWriter> {
    await ensurePrivateDir(dirname(path));
    const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
    const h = await fsp.open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    try {
      await h.write(formatRows(rows, true));
      await h.sync();
    } finally {
      await h.close();
    }
    await fsp.rename(tmp, path);
    const handle = await fsp.open(path, constants.O_WRONLY | constants.O_APPEND);
    return new ReportWriter(path, handle);
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
        await this.handle.write(text);
      } catch (e) {
        this.failed = e;
      }
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.flushPending();
    await this.chain;
    await this.handle.sync().catch(() => undefined);
    await this.handle.close();
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

/**
 * Every row a journal implies, in dispatch order: skipped, settled, and (for an unfinished run)
 * pending. `secretOf` reads an intent's secret (it unseals it when the journal is encrypted).
 */
export function rowsFromJournal(state: JournalState, options: { includePending: boolean; secretOf: (i: IntentRecord) => string | undefined }): ReportRow[] {
  const { header } = state;
  const rows: ReportRow[] = header.skipped.map((s) => skippedRow(header.server, s));
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

export interface ParsedReportRow {
  server: string;
  username: string;
  kind: string;
  credential: string;
  status: string;
  password: string;
}

export class NotAReport extends Error {}

/** Parses a report back (for verify and notify). Cells escaped against formula injection are un-escaped. */
export function parseReport(text: string, path = 'report'): ParsedReportRow[] {
  let records: Array<Record<string, string>>;
  try {
    records = parse(text, { columns: true, skip_empty_lines: true, relax_column_count: true }) as Array<Record<string, string>>;
  } catch {
    throw new NotAReport(`${path} is not a da-rotate report (not a CSV file)`);
  }
  const first = text.slice(0, text.indexOf('\n') >>> 0);
  if (!first.startsWith('server,username,')) throw new NotAReport(`${path} is not a da-rotate report (its first line is not the report header)`);
  const unescape = (v: string | undefined) => (v && /^'[=+\-@\t\r]/.test(v) ? v.slice(1) : (v ?? ''));
  return records.map((r) => ({
    server: unescape(r.server),
    username: unescape(r.username),
    // Reports of version 0.1 had account rows only.
    kind: unescape(r.kind) || 'account',
    credential: unescape(r.credential) || unescape(r.username),
    status: unescape(r.status),
    password: unescape(r.password),
  }));
}

export function readReport(path: string): ParsedReportRow[] {
  return parseReport(readFileSync(path, 'utf8'), path);
}
