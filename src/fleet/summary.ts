/** One row per server: the fleet's summary.csv, its --json form, and the fleet's exit code. */
import { stringify } from 'csv-stringify/sync';
import { ExitCode } from '../errors.js';
import { neutralizeCell } from '../rotation/report.js';
import type { ManifestServer, ServerStatus } from './manifest.js';

export const SUMMARY_COLUMNS = [
  'name',
  'url',
  'user',
  'status',
  'exit_code',
  'rotated',
  'failed',
  'unknown',
  'skipped',
  'planned',
  'checked',
  'matching',
  'drift',
  'not_checkable',
  'duration_ms',
  'report',
  'journal',
  'error',
] as const;

/**
 * Worst first. An internal error is a bug; an aborted server needs the operator (credentials, TLS,
 * blacklist, lock) whatever else happened; an interrupted one only needs `resume --run`; a usage
 * error in one server's run changed nothing there; partial is the mildest failure.
 */
const SEVERITY: readonly number[] = [
  ExitCode.Internal,
  ExitCode.Aborted,
  ExitCode.Unfinished,
  ExitCode.Interrupted,
  ExitCode.Usage,
  ExitCode.Partial,
  ExitCode.Ok,
];

export function worstExitCode(codes: readonly number[]): number {
  let worst: number = ExitCode.Ok;
  for (const c of codes) {
    const rank = SEVERITY.indexOf(c) === -1 ? 0 : SEVERITY.indexOf(c);
    if (rank < SEVERITY.indexOf(worst)) worst = SEVERITY[rank]!;
  }
  return worst;
}

export function statusFor(exitCode: number): ServerStatus {
  switch (exitCode) {
    case ExitCode.Ok:
      return 'ok';
    case ExitCode.Partial:
      return 'partial';
    case ExitCode.Usage:
      return 'usage';
    case ExitCode.Aborted:
    case ExitCode.Unfinished:
      return 'aborted';
    case ExitCode.Interrupted:
      return 'interrupted';
    default:
      return 'internal';
  }
}

/** A server that ended with nothing left for `resume --run` to do. */
export function isFinished(s: ManifestServer): boolean {
  if (s.status === 'ok') return true;
  // Failed accounts are settled (their old password stands); unknown ones still need a resume.
  return s.status === 'partial' && s.counts !== undefined && s.counts.unknown === 0 && s.error === undefined;
}

export interface SummaryRow {
  name: string;
  url: string;
  user: string;
  status: ServerStatus;
  exitCode: number | null;
  rotated: number;
  failed: number;
  unknown: number;
  skipped: number;
  planned: number;
  checked: number;
  matching: number;
  drift: number;
  notCheckable: number;
  durationMs: number | null;
  report: string | null;
  journal: string | null;
  error: string | null;
}

export function summaryRow(s: ManifestServer): SummaryRow {
  const c = s.counts;
  return {
    name: s.name,
    url: s.url,
    user: s.user,
    status: s.status,
    exitCode: s.exitCode ?? null,
    rotated: c?.rotated ?? 0,
    failed: c?.failed ?? 0,
    unknown: c?.unknown ?? 0,
    skipped: c?.skipped ?? 0,
    planned: c?.planned ?? 0,
    checked: s.verify?.checked ?? 0,
    matching: s.verify?.matching ?? 0,
    drift: s.verify?.drift ?? 0,
    notCheckable: s.verify?.errors ?? 0,
    durationMs: s.durationMs ?? null,
    report: s.report ?? null,
    journal: s.journal ?? null,
    error: s.error ?? null,
  };
}

export function summaryCsv(rows: readonly SummaryRow[]): string {
  return stringify(
    rows.map((r) => Object.values(r).map((v) => neutralizeCell(v === null ? '' : String(v).replace(/[\r\n]+/g, ' ')))),
    { header: true, columns: [...SUMMARY_COLUMNS] },
  );
}

export function formatServerLine(s: ManifestServer): string {
  return `${s.name} (${s.url}): ${formatOutcome(s)}`;
}

/** How a server ended, without its name: "OK rotated 9, failed 0, ..." or "ABORTED - why". */
export function formatOutcome(s: ManifestServer): string {
  const c = s.counts;
  const what = s.verify
    ? `checked ${s.verify.checked}: ${s.verify.matching} match, ${s.verify.drift} drifted, ${s.verify.errors} not checkable`
    : c
      ? c.planned > 0 || (c.rotated + c.failed + c.unknown === 0 && s.status === 'ok')
        ? `planned ${c.planned}, skipped ${c.skipped}`
        : `rotated ${c.rotated}, failed ${c.failed}, unknown ${c.unknown}, skipped ${c.skipped}`
      : '';
  return `${s.status.toUpperCase()}${what ? ` ${what}` : ''}${s.error ? ` - ${s.error}` : ''}`;
}
