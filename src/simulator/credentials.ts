/**
 * The other credentials of each account (domains with mailboxes and extra FTP accounts, login
 * keys, panel sessions, extra database users), laid out from the seed on first use, per account,
 * so 100 000 accounts cost nothing until touched and the layout does not depend on access order.
 *
 * Layout: every account owns 1 or 2 domains (`<user>.example.net`, then `<user>-shop.example.com`),
 * each with `mailboxesPerDomain` mailboxes and `ftpPerDomain` extra FTP accounts. User and reseller
 * accounts (not admins) also get `loginKeysPerUser` keys, `sessionsPerUser` sessions and
 * `dbUsersPerUser` database users (`<user>_db1`...).
 */
import { randomBytes } from 'node:crypto';
import { seededRandom, type AccountStore, type SimAccount } from './accounts.js';
import type { FtpType, LoginKeySpec, SimDbUser, SimFtpAccount, SimLoginKey, SimMailbox, SimSession } from './types.js';

export interface Layout {
  seed: number;
  mailboxesPerDomain: number;
  ftpPerDomain: number;
  dbUsersPerUser: number;
  loginKeysPerUser: number;
  sessionsPerUser: number;
  /** Accounts whose listings also hold names DirectAdmin never allows (SimulatorOptions.hostileNames). */
  hostileNames?: Set<string>;
}

export interface StoredKey {
  name: string;
  key: string;
  owner: string;
  created: number;
  createdBy: string;
  expiresAt?: number;
  /** Upper-cased allow-list; empty = every command. */
  commands: string[];
  ips?: Set<string>;
  maxUses?: number;
  uses: number;
  lastUsed?: number;
  lastIp?: string;
  readOnly: boolean;
  history: Array<{ command: string; ip: string; result: string; time: string }>;
}

export interface Mailbox {
  password: string;
  suspended: boolean;
  quota: string;
  usage: string;
  sent: string;
  limit: string;
}

export interface FtpAccount {
  type: FtpType;
  path: string;
  password: string;
}

export interface Domain {
  name: string;
  mailboxes: Map<string, Mailbox>;
  ftp: Map<string, FtpAccount>;
}

