/** Every sentence the tool says to an operator, kept apart from the logic that decides to say it. */
import type { KindName } from './kinds/kind.js';
import type { Coverage, MissingAccount, TypeCounts } from './rotation/enumerate.js';
import { formatKindTable, type KindCounts } from './rotation/tally.js';
import type { ReportStatus } from './rotation/report.js';

/** Kinds in the order a summary lists them. */
const KIND_ROWS = ['account', 'email', 'ftp', 'db-user', 'login-key', 'session'];

export type StatusCounts = Record<ReportStatus, number>;

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
  /** What the server's answers said about its health. */
  health?: { requests: number; retries: number; serverErrors: number; transportErrors: number };
  concurrency?: number;
  concurrencyMode?: 'auto';
  /** What the scope covers of the server and what it leaves out (rotate and plan). */
  coverage?: Coverage;
  /** The counts by kind and status. */
  byKind?: KindCounts;
  /** Database users that changed (or would): the sites whose configuration must be edited. */
  dbSites?: string[];
  /** Kinds stopped for the whole server: not allowed to the login key (the line to add named), or not supported by the server. */
  stoppedKinds?: Array<{ kind: string; reason: 'permission' | 'unsupported'; missing?: string; message: string; accounts: number }>;
}

/** What the confirmation prompt shows before anything is changed. */
export interface ConfirmView {
  server: string;
  user: string;
  /** The credentials to change (kind, owner and name are all it reads). */
  credentials: ReadonlyArray<{ kind: string; owner: string; name?: string }>;
  /** Types of the accounts, when the server was counted. */
  types?: ReadonlyMap<string, string>;
  /** Where the report goes: the file, or the directory a new name is made in. */
  report: string;
  encrypted: boolean;
}

const KIND_LABELS: Record<KindName, string> = {
  account: 'account passwords',
  email: 'mailbox passwords',
  ftp: 'FTP passwords',
  'login-key': 'login keys (revoked)',
  session: 'panel sessions (ended)',
  'db-user': 'database user passwords',
};

/** 1 002 -> "1 002": the thin-space grouping the README uses. */
export function count(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
}

function typeList(t: TypeCounts): string {
  return [`${count(t.user)} user(s)`, `${count(t.reseller)} reseller(s)`, `${count(t.admin)} admin(s)`].join(', ');
}

/** The summary's lines about the scope: how much of the server it covers, and what it leaves out. */
export function coverageLines(c: Coverage, user: string): string[] {
  if (c.scope === 'all') {
    return [`  scope all: every account on the server: ${c.server ? typeList(c.server) : `${count(c.listed)} account(s)`}`];
  }
  const own = `  scope users: the ${count(c.listed)} account(s) ${user} owns`;
  if (!c.counted || !c.server || !c.leftOut) {
    return [
      `${own}; NOT COUNTED: users of resellers, resellers and admins (--scope users never lists them).`,
      '    --count-all counts them (admin login; see key-scope --count-all), --scope all includes them',
    ];
  }
  const out = c.leftOut.user + c.leftOut.reseller + c.leftOut.admin;
  if (out === 0) return [`${own}; the server has ${typeList(c.server)}: the scope leaves none out`];
  return [`${own}; the server has ${typeList(c.server)}`, `    LEFT OUT by --scope users: ${typeList(c.leftOut)} (--scope all includes them)`];
}

/** The sites whose configuration a database user change breaks, as "owner (database user)". */
export function dbUserSites(credentials: ReadonlyArray<{ kind: string; owner: string; name?: string }>): string[] {
  return credentials.filter((c) => c.kind === 'db-user').map((c) => `${c.owner} (database user ${c.name ?? '?'})`);
}

