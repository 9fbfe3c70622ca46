import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { ServerResponse } from 'node:http';
import { generate } from 'selfsigned';
import {
  AuthenticationFailed,
  CommandFailed,
  IpBlacklisted,
  NeedsHttps,
  PermissionDenied,
  RedirectRefused,
  TlsFailure,
  TransportError,
  UnexpectedAnswer,
  type RequestEvent,
} from '../../src/directadmin/index.js';
import { client, startServer, type TestServer } from './helpers.js';

/** Headers at once, then one byte every `everyMs`: never idle long enough for an inactivity timeout. */
function trickle(res: ServerResponse, everyMs = 50): void {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.write('e');
  const timer = setInterval(() => res.write('r'), everyMs);
  res.on('close', () => clearInterval(timer));
}

describe('whole-request deadline and abandon', { timeout: 30_000 }, () => {
  let s: TestServer;
  before(async () => (s = await startServer()));
  after(() => s.close());

  it('ends a trickling answer at the deadline as DEADLINE_EXCEEDED that may have written', async () => {
    s.set((_q, res) => trickle(res));
    const events: RequestEvent[] = [];
    const c = client(s.base, { timeoutMs: 400, onRequest: (e) => events.push(e) });
    await assert.rejects(c.changePassword('fred', 'Pw123456789012'), (e: unknown) => {
      assert.ok(e instanceof TransportError, String(e));
      assert.equal(e.code, 'DA_TRANSPORT');
      assert.equal(e.transportCode, 'DEADLINE_EXCEEDED');
      assert.equal(e.mayHaveWritten, true);
      assert.equal(e.retryable, true);
      assert.equal(e.fatal, false);
      assert.match(e.message, new RegExp(`127\\.0\\.0\\.1:${s.port}`));
      assert.match(e.message, /request deadline of 0\.4 s/);
      assert.ok(!e.message.includes('Pw1234'));
      return true;
    });
    await c.close();
    assert.equal(events.length, 1);
    assert.equal(events[0]!.status, 200);
    assert.ok(events[0]!.error instanceof TransportError);
  });

  it('ends a request whose answer never starts at the deadline', async () => {
    s.set(() => undefined);
    const c = client(s.base, { timeoutMs: 300 });
    await assert.rejects(c.showUsers(), (e: unknown) => e instanceof TransportError && e.transportCode === 'DEADLINE_EXCEEDED' && e.mayHaveWritten);
    await c.close();
  });

  it('says a request queued behind a stuck one was never sent only when the server never saw it', async () => {
    s.seen.length = 0;
    s.set((_q, res) => trickle(res));
    const c = client(s.base, { timeoutMs: 400, connections: 1 });
    const [first, second] = await Promise.allSettled([c.changePassword('fred', 'Pw1aaaaaaaaaaaa'), c.changePassword('bob', 'Pw2bbbbbbbbbbbb')]);
    await c.close();
    assert.equal(first.status, 'rejected');
    assert.equal(second.status, 'rejected');
    const a = first.reason as TransportError;
    const b = second.reason as TransportError;
    assert.equal(a.transportCode, 'DEADLINE_EXCEEDED');
    assert.equal(a.mayHaveWritten, true);
    assert.equal(b.transportCode, 'DEADLINE_EXCEEDED');
    // The second one's deadline may pass while it waits for the socket, or just after undici hands
    // it a fresh one: either way "not sent" must mean the server never saw it.
    const bobSeen = s.seen.some((r) => r.body.includes('username=bob'));
    if (!b.mayHaveWritten) assert.equal(bobSeen, false);
    if (bobSeen) assert.equal(b.mayHaveWritten, true);
  });

  it('abandons in-flight requests at once when the signal aborts, and refuses later ones without sending', async () => {
    const stop = new AbortController();
    const c = client(s.base, { timeoutMs: 60_000, signal: stop.signal, connections: 4 });
    // The first request of a command goes alone until an answer proves the login may use it.
    s.set((_q, res) => res.end('error=0&text=Password%20Changed'));
    await c.changePassword('ann', 'Pw0aaaaaaaaaaaa');
    s.seen.length = 0;
    let arrived!: () => void;
    const bothArrived = new Promise<void>((resolve) => (arrived = resolve));
    s.set((_q, res) => {
      if (s.seen.length === 2) arrived();
      if (s.seen.length === 1) res.writeHead(200).write('err'); // headers sent, body stalls
    });
    const stalledBody = c.changePassword('fred', 'Pw1aaaaaaaaaaaa');
    const noHeaders = c.changePassword('bob', 'Pw2bbbbbbbbbbbb');
    await bothArrived;
    stop.abort();
    for (const p of [stalledBody, noHeaders]) {
      await assert.rejects(
        p,
        (e: unknown) =>
          e instanceof TransportError &&
          e.transportCode === 'ABANDONED' &&
          e.mayHaveWritten &&
          !e.retryable &&
          /abandoned because the run is stopping/.test(e.message),
      );
    }
    await assert.rejects(c.loginTest(), (e: unknown) => e instanceof TransportError && e.transportCode === 'ABANDONED' && !e.mayHaveWritten);
    assert.equal(s.seen.length, 2, 'nothing is sent after the abort');
    await c.close();
  });

  it('abandons a request still queued as never sent', async () => {
    s.seen.length = 0;
    let arrived!: () => void;
    const first = new Promise<void>((resolve) => (arrived = resolve));
    s.set(() => arrived());
    const stop = new AbortController();
    const c = client(s.base, { timeoutMs: 60_000, signal: stop.signal, connections: 1 });
    const a = c.changePassword('fred', 'Pw1aaaaaaaaaaaa');
    const b = c.changePassword('bob', 'Pw2bbbbbbbbbbbb');
    await first;
    stop.abort();
    await assert.rejects(a, (e: unknown) => e instanceof TransportError && e.transportCode === 'ABANDONED' && e.mayHaveWritten);
    await assert.rejects(b, (e: unknown) => e instanceof TransportError && e.transportCode === 'ABANDONED' && !e.mayHaveWritten);
    assert.equal(s.seen.length, 1);
    await c.close();
  });
});

