/**
 * The DirectAdmin simulator: an HTTP(S) server speaking the legacy CMD_API_* protocol and the
 * parts of the JSON API an incident sweep uses, with the formats and quirks described in the
 * shared protocol notes, plus switchable faults on any command.
 *
 * Order per request: count stats -> redirectTo -> needsHttps -> blacklist -> auth -> capacity
 * queue -> latency (degrading mode) -> faults before apply -> command -> faults after apply
 * (reset, empty, HTML, trickle) -> answer.
 *
 * This file is the HTTP plumbing and the public API; the commands live in legacy.ts (accounts),
 * domains.ts (domains, mailboxes, FTP, legacy login keys), jsonapi.ts (/api/...), auth in
 * auth.ts, load in load.ts, fault selection in faults.ts, writing answers in transport.ts, pages
 * in pages.ts, settings in context.ts, the certificate in certificate.ts.
 *
 * Choices where DirectAdmin's behaviour is not documented:
 * - An unknown command (after a successful login) answers HTTP 404, text/html; so does every
 *   /api/ path when `jsonApi: false`.
 * - A suspended account cannot log in.
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { X509Certificate, randomInt } from 'node:crypto';
import { AccountStore, seededRandom, type SimAccount } from './accounts.js';
import { authenticate, Blacklist, KEY_DENIED } from './auth.js';
import { makeCertificate } from './certificate.js';
import { applyOptions, settingsFrom, type Request, type Settings, type State } from './context.js';
import { CredentialStore, dbUserViews, ftpViews, keyView, mailboxViews, normalizeIp } from './credentials.js';
import { domainCommand } from './domains.js';
import { FAULTS_AFTER, FAULTS_BEFORE, FaultInjector, isWrite, type FaultTarget } from './faults.js';
import { jsonApiRequest, keyNamesFor, loginKeyCommands, openLoginUrl, resolveRoute, type Route } from './jsonapi.js';
import { accountCommand, ListCache } from './legacy.js';
import { Load } from './load.js';
import { readBody, Transport } from './transport.js';
import { BLACKLISTED_PAGE, ERROR500_PAGE, HTML_AFTER_APPLY, authFailureAnswer, keyDeniedAnswer, noJsonApiAnswer, notFound } from './pages.js';
import type {
  Faults,
  LoginKeySpec,
  SimDbUser,
  SimFtpAccount,
  SimLoginKey,
  SimLoginUrl,
  SimMailbox,
  SimSession,
  Simulator,
  SimulatorOptions,
  SimulatorStats,
} from './types.js';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function randomPassword(n = 24): string {
  let s = '';
  for (let i = 0; i < n; i++) s += ALNUM[randomInt(ALNUM.length)];
  return s;
}

export { LOGIN_PAGE, EVOLUTION_PAGE } from './pages.js';
export { passwordProblem } from './legacy.js';

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
    credentialChangesApplied: 0,
    loginKeysRevoked: 0,
    answered: 0,
    answerMsTotal: 0,
    connections: 0,
    faultsFired: Object.create(null) as Record<string, number>,
  };
}

const count = (n: number | undefined, name: string, def: number): number => {
  const v = n ?? def;
  if (!Number.isInteger(v) || v < 0 || v > 1000) throw new RangeError(`${name} must be an integer from 0 to 1000`);
  return v;
};

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
  readonly #creds: CredentialStore;
  readonly #settings: Settings;
  readonly #state: State;
  readonly #faults: FaultInjector;
  readonly #load: Load;
  readonly #blacklist = new Blacklist();
  readonly #lists = new ListCache();
  readonly #loginUrls: SimLoginUrl[] = [];
  readonly #sockets = new Set<net.Socket>();
  readonly #io = new Transport();
  #server!: http.Server | https.Server;

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
    this.#creds = new CredentialStore(this.#store, {
      seed,
      mailboxesPerDomain: count(options.mailboxesPerDomain, 'mailboxesPerDomain', 2),
      ftpPerDomain: count(options.ftpPerDomain, 'ftpPerDomain', 1),
      dbUsersPerUser: count(options.dbUsersPerUser, 'dbUsersPerUser', 0),
      loginKeysPerUser: count(options.loginKeysPerUser, 'loginKeysPerUser', 0),
      sessionsPerUser: count(options.sessionsPerUser, 'sessionsPerUser', 0),
      hostileNames: new Set(options.hostileNames ?? []),
    });
    const rnd = seededRandom((seed ^ 0x5eed5eed) >>> 0);
    this.#settings = settingsFrom(options);
    this.#faults = new FaultInjector(rnd, this.stats.faultsFired);
    this.#load = new Load(this.stats, () => this.#faults.faults, rnd);
    this.#state = {
      store: this.#store,
      creds: this.#creds,
      settings: this.#settings,
      stats: this.stats,
      loginUrls: this.#loginUrls,
      baseUrl: () => this.url,
    };
    this.setFaults(options.faults ?? {});
  }

  async listen(options: SimulatorOptions): Promise<void> {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
      this.#handle(req, res).catch(() => {
        if (!res.headersSent && !res.destroyed) this.#io.send(res, { status: 500, body: ERROR500_PAGE, type: 'text/html' });
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
    s.credentialChangesApplied = 0;
    s.loginKeysRevoked = 0;
    s.connections = 0;
  }

  setFaults(f: Faults): void {
    this.#faults.set(f);
    this.#load.pump();
  }

  setOptions(o: Partial<SimulatorOptions>): void {
    applyOptions(this.#settings, o);
    if ('format' in o) this.#lists.clear();
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

  addLoginKey(owner: string, key: LoginKeySpec): string {
    if (!this.#store.get(owner)) throw new Error(`no simulator account ${owner}`);
    return this.#creds.addKey(owner, key).name;
  }

  unblacklist(ip?: string): void {
    this.#blacklist.clear(ip === undefined ? undefined : normalizeIp(ip));
  }

  domains(user: string): string[] {
    return this.#creds.of(user)?.domains.map((d) => d.name) ?? [];
  }

  mailboxes(user: string): SimMailbox[] {
    const c = this.#creds.of(user);
    return c ? mailboxViews(c) : [];
  }

  mailboxPassword(address: string): string | undefined {
    const at = address.lastIndexOf('@');
    if (at < 0) return undefined;
    const local = address.slice(0, at);
    const domain = address.slice(at + 1);
    const owner = this.#creds.likelyOwner(domain);
    const d = owner === undefined ? undefined : this.#creds.domain(owner, domain);
    if (d) return d.mailboxes.get(local)?.password;
    for (const name of this.#store.everyone) {
      const d = this.#creds.domain(name, domain);
      if (d) return d.mailboxes.get(local)?.password;
    }
    return undefined;
  }

  ftpAccounts(user: string): SimFtpAccount[] {
    const c = this.#creds.of(user);
    return c ? ftpViews(c) : [];
  }

  loginKeys(user: string): SimLoginKey[] {
    return this.#creds.of(user)?.keys.map(keyView) ?? [];
  }

  sessions(user: string): SimSession[] {
    return this.#creds.of(user)?.sessions.map((x) => ({ ...x, created: new Date(x.created), expires: new Date(x.expires) })) ?? [];
  }

  dbUsers(user: string): SimDbUser[] {
    const c = this.#creds.of(user);
    return c ? dbUserViews(user, c) : [];
  }

  loginUrls(): SimLoginUrl[] {
    return this.#loginUrls.map((u) => ({ ...u, allowNetworks: [...u.allowNetworks] }));
  }

  async close(): Promise<void> {
    if (this.#io.closed) return;
    this.#io.close();
    this.#load.clear();
    const done = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeAllConnections();
    for (const s of this.#sockets) s.destroy();
    await done;
  }

  // ---------------------------------------------------------------- request handling

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    // A request's latency runs from its arrival: the simulator's own parsing and bookkeeping are
    // part of it, not added to it (a "20 ms" server answers 20 ms after the request came in).
    const arrived = performance.now();
    const s = this.stats;
    const q = req.url ?? '/';
    const qi = q.indexOf('?');
    let path = qi < 0 ? q : q.slice(0, qi);
    try {
      path = decodeURIComponent(path);
    } catch {
      /* keep it raw */
    }
    const isApi = path.startsWith('/api/');
    const route: Route | undefined = isApi ? resolveRoute(path) : undefined;
    const command = route ? route.route : path.replace(/^\/+/, '');
    s.requests[command] = (s.requests[command] ?? 0) + 1;
    s.totalRequests++;
    s.inFlight++;
    if (s.inFlight > s.maxInFlight) s.maxInFlight = s.inFlight;
    res.on('close', () => s.inFlight--);

    const set = this.#settings;
    if (set.redirectTo !== undefined) {
      req.resume();
      return this.#io.send(res, { status: 302, body: '', type: 'text/html', headers: { Location: set.redirectTo } });
    }
    if (set.needsHttps) {
      req.resume();
      return this.#io.send(res, { status: 200, body: 'use https', type: 'text/plain', headers: { 'X-Use-Https': 'yes' } });
    }
    const ip = normalizeIp(req.socket.remoteAddress);
    if (this.#blacklist.isBlacklisted(ip, set.blacklistAfter)) {
      req.resume();
      return this.#io.send(res, { status: set.blacklistStatus, body: BLACKLISTED_PAGE, type: 'text/html' });
    }

    let bodyText: string;
    try {
      bodyText = await readBody(req);
    } catch {
      res.destroy();
      return;
    }
    const query = new URLSearchParams(qi < 0 ? '' : q.slice(qi + 1));
    const body = new URLSearchParams(isApi ? '' : bodyText);
    const param = (k: string): string | undefined => body.get(k) ?? query.get(k) ?? undefined;
    const json = param('json') === 'yes';
    const method = req.method ?? 'GET';

    if (route?.route === '/api/login/url' && set.jsonApi && method === 'GET') return this.#io.send(res, openLoginUrl(this.#state, query.get('key') ?? '', ip));
    if (route?.route === '/api/login-keys/commands' && set.jsonApi && method === 'GET') return this.#io.send(res, loginKeyCommands());

    const caller = authenticate(req.headers.authorization, route ? keyNamesFor(route.route) : [command.toUpperCase()], ip, this.#store, this.#creds, set);
    if (caller === KEY_DENIED) {
      // keyRefusal '403' / 'refusal': the key is valid but does not allow this command. Not a failed login.
      return this.#io.send(res, keyDeniedAnswer(set.keyRefusal, isApi && set.jsonApi, json, set.format));
    }
    if (!caller) {
      s.failedLogins++;
      this.#blacklist.fail(ip);
      return this.#io.send(res, authFailureAnswer(set.authFailure, isApi && set.jsonApi, json));
    }

    const waiting = this.#load.enter();
    if (waiting) await waiting;
    // Time spent queued for capacity is not processing time: the latency starts when processing does.
    const processingFrom = waiting ? performance.now() : arrived;
    try {
      if (res.destroyed) return;
      const latency = this.#load.latency();
      const due = processingFrom + latency;
      if (latency > 0) await this.#io.sleepUntil(due);
      if (this.#io.closed || res.destroyed) return;
      if (isApi && !set.jsonApi) return this.#io.send(res, noJsonApiAnswer(set.noJsonApiAnswer));
      let all: URLSearchParams | undefined;
      const params = () => (all ??= new URLSearchParams([...body, ...query]));
      const r: Request = { method, command, path, param, params, json, bodyText, caller, ip };
      const target: FaultTarget = { command, path, write: isWrite(command, method, param('action')), targets: this.#targets(r, route) };
      for (const name of FAULTS_BEFORE) {
        if (!this.#faults.fires(name, target)) continue;
        if (name === 'hang') return await this.#io.untilClosed(res);
        if (name === 'resetBeforeApply') return void req.socket.destroy();
        return this.#io.send(res, { status: 500, body: ERROR500_PAGE, type: 'text/html' });
      }
      const answer = route
        ? jsonApiRequest(this.#state, r, route)
        : (accountCommand(this.#state, this.#lists, r) ?? domainCommand(this.#state, r) ?? notFound());
      if (answer.applied !== false) {
        for (const name of FAULTS_AFTER) {
          if (!this.#faults.fires(name, target)) continue;
          if (name === 'resetAfterApply') return void req.socket.destroy();
          if (name === 'emptyAfterApply') return this.#io.send(res, { status: 200, body: '', type: 'text/html' });
          return this.#io.send(res, { status: 200, body: HTML_AFTER_APPLY, type: 'text/html' });
        }
      }
      // Slowness does not depend on what was applied: a refusal trickles too.
      if (this.#faults.fires('trickle', target)) return await this.#io.trickle(res, answer, this.#faults.faults.trickle!);
      this.#io.send(res, answer);
      if (latency > 0) this.#io.answered(due);
      s.answered++;
      s.answerMsTotal += performance.now() - arrived;
    } finally {
      this.#load.leave();
    }
  }

  /** The account and credential names a request acts on (what FaultRate.users matches). */
  #targets(r: Request, route: Route | undefined): string[] {
    const me = r.caller.effective.username;
    if (route) return route.param === undefined ? [me] : [me, route.param];
    switch (r.command) {
      case 'CMD_API_USER_PASSWD':
        return [r.param('username') ?? ''];
      case 'CMD_API_VERIFY_PASSWORD':
      case 'CMD_API_SHOW_USER_CONFIG':
      case 'CMD_API_USER_EXISTS':
      case 'CMD_API_SHOW_USER_DOMAINS':
        return [r.param('user') ?? ''];
      case 'CMD_API_POP':
      case 'CMD_API_FTP':
      case 'CMD_API_FTP_SHOW': {
        const user = r.param('user');
        const domain = r.param('domain') ?? '';
        if (user === undefined) return [me, domain];
        return [me, user.includes('@') ? user : `${user}@${domain}`];
      }
      case 'CMD_API_LOGIN_KEYS':
        return [me, ...[...r.params()].filter(([k]) => /^select\d+$/.test(k)).map(([, v]) => v)];
      default:
        return [me];
    }
  }
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const sim = new SimulatorImpl(options);
  await sim.listen(options);
  return sim;
}

export type {
  AuthFailureStyle,
  DegradeMode,
  FaultName,
  FaultRate,
  Faults,
  LoginKeySpec,
  LoginKeySpec as LoginKey,
  PasswordPolicy,
  SimDbUser,
  SimFtpAccount,
  SimLoginKey,
  SimLoginUrl,
  SimMailbox,
  SimSession,
  Simulator,
  SimulatorOptions,
  SimulatorStats,
  TrickleFault,
} from './types.js';
