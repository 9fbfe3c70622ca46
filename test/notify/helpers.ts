import { Writable, PassThrough } from 'node:stream';
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { generate } from 'selfsigned';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { stringify } from 'csv-stringify/sync';
import { privateStateEnv } from '../private-state.js';

export interface Received {
  from: string;
  to: string[];
  raw: string;
}

export interface SmtpOptions {
  user?: string;
  pass?: string;
  /** No STARTTLS at all (a server that would receive everything in clear). */
  hideStartTls?: boolean;
  /** Called with each message before it is accepted; return false to keep it unanswered (the test kills the client). */
  beforeAccept?: (m: Received, index: number) => boolean;
}

export interface TestSmtp {
  port: number;
  cert: string;
  received: Received[];
  /** Messages whose DATA arrived, accepted or not. */
  arrived: number;
  authFailures: number;
  close(): Promise<void>;
  /** Resolves when `n` messages have arrived. */
  arrivedCount(n: number): Promise<void>;
}

let certCache: Promise<{ key: string; cert: string }> | undefined;
function cert() {
  certCache ??= generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    extensions: [
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  }).then((p) => ({ key: p.private, cert: p.cert }));
  return certCache;
}

/** A real SMTP server in-process: STARTTLS (self-signed certificate) and AUTH PLAIN/LOGIN required. */
export async function startSmtp(o: SmtpOptions = {}): Promise<TestSmtp> {
  const { key, cert: certPem } = await cert();
  const user = o.user ?? 'mailer';
  const pass = o.pass ?? 'Smtp-Secret-42';
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const state: TestSmtp = {
    port: 0,
    cert: certPem,
    received: [],
    arrived: 0,
    authFailures: 0,
    close: () => new Promise<void>((r) => server.close(() => r())),
    arrivedCount: (n) => (state.arrived >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve }))),
  };
  const server = new SMTPServer({
    key,
    cert: certPem,
    secure: false,
    hideSTARTTLS: o.hideStartTls ?? false,
    disabledCommands: o.hideStartTls ? ['STARTTLS'] : [],
    authMethods: ['PLAIN', 'LOGIN'],
    allowInsecureAuth: o.hideStartTls ?? false,
    logger: false,
    onAuth(auth, _session, cb) {
      if (auth.username === user && auth.password === pass) return cb(null, { user });
      state.authFailures++;
      return cb(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
    },
    onData(stream, session: SMTPServerSession, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const m: Received = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        };
        const index = state.arrived++;
        for (const w of waiters.filter((x) => state.arrived >= x.n)) w.resolve();
        if (o.beforeAccept && !o.beforeAccept(m, index)) return; // never answered
        state.received.push(m);
        cb();
      });
    },
  });
  server.on('error', () => undefined);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  state.port = (server as unknown as { server: { address(): AddressInfo } }).server.address().port;
  return state;
}

/** Decodes a received message's text body (quoted-printable or 7bit) for assertions. */
export function bodyOf(raw: string): string {
  const sep = raw.indexOf('\r\n\r\n') >= 0 ? '\r\n\r\n' : '\n\n';
  const headers = raw.slice(0, raw.indexOf(sep));
  let body = raw.slice(raw.indexOf(sep) + sep.length);
  if (/Content-Transfer-Encoding:\s*quoted-printable/i.test(headers)) {
    body = body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
    body = Buffer.from(body, 'latin1').toString('utf8');
  } else if (/Content-Transfer-Encoding:\s*base64/i.test(headers)) {
    body = Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  }
  return body;
}

export const REPORT_HEADER = [
  'server',
  'username',
  'kind',
  'credential',
  'status',
  'password',
  'attempts',
  'verified',
  'error',
  'started_at',
  'finished_at',
  'details',
];

export type Row = [username: string, kind: string, credential: string, status: string, password: string];

export function reportCsv(server: string, rows: Row[]): string {
  return stringify(
    rows.map(([u, kind, cred, status, pw]) => [server, u, kind, cred, status, pw, '1', 'no', '', '', '', '']),
    { header: true, columns: REPORT_HEADER },
  );
}

export function writeReport(path: string, server: string, rows: Row[]): void {
  writeFileSync(path, reportCsv(server, rows), { mode: 0o600 });
}

/** Captures what the CLI code writes to stdout/stderr; stdin is not a terminal unless asked. */
export function testIo(env: Record<string, string | undefined>, opts: { tty?: boolean; input?: string } = {}) {
  let out = '';
  let err = '';
  const stdout = new Writable({ write: (c, _e, cb) => ((out += String(c)), cb()) });
  const stderr = Object.assign(new Writable({ write: (c, _e, cb) => ((err += String(c)), cb()) }), { isTTY: opts.tty === true });
  const stdin = Object.assign(new PassThrough(), { isTTY: opts.tty === true });
  if (opts.input !== undefined) stdin.end(opts.input);
  return {
    io: { env: { ...privateStateEnv(), ...env }, stdin, stdout, stderr, handleSignals: false },
    stdout: () => out,
    stderr: () => err,
  };
}