export function confirmQuestion(v: ConfirmView): string {
  const accounts = new Set(v.credentials.map((c) => c.owner));
  const byKind = new Map<string, number>();
  for (const c of v.credentials) byKind.set(c.kind, (byKind.get(c.kind) ?? 0) + 1);
  const accountOnly = byKind.size === 1 && byKind.has('account');
  const lines = [
    accountOnly
      ? `About to change the passwords of ${count(accounts.size)} account(s) on ${v.server} (logged in as ${v.user}).`
      : `About to change ${count(v.credentials.length)} credential(s) of ${count(accounts.size)} account(s) on ${v.server} (logged in as ${v.user}).`,
  ];
  if (!accountOnly) lines.push(`  by kind: ${[...byKind].map(([k, n]) => `${count(n)} ${KIND_LABELS[k as KindName] ?? k}`).join(', ')}`);
  if (v.types) {
    const t: TypeCounts = { user: 0, reseller: 0, admin: 0 };
    for (const a of accounts) t[(v.types.get(a) ?? 'user') as keyof TypeCounts]++;
    lines.push(`  accounts: ${typeList(t)}`);
  }
  const sites = dbUserSites(v.credentials);
  if (sites.length) {
    lines.push(
      `  ${count(sites.length)} database user(s) change: the site using each stops working until its configuration (e.g. wp-config.php) has the new password:`,
    );
    lines.push(...wrapNames(sites, '    '));
  }
  lines.push(`  the report${v.encrypted ? ' (encrypted)' : ''} with the new secrets goes to ${v.report}`);
  lines.push('Type "yes" to go on: ');
  return lines.join('\n');
}

