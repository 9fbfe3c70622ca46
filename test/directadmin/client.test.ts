import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { X509Certificate } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { generate } from 'selfsigned';
import {
  AuthenticationFailed,
  DirectAdminClient,
  RedirectRefused,
  TlsFailure,
  TransportError,
  UnexpectedAnswer,
  type RequestEvent,
} from '../../src/directadmin/index.js';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;
interface Seen {
  method: string;
  url: string;
  body: string;
  authorization: string;
}

function serve(server: Server): { url: (scheme: string) => Promise<string>; set: (h: Handler) => void; seen: Seen[] } {
  let handler: Handler = (_q, res) => res.end('error=0&text=Login%20OK');
  const seen: Seen[] = [];
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', body, authorization: req.headers.authorization ?? '' });
      handler(req, res, body);
    });
  });
  return {
    seen,
    set: (h) => (handler = h),
    url: (scheme) => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`))),
  };
}

describe('DirectAdminClient over HTTP', { timeout: 30_000 }, () => {
  const server = createHttpServer();
  const s = serve(server);
  let base = '';
  before(async () => (base = await s.url('http')));
  after(() => server.close());
  const client = (extra: Partial<ConstructorParameters<typeof DirectAdminClient>[0]> = {}) =>
    new DirectAdminClient({ baseUrl: base, username: 'admin', secret: 'S3cretAdminPw', timeoutMs: 2000, ...extra });

  it('authenticates with Basic, asks for JSON, and puts passwords only in POST bodies', async () => {
    s.seen.length = 0;
    s.set((_q, res) => res.end('{"success":"Password Changed","result":""}'));
    const c = client();
    assert.deepEqual(await c.changePassword('fred', 'NewPassw0rdXYZ'), { text: 'Password Changed', details: '' });
    s.set((_q, res) => res.end('{"valid":"1"}'));
    assert.equal(await c.verifyPassword('fred', 'NewPassw0rdXYZ'), true);
    await c.close();
    assert.equal(s.seen.length, 2);
    for (const r of s.seen) {
      assert.equal(r.method, 'POST');
      assert.ok(!r.url.includes('NewPassw0rd'), r.url);
      assert.ok(r.body.includes('NewPassw0rdXYZ'));
      assert.ok(new URLSearchParams(r.body).get('json') === 'yes');
      assert.equal(Buffer.from(r.authorization.replace('Basic ', ''), 'base64').toString(), 'admin:S3cretAdminPw');
    }
    const change = new URLSearchParams(s.seen[0]!.body);
    assert.equal(change.get('username'), 'fred');
    assert.equal(change.get('passwd'), change.get('passwd2'));
  });

  it('sends reads as GET with a query and can ask for url-encoded answers', async () => {
    s.seen.length = 0;
    s.set((_q, res) => res.end('list%5B%5D=a%31&list%5B%5D=b'));
    const c = client({ format: 'urlencoded' });
    assert.deepEqual(await c.showUsers('res1'), ['a1', 'b']);
    await c.close();
    assert.equal(s.seen[0]!.method, 'GET');
    assert.equal(s.seen[0]!.url, '/CMD_API_SHOW_USERS?reseller=res1');
  });

  it('refuses a login test that does not say Login OK', async () => {
    s.set((_q, res) => res.end('error=0&text=Something%20else'));
    const c = client();
    await assert.rejects(c.loginTest(), UnexpectedAnswer);
    await c.close();
  });

  it('stops at the first authentication failure and sends nothing after it', async () => {
    s.seen.length = 0;
    s.set((_q, res) => {
      res.setHeader('X-DirectAdmin', 'unauthorized');
      res.setHeader('content-type', 'text/html');
      res.end('<html><title>DirectAdmin Login</title></html>');
    });
    const events: RequestEvent[] = [];
    const c = client({ onRequest: (e) => events.push(e) });
    await assert.rejects(c.loginTest(), AuthenticationFailed);
    await assert.rejects(c.showUsers(), AuthenticationFailed);
    await assert.rejects(c.changePassword('fred', 'x'), AuthenticationFailed);
    await c.close();
    assert.equal(s.seen.length, 1);
    assert.ok(c.fatalError instanceof AuthenticationFailed);
    assert.equal(events.length, 1, 'one event per request actually sent');
  });

  it('never follows a redirect', async () => {
    s.seen.length = 0;
    s.set((_q, res) => {
      res.statusCode = 302;
      res.setHeader('location', 'https://elsewhere.example/CMD_API_LOGIN_TEST?token=abc');
      res.end();
    });
    const c = client();
    await assert.rejects(c.loginTest(), (e: unknown) => e instanceof RedirectRefused && !e.message.includes('token'));
    await c.close();
    assert.equal(s.seen.length, 1);
  });

  it('refuses answers over the size cap without buffering them whole', async () => {
    s.set((_q, res) => {
      res.write('list[]=' + 'a'.repeat(64 * 1024));
      // keeps streaming: the client must hang up rather than buffer forever
      const timer = setInterval(() => res.write('a'.repeat(64 * 1024)), 5);
      res.on('close', () => clearInterval(timer));
    });
    const c = client({ maxBodyBytes: 256 * 1024 });
    await assert.rejects(c.showUsers(), (e: unknown) => e instanceof UnexpectedAnswer && /larger than/.test(e.message));
    await c.close();
  });

  it('reports a connection reset after sending as a transport error that may have written', async () => {
    s.set((req) => req.socket.destroy());
    const c = client();
    await assert.rejects(
      c.changePassword('fred', 'Pw123456789012'),
      (e: unknown) => e instanceof TransportError && e.retryable && e.mayHaveWritten && !e.message.includes('Pw1234'),
    );
    await c.close();
  });

  it('times out a hung request', async () => {
    s.set(() => undefined);
    const c = client({ timeoutMs: 200 });
    await assert.rejects(c.changePassword('fred', 'Pw123456789012'), (e: unknown) => e instanceof TransportError && e.mayHaveWritten);
    await c.close();
  });

  it('knows a refused connection never sent anything', async () => {
    const c = new DirectAdminClient({ baseUrl: 'http://127.0.0.1:1', username: 'a', secret: 'b', timeoutMs: 1000 });
    await assert.rejects(c.changePassword('fred', 'x'), (e: unknown) => e instanceof TransportError && !e.mayHaveWritten);
    await c.close();
  });

  it('refuses plain http to a non-loopback host unless allowed', () => {
    assert.throws(() => new DirectAdminClient({ baseUrl: 'http://203.0.113.5:2222', username: 'a', secret: 'b' }), /--allow-http/);
    const c = new DirectAdminClient({ baseUrl: 'http://203.0.113.5:2222', username: 'a', secret: 'b', allowHttp: true });
    void c.close();
  });
});

describe('DirectAdminClient over HTTPS', { timeout: 30_000 }, async () => {
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
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
  });
  const fingerprint = new X509Certificate(pems.cert).fingerprint256;
  const server = createHttpsServer({ key: pems.private, cert: pems.cert });
  const s = serve(server);
  let base = '';
  before(async () => (base = await s.url('https')));
  after(() => server.close());
  const attempt = async (tls: ConstructorParameters<typeof DirectAdminClient>[0]['tls'], url = base) => {
    const c = new DirectAdminClient({ baseUrl: url, username: 'admin', secret: 'pw', tls, timeoutMs: 2000 });
    try {
      return await c.loginTest();
    } finally {
      await c.close();
    }
  };

  it('refuses a self-signed certificate by default and shows its fingerprint', async () => {
    s.seen.length = 0;
    await assert.rejects(
      attempt({}),
      (e: unknown) => e instanceof TlsFailure && e.fatal && e.message.includes(fingerprint) && e.message.includes('--fingerprint'),
    );
    assert.equal(s.seen.length, 0, 'no request may be sent over an unverified connection');
  });

  it('accepts the pinned fingerprint in any notation', async () => {
    assert.equal((await attempt({ fingerprint })).text, 'Login OK');
    assert.equal((await attempt({ fingerprint: fingerprint.replace(/:/g, '').toLowerCase() })).text, 'Login OK');
  });

  it('refuses a wrong fingerprint and shows the right one', async () => {
    await assert.rejects(
      attempt({ fingerprint: 'AA:'.repeat(31) + 'AA' }),
      (e: unknown) => e instanceof TlsFailure && e.reason === 'FINGERPRINT_MISMATCH' && e.message.includes(fingerprint),
    );
  });

  it('trusts a given CA and still checks the host name', async () => {
    assert.equal((await attempt({ ca: pems.cert })).text, 'Login OK');
    const port = new URL(base).port;
    await assert.rejects(attempt({ ca: pems.cert }, `https://127.0.0.2:${port}`), (e: unknown) => e instanceof TlsFailure || e instanceof TransportError);
  });

  it('skips verification only with insecure', async () => {
    assert.equal((await attempt({ insecure: true })).text, 'Login OK');
  });
});
