/**
 * The one table of options: every flag's type, default, help text and the commands it belongs to,
 * and the functions that turn parsed flags plus the environment into validated settings.
 */
import { readFileSync, statSync } from 'node:fs';
import type { TlsOptions } from './directadmin/tls.js';
import { isLoopbackHost, parseServerUrl } from './directadmin/url.js';
import { UsageError } from './errors.js';
import { DEFAULT_LENGTH, MAX_LENGTH, MIN_LENGTH, policyViolation, type PasswordPolicy } from './rotation/password.js';

export type CommandName = 'rotate' | 'plan' | 'key-scope' | 'resume' | 'verify';

export interface OptionSpec {
  type: 'string' | 'number' | 'boolean' | 'array';
  describe: string;
  default?: string | number | boolean;
  choices?: readonly string[];
  group: string;
  commands: readonly CommandName[];
  alias?: string;
}

const CONNECT: readonly CommandName[] = ['rotate', 'plan', 'resume', 'verify'];
const SELECT: readonly CommandName[] = ['rotate', 'plan', 'key-scope'];
const WORK: readonly CommandName[] = ['rotate', 'plan', 'resume', 'verify'];
const WRITE: readonly CommandName[] = ['rotate', 'resume'];

const G_CONN = 'Connection:';
const G_SEL = 'Selecting accounts:';
const G_PW = 'Passwords:';
const G_RUN = 'Running:';
const G_OUT = 'Output:';

export const OPTIONS = {
  server: {
    type: 'string', group: G_CONN, commands: CONNECT,
    describe: 'DirectAdmin URL, e.g. https://da.example.com:2222 (default port 2222). Default: $DA_URL',
  },
  user: { type: 'string', group: G_CONN, commands: CONNECT, describe: 'Account to log in as (admin, reseller, or admin|user login-as)' },
  'password-file': {
    type: 'string', group: G_CONN, commands: CONNECT,
    describe: 'Read the password or login key from FILE (must not be readable by group or others). Else $DA_LOGIN_KEY or $DA_PASSWORD',
  },
  'password-stdin': { type: 'boolean', group: G_CONN, commands: CONNECT, describe: 'Read the password or login key from standard input' },
  ca: { type: 'string', group: G_CONN, commands: CONNECT, describe: "Trust this PEM CA (or the server's own certificate) in addition to the system store" },
  fingerprint: {
    type: 'string', group: G_CONN, commands: CONNECT,
    describe: "Pin the server certificate's SHA-256 fingerprint (AA:BB:...): works with self-signed certificates, verification stays on",
  },
  insecure: { type: 'boolean', group: G_CONN, commands: CONNECT, describe: 'Do not verify the TLS certificate at all (prefer --fingerprint)' },
  'allow-http': { type: 'boolean', group: G_CONN, commands: CONNECT, describe: 'Allow plain http:// to a host other than loopback (credentials travel in clear)' },
  timeout: { type: 'number', default: 30, group: G_CONN, commands: WORK, describe: 'Seconds allowed per request (connect, headers, body)' },
  format: {
    type: 'string', default: 'json', choices: ['json', 'urlencoded'], group: G_CONN, commands: WORK,
    describe: 'Answer format asked of DirectAdmin (both are always understood)',
  },

  scope: {
    type: 'string', default: 'users', choices: ['users', 'all'], group: G_SEL, commands: SELECT,
    describe: "users: the caller's own users (CMD_API_SHOW_USERS); all: every account on the server (users, resellers, admins)",
  },
  exclude: { type: 'array', group: G_SEL, commands: SELECT, describe: 'Never touch these accounts (names or globs like "test*"); always wins' },
  only: { type: 'array', group: G_SEL, commands: SELECT, describe: 'Rotate only these accounts (each must exist)' },
  'users-file': { type: 'string', group: G_SEL, commands: SELECT, describe: 'Rotate only the accounts listed in FILE, one per line (# comments allowed)' },

  length: { type: 'number', default: DEFAULT_LENGTH, group: G_PW, commands: ['rotate', 'plan'], describe: `Password length (${MIN_LENGTH} to ${MAX_LENGTH})` },
  symbols: { type: 'boolean', default: false, group: G_PW, commands: ['rotate', 'plan'], describe: 'Add special characters from !@#%^*-_. (guarantees one), for servers enforcing difficult passwords' },
  'same-password': {
    type: 'boolean', default: false, group: G_PW, commands: ['rotate', 'plan'],
    describe: 'Give every account ONE password read from stdin (weaker: e.g. a temporary password users must change)',
  },
  'same-password-file': { type: 'string', group: G_PW, commands: ['rotate', 'plan'], describe: 'Like --same-password, reading it from FILE (mode 0600)' },

  concurrency: { type: 'number', default: 8, group: G_RUN, commands: WORK, describe: 'Requests in flight at once (1 to 64)' },
  retries: { type: 'number', default: 3, group: G_RUN, commands: WRITE, describe: 'Retries per account for transport errors and 5xx, always with the same password (0 to 10)' },
  'retry-delay': { type: 'number', default: 0.5, group: G_RUN, commands: WRITE, describe: 'Base backoff in seconds; doubles each retry, with jitter' },
  'max-failures': { type: 'number', default: 0, group: G_RUN, commands: WRITE, describe: 'Abort after this many failed or unknown accounts (0: never)' },
  yes: { type: 'boolean', default: false, alias: 'y', group: G_RUN, commands: WRITE, describe: 'Do not ask for confirmation (required when not on a terminal)' },

  output: {
    type: 'string', group: G_OUT, commands: ['rotate', 'plan'],
    describe: 'Report CSV path (created new, mode 0600). Default: output/rotation-<host>-<UTC time>.csv; the journal goes beside it',
  },
  json: { type: 'boolean', default: false, group: G_OUT, commands: ['rotate', 'plan', 'resume', 'verify', 'key-scope'], describe: 'Print a machine-readable summary on stdout' },
  'log-level': {
    type: 'string', default: 'info', choices: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'],
    group: G_OUT, commands: ['rotate', 'plan', 'resume', 'verify'], describe: 'JSON log level (logs go to stderr)',
  },
} as const satisfies Record<string, OptionSpec>;

