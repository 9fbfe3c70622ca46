/**
 * Reading a report back (verify, notify, the library's readReport): its own module, so a run that
 * only writes reports never loads the CSV parser at start-up.
 */
import { readRegularFileSync } from '../files.js';
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

/**
 * Parses a report back (for verify and notify). Cells escaped against formula injection are
 * un-escaped. A report is read whole or not at all: a row whose number of cells is not the
 * header's, or a last row without its line end (a write cut short), is a NotAReport naming the line.
 */
export function parseReport(text: string, path = 'report'): ParsedReportRow[] {
  let records: Array<{ record: string[]; info: { lines: number } }>;
  try {
    records = parse(text, { info: true, skip_empty_lines: true, relax_column_count: true, bom: true }) as unknown as typeof records;
  } catch {
    throw new NotAReport(`${path} is not a da-rotate report (not a CSV file)`);
  }
  const first = text.replace(/^\uFEFF/, '').slice(0, text.indexOf('\n') >>> 0);
  if (!first.startsWith('server,username,')) throw new NotAReport(`${path} is not a da-rotate report (its first line is not the report header)`);
  const header = records[0]!.record;
  for (const { record, info } of records) {
    if (record.length !== header.length)
      throw new NotAReport(
        `${path}: line ${info.lines} has ${record.length} cells, the header ${header.length}: the report is torn or altered; rebuild it from its journal (\`da-rotate resume\`)`,
      );
  }
  if (records.length > 1 && !/\n\s*$/.test(text)) {
    throw new NotAReport(
      `${path}: line ${records.at(-1)!.info.lines} has no line end: the report was cut short; rebuild it from its journal (\`da-rotate resume\`)`,
    );
  }
  const unescape = (v: string | undefined) => (v && /^'[=+\-@\t\r]/.test(v) ? v.slice(1) : (v ?? ''));
  return records.slice(1).map(({ record }) => {
    const r = Object.fromEntries(header.map((h, i) => [h, record[i]])) as Record<string, string | undefined>;
    return {
      server: unescape(r.server),
      username: unescape(r.username),
      // Reports of version 0.1 had account rows only.
      kind: unescape(r.kind) || 'account',
      credential: unescape(r.credential) || unescape(r.username),
      status: unescape(r.status),
      password: unescape(r.password),
      error: unescape(r.error),
    };
  });
}

export function readReport(path: string): ParsedReportRow[] {
  return parseReport(readRegularFileSync(path).toString('utf8'), path);
}
