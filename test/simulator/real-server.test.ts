/**
 * Issue 26: the simulator produces what a real DirectAdmin may answer where the record is
 * uncertain, one switch per variant, each side shown here; and the client reads both sides.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DirectAdminClient } from '../../src/directadmin/index.js';
import { loginKey } from '../../src/kinds/login-key.js';
import type { KindContext } from '../../src/kinds/index.js';
import { SecretRegistry } from '../../src/log.js';
import { changeCredential } from '../../src/rotation/worker.js';
import { admin, as, call, form, withSim } from './helpers.js';

const KEY = 'SwitchKey0123456789abcdefghijkl';

describe('simulator: real-server switches (issue 26)', { timeout: 30_000 }, () => {
  it('keyRefusal: a key lacking the command gets the login page (a failed login), a 403, or the legacy refusal', async () => {
    await withSim({ users: 2, resellers: 0 }, async (sim) => {
      sim.addLoginKey(sim.adminUser, { key: KEY, commands: ['CMD_API_LOGIN_TEST'] });
      const key = { user: sim.adminUser, secret: KEY };
      const legacy = () => call(sim, '/CMD_API_SHOW_USERS', key);
      const json = () => call(sim, '/api/sessions', key);
      assert.equal((await legacy()).headers.get('x-directadmin'), 'unauthorized');
      assert.equal((await json()).status, 401);
      assert.equal(sim.stats.failedLogins, 2);
      sim.setOptions({ keyRefusal: '403' });
      const f = await legacy();
      assert.deepEqual([f.status, form(f.body).text], [403, 'You cannot execute that command']);
      assert.deepEqual([(await json()).status, JSON.parse((await json()).body)], [403, { type: 'ACCESS_DENIED' }]);
      sim.setOptions({ keyRefusal: 'refusal' });
      const r = await legacy();
      assert.deepEqual([r.status, form(r.body).error, form(r.body).text], [200, '1', 'You cannot execute that command']);
      assert.deepEqual(JSON.parse((await call(sim, '/CMD_API_SHOW_USERS?json=yes', key)).body), { error: 'You cannot execute that command', result: '' });
      assert.equal(sim.stats.failedLogins, 2, 'a 403 or a refusal is not a failed login');
      assert.equal((await call(sim, '/CMD_API_LOGIN_TEST', key)).status, 200, 'the allowed command still works');
    });
  });

  it('authFailure \'not-logged-in\': {"error":"Not logged in"} to a json=yes request, the login page otherwise', async () => {
    await withSim({ users: 1, resellers: 0, authFailure: 'not-logged-in' }, async (sim) => {
      const bad = { user: sim.adminUser, secret: 'wrong' };
      assert.deepEqual(JSON.parse((await call(sim, '/CMD_API_SHOW_USERS?json=yes', bad)).body), { error: 'Not logged in' });
      assert.equal((await call(sim, '/CMD_API_SHOW_USERS', bad)).headers.get('x-directadmin'), 'unauthorized');
      assert.equal(sim.stats.failedLogins, 2);
    });
  });

  it('suspendedPasswordAnswer: the change applies either way, answered as a success or with error=1', async () => {
    await withSim({ users: 2, resellers: 0, suspendedEvery: 1 }, async (sim) => {
      const change = (pw: string) => call(sim, '/CMD_API_USER_PASSWD', { ...admin(sim), body: `username=user00001&passwd=${pw}&passwd2=${pw}` });
      assert.deepEqual(form((await change('Suspended1aaa')).body), {
        error: '0',
        text: 'User password changed, however the account is still suspended',
        details: '',
      });
      assert.equal(sim.password('user00001'), 'Suspended1aaa');
      sim.setOptions({ suspendedPasswordAnswer: 'error' });
      assert.deepEqual(form((await change('Suspended2bbb')).body), {
        error: '1',
        text: 'User password changed, however the account is still suspended',
        details: '',
      });
      assert.equal(sim.password('user00001'), 'Suspended2bbb', 'applied although error=1');
    });
  });

  it('loginUrlOwner: a URL made as admin|user belongs to the user (listed by the user) or to the admin (listed by the admin only)', async () => {
    await withSim({ users: 2, resellers: 0 }, async (sim) => {
      const create = () => call(sim, '/api/login-keys/urls', { ...as(sim, 'user00001'), body: '{}', contentType: 'application/json' });
      const ids = async (o: ReturnType<typeof admin>) =>
        (JSON.parse((await call(sim, '/api/login-keys/urls', o)).body) as Array<{ id: string }>).map((u) => u.id);
      const mine = JSON.parse((await create()).body) as { id: string };
      assert.deepEqual(await ids(as(sim, 'user00001')), [mine.id]);
      assert.deepEqual(await ids(admin(sim)), []);
      sim.setOptions({ loginUrlOwner: 'admin' });
      const theirs = JSON.parse((await create()).body) as { id: string };
      assert.deepEqual(await ids(as(sim, 'user00001')), [mine.id]);
      assert.deepEqual(await ids(admin(sim)), [theirs.id]);
      assert.equal(sim.loginUrls().find((u) => u.id === theirs.id)?.owner, sim.adminUser, 'it would open the admin login');
      assert.equal((await call(sim, `/api/login-keys/urls/${theirs.id}`, { ...admin(sim), method: 'DELETE' })).status, 204);
      assert.deepEqual(await ids(admin(sim)), []);
    });
  });

  it('noJsonApiAnswer: an old server answers /api/ with an HTML 404, its login page, or a 200 page; GET /api/login-keys/commands lists names without a login', async () => {
    await withSim({ users: 1, resellers: 0 }, async (sim) => {
      const names = JSON.parse((await call(sim, '/api/login-keys/commands')).body) as { commands: string[] };
      for (const n of ['CMD_API_POP', 'login-keys', 'sessions', 'db-show', 'db-manage']) assert.ok(names.commands.includes(n), n);
      sim.setOptions({ jsonApi: false });
      assert.equal((await call(sim, '/api/sessions', admin(sim))).status, 404);
      sim.setOptions({ noJsonApiAnswer: 'login-page' });
      const page = await call(sim, '/api/sessions', admin(sim));
      assert.equal(page.status, 200);
      assert.match(page.body, /AUTH_METHOD: "CMD_LOGIN"/);
      sim.setOptions({ noJsonApiAnswer: 'page' });
      const other = await call(sim, '/api/sessions', admin(sim));
      assert.equal(other.status, 200);
      assert.match(other.body, /^<html>/);
      assert.equal(sim.stats.failedLogins, 0);
    });
  });

  it('ftpSeparator: extra FTP accounts listed and shown as name<sep>domain; user= takes either form', async () => {
    await withSim({ users: 1, resellers: 0, ftpPerDomain: 1, ftpSeparator: '+' }, async (sim) => {
      const d = sim.domains('user00001')[0]!;
      const list = form((await call(sim, `/CMD_API_FTP?action=list&domain=${d}`, as(sim, 'user00001'))).body);
      const name = sim.ftpAccounts('user00001')[0]!.user;
      assert.deepEqual(Object.keys(list).sort(), [`${name}+${d}`, 'user00001'].sort());
      assert.equal(form((await call(sim, `/CMD_API_FTP_SHOW?domain=${d}&user=${name}%2B${d}`, as(sim, 'user00001'))).body).fulluser, `${name}+${d}`);
    });
  });

  for (const mode of ['not-found', 'no-content'] as const) {
    it(`deleteUnknownKey '${mode}': revoking a key that is already gone ends revoked`, async () => {
      await withSim({ users: 1, resellers: 0, deleteUnknownKey: mode }, async (sim) => {
        const r = await call(sim, '/api/login-keys/keys/nokey', { ...as(sim, 'user00001'), method: 'DELETE' });
        assert.equal(r.status, mode === 'not-found' ? 404 : 204);
        const client = new DirectAdminClient({ baseUrl: sim.url, username: sim.adminUser, secret: sim.adminPassword });
        try {
          const kctx = { client, as: (o: string) => client.loginAs(o) } as unknown as KindContext;
          const o = await changeCredential(
            { kind: loginKey, kctx, secrets: new SecretRegistry(), retries: 1, retryDelayMs: 1, signal: new AbortController().signal },
            { kind: 'login-key', owner: 'user00001', name: 'nokey', data: { api: 'json' } },
            undefined,
          );
          assert.equal(o.status, 'revoked', o.error);
        } finally {
          await client.close();
        }
      });
    });
  }
});
