/**
 * The one table of options: every flag's type, default, help text and the commands it belongs to,
 * and the functions that turn parsed flags plus the environment into validated settings.
 */
import { readFileSync, statSync } from 'node:fs';
import type { TlsOptions } from './directadmin/tls.js';
import { isLoopbackHost, parseServerUrl } from './directadmin/url.js';
import { UsageError } from './errors.js';
// Kept light: the CLI parses argv with this module before it loads anything else (start-up time).
import { KIND_ORDER, OPT_IN_KINDS, type KindName } from './kinds/kind.js';
import { DEFAULT_LENGTH, GENERATED_SYMBOLS, MAX_LENGTH, MIN_LENGTH, policyViolation, type PasswordPolicy } from './rotation/password.js';
import type { ConnectionSettings, FileSettings, SelectionSettings, WorkSettings } from './rotation/settings.js';
import { stateDirFor } from './rotation/lock.js';

export type CommandName = 'rotate' | 'plan' | 'key-scope' | 'resume' | 'verify' | 'notify' | 'prune';

export interface OptionSpec {
  type: 'string' | 'number' | 'boolean' | 'array';
  describe: string;
  /** A command whose help needs other words (plan's default file name). */
  describeFor?: Partial<Record<CommandName, string>>;
  default?: string | number | boolean;
  choices?: readonly string[];
  group: string;
  commands: readonly CommandName[];
  alias?: string;
}

/** Requests in flight at once when --concurrency is not given (resume: the journal's run's instead). */
export const DEFAULT_CONCURRENCY = 8;

const CONNECT: readonly CommandName[] = ['rotate', 'plan', 'resume', 'verify', 'notify'];
const SELECT: readonly CommandName[] = ['rotate', 'plan', 'key-scope'];
const WORK: readonly CommandName[] = ['rotate', 'plan', 'resume', 'verify'];
const WRITE: readonly CommandName[] = ['rotate', 'resume'];

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
    describe: 'Credential kinds to change: account, email, ftp, login-key, session, db-user, or all (all = every kind but db-user). Default: account',
  },

  length: {
    type: 'number',
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
    group: G_RUN,
    commands: WORK,
    describe: `Requests in flight at once: 1 to 64, or auto (start at 4, grow while latency holds, back off on slowdowns, 5xx and resets; never above 64). Default ${DEFAULT_CONCURRENCY}; resume: the interrupted run's`,
  },
  retries: {
    type: 'number',
    default: 3,
    group: G_RUN,
    commands: WRITE,
    describe: 'Retries per account for transport errors and 5xx, always with the same password (0 to 10)',
  },
  'retry-delay': { type: 'number', default: 0.5, group: G_RUN, commands: WRITE, describe: 'Base backoff in seconds; doubles each retry, with jitter' },
  'max-failures': { type: 'number', default: 0, group: G_RUN, commands: WRITE, describe: 'Abort after this many failed or unknown credentials (0: never)' },
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
    commands: ['rotate', 'plan', 'resume'],
    describe: 'Where per-server locks and last-run records live (default $XDG_STATE_HOME/da-rotate or ~/.local/state/da-rotate)',
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
  from: { type: 'string', group: G_NOTIFY, commands: ['notify'], describe: 'Sender address. Default: $SMTP_FROM (the SMTP server comes from $SMTP_URL only)' },
  'to-override': { type: 'string', group: G_NOTIFY, commands: ['notify'], describe: "Send every message to this address instead of the account's (for tests)" },
  template: {
    type: 'string',
    group: G_NOTIFY,
    commands: ['notify'],
    describe: 'Message template FILE: "Subject: ..." line, empty line, body with {{placeholders}} (see README)',
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
  rate: { type: 'number', default: 5, group: G_NOTIFY, commands: ['notify'], describe: 'At most this many messages per second (0: no limit)' },
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
    group: G_FLEET,
    commands: ['rotate', 'plan', 'resume', 'verify', 'key-scope'],
    describe: 'Run against every server of this TOML inventory ([defaults] and [[server]] tables; see README "Many servers")',
  },
  servers: {
    type: 'array',
    group: G_FLEET,
    commands: ['rotate', 'plan', 'resume', 'verify', 'key-scope'],
    describe: 'With --inventory: only these servers (names or tags)',
  },
  'parallel-servers': { type: 'number', default: 4, group: G_FLEET, commands: WORK, describe: 'With --inventory: servers run at once (1 to 256)' },
  run: {
    type: 'string',
    group: G_FLEET,
    commands: ['resume', 'verify'],
    describe: 'A fleet run id (the directory under --output-dir): resume its unfinished servers, or verify its reports',
  },
  'output-dir': { type: 'string', group: G_FLEET, commands: WORK, describe: 'With --inventory: fleet runs go to DIR/<run id>/<server>/ (default output)' },

  accounts: {
    type: 'number',
    group: G_SEL,
    commands: ['key-scope'],
    describe: 'Say how many login-key uses a run of this many accounts needs (for the key\'s "Max uses")',
  },
  dir: { type: 'string', group: G_PRUNE, commands: ['prune'], describe: 'The directory of reports and journals to prune (default output)' },
  keep: { type: 'number', group: G_PRUNE, commands: ['prune'], describe: 'Keep the newest N runs of each server (reports with their journals); default 10' },
  'older-than': {
    type: 'string',
    group: G_PRUNE,
    commands: ['prune'],
    describe: 'Only delete runs older than this (e.g. 30d, 12h); combined with --keep, both must allow it',
  },
} as const satisfies Record<string, OptionSpec>;

