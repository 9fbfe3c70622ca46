/**
 * Credentials counted by kind and status: the summary, `--json` and the metrics file show a kind ×
 * status table instead of one lump ("rotated 257" of accounts, mailboxes and FTP together).
 */
/**
 * kind (account, email, ftp, db-user, login-key, session) -> status (rotated, revoked, failed,
 * unknown, skipped, not-started, planned; verify: verified, drifted, error, unverifiable) -> count.
 * Only the statuses that occurred are present.
 */
export type KindCounts = Partial<Record<string, Partial<Record<string, number>>>>;

/** Counts one row (a report row, or anything with a kind and a status). */
export function tallyRow(byKind: KindCounts, row: { kind: string; status: string }): void {
  const k = (byKind[row.kind] ??= {});
  k[row.status] = (k[row.status] ?? 0) + 1;
}

/** The table as text: one line per kind, a column per status that occurred anywhere. */
export function formatKindTable(byKind: KindCounts, order: readonly string[], indent = '  '): string[] {
  const kinds = Object.keys(byKind).sort((a, b) => rank(order, a) - rank(order, b) || (a < b ? -1 : 1));
  if (kinds.length === 0) return [];
  const statuses = [...new Set(kinds.flatMap((k) => Object.keys(byKind[k] ?? {})))].sort((a, b) => rank(STATUS_ORDER, a) - rank(STATUS_ORDER, b));
  const w0 = Math.max(4, ...kinds.map((k) => k.length));
  const widths = statuses.map((s) => Math.max(s.length, ...kinds.map((k) => String(byKind[k]?.[s] ?? 0).length)));
  const line = (first: string, cells: string[]) => `${indent}${first.padEnd(w0)}  ${cells.map((c, i) => c.padStart(widths[i]!)).join('  ')}`.trimEnd();
  return [
    line('kind', statuses),
    ...kinds.map((k) =>
      line(
        k,
        statuses.map((s) => String(byKind[k]?.[s] ?? 0)),
      ),
    ),
  ];
}

const STATUS_ORDER = ['planned', 'rotated', 'revoked', 'verified', 'drifted', 'unverifiable', 'failed', 'unknown', 'not-started', 'skipped'];

function rank(order: readonly string[], v: string): number {
  const i = order.indexOf(v);
  return i < 0 ? order.length : i;
}
