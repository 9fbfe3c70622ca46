/**
 * The one table of options: every flag's type, default, help text, the commands it belongs to, and
 * the values it accepts (checked by the one validator, validate.ts). The argv types (types.ts) are
 * derived from it. Kept light: the CLI reads it before it loads anything else (start-up time).
 */
import { DEFAULT_LENGTH, GENERATED_SYMBOLS, MAX_LENGTH, MIN_LENGTH } from '../rotation/password.js';
import { KIND_LIST_TEXT, OPT_IN_KINDS } from '../kinds/kind.js';
import type { CommandName } from './commands.js';
import type { OptionSpec } from './types.js';

/** Requests in flight at once when --concurrency is not given (resume: the journal's run's instead). */
export const DEFAULT_CONCURRENCY = 8;

const CONNECT = ['rotate', 'plan', 'resume', 'verify', 'notify', 'key-scope'] as const;
const SELECT = ['rotate', 'plan', 'key-scope'] as const;
const WORK = ['rotate', 'plan', 'resume', 'verify'] as const;
const WRITE = ['rotate', 'resume'] as const;

const G_CONN = 'Connection:';
const G_SEL = 'Selecting accounts:';
const G_PW = 'Passwords:';
const G_RUN = 'Running:';
const G_OUT = 'Output:';
const G_NOTIFY = 'Notifying customers:';
const G_FLEET = 'Many servers:';
const G_PRUNE = 'Pruning:';

