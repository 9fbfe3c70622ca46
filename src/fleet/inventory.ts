/**
 * The fleet inventory: a TOML file with a `[defaults]` table and one `[[server]]` table per
 * DirectAdmin server. It says where each server's secret comes from (an environment variable or a
 * private file), never the secret itself. Every problem is collected with its file, line and key,
 * and all are reported together before anything is sent anywhere.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse, TomlError } from 'smol-toml';
import { isLoopbackHost, parseServerUrl } from '../directadmin/index.js';
import { UsageError } from '../errors.js';
import { KIND_LIST_TEXT, KIND_NAMES } from '../kinds/kind.js';

export interface InventoryServer {
  name: string;
  /** As written in the inventory (origin only: a URL holding credentials is refused). */
  url: string;
  /** Normalised scheme://host:port[/prefix], as the client and the journal name the server. */
  baseUrl: string;
  host: string;
  user: string;
  secret: { env: string } | { file: string };
  fingerprint?: string;
  /** Absolute path of a PEM CA (or the server's own certificate). */
  ca?: string;
  concurrency?: number;
  scope?: 'users' | 'all';
  exclude: string[];
  /** Credential kinds to sweep besides the account password (handed to the core as is). */
  include?: string[];
  tags: string[];
  /** Line of the `[[server]]` header, for messages. */
  line: number;
  /** Where the secret source and the CA were written (the server's table or [defaults]), for messages. */
  secretAt: { line: number; key: string };
  caAt?: { line: number; key: string };
}

export interface Inventory {
  /** Absolute path. */
  file: string;
  servers: InventoryServer[];
  /** [defaults] metrics_file, absolute: the fleet run's metrics (one sample per server). */
  metricsFile?: string;
}

/** One problem in an inventory, located. */
export interface InventoryProblem {
  line: number;
  key: string;
  message: string;
}

export class InventoryError extends UsageError {
  constructor(
    readonly file: string,
    readonly problems: InventoryProblem[],
  ) {
    super(
      `the inventory ${file} has ${problems.length} problem(s); nothing was sent:\n` +
        problems.map((p) => `  ${file}:${p.line}: ${p.key}: ${p.message}`).join('\n'),
    );
    this.name = 'InventoryError';
  }
}

const SERVER_KEYS = ['name', 'url', 'user', 'secret_env', 'secret_file', 'fingerprint', 'ca', 'concurrency', 'scope', 'exclude', 'include', 'tags'] as const;
const DEFAULT_KEYS = ['user', 'secret_env', 'secret_file', 'ca', 'concurrency', 'scope', 'exclude', 'include', 'metrics_file'] as const;
/** Keys that would hold a secret: refused outright, whatever their value. */
const SECRET_KEY = /^(secret|password|passwd|pass|pw|key|login_?key|api_?key|token)$|password|passwd|secret(?!_(env|file)$)/i;
export const NAME = /^[A-Za-z0-9._-]{1,64}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const KIND = new RegExp(`^(${[...KIND_NAMES, 'all'].join('|')})$`);

/**
 * Where keys are written: smol-toml gives no positions for values, so the text is scanned for
 * table headers and `key =` lines. Section 'defaults' or a server index; a key not found falls back
 * to its table's header line, then to line 1.
 */
export class KeyLines {
  private readonly lines = new Map<string, number>();
  private readonly headers = new Map<string, number>();

