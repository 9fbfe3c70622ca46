/**
 * The DirectAdmin simulator: an HTTP(S) server speaking the legacy CMD_API_* protocol with the
 * formats and quirks described in the shared protocol notes, plus switchable faults.
 *
 * Order per request: count stats -> redirectTo -> needsHttps -> blacklist -> auth -> capacity
 * queue -> latency -> command.
 *
 * Choices where DirectAdmin's behaviour is not documented:
 * - An unknown command (after a successful login) answers HTTP 404, text/html.
 * - CMD_API_USER_PASSWD by GET: `error=1&text=Cannot change password&details=This command requires a POST request`.
 * - CMD_API_VERIFY_PASSWORD answers `valid=1`/`valid=0` (url-encoded) or `{"valid":"1"}` (JSON).
 * - CMD_API_USER_EXISTS answers `error=0&exists=%31` / `error=0&exists=%30`, or `{"exists":"1"}` (JSON).
 * - Errors of listing/config commands: `error=1&text=<reason>&details=` / `{"error":"<reason>","result":""}`.
 * - A suspended account cannot log in.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { X509Certificate, randomInt } from 'node:crypto';
import { AccountStore, seededRandom, type SimAccount } from './accounts.js';
import { actionBody, keyValueBody, listBody, type FormatOptions } from './encode.js';
import type {
  AuthFailureStyle,
  FaultName,
  FaultRate,
  Faults,
  LoginKeySpec,
  PasswordPolicy,
  Simulator,
  SimulatorOptions,
  SimulatorStats,
} from './types.js';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const MAX_BODY = 1 << 20;

export function randomPassword(n = 24): string {
  let s = '';
  for (let i = 0; i < n; i++) s += ALNUM[randomInt(ALNUM.length)];
  return s;
}

export const LOGIN_PAGE =
  '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>DirectAdmin Login</title></head>\n' +
  '<body><form action="/CMD_LOGIN" method="post" name="form"><input type="hidden" name="referer" value="/">' +
  '<input type="text" name="username"><input type="password" name="password"><input type="submit" value="Login"></form></body></html>\n';
export const EVOLUTION_PAGE =
  '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>DirectAdmin</title>\n' +
  '<script>window.__DA_CONFIG__ = { AUTH_METHOD: "CMD_LOGIN", SKIN: "evolution" };</script></head>\n' +
  '<body><div id="app"></div></body></html>\n';
const BLACKLISTED_PAGE = '<html><head><title>DirectAdmin</title></head><body>Your IP is blacklisted</body></html>\n';
const NOT_FOUND_PAGE = '<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1>The requested command was not found on this server.</body></html>\n';
const ERROR500_PAGE = '<html><head><title>500 Internal Server Error</title></head><body><h1>Internal Server Error</h1></body></html>\n';
const HTML_AFTER_APPLY = '<html><head><title>DirectAdmin</title></head><body><p>Your request has been processed.</p></body></html>\n';

const NOT_ALLOWED = 'You cannot execute that command';
const NO_USER = 'That user does not exist';
const NOT_YOURS = 'That user does not belong to you';
const CANNOT_CHANGE = 'Cannot change password';

const FAULTS_BEFORE: FaultName[] = ['hang', 'resetBeforeApply', 'error500'];
const FAULTS_AFTER: FaultName[] = ['resetAfterApply', 'emptyAfterApply', 'htmlAfterApply'];

interface StoredKey {
  key: string;
  commands?: Set<string>;
  ips?: Set<string>;
  maxUses?: number;
  expiresAt?: number;
  uses: number;
}

interface Answer {
  status: number;
  body: string;
  type: string;
  headers?: Record<string, string>;
}

interface Settings {
  authFailure: AuthFailureStyle;
  blacklistAfter: number;
  blacklistStatus: number;
  needsHttps: boolean;
  redirectTo: string | undefined;
  showAllUsersIncludesResellersAndAdmins: boolean;
  passwordPolicy: Required<Omit<PasswordPolicy, 'difficult'>> & { difficult: boolean };
  format: FormatOptions;
}

function normalizeIp(ip: string | undefined): string {
  if (!ip) return '';
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}

function policyOf(p: PasswordPolicy | undefined): Settings['passwordPolicy'] {
  return { minLength: p?.minLength ?? 5, maxLength: p?.maxLength ?? 256, difficult: p?.difficult ?? false };
}

function newStats(): SimulatorStats {
  return {
    requests: Object.create(null) as Record<string, number>,
    totalRequests: 0,
    inFlight: 0,
    maxInFlight: 0,
    processing: 0,
    maxProcessing: 0,
    failedLogins: 0,
    passwordChangesApplied: 0,
    connections: 0,
    faultsFired: Object.create(null) as Record<string, number>,
  };
}

/** Checks a new password the way DirectAdmin does; returns [text, details] of the error, or undefined. */
export function passwordProblem(pw: string, policy: Settings['passwordPolicy']): [string, string] | undefined {
  if (pw.length < policy.minLength) return [CANNOT_CHANGE, 'Password is too short'];
  if (pw.length > policy.maxLength) return [CANNOT_CHANGE, 'Password is too long'];
  for (let i = 0; i < pw.length; i++) {
    const c = pw.charCodeAt(i);
    if (c <= 32 || c >= 127) return [CANNOT_CHANGE, 'Invalid characters in password'];
  }
  if (policy.difficult) {
    const headline = 'Unable to satisfy difficult password check.';
    if (!/[a-z]/.test(pw) || !/[A-Z]/.test(pw)) return [headline, 'Password must have both upper and lower case characters'];
    if (!/[0-9]/.test(pw)) return [headline, 'Password must have numbers'];
    if (!/[^A-Za-z0-9]/.test(pw)) return [headline, 'Password must have at least one special character such as !@#%$ etc..'];
  }
  return undefined;
}