export const OPTIONS = {
  server: {
    type: 'string',
    group: G_CONN,
    commands: CONNECT,
    describe: 'DirectAdmin URL, e.g. https://da.example.com:2222 (default port 2222). Default: $DA_URL',
  },
  user: { type: 'string', group: G_CONN, commands: CONNECT, describe: 'Account to log in as (admin, reseller, or admin|user login-as)' },
  'password-file': {
    type: 'string',
    group: G_CONN,
    commands: CONNECT,
    describe: 'Read the password or login key from FILE (must not be readable by group or others). Else $DA_LOGIN_KEY or $DA_PASSWORD',
  },
  'password-stdin': { type: 'boolean', group: G_CONN, commands: CONNECT, describe: 'Read the password or login key from standard input' },
  ca: { type: 'string', group: G_CONN, commands: CONNECT, describe: "Trust this PEM CA (or the server's own certificate) in addition to the system store" },
  fingerprint: {
    type: 'string',
    group: G_CONN,
    commands: CONNECT,
    describe: "Pin the server certificate's SHA-256 fingerprint (AA:BB:...): works with self-signed certificates, verification stays on",
    // 64 hex digits, colons anywhere between them.
    pattern: /^:*(?:[0-9a-fA-F]:*){64}$/,
    invalid: '--fingerprint must be a SHA-256 fingerprint: 64 hex digits, colons allowed (AA:BB:...)',
  },
  insecure: { type: 'boolean', group: G_CONN, commands: CONNECT, describe: 'Do not verify the TLS certificate at all (prefer --fingerprint)' },
  'allow-http': {
    type: 'boolean',
    group: G_CONN,
    commands: CONNECT,
    describe: 'Allow plain http:// to a host other than loopback (credentials travel in clear)',
  },
  timeout: {
    type: 'number',
    default: 30,
    range: { min: 1, max: 600 },
    group: G_CONN,
    commands: WORK,
    describe: 'Seconds allowed for one whole request (connect, headers, complete body); a stop waits at most this long for requests in flight',
  },
  format: {
    type: 'string',
    default: 'json',
    choices: ['json', 'urlencoded'],
    group: G_CONN,
    commands: WORK,
    describe: 'Answer format asked of DirectAdmin (both are always understood)',
  },

  scope: {
    type: 'string',
    default: 'users',
    choices: ['users', 'all'],
    group: G_SEL,
    commands: SELECT,
    describe:
      "users: only the accounts the login owns (CMD_API_SHOW_USERS; an admin's own users, not its resellers' users nor resellers or admins); all: every account on the server",
  },
  'count-all': {
    type: 'boolean',
    group: G_SEL,
    commands: SELECT,
    describe:
      'With --scope users: also count every account on the server, to say how many the scope leaves out (admin only; the login key must allow CMD_API_SHOW_ALL_USERS, CMD_API_SHOW_RESELLERS, CMD_API_SHOW_ADMINS)',
  },
  exclude: { type: 'array', group: G_SEL, commands: [...SELECT, 'notify'], describe: 'Never touch these accounts (names or globs like "test*"); always wins' },
  only: { type: 'array', group: G_SEL, commands: [...SELECT, 'notify'], describe: 'Rotate only these accounts (each must exist)' },
  'users-file': { type: 'string', group: G_SEL, commands: SELECT, describe: 'Rotate only the accounts listed in FILE, one per line (# comments allowed)' },
  include: {
    type: 'array',
    group: G_SEL,
    commands: SELECT,
    describe: `Credential kinds to change: ${KIND_LIST_TEXT}, or all (all = every kind but ${OPT_IN_KINDS.join(', ')}). Default: account`,
  },

  length: {
    type: 'number',
    range: { min: MIN_LENGTH, max: MAX_LENGTH, whole: true },
    group: G_PW,
    commands: ['rotate', 'plan', 'resume'],
    describe: `Password length (${MIN_LENGTH} to ${MAX_LENGTH}; default ${DEFAULT_LENGTH}; resume: replaces the journal's)`,
  },
  symbols: {
    type: 'boolean',
    group: G_PW,
    commands: ['rotate', 'plan', 'resume'],
    describe: `Add the special characters ${GENERATED_SYMBOLS} (guarantees one; they survive FTP URLs and shells), for servers enforcing difficult passwords (resume: replaces the journal's)`,
  },
  'same-password': {
    type: 'boolean',
    default: false,
    group: G_PW,
    commands: ['rotate', 'plan'],
    describe: 'Give every account ONE password read from stdin (weaker: e.g. a temporary password users must change)',
  },
  'same-password-file': { type: 'string', group: G_PW, commands: ['rotate', 'plan'], describe: 'Like --same-password, reading it from FILE (mode 0600)' },

  concurrency: {
    // No default in the table: resume must tell "not given" (the journal's run's) from 8.
    type: 'string',
    range: { min: 1, max: 64, whole: true },
    word: 'auto',
    invalid: '--concurrency must be a whole number from 1 to 64, or auto ({got})',
    group: G_RUN,
    commands: WORK,
    describe: `Requests in flight at once: 1 to 64, or auto (start at 8, grow while latency holds, back off on slowdowns, 5xx and resets; never above 64). Default ${DEFAULT_CONCURRENCY}; resume: the interrupted run's`,
  },
  retries: {
    type: 'number',
    default: 3,
    range: { min: 0, max: 10, whole: true },
    group: G_RUN,
    commands: WRITE,
    describe: 'Retries per account for transport errors and 5xx, always with the same password (0 to 10)',
  },
  'retry-delay': {
    type: 'number',
    default: 0.5,
    range: { min: 0, max: 60 },
    group: G_RUN,
    commands: WRITE,
    describe: 'Base backoff in seconds; doubles each retry, with jitter',
  },
  'max-failures': {
    type: 'number',
    default: 0,
    range: { min: 0, max: 1_000_000, whole: true },
    group: G_RUN,
    commands: WRITE,
    describe: 'Abort after this many failed or unknown credentials (0: never)',
  },
  settle: {
    type: 'string',
    default: 'verify',
    choices: ['verify', 'resend'],
    group: G_RUN,
    commands: WRITE,
    describe:
      'How an unknown account-password outcome is proved: verify (CMD_API_VERIFY_PASSWORD, admin only) or resend (the same password again; for resellers and keys without VERIFY_PASSWORD)',
  },
  deadline: {
    type: 'string',
    duration: 'h',
    group: G_RUN,
    commands: WRITE,
    describe: 'Stop the whole run after this long (e.g. 90s, 15m, 2h), as an interrupt would: for unattended runs',
  },
  yes: {
    type: 'boolean',
    default: false,
    alias: 'y',
    group: G_RUN,
    commands: [...WRITE, 'notify', 'prune'],
    describe: 'Do not ask for confirmation (required when not on a terminal; prune: delete, not just list)',
  },

  'encrypt-to': {
    type: 'array',
    group: G_OUT,
    commands: ['rotate'],
    describe:
      'age recipient (age1...), repeatable: the report is written only as <name>.csv.age and the journal holds secrets sealed; resume, verify and notify then need --identity',
  },
  'state-dir': {
    type: 'string',
    group: G_OUT,
    commands: ['rotate', 'plan', 'resume', 'verify', 'notify'],
    describe: 'Where per-server locks and last-run records live (default $XDG_STATE_HOME/da-rotate or ~/.local/state/da-rotate)',
  },
  salvage: {
    type: 'boolean',
    group: G_PW,
    commands: ['resume'],
    describe: 'Read a damaged journal record by record: keep every whole record, say which lines could not be read, and finish the run',
  },
  'abandon-previous': {
    type: 'boolean',
    group: G_RUN,
    commands: ['rotate'],
    describe: "Start anew although this server's last run was interrupted (its journal is named in the new one); prefer `resume`",
  },
  output: {
    type: 'string',
    group: G_OUT,
    commands: ['rotate', 'plan'],
    describe: 'Report CSV path (created new, mode 0600). Default: output/rotation-<host>_<port>-<UTC time>.csv; the journal goes beside it',
    describeFor: { plan: 'Plan CSV path (created new, mode 0600). Default: output/plan-<host>_<port>-<UTC time>.csv' },
  },
  json: {
    type: 'boolean',
    default: false,
    group: G_OUT,
    commands: ['rotate', 'plan', 'resume', 'verify', 'key-scope', 'notify', 'prune'],
    describe: 'Print a machine-readable summary on stdout',
  },
  'metrics-file': {
    type: 'string',
    needsValue: true,
    group: G_OUT,
    commands: WORK,
    describe:
      "After every run, write its metrics (Prometheus text format, for node_exporter's textfile collector) to FILE, replaced atomically; with --inventory, [defaults] metrics_file",
  },
  'log-level': {
    type: 'string',
    choices: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'],
    group: G_OUT,
    commands: ['rotate', 'plan', 'resume', 'verify'],
    describe: 'Log level on stderr. Default: warn on a terminal, info otherwise',
  },
  'log-format': {
    type: 'string',
    choices: ['text', 'json'],
    group: G_OUT,
    commands: ['rotate', 'plan', 'resume', 'verify'],
    describe: 'Log lines as text ("warn: ...") or JSON lines. Default: text on a terminal, json otherwise',
  },
  quiet: {
    type: 'boolean',
    alias: 'q',
    group: G_OUT,
    commands: ['rotate', 'plan', 'resume', 'verify', 'prune'],
    describe: 'Print nothing when all went well (for cron): errors only, and the summary only when the exit code is not 0',
  },

  // notify: handing the new credentials to the account owners (src/notify/).
  report: { type: 'string', group: G_NOTIFY, commands: ['notify'], describe: 'The report to deliver: a .csv, or a .csv.age with --identity' },
  identity: {
    type: 'string',
    group: G_NOTIFY,
    commands: ['notify', 'resume', 'verify'],
    describe: 'age identity file (AGE-SECRET-KEY-1..., mode 0600) that opens an encrypted report',
  },
  deliver: {
    type: 'string',
    default: 'password',
    choices: ['password', 'login-link'],
    group: G_NOTIFY,
    commands: ['notify'],
    describe: 'password: send the new passwords; login-link: send a one-time DirectAdmin login link and no password at all',
  },
  'link-fallback': {
    type: 'string',
    default: 'none',
    choices: ['none', 'password'],
    group: G_NOTIFY,
    commands: ['notify'],
    describe:
      "With --deliver login-link: what to send when a link cannot be proved to open the customer's own login. none: stop, send nothing (default); password: send that account its new passwords",
  },
  from: { type: 'string', group: G_NOTIFY, commands: ['notify'], describe: 'Sender address. Default: $SMTP_FROM (the SMTP server comes from $SMTP_URL only)' },
  'to-override': {
    type: 'string',
    pattern: /^[^\s@<>(),;:"\\]+@[A-Za-z0-9.-]+\.[A-Za-z0-9-]+$/,
    invalid: '--to-override: "{value}" is not an e-mail address',
    group: G_NOTIFY,
    commands: ['notify'],
    describe: "Send every message to this address instead of the account's (for tests)",
  },
  template: {
    type: 'string',
    group: G_NOTIFY,
    commands: ['notify'],
    describe: 'Message template FILE: "Subject: ..." line, empty line, body with {{placeholders}} (see docs/notify.md)',
  },
  'smtp-ca': {
    type: 'string',
    group: G_NOTIFY,
    commands: ['notify'],
    describe: "Trust this PEM CA (or the SMTP server's certificate) in addition to the system store",
  },
  'smtp-insecure': {
    type: 'boolean',
    default: false,
    group: G_NOTIFY,
    commands: ['notify'],
    describe: 'Send even without TLS and without checking the certificate (passwords may travel in clear)',
  },
  'dry-run': {
    type: 'boolean',
    default: false,
    group: G_NOTIFY,
    commands: ['notify'],
    describe: 'Write each message as an .eml file (mode 0600) and send nothing',
  },
  'eml-dir': { type: 'string', group: G_NOTIFY, commands: ['notify'], describe: 'Where --dry-run writes its .eml files. Default: output/notify-<UTC time>/' },
  rate: {
    type: 'number',
    default: 5,
    range: { min: 0, max: 1000 },
    invalid: '--rate must be a number of messages per second from 0 (no limit) to 1000 ({got})',
    group: G_NOTIFY,
    commands: ['notify'],
    describe: 'At most this many messages per second (0: no limit)',
  },
  'include-unknown': {
    type: 'boolean',
    default: false,
    group: G_NOTIFY,
    commands: ['notify'],
    describe: 'Also send credentials whose change is unknown (marked as possibly not active)',
  },
  'include-suspended': { type: 'boolean', default: false, group: G_NOTIFY, commands: ['notify'], describe: 'Also notify suspended accounts' },
  'resend-uncertain': {
    type: 'boolean',
    default: false,
    group: G_NOTIFY,
    commands: ['notify'],
    describe: 'Send again to accounts whose earlier message may or may not have gone out (see the sent-log)',
  },
  inventory: {
    type: 'string',
    // Empty (an unset variable in a script): refused, rather than a run against $DA_URL's one server.
    needsValue: true,
    group: G_FLEET,
    commands: ['rotate', 'plan', 'resume', 'verify', 'key-scope'],
    describe: 'Run against every server of this TOML inventory ([defaults] and [[server]] tables; see docs/fleet.md)',
  },
  servers: {
    type: 'array',
    group: G_FLEET,
    commands: ['rotate', 'plan', 'resume', 'verify', 'key-scope'],
    describe: 'With --inventory: only these servers (names or tags)',
  },
  'parallel-servers': {
    type: 'number',
    default: 4,
    range: { min: 1, max: 256, whole: true },
    invalid: '--parallel-servers must be a whole number from 1 to 256 ({got})',
    group: G_FLEET,
    commands: WORK,
    describe: 'With --inventory: servers run at once (1 to 256)',
  },
  run: {
    type: 'string',
    needsValue: true,
    group: G_FLEET,
    commands: ['resume', 'verify'],
    describe: 'A fleet run id (the directory under --output-dir): resume its unfinished servers, or verify its reports',
  },
  'output-dir': { type: 'string', group: G_FLEET, commands: WORK, describe: 'With --inventory: fleet runs go to DIR/<run id>/<server>/ (default output)' },

  accounts: {
    type: 'number',
    range: { min: 0, max: 10_000_000, whole: true },
    invalid: '--accounts must be a whole number of accounts (e.g. --accounts 2005)',
    group: G_SEL,
    commands: ['key-scope'],
    describe: 'Say how many login-key uses a run of this many accounts needs (for the key\'s "Max uses")',
  },
  expect: {
    type: 'string',
    needsValue: true,
    group: G_SEL,
    commands: ['key-scope'],
    describe:
      'With --accounts: what the server holds, instead of assumed figures: NAME=N pairs, e.g. domains=60,resellers=3,email=300,ftp=40,login-key=10,session=5 (plan --include counts them)',
  },
  check: {
    type: 'boolean',
    default: false,
    group: G_SEL,
    commands: ['key-scope'],
    describe: 'Ask the server (with the connection options) whether the login key allows each command and feature this run needs; exit 1 when one is missing',
  },
  dir: { type: 'string', group: G_PRUNE, commands: ['prune'], describe: 'The directory of reports and journals to prune (default output)' },
  keep: {
    type: 'number',
    range: { min: 0, max: Infinity, whole: true },
    invalid: '--keep must be a whole number of runs (e.g. --keep 30)',
    group: G_PRUNE,
    commands: ['prune'],
    describe: 'Keep the newest N runs of each server (reports with their journals); default 10',
  },
  'older-than': {
    type: 'string',
    duration: 'd',
    group: G_PRUNE,
    commands: ['prune'],
    describe: 'Only delete runs older than this (e.g. 30d, 12h); combined with --keep, both must allow it',
  },
} as const satisfies Record<string, OptionSpec>;

export type Options = typeof OPTIONS;
export type OptionName = keyof Options;

/** A command's options (in table order, which is help order), with the help words for that command. */
export function optionsFor(command: CommandName): Record<string, OptionSpec> {
  const out: Record<string, OptionSpec> = {};
  for (const [name, spec] of Object.entries(OPTIONS) as Array<[string, OptionSpec]>) {
    if (spec.commands.includes(command)) out[name] = spec.describeFor?.[command] ? { ...spec, describe: spec.describeFor[command] } : spec;
  }
  return out;
}