  constructor(text: string) {
    let section = 'top';
    let servers = -1;
    text.split(/\r?\n/).forEach((raw, i) => {
      const line = i + 1;
      const l = raw.replace(/^\s+/, '');
      let m: RegExpExecArray | null;
      if ((m = /^\[\[\s*("?)([A-Za-z0-9_.-]+)\1\s*\]\]/.exec(l))) {
        section = m[2] === 'server' ? `server:${++servers}` : `other:${m[2]}`;
        this.headers.set(section, line);
      } else if ((m = /^\[\s*("?)([A-Za-z0-9_.-]+)\1\s*\]/.exec(l))) {
        section = m[2] === 'defaults' ? 'defaults' : `other:${m[2]}`;
        this.headers.set(section, line);
      } else if ((m = /^("([^"]*)"|'([^']*)'|[A-Za-z0-9_-]+)\s*[=.]/.exec(l))) {
        const key = m[2] ?? m[3] ?? m[1]!;
        const id = `${section}\u0000${key}`;
        if (!this.lines.has(id)) this.lines.set(id, line);
      }
    });
  }

  /** section: 'top', 'defaults', a server index, or 'other:NAME' for a stray table. */
  of(section: string | number, key?: string): number {
    const s = typeof section === 'number' ? `server:${section}` : section;
    return (key !== undefined ? this.lines.get(`${s}\u0000${key}`) : undefined) ?? this.headers.get(s) ?? 1;
  }
}

type Table = Record<string, unknown>;

function isTable(v: unknown): v is Table {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function describeType(v: unknown): string {
  if (Array.isArray(v)) return 'an array';
  if (isTable(v)) return 'a table';
  return typeof v === 'string' ? 'a string' : typeof v === 'number' || typeof v === 'bigint' ? 'a number' : typeof v;
}

/** Validates the values of one table; `where` locates a key. */
class TableReader {
  constructor(
    private readonly table: Table,
    private readonly problems: InventoryProblem[],
    private readonly where: (key?: string) => number,
    private readonly label: string,
  ) {}

  problem(key: string, message: string): void {
    this.problems.push({ line: this.where(key), key: `${this.label}.${key}`, message });
  }

  checkKeys(allowed: readonly string[]): void {
    for (const key of Object.keys(this.table)) {
      if (SECRET_KEY.test(key)) {
        this.problem(key, 'an inventory never holds a secret: remove it, and use secret_env = "VARIABLE" or secret_file = "PATH" (mode 0600)');
      } else if (!allowed.includes(key)) {
        this.problem(key, `unknown key; allowed here: ${allowed.join(', ')}`);
      }
    }
  }

  has(key: string): boolean {
    return this.table[key] !== undefined;
  }

  string(key: string, pattern?: RegExp, hint?: string): string | undefined {
    const v = this.table[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v.trim() === '') {
      this.problem(key, `must be a non-empty string (got ${describeType(v)})`);
      return undefined;
    }
    if (pattern && !pattern.test(v)) {
      this.problem(key, hint ?? `invalid value`);
      return undefined;
    }
    return v;
  }

  strings(key: string, pattern?: RegExp, hint?: string): string[] | undefined {
    const v = this.table[key];
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x.trim() === '')) {
      this.problem(key, 'must be an array of non-empty strings, e.g. ["a", "b"]');
      return undefined;
    }
    const bad = pattern ? (v as string[]).filter((x) => !pattern.test(x)) : [];
    if (bad.length) {
      this.problem(key, `${hint ?? 'invalid value'} (got ${bad.map((b) => JSON.stringify(b)).join(', ')})`);
      return undefined;
    }
    return v as string[];
  }

  integer(key: string, min: number, max: number): number | undefined {
    const v = this.table[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.problem(key, `must be a whole number from ${min} to ${max} (got ${typeof v === 'number' ? v : describeType(v)})`);
      return undefined;
    }
    return v;
  }

  scope(): 'users' | 'all' | undefined {
    return this.string('scope', /^(users|all)$/, 'must be "users" or "all"') as 'users' | 'all' | undefined;
  }
}

interface Common {
  user?: string;
  secret?: { env: string } | { file: string };
  ca?: string;
  concurrency?: number;
  scope?: 'users' | 'all';
  exclude?: string[];
  include?: string[];
}

function readCommon(r: TableReader, baseDir: string): Common {
  const out: Common = {};
  const user = r.string('user', /^[^\s\u0000-\u001f\u007f]+$/, 'must be a user name without spaces or control characters');
  if (user) out.user = user;
  const env = r.string('secret_env', ENV_NAME, 'must be the NAME of an environment variable (letters, digits, _), not the secret');
  const file = r.string('secret_file');
  if (r.has('secret_env') && r.has('secret_file')) r.problem('secret_file', 'give exactly one of secret_env and secret_file');
  else if (env) out.secret = { env };
  else if (file) out.secret = { file: resolve(baseDir, file) };
  const ca = r.string('ca');
  if (ca) out.ca = resolve(baseDir, ca);
  const concurrency = r.integer('concurrency', 1, 64);
  if (concurrency !== undefined) out.concurrency = concurrency;
  const scope = r.scope();
  if (scope) out.scope = scope;
  const exclude = r.strings('exclude');
  if (exclude) out.exclude = exclude;
  const include = r.strings('include', KIND, `credential kinds are ${KIND_LIST_TEXT} or all`);
  if (include) out.include = include;
  return out;
}

function readUrl(r: TableReader): { url: string; baseUrl: string; host: string } | undefined {
  const url = r.string('url');
  if (!url) {
    if (!r.has('url')) r.problem('url', 'missing: every server needs url = "https://HOST:2222"');
    return undefined;
  }
  let parsed;
  try {
    parsed = parseServerUrl(url);
  } catch (e) {
    r.problem('url', (e as Error).message);
    return undefined;
  }
  if (parsed.secret !== undefined || parsed.username !== undefined) {
    r.problem('url', 'must not hold a user or key (https://user:KEY@...): the inventory never holds a secret; use user and secret_env/secret_file');
    return undefined;
  }
  if (parsed.baseUrl.startsWith('http:') && !isLoopbackHost(parsed.host)) {
    r.problem('url', 'plain http:// to a remote host sends the credentials in clear: use https://');
    return undefined;
  }
  return { url, baseUrl: parsed.baseUrl, host: parsed.host };
}

/** Parses and validates an inventory's text; throws InventoryError listing every problem. */
export function parseInventory(text: string, file: string): Inventory {
  const problems: InventoryProblem[] = [];
  let doc: Table;
  try {
    doc = parse(text);
  } catch (e) {
    if (e instanceof TomlError) {
      throw new InventoryError(file, [
        { line: e.line, key: '(syntax)', message: e.message.split('\n')[0]!.replace(/^Invalid TOML document: /, 'invalid TOML: ') },
      ]);
    }
    throw e;
  }
  const lines = new KeyLines(text);
  const baseDir = dirname(file);
  for (const key of Object.keys(doc)) {
    if (key === 'defaults' || key === 'server') continue;
    problems.push({
      line: lines.of('top', key) === 1 ? lines.of(`other:${key}`) : lines.of('top', key),
      key,
      message: SECRET_KEY.test(key) ? 'an inventory never holds a secret' : 'unknown top-level key; the inventory has a [defaults] table and [[server]] tables',
    });
  }
  let defaults: Common = {};
  let metricsFile: string | undefined;
  if (doc.defaults !== undefined) {
    if (!isTable(doc.defaults)) problems.push({ line: lines.of('top', 'defaults'), key: 'defaults', message: 'must be a table: [defaults]' });
    else {
      const r = new TableReader(doc.defaults, problems, (k) => lines.of('defaults', k), 'defaults');
      r.checkKeys(DEFAULT_KEYS);
      defaults = readCommon(r, baseDir);
      const metrics = r.string('metrics_file');
      if (metrics) metricsFile = resolve(baseDir, metrics);
    }
  }
  const rawServers = doc.server;
  const servers: InventoryServer[] = [];
  if (rawServers === undefined) {
    problems.push({ line: 1, key: 'server', message: 'no server: add a [[server]] table per server (name, url, user, secret_env or secret_file)' });
  } else if (!Array.isArray(rawServers) || !rawServers.every(isTable)) {
    problems.push({ line: lines.of('top', 'server'), key: 'server', message: 'must be [[server]] tables' });
  } else {
    const seen = new Map<string, number>();
    const locate = (i: number, key: string, own: boolean, name: string) =>
      own ? { line: lines.of(i, key), key: `server "${name}".${key}` } : { line: lines.of('defaults', key), key: `defaults.${key}` };
    rawServers.forEach((t, i) => {
      const label = `server[${i}]`;
      const r = new TableReader(t, problems, (k) => lines.of(i, k), typeof t.name === 'string' && NAME.test(t.name) ? `server "${t.name}"` : label);
      r.checkKeys(SERVER_KEYS);
      const before = problems.length;
      const name = r.string('name', NAME, "must be 1 to 64 of A-Z a-z 0-9 . _ - (it names the server's output directory)");
      if (!r.has('name')) r.problem('name', 'missing: every server needs a unique name');
      if (name && (name === '.' || name === '..')) r.problem('name', 'must not be "." or ".."');
      else if (name && seen.has(name)) r.problem('name', `duplicate: "${name}" is already the name of the server at line ${seen.get(name)}`);
      else if (name) seen.set(name, lines.of(i, 'name'));
      const url = readUrl(r);
      const own = readCommon(r, baseDir);
      const fingerprint = r.string(
        'fingerprint',
        /^(?:[0-9a-fA-F]{2}:?){31}[0-9a-fA-F]{2}$/,
        'must be a SHA-256 fingerprint: 64 hex digits, colons allowed (AA:BB:...)',
      );
      if (r.has('fingerprint') && r.has('ca')) r.problem('ca', 'give one of fingerprint and ca: a pinned fingerprint replaces CA checks');
      const tags = r.strings('tags', NAME, 'tags are 1 to 64 of A-Z a-z 0-9 . _ -') ?? [];
      const user = own.user ?? defaults.user;
      if (!user && !r.has('user')) r.problem('user', 'missing: set user here or in [defaults]');
      const secret = own.secret ?? (r.has('secret_env') || r.has('secret_file') ? undefined : defaults.secret);
      if (!secret && !r.has('secret_env') && !r.has('secret_file')) {
        r.problem('secret_env', 'missing: set secret_env = "VARIABLE" or secret_file = "PATH" here or in [defaults]');
      }
      if (problems.length > before || !name || !url || !user || !secret) return;
      const ca = fingerprint ? undefined : (own.ca ?? defaults.ca);
      servers.push({
        name,
        ...url,
        user,
        secret,
        ...(fingerprint ? { fingerprint } : {}),
        ...(ca ? { ca } : {}),
        ...((own.concurrency ?? defaults.concurrency) !== undefined ? { concurrency: own.concurrency ?? defaults.concurrency } : {}),
        ...((own.scope ?? defaults.scope) ? { scope: own.scope ?? defaults.scope } : {}),
        // Exclusions add up: one in [defaults] is never dropped by a server's own list.
        exclude: [...new Set([...(defaults.exclude ?? []), ...(own.exclude ?? [])])],
        ...((own.include ?? defaults.include) ? { include: own.include ?? defaults.include } : {}),
        tags,
        line: lines.of(i),
        secretAt: locate(i, 'env' in secret ? 'secret_env' : 'secret_file', own.secret !== undefined, name),
        ...(ca ? { caAt: locate(i, 'ca', own.ca !== undefined, name) } : {}),
      });
    });
    for (const s of servers) {
      for (const tag of s.tags) {
        if (seen.has(tag))
          problems.push({
            line: lines.of(servers.indexOf(s), 'tags'),
            key: `server "${s.name}".tags`,
            message: `tag "${tag}" is also a server name: --servers could not tell them apart`,
          });
      }
    }
  }
  if (problems.length)
    throw new InventoryError(
      file,
      problems.sort((a, b) => a.line - b.line),
    );
  return { file, servers, ...(metricsFile ? { metricsFile } : {}) };
}

export function loadInventory(path: string): Inventory {
  const file = resolve(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`--inventory: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  return parseInventory(text, file);
}

/** The servers `--servers NAME|TAG...` selects, in inventory order; all of them when none is given. */
export function selectServers(inventory: Inventory, selectors: readonly string[]): InventoryServer[] {
  if (selectors.length === 0) return inventory.servers;
  const names = new Set(inventory.servers.map((s) => s.name));
  const tags = new Set(inventory.servers.flatMap((s) => s.tags));
  const unknown = selectors.filter((x) => !names.has(x) && !tags.has(x));
  if (unknown.length) {
    throw new UsageError(
      `--servers: ${unknown.map((u) => `"${u}"`).join(', ')} is neither a server name nor a tag in ${inventory.file}; known tags: ${[...tags].sort().join(', ') || '(none)'}`,
    );
  }
  const wanted = new Set(selectors);
  return inventory.servers.filter((s) => wanted.has(s.name) || s.tags.some((t) => wanted.has(t)));
}
