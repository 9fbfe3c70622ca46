/**
 * Reading a report back (verify, notify, the library's readReport): its own module, so a run that
 * only writes reports never loads the CSV parser at start-up.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';

export interface ParsedReportRow {
  server: string;
  username: string;
  kind: string;
  credential: string;
  status: string;
  password: string;
  error: string;
}

export class NotAReport extends Error {
  readonly code = 'NOT_A_REPORT';
}

/** Parses a report back (for verify and notify). Cells escaped against formula injection are un-escaped. */
export function parseReport(text: string, path = 'report'): ParsedReportRow[] {
  let records: Array<Record<string, string>>;
  try {
    records = parse<Record<string, string>>(text, { columns: true, skip_empty_lines: true, relax_column_count: true, bom: true });
  } catch {
    throw new NotAReport(`${path} is not a da-rotate report (not a CSV file)`);
  }
  const first = text.replace(/^\uFEFF/, '').slice(0, text.indexOf('\n') >>> 0);
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
    error: unescape(r.error),
  }));
}

export function readReport(path: string): ParsedReportRow[] {
  return parseReport(readFileSync(path, 'utf8'), path);
}
