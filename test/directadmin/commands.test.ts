import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CommandFailed, UnexpectedAnswer, AuthenticationFailed, type RequestEvent } from '../../src/directadmin/index.js';
import { answer, basicUser, client, startServer, type TestServer } from './helpers.js';

describe('legacy commands for the other credentials', { timeout: 30_000 }, () => {
  let s: TestServer;
  before(async () => (s = await startServer()));
  after(() => s.close());

  /** Runs `call` against an answer and returns its result, with the one request the server saw. */
  async function ask<T>(
    body: string,
    call: (c: ReturnType<typeof client>) => Promise<T>,
    format: 'json' | 'urlencoded' = 'urlencoded',
  ): Promise<{ result: T; url: URL; method: string; form: URLSearchParams; user: string }> {
    s.seen.length = 0;
    s.set(answer(200, body, body.trim().startsWith('{') || body.trim().startsWith('[') ? 'application/json' : 'text/plain'));
    const c = client(s.base, { format });
    try {
      const result = await call(c);
      assert.equal(s.seen.length, 1);
      const r = s.seen[0]!;
      return { result, url: new URL(r.url, 'http://x'), method: r.method, form: new URLSearchParams(r.body), user: basicUser(r.authorization) };
    } finally {
      await c.close();
    }
  }

  describe('domains', () => {
    it('CMD_API_DOMAIN_OWNERS keeps dots, undoes over-encoding, both formats', async () => {
      const expected = new Map([
        ['example.com', 'fred'],
        ['shop-1.example.org', 'bob_2'],
      ]);
      for (const body of [
        'example.com=fred&shop-1.example.org=bob_2',
        'example%2Ecom=fred&shop%2D%31%2Eexample%2Eorg=bob%5F%32',
        '{"example.com":"fred","shop-1.example.org":"bob_2"}',
      ]) {
        const { result, url } = await ask(body, (c) => c.domainOwners());
        assert.deepEqual(result, expected, body);
        assert.equal(url.pathname, '/CMD_API_DOMAIN_OWNERS');
      }
      assert.deepEqual((await ask('', (c) => c.domainOwners())).result, new Map());
      await assert.rejects(
        ask('error=1&text=You%20cannot%20execute%20that%20command', (c) => c.domainOwners()),
        CommandFailed,
      );
      await assert.rejects(
        ask('example.com=', (c) => c.domainOwners()),
        UnexpectedAnswer,
      );
    });

    it('CMD_API_SHOW_DOMAINS: every list variant', async () => {
      for (const body of [
        'list[]=example.com&list[]=b.org',
        'list%5B%5D=example%2Ecom&list%5B%5D=b.org',
        '["example.com","b.org"]',
        '{"0":"example.com","1":"b.org"}',
        '{"list":["example.com","b.org"]}',
      ]) {
        assert.deepEqual((await ask(body, (c) => c.showDomains())).result, ['example.com', 'b.org'], body);
      }
      assert.deepEqual((await ask('', (c) => c.showDomains())).result, []);
    });

    it('CMD_API_SHOW_USER_DOMAINS: the keys, not the usage strings', async () => {
      for (const body of [
        'example.com=0.0234:unlimited:0.00:0:0:no:unlimited:ON:ON:ON&b.org=1:2:3',
        'example%2Ecom=%30%2E%30%32:unlimited&b%2Eorg=1%3A2',
        '{"example.com":"0.02:unlimited","b.org":"1:2"}',
      ]) {
        const { result, url } = await ask(body, (c) => c.showUserDomains('fred'));
        assert.deepEqual(result, ['example.com', 'b.org'], body);
        assert.equal(url.search, '?user=fred');
      }
    });
  });

  describe('mailboxes', () => {
    it('lists local parts from every list variant', async () => {
      for (const body of ['list[]=info&list[]=sales%2Dteam', '["info","sales-team"]', '{"list":["info","sales-team"]}']) {
        const { result, url, method } = await ask(body, (c) => c.listMailboxes('example.com'));
        assert.deepEqual(result, ['info', 'sales-team']);
        assert.equal(method, 'GET');
        assert.equal(url.pathname, '/CMD_API_POP');
        assert.equal(url.searchParams.get('action'), 'list');
        assert.equal(url.searchParams.get('domain'), 'example.com');
      }
    });

    it('changes a password by POST, the secret only in the body, judged by error=0 (both formats)', async () => {
      for (const [body, format] of [
        ['error=0&text=Password%20Changed&details=', 'urlencoded'],
        ['{"success":"Password Changed","result":""}', 'json'],
      ] as const) {
        const { result, url, method, form } = await ask(body, (c) => c.changeMailboxPassword('example.com', 'info', 'N3w!Mailbox.pw'), format);
        assert.equal(result.text, 'Password Changed');
        assert.equal(method, 'POST');
        assert.equal(url.pathname, '/CMD_API_POP');
        assert.equal(url.search, '');
        assert.deepEqual(Object.fromEntries([...form].filter(([k]) => k !== 'json')), {
          action: 'modify',
          domain: 'example.com',
          user: 'info',
          passwd: 'N3w!Mailbox.pw',
          passwd2: 'N3w!Mailbox.pw',
        });
        assert.equal(form.get('json'), format === 'json' ? 'yes' : null);
      }
      await assert.rejects(
        ask('error=1&text=Cannot%20change%20password&details=Password%20is%20too%20short', (c) => c.changeMailboxPassword('example.com', 'info', 'x')),
        (e: unknown) => e instanceof CommandFailed && e.details === 'Password is too short',
      );
      await assert.rejects(
        ask('', (c) => c.changeMailboxPassword('example.com', 'info', 'x')),
        (e: unknown) => e instanceof UnexpectedAnswer && e.mayHaveWritten,
      );
    });
  });

  describe('extra FTP accounts', () => {
    it('lists name@domain accounts with their paths and skips the main login', async () => {
      const expected = [
        { user: 'upload', fullUser: 'upload@example.com', path: '/home/fred/domains/example.com/public_html/upload' },
        { user: 'web.dev', fullUser: 'web.dev@example.com', path: '/home/fred' },
      ];
      for (const body of [
        'fred=%2Fhome%2Ffred&upload%40example%2Ecom=%2Fhome%2Ffred%2Fdomains%2Fexample%2Ecom%2Fpublic%5Fhtml%2Fupload&web%2Edev%40example%2Ecom=%2Fhome%2Ffred',
        'fred=/home/fred&upload@example.com=/home/fred/domains/example.com/public_html/upload&web.dev@example.com=/home/fred',
        '{"fred":"/home/fred","upload@example.com":"/home/fred/domains/example.com/public_html/upload","web.dev@example.com":"/home/fred"}',
      ]) {
        const { result, url } = await ask(body, (c) => c.listFtpAccounts('example.com'));
        assert.deepEqual(result, { accounts: expected, unrecognised: [] }, body);
        assert.equal(url.searchParams.get('action'), 'list');
      }
      assert.deepEqual((await ask('', (c) => c.listFtpAccounts('example.com'))).result, { accounts: [], unrecognised: [] });
    });

    it('reads a configurable FTP separator from the names, and reports names of no known shape instead of skipping them (issue 26)', async () => {
      for (const sep of ['+', '%', '#']) {
        const body = new URLSearchParams([
          ['fred', '/home/fred'],
          [`upload${sep}example.com`, '/home/fred/upload'],
          [`a.b${sep}example.com`, '/home/fred'],
          ['Strange Name', '/x'],
          ['other@elsewhere', '/y'],
        ]).toString();
        const { result } = await ask(body, (c) => c.listFtpAccounts('example.com'));
        assert.deepEqual(
          result.accounts.map((a) => [a.user, a.fullUser]),
          [
            ['upload', `upload${sep}example.com`],
            ['a.b', `a.b${sep}example.com`],
            ['other', 'other@elsewhere'],
          ],
          sep,
        );
        assert.deepEqual(result.unrecognised, ['Strange Name'], sep);
      }
    });

    it('shows one account (both formats) and refuses details without a type', async () => {
      for (const body of [
        'fulluser=upload%40example%2Ecom&user=upload&type=custom&path=%2Fhome%2Ffred%2Fup',
        '{"fulluser":"upload@example.com","user":"upload","type":"custom","path":"/home/fred/up"}',
      ]) {
        const { result, url } = await ask(body, (c) => c.showFtpAccount('example.com', 'upload'));
        assert.deepEqual(result, { fullUser: 'upload@example.com', user: 'upload', type: 'custom', path: '/home/fred/up' });
        assert.equal(url.pathname, '/CMD_API_FTP_SHOW');
        assert.equal(url.search, '?domain=example.com&user=upload');
      }
      await assert.rejects(
        ask('user=upload&path=%2Fhome', (c) => c.showFtpAccount('example.com', 'upload')),
        UnexpectedAnswer,
      );
    });

    it('changes a password sending the same type back, and the path as custom_val only for custom', async () => {
      const custom = await ask('error=0&text=Password%20Changed', (c) =>
        c.changeFtpPassword('example.com', { user: 'upload', type: 'custom', path: '/home/fred/up' }, 'N3w.Ftp-pw'),
      );
      assert.equal(custom.method, 'POST');
      assert.deepEqual(Object.fromEntries(custom.form), {
        action: 'modify',
        domain: 'example.com',
        user: 'upload',
        type: 'custom',
        passwd: 'N3w.Ftp-pw',
        passwd2: 'N3w.Ftp-pw',
        custom_val: '/home/fred/up',
      });
      const domain = await ask('error=0&text=Password%20Changed', (c) =>
        c.changeFtpPassword('example.com', { user: 'web', type: 'domain', path: '/home/fred/domains/example.com' }, 'N3w.Ftp-pw'),
      );
      assert.equal(domain.form.get('type'), 'domain');
      assert.equal(domain.form.has('custom_val'), false);
      assert.equal(domain.url.search, '');
    });
  });

  describe('legacy login keys', () => {
    it('lists key names and their settings (nested url-encoded, entities, JSON objects), never a key value', async () => {
      const inner = encodeURIComponent(
        'date_created=1700000000&expiry=1800000000&last_used=1750000000&last_ip=203.0.113.9&commands=CMD_API_SHOW_USERS,CMD_API_USER_PASSWD&ips=203.0.113.0/24&key=SECRETVALUE',
      );
      const bodies = [
        `rotation=${inner}&support%2D%31=${encodeURIComponent('date_created=%31%37&expiry=0')}`,
        JSON.stringify({
          rotation: {
            date_created: '1700000000',
            expiry: '1800000000',
            last_used: '1750000000',
            last_ip: '203.0.113.9',
            commands: 'CMD_API_SHOW_USERS,CMD_API_USER_PASSWD',
            ips: '203.0.113.0/24',
            key: 'SECRETVALUE',
          },
          'support-1': 'date_created=17&expiry=0',
        }),
      ];
      for (const body of bodies) {
        const { result, url } = await ask(body, (c) => c.listLoginKeysLegacy());
        assert.equal(url.pathname, '/CMD_API_LOGIN_KEYS');
        assert.deepEqual(
          result,
          [
            {
              id: 'rotation',
              api: 'legacy',
              created: '1700000000',
              expires: '1800000000',
              lastUsed: '1750000000',
              lastIp: '203.0.113.9',
              allowCommands: ['CMD_API_SHOW_USERS', 'CMD_API_USER_PASSWD'],
              allowNetworks: ['203.0.113.0/24'],
            },
            { id: 'support-1', api: 'legacy', created: '17', expires: '0' },
          ],
          body,
        );
        assert.ok(!JSON.stringify(result).includes('SECRETVALUE'));
      }
      assert.deepEqual((await ask('', (c) => c.listLoginKeysLegacy())).result, []);
    });

    it('revokes named keys in one POST with select0..n, and sends nothing for none', async () => {
      const { method, form } = await ask('error=0&text=Keys%20deleted', (c) => c.deleteLoginKeysLegacy(['rotation', 'support-1']));
      assert.equal(method, 'POST');
      assert.deepEqual(Object.fromEntries(form), { action: 'select', delete: 'Delete', select0: 'rotation', select1: 'support-1' });
      s.seen.length = 0;
      const c = client(s.base);
      await c.deleteLoginKeysLegacy([]);
      await c.close();
      assert.equal(s.seen.length, 0);
    });
  });
});

