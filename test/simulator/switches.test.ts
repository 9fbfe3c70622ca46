import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { admin, call, form, withSim } from './helpers.js';

describe('simulator server quirks (issue 10)', { timeout: 30_000 }, () => {
  it('verifyInvalidForSuspended: valid=0 for a suspended account even with its password', async () => {
    await withSim({ users: 10, resellers: 0, suspendedEvery: 10, verifyInvalidForSuspended: true }, async (sim) => {
      const verify = (user: string) => call(sim, `/CMD_API_VERIFY_PASSWORD?user=${user}&passwd=${sim.password(user)}`, admin(sim));
      assert.equal((await verify('user00010')).body, 'valid=%30');
      assert.equal((await verify('user00001')).body, 'valid=%31');
      sim.setOptions({ verifyInvalidForSuspended: false });
      assert.equal((await verify('user00010')).body, 'valid=%31');
    });
  });

  it('acceptUnchangedPassword: default refusal, or silent success', async () => {
    await withSim({ users: 2, resellers: 0 }, async (sim) => {
      const same = () => {
        const pw = sim.password('user00001')!;
        return call(sim, '/CMD_API_USER_PASSWD', { ...admin(sim), body: `username=user00001&passwd=${pw}&passwd2=${pw}` });
      };
      assert.deepEqual(form((await same()).body), { error: '1', text: 'Cannot change password', details: "New password isn't different" });
      sim.setOptions({ acceptUnchangedPassword: true });
      assert.deepEqual(form((await same()).body), { error: '0', text: 'Password Changed', details: '' });
      assert.equal(sim.stats.passwordChangesApplied, 0, 'nothing changed');
    });
  });

  it('api_with_password=no: the password is refused for API logins, a key still works', async () => {
    await withSim({ users: 2, resellers: 1, apiWithPasswordNo: ['reseller1'] }, async (sim) => {
      const pw = sim.password('reseller1')!;
      const r = await call(sim, '/CMD_API_LOGIN_TEST', { user: 'reseller1', secret: pw });
      assert.equal(r.headers.get('x-directadmin'), 'unauthorized');
      assert.equal(sim.stats.failedLogins, 1);
      sim.addLoginKey('reseller1', { key: 'ResellerKey12345' });
      assert.equal((await call(sim, '/CMD_API_LOGIN_TEST', { user: 'reseller1', secret: 'ResellerKey12345' })).body, 'error=%30&text=Login%20OK&details=');
      assert.equal(form((await call(sim, '/CMD_API_SHOW_USER_CONFIG?user=reseller1', admin(sim))).body).api_with_password, 'no');
      assert.equal(form((await call(sim, '/CMD_API_SHOW_USER_CONFIG?user=user00001', admin(sim))).body).api_with_password, 'yes');
    });
  });

  it('a login key lacking the command gets the login page, legacy and JSON alike', async () => {
    await withSim({ users: 1, resellers: 0 }, async (sim) => {
      sim.addLoginKey('admin', { key: 'AdminKeyLimited1', commands: ['CMD_API_LOGIN_TEST', 'login-keys'] });
      const k = (path: string, method = 'GET') => call(sim, path, { user: 'admin', secret: 'AdminKeyLimited1', method });
      const refused = await k('/CMD_API_SHOW_USERS');
      assert.equal(refused.status, 200);
      assert.equal(refused.headers.get('x-directadmin'), 'unauthorized');
      assert.match(refused.body, /<title>DirectAdmin Login<\/title>/);
      assert.equal((await k('/api/login-keys/keys')).status, 200, 'a JSON route is allowed by its feature name');
      const json = await k('/api/sessions');
      assert.deepEqual([json.status, JSON.parse(json.body)], [401, { type: 'UNAUTHORIZED' }]);
      const key = sim.loginKeys('admin')[0]!;
      assert.deepEqual([key.uses, key.lastIp], [1, '127.0.0.1'], 'only accepted uses count');
      assert.ok(key.lastUsed instanceof Date);
    });
  });
});

describe('simulator session switches (uncertain behaviours)', { timeout: 30_000 }, () => {
  it('passwordChangeEndsSessions and sessionsDestroyViaLoginAs', async () => {
    await withSim({ users: 2, resellers: 0, sessionsPerUser: 2, passwordChangeEndsSessions: true, sessionsDestroyViaLoginAs: false }, async (sim) => {
      const asUser = { user: `${sim.adminUser}|user00002`, secret: sim.adminPassword };
      const denied = await call(sim, '/api/sessions/destroy-all-other', { ...asUser, method: 'POST' });
      assert.deepEqual([denied.status, JSON.parse(denied.body)], [403, { type: 'ACCESS_DENIED' }]);
      const self = await call(sim, '/api/sessions/destroy-all-other', { user: 'user00002', secret: sim.password('user00002')!, method: 'POST' });
      assert.equal(self.status, 204);
      assert.deepEqual(sim.sessions('user00002'), []);
      assert.equal(sim.sessions('user00001').length, 2);
      await call(sim, '/CMD_API_USER_PASSWD', { ...admin(sim), body: 'username=user00001&passwd=NewPassw0rd1&passwd2=NewPassw0rd1' });
      assert.deepEqual(sim.sessions('user00001'), []);
    });
  });
});

describe('simulator error text placement', { timeout: 30_000 }, () => {
  it('format.swapErrorText puts the reason in text and the headline in details', async () => {
    await withSim({ users: 1, resellers: 0, format: { swapErrorText: true } }, async (sim) => {
      const r = await call(sim, '/CMD_API_USER_PASSWD', { ...admin(sim), body: 'username=user00001&passwd=Abcdefgh1234&passwd2=Abcdefgh1235' });
      assert.equal(r.body, 'error=%31&text=Passwords%20do%20not%20match&details=Cannot%20change%20password');
      const j = await call(sim, '/CMD_API_USER_PASSWD', { ...admin(sim), body: 'username=user00001&passwd=Abcdefgh1234&passwd2=Abcdefgh1235&json=yes' });
      assert.deepEqual(JSON.parse(j.body), { error: 'Passwords do not match', result: 'Cannot change password' });
      assert.equal(
        (await call(sim, '/CMD_API_SHOW_RESELLERS', { user: 'user00001', secret: sim.password('user00001')! })).body,
        'error=%31&text=You%20cannot%20execute%20that%20command&details=',
        'no details: unchanged',
      );
    });
  });
});
