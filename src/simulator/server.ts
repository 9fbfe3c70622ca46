/**
 * A DirectAdmin stand-in: the legacy API commands da-rotate uses, DirectAdmin's authentication
 * and brute-force behaviour, both answer formats with their quirks, and injectable faults.
 */
import { X509Certificate } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { randomInt } from 'node:crypto';
import { generate } from 'selfsigned';
import { AccountStore, type ExtraAccount, type SimAccount } from './accounts.js';
import { actionBody, keyValueBody, listBody, type FormatOptions } from './encode.js';

export interface FaultRate {
  /** Probability per eligible request, 0..1. */
  rate?: number;
  /** Always fire for these usernames. */
  users?: string[];
  /** Fire at most this many times in total. */
  limit?: number;
}

export interface Faults {
  latencyMs?: number;
  jitterMs?: number;
  /** At most this many requests processed at once; the rest wait in arrival order. */
  capacity?: number;
  error500?: FaultRate;
  resetBeforeApply?: FaultRate;
  resetAfterApply?: FaultRate;
  emptyAfterApply?: FaultRate;
  htmlAfterApply?: FaultRate;
  hang?: FaultRate;
}

export interface PasswordPolicy {
  minLength?: number;
  maxLength?: number;
  difficult?: boolean;
}

export type AuthFailureStyle = 'login-page' | 'evolution-page' | '401' | '401-json';

export interface SimulatorOptions {
  host?: string;
  port?: number;
  tls?: boolean;
  /** DNS names and IPs for the certificate (default localhost and 127.0.0.1). */
  tlsAltNames?: string[];
  adminUser?: string;
  adminPassword?: string;
  users?: number;
  resellers?: number;
  extraAdmins?: number;
  suspendedEvery?: number;
  seed?: number;
  extraAccounts?: ExtraAccount[];
  format?: FormatOptions;
  authFailure?: AuthFailureStyle;
  blacklistAfter?: number;
  blacklistStatus?: number;
  needsHttps?: boolean;
  redirectTo?: string;
  showAllUsersIncludesResellersAndAdmins?: boolean;
  passwordPolicy?: PasswordPolicy;
  faults?: Faults;
}

export interface SimulatorStats {
  /** Per command, counted on arrival (failed logins included). */
  requests: Record<string, number>;
  totalRequests: number;
  inFlight: number;
  maxInFlight: number;
  /** Most requests past the capacity gate at once. */
  maxProcessing: number;
  failedLogins: number;
  passwordChangesApplied: number;
  connections: number;
}

export interface LoginKey {
  key: string;
  /** Allowed commands; undefined allows all. */
  commands?: string[];
  ips?: string[];
  maxUses?: number;
  expiresAt?: Date;
}

export interface Simulator {
  readonly url: string;
  readonly port: number;
  readonly host: string;
  readonly tls: boolean;
  readonly fingerprint256?: string;
  readonly certPem?: string;
  readonly adminUser: string;
  readonly adminPassword: string;
  readonly stats: SimulatorStats;
  resetStats(): void;
  setFaults(f: Faults): void;
  setOptions(o: Partial<SimulatorOptions>): void;
  account(name: string): SimAccount | undefined;
  accounts(): SimAccount[];
  password(name: string): string | undefined;
  setPassword(name: string, pw: string): void;
  addLoginKey(owner: string, key: LoginKey): void;
  unblacklist(ip?: string): void;
  close(): Promise<void>;
}

