/**
 * From a report's CSV to what each account owner may receive: their own account password and
 * the mailbox and FTP passwords of that same account, nothing of anyone else's.
 */
import { UsageError } from '../errors.js';
import { isKindName } from '../kinds/kind.js';
import { parseReport, type ParsedReportRow } from '../rotation/report-parse.js';

/**
 * The credential kinds a customer is told about; keys and sessions stay with the operator. A
 * database user is told too: the customer's site stops working until its configuration has the new password.
 */
export type DeliverableKind = 'account' | 'email' | 'ftp' | 'db-user';
const DELIVERABLE = new Set<string>(['account', 'email', 'ftp', 'db-user']);

/** One report row, as the report module reads it back. */
export type ReportLine = ParsedReportRow;

export interface DeliverableCredential {
  kind: DeliverableKind;
  credential: string;
  password: string;
  /** `unknown`: the change may or may not have applied (delivered only with --include-unknown). */
  status: 'rotated' | 'unknown';
}

export interface AccountBundle {
  server: string;
  username: string;
  /** Account first, then mailboxes, then FTP accounts, each sorted by name. */
  credentials: DeliverableCredential[];
}

export interface Grouping {
  bundles: AccountBundle[];
  /** Credentials held back because their status is `unknown` (no --include-unknown). */
  heldUnknown: number;
  /** Delivered credentials whose status is `unknown` (with --include-unknown). */
  includedUnknown: number;
}

/** Parses a report (new format with kind/credential, or the older account-only one). */
export function parseReportCsv(text: string, where: string): ReportLine[] {
  try {
    return parseReport(text, where);
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
}

const KIND_ORDER: Record<DeliverableKind, number> = { account: 0, email: 1, ftp: 2, 'db-user': 3 };

/** Groups deliverable rows per owning account, keeping only rotated rows (and unknown ones if asked). */
export function groupForDelivery(lines: readonly ReportLine[], options: { includeUnknown: boolean }): Grouping {
  const byUser = new Map<string, AccountBundle>();
  let heldUnknown = 0;
  let includedUnknown = 0;
  for (const line of lines) {
    if (!isKindName(line.kind))
      throw new UsageError(`the report has a row of unknown kind "${line.kind}" (account ${line.username}): use the da-rotate version that wrote it`);
    if (!DELIVERABLE.has(line.kind)) continue;
    if (line.status !== 'rotated' && line.status !== 'unknown') continue;
    if (!line.password) continue;
    if (line.status === 'unknown') {
      if (!options.includeUnknown) {
        heldUnknown++;
        continue;
      }
      includedUnknown++;
    }
    let b = byUser.get(line.username);
    if (!b) {
      b = { server: line.server, username: line.username, credentials: [] };
      byUser.set(line.username, b);
    }
    if (b.credentials.some((c) => c.kind === line.kind && c.credential === line.credential)) {
      throw new UsageError(`the report lists ${line.kind} ${line.credential} of ${line.username} twice: it was edited or damaged`);
    }
    b.credentials.push({ kind: line.kind as DeliverableKind, credential: line.credential, password: line.password, status: line.status });
  }
  const bundles = [...byUser.values()].sort((a, b) => (a.username < b.username ? -1 : a.username > b.username ? 1 : 0));
  for (const b of bundles) {
    b.credentials.sort((x, y) => KIND_ORDER[x.kind] - KIND_ORDER[y.kind] || (x.credential < y.credential ? -1 : x.credential > y.credential ? 1 : 0));
  }
  return { bundles, heldUnknown, includedUnknown };
}