export const msg = {
  confirmRotate: confirmQuestion,
  notConfirmed: 'not confirmed: nothing was changed',
  needsYes: 'standard input is not a terminal: pass --yes to rotate without confirmation (nothing was changed)',
  nothingSelected: 'no account matched the selection: nothing to do',
  onlyMissing: (names: string[], scope: 'users' | 'all' = 'all', user = '', where: readonly MissingAccount[] = []) => {
    const found = new Map(where.map((w) => [w.username, w]));
    const described = names.slice(0, 10).map((n) => {
      const w = found.get(n);
      if (!w) return n;
      const whose = w.type === 'user' ? (w.owner ? `a user of reseller ${w.owner}` : 'a user of another account') : `a ${w.type}`;
      return `${n} (${whose}: --scope ${w.scope} reaches it)`;
    });
    const list = `${described.join(', ')}${names.length > 10 ? ', ...' : ''}`;
    if (scope === 'all') return `--only/--users-file names ${names.length} account(s) the server does not have: ${list}; fix the list (nothing was changed)`;
    if (where.length === names.length) return `--only/--users-file names ${names.length} account(s) outside --scope users: ${list} (nothing was changed)`;
    return (
      `--only/--users-file names ${names.length} account(s) that are not among ${user}'s own users (--scope users): ${list}; ` +
      'an account of a reseller, a reseller or an admin needs --scope all (--count-all says whose it is); else fix the list (nothing was changed)'
    );
  },
  resumeConcurrency: (n: number, journal: number | undefined) =>
    journal === undefined ? `resuming at concurrency ${n}` : `resuming at concurrency ${n}, the interrupted run's (--concurrency N to change it)`,
  loginTestFailed: (why: string) => `preflight failed: ${why}`,
  enumerationFailed: (why: string) => `could not list the accounts: ${why}`,
  interrupted: (resume: string) => `interrupted: in-flight requests settled and every new password is in the journal. To finish: ${resume}`,
  secondSignal: 'second signal: exiting now; the journal holds every password sent. Run `da-rotate resume` with the journal to settle.',
  journalServerMismatch: (journal: string, given: string) =>
    `this journal belongs to ${journal} but the connection given is ${given}: connect to ${journal} to resume it`,
  journalUserMismatch: (journal: string, given: string) => `the journal was written by user ${journal}, this run logs in as ${given}`,
  lockTakenOver: (pid: number, host: string) => `took over a stale lock left by pid ${pid} on ${host} (that process is gone)`,
  maxFailures: (n: number, inFlight: number) =>
    `stopped after ${n} failed or unknown credential(s) (--max-failures)` +
    (inFlight > 0 ? `; ${inFlight} change(s) already in flight were let finish, so the final count can be higher` : ''),
  samePasswordWeak: 'every account gets the same password: anyone who learns it can log in to all of them; make users change it',
  resumeNeedsSamePassword: 'this run used --same-password and no password was journaled yet: pass --same-password or --same-password-file again',
  reportNotWritten: (report: string, journal: string, why: string) =>
    `the report ${report} could not be completed (${why}); every password is in the journal ${journal}: free the space and run \`da-rotate resume ${journal}\` to rebuild it`,
  unfinishedRun: (server: string, journal: string, n: number, resume: string) =>
    `the last run against ${server} did not finish: ${n} credential(s) unsettled or not started (journal ${journal}); ` +
    `secrets it sent may be live and only that journal knows them. Finish it: ${resume}; or start anew with --abandon-previous (nothing was changed)`,
  abandoningPrevious: (journal: string, n: number) =>
    `--abandon-previous: leaving ${n} unsettled credential(s) of ${journal} behind; the new journal records it`,
  journalEncrypted: (journal: string) => `${journal} holds sealed secrets: pass --identity FILE (the age identity of one of its recipients, mode 0600)`,
  concurrencyVsBruteForce: (c: number, limit: number) =>
    `--concurrency ${c}: if this login stops working mid-run (changed elsewhere, key expired), the ${c} requests in flight each count as a failed login, ` +
    `and DirectAdmin blacklists an IP after about ${limit} by default; use fewer than ${limit} unless the server's brute-force limit is higher`,
  interruptedBeforeChanges: 'interrupted while listing the credentials: nothing was changed',
  verifyUnavailable:
    'the server refuses CMD_API_VERIFY_PASSWORD to this login (a reseller?): unknown outcomes are settled by resending the same password instead',
  systematicRefusal: (kind: string, fix: string, refused: number) =>
    `stopped after ${refused} refused ${kind} change(s), a refusal that would hit every one: ${fix}`,
  listingFailed: (what: string, why: string) => `could not list ${what}: ${why}`,
  deadline: (ms: number) => `the --deadline of ${formatDuration(ms)} was reached`,
  abandoned: (ms: number) =>
    `requests still in flight ${formatDuration(ms)} after the stop were abandoned; their credentials are unknown and keep their new secrets`,
  notAReport: (path: string, why: string) => `cannot verify ${path}: ${why}; give a report written by da-rotate rotate or resume`,
  nothingToVerify: (path: string) => `${path} has no rotated account password to check (a plan, or a run that changed nothing): nothing to verify`,
  notCheckable: (kind: string) => `this login may not check a ${kind} secret (CMD_API_VERIFY_PASSWORD refused): not checkable`,
  reportServerMismatch: (report: string, given: string) =>
    `this report is for ${report} but the connection given is ${given}: connect to ${report} to verify it`,
  // Files the tool writes (src/files.ts, src/rotation/lock.ts): what went wrong with which path, and the fix.
  fileWriteFailedShort: (path: string, code: string) => `${writeProblem(code)} writing ${path}`,
  /** The one line a run prints when a journal or report write stopped it (exit 3). */
  /** The journal's header could not be written: nothing was sent, there is nothing to resume. */
  writeStoppedBeforeSending: (path: string, code: string) => `${writeProblem(code)} writing ${path}: ${writeFix(code)}, then run again (nothing was sent)`,
  writeStopped: (path: string, code: string, resumeCommand: string) => `${writeProblem(code)} writing ${path}: ${writeFix(code)}, then \`${resumeCommand}\``,
  fileExists: (path: string) => `${path} exists: choose another --output or remove it (nothing was changed)`,
  isADirectory: (path: string) => `${path} is a directory, not a file: give a file path (nothing was changed)`,
  isASymlink: (path: string) => `${path} is a symbolic link: da-rotate never writes through a link; remove it or choose another path (nothing was changed)`,
  cannotWritePath: (path: string, code: string, what: 'file' | 'directory') =>
    `cannot create the ${what} ${path} (${code}: permission denied): choose a ${what === 'file' ? 'path in a directory' : 'directory'} you can write, or fix its permissions (nothing was changed)`,
  pathMissing: (path: string, code: string) =>
    `cannot create ${path} (${code}): a directory on that path does not exist or is not a directory (nothing was changed)`,
  cannotCreateNoSpace: (path: string, code: string) => `cannot create ${path}: ${writeProblem(code)}; ${writeFix(code)} and run again (nothing was changed)`,
  notARegularFile: (path: string) => `${path} is not a regular file: da-rotate only appends to files it created (nothing was changed)`,
  fileNotOurs: (path: string, uid: number) => `${path} belongs to uid ${uid}, not to you: da-rotate only appends to its own files (nothing was changed)`,
  fileWritableByOthers: (path: string, mode: number) =>
    `${path} is writable by group or others (mode ${mode.toString(8)}): check nobody altered it, then \`chmod 600 ${path}\` (nothing was changed)`,
  notADirectory: (path: string) => `${path} is not a directory: give a directory there (nothing was changed)`,
  dirLinkNotOurs: (path: string, uid: number) =>
    `${path} is a symbolic link owned by uid ${uid}, not by you: it could be repointed; give the real directory instead (nothing was changed)`,
  dirNotOurs: (path: string, uid: number) =>
    `${path} belongs to uid ${uid}, not to you: its owner could plant links there; use a directory of your own (--output, --state-dir) (nothing was changed)`,
  dirWritableByOthers: (path: string, mode: number) =>
    `${path} is writable by group or others (mode ${mode.toString(8)}): another user could plant links there; use a directory only you can write (--output, --state-dir), or \`chmod 700 ${path}\` after checking what is in it (nothing was changed)`,
  dirSwapped: (path: string) =>
    `${path} was replaced while the run used it (a link or another directory now has its name): stopped; check who changed it, the run's files are only in the original directory`,
  notARegularFileToRead: (path: string) => `${path} is not a regular file (a device, a pipe or a socket): give the journal or report file itself`,
  fileTooLarge: (path: string, size: number, max: number) =>
    `${path} is ${Math.ceil(size / 1048576)} MiB, more than a journal or report can be (${Math.floor(max / 1048576)} MiB): give the right file`,
  noFreeReportName: (base: string) => `1000 report names starting ${base} are taken: remove old reports or choose --output (nothing was changed)`,
  notEnoughSpace: (dir: string, needed: number, free: number) =>
    `${dir} has ${Math.floor(free / 1024)} KiB free, a run of this size needs about ${Math.ceil(needed / 1024)} KiB for its journal and report: free space first (nothing was changed)`,
  lockNotAFile: (path: string) => `${path} is not a lock file da-rotate wrote (a link or another kind of file): remove it if no run is going on`,
  lockTakeoverStuck: (path: string) => `${path} is left over from a run that died while taking over a stale lock: remove it if no da-rotate run is going on`,
  reportInClear:
    'the report will hold every new password in clear text (a 0600 file, but on disk, in backups, and often mailed on): ' +
    'to keep them encrypted at rest, rotate with --encrypt-to age1... (make a key pair with `age-keygen -o key.txt`) and read the report back with --identity key.txt',
};