const LOGIN_PAGE = `<!DOCTYPE html>
<html><head><title>DirectAdmin Login</title></head>
<body><form action="/CMD_LOGIN" method="POST"><input type=text name=username><input type=password name=password></form></body></html>
`;
const EVOLUTION_PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>DirectAdmin</title>
<script>window.DA = { AUTH_METHOD: "CMD_LOGIN", SKIN: "evolution" };</script></head><body><div id="app"></div></body></html>
`;

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
function randomPassword(n = 24): string {
  let s = '';
  for (let i = 0; i < n; i++) s += ALNUM[randomInt(ALNUM.length)];
  return s;
}

function emptyStats(): SimulatorStats {
  return { requests: {}, totalRequests: 0, inFlight: 0, maxInFlight: 0, maxProcessing: 0, failedLogins: 0, passwordChangesApplied: 0, connections: 0 };
}

function clientIp(req: IncomingMessage): string {
  return (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
}

interface Caller {
  account: SimAccount;
}

class Gate {
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(public capacity: number) {}
  async enter(): Promise<void> {
    if (this.capacity <= 0 || this.active < this.capacity) {
      this.active++;
      return;
    }
    await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
  }
  leave(): void {
    this.active--;
    const next = this.waiting.shift();
    if (next) next();
  }
  get processing(): number {
    return this.active;
  }
}

class SimulatorServer implements Simulator {
  url = '';
  port = 0;
  host: string;
  tls: boolean;
  fingerprint256?: string;
  certPem?: string;
  adminUser: string;
  adminPassword: string;
  stats: SimulatorStats = emptyStats();

  private opts: SimulatorOptions;
  private faults: Faults;
  private faultCounts = new Map<string, number>();
  private readonly store: AccountStore;
  private readonly keys = new Map<string, Array<LoginKey & { uses: number }>>();
  private readonly failuresByIp = new Map<string, number>();
  private readonly sockets = new Set<Socket>();
  private readonly gate: Gate;
  private server!: Server;

  constructor(options: SimulatorOptions) {
    this.opts = { ...options };
    this.host = options.host ?? '127.0.0.1';
    this.tls = options.tls === true;
    this.adminUser = options.adminUser ?? 'admin';
    this.adminPassword = options.adminPassword ?? randomPassword();
    this.faults = options.faults ?? {};
    this.gate = new Gate(this.faults.capacity ?? 0);
    this.store = AccountStore.seeded({
      adminUser: this.adminUser,
      adminPassword: this.adminPassword,
      users: options.users ?? 50,
      resellers: options.resellers ?? 3,
      extraAdmins: options.extraAdmins ?? 1,
      suspendedEvery: options.suspendedEvery ?? 10,
      seed: options.seed ?? 1,
      extraAccounts: options.extraAccounts ?? [],
    });
  }

  async start(): Promise<void> {
    const handler = (req: IncomingMessage, res: ServerResponse) => void this.handle(req, res);
    if (this.tls) {
      const names = this.opts.tlsAltNames ?? ['localhost', '127.0.0.1'];
      const altNames = names.map((n) => (/^[\d.]+$|:/.test(n) ? { type: 7 as const, ip: n } : { type: 2 as const, value: n }));
      const pems = await generate([{ name: 'commonName', value: names[0] ?? 'localhost' }], {
        keyType: 'ec',
        curve: 'P-256',
        notAfterDate: new Date(Date.now() + 365 * 86400_000),
        extensions: [{ name: 'subjectAltName', altNames }],
      });
      this.certPem = pems.cert;
      this.fingerprint256 = new X509Certificate(pems.cert).fingerprint256;
      this.server = createHttpsServer({ key: pems.private, cert: pems.cert }, handler);
      this.server.on('secureConnection', (s: Socket) => this.track(s));
    } else {
      this.server = createHttpServer(handler);
      this.server.on('connection', (s: Socket) => this.track(s));
    }
    this.server.keepAliveTimeout = 60_000;
    this.server.headersTimeout = 65_000;
    this.server.requestTimeout = 0;
    this.server.maxHeadersCount = 100;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port ?? 0, this.host, () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
    const h = this.host.includes(':') ? `[${this.host}]` : this.host;
    this.url = `${this.tls ? 'https' : 'http'}://${h}:${this.port}`;
  }

  private track(s: Socket): void {
    this.stats.connections++;
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
  }

  resetStats(): void {
    this.stats = emptyStats();
  }

  setFaults(f: Faults): void {
    this.faults = { ...f };
    this.faultCounts.clear();
    this.gate.capacity = f.capacity ?? 0;
  }

  setOptions(o: Partial<SimulatorOptions>): void {
    this.opts = { ...this.opts, ...o };
    if (o.faults) this.setFaults(o.faults);
  }

  account(name: string): SimAccount | undefined {
    const a = this.store.get(name);
    return a ? { ...a } : undefined;
  }

  accounts(): SimAccount[] {
    return [...this.store.byName.values()].map((a) => ({ ...a }));
  }

  password(name: string): string | undefined {
    return this.store.get(name)?.password;
  }

  setPassword(name: string, pw: string): void {
    const a = this.store.get(name);
    if (!a) throw new Error(`no simulator account ${name}`);
    a.password = pw;
  }

  addLoginKey(owner: string, key: LoginKey): void {
    const list = this.keys.get(owner) ?? [];
    list.push({ ...key, uses: 0 });
    this.keys.set(owner, list);
  }

  unblacklist(ip?: string): void {
    if (ip) this.failuresByIp.delete(ip);
    else this.failuresByIp.clear();
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
      for (const s of this.sockets) s.destroy();
    });
  }

  // ---------------------------------------------------------------------------------------------

  private fires(name: keyof Faults, user: string): boolean {
    const f = this.faults[name] as FaultRate | undefined;
    if (!f) return false;
    const used = this.faultCounts.get(name) ?? 0;
    if (f.limit !== undefined && used >= f.limit) return false;
    const hit = (f.users?.includes(user) ?? false) || (f.rate !== undefined && f.rate > 0 && Math.random() < f.rate);
    if (hit) this.faultCounts.set(name, used + 1);
    return hit;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim.invalid');
    const command = url.pathname.replace(/^\/+/, '') || '/';
    const s = this.stats;
    s.totalRequests++;
    s.requests[command] = (s.requests[command] ?? 0) + 1;
    s.inFlight++;
    if (s.inFlight > s.maxInFlight) s.maxInFlight = s.inFlight;
    let counted = true;
    const done = () => {
      if (counted) {
        counted = false;
        this.stats.inFlight--;
      }
    };
    res.on('close', done);
    req.on('error', () => undefined);

    try {
      const body = await readBody(req);
      const params = new URLSearchParams(url.search);
      if (req.method === 'POST') for (const [k, v] of new URLSearchParams(body)) params.append(k, v);
      const json = params.get('json') === 'yes';

      if (this.opts.redirectTo) {
        res.writeHead(302, { location: this.opts.redirectTo, 'content-type': 'text/html' }).end('<html>Moved</html>');
        return;
      }
      if (this.opts.needsHttps) {
        res.writeHead(200, { 'x-use-https': 'yes', 'content-type': 'text/plain' }).end('use https');
        return;
      }
      const ip = clientIp(req);
      const threshold = this.opts.blacklistAfter ?? 5;
      if (threshold > 0 && (this.failuresByIp.get(ip) ?? 0) >= threshold) {
        res.writeHead(this.opts.blacklistStatus ?? 403, { 'content-type': 'text/html' }).end('<html><body>Your IP is blacklisted</body></html>\n');
        return;
      }
      const caller = this.authenticate(req, command, ip);
      if (!caller) {
        s.failedLogins++;
        this.failuresByIp.set(ip, (this.failuresByIp.get(ip) ?? 0) + 1);
        this.sendAuthFailure(res);
        return;
      }

      await this.gate.enter();
      try {
        if (this.gate.processing > s.maxProcessing) s.maxProcessing = this.gate.processing;
        const delay = (this.faults.latencyMs ?? 0) + (this.faults.jitterMs ? Math.random() * this.faults.jitterMs : 0);
        if (delay > 0) await new Promise((r) => setTimeout(r, delay));
        await this.command(command, req, res, params, json, caller);
      } finally {
        this.gate.leave();
      }
    } catch {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/html' }).end('<html>Internal Server Error</html>');
    }
  }

  private authenticate(req: IncomingMessage, command: string, ip: string): Caller | undefined {
    const h = req.headers.authorization ?? '';
    const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(h);
    if (!m) return undefined;
    const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return undefined;
    const login = decoded.slice(0, colon);
    const secret = decoded.slice(colon + 1);
    const [realName, target] = login.split('|', 2) as [string, string | undefined];
    const real = this.store.get(realName);
    if (!real || (real.type === 'user' && target !== undefined)) return undefined;
    if (!this.secretMatches(real, secret, command, ip)) return undefined;
    if (target === undefined) return { account: real };
    const t = this.store.get(target);
    if (!t) return undefined;
    if (real.type === 'admin' || (real.type === 'reseller' && t.creator === real.username)) return { account: t };
    return undefined;
  }

  private secretMatches(account: SimAccount, secret: string, command: string, ip: string): boolean {
    if (secret === account.password) return true;
    for (const k of this.keys.get(account.username) ?? []) {
      if (k.key !== secret) continue;
      if (k.expiresAt && k.expiresAt.getTime() <= Date.now()) return false;
      if (k.maxUses !== undefined && k.uses >= k.maxUses) return false;
      if (k.ips && !k.ips.includes(ip)) return false;
      if (k.commands && !k.commands.includes(command)) return false;
      k.uses++;
      return true;
    }
    return false;
  }

  private sendAuthFailure(res: ServerResponse): void {
    switch (this.opts.authFailure ?? 'login-page') {
      case '401':
        res.writeHead(401, { 'www-authenticate': 'Basic realm="DirectAdmin"', 'content-type': 'text/plain' }).end('Unauthorized');
        return;
      case '401-json':
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"type":"UNAUTHORIZED"}');
        return;
      case 'evolution-page':
        res.writeHead(200, { 'content-type': 'text/html', 'x-directadmin': 'unauthorized' }).end(EVOLUTION_PAGE);
        return;
      default:
        res.writeHead(200, { 'content-type': 'text/html', 'x-directadmin': 'unauthorized' }).end(LOGIN_PAGE);
    }
  }

  private send(res: ServerResponse, json: boolean, body: string): void {
    res.writeHead(200, { 'content-type': json ? 'application/json' : 'text/plain', 'content-length': Buffer.byteLength(body) }).end(body);
  }

  private action(res: ServerResponse, json: boolean, ok: boolean, text: string, details = ''): void {
    this.send(res, json, actionBody(json, ok, text, details, this.opts.format ?? {}));
  }

  private async command(command: string, req: IncomingMessage, res: ServerResponse, p: URLSearchParams, json: boolean, caller: Caller): Promise<void> {
    const f = this.opts.format ?? {};
    const me = caller.account;
    const isAdmin = me.type === 'admin';
    const cannot = () => this.action(res, json, false, 'You cannot execute that command');
    switch (command) {
      case 'CMD_API_LOGIN_TEST':
        return this.action(res, json, true, 'Login OK');
      case 'CMD_API_SHOW_USERS': {
        if (me.type === 'user') return cannot();
        const reseller = p.get('reseller');
        if (reseller !== null && !isAdmin) return cannot();
        const owner = reseller ?? me.username;
        const names = this.store.ownedBy(owner).filter((n) => this.store.get(n)?.type === 'user');
        return this.send(res, json, listBody(json, names, f));
      }
      case 'CMD_API_SHOW_ALL_USERS':
        if (!isAdmin) return cannot();
        return this.send(res, json, listBody(json, this.opts.showAllUsersIncludesResellersAndAdmins ? this.store.everyone : this.store.users, f));
      case 'CMD_API_SHOW_RESELLERS':
        if (!isAdmin) return cannot();
        return this.send(res, json, listBody(json, this.store.resellers, f));
      case 'CMD_API_SHOW_ADMINS':
        if (!isAdmin) return cannot();
        return this.send(res, json, listBody(json, this.store.admins, f));
      case 'CMD_API_SHOW_USER_CONFIG': {
        const a = this.store.get(p.get('user') ?? '');
        if (!a) return this.action(res, json, false, 'Unable to show user', 'That user does not exist');
        if (!isAdmin && a.creator !== me.username && a.username !== me.username) return this.action(res, json, false, 'Unable to show user', 'That user does not belong to you');
        return this.send(
          res,
          json,
          keyValueBody(json, {
            username: a.username,
            usertype: a.type,
            creator: a.creator,
            suspended: a.suspended ? 'yes' : 'no',
            email: a.email,
            domain: a.domain,
            date_created: a.dateCreated,
            api_with_password: 'yes',
            login_keys: 'ON',
            ip: '127.0.0.1',
          }, f),
        );
      }
      case 'CMD_API_USER_EXISTS': {
        if (!isAdmin) return cannot();
        const exists = this.store.get(p.get('user') ?? '') !== undefined;
        return this.send(res, json, json ? JSON.stringify({ exists: exists ? '1' : '0' }) : `error=0&exists=${exists ? '%31' : '%30'}`);
      }
      case 'CMD_API_VERIFY_PASSWORD': {
        if (!isAdmin) return cannot();
        const a = this.store.get(p.get('user') ?? '');
        const valid = a !== undefined && a.password === (p.get('passwd') ?? '');
        return this.send(res, json, json ? JSON.stringify({ valid: valid ? '1' : '0' }) : `valid=${valid ? '%31' : '%30'}`);
      }
      case 'CMD_API_USER_PASSWD':
        return this.userPasswd(req, res, p, json, me);
      default:
        res.writeHead(404, { 'content-type': 'text/html' }).end('<html><body>404 Not Found</body></html>');
    }
  }

  private userPasswd(req: IncomingMessage, res: ServerResponse, p: URLSearchParams, json: boolean, me: SimAccount): void {
    const fail = (details: string) => this.action(res, json, false, 'Cannot change password', details);
    if (req.method !== 'POST') return fail('This command requires POST');
    if (me.type === 'user') return this.action(res, json, false, 'You cannot execute that command');
    const username = p.get('username') ?? '';
    const pw = p.get('passwd') ?? '';
    const pw2 = p.get('passwd2') ?? '';
    if (!pw || !pw2) return fail('You must enter the password in both fields');
    if (pw !== pw2) return fail('Passwords do not match');
    const target = this.store.get(username);
    if (!target) return fail('That user does not exist');
    if (me.type === 'reseller' && target.creator !== me.username) return fail('That user does not belong to you');
    const policy = this.opts.passwordPolicy ?? {};
    if (pw.length < (policy.minLength ?? 5)) return fail('Password is too short');
    if (pw.length > (policy.maxLength ?? 256)) return fail('Password is too long');
    if (/[^\x21-\x7e]/.test(pw)) return fail('Invalid characters in password');
    if (policy.difficult) {
      const why = !/[A-Z]/.test(pw) || !/[a-z]/.test(pw)
        ? 'Password must have both upper and lower case characters'
        : !/[0-9]/.test(pw)
          ? 'Password must have numbers'
          : !/[^A-Za-z0-9]/.test(pw)
            ? 'Password must have at least one special character such as !@#%$ etc..'
            : undefined;
      if (why) return this.action(res, json, false, 'Unable to satisfy difficult password check.', why);
    }
    if (pw === target.password) return fail("New password isn't different");

    if (this.fires('hang', username)) return; // never answered; close() or the client's timeout ends it
    if (this.fires('resetBeforeApply', username)) {
      req.socket.destroy();
      return;
    }
    if (this.fires('error500', username)) {
      res.writeHead(500, { 'content-type': 'text/html' }).end('<html><body>500 Internal Server Error</body></html>');
      return;
    }
    target.password = pw;
    this.stats.passwordChangesApplied++;
    if (this.fires('resetAfterApply', username)) {
      req.socket.destroy();
      return;
    }
    if (this.fires('emptyAfterApply', username)) {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 0 }).end();
      return;
    }
    if (this.fires('htmlAfterApply', username)) {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>Please wait...</body></html>');
      return;
    }
    const text = target.suspended ? 'User password changed, however the account is still suspended' : 'Password Changed';
    return this.action(res, json, true, text);
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  if (req.method !== 'POST' && req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined) {
    req.resume();
    return Promise.resolve('');
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > 1_000_000) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const sim = new SimulatorServer(options);
  await sim.start();
  return sim;
}
