/**
 * --metrics-file: after every run (whatever its exit), one file in the Prometheus text exposition
 * format for node_exporter's textfile collector, replaced atomically (temporary file beside it,
 * fsync, rename, fsync of the directory) so the collector never reads half of one. It holds counts
 * and times only, never a secret, and is 0644 so the collector (another user) can read it.
 */
import { promises as fsp } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { replaceFile } from '../files.js';
import type { KindCounts } from './tally.js';

/** What one server's run did, as the metrics file reports it. */
export interface ServerMetrics {
  /** The server's URL (label `server`). */
  server: string;
  startedAt: number;
  endedAt: number;
  exitCode: number;
  byKind: KindCounts;
  failedLogins: number;
  requests: number;
  retries: number;
}

/** Collects what each server's run did while a command runs; the command writes the file at its end. */
export class MetricsRecorder {
  /** Where the file goes, once checked (--metrics-file, or the inventory's metrics_file). */
  path: string | undefined;
  private readonly runs = new Map<string, ServerMetrics>();

  /** The server's entry (created at its start; later calls update it). */
  server(server: string): ServerMetrics {
    let m = this.runs.get(server);
    if (!m) {
      const now = Date.now();
      m = { server, startedAt: now, endedAt: now, exitCode: -1, byKind: {}, failedLogins: 0, requests: 0, retries: 0 };
      this.runs.set(server, m);
    }
    return m;
  }

  all(): ServerMetrics[] {
    return [...this.runs.values()];
  }
}

const PREFIX = 'da_rotate_last_run';

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labels(l: Record<string, string>): string {
  return `{${Object.entries(l)
    .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
    .join(',')}}`;
}

/**
 * The exposition text: one gauge family per measure, each with HELP and TYPE once, a sample per
 * server (and per kind and status for credentials). `command` is rotate, plan, resume or verify.
 */
export function formatMetrics(command: string, runs: readonly ServerMetrics[]): string {
  const families: Array<[string, string, (m: ServerMetrics) => Array<[Record<string, string>, number]>]> = [
    ['start_time_seconds', 'Unix time the last run against the server started.', (m) => [[{}, m.startedAt / 1000]]],
    ['end_time_seconds', 'Unix time the last run against the server ended.', (m) => [[{}, m.endedAt / 1000]]],
    ['duration_seconds', 'How long the last run against the server took.', (m) => [[{}, Math.max(0, m.endedAt - m.startedAt) / 1000]]],
    [
      'exit_code',
      'Exit code of the last run against the server (0 ok, 1 some failed or unknown, 2 usage, 3 aborted, 4 internal, 5 unfinished previous run, 130 interrupted).',
      (m) => [[{}, m.exitCode]],
    ],
    [
      'credentials',
      'Credentials of the last run by kind and status (rotated, revoked, failed, unknown, skipped, not-started, planned, verified, drifted, unverifiable).',
      (m) =>
        Object.entries(m.byKind).flatMap(([kind, counts]) =>
          Object.entries(counts ?? {})
            .filter(([, n]) => n !== undefined)
            .map(([status, n]): [Record<string, string>, number] => [{ kind, status }, n!]),
        ),
    ],
    ['failed_logins', 'Logins the server refused during the last run (DirectAdmin blacklists an IP after about 10).', (m) => [[{}, m.failedLogins]]],
    ['requests', 'Requests sent to the server during the last run.', (m) => [[{}, m.requests]]],
    ['retries', 'Requests resent after a transport error or a 5xx during the last run.', (m) => [[{}, m.retries]]],
  ];
  const out: string[] = [];
  for (const [name, help, samples] of families) {
    out.push(`# HELP ${PREFIX}_${name} ${help}`, `# TYPE ${PREFIX}_${name} gauge`);
    for (const m of runs) for (const [l, v] of samples(m)) out.push(`${PREFIX}_${name}${labels({ command, server: m.server, ...l })} ${formatValue(v)}`);
  }
  return out.join('\n') + '\n';
}

function formatValue(v: number): string {
  return Number.isFinite(v) ? String(v) : 'NaN';
}

/**
 * Checked before any request: the file's directory exists and no other user can write it (anyone
 * who can would be able to replace what monitoring reads).
 */
export async function checkMetricsFile(path: string): Promise<void> {
  const dir = dirname(resolve(path));
  let st;
  try {
    st = await fsp.stat(dir);
  } catch (e) {
    throw new UsageError(`--metrics-file: its directory ${dir} cannot be used (${(e as NodeJS.ErrnoException).code}): create it or give another path`);
  }
  if (!st.isDirectory()) throw new UsageError(`--metrics-file: ${dir} is not a directory: give a path in an existing directory`);
  if ((st.mode & 0o022) !== 0 && (st.mode & 0o1000) === 0)
    throw new UsageError(
      `--metrics-file: its directory ${dir} is writable by group or others (mode ${(st.mode & 0o777).toString(8)}): use a directory only you (or root) can write`,
    );
  const target = await fsp.lstat(resolve(path)).catch(() => undefined);
  if (target && !target.isFile()) throw new UsageError(`--metrics-file: ${path} exists and is not a regular file: give the path of a file`);
}

/** Replaces the metrics file atomically with `text`, mode 0644. */
export async function writeMetricsFile(path: string, text: string): Promise<void> {
  // Read by node_exporter's user: 0644, and no secret in it.
  await replaceFile(resolve(path), text, { mode: 0o644 });
}