export interface Credentials {
  domains: Domain[];
  keys: StoredKey[];
  keyCounter: number;
  sessions: SimSession[];
  dbUsers: Map<string, { password: string; hostPatterns: string[] }>;
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const LOCAL_PARTS = ['info', 'sales', 'office', 'support', 'billing', 'contact', 'hello', 'jobs', 'news', 'team'];
const FTP_NAMES = ['upload', 'backup', 'deploy', 'media', 'web'];
const FTP_TYPES: FtpType[] = ['domain', 'user', 'ftp', 'custom'];
const KEY_COMMANDS = [[], ['CMD_API_SHOW_DOMAINS', 'CMD_API_POP'], ['CMD_API_LOGIN_TEST']];

/** FNV-1a: a per-account seed from the run's seed and the account's name. */
function hash(seed: number, name: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

export function normalizeIp(ip: string | undefined): string {
  if (!ip) return '';
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}

/** The path DirectAdmin gives an FTP account of each type (custom: the given path). */
export function ftpPath(owner: string, domain: string, name: string, type: FtpType, custom?: string): string {
  switch (type) {
    case 'domain':
      return `/home/${owner}/domains/${domain}`;
    case 'ftp':
      return `/home/${owner}/domains/${domain}/public_ftp`;
    case 'user':
      return `/home/${owner}/domains/${domain}/public_ftp/${name}`;
    case 'system':
      return `/home/${owner}`;
    default:
      return custom ?? `/home/${owner}/domains/${domain}/public_html/${name}`;
  }
}

export class CredentialStore {
  readonly #byOwner = new Map<string, Credentials>();

  constructor(
    private readonly accounts: AccountStore,
    private readonly layout: Layout,
  ) {}

  /** The credentials of an account (laid out on first use), or undefined for an unknown account. */
  of(owner: string): Credentials | undefined {
    let c = this.#byOwner.get(owner);
    if (c) return c;
    const a = this.accounts.get(owner);
    if (!a) return undefined;
    c = this.#seed(a);
    this.#byOwner.set(owner, c);
    return c;
  }

  /** The account a seeded domain name points to (`<user>.example.net`, `<user>-shop.example.com`), unchecked. */
  likelyOwner(domain: string): string | undefined {
    if (domain.endsWith('-shop.example.com')) return domain.slice(0, -'-shop.example.com'.length);
    if (domain.endsWith('.example.net')) return domain.slice(0, -'.example.net'.length);
    return undefined;
  }

  /** How many login keys an account has, without laying out its credentials when it need not. */
  keyCount(owner: string): number {
    const c = this.#byOwner.get(owner);
    if (c) return c.keys.length;
    const a = this.accounts.get(owner);
    return a && a.type !== 'admin' ? this.layout.loginKeysPerUser : 0;
  }

  domain(owner: string, name: string): Domain | undefined {
    return this.of(owner)?.domains.find((d) => d.name === name);
  }

  addKey(owner: string, spec: LoginKeySpec): StoredKey {
    const c = this.of(owner);
    if (!c) throw new Error(`no simulator account ${owner}`);
    const name = spec.name ?? `key${++c.keyCounter}`;
    if (c.keys.some((k) => k.name === name)) throw new Error(`login key ${name} already exists for ${owner}`);
    const k: StoredKey = {
      name,
      key: spec.key,
      owner,
      created: (spec.createdAt ?? new Date()).getTime(),
      createdBy: spec.createdBy ?? '127.0.0.1',
      commands: (spec.commands ?? []).map((x) => x.toUpperCase()),
      uses: 0,
      readOnly: spec.readOnly ?? false,
      history: [],
    };
    if (spec.ips) k.ips = new Set(spec.ips.map(normalizeIp));
    if (spec.maxUses !== undefined) k.maxUses = spec.maxUses;
    if (spec.expiresAt) k.expiresAt = spec.expiresAt.getTime();
    c.keys.push(k);
    return k;
  }

  removeKey(owner: string, name: string): StoredKey | undefined {
    const c = this.of(owner);
    const i = c ? c.keys.findIndex((k) => k.name === name) : -1;
    if (!c || i < 0) return undefined;
    return c.keys.splice(i, 1)[0];
  }

  #seed(a: SimAccount): Credentials {
    const rnd = seededRandom(hash(this.layout.seed, a.username));
    const pw = (n = 16) => {
      let s = '';
      for (let i = 0; i < n; i++) s += ALNUM[Math.floor(rnd() * ALNUM.length)];
      return s;
    };
    const L = this.layout;
    const domainNames = [a.domain];
    if (rnd() < 0.5) domainNames.push(`${a.username}-shop.example.com`);
    const domains: Domain[] = domainNames.map((name) => {
      const mailboxes = new Map<string, Mailbox>();
      for (let i = 0; i < L.mailboxesPerDomain; i++) {
        mailboxes.set(LOCAL_PARTS[i] ?? `box${i + 1}`, {
          password: pw(),
          suspended: false,
          quota: String(50 * (1 + Math.floor(rnd() * 4))),
          usage: (rnd() * 40).toFixed(2),
          sent: String(Math.floor(rnd() * 300)),
          limit: '200',
        });
      }
      const ftp = new Map<string, FtpAccount>();
      for (let i = 0; i < L.ftpPerDomain; i++) {
        const user = FTP_NAMES[i] ?? `ftp${i + 1}`;
        const type = FTP_TYPES[Math.floor(rnd() * FTP_TYPES.length)]!;
        ftp.set(user, { type, path: ftpPath(a.username, name, user, type), password: pw() });
      }
      return { name, mailboxes, ftp };
    });
    const c: Credentials = { domains, keys: [], keyCounter: 0, sessions: [], dbUsers: new Map() };
    if (a.type === 'admin') return c;
    const now = Date.now();
    for (let i = 0; i < L.loginKeysPerUser; i++) {
      const k = this.#addSeededKey(c, a.username, pw(32), now - Math.floor(rnd() * 300) * 86400_000, KEY_COMMANDS[i % KEY_COMMANDS.length]!);
      if (rnd() < 0.5) k.expiresAt = now + (1 + Math.floor(rnd() * 90)) * 86400_000;
      if (rnd() < 0.7) {
        k.lastUsed = now - Math.floor(rnd() * 30) * 86400_000 - 3600_000;
        k.lastIp = `203.0.113.${1 + Math.floor(rnd() * 250)}`;
        k.uses = 1 + Math.floor(rnd() * 50);
      }
    }
    for (let i = 0; i < L.sessionsPerUser; i++) {
      const created = now - Math.floor(rnd() * 12 * 3600_000);
      c.sessions.push({
        publicID: randomBytes(8).toString('hex'),
        owner: a.username,
        ip: `198.51.100.${1 + Math.floor(rnd() * 250)}`,
        created: new Date(created),
        expires: new Date(created + 24 * 3600_000),
        loggedInAs: a.username,
        loginKey: '',
      });
    }
    for (let i = 1; i <= L.dbUsersPerUser; i++) c.dbUsers.set(`${a.username}_db${i}`, { password: pw(), hostPatterns: ['localhost'] });
    if (L.hostileNames?.has(a.username)) this.#addHostileNames(c, a.username, pw);
    return c;
  }

  /** Names a hostile or broken server lists: a formula, a line break, a path out of the tree. */
  #addHostileNames(c: Credentials, owner: string, pw: () => string): void {
    const mailbox = (): Mailbox => ({ password: pw(), suspended: false, quota: '50', usage: '0', sent: '0', limit: '200' });
    const first = c.domains[0]!;
    first.mailboxes.set('=1+1', mailbox());
    first.mailboxes.set('a\r\nb', mailbox());
    first.ftp.set('../../etc', { type: 'domain', path: ftpPath(owner, first.name, 'x', 'domain'), password: pw() });
    c.domains.push({ name: '../../etc', mailboxes: new Map([['info', mailbox()]]), ftp: new Map() });
    c.dbUsers.set('../../etc', { password: pw(), hostPatterns: ['localhost'] });
    this.#addSeededKey(c, owner, pw(), Date.now(), []).name = '../../etc';
    c.sessions.push({
      publicID: '=1+1\r\nx',
      owner,
      ip: '198.51.100.66',
      created: new Date(),
      expires: new Date(Date.now() + 3600_000),
      loggedInAs: owner,
      loginKey: '',
    });
  }