export type OptionName = keyof typeof OPTIONS;

export function optionsFor(command: CommandName): Record<string, OptionSpec> {
  const out: Record<string, OptionSpec> = {};
  for (const [name, spec] of Object.entries(OPTIONS) as Array<[string, OptionSpec]>) {
    if (spec.commands.includes(command)) out[name] = spec.describeFor?.[command] ? { ...spec, describe: spec.describeFor[command] } : spec;
  }
  return out;
}

/** Parsed flags as yargs hands them over (kebab-case keys). */
export type Argv = Record<string, unknown>;
export type Env = Record<string, string | undefined>;

export type { ConnectionSettings, FileSettings, SelectionSettings, WorkSettings } from './rotation/settings.js';

function str(argv: Argv, name: string): string | undefined {
  const v = argv[name];
  if (v === undefined || v === null || v === '') return undefined;
  if (Array.isArray(v)) throw new UsageError(`--${name} was given more than once; give it once`);
  return String(v);
}

function num(argv: Argv, name: OptionName, min: number, max: number): number {
  const raw = argv[name] ?? (OPTIONS[name] as OptionSpec).default;
  const v = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
  if (!Number.isFinite(v) || v < min || v > max) {
    // yargs hands a word given to a number option over as NaN: the word itself is gone.
    const got = typeof raw === 'number' && Number.isNaN(raw) ? 'a word that is not a number was given' : `got ${JSON.stringify(raw)}`;
    throw new UsageError(`--${name} must be a number from ${min} to ${max} (${got})`);
  }
  return v;
}

function int(argv: Argv, name: OptionName, min: number, max: number): number {
  const v = num(argv, name, min, max);
  if (!Number.isInteger(v)) throw new UsageError(`--${name} must be a whole number (got ${v})`);
  return v;
}

/** A repeatable or comma-separated option's values; given with no value at all, a usage error. */
export function listOption(argv: Argv, name: string): string[] {
  const v = argv[name];
  if (v === undefined) return [];
  const items = Array.isArray(v) ? v : [v];
  const out = items
    .flatMap((x) => String(x).split(','))
    .map((s) => s.trim())
    .filter(Boolean);
  // `--exclude` with no value (or only commas) would silently exclude nothing.
  if (out.length === 0) throw new UsageError(`--${name} needs a value (e.g. --${name} NAME); give one or leave the flag out`);
  return out;
}