describe('transport messages name host:port and what to check', { timeout: 30_000 }, () => {
  it('connection refused: host, port, and "is DirectAdmin running"', async () => {
    const s = await startServer();
    const port = s.port;
    await s.close();
    const c = client(`http://127.0.0.1:${port}`);
    await assert.rejects(c.changePassword('fred', 'x'), (e: unknown) => {
      assert.ok(e instanceof TransportError);
      assert.equal(e.transportCode, 'ECONNREFUSED');
      assert.equal(e.mayHaveWritten, false);
      assert.equal(e.endpoint, `127.0.0.1:${port}`);
      assert.match(e.message, new RegExp(`connection refused at 127\\.0\\.0\\.1:${port}: is DirectAdmin running, is the port right`));
      return true;
    });
    await c.close();
  });

  it('a host that does not resolve is named', async () => {
    const c = client('http://no-such-host.invalid:2222', { allowHttp: true });
    await assert.rejects(c.loginTest(), (e: unknown) => {
      assert.ok(e instanceof TransportError, String(e));
      assert.ok(['ENOTFOUND', 'EAI_AGAIN'].includes(e.transportCode), e.transportCode);
      assert.equal(e.mayHaveWritten, false);
      assert.match(e.message, /no-such-host\.invalid/);
      return true;
    });
    await c.close();
  });

  it('http:// to a TLS port says the server answers TLS: use https://', async () => {
    const pems = await generate([{ name: 'commonName', value: 'localhost' }], { keyType: 'ec' });
    const s = await startServer(undefined, createHttpsServer({ key: pems.private, cert: pems.cert }), 'https');
    const c = client(`http://127.0.0.1:${s.port}`);
    await assert.rejects(c.loginTest(), (e: unknown) => {
      assert.ok(e instanceof NeedsHttps, String(e));
      assert.equal(e.code, 'DA_NEEDS_HTTPS');
      assert.equal(e.evidence, 'tls-port');
      assert.equal(e.fatal, true);
      assert.equal(e.mayHaveWritten, false);
      assert.match(
        e.message,
        new RegExp(
          `needs https:// \\(CMD_API_LOGIN_TEST\\): the server answers TLS on 127\\.0\\.0\\.1:${s.port}, not plain HTTP: use https://127\\.0\\.0\\.1:${s.port}$`,
        ),
      );
      return true;
    });
    await assert.rejects(c.showUsers(), NeedsHttps, 'fatal: nothing more is sent');
    await c.close();
    await s.close();
  });

  it('https:// to a plain-HTTP port says the server speaks plain HTTP', async () => {
    const s = await startServer();
    const c = client(`https://127.0.0.1:${s.port}`);
    await assert.rejects(c.loginTest(), (e: unknown) => {
      assert.ok(e instanceof TlsFailure, String(e));
      assert.equal(e.code, 'DA_TLS');
      assert.match(e.message, new RegExp(`127\\.0\\.0\\.1:${s.port}`));
      assert.match(e.message, /speaks plain HTTP .*use http:\/\/ \(loopback only\) or fix the port/);
      return true;
    });
    assert.equal(s.seen.length, 0);
    await c.close();
    await s.close();
  });

  it('garbage on an http:// port that is not TLS either stays a transport error naming the port', async () => {
    const sockets = new Set<import('node:net').Socket>();
    const garbage: NetServer = createNetServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.end('\x00\x01\x02 this is not http\r\n\r\n');
    });
    await new Promise<void>((resolve) => garbage.listen(0, '127.0.0.1', resolve));
    const port = (garbage.address() as AddressInfo).port;
    const c = client(`http://127.0.0.1:${port}`);
    await assert.rejects(c.loginTest(), (e: unknown) => {
      assert.ok(e instanceof TransportError, String(e));
      assert.match(e.transportCode, /^(HPE_|UND_ERR_SOCKET|ECONNRESET)/);
      assert.match(e.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
      assert.match(e.message, /(not HTTP .*check that the port is DirectAdmin's|closed before a complete answer)/);
      return true;
    });
    await c.close();
    for (const socket of sockets) socket.destroy();
    garbage.close();
  });
});

describe('stable codes and operator messages of the answer-level errors', { timeout: 30_000 }, () => {
  let s: TestServer;
  before(async () => (s = await startServer()));
  after(() => s.close());

  const failWith = async (handler: Parameters<TestServer['set']>[0]): Promise<unknown> => {
    s.set(handler);
    const c = client(s.base);
    try {
      await c.loginTest();
      return undefined;
    } catch (e) {
      return e;
    } finally {
      await c.close();
    }
  };

  it('authentication failure: in words, brute-force monitor, never the header name', async () => {
    const e = await failWith((_q, res) => {
      res.setHeader('X-DirectAdmin', 'unauthorized');
      res.end('<html><title>DirectAdmin Login</title></html>');
    });
    assert.ok(e instanceof AuthenticationFailed);
    assert.equal(e.code, 'DA_AUTH_FAILED');
    assert.equal(e.evidence, 'x-directadmin-header');
    assert.ok(!e.message.includes('x-directadmin-header'));
    assert.match(e.message, /^authentication failed on CMD_API_LOGIN_TEST at 127\.0\.0\.1:\d+: /);
    assert.match(e.message, /answered with its login page/);
    assert.match(e.message, /brute-force monitor counts every failed login and blacklists the IP after a few \(about 10 by default/);
  });

  it('blacklist: says where it is cleared', async () => {
    const e = await failWith((_q, res) => {
      res.statusCode = 403;
      res.end('<html><body>Your IP is blacklisted</body></html>');
    });
    assert.ok(e instanceof IpBlacklisted);
    assert.equal(e.code, 'DA_BLACKLISTED');
    assert.match(e.message, /blacklisted/);
    assert.match(e.message, /Admin Level -> Brute Force Monitor/);
    assert.match(e.message, /127\.0\.0\.1:\d+/);
  });

  it('redirect, needs https, refusal and unexpected answers carry their codes', async () => {
    const r = await failWith((_q, res) => {
      res.statusCode = 302;
      res.setHeader('location', '/elsewhere');
      res.end();
    });
    assert.ok(r instanceof RedirectRefused);
    assert.equal(r.code, 'DA_REDIRECT');
    const h = await failWith((_q, res) => {
      res.setHeader('X-Use-Https', 'yes');
      res.end('use https');
    });
    assert.ok(h instanceof NeedsHttps);
    assert.equal(h.code, 'DA_NEEDS_HTTPS');
    assert.equal(h.evidence, 'use-https');
    assert.match(h.message, /needs https/);
    const f = await failWith((_q, res) => res.end('error=1&text=Cannot%20change%20password&details=Password%20is%20too%20short'));
    assert.ok(f instanceof CommandFailed);
    assert.equal(f.code, 'DA_COMMAND_FAILED');
    assert.equal(f.apiType, undefined);
    assert.match(f.message, /^CMD_API_LOGIN_TEST failed at 127\.0\.0\.1:\d+: Cannot change password: Password is too short$/);
    // The legacy refusal of a command this login may not use: a permission refusal naming the allow-list line (issue 26).
    const p = await failWith((_q, res) => res.end('error=1&text=You%20cannot%20execute%20that%20command'));
    assert.ok(p instanceof PermissionDenied);
    assert.equal(p.code, 'DA_PERMISSION_DENIED');
    assert.equal(p.fatal, false);
    assert.equal(p.missing, 'CMD_API_LOGIN_TEST');
    assert.match(p.message, /CMD_API_LOGIN_TEST is not allowed .*"You cannot execute that command".*Add the line `CMD_API_LOGIN_TEST`.*not a failed login/);
    const forbidden = await failWith((_q, res) => {
      res.statusCode = 403;
      res.end('Forbidden');
    });
    assert.ok(forbidden instanceof PermissionDenied && forbidden.evidence === 'http-403');
    const u = await failWith((_q, res) => {
      res.statusCode = 502;
      res.end('<html>Bad gateway</html>');
    });
    assert.ok(u instanceof UnexpectedAnswer);
    assert.equal(u.code, 'DA_UNEXPECTED_ANSWER');
    assert.equal(u.retryable, true);
    assert.match(u.message, /127\.0\.0\.1:\d+ \(HTTP 502\)/);
  });
});