  #addSeededKey(c: Credentials, owner: string, key: string, created: number, commands: string[]): StoredKey {
    const k: StoredKey = {
      name: `key${++c.keyCounter}`,
      key,
      owner,
      created,
      createdBy: '192.0.2.10',
      commands: [...commands],
      uses: 0,
      readOnly: false,
      history: [],
    };
    c.keys.push(k);
    return k;
  }
}

// ---------------------------------------------------------------- inspection views (copies)

export function keyView(k: StoredKey): SimLoginKey {
  const v: SimLoginKey = {
    name: k.name,
    key: k.key,
    owner: k.owner,
    created: new Date(k.created),
    createdBy: k.createdBy,
    commands: [...k.commands],
    ips: k.ips ? [...k.ips] : [],
    uses: k.uses,
    readOnly: k.readOnly,
  };
  if (k.expiresAt !== undefined) v.expires = new Date(k.expiresAt);
  if (k.maxUses !== undefined) v.maxUses = k.maxUses;
  if (k.lastUsed !== undefined) v.lastUsed = new Date(k.lastUsed);
  if (k.lastIp !== undefined) v.lastIp = k.lastIp;
  return v;
}

export function mailboxViews(c: Credentials): SimMailbox[] {
  return c.domains.flatMap((d) =>
    [...d.mailboxes].map(([local, m]) => ({ address: `${local}@${d.name}`, local, domain: d.name, password: m.password, suspended: m.suspended })),
  );
}

export function ftpViews(c: Credentials): SimFtpAccount[] {
  return c.domains.flatMap((d) =>
    [...d.ftp].map(([user, f]) => ({ fulluser: `${user}@${d.name}`, user, domain: d.name, type: f.type, path: f.path, password: f.password })),
  );
}

export function dbUserViews(owner: string, c: Credentials): SimDbUser[] {
  return [...c.dbUsers].map(([dbuser, d]) => ({ dbuser, owner, password: d.password, hostPatterns: [...d.hostPatterns] }));
}