function writeProblem(code: string): string {
  switch (code) {
    case 'ENOSPC':
      return 'no space left on device';
    case 'EDQUOT':
      return 'disk quota exceeded';
    case 'EIO':
      return 'input/output error (the disk or filesystem is failing)';
    case 'ESHORT':
      return 'the filesystem accepted no more bytes';
    case 'EROFS':
      return 'the filesystem is read-only';
    default:
      return `write error ${code}`;
  }
}

function writeFix(code: string): string {
  switch (code) {
    case 'ENOSPC':
    case 'ESHORT':
      return 'free space';
    case 'EDQUOT':
      return 'free space or raise the quota';
    case 'EIO':
      return 'check the disk (dmesg), move the files to a sound one if needed';
    default:
      return 'fix the filesystem';
  }
}

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
    lines.push(`  planned ${c.planned}, skipped ${c.skipped}${c.failed ? `, could not list ${c.failed}` : ''} (nothing was changed)`);
  } else {
    const parts = [
      `rotated ${c.rotated}`,
      ...(c.revoked ? [`revoked ${c.revoked}`] : []),
      `failed ${c.failed}`,
      `unknown ${c.unknown}`,
      `skipped ${c.skipped}`,
    ];
    if (c['not-started']) parts.push(`not started ${c['not-started']}`);
    lines.push(`  ${parts.join(', ')}`);
  }
  if (s.byKind) lines.push(...formatKindTable(s.byKind, KIND_ROWS, '    '));
  if (s.dbSites?.length) {
    lines.push(
      `  ${s.mode === 'plan' ? 'would change' : 'changed'} database user(s): the sites using them stop working until their configuration holds the new password:`,
    );
    lines.push(...wrapNames(s.dbSites, '    '));
  }
  const h = s.health;
  if (h && (h.retries || h.serverErrors || h.transportErrors)) {
    lines.push(
      `  server health: ${h.requests} requests, ${h.retries} resent, ${h.serverErrors} answered 5xx, ${h.transportErrors} transport errors (resets, timeouts)`,
    );
  }
  if (s.concurrencyMode === 'auto' && s.concurrency) lines.push(`  concurrency: auto, settled at ${s.concurrency}`);
  if (s.coverage) lines.push(...coverageLines(s.coverage, s.user));
  for (const k of s.stoppedKinds ?? []) {
    lines.push(
      k.reason === 'unsupported'
        ? `  ${k.kind}: not supported by this server (${k.accounts} not done): ${k.message}`
        : `  ${k.kind}: stopped, not allowed (${k.accounts} not done): add \`${k.missing}\` to the login key's allowed commands, then rerun or resume`,
    );
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
  server?: string;
  phase?: 'login' | 'listing';
  accounts?: number;
  credentials?: number;
  fraction?: number;
}