export type OptionName = keyof typeof OPTIONS;

export function optionsFor(command: CommandName): Record<string, OptionSpec> {
  const out: Record<string, OptionSpec> = {};
  for (const [name, spec] of Object.entries(OPTIONS) as Array<[string, OptionSpec]>) {
    if (spec.commands.includes(command)) out[name] = spec;
  }
  return out;
}

/** Parsed flags as yargs hands them over (kebab-case keys). */
export type Argv = Record<string, unknown>;
export type Env = Record<string, string | undefined>;

export interface ConnectionSettings {
  baseUrl: string;
  host: string;
  username: string;
  secret: string;
  /** Where the secret came from, for the audit trail (never the secret itself). */
  secretSource: string;
  tls: TlsOptions;
  allowHttp: boolean;
  timeoutMs: number;
  format: 'json' | 'urlencoded';
  /** Non-fatal remarks for the operator, e.g. credentials on the command line. */
  warnings: string[];
}

export interface SelectionSettings {
  scope: 'users' | 'all';
  exclude: string[];
  only: string[] | undefined;
}

export interface WorkSettings {
  concurrency: number;
  retries: number;
  retryDelayMs: number;
  maxFailures: number;
}

function str(argv: Argv, name: string): string | undefined {
  const v = argv[name];
  if (v === undefined || v === null || v === '') return undefined;
  if (Array.isArray(v)) throw new UsageError(`--${name} was given more than once; give it once`);
  return String(v);
}

function num(argv: Argv, name: OptionName, min: number, max: number): number {
  const raw = argv[name] ?? (OPTIONS[name] as OptionSpec).default;
  const v = typeof raw === 'number' ? raw : Number(raw);
  if (!Number.isFinite(v) || v < min || v > max) {
    throw new UsageError(`--${name} must be a number from ${min} to ${max} (got ${String(raw)})`);
  }
  return v;
}

function int(argv: Argv, name: OptionName, min: number, max: number): number {
  const v = num(argv, name, min, max);
  if (!Number.isInteger(v)) throw new UsageError(`--${name} must be a whole number (got ${v})`);
  return v;
}

function list(argv: Argv, name: string): string[] {
  const v = argv[name];
  if (v === undefined) return [];
  const items = Array.isArray(v) ? v : [v];
  return items.flatMap((x) => String(x).split(',')).map((s) => s.trim()).filter(Boolean);
}

/** Reads a secret file the way ssh treats a private key: refused if others can read it. */
export function readSecretFile(path: string, flag: string): string {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch {
    throw new UsageError(`${flag}: cannot read ${path}: no such file or no permission`);
  }
  if ((mode & 0o077) !== 0) {
    throw new UsageError(`${flag}: ${path} is readable by group or others (mode ${(mode & 0o777).toString(8)}); run chmod 600 ${path}`);
  }
  const text = readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  if (!text) throw new UsageError(`${flag}: ${path} is empty`);
  if (/[\r\n]/.test(text)) throw new UsageError(`${flag}: ${path} must hold the secret on a single line`);
  return text;
}

export async function readStdinOnce(stdin: NodeJS.ReadableStream, what: string): Promise<string> {
  if ((stdin as { isTTY?: boolean }).isTTY) {
    throw new UsageError(`${what}: standard input is a terminal; pipe the secret in (e.g. from a file or a password manager)`);
  }
  const chunks: Buffer[] = [];
  for await (const c of stdin) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  const text = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
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

export function resolveSelection(argv: Argv): SelectionSettings {
  const scope = (str(argv, 'scope') ?? 'users') as 'users' | 'all';
  if (scope !== 'users' && scope !== 'all') throw new UsageError('--scope must be "users" or "all"');
  const exclude = list(argv, 'exclude');
  let only: string[] | undefined = list(argv, 'only');
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
  return { scope, exclude, only };
}

export function resolvePolicy(argv: Argv): PasswordPolicy {
  return { length: int(argv, 'length', MIN_LENGTH, MAX_LENGTH), symbols: argv.symbols === true };
}

export async function resolveSamePassword(
  argv: Argv,
  policy: PasswordPolicy,
  io: IoForSettings,
  stdinTaken: boolean,
): Promise<string | undefined> {
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

export function resolveWork(argv: Argv): WorkSettings {
  return {
    concurrency: int(argv, 'concurrency', 1, 64),
    retries: argv.retries === undefined ? 3 : int(argv, 'retries', 0, 10),
    retryDelayMs: Math.round(num(argv, 'retry-delay', 0, 60) * 1000),
    maxFailures: argv['max-failures'] === undefined ? 0 : int(argv, 'max-failures', 0, 1_000_000),
  };
}
