/** Every sentence the tool says to an operator, kept apart from the logic that decides to say it. */

export type StatusCounts = Record<'rotated' | 'revoked' | 'failed' | 'unknown' | 'skipped' | 'not-started' | 'planned', number>;

export interface SummaryView {
  mode: 'rotate' | 'plan' | 'resume';
  server: string;
  user: string;
  counts: StatusCounts;
  durationMs: number;
  report: string;
  journal?: string;
  aborted?: string;
  interrupted?: boolean;
  resumeCommand?: string;
  reportError?: string;
}

export const msg = {
  confirmRotate: (count: number, server: string, user: string) =>
    `About to change the passwords of ${count} account(s) on ${server} (logged in as ${user}). Type "yes" to go on: `,
  notConfirmed: 'not confirmed: nothing was changed',
  needsYes: 'standard input is not a terminal: pass --yes to rotate without confirmation (nothing was changed)',
  nothingSelected: 'no account matched the selection: nothing to do',
  onlyMissing: (names: string[]) =>
    `--only/--users-file names ${names.length} account(s) the server does not list: ${names.slice(0, 10).join(', ')}${names.length > 10 ? ', ...' : ''}; fix the list (nothing was changed)`,
  loginTestFailed: (why: string) => `preflight failed: ${why}`,
  enumerationFailed: (why: string) => `could not list the accounts: ${why}`,
  interrupted: (resume: string) => `interrupted: in-flight requests settled and every new password is in the journal. To finish: ${resume}`,
  secondSignal: 'second signal: exiting now; the journal holds every password sent. Run `da-rotate resume` with the journal to settle.',
  journalServerMismatch: (journal: string, given: string) =>
    `this journal belongs to ${journal} but the connection given is ${given}: connect to ${journal} to resume it`,
  journalUserMismatch: (journal: string, given: string) => `the journal was written by user ${journal}, this run logs in as ${given}`,
  lockTakenOver: (pid: number, host: string) => `took over a stale lock left by pid ${pid} on ${host} (that process is gone)`,
  maxFailures: (n: number, inFlight: number) =>
    `stopped after ${n} failed or unknown credential(s) (--max-failures)` + (inFlight > 0 ? `; ${inFlight} change(s) already in flight were let finish, so the final count can be higher` : ''),
  samePasswordWeak: 'every account gets the same password: anyone who learns it can log in to all of them; make users change it',
  resumeNeedsSamePassword: 'this run used --same-password and no password was journaled yet: pass --same-password or --same-password-file again',
  reportNotWritten: (report: string, journal: string, why: string) =>
    `the report ${report} could not be completed (${why}); every password is in the journal ${journal}: free the space and run \`da-rotate resume ${journal}\` to rebuild it`,
  verifyUnavailable:
    'the server refuses CMD_API_VERIFY_PASSWORD to this login (a reseller?): unknown outcomes are settled by resending the same password instead',
  systematicRefusal: (kind: string, fix: string, refused: number) =>
    `stopped after ${refused} refused ${kind} change(s), a refusal that would hit every one: ${fix}`,
  listingFailed: (what: string, why: string) => `could not list ${what}: ${why}`,
  deadline: (ms: number) => `the --deadline of ${formatDuration(ms)} was reached`,
  abandoned: (ms: number) => `requests still in flight ${formatDuration(ms)} after the stop were abandoned; their credentials are unknown and keep their new secrets`,
  notAReport: (path: string, why: string) => `cannot verify ${path}: ${why}; give a report written by da-rotate rotate or resume`,
  nothingToVerify: (path: string) =>
    `${path} has no rotated account password to check (a plan, or a run that changed nothing): nothing to verify`,
  reportServerMismatch: (report: string, given: string) =>
    `this report is for ${report} but the connection given is ${given}: connect to ${report} to verify it`,
};

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export function formatSummary(s: SummaryView): string {
  const c = s.counts;
  const lines: string[] = [];
  const verb = s.mode === 'plan' ? 'Plan' : s.mode === 'resume' ? 'Resume' : 'Rotation';
  const state = s.aborted ? 'ABORTED' : s.interrupted ? 'INTERRUPTED' : 'finished';
  lines.push(`${verb} ${state} for ${s.server} as ${s.user} in ${formatDuration(s.durationMs)}`);
  if (s.mode === 'plan') {
    lines.push(`  planned ${c.planned}, skipped ${c.skipped} (no password was changed)`);
  } else {
    lines.push(`  rotated ${c.rotated}, failed ${c.failed}, unknown ${c.unknown}, skipped ${c.skipped}`);
  }
  if (s.aborted) lines.push(`  reason: ${s.aborted}`);
  lines.push(`  report:  ${s.report}`);
  if (s.reportError) lines.push(`  REPORT INCOMPLETE: ${s.reportError}`);
  if (s.journal) lines.push(`  journal: ${s.journal}`);
  if (c.unknown > 0 || s.interrupted || (s.aborted && s.resumeCommand)) {
    if (s.resumeCommand) lines.push(`  to settle the rest: ${s.resumeCommand}`);
  }
  return lines.join('\n') + '\n';
}

export interface ProgressView {
  done: number;
  total: number;
  counts: StatusCounts;
  concurrency: number;
  /** Credentials per second since dispatch began. */
  rate?: number;
}

export function formatProgress(p: ProgressView): string {
  const c = p.counts;
  const eta = p.rate && p.rate > 0 ? `, ${formatDuration(Math.round(((p.total - p.done) / p.rate) * 1000))} left` : '';
  const rate = p.rate ? `, ${p.rate.toFixed(0)}/s${eta}` : '';
  return `changing ${p.done}/${p.total}: rotated ${c.rotated}, revoked ${c.revoked}, failed ${c.failed}, unknown ${c.unknown} (concurrency ${p.concurrency}${rate})`;
}