/** Reads a secret file the way ssh treats a private key: refused if others can read it. */
export function readSecretFile(path: string, flag: string): string {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch (e) {
    throw new UsageError(secretFileProblem(path, flag, e));
  }
  if (st.isDirectory()) throw new UsageError(`${flag}: ${path} is a directory: give the file that holds the secret (nothing was sent)`);
  if (!st.isFile()) throw new UsageError(`${flag}: ${path} is not a regular file: give the file that holds the secret (nothing was sent)`);
  const mode = Number(st.mode);
  if ((mode & 0o077) !== 0) {
    throw new UsageError(`${flag}: ${path} is readable by group or others (mode ${(mode & 0o777).toString(8)}); run chmod 600 ${path}`);
  }
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(secretFileProblem(path, flag, e));
  }
  const text = raw.replace(/\r?\n$/, '');
  if (!text) throw new UsageError(`${flag}: ${path} is empty`);
  if (/[\r\n]/.test(text)) throw new UsageError(`${flag}: ${path} must hold the secret on a single line`);
  return text;
}

/** One line for a secret file that cannot be read: which path, why, and the fix. */
function secretFileProblem(path: string, flag: string, e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return `${flag}: ${path} does not exist: check the path (nothing was sent)`;
    case 'ENOTDIR':
      return `${flag}: ${path}: a part of that path is not a directory: check the path (nothing was sent)`;
    case 'EACCES':
    case 'EPERM':
      return `${flag}: cannot read ${path}: permission denied; run da-rotate as the file's owner, or \`chmod 600\` it as that owner (nothing was sent)`;
    case 'EISDIR':
      return `${flag}: ${path} is a directory: give the file that holds the secret (nothing was sent)`;
    default:
      return `${flag}: cannot read ${path} (${code ?? String(e)}): check the file (nothing was sent)`;
  }
}

export async function readStdinOnce(stdin: NodeJS.ReadableStream, what: string): Promise<string> {
  if ((stdin as { isTTY?: boolean }).isTTY) {
    throw new UsageError(`${what}: standard input is a terminal; pipe the secret in (e.g. from a file or a password manager)`);
  }
  const chunks: Buffer[] = [];
  for await (const c of stdin) chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
  const text = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
  if (!text) throw new UsageError(`${what}: standard input was empty`);
  if (/[\r\n]/.test(text)) throw new UsageError(`${what}: expected a single line on standard input`);
  return text;
}

export interface IoForSettings {
  env: Env;
  stdin: NodeJS.ReadableStream;
}

