import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startSimulator } from '../../src/simulator/index.js';
import { admin, as, call, form, own, withSim } from './helpers.js';

// Layout with seed 7: user00001..3 belong to reseller1; user00003 owns two domains.
const LAYOUT = { users: 6, resellers: 1, seed: 7 } as const;

describe('simulator: domains', { timeout: 30_000 }, () => {
  it('lays out domains, mailboxes and FTP accounts from the seed, the same every time', async () => {
    const a = await startSimulator({ ...LAYOUT, mailboxesPerDomain: 3, ftpPerDomain: 2 });
    const b = await startSimulator({ ...LAYOUT, mailboxesPerDomain: 3, ftpPerDomain: 2 });
    try {
      assert.deepEqual(a.domains('user00003'), ['user00003.example.net', 'user00003-shop.example.com']);
      assert.deepEqual(a.domains('user00001'), ['user00001.example.net']);
      assert.deepEqual(
        a.mailboxes('user00003').map((m) => m.address),
        [
          'info@user00003.example.net',
          'sales@user00003.example.net',
          'office@user00003.example.net',
          'info@user00003-shop.example.com',
          'sales@user00003-shop.example.com',
          'office@user00003-shop.example.com',
        ],
      );
      assert.deepEqual(
        a.ftpAccounts('user00001').map((f) => f.fulluser),
        ['upload@user00001.example.net', 'backup@user00001.example.net'],
      );
      // Touching accounts in another order gives the same layout.
      assert.deepEqual(b.ftpAccounts('user00001'), a.ftpAccounts('user00001'));
      assert.deepEqual(b.mailboxes('user00003'), a.mailboxes('user00003'));
      assert.equal(a.mailboxPassword('sales@user00003-shop.example.com'), a.mailboxes('user00003')[4]!.password);
      assert.equal(a.mailboxPassword('nobody@user00003.example.net'), undefined);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('answers DOMAIN_OWNERS (admin), SHOW_DOMAINS (the user) and SHOW_USER_DOMAINS (admin, own reseller)', async () => {
    await withSim({ ...LAYOUT, resellers: 2 }, async (sim) => {
      const owners = form((await call(sim, '/CMD_API_DOMAIN_OWNERS', admin(sim))).body);
      assert.equal(owners['user00003-shop.example.com'], 'user00003');
      assert.equal(owners['admin.example.net'], 'admin');
      const raw = (await call(sim, '/CMD_API_DOMAIN_OWNERS', admin(sim))).body;
      assert.ok(raw.includes('user%30%30%30%30%33%2Eexample%2Enet=user%30%30%30%30%33'), 'DirectAdmin encoding, dots kept as %2E');
      assert.equal((await call(sim, '/CMD_API_DOMAIN_OWNERS', own(sim, 'user00003'))).body, 'error=%31&text=You%20cannot%20execute%20that%20command&details=');
      assert.deepEqual(JSON.parse((await call(sim, '/CMD_API_SHOW_DOMAINS?json=yes', own(sim, 'user00003'))).body), [
        'user00003.example.net',
        'user00003-shop.example.com',
      ]);
      assert.deepEqual(JSON.parse((await call(sim, '/CMD_API_SHOW_DOMAINS?json=yes', as(sim, 'user00003'))).body), [
        'user00003.example.net',
        'user00003-shop.example.com',
      ]);
      const owner = sim.account('user00003')!.creator;
      const byReseller = JSON.parse((await call(sim, '/CMD_API_SHOW_USER_DOMAINS?user=user00003&json=yes', own(sim, owner))).body);
      assert.deepEqual(byReseller, {
        'user00003.example.net': '0.0000:unlimited:0.0000:unlimited:0:no:yes',
        'user00003-shop.example.com': '0.0000:unlimited:0.0000:unlimited:0:no:yes',
      });
      const other = owner === 'reseller1' ? 'reseller2' : 'reseller1';
      assert.deepEqual(JSON.parse((await call(sim, '/CMD_API_SHOW_USER_DOMAINS?user=user00003&json=yes', own(sim, other))).body), {
        error: 'That user does not belong to you',
        result: '',
      });
    });
  });
});

describe('simulator: mailboxes (CMD_API_POP)', { timeout: 30_000 }, () => {
  it('lists, details and changes mailbox passwords as the owner, in both formats', async () => {
    await withSim(LAYOUT, async (sim) => {
      const d = 'user00003.example.net';
      assert.equal((await call(sim, `/CMD_API_POP?action=list&domain=${d}`, as(sim, 'user00003'))).body, 'list%5B%5D=info&list%5B%5D=sales');
      assert.deepEqual(JSON.parse((await call(sim, `/CMD_API_POP?action=list&domain=${d}&json=yes`, own(sim, 'user00003'))).body), ['info', 'sales']);
      const full = form((await call(sim, `/CMD_API_POP?action=full_list&domain=${d}`, as(sim, 'user00003'))).body);
      assert.deepEqual(Object.keys(full), ['info', 'sales']);
      assert.deepEqual(Object.keys(form(full.info!)), ['quota', 'usage', 'sent', 'limit', 'suspended']);
      assert.equal(form(full.info!).suspended, 'no');
      const fullJson = JSON.parse((await call(sim, `/CMD_API_POP?action=full_list&domain=${d}&json=yes`, as(sim, 'user00003'))).body);
      assert.equal(fullJson.sales.limit, '200');

      const modify = (o: Parameters<typeof call>[2], pw: string, pw2 = pw, user = 'info') =>
        call(sim, '/CMD_API_POP', { ...o, body: `action=modify&domain=${d}&user=${user}&passwd=${pw}&passwd2=${pw2}` });
      assert.equal((await modify(as(sim, 'user00003'), 'MailPassw0rd1')).body, 'error=%30&text=Email%20account%20modified&details=');
      assert.equal(sim.mailboxPassword(`info@${d}`), 'MailPassw0rd1');
      assert.equal(sim.stats.credentialChangesApplied, 1);
      // "isn't different" is an account password string only (issue 26): a mailbox set to its current password is changed again.
      assert.deepEqual(form((await modify(as(sim, 'user00003'), 'MailPassw0rd1')).body), { error: '0', text: 'Email account modified', details: '' });
      assert.deepEqual(form((await modify(as(sim, 'user00003'), 'Ab1')).body), {
        error: '1',
        text: 'Cannot change password',
        details: 'Password is too short',
      });
      assert.deepEqual(form((await modify(as(sim, 'user00003'), 'MailPassw0rd2', 'MailPassw0rd3')).body), {
        error: '1',
        text: 'Cannot change password',
        details: 'Passwords do not match',
      });
      assert.deepEqual(form((await modify(as(sim, 'user00003'), 'MailPassw0rd2', 'MailPassw0rd2', 'ghost')).body), {
        error: '1',
        text: 'Cannot change password',
        details: 'That email user does not exist',
      });
      // The reseller that owns the user, through login-as; and the user itself.
      const reseller = sim.account('user00003')!.creator;
      assert.equal(
        JSON.parse(
          (
            await call(sim, '/CMD_API_POP', {
              user: `${reseller}|user00003`,
              secret: sim.password(reseller)!,
              body: `action=modify&domain=${d}&user=sales&passwd=MailPassw0rd4&passwd2=MailPassw0rd4&json=yes`,
            })
          ).body,
        ).success,
        'Email account modified',
      );
      assert.equal(sim.mailboxPassword(`sales@${d}`), 'MailPassw0rd4');
      assert.equal((await modify(own(sim, 'user00003'), 'MailPassw0rd5')).body, 'error=%30&text=Email%20account%20modified&details=');
      // Not the owner: the admin itself, another user.
      assert.equal((await modify(admin(sim), 'MailPassw0rd6')).body, 'error=%31&text=You%20do%20not%20own%20that%20domain&details=');
      assert.deepEqual(JSON.parse((await call(sim, `/CMD_API_POP?action=list&domain=${d}&json=yes`, own(sim, 'user00002'))).body), {
        error: 'You do not own that domain',
        result: '',
      });
      assert.equal(sim.mailboxPassword(`info@${d}`), 'MailPassw0rd5');
    });
  });

  it('applies the difficult-password policy and acceptUnchangedPassword to mailboxes', async () => {
    await withSim({ ...LAYOUT, passwordPolicy: { difficult: true }, acceptUnchangedPassword: true }, async (sim) => {
      const d = 'user00001.example.net';
      const modify = (pw: string) =>
        call(sim, '/CMD_API_POP', { ...as(sim, 'user00001'), body: `action=modify&domain=${d}&user=info&passwd=${pw}&passwd2=${pw}&json=yes` });
      assert.deepEqual(JSON.parse((await modify('MailPassw0rd1')).body), {
        error: 'Unable to satisfy difficult password check.',
        result: 'Password must have at least one special character such as !@#%$ etc..',
      });
      assert.equal(JSON.parse((await modify('MailPassw0rd.1')).body).success, 'Email account modified');
      assert.equal(JSON.parse((await modify('MailPassw0rd.1')).body).success, 'Email account modified', 'unchanged accepted');
    });
  });
});

describe('simulator: FTP accounts', { timeout: 30_000 }, () => {
  it('lists with the main login, shows one, and a modify with another type moves its home', async () => {
    await withSim({ ...LAYOUT, ftpPerDomain: 2 }, async (sim) => {
      const d = 'user00001.example.net';
      const listing = form((await call(sim, `/CMD_API_FTP?action=list&domain=${d}`, as(sim, 'user00001'))).body);
      assert.deepEqual(listing, {
        [`upload@${d}`]: `/home/user00001/domains/${d}/public_ftp`,
        [`backup@${d}`]: sim.ftpAccounts('user00001')[1]!.path,
        user00001: '/home/user00001',
      });
      const show = form((await call(sim, `/CMD_API_FTP_SHOW?domain=${d}&user=upload`, as(sim, 'user00001'))).body);
      assert.deepEqual(show, { fulluser: `upload@${d}`, user: 'upload', domain: d, type: 'ftp', path: `/home/user00001/domains/${d}/public_ftp` });
      const modify = (extra: string) =>
        call(sim, '/CMD_API_FTP', { ...as(sim, 'user00001'), body: `action=modify&domain=${d}&user=upload&passwd=FtpPassw0rd1&passwd2=FtpPassw0rd1${extra}` });
      assert.equal((await modify('&type=ftp')).body, 'error=%30&text=Ftp%20account%20changed&details=');
      assert.equal(sim.ftpAccounts('user00001')[0]!.password, 'FtpPassw0rd1');
      assert.equal(sim.ftpAccounts('user00001')[0]!.path, `/home/user00001/domains/${d}/public_ftp`, 'same type: same home');
      sim.setOptions({ acceptUnchangedPassword: true });
      assert.equal(form((await modify('')).body).error, '0');
      assert.deepEqual(
        [sim.ftpAccounts('user00001')[0]!.type, sim.ftpAccounts('user00001')[0]!.path],
        ['user', `/home/user00001/domains/${d}/public_ftp/upload`],
        'no type: the form default `user`',
      );
      assert.deepEqual(form((await modify('&type=custom')).body), { error: '1', text: 'Cannot change password', details: 'A custom path is required' });
      assert.equal(form((await modify('&type=custom&custom_val=/home/user00001/elsewhere')).body).error, '0');
      assert.equal(sim.ftpAccounts('user00001')[0]!.path, '/home/user00001/elsewhere');
      assert.deepEqual(form((await modify('&type=bogus')).body), { error: '1', text: 'Cannot change password', details: 'Unknown ftp type' });
      assert.equal((await call(sim, `/CMD_API_FTP?action=list&domain=${d}`, admin(sim))).body, 'error=%31&text=You%20do%20not%20own%20that%20domain&details=');
    });
  });
});

describe('simulator: legacy login keys (CMD_API_LOGIN_KEYS)', { timeout: 30_000 }, () => {
  it('lists settings per key name, records use, and revokes: a revoked key stops working', async () => {
    await withSim({ ...LAYOUT }, async (sim) => {
      sim.addLoginKey('user00001', {
        key: 'UserKeyAAAA1111',
        name: 'phone',
        commands: ['CMD_API_LOGIN_TEST'],
        expiresAt: new Date(Date.UTC(2031, 0, 1)),
        createdAt: new Date(Date.UTC(2025, 0, 1)),
        maxUses: 10,
      });
      sim.addLoginKey('user00001', { key: 'UserKeyBBBB2222', name: 'rootauth', readOnly: true });
      assert.equal((await call(sim, '/CMD_API_LOGIN_TEST', { user: 'user00001', secret: 'UserKeyAAAA1111' })).status, 200);
      const listing = form((await call(sim, '/CMD_API_LOGIN_KEYS', as(sim, 'user00001'))).body);
      assert.deepEqual(Object.keys(listing), ['phone', 'rootauth']);
      const phone = form(listing.phone!);
      assert.deepEqual(
        { ...phone, last_used: phone.last_used === 'never' ? 'never' : 'a time' },
        {
          date_created: '1735689600',
          created_by: '127.0.0.1',
          expiry: '1924992000',
          last_used: 'a time',
          last_ip: '127.0.0.1',
          uses: '1',
          max_uses: '10',
          commands: 'CMD_API_LOGIN_TEST',
          ips: '',
        },
      );
      assert.deepEqual(JSON.parse((await call(sim, '/CMD_API_LOGIN_KEYS?json=yes', as(sim, 'user00001'))).body).rootauth.last_used, 'never');
      const revoke = (names: string[]) =>
        call(sim, '/CMD_API_LOGIN_KEYS', { ...as(sim, 'user00001'), body: `action=select&delete=Delete&${names.map((n, i) => `select${i}=${n}`).join('&')}` });
      assert.equal((await revoke(['phone'])).body, 'error=%30&text=Key%28s%29%20Deleted&details=');
      assert.deepEqual(
        sim.loginKeys('user00001').map((k) => k.name),
        ['rootauth'],
      );
      assert.equal(sim.stats.loginKeysRevoked, 1);
      const again = await call(sim, '/CMD_API_LOGIN_TEST', { user: 'user00001', secret: 'UserKeyAAAA1111' });
      assert.equal(again.headers.get('x-directadmin'), 'unauthorized', 'a revoked key stops authenticating');
      assert.deepEqual(form((await revoke(['phone'])).body), { error: '1', text: 'Error Deleting Key(s)', details: 'No such login key: phone' });
      assert.deepEqual(form((await revoke(['rootauth'])).body), { error: '1', text: 'Error Deleting Key(s)', details: 'Login key rootauth is read-only' });
    });
  });

  it('seeds loginKeysPerUser keys with history for users, none for admins', async () => {
    await withSim({ ...LAYOUT, loginKeysPerUser: 2 }, async (sim) => {
      assert.deepEqual(
        sim.loginKeys('user00001').map((k) => [k.name, k.commands]),
        [
          ['key1', []],
          ['key2', ['CMD_API_SHOW_DOMAINS', 'CMD_API_POP']],
        ],
      );
      assert.deepEqual(sim.loginKeys('admin'), []);
      const k = sim.loginKeys('user00002')[0]!;
      assert.match(k.lastIp!, /^203\.0\.113\.\d+$/);
    });
  });
});

describe('simulator: JSON API', { timeout: 30_000 }, () => {
  it('lists and deletes login keys: 204, then 404 NOT_FOUND; a read-only key 409', async () => {
    await withSim(LAYOUT, async (sim) => {
      sim.addLoginKey('user00001', { key: 'UserKeyAAAA1111', name: 'old', createdAt: new Date(Date.UTC(2024, 5, 1)), ips: ['10.1.2.3'] });
      sim.addLoginKey('user00001', {
        key: 'UserKeyBBBB2222',
        name: 'new',
        createdAt: new Date(Date.UTC(2025, 5, 1)),
        expiresAt: new Date(Date.UTC(2030, 0, 1)),
        commands: ['CMD_API_POP'],
      });
      sim.addLoginKey('user00001', { key: 'UserKeyCCCC3333', name: 'rootauth', createdAt: new Date(Date.UTC(2020, 0, 1)), readOnly: true });
      const keys = await call(sim, '/api/login-keys/keys', as(sim, 'user00001'));
      assert.equal(keys.status, 200);
      assert.deepEqual(JSON.parse(keys.body), [
        {
          id: 'new',
          created: '2025-06-01T00:00:00Z',
          createdBy: '127.0.0.1',
          hasExpiry: true,
          expires: '2030-01-01T00:00:00Z',
          allowCommands: ['CMD_API_POP'],
          denyCommands: [],
          allowNetworks: [],
          allowLogin: false,
          autoRemove: false,
          readOnly: false,
        },
        {
          id: 'old',
          created: '2024-06-01T00:00:00Z',
          createdBy: '127.0.0.1',
          hasExpiry: false,
          allowCommands: [],
          denyCommands: [],
          allowNetworks: ['10.1.2.3'],
          allowLogin: false,
          autoRemove: false,
          readOnly: false,
        },
        {
          id: 'rootauth',
          created: '2020-01-01T00:00:00Z',
          createdBy: '127.0.0.1',
          hasExpiry: false,
          allowCommands: [],
          denyCommands: [],
          allowNetworks: [],
          allowLogin: false,
          autoRemove: false,
          readOnly: true,
        },
      ]);
      const del = (id: string) => call(sim, `/api/login-keys/keys/${id}`, { ...as(sim, 'user00001'), method: 'DELETE' });
      const gone = await del('new');
      assert.deepEqual([gone.status, gone.body], [204, '']);
      assert.equal(
        (await call(sim, '/CMD_API_POP?action=list&domain=user00001.example.net', { user: 'user00001', secret: 'UserKeyBBBB2222' })).headers.get(
          'x-directadmin',
        ),
        'unauthorized',
      );
      sim.unblacklist();
      const again = await del('new');
      assert.deepEqual([again.status, JSON.parse(again.body)], [404, { type: 'NOT_FOUND' }]);
      const ro = await del('rootauth');
      assert.deepEqual([ro.status, JSON.parse(ro.body)], [409, { type: 'LOGIN_KEY_READ_ONLY', id: 'rootauth' }]);
      assert.deepEqual(
        sim.loginKeys('user00001').map((k) => k.name),
        ['old', 'rootauth'],
      );
      assert.equal(sim.stats.requests['/api/login-keys/keys/{id}'], 3);
      assert.equal(sim.stats.requests['/api/login-keys/keys'], 1);
    });
  });

  it('answers 401 UNAUTHORIZED to a wrong secret and 404 everywhere with jsonApi: false', async () => {
    await withSim({ ...LAYOUT, jsonApi: false }, async (sim) => {
      const r = await call(sim, '/api/login-keys/keys', admin(sim));
      assert.equal(r.status, 404);
      assert.match(r.body, /<title>404 Not Found<\/title>/);
      assert.equal((await call(sim, '/api/sessions', as(sim, 'user00001'))).status, 404);
      sim.setOptions({ jsonApi: true });
      const bad = await call(sim, '/api/sessions', { user: 'admin', secret: 'wrong' });
      assert.deepEqual([bad.status, JSON.parse(bad.body)], [401, { type: 'UNAUTHORIZED' }]);
      assert.equal(sim.stats.failedLogins, 1);
      const unknown = await call(sim, '/api/no-such-thing', admin(sim));
      assert.deepEqual([unknown.status, JSON.parse(unknown.body)], [404, { type: 'NOT_FOUND' }]);
    });
  });

  it('creates single-use one-time login URLs and records them', async () => {
    await withSim(LAYOUT, async (sim) => {
      const r = await call(sim, '/api/login-keys/urls', {
        ...as(sim, 'user00002'),
        body: JSON.stringify({ allowNetworks: [], redirectURL: '/user/password' }),
        contentType: 'application/json',
      });
      assert.equal(r.status, 200);
      const created = JSON.parse(r.body) as {
        id: string;
        url: string;
        created: string;
        createdBy: string;
        expires: string;
        allowNetworks: string[];
        redirectURL: string;
      };
      assert.deepEqual(Object.keys(created).sort(), ['allowNetworks', 'created', 'createdBy', 'expires', 'id', 'redirectURL', 'url']);
      assert.ok(created.url.startsWith(`${sim.url}/api/login/url?key=`));
      assert.equal(created.createdBy, 'api:admin,127.0.0.1');
      assert.equal(Date.parse(created.expires) - Date.parse(created.created), 60 * 60_000);
      const recorded = sim.loginUrls();
      assert.equal(recorded.length, 1);
      assert.deepEqual([recorded[0]!.owner, recorded[0]!.url, recorded[0]!.usedAt], ['user00002', created.url, undefined]);
      const listed = JSON.parse((await call(sim, '/api/login-keys/urls', as(sim, 'user00002'))).body);
      assert.deepEqual(
        listed.map((x: { id: string }) => x.id),
        [created.id],
      );
      const first = await fetch(created.url, { redirect: 'manual' });
      assert.deepEqual([first.status, first.headers.get('location')], [303, '/user/password']);
      assert.equal(sim.sessions('user00002').length, 1, 'the login opened a session');
      const second = await fetch(created.url, { redirect: 'manual' });
      assert.equal(second.status, 401, 'single use');
      assert.ok(sim.loginUrls()[0]!.usedAt instanceof Date);
      const bad = await call(sim, '/api/login-keys/urls', {
        ...as(sim, 'user00002'),
        body: JSON.stringify({ expires: '2001-01-01T00:00:00Z' }),
        contentType: 'application/json',
      });
      assert.equal(JSON.parse(bad.body).type, 'BAD_REQUEST');
    });
  });

  it('lists and ends sessions', async () => {
    await withSim({ ...LAYOUT, sessionsPerUser: 3 }, async (sim) => {
      const list = JSON.parse((await call(sim, '/api/sessions', as(sim, 'user00001'))).body) as Array<Record<string, unknown>>;
      assert.equal(list.length, 3);
      assert.deepEqual(Object.keys(list[0]!).sort(), ['created', 'current', 'expires', 'host', 'ip', 'loggedInAs', 'loginKey', 'publicID', 'valid']);
      assert.deepEqual([list[0]!.loggedInAs, list[0]!.current, list[0]!.valid, list[0]!.host], ['user00001', false, true, new URL(sim.url).host]);
      const one = await call(sim, `/api/sessions/destroy/${String(list[0]!.publicID)}`, { ...as(sim, 'user00001'), method: 'POST' });
      assert.equal(one.status, 204);
      assert.equal(sim.sessions('user00001').length, 2);
      const rest = await call(sim, '/api/sessions/destroy-all-other', { ...as(sim, 'user00001'), method: 'POST' });
      assert.equal(rest.status, 204);
      assert.deepEqual(sim.sessions('user00001'), []);
      assert.equal(sim.sessions('user00002').length, 3, 'other accounts untouched');
    });
  });

  it('lists database users and changes their passwords (400 BAD_REQUEST under 8, as the OpenAPI lists)', async () => {
    await withSim({ ...LAYOUT, dbUsersPerUser: 2 }, async (sim) => {
      assert.deepEqual(JSON.parse((await call(sim, '/api/db-show/users', as(sim, 'user00001'))).body), [
        { dbuser: 'user00001_db1', hostPatterns: ['localhost'] },
        { dbuser: 'user00001_db2', hostPatterns: ['localhost'] },
      ]);
      const change = (db: string, body: string) =>
        call(sim, `/api/db-manage/users/${db}/change-password`, { ...as(sim, 'user00001'), body, contentType: 'application/json' });
      const ok = await change('user00001_db2', '{"newPassword":"DbPassw0rd12"}');
      assert.deepEqual([ok.status, ok.body], [204, '']);
      assert.equal(sim.dbUsers('user00001')[1]!.password, 'DbPassw0rd12');
      const weak = await change('user00001_db1', '{"newPassword":"short"}');
      assert.deepEqual([weak.status, JSON.parse(weak.body)], [400, { type: 'BAD_REQUEST', message: 'password must be at least 8 characters long' }]);
      const missing = await change('user00002_db1', '{"newPassword":"DbPassw0rd12"}');
      assert.deepEqual([missing.status, JSON.parse(missing.body)], [404, { type: 'NOT_FOUND' }], "another account's database user is not found");
      assert.equal(JSON.parse((await change('user00001_db1', 'not json')).body).type, 'BAD_REQUEST');
    });
  });
});