export function formatProgress(p: ProgressView): string {
  if (p.phase === 'login') return `logging in to ${p.server ?? 'the server'}...`;
  if (p.phase === 'listing') {
    if (p.accounts === undefined) return 'listing accounts...';
    const pct = p.fraction !== undefined ? ` (${Math.floor(p.fraction * 100)}%)` : '';
    return `listing: ${count(p.accounts)} account(s), ${count(p.credentials ?? 0)} credential(s) so far${pct}`;
  }
  const c = p.counts;
  const eta = p.rate && p.rate > 0 ? `, ${formatDuration(Math.round(((p.total - p.done) / p.rate) * 1000))} left` : '';
  const rate = p.rate ? `, ${p.rate.toFixed(0)}/s${eta}` : '';
  return `changing ${p.done}/${p.total}: rotated ${c.rotated}, revoked ${c.revoked}, failed ${c.failed}, unknown ${c.unknown} (concurrency ${p.concurrency}${rate})`;
}

export interface VerifyView {
  checked: number;
  report: string;
  server: string;
  matching: number;
  drift: string[];
  errors: Array<{ username: string; error: string }>;
  aborted?: string;
  byKind?: KindCounts;
  unverifiable?: Array<{ kind: string; count: number; why: string }>;
}

/** Names wrapped to `width`, at most `max` of them; the rest counted, never printed on one endless line. */
export function wrapNames(names: readonly string[], indent: string, width = 100, max = 40): string[] {
  const lines: string[] = [];
  let line = indent;
  for (const n of names.slice(0, max)) {
    const piece = line === indent ? n : `, ${n}`;
    if (line.length + piece.length > width && line !== indent) {
      lines.push(line + ',');
      line = indent + n;
    } else line += piece;
  }
  if (line !== indent) lines.push(line);
  if (names.length > max) lines.push(`${indent}... and ${count(names.length - max)} more (--json lists them all)`);
  return lines;
}

export function formatVerify(v: VerifyView, width = 100): string {
  const lines = [
    `Verified ${v.checked} rotated account(s) on ${v.server}: ${v.matching} match, ${v.drift.length} drifted, ${v.errors.length} not checkable`,
    `  report: ${v.report}`,
  ];
  if (v.drift.length) {
    lines.push(`  drift (password changed since the rotation), ${count(v.drift.length)} account(s):`);
    lines.push(...wrapNames(v.drift, '    ', width));
  }
  if (v.byKind) lines.push(...formatKindTable(v.byKind, KIND_ROWS, '    '));
  for (const u of v.unverifiable ?? []) lines.push(`  not verified: ${count(u.count)} ${(KIND_LABELS as Record<string, string>)[u.kind] ?? u.kind}: ${u.why}`);
  for (const e of v.errors.slice(0, 40)) lines.push(`  ${e.username}: ${e.error}`);
  if (v.errors.length > 40) lines.push(`  ... and ${count(v.errors.length - 40)} more not checkable (--json lists them all)`);
  if (v.aborted) lines.push(`  ABORTED: ${v.aborted}`);
  return lines.join('\n') + '\n';
}

export function formatPrune(r: { dir: string; removed: string[]; kept: number; protected: Array<{ journal: string; why: string }>; deleted: boolean }): string {
  const lines = [
    r.deleted
      ? `Pruned ${r.dir}: deleted ${r.removed.length} file(s), kept ${r.kept} run(s)`
      : `Prune of ${r.dir} (nothing deleted; pass --yes to delete): would delete ${r.removed.length} file(s), keeps ${r.kept} run(s)`,
  ];
  for (const f of r.removed.slice(0, 40)) lines.push(`  ${r.deleted ? 'deleted' : 'would delete'} ${f}`);
  if (r.removed.length > 40) lines.push(`  ... and ${r.removed.length - 40} more (--json lists them all)`);
  for (const p of r.protected) lines.push(`  KEPT ${p.journal}: ${p.why}`);
  return lines.join('\n') + '\n';
}