export async function resolveConnection(argv: Argv, io: IoForSettings): Promise<ConnectionSettings> {
  const warnings: string[] = [];
  const serverFlag = str(argv, 'server');
  const source = serverFlag ?? io.env.DA_URL;
  if (!source) {
    throw new UsageError('no server given: set DA_URL (e.g. from `da api-url`) or pass --server https://HOST:2222');
  }
  let parsed: ReturnType<typeof parseServerUrl>;
  try {
    parsed = parseServerUrl(source);
  } catch (e) {
    const where = serverFlag ? '--server' : 'DA_URL';
    throw new UsageError(`${where}: ${(e as Error).message}`);
  }
  if (serverFlag && parsed.secret) {
    warnings.push('credentials inside --server are visible to other users in `ps`; prefer DA_URL in the environment or --password-file');
  }
  const username = str(argv, 'user') ?? parsed.username;
  if (!username) throw new UsageError('no user given: pass --user NAME or put it in the URL (https://admin:KEY@host:2222)');

  const passwordFile = str(argv, 'password-file');
  const fromStdin = argv['password-stdin'] === true;
  if (passwordFile && fromStdin) throw new UsageError('give only one of --password-file and --password-stdin');
  let secret: string | undefined;
  let secretSource = '';
  if (passwordFile) {
    secret = readSecretFile(passwordFile, '--password-file');
    secretSource = 'password-file';
  } else if (fromStdin) {
    secret = await readStdinOnce(io.stdin, '--password-stdin');
    secretSource = 'stdin';
  } else if (parsed.secret) {
    secret = parsed.secret;
    secretSource = serverFlag ? 'server-url' : 'DA_URL';
  } else if (io.env.DA_LOGIN_KEY) {
    secret = io.env.DA_LOGIN_KEY;
    secretSource = 'DA_LOGIN_KEY';
  } else if (io.env.DA_PASSWORD) {
    secret = io.env.DA_PASSWORD;
    secretSource = 'DA_PASSWORD';
  }
  if (!secret) {
    throw new UsageError('no password or login key: set DA_LOGIN_KEY or DA_PASSWORD, or use --password-file FILE or --password-stdin');
  }

  const tls: TlsOptions = {};
  const caFile = str(argv, 'ca');
  if (caFile) {
    try {
      tls.ca = readFileSync(caFile);
    } catch {
      throw new UsageError(`--ca: cannot read ${caFile}`);
    }
  }
  const fingerprint = str(argv, 'fingerprint');
  if (fingerprint) {
    const hex = fingerprint.replace(/:/g, '');
    if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
      throw new UsageError('--fingerprint must be a SHA-256 fingerprint: 64 hex digits, colons allowed (AA:BB:...)');
    }
    tls.fingerprint = fingerprint;
  }
  if (argv.insecure === true && fingerprint) {
    throw new UsageError('--insecure turns certificate checks off and --fingerprint pins the certificate: give only --fingerprint (nothing was sent)');
  }
  if (argv.insecure === true) {
    tls.insecure = true;
    warnings.push('--insecure: the TLS certificate is not verified; anyone on the path can read the new passwords. Prefer --fingerprint');
  }
  const allowHttp = argv['allow-http'] === true;
  // The client refuses plain http to other hosts unless allowed; here only the warning.
  if (allowHttp && parsed.baseUrl.startsWith('http:') && !isLoopbackHost(parsed.host)) {
    warnings.push('--allow-http: credentials and new passwords travel in clear text');
  }
  return {
    baseUrl: parsed.baseUrl,
    host: parsed.host,
    username,
    secret,
    secretSource,
    tls,
    allowHttp,
    timeoutMs: Math.round(num(argv, 'timeout', 1, 600) * 1000),
    format: (str(argv, 'format') ?? 'json') as 'json' | 'urlencoded',
    warnings,
  };
}

/** --include: kind names (comma or repeated), `all` for every kind but the opt-in ones. */
export function resolveInclude(argv: Argv): KindName[] {
  return parseInclude(listOption(argv, 'include'), '--include');
}

/** Kind names as given (flag or inventory), validated; nothing given means the account password only. */
export function parseInclude(asked: readonly string[], flag: string): KindName[] {
  if (asked.length === 0) return ['account'];
  const known = [...KIND_ORDER];
  const out = new Set<KindName>();
  for (const k of asked) {
    if (k === 'all') {
      for (const d of KIND_ORDER) if (!OPT_IN_KINDS.includes(d)) out.add(d);
    } else if ((known as string[]).includes(k)) out.add(k as KindName);
    else throw new UsageError(`${flag}: unknown kind "${k}"; choose from ${known.join(', ')}, or all`);
  }
  return known.filter((k) => out.has(k));
}

/** 90, 90s, 15m, 2h: a duration in milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new UsageError(`${flag} must be a duration like 90s, 15m or 2h (got ${text})`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  const ms = Math.round(Number(m[1]) * unit);
  if (ms < 1000) throw new UsageError(`${flag} must be at least 1s (got ${text})`);
  return ms;
}

export function resolveSelection(argv: Argv): SelectionSettings {
  const scope = (str(argv, 'scope') ?? 'users') as 'users' | 'all';
  if (scope !== 'users' && scope !== 'all') throw new UsageError('--scope must be "users" or "all"');
  const exclude = listOption(argv, 'exclude');
  let only: string[] | undefined = listOption(argv, 'only');
  const usersFile = str(argv, 'users-file');
  if (usersFile) {
    let text: string;
    try {
      text = readFileSync(usersFile, 'utf8');
    } catch {
      throw new UsageError(`--users-file: cannot read ${usersFile}`);
    }
    const names = text
      .split(/\r?\n/)
      .map((l) => l.replace(/#.*/, '').trim())
      .filter(Boolean);
    if (names.length === 0) throw new UsageError(`--users-file: ${usersFile} lists no accounts`);
    only = [...only, ...names];
  }
  if (only.length === 0) only = undefined;
  return { scope, exclude, only, include: resolveInclude(argv), ...(argv['count-all'] === true ? { countAll: true } : {}) };
}