describe('login-as contexts', { timeout: 30_000 }, () => {
  let s: TestServer;
  before(async () => (s = await startServer()));
  after(() => s.close());

  it('authenticates as loginUser|user with the same secret and shares the hook', async () => {
    s.seen.length = 0;
    s.set(answer(200, 'list[]=example.com', 'text/plain'));
    const events: RequestEvent[] = [];
    const c = client(s.base, { onRequest: (e) => events.push(e) });
    const fred = c.loginAs('fred');
    assert.equal(fred.username, 'admin|fred');
    assert.equal(fred.actingAs, 'fred');
    assert.equal(fred.endpoint, c.endpoint);
    assert.deepEqual(await fred.showDomains(), ['example.com']);
    await fred.close(); // a no-op: the pool stays open for the client
    assert.deepEqual(await c.showDomains(), ['example.com']);
    await c.close();
    assert.deepEqual(
      s.seen.map((r) => basicUser(r.authorization)),
      ['admin|fred:S3cretAdminPw', 'admin:S3cretAdminPw'],
    );
    assert.equal(events.length, 2);
  });

  it('refuses nested login-as and names that are not DirectAdmin usernames', () => {
    const c = client(s.base);
    for (const bad of ['Fred', '1fred', 'fred|x', 'fred:x', '', 'a'.repeat(33), 'fr ed', 'fred_1']) {
      assert.throws(() => c.loginAs(bad), /login-as needs a DirectAdmin username/, bad);
    }
    assert.throws(() => c.loginAs('fred').loginAs('bob'), /already acts through login-as/);
    const direct = client(s.base, { username: 'admin|fred' });
    assert.throws(() => direct.loginAs('bob'), /already acts through login-as/);
    void c.close();
    void direct.close();
  });

  it('shares the breaker: an authentication failure through login-as stops the client too', async () => {
    s.seen.length = 0;
    s.set(answer(401, '{"type":"UNAUTHORIZED"}'));
    const c = client(s.base);
    const fred = c.loginAs('fred');
    await assert.rejects(fred.listMailboxes('example.com'), AuthenticationFailed);
    await assert.rejects(c.loginTest(), AuthenticationFailed);
    await assert.rejects(c.loginAs('bob').showDomains(), AuthenticationFailed);
    assert.ok(c.fatalError instanceof AuthenticationFailed);
    assert.equal(s.seen.length, 1);
    await c.close();
  });

  it('shares the abort signal', async () => {
    s.seen.length = 0;
    const stop = new AbortController();
    const c = client(s.base, { signal: stop.signal });
    stop.abort();
    await assert.rejects(c.loginAs('fred').showDomains(), (e: unknown) => e instanceof Error && 'transportCode' in e && e.transportCode === 'ABANDONED');
    assert.equal(s.seen.length, 0);
    await c.close();
  });
});