async function makeCertificate(altNames: string[]): Promise<{ key: string; cert: string }> {
  const selfsigned = await import('selfsigned');
  const generate = (selfsigned as { generate?: typeof selfsigned.generate }).generate ?? (selfsigned as unknown as { default: typeof selfsigned }).default.generate;
  const cn = altNames.find((n) => net.isIP(n) === 0) ?? altNames[0] ?? 'localhost';
  const pems = await generate([{ name: 'commonName', value: cn }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(Date.now() - 86400_000),
    notAfterDate: new Date(Date.now() + 365 * 86400_000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: altNames.map((n) => (net.isIP(n) ? { type: 7 as const, ip: n } : { type: 2 as const, value: n })) },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}

class SimulatorImpl implements Simulator {
  url = '';
  port = 0;
  readonly host: string;
  readonly tls: boolean;
  fingerprint256?: string;
  certPem?: string;
  readonly adminUser: string;
  readonly adminPassword: string;
  readonly stats: SimulatorStats = newStats();

  readonly #store: AccountStore;
  #settings: Settings;
  #faults: Faults = {};
  #faultCount = new Map<FaultName, number>();
  #rnd: () => number;
  #keys = new Map<string, StoredKey[]>();
  #failures = new Map<string, number>();
  #sockets = new Set<net.Socket>();
  #timers = new Set<NodeJS.Timeout>();
  #queue: Array<() => void> = [];
  #listCache = new Map<string, string>();
  #server!: http.Server | https.Server;
  #closed = false;

  constructor(options: SimulatorOptions) {
    this.host = options.host ?? '127.0.0.1';
    this.tls = options.tls ?? false;
    this.adminUser = options.adminUser ?? 'admin';
    this.adminPassword = options.adminPassword ?? randomPassword(24);
    const users = options.users ?? 50;
    if (!Number.isInteger(users) || users < 0 || users > 100_000) throw new RangeError('users must be an integer from 0 to 100000');
    const seed = options.seed ?? 1;
    this.#store = AccountStore.seeded({
      adminUser: this.adminUser,
      adminPassword: this.adminPassword,
      users,
      resellers: options.resellers ?? 3,
      extraAdmins: options.extraAdmins ?? 1,
      suspendedEvery: options.suspendedEvery ?? 10,
      seed,
      extraAccounts: options.extraAccounts ?? [],
    });
    this.#rnd = seededRandom((seed ^ 0x5eed5eed) >>> 0);
    this.#settings = {
      authFailure: options.authFailure ?? 'login-page',
      blacklistAfter: options.blacklistAfter ?? 5,
      blacklistStatus: options.blacklistStatus ?? 403,
      needsHttps: options.needsHttps ?? false,
      redirectTo: options.redirectTo,
      showAllUsersIncludesResellersAndAdmins: options.showAllUsersIncludesResellersAndAdmins ?? false,
      passwordPolicy: policyOf(options.passwordPolicy),
      format: { ...options.format },
    };
    this.setFaults(options.faults ?? {});
  }

  async listen(options: SimulatorOptions): Promise<void> {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
      this.#handle(req, res).catch(() => {
        if (!res.headersSent && !res.destroyed) this.#send(res, { status: 500, body: ERROR500_PAGE, type: 'text/html' });
        else res.destroy();
      });
    };
    if (this.tls) {
      const { key, cert } = await makeCertificate(options.tlsAltNames ?? ['localhost', '127.0.0.1', '::1']);
      this.certPem = cert;
      this.fingerprint256 = new X509Certificate(cert).fingerprint256;
      this.#server = https.createServer({ key, cert }, handler);
    } else {
      this.#server = http.createServer(handler);
    }
    const server = this.#server;
    server.keepAliveTimeout = 60_000;
    server.headersTimeout = 65_000;
    server.requestTimeout = 0;
    server.maxHeadersCount = 200;
    server.on('connection', (socket: net.Socket) => {
      this.stats.connections++;
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
      socket.on('error', () => undefined);
    });
    server.on('clientError', (_err, socket: net.Socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      else socket.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const addr = server.address() as net.AddressInfo;
    this.port = addr.port;
    const hostPart = net.isIPv6(this.host) ? `[${this.host}]` : this.host;
    this.url = `${this.tls ? 'https' : 'http'}://${hostPart}:${this.port}`;
  }

  // ---------------------------------------------------------------- public API

  resetStats(): void {
    const s = this.stats;
    for (const k of Object.keys(s.requests)) delete s.requests[k];
    for (const k of Object.keys(s.faultsFired)) delete s.faultsFired[k];
    s.totalRequests = 0;
    s.maxInFlight = s.inFlight;
    s.maxProcessing = s.processing;
    s.failedLogins = 0;
    s.passwordChangesApplied = 0;
    s.connections = 0;
  }

  setFaults(f: Faults): void {
    this.#faults = { ...f };
    this.#faultCount.clear();
    this.#pump();
  }

  setOptions(o: Partial<SimulatorOptions>): void {
    const s = this.#settings;
    if (o.authFailure !== undefined) s.authFailure = o.authFailure;
    if (o.blacklistAfter !== undefined) s.blacklistAfter = o.blacklistAfter;
    if (o.blacklistStatus !== undefined) s.blacklistStatus = o.blacklistStatus;
    if ('needsHttps' in o) s.needsHttps = o.needsHttps ?? false;
    if ('redirectTo' in o) s.redirectTo = o.redirectTo;
    if ('showAllUsersIncludesResellersAndAdmins' in o) s.showAllUsersIncludesResellersAndAdmins = o.showAllUsersIncludesResellersAndAdmins ?? false;
    if ('passwordPolicy' in o) s.passwordPolicy = policyOf(o.passwordPolicy);
    if ('format' in o) {
      s.format = { ...s.format, ...o.format };
      this.#listCache.clear();
    }
    if (o.faults !== undefined) this.setFaults(o.faults);
  }

  account(name: string): SimAccount | undefined {
    const a = this.#store.get(name);
    return a ? { ...a } : undefined;
  }

  accounts(): SimAccount[] {
    return this.#store.everyone.map((n) => ({ ...this.#store.get(n)! }));
  }

  password(name: string): string | undefined {
    return this.#store.get(name)?.password;
  }

  setPassword(name: string, pw: string): void {
    const a = this.#store.get(name);
    if (!a) throw new Error(`no simulator account ${name}`);
    a.password = pw;
  }

  addLoginKey(owner: string, key: LoginKeySpec): void {
    if (!this.#store.get(owner)) throw new Error(`no simulator account ${owner}`);
    const stored: StoredKey = { key: key.key, uses: 0 };
    if (key.commands) stored.commands = new Set(key.commands.map((c) => c.toUpperCase()));
    if (key.ips) stored.ips = new Set(key.ips.map(normalizeIp));
    if (key.maxUses !== undefined) stored.maxUses = key.maxUses;
    if (key.expiresAt) stored.expiresAt = key.expiresAt.getTime();
    const list = this.#keys.get(owner);
    if (list) list.push(stored);
    else this.#keys.set(owner, [stored]);
  }

  unblacklist(ip?: string): void {
    if (ip === undefined) this.#failures.clear();
    else this.#failures.delete(normalizeIp(ip));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.#queue.length = 0;
    const done = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeAllConnections();
    for (const s of this.#sockets) s.destroy();
    await done;
  }

  // ---------------------------------------------------------------- request handling

  #send(res: http.ServerResponse, a: Answer): void {
    if (res.destroyed || res.writableEnded) return;
    const headers: Record<string, string | number> = {
      'Content-Type': a.type,
      'Content-Length': Buffer.byteLength(a.body),
      'Cache-Control': 'no-cache',
      Server: 'DirectAdmin Daemon v1.680',
      ...a.headers,
    };
    res.writeHead(a.status, headers);
    res.end(a.body);
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.#timers.delete(t);
        resolve();
      }, ms);
      this.#timers.add(t);
    });
  }

  #readBody(req: http.IncomingMessage): Promise<string> {
    if (req.method === 'GET' || req.method === 'HEAD') {
      // Drain anything sent anyway, without waiting for it.
      req.resume();
      return Promise.resolve('');
    }
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY) {
          reject(new Error('body too large'));
          req.destroy();
          return;
        }
        chunks.push(c);
      });
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
      req.on('aborted', () => reject(new Error('aborted')));
    });
  }

  #enter(): Promise<void> | undefined {
    const cap = this.#faults.capacity;
    if (!cap || cap <= 0 || (this.stats.processing < cap && this.#queue.length === 0)) {
      this.#started();
      return undefined;
    }
    return new Promise<void>((resolve) => this.#queue.push(resolve));
  }

  #started(): void {
    const s = this.stats;
    s.processing++;
    if (s.processing > s.maxProcessing) s.maxProcessing = s.processing;
  }

  #leave(): void {
    this.stats.processing--;
    this.#pump();
  }

  #pump(): void {
    const cap = this.#faults.capacity;
    while (this.#queue.length > 0 && (!cap || cap <= 0 || this.stats.processing < cap)) {
      const next = this.#queue.shift()!;
      this.#started();
      next();
    }
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const s = this.stats;
    const q = req.url ?? '/';
    const qi = q.indexOf('?');
    const path = qi < 0 ? q : q.slice(0, qi);
    let command = path.replace(/^\/+/, '');
    try {
      command = decodeURIComponent(command);
    } catch {
      /* keep it raw */
    }
    s.requests[command] = (s.requests[command] ?? 0) + 1;
    s.totalRequests++;
    s.inFlight++;
    if (s.inFlight > s.maxInFlight) s.maxInFlight = s.inFlight;
    res.on('close', () => s.inFlight--);

    const set = this.#settings;
    if (set.redirectTo !== undefined) {
      req.resume();
      return this.#send(res, { status: 302, body: '', type: 'text/html', headers: { Location: set.redirectTo } });
    }
    if (set.needsHttps) {
      req.resume();
      return this.#send(res, { status: 200, body: 'use https', type: 'text/plain', headers: { 'X-Use-Https': 'yes' } });
    }
    const ip = normalizeIp(req.socket.remoteAddress);
    if (set.blacklistAfter > 0 && (this.#failures.get(ip) ?? 0) >= set.blacklistAfter) {
      req.resume();
      return this.#send(res, { status: set.blacklistStatus, body: BLACKLISTED_PAGE, type: 'text/html' });
    }

    let bodyText: string;
    try {
      bodyText = await this.#readBody(req);
    } catch {
      res.destroy();
      return;
    }
    const query = new URLSearchParams(qi < 0 ? '' : q.slice(qi + 1));
    const body = new URLSearchParams(bodyText);
    const param = (k: string): string | undefined => body.get(k) ?? query.get(k) ?? undefined;
    const json = param('json') === 'yes';

    const caller = this.#authenticate(req.headers.authorization, command, ip);
    if (!caller) {
      s.failedLogins++;
      this.#failures.set(ip, (this.#failures.get(ip) ?? 0) + 1);
      return this.#send(res, this.#authFailureAnswer());
    }

    const waiting = this.#enter();
    if (waiting) await waiting;
    let held = true;
    const release = () => {
      if (held) {
        held = false;
        this.#leave();
      }
    };
    try {
      if (res.destroyed) return;
      const latency = (this.#faults.latencyMs ?? 0) + (this.#faults.jitterMs ? this.#rnd() * this.#faults.jitterMs : 0);
      if (latency > 0) await this.#sleep(latency);
      if (this.#closed || res.destroyed) return;
      if (command === 'CMD_API_USER_PASSWD') {
        await this.#userPasswd(req, res, caller, param, json, release);
        return;
      }
      this.#send(res, this.#command(command, caller, req.method ?? 'GET', param, json));
    } finally {
      release();
    }
  }

  /** The account the request acts as, or undefined for a failed login. */
  #authenticate(header: string | undefined, command: string, ip: string): SimAccount | undefined {
    if (!header) return undefined;
    const m = /^\s*basic\s+(\S+)\s*$/i.exec(header);
    if (!m) return undefined;
    const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return undefined;
    const login = decoded.slice(0, colon);
    const secret = decoded.slice(colon + 1);
    const bar = login.indexOf('|');
    const realName = bar < 0 ? login : login.slice(0, bar);
    const real = this.#store.get(realName);
    if (!real || real.suspended || secret === '') return undefined;
    if (secret !== real.password && !this.#useKey(real.username, secret, command, ip)) return undefined;
    if (bar < 0) return real;
    const target = this.#store.get(login.slice(bar + 1));
    if (!target) return undefined;
    if (real.type === 'admin') return target;
    if (real.type === 'reseller' && target.creator === real.username) return target;
    return undefined;
  }

  #useKey(owner: string, secret: string, command: string, ip: string): boolean {
    const keys = this.#keys.get(owner);
    if (!keys) return false;
    const k = keys.find((x) => x.key === secret);
    if (!k) return false;
    if (k.expiresAt !== undefined && Date.now() >= k.expiresAt) return false;
    if (k.maxUses !== undefined && k.uses >= k.maxUses) return false;
    if (k.ips && !k.ips.has(ip)) return false;
    if (k.commands && !k.commands.has(command.toUpperCase())) return false;
    k.uses++;
    return true;
  }

  #authFailureAnswer(): Answer {
    switch (this.#settings.authFailure) {
      case 'evolution-page':
        return { status: 200, body: EVOLUTION_PAGE, type: 'text/html; charset=utf-8', headers: { 'X-DirectAdmin': 'unauthorized' } };
      case '401':
        return { status: 401, body: 'Unauthorized\n', type: 'text/plain', headers: { 'WWW-Authenticate': 'Basic realm="DirectAdmin"' } };
      case '401-json':
        return { status: 401, body: '{"type":"UNAUTHORIZED"}', type: 'application/json' };
      default:
        return { status: 200, body: LOGIN_PAGE, type: 'text/html; charset=utf-8', headers: { 'X-DirectAdmin': 'unauthorized' } };
    }
  }

  #api(json: boolean, body: string): Answer {
    return { status: 200, body, type: json ? 'application/json' : 'text/plain; charset=utf-8' };
  }

  #action(json: boolean, ok: boolean, text: string, details = ''): Answer {
    return this.#api(json, actionBody(json, ok, text, details, this.#settings.format));
  }

  #list(json: boolean, cacheKey: string, names: readonly string[]): Answer {
    const key = `${json ? 'j' : 'u'}|${cacheKey}`;
    let body = this.#listCache.get(key);
    if (body === undefined) {
      body = listBody(json, names, this.#settings.format);
      if (names.length >= 1000) this.#listCache.set(key, body);
    }
    return this.#api(json, body);
  }

  #command(command: string, caller: SimAccount, method: string, param: (k: string) => string | undefined, json: boolean): Answer {
    const store = this.#store;
    const isAdmin = caller.type === 'admin';
    switch (command) {
      case 'CMD_API_LOGIN_TEST':
        return this.#action(json, true, 'Login OK', '');
      case 'CMD_API_SHOW_USERS': {
        if (caller.type === 'user') return this.#action(json, false, NOT_ALLOWED);
        const reseller = param('reseller');
        if (reseller !== undefined && reseller !== '' && reseller !== caller.username) {
          if (!isAdmin) return this.#action(json, false, NOT_ALLOWED);
          const r = store.get(reseller);
          if (!r) return this.#action(json, false, NO_USER);
          return this.#list(json, `users:${reseller}`, store.usersOf(reseller));
        }
        return this.#list(json, `users:${caller.username}`, store.usersOf(caller.username));
      }
      case 'CMD_API_SHOW_ALL_USERS':
        if (!isAdmin) return this.#action(json, false, NOT_ALLOWED);
        return this.#settings.showAllUsersIncludesResellersAndAdmins ? this.#list(json, 'everyone', store.everyone) : this.#list(json, 'all', store.users);
      case 'CMD_API_SHOW_RESELLERS':
        if (!isAdmin) return this.#action(json, false, NOT_ALLOWED);
        return this.#list(json, 'resellers', store.resellers);
      case 'CMD_API_SHOW_ADMINS':
        if (!isAdmin) return this.#action(json, false, NOT_ALLOWED);
        return this.#list(json, 'admins', store.admins);
      case 'CMD_API_SHOW_USER_CONFIG': {
        const name = param('user') ?? '';
        const a = store.get(name);
        if (!a) return this.#action(json, false, NO_USER);
        if (!this.#mayManage(caller, a)) return this.#action(json, false, NOT_YOURS);
        return this.#api(json, keyValueBody(json, this.#config(a), this.#settings.format));
      }
      case 'CMD_API_USER_EXISTS': {
        if (!isAdmin) return this.#action(json, false, NOT_ALLOWED);
        const exists = store.get(param('user') ?? '') ? '1' : '0';
        return this.#api(json, json ? JSON.stringify({ exists }) : `error=0&exists=%3${exists}`);
      }
      case 'CMD_API_VERIFY_PASSWORD': {
        if (!isAdmin) return this.#action(json, false, NOT_ALLOWED);
        const a = store.get(param('user') ?? '');
        const pw = param('passwd');
        const valid = a && pw !== undefined && a.password === pw ? '1' : '0';
        return this.#api(json, keyValueBody(json, { valid }, this.#settings.format));
      }
      default:
        void method;
        return { status: 404, body: NOT_FOUND_PAGE, type: 'text/html' };
    }
  }

  #mayManage(caller: SimAccount, target: SimAccount): boolean {
    if (caller.type === 'admin') return true;
    if (target.username === caller.username) return true;
    return caller.type === 'reseller' && target.creator === caller.username;
  }

  #config(a: SimAccount): Record<string, string> {
    const keys = this.#keys.get(a.username);
    return {
      username: a.username,
      usertype: a.type,
      creator: a.creator,
      suspended: a.suspended ? 'yes' : 'no',
      account: 'ON',
      api_with_password: 'yes',
      bandwidth: 'unlimited',
      date_created: a.dateCreated,
      domain: a.domain,
      email: a.email,
      ip: '127.0.0.1',
      language: 'en',
      login_keys: keys && keys.length > 0 ? 'ON' : 'OFF',
      name: a.username,
      package: a.type === 'user' ? 'default' : 'custom',
      quota: 'unlimited',
      skin: 'evolution',
    };
  }

  #fault(name: FaultName, username: string): boolean {
    const f: FaultRate | undefined = this.#faults[name];
    if (!f) return false;
    const fired = this.#faultCount.get(name) ?? 0;
    if (f.limit !== undefined && fired >= f.limit) return false;
    const hit = (f.users?.includes(username) ?? false) || (f.rate !== undefined && f.rate > 0 && this.#rnd() < f.rate);
    if (!hit) return false;
    this.#faultCount.set(name, fired + 1);
    this.stats.faultsFired[name] = (this.stats.faultsFired[name] ?? 0) + 1;
    return true;
  }

  async #userPasswd(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    caller: SimAccount,
    param: (k: string) => string | undefined,
    json: boolean,
    release: () => void,
  ): Promise<void> {
    const no = (text: string, details: string) => this.#send(res, this.#action(json, false, text, details));
    if (req.method !== 'POST') return no(CANNOT_CHANGE, 'This command requires a POST request');
    if (caller.type === 'user') return no(CANNOT_CHANGE, NOT_ALLOWED);
    const username = param('username') ?? '';
    for (const name of FAULTS_BEFORE) {
      if (!this.#fault(name, username)) continue;
      if (name === 'hang') {
        // Hold the processing slot until the client gives up or the simulator closes.
        await new Promise<void>((resolve) => {
          if (res.destroyed) resolve();
          else res.once('close', () => resolve());
        });
        release();
        return;
      }
      if (name === 'resetBeforeApply') {
        req.socket.destroy();
        return;
      }
      return this.#send(res, { status: 500, body: ERROR500_PAGE, type: 'text/html' });
    }
    const passwd = param('passwd') ?? '';
    const passwd2 = param('passwd2') ?? '';
    if (passwd === '' || passwd2 === '') return no(CANNOT_CHANGE, 'You must enter the password in both fields');
    if (passwd !== passwd2) return no(CANNOT_CHANGE, 'Passwords do not match');
    const target = this.#store.get(username);
    if (!target) return no(CANNOT_CHANGE, NO_USER);
    if (!this.#mayManage(caller, target)) return no(CANNOT_CHANGE, NOT_YOURS);
    const problem = passwordProblem(passwd, this.#settings.passwordPolicy);
    if (problem) return no(problem[0], problem[1]);
    if (passwd === target.password) return no(CANNOT_CHANGE, "New password isn't different");
    target.password = passwd;
    this.stats.passwordChangesApplied++;
    for (const name of FAULTS_AFTER) {
      if (!this.#fault(name, username)) continue;
      if (name === 'resetAfterApply') {
        req.socket.destroy();
        return;
      }
      if (name === 'emptyAfterApply') return this.#send(res, { status: 200, body: '', type: 'text/html' });
      return this.#send(res, { status: 200, body: HTML_AFTER_APPLY, type: 'text/html' });
    }
    const text = target.suspended ? 'User password changed, however the account is still suspended' : 'Password Changed';
    this.#send(res, this.#action(json, true, text, ''));
  }
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const sim = new SimulatorImpl(options);
  await sim.listen(options);
  return sim;
}

export type {
  AuthFailureStyle,
  FaultName,
  FaultRate,
  Faults,
  LoginKeySpec,
  LoginKeySpec as LoginKey,
  PasswordPolicy,
  Simulator,
  SimulatorOptions,
  SimulatorStats,
} from './types.js';
