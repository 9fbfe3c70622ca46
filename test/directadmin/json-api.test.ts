import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { AuthenticationFailed, CommandFailed, IpBlacklisted, PermissionDenied, UnexpectedAnswer, type RequestEvent } from '../../src/directadmin/index.js';
import { answer, basicUser, client, startServer, type TestServer } from './helpers.js';

describe('JSON API commands', { timeout: 30_000 }, () => {
  let s: TestServer;
  before(async () => (s = await startServer()));
  after(() => s.close());

  async function run<T>(status: number, body: string, call: (c: ReturnType<typeof client>) => Promise<T>, type = 'application/json'): Promise<T> {
    s.seen.length = 0;
    s.set(answer(status, body, type));
    const c = client(s.base);
    try {
      return await call(c);
    } finally {
      await c.close();
    }
  }

  it('lists login keys, mapping what the answer carries and nothing of a key value', async () => {
    const body = JSON.stringify([
      {
        id: 'rotation',
        created: '2025-01-02T03:04:05Z',
        createdBy: '203.0.113.9',
        hasExpiry: true,
        expires: '2025-02-01T00:00:00Z',
        allowCommands: ['CMD_API_SHOW_USERS'],
        denyCommands: [],
        allowNetworks: ['203.0.113.0/24'],
        allowLogin: false,
        autoRemove: false,
        readOnly: false,
      },
      {
        id: 'rootauth',
        created: '2024-01-01T00:00:00Z',
        createdBy: 'ssh:root',
        hasExpiry: false,
        expires: '0001-01-01T00:00:00Z',
        allowCommands: [],
        denyCommands: [],
        allowNetworks: [],
        allowLogin: true,
        autoRemove: true,
        readOnly: true,
        key: 'NEVERSHOWN',
      },
    ]);
    const keys = await run(200, body, (c) => c.listLoginKeysJson());
    assert.deepEqual(keys, [
      {
        id: 'rotation',
        api: 'json',
        created: '2025-01-02T03:04:05Z',
        createdBy: '203.0.113.9',
        expires: '2025-02-01T00:00:00Z',
        allowCommands: ['CMD_API_SHOW_USERS'],
        allowNetworks: ['203.0.113.0/24'],
        readOnly: false,
      },
      { id: 'rootauth', api: 'json', created: '2024-01-01T00:00:00Z', createdBy: 'ssh:root', allowCommands: [], allowNetworks: [], readOnly: true },
    ]);
    assert.ok(!JSON.stringify(keys).includes('NEVERSHOWN'));
    assert.equal(s.seen[0]!.method, 'GET');
    assert.equal(s.seen[0]!.url, '/api/login-keys/keys');
    assert.deepEqual(await run(200, '[]', (c) => c.listLoginKeysJson()), []);
    await assert.rejects(
      run(200, '{"id":"x"}', (c) => c.listLoginKeysJson()),
      UnexpectedAnswer,
    );
    await assert.rejects(
      run(200, '', (c) => c.listLoginKeysJson()),
      UnexpectedAnswer,
    );
  });

  it('deletes a login key with DELETE and a 204, the id encoded into one path segment', async () => {
    assert.equal(await run(204, '', (c) => c.deleteLoginKeyJson('my key/1')), undefined);
    assert.equal(s.seen[0]!.method, 'DELETE');
    assert.equal(s.seen[0]!.url, '/api/login-keys/keys/my%20key%2F1');
    const c = client(s.base);
    for (const bad of ['', '.', '..']) await assert.rejects(c.deleteLoginKeyJson(bad), /invalid login key id/);
    await c.close();
  });

  it('maps every JSON error by its type, whatever the status', async () => {
    const cases: Array<[number, object, string, string]> = [
      [404, { type: 'NOT_FOUND' }, 'NOT_FOUND', ''],
      [403, { type: 'ACCESS_DENIED' }, 'ACCESS_DENIED', ''],
      [492, { type: 'WEAK_PASSWORD', message: 'too short' }, 'WEAK_PASSWORD', 'too short'],
      [400, { type: 'WEAK_PASSWORD', message: 'needs digits' }, 'WEAK_PASSWORD', 'needs digits'],
      [
        409,
        { type: 'PRE_HOOK_ERROR', exitCode: 1, output: 'refused by policy', path: '/usr/local/directadmin/scripts/custom/x.sh' },
        'PRE_HOOK_ERROR',
        '/usr/local/directadmin/scripts/custom/x.sh exited 1: refused by policy',
      ],
      [409, { type: 'LOGIN_KEY_READ_ONLY', id: 'rootauth' }, 'LOGIN_KEY_READ_ONLY', 'rootauth'],
      [430, { type: 'LOGIN_KEY_BAD_CURRENT_PASSWORD' }, 'LOGIN_KEY_BAD_CURRENT_PASSWORD', ''],
      [490, { type: 'LOGIN_KEY_ALREADY_EXISTS', id: 'k' }, 'LOGIN_KEY_ALREADY_EXISTS', 'k'],
      [491, { type: 'LOGIN_KEY_DUPLICATE_PASSWORD' }, 'LOGIN_KEY_DUPLICATE_PASSWORD', ''],
      [400, { type: 'BAD_REQUEST', message: 'bad id' }, 'BAD_REQUEST', 'bad id'],
      [402, { type: 'LICENSE_OVERUSED' }, 'LICENSE_OVERUSED', ''],
      [200 + 222, { type: 'SOMETHING_NEW', message: 'm' }, 'SOMETHING_NEW', 'm'],
    ];
    for (const [status, body, type, details] of cases) {
      await assert.rejects(
        run(status, JSON.stringify(body), (c) => c.deleteLoginKeyJson('k')),
        (e: unknown) => {
          assert.ok(e instanceof CommandFailed, `${type}: ${String(e)}`);
          assert.equal(e.apiType, type);
          assert.equal(e.details, details, type);
          // ACCESS_DENIED: the login key lacks the feature, a refusal of its own (issue 26), never a failed login.
          assert.equal(e.code, type === 'ACCESS_DENIED' ? 'DA_PERMISSION_DENIED' : 'DA_COMMAND_FAILED');
          assert.equal(e instanceof PermissionDenied, type === 'ACCESS_DENIED');
          assert.equal(e.fatal, false);
          assert.equal(e.mayHaveWritten, false);
          if (type === 'ACCESS_DENIED')
            assert.match(e.message, /^DELETE \/api\/login-keys\/keys\/\{id\} is not allowed .* does not allow login-keys\b.*Add the line `login-keys`/);
          else assert.match(e.message, /^DELETE \/api\/login-keys\/keys\/\{id\} failed at 127\.0\.0\.1:\d+: /);
          return true;
        },
      );
    }
  });

  it('UNAUTHORIZED is a fatal authentication failure, with any status', async () => {
    for (const status of [401, 403, 200 + 230]) {
      await assert.rejects(
        run(status, '{"type":"UNAUTHORIZED"}', (c) => c.listSessions()),
        (e: unknown) => e instanceof AuthenticationFailed && e.fatal && e.evidence === 'json-unauthorized',
      );
    }
  });

  it('INTERNAL_ERROR and 5xx are unexpected answers worth a retry, never success', async () => {
    await assert.rejects(
      run(500, '{"type":"INTERNAL_ERROR","message":"db down"}', (c) => c.changeDbUserPassword('fred_wp', 'N3wDbPassw0rd')),
      (e: unknown) => e instanceof UnexpectedAnswer && e.apiType === 'INTERNAL_ERROR' && e.retryable && e.mayHaveWritten,
    );
    await assert.rejects(
      run(502, '<html>bad gateway</html>', (c) => c.changeDbUserPassword('fred_wp', 'N3wDbPassw0rd'), 'text/html'),
      (e: unknown) => e instanceof UnexpectedAnswer && e.retryable && e.mayHaveWritten,
    );
    await assert.rejects(
      run(200, '<html>proxy page</html>', (c) => c.changeDbUserPassword('fred_wp', 'N3wDbPassw0rd'), 'text/html'),
      (e: unknown) => e instanceof UnexpectedAnswer && e.mayHaveWritten,
    );
  });

  it('a 404 page on /api/ means no JSON API: a distinct refusal callers fall back on', async () => {
    for (const [body, type] of [
      ['<html><body>404 Not Found</body></html>', 'text/html'],
      ['', 'text/plain'],
      ['Not Found', 'text/plain'],
    ]) {
      await assert.rejects(
        run(404, body!, (c) => c.listSessions(), type),
        (e: unknown) => e instanceof CommandFailed && e.apiType === 'NO_JSON_API' && !e.fatal,
        body,
      );
    }
  });

  it('a blacklist or a login page on /api/ stops like on the legacy API', async () => {
    await assert.rejects(
      run(403, '<html>Your IP is blacklisted</html>', (c) => c.listSessions(), 'text/html'),
      IpBlacklisted,
    );
    // A write: the login page is a failed login, whatever the server.
    await assert.rejects(
      run(200, '<html><title>DirectAdmin Login</title></html>', (c) => c.destroySession('s1'), 'text/html'),
      AuthenticationFailed,
    );
    // A server that has answered /api/ with JSON has the JSON API: its login page is a failed login.
    s.seen.length = 0;
    const c = client(s.base);
    try {
      s.set(answer(200, '[]', 'application/json'));
      await c.listSessions();
      s.set(answer(200, '<html><title>DirectAdmin Login</title></html>', 'text/html'));
      await assert.rejects(c.listDbUsers(), AuthenticationFailed);
    } finally {
      await c.close();
    }
  });

  it('a server that never answered /api/ with JSON and answers a read with its login page or a 200 page has no JSON API (issue 26)', async () => {
    for (const [status, body] of [
      [200, '<html><title>DirectAdmin Login</title></html>'],
      [200, '<html><body>Welcome</body></html>'],
      [404, '<html><body>Not Found</body></html>'],
    ] as const) {
      s.seen.length = 0;
      s.set(answer(status, body, 'text/html'));
      const c = client(s.base);
      try {
        await assert.rejects(
          c.listSessions(),
          (e: unknown) => e instanceof CommandFailed && e.apiType === 'NO_JSON_API' && !e.fatal && /not supported by this server/.test(e.message),
        );
        // Said once: no other /api/ request is sent to it.
        await assert.rejects(c.listDbUsers(), (e: unknown) => e instanceof CommandFailed && e.apiType === 'NO_JSON_API');
        assert.equal(s.seen.length, 1, `${status} ${body}`);
        assert.equal(c.fatalError, undefined);
      } finally {
        await c.close();
      }
    }
  });

  it('JSON mode\'s {"error":"Not logged in"} is a failed login that stops the server after one request (issue 26)', async () => {
    s.seen.length = 0;
    s.set(answer(200, '{"error":"Not logged in"}', 'application/json'));
    const c = client(s.base);
    try {
      await assert.rejects(c.showUsers(), (e: unknown) => e instanceof AuthenticationFailed && e.fatal && /Not logged in/.test(e.message));
      await assert.rejects(c.listMailboxes('example.com'), AuthenticationFailed);
      assert.equal(s.seen.length, 1);
    } finally {
      await c.close();
    }
  });

  it('lists sessions and destroys one or all others (204)', async () => {
    const sessions = await run(
      200,
      JSON.stringify([
        {
          publicID: 'p1',
          ip: '198.51.100.7',
          created: '2025-01-01T00:00:00Z',
          expires: '2025-01-02T00:00:00Z',
          host: 'h:2222',
          loggedInAs: 'fred',
          loginKey: 'support',
          current: false,
          valid: true,
        },
        {
          publicID: 'p2',
          ip: '127.0.0.1',
          created: '2025-01-01T00:00:00Z',
          expires: '2025-01-02T00:00:00Z',
          host: 'h:2222',
          loggedInAs: '',
          loginKey: '',
          current: true,
          valid: true,
        },
      ]),
      (c) => c.listSessions(),
    );
    assert.deepEqual(sessions, [
      {
        id: 'p1',
        ip: '198.51.100.7',
        created: '2025-01-01T00:00:00Z',
        expires: '2025-01-02T00:00:00Z',
        host: 'h:2222',
        loggedInAs: 'fred',
        loginKey: 'support',
        current: false,
        valid: true,
      },
      { id: 'p2', ip: '127.0.0.1', created: '2025-01-01T00:00:00Z', expires: '2025-01-02T00:00:00Z', host: 'h:2222', current: true, valid: true },
    ]);
    await assert.rejects(
      run(200, '[{"ip":"1.2.3.4"}]', (c) => c.listSessions()),
      UnexpectedAnswer,
    );
    await run(204, '', (c) => c.destroySession('p1'));
    assert.equal(s.seen[0]!.method, 'POST');
    assert.equal(s.seen[0]!.url, '/api/sessions/destroy/p1');
    await run(204, '', (c) => c.destroyOtherSessions());
    assert.equal(s.seen[0]!.url, '/api/sessions/destroy-all-other');
  });

  it('lists database users and changes one password in a JSON body, never the URL', async () => {
    const users = await run(200, '[{"dbuser":"fred_wp","hostPatterns":["localhost","192.168.0.0/16"]},{"dbuser":"fred_shop","hostPatterns":[]}]', (c) =>
      c.listDbUsers(),
    );
    assert.deepEqual(users, [
      { dbUser: 'fred_wp', hostPatterns: ['localhost', '192.168.0.0/16'] },
      { dbUser: 'fred_shop', hostPatterns: [] },
    ]);
    assert.equal(s.seen[0]!.url, '/api/db-show/users');
    assert.equal(await run(204, '', (c) => c.changeDbUserPassword('fred_wp', 'N3wDbPassw0rd!')), undefined);
    const r = s.seen[0]!;
    assert.equal(r.method, 'POST');
    assert.equal(r.url, '/api/db-manage/users/fred_wp/change-password');
    assert.equal(r.contentType, 'application/json');
    assert.deepEqual(JSON.parse(r.body), { newPassword: 'N3wDbPassw0rd!' });
    await assert.rejects(
      run(400, '{"type":"WEAK_PASSWORD","message":"min 8"}', (c) => c.changeDbUserPassword('fred_wp', 'short')),
      (e: unknown) => e instanceof CommandFailed && e.apiType === 'WEAK_PASSWORD' && !e.message.includes('short'),
    );
  });

  it('creates a one-time login URL through login-as and keeps the URL out of logs and JSON', async () => {
    s.seen.length = 0;
    const secretUrl = 'https://panel.example:2222/api/login/url?key=JZX7CCWZD7QRSECRET';
    s.set(
      answer(
        200,
        JSON.stringify({
          id: 'HASHURLX4P',
          url: secretUrl,
          expires: '2025-03-01T00:10:00Z',
          created: '2025-03-01T00:00:00Z',
          createdBy: '127.0.0.1',
          allowNetworks: [],
        }),
      ),
    );
    const events: RequestEvent[] = [];
    const c = client(s.base, { onRequest: (e) => events.push(e) });
    const link = await c.loginAs('fred').createLoginUrl({ expires: new Date('2025-03-01T00:10:00Z'), allowNetworks: ['198.51.100.0/24'] });
    await c.close();
    assert.equal(link.url, secretUrl);
    assert.equal(link.id, 'HASHURLX4P');
    assert.equal(link.expires, '2025-03-01T00:10:00Z');
    assert.ok(!JSON.stringify(link).includes('SECRET'));
    assert.ok(!inspect(link).includes('SECRET'));
    assert.ok(!JSON.stringify(events).includes('SECRET'));
    assert.equal(basicUser(s.seen[0]!.authorization), 'admin|fred:S3cretAdminPw');
    assert.equal(s.seen[0]!.url, '/api/login-keys/urls');
    assert.deepEqual(JSON.parse(s.seen[0]!.body), { allowNetworks: ['198.51.100.0/24'], expires: '2025-03-01T00:10:00.000Z' });
    await assert.rejects(
      run(200, '{"id":"x"}', (c2) => c2.createLoginUrl()),
      UnexpectedAnswer,
    );
  });
});