export function resolvePolicy(argv: Argv): PasswordPolicy {
  return { length: argv.length === undefined ? DEFAULT_LENGTH : int(argv, 'length', MIN_LENGTH, MAX_LENGTH), symbols: argv.symbols === true };
}

/** resume: only what was given replaces the journal's policy. */
export function resolvePolicyOverride(argv: Argv): Partial<PasswordPolicy> {
  const out: Partial<PasswordPolicy> = {};
  if (argv.length !== undefined) out.length = int(argv, 'length', MIN_LENGTH, MAX_LENGTH);
  if (argv.symbols !== undefined) out.symbols = argv.symbols === true;
  return out;
}

export async function resolveSamePassword(argv: Argv, policy: PasswordPolicy, io: IoForSettings, stdinTaken: boolean): Promise<string | undefined> {
  const file = str(argv, 'same-password-file');
  const fromStdin = argv['same-password'] === true;
  if (!file && !fromStdin) return undefined;
  if (file && fromStdin) throw new UsageError('give only one of --same-password and --same-password-file');
  let pw: string;
  if (file) {
    pw = readSecretFile(file, '--same-password-file');
  } else {
    if (stdinTaken) throw new UsageError('--same-password and --password-stdin both want standard input: use --same-password-file or --password-file');
    pw = await readStdinOnce(io.stdin, '--same-password');
  }
  const why = policyViolation(pw, policy);
  if (why) throw new UsageError(`the shared password is refused: ${why}`);
  return pw;
}

/** --concurrency N, or auto: the adaptive limit starts at 4 (the pool is sized for its ceiling). */
function concurrencyOf(argv: Argv): { concurrency: number; adaptive: boolean } {
  const raw = argv.concurrency;
  if (raw === undefined) return { concurrency: DEFAULT_CONCURRENCY, adaptive: false };
  if (Array.isArray(raw)) throw new UsageError('--concurrency was given more than once; give it once');
  const text = String(raw).trim();
  if (text.toLowerCase() === 'auto') return { concurrency: 4, adaptive: true };
  const v = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(v) || v < 1 || v > 64) {
    throw new UsageError(`--concurrency must be a whole number from 1 to 64, or auto (got ${JSON.stringify(text)})`);
  }
  return { concurrency: v, adaptive: false };
}

/** --concurrency as given, or undefined (resume then runs at the interrupted run's). */
export function concurrencyGiven(argv: Argv): boolean {
  return argv.concurrency !== undefined;
}

export function resolveWork(argv: Argv): WorkSettings {
  return {
    ...concurrencyOf(argv),
    retries: argv.retries === undefined ? 3 : int(argv, 'retries', 0, 10),
    retryDelayMs: Math.round(num(argv, 'retry-delay', 0, 60) * 1000),
    maxFailures: argv['max-failures'] === undefined ? 0 : int(argv, 'max-failures', 0, 1_000_000),
    settle: str(argv, 'settle') === 'resend' ? 'resend' : 'verify',
    deadlineMs: str(argv, 'deadline') === undefined ? undefined : parseDuration(str(argv, 'deadline')!, '--deadline'),
  };
}

/** --state-dir, --abandon-previous, --encrypt-to and --identity, read and checked before any request. */
export async function resolveFiles(argv: Argv, env: Env): Promise<FileSettings> {
  const recipients = listOption(argv, 'encrypt-to');
  const identity = str(argv, 'identity');
  // age is loaded only when a run encrypts or reads an encrypted run.
  const crypto = recipients.length || identity ? await import('./crypto/index.js') : undefined;
  return {
    stateDir: stateDirFor(env, str(argv, 'state-dir')),
    abandonPrevious: argv['abandon-previous'] === true,
    ...(recipients.length ? { encryptTo: crypto!.parseRecipients(recipients) } : {}),
    ...(identity ? { identities: crypto!.readIdentityFile(identity) } : {}),
  };
}
